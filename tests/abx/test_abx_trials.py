"""Trial sets from real held-back songs: the manifest, the two stimuli per trial, the split they come from, the
per-listener draw, and clear errors."""

import json
from collections import Counter

import numpy as np
import pretty_midi
import pytest
import soundfile
from helpers import REPO_ROOT

from drum_accomp.evaluation.abx.trials import (CLIP_SAMPLING_RATE, MULTITRACK_LICENCE, TRIALS_FILE, build_trial_set,
                                    choose_clip_start, draw_presentations, held_back_songs, load_trial_set, mix_clip)
from drum_accomp.evaluation.songs import split_songs
from drum_accomp.midi import drum_hits, load_midi
from drum_accomp.render import TARGET_PEAK


def test_manifest_names_song_source_licence_and_condition(trial_dir, shared_data):
    manifest = json.loads((trial_dir / TRIALS_FILE).read_text())
    assert manifest["num_trials"] == manifest["num_trials_requested"] == len(manifest["trials"]) == 2
    assert manifest["split"] == "validation" and manifest["licence"] == MULTITRACK_LICENCE
    assert "CC BY-NC-SA 4.0" in manifest["licence_note"] and "stratified_split" in manifest["songs_from"]
    validation, _ = held_back_songs("validation", shared_data / "multitrack", dataset=None)
    for trial in manifest["trials"]:
        assert trial["condition"] == "default-model" and trial["licence"] == MULTITRACK_LICENCE
        assert shared_data / trial["source"] in validation  # a held-back song
        assert trial["clip_seconds"] == manifest["seconds"] and trial["clip_start_s"] >= 0
        assert trial["num_hits"]["real"] > 0


def test_both_stimuli_are_the_clip_at_the_same_level(trial_dir):
    trial_set = load_trial_set(trial_dir)
    seconds = trial_set.manifest["seconds"]
    for trial in trial_set.trials:
        clips = {}
        for source in ("real", "generated"):
            audio, rate = soundfile.read(trial_set.audio_path(trial["trial_id"], source), dtype="float32")
            assert rate == CLIP_SAMPLING_RATE and audio.ndim == 1
            assert len(audio) == round(seconds * CLIP_SAMPLING_RATE)
            assert np.abs(audio).max() == pytest.approx(TARGET_PEAK, abs=0.01)  # peak-matched mixes
            clips[source] = audio
        assert not np.allclose(clips["real"], clips["generated"], atol=1e-3)
        for source, name in trial["midi"].items():
            midi = pretty_midi.PrettyMIDI(str(trial_dir / name))
            assert midi.instruments[0].is_drum
            assert len(midi.instruments[0].notes) == trial["num_hits"][source]
            assert all(note.start < seconds for note in midi.instruments[0].notes)


def test_fallback_split_matches_the_accompaniment_build(shared_data):
    """Without data/accompaniment the split is recomputed; where the build exists, it must agree with it."""
    dataset = REPO_ROOT / "data" / "accompaniment"
    recomputed, how = held_back_songs("validation", shared_data / "multitrack", dataset=None)
    assert len(recomputed) > 10 and "no build found" in how
    if not (dataset / "songs").is_dir():
        pytest.skip("no accompaniment build at data/accompaniment to compare the recomputed split with")
    from_build, _ = split_songs(dataset, "validation", shared_data / "multitrack", keep_transcribed=False)
    assert recomputed == from_build


def test_only_held_back_splits(shared_data):
    with pytest.raises(ValueError, match="'train' is not held back.*--split validation"):
        held_back_songs("train", shared_data / "multitrack")
    with pytest.raises(FileNotFoundError, match="song folder not found.*--data"):
        held_back_songs("validation", shared_data / "missing")


def test_clip_starts_on_a_downbeat_where_drums_play(shared_data):
    songs, _ = held_back_songs("validation", shared_data / "multitrack", dataset=None)
    midi = load_midi(songs[0])
    start = choose_clip_start(midi, 8.0)
    assert start is not None and np.isclose(midi.get_downbeats(), start).any()
    assert len(drum_hits(midi, require_drums=False).window(start, start + 8.0)) >= 8
    assert choose_clip_start(midi, midi.get_end_time() + 1.0) is None


def test_mix_clip_levels_and_fades():
    backing = np.full(CLIP_SAMPLING_RATE, 0.2, np.float32)
    drums = np.full(CLIP_SAMPLING_RATE, 0.05, np.float32)
    mix = mix_clip(backing, drums)
    assert mix[0] == 0.0 and mix[-1] == 0.0  # faded in and out
    assert mix[len(mix) // 2] == pytest.approx(TARGET_PEAK)  # drums at the backing's peak: 0.4 -> normalised


def test_each_listener_gets_a_recorded_random_draw():
    trials = [{"trial_id": f"t{index:02d}", "condition": "default-model"} for index in range(1, 13)]
    first = draw_presentations("ann", "abx", trials)
    def drawn(presentations):  # what was drawn, without the time of the draw
        return [(p.trial_id, p.position, p.a_source, p.x_source) for p in presentations]

    assert drawn(first) == drawn(draw_presentations("ann", "abx", trials))  # seeded by the listener id
    assert sorted(p.trial_id for p in first) == [t["trial_id"] for t in trials]
    assert [p.position for p in first] == list(range(12))
    draws = [p for listener in range(200) for p in draw_presentations(f"listener{listener}", "abx", trials)]
    counts = Counter((p.a_source, p.x_source) for p in draws)
    assert set(counts) == {("real", "real"), ("real", "generated"), ("generated", "real"),
                           ("generated", "generated")}
    assert min(counts.values()) > 0.2 * len(draws)  # each of the four about a quarter
    rating = draw_presentations("ann", "rating", trials)
    assert all(p.x_source is None for p in rating)


def test_trial_set_errors_say_how_to_fix(tmp_path, shared_data):
    with pytest.raises(FileNotFoundError, match="trial set folder not found.*drum-accomp abx build"):
        load_trial_set(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / TRIALS_FILE).write_text(json.dumps({"trials": []}))
    with pytest.raises(ValueError, match="is empty"):
        load_trial_set(tmp_path / "empty")
    with pytest.raises(ValueError, match="unknown genre 'polka'; choose one of"):
        build_trial_set(tmp_path / "new", genre="polka", data=shared_data / "multitrack", dataset=None,
                        drummer=lambda *args, **kwargs: None, log=None)
    with pytest.raises(FileExistsError, match="--overwrite"):
        build_trial_set(tmp_path / "empty", data=shared_data / "multitrack", dataset=None,
                        drummer=lambda *args, **kwargs: None, log=None)
    assert not (tmp_path / "new").exists()
