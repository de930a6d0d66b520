"""Render MIDI to audio with FluidSynth and a General MIDI SoundFont (backing and drums apart, as Slakh did).

The Debian ``fluidsynth`` command line renders a whole file in C (about 1 s for a 4-minute song at 16 kHz here,
SoundFont loading included), which is faster and more faithful than stepping a synth from Python event by event.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pretty_midi

from .audio import SAMPLING_RATE, read_audio, to_mono
from .midi import as_midi, set_drum_kit, split_backing_and_drums

SOUNDFONT_DIRS = (Path("/usr/share/sounds/sf2"), Path("/usr/share/sounds/sf3"), Path("/usr/share/soundfonts"))
DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
INSTALL_HINT = "install them with: apt-get install fluidsynth fluid-soundfont-gm"

SOUNDFONTS: dict[str, Path] = {
    "fluidr3_gm": DEFAULT_SOUNDFONT,                                           # fluid-soundfont-gm
    "timgm6mb": Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),                    # timgm6mb-soundfont
    "musescore_lite": Path("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3"),  # musescore-general-soundfont-small
}
"""Full General MIDI SoundFonts from Debian packages, by short name. (fluid-soundfont-gs is only a GS supplement.)"""
TRAINING_SOUNDFONTS: tuple[str, ...] = ("fluidr3_gm", "timgm6mb")
HELD_OUT_SOUNDFONT = "musescore_lite"
"""Never used to render training data: songs rendered with it measure generalization to an unseen synthesizer."""
HELD_OUT_SOUNDFONT_SPLIT = "test_heldout_soundfont"
"""The split of the accompaniment build holding the test songs rendered again with ``HELD_OUT_SOUNDFONT``."""
SOUNDFONT_PACKAGES = {"fluidr3_gm": "fluid-soundfont-gm", "timgm6mb": "timgm6mb-soundfont",
                      "musescore_lite": "musescore-general-soundfont-small"}
RENDER_TIMEOUT_BASE = 60.0
RENDER_TIMEOUT_PER_SECOND = 0.5
"""FluidSynth renders ~150x real time here; a render slower than ``base + per_second x duration`` seconds is hung."""
TARGET_PEAK = 0.9
"""Peak amplitude renders are normalized to (headroom for mixing)."""


def fluidsynth_binary() -> str:
    binary = shutil.which("fluidsynth")
    if binary is None:
        raise RuntimeError(f"the FluidSynth command line was not found on PATH; {INSTALL_HINT}")
    return binary


def find_soundfont(soundfont: "str | os.PathLike | None" = None) -> Path:
    """Resolve a SoundFont: a short name (``SOUNDFONTS``), a path, a file name in the system SoundFont folders, or
    ``None`` for FluidR3_GM."""
    if soundfont is None:
        candidate = DEFAULT_SOUNDFONT
    elif str(soundfont) in SOUNDFONTS:
        candidate = SOUNDFONTS[str(soundfont)]
        if not candidate.is_file():
            raise FileNotFoundError(f"SoundFont {soundfont!r} not found at {str(candidate)!r}; install it with: "
                                    f"apt-get install fluidsynth {SOUNDFONT_PACKAGES[str(soundfont)]}")
    else:
        candidate = Path(soundfont)
        if not candidate.is_file():
            for folder in SOUNDFONT_DIRS:
                if (folder / candidate.name).is_file():
                    candidate = folder / candidate.name
                    break
    if not candidate.is_file():
        raise FileNotFoundError(f"SoundFont not found: {str(candidate)!r}; {INSTALL_HINT} (or pass soundfont=PATH)")
    return candidate


def render_midi(
    midi: "str | os.PathLike | pretty_midi.PrettyMIDI",
    sampling_rate: int = SAMPLING_RATE,
    soundfont: "str | os.PathLike | None" = None,
    drum_kit: "str | int | None" = None,
    normalize: bool = True,
    duration: float | None = None,
    gain: float = 0.5,
    release_tail: float = 1.0,
) -> np.ndarray:
    """Render MIDI to mono float32 audio.

    Args:
        midi: path or ``PrettyMIDI``.
        sampling_rate: output rate (Hz).
        soundfont: SoundFont path or name (default FluidR3_GM).
        drum_kit: GM kit name (``midi.GM_DRUM_KITS``) or program, applied to every drum track; ``None`` keeps the file's.
        normalize: scale so the peak is ``TARGET_PEAK`` (silent renders are left silent).
        duration: output length in seconds (cut or zero-padded); ``None`` means the MIDI's end time plus
            ``release_tail`` (FluidSynth itself may run on for many seconds after the last event).
        gain: FluidSynth master gain (kept low so dense songs do not clip inside the synth).
        release_tail: seconds kept after the last MIDI event when ``duration`` is ``None``.

    Returns:
        ``(num_samples,)`` float32.
    """
    midi = as_midi(midi)
    if duration is None:
        duration = midi.get_end_time() + release_tail
    midi = _prepared_for_rendering(midi, duration)
    if drum_kit is not None:
        set_drum_kit(midi, drum_kit)
    soundfont_path = find_soundfont(soundfont)
    with tempfile.TemporaryDirectory(prefix="drum_accomp_render_") as folder:
        midi_path, wav_path = Path(folder) / "in.mid", Path(folder) / "out.wav"
        midi.write(str(midi_path))
        command = [fluidsynth_binary(), "-ni", "-q", "-R", "0", "-C", "0", "-g", str(gain), "-r", str(sampling_rate),
                   "-F", str(wav_path), str(soundfont_path), str(midi_path)]
        timeout = RENDER_TIMEOUT_BASE + RENDER_TIMEOUT_PER_SECOND * duration
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as error:
            raise RuntimeError(f"FluidSynth did not finish rendering {duration:.0f} s of MIDI within {timeout:.0f} s; "
                               "the file may hold a note that never ends") from error
        if result.returncode != 0 or not wav_path.is_file():
            raise RuntimeError(f"FluidSynth failed (exit {result.returncode}): {result.stderr.strip()[:500]}")
        audio, _ = read_audio(wav_path)
    audio = fit_length(to_mono(audio), int(round(duration * sampling_rate)))
    if normalize:
        audio = normalize_peak(audio)
    return audio.astype(np.float32, copy=False)


def render_backing_and_drums(
    midi: "str | os.PathLike | pretty_midi.PrettyMIDI",
    sampling_rate: int = SAMPLING_RATE,
    soundfont: "str | os.PathLike | None" = None,
    drum_kit: "str | int | None" = None,
    normalize: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Render the non-drum and the drum parts of a song separately, to the same length.

    Each part is normalized on its own when ``normalize`` is set; sum them for a full mix.

    Returns:
        ``(backing, drums)``, each ``(num_samples,)`` float32 at ``sampling_rate``.
    """
    backing_midi, drums_midi = split_backing_and_drums(midi)
    duration = max(backing_midi.get_end_time(), drums_midi.get_end_time()) + 1.0
    backing = render_midi(backing_midi, sampling_rate, soundfont, normalize=normalize, duration=duration)
    drums = render_midi(drums_midi, sampling_rate, soundfont, drum_kit=drum_kit, normalize=normalize, duration=duration)
    return backing, drums


