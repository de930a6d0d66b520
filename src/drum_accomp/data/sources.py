"""Data sources: readers that list what a folder holds, as plain records, before any MIDI is parsed.

A reader checks the folder's layout and metadata and reports problems with the folder in its error; problems
with single files (missing, corrupt, no drums) are left to the build, which skips and counts them.

GMD-style folder (the Groove MIDI Dataset layout, also accepted from users)::

    folder/info.csv          one row per performance
    folder/<midi_filename>   MIDI files, paths relative to the folder

``info.csv`` columns (GMD v1.0.0): ``drummer, session, id, style, bpm, beat_type, time_signature,
midi_filename, audio_filename, duration, split``. Only ``midi_filename`` is required; a missing ``style`` is
``unknown``, a missing ``split`` is empty (the build then makes a stratified split).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..genres import UNKNOWN_GENRE, top_level_style

GMD_INFO_FILE = "info.csv"
GMD_REQUIRED_COLUMNS: tuple[str, ...] = ("midi_filename",)


@dataclass(frozen=True)
class GrooveRecord:
    """One performance of a GMD-style folder (one ``info.csv`` row).

    Attributes:
        path: absolute path of the MIDI file (may not exist; the build checks).
        source_file: ``midi_filename`` as written in ``info.csv`` (relative to the folder).
        id: GMD id (``drummer1/session1/1``), or ``source_file`` without suffix when absent.
        drummer: e.g. ``drummer1``; ``""`` when absent.
        session: e.g. ``drummer1/session1``; ``""`` when absent (then the drummer, or the file, stands in).
        style: raw style, e.g. ``funk/groove1``; ``""`` when absent.
        bpm: tempo in quarter notes per minute from ``info.csv``; NaN when absent.
        beat_type: ``beat`` or ``fill``; ``""`` when absent.
        time_signature: as written, e.g. ``4-4``; ``""`` when absent.
        duration: seconds, from ``info.csv``; NaN when absent.
        split: ``train``, ``validation``, ``test``, or ``""`` when the folder has no split.
    """

    path: Path
    source_file: str
    id: str
    drummer: str
    session: str
    style: str
    bpm: float
    beat_type: str
    time_signature: str
    duration: float
    split: str

    @property
    def top_style(self) -> str:
        """``"funk/groove1"`` -> ``"funk"``; empty or unknown styles -> ``"unknown"``."""
        return top_level_style(self.style) if self.style else UNKNOWN_GENRE

    @property
    def substyle(self) -> str:
        """``"funk/groove1"`` -> ``"groove1"``; ``""`` when the style has no second level."""
        parts = self.style.split("/", 1)
        return parts[1] if len(parts) == 2 else ""

    @property
    def session_id(self) -> str:
        """The group that must stay in one split: the session, else the drummer, else the file."""
        return self.session or self.drummer or self.source_file


def read_gmd_folder(folder: str | os.PathLike, splits: tuple[str, ...] | list[str] | None = None
                    ) -> list[GrooveRecord]:
    """Records of a GMD-style folder, in ``info.csv`` order.

    Args:
        folder: the folder holding ``info.csv`` and the MIDI files.
        splits: keep only rows of these splits (``None`` keeps all).

    Raises:
        FileNotFoundError: no folder, or no ``info.csv`` in it.
        ValueError: ``info.csv`` unreadable, empty, or without a ``midi_filename`` column.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"GMD folder not found: {str(folder)!r}; pass the folder holding info.csv and the "
                                "MIDI files (the Groove MIDI Dataset layout)")
    info_path = folder / GMD_INFO_FILE
    if not info_path.is_file():
        raise FileNotFoundError(f"no {GMD_INFO_FILE} in {str(folder)!r}; a GMD-style folder needs an info.csv with "
                                f"at least a midi_filename column (GMD v1.0.0 ships one)")
    try:
        table = pd.read_csv(info_path, dtype=str, keep_default_na=False)
    except Exception as error:  # pandas raises several types on malformed CSV
        raise ValueError(f"cannot read {str(info_path)!r} as CSV ({type(error).__name__}: {error})") from error
    missing = [column for column in GMD_REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise ValueError(f"{str(info_path)!r} lacks the column(s) {missing}; it has {list(table.columns)}. "
                         "Name the MIDI path column midi_filename (relative to the folder)")
    if table.empty:
        raise ValueError(f"{str(info_path)!r} has no rows; list one performance per row")

    records = []
    for row in table.to_dict("records"):
        source_file = row["midi_filename"].strip()
        if not source_file:
            continue
        split = row.get("split", "").strip().lower()
        if splits is not None and split not in splits:
            continue
        records.append(GrooveRecord(
            path=(folder / source_file).resolve(), source_file=source_file,
            id=row.get("id", "").strip() or str(Path(source_file).with_suffix("")),
            drummer=row.get("drummer", "").strip(), session=row.get("session", "").strip(),
            style=row.get("style", "").strip().lower(), bpm=_float(row.get("bpm", "")),
            beat_type=row.get("beat_type", "").strip().lower(), time_signature=row.get("time_signature", "").strip(),
            duration=_float(row.get("duration", "")), split=split,
        ))
    return records


def _float(text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return math.nan
    return value
