"""GrooveModel: a decoder-only transformer over drum compound words ``<dt, instrument, velocity>``.

Read top-down: output dataclasses, musical-time helpers (running ticks, lookback words), building blocks, the
pre-trained base, the public model with ``generate``.

How the model sees a groove:

* each word is the sum of one embedding per field, plus the word's place in the bar (beat-in-bar and
  position-in-beat embeddings from the running time, i.e. the cumulated ``dt``), plus the tempo;
* attention is rotary in *musical time*: a word's rotary position is its running time in 16th notes, so a head can
  look "one bar back" by the same angle anywhere in the piece;
* the copy path: for ``k`` in ``config.lookback_bars`` each word also gets the embedding of the word that followed
  the same place ``k`` bars earlier (re-timed from the current position). The model learns when to copy; nothing
  in ``generate`` replays the prompt;
* one head per field, sampled field by field: the instrument head sees the sampled ``dt``, the velocity head the
  sampled ``dt`` and instrument (CP-Transformer).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.cache_utils import Cache, DynamicCache
from transformers.models.llama.modeling_llama import LlamaMLP, LlamaRMSNorm, apply_rotary_pos_emb
from transformers.utils import ModelOutput

from ...tokenization_drum import DT_FIELD, INSTRUMENT_FIELD, VELOCITY_FIELD
from ..sampling import sample_next_code
from .configuration_groove import GrooveConfig, check_adaptation_settings
from .consensus import consensus_hits, hits_to_words, take_hits
IGNORE_INDEX = -100


@dataclass
class GrooveOutput(ModelOutput):
    """Output of :meth:`GrooveModel.forward`.

    Attributes:
        loss: mean of the three field cross-entropies (next-word prediction), when ``labels`` are passed.
        field_losses: ``(3,)`` the cross-entropy of each field ``(dt, instrument, velocity)``, with ``loss``.
        dt_logits: ``(batch_size, num_new_words, field_sizes[0])`` scores of the next word's ``dt`` field.
        instrument_logits: ``(batch_size, num_words - 1, field_sizes[1])`` scores of the next instrument given the
            true next ``dt`` (teacher forcing); only with ``labels``.
        velocity_logits: ``(batch_size, num_words - 1, field_sizes[2])`` scores of the next velocity bin given the
            true next ``dt`` and instrument; only with ``labels``.
        last_hidden_state: ``(batch_size, num_new_words, hidden_size)`` after the final norm.
        past_key_values: the updated cache when one was used.
    """

    loss: torch.Tensor | None = None
    field_losses: torch.Tensor | None = None
    dt_logits: torch.Tensor | None = None
    instrument_logits: torch.Tensor | None = None
    velocity_logits: torch.Tensor | None = None
    last_hidden_state: torch.Tensor | None = None
    past_key_values: Cache | None = None


@dataclass
class GrooveGenerateOutput(ModelOutput):
    """Output of :meth:`GrooveModel.generate`.

    Attributes:
        words: ``(batch_size, prompt_words + generated, 3)`` the prompt then the generated words; a sequence that
            ended early is padded with ``<pad>`` words ``(pad, pad, pad)`` (``DrumTokenizer.decode_tokens`` skips them).
        num_generated: ``(batch_size,)`` words generated per sequence (an ``<eos>`` word included).
        prompt_length: words of the prompt.
        end_ticks: ``(batch_size,)`` running time (ticks) where generation had to stop (``max_bars``), or -1.
    """

    words: torch.Tensor | None = None
    num_generated: torch.Tensor | None = None
    prompt_length: int | None = None
    end_ticks: torch.Tensor | None = None


# ----- musical time --------------------------------------------------------------------------------------------------


def word_ticks(input_words: torch.Tensor, config: GrooveConfig, start_ticks: torch.Tensor | None = None) -> torch.Tensor:
    """Running time of every word in ticks (after its own ``dt``), as ``DrumTokenizer.word_ticks``.

    Args:
        input_words: ``(batch_size, num_words, 3)`` field indices.
        start_ticks: ``(batch_size,)`` time before the first word (a cropped context), default 0.
    Returns:
        ``(batch_size, num_words)`` int64; special words take the time of the word before them.
    """
    dt = input_words[..., DT_FIELD] - config.num_special_tokens
    dt = torch.where((dt >= 0) & (dt <= config.max_dt), dt, torch.zeros_like(dt))
    ticks = torch.cumsum(dt, dim=1)
    return ticks if start_ticks is None else ticks + start_ticks[:, None]


def lookback_words(
    input_words: torch.Tensor, ticks: torch.Tensor, bar_ticks: torch.Tensor, bars_back: int, config: GrooveConfig,
    start: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each word ``i >= start``, the word that followed the same place ``bars_back`` bars earlier.

    Two rules, the first that applies:

    1. *anchor* (robust to the drummer's microtiming): word ``i`` is a hit of class ``c`` at tick ``t_i``; the hit
       ``j < i`` of class ``c`` nearest to ``t_i - bars_back * bar`` (within ``config.lookback_tolerance_ticks``)
       is its counterpart, and the candidate is word ``j + 1`` as played then (its ``dt`` is the interval after the
       counterpart).
    2. *position*: words are ordered by (tick, slot) with slot = class + 1 for a hit, 0 for a special word (before
       the hits of its tick), ``num_drum_classes + 1`` for a shift word (after them). The candidate is the
       earliest-ordered hit ``j <= i`` after ``(t_i - bars_back * bar, slot_i)``, re-timed from now:
       ``dt = t_j + bars_back * bar - t_i``, or the shift word when that is more than ``max_dt`` ticks.

    Args:
        input_words: ``(batch_size, num_words, 3)``.
        ticks: ``(batch_size, num_words)`` from :func:`word_ticks`.
        bar_ticks: ``(batch_size,)`` bar length in ticks.
        start: first word to compute (earlier ones are in the KV cache).
    Returns:
        ``(words, kinds)``: ``(batch_size, num_words - start, 3)`` int64 candidate words (zeros when none) and
        ``(batch_size, num_words - start)`` int64 rule used: 0 none (the first ``bars_back`` bars, or no hit
        qualifies), 1 anchor, 2 position.
    """
    special, classes = config.num_special_tokens, config.num_drum_classes
    slots_per_tick = classes + 2
    instrument = input_words[..., INSTRUMENT_FIELD] - special  # class, `classes` for a shift, < 0 for a special
    is_hit = (instrument >= 0) & (instrument < classes)
    slot = torch.where(is_hit, instrument + 1, torch.where(instrument == classes, classes + 1, 0))
    back = (bars_back * bar_ticks)[:, None]  # (batch_size, 1)
    query_ticks = ticks[:, start:]
    num_words = input_words.shape[1]
    positions = torch.arange(num_words, device=input_words.device)
    largest = torch.iinfo(ticks.dtype).max

    # 1. Anchor: (batch_size, num_queries, num_words) same-class hits j < i near t_i - back.
    distance = (ticks[:, None, :] - (query_ticks - back)[:, :, None]).abs()
    anchored = ((positions[None, :] < positions[start:, None])[None] & is_hit[:, None, :] & is_hit[:, start:, None]
                & (instrument[:, None, :] == instrument[:, start:, None])
                & (distance <= config.lookback_tolerance_ticks))
    anchor = torch.where(anchored, distance, torch.full_like(distance, largest)).argmin(dim=-1)
    anchor_words = torch.gather(input_words, 1, (anchor + 1).clamp(max=num_words - 1)[..., None].expand(-1, -1, 3))
    has_anchor = anchored.any(dim=-1) & (anchor_words[..., DT_FIELD] >= special)  # the successor is a real word

    # 2. Position: hits j <= i that come after the query's place, the earliest in word order.
    keys = ticks * slots_per_tick + slot
    query_keys = (query_ticks - back) * slots_per_tick + slot[:, start:]
    allowed = ((positions[None, :] <= positions[start:, None])[None] & is_hit[:, None, :]
               & (keys[:, None, :] > query_keys[:, :, None]))
    best = torch.where(allowed, keys[:, None, :], torch.full_like(keys[:, None, :], largest)).argmin(dim=-1)
    chosen = torch.gather(input_words, 1, best[..., None].expand(-1, -1, 3))
    dt = torch.gather(ticks, 1, best) + back - query_ticks
    shift = dt > config.max_dt
    position_words = torch.stack([
        special + torch.where(shift, torch.full_like(dt, config.max_dt), dt.clamp(min=0)),
        torch.where(shift, torch.full_like(dt, config.shift_index), chosen[..., INSTRUMENT_FIELD]),
        torch.where(shift, torch.full_like(dt, special), chosen[..., VELOCITY_FIELD]),
    ], dim=-1)

    enough_history = query_ticks >= back
    kinds = torch.where(has_anchor, 1, torch.where(allowed.any(dim=-1), 2, 0)) * enough_history
    words = torch.where((kinds == 1)[..., None], anchor_words, position_words)
    words = torch.where((kinds > 0)[..., None], words, torch.zeros_like(words))
    return words, kinds