def fit_length(audio: np.ndarray, num_samples: int) -> np.ndarray:
    """Cut or zero-pad the first axis to ``num_samples``."""
    if len(audio) >= num_samples:
        return audio[:num_samples]
    padding = [(0, num_samples - len(audio))] + [(0, 0)] * (audio.ndim - 1)
    return np.pad(audio, padding)


def normalize_peak(audio: np.ndarray, target_peak: float = TARGET_PEAK) -> np.ndarray:
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    return audio if peak == 0.0 else audio * (target_peak / peak)


def _prepared_for_rendering(midi: pretty_midi.PrettyMIDI, duration: float) -> pretty_midi.PrettyMIDI:
    """A copy that FluidSynth renders to ``duration`` seconds and then stops.

    Notes that start at or after ``duration`` are dropped, longer ones end there, notes of zero or negative length
    (written with the note-off before the note-on, they would sound forever) are dropped, and every channel gets
    "all notes off" and "all sound off" at ``duration``: without them a sustained voice keeps FluidSynth's file
    renderer running (once seen: 20 minutes and a 24 GB wav).
    """
    prepared = copy.deepcopy(midi)
    for instrument in prepared.instruments:
        instrument.notes = [note for note in instrument.notes if note.start < duration and note.end > note.start]
        for note in instrument.notes:
            note.end = min(note.end, duration)
        instrument.control_changes = [change for change in instrument.control_changes if change.time < duration]
        instrument.pitch_bends = [bend for bend in instrument.pitch_bends if bend.time < duration]
        instrument.control_changes += [pretty_midi.ControlChange(123, 0, duration),
                                       pretty_midi.ControlChange(120, 0, duration)]
    return prepared
