"""midi.py: the pinned drum map, drum hits, ground-truth beats, and the backing/drum split on real files."""

import numpy as np
import pretty_midi
import pytest

from drum_accomp.midi import (
    CLASS_TO_PITCH, DRUM_CLASSES, DRUM_CLASS_PITCHES, GM_DRUM_KITS, PITCH_TO_CLASS, beats_per_bar, drum_hits,
    load_midi, midi_beats, set_drum_kit, split_backing_and_drums,
)


def test_drum_map_has_nine_classes_and_no_pitch_in_two_classes():
    assert len(DRUM_CLASSES) == 9 == len(DRUM_CLASS_PITCHES)
    all_pitches = [pitch for pitches in DRUM_CLASS_PITCHES for pitch in pitches]
    assert len(all_pitches) == len(set(all_pitches)) == len(PITCH_TO_CLASS)
    assert CLASS_TO_PITCH[:3] == (36, 38, 42)  # kick, snare, closed hi-hat in GM
    for class_index, pitch in enumerate(CLASS_TO_PITCH):
        assert PITCH_TO_CLASS[pitch] == class_index


def test_drum_hits_of_a_real_gmd_file_are_sorted_and_complete(groove_midi_path):
    midi = load_midi(groove_midi_path)
    hits = drum_hits(midi)
    notes = [note for instrument in midi.instruments for note in instrument.notes]
    assert len(hits) + hits.num_unmapped == len(notes) and hits.num_unmapped == 0
    assert np.all(np.diff(hits.times) >= 0)
    assert set(np.unique(hits.classes)) <= set(range(9))
    assert hits.velocities.min() >= 1 and hits.velocities.max() <= 127


def test_hits_to_midi_and_back_keeps_times_classes_velocities(groove_midi_path):
    hits = drum_hits(groove_midi_path)
    again = drum_hits(hits.to_midi())
    np.testing.assert_allclose(again.times, hits.times, atol=1e-3)
    np.testing.assert_array_equal(again.classes, hits.classes)
    np.testing.assert_array_equal(again.velocities, hits.velocities)


def test_window_shifts_times_to_zero(groove_midi_path):
    hits = drum_hits(groove_midi_path)
    part = hits.window(2.0, 4.0)
    assert len(part) > 0 and part.times.min() >= 0 and part.times.max() < 2.0


def test_midi_without_drums_raises_a_clear_error():
    midi = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes.append(pretty_midi.Note(velocity=90, pitch=60, start=0.0, end=1.0))
    midi.instruments.append(piano)
    with pytest.raises(ValueError, match="no drum notes"):
        drum_hits(midi)
    with pytest.raises(ValueError, match="no drum track"):
        split_backing_and_drums(midi)


def test_missing_and_corrupt_midi_files_raise(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.mid"):
        load_midi(tmp_path / "missing.mid")
    corrupt = tmp_path / "corrupt (copy) é.mid"
    corrupt.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    with pytest.raises(ValueError, match="cannot read"):
        load_midi(corrupt)


def test_ground_truth_beats_follow_tempo_and_meter(groove_midi_path, fixtures_dir):
    beats, downbeats = midi_beats(groove_midi_path)  # 80 BPM, 4/4
    np.testing.assert_allclose(np.diff(beats), 60.0 / 80.0, atol=1e-6)
    assert np.allclose(downbeats, beats[::4][: len(downbeats)])
    waltz = load_midi(fixtures_dir / "groove" / "4_jazz_120_beat_3-4.mid")  # 120 BPM, 3/4
    beats, downbeats = midi_beats(waltz)
    assert beats_per_bar(waltz) == 3
    np.testing.assert_allclose(np.diff(downbeats), 3 * 0.5, atol=1e-6)


def test_split_keeps_every_note_and_the_tempo_map(song_midi_path):
    midi = load_midi(song_midi_path)
    backing, drums = split_backing_and_drums(midi)
    assert all(not instrument.is_drum for instrument in backing.instruments)
    assert all(instrument.is_drum for instrument in drums.instruments)
    count = lambda m: sum(len(i.notes) for i in m.instruments if i.notes)  # noqa: E731
    assert count(backing) + count(drums) == count(midi)
    np.testing.assert_allclose(backing.get_beats(), midi.get_beats())
    assert len(midi.instruments) >= 3  # the original is untouched


def test_set_drum_kit_changes_only_drum_programs(song_midi_path):
    midi = load_midi(song_midi_path)
    programs = [i.program for i in midi.instruments if not i.is_drum]
    set_drum_kit(midi, "jazz")
    assert all(i.program == GM_DRUM_KITS["jazz"] for i in midi.instruments if i.is_drum)
    assert [i.program for i in midi.instruments if not i.is_drum] == programs
    with pytest.raises(ValueError, match="unknown drum kit 'metal'"):
        set_drum_kit(midi, "metal")


def test_every_shared_midi_file_loads_and_splits(shared_data):
    """Names with spaces, parentheses and non-ASCII characters included (about 1 minute)."""
    songs = sorted((shared_data / "multitrack").rglob("*.mid")) + sorted((shared_data / "lakh_tests").glob("*.mid"))
    assert len(songs) >= 300
    for path in songs:
        backing, drums = split_backing_and_drums(load_midi(path))
        assert len(drum_hits(drums)) > 0
        beats, downbeats = midi_beats(backing)
        assert len(beats) > 0 and len(downbeats) > 0