def tempo_bins(bpm: torch.Tensor | None, batch_size: int, config: GrooveConfig, device) -> torch.Tensor:
    """``(batch_size,)`` tempo bins (``config.tempo_bin``, vectorised); ``num_tempo_bins`` = unknown (NaN, <= 0)."""
    unknown = torch.full((batch_size,), config.num_tempo_bins, dtype=torch.long, device=device)
    if bpm is None:
        return unknown
    bpm = torch.as_tensor(bpm, dtype=torch.float32, device=device).reshape(-1).expand(batch_size)
    known = torch.isfinite(bpm) & (bpm > 0)
    index = torch.round(config.tempo_bins_per_octave * torch.log2(bpm.clamp(min=1e-3) / config.min_tempo))
    index = index.clamp(0, max(config.num_tempo_bins - 1, 0)).long()
    return torch.where(known, index, unknown)


def _is_per_row(value, batch_size: int) -> bool:
    """Is ``value`` one value per sequence, a ``(batch_size,)`` tensor (not a scalar or ``None`` shared by all)?"""
    return torch.is_tensor(value) and value.dim() > 0 and len(value) == batch_size


def _repeat_rows(value, batch_size: int):
    """A per-sequence ``(batch_size,)`` tensor repeated for the unconditional half of a guided batch; a scalar or
    ``None`` (one value for every sequence) as it is."""
    return value.repeat(2) if batch_size > 1 and _is_per_row(value, batch_size) else value


def _pad_rows(rows: list[torch.Tensor], pad_token_id: int, device) -> torch.Tensor:
    """Word sequences ``(num_words_i, 3)`` -> ``(len(rows), longest, 3)``, the shorter ones padded with ``<pad>``."""
    padded = torch.full((len(rows), max(len(row) for row in rows), 3), pad_token_id, dtype=torch.long, device=device)
    for index, row in enumerate(rows):
        padded[index, : len(row)] = row
    return padded


def _guide(logits: torch.Tensor, guidance_scale: float) -> torch.Tensor:
    """Classifier-free guidance: ``(2 * batch_size, size)`` logits (conditional rows, then unconditional ones) ->
    ``(batch_size, size)`` ``unconditional + guidance_scale * (conditional - unconditional)``; unguided logits
    (``guidance_scale == 1``) pass through."""
    if guidance_scale == 1.0:
        return logits
    conditional, unconditional = logits.float().chunk(2)
    return unconditional + guidance_scale * (conditional - unconditional)


