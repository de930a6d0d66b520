"""Baselines: the rock pattern lands on the beat grid; replaying the prompt loops its last bars."""

import numpy as np
import pytest

from drum_accomp.data.windows import midi_downbeats
from drum_accomp.evaluation.baselines import replay_last_bars, rock_pattern
from drum_accomp.evaluation.metrics import drum_hit_scores
from drum_accomp.midi import DRUM_CLASSES, drum_hits, load_midi, midi_beats

KICK, SNARE, HAT = (DRUM_CLASSES.index(name) for name in ("kick", "snare", "closed_hihat"))


def test_rock_pattern_hits_sit_on_the_beat_grid_of_a_real_gmd_file(groove_midi_path):
    beats, downbeats = midi_beats(groove_midi_path)
    hits = rock_pattern(beats, downbeats)
    first_bar = np.abs(beats - downbeats[0]).argmin()
    np.testing.assert_allclose(hits.times[hits.classes == KICK], beats[first_bar::2])
    np.testing.assert_allclose(hits.times[hits.classes == SNARE], beats[first_bar + 1::2])
    hats = hits.times[hits.classes == HAT]
    assert len(hats) == 2 * len(beats)
    np.testing.assert_allclose(hats[1:-1:2], (beats[:-1] + beats[1:]) / 2)  # off-beats halfway
    assert np.all(np.diff(hits.times) >= 0)
    assert set(np.unique(hits.classes)) == {KICK, SNARE, HAT}


def test_rock_pattern_in_three_four_restarts_each_bar():
    beats = np.arange(12) * 0.5
    hits = rock_pattern(beats, beats[::3])
    np.testing.assert_allclose(hits.times[hits.classes == KICK], beats[[0, 2, 3, 5, 6, 8, 9, 11]])


def test_rock_pattern_rejects_too_few_beats():
    with pytest.raises(ValueError, match="at least 2"):
        rock_pattern(np.array([1.0]))


def test_replay_of_a_real_prompt_repeats_its_last_two_bars(groove_midi_path):
    midi = load_midi(groove_midi_path)
    hits, bar_lines = drum_hits(midi), midi_downbeats(midi)
    prompt_lines = bar_lines[:9]  # an 8-bar prompt
    prompt = hits.window(0.0, prompt_lines[-1])
    continuation = replay_last_bars(prompt, prompt_lines, last_bars=2, num_bars=4)
    loop = prompt.window(prompt_lines[6], prompt_lines[8])
    bar_length = prompt_lines[8] - prompt_lines[7]
    # bars 1-2 and 3-4 of the continuation each replay the loop, shifted by whole bars (constant tempo here)
    for repeat in range(2):
        start = prompt_lines[8] + 2 * repeat * bar_length
        part = continuation.window(start, start + 2 * bar_length)
        np.testing.assert_allclose(part.times, loop.times, atol=1e-9)
        np.testing.assert_array_equal(part.classes, loop.classes)
        np.testing.assert_array_equal(part.velocities, loop.velocities)


def test_replay_follows_target_bar_lines_and_scores_against_the_real_continuation(groove_midi_path):
    midi = load_midi(groove_midi_path)
    hits, bar_lines = drum_hits(midi), midi_downbeats(midi)
    prompt = hits.window(0.0, bar_lines[8])
    continuation = replay_last_bars(prompt, bar_lines[:9], last_bars=2, target_downbeats=bar_lines[8:13])
    assert continuation.times.min() >= bar_lines[8] and continuation.times.max() < bar_lines[12]
    real = hits.window(0.0, bar_lines[12])
    real = type(real)(real.times[real.times >= bar_lines[8]], real.classes[real.times >= bar_lines[8]],
                      real.velocities[real.times >= bar_lines[8]])
    scores = drum_hit_scores(real, continuation)
    assert 0.2 < scores.micro_f1 <= 1.0  # a funk groove repeats, but not exactly


def test_replay_needs_enough_prompt_bars():
    from drum_accomp.midi import DrumHits

    empty = DrumHits(np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64))
    with pytest.raises(ValueError, match="bar lines"):
        replay_last_bars(empty, np.array([0.0, 2.0]), last_bars=2, num_bars=1)
