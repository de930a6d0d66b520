"""Bar smoothing of hit probabilities: drums repeat from bar to bar, so a cell's hit probability is blended with the
probabilities at the same place in the neighbouring bars (``DrumAccompanimentConfig.hit_bar_smoothing``).

Per song, with ``p`` the ``(num_codes, num_classes)`` hit probabilities of :meth:`DrumAccompanimentModel.generate`:

1. :func:`bar_coordinates`: each code's place in the song counted in bars (``bar index + fraction of the bar``),
   from the beat positions the model reads. A bar starts where the position wraps (falls below the previous
   code's), or at a position-0 code after codes of unknown position. Codes of unknown position get ``nan``.
2. :func:`bar_smoothed_probabilities`: for each shift ``j`` of ``1 .. bars`` bars back and forth, the code at the
   same fraction of bar ``b + j`` (bars may differ in length: tempo changes are followed), and the largest
   probability within ``tolerance`` codes of it (a bar start is known only to a code, 40 ms); the mean over the
   shifts that land inside the song, ``m``, gives ``(1 - weight) * p + weight * m``.

Codes of unknown position, or songs of fewer than two bar starts, keep their own probabilities. The weight, the
number of bars and the tolerance were chosen on training songs (README, "Bar smoothing").
"""

from __future__ import annotations

import numpy as np


def bar_coordinates(beat_positions: np.ndarray, unknown_position: int) -> np.ndarray:
    """``(num_codes,)`` beat-position ids -> ``(num_codes,)`` float place in bars (``nan`` where unknown).

    Codes before the first bar start (a pickup) and after the last one are placed with the length of the first /
    last whole bar; with fewer than two bar starts every code is ``nan``.
    """
    positions = np.asarray(beat_positions, dtype=np.int64)
    known = positions != unknown_position
    previous = np.concatenate([[unknown_position], positions[:-1]])
    previous_known = np.concatenate([[False], known[:-1]])
    wraps = known & previous_known & (positions < previous)
    fresh = known & ~previous_known & (positions == 0)
    starts = np.flatnonzero(wraps | fresh).astype(np.float64)
    coordinates = np.full(len(positions), np.nan)
    if len(starts) < 2:
        return coordinates
    codes = np.arange(len(positions), dtype=np.float64)
    lengths = np.diff(starts)  # (num_starts - 1,) codes per whole bar
    bar = np.clip(np.searchsorted(starts, codes, side="right") - 1, 0, len(lengths) - 1)
    coordinates = bar + (codes - starts[bar]) / lengths[bar]  # before the first / after the last start: extrapolated
    coordinates[~known] = np.nan
    return coordinates


def bar_smoothed_probabilities(probabilities: np.ndarray, beat_positions: np.ndarray, unknown_position: int,
                               weight: float, bars: int, tolerance: int) -> np.ndarray:
    """Blend each cell's hit probability with the same place in the ``bars`` bars before and after it.

    Args:
        probabilities: ``(num_codes, num_classes)`` hit probabilities.
        beat_positions: ``(num_codes,)`` beat-position ids of the codes.
        unknown_position: the id of an unknown position (``config.num_beat_positions - 1``).
        weight: share of the neighbouring bars' mean in the result, in ``[0, 1]`` (0 = no change).
        bars: how many bars on each side are looked at (>= 1).
        tolerance: the largest probability within this many codes of the matching code is taken (>= 0).
    Returns:
        ``(num_codes, num_classes)`` smoothed probabilities (the input where nothing matches).
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    coordinates = bar_coordinates(beat_positions, unknown_position)
    known = np.isfinite(coordinates)
    if weight == 0 or known.sum() < 2:
        return probabilities
    known_codes, known_coordinates = np.flatnonzero(known), coordinates[known]  # increasing
    last = len(probabilities) - 1
    total, count = np.zeros_like(probabilities), np.zeros(len(probabilities))
    for shift in [*range(-bars, 0), *range(1, bars + 1)]:
        target = coordinates + shift
        inside = known & (target >= known_coordinates[0]) & (target <= known_coordinates[-1])
        nearest = np.rint(np.interp(target[inside], known_coordinates, known_codes)).astype(np.int64)
        neighbourhood = [probabilities[np.clip(nearest + delta, 0, last)] for delta in range(-tolerance, tolerance + 1)]
        total[inside] += np.max(neighbourhood, axis=0)
        count[inside] += 1
    smoothed = probabilities.copy()
    has = count > 0
    smoothed[has] = (1 - weight) * probabilities[has] + weight * total[has] / count[has, None]
    return smoothed


__all__ = ["bar_coordinates", "bar_smoothed_probabilities"]
