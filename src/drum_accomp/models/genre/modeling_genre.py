"""DrumGenreClassifier: a window of drum compound words -> logits over genre groups.

Read top-down: output dataclass, helpers that turn words into model inputs, building blocks, the pre-trained
base, the public model with ``predict``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pretty_midi
import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from ...midi import as_midi
from ...tokenization_drum import DrumTokenizer
from .configuration_genre import DrumGenreClassifierConfig


@dataclass
class DrumGenreClassifierOutput(ModelOutput):
    """Output of :class:`DrumGenreClassifier`.

    Attributes:
        loss: scalar cross-entropy (weighted when ``class_weights`` is given), when ``labels`` are passed.
        logits: ``(batch_size, num_labels)`` unnormalised genre scores.
        pooled: ``(batch_size, hidden_size)`` the pooled window embedding (for tagging / retrieval).
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    pooled: torch.Tensor | None = None


# ----- words -> model inputs ---------------------------------------------------------------------------------------


def beat_positions_from_words(
    tokenizer: DrumTokenizer, words: np.ndarray, config: DrumGenreClassifierConfig,
) -> np.ndarray:
    """Position of each word inside the bar: ``round(beats * positions_per_beat) mod num_beat_positions``.

    ``beats`` is ``tokenizer.word_beats(words)`` (beats since the window start, a bar line), so with the defaults a
    word 2.5 beats into the bar gets position 30 of 48.

    Returns:
        ``(num_words,)`` int64 in ``[0, config.num_beat_positions)``.
    """
    beats = tokenizer.word_beats(words)
    return np.rint(beats * config.positions_per_beat).astype(np.int64) % config.num_beat_positions


def collate_words(
    examples: list[dict], pad_value: int = 0,
) -> dict[str, torch.Tensor]:
    """Pad a list of ``{"input_words": (n, 3), "beat_positions": (n,), ["labels": int]}`` to a batch.

    Returns:
        ``input_words`` ``(batch_size, max_n, 3)`` long (padded with the ``<pad>`` word ``(0, 0, 0)``),
        ``beat_positions`` ``(batch_size, max_n)`` long, ``attention_mask`` ``(batch_size, max_n)`` long, and
        ``tempo_bins`` ``(batch_size,)`` long and ``labels`` ``(batch_size,)`` long when every example has them.
    """
    lengths = [max(len(example["input_words"]), 1) for example in examples]
    batch_size, max_len = len(examples), max(lengths)
    words = torch.full((batch_size, max_len, 3), pad_value, dtype=torch.long)
    positions = torch.zeros((batch_size, max_len), dtype=torch.long)
    mask = torch.zeros((batch_size, max_len), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example["input_words"])
        if n:
            words[row, :n] = torch.as_tensor(np.asarray(example["input_words"]), dtype=torch.long)
            positions[row, :n] = torch.as_tensor(np.asarray(example["beat_positions"]), dtype=torch.long)
        mask[row, :lengths[row]] = 1  # an empty window keeps one <pad> word so pooling is defined
    batch = {"input_words": words, "beat_positions": positions, "attention_mask": mask}
    if all("tempo_bin" in example for example in examples):
        batch["tempo_bins"] = torch.as_tensor([int(example["tempo_bin"]) for example in examples], dtype=torch.long)
    if all("labels" in example for example in examples):
        batch["labels"] = torch.as_tensor([int(example["labels"]) for example in examples], dtype=torch.long)
    return batch


# ----- building blocks ---------------------------------------------------------------------------------------------


