"""Audio I/O: load anything to 16 kHz mono float32 with clear errors, and save wav atomically.

Decoding goes through soundfile (libsndfile: wav, flac, ogg, mp3); librosa is the fallback for what libsndfile
cannot read. Resampling uses soxr (high quality).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import soundfile
import soxr

SAMPLING_RATE = 16000
"""The rate every model in the package works at (Hz)."""

MIN_DURATION_SECONDS = 2.0
"""Shortest accepted input: one beat at 30 BPM. Nothing shorter can carry a beat to accompany."""

SILENCE_PEAK = 1e-4
"""Peak amplitude (-80 dBFS) under which an input is treated as silent (a warning, not an error)."""

AudioSource = "str | os.PathLike | np.ndarray"


def read_audio(path: "str | os.PathLike") -> tuple[np.ndarray, int]:
    """Decode a file as it is: ``(num_samples, num_channels)`` float32 and its sampling rate (Hz).

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the file is not audio that soundfile or librosa can decode, or holds no samples.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file not found: {str(path)!r}; check the path")
    try:
        audio, sampling_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as soundfile_error:  # libsndfile cannot read it: try librosa's other decoders
        try:
            import librosa

            with warnings.catch_warnings():  # librosa warns that soundfile failed and that audioread is deprecated:
                warnings.simplefilter("ignore", FutureWarning)  # we know, it is our fallback; errors still raise
                warnings.simplefilter("ignore", UserWarning)
                audio, sampling_rate = librosa.load(str(path), sr=None, mono=False, dtype=np.float32)
            audio = np.atleast_2d(audio).T
        except Exception as librosa_error:
            raise ValueError(
                f"cannot decode {str(path)!r} as audio (soundfile: {soundfile_error}; librosa: {librosa_error}); "
                "give a wav, flac, ogg or mp3 file"
            ) from librosa_error
    if audio.size == 0:
        raise ValueError(f"audio file {str(path)!r} holds no samples; give a non-empty recording")
    return np.ascontiguousarray(audio, dtype=np.float32), int(sampling_rate)


def to_mono(audio: np.ndarray) -> np.ndarray:
    """``(num_samples,)`` or ``(num_samples, num_channels)`` -> ``(num_samples,)`` by averaging channels."""
    check_layout(audio)
    return audio if audio.ndim == 1 else audio.mean(axis=1)


def check_layout(audio: np.ndarray) -> None:
    """Accept ``(num_samples,)`` or ``(num_samples, num_channels)``; reject other ranks and channels-first arrays."""
    if audio.ndim not in (1, 2):
        raise ValueError(f"expected audio of shape (num_samples,) or (num_samples, num_channels), got {audio.shape}")
    if audio.ndim == 2 and audio.shape[0] < audio.shape[1] and audio.shape[0] <= 8:
        raise ValueError(
            f"audio of shape {audio.shape} looks channels-first; pass (num_samples, num_channels) (e.g. audio.T)"
        )


def resample(audio: np.ndarray, orig_sampling_rate: int, target_sampling_rate: int = SAMPLING_RATE) -> np.ndarray:
    """Resample along the first axis with soxr (HQ). A no-op when the rates match."""
    if orig_sampling_rate == target_sampling_rate:
        return audio
    return soxr.resample(audio, orig_sampling_rate, target_sampling_rate, quality="HQ").astype(np.float32)


def validate_audio(audio: np.ndarray, sampling_rate: int, name: str = "audio") -> np.ndarray:
    """Check an input waveform; return it as float32. Errors name the value and the fix; silence only warns."""
    if not isinstance(sampling_rate, (int, np.integer)) or sampling_rate <= 0:
        raise ValueError(f"sampling_rate must be a positive integer in Hz, got {sampling_rate!r}")
    audio = np.asarray(audio)
    if audio.size == 0:
        raise ValueError(f"{name} is empty (0 samples); give a recording of at least {MIN_DURATION_SECONDS:g} s")
    if not np.issubdtype(audio.dtype, np.floating) and not np.issubdtype(audio.dtype, np.integer):
        raise ValueError(f"{name} must be numeric samples, got dtype {audio.dtype}")
    if np.issubdtype(audio.dtype, np.integer):  # PCM integers -> [-1, 1)
        audio = audio.astype(np.float32) / float(np.iinfo(audio.dtype).max + 1)
    check_layout(audio)
    audio = audio.astype(np.float32, copy=False)
    finite = np.isfinite(audio)
    if not finite.all():
        raise ValueError(
            f"{name} contains {int((~finite).sum())} NaN/inf samples of {audio.size}; "
            "clean or re-export the recording"
        )
    duration = audio.shape[0] / sampling_rate
    if duration < MIN_DURATION_SECONDS:
        raise ValueError(
            f"{name} is {duration:.3f} s long; at least {MIN_DURATION_SECONDS:g} s (one beat at 30 BPM) is needed"
        )
    peak = float(np.abs(audio).max())
    if peak < SILENCE_PEAK:
        warnings.warn(f"{name} is silent (peak {peak:.2e} < {SILENCE_PEAK:g}); beats and drums will be guesses",
                      stacklevel=2)
    return audio


def load_audio(
    source: AudioSource, sampling_rate: int | None = None, target_sampling_rate: int = SAMPLING_RATE
) -> np.ndarray:
    """Load a path or an array as mono float32 at ``target_sampling_rate``.

    Args:
        source: a file path, or samples ``(num_samples,)`` / ``(num_samples, num_channels)``.
        sampling_rate: the array's rate in Hz (required for arrays, ignored for paths).
        target_sampling_rate: output rate in Hz.

    Returns:
        ``(num_samples,)`` float32 at ``target_sampling_rate``.
    """
    if isinstance(source, (str, os.PathLike)):
        audio, sampling_rate = read_audio(source)
        name = f"audio file {str(source)!r}"
    else:
        if sampling_rate is None:
            raise ValueError("an audio array needs its sampling_rate=; pass e.g. sampling_rate=44100")
        audio, name = np.asarray(source), "audio array"
    audio = validate_audio(audio, sampling_rate, name=name)
    return resample(to_mono(audio), sampling_rate, target_sampling_rate)


def save_audio(path: "str | os.PathLike", audio: np.ndarray, sampling_rate: int) -> Path:
    """Write a wav file (float32 -> 16-bit PCM) atomically: a killed write never leaves a half file.

    ``audio`` is ``(num_samples,)`` or ``(num_samples, num_channels)``; values are clipped to [-1, 1].
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(suffix=".wav", dir=path.parent)
    os.close(handle)
    try:
        soundfile.write(temp_name, np.clip(audio, -1.0, 1.0), int(sampling_rate), subtype="PCM_16", format="WAV")
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path
