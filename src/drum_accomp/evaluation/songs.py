"""Real songs for evaluation: the MIDI files of one split of the accompaniment build, cut to their first seconds."""

from __future__ import annotations

import copy
from pathlib import Path

import pretty_midi


def split_songs(dataset: Path, split: str, data: Path, keep_transcribed: bool) -> tuple[list[Path], int]:
    """The MIDI files of one split of the accompaniment build (its ``songs`` table), sorted, under ``data``, and
    their number.

    Raises:
        FileNotFoundError: no build at ``dataset`` (says how to make one), or its songs are not under ``data``.
        ValueError: ``split`` is not a split of the build (lists those it has).
    """
    from datasets import load_from_disk

    from drum_accomp.data.beat_windows import UNRELIABLE_BEAT_LABELS

    table = dataset / "songs"
    if not table.is_dir():
        raise FileNotFoundError(f"no songs table in {str(dataset)!r}; build it with `python datasets_scripts/"
                                "build_accompaniment.py --num-proc 2` or pass --dataset (a build elsewhere)")
    songs = load_from_disk(str(table))
    if split not in set(songs["split"]):
        raise ValueError(f"split {split!r} is not in {str(dataset)!r}; it has {sorted(set(songs['split']))}")
    names = sorted({song_id for song_id, song_split in zip(songs["song_id"], songs["split"]) if song_split == split})
    if not keep_transcribed:
        names = [name for name in names if not any(part in name for part in UNRELIABLE_BEAT_LABELS)]
    # song ids are paths relative to the parent of the multitrack folder ("multitrack/...")
    files = [data.parent / name for name in names]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} songs of the build are not under {str(data.parent)!r}, e.g. "
                                f"{missing[0]!r}; pass --data (the multitrack folder the build read)")
    return files, len(names)


def truncate_midi(midi: pretty_midi.PrettyMIDI, end: float) -> pretty_midi.PrettyMIDI:
    """A copy holding only what sounds before ``end`` (s), tempo map kept: FluidSynth renders whole files, and
    songs run for minutes while only their first ``--seconds`` are scored."""
    midi = copy.deepcopy(midi)
    for instrument in midi.instruments:
        # Keep notes at least 50 ms long: a note cut to under one tick is written with its note-off before its
        # note-on, and a never-released sustained voice makes FluidSynth's file render run forever.
        instrument.notes = [note for note in instrument.notes if note.start < end - 0.05]
        for note in instrument.notes:
            note.end = min(note.end, end)
        instrument.control_changes = [change for change in instrument.control_changes if change.time < end]
        instrument.pitch_bends = [bend for bend in instrument.pitch_bends if bend.time < end]
    return midi


__all__ = ["split_songs", "truncate_midi"]
