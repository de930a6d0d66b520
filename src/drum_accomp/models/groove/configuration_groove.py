"""Configuration of the groove model (a style-conditioned causal LM over drum compound words)."""

from __future__ import annotations

import math

from transformers import PretrainedConfig

from ...genres import UNKNOWN_GENRE


def check_adaptation_settings(steps: int, learning_rate: float) -> None:
    """Raise unless prompt adaptation's ``steps`` >= 0 (0 = off) and ``learning_rate`` > 0: the one check of the
    config, ``GrooveModel.generate`` and ``adaptation.adapt_to_prompt``."""
    if int(steps) < 0 or not learning_rate > 0:
        raise ValueError(f"need adaptation_steps >= 0 (0 = off) and adaptation_learning_rate > 0, got {steps} and "
                         f"{learning_rate}")


class GrooveConfig(PretrainedConfig):
    """Hyper-parameters of :class:`GrooveModel`.

    The input is a sequence of compound words ``(batch_size, num_words, 3)`` as made by
    ``DrumTokenizer.ids_to_words`` (fields ``dt, instrument, velocity``; a special token ``s`` is the word
    ``(s, s, s)``), starting ``<bos> <STYLE=...>``. The running time of each word (cumulated ``dt``, in ticks) gives
    its place in the bar; the model also sees, for each word, what came next one and two bars earlier at the same
    place (the *lookback* words, a copy path: grooves repeat bar after bar).

    Vocabulary layout (take these from the tokenizer: ``GrooveConfig.from_tokenizer(tokenizer, ...)``):

    Args:
        field_sizes (`list[int]`, defaults to ``[217, 34, 56]``): rows per field ``(dt, instrument, velocity)``,
            ``DrumTokenizer.field_sizes``: the special tokens then the field's values.
        num_special_tokens (`int`, defaults to 24): ids ``0 .. num_special_tokens - 1`` are specials (``<pad>``,
            ``<bos>``, ``<eos>``, ``<bar>``, the STYLE tokens); field value ``k`` has index ``num_special_tokens + k``.
        num_drum_classes (`int`, defaults to 9): drum classes; instrument value ``num_drum_classes`` is the
            time-shift word.
        ticks_per_beat (`int`, defaults to 192): the tokenizer's time resolution (ticks per beat).
        max_dt (`int`, defaults to 192): largest ``dt`` of one word, in ticks; longer gaps are time-shift words
            ``(max_dt, shift, velocity bin 0)``.
        pad_token_id / bos_token_id / eos_token_id (`int`, defaults to 0 / 1 / 2): the tokenizer's special ids.

    Model:
        hidden_size (`int`, defaults to 256): width ``d``.
        num_hidden_layers (`int`, defaults to 4): decoder layers.
        num_attention_heads (`int`, defaults to 4): heads per layer (``hidden_size`` must divide by it).
        intermediate_size (`int`, defaults to 768): width of the gated (SwiGLU) feed-forward.
        field_intermediate_size (`int`, defaults to 256): width of the small feed-forward that conditions a field's
            head on the fields sampled before it (CP-Transformer style).
        hidden_act (`str`, defaults to ``"silu"``): feed-forward activation.
        mlp_bias (`bool`, defaults to `False`): biases in the feed-forward layers.
        rms_norm_eps (`float`, defaults to 1e-6): RMSNorm epsilon.
        dropout (`float`, defaults to 0.1): dropout on the embeddings and the residual branches.
        attention_dropout (`float`, defaults to 0.0): dropout on attention weights (training only).
        initializer_range (`float`, defaults to 0.02): std of the normal weight initialisation.

    Musical time:
        beats_per_bar (`int`, defaults to 4): bar length in beats when the caller gives none (``beats_per_bar=``
            in ``forward`` / ``generate`` takes one per sequence: 3 for 3/4, 2 for 6/8 whose beat is a dotted
            quarter as in pretty_midi).
        max_beats_per_bar (`int`, defaults to 12): rows of the beat-in-bar embedding; longer bars wrap.
        positions_per_beat (`int`, defaults to 48): resolution of the position-in-beat embedding, in steps per beat
            (48 = 4 ticks at 192 ticks per beat: holds 16ths, triplets and the drummer's microtiming).
        rope_unit_ticks (`int`, defaults to 48): attention is rotary (RoPE) in *musical time*: a word's rotary
            position is its running time in units of this many ticks (48 = a 16th note), so attention scores
            depend on how far apart two words are in 16ths, not in words.
        rope_theta (`float`, defaults to 10000.0): RoPE base.
        lookback_bars (`list[int]`, defaults to ``[1, 2]``): the copy path. For each entry ``k``, every word gets
            the embedding of the word that followed the same place ``k`` bars earlier (``modeling_groove.lookback_words``:
            after the same-class hit nearest to ``k`` bars back, else the next hit after that place re-timed from now)
            plus an embedding of which rule found it (none during the first ``k`` bars). The model learns when to
            copy; generation never replays.
        lookback_tolerance_ticks (`int`, defaults to 24): how far (ticks) a same-class hit ``k`` bars back may be
            from the current hit's place to count as its counterpart (24 = a 32nd note: absorbs microtiming).

    Tempo:
        num_tempo_bins (`int`, defaults to 24): tempo embedding rows, plus one "unknown tempo" row; 0 = no tempo
            input. Bin ``b = clip(round(tempo_bins_per_octave * log2(bpm / min_tempo)), 0, num_tempo_bins - 1)``.
            Ticks are tempo-relative, so the tempo (a 16th-note hi-hat at 70 BPM, 8ths at 160) is otherwise lost.
        min_tempo (`float`, defaults to 40.0): tempo of bin 0, beats per minute.
        tempo_bins_per_octave (`int`, defaults to 8): bins per doubling of the tempo (~9 % apart).

    Generation:
        max_context_words (`int`, defaults to 512): longest context in words; ``generate`` keeps
            ``<bos> <STYLE>`` and the latest words when a sequence grows past it.
        greedy_grid_ticks (`int`, defaults to 0): greedy decoding of ``dt`` on a musical grid of this many ticks
            (48 = 16ths): the grid line whose neighbourhood holds the most probability wins, then the most likely
            ``dt`` near it. A played groove spreads the next hit over many ticks around one grid line (microtiming),
            so a plain argmax over ticks prefers a far, tightly-timed event (or ``<eos>``) and writes too few hits.
            0 = plain argmax. Sampling is unaffected.
        consensus_samples (`int`, defaults to 16): sampled takes per prompt of consensus decoding
            (``GrooveModel.generate_consensus``, ``consensus.py``): the hits most takes play are kept.
        consensus_min_share (`float`, defaults to 0.5): share of the takes, in ``(0, 1]``, that must play a hit on
            the same grid line for consensus decoding to keep it.
        consensus_temperature (`float`, defaults to 1.0): sampling temperature of the consensus takes (lower = takes
            closer to the model's most likely groove).
        adaptation_steps (`int`, defaults to 0): prompt adaptation (``adaptation.py``, dynamic evaluation): before
            continuing a prompt, ``generate`` / ``generate_consensus`` fit a copy of the model to it with this many
            Adam steps on its next-word loss; 0 = off. A new groove from a style alone is never adapted.
        adaptation_learning_rate (`float`, defaults to 1e-4): Adam's learning rate of prompt adaptation.
        style_guidance_scale (`float`, defaults to 1.0): ``generate``'s default classifier-free guidance for a new
            groove from a style alone (a prompt of ``<bos> <STYLE>``): logits ``unconditional + scale * (conditional
            - unconditional)``, the unconditional ones under ``<STYLE=unknown>``; 1 = off. Meaningful for a model
            trained with style dropout (``train_groove.py``). A continuation defaults to no guidance: its prompt
            carries the style, and guidance pulls it away from the prompt (measured: README, groove model).
        style_temperature (`float`, defaults to 1.0): ``generate``'s default sampling temperature for a new groove
            from a style alone (a continuation defaults to 1.0).
        unknown_style_id (`int`, defaults to 23): the tokenizer's ``<STYLE=unknown>`` id (the last special token of
            the default vocabulary; ``from_tokenizer`` sets it), the unconditional style of guidance.
    """

    model_type = "drum_accomp_groove"

    def __init__(
        self,
        field_sizes: list[int] | tuple[int, ...] = (217, 34, 56),
        num_special_tokens: int = 24,
        num_drum_classes: int = 9,
        ticks_per_beat: int = 192,
        max_dt: int = 192,
        hidden_size: int = 256,
        num_hidden_layers: int = 4,
        num_attention_heads: int = 4,
        intermediate_size: int = 768,
        field_intermediate_size: int = 256,
        hidden_act: str = "silu",
        mlp_bias: bool = False,
        rms_norm_eps: float = 1e-6,
        dropout: float = 0.1,
        attention_dropout: float = 0.0,
        initializer_range: float = 0.02,
        beats_per_bar: int = 4,
        max_beats_per_bar: int = 12,
        positions_per_beat: int = 48,
        rope_unit_ticks: int = 48,
        rope_theta: float = 10000.0,
        lookback_bars: list[int] | tuple[int, ...] = (1, 2),
        lookback_tolerance_ticks: int = 24,
        num_tempo_bins: int = 24,
        min_tempo: float = 40.0,
        tempo_bins_per_octave: int = 8,
        max_context_words: int = 512,
        greedy_grid_ticks: int = 0,
        consensus_samples: int = 16,
        consensus_min_share: float = 0.5,
        consensus_temperature: float = 1.0,
        adaptation_steps: int = 0,
        adaptation_learning_rate: float = 1e-4,
        style_guidance_scale: float = 1.0,
        style_temperature: float = 1.0,
        unknown_style_id: int = 23,
        pad_token_id: int = 0,
        bos_token_id: int = 1,
        eos_token_id: int = 2,
        **kwargs,
    ):
        if len(field_sizes) != 3:
            raise ValueError(f"field_sizes must give 3 sizes (dt, instrument, velocity), got {list(field_sizes)}; "
                             "pass DrumTokenizer().field_sizes")
        if hidden_size % num_attention_heads or (hidden_size // num_attention_heads) % 2:
            raise ValueError(f"hidden_size ({hidden_size}) must divide into num_attention_heads "
                             f"({num_attention_heads}) heads of even size (rotary embeddings rotate pairs)")
        if field_sizes[0] != num_special_tokens + max_dt + 1:
            raise ValueError(f"field_sizes[0] ({field_sizes[0]}) must be num_special_tokens + max_dt + 1 = "
                             f"{num_special_tokens + max_dt + 1}; build the config with GrooveConfig.from_tokenizer")
        if field_sizes[1] != num_special_tokens + num_drum_classes + 1:
            raise ValueError(f"field_sizes[1] ({field_sizes[1]}) must be num_special_tokens + num_drum_classes + 1 "
                             f"(the shift word) = {num_special_tokens + num_drum_classes + 1}")
        if any(int(k) < 1 for k in lookback_bars):
            raise ValueError(f"lookback_bars must hold positive bar counts, got {list(lookback_bars)}")
        for name, value in (("ticks_per_beat", ticks_per_beat), ("positions_per_beat", positions_per_beat),
                            ("rope_unit_ticks", rope_unit_ticks), ("beats_per_bar", beats_per_bar),
                            ("max_beats_per_bar", max_beats_per_bar), ("max_context_words", max_context_words)):
            if int(value) < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.field_sizes = [int(size) for size in field_sizes]
        self.num_special_tokens = int(num_special_tokens)
        self.num_drum_classes = int(num_drum_classes)
        self.ticks_per_beat = int(ticks_per_beat)
        self.max_dt = int(max_dt)
        self.hidden_size = int(hidden_size)
        self.num_hidden_layers = int(num_hidden_layers)
        self.num_attention_heads = int(num_attention_heads)
        self.intermediate_size = int(intermediate_size)
        self.field_intermediate_size = int(field_intermediate_size)
        self.hidden_act = hidden_act
        self.mlp_bias = bool(mlp_bias)
        self.rms_norm_eps = float(rms_norm_eps)
        self.dropout = float(dropout)
        self.attention_dropout = float(attention_dropout)
        self.initializer_range = float(initializer_range)
        self.beats_per_bar = int(beats_per_bar)
        self.max_beats_per_bar = int(max_beats_per_bar)
        self.positions_per_beat = int(positions_per_beat)
        self.rope_unit_ticks = int(rope_unit_ticks)
        self.rope_theta = float(rope_theta)
        self.lookback_bars = [int(k) for k in lookback_bars]
        self.lookback_tolerance_ticks = int(lookback_tolerance_ticks)
        self.num_tempo_bins = int(num_tempo_bins)
        self.min_tempo = float(min_tempo)
        self.tempo_bins_per_octave = int(tempo_bins_per_octave)
        self.max_context_words = int(max_context_words)
        if int(greedy_grid_ticks) < 0:
            raise ValueError(f"greedy_grid_ticks must be >= 0 (0 = plain argmax), got {greedy_grid_ticks}")
        self.greedy_grid_ticks = int(greedy_grid_ticks)
        if int(consensus_samples) < 1 or not 0 < consensus_min_share <= 1 or not consensus_temperature > 0:
            raise ValueError(f"need consensus_samples >= 1, consensus_min_share in (0, 1] and consensus_temperature > "
                             f"0, got {consensus_samples}, {consensus_min_share} and {consensus_temperature}")
        self.consensus_samples = int(consensus_samples)
        self.consensus_min_share = float(consensus_min_share)
        self.consensus_temperature = float(consensus_temperature)
        check_adaptation_settings(adaptation_steps, adaptation_learning_rate)
        self.adaptation_steps = int(adaptation_steps)
        self.adaptation_learning_rate = float(adaptation_learning_rate)
        if (not style_guidance_scale > 0 or not style_temperature > 0
                or not 0 <= int(unknown_style_id) < num_special_tokens):
            raise ValueError(f"need style_guidance_scale > 0 (1 = off), style_temperature > 0 and unknown_style_id a "
                             f"special token id (< {num_special_tokens}), got {style_guidance_scale}, "
                             f"{style_temperature} and {unknown_style_id}")
        self.style_guidance_scale = float(style_guidance_scale)
        self.style_temperature = float(style_temperature)
        self.unknown_style_id = int(unknown_style_id)
        kwargs.setdefault("is_decoder", True)
        super().__init__(pad_token_id=pad_token_id, bos_token_id=bos_token_id, eos_token_id=eos_token_id, **kwargs)

    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> GrooveConfig:
        """A config whose vocabulary layout matches ``tokenizer`` (a ``DrumTokenizer``); ``kwargs`` set the rest."""
        return cls(field_sizes=list(tokenizer.field_sizes), num_special_tokens=tokenizer.num_special_tokens,
                   num_drum_classes=tokenizer.shift_instrument, ticks_per_beat=tokenizer.ticks_per_beat,
                   max_dt=tokenizer.max_dt, pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                   eos_token_id=tokenizer.eos_token_id, unknown_style_id=tokenizer.style_id(UNKNOWN_GENRE), **kwargs)

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.hidden_size // self.num_attention_heads

    @property
    def shift_index(self) -> int:
        """Instrument-field index of the time-shift word."""
        return self.num_special_tokens + self.num_drum_classes

    def tempo_bin(self, bpm: float | None) -> int:
        """Tempo bin of ``bpm`` beats per minute; ``num_tempo_bins`` (the "unknown" row) for ``None`` / NaN / <= 0."""
        if bpm is None or not math.isfinite(bpm) or bpm <= 0:
            return self.num_tempo_bins
        index = round(self.tempo_bins_per_octave * math.log2(bpm / self.min_tempo))
        return int(min(max(index, 0), self.num_tempo_bins - 1))


__all__ = ["GrooveConfig", "check_adaptation_settings"]
