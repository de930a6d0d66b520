"""Bar-aligned training windows: cut a performance or song into fixed-length spans that start on bar lines.

Both builds (GMD groove windows, backing + drums songs) use the same rule, so a "4-bar window" means the same
thing in every dataset:

- bars are the spans between consecutive downbeats (bar lines), in any meter and tempo: the downbeats carry the
  meter, so 3/4, 6/8, 7/8 or a tempo change need no special case;
- a bar counts when the piece reaches at least ``BAR_COVERAGE`` of it (a final bar whose last beat is a rest
  still counts; a lone crash on the next downbeat does not make a new bar);
- windows of ``window_bars`` bars start at bar 0 and every ``hop_bars`` bars after it, as long as they fit;
- a piece shorter than one window gives one shorter window over all its bars when it has at least ``min_bars``,
  else none (the caller counts the skip).

Hits before the first downbeat (a pickup) and bars after the last full window are not covered. Times are
seconds, bars are counted from the first downbeat (bar 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pretty_midi

BAR_COVERAGE = 0.75
"""Fraction of a bar the piece must reach (``end_time``) for the bar to count."""


def bar_windows(
    downbeats: Sequence[float] | np.ndarray, end_time: float, window_bars: int, hop_bars: int, min_bars: int = 1,
) -> list[tuple[float, float, int, int]]:
    """Window spans of ``window_bars`` bars, starting on a bar line every ``hop_bars`` bars.

    Args:
        downbeats: ``(num_downbeats,)`` increasing bar-line times in seconds (from ``midi_downbeats``, a
            MIDI's ``get_downbeats()`` or a beat tracker). Bar ``i`` spans ``[downbeats[i], downbeats[i + 1])``.
            Include the bar line that closes the last bar when you know it (``midi_downbeats`` does); if the
            last downbeat is before ``end_time``, the last bar is assumed as long as the bar before it (a
            single downbeat with nothing after it gives no measurable bar).
        end_time: end of the piece in seconds (e.g. the last note end); bars the piece does not reach to at
            least ``BAR_COVERAGE`` are not used.
        window_bars: bars per window (>= 1).
        hop_bars: bars between the starts of consecutive windows (>= 1; ``hop_bars < window_bars`` overlaps).
        min_bars: shortest window kept when the piece is shorter than one window (1 <= ``min_bars`` <=
            ``window_bars``).

    Returns:
        ``[(start_s, end_s, first_bar, num_bars), ...]`` in time order: the window covers bars
        ``first_bar .. first_bar + num_bars - 1``, from ``start_s`` (a downbeat) to ``end_s`` (the bar line
        after its last bar, possibly after ``end_time``). Every window has ``num_bars == window_bars`` except
        the single shorter window of a short piece. Empty when the piece has fewer than ``min_bars`` bars.

    Example: 11 bars, ``window_bars=4, hop_bars=2`` -> windows on bars 0-3, 2-5, 4-7, 6-9 (bar 10 is left out).
    """
    window_bars, hop_bars, min_bars = int(window_bars), int(hop_bars), int(min_bars)
    if window_bars < 1 or hop_bars < 1:
        raise ValueError(f"window_bars and hop_bars must be >= 1, got window_bars={window_bars}, "
                         f"hop_bars={hop_bars}")
    if not 1 <= min_bars <= window_bars:
        raise ValueError(f"min_bars must be between 1 and window_bars={window_bars}, got {min_bars}")
    bar_lines = _bar_lines(downbeats, float(end_time))
    num_bars = _complete_bars(bar_lines, float(end_time))
    if num_bars >= window_bars:
        firsts = range(0, num_bars - window_bars + 1, hop_bars)
        return [(float(bar_lines[first]), float(bar_lines[first + window_bars]), first, window_bars)
                for first in firsts]
    if num_bars >= min_bars:
        return [(float(bar_lines[0]), float(bar_lines[num_bars]), 0, num_bars)]
    return []


def midi_downbeats(midi: pretty_midi.PrettyMIDI) -> np.ndarray:
    """Bar lines of a MIDI file from its tempo map and time signatures, up to and including the one closing
    the bar that holds the file's end.

    ``pretty_midi.get_downbeats()`` stops near the last note; this adds the closing bar line, computed in
    ticks from the last time signature (exact under tempo changes), so ``bar_windows`` can measure the last
    bar even in a one-bar file. Files without a time signature are 4/4, as MIDI specifies.

    Returns:
        ``(num_bar_lines,)`` float64 seconds, increasing, starting at the first downbeat.
    """
    end_time = midi.get_end_time()
    downbeats = np.asarray(midi.get_downbeats(), dtype=np.float64)
    downbeats = downbeats[downbeats <= end_time]
    if len(downbeats) == 0:
        downbeats = np.zeros(1)
    signatures = sorted(midi.time_signature_changes, key=lambda signature: signature.time)
    last = [signature for signature in signatures if signature.time <= downbeats[-1] + 1e-9]
    numerator, denominator = (last[-1].numerator, last[-1].denominator) if last else (4, 4)
    bar_ticks = round(midi.resolution * 4 * numerator / denominator)
    tick = int(midi.time_to_tick(downbeats[-1]))
    closing = []
    # Add bar lines until one is at or past the end (normally just one).
    while not closing or closing[-1] < end_time:
        tick += bar_ticks
        closing.append(midi.tick_to_time(tick))
    return np.concatenate([downbeats, np.asarray(closing, dtype=np.float64)])


def _bar_lines(downbeats: Sequence[float] | np.ndarray, end_time: float) -> np.ndarray:
    """Validated bar lines; the last bar is extrapolated when no bar line closes it."""
    bar_lines = np.asarray(downbeats, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(bar_lines)) or np.any(np.diff(bar_lines) <= 0):
        raise ValueError("downbeats must be finite and strictly increasing bar-line times in seconds, got "
                         f"{bar_lines[:8].tolist()}{' ...' if len(bar_lines) > 8 else ''}")
    if not np.isfinite(end_time):
        raise ValueError(f"end_time must be a finite time in seconds, got {end_time}")
    if len(bar_lines) >= 2 and bar_lines[-1] < end_time:
        bar_lines = np.append(bar_lines, bar_lines[-1] + (bar_lines[-1] - bar_lines[-2]))
    return bar_lines


def _complete_bars(bar_lines: np.ndarray, end_time: float) -> int:
    """How many bars from the first one the piece reaches to at least ``BAR_COVERAGE``."""
    if len(bar_lines) < 2:
        return 0
    starts, ends = bar_lines[:-1], bar_lines[1:]
    reached = end_time >= starts + BAR_COVERAGE * (ends - starts)
    # Bars are consecutive, so the reached ones are a prefix.
    return int(np.count_nonzero(reached))
