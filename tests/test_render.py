"""render.py: FluidSynth renders of real MIDI, backing and drums apart, and the errors when parts are missing."""

import numpy as np
import pytest

from drum_accomp import render
from drum_accomp.midi import load_midi


def test_render_backing_and_drums_are_aligned_normalized_and_different(song_midi_path):
    backing, drums = render.render_backing_and_drums(song_midi_path, sampling_rate=16000)
    midi = load_midi(song_midi_path)
    assert backing.shape == drums.shape and backing.dtype == np.float32
    assert abs(len(backing) / 16000 - (midi.get_end_time() + 1.0)) < 0.01
    assert np.isclose(np.abs(backing).max(), render.TARGET_PEAK) and np.isclose(np.abs(drums).max(), render.TARGET_PEAK)
    assert abs(np.corrcoef(backing, drums)[0, 1]) < 0.3


def test_drum_render_is_deterministic_and_kit_changes_the_sound(groove_midi_path):
    first = render.render_midi(groove_midi_path, duration=5.0)
    again = render.render_midi(groove_midi_path, duration=5.0)
    brushes = render.render_midi(groove_midi_path, duration=5.0, drum_kit="brush")
    assert first.shape == (80000,)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - brushes).mean() > 0.01


def test_missing_soundfont_says_how_to_install(groove_midi_path):
    with pytest.raises(FileNotFoundError, match="apt-get install fluidsynth fluid-soundfont-gm"):
        render.render_midi(groove_midi_path, soundfont="/nowhere/missing.sf2")


def test_missing_fluidsynth_binary_says_how_to_install(groove_midi_path, monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install fluidsynth"):
        render.render_midi(groove_midi_path)


@pytest.mark.parametrize("name", sorted(render.SOUNDFONTS))
def test_every_named_soundfont_renders_drums_that_differ_from_fluidr3(groove_midi_path, name):
    audio = render.render_midi(groove_midi_path, duration=4.0, soundfont=name)
    assert audio.shape == (64000,) and np.isclose(np.abs(audio).max(), render.TARGET_PEAK)
    if name != "fluidr3_gm":
        assert np.abs(audio - render.render_midi(groove_midi_path, duration=4.0)).mean() > 0.005
    assert render.HELD_OUT_SOUNDFONT not in render.TRAINING_SOUNDFONTS


def test_a_note_that_never_ends_cannot_hang_the_renderer(groove_midi_path):
    import pretty_midi

    midi = pretty_midi.PrettyMIDI()
    organ = pretty_midi.Instrument(program=19)
    organ.notes.append(pretty_midi.Note(velocity=100, pitch=60, start=0.5, end=0.5))  # zero length
    organ.notes.append(pretty_midi.Note(velocity=100, pitch=64, start=0.0, end=600.0))  # past the cut
    midi.instruments.append(organ)
    audio = render.render_midi(midi, duration=3.0)
    assert audio.shape == (48000,) and np.abs(audio).max() > 0.1
