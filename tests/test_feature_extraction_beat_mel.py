"""BeatAlignedMelFeatureExtractor: librosa-equal mels on real audio, beat positions on hand-made grids, batching,
padding, errors that name the value, and save/load round trips."""

import logging

import librosa
import numpy as np
import pytest
import torch
from transformers import AutoFeatureExtractor

import drum_accomp
from drum_accomp import BeatAlignedMelFeatureExtractor
from drum_accomp.midi import midi_beats
from drum_accomp.render import render_midi

SAMPLING_RATE = 16000
EXCERPT_SECONDS = 20.0
UNKNOWN = 32  # max_beats_per_bar (8) * subdivisions_per_beat (4)


@pytest.fixture(scope="session")
def song_audio(song_midi_path) -> np.ndarray:
    """The first 20 s of the fixture song rendered with FluidSynth: real, dense, polyphonic audio."""
    return render_midi(song_midi_path, sampling_rate=SAMPLING_RATE, duration=EXCERPT_SECONDS)


@pytest.fixture
def feature_extractor() -> BeatAlignedMelFeatureExtractor:
    return BeatAlignedMelFeatureExtractor()


def librosa_mel_power(audio: np.ndarray) -> np.ndarray:
    """The reference: librosa's mel power ``(num_frames, num_mels)`` with the extractor's default settings."""
    return librosa.feature.melspectrogram(
        y=audio, sr=16000, n_fft=1024, hop_length=160, win_length=1024, n_mels=80, fmin=0, fmax=8000, power=2.0,
        center=True,
    ).T


def reference_positions(frame_times, beats, downbeat_beat_numbers, subdivisions=4):
    """Slow, obvious per-frame labelling to check the vectorized one against (downbeats given as beat numbers)."""
    edges = list(beats) + [2 * beats[-1] - beats[-2]]
    positions, flags = [], []
    for time in frame_times:
        position, flag = UNKNOWN, 0
        for k in range(len(beats)):
            if edges[k] <= time < edges[k + 1]:
                bar_start = max(d for d in downbeat_beat_numbers if d <= k)
                subdivision = int((time - edges[k]) / (edges[k + 1] - edges[k]) * subdivisions + 1e-6)
                position = (k - bar_start) * subdivisions + subdivision
                flag = int(k == bar_start and subdivision == 0)
        positions.append(position)
        flags.append(flag)
    return np.array(positions), np.array(flags)


# ---------------------------------------------------------------------------------------------------------------
# Step 1: mel spectrogram
# ---------------------------------------------------------------------------------------------------------------


