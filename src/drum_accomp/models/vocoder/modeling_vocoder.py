"""DrumVocoder: 80-band log-mel frames -> 16 kHz drum waveform (Vocos-style ConvNeXt trunk + inverse-STFT head).

Read top-down: the output dataclass, the losses (mel spectrogram with the feature extractor's exact definition,
multi-resolution STFT), the building blocks (ConvNeXt block, iSTFT head), the pre-trained base, the public model.

Why Vocos (Siuzdak, 2023) rather than HiFi-GAN: the trunk runs at the mel frame rate (100 Hz) and one ``torch.istft``
does the upsampling, so a ~3.5M-parameter model synthesizes at a small fraction of real time on one CPU core.
Frames and samples line up exactly: frame ``i`` is centred on sample ``i * hop_length`` (as the feature extractor's
``center=True`` frames), and ``num_frames`` frames give ``num_frames * hop_length`` samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from ...feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from .configuration_vocoder import DrumVocoderConfig


@dataclass
class DrumVocoderOutput(ModelOutput):
    """Output of :class:`DrumVocoder`.

    Attributes:
        loss: scalar ``mel_loss_weight * mel_loss + stft_loss_weight * stft_loss`` (when ``waveforms`` are given).
        mel_loss: scalar L1 between the natural-log mels of the generated and the target audio.
        stft_loss: scalar multi-resolution STFT loss (spectral convergence + log-magnitude L1).
        waveforms: ``(batch_size, num_frames * hop_length)`` generated audio at ``config.sampling_rate``.
    """

    loss: torch.Tensor | None = None
    mel_loss: torch.Tensor | None = None
    stft_loss: torch.Tensor | None = None
    waveforms: torch.Tensor | None = None


# ----- losses ------------------------------------------------------------------------------------------------------

_MAGNITUDE_FLOOR = 1e-5
"""Smallest STFT magnitude in the log-magnitude loss (about -100 dB): silence between hits counts, but not below."""


def mel_filter_bank(config: DrumVocoderConfig) -> torch.Tensor:
    """The feature extractor's Slaney mel filters ``(mel_n_fft // 2 + 1, num_mels)`` float32 for this config."""
    return BeatAlignedMelFeatureExtractor(**config.feature_extractor_kwargs()).mel_filters()


class DrumVocoderMelSpectrogram(nn.Module):
    """Differentiable log-mel with exactly the feature extractor's definition: a ``BeatAlignedMelFeatureExtractor``
    built from the config computes it (``log_mel_tensor``), so the mel is defined in one place."""

    def __init__(self, config: DrumVocoderConfig):
        super().__init__()
        self.extractor = BeatAlignedMelFeatureExtractor(**config.feature_extractor_kwargs())

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        """``(batch_size, num_samples)`` -> log-mels ``(batch_size, 1 + num_samples // hop_length, num_mels)``."""
        return self.extractor.log_mel_tensor(waveforms)


def multi_resolution_stft_loss(predicted: torch.Tensor, target: torch.Tensor,
                               fft_sizes: list[int] | tuple[int, ...] = (256, 512, 1024)) -> torch.Tensor:
    """Multi-resolution STFT distance (Yamamoto et al., Parallel WaveGAN), averaged over the resolutions.

    Per FFT size ``n`` (hop ``n // 4``, Hann window ``n``), with magnitudes ``P``, ``T`` floored at 1e-5:
    spectral convergence ``||T - P||_F / ||T||_F`` plus ``mean |log T - log P|``. Symmetric in its use as a
    metric only up to the normalization by ``T``: ``target`` is the reference.

    Args:
        predicted, target: ``(batch_size, num_samples)`` audio.

    Returns:
        scalar tensor (lower is better; 0 for identical audio).
    """
    if predicted.shape != target.shape:
        raise ValueError(f"predicted {tuple(predicted.shape)} and target {tuple(target.shape)} audio differ in shape")
    total = predicted.new_zeros(())
    for n_fft in fft_sizes:
        window = torch.hann_window(n_fft, device=predicted.device)

        def magnitude(audio: torch.Tensor) -> torch.Tensor:
            spectrum = torch.stft(audio.float(), n_fft=n_fft, hop_length=n_fft // 4, window=window, center=True,
                                  pad_mode="constant", return_complex=True)
            return (spectrum.real.square() + spectrum.imag.square()).clamp(min=_MAGNITUDE_FLOOR ** 2).sqrt()

        predicted_magnitude, target_magnitude = magnitude(predicted), magnitude(target)
        convergence = (torch.linalg.vector_norm(target_magnitude - predicted_magnitude, dim=(-2, -1))
                       / torch.linalg.vector_norm(target_magnitude, dim=(-2, -1)).clamp(min=1e-7)).mean()
        log_magnitude = (target_magnitude.log() - predicted_magnitude.log()).abs().mean()
        total = total + convergence + log_magnitude
    return total / len(fft_sizes)


