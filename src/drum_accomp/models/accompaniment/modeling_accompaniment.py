"""DrumAccompanimentModel: backing codes (+ their mels) + beat positions (+ a genre) -> drum codes, and drum hits.

Read top-down: output dataclasses; step hit targets <-> ``DrumHits``; building blocks (attention, feed-forward,
encoder and decoder layers, encoder, decoder, hit head); sampling; the pre-trained base; the public model with
``forward`` (training loss) and ``generate`` (KV cache, windows); the collator the training script uses.

A *code* is one VQ-VAE code (40 ms); a decoder *step* holds ``k = config.codes_per_step`` consecutive codes
(the embeddings of a step's codes are summed; its codes are predicted jointly as one of ``C ** k`` step tokens).
For a window of ``S`` steps (``S * k`` codes)::

    encoder:  e = Encoder(backing_code_embs + beat_position_embs + genre_emb + position_emb
                          [+ W_mel (the step's k * frames_per_code mel frames, flattened)])       (B, S, d)
    decoder:  input of step s = genre start token (s = 0) or the drum codes of step s - 1 (masked now and then)
              h_s = Decoder(token_embs + position_emb + W_aligned e_s ; cross-attention to e_0..e_{S-1}) (B, S, d)
    heads:    step-token logits = W_out h_s                                                       (B, S, C ** k)
              hit logits        = HitHead(h_s + drum code embs of step s)                         (B, S * k, 9, 3)
              backing hit logits = BackingHitHead(e_s)    (if backing_hit_loss_weight > 0)        (B, S * k, 9, 3)

The aligned term ``W_aligned e_t`` puts the backing of the step being predicted into the decoder's input: a
decoder that sees the backing only through cross-attention learns to copy its own past and ignore the backing
(a public JukeDrummer re-implementation measured an unchanged loss with the backing zeroed). The backing hit head
pushes the same way from the other side: it must tell the drums from the encoder state alone, so that state has to
hold them. With ``config.hit_source = "backing"`` it also writes the MIDI of :meth:`DrumAccompanimentModel.generate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from transformers import PreTrainedModel
from transformers.cache_utils import DynamicCache, EncoderDecoderCache
from transformers.utils import ModelOutput
from tqdm.auto import tqdm

from ...genres import top_level_style
from ...midi import DrumHits
from ..sampling import sample_next_code
from .bar_smoothing import bar_smoothed_probabilities
from .configuration_accompaniment import DrumAccompanimentConfig

HIT_FLAG, HIT_VELOCITY, HIT_OFFSET = 0, 1, 2
"""Index of each hit-head output in the last dimension of ``hit_logits``."""


# ----- outputs -----------------------------------------------------------------------------------------------------


@dataclass
class DrumAccompanimentOutput(ModelOutput):
    """Output of :meth:`DrumAccompanimentModel.forward`.

    Attributes:
        loss: scalar ``ce_loss + config.aux_loss_weight * hit_loss`` (``ce_loss`` alone without hit targets).
        ce_loss: scalar mean cross-entropy of the drum codes in nats per *code* (the joint cross-entropy of a
            step divided by ``codes_per_step``), steps with a code labelled -100 left out.
        hit_loss: scalar ``flag BCE + velocity L1 + offset L1`` of the hit head (velocity in units of 127,
            offset in codes), ``None`` without hit targets.
        backing_hit_loss: the same loss for the backing hit head (added with ``config.backing_hit_loss_weight``),
            ``None`` without hit targets or without that head.
        logits: ``(batch_size, num_steps, drum_codebook_size ** codes_per_step)`` step-token logits
            (:func:`step_tokens_to_codes` turns a step token into its codes).
        hit_logits: ``(batch_size, num_codes, num_drum_classes, 3)``: hit logit, velocity logit
            (``127 * sigmoid`` = MIDI velocity), offset logit (``sigmoid`` = onset inside the code, 0..1).
        backing_hit_logits: the same from the backing hit head (``None`` without it).
        encoder_last_hidden_state: ``(batch_size, num_steps, hidden_size)`` encoded backing.
    """

    loss: torch.Tensor | None = None
    ce_loss: torch.Tensor | None = None
    hit_loss: torch.Tensor | None = None
    backing_hit_loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    hit_logits: torch.Tensor | None = None
    backing_hit_logits: torch.Tensor | None = None
    encoder_last_hidden_state: torch.Tensor | None = None


@dataclass
class DrumAccompanimentGenerationOutput(ModelOutput):
    """Output of :meth:`DrumAccompanimentModel.generate`.

    Attributes:
        drum_codes: ``(batch_size, num_codes)`` long drum codes (decode with the drum VQ-VAE).
        hit_probabilities: ``(batch_size, num_codes, num_drum_classes)`` probability that a class is hit in a code.
        hit_velocities: ``(batch_size, num_codes, num_drum_classes)`` predicted MIDI velocity (1..127) if hit.
        hit_offsets: ``(batch_size, num_codes, num_drum_classes)`` predicted onset inside the code (0..1 of a code).
        hits: one ``DrumHits`` per batch item (times in seconds from the first code, ``config.hit_threshold``).
    """

    drum_codes: torch.Tensor | None = None
    hit_probabilities: torch.Tensor | None = None
    hit_velocities: torch.Tensor | None = None
    hit_offsets: torch.Tensor | None = None
    hits: list[DrumHits] | None = None


# ----- drum hits <-> per-code targets ------------------------------------------------------------------------------


def step_hit_targets(
    hit_times: np.ndarray, hit_classes: np.ndarray, hit_velocities: np.ndarray, num_codes: int,
    code_seconds: float, num_classes: int = 9,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drum hits -> per-code, per-class targets of the hit head (at the code rate, whatever ``codes_per_step``).

    A hit at ``time`` lands in code ``floor(time / code_seconds)``; hits outside ``[0, num_codes * code_seconds)``
    are dropped. Several hits of one class in one code (flams, fast rolls) keep the loudest velocity and the
    earliest offset.

    Args:
        hit_times: ``(num_hits,)`` seconds from the window start.
        hit_classes: ``(num_hits,)`` drum class indices (``midi.DRUM_CLASSES``).
        hit_velocities: ``(num_hits,)`` MIDI velocities 1..127.
    Returns:
        ``flags`` ``(num_codes, num_classes)`` int8 0/1, ``velocities`` same shape int8 MIDI velocity (0 = no hit),
        ``offsets`` same shape float32 onset inside the code in codes, in ``[0, 1)`` (0 = no hit).
    """
    positions = np.asarray(hit_times, dtype=np.float64) / code_seconds
    classes = np.asarray(hit_classes, dtype=np.int64)
    velocities = np.clip(np.asarray(hit_velocities, dtype=np.int64), 1, 127)
    codes = np.floor(positions).astype(np.int64)
    keep = (codes >= 0) & (codes < num_codes) & (classes >= 0) & (classes < num_classes)
    codes, classes, velocities, fractions = codes[keep], classes[keep], velocities[keep], (positions - codes)[keep]
    flags = np.zeros((num_codes, num_classes), dtype=np.int8)
    code_velocities = np.zeros((num_codes, num_classes), dtype=np.int8)
    offsets = np.full((num_codes, num_classes), np.inf)
    flags[codes, classes] = 1
    np.maximum.at(code_velocities, (codes, classes), velocities.astype(np.int8))
    np.minimum.at(offsets, (codes, classes), fractions)
    offsets[~np.isfinite(offsets)] = 0.0
    return flags, code_velocities, np.clip(offsets, 0.0, 1.0 - 1e-6).astype(np.float32)


