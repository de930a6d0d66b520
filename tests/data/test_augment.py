"""data/augment.py: small MIDI and audio augmentations for oversampled copies, on real GMD and song files."""

import copy

import numpy as np
import pretty_midi
import pytest

from drum_accomp.data.augment import (
    AugmentConfig, augment_midi_copy, change_drum_kit, copy_generator, jitter_microtiming, jitter_velocity,
    random_gain, scale_tempo, transpose_backing,
)
from drum_accomp.midi import GM_DRUM_KITS, load_midi


def note_table(midi: pretty_midi.PrettyMIDI) -> list[tuple]:
    return [(index, note.start, note.end, note.pitch, note.velocity)
            for index, instrument in enumerate(midi.instruments) for note in instrument.notes]


@pytest.fixture(scope="module")
def groove(groove_midi_path) -> pretty_midi.PrettyMIDI:
    return load_midi(groove_midi_path)


@pytest.fixture(scope="module")
def song(song_midi_path) -> pretty_midi.PrettyMIDI:
    return load_midi(song_midi_path)


def test_scale_tempo_divides_note_times_and_beats_by_the_factor(groove, song):
    for midi in (groove, song):
        factor = 1.25
        faster = scale_tempo(midi, factor)
        before, after = note_table(midi), note_table(faster)
        assert len(after) == len(before)
        np.testing.assert_allclose([row[1] for row in after], [row[1] / factor for row in before], atol=1e-9)
        np.testing.assert_allclose([row[2] for row in after], [row[2] / factor for row in before], atol=1e-9)
        beats, scaled_beats = midi.get_beats(), faster.get_beats()
        count = min(len(beats), len(scaled_beats))
        assert count >= len(beats) - 1
        np.testing.assert_allclose(scaled_beats[:count], beats[:count] / factor, atol=1e-6)
        np.testing.assert_allclose(faster.get_tempo_changes()[1], midi.get_tempo_changes()[1] * factor, rtol=1e-6)
        # The tempo map stays consistent with the notes: ticks are unchanged.
        note = faster.instruments[0].notes[10]
        assert faster.time_to_tick(note.start) == midi.time_to_tick(midi.instruments[0].notes[10].start)
    with pytest.raises(ValueError, match="> 0"):
        scale_tempo(groove, 0.0)


def test_jitter_velocity_keeps_notes_and_clips_to_midi_range(groove):
    original = note_table(groove)
    loud = jitter_velocity(groove, np.random.default_rng(0), std=200.0)
    velocities = [row[4] for row in note_table(loud)]
    assert len(velocities) == len(original)
    assert min(velocities) == 1 and max(velocities) == 127  # huge noise: both ends clipped, never outside
    assert [row[:4] for row in note_table(loud)] == [row[:4] for row in original]
    assert note_table(groove) == original  # input not mutated


def test_jitter_velocity_drums_only_leaves_the_backing(song):
    jittered = jitter_velocity(song, np.random.default_rng(1), std=10.0, drums_only=True)
    for before, after in zip(song.instruments, jittered.instruments):
        changed = [n.velocity for n in before.notes] != [n.velocity for n in after.notes]
        assert changed == before.is_drum, before.name


def test_jitter_microtiming_moves_drums_a_little_keeps_order_per_drum_and_no_negative_times(groove):
    std = 0.01
    jittered = jitter_microtiming(groove, np.random.default_rng(2), std)
    notes = jittered.instruments[0].notes
    assert len(notes) == len(groove.instruments[0].notes)
    starts = np.array([note.start for note in notes])
    assert starts.min() >= 0 and np.all(np.diff(starts) >= 0)
    original = sorted((n.pitch, n.start, n.end - n.start) for n in groove.instruments[0].notes)
    moved = sorted((n.pitch, n.start, n.end - n.start) for n in notes)
    shifts = np.array([m[1] - o[1] for o, m in zip(original, moved)])
    assert 0 < np.abs(shifts).max() <= 2 * std + 1e-12
    np.testing.assert_allclose([m[2] for m in moved], [o[2] for o in original], atol=1e-9)  # durations kept


def test_jitter_microtiming_never_swaps_strokes_of_one_drum():
    # A fast snare roll (10 ms apart) under 50 ms jitter: unbounded noise would scramble it.
    roll = pretty_midi.PrettyMIDI()
    snare = pretty_midi.Instrument(program=0, is_drum=True)
    snare.notes = [pretty_midi.Note(velocity=stroke + 1, pitch=38, start=0.005 + 0.01 * stroke,
                                    end=0.05 + 0.01 * stroke) for stroke in range(50)]
    roll.instruments.append(snare)
    jittered = jitter_microtiming(roll, np.random.default_rng(3), std_seconds=0.05)
    notes = jittered.instruments[0].notes
    assert [note.velocity for note in notes] == list(range(1, 51))  # velocity marks each stroke's place
    assert min(note.start for note in notes) >= 0.0
    assert any(abs(a.start - b.start) > 1e-6 for a, b in zip(notes, snare.notes))


def test_transpose_backing_moves_only_non_drum_notes_and_stays_in_range(song):
    up = transpose_backing(song, 5)
    for before, after in zip(song.instruments, up.instruments):
        expected = [n.pitch if before.is_drum else n.pitch + 5 for n in before.notes]
        if not before.is_drum:
            expected = [pitch - 12 if pitch > 127 else pitch for pitch in expected]
        assert [n.pitch for n in after.notes] == expected
    extreme = transpose_backing(song, 60)
    assert all(0 <= n.pitch <= 127 for i in extreme.instruments for n in i.notes)
    assert note_table(transpose_backing(song, 0)) == note_table(song)


def test_change_drum_kit_sets_the_kit_on_a_copy(song):
    brushed = change_drum_kit(song, "brush")
    assert all(i.program == GM_DRUM_KITS["brush"] for i in brushed.instruments if i.is_drum)
    assert all(i.program != GM_DRUM_KITS["brush"] for i in song.instruments if i.is_drum)


def test_augment_midi_copy_is_seeded_keeps_note_counts_and_does_not_mutate(song):
    config = AugmentConfig(transpose_range=(-2, 2), drum_kits=("standard", "room"))
    original = copy.deepcopy(note_table(song))
    first = augment_midi_copy(song, copy_generator(0, 12, 1), config)
    again = augment_midi_copy(song, copy_generator(0, 12, 1), config)
    other = augment_midi_copy(song, copy_generator(0, 12, 2), config)
    assert note_table(first) == note_table(again) and note_table(first) != note_table(other)
    assert len(note_table(first)) == len(original)
    assert note_table(song) == original
    tempo_ratio = first.get_tempo_changes()[1][0] / song.get_tempo_changes()[1][0]
    assert 0.95 - 1e-9 <= tempo_ratio <= 1.05 + 1e-9
    with pytest.raises(ValueError, match="unknown drum kits"):
        AugmentConfig(drum_kits=("cowbell",))


def test_random_gain_scales_within_the_db_range_without_mutating():
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, 1600).astype(np.float32)
    kept = audio.copy()
    quieter = random_gain(audio, np.random.default_rng(1), (-6.0, -3.0))
    gain_db = 20 * np.log10(np.abs(quieter).max() / np.abs(audio).max())
    assert -6.0 - 1e-4 <= gain_db <= -3.0 + 1e-4 and quieter.dtype == np.float32
    np.testing.assert_array_equal(audio, kept)
    with pytest.raises(ValueError, match="float audio"):
        random_gain(np.zeros(4, dtype=np.int16), np.random.default_rng(0))