def test_mel_power_equals_librosa_within_1e_minus_4_relative_error_on_real_audio(feature_extractor, song_audio):
    ours = feature_extractor.mel_power(song_audio)
    reference = librosa_mel_power(song_audio)
    assert ours.shape == reference.shape == (1 + len(song_audio) // 160, 80)
    assert ours.dtype == np.float32

    # global: worst absolute difference relative to the loudest bin
    assert np.abs(ours - reference).max() / np.abs(reference).max() < 1e-4
    # per element, wherever the reference is within 60 dB of the loudest bin (float32 FFT rounding dominates below)
    audible = reference > 1e-6 * reference.max()
    assert audible.mean() > 0.5
    assert (np.abs(ours - reference)[audible] / reference[audible]).max() < 1e-4


def test_long_signals_in_stft_blocks_give_the_one_pass_result(feature_extractor, song_audio, monkeypatch):
    import drum_accomp.feature_extraction_beat_mel as module

    one_pass = feature_extractor.mel_spectrogram(song_audio)
    monkeypatch.setattr(module, "MEL_CHUNK_FRAMES", 97)  # many blocks, the last one short
    blocked = feature_extractor.mel_spectrogram(song_audio)
    assert blocked.shape == one_pass.shape == (1 + len(song_audio) // feature_extractor.hop_length, 80)
    np.testing.assert_allclose(blocked, one_pass, atol=1e-5)


def test_mel_spectrogram_is_natural_log_of_mel_power_clamped_at_log_floor(feature_extractor, song_audio):
    power = feature_extractor.mel_power(song_audio)
    log_mel = feature_extractor.mel_spectrogram(song_audio)
    np.testing.assert_allclose(log_mel, np.log(np.maximum(power, 1e-5)), rtol=1e-6, atol=1e-6)
    silence = feature_extractor.mel_spectrogram(np.zeros(16000, dtype=np.float32))
    np.testing.assert_allclose(silence, np.log(1e-5), rtol=1e-6)
    assert feature_extractor.padding_value == pytest.approx(np.log(1e-5))


def test_derived_values_follow_the_config(feature_extractor):
    assert feature_extractor.frame_rate == 100.0
    assert feature_extractor.num_mels == 80
    assert feature_extractor.num_frequency_bins == 513
    assert feature_extractor.unknown_position_id == UNKNOWN
    assert feature_extractor.num_beat_positions == UNKNOWN + 1
    assert feature_extractor.num_frames(16000) == 101
    assert feature_extractor.frame_times(3).tolist() == [0.0, 0.01, 0.02]


# ---------------------------------------------------------------------------------------------------------------
# Step 2: beat positions
# ---------------------------------------------------------------------------------------------------------------


def test_beat_positions_on_a_4_4_grid_count_sixteenths_from_each_downbeat(feature_extractor):
    beats = 1.0 + 0.5 * np.arange(10)  # 120 BPM from 1 s: beats at 1.0 ... 5.5
    downbeats = [1.0, 3.0, 5.0]
    positions, flags = feature_extractor.beat_positions(beats, downbeats, num_frames=700)
    assert positions.shape == flags.shape == (700,) and positions.dtype == flags.dtype == np.int64

    assert (positions[:100] == UNKNOWN).all()  # before the first beat
    assert positions[100] == 0 and flags[100] == 1  # on the first downbeat
    assert positions[112] == 0 and flags[112] == 1  # 1.12 s: still the first sixteenth
    assert positions[113] == 1 and flags[113] == 0  # 1.13 s: second sixteenth
    assert positions[150] == 4  # beat 2 of the bar
    assert positions[299] == 15  # last sixteenth of the bar
    assert positions[300] == 0 and flags[300] == 1  # next bar
    assert positions[599] == 7  # the last beat (5.5 s) lasts one beat, like the one before it
    assert (positions[600:] == UNKNOWN).all() and not flags[600:].any()  # after the last beat

    expected_positions, expected_flags = reference_positions(feature_extractor.frame_times(700), beats, [0, 4, 8])
    np.testing.assert_array_equal(positions, expected_positions)
    np.testing.assert_array_equal(flags, expected_flags)
    assert flags.sum() == 3 * 13  # 3 downbeats x 13 frames in a 125 ms sixteenth at 10 ms hops


def test_beat_positions_on_a_3_4_grid_with_a_tempo_change_follow_each_beat(feature_extractor):
    # three bars of 3/4: 0.5 s beats, then faster 0.4 s beats; downbeats on every third beat
    beats = np.concatenate([0.5 * np.arange(6), 3.0 + 0.4 * np.arange(3)])
    downbeats = beats[::3]
    positions, flags = feature_extractor.beat_positions(beats, downbeats, num_frames=500)

    expected_positions, expected_flags = reference_positions(feature_extractor.frame_times(500), beats, [0, 3, 6])
    np.testing.assert_array_equal(positions, expected_positions)
    np.testing.assert_array_equal(flags, expected_flags)
    known = positions[positions != UNKNOWN]
    assert set(known.tolist()) == set(range(12))  # 3 beats x 4 sixteenths, nothing of a 4th beat
    assert positions[300] == 0 and positions[340] == 4  # the fast bar starts at 3.0 s, its beat 2 at 3.4 s
    assert (positions[420:] == UNKNOWN).all()  # last beat (3.8 s) ends 0.4 s later


def test_beat_positions_without_downbeats_assume_beats_per_bar(feature_extractor):
    beats = 0.5 * np.arange(9)
    positions, flags = feature_extractor.beat_positions(beats, None, num_frames=450)
    assert positions[0] == 0 and positions[200] == 0 and positions[150] == 12  # 4/4: beat 4 starts bar 2
    assert np.flatnonzero(np.diff(np.concatenate([[0], flags])) == 1).tolist() == [0, 200, 400]

    positions_3, _ = feature_extractor.beat_positions(beats, [], num_frames=450, beats_per_bar=3)
    assert positions_3[150] == 0 and positions_3[100] == 8


def test_beat_positions_count_a_pickup_back_from_the_first_downbeat(feature_extractor):
    beats = 0.5 * np.arange(10)
    positions, _ = feature_extractor.beat_positions(beats, [0.5, 2.5], num_frames=500)  # 4/4, one pickup beat
    assert positions[0] == 12  # the pickup is beat 4 of the bar before
    assert positions[50] == 0


def test_beat_positions_are_unknown_for_bars_longer_than_max_beats_and_for_under_two_beats(feature_extractor):
    beats = 0.5 * np.arange(12)
    positions, _ = feature_extractor.beat_positions(beats, [0.0], num_frames=600)  # one 12-beat "bar"
    assert positions[350] == 28  # beat 8 (index 7) still has positions
    assert (positions[400:] == UNKNOWN).all()  # beats 9-12 do not fit in max_beats_per_bar=8

    for beats in (None, [], [1.0]):
        positions, flags = feature_extractor.beat_positions(beats, None, num_frames=50)
        assert (positions == UNKNOWN).all() and not flags.any()


def test_beat_positions_reject_unsorted_beats_naming_the_index(feature_extractor):
    with pytest.raises(ValueError, match=r"beat_times\[2\]=0\.5"):
        feature_extractor.beat_positions([0.0, 1.0, 0.5], None, num_frames=10)


def test_downbeat_flags_mark_the_midi_downbeats_of_a_real_song(feature_extractor, song_audio, song_midi_path):
    beats, downbeats = midi_beats(song_midi_path)
    features = feature_extractor(song_audio, sampling_rate=16000, beat_times=beats, downbeat_times=downbeats)
    flags = features["downbeat_flags"][0]
    frame_times = feature_extractor.frame_times(len(flags))
    bar_starts = frame_times[np.flatnonzero(np.diff(np.concatenate([[0], flags])) == 1)]
    expected = downbeats[(downbeats >= beats[0]) & (downbeats < frame_times[-1])]
    np.testing.assert_allclose(bar_starts, expected, atol=0.01)  # within one hop


# ---------------------------------------------------------------------------------------------------------------
# __call__: batching, padding, tensors, errors
# ---------------------------------------------------------------------------------------------------------------


def test_batch_is_padded_to_the_longest_with_mask_padding_value_and_unknown_positions(feature_extractor, song_audio):
    long, short = song_audio[: 3 * 16000], song_audio[16000 : 16000 + 16000 + 80]
    features = feature_extractor(
        [long, short], sampling_rate=16000, beat_times=[0.5 * np.arange(7), None], return_tensors="np"
    )
    assert set(features) == {"mel_features", "beat_positions", "downbeat_flags", "attention_mask"}
    assert features["mel_features"].shape == (2, 301, 80) and features["mel_features"].dtype == np.float32
    assert features["beat_positions"].shape == features["downbeat_flags"].shape == (2, 301)
    assert features["attention_mask"].sum(axis=1).tolist() == [301, 101]

    # every item equals its own unbatched features; the padding is silence and unknown
    np.testing.assert_array_equal(features["mel_features"][0], feature_extractor.mel_spectrogram(long))
    np.testing.assert_array_equal(features["mel_features"][1, :101], feature_extractor.mel_spectrogram(short))
    assert (features["mel_features"][1, 101:] == feature_extractor.padding_value).all()
    assert (features["beat_positions"][1] == UNKNOWN).all()
    assert features["beat_positions"][0, 0] == 0 and features["downbeat_flags"][0, 0] == 1


def test_return_tensors_pt_and_np_hold_the_same_values(feature_extractor, song_audio):
    audio = [song_audio[:32000], song_audio[:20000]]
    as_numpy = feature_extractor(audio, sampling_rate=16000, beat_times=[[0.0, 0.5, 1.0], [0.2, 0.7]], return_tensors="np")
    as_torch = feature_extractor(audio, sampling_rate=16000, beat_times=[[0.0, 0.5, 1.0], [0.2, 0.7]], return_tensors="pt")
    for name, value in as_torch.items():
        assert isinstance(value, torch.Tensor) and isinstance(as_numpy[name], np.ndarray)
        np.testing.assert_array_equal(value.numpy(), as_numpy[name])
    assert as_torch["beat_positions"].dtype == torch.int64


def test_pt_features_can_feed_a_model_that_trains(feature_extractor, song_audio):
    # tensors made under torch.inference_mode cannot be saved for backward; the output must not be one
    features = feature_extractor(song_audio[:16000], sampling_rate=16000, return_tensors="pt")
    layer = torch.nn.Linear(80, 2)
    layer(features["mel_features"]).sum().backward()
    assert layer.weight.grad is not None


def test_max_length_padding_truncation_and_multiple_of(feature_extractor, song_audio):
    audio = song_audio[: 2 * 16000]  # 201 frames
    padded = feature_extractor(audio, sampling_rate=16000, padding="max_length", max_length=256)
    assert padded["mel_features"].shape == (1, 256, 80) and padded["attention_mask"].sum() == 201

    cut = feature_extractor(audio, sampling_rate=16000, truncation=True, max_length=120)
    np.testing.assert_array_equal(cut["mel_features"][0], feature_extractor.mel_spectrogram(audio)[:120])

    rounded = feature_extractor(audio, sampling_rate=16000, pad_to_multiple_of=4)
    assert rounded["mel_features"].shape[1] == 204

    with pytest.raises(ValueError, match="max_length=100"):
        feature_extractor(audio, sampling_rate=16000, padding="max_length", max_length=100)


def test_do_not_pad_returns_per_item_lists(feature_extractor, song_audio):
    features = feature_extractor([song_audio[:16000], song_audio[:8000]], sampling_rate=16000, padding=False)
    assert [len(mel) for mel in features["mel_features"]] == [101, 51]
    with pytest.raises(ValueError, match="different lengths"):
        feature_extractor([song_audio[:16000], song_audio[:8000]], sampling_rate=16000, padding=False, return_tensors="pt")


def test_wrong_sampling_rate_raises_and_names_the_rate(feature_extractor, song_audio):
    with pytest.raises(ValueError, match="got 44100 Hz") as error:
        feature_extractor(song_audio, sampling_rate=44100)
    assert "expected 16000 Hz" in str(error.value) and "load_audio" in str(error.value)


def test_missing_sampling_rate_warns(feature_extractor, song_audio, caplog):
    with caplog.at_level(logging.WARNING):
        feature_extractor(song_audio[:16000])
    assert "sampling_rate" in caplog.text


def test_multi_channel_audio_raises_with_the_fix(feature_extractor, song_audio):
    stereo = np.stack([song_audio, song_audio], axis=1)
    with pytest.raises(ValueError, match=r"shape \(320000, 2\).*to_mono"):
        feature_extractor(stereo, sampling_rate=16000)
    with pytest.raises(ValueError, match=r"raw_audio\[1\]"):
        feature_extractor([song_audio, stereo], sampling_rate=16000)


def test_bad_samples_and_beat_lists_raise(feature_extractor):
    with pytest.raises(ValueError, match="NaN"):
        feature_extractor(np.full(1600, np.nan, dtype=np.float32), sampling_rate=16000)
    with pytest.raises(ValueError, match="empty"):
        feature_extractor(np.zeros(0, dtype=np.float32), sampling_rate=16000)
    with pytest.raises(ValueError, match="PCM"):
        feature_extractor(np.zeros(1600, dtype=np.int16), sampling_rate=16000)
    with pytest.raises(ValueError, match="list of 2 entries"):
        feature_extractor([np.zeros(1600, np.float32)] * 2, sampling_rate=16000, beat_times=[0.0, 0.5])


# ---------------------------------------------------------------------------------------------------------------
# save / load
# ---------------------------------------------------------------------------------------------------------------


def test_save_pretrained_from_pretrained_round_trip_keeps_config_and_outputs(tmp_path, song_audio):
    original = BeatAlignedMelFeatureExtractor(feature_size=64, fmax=7000.0, subdivisions_per_beat=3)
    original.save_pretrained(tmp_path)
    assert (tmp_path / "preprocessor_config.json").is_file()
    loaded = BeatAlignedMelFeatureExtractor.from_pretrained(tmp_path)

    assert loaded.to_dict() == original.to_dict()
    assert "_cached_mel_filters" not in loaded.to_json_string()
    inputs = dict(sampling_rate=16000, beat_times=0.5 * np.arange(8), return_tensors="np")
    for name, value in original(song_audio[:64000], **inputs).items():
        np.testing.assert_array_equal(loaded(song_audio[:64000], **inputs)[name], value)


def test_auto_feature_extractor_loads_the_saved_class_offline(tmp_path):
    assert "BeatAlignedMelFeatureExtractor" in drum_accomp.__all__
    BeatAlignedMelFeatureExtractor(hop_length=320).save_pretrained(tmp_path)
    loaded = AutoFeatureExtractor.from_pretrained(tmp_path)
    assert isinstance(loaded, BeatAlignedMelFeatureExtractor) and loaded.hop_length == 320
