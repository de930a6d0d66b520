"""Configuration of the drum vocoder (80-band log-mel frames -> 16 kHz waveform)."""

from __future__ import annotations

import math

from transformers import PretrainedConfig


class DrumVocoderConfig(PretrainedConfig):
    r"""Hyper-parameters of :class:`DrumVocoder`, a Vocos-style vocoder: a convolution embeds the log-mel frames,
    ConvNeXt blocks transform them, and a linear head predicts one STFT frame per mel frame (log-magnitude and
    phase), which ``torch.istft`` turns into audio. All computation stays at the mel frame rate (100 Hz), so the
    model is small and fast on a CPU.

    Input mels must be those of ``BeatAlignedMelFeatureExtractor`` with the ``mel_*`` settings below (the same
    fields, the same values): the mel loss recomputes them from the generated audio with the same filters.

    Args:
        num_mels (`int`, defaults to 80): mel bands per input frame.
        sampling_rate (`int`, defaults to 16000): output rate in Hz.
        hop_length (`int`, defaults to 160): samples per mel frame (10 ms); also the iSTFT hop, so ``num_frames``
            mel frames give ``num_frames * hop_length`` samples.
        n_fft (`int`, defaults to 640): FFT size (samples) of the synthesis iSTFT; 640 = 40 ms = 4 x the hop, short
            enough to keep drum transients sharp. The head predicts ``n_fft // 2 + 1`` bins per frame.
        hidden_size (`int`, defaults to 256): channels of the ConvNeXt trunk.
        intermediate_size (`int`, defaults to 768): channels inside each ConvNeXt block's point-wise MLP.
        num_layers (`int`, defaults to 8): ConvNeXt blocks.
        kernel_size (`int`, defaults to 7): depth-wise convolution width in frames (odd; the embedding convolution
            uses it too).
        layer_scale_init (`float`, defaults to ``1 / num_layers``): initial per-channel scale of each block's
            residual branch (ConvNeXt layer scale).
        max_log_magnitude (`float`, defaults to 6.0): the predicted natural-log STFT magnitude is clamped to at most
            this (``exp(6) ~ 400``, far above any real frame) so early training cannot overflow.
        mel_n_fft (`int`, defaults to 1024): FFT size (samples) of the input mels and of the mel loss.
        mel_win_length (`int`, defaults to 1024): Hann window (samples) of the input mels.
        mel_fmin (`float`, defaults to 0.0): lowest mel-filter edge in Hz.
        mel_fmax (`float`, defaults to 8000.0): highest mel-filter edge in Hz.
        log_floor (`float`, defaults to 1e-5): mel power floor before the natural log (as the feature extractor).
        mel_loss_weight (`float`, defaults to 45.0): weight of the log-mel L1 loss (Vocos and HiFi-GAN use 45).
        stft_loss_weight (`float`, defaults to 1.0): weight of the multi-resolution STFT loss (spectral convergence
            + log-magnitude L1, averaged over the resolutions).
        stft_loss_fft_sizes (`list[int]`, defaults to ``[256, 512, 1024]``): FFT sizes (samples) of the
            multi-resolution STFT loss; hops are a quarter of each, windows equal to each.
    """

    model_type = "drum_accomp_vocoder"

    def __init__(
        self,
        num_mels: int = 80,
        sampling_rate: int = 16000,
        hop_length: int = 160,
        n_fft: int = 640,
        hidden_size: int = 256,
        intermediate_size: int = 768,
        num_layers: int = 8,
        kernel_size: int = 7,
        layer_scale_init: float | None = None,
        max_log_magnitude: float = 6.0,
        mel_n_fft: int = 1024,
        mel_win_length: int = 1024,
        mel_fmin: float = 0.0,
        mel_fmax: float = 8000.0,
        log_floor: float = 1e-5,
        mel_loss_weight: float = 45.0,
        stft_loss_weight: float = 1.0,
        stft_loss_fft_sizes: list[int] | tuple[int, ...] = (256, 512, 1024),
        **kwargs,
    ):
        if n_fft < hop_length:
            raise ValueError(f"n_fft ({n_fft}) must be at least hop_length ({hop_length}) for the iSTFT to overlap-add")
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd (same-length convolutions), got {kernel_size}")
        if not 0 <= mel_fmin < mel_fmax <= sampling_rate / 2:
            raise ValueError(f"need 0 <= mel_fmin < mel_fmax <= sampling_rate / 2, got {mel_fmin}, {mel_fmax}, "
                             f"{sampling_rate}")
        if log_floor <= 0:
            raise ValueError(f"log_floor must be > 0 (it is the argument of a log), got {log_floor}")
        if not stft_loss_fft_sizes:
            raise ValueError("stft_loss_fft_sizes must list at least one FFT size, e.g. [256, 512, 1024]")
        self.num_mels = int(num_mels)
        self.sampling_rate = int(sampling_rate)
        self.hop_length = int(hop_length)
        self.n_fft = int(n_fft)
        self.hidden_size = int(hidden_size)
        self.intermediate_size = int(intermediate_size)
        self.num_layers = int(num_layers)
        self.kernel_size = int(kernel_size)
        self.layer_scale_init = float(1.0 / num_layers if layer_scale_init is None else layer_scale_init)
        self.max_log_magnitude = float(max_log_magnitude)
        self.mel_n_fft = int(mel_n_fft)
        self.mel_win_length = int(mel_win_length)
        self.mel_fmin = float(mel_fmin)
        self.mel_fmax = float(mel_fmax)
        self.log_floor = float(log_floor)
        self.mel_loss_weight = float(mel_loss_weight)
        self.stft_loss_weight = float(stft_loss_weight)
        self.stft_loss_fft_sizes = [int(size) for size in stft_loss_fft_sizes]
        super().__init__(**kwargs)

    @property
    def frame_rate(self) -> float:
        """Mel frames per second (Hz): 100.0 with the defaults."""
        return self.sampling_rate / self.hop_length

    @property
    def num_frequency_bins(self) -> int:
        """STFT bins the head predicts per frame: ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    @property
    def log_floor_value(self) -> float:
        """``log(log_floor)``: the log-mel of digital silence (about -11.51)."""
        return math.log(self.log_floor)

    def feature_extractor_kwargs(self) -> dict:
        """Arguments of ``BeatAlignedMelFeatureExtractor`` that give exactly the mels this vocoder expects."""
        return {"feature_size": self.num_mels, "sampling_rate": self.sampling_rate, "hop_length": self.hop_length,
                "n_fft": self.mel_n_fft, "win_length": self.mel_win_length, "fmin": self.mel_fmin,
                "fmax": self.mel_fmax, "log_floor": self.log_floor}


__all__ = ["DrumVocoderConfig"]
