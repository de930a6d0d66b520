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


def _hits(*triples):
    from drum_accomp.midi import DrumHits

    array = np.asarray(triples, dtype=np.float64).reshape(-1, 3)
    return DrumHits(array[:, 0], array[:, 1].astype(np.int64), array[:, 2].astype(np.int64))


def test_prompt_bar_majority_keeps_what_most_bars_play_at_the_median_microtiming():
    from drum_accomp.evaluation.baselines import prompt_bar_majority

    lines = np.arange(5) * 2.0  # four 2 s bars: a 16th is 0.125 s
    prompt = _hits((0.01, KICK, 100), (2.0, KICK, 90), (4.03, KICK, 110), (6.0, KICK, 80),  # kick on 1: 4 bars
                   (1.0, SNARE, 100), (3.02, SNARE, 100), (5.5, SNARE, 100),  # snare on 3: 2 bars; on 4: 1
                   (1.99, HAT, 70), (3.99, HAT, 70))  # just before the downbeats of bars 2 and 3: cell 0
    continuation = prompt_bar_majority(prompt, lines, np.array([8.0, 10.0, 12.0]), cells_per_bar=16)
    assert continuation.times.min() >= 8.0 and continuation.times.max() < 12.0
    for bar_start in (8.0, 10.0):
        bar = continuation.window(bar_start, bar_start + 2.0)
        assert sorted(zip(bar.classes.tolist(), np.round(bar.times, 3).tolist())) == [
            (KICK, 0.005), (SNARE, 1.01), (HAT, 1.99)]  # the late hats stay at the end of the bar
        assert bar.velocities[bar.classes == KICK].tolist() == [95]
    assert len(prompt_bar_majority(prompt, lines, np.array([8.0, 10.0]), min_share=1.0)) == 1  # only the kick


def test_best_prompt_bars_picks_the_prompt_bar_closest_to_each_real_bar():
    from drum_accomp.evaluation.baselines import best_prompt_bars

    lines = np.array([0.0, 2.0, 4.0])
    prompt = _hits((0.0, KICK, 100), (2.0, SNARE, 100), (3.0, SNARE, 100))
    reference = _hits((4.0, SNARE, 90), (5.0, SNARE, 90), (6.0, KICK, 90))
    ceiling = best_prompt_bars(prompt, lines, np.array([4.0, 6.0, 8.0]), reference)
    assert drum_hit_scores(reference, ceiling).micro_f1 == 1.0
    assert ceiling.classes.tolist() == [SNARE, SNARE, KICK]


def test_the_prompt_baselines_reject_bad_bar_lines():
    from drum_accomp.evaluation.baselines import best_prompt_bars, prompt_bar_majority

    prompt = _hits((0.0, KICK, 100))
    with pytest.raises(ValueError, match="target_downbeats must hold"):
        prompt_bar_majority(prompt, np.array([0.0, 2.0]), np.array([2.0]))
    with pytest.raises(ValueError, match="downbeats must hold"):
        best_prompt_bars(prompt, np.array([2.0, 0.0]), np.array([2.0, 4.0]), prompt)
    with pytest.raises(ValueError, match="min_share"):
        prompt_bar_majority(prompt, np.array([0.0, 2.0]), np.array([2.0, 4.0]), min_share=0.0)
