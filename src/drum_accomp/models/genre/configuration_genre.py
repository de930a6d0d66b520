"""Configuration of the drum genre classifier (drum MIDI compound words -> genre group)."""

from __future__ import annotations

from transformers import PretrainedConfig

ENCODER_TYPES: tuple[str, ...] = ("transformer", "conv")


class DrumGenreClassifierConfig(PretrainedConfig):
    """Hyper-parameters of :class:`DrumGenreClassifier`.

    The input is a window of compound words ``(batch_size, num_words, 3)`` as made by
    ``DrumTokenizer.ids_to_words`` (fields ``dt, instrument, velocity``), plus the position of each word inside
    the bar. Each field has its own embedding; the field embeddings, a beat-position embedding and (for the
    transformer) a word-index embedding are summed, encoded, pooled over the words and mapped to genre logits.

    Args:
        field_sizes (`list[int]`, defaults to ``[217, 34, 56]``): embedding rows per field ``(dt, instrument,
            velocity)``; take ``DrumTokenizer().field_sizes`` (the defaults are the default tokenizer's).
        ticks_per_beat (`int`, defaults to 192): the tokenizer's time resolution, used to turn word positions in
            ticks into beat positions.
        positions_per_beat (`int`, defaults to 12): beat-position resolution, in steps per beat. 12 holds both the
            16th grid (every 3rd step) and the eighth- and 16th-note triplets (every 4th / 2nd step), so straight
            and swung grooves land on different steps.
        beats_per_bar (`int`, defaults to 4): bar length (beats) the position wraps at; windows start on a bar line.
            A 3/4 window wraps after 4 beats too, which only shifts its positions by a beat now and then.
        hidden_size (`int`, defaults to 128): model width ``d``.
        encoder_type (`str`, defaults to ``"transformer"``): ``"transformer"`` (pre-norm encoder layers with
            padding mask) or ``"conv"`` (residual 1-D convolutions over the word sequence).
        num_layers (`int`, defaults to 2): encoder layers (or conv blocks).
        num_heads (`int`, defaults to 4): attention heads (transformer).
        intermediate_size (`int`, defaults to 256): feed-forward width (transformer).
        kernel_size (`int`, defaults to 5): convolution width in words (conv).
        max_words (`int`, defaults to 512): longest window in words; longer inputs are truncated by the caller
            (``predict`` cuts windows to it) and the word-index embedding has this many rows.
        pooling (`str`, defaults to ``"attention"``): ``"mean"`` over unpadded words, or ``"attention"`` (a learned
            score per word, softmax over the unpadded words, weighted sum).
        dropout (`float`, defaults to 0.1): dropout on embeddings, encoder and before the classifier.
        num_tempo_bins (`int`, defaults to 0): tempo embedding size; 0 = no tempo input. The tokenizer's time is
            tempo-relative (ticks per beat), so the tempo itself, strongly tied to genre (punk is fast, hip-hop
            slow), is otherwise lost. Bin ``b = clip(round(tempo_bins_per_octave * log2(bpm / min_tempo)), 0,
            num_tempo_bins - 1)``.
        min_tempo (`float`, defaults to 40.0): tempo (beats per minute) of tempo bin 0.
        tempo_bins_per_octave (`int`, defaults to 8): tempo bins per doubling of the tempo (~9 % apart).
        window_bars (`int`, defaults to 4): bars per window when ``predict`` cuts a whole file.
        hop_bars (`int`, defaults to 2): bars between window starts in ``predict``.
        id2label / label2id: the genre groups (``genres.group_genre`` labels after ``balancing.genre_labels``).
    """

    model_type = "drum_genre_classifier"

    def __init__(
        self,
        field_sizes: list[int] | tuple[int, ...] = (217, 34, 56),
        ticks_per_beat: int = 192,
        positions_per_beat: int = 12,
        beats_per_bar: int = 4,
        hidden_size: int = 128,
        encoder_type: str = "transformer",
        num_layers: int = 2,
        num_heads: int = 4,
        intermediate_size: int = 256,
        kernel_size: int = 5,
        max_words: int = 512,
        pooling: str = "attention",
        dropout: float = 0.1,
        num_tempo_bins: int = 0,
        min_tempo: float = 40.0,
        tempo_bins_per_octave: int = 8,
        window_bars: int = 4,
        hop_bars: int = 2,
        **kwargs,
    ):
        if encoder_type not in ENCODER_TYPES:
            raise ValueError(f"encoder_type must be one of {', '.join(ENCODER_TYPES)}, got {encoder_type!r}")
        if pooling not in ("mean", "attention"):
            raise ValueError(f"pooling must be 'mean' or 'attention', got {pooling!r}")
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by num_heads ({num_heads})")
        if len(field_sizes) != 3:
            raise ValueError(f"field_sizes must give 3 sizes (dt, instrument, velocity), got {field_sizes}; "
                             "pass DrumTokenizer().field_sizes")
        self.field_sizes = [int(size) for size in field_sizes]
        self.ticks_per_beat = int(ticks_per_beat)
        self.positions_per_beat = int(positions_per_beat)
        self.beats_per_bar = int(beats_per_bar)
        self.hidden_size = int(hidden_size)
        self.encoder_type = encoder_type
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.intermediate_size = int(intermediate_size)
        self.kernel_size = int(kernel_size)
        self.max_words = int(max_words)
        self.pooling = pooling
        self.dropout = float(dropout)
        self.num_tempo_bins = int(num_tempo_bins)
        self.min_tempo = float(min_tempo)
        self.tempo_bins_per_octave = int(tempo_bins_per_octave)
        self.window_bars = int(window_bars)
        self.hop_bars = int(hop_bars)
        super().__init__(**kwargs)

    @property
    def num_beat_positions(self) -> int:
        """Rows of the beat-position embedding: ``positions_per_beat * beats_per_bar``."""
        return self.positions_per_beat * self.beats_per_bar

    def tempo_bin(self, bpm: float) -> int:
        """Tempo bin of ``bpm`` beats per minute (see ``num_tempo_bins``); 0 when the model has no tempo input."""
        if self.num_tempo_bins <= 0 or not bpm > 0:
            return 0
        import math

        index = round(self.tempo_bins_per_octave * math.log2(bpm / self.min_tempo))
        return int(min(max(index, 0), self.num_tempo_bins - 1))


__all__ = ["DrumGenreClassifierConfig"]
