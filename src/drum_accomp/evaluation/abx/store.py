"""SQLite store of a listening test: listeners, what each was presented, and every answer, written at once.

Tables (one file, WAL mode, so readers never block the writer and a killed server loses nothing committed):

- ``listeners``: ``listener_id`` (random hex, the listener's key), optional ``name``, ``created_at``.
- ``presentations``: per (listener, mode, trial), recorded *before* the listener answers (when the listener's
  session starts, ``created_at``): the trial's place in this listener's sequence (``position``), the
  ``condition``, which source plays as "A" (``a_source``; in rating mode: the rated clip) and, for ABX, which
  source X is (``x_source``). B is the other source.
- ``abx_answers``: ``choice`` ("A" or "B": which clip the listener says X is), ``correct``, ``response_ms``
  (time from the trial's display to the answer, as the browser measured it) and ``answered_at``.
- ``ratings``: ``rating`` (1-5) of the rated clip, ``response_ms``, ``answered_at``.
- view ``abx_results``: each ABX answer joined with its presentation (``drawn_at`` = the presentation's
  ``created_at``): what to analyse.

Every answer is inserted in its own transaction when it arrives. Answers are keyed by (listener, trial): a
listener's first answer to a trial is final, and answering it again is rejected (``AlreadyAnswered``), so no
one can overwrite an answer, their own or another listener's. Timestamps are UTC ISO 8601 with milliseconds.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SOURCES: tuple[str, ...] = ("real", "generated")
"""The two stimuli of a trial: the song's real drums and the model's drums, each on the same backing."""
MODES: tuple[str, ...] = ("abx", "rating")
CHOICES: tuple[str, ...] = ("A", "B")
RATING_RANGE: tuple[int, int] = (1, 5)
MAX_NAME_LENGTH = 100

SCHEMA = """
CREATE TABLE IF NOT EXISTS listeners (
    listener_id TEXT PRIMARY KEY,
    name TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS presentations (
    listener_id TEXT NOT NULL REFERENCES listeners (listener_id),
    mode TEXT NOT NULL CHECK (mode IN ('abx', 'rating')),
    trial_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    condition TEXT NOT NULL,
    a_source TEXT NOT NULL CHECK (a_source IN ('real', 'generated')),
    x_source TEXT CHECK (x_source IN ('real', 'generated')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (listener_id, mode, trial_id)
);
CREATE TABLE IF NOT EXISTS abx_answers (
    answer_id INTEGER PRIMARY KEY AUTOINCREMENT,
    listener_id TEXT NOT NULL REFERENCES listeners (listener_id),
    trial_id TEXT NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('A', 'B')),
    correct INTEGER NOT NULL CHECK (correct IN (0, 1)),
    response_ms INTEGER,
    answered_at TEXT NOT NULL,
    UNIQUE (listener_id, trial_id)
);
CREATE TABLE IF NOT EXISTS ratings (
    answer_id INTEGER PRIMARY KEY AUTOINCREMENT,
    listener_id TEXT NOT NULL REFERENCES listeners (listener_id),
    trial_id TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    response_ms INTEGER,
    answered_at TEXT NOT NULL,
    UNIQUE (listener_id, trial_id)
);
CREATE VIEW IF NOT EXISTS abx_results AS
    SELECT a.answer_id, a.listener_id, a.trial_id, p.condition, p.position, p.a_source,
           CASE p.a_source WHEN 'real' THEN 'generated' ELSE 'real' END AS b_source, p.x_source, a.choice,
           a.correct, a.response_ms, p.created_at AS drawn_at, a.answered_at
    FROM abx_answers AS a JOIN presentations AS p
        ON p.listener_id = a.listener_id AND p.mode = 'abx' AND p.trial_id = a.trial_id;
"""


class AlreadyAnswered(ValueError):
    """The listener has answered this trial before; the first answer stands."""


class UnknownListener(ValueError):
    """No listener with this id (or no presentation of the trial to this listener)."""


@dataclass(frozen=True)
class Presentation:
    """What one listener gets for one trial (see the module docstring); ``answered`` is filled in on reading."""

    listener_id: str
    mode: str
    trial_id: str
    position: int
    condition: str
    a_source: str
    x_source: str | None
    created_at: str
    answered: bool = False

    @property
    def b_source(self) -> str:
        return other_source(self.a_source)

    def source_of(self, slot: str) -> str:
        """The source played under a slot: ``"A"``, ``"B"``, ``"X"`` (ABX) or ``"R"`` (the rated clip)."""
        sources = {"A": self.a_source, "B": self.b_source, "X": self.x_source, "R": self.a_source}
        if slot not in sources or sources[slot] is None:
            raise ValueError(f"no clip {slot!r} in a {self.mode} trial; slots are A, B, X (abx) or R (rating)")
        return sources[slot]


def other_source(source: str) -> str:
    return SOURCES[1 - SOURCES.index(source)]


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class AnswerStore:
    """The answers database at ``path`` (created with its tables when missing; an existing one is reused).

    Each call opens its own connection, so the object can be shared by the server's threads.
    """

    def __init__(self, path: "str | os.PathLike"):
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"the answers database {str(self.path)!r} is a folder; pass a file path with --db")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(self._connect()) as connection:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(SCHEMA)
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{str(self.path)!r} is not an answers database ({error}); pass another --db") from None

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30.0)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA foreign_keys=ON")
        return connection

    # ----- listeners -------------------------------------------------------------------------------------------

    def create_listener(self, name: str | None = None) -> str:
        """A new listener; returns its id (32 random hex digits)."""
        name = "" if name is None else str(name).strip()[:MAX_NAME_LENGTH]
        listener_id = uuid.uuid4().hex
        with closing(self._connect()) as connection, connection:
            connection.execute("INSERT INTO listeners (listener_id, name, created_at) VALUES (?, ?, ?)",
                               (listener_id, name or None, utc_now()))
        return listener_id

    def has_listener(self, listener_id: str) -> bool:
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT 1 FROM listeners WHERE listener_id = ?", (listener_id,)).fetchone()
        return row is not None

    def _require_listener(self, listener_id: str) -> None:
        if not self.has_listener(listener_id):
            raise UnknownListener(f"unknown listener {listener_id!r}; start a new session (reload the page)")

    # ----- presentations ---------------------------------------------------------------------------------------

    def add_presentations(self, presentations: list[Presentation]) -> None:
        """Record presentations that are not recorded yet (one transaction); recorded ones are never changed."""
        with closing(self._connect()) as connection, connection:
            connection.executemany(
                "INSERT OR IGNORE INTO presentations (listener_id, mode, trial_id, position, condition, a_source, "
                "x_source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(p.listener_id, p.mode, p.trial_id, p.position, p.condition, p.a_source, p.x_source, p.created_at)
                 for p in presentations])

    def presentations(self, listener_id: str, mode: str) -> list[Presentation]:
        """The listener's presentations in one mode, in their order, each marked ``answered`` or not."""
        answers = "abx_answers" if mode == "abx" else "ratings"
        with closing(self._connect()) as connection:
            rows = connection.execute(
                f"SELECT p.*, a.answer_id IS NOT NULL AS answered FROM presentations AS p LEFT JOIN {answers} AS a "
                "ON a.listener_id = p.listener_id AND a.trial_id = p.trial_id "
                "WHERE p.listener_id = ? AND p.mode = ? ORDER BY p.position", (listener_id, mode)).fetchall()
        return [Presentation(**{**dict(row), "answered": bool(row["answered"])}) for row in rows]

    def presentation(self, listener_id: str, mode: str, trial_id: str) -> Presentation:
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT * FROM presentations WHERE listener_id = ? AND mode = ? AND trial_id = ?",
                                     (listener_id, mode, trial_id)).fetchone()
        if row is None:
            self._require_listener(listener_id)
            raise UnknownListener(f"trial {trial_id!r} was not presented to this listener in {mode} mode")
        return Presentation(**dict(row))

    # ----- answers ---------------------------------------------------------------------------------------------

    def add_abx_answer(self, listener_id: str, trial_id: str, choice: str, response_ms: int | None = None) -> bool:
        """Store one ABX answer at once; returns whether it is correct.

        Raises:
            ValueError: ``choice`` is not "A" or "B".
            UnknownListener: the listener or the trial's presentation does not exist.
            AlreadyAnswered: the listener answered this trial before (the first answer stands).
        """
        if choice not in CHOICES:
            raise ValueError(f"choice must be 'A' or 'B' (which clip X is), got {choice!r}")
        presentation = self.presentation(listener_id, "abx", trial_id)
        correct = presentation.source_of(choice) == presentation.x_source
        self._insert("abx_answers", listener_id, trial_id, "choice, correct", (choice, int(correct)), response_ms)
        return correct

    def add_rating(self, listener_id: str, trial_id: str, rating: int, response_ms: int | None = None) -> None:
        """Store one groove rating (1-5) at once. Errors as :meth:`add_abx_answer`."""
        low, high = RATING_RANGE
        if isinstance(rating, bool) or not isinstance(rating, int) or not low <= rating <= high:
            raise ValueError(f"rating must be an integer from {low} to {high}, got {rating!r}")
        self.presentation(listener_id, "rating", trial_id)
        self._insert("ratings", listener_id, trial_id, "rating", (rating,), response_ms)

    def _insert(self, table: str, listener_id: str, trial_id: str, columns: str, values: tuple,
                response_ms: int | None) -> None:
        if response_ms is not None and (isinstance(response_ms, bool) or not isinstance(response_ms, int)
                                        or response_ms < 0):
            raise ValueError(f"response_ms must be a non-negative integer (milliseconds), got {response_ms!r}")
        placeholders = ", ".join("?" * (len(values) + 4))
        try:
            with closing(self._connect()) as connection, connection:
                connection.execute(f"INSERT INTO {table} (listener_id, trial_id, {columns}, response_ms, answered_at) "
                                   f"VALUES ({placeholders})",
                                   (listener_id, trial_id, *values, response_ms, utc_now()))
        except sqlite3.IntegrityError:
            raise AlreadyAnswered(f"trial {trial_id!r} is already answered by this listener; the first answer "
                                  "stands") from None

    # ----- reading for the summary -----------------------------------------------------------------------------

    def abx_results(self) -> list[dict]:
        """Every ABX answer with its presentation (the ``abx_results`` view), oldest first."""
        return self._rows("SELECT * FROM abx_results ORDER BY answer_id")

    def rating_results(self) -> list[dict]:
        """Every rating with its condition and the rated source, oldest first."""
        return self._rows(
            "SELECT r.answer_id, r.listener_id, r.trial_id, p.condition, p.position, p.a_source AS source, r.rating, "
            "r.response_ms, p.created_at AS drawn_at, r.answered_at FROM ratings AS r JOIN presentations AS p "
            "ON p.listener_id = r.listener_id AND p.mode = 'rating' AND p.trial_id = r.trial_id ORDER BY r.answer_id")

    def num_listeners(self) -> int:
        return int(self._rows("SELECT COUNT(*) AS n FROM listeners")[0]["n"])

    def _rows(self, query: str) -> list[dict]:
        with closing(self._connect()) as connection:
            return [dict(row) for row in connection.execute(query).fetchall()]


__all__ = [
    "CHOICES",
    "MODES",
    "RATING_RANGE",
    "SOURCES",
    "AlreadyAnswered",
    "AnswerStore",
    "Presentation",
    "UnknownListener",
    "other_source",
    "utc_now",
]