# ----- building blocks ----------------------------------------------------------------------------------------------


class GrooveEmbeddings(nn.Module):
    """Field embeddings + place in the bar + tempo + lookback words, summed: ``(batch, words, hidden_size)``."""

    def __init__(self, config: GrooveConfig):
        super().__init__()
        self.config = config
        hidden = config.hidden_size
        self.fields = nn.ModuleList(nn.Embedding(size, hidden) for size in config.field_sizes)
        self.beat_in_bar = nn.Embedding(config.max_beats_per_bar, hidden)
        self.position_in_beat = nn.Embedding(config.positions_per_beat, hidden)
        self.tempo = nn.Embedding(config.num_tempo_bins + 1, hidden) if config.num_tempo_bins > 0 else None
        self.lookback_fields = nn.ModuleList(
            nn.ModuleList(nn.Embedding(size, hidden) for size in config.field_sizes) for _ in config.lookback_bars)
        self.lookback_kinds = nn.ModuleList(nn.Embedding(3, hidden) for _ in config.lookback_bars)  # none/anchor/position
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self, input_words: torch.Tensor, ticks: torch.Tensor, bar_ticks: torch.Tensor, tempo: torch.Tensor,
        start: int = 0,
    ) -> torch.Tensor:
        config = self.config
        words = input_words[:, start:]
        hidden_states = sum(embedding(words[..., field]) for field, embedding in enumerate(self.fields))
        # Place in the bar of each word, from the running time.
        in_bar = torch.remainder(ticks[:, start:], bar_ticks[:, None])
        beat = (in_bar // config.ticks_per_beat).clamp(max=config.max_beats_per_bar - 1)
        position = (in_bar % config.ticks_per_beat) * config.positions_per_beat // config.ticks_per_beat
        hidden_states = hidden_states + self.beat_in_bar(beat) + self.position_in_beat(position)
        if self.tempo is not None:
            hidden_states = hidden_states + self.tempo(tempo)[:, None]  # one tempo per sequence
        for index, bars_back in enumerate(config.lookback_bars):
            candidates, kinds = lookback_words(input_words, ticks, bar_ticks, bars_back, config, start)
            embedded = sum(embedding(candidates[..., field])
                           for field, embedding in enumerate(self.lookback_fields[index]))
            embedded = torch.where((kinds > 0)[..., None], embedded, torch.zeros_like(embedded))
            hidden_states = hidden_states + embedded + self.lookback_kinds[index](kinds)
        return self.dropout(hidden_states)


class GrooveRotaryEmbedding(nn.Module):
    """Rotary angles from musical time: position = running ticks / ``rope_unit_ticks`` (fractional allowed).

    The inverse frequencies are recomputed on each call (cheap) rather than stored in a non-persistent buffer, which
    ``from_pretrained`` would leave uninitialised.
    """

    def __init__(self, config: GrooveConfig):
        super().__init__()
        self.head_dim = config.head_dim
        self.theta = config.rope_theta
        self.unit = float(config.rope_unit_ticks)

    def forward(self, ticks: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        inv_freq = 1.0 / (self.theta ** (torch.arange(0, self.head_dim, 2, device=ticks.device).float() / self.head_dim))
        angles = (ticks.float() / self.unit)[..., None] * inv_freq  # (batch_size, num_words, head_dim / 2)
        angles = torch.cat((angles, angles), dim=-1)
        return angles.cos().to(dtype), angles.sin().to(dtype)


class GrooveAttention(nn.Module):
    """Causal multi-head self-attention with rotary time positions, a KV cache and ``scaled_dot_product_attention``."""

    def __init__(self, config: GrooveConfig, layer_idx: int):
        super().__init__()
        self.layer_idx = layer_idx
        self.num_heads, self.head_dim = config.num_attention_heads, config.head_dim
        self.qkv_proj = nn.Linear(config.hidden_size, 3 * config.hidden_size, bias=False)
        self.o_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=False)
        self.attention_dropout = config.attention_dropout

    def forward(
        self, hidden_states: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, past_key_values: Cache | None,
    ) -> torch.Tensor:
        batch_size, num_words, hidden_size = hidden_states.shape
        # (batch_size, num_words, 3 * hidden) -> 3 x (batch_size, num_heads, num_words, head_dim)
        query, key, value = (self.qkv_proj(hidden_states).view(batch_size, num_words, 3, self.num_heads, self.head_dim)
                             .permute(2, 0, 3, 1, 4))
        query, key = apply_rotary_pos_emb(query, key, cos, sin)
        num_past = 0
        if past_key_values is not None:
            num_past = past_key_values.get_seq_length(self.layer_idx)
            key, value = past_key_values.update(key, value, self.layer_idx)
        mask, is_causal = None, False
        if num_words > 1 and num_past == 0:
            is_causal = True
        elif num_words > 1:  # several new words on top of a cache: word q sees the past and new words <= q
            mask = torch.ones(num_words, num_past + num_words, dtype=torch.bool, device=query.device).tril(num_past)
        attended = F.scaled_dot_product_attention(
            query, key, value, attn_mask=mask, is_causal=is_causal,
            dropout_p=self.attention_dropout if self.training else 0.0)
        return self.o_proj(attended.transpose(1, 2).reshape(batch_size, num_words, hidden_size))


class GrooveDecoderLayer(nn.Module):
    """Pre-norm block: RMSNorm -> attention -> residual, RMSNorm -> gated MLP -> residual."""

    def __init__(self, config: GrooveConfig, layer_idx: int):
        super().__init__()
        self.attention_norm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.attention = GrooveAttention(config, layer_idx)
        self.mlp_norm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.mlp = LlamaMLP(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, hidden_states, cos, sin, past_key_values) -> torch.Tensor:
        hidden_states = hidden_states + self.dropout(
            self.attention(self.attention_norm(hidden_states), cos, sin, past_key_values))
        return hidden_states + self.dropout(self.mlp(self.mlp_norm(hidden_states)))


class GrooveFieldConditioner(nn.Module):
    """Conditions the next field's head on a field value: ``h + MLP(norm(h + embed(value)))``."""

    def __init__(self, config: GrooveConfig, field_size: int):
        super().__init__()
        self.embedding = nn.Embedding(field_size, config.hidden_size)
        self.norm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.up_proj = nn.Linear(config.hidden_size, config.field_intermediate_size)
        self.down_proj = nn.Linear(config.field_intermediate_size, config.hidden_size)

    def forward(self, hidden_states: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        conditioned = self.norm(hidden_states + self.embedding(values))
        return hidden_states + self.down_proj(F.gelu(self.up_proj(conditioned)))


# ----- pre-trained base ---------------------------------------------------------------------------------------------


class GroovePreTrainedModel(PreTrainedModel):
    config_class = GrooveConfig
    base_model_prefix = "groove"
    main_input_name = "input_words"
    _no_split_modules = ["GrooveDecoderLayer"]

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)  # Linear / Embedding: normal(initializer_range); RMSNorm: ones; biases: zeros


# ----- public model -------------------------------------------------------------------------------------------------


class GrooveModel(GroovePreTrainedModel):
    """Style-conditioned drum groove language model over compound words (see the module docstring).

    Inputs are words ``(batch_size, num_words, 3)`` from ``DrumTokenizer.ids_to_words``; ``DrumTokenizer.words_to_ids``
    and ``decode_tokens`` turn the output of :meth:`generate` back into ids and MIDI.
    """

    def __init__(self, config: GrooveConfig):
        super().__init__(config)
        self.embeddings = GrooveEmbeddings(config)
        self.rotary = GrooveRotaryEmbedding(config)
        self.layers = nn.ModuleList(GrooveDecoderLayer(config, index) for index in range(config.num_hidden_layers))
        self.norm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.heads = nn.ModuleList(nn.Linear(config.hidden_size, size) for size in config.field_sizes)
        # The instrument head sees the dt, the velocity head the dt and the instrument.
        self.conditioners = nn.ModuleList(GrooveFieldConditioner(config, size) for size in config.field_sizes[:2])
        self.post_init()

    # ----- input checks ----------------------------------------------------------------------------------------

    def _check_words(self, words: torch.Tensor, name: str) -> torch.Tensor:
        if not isinstance(words, torch.Tensor):
            words = torch.as_tensor(words)
        if words.is_floating_point() or words.dtype == torch.bool:
            raise ValueError(f"{name} must hold integer field indices, got dtype {words.dtype}; pass "
                             "DrumTokenizer.ids_to_words(ids) as a long tensor")
        if words.ndim == 2 and words.shape[-1] == 3:
            words = words[None]
        if words.ndim != 3 or words.shape[-1] != 3 or words.shape[1] == 0:
            raise ValueError(f"{name} must have shape (batch_size, num_words >= 1, 3) (dt, instrument, velocity), "
                             f"got {tuple(words.shape)}; flat ids go through DrumTokenizer.ids_to_words first")
        return words.long().to(self.device)

    def _check_ranges(self, words: torch.Tensor, name: str, allow_ignore: bool = False) -> None:
        for field, size in enumerate(self.config.field_sizes):
            values = words[..., field]
            if allow_ignore:
                values = values[values != IGNORE_INDEX]
            if values.numel() and (values.min() < 0 or values.max() >= size):
                raise ValueError(f"{name}[..., {field}] holds indices outside [0, {size}) (got {int(values.min())}.."
                                 f"{int(values.max())}); the words do not match this model's vocabulary "
                                 f"(field_sizes {self.config.field_sizes})")

    def _bar_ticks(self, beats_per_bar, batch_size: int) -> torch.Tensor:
        if beats_per_bar is None:
            beats_per_bar = self.config.beats_per_bar
        beats = torch.as_tensor(beats_per_bar, dtype=torch.long, device=self.device).reshape(-1).expand(batch_size)
        if (beats < 1).any():
            raise ValueError(f"beats_per_bar must be >= 1 beat, got {beats.tolist()}; 4 for 4/4, 3 for 3/4, 2 for 6/8")
        return beats * self.config.ticks_per_beat

    # ----- forward ---------------------------------------------------------------------------------------------

    def forward(
        self,
        input_words: torch.Tensor,
        labels: torch.Tensor | None = None,
        bpm: torch.Tensor | float | None = None,
        beats_per_bar: torch.Tensor | int | None = None,
        start_ticks: torch.Tensor | None = None,
        past_key_values: Cache | None = None,
        use_cache: bool | None = None,
        **kwargs,
    ) -> GrooveOutput:
        """Next-word scores for every word (teacher-forced instrument / velocity scores when ``labels`` are given).

        Args:
            input_words: ``(batch_size, num_words, 3)`` field indices of the *whole* sequence so far. With a cache
                holding ``P`` words only words ``P..`` are run through the layers; the earlier ones are still needed
                for the running time and the lookback words.
            labels: ``(batch_size, num_words, 3)``, usually ``input_words`` with ``-100`` on padding; word ``i + 1``
                is the target of position ``i`` (the shift is done here).
            bpm: ``(batch_size,)`` or one tempo in beats per minute; ``None`` / NaN = unknown tempo.
            beats_per_bar: ``(batch_size,)`` or one bar length in beats (default ``config.beats_per_bar``).
            start_ticks: ``(batch_size,)`` running time before the first word (a cropped context), default 0.
            past_key_values: a ``DynamicCache`` to read and extend (``use_cache=True`` without one creates it).
        Returns:
            :class:`GrooveOutput`.
        """
        input_words = self._check_words(input_words, "input_words")
        self._check_ranges(input_words, "input_words")
        batch_size, num_words, _ = input_words.shape
        if use_cache and past_key_values is None:
            past_key_values = DynamicCache()
        num_past = past_key_values.get_seq_length() if past_key_values is not None else 0
        if num_past >= num_words:
            raise ValueError(f"the cache already holds {num_past} words but input_words has {num_words}; pass the "
                             "whole sequence so far (cached words included) plus the new words")
        if labels is not None and num_past:
            raise ValueError("labels (training) cannot be combined with a non-empty cache; drop past_key_values")

        # 1. Musical time and embeddings of the new words.
        if start_ticks is not None:
            start_ticks = torch.as_tensor(start_ticks, dtype=torch.long, device=self.device).reshape(-1)
        ticks = word_ticks(input_words, self.config, start_ticks)
        bar_ticks = self._bar_ticks(beats_per_bar, batch_size)
        tempo = tempo_bins(bpm, batch_size, self.config, self.device)
        hidden_states = self.embeddings(input_words, ticks, bar_ticks, tempo, start=num_past)

        # 2. Decoder layers, rotary in musical time.
        cos, sin = self.rotary(ticks[:, num_past:], hidden_states.dtype)
        for layer in self.layers:
            hidden_states = layer(hidden_states, cos, sin, past_key_values)
        hidden_states = self.norm(hidden_states)
        dt_logits = self.heads[DT_FIELD](hidden_states)

        # 3. Training: condition the later heads on the true next fields, one cross-entropy per field.
        loss = field_losses = instrument_logits = velocity_logits = None
        if labels is not None:
            labels = torch.as_tensor(labels, device=self.device).long()
            if labels.shape != input_words.shape:
                raise ValueError(f"labels must have the shape of input_words {tuple(input_words.shape)}, got "
                                 f"{tuple(labels.shape)}; use input_words with -100 on padding")
            self._check_ranges(labels, "labels", allow_ignore=True)
            targets = labels[:, 1:]  # (batch_size, num_words - 1, 3)
            known = targets.clamp(min=0)  # ignored targets condition with index 0; their losses are dropped
            instrument_hidden = self.conditioners[0](hidden_states[:, :-1], known[..., DT_FIELD])
            velocity_hidden = self.conditioners[1](instrument_hidden, known[..., INSTRUMENT_FIELD])
            instrument_logits = self.heads[INSTRUMENT_FIELD](instrument_hidden)
            velocity_logits = self.heads[VELOCITY_FIELD](velocity_hidden)
            field_losses = torch.stack([
                F.cross_entropy(logits.flatten(0, 1).float(), targets[..., field].flatten(), ignore_index=IGNORE_INDEX)
                for field, logits in enumerate((dt_logits[:, :-1], instrument_logits, velocity_logits))
            ])
            loss = field_losses.mean()
        return GrooveOutput(loss=loss, field_losses=field_losses, dt_logits=dt_logits,
                            instrument_logits=instrument_logits, velocity_logits=velocity_logits,
                            last_hidden_state=hidden_states, past_key_values=past_key_values)

    # ----- generation ------------------------------------------------------------------------------------------

    def style_prompt(self, style_ids: torch.Tensor | list[int] | int) -> torch.Tensor:
        """``(batch_size, 2, 3)`` words ``<bos> <STYLE>`` for flat STYLE ids (``DrumTokenizer.style_id(name)``)."""
        style_ids = torch.as_tensor(style_ids, dtype=torch.long, device=self.device).reshape(-1)
        special = self.config.num_special_tokens
        reserved = {self.config.pad_token_id, self.config.bos_token_id, self.config.eos_token_id}
        if ((style_ids < 0) | (style_ids >= special)).any() or any(int(s) in reserved for s in style_ids):
            raise ValueError(f"style_ids must be STYLE token ids (specials in [0, {special}) other than <pad>, <bos>, "
                             f"<eos>), got {style_ids.tolist()}; use DrumTokenizer.style_id('funk')")
        bos = torch.full_like(style_ids, self.config.bos_token_id)
        return torch.stack([bos, style_ids], dim=1)[..., None].expand(-1, -1, 3).contiguous()

    def _field_masks(self) -> list[torch.Tensor]:
        """Indices each head may emit while generating: dt values or ``<eos>``; instruments; velocity bins."""
        special = self.config.num_special_tokens
        masks = []
        for size in self.config.field_sizes:
            allowed = torch.zeros(size, dtype=torch.bool, device=self.device)
            allowed[special:] = True
            masks.append(allowed)
        masks[DT_FIELD][self.config.eos_token_id] = True
        return masks

    @torch.inference_mode()
    def generate(
        self,
        input_words: torch.Tensor | None = None,
        style_ids: torch.Tensor | list[int] | int | None = None,
        bpm: torch.Tensor | float | None = None,
        beats_per_bar: torch.Tensor | int | None = None,
        max_bars: int | None = None,
        prompt_ticks: torch.Tensor | int | None = None,
        max_new_words: int = 256,
        do_sample: bool = True,
        temperature: float | None = None,
        top_k: int = 0,
        top_p: float = 1.0,
        seed: int | None = None,
        use_cache: bool = True,
        greedy_grid_ticks: int | None = None,
        allow_eos: bool | None = None,
        guidance_scale: float | None = None,
        adaptation_steps: int | None = None,
        adaptation_learning_rate: float | None = None,
    ) -> GrooveGenerateOutput:
        """Continue a drum prompt, or start from a style alone, one word (three fields) at a time.

        Args:
            input_words: ``(batch_size, num_words, 3)`` prompt starting ``<bos> <STYLE>`` (equal lengths across the
                batch; generate prompts of different lengths one by one). Its last word must not be ``<eos>``.
            style_ids: instead of a prompt, flat STYLE ids ``(batch_size,)`` (``DrumTokenizer.style_id``).
            bpm, beats_per_bar: as in :meth:`forward`.
            max_bars: stop a sequence before its first word at or past ``prompt_ticks + max_bars`` bars.
            prompt_ticks: length of the prompt in ticks (e.g. ``4 * bar`` for a 4-bar prompt); default: the first
                bar line at or after the prompt's last word (0 for a style-only prompt).
            max_new_words: most words generated per sequence.
            do_sample: sample (``temperature``, ``top_k``, ``top_p`` per head) or take the argmax of each head.
            temperature: default 1.0, or ``config.style_temperature`` for a new groove from a style alone (a prompt
                of ``<bos> <STYLE>``).
            seed: seeds a private ``torch.Generator``: the same seed gives the same output.
            use_cache: run only the new word through the layers (``DynamicCache``); ``False`` recomputes everything
                each step (same result, slower; for checking).
            greedy_grid_ticks: greedy ``dt`` on this musical grid (see ``GrooveConfig.greedy_grid_ticks``, the
                default); 0 = plain argmax.
            allow_eos: may a sequence end with ``<eos>`` before ``max_bars`` (as HF's ``min_new_tokens`` suppresses
                the end token)? Default: only without ``max_bars``; asked for N bars, the model writes N bars.
            guidance_scale: classifier-free guidance on the style (as MusicGen's ``guidance_scale``): every field's
                logits become ``unconditional + guidance_scale * (conditional - unconditional)``, the unconditional
                ones from the same sequence under ``<STYLE=unknown>`` (``config.unknown_style_id``); > 1 plays the
                style more plainly. Default: ``config.style_guidance_scale`` for a new groove from a style alone, 1
                (off: one pass, not two) for a continuation, whose prompt carries the style.
            adaptation_steps, adaptation_learning_rate: prompt adaptation (``adaptation.py``): a copy of the model
                takes this many Adam steps on each prompt before continuing it (default
                ``config.adaptation_steps`` / ``config.adaptation_learning_rate``; 0 = off). A new groove from a
                style alone has nothing to adapt to.
        Returns:
            :class:`GrooveGenerateOutput`.
        """
        # 1. Check the arguments (with adaptation on, each prompt goes to its own adapted copy) and build the prompt.
        if (input_words is None) == (style_ids is None):
            raise ValueError("pass either input_words (a prompt) or style_ids (style-only generation), not "
                             f"{'both' if input_words is not None else 'neither'}")
        options = dict(bpm=bpm, beats_per_bar=beats_per_bar, max_bars=max_bars, prompt_ticks=prompt_ticks,
                       max_new_words=max_new_words, do_sample=do_sample, temperature=temperature, top_k=top_k,
                       top_p=top_p, seed=seed, use_cache=use_cache, greedy_grid_ticks=greedy_grid_ticks,
                       allow_eos=allow_eos, guidance_scale=guidance_scale)
        adapted = self._adapted_per_prompt("generate", input_words, adaptation_steps, adaptation_learning_rate, options)
        if adapted is not None:
            return adapted
        words = self.style_prompt(style_ids) if input_words is None else self._check_words(input_words, "input_words")
        style_only = words.shape[1] == 2  # <bos> <STYLE>: a new groove; its defaults are the config's style_* ones
        if temperature is None:
            temperature = self.config.style_temperature if style_only else 1.0
        guidance = float(guidance_scale) if guidance_scale is not None else (
            self.config.style_guidance_scale if style_only else 1.0)
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}; use do_sample=False for greedy decoding")
        if not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        if not guidance > 0:
            raise ValueError(f"guidance_scale must be > 0 (1 = no guidance, 2-3 = a plainer style), got {guidance}")
        if top_k < 0 or max_new_words < 1 or (max_bars is not None and max_bars < 1):
            raise ValueError(f"need top_k >= 0, max_new_words >= 1 and max_bars >= 1 (or None), got top_k={top_k}, "
                             f"max_new_words={max_new_words}, max_bars={max_bars}")
        self._check_ranges(words, "input_words")
        if (words[:, -1, DT_FIELD] == self.config.eos_token_id).any():
            raise ValueError("the prompt ends with <eos>; drop it (encode_midi(..., add_special_tokens=True) adds one "
                             "at the end) so the model can continue")
        batch_size, prompt_length, _ = words.shape
        bar_ticks = self._bar_ticks(beats_per_bar, batch_size)
        ticks = word_ticks(words, self.config)[:, -1]  # (batch_size,) running time of the last word
        if prompt_ticks is None:
            prompt_ticks = torch.div(ticks + bar_ticks - 1, bar_ticks, rounding_mode="floor") * bar_ticks
        prompt_ticks = torch.as_tensor(prompt_ticks, dtype=torch.long, device=self.device).reshape(-1).expand(batch_size)
        end_ticks = prompt_ticks + max_bars * bar_ticks if max_bars is not None else torch.full_like(ticks, -1)
        generator = torch.Generator(device=self.device)
        generator.manual_seed(torch.seed() if seed is None else int(seed))
        guided = guidance != 1.0
        if guided:  # the second half of the batch: the same sequences under <STYLE=unknown>
            unconditional = words.clone()
            unconditional[:, 1] = self.config.unknown_style_id
            words = torch.cat([words, unconditional])
            bpm, beats_per_bar = (_repeat_rows(value, batch_size) for value in (bpm, beats_per_bar))
            bar_ticks, ticks, prompt_ticks, end_ticks = (value.repeat(2) for value in
                                                        (bar_ticks, ticks, prompt_ticks, end_ticks))
        rows = words.shape[0]  # batch_size, or twice that with guidance
        masks = self._field_masks()
        if not (max_bars is None if allow_eos is None else allow_eos):
            masks[DT_FIELD][self.config.eos_token_id] = False
        grid = self.config.greedy_grid_ticks if greedy_grid_ticks is None else int(greedy_grid_ticks)
        pad_word = torch.full((rows, 3), self.config.pad_token_id, dtype=torch.long, device=self.device)
        finished = torch.zeros(rows, dtype=torch.bool, device=self.device)
        num_generated = torch.zeros(rows, dtype=torch.long, device=self.device)
        cache = DynamicCache() if use_cache else None
        context_start, start_ticks = 0, None
        was_training = self.training
        self.eval()

        # 2. The loop: crop the context, forward (new words only with the cache), sample field by field, append.
        for _ in range(max_new_words):
            if words.shape[1] - context_start > self.config.max_context_words:
                # Keep <bos> <STYLE> and the latest half of the context; the cropped time goes into start_ticks.
                context_start = words.shape[1] - self.config.max_context_words // 2
                start_ticks = word_ticks(words[:, :context_start], self.config)[:, -1]
                cache = DynamicCache() if use_cache else None
            context = torch.cat([words[:, :2], words[:, context_start:]], dim=1) if context_start else words
            output = self(context, bpm=bpm, beats_per_bar=beats_per_bar, start_ticks=start_ticks,
                          past_key_values=cache)
            hidden = output.last_hidden_state[:, -1]  # (rows, hidden_size)
            dt_logits = _guide(self.heads[DT_FIELD](hidden), guidance)  # (batch_size, field_sizes[0])
            if do_sample or grid <= 0:
                dt = self._pick(dt_logits, masks[DT_FIELD], do_sample, temperature, top_k, top_p, generator)
            else:
                dt = self._grid_argmax_dt(dt_logits, masks[DT_FIELD], ticks[:batch_size], grid)
            dt = dt.repeat(rows // batch_size)  # both halves of a guided batch take the same word
            hidden = self.conditioners[0](hidden, dt)
            instrument = self._pick(_guide(self.heads[INSTRUMENT_FIELD](hidden), guidance), masks[INSTRUMENT_FIELD],
                                    do_sample, temperature, top_k, top_p, generator).repeat(rows // batch_size)
            hidden = self.conditioners[1](hidden, instrument)
            velocity = self._pick(_guide(self.heads[VELOCITY_FIELD](hidden), guidance), masks[VELOCITY_FIELD],
                                  do_sample, temperature, top_k, top_p, generator).repeat(rows // batch_size)
            # An <eos> is a word of its own; a shift word carries velocity bin 0, as the tokenizer writes it.
            is_eos = dt == self.config.eos_token_id
            velocity = torch.where(instrument == self.config.shift_index, self.config.num_special_tokens, velocity)
            word = torch.stack([dt, instrument, velocity], dim=1)
            word = torch.where(is_eos[:, None], torch.full_like(word, self.config.eos_token_id), word)
            new_ticks = ticks + torch.where(is_eos, 0, dt - self.config.num_special_tokens)
            past_end = (end_ticks >= 0) & (new_ticks >= end_ticks) & ~is_eos
            keep = ~finished & ~past_end
            words = torch.cat([words, torch.where(keep[:, None], word, pad_word)[:, None]], dim=1)
            ticks = torch.where(keep, new_ticks, ticks)
            num_generated += keep.long()
            finished |= past_end | is_eos
            if finished.all():
                break
        self.train(was_training)
        return GrooveGenerateOutput(words=words[:batch_size], num_generated=num_generated[:batch_size],
                                    prompt_length=prompt_length, end_ticks=end_ticks[:batch_size])

    @torch.inference_mode()
    def generate_consensus(
        self,
        input_words: torch.Tensor | None = None,
        style_ids: torch.Tensor | list[int] | int | None = None,
        num_samples: int | None = None,
        min_share: float | None = None,
        temperature: float | None = None,
        grid_ticks: int | None = None,
        seed: int | None = None,
        **sampling,
    ) -> GrooveGenerateOutput:
        """Consensus decoding (``consensus.py``): ``num_samples`` sampled takes of each prompt, and the hits that at
        least ``min_share`` of them play on the same grid line.

        Args:
            input_words, style_ids: the prompt, as in :meth:`generate`.
            num_samples: sampled takes per prompt, drawn in one batch (default ``config.consensus_samples``).
            min_share: share of the takes that must play a hit for it to be kept (default
                ``config.consensus_min_share``; 0.5 = a majority).
            temperature: sampling temperature of the takes (default ``config.consensus_temperature``).
            grid_ticks: grid on which takes are compared (default ``config.greedy_grid_ticks``, or 16th notes).
            seed: seeds the takes (the same seed gives the same output).
            sampling: the other arguments of :meth:`generate` (``bpm``, ``beats_per_bar``, ``max_bars``,
                ``prompt_ticks``, ``max_new_words``, ``top_k``, ``top_p``, ``allow_eos``).
        Returns:
            :class:`GrooveGenerateOutput`: per prompt, the prompt then the consensus hits (rows padded with
            ``<pad>`` words to one length); ``end_ticks`` as :meth:`generate` gives them.
        """
        num_samples = self.config.consensus_samples if num_samples is None else int(num_samples)
        min_share = self.config.consensus_min_share if min_share is None else float(min_share)
        temperature = self.config.consensus_temperature if temperature is None else float(temperature)
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1 sampled takes (16 is a good start), got {num_samples}")
        if "do_sample" in sampling:
            raise ValueError("generate_consensus always samples its takes; use generate(do_sample=False) for greedy")
        words = self.style_prompt(style_ids) if input_words is None else self._check_words(input_words, "input_words")
        batch_size, prompt_length, _ = words.shape
        grid = int(grid_ticks or self.config.greedy_grid_ticks or self.config.ticks_per_beat // 4)
        adapted = self._adapted_per_prompt(
            "generate_consensus", input_words, sampling.pop("adaptation_steps", None),
            sampling.pop("adaptation_learning_rate", None),
            dict(sampling, num_samples=num_samples, min_share=min_share, temperature=temperature, grid_ticks=grid,
                 seed=seed))
        if adapted is not None:
            return adapted
        repeated = {key: value.repeat_interleave(num_samples, dim=0) if _is_per_row(value, batch_size) else value
                    for key, value in sampling.items()}
        output = self.generate(words.repeat_interleave(num_samples, dim=0), do_sample=True, temperature=temperature,
                               seed=seed, adaptation_steps=0, **repeated)
        take_ticks = word_ticks(output.words, self.config)  # (batch_size * num_samples, num_words)
        prompt_end_ticks = word_ticks(words, self.config)[:, -1].tolist()  # (batch_size,)
        rows = []
        for row in range(batch_size):
            takes = range(row * num_samples, (row + 1) * num_samples)
            hits = consensus_hits([take_hits(output.words[take], take_ticks[take], prompt_length, self.config)
                                   for take in takes], grid, min_share)
            new_words = torch.as_tensor(hits_to_words(*hits, self.config, start_tick=prompt_end_ticks[row]),
                                        device=self.device)
            rows.append(torch.cat([words[row], new_words]))
        num_generated = torch.tensor([len(row) - prompt_length for row in rows], device=self.device)
        return GrooveGenerateOutput(words=_pad_rows(rows, self.config.pad_token_id, self.device),
                                    num_generated=num_generated, prompt_length=prompt_length,
                                    end_ticks=output.end_ticks[::num_samples])

    def _adapted_per_prompt(self, method: str, input_words: torch.Tensor | None, steps: int | None,
                            learning_rate: float | None, options: dict) -> GrooveGenerateOutput | None:
        """Prompt adaptation for :meth:`generate` / :meth:`generate_consensus` (``method``): each prompt of the batch
        continued by its own adapted copy (``adaptation.adapt_to_prompt``) with ``options``, the rows padded to one
        length. ``None`` when adaptation is off (0 steps) or there is no prompt (a style alone)."""
        from .adaptation import adapt_to_prompt

        steps = self.config.adaptation_steps if steps is None else int(steps)
        learning_rate = self.config.adaptation_learning_rate if learning_rate is None else float(learning_rate)
        check_adaptation_settings(steps, learning_rate)
        if steps == 0 or input_words is None:
            return None
        words = self._check_words(input_words, "input_words")
        if words.shape[1] <= 2:  # <bos> <STYLE>: a new groove, nothing to adapt to
            return None
        self._check_ranges(words, "input_words")
        batch_size = words.shape[0]

        outputs = []
        for row in range(batch_size):
            row_options = {key: value[row:row + 1] if _is_per_row(value, batch_size) else value
                           for key, value in options.items()}
            model = adapt_to_prompt(self, words[row:row + 1], steps, learning_rate, bpm=row_options.get("bpm"),
                                    beats_per_bar=row_options.get("beats_per_bar"))
            outputs.append(getattr(model, method)(words[row:row + 1], adaptation_steps=0, **row_options))
        return GrooveGenerateOutput(words=_pad_rows([output.words[0] for output in outputs], self.config.pad_token_id,
                                                    self.device),
                                    num_generated=torch.cat([output.num_generated for output in outputs]),
                                    prompt_length=outputs[0].prompt_length,
                                    end_ticks=torch.cat([output.end_ticks for output in outputs]))

    def _grid_argmax_dt(self, logits: torch.Tensor, allowed: torch.Tensor, ticks: torch.Tensor,
                        grid_ticks: int) -> torch.Tensor:
        """Greedy ``dt`` on a musical grid: ``(batch_size, field_sizes[0])`` logits -> ``(batch_size,)`` dt indices.

        Every allowed ``dt`` lands at ``ticks + dt``, which rounds to a grid line (a multiple of ``grid_ticks`` of
        running time); the probabilities of the ``dt`` values sharing a line add up, ``<eos>`` counts alone. The
        winner's most likely ``dt`` is returned (the drummer's microtiming stays).
        """
        special = self.config.num_special_tokens
        probabilities = logits.float().masked_fill(~allowed, float("-inf")).softmax(dim=-1)
        shifts = torch.arange(probabilities.shape[-1], device=logits.device) - special  # dt of each index
        lines = torch.div(ticks[:, None] + shifts + grid_ticks // 2, grid_ticks, rounding_mode="floor")
        lines = lines - lines[:, special:special + 1]  # 0 = the line nearest to "now"
        groups = torch.where(allowed & (shifts >= 0), lines + 1, 0)  # group 0: <eos> (and nothing else allowed)
        group_mass = torch.zeros_like(probabilities).scatter_add_(1, groups, probabilities)
        best = group_mass.argmax(dim=-1, keepdim=True)  # (batch_size, 1)
        in_best = (groups == best) & allowed
        return probabilities.masked_fill(~in_best, -1.0).argmax(dim=-1)

    @staticmethod
    def _pick(
        logits: torch.Tensor, allowed: torch.Tensor, do_sample: bool, temperature: float, top_k: int, top_p: float,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """One index per row from ``(batch_size, size)`` logits restricted to ``allowed``: argmax, or a top-k /
        top-p filtered sample (``models.sampling.sample_next_code``)."""
        logits = logits.float().masked_fill(~allowed, float("-inf"))
        return sample_next_code(logits, do_sample, temperature, top_k, top_p, generator)


__all__ = [
    "GrooveGenerateOutput",
    "GrooveModel",
    "GrooveOutput",
    "GroovePreTrainedModel",
    "lookback_words",
    "word_ticks",
]
