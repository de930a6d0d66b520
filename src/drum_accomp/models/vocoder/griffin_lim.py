"""Griffin-Lim: the no-weights fallback of :class:`DrumVocoder` (log-mel -> waveform by phase reconstruction).

It inverts exactly the feature extractor's mel: ``exp`` undoes the natural log (frames at the log floor are taken as
silence, not as a floor-level noise), non-negative least squares with the same Slaney filters (``mel_filter_bank``)
gives the linear power spectrum (``librosa.util.nnls``, as ``librosa.feature.inverse.mel_to_stft``), and
``librosa.griffinlim`` (fast Griffin-Lim, momentum 0.99) finds a phase for the magnitude with the mel STFT's
FFT size, hop and window.
"""

from __future__ import annotations

import numpy as np
import torch

from .configuration_vocoder import DrumVocoderConfig
from .modeling_vocoder import mel_filter_bank

_FLOOR_MARGIN = 1e-3
"""Log-mels within this of ``log(log_floor)`` are the floor itself (silence, or quieter than it)."""


def griffin_lim(mel_features: np.ndarray | torch.Tensor, n_iter: int = 32, config: DrumVocoderConfig | None = None,
                momentum: float = 0.99, seed: int = 0) -> np.ndarray:
    """Audio from natural-log mels, with no trained weights.

    Args:
        mel_features: ``(num_frames, num_mels)`` or ``(batch_size, num_frames, num_mels)`` log-mels of
            ``BeatAlignedMelFeatureExtractor`` (with the ``mel_*`` settings of ``config``).
        n_iter: Griffin-Lim iterations (32 is librosa's default; more gives little for drums).
        config: the mel definition (``DrumVocoderConfig`` fields ``num_mels``, ``sampling_rate``, ``hop_length``,
            ``mel_n_fft``, ``mel_win_length``, ``mel_fmin``, ``mel_fmax``, ``log_floor``); default settings when None.
        momentum: fast Griffin-Lim momentum (0 = the original algorithm).
        seed: seed of the random initial phase, so the output is deterministic.

    Returns:
        float32 audio ``(num_frames * hop_length,)`` or ``(batch_size, num_frames * hop_length)``, clipped to [-1, 1].

    Raises:
        ValueError: wrong shape, NaN/inf values, or ``n_iter < 1``.
    """
    import librosa

    config = DrumVocoderConfig() if config is None else config
    if isinstance(mel_features, torch.Tensor):
        mel_features = mel_features.detach().float().cpu().numpy()
    mel_features = np.asarray(mel_features, dtype=np.float32)
    single = mel_features.ndim == 2
    batch = mel_features[None] if single else mel_features
    if batch.ndim != 3 or batch.shape[-1] != config.num_mels or batch.shape[1] == 0:
        raise ValueError(f"mel_features must be (num_frames, {config.num_mels}) or (batch_size, num_frames, "
                         f"{config.num_mels}) with num_frames > 0, got shape {mel_features.shape}")
    if not np.isfinite(batch).all():
        raise ValueError("mel_features contains NaN or inf; check the mel extraction or the VQ-VAE decoding")
    if n_iter < 1:
        raise ValueError(f"n_iter must be >= 1, got {n_iter}")

    filters = mel_filter_bank(config).numpy().T  # (num_mels, bins)
    num_samples = batch.shape[1] * config.hop_length
    outputs = []
    for item in batch:
        # 1. log-mel -> mel power; floor-level bins are silence
        mel_power = np.exp(item.T.astype(np.float64))  # (num_mels, num_frames)
        mel_power[item.T <= config.log_floor_value + _FLOOR_MARGIN] = 0.0
        # 2. mel power -> linear magnitude by non-negative least squares with the same filters
        power = librosa.util.nnls(filters.astype(np.float64), mel_power)  # (bins, num_frames)
        magnitude = np.sqrt(np.maximum(power, 0.0))
        # one extra frame (a copy of the last), as DrumVocoder does: num_frames + 1 centred frames span
        # exactly num_frames hops
        magnitude = np.concatenate([magnitude, magnitude[:, -1:]], axis=1)
        # 3. phase by fast Griffin-Lim, with the mel STFT's geometry
        audio = librosa.griffinlim(magnitude.astype(np.float32), n_iter=n_iter, hop_length=config.hop_length,
                                   win_length=config.mel_win_length, n_fft=config.mel_n_fft, window="hann",
                                   center=True, length=num_samples, momentum=momentum,
                                   random_state=np.random.default_rng(seed))
        outputs.append(np.clip(audio, -1.0, 1.0).astype(np.float32))
    stacked = np.stack(outputs)
    return stacked[0] if single else stacked


__all__ = ["griffin_lim"]
