"""Baselines a generated drum part must beat: a fixed rock pattern on the beat grid, and replaying the prompt.

Both return ``DrumHits`` so they go through exactly the same metrics as a model's output.
"""

from __future__ import annotations

import numpy as np

from ..midi import DRUM_CLASSES, DrumHits
from .metrics import drum_hit_scores

KICK, SNARE, CLOSED_HIHAT = (DRUM_CLASSES.index(name) for name in ("kick", "snare", "closed_hihat"))


def _bar_starts(beats: np.ndarray, downbeats: np.ndarray | None) -> np.ndarray:
    """Index in ``beats`` of each bar's first beat (downbeats snapped to the nearest beat; 4/4 when none given)."""
    if downbeats is None or len(downbeats) == 0:
        return np.arange(0, len(beats), 4)
    return np.unique(np.abs(np.asarray(downbeats)[:, None] - beats[None, :]).argmin(axis=1))


def rock_pattern(
    beats: np.ndarray, downbeats: np.ndarray | None = None, kick_velocity: int = 100, snare_velocity: int = 100,
    hihat_velocity: int = 80,
) -> DrumHits:
    """The rock beat on a given beat grid: kick on beats 1 and 3, snare on 2 and 4, closed hi-hat on every 8th.

    Beats are counted from each bar's downbeat (beat 1 = the downbeat), so in 3/4 the bar plays kick, snare,
    kick. Beats before the first downbeat (a pickup) count back from it. 8th notes sit halfway between consecutive
    beats (the last beat's off-beat uses the last beat interval).

    Args:
        beats: ``(num_beats,)`` increasing beat times (s).
        downbeats: bar starts (s), each near a beat; ``None`` = a bar every 4 beats from the first.
    Returns:
        ``DrumHits`` sorted by time then class.
    """
    beats = np.asarray(beats, dtype=np.float64).reshape(-1)
    if len(beats) < 2 or np.any(np.diff(beats) <= 0):
        raise ValueError(f"beats must hold at least 2 strictly increasing times (s), got {beats[:8].tolist()}; "
                         "pass the backing's beats (beats.track_beats or midi.midi_beats)")
    # 1. Beat number within the bar, 0-based, for every beat.
    starts = _bar_starts(beats, downbeats)
    beat_in_bar = np.empty(len(beats), dtype=np.int64)
    beat_in_bar[: starts[0]] = np.arange(-starts[0], 0) % 4
    for bar, start in enumerate(starts):
        end = starts[bar + 1] if bar + 1 < len(starts) else len(beats)
        beat_in_bar[start:end] = np.arange(end - start)
    # 2. Kick on even beats (1, 3), snare on odd beats (2, 4), hi-hat on beats and off-beats.
    intervals = np.append(np.diff(beats), beats[-1] - beats[-2])
    offbeats = beats + intervals / 2
    times = [beats[beat_in_bar % 2 == 0], beats[beat_in_bar % 2 == 1], beats, offbeats]
    classes = [KICK, SNARE, CLOSED_HIHAT, CLOSED_HIHAT]
    velocities = [kick_velocity, snare_velocity, hihat_velocity, hihat_velocity]
    return _hits(times, classes, velocities)


def _hits(times: list[np.ndarray], classes: list, velocities: list) -> DrumHits:
    """Hits from per-part times, classes and velocities (each a scalar or one per time), sorted by time then
    class."""
    all_times = np.concatenate(times)
    all_classes = np.concatenate([np.full(len(t), c, dtype=np.int64) for t, c in zip(times, classes)])
    all_velocities = np.concatenate([np.broadcast_to(np.asarray(v, dtype=np.int64), (len(t),))
                                     for t, v in zip(times, velocities)])
    order = np.lexsort((all_classes, all_times))
    return DrumHits(all_times[order], all_classes[order], all_velocities[order])


def _checked_bar_lines(name: str, lines) -> np.ndarray:
    """``lines`` as float64 bar lines (s); raises unless there are at least 2, strictly increasing."""
    lines = np.asarray(lines, dtype=np.float64).reshape(-1)
    if len(lines) < 2 or np.any(np.diff(lines) <= 0):
        raise ValueError(f"{name} must hold at least 2 increasing bar lines (the closing one included), got "
                         f"{lines[:8].tolist()}")
    return lines


