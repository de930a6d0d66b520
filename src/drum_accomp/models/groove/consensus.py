"""Consensus decoding of the groove model: many sampled takes, and the hits most of them play.

A continuation judged by drum-hit F1 is best served by the hits the model is most sure of. One sample carries the
model's whims (a ghost note here, an open hi-hat there), and greedy decoding, field by field, commits to one path
through time that need not hold the most likely hits. Consensus decoding is the minimum-Bayes-risk choice for hit
F1 (as MBR decoding in translation picks the output the samples agree on most):

1. draw ``num_samples`` takes of the same prompt (:meth:`GrooveModel.generate_consensus`, sampled in one batch);
2. :func:`take_hits`: each take's generated hits as ``(tick, instrument, velocity bin)`` field indices;
3. :func:`consensus_hits`: every hit goes to the grid line nearest to its tick (``grid_ticks``, 16th notes by
   default); per ``(line, instrument)``, the takes that play it are counted; those played by at least
   ``min_share`` of the takes are kept, at the median tick and velocity bin of the takes that play them (the
   drummer's microtiming and dynamics stay; nothing is quantized);
4. :func:`hits_to_words`: back to compound words, with time-shift words for long gaps (as the tokenizer writes).

Nothing is copied from the prompt: every kept hit was written by the model in most of its takes.
"""

from __future__ import annotations

import numpy as np
import torch

from ...tokenization_drum import INSTRUMENT_FIELD, VELOCITY_FIELD
from .configuration_groove import GrooveConfig


def take_hits(words: torch.Tensor | np.ndarray, ticks: torch.Tensor | np.ndarray, start: int, config: GrooveConfig
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hits of one take after its first ``start`` words (the prompt).

    Args:
        words: ``(num_words, 3)`` field indices (prompt, then generated words; ``<pad>`` / ``<eos>`` words skipped).
        ticks: ``(num_words,)`` running time of each word (``modeling_groove.word_ticks``).
        start: number of prompt words.
    Returns:
        ``(ticks, instruments, velocity_bins)``, each ``(num_hits,)`` int64: running time of each hit in ticks from
        the start of ``words``, and its instrument / velocity field indices.
    """
    words = np.asarray(torch.as_tensor(words).cpu(), dtype=np.int64).reshape(-1, 3)
    ticks = np.asarray(torch.as_tensor(ticks).cpu(), dtype=np.int64).reshape(-1)
    instruments = words[:, INSTRUMENT_FIELD]
    is_hit = (instruments >= config.num_special_tokens) & (instruments < config.shift_index)
    is_hit[:start] = False
    return ticks[is_hit], instruments[is_hit], words[is_hit, VELOCITY_FIELD]


def consensus_hits(takes: list[tuple[np.ndarray, np.ndarray, np.ndarray]], grid_ticks: int, min_share: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hits that at least ``min_share`` of the takes play, per grid line and instrument.

    Args:
        takes: per take, ``(ticks, instruments, velocity_bins)`` as :func:`take_hits` returns them.
        grid_ticks: width of a grid cell in ticks (48 = a 16th note at 192 ticks per beat); a hit belongs to the
            line nearest to it. A take playing the same instrument twice on one line counts once there.
        min_share: share of the takes, in ``(0, 1]``, that must play a ``(line, instrument)`` for it to be kept
            (0.5 = a majority).
    Returns:
        ``(ticks, instruments, velocity_bins)`` in word order (by tick, then instrument), each ``(num_hits,)`` int64;
        a kept hit sits at the median tick and median velocity bin of the takes that play it.
    Raises:
        ValueError: no take, ``grid_ticks < 1`` or ``min_share`` outside ``(0, 1]``.
    """
    if not takes:
        raise ValueError("consensus decoding needs at least one take; pass num_samples >= 1")
    if grid_ticks < 1:
        raise ValueError(f"grid_ticks must be >= 1 tick (48 = 16th notes at 192 ticks per beat), got {grid_ticks}")
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must be in (0, 1] (0.5 = kept when most takes play it), got {min_share}")
    cells: dict[tuple[int, int], dict[int, list[int]]] = {}  # (line, instrument) -> take -> [tick, velocity bin]
    for take, (ticks, instruments, bins) in enumerate(takes):
        for tick, instrument, velocity_bin in zip(np.asarray(ticks).tolist(), np.asarray(instruments).tolist(),
                                                  np.asarray(bins).tolist()):
            line = (2 * tick + grid_ticks) // (2 * grid_ticks)  # nearest line, halves rounded up
            per_take = cells.setdefault((line, instrument), {})
            per_take.setdefault(take, [tick, velocity_bin])  # the take's first hit on that line
    needed = min_share * len(takes) - 1e-9
    kept = []
    for (_, instrument), per_take in cells.items():
        if len(per_take) >= needed:
            values = np.asarray(list(per_take.values()), dtype=np.float64)
            kept.append((int(np.rint(np.median(values[:, 0]))), instrument, int(np.rint(np.median(values[:, 1])))))
    kept.sort()
    hits = np.asarray(kept, dtype=np.int64).reshape(-1, 3)
    return hits[:, 0], hits[:, 1], hits[:, 2]


def hits_to_words(ticks: np.ndarray, instruments: np.ndarray, velocity_bins: np.ndarray, config: GrooveConfig,
                  start_tick: int = 0) -> np.ndarray:
    """Hits in word order (field indices) -> ``(num_words, 3)`` words, with time-shift words for gaps over
    ``max_dt`` (as ``DrumTokenizer`` writes them); the first ``dt`` counts from ``start_tick``."""
    special = config.num_special_tokens
    words, position = [], int(start_tick)
    for tick, instrument, velocity_bin in zip(np.asarray(ticks).tolist(), np.asarray(instruments).tolist(),
                                              np.asarray(velocity_bins).tolist()):
        for _ in range(max(0, (tick - position - 1) // config.max_dt)):
            position += config.max_dt
            words.append((special + config.max_dt, config.shift_index, special))
        words.append((special + tick - position, instrument, velocity_bin))
        position = tick
    return np.asarray(words, dtype=np.int64).reshape(-1, 3)


__all__ = ["consensus_hits", "hits_to_words", "take_hits"]
