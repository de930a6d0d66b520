"""pipeline("drum-accompaniment") on a tiny random system (plumbing, not quality): every input form, outputs at
the input's length / rate / channels, user beats, genres, drum-audio paths, and clear errors for bad input."""

import warnings

import numpy as np
import pretty_midi
import pytest
import soundfile
from helpers import save_tiny_checkpoint
from transformers import pipeline

import drum_accomp  # noqa: F401  (registers the task)
from drum_accomp.midi import drum_hits
from drum_accomp.pipelines import DrumAccompanimentPipeline
from drum_accomp.render import render_midi


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """A tiny system saved as a pipeline checkpoint: model + feature extractor in one folder."""
    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny_system"))


@pytest.fixture(scope="module")
def drummer(tiny_checkpoint):
    return pipeline("drum-accompaniment", model=str(tiny_checkpoint))


@pytest.fixture(scope="module")
def backing(song_midi_path):
    """8 s of a real song's backing (Amazing Grace, no drums) rendered with FluidSynth, stereo at 22.05 kHz."""
    from drum_accomp.midi import load_midi, split_backing_and_drums

    mono = render_midi(split_backing_and_drums(load_midi(song_midi_path))[0], 22050, duration=8.0)
    return np.stack([mono, 0.5 * mono], axis=1)


def test_the_task_builds_our_pipeline(drummer):
    assert isinstance(drummer, DrumAccompanimentPipeline)


def test_outputs_keep_the_input_length_rate_and_channels(drummer, backing):
    result = drummer(backing, sampling_rate=22050, seed=0, drum_audio="vocoder")
    assert result["sampling_rate"] == 22050
    assert result["drums"].shape == (len(backing),) and result["drums"].dtype == np.float32
    assert result["mix"].shape == backing.shape
    assert np.abs(result["mix"]).max() <= 1.0
    assert isinstance(result["midi"], pretty_midi.PrettyMIDI)
    assert result["genre"] == "unknown"
    assert len(result["beats"]) >= 2 and set(result["downbeats"]) <= set(result["beats"])


def test_a_path_a_dict_and_a_list_give_the_same_drums_for_one_seed(drummer, backing, tmp_path):
    path = tmp_path / "backing.wav"
    soundfile.write(path, backing, 22050, subtype="FLOAT")
    from_path = drummer(str(path), seed=1, drum_audio="vocoder")
    from_dict = drummer({"raw": backing, "sampling_rate": 22050}, seed=1, drum_audio="vocoder")
    listed = drummer([str(path), str(path)], seed=1, drum_audio="vocoder")
    assert len(listed) == 2
    np.testing.assert_allclose(from_path["drums"], from_dict["drums"], atol=1e-5)
    np.testing.assert_allclose(listed[1]["drums"], from_path["drums"], atol=1e-5)


def test_user_beats_are_used_as_given(drummer, backing):
    beats = np.arange(0.5, 7.5, 0.5)
    result = drummer(backing, sampling_rate=22050, beats=beats, downbeats=beats[::3], seed=0)
    np.testing.assert_allclose(result["beats"], beats)
    np.testing.assert_allclose(result["downbeats"], beats[::3])
    assert result["beat_source"] == "user"


def test_midi_drum_audio_renders_the_returned_midi(drummer, backing):
    result = drummer(backing, sampling_rate=22050, seed=0, drum_audio="midi", temperature=1.5)
    notes = result["midi"].instruments[0].notes
    assert result["drums"].shape == (len(backing),)
    if notes:  # a random tiny model may write no hit at all; then the drums are silent
        assert np.abs(result["drums"]).max() > 0
    else:
        assert np.abs(result["drums"]).max() == 0


def test_a_genre_is_passed_through_and_an_unknown_one_is_refused_with_the_list(drummer, backing):
    assert drummer(backing, sampling_rate=22050, genre="Funk", seed=0)["genre"] == "funk"
    with pytest.raises(ValueError, match="unknown genre 'polka'; choose one of .*rock"):
        drummer(backing, sampling_rate=22050, genre="polka")