def _bar_phases(prompt: DrumHits, downbeats: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per prompt bar: ``(phase in [0, 1), classes, velocities)`` of its hits."""
    bars = []
    for start, end in zip(downbeats[:-1], downbeats[1:]):
        members = (prompt.times >= start) & (prompt.times < end)
        bars.append(((prompt.times[members] - start) / (end - start), prompt.classes[members],
                     prompt.velocities[members]))
    return bars


def _placed(bars: list[tuple[np.ndarray, np.ndarray, np.ndarray]], target_downbeats: np.ndarray) -> DrumHits:
    """Bar ``i`` of ``bars`` (phases) played in target bar ``i``, sorted by time then class."""
    times = [start + phases * (end - start)
             for (phases, _, _), start, end in zip(bars, target_downbeats[:-1], target_downbeats[1:])]
    return _hits(times, [classes for _, classes, _ in bars], [velocities for _, _, velocities in bars])


def replay_last_bars(
    prompt: DrumHits, downbeats: np.ndarray, last_bars: int = 2, num_bars: int | None = None,
    target_downbeats: np.ndarray | None = None,
) -> DrumHits:
    """Continue a prompt by looping its last ``last_bars`` bars.

    Each bar of the continuation plays one bar of the loop (cycling), with every hit at the same *fraction* of
    the bar, so the loop follows tempo changes of the target grid.

    Args:
        prompt: the prompt's hits (s).
        downbeats: the prompt's bar lines (s), including the one that closes its last bar (the prompt's end):
            bar ``i`` is ``[downbeats[i], downbeats[i + 1])``. Needs at least ``last_bars + 1`` bar lines.
        last_bars: how many of the prompt's last bars to loop.
        num_bars: bars to generate when ``target_downbeats`` is not given; they continue at the prompt's last bar
            length from ``downbeats[-1]``.
        target_downbeats: bar lines of the continuation (``num_bars + 1`` times, closing line included).
    Returns:
        the continuation's ``DrumHits`` (absolute times), hits of a bar in ``[bar start, bar end)``.
    """
    downbeats = np.asarray(downbeats, dtype=np.float64).reshape(-1)
    if last_bars < 1 or len(downbeats) < last_bars + 1 or np.any(np.diff(downbeats) <= 0):
        raise ValueError(f"need at least last_bars + 1 = {last_bars + 1} increasing bar lines (the closing one "
                         f"included) to loop {last_bars} bar(s), got {len(downbeats)}: {downbeats[:8].tolist()}")
    if target_downbeats is None:
        if num_bars is None or num_bars < 1:
            raise ValueError(f"pass num_bars >= 1 or target_downbeats to say how long to continue, got {num_bars}")
        target_downbeats = downbeats[-1] + (downbeats[-1] - downbeats[-2]) * np.arange(num_bars + 1)
    target_downbeats = _checked_bar_lines("target_downbeats", target_downbeats)
    loop = _bar_phases(prompt, downbeats[-(last_bars + 1):])
    return _placed([loop[bar % last_bars] for bar in range(len(target_downbeats) - 1)], target_downbeats)


def prompt_bar_majority(
    prompt: DrumHits, downbeats: np.ndarray, target_downbeats: np.ndarray, cells_per_bar: int = 16,
    min_share: float = 0.5,
) -> DrumHits:
    """Continue a prompt with the hits most of its bars play: a stronger baseline than replaying its last bars
    (:func:`majority_bar` of the prompt's bars, played in every continuation bar).

    Args:
        prompt: the prompt's hits (s).
        downbeats: the prompt's bar lines (s), the closing one included.
        target_downbeats: bar lines of the continuation (s), the closing one included.
        cells_per_bar, min_share: as in :func:`majority_bar`.
    """
    return majority_bar([(prompt, downbeats)], target_downbeats, cells_per_bar, min_share)


def majority_bar(
    sources: list[tuple[DrumHits, np.ndarray]], target_downbeats: np.ndarray, cells_per_bar: int = 16,
    min_share: float = 0.5,
) -> DrumHits:
    """The hits most bars of ``sources`` play, looped on ``target_downbeats``.

    Every hit goes to the nearest of ``cells_per_bar`` equal cells of its bar (16 = 16th notes in 4/4); per
    ``(cell, class)`` the bars that play it are counted, and those played in at least ``min_share`` of all the bars
    are kept at the median offset from the cell and the median velocity of their hits. Every target bar plays that
    one bar.

    Args:
        sources: ``(hits (s), their bar lines (s), the closing one included)`` pairs, e.g. one prompt, or the other
            windows of a song.
        target_downbeats: bar lines to play on (s), the closing one included.
        cells_per_bar: the grid on which bars are compared (4 x beats per bar for 16th notes).
        min_share: share of the bars that must play a hit for it to be kept.
    """
    if cells_per_bar < 1 or not 0 < min_share <= 1:
        raise ValueError(f"need cells_per_bar >= 1 and min_share in (0, 1], got {cells_per_bar} and {min_share}")
    target_downbeats = _checked_bar_lines("target_downbeats", target_downbeats)
    bars = [bar for hits, downbeats in sources
            for bar in _bar_phases(hits, _checked_bar_lines("downbeats", downbeats))]
    if not bars:
        raise ValueError("majority_bar needs at least one source of hits and bar lines")
    played: dict[tuple[int, int], list[tuple[int, float, int]]] = {}
    for bar, (phases, classes, velocities) in enumerate(bars):
        nearest = np.rint(phases * cells_per_bar)
        offsets = phases * cells_per_bar - nearest  # in cells, in [-0.5, 0.5]: the drummer's microtiming
        cells = nearest.astype(np.int64) % cells_per_bar  # a hit just before the next downbeat counts on cell 0
        for cell, class_index, offset, velocity in zip(cells.tolist(), classes.tolist(), offsets.tolist(),
                                                       velocities.tolist()):
            played.setdefault((cell, class_index), []).append((bar, offset, velocity))
    kept = [((cell, class_index), hits) for (cell, class_index), hits in played.items()
            if len({bar for bar, _, _ in hits}) >= min_share * len(bars)]
    phases = np.array([(cell + np.median([offset for _, offset, _ in hits])) / cells_per_bar % 1.0
                       for (cell, _), hits in kept], dtype=np.float64)
    classes = np.array([class_index for (_, class_index), _ in kept], dtype=np.int64)
    velocities = np.array([int(np.median([velocity for _, _, velocity in hits])) for _, hits in kept],
                          dtype=np.int64)
    return _placed([(phases, classes, velocities)] * (len(target_downbeats) - 1), target_downbeats)


def best_prompt_bars(prompt: DrumHits, downbeats: np.ndarray, target_downbeats: np.ndarray, reference: DrumHits,
                     tolerance: float = 0.05) -> DrumHits:
    """A ceiling for any continuation that copies bars: each continuation bar plays the prompt bar whose hits score
    best (drum-hit F1) against the real bar, chosen *knowing* the real bar. Not a baseline a model can run.

    Args:
        prompt, downbeats, target_downbeats: as in :func:`prompt_bar_majority`.
        reference: the real continuation (s, on the time axis of ``target_downbeats``).
        tolerance: hit-matching window (s) of the F1 that picks the bar.
    """
    target_downbeats = _checked_bar_lines("target_downbeats", target_downbeats)
    bars = _bar_phases(prompt, _checked_bar_lines("downbeats", downbeats))
    chosen = []
    for start, end in zip(target_downbeats[:-1], target_downbeats[1:]):
        real = reference.window(start, end)
        real = DrumHits(real.times + start, real.classes, real.velocities)
        scores = [drum_hit_scores(real, _placed([bar], np.array([start, end])), tolerance=tolerance).micro_f1
                  for bar in bars]
        chosen.append(bars[int(np.argmax(scores))])
    return _placed(chosen, target_downbeats)


__all__ = ["best_prompt_bars", "majority_bar", "prompt_bar_majority", "replay_last_bars", "rock_pattern"]
