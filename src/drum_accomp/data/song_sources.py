"""Song sources for the accompaniment build: multi-track MIDI folders, Slakh-style tracks, MUSDB-style stem folders.

``read_song_sources(folders)`` walks each folder and lists its songs as ``SongRecord`` s before anything is
loaded, deciding per directory what it holds:

- **Slakh-style track**: a directory with ``metadata.yaml`` (``stems: {S00: {is_drum, program_num, ...}}``) and
  ``all_src.mid`` or per-stem ``MIDI/Sxx.mid``. One song; not descended into.
- **MUSDB-style stem folder**: a directory with a drum stem (``drums.wav``, or ``.flac`` / ``.ogg`` / ``.mp3``) and
  at least one other stem (``bass``, ``other``, ``vocals``, ...; a ``mixture`` / ``mix`` file is ignored). One song;
  not descended into. No MIDI: beats must be tracked, drum hits are unknown.
- otherwise each ``*.mid`` / ``*.midi`` / ``*.kar`` file in the directory is a song (plain multi-track General MIDI
  with drums on channel 10), and sub-directories are walked the same way.

So ``--source shared/data/slakh_sample`` (a folder of tracks), ``--source .../Track00001`` (one track) and a MUSDB
``train/`` folder all work. Names may hold spaces, parentheses and non-ASCII characters; ids are stable
(``<source folder name>/<path inside it>``), and the listing is sorted, so a build sees songs in the same order on
every machine. Problems with single songs (corrupt MIDI, no drums, unreadable audio) are left to the build, which
skips and counts them; a source folder that does not exist is an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi

MIDI_SUFFIXES: tuple[str, ...] = (".mid", ".midi", ".kar")
AUDIO_SUFFIXES: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3")
SLAKH_METADATA = "metadata.yaml"
SLAKH_ALL_SOURCES = "all_src.mid"
DRUM_STEM = "drums"
MIX_STEMS: tuple[str, ...] = ("mixture", "mix")
"""Stem-folder files that hold the full mix, never part of the backing."""

KIND_MIDI, KIND_SLAKH, KIND_STEMS = "midi", "slakh", "stems"
SOURCE_KINDS: tuple[str, ...] = (KIND_MIDI, KIND_SLAKH, KIND_STEMS)


@dataclass(frozen=True)
class SongRecord:
    """One song of a source folder.

    Attributes:
        id: stable id ``<source folder name>/<relative path>`` (the folder name alone when the source is the song).
        kind: ``"midi"`` (a MIDI file), ``"slakh"`` (a Slakh track folder) or ``"stems"`` (a stem folder).
        path: the MIDI file, the track folder or the stem folder (absolute).
        source: the ``--source`` folder it was found in (absolute).
    """

    id: str
    kind: str
    path: Path
    source: Path

    @property
    def has_midi(self) -> bool:
        return self.kind != KIND_STEMS

    @property
    def relative_path(self) -> str:
        """Path inside the source folder (``"."`` when the source folder is the song)."""
        return self.path.relative_to(self.source).as_posix() if self.path != self.source else "."


# ---------------------------------------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------------------------------------


def detect_source_kind(folder: "str | os.PathLike") -> str:
    """What one directory is by itself: ``"slakh"`` (has ``metadata.yaml``), ``"stems"`` (a drum stem and another
    stem) or ``"midi"`` (anything else: its MIDI files and sub-directories are songs)."""
    folder = Path(folder)
    if (folder / SLAKH_METADATA).is_file():
        return KIND_SLAKH
    drums, others = _stem_files(folder)
    if drums is not None and others:
        return KIND_STEMS
    return KIND_MIDI


def read_song_sources(folders: "list[str | os.PathLike] | tuple[str | os.PathLike, ...]") -> list[SongRecord]:
    """All songs of the given source folders, sorted by id.

    Raises:
        FileNotFoundError: a folder does not exist.
        ValueError: two songs get the same id (two sources with the same folder name holding the same paths):
            rename or move one of the folders.
    """
    records: list[SongRecord] = []
    for folder in folders:
        folder = Path(folder).expanduser().resolve()
        if not folder.is_dir():
            raise FileNotFoundError(f"song source folder not found: {str(folder)!r}; pass a folder of MIDI files, a "
                                    "Slakh-style track folder (metadata.yaml) or a stem folder (drums.wav + stems)")
        records.extend(_walk(folder, folder))
    seen: dict[str, SongRecord] = {}
    for record in records:
        if record.id in seen and seen[record.id].path != record.path:
            raise ValueError(f"two songs share the id {record.id!r} ({str(seen[record.id].path)!r} and "
                             f"{str(record.path)!r}); source folders with the same name must not hold the same "
                             "paths: rename one of them")
        seen[record.id] = record
    return sorted(seen.values(), key=lambda record: record.id)


def _walk(directory: Path, source: Path) -> list[SongRecord]:
    kind = detect_source_kind(directory)
    if kind != KIND_MIDI:
        return [SongRecord(_song_id(directory, source), kind, directory, source)]
    records = []
    for entry in sorted(directory.iterdir(), key=lambda path: path.name):
        if entry.is_dir() and not entry.name.startswith("."):
            records.extend(_walk(entry, source))
        elif entry.is_file() and entry.suffix.lower() in MIDI_SUFFIXES:
            records.append(SongRecord(_song_id(entry, source), KIND_MIDI, entry, source))
    return records


def _song_id(path: Path, source: Path) -> str:
    return source.name if path == source else f"{source.name}/{path.relative_to(source).as_posix()}"


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------


def load_song_midi(record: SongRecord) -> pretty_midi.PrettyMIDI:
    """The song's full multi-track MIDI (drums on channel 10 / ``is_drum``).

    Raises:
        ValueError: a stem folder (it has no MIDI), or an unreadable MIDI file (naming the file).
    """
    from ..midi import load_midi

    if record.kind == KIND_MIDI:
        return load_midi(record.path)
    if record.kind == KIND_SLAKH:
        return read_slakh_track(record.path)
    raise ValueError(f"{record.id!r} is a stem folder and has no MIDI; use load_stem_folder for its audio")


def read_slakh_track(folder: "str | os.PathLike") -> pretty_midi.PrettyMIDI:
    """One Slakh-style track as a single multi-track MIDI.

    ``all_src.mid`` is used when it holds a drum track. Otherwise the per-stem files ``MIDI/<stem>.mid`` are merged,
    each instrument flagged as drums when ``metadata.yaml`` says ``is_drum: true`` for its stem (and given the
    stem's ``program_num`` for other instruments), so tracks whose MIDI does not put drums on channel 10 still
    split correctly. Stems are assumed to share the tempo map (Slakh renders them from one Lakh MIDI file).

    Raises:
        FileNotFoundError: neither ``all_src.mid`` nor ``MIDI/*.mid`` exists.
        ValueError: ``metadata.yaml`` or a MIDI file cannot be read.
    """
    from ..midi import load_midi

    folder = Path(folder)
    metadata = read_slakh_metadata(folder)
    all_sources = folder / SLAKH_ALL_SOURCES
    stem_midis = sorted((folder / "MIDI").glob("*.mid")) if (folder / "MIDI").is_dir() else []
    if all_sources.is_file():
        midi = load_midi(all_sources)
        if any(instrument.is_drum for instrument in midi.instruments) or not stem_midis:
            return midi
    if not stem_midis:
        raise FileNotFoundError(f"Slakh track {str(folder)!r} has neither {SLAKH_ALL_SOURCES} nor MIDI/*.mid; a "
                                "Slakh-style track needs its MIDI")
    merged: pretty_midi.PrettyMIDI | None = None
    for path in stem_midis:
        stem = metadata.get(path.stem, {})
        part = load_midi(path)
        if merged is None:  # the first stem's tempo map, signatures and keys are the song's
            merged = part
            instruments, merged.instruments = part.instruments, []
        else:
            instruments = part.instruments
        for instrument in instruments:
            if stem.get("is_drum") is True:
                instrument.is_drum = True
            elif stem.get("is_drum") is False:
                instrument.is_drum = False
                if isinstance(stem.get("program_num"), int) and 0 <= stem["program_num"] <= 127:
                    instrument.program = stem["program_num"]
            merged.instruments.append(instrument)
    return merged


def read_slakh_metadata(folder: "str | os.PathLike") -> dict[str, dict]:
    """``metadata.yaml``'s ``stems`` mapping (stem name -> its fields); empty when the file has none."""
    import yaml

    path = Path(folder) / SLAKH_METADATA
    try:
        with open(path, encoding="utf-8") as handle:
            metadata = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read {str(path)!r} as YAML ({type(error).__name__}: {error})") from error
    stems = metadata.get("stems") if isinstance(metadata, dict) else None
    return {str(name): fields for name, fields in (stems or {}).items() if isinstance(fields, dict)}


def stem_files(folder: "str | os.PathLike") -> tuple[Path, list[Path]]:
    """``(drum stem, [other stems])`` of a stem folder, others sorted by name; mix files are left out.

    Raises:
        ValueError: no drum stem, or no other stem.
    """
    folder = Path(folder)
    drums, others = _stem_files(folder)
    if drums is None:
        raise ValueError(f"stem folder {str(folder)!r} has no drum stem; name it drums.wav (or .flac/.ogg/.mp3)")
    if not others:
        raise ValueError(f"stem folder {str(folder)!r} has a drum stem but no other stem to form the backing; "
                         "add e.g. bass.wav, other.wav, vocals.wav")
    return drums, others


def load_stem_folder(folder: "str | os.PathLike", sampling_rate: int = 16000
                     ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A stem folder's backing (the sum of every non-drum stem) and drums, mono float32 at ``sampling_rate``.

    Stems are zero-padded to the longest one. Returns ``(backing, drums, backing stem file names)``; each array is
    ``(num_samples,)``.

    Raises:
        ValueError: a stem cannot be decoded (naming it), or the folder lacks drums or other stems.
    """
    from ..audio import load_audio

    drums_path, other_paths = stem_files(folder)
    drums = load_audio(drums_path, target_sampling_rate=sampling_rate)
    others = [load_audio(path, target_sampling_rate=sampling_rate) for path in other_paths]
    length = max([len(drums)] + [len(audio) for audio in others])
    backing = np.zeros(length, dtype=np.float32)
    for audio in others:
        backing[: len(audio)] += audio
    drums = np.pad(drums, (0, length - len(drums)))
    return backing, drums.astype(np.float32, copy=False), [path.name for path in other_paths]


def _stem_files(folder: Path) -> tuple[Path | None, list[Path]]:
    drums, others = None, []
    try:
        entries = sorted(folder.iterdir(), key=lambda path: path.name)
    except OSError:
        return None, []
    for entry in entries:
        if not entry.is_file() or entry.suffix.lower() not in AUDIO_SUFFIXES or entry.name.startswith("."):
            continue
        name = entry.stem.lower()
        if name == DRUM_STEM:
            drums = drums or entry
        elif name not in MIX_STEMS:
            others.append(entry)
    return drums, others


__all__ = ["SongRecord", "SOURCE_KINDS", "detect_source_kind", "read_song_sources", "load_song_midi",
           "read_slakh_track", "read_slakh_metadata", "stem_files", "load_stem_folder"]
