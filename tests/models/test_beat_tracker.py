"""DrumBeatTracker: network shapes and training plumbing, the post-processor on synthetic activations with known
answers, the beat-tracker backend, and (with the bundled checkpoint) a real rendered song tracked end to end."""

import mir_eval
import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModel

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.beats import DEFAULT_DRUM_BEAT_TRACKER, BeatTrackingResult, get_beat_tracker, track_beats
from drum_accomp.midi import load_midi, midi_beats
from drum_accomp.models.beat_tracker import (DrumBeatTracker, DrumBeatTrackerConfig, decode_beats,
                                             training_targets)
from drum_accomp.models.beat_tracker.postprocessing import bar_positions
from drum_accomp.render import render_backing_and_drums

FRAME_RATE = 100.0


@pytest.fixture
def tiny_config() -> DrumBeatTrackerConfig:
    return DrumBeatTrackerConfig(hidden_size=8, num_blocks=3, dropout=0.0)


@pytest.fixture
def tiny_model(tiny_config) -> DrumBeatTracker:
    torch.manual_seed(0)
    return DrumBeatTracker(tiny_config).eval()


def synthetic_activations(beats: np.ndarray, downbeats: np.ndarray, seconds: float) -> np.ndarray:
    """``(num_frames, 2)`` activations peaking (0.9, neighbours 0.4) at the given times, plus a little noise."""
    num_frames = int(seconds * FRAME_RATE)
    activations = 0.02 * np.random.default_rng(0).random((num_frames, 2))
    for column, times in enumerate((beats, downbeats)):
        frames = np.round(np.asarray(times) * FRAME_RATE).astype(int)
        for shift, value in ((-1, 0.4), (1, 0.4), (0, 0.9)):
            activations[np.clip(frames + shift, 0, num_frames - 1), column] = value
    return activations


# ----- network -----------------------------------------------------------------------------------------------------


def test_forward_gives_per_frame_logits_and_a_finite_loss_with_gradients(tiny_model):
    mels = torch.randn(2, 300, 80) * 3 - 6
    targets = torch.from_numpy(np.stack([training_targets([10, 60, 110], [10, 110], 300, 0.5)] * 2))
    tiny_model.train()
    output = tiny_model(mel_features=mels, beat_targets=targets)
    assert output.logits.shape == (2, 300, 2)
    assert torch.isfinite(output.loss)
    output.loss.backward()
    assert tiny_model.input_conv.weight.grad.abs().sum() > 0


def test_padding_frames_are_left_out_of_the_loss(tiny_model):
    mels = torch.randn(1, 200, 80)
    targets = torch.from_numpy(training_targets([20, 70], [20], 200, 0.5))[None]
    mask = torch.ones(1, 200)
    mask[:, 150:] = 0
    reference = tiny_model(mel_features=mels, beat_targets=targets, attention_mask=mask).loss
    changed_targets = targets.clone()
    changed_targets[:, 150:] = 1.0
    assert torch.allclose(tiny_model(mel_features=mels, beat_targets=changed_targets, attention_mask=mask).loss,
                          reference)


def test_training_targets_mark_annotations_and_their_neighbours():
    targets = training_targets(np.array([0, 5]), np.array([5]), 8, 0.5)
    assert targets[:, 0].tolist() == [1.0, 0.5, 0.0, 0.0, 0.5, 1.0, 0.5, 0.0]
    assert targets[:, 1].tolist() == [0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 0.5, 0.0]


def test_save_and_load_keep_the_activations(tmp_path, tiny_model):
    tiny_model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    loaded = AutoModel.from_pretrained(tmp_path)
    assert isinstance(loaded, DrumBeatTracker)
    assert isinstance(AutoConfig.from_pretrained(tmp_path), DrumBeatTrackerConfig)
    mels = np.random.default_rng(0).normal(-6, 3, (400, 80)).astype(np.float32)
    np.testing.assert_allclose(loaded.activations(mels), tiny_model.activations(mels), atol=1e-6)


def test_activations_are_deterministic_probabilities_of_any_length(tiny_model):
    mels = np.random.default_rng(1).normal(-6, 3, (1234, 80)).astype(np.float32)
    first, second = tiny_model.activations(mels), tiny_model.activations(mels)
    assert first.shape == (1234, 2) and first.dtype == np.float32
    assert ((first >= 0) & (first <= 1)).all()
    np.testing.assert_array_equal(first, second)


def test_bad_inputs_raise_clear_errors(tiny_model):
    with pytest.raises(ValueError, match=r"\(batch_size, num_frames, 80\)"):
        tiny_model(mel_features=torch.zeros(1, 100, 64))
    with pytest.raises(ValueError, match="one recording"):
        tiny_model.activations(np.zeros((2, 100, 80), dtype=np.float32))
    with pytest.raises(ValueError, match="odd"):
        DrumBeatTrackerConfig(kernel_size=4)
    with pytest.raises(ValueError, match="beats_per_bar_options"):
        DrumBeatTrackerConfig(beats_per_bar_options=[])
    with pytest.raises(ValueError, match=r"\(num_frames, 2\)"):
        decode_beats(np.zeros((100, 3)), DrumBeatTrackerConfig())