def test_a_higher_hit_threshold_writes_fewer_hits(drummer, backing):
    counts = [len(drum_hits(drummer(backing, sampling_rate=22050, seed=0, do_sample=False,
                                    hit_threshold=threshold)["midi"], require_drums=False))
              for threshold in (0.2, 0.5, 0.8)]
    assert counts[0] >= counts[1] >= counts[2] and counts[0] > counts[2]
    with pytest.raises(ValueError, match="hit_threshold=1.5"):
        drummer(backing, sampling_rate=22050, hit_threshold=1.5)
    with pytest.raises(ValueError, match="hit_threshold='dense'"):
        drummer(backing, sampling_rate=22050, hit_threshold="dense")


def test_genre_ensemble_changes_the_drums_only_without_a_genre(backing):
    default = pipeline("drum-accompaniment")  # the bundled model: its hits come from the backing hit head
    assert default.model.config.transformer.hit_genre_ensemble  # on by default

    def hits(**options):
        return drum_hits(default(backing, sampling_rate=22050, do_sample=False, **options)["midi"],
                         require_drums=False)

    ensemble, single = hits(genre_ensemble=True), hits(genre_ensemble=False)
    assert len(ensemble) > 0 and len(single) > 0
    assert len(ensemble) != len(single) or not np.allclose(ensemble.times, single.times)
    with_genre = [hits(genre="funk", genre_ensemble=flag) for flag in (True, False)]
    assert np.array_equal(with_genre[0].times, with_genre[1].times)  # a genre given: the ensemble does not apply
    with pytest.raises(ValueError, match="genre_ensemble='yes'"):
        default(backing, sampling_rate=22050, genre_ensemble="yes")


def test_bar_smoothing_is_on_in_the_default_model_and_can_be_turned_off(backing):
    default = pipeline("drum-accompaniment")
    assert 0 < default.model.config.transformer.hit_bar_smoothing <= 1  # on by default

    def hits(**options):
        return drum_hits(default(backing, sampling_rate=22050, do_sample=False, hit_threshold=0.3, **options)["midi"],
                         require_drums=False)

    smoothed, plain = hits(), hits(bar_smoothing=0.0)  # (this piano backing is sparse: a lower threshold)
    assert len(smoothed) > 0 and len(plain) > 0
    assert len(smoothed) != len(plain) or not np.allclose(smoothed.times, plain.times)
    for bad in (1.5, "more", True):
        with pytest.raises(ValueError, match="bar_smoothing=.*give a weight in"):
            default(backing, sampling_rate=22050, bar_smoothing=bad)


def test_bad_inputs_get_clear_errors(drummer, backing, tmp_path):
    with pytest.raises(ValueError, match="sampling_rate="):
        drummer(backing)
    with pytest.raises(FileNotFoundError, match="not found"):
        drummer(str(tmp_path / "missing.wav"))
    with pytest.raises(ValueError, match="empty"):
        drummer(np.zeros(0, np.float32), sampling_rate=16000)
    with pytest.raises(ValueError, match="drum_audio='mp3'"):
        drummer(backing, sampling_rate=22050, drum_audio="mp3")
    with pytest.raises(TypeError, match="unknown drum-accompaniment options"):
        drummer(backing, sampling_rate=22050, tempo=120)


def test_a_song_without_a_beat_falls_back_to_a_tempo_grid_and_says_so(drummer):
    silence = np.zeros(16000 * 4, np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = drummer(silence, sampling_rate=16000, seed=0)
    assert result["beat_source"] == "tempo estimate"
    assert any("steady" in str(warning.message) and "beats=" in str(warning.message) for warning in caught)
    assert len(result["beats"]) >= 2
    assert result["drums"].shape == silence.shape
