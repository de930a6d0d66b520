"""audio.py: loading to 16 kHz mono float32, and the errors bad input gets."""

import warnings

import numpy as np
import pytest
import soundfile

from drum_accomp.audio import MIN_DURATION_SECONDS, SAMPLING_RATE, load_audio, read_audio, save_audio


def _tone(seconds=3.0, rate=44100, channels=2):
    time = np.arange(int(seconds * rate)) / rate
    mono = 0.5 * np.sin(2 * np.pi * 440.0 * time).astype(np.float32)
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


@pytest.mark.parametrize("extension", ["wav", "flac", "ogg", "mp3"])
def test_load_audio_reads_every_format_to_16khz_mono_float32(tmp_path, extension):
    path = tmp_path / f"tone.{extension}"
    soundfile.write(path, _tone(), 44100)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 3.0 * SAMPLING_RATE) <= 0.05 * SAMPLING_RATE  # mp3 adds encoder padding
    assert 0.3 < np.abs(audio).max() < 0.7


def test_load_audio_resamples_arrays_and_keeps_the_tone_frequency():
    audio = load_audio(_tone(channels=1), sampling_rate=44100)
    spectrum = np.abs(np.fft.rfft(audio))
    peak_hz = np.argmax(spectrum) * SAMPLING_RATE / len(audio)
    assert abs(peak_hz - 440.0) < 2.0


def test_save_then_read_round_trip_keeps_samples(tmp_path):
    audio = _tone(channels=1, rate=16000)
    path = save_audio(tmp_path / "sub" / "x.wav", audio, 16000)
    restored, rate = read_audio(path)
    assert rate == 16000 and restored.shape == (len(audio), 1)
    np.testing.assert_allclose(restored[:, 0], audio, atol=1e-4)
    assert [p.name for p in path.parent.iterdir()] == ["x.wav"]  # no temp file left behind


def test_missing_file_raises_file_not_found_naming_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        load_audio(tmp_path / "nope.wav")


def test_non_audio_file_raises_value_error(tmp_path, groove_midi_path):
    with pytest.raises(ValueError, match="cannot decode"):
        load_audio(groove_midi_path)
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all")
    with pytest.raises(ValueError, match="cannot decode"):
        load_audio(text)


def test_empty_audio_raises(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        load_audio(np.zeros(0, dtype=np.float32), sampling_rate=16000)
    path = tmp_path / "empty.wav"
    soundfile.write(path, np.zeros((0, 1), dtype=np.float32), 16000)
    with pytest.raises(ValueError, match="no samples"):
        load_audio(path)


def test_nan_and_inf_raise_with_the_count():
    audio = np.full(3 * 16000, np.nan, dtype=np.float32)
    with pytest.raises(ValueError, match="48000 NaN/inf"):
        load_audio(audio, sampling_rate=16000)
    audio = _tone(channels=1, rate=16000)
    audio[10] = np.inf
    with pytest.raises(ValueError, match="1 NaN/inf"):
        load_audio(audio, sampling_rate=16000)


def test_too_short_audio_raises_with_its_duration():
    with pytest.raises(ValueError, match=r"0\.500 s long.*30 BPM"):
        load_audio(np.ones(8000, dtype=np.float32) * 0.1, sampling_rate=16000)
    assert MIN_DURATION_SECONDS == 2.0


def test_silent_audio_warns_but_loads():
    with pytest.warns(UserWarning, match="silent"):
        audio = load_audio(np.zeros(3 * 16000, dtype=np.float32), sampling_rate=16000)
    assert audio.shape == (48000,)


def test_array_without_sampling_rate_and_bad_rates_raise():
    with pytest.raises(ValueError, match="sampling_rate="):
        load_audio(_tone(channels=1))
    with pytest.raises(ValueError, match="positive integer"):
        load_audio(_tone(channels=1), sampling_rate=-5)


def test_channels_first_array_raises_with_a_fix():
    with pytest.raises(ValueError, match="channels-first"):
        load_audio(_tone(channels=2).T, sampling_rate=44100)


def test_integer_pcm_is_scaled_to_unit_range():
    pcm = (_tone(channels=1, rate=16000) * 32767).astype(np.int16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        audio = load_audio(pcm, sampling_rate=16000)
    assert 0.45 < np.abs(audio).max() < 0.55