def hits_from_step_predictions(
    probabilities: np.ndarray, velocities: np.ndarray, offsets: np.ndarray, code_seconds: float,
    threshold: float = 0.5, start_seconds: float = 0.0,
) -> DrumHits:
    """Per-code hit predictions -> ``DrumHits`` at full timing resolution (the inverse of :func:`step_hit_targets`).

    Args:
        probabilities, velocities, offsets: ``(num_codes, num_classes)`` as in
            :class:`DrumAccompanimentGenerationOutput` (velocity in MIDI units, offset in codes).
        threshold: a cell with ``probability > threshold`` becomes a hit.
        start_seconds: time of code 0.
    """
    codes, classes = np.nonzero(np.asarray(probabilities) > threshold)
    times = start_seconds + (codes + np.asarray(offsets)[codes, classes]) * code_seconds
    hit_velocities = np.clip(np.rint(np.asarray(velocities)[codes, classes]), 1, 127).astype(np.int64)
    order = np.lexsort((classes, times))
    return DrumHits(times[order].astype(np.float64), classes[order].astype(np.int64), hit_velocities[order])


def window_plan(num_steps: int, window: int, overlap: int) -> list[tuple[int, int, int]]:
    """Windows covering ``num_steps`` steps: ``(start, done, end)`` each, the window ``start .. end`` (``window``
    steps, fewer only for a shorter song) adding steps ``done .. end``; after the first, a window starts
    ``overlap`` steps before the steps it adds (the last one earlier, so that it is full)."""
    plan, window_start, done = [], 0, 0
    while done < num_steps:
        window_end = min(window_start + window, num_steps)
        plan.append((window_start, done, window_end))
        done = window_end
        window_start = max(0, min(done - overlap, num_steps - window))
    return plan


# ----- codes <-> steps ----------------------------------------------------------------------------------------------


def slot_embedding(embedding: nn.Embedding, tokens: torch.Tensor) -> torch.Tensor:
    """Sum of the embeddings of a step's tokens, each slot with its own rows.

    ``embedding`` holds ``codes_per_step`` blocks of ``num_embeddings // codes_per_step`` rows, one per slot;
    ``(batch_size, num_steps, codes_per_step)`` tokens -> ``(batch_size, num_steps, d)``.
    """
    codes_per_step = tokens.shape[-1]
    slot_size = embedding.num_embeddings // codes_per_step
    offsets = torch.arange(codes_per_step, device=tokens.device) * slot_size
    return embedding(tokens + offsets).sum(dim=-2)


def mask_bands_and_frames(mels: torch.Tensor, num_masks: int, max_bands: int, max_frames: int,
                          generator: torch.Generator | None = None) -> torch.Tensor:
    """SpecAugment (Park et al. 2019) on ``(batch_size, num_frames, num_bands)`` normalized mels: per window,
    ``num_masks`` bands of up to ``max_bands`` bands and ``num_masks`` spans of up to ``max_frames`` frames set to 0
    (the mean), each of a random width and place."""
    batch_size, num_frames, num_bands = mels.shape
    keep = torch.ones(batch_size, num_frames, num_bands, dtype=torch.bool, device=mels.device)
    for size, widest, axis in ((num_bands, max_bands, 2), (num_frames, max_frames, 1)):
        index = torch.arange(size, device=mels.device)
        for _ in range(num_masks):
            widths = torch.randint(0, min(widest, size) + 1, (batch_size,), generator=generator).to(mels.device)
            starts = (torch.rand(batch_size, generator=generator).to(mels.device) * (size - widths + 1)).long()
            masked = (index >= starts[:, None]) & (index < (starts + widths)[:, None])  # (batch_size, size)
            keep &= ~(masked[:, None, :] if axis == 2 else masked[:, :, None])
    return mels * keep


def codes_to_step_tokens(codes: torch.Tensor, codebook_size: int) -> torch.Tensor:
    """``(..., codes_per_step)`` codes -> ``(...)`` joint step tokens (the first code most significant); a step
    with any code < 0 (-100: ignored) becomes -100."""
    codes_per_step = codes.shape[-1]
    weights = codebook_size ** torch.arange(codes_per_step - 1, -1, -1, device=codes.device)
    tokens = (codes.clamp(min=0) * weights).sum(dim=-1)
    return tokens.masked_fill((codes < 0).any(dim=-1), -100)