# ----- building blocks ---------------------------------------------------------------------------------------------


class DrumVocoderConvNeXtBlock(nn.Module):
    """``h + gamma * pw2(gelu(pw1(layer_norm(depthwise_conv(h)))))`` over frames (ConvNeXt, as in Vocos)."""

    def __init__(self, config: DrumVocoderConfig):
        super().__init__()
        self.depthwise_conv = nn.Conv1d(config.hidden_size, config.hidden_size, config.kernel_size,
                                        padding=config.kernel_size // 2, groups=config.hidden_size)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=1e-6)
        self.pointwise_in = nn.Linear(config.hidden_size, config.intermediate_size)
        self.pointwise_out = nn.Linear(config.intermediate_size, config.hidden_size)
        self.layer_scale = nn.Parameter(torch.full((config.hidden_size,), config.layer_scale_init))

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """``(batch_size, hidden_size, num_frames)`` -> same shape."""
        residual = hidden_states
        hidden_states = self.depthwise_conv(hidden_states).transpose(1, 2)  # (batch_size, num_frames, hidden_size)
        hidden_states = self.pointwise_out(nn.functional.gelu(self.pointwise_in(self.layer_norm(hidden_states))))
        return residual + (self.layer_scale * hidden_states).transpose(1, 2)


class DrumVocoderISTFTHead(nn.Module):
    """Linear head -> per-frame log-magnitude and phase -> ``torch.istft`` (Vocos' head).

    The head predicts ``n_fft + 2`` numbers per frame: ``n_fft // 2 + 1`` log-magnitudes and as many phase angles
    (radians; ``cos``/``sin`` of the angle build the complex bin, so the angle needs no wrapping).
    """

    def __init__(self, config: DrumVocoderConfig):
        super().__init__()
        self.config = config
        self.projection = nn.Linear(config.hidden_size, 2 * config.num_frequency_bins)
        self._windows: dict[tuple, torch.Tensor] = {}

    def _window(self, device: torch.device) -> torch.Tensor:
        key = (device.type, device.index)
        if key not in self._windows:
            self._windows[key] = torch.hann_window(self.config.n_fft, periodic=True, device=device)
        return self._windows[key]

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """``(batch_size, num_frames + 1, hidden_size)`` -> audio ``(batch_size, num_frames * hop_length)``.

        The caller appends one frame (a copy of the last): ``center=True`` iSTFT of ``F`` frames gives
        ``(F - 1) * hop_length`` samples, so ``num_frames + 1`` frames give one hop per input frame.
        """
        log_magnitude, phase = self.projection(hidden_states).float().chunk(2, dim=-1)
        magnitude = log_magnitude.clamp(max=self.config.max_log_magnitude).exp()
        spectrum = torch.polar(magnitude, phase).transpose(1, 2)  # (batch_size, bins, num_frames + 1) complex
        return torch.istft(spectrum, n_fft=self.config.n_fft, hop_length=self.config.hop_length,
                           win_length=self.config.n_fft, window=self._window(hidden_states.device), center=True)


# ----- models ------------------------------------------------------------------------------------------------------


class DrumVocoderPreTrainedModel(PreTrainedModel):
    config_class = DrumVocoderConfig
    base_model_prefix = "drum_vocoder"
    main_input_name = "mel_features"

    def _init_weights(self, module: nn.Module) -> None:
        # Vocos' init: truncated normal (std 0.02) weights, zero biases; ConvNeXt layer scale at layer_scale_init
        if isinstance(module, (nn.Conv1d, nn.Linear)):
            init.trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, DrumVocoderConvNeXtBlock):
            init.constant_(module.layer_scale, self.config.layer_scale_init)


