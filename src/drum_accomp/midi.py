"""MIDI helpers: the pinned 9-class drum map, drum hits, ground-truth beats, backing/drum split.

The drum map is the one used by the Groove MIDI Dataset and GrooVAE (Gillick et al., 2019): nine classes, each
folding in the General MIDI (and Roland TD-11) pitches that play the same role. It lives here and nowhere else.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi

DRUM_CLASSES: tuple[str, ...] = (
    "kick", "snare", "closed_hihat", "open_hihat", "low_tom", "mid_tom", "high_tom", "crash", "ride",
)
NUM_DRUM_CLASSES = len(DRUM_CLASSES)

# First pitch of each list is the one written when a class is turned back into MIDI.
DRUM_CLASS_PITCHES: tuple[tuple[int, ...], ...] = (
    (36, 35),
    (38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85),
    (42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22),
    (46, 67, 72, 74, 79, 81, 26),
    (45, 29, 41, 43, 61, 64, 84),
    (48, 47, 60, 63, 77, 86, 87),
    (50, 30, 62, 76, 83),
    (49, 52, 55, 57, 58),
    (51, 53, 59, 82),
)
PITCH_TO_CLASS: dict[int, int] = {
    pitch: class_index for class_index, pitches in enumerate(DRUM_CLASS_PITCHES) for pitch in pitches
}
CLASS_TO_PITCH: tuple[int, ...] = tuple(pitches[0] for pitches in DRUM_CLASS_PITCHES)

# General MIDI drum kits: program number on the drum channel (GS/GM2 kit numbers, in FluidR3_GM).
GM_DRUM_KITS: dict[str, int] = {
    "standard": 0, "room": 8, "power": 16, "electronic": 24, "tr808": 25, "jazz": 32, "brush": 40,
    "orchestra": 48,
}


@dataclass
class DrumHits:
    """Drum onsets sorted by time.

    Attributes:
        times: ``(num_hits,)`` float64 onset times in seconds.
        classes: ``(num_hits,)`` int64 drum class indices into ``DRUM_CLASSES``.
        velocities: ``(num_hits,)`` int64 MIDI velocities 1..127.
        num_unmapped: notes whose pitch is in no drum class (skipped, counted).
    """

    times: np.ndarray
    classes: np.ndarray
    velocities: np.ndarray
    num_unmapped: int = 0

    def __len__(self) -> int:
        return len(self.times)

    def window(self, start: float, end: float) -> "DrumHits":
        """Hits with ``start <= time < end``, times shifted so that ``start`` is 0."""
        keep = (self.times >= start) & (self.times < end)
        return DrumHits(self.times[keep] - start, self.classes[keep], self.velocities[keep])

    def to_midi(self, bpm: float = 120.0, program: int = 0) -> pretty_midi.PrettyMIDI:
        """One drum track, each hit a 0.1 s note on its class's first pitch."""
        midi = pretty_midi.PrettyMIDI(initial_tempo=float(bpm))
        drums = pretty_midi.Instrument(program=program, is_drum=True, name="drums")
        for time, class_index, velocity in zip(self.times, self.classes, self.velocities):
            drums.notes.append(pretty_midi.Note(
                velocity=int(np.clip(velocity, 1, 127)), pitch=CLASS_TO_PITCH[int(class_index)],
                start=float(time), end=float(time) + 0.1,
            ))
        midi.instruments.append(drums)
        return midi