def step_tokens_to_codes(tokens: torch.Tensor, codebook_size: int, codes_per_step: int) -> torch.Tensor:
    """``(...)`` joint step tokens -> ``(..., codes_per_step)`` codes (inverse of :func:`codes_to_step_tokens`)."""
    weights = codebook_size ** torch.arange(codes_per_step - 1, -1, -1, device=tokens.device)
    return (tokens[..., None] // weights) % codebook_size


# ----- building blocks ---------------------------------------------------------------------------------------------


class DrumAccompanimentAttention(nn.Module):
    """Multi-head attention on ``F.scaled_dot_product_attention``.

    Self-attention (bidirectional in the encoder, causal in the decoder, where new keys / values go into the
    ``self_attention_cache`` of an ``EncoderDecoderCache``) or cross-attention (keys / values projected from the
    encoder states once per window, then reused from the ``cross_attention_cache``).
    """

    def __init__(self, config: DrumAccompanimentConfig, layer_idx: int = 0, is_cross_attention: bool = False):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_dim = config.head_dim
        self.dropout = config.dropout
        self.layer_idx = layer_idx
        self.is_cross_attention = is_cross_attention
        self.q_proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.kv_proj = nn.Linear(config.hidden_size, 2 * config.hidden_size)
        self.out_proj = nn.Linear(config.hidden_size, config.hidden_size)

    def _heads(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(batch_size, length, d)`` -> keys and values ``(batch_size, num_heads, length, head_dim)``."""
        batch_size, length, _ = states.shape
        keys, values = self.kv_proj(states).view(batch_size, length, 2, self.num_heads, self.head_dim).unbind(2)
        return keys.transpose(1, 2), values.transpose(1, 2)

    def forward(
        self,
        hidden_states: torch.Tensor,
        key_value_states: torch.Tensor | None = None,
        past_key_values: EncoderDecoderCache | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        """``(batch_size, query_length, d)`` -> ``(batch_size, query_length, d)``.

        Args:
            key_value_states: ``(batch_size, source_length, d)`` encoder states (cross-attention only).
            past_key_values: the generation cache; ``None`` in training.
            is_causal: mask future positions (self-attention of the decoder).
        """
        batch_size, query_length, _ = hidden_states.shape
        query = self.q_proj(hidden_states).view(batch_size, query_length, self.num_heads, self.head_dim).transpose(1, 2)
        attention_mask = None
        if self.is_cross_attention:
            if past_key_values is not None and past_key_values.is_updated.get(self.layer_idx):
                layer = past_key_values.cross_attention_cache.layers[self.layer_idx]
                keys, values = layer.keys, layer.values
            else:
                keys, values = self._heads(key_value_states)
                if past_key_values is not None:
                    keys, values = past_key_values.cross_attention_cache.update(keys, values, self.layer_idx)
                    past_key_values.is_updated[self.layer_idx] = True
            is_causal = False
        else:
            keys, values = self._heads(hidden_states)
            past_length = 0
            if past_key_values is not None:
                past_length = past_key_values.self_attention_cache.get_seq_length(self.layer_idx)
                keys, values = past_key_values.self_attention_cache.update(keys, values, self.layer_idx)
            if is_causal and query_length == 1:
                is_causal = False  # one new step attends to everything before it
            elif is_causal and past_length > 0:
                # several new steps after cached ones: query i sees keys 0 .. past_length + i
                attention_mask = torch.ones(query_length, keys.shape[2], dtype=torch.bool,
                                            device=keys.device).tril(past_length)
                is_causal = False
        attended = F.scaled_dot_product_attention(query, keys, values, attn_mask=attention_mask,
                                                  dropout_p=self.dropout if self.training else 0.0,
                                                  is_causal=is_causal)
        attended = attended.transpose(1, 2).reshape(batch_size, query_length, -1)  # (batch_size, query_length, d)
        return self.out_proj(attended)


class DrumAccompanimentFeedForward(nn.Module):
    def __init__(self, config: DrumAccompanimentConfig):
        super().__init__()
        self.fc_in = nn.Linear(config.hidden_size, config.intermediate_size)
        self.fc_out = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.fc_out(F.gelu(self.fc_in(hidden_states)))


class DrumAccompanimentEncoderLayer(nn.Module):
    """Pre-norm transformer layer: bidirectional self-attention over the backing window, then an MLP."""

    def __init__(self, config: DrumAccompanimentConfig, layer_idx: int):
        super().__init__()
        self.self_attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.self_attention = DrumAccompanimentAttention(config, layer_idx)
        self.feed_forward_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.feed_forward = DrumAccompanimentFeedForward(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        hidden_states = hidden_states + self.dropout(self.self_attention(self.self_attention_norm(hidden_states)))
        return hidden_states + self.dropout(self.feed_forward(self.feed_forward_norm(hidden_states)))


class DrumAccompanimentDecoderLayer(nn.Module):
    """Pre-norm transformer layer: causal self-attention (KV cache), cross-attention to the backing, MLP."""

    def __init__(self, config: DrumAccompanimentConfig, layer_idx: int):
        super().__init__()
        self.self_attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.self_attention = DrumAccompanimentAttention(config, layer_idx)
        self.cross_attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.cross_attention = DrumAccompanimentAttention(config, layer_idx, is_cross_attention=True)
        self.feed_forward_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.feed_forward = DrumAccompanimentFeedForward(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor,
                past_key_values: EncoderDecoderCache | None = None) -> torch.Tensor:
        hidden_states = hidden_states + self.dropout(self.self_attention(
            self.self_attention_norm(hidden_states), past_key_values=past_key_values, is_causal=True))
        hidden_states = hidden_states + self.dropout(self.cross_attention(
            self.cross_attention_norm(hidden_states), encoder_hidden_states, past_key_values=past_key_values))
        return hidden_states + self.dropout(self.feed_forward(self.feed_forward_norm(hidden_states)))


class DrumAccompanimentEncoder(nn.Module):
    """Backing codes + beat positions ``(batch_size, num_steps, codes_per_step)`` and genre ids ``(batch_size,)``
    (+ with ``config.backing_mel_bins``, the backing mels ``(batch_size, num_steps * codes_per_step *
    frames_per_code, backing_mel_bins)``) -> ``(batch_size, num_steps, d)``. The genre embedding is added at every
    step, so both the decoder and the backing hit head hear the genre."""

    def __init__(self, config: DrumAccompanimentConfig):
        super().__init__()
        self.codes_per_step = config.codes_per_step
        self.code_embedding = nn.Embedding(config.codes_per_step * config.backing_codebook_size, config.hidden_size)
        self.beat_position_embedding = nn.Embedding(config.codes_per_step * config.num_beat_positions,
                                                    config.hidden_size)
        self.genre_embedding = nn.Embedding(config.num_genres, config.hidden_size)
        self.position_embedding = nn.Embedding(config.max_steps, config.hidden_size)
        self.mel_projection = (nn.Linear(config.backing_mel_step_size, config.hidden_size)
                               if config.backing_mel_bins else None)
        if self.mel_projection is not None:
            self.mel_projection.zero_init = True  # zero at init (_init_weights)
        self.mel_mean, self.mel_std = config.backing_mel_mean, config.backing_mel_std
        self.mel_masks = (config.backing_mel_masks, config.backing_mel_mask_bands, config.backing_mel_mask_frames)
        self.dropout = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(DrumAccompanimentEncoderLayer(config, index)
                                    for index in range(config.encoder_layers))
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, backing_codes: torch.Tensor, beat_positions: torch.Tensor,
                genre_ids: torch.Tensor, backing_mel: torch.Tensor | None = None) -> torch.Tensor:
        batch_size, num_steps = backing_codes.shape[:2]
        positions = torch.arange(num_steps, device=backing_codes.device)
        hidden_states = (slot_embedding(self.code_embedding, backing_codes)
                         + slot_embedding(self.beat_position_embedding, beat_positions)
                         + self.genre_embedding(genre_ids)[:, None]
                         + self.position_embedding(positions))
        if self.mel_projection is not None:  # a patch embedding of each step's mel frames
            mels = (backing_mel.float() - self.mel_mean) / self.mel_std
            if self.training and self.mel_masks[0]:
                mels = mask_bands_and_frames(mels, *self.mel_masks)
            patches = mels.reshape(batch_size, num_steps, -1)
            hidden_states = hidden_states + self.mel_projection(patches.to(hidden_states.dtype))
        hidden_states = self.dropout(hidden_states)
        for layer in self.layers:
            hidden_states = layer(hidden_states)
        return self.layer_norm(hidden_states)


class DrumAccompanimentDecoder(nn.Module):
    """Decoder input tokens ``(batch_size, length, codes_per_step)`` -> hidden states ``(batch_size, length, d)``.

    Every step's input is the sum of its token embeddings plus its *step conditioning* (position embedding + the
    projected encoder state of the same step), computed once per window by :meth:`step_conditioning`.
    """

    def __init__(self, config: DrumAccompanimentConfig):
        super().__init__()
        self.token_embedding = nn.Embedding(config.codes_per_step * config.decoder_vocab_size, config.hidden_size)
        self.position_embedding = nn.Embedding(config.max_steps, config.hidden_size)
        self.aligned_projection = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(DrumAccompanimentDecoderLayer(config, index)
                                    for index in range(config.decoder_layers))
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def step_conditioning(self, encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        """``(batch_size, num_steps, d)`` encoder states -> ``(batch_size, num_steps, d)`` position + aligned state."""
        positions = torch.arange(encoder_hidden_states.shape[1], device=encoder_hidden_states.device)
        return self.aligned_projection(encoder_hidden_states) + self.position_embedding(positions)

    def forward(
        self,
        input_tokens: torch.Tensor,
        step_conditioning: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        past_key_values: EncoderDecoderCache | None = None,
        first_step: int = 0,
    ) -> torch.Tensor:
        """Args:
            input_tokens: ``(batch_size, length, codes_per_step)`` decoder tokens of steps
                ``first_step .. first_step + length - 1``.
            step_conditioning: ``(batch_size, num_steps, d)`` from :meth:`step_conditioning`.
            encoder_hidden_states: ``(batch_size, num_steps, d)``.
            past_key_values: cache holding steps ``0 .. first_step - 1`` (generation), or ``None``.
        """
        length = input_tokens.shape[1]
        hidden_states = (slot_embedding(self.token_embedding, input_tokens)
                         + step_conditioning[:, first_step:first_step + length])
        hidden_states = self.dropout(hidden_states)
        for layer in self.layers:
            hidden_states = layer(hidden_states, encoder_hidden_states, past_key_values)
        return self.layer_norm(hidden_states)


class DrumAccompanimentHitHead(nn.Module):
    """States ``(batch_size, num_steps, d)`` (+ the drum codes chosen for each step ``(batch_size, num_steps,
    codes_per_step)``) -> per-code hit logits ``(batch_size, num_steps * codes_per_step, classes, 3)``.

    On the decoder (``reads_codes=True``) the chosen codes are the drum audio of the step in compressed form, so
    the head reads *which* hits they hold and *where*, rather than guessing them before the codes are known. On
    the encoder (``reads_codes=False``: the backing hit head) it reads the encoded backing and beat positions only.
    """

    def __init__(self, config: DrumAccompanimentConfig, reads_codes: bool = True):
        super().__init__()
        self.num_drum_classes = config.num_drum_classes
        self.codes_per_step = config.codes_per_step
        self.code_embedding = (nn.Embedding(config.codes_per_step * config.drum_codebook_size, config.hidden_size)
                               if reads_codes else None)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.output = nn.Linear(config.hidden_size, config.codes_per_step * config.num_drum_classes * 3)

    def forward(self, hidden_states: torch.Tensor, drum_codes: torch.Tensor | None = None) -> torch.Tensor:
        if self.code_embedding is not None:
            hidden_states = hidden_states + slot_embedding(self.code_embedding, drum_codes)
        hidden_states = self.norm(hidden_states)
        hit_logits = self.output(F.gelu(self.dense(hidden_states)))  # (batch_size, num_steps, k * classes * 3)
        batch_size, num_steps, _ = hit_logits.shape
        return hit_logits.view(batch_size, num_steps * self.codes_per_step, self.num_drum_classes, 3)


# ----- models ------------------------------------------------------------------------------------------------------


class DrumAccompanimentPreTrainedModel(PreTrainedModel):
    config_class = DrumAccompanimentConfig
    base_model_prefix = "drum_accompaniment"
    main_input_name = "backing_codes"

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Linear) and getattr(module, "zero_init", False):
            nn.init.zeros_(module.weight)  # e.g. the mel projection: a model that learns to hear mels starts without
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=std)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class DrumAccompanimentModel(DrumAccompanimentPreTrainedModel):
    """Drums for a backing track, as drum VQ-VAE codes and drum hits (see the module docstring for the layout).

    ``forward`` gives the training loss on windows of at most ``config.max_steps`` steps; :meth:`generate` writes
    the drums of a whole song (any length) from its backing codes and beat positions.
    """

    def __init__(self, config: DrumAccompanimentConfig):
        super().__init__(config)
        self.encoder = DrumAccompanimentEncoder(config)
        self.decoder = DrumAccompanimentDecoder(config)
        self.lm_head = nn.Linear(config.hidden_size, config.output_vocab_size)
        self.hit_head = DrumAccompanimentHitHead(config)
        self.backing_hit_head = (DrumAccompanimentHitHead(config, reads_codes=False)
                                 if config.backing_hit_loss_weight > 0 else None)
        self.post_init()

    # ----- inputs ----------------------------------------------------------------------------------------------

    def _check_mel(self, backing_codes: torch.Tensor, backing_mel: torch.Tensor | None) -> torch.Tensor | None:
        """The backing mels a model with ``config.backing_mel_bins`` needs, checked against ``(batch_size,
        num_codes)`` codes; ``None`` for a codes-only model (mels given to it are not used)."""
        if not self.config.backing_mel_bins:
            return None
        expected = (backing_codes.shape[0], backing_codes.shape[-1] * self.config.frames_per_code,
                    self.config.backing_mel_bins)
        if backing_mel is None or tuple(backing_mel.shape) != expected:
            got = None if backing_mel is None else tuple(backing_mel.shape)
            raise ValueError(f"this model hears the backing's log-mels (config.backing_mel_bins="
                             f"{self.config.backing_mel_bins}): pass backing_mel of shape (batch_size, num_codes * "
                             f"frames_per_code, backing_mel_bins) = {expected}, got {got} (the frames the backing "
                             "codes were encoded from; a code dataset has them as 'backing_mel')")
        return backing_mel

    def _code_frames(self, backing_mel: torch.Tensor | None, codes: slice) -> torch.Tensor | None:
        """The mel frames of the codes ``codes`` (a slice of code indices); ``None`` stays ``None``."""
        frames = self.config.frames_per_code
        return None if backing_mel is None else backing_mel[:, codes.start * frames:codes.stop * frames]

    def _check_inputs(self, backing_codes: torch.Tensor, beat_positions: torch.Tensor, window: bool) -> None:
        if backing_codes.dim() != 2 or beat_positions.shape != backing_codes.shape:
            raise ValueError(f"backing_codes and beat_positions must both be (batch_size, num_codes), got "
                             f"{tuple(backing_codes.shape)} and {tuple(beat_positions.shape)}")
        num_codes, codes_per_step = backing_codes.shape[1], self.config.codes_per_step
        if num_codes == 0:
            raise ValueError("backing_codes holds no codes; encode at least one step of backing")
        if window and (num_codes % codes_per_step or num_codes > self.config.max_codes):
            raise ValueError(f"a training window must hold a multiple of codes_per_step={codes_per_step} codes, "
                             f"at most config.max_codes={self.config.max_codes}, got {num_codes}; cut the windows "
                             "accordingly, or use generate() for whole songs")
        for name, values, size in (("backing_codes", backing_codes, self.config.backing_codebook_size),
                                   ("beat_positions", beat_positions, self.config.num_beat_positions)):
            if values.min() < 0 or values.max() >= size:
                raise ValueError(f"{name} must lie in [0, {size}), got [{int(values.min())}, {int(values.max())}]; "
                                 "use the VQ-VAE / feature extractor this model was trained with")

    def _steps(self, codes: torch.Tensor) -> torch.Tensor:
        """``(batch_size, num_codes)`` -> ``(batch_size, num_codes // codes_per_step, codes_per_step)``."""
        return codes.view(codes.shape[0], -1, self.config.codes_per_step)

    def _genre_ids(self, genre_ids: torch.Tensor | None, batch_size: int, device: torch.device) -> torch.Tensor:
        """``(batch_size,)`` genre ids (``unknown`` when omitted); genre dropout (to ``unknown``) in training."""
        unknown = torch.full((batch_size,), self.config.unknown_genre_id, dtype=torch.long, device=device)
        genre_ids = unknown if genre_ids is None else genre_ids.to(device=device, dtype=torch.long).view(batch_size)
        if self.training and self.config.genre_dropout > 0:
            dropped = torch.rand(batch_size, device=device) < self.config.genre_dropout
            genre_ids = torch.where(dropped, unknown, genre_ids)
        return genre_ids

    def _start_tokens(self, genre_ids: torch.Tensor) -> torch.Tensor:
        """``(batch_size,)`` genre ids -> ``(batch_size, 1, codes_per_step)`` decoder start tokens."""
        tokens = genre_ids + self.config.genre_token_id(0)
        return tokens[:, None, None].expand(genre_ids.shape[0], 1, self.config.codes_per_step)

    def encode_backing(self, backing_codes: torch.Tensor, beat_positions: torch.Tensor,
                       genre_ids: torch.Tensor | None = None, backing_mel: torch.Tensor | None = None) -> torch.Tensor:
        """``(batch_size, num_codes)`` backing codes and beat positions, ``num_codes`` a multiple of
        ``codes_per_step`` (and ``(batch_size,)`` genre ids, ``unknown`` when omitted; with
        ``config.backing_mel_bins``, the backing log-mels ``(batch_size, num_codes * frames_per_code, bins)``) ->
        ``(batch_size, num_codes // codes_per_step, hidden_size)``."""
        if genre_ids is None:
            genre_ids = self._genre_ids(None, backing_codes.shape[0], backing_codes.device)
        backing_codes = backing_codes.long()
        if self.training and self.config.backing_code_dropout > 0:  # some codes replaced by random ones
            replaced = torch.rand(backing_codes.shape, device=backing_codes.device) < self.config.backing_code_dropout
            random_codes = torch.randint_like(backing_codes, self.config.backing_codebook_size)
            backing_codes = torch.where(replaced, random_codes, backing_codes)
        return self.encoder(self._steps(backing_codes), self._steps(beat_positions.long()), genre_ids,
                            self._check_mel(backing_codes, backing_mel))

    # ----- training --------------------------------------------------------------------------------------------

    def forward(
        self,
        backing_codes: torch.Tensor,
        beat_positions: torch.Tensor,
        labels: torch.Tensor | None = None,
        genre_ids: torch.Tensor | None = None,
        hit_flags: torch.Tensor | None = None,
        hit_velocities: torch.Tensor | None = None,
        hit_offsets: torch.Tensor | None = None,
        encoder_outputs: torch.Tensor | None = None,
        backing_mel: torch.Tensor | None = None,
    ) -> DrumAccompanimentOutput:
        """Step-token logits, hit logits and the training loss of a batch of windows (teacher forcing).

        Args:
            backing_codes: ``(batch_size, num_codes)`` backing VQ-VAE codes; ``num_codes`` a multiple of
                ``config.codes_per_step``, at most ``config.max_codes``.
            beat_positions: ``(batch_size, num_codes)`` position in the bar of each code (the feature extractor's
                frame positions taken every ``frames_per_code`` frames).
            labels: ``(batch_size, num_codes)`` target drum codes; -100 leaves a code (and its step) out of the
                losses. The decoder input is built from them: start tokens, then the codes one step later.
            genre_ids: ``(batch_size,)`` indices into ``config.genre_vocabulary``; ``unknown`` when omitted.
            hit_flags: ``(batch_size, num_codes, num_drum_classes)`` 0/1 (:func:`step_hit_targets`).
            hit_velocities: same shape, MIDI velocities (0 where there is no hit).
            hit_offsets: same shape, onset inside the code in codes, ``[0, 1)``.
            encoder_outputs: ``(batch_size, num_steps, hidden_size)`` from :meth:`encode_backing`, to skip the encoder.
            backing_mel: ``(batch_size, num_codes * frames_per_code, backing_mel_bins)`` log-mels the backing codes
                were encoded from: required with ``config.backing_mel_bins > 0``, not used otherwise.
        """
        # 1. Encode the backing.
        self._check_inputs(backing_codes, beat_positions, window=True)
        batch_size = backing_codes.shape[0]
        genre_ids = self._genre_ids(genre_ids, batch_size, backing_codes.device)  # the same dropout for both
        encoder_hidden_states = (self.encode_backing(backing_codes, beat_positions, genre_ids, backing_mel)
                                 if encoder_outputs is None else encoder_outputs)
        if labels is None:
            return DrumAccompanimentOutput(encoder_last_hidden_state=encoder_hidden_states)

        # 2. Decoder input: start tokens, then the drum codes one step later (some masked in training).
        target_codes = self._steps(labels.long())  # (batch_size, num_steps, codes_per_step)
        past_codes = target_codes[:, :-1].clamp(min=0)
        if self.training and self.config.decoder_input_dropout > 0:
            dropped = torch.rand(past_codes.shape, device=past_codes.device) < self.config.decoder_input_dropout
            past_codes = past_codes.masked_fill(dropped, self.config.mask_token_id)
        start = self._start_tokens(genre_ids)
        decoder_input_ids = torch.cat([start, past_codes], dim=1)  # (batch_size, num_steps, codes_per_step)

        # 3. Decode and predict.
        conditioning = self.decoder.step_conditioning(encoder_hidden_states)
        hidden_states = self.decoder(decoder_input_ids, conditioning, encoder_hidden_states)
        logits = self.lm_head(hidden_states)  # (batch_size, num_steps, drum_codebook_size ** codes_per_step)
        hit_logits = self.hit_head(hidden_states, target_codes.clamp(min=0))  # (batch_size, num_codes, classes, 3)

        # 4. Losses: the joint cross-entropy of a step counts once per code it predicts (nats per code).
        step_targets = codes_to_step_tokens(target_codes, self.config.drum_codebook_size)
        ce_loss = F.cross_entropy(logits.float().flatten(0, 1), step_targets.flatten(), ignore_index=-100)
        ce_loss = ce_loss / self.config.codes_per_step
        backing_hit_logits = (None if self.backing_hit_head is None
                              else self.backing_hit_head(encoder_hidden_states))  # (batch_size, num_codes, classes, 3)
        loss, hit_loss, backing_hit_loss = ce_loss, None, None
        if hit_flags is not None:
            code_mask = (step_targets != -100).repeat_interleave(self.config.codes_per_step, dim=1)
            hit_loss = self.hit_loss(hit_logits, hit_flags, hit_velocities, hit_offsets, code_mask)
            loss = ce_loss + self.config.aux_loss_weight * hit_loss
            if backing_hit_logits is not None:
                backing_hit_loss = self.hit_loss(backing_hit_logits, hit_flags, hit_velocities, hit_offsets, code_mask)
                loss = loss + self.config.backing_hit_loss_weight * backing_hit_loss
        return DrumAccompanimentOutput(loss=loss, ce_loss=ce_loss, hit_loss=hit_loss,
                                       backing_hit_loss=backing_hit_loss, logits=logits, hit_logits=hit_logits,
                                       backing_hit_logits=backing_hit_logits,
                                       encoder_last_hidden_state=encoder_hidden_states)

    def hit_loss(self, hit_logits: torch.Tensor, hit_flags: torch.Tensor, hit_velocities: torch.Tensor | None,
                 hit_offsets: torch.Tensor | None, code_mask: torch.Tensor) -> torch.Tensor:
        """Flag BCE (positives weighted by ``config.hit_pos_weight``) over the valid codes, plus velocity and offset
        L1 over the true hits (velocity in units of 127, offset in codes).

        Args:
            hit_logits: ``(batch_size, num_codes, num_drum_classes, 3)``.
            hit_flags, hit_velocities, hit_offsets: ``(batch_size, num_codes, num_drum_classes)``.
            code_mask: ``(batch_size, num_codes)`` bool, codes that count.
        """
        hit_logits = hit_logits.float()
        flags = hit_flags.float()
        cell_mask = code_mask[..., None].expand_as(flags).float()
        pos_weight = torch.tensor(self.config.hit_pos_weight, device=flags.device)
        flag_loss = F.binary_cross_entropy_with_logits(hit_logits[..., HIT_FLAG], flags, weight=cell_mask,
                                                       pos_weight=pos_weight, reduction="sum")
        loss = flag_loss / cell_mask.sum().clamp(min=1)
        hit_mask = flags * cell_mask
        num_hits = hit_mask.sum().clamp(min=1)
        if hit_velocities is not None:
            velocity_error = (hit_logits[..., HIT_VELOCITY].sigmoid() - hit_velocities.float() / 127).abs()
            loss = loss + (velocity_error * hit_mask).sum() / num_hits
        if hit_offsets is not None:
            offset_error = (hit_logits[..., HIT_OFFSET].sigmoid() - hit_offsets.float()).abs()
            loss = loss + (offset_error * hit_mask).sum() / num_hits
        return loss

    # ----- generation ------------------------------------------------------------------------------------------

    @torch.inference_mode()
    def generate(
        self,
        backing_codes: torch.Tensor,
        beat_positions: torch.Tensor,
        genre_ids: torch.Tensor | None = None,
        do_sample: bool = True,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        seed: int | None = None,
        use_cache: bool = True,
        overlap_steps: int | None = None,
        hit_threshold: float | None = None,
        show_progress: bool = False,
        return_codes: bool = True,
        genre_ensemble: bool | None = None,
        bar_smoothing: float | None = None,
        backing_mel: torch.Tensor | None = None,
    ) -> DrumAccompanimentGenerationOutput:
        """Write drums for the backing: one drum code (and its hits) per backing code, any number of codes.

        Songs longer than ``config.max_steps`` steps are generated in windows of ``max_steps`` steps; each window
        after the first re-reads the last ``overlap_steps`` steps it already has as a prompt (one prefill pass),
        so the groove carries over, and generates the rest. A song whose length is not a multiple of
        ``codes_per_step`` is padded by repeating its last backing code (unknown beat position), then cut back.

        Args:
            backing_codes, beat_positions: ``(batch_size, num_codes)`` (see :meth:`forward`).
            genre_ids: ``(batch_size,)`` genre indices (``config.genre_id(name)``); ``unknown`` when omitted.
            do_sample: sample (with ``temperature``, ``top_k``, ``top_p``) or take the most likely step (greedy).
            top_k: keep the ``top_k`` most likely step tokens (0 = all).
            top_p: keep the smallest set of most likely step tokens holding ``top_p`` of the probability (1 = all).
            seed: seed of a private random generator (the same seed gives the same drums); ``None`` = torch's.
            use_cache: keep keys / values between steps (``False`` recomputes the window each step: the
                reference the cache is tested against).
            overlap_steps: prompt length of the windows after the first, ``< max_steps``; ``max_steps // 2`` by
                default.
            hit_threshold: hit probability above which a hit is written (``config.hit_threshold`` by default). With
                ``config.hit_source = "backing"`` and ``do_sample``, each cell is hit with probability
                ``sigmoid((logit - logit(hit_threshold)) / (temperature * config.hit_sampling_temperature))``:
                clear cells keep their greedy decision, unsure ones change from seed to seed.
            show_progress: a tqdm progress bar over the generated steps (updated once per window).
            return_codes: run the autoregressive decoder for the drum codes. ``False`` (only with
                ``config.hit_source = "backing"``) writes the hits alone, all windows in one batch: the fast path
                when the drum audio is rendered from the MIDI; ``drum_codes`` is then ``None``.
            genre_ensemble: songs without a genre get the backing hit head averaged over every genre token
                (``config.hit_genre_ensemble`` by default; only with ``hit_source="backing"``).
            bar_smoothing: weight in ``[0, 1]`` of the same place in the neighbouring bars in each cell's hit
                probability before the hits are decided (``config.hit_bar_smoothing`` by default; 0 = off;
                ``bar_smoothing.py``). ``hit_probabilities`` are then the smoothed ones.
            backing_mel: ``(batch_size, num_codes * frames_per_code, backing_mel_bins)`` log-mels the backing codes
                were encoded from: required with ``config.backing_mel_bins > 0``, not used otherwise.
        """
        # 1. Inputs, padding to whole steps, and the window plan.
        self._check_inputs(backing_codes, beat_positions, window=False)
        backing_mel = self._check_mel(backing_codes, backing_mel)  # None for a codes-only model
        batch_size, num_codes = backing_codes.shape
        codes_per_step, window = self.config.codes_per_step, self.config.max_steps
        padding = -num_codes % codes_per_step
        if padding:
            backing_codes = torch.cat([backing_codes, backing_codes[:, -1:].expand(-1, padding)], dim=1)
            if backing_mel is not None:  # the last code's frames again, as its code is repeated
                last_code = backing_mel[:, -self.config.frames_per_code:]
                backing_mel = torch.cat([backing_mel, last_code.repeat(1, padding, 1)], dim=1)
            unknown_position = torch.full_like(beat_positions[:, :padding], self.config.num_beat_positions - 1)
            beat_positions = torch.cat([beat_positions, unknown_position], dim=1)
        num_steps = backing_codes.shape[1] // codes_per_step
        overlap = window // 2 if overlap_steps is None else int(overlap_steps)
        if not 0 <= overlap < window:
            raise ValueError(f"overlap_steps must be in [0, max_steps={window}), got {overlap}")
        smoothing = self.config.hit_bar_smoothing if bar_smoothing is None else float(bar_smoothing)
        if not 0.0 <= smoothing <= 1.0:
            raise ValueError(f"bar_smoothing must be a weight in [0, 1] (0 = off), got {bar_smoothing}")
        if not return_codes and self.config.hit_source != "backing":
            raise ValueError("return_codes=False needs config.hit_source='backing' (the decoder's hit head reads the "
                             f"generated codes), got hit_source={self.config.hit_source!r}")
        device = backing_codes.device
        generator = None if seed is None else torch.Generator(device=device).manual_seed(int(seed))
        sampling = {"do_sample": do_sample, "temperature": temperature, "top_k": top_k, "top_p": top_p,
                    "generator": generator}
        genre_ids = self._genre_ids(genre_ids, batch_size, device)
        start_tokens = self._start_tokens(genre_ids)
        drum_codes = torch.zeros(batch_size, num_steps, codes_per_step, dtype=torch.long, device=device)
        hit_logits = torch.zeros(batch_size, num_steps * codes_per_step, self.config.num_drum_classes, 3,
                                 device=device)

        plan = window_plan(num_steps, window, overlap)

        # 2. Window by window: encode the backing, read the prompt, generate the new steps.
        progress = tqdm(total=num_steps, unit="step", desc="drums", disable=not (show_progress and return_codes))
        for window_start, done, window_end in (plan if return_codes else ()):
            codes_slice = slice(window_start * codes_per_step, window_end * codes_per_step)
            encoder_hidden_states = self.encode_backing(backing_codes[:, codes_slice], beat_positions[:, codes_slice],
                                                        genre_ids, self._code_frames(backing_mel, codes_slice))
            prompt = drum_codes[:, window_start:done]
            new_codes, new_hit_logits = self._generate_window(encoder_hidden_states, start_tokens, prompt,
                                                              window_end - done, use_cache, sampling)
            drum_codes[:, done:window_end] = new_codes
            hit_logits[:, done * codes_per_step:window_end * codes_per_step] = new_hit_logits
            progress.update(window_end - done)
        progress.close()
        if self.config.hit_source == "backing":  # not autoregressive: every window at once
            ensemble = self.config.hit_genre_ensemble if genre_ensemble is None else genre_ensemble
            # songs without a genre under the ensemble: the mean over every genre token; the others: their own
            averaged = (genre_ids == self.config.unknown_genre_id) & bool(ensemble)
            hit_logits = torch.zeros(*backing_codes.shape, self.config.num_drum_classes, 3, device=device)
            if (~averaged).any():
                hit_logits[~averaged] = self._backing_hit_logits(
                    backing_codes[~averaged], beat_positions[~averaged], genre_ids[~averaged], plan,
                    backing_mel=None if backing_mel is None else backing_mel[~averaged])
            if averaged.any():
                hit_logits[averaged] = self._genre_ensemble_hit_logits(
                    backing_codes[averaged], beat_positions[averaged], plan,
                    backing_mel=None if backing_mel is None else backing_mel[averaged])

        # 3. Codes back to the song's length; hits at full timing resolution.
        drum_codes = drum_codes.view(batch_size, -1)[:, :num_codes] if return_codes else None
        hit_logits = hit_logits[:, :num_codes]
        decision_logits = hit_logits[..., HIT_FLAG]
        probabilities = decision_logits.sigmoid()
        velocities = 127 * hit_logits[..., HIT_VELOCITY].sigmoid()
        offsets = hit_logits[..., HIT_OFFSET].sigmoid()
        if smoothing > 0:  # drums repeat from bar to bar: blend in the same place of the neighbouring bars
            smoothed = [bar_smoothed_probabilities(probabilities[index].cpu().numpy(),
                                                   beat_positions[index, :num_codes].cpu().numpy(),
                                                   self.config.num_beat_positions - 1, smoothing,
                                                   self.config.hit_bar_smoothing_bars,
                                                   self.config.hit_bar_smoothing_tolerance)
                        for index in range(batch_size)]
            probabilities = torch.from_numpy(np.stack(smoothed)).to(probabilities)
            decision_logits = torch.logit(probabilities, eps=1e-6)
        threshold = self.config.hit_threshold if hit_threshold is None else hit_threshold
        decisions = probabilities  # a cell is hit where its decision score > threshold
        if do_sample and self.config.hit_source == "backing":
            # the backing head is not autoregressive: a take varies where the head is unsure (near the threshold)
            scale = max(temperature * self.config.hit_sampling_temperature, 1e-6)
            boundary = torch.logit(torch.tensor(float(threshold))).item()  # -inf / inf at 0 / 1: all / no hits
            # a generator of its own: a seed gives the same hits whether or not the decoder drew codes before
            hit_generator = None if seed is None else torch.Generator(device=device).manual_seed(int(seed))
            draw = torch.rand(probabilities.shape, generator=hit_generator, device=device)
            decisions = (draw < torch.sigmoid((decision_logits - boundary) / scale)).float()
            threshold = 0.5
        if self.config.hit_peak_window > 0:  # peak picking along time, per class
            width = 2 * self.config.hit_peak_window + 1
            peaks = F.max_pool1d(probabilities.transpose(1, 2), width, stride=1, padding=width // 2).transpose(1, 2)
            decisions = decisions * (probabilities >= peaks)
        hits = [hits_from_step_predictions(decisions[index].cpu().numpy(), velocities[index].cpu().numpy(),
                                           offsets[index].cpu().numpy(), self.config.code_seconds, threshold)
                for index in range(batch_size)]
        return DrumAccompanimentGenerationOutput(drum_codes=drum_codes, hit_probabilities=probabilities,
                                                 hit_velocities=velocities, hit_offsets=offsets, hits=hits)

    def _backing_hit_logits(self, backing_codes: torch.Tensor, beat_positions: torch.Tensor, genre_ids: torch.Tensor,
                            plan: list[tuple[int, int, int]], windows_per_batch: int = 32,
                            backing_mel: torch.Tensor | None = None) -> torch.Tensor:
        """Hit logits of the backing hit head over a whole song, the windows of ``plan`` encoded in batches of
        ``windows_per_batch`` (memory stays bounded); each window gives the steps it adds (``done .. end``).

        Args:
            backing_codes, beat_positions: ``(batch_size, num_steps * codes_per_step)``; genre_ids ``(batch_size,)``;
            backing_mel: ``(batch_size, num_steps * codes_per_step * frames_per_code, bins)`` or ``None``.
        Returns:
            ``(batch_size, num_steps * codes_per_step, num_drum_classes, 3)``.
        """
        k, batch_size = self.config.codes_per_step, backing_codes.shape[0]
        hit_logits = torch.zeros(batch_size, backing_codes.shape[1], self.config.num_drum_classes, 3,
                                 device=backing_codes.device)
        for first in range(0, len(plan), windows_per_batch):
            chunk = plan[first:first + windows_per_batch]
            slices = [slice(start * k, end * k) for start, _, end in chunk]  # equal lengths (window_plan)
            mels = None if backing_mel is None else torch.cat([self._code_frames(backing_mel, part) for part in slices])
            states = self.encode_backing(torch.cat([backing_codes[:, part] for part in slices]),
                                         torch.cat([beat_positions[:, part] for part in slices]),
                                         genre_ids.repeat(len(chunk)), mels)
            logits = self.backing_hit_head(states).view(len(chunk), batch_size, -1, self.config.num_drum_classes, 3)
            for index, (start, done, end) in enumerate(chunk):
                hit_logits[:, done * k:end * k] = logits[index, :, (done - start) * k:]
        return hit_logits

    def _genre_ensemble_hit_logits(self, backing_codes: torch.Tensor, beat_positions: torch.Tensor,
                                   plan: list[tuple[int, int, int]],
                                   backing_mel: torch.Tensor | None = None) -> torch.Tensor:
        """``config.hit_genre_ensemble``: the backing hit head's hit, velocity and offset probabilities averaged over
        every genre token (``unknown`` included), returned as logits (shapes as :meth:`_backing_hit_logits`)."""
        batch_size = backing_codes.shape[0]
        total = 0.0
        for genre_id in range(self.config.num_genres):
            genre_ids = torch.full((batch_size,), genre_id, dtype=torch.long, device=backing_codes.device)
            total = total + self._backing_hit_logits(backing_codes, beat_positions, genre_ids, plan,
                                                     backing_mel=backing_mel).sigmoid()
        return torch.logit(total / self.config.num_genres, eps=1e-6)

    def _generate_window(
        self, encoder_hidden_states: torch.Tensor, start_tokens: torch.Tensor, prompt: torch.Tensor,
        num_new_steps: int, use_cache: bool, sampling: dict[str, Any],
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The nanoGPT loop over one window: read start tokens + prompt, then sample ``num_new_steps`` steps.

        Args:
            start_tokens: ``(batch_size, 1, codes_per_step)``; prompt: ``(batch_size, prompt_steps, codes_per_step)``.
        Returns:
            ``(batch_size, num_new_steps, codes_per_step)`` codes and their hit logits
            ``(batch_size, num_new_steps * codes_per_step, num_drum_classes, 3)``.
        """
        codebook_size, codes_per_step = self.config.drum_codebook_size, self.config.codes_per_step
        conditioning = self.decoder.step_conditioning(encoder_hidden_states)
        cache = EncoderDecoderCache(DynamicCache(), DynamicCache()) if use_cache else None
        tokens = torch.cat([start_tokens, prompt], dim=1)  # the input at position s predicts step s
        hidden_states = self.decoder(tokens, conditioning, encoder_hidden_states, cache)[:, -1]
        new_codes, new_hidden_states = [], []
        for step in range(num_new_steps):
            step_token = sample_next_code(self.lm_head(hidden_states), **sampling)
            codes = step_tokens_to_codes(step_token, codebook_size, codes_per_step)  # (batch_size, codes_per_step)
            new_codes.append(codes)
            new_hidden_states.append(hidden_states)
            if step == num_new_steps - 1:
                break
            tokens = torch.cat([tokens, codes[:, None]], dim=1)
            if use_cache:
                hidden_states = self.decoder(codes[:, None], conditioning, encoder_hidden_states, cache,
                                             first_step=tokens.shape[1] - 1)[:, -1]
            else:
                hidden_states = self.decoder(tokens, conditioning, encoder_hidden_states)[:, -1]
        codes = torch.stack(new_codes, dim=1)
        return codes, self.hit_head(torch.stack(new_hidden_states, dim=1), codes)


# ----- data --------------------------------------------------------------------------------------------------------


class DrumAccompanimentCollator:
    """Rows of a code dataset (``scripts/encode_codes.py``) -> a batch for :meth:`DrumAccompanimentModel.forward`.

    Row fields used: ``backing_codes``, ``drum_codes`` (-> ``labels``), ``beat_positions`` (``(num_steps,)``),
    ``genre`` (a name; subgenres map to their top-level style, unlisted names to ``unknown``), ``backing_mel`` (only
    with ``config.backing_mel_bins``) and, when present,
    the hit-head targets ``step_hit_flags``, ``step_hit_velocities``, ``step_hit_offsets``
    (``(num_steps, num_drum_classes)``, from :func:`step_hit_targets`) -> ``hit_flags``, ``hit_velocities``,
    ``hit_offsets``.
    """

    def __init__(self, config: DrumAccompanimentConfig):
        self.config = config

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        def stacked(name: str, dtype: torch.dtype) -> torch.Tensor:
            return torch.as_tensor(np.stack([np.asarray(row[name]) for row in rows]), dtype=dtype)

        batch = {
            "backing_codes": stacked("backing_codes", torch.long),
            "beat_positions": stacked("beat_positions", torch.long),
            "labels": stacked("drum_codes", torch.long),
            "genre_ids": torch.tensor([self.config.genre_id(top_level_style(row.get("genre") or ""))
                                       for row in rows], dtype=torch.long),
        }
        if self.config.backing_mel_bins:
            if "backing_mel" not in rows[0]:
                raise ValueError("this model hears the backing's log-mels (config.backing_mel_bins="
                                 f"{self.config.backing_mel_bins}), but the rows have no 'backing_mel'; re-encode the "
                                 "code dataset with scripts/encode_codes.py (it copies them)")
            batch["backing_mel"] = stacked("backing_mel", torch.float32)
        if "step_hit_flags" in rows[0]:
            batch["hit_flags"] = stacked("step_hit_flags", torch.float32)
            batch["hit_velocities"] = stacked("step_hit_velocities", torch.float32)
            batch["hit_offsets"] = stacked("step_hit_offsets", torch.float32)
        return batch


__all__ = [
    "DrumAccompanimentCollator",
    "DrumAccompanimentGenerationOutput",
    "DrumAccompanimentModel",
    "DrumAccompanimentOutput",
    "DrumAccompanimentPreTrainedModel",
    "codes_to_step_tokens",
    "hits_from_step_predictions",
    "sample_next_code",
    "step_hit_targets",
    "step_tokens_to_codes",
    "window_plan",
]
