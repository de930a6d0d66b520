"""data/windows.py: bar-aligned windows from downbeats, in any meter, on real GMD files."""

import numpy as np
import pretty_midi
import pytest

from drum_accomp.data.windows import BAR_COVERAGE, bar_windows, midi_downbeats
from drum_accomp.midi import load_midi


def test_full_windows_start_every_hop_bars_and_leave_the_tail_out():
    downbeats = np.arange(12) * 2.0  # 11 bars of 2 s, the 12th line closes bar 10
    windows = bar_windows(downbeats, end_time=22.0, window_bars=4, hop_bars=2)
    assert [window[2] for window in windows] == [0, 2, 4, 6]
    assert windows[0] == (0.0, 8.0, 0, 4)
    assert all(num_bars == 4 for *_, num_bars in windows)
    assert all(start in downbeats and end in downbeats for start, end, *_ in windows)


def test_non_overlapping_hop_and_one_bar_windows():
    downbeats = np.arange(9) * 1.5
    assert [w[2] for w in bar_windows(downbeats, 12.0, window_bars=4, hop_bars=4)] == [0, 4]
    assert len(bar_windows(downbeats, 12.0, window_bars=1, hop_bars=1)) == 8


def test_short_piece_gives_one_shorter_window_if_it_holds_min_bars():
    downbeats = np.arange(4) * 2.0  # 3 bars
    assert bar_windows(downbeats, 6.0, window_bars=4, hop_bars=2) == [(0.0, 6.0, 0, 3)]
    assert bar_windows(downbeats, 6.0, window_bars=4, hop_bars=2, min_bars=3) == [(0.0, 6.0, 0, 3)]
    # Less than one bar: nothing, the caller counts the skip.
    assert bar_windows([0.0, 2.0], 1.0, window_bars=4, hop_bars=2) == []


def test_a_bar_counts_when_the_piece_reaches_enough_of_it():
    downbeats = [0.0, 2.0, 4.0]
    assert bar_windows(downbeats, 2.0 + BAR_COVERAGE * 2.0, 4, 2) == [(0.0, 4.0, 0, 2)]
    assert bar_windows(downbeats, 2.0 + BAR_COVERAGE * 2.0 - 0.01, 4, 2) == [(0.0, 2.0, 0, 1)]


def test_last_bar_is_extrapolated_when_no_bar_line_closes_it():
    # Tracked downbeats usually stop at the last bar start; the last bar is as long as the one before.
    assert bar_windows([0.0, 2.0, 4.0], 6.0, 3, 1) == [(0.0, 6.0, 0, 3)]
    assert bar_windows([0.0], 3.0, 4, 2) == []  # one downbeat alone: no measurable bar


def test_any_meter_and_tempo_change_follow_the_downbeats():
    # 7/8 at 100 quarter notes per minute, then a tempo change: bars have unequal lengths in seconds.
    midi = pretty_midi.PrettyMIDI(initial_tempo=100.0)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(7, 8, 0.0))
    drums = pretty_midi.Instrument(0, is_drum=True)
    drums.notes = [pretty_midi.Note(100, 36, t, t + 0.1) for t in np.arange(0, 20, 0.3)]
    midi.instruments.append(drums)
    downbeats = midi_downbeats(midi)
    bar_seconds = 3.5 * 60.0 / 100.0
    np.testing.assert_allclose(np.diff(downbeats), bar_seconds, rtol=1e-5)
    assert downbeats[-1] >= midi.get_end_time() > downbeats[-2]
    windows = bar_windows(downbeats, midi.get_end_time(), 4, 2)
    np.testing.assert_allclose([w[0] for w in windows], downbeats[[w[2] for w in windows]])


def test_invalid_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="strictly increasing"):
        bar_windows([0.0, 2.0, 1.0], 4.0, 4, 2)
    with pytest.raises(ValueError, match="window_bars and hop_bars"):
        bar_windows([0.0, 2.0], 4.0, 0, 2)
    with pytest.raises(ValueError, match="min_bars"):
        bar_windows([0.0, 2.0], 4.0, 2, 1, min_bars=3)


@pytest.mark.parametrize("name", ["3-4", "5-8", "6-8"])
def test_midi_downbeats_close_the_last_bar_of_real_odd_meter_files(shared_data, name):
    import pandas as pd

    info = pd.read_csv(shared_data / "groove" / "info.csv")
    row = info[info.time_signature == name].iloc[0]
    midi = load_midi(shared_data / "groove" / row.midi_filename)
    downbeats = midi_downbeats(midi)
    reference = midi.get_downbeats()
    reference = reference[reference <= midi.get_end_time()]
    np.testing.assert_allclose(downbeats[: len(reference)], reference)
    numerator, denominator = (int(part) for part in name.split("-"))
    bar_seconds = numerator * (4 / denominator) * 60.0 / midi.get_tempo_changes()[1][0]
    np.testing.assert_allclose(np.diff(downbeats), bar_seconds, rtol=1e-4)
    assert downbeats[-1] >= midi.get_end_time()
    windows = bar_windows(downbeats, midi.get_end_time(), 4, 2)
    assert len(windows) > 5 and all(num_bars == 4 for *_, num_bars in windows)


def test_midi_downbeats_start_on_bar_zero_of_a_real_groove(groove_midi_path):
    midi = load_midi(groove_midi_path)
    downbeats = midi_downbeats(midi)
    assert downbeats[0] == 0.0 and len(downbeats) >= 2
    assert bar_windows(downbeats, midi.get_end_time(), 4, 2)[0][:3] == (0.0, downbeats[4], 0)