def load_midi(path: str | os.PathLike) -> pretty_midi.PrettyMIDI:
    """Read a MIDI file, with errors that name the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MIDI file not found: {str(path)!r}; check the path")
    try:
        return pretty_midi.PrettyMIDI(str(path))
    except Exception as error:  # mido raises many types (OSError, EOFError, KeyError, ValueError) on bad files
        raise ValueError(f"cannot read {str(path)!r} as MIDI ({type(error).__name__}: {error}); "
                         "is it a Standard MIDI File (.mid)?") from error


def as_midi(midi: "str | os.PathLike | pretty_midi.PrettyMIDI") -> pretty_midi.PrettyMIDI:
    """Accept a path or an already loaded ``PrettyMIDI``."""
    return midi if isinstance(midi, pretty_midi.PrettyMIDI) else load_midi(midi)


def drum_instruments(midi: pretty_midi.PrettyMIDI) -> list[pretty_midi.Instrument]:
    return [instrument for instrument in midi.instruments if instrument.is_drum and instrument.notes]


def drum_hits(midi: "str | os.PathLike | pretty_midi.PrettyMIDI", require_drums: bool = True) -> DrumHits:
    """All drum onsets of a MIDI file, mapped to the 9 classes and sorted by (time, class).

    Raises:
        ValueError: if the file has no drum notes (channel 10) and ``require_drums`` is set.
    """
    midi = as_midi(midi)
    notes = [note for instrument in drum_instruments(midi) for note in instrument.notes]
    if not notes and require_drums:
        raise ValueError("this MIDI file has no drum notes (no track on channel 10 / is_drum); "
                         "give a file with a drum part, or check that the drums are on channel 10")
    mapped = [(note.start, PITCH_TO_CLASS[note.pitch], note.velocity) for note in notes if note.pitch in PITCH_TO_CLASS]
    table = np.array(mapped, dtype=np.float64).reshape(-1, 3)
    order = np.lexsort((table[:, 1], table[:, 0]))
    table = table[order]
    return DrumHits(
        times=table[:, 0].copy(), classes=table[:, 1].astype(np.int64), velocities=table[:, 2].astype(np.int64),
        num_unmapped=len(notes) - len(mapped),
    )


def beats_per_bar(midi: pretty_midi.PrettyMIDI) -> int:
    """Beats per bar of the first time signature (4 when the file has none, as MIDI specifies)."""
    signatures = midi.time_signature_changes
    return int(signatures[0].numerator) if signatures else 4


def midi_beats(midi: "str | os.PathLike | pretty_midi.PrettyMIDI") -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth beat and downbeat times (seconds) from the file's tempo map and time signatures.

    Beats follow the time-signature denominator as pretty_midi defines them (compound meters such as 6/8 count
    dotted quarters). Only beats up to the last note end are returned.
    """
    midi = as_midi(midi)
    end = midi.get_end_time()
    beats = midi.get_beats()
    downbeats = midi.get_downbeats()
    return beats[beats <= end], downbeats[downbeats <= end]


def split_backing_and_drums(
    midi: "str | os.PathLike | pretty_midi.PrettyMIDI",
) -> tuple[pretty_midi.PrettyMIDI, pretty_midi.PrettyMIDI]:
    """Split a multi-track MIDI into (backing, drums): same tempo map, non-drum vs drum instruments.

    Raises:
        ValueError: when either part is empty (no drum track, or nothing but drums).
    """
    midi = as_midi(midi)
    drums = [instrument for instrument in midi.instruments if instrument.is_drum and instrument.notes]
    backing = [instrument for instrument in midi.instruments if not instrument.is_drum and instrument.notes]
    if not drums:
        raise ValueError("this MIDI file has no drum track (channel 10); the drum/backing split needs one")
    if not backing:
        raise ValueError("this MIDI file has only drums; the drum/backing split needs backing instruments")
    return _with_instruments(midi, backing), _with_instruments(midi, drums)


def _with_instruments(midi: pretty_midi.PrettyMIDI, instruments: list[pretty_midi.Instrument]) -> pretty_midi.PrettyMIDI:
    """A copy of ``midi`` (tempo map, signatures, keys) holding only ``instruments``."""
    kept = midi.instruments
    midi.instruments = []
    try:
        part = copy.deepcopy(midi)
    finally:
        midi.instruments = kept
    part.instruments = copy.deepcopy(instruments)
    return part


def set_drum_kit(midi: pretty_midi.PrettyMIDI, kit: "str | int") -> pretty_midi.PrettyMIDI:
    """Set the GM drum kit (name from ``GM_DRUM_KITS`` or program number) of every drum track, in place."""
    if isinstance(kit, str):
        if kit not in GM_DRUM_KITS:
            raise ValueError(f"unknown drum kit {kit!r}; choose one of {', '.join(GM_DRUM_KITS)} or a program 0-127")
        kit = GM_DRUM_KITS[kit]
    if not 0 <= int(kit) <= 127:
        raise ValueError(f"drum kit program must be 0-127, got {kit}")
    for instrument in midi.instruments:
        if instrument.is_drum:
            instrument.program = int(kit)
    return midi
