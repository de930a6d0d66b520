"""Audio augmentation of rendered backing tracks, so models do not learn the sound of one synthesizer.

Four small effects, each a plain numpy/scipy function with explicit parameters (``equalize``, ``low_pass``,
``reverberate``, ``add_noise``), and ``augment_audio`` that draws their parameters from a seeded
``numpy.random.Generator`` within the ranges of an ``AudioAugmentConfig``:

| effect | what it models | parameters drawn (defaults) |
|---|---|---|
| EQ | a different mix / synth timbre | 1-3 peaking bands, centre 100-6000 Hz (log-uniform), gain -6..+6 dB, Q 0.5-2 |
| low-pass | dull synths, lossy sources | Butterworth order 4, cut-off 3000-7500 Hz (log-uniform) |
| reverb | a room around the instruments | synthetic exponential-decay noise response, RT60 0.2-1.5 s, wet share 0.05-0.35, pre-delay 0-20 ms |
| noise | hiss, a noisy recording | white or pink noise at 20-45 dB signal-to-noise ratio |

Every effect keeps the number of samples (the beat grid stays put): filters are causal IIR (group delay well under
a millisecond in the pass band), the reverb tail past the end is cut. ``augment_audio`` applies the chosen effects
in the order EQ, low-pass, reverb, noise and scales the result back to the input's peak, so levels are left to
``augment.random_gain``. Audio is mono float ``(num_samples,)``; frequencies are Hz, gains and ratios dB, times s.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import signal

NOISE_COLORS: tuple[str, ...] = ("white", "pink")


@dataclass
class AudioAugmentConfig:
    """Probabilities and parameter ranges of ``augment_audio`` (ranges are inclusive ``(low, high)``).

    Args:
        eq_probability (`float`, defaults to 0.6): chance to apply the EQ.
        eq_bands (`tuple[int, int]`, defaults to `(1, 3)`): number of peaking bands.
        eq_frequency_hz (`tuple[float, float]`, defaults to `(100.0, 6000.0)`): band centres, log-uniform (Hz).
        eq_gain_db (`tuple[float, float]`, defaults to `(-6.0, 6.0)`): band gains, uniform (dB).
        eq_q (`tuple[float, float]`, defaults to `(0.5, 2.0)`): band quality factors, log-uniform.
        lowpass_probability (`float`, defaults to 0.3): chance to apply the low-pass filter.
        lowpass_cutoff_hz (`tuple[float, float]`, defaults to `(3000.0, 7500.0)`): cut-off, log-uniform (Hz; must
            stay below the Nyquist frequency, 8000 Hz at 16 kHz).
        lowpass_order (`int`, defaults to 4): Butterworth order (24 dB per octave).
        reverb_probability (`float`, defaults to 0.5): chance to add reverb.
        reverb_rt60_s (`tuple[float, float]`, defaults to `(0.2, 1.5)`): time for the response to decay by 60 dB
            (s), uniform.
        reverb_wet (`tuple[float, float]`, defaults to `(0.05, 0.35)`): share of reverberated signal in the mix
            (0 = dry), uniform.
        reverb_predelay_s (`tuple[float, float]`, defaults to `(0.0, 0.02)`): delay before the reverb starts (s).
        noise_probability (`float`, defaults to 0.5): chance to add noise.
        noise_snr_db (`tuple[float, float]`, defaults to `(20.0, 45.0)`): signal-to-noise ratio (dB), uniform.
        noise_colors (`tuple[str, ...]`, defaults to `("white", "pink")`): noise colours, drawn uniformly.
    """

    eq_probability: float = 0.6
    eq_bands: tuple[int, int] = (1, 3)
    eq_frequency_hz: tuple[float, float] = (100.0, 6000.0)
    eq_gain_db: tuple[float, float] = (-6.0, 6.0)
    eq_q: tuple[float, float] = (0.5, 2.0)
    lowpass_probability: float = 0.3
    lowpass_cutoff_hz: tuple[float, float] = (3000.0, 7500.0)
    lowpass_order: int = 4
    reverb_probability: float = 0.5
    reverb_rt60_s: tuple[float, float] = (0.2, 1.5)
    reverb_wet: tuple[float, float] = (0.05, 0.35)
    reverb_predelay_s: tuple[float, float] = (0.0, 0.02)
    noise_probability: float = 0.5
    noise_snr_db: tuple[float, float] = (20.0, 45.0)
    noise_colors: tuple[str, ...] = NOISE_COLORS

    def __post_init__(self):
        for name in ("eq_probability", "lowpass_probability", "reverb_probability", "noise_probability"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
        ranges = {"eq_bands": 1, "eq_frequency_hz": 1e-6, "eq_q": 1e-6, "lowpass_cutoff_hz": 1e-6,
                  "reverb_rt60_s": 1e-6, "eq_gain_db": -math.inf, "reverb_wet": 0.0, "reverb_predelay_s": 0.0,
                  "noise_snr_db": -math.inf}
        for name, minimum in ranges.items():
            low, high = getattr(self, name)
            if not (minimum <= low <= high and math.isfinite(high)):
                raise ValueError(f"{name} must be a (low, high) range with {minimum} <= low <= high, "
                                 f"got {getattr(self, name)}")
        if self.reverb_wet[1] > 1.0:
            raise ValueError(f"reverb_wet is a share of the mix in [0, 1], got {self.reverb_wet}")
        if self.lowpass_order < 1:
            raise ValueError(f"lowpass_order must be >= 1, got {self.lowpass_order}")
        unknown = [color for color in self.noise_colors if color not in NOISE_COLORS]
        if unknown or not self.noise_colors:
            raise ValueError(f"noise_colors must be a non-empty selection of {', '.join(NOISE_COLORS)}, "
                             f"got {self.noise_colors}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------------------
# The effects (explicit parameters, deterministic except for the noise sources they are given)
# ---------------------------------------------------------------------------------------------------------


def equalize(audio: np.ndarray, sampling_rate: int, bands: "list[tuple[float, float, float]]") -> np.ndarray:
    """Peaking EQ: one biquad per ``(frequency_hz, gain_db, q)`` band (RBJ audio-EQ cookbook), applied in series.

    Args:
        audio: ``(num_samples,)`` float mono audio.
        sampling_rate: rate in Hz.
        bands: centre frequency (Hz, below Nyquist), gain (dB, + boosts) and quality factor (> 0) of each band.

    Returns:
        ``(num_samples,)`` float32.
    """
    audio = _check_audio(audio)
    sections = []
    for frequency, gain_db, q in bands:
        _check_frequency(frequency, sampling_rate, "EQ band frequency")
        if not q > 0:
            raise ValueError(f"EQ band Q must be > 0, got {q}")
        amplitude = 10.0 ** (gain_db / 40.0)
        omega = 2.0 * math.pi * frequency / sampling_rate
        alpha = math.sin(omega) / (2.0 * q)
        b = np.array([1.0 + alpha * amplitude, -2.0 * math.cos(omega), 1.0 - alpha * amplitude])
        a = np.array([1.0 + alpha / amplitude, -2.0 * math.cos(omega), 1.0 - alpha / amplitude])
        sections.append(np.concatenate([b / a[0], a / a[0]]))
    if not sections:
        return audio.astype(np.float32, copy=True)
    return signal.sosfilt(np.array(sections), audio).astype(np.float32)


def low_pass(audio: np.ndarray, sampling_rate: int, cutoff_hz: float, order: int = 4) -> np.ndarray:
    """Butterworth low-pass of ``order`` (6 dB per octave per order) at ``cutoff_hz`` (-3 dB point).

    Returns:
        ``(num_samples,)`` float32.
    """
    audio = _check_audio(audio)
    _check_frequency(cutoff_hz, sampling_rate, "low-pass cut-off")
    sections = signal.butter(int(order), cutoff_hz, btype="lowpass", fs=sampling_rate, output="sos")
    return signal.sosfilt(sections, audio).astype(np.float32)


def reverb_response(sampling_rate: int, rt60_s: float, predelay_s: float, rng: np.random.Generator) -> np.ndarray:
    """A synthetic room response: Gaussian noise under an exponential envelope that falls 60 dB in ``rt60_s``,
    after ``predelay_s`` of silence, unit energy. ``(round((predelay_s + rt60_s) * sampling_rate),)`` float64."""
    if not rt60_s > 0 or predelay_s < 0:
        raise ValueError(f"reverb needs rt60_s > 0 and predelay_s >= 0 seconds, got {rt60_s} and {predelay_s}")
    length = max(1, int(round(rt60_s * sampling_rate)))
    times = np.arange(length) / sampling_rate
    tail = rng.standard_normal(length) * np.exp(-math.log(1000.0) * times / rt60_s)  # -60 dB = 1/1000 amplitude
    response = np.concatenate([np.zeros(int(round(predelay_s * sampling_rate))), tail])
    return response / np.sqrt(np.sum(response ** 2))


def reverberate(audio: np.ndarray, sampling_rate: int, rt60_s: float, wet: float, predelay_s: float,
                rng: np.random.Generator) -> np.ndarray:
    """Mix ``audio`` with itself convolved by ``reverb_response`` (drawn from ``rng``): ``(1 - wet) * dry + wet *
    reverb``, the reverberated part scaled to the dry signal's RMS. The tail past the last sample is cut.

    Returns:
        ``(num_samples,)`` float32.
    """
    audio = _check_audio(audio)
    if not 0.0 <= wet <= 1.0:
        raise ValueError(f"reverb wet share must be in [0, 1], got {wet}")
    response = reverb_response(sampling_rate, rt60_s, predelay_s, rng)
    reverberated = signal.fftconvolve(audio.astype(np.float64), response)[: len(audio)]
    dry_rms, wet_rms = _rms(audio), _rms(reverberated)
    if wet_rms > 0:
        reverberated *= dry_rms / wet_rms
    return ((1.0 - wet) * audio + wet * reverberated).astype(np.float32)


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator, color: str = "white") -> np.ndarray:
    """Add white or pink (1/f power) Gaussian noise ``snr_db`` dB below the signal's RMS.

    Silent input stays silent (there is no signal level to set the noise against).

    Returns:
        ``(num_samples,)`` float32.
    """
    audio = _check_audio(audio)
    if color not in NOISE_COLORS:
        raise ValueError(f"noise color must be one of {', '.join(NOISE_COLORS)}, got {color!r}")
    signal_rms = _rms(audio)
    noise = rng.standard_normal(len(audio))
    if color == "pink" and len(audio) > 1:
        spectrum = np.fft.rfft(noise)
        scale = np.ones(len(spectrum))
        scale[1:] = 1.0 / np.sqrt(np.arange(1, len(spectrum)))  # power 1/f
        scale[0] = 0.0  # no DC offset
        noise = np.fft.irfft(spectrum * scale, n=len(audio))
    noise_rms = _rms(noise)
    if signal_rms == 0 or noise_rms == 0:
        return audio.astype(np.float32, copy=True)
    noise *= signal_rms / noise_rms * 10.0 ** (-snr_db / 20.0)
    return (audio + noise).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------
# Random augmentation
# ---------------------------------------------------------------------------------------------------------


def sample_audio_augmentation(rng: np.random.Generator, sampling_rate: int,
                              config: AudioAugmentConfig | None = None) -> dict[str, Any]:
    """Draw which effects to apply and their parameters (JSON-friendly), in a fixed order.

    Every parameter is drawn whether or not its effect is applied, so the stream (and later draws from ``rng``)
    do not depend on the coin flips. Frequencies above 0.95 x Nyquist are clipped to it.

    Returns:
        ``{"eq": {"bands": [[hz, db, q], ...]} | None, "lowpass": {"cutoff_hz", "order"} | None,
        "reverb": {"rt60_s", "wet", "predelay_s"} | None, "noise": {"snr_db", "color"} | None}``.
    """
    config = config or AudioAugmentConfig()
    nyquist_limit = 0.95 * sampling_rate / 2

    def log_uniform(bounds, size=None):
        return np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]), size))

    apply_eq = rng.random() < config.eq_probability
    num_bands = int(rng.integers(config.eq_bands[0], config.eq_bands[1] + 1))
    frequencies = np.minimum(log_uniform(config.eq_frequency_hz, config.eq_bands[1]), nyquist_limit)[:num_bands]
    gains = rng.uniform(*config.eq_gain_db, config.eq_bands[1])[:num_bands]
    qs = log_uniform(config.eq_q, config.eq_bands[1])[:num_bands]
    apply_lowpass = rng.random() < config.lowpass_probability
    cutoff = float(min(log_uniform(config.lowpass_cutoff_hz), nyquist_limit))
    apply_reverb = rng.random() < config.reverb_probability
    rt60, wet = float(rng.uniform(*config.reverb_rt60_s)), float(rng.uniform(*config.reverb_wet))
    predelay = float(rng.uniform(*config.reverb_predelay_s))
    apply_noise = rng.random() < config.noise_probability
    snr = float(rng.uniform(*config.noise_snr_db))
    color = config.noise_colors[int(rng.integers(len(config.noise_colors)))]
    return {
        "eq": {"bands": [[round(float(f), 2), round(float(g), 3), round(float(q), 4)]
                         for f, g, q in zip(frequencies, gains, qs)]} if apply_eq else None,
        "lowpass": {"cutoff_hz": round(cutoff, 2), "order": config.lowpass_order} if apply_lowpass else None,
        "reverb": {"rt60_s": round(rt60, 4), "wet": round(wet, 4), "predelay_s": round(predelay, 5)}
        if apply_reverb else None,
        "noise": {"snr_db": round(snr, 3), "color": color} if apply_noise else None,
    }


def apply_audio_augmentation(audio: np.ndarray, sampling_rate: int, params: dict[str, Any],
                             rng: np.random.Generator) -> np.ndarray:
    """Apply ``sample_audio_augmentation``'s effects (EQ, low-pass, reverb, noise, in that order), then scale back
    to the input's peak. ``rng`` feeds the reverb response and the noise.

    Returns:
        ``(num_samples,)`` float32.
    """
    audio = _check_audio(audio)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    output = audio.astype(np.float32, copy=True)
    if params.get("eq"):
        output = equalize(output, sampling_rate, [tuple(band) for band in params["eq"]["bands"]])
    if params.get("lowpass"):
        output = low_pass(output, sampling_rate, params["lowpass"]["cutoff_hz"], params["lowpass"]["order"])
    if params.get("reverb"):
        reverb = params["reverb"]
        output = reverberate(output, sampling_rate, reverb["rt60_s"], reverb["wet"], reverb["predelay_s"], rng)
    if params.get("noise"):
        output = add_noise(output, params["noise"]["snr_db"], rng, params["noise"]["color"])
    new_peak = float(np.abs(output).max()) if output.size else 0.0
    if peak > 0 and new_peak > 0:
        output *= peak / new_peak
    return output.astype(np.float32, copy=False)


def augment_audio(audio: np.ndarray, sampling_rate: int, rng: np.random.Generator,
                  config: AudioAugmentConfig | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Draw an augmentation (``sample_audio_augmentation``) and apply it; the same ``rng`` state gives the same
    output. Returns ``(audio (num_samples,) float32, params)``."""
    params = sample_audio_augmentation(rng, sampling_rate, config)
    return apply_audio_augmentation(audio, sampling_rate, params, rng), params


def _check_audio(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise ValueError(f"expected mono audio of shape (num_samples,), got shape {audio.shape}; average the "
                         "channels first (drum_accomp.audio.to_mono)")
    if not np.issubdtype(audio.dtype, np.floating):
        raise ValueError(f"expected float audio in [-1, 1], got dtype {audio.dtype}; convert PCM with "
                         "audio.astype(np.float32) / 32768")
    if not np.all(np.isfinite(audio)):
        raise ValueError("audio contains NaN or inf samples; clean it before augmenting")
    return audio


def _check_frequency(frequency: float, sampling_rate: int, name: str) -> None:
    if not 0 < frequency < sampling_rate / 2:
        raise ValueError(f"{name} must be between 0 and the Nyquist frequency ({sampling_rate / 2:g} Hz at "
                         f"{sampling_rate} Hz), got {frequency} Hz")


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(values, dtype=np.float64)))) if len(values) else 0.0


__all__ = ["AudioAugmentConfig", "equalize", "low_pass", "reverb_response", "reverberate", "add_noise",
           "sample_audio_augmentation", "apply_audio_augmentation", "augment_audio"]