class DrumVocoder(DrumVocoderPreTrainedModel):
    """Drum log-mels -> drum waveform. ``forward`` returns the training loss when given the target ``waveforms``.

    Inputs are ``BeatAlignedMelFeatureExtractor`` mels (or a drum VQ-VAE's decoded mels) with the config's ``mel_*``
    settings: ``DrumVocoderConfig.feature_extractor_kwargs()`` builds the matching extractor.
    """

    def __init__(self, config: DrumVocoderConfig):
        super().__init__(config)
        self.embed = nn.Conv1d(config.num_mels, config.hidden_size, config.kernel_size,
                               padding=config.kernel_size // 2)
        self.embed_norm = nn.LayerNorm(config.hidden_size, eps=1e-6)
        self.blocks = nn.ModuleList([DrumVocoderConvNeXtBlock(config) for _ in range(config.num_layers)])
        self.final_norm = nn.LayerNorm(config.hidden_size, eps=1e-6)
        self.head = DrumVocoderISTFTHead(config)
        self.mel_spectrogram = DrumVocoderMelSpectrogram(config)
        self.post_init()

    def _check_inputs(self, mel_features: torch.Tensor, waveforms: torch.Tensor | None) -> None:
        if mel_features.dim() != 3 or mel_features.shape[-1] != self.config.num_mels:
            raise ValueError(f"mel_features must be (batch_size, num_frames, {self.config.num_mels}), got shape "
                             f"{tuple(mel_features.shape)}; pass log-mels from BeatAlignedMelFeatureExtractor")
        if mel_features.shape[1] == 0:
            raise ValueError("mel_features has 0 frames; give at least one frame")
        if not torch.isfinite(mel_features).all():
            raise ValueError("mel_features contains NaN or inf; check the mel extraction or the VQ-VAE decoding")
        if waveforms is not None:
            expected = (mel_features.shape[0], mel_features.shape[1] * self.config.hop_length)
            if tuple(waveforms.shape) != expected:
                raise ValueError(f"waveforms must be (batch_size, num_frames * hop_length) = {expected} for "
                                 f"mel_features of shape {tuple(mel_features.shape)}, got {tuple(waveforms.shape)}")

    def synthesize(self, mel_features: torch.Tensor) -> torch.Tensor:
        """``(batch_size, num_frames, num_mels)`` log-mels -> ``(batch_size, num_frames * hop_length)`` audio."""
        # one extra frame (a copy of the last) so that the centred iSTFT yields exactly num_frames hops
        mel_features = torch.cat([mel_features, mel_features[:, -1:]], dim=1)
        hidden_states = self.embed(mel_features.transpose(1, 2))  # (batch_size, hidden_size, num_frames + 1)
        hidden_states = self.embed_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            hidden_states = block(hidden_states)
        hidden_states = self.final_norm(hidden_states.transpose(1, 2))  # (batch_size, num_frames + 1, hidden_size)
        return self.head(hidden_states)

    def forward(self, mel_features: torch.Tensor, waveforms: torch.Tensor | None = None) -> DrumVocoderOutput:
        """Synthesize audio from log-mels; with ``waveforms``, also the training loss.

        Args:
            mel_features: ``(batch_size, num_frames, num_mels)`` natural-log mels (``log_floor`` = silence).
            waveforms: optional target audio ``(batch_size, num_frames * hop_length)`` in [-1, 1].

        Returns:
            :class:`DrumVocoderOutput` with ``waveforms`` ``(batch_size, num_frames * hop_length)`` and, when
            targets are given, ``loss``, ``mel_loss`` and ``stft_loss``.
        """
        self._check_inputs(mel_features, waveforms)
        generated = self.synthesize(mel_features)
        if waveforms is None:
            return DrumVocoderOutput(waveforms=generated)
        target = waveforms.to(generated.dtype)
        mel_loss = (self.mel_spectrogram(generated) - self.mel_spectrogram(target)).abs().mean()
        stft_loss = multi_resolution_stft_loss(generated, target, self.config.stft_loss_fft_sizes)
        loss = self.config.mel_loss_weight * mel_loss + self.config.stft_loss_weight * stft_loss
        return DrumVocoderOutput(loss=loss, mel_loss=mel_loss, stft_loss=stft_loss, waveforms=generated)

    @torch.no_grad()
    def generate(self, mel_features: torch.Tensor) -> torch.Tensor:
        """Audio from log-mels in inference mode: ``(batch_size, num_frames, num_mels)`` (or one
        ``(num_frames, num_mels)`` item) -> ``(batch_size, num_frames * hop_length)`` (or ``(num_samples,)``)."""
        single = mel_features.dim() == 2
        mel_features = mel_features[None] if single else mel_features
        mel_features = mel_features.to(device=self.device, dtype=self.dtype)
        self._check_inputs(mel_features, None)
        waveforms = self.synthesize(mel_features).clamp(-1.0, 1.0)
        return waveforms[0] if single else waveforms


__all__ = [
    "DrumVocoder",
    "DrumVocoderConvNeXtBlock",
    "DrumVocoderISTFTHead",
    "DrumVocoderMelSpectrogram",
    "DrumVocoderOutput",
    "DrumVocoderPreTrainedModel",
    "mel_filter_bank",
    "multi_resolution_stft_loss",
]
