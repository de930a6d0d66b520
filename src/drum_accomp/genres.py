"""The package's one genre vocabulary, read from ``genres.json``.

Every component that speaks of genre (tokenizer STYLE tokens, dataset grouping, genre classifier, pipeline)
imports from here, so a style added to ``genres.json`` reaches all of them at once.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

GENRE_FILE = Path(__file__).with_name("genres.json")


@lru_cache(maxsize=1)
def _genre_file() -> dict:
    with open(GENRE_FILE, encoding="utf-8") as handle:
        return json.load(handle)


UNKNOWN_GENRE: str = _genre_file()["unknown"]
STYLES: tuple[str, ...] = tuple(_genre_file()["styles"])
GENRE_GROUPS: dict[str, str] = dict(_genre_file()["groups"])


def top_level_style(style: str) -> str:
    """``"funk/purdieshuffle"`` -> ``"funk"``; a group name stays itself; empty or unlisted -> ``"unknown"``."""
    top = (style or "").strip().lower().split("/")[0]
    return top if top in STYLES or top in GENRE_GROUPS.values() else UNKNOWN_GENRE


def group_genre(style: str) -> str:
    """Map a (sub)style to its balancing group, e.g. ``"highlife"`` -> ``"world"``; idempotent on groups."""
    top = top_level_style(style)
    return GENRE_GROUPS.get(top, top)


def style_vocabulary() -> list[str]:
    """Every genre a STYLE token may name: the styles, the group names, then ``unknown`` (stable order)."""
    names = list(STYLES)
    for group in GENRE_GROUPS.values():
        if group not in names:
            names.append(group)
    names.append(UNKNOWN_GENRE)
    return names


def validate_genre(genre: str | None) -> str:
    """Return a known genre name or raise a ``ValueError`` listing the valid ones; ``None`` -> ``unknown``."""
    if genre is None:
        return UNKNOWN_GENRE
    name = genre.strip().lower()
    vocabulary = style_vocabulary()
    if name not in vocabulary:
        raise ValueError(f"unknown genre {genre!r}; choose one of {', '.join(vocabulary)}")
    return name