class DrumGenreEmbeddings(nn.Module):
    """Sum of one embedding per word field, the beat-position embedding and a word-index embedding."""

    def __init__(self, config: DrumGenreClassifierConfig):
        super().__init__()
        self.fields = nn.ModuleList(nn.Embedding(size, config.hidden_size) for size in config.field_sizes)
        self.beat_position = nn.Embedding(config.num_beat_positions, config.hidden_size)
        self.word_index = nn.Embedding(config.max_words, config.hidden_size)
        self.tempo = nn.Embedding(config.num_tempo_bins, config.hidden_size) if config.num_tempo_bins > 0 else None
        self.norm = nn.LayerNorm(config.hidden_size)
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self, input_words: torch.Tensor, beat_positions: torch.Tensor, tempo_bins: torch.Tensor | None = None,
    ) -> torch.Tensor:
        # (batch_size, num_words, 3) -> (batch_size, num_words, hidden_size)
        hidden_states = sum(embedding(input_words[..., field]) for field, embedding in enumerate(self.fields))
        indices = torch.arange(input_words.shape[1], device=input_words.device)
        hidden_states = hidden_states + self.beat_position(beat_positions) + self.word_index(indices)[None]
        if self.tempo is not None:
            if tempo_bins is None:
                raise ValueError("this classifier was built with a tempo input (num_tempo_bins > 0); pass "
                                 "tempo_bins=(batch_size,) from config.tempo_bin(bpm)")
            # one tempo per window, added to every word: (batch_size, 1, hidden_size)
            hidden_states = hidden_states + self.tempo(tempo_bins)[:, None]
        return self.dropout(self.norm(hidden_states))


