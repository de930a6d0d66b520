"""Configuration of the beat and downbeat tracker that reads the pipeline's own mel frames."""

from __future__ import annotations

from transformers import PretrainedConfig


class DrumBeatTrackerConfig(PretrainedConfig):
    """Hyper-parameters of :class:`DrumBeatTracker` (network) and of its post-processor (beats -> bars).

    The network is a non-causal temporal convolutional network (TCN, as in Böck & Davies 2019 / MatthewDavies'
    multi-task TCN): a convolution over the 80 mel bands, then residual blocks with dilations ``1, 2, 4, ...``
    frames, and two per-frame logits (beat, downbeat). The post-processor (``postprocessing.py``) finds beats by
    dynamic programming over the beat activation with a tempo estimated from it, then the bar position of every
    beat with a Viterbi pass over (meter, position) states using the downbeat activation.

    Args:
        num_mels (`int`, defaults to 80): mel bands of the input (``BeatAlignedMelFeatureExtractor.num_mels``).
        hidden_size (`int`, defaults to 64): channels of the TCN.
        num_blocks (`int`, defaults to 10): residual blocks; block ``i`` dilates by ``2 ** i`` frames, so the
            receptive field is about ``2 ** (num_blocks + 1)`` frames (20 s at 10 blocks and 100 frames/s).
        kernel_size (`int`, defaults to 3): kernel of the dilated convolutions (odd; frames).
        dropout (`float`, defaults to 0.1): dropout inside the blocks.
        mel_mean (`float`, defaults to -6.0): subtracted from the natural-log mels before the network.
        mel_std (`float`, defaults to 3.0): the mels are divided by it after subtracting ``mel_mean``.
        log_floor (`float`, defaults to 1e-5): the feature extractor's mel power floor; a recording whose every
            frame and band is at ``log(log_floor)`` is digital silence and gets beat / downbeat probability 0
            (the network, never trained on silence, would otherwise fire there).
        target_widening (`float`, defaults to 0.5): training target of the frames next to an annotated beat
            (the annotated frame gets 1); makes the loss forgiving of one-frame (10 ms) label jitter.
        positive_weight (`float`, defaults to 4.0): weight of beat/downbeat frames in the binary cross-entropy
            (they are about 2 % / 0.5 % of the frames).
        downbeat_loss_weight (`float`, defaults to 1.0): weight of the downbeat term against the beat term.
        frame_rate (`float`, defaults to 100.0): mel frames per second (16 kHz / 160-sample hop).
        min_bpm (`float`, defaults to 55.0) / max_bpm (`float`, defaults to 215.0): tempo range of the
            post-processor (beats per minute), as madmom's.
        start_bpm (`float`, defaults to 110.0): centre of the log-normal tempo prior (beats per minute).
        tempo_std_octaves (`float`, defaults to 1.0): width of that prior in octaves.
        tightness (`float`, defaults to 100.0): how strictly beats keep the estimated tempo in the dynamic
            programme (librosa's ``tightness``).
        tempo_level_selection (`bool`, defaults to True): also run the programme at half and double the estimated
            tempo and keep the beats that stand out most from their off-beats (see ``postprocessing``).
        beats_per_bar_options (`list[int]`, defaults to ``[3, 4]``): bar lengths (beats) the Viterbi pass chooses
            between.
        meter_change_probability (`float`, defaults to 1e-4): probability of switching bar length at a bar end.
        downbeat_floor (`float`, defaults to 0.02): downbeat probabilities are clipped to
            ``[floor, 1 - floor]`` before taking logs (one bad frame cannot veto a path).
        confidence_threshold (`float`, defaults to 0.35): below this mean beat activation at the tracked beats
            the result is flagged as unsure.
    """

    model_type = "drum_accomp_beat_tracker"

    def __init__(
        self,
        num_mels: int = 80,
        hidden_size: int = 64,
        num_blocks: int = 10,
        kernel_size: int = 3,
        dropout: float = 0.1,
        mel_mean: float = -6.0,
        mel_std: float = 3.0,
        log_floor: float = 1e-5,
        target_widening: float = 0.5,
        positive_weight: float = 4.0,
        downbeat_loss_weight: float = 1.0,
        frame_rate: float = 100.0,
        min_bpm: float = 55.0,
        max_bpm: float = 215.0,
        start_bpm: float = 110.0,
        tempo_std_octaves: float = 1.0,
        tightness: float = 100.0,
        tempo_level_selection: bool = True,
        beats_per_bar_options: list[int] | tuple[int, ...] = (3, 4),
        meter_change_probability: float = 1e-4,
        downbeat_floor: float = 0.02,
        confidence_threshold: float = 0.35,
        **kwargs,
    ):
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (centred, non-causal convolutions), got {kernel_size}")
        if not 0 < min_bpm < max_bpm:
            raise ValueError(f"need 0 < min_bpm < max_bpm, got min_bpm={min_bpm}, max_bpm={max_bpm}")
        options = [int(value) for value in beats_per_bar_options]
        if not options or min(options) < 1:
            raise ValueError(f"beats_per_bar_options must be positive bar lengths, e.g. [3, 4]; got {options}")
        if mel_std <= 0:
            raise ValueError(f"mel_std must be positive, got {mel_std}")
        self.num_mels = int(num_mels)
        self.hidden_size = int(hidden_size)
        self.num_blocks = int(num_blocks)
        self.kernel_size = int(kernel_size)
        self.dropout = float(dropout)
        self.mel_mean = float(mel_mean)
        self.mel_std = float(mel_std)
        self.log_floor = float(log_floor)
        self.target_widening = float(target_widening)
        self.positive_weight = float(positive_weight)
        self.downbeat_loss_weight = float(downbeat_loss_weight)
        self.frame_rate = float(frame_rate)
        self.min_bpm = float(min_bpm)
        self.max_bpm = float(max_bpm)
        self.start_bpm = float(start_bpm)
        self.tempo_std_octaves = float(tempo_std_octaves)
        self.tightness = float(tightness)
        self.tempo_level_selection = bool(tempo_level_selection)
        self.beats_per_bar_options = sorted(set(options))
        self.meter_change_probability = float(meter_change_probability)
        self.downbeat_floor = float(downbeat_floor)
        self.confidence_threshold = float(confidence_threshold)
        super().__init__(**kwargs)

    @property
    def receptive_field(self) -> int:
        """Frames of context each output frame sees: ``1 + (kernel_size - 1) * (2 ** num_blocks - 1)`` plus the
        input convolution."""
        return 1 + (self.kernel_size - 1) * (2 ** self.num_blocks - 1) + (self.kernel_size - 1)


__all__ = ["DrumBeatTrackerConfig"]