# ----- post-processing on synthetic activations --------------------------------------------------------------------


@pytest.mark.parametrize("bpm, beats_per_bar", [(120.0, 4), (90.0, 3), (75.0, 4)])
def test_post_processor_finds_the_beats_and_the_bar_of_a_steady_song(bpm, beats_per_bar):
    beats = np.arange(1.5, 40.0, 60.0 / bpm)
    downbeats = beats[::beats_per_bar]
    decoded = decode_beats(synthetic_activations(beats, downbeats, 40.5), DrumBeatTrackerConfig())
    assert decoded.beats_per_bar == beats_per_bar
    assert mir_eval.beat.f_measure(beats, decoded.beats) > 0.98  # the dynamic programme may skip the very first beat
    assert mir_eval.beat.f_measure(downbeats, decoded.downbeats) > 0.98
    assert abs(decoded.bpm - bpm) < 1.0
    assert not decoded.unsure and decoded.confidence > 0.8


def test_post_processor_follows_a_tempo_change():
    slow = np.arange(0.2, 30.0, 0.6)  # 100 bpm for 30 s, then 140 bpm
    fast = slow[-1] + np.cumsum(np.full(70, 60.0 / 140.0))
    beats = np.concatenate([slow, fast])
    beats = beats[beats < 58.0]
    downbeats = beats[::4]
    decoded = decode_beats(synthetic_activations(beats, downbeats, 60.0), DrumBeatTrackerConfig())
    assert mir_eval.beat.f_measure(beats, decoded.beats) > 0.95
    assert mir_eval.beat.f_measure(downbeats, decoded.downbeats) > 0.95


def test_bar_positions_follow_a_meter_change_from_four_to_three():
    scores = np.array([0.9, 0.1, 0.1, 0.1] * 4 + [0.9, 0.1, 0.1] * 6)
    positions, lengths = bar_positions(scores, DrumBeatTrackerConfig(meter_change_probability=0.05))
    assert positions.tolist() == [0, 1, 2, 3] * 4 + [0, 1, 2] * 6
    assert lengths.tolist() == [4] * 16 + [3] * 18


def test_silence_gives_no_beats_and_an_unsure_result():
    decoded = decode_beats(np.zeros((3000, 2)), DrumBeatTrackerConfig())
    assert len(decoded.beats) == 0 and decoded.unsure and decoded.confidence == 0.0


# ----- backend ------------------------------------------------------------------------------------------------------


def test_backend_tracks_a_waveform_or_given_mels_and_reports_confidence(tmp_path, tiny_model):
    tiny_model.save_pretrained(tmp_path / "tracker")
    tracker = get_beat_tracker("drum", model=tmp_path / "tracker")
    audio = np.random.default_rng(0).normal(0, 0.1, 16000 * 6).astype(np.float32)
    result = tracker(audio, 16000)
    assert isinstance(result, BeatTrackingResult) and result.backend == "drum"
    assert result.confidence is not None and 0.0 <= result.confidence <= 1.0
    from_mels = tracker(audio, 16000, mel_features=tracker.feature_extractor.mel_spectrogram(audio))
    np.testing.assert_array_equal(from_mels.beats, result.beats)
    assert set(result.to_dict()) >= {"beats", "downbeats", "confidence", "unsure"}


def test_backend_names_a_folder_without_a_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json missing"):
        get_beat_tracker("drum", model=tmp_path)


@pytest.mark.skipif(not (DEFAULT_DRUM_BEAT_TRACKER / "model.safetensors").is_file(),
                    reason="the bundled beat tracker checkpoint is not there")
def test_bundled_tracker_follows_a_real_rendered_backing_track_in_three_four(song_midi_path):
    """End to end on a real song (Amazing Grace, 3/4, 75 BPM; backing rendered with FluidSynth). The song is in the
    tracker's training split, so this guards the plumbing, not the accuracy (scripts/evaluate_beat_trackers.py
    measures that on validation songs)."""
    midi = load_midi(song_midi_path)
    backing, _ = render_backing_and_drums(midi, sampling_rate=16000)
    backing = backing[:16000 * 60]
    reference_beats, _ = midi_beats(midi)
    result = track_beats(backing, 16000)  # the default backend: ours
    assert result.backend == "drum" and not result.unsure
    assert result.beats_per_bar == 3
    reference_beats = mir_eval.beat.trim_beats(reference_beats[reference_beats < len(backing) / 16000])
    assert mir_eval.beat.f_measure(reference_beats, mir_eval.beat.trim_beats(result.beats)) > 0.8


def test_digital_silence_gets_no_beats(tiny_model):
    silence = np.full((500, 80), np.log(tiny_model.config.log_floor), dtype=np.float32)
    assert np.all(tiny_model.activations(silence) == 0.0)
    assert len(tiny_model.track(silence).beats) == 0