class DrumGenreConvBlock(nn.Module):
    """Pre-norm residual block: LayerNorm -> depthwise-separable 1-D conv over words -> GELU -> pointwise."""

    def __init__(self, config: DrumGenreClassifierConfig):
        super().__init__()
        self.norm = nn.LayerNorm(config.hidden_size)
        self.depthwise = nn.Conv1d(config.hidden_size, config.hidden_size, config.kernel_size,
                                   padding=config.kernel_size // 2, groups=config.hidden_size)
        self.pointwise = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # Zero the padding so it does not leak into real words through the kernel.
        residual = hidden_states
        hidden_states = self.norm(hidden_states) * mask[..., None]
        hidden_states = self.depthwise(hidden_states.transpose(1, 2)).transpose(1, 2)
        hidden_states = self.pointwise(nn.functional.gelu(hidden_states))
        return residual + self.dropout(hidden_states)


class DrumGenreEncoder(nn.Module):
    """``config.num_layers`` transformer encoder layers or conv blocks, by ``config.encoder_type``."""

    def __init__(self, config: DrumGenreClassifierConfig):
        super().__init__()
        self.encoder_type = config.encoder_type
        if config.encoder_type == "transformer":
            self.layers = nn.ModuleList(
                nn.TransformerEncoderLayer(config.hidden_size, config.num_heads, config.intermediate_size,
                                           dropout=config.dropout, activation="gelu", batch_first=True,
                                           norm_first=True)
                for _ in range(config.num_layers)
            )
        else:
            self.layers = nn.ModuleList(DrumGenreConvBlock(config) for _ in range(config.num_layers))
        self.norm = nn.LayerNorm(config.hidden_size)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.to(hidden_states.dtype)
        for layer in self.layers:
            if self.encoder_type == "transformer":
                hidden_states = layer(hidden_states, src_key_padding_mask=attention_mask == 0)
            else:
                hidden_states = layer(hidden_states, mask)
        return self.norm(hidden_states)


class DrumGenrePooler(nn.Module):
    """Masked mean, or attention pooling: ``sum_i softmax_i(w . h_i) h_i`` over unpadded words ``i``."""

    def __init__(self, config: DrumGenreClassifierConfig):
        super().__init__()
        self.pooling = config.pooling
        self.score = nn.Linear(config.hidden_size, 1) if config.pooling == "attention" else None

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.bool()
        if self.score is None:
            weights = mask.to(hidden_states.dtype) / mask.sum(dim=1, keepdim=True).clamp(min=1)
        else:
            scores = self.score(hidden_states).squeeze(-1).masked_fill(~mask, torch.finfo(hidden_states.dtype).min)
            weights = scores.softmax(dim=-1)
        # (batch_size, num_words) x (batch_size, num_words, hidden_size) -> (batch_size, hidden_size)
        return torch.einsum("bn,bnh->bh", weights, hidden_states)


# ----- models ------------------------------------------------------------------------------------------------------


class DrumGenreClassifierPreTrainedModel(PreTrainedModel):
    config_class = DrumGenreClassifierConfig
    base_model_prefix = "drum_genre"
    main_input_name = "input_words"

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class DrumGenreClassifier(DrumGenreClassifierPreTrainedModel):
    """Drum MIDI window -> genre group. Labels live in ``config.id2label``.

    ``forward`` takes tokenized windows; :meth:`predict` takes a whole MIDI file, cuts it into bar windows of
    ``config.window_bars`` bars (hop ``config.hop_bars``) and averages the window logits.
    """

    def __init__(self, config: DrumGenreClassifierConfig):
        super().__init__(config)
        self.embeddings = DrumGenreEmbeddings(config)
        self.encoder = DrumGenreEncoder(config)
        self.pooler = DrumGenrePooler(config)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_words: torch.Tensor,
        beat_positions: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        tempo_bins: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        class_weights: torch.Tensor | None = None,
        **kwargs,
    ) -> DrumGenreClassifierOutput:
        """Genre logits of a batch of windows.

        Args:
            input_words: ``(batch_size, num_words, 3)`` per-field word indices (``DrumTokenizer.ids_to_words``),
                ``num_words <= config.max_words``.
            beat_positions: ``(batch_size, num_words)`` positions in the bar (``beat_positions_from_words``);
                zeros when omitted.
            attention_mask: ``(batch_size, num_words)``, 1 for words, 0 for padding; all ones when omitted.
            tempo_bins: ``(batch_size,)`` window tempo bins (``config.tempo_bin``); required when
                ``config.num_tempo_bins > 0``, ignored otherwise.
            labels: ``(batch_size,)`` genre ids, for the loss.
            class_weights: ``(num_labels,)`` cross-entropy weights (the class-balanced loss).
        """
        if input_words.dim() != 3 or input_words.shape[-1] != 3:
            raise ValueError(f"input_words must be (batch_size, num_words, 3), got {tuple(input_words.shape)}; "
                             "build them with DrumTokenizer.ids_to_words")
        if input_words.shape[1] > self.config.max_words:
            raise ValueError(f"{input_words.shape[1]} words exceed config.max_words={self.config.max_words}; "
                             "cut the window shorter")
        if beat_positions is None:
            beat_positions = torch.zeros(input_words.shape[:2], dtype=torch.long, device=input_words.device)
        if attention_mask is None:
            attention_mask = torch.ones(input_words.shape[:2], dtype=torch.long, device=input_words.device)
        hidden_states = self.embeddings(input_words, beat_positions, tempo_bins)
        hidden_states = self.encoder(hidden_states, attention_mask)
        pooled = self.pooler(hidden_states, attention_mask)
        logits = self.classifier(self.dropout(pooled))
        loss = None
        if labels is not None:
            weight = None if class_weights is None else class_weights.to(logits.dtype)
            loss = nn.functional.cross_entropy(logits.float(), labels, weight=weight)
        return DrumGenreClassifierOutput(loss=loss, logits=logits, pooled=pooled)

    @torch.no_grad()
    def window_logits(
        self,
        midi: str | os.PathLike | pretty_midi.PrettyMIDI,
        tokenizer: DrumTokenizer | None = None,
        batch_size: int = 32,
    ) -> torch.Tensor:
        """Logits of every bar window of a MIDI file, ``(num_windows, num_labels)`` float32.

        Raises:
            ValueError: when the file has no drums or is shorter than one bar.
        """
        from ...evaluation.genre import midi_windows  # evaluation imports models, not the other way at load time

        tokenizer = tokenizer or DrumTokenizer()
        examples = midi_windows(as_midi(midi), tokenizer, self.config)
        if not examples:
            raise ValueError("no bar window with drum hits in this MIDI file; the genre classifier needs at least "
                             "one bar of drums")
        self.eval()
        logits = []
        for start in range(0, len(examples), batch_size):
            batch = collate_words(examples[start:start + batch_size])
            batch = {key: value.to(self.device) for key, value in batch.items()}
            logits.append(self(**batch).logits.float().cpu())
        return torch.cat(logits)

    def predict(
        self, midi: str | os.PathLike | pretty_midi.PrettyMIDI, tokenizer: DrumTokenizer | None = None,
    ) -> str:
        """The genre group of a drum MIDI file: argmax of the window logits averaged over the file."""
        logits = self.window_logits(midi, tokenizer).mean(dim=0)
        return self.config.id2label[int(logits.argmax())]


__all__ = [
    "DrumGenreClassifier", "DrumGenreClassifierOutput", "DrumGenreClassifierPreTrainedModel",
    "beat_positions_from_words", "collate_words",
]
