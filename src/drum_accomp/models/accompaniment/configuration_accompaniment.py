"""Configuration of the drum accompaniment model (backing codes + beat positions -> drum codes + drum hits)."""

from __future__ import annotations

from transformers import PretrainedConfig

from ...genres import UNKNOWN_GENRE, style_vocabulary
from ...midi import NUM_DRUM_CLASSES

HIT_SOURCES = ("decoder", "backing")
"""Heads that can write the MIDI of ``generate`` (``DrumAccompanimentConfig.hit_source``)."""


class DrumAccompanimentConfig(PretrainedConfig):
    """Hyper-parameters of :class:`DrumAccompanimentModel`.

    A *code* is one code of the drum VQ-VAE (``frames_per_code`` mel frames: 40 ms at x4 and 100 frames/s). A
    decoder *step* holds ``codes_per_step`` consecutive codes: with 2 the decoder runs at 12.5 steps/s instead of
    25, which halves the sequential work of generation (about 1.5 ms per step on the reference CPU at 25 steps/s
    is the budget, and a 4-layer d=256 step costs more). The codes of a step are predicted jointly: the output is
    one of ``drum_codebook_size ** codes_per_step`` step tokens, so no independence between them is assumed.

    The encoder reads a window of backing codes with their beat positions (the embeddings of a step's codes
    are summed); the decoder predicts each step's drum codes from the steps before it, attends to the whole
    encoded window (cross-attention) and gets the encoder state of its own step added to its input (the *aligned*
    state: a decoder cannot get by without the backing when the backing of the step it predicts is in its
    input). A hit head predicts, per code and drum class, whether that class is hit, with what velocity and where
    inside the code's 40 ms.

    Decoder input tokens (one per code slot of a step, embeddings summed): ``0 .. drum_codebook_size - 1`` are
    drum codes, ``mask_token_id`` replaces a past code (input dropout during training), and one start token per
    genre (``genre_token_id(genre)``) fills the first step of every window.

    Args:
        backing_codebook_size (`int`, defaults to 64): codes of the backing VQ-VAE (``configs/vqvae_backing.json``).
        drum_codebook_size (`int`, defaults to 64): codes of the drum VQ-VAE (``configs/vqvae_drums.json``).
        num_beat_positions (`int`, defaults to 33): beat-position vocabulary of
            ``BeatAlignedMelFeatureExtractor`` (positions in the bar at 4 subdivisions per beat, up to 8 beats,
            plus the unknown position 32 for steps outside the tracked beats).
        genre_vocabulary (`list[str]`, defaults to ``genres.style_vocabulary()``): genre names, one start token
            each; must contain ``"unknown"`` (used when no genre is given, and for genre dropout).
        hidden_size (`int`, defaults to 256): model width ``d`` of encoder and decoder.
        encoder_layers (`int`, defaults to 4): bidirectional transformer layers over the backing window.
        decoder_layers (`int`, defaults to 4): causal transformer layers (self-attention, cross-attention, MLP).
        num_attention_heads (`int`, defaults to 4): heads of every attention; ``hidden_size`` must divide by it.
        intermediate_size (`int`, defaults to 1024): width of the feed-forward layers.
        dropout (`float`, defaults to 0.1): dropout on embeddings, attention weights and residual branches.
        max_steps (`int`, defaults to 128): context of both encoder and decoder, in steps (128 steps of 2 codes =
            256 codes = 1024 mel frames = 10.24 s); also the number of learned position embeddings. ``generate``
            handles longer songs with overlapping windows of this length.
        codes_per_step (`int`, defaults to 2): drum (and backing) codes per decoder step; 1 = one step per code.
            The output vocabulary is ``drum_codebook_size ** codes_per_step`` (4096 for 2 x 64 codes).
        frames_per_code (`int`, defaults to 4): mel frames per code (both VQ-VAEs' ``downsample_factor``).
        frame_rate (`float`, defaults to 100.0): mel frames per second (16 kHz / 160-sample hop).
        num_drum_classes (`int`, defaults to 9): drum classes of the hit head (``midi.DRUM_CLASSES``).
        aux_loss_weight (`float`, defaults to 1.0): weight of the hit loss added to the drum-code cross-entropy.
        hit_pos_weight (`float`, defaults to 4.0): weight of the positive (hit) cells in the hit-flag binary
            cross-entropy; hits are sparse (about 3 % of step x class cells), so an unweighted loss under-predicts.
        hit_threshold (`float`, defaults to 0.5): hit probability above which a step / class cell becomes a MIDI hit.
        backing_hit_loss_weight (`float`, defaults to 0.0): weight of a second hit loss, on a *backing hit head* that
            reads the encoder state alone (backing + beat positions, no drum codes); 0 = no such head. It makes the
            encoder carry what the drums do at each step, which the decoder then gets through its aligned input.
        hit_source (`str`, defaults to ``"decoder"``): which head writes the MIDI of :meth:`generate`:
            ``"decoder"`` (the hit head on the generated codes) or ``"backing"`` (the backing hit head: every step's
            hits predicted from the whole encoded window at once, so an early wrong code cannot derail them; needs
            ``backing_hit_loss_weight > 0``).
        hit_peak_window (`int`, defaults to 0): peak picking of the hits ``generate`` writes: a cell can be hit only
            if its probability is the largest of its class within ``hit_peak_window`` codes on either side (one hit
            per onset where the probability spreads over neighbouring codes); 0 = off.
        hit_sampling_temperature (`float`, defaults to 0.25): with ``hit_source="backing"`` and sampling, how far
            from the threshold a cell's decision may flip (``DrumAccompanimentModel.generate``); scaled by the
            sampling ``temperature``.
        hit_genre_ensemble (`bool`, defaults to False): with ``hit_source="backing"``, a song without a genre
            (``unknown``) gets the mean of the backing hit head's probabilities (hit, velocity, offset) under every
            genre token instead of those under ``unknown`` alone: an ensemble over the styles the model was trained
            with (``unknown`` was seen in only ``genre_dropout`` of the training windows). Costs one encoder pass
            per genre.
        hit_bar_smoothing (`float`, defaults to 0.0): drums repeat from bar to bar: each cell's hit probability is
            blended with the mean of the same place in the ``hit_bar_smoothing_bars`` bars before and after it
            (bars from the beat positions), with this weight in ``[0, 1]``, before the hits are decided
            (``bar_smoothing.py``); 0 = off. Decoding only.
        hit_bar_smoothing_bars (`int`, defaults to 4): bars looked at on each side by ``hit_bar_smoothing``.
        hit_bar_smoothing_tolerance (`int`, defaults to 1): ``hit_bar_smoothing`` takes the largest probability
            within this many codes of the matching place (bar starts are known to a code).
        backing_mel_bins (`int`, defaults to 0): mel bands of the backing's log-mels the encoder hears beside the
            backing codes (80 = the backing VQ-VAE's input); 0 = codes only. A step's ``codes_per_step *
            frames_per_code`` mel frames (normalized with ``backing_mel_mean`` / ``backing_mel_std``) are flattened
            and projected into the step's input, as a patch embedding: the 64 backing codes keep the sound's kind,
            the mels keep its onsets inside the 40 ms of a code. The projection starts at zero, so a model given
            mels when fine-tuned from a codes-only checkpoint starts out as that checkpoint.
        backing_mel_masks (`int`, defaults to 0): in training, this many frequency masks and this many time masks per
            window on the backing mels (SpecAugment, Park et al. 2019), each up to ``backing_mel_mask_bands`` bands
            / ``backing_mel_mask_frames`` frames wide, set to the mels' mean; 0 = none.
        backing_mel_mask_bands (`int`, defaults to 10), backing_mel_mask_frames (`int`, defaults to 20): the widest
            masks.
        backing_mel_mean (`float`, defaults to -4.2886), backing_mel_std (`float`, defaults to 3.6784): normalization
            of the backing log-mels (those of the backing VQ-VAE).
        decoder_input_dropout (`float`, defaults to 0.1): probability, in training, that a past drum code in the
            decoder input is replaced by ``mask_token_id``; the decoder then has to lean on the backing.
        genre_dropout (`float`, defaults to 0.2): probability, in training, that a window's genre is replaced by
            ``"unknown"``, so the model also works without a genre.
        backing_code_dropout (`float`, defaults to 0.0): probability, in training, that a backing code is replaced
            by a random code: the model learns from the backing's shape more than from the exact codes of the
            training songs (a regularizer against memorising songs).
        layer_norm_eps (`float`, defaults to 1e-5): epsilon of the layer norms.
        initializer_range (`float`, defaults to 0.02): standard deviation of the normal weight initialisation.
    """

    model_type = "drum_accomp_accompaniment"

    def __init__(
        self,
        backing_codebook_size: int = 64,
        drum_codebook_size: int = 64,
        num_beat_positions: int = 33,
        genre_vocabulary: list[str] | None = None,
        hidden_size: int = 256,
        encoder_layers: int = 4,
        decoder_layers: int = 4,
        num_attention_heads: int = 4,
        intermediate_size: int = 1024,
        dropout: float = 0.1,
        max_steps: int = 128,
        codes_per_step: int = 2,
        frames_per_code: int = 4,
        frame_rate: float = 100.0,
        num_drum_classes: int = NUM_DRUM_CLASSES,
        aux_loss_weight: float = 1.0,
        hit_pos_weight: float = 4.0,
        hit_threshold: float = 0.5,
        backing_hit_loss_weight: float = 0.0,
        hit_source: str = "decoder",
        hit_sampling_temperature: float = 0.25,
        hit_peak_window: int = 0,
        hit_genre_ensemble: bool = False,
        hit_bar_smoothing: float = 0.0,
        hit_bar_smoothing_bars: int = 4,
        hit_bar_smoothing_tolerance: int = 1,
        backing_mel_bins: int = 0,
        backing_mel_masks: int = 0,
        backing_mel_mask_bands: int = 10,
        backing_mel_mask_frames: int = 20,
        backing_mel_mean: float = -4.2886,
        backing_mel_std: float = 3.6784,
        decoder_input_dropout: float = 0.1,
        genre_dropout: float = 0.2,
        backing_code_dropout: float = 0.0,
        layer_norm_eps: float = 1e-5,
        initializer_range: float = 0.02,
        **kwargs,
    ):
        genre_vocabulary = list(style_vocabulary() if genre_vocabulary is None else genre_vocabulary)
        if UNKNOWN_GENRE not in genre_vocabulary:
            raise ValueError(f"genre_vocabulary must contain {UNKNOWN_GENRE!r} (the no-genre token), got "
                             f"{genre_vocabulary}")
        if hidden_size % num_attention_heads:
            raise ValueError(f"hidden_size={hidden_size} must be a multiple of num_attention_heads="
                             f"{num_attention_heads}")
        for name, value in (("decoder_input_dropout", decoder_input_dropout), ("genre_dropout", genre_dropout),
                            ("backing_code_dropout", backing_code_dropout),
                            ("dropout", dropout), ("hit_threshold", hit_threshold)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
        if hit_source not in HIT_SOURCES:
            raise ValueError(f"hit_source must be one of {HIT_SOURCES}, got {hit_source!r}")
        if hit_source == "backing" and backing_hit_loss_weight <= 0:
            raise ValueError("hit_source='backing' needs the backing hit head: set backing_hit_loss_weight > 0 "
                             f"(got {backing_hit_loss_weight})")
        if max_steps < 2:
            raise ValueError(f"max_steps must be at least 2 steps, got {max_steps}")
        if codes_per_step < 1 or drum_codebook_size ** codes_per_step > 65536:
            raise ValueError(f"codes_per_step must be >= 1 with drum_codebook_size ** codes_per_step <= 65536 (the "
                             f"output vocabulary), got {codes_per_step} with {drum_codebook_size} codes")
        self.backing_codebook_size = int(backing_codebook_size)
        self.drum_codebook_size = int(drum_codebook_size)
        self.num_beat_positions = int(num_beat_positions)
        self.genre_vocabulary = genre_vocabulary
        self.hidden_size = int(hidden_size)
        self.encoder_layers = int(encoder_layers)
        self.decoder_layers = int(decoder_layers)
        self.num_attention_heads = int(num_attention_heads)
        self.intermediate_size = int(intermediate_size)
        self.dropout = float(dropout)
        self.max_steps = int(max_steps)
        self.codes_per_step = int(codes_per_step)
        self.frames_per_code = int(frames_per_code)
        self.frame_rate = float(frame_rate)
        self.num_drum_classes = int(num_drum_classes)
        self.aux_loss_weight = float(aux_loss_weight)
        self.hit_pos_weight = float(hit_pos_weight)
        self.hit_threshold = float(hit_threshold)
        self.backing_hit_loss_weight = float(backing_hit_loss_weight)
        self.hit_source = str(hit_source)
        if hit_sampling_temperature <= 0:
            raise ValueError(f"hit_sampling_temperature must be > 0, got {hit_sampling_temperature}")
        self.hit_sampling_temperature = float(hit_sampling_temperature)
        if hit_peak_window < 0:
            raise ValueError(f"hit_peak_window must be >= 0 codes (0 = no peak picking), got {hit_peak_window}")
        self.hit_peak_window = int(hit_peak_window)
        self.hit_genre_ensemble = bool(hit_genre_ensemble)
        if not 0.0 <= hit_bar_smoothing <= 1.0:
            raise ValueError(f"hit_bar_smoothing must be a weight in [0, 1] (0 = off), got {hit_bar_smoothing}")
        if hit_bar_smoothing_bars < 1 or hit_bar_smoothing_tolerance < 0:
            raise ValueError(f"hit_bar_smoothing_bars must be >= 1 and hit_bar_smoothing_tolerance >= 0 codes, got "
                             f"{hit_bar_smoothing_bars} and {hit_bar_smoothing_tolerance}")
        self.hit_bar_smoothing = float(hit_bar_smoothing)
        self.hit_bar_smoothing_bars = int(hit_bar_smoothing_bars)
        self.hit_bar_smoothing_tolerance = int(hit_bar_smoothing_tolerance)
        if int(backing_mel_bins) < 0 or not backing_mel_std > 0:
            raise ValueError(f"backing_mel_bins must be >= 0 (0 = codes only) and backing_mel_std > 0, got "
                             f"{backing_mel_bins} and {backing_mel_std}")
        if min(int(backing_mel_masks), int(backing_mel_mask_bands), int(backing_mel_mask_frames)) < 0:
            raise ValueError(f"backing_mel_masks, backing_mel_mask_bands and backing_mel_mask_frames must be >= 0 "
                             f"(0 = no masks), got {backing_mel_masks}, {backing_mel_mask_bands} and "
                             f"{backing_mel_mask_frames}")
        self.backing_mel_bins = int(backing_mel_bins)
        self.backing_mel_masks = int(backing_mel_masks)
        self.backing_mel_mask_bands = int(backing_mel_mask_bands)
        self.backing_mel_mask_frames = int(backing_mel_mask_frames)
        self.backing_mel_mean = float(backing_mel_mean)
        self.backing_mel_std = float(backing_mel_std)
        self.decoder_input_dropout = float(decoder_input_dropout)
        self.genre_dropout = float(genre_dropout)
        self.backing_code_dropout = float(backing_code_dropout)
        self.layer_norm_eps = float(layer_norm_eps)
        self.initializer_range = float(initializer_range)
        super().__init__(**kwargs)

    # ----- derived values ----------------------------------------------------------------------------------------

    @property
    def head_dim(self) -> int:
        """Width of one attention head: ``hidden_size // num_attention_heads``."""
        return self.hidden_size // self.num_attention_heads

    @property
    def code_seconds(self) -> float:
        """Duration of one code in seconds: ``frames_per_code / frame_rate`` (0.04 s)."""
        return self.frames_per_code / self.frame_rate

    @property
    def code_rate(self) -> float:
        """Codes per second: ``frame_rate / frames_per_code`` (25 codes/s)."""
        return self.frame_rate / self.frames_per_code

    @property
    def step_seconds(self) -> float:
        """Duration of one decoder step in seconds: ``codes_per_step * code_seconds`` (0.08 s)."""
        return self.codes_per_step * self.code_seconds

    @property
    def step_rate(self) -> float:
        """Decoder steps per second: ``code_rate / codes_per_step`` (12.5 steps/s)."""
        return self.code_rate / self.codes_per_step

    @property
    def max_codes(self) -> int:
        """Context of one window in codes: ``max_steps * codes_per_step`` (256)."""
        return self.max_steps * self.codes_per_step

    @property
    def max_seconds(self) -> float:
        """Context of one window in seconds: ``max_steps * step_seconds`` (10.24 s)."""
        return self.max_steps * self.step_seconds

    @property
    def backing_mel_step_size(self) -> int:
        """Inputs of the mel patch embedding of one step: ``codes_per_step * frames_per_code * backing_mel_bins``."""
        return self.codes_per_step * self.frames_per_code * self.backing_mel_bins

    @property
    def output_vocab_size(self) -> int:
        """Step tokens the decoder chooses from: ``drum_codebook_size ** codes_per_step`` (4096)."""
        return self.drum_codebook_size ** self.codes_per_step

    @property
    def num_genres(self) -> int:
        return len(self.genre_vocabulary)

    @property
    def unknown_genre_id(self) -> int:
        """Index of ``"unknown"`` in ``genre_vocabulary``."""
        return self.genre_vocabulary.index(UNKNOWN_GENRE)

    @property
    def mask_token_id(self) -> int:
        """Decoder input token that stands for a dropped past drum code: ``drum_codebook_size``."""
        return self.drum_codebook_size

    @property
    def decoder_vocab_size(self) -> int:
        """Decoder input tokens of one code slot: the drum codes, the mask token and one start token per genre."""
        return self.drum_codebook_size + 1 + self.num_genres

    def genre_id(self, genre: str | None) -> int:
        """Index of a genre name in ``genre_vocabulary`` (``None`` -> unknown); a clear error for other names."""
        if genre is None:
            return self.unknown_genre_id
        name = str(genre).strip().lower()
        if name not in self.genre_vocabulary:
            raise ValueError(f"unknown genre {genre!r}; choose one of {', '.join(self.genre_vocabulary)}")
        return self.genre_vocabulary.index(name)

    def genre_token_id(self, genre_id: int) -> int:
        """Decoder start token of a genre index: ``drum_codebook_size + 1 + genre_id``."""
        return self.drum_codebook_size + 1 + int(genre_id)


__all__ = ["DrumAccompanimentConfig"]
