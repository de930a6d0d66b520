"""Baselines a generated drum part must beat: a fixed rock pattern on the beat grid, and replaying the prompt.

Both return ``DrumHits`` so they go through exactly the same metrics as a model's output.
"""

from __future__ import annotations

import numpy as np

from ..midi import DRUM_CLASSES, DrumHits

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


def _hits(times: list[np.ndarray], classes: list[int], velocities: list) -> DrumHits:
    all_times = np.concatenate(times)
    all_classes = np.concatenate([np.full(len(t), c, dtype=np.int64) for t, c in zip(times, classes)])
    all_velocities = np.concatenate([np.broadcast_to(np.asarray(v, dtype=np.int64), (len(t),))
                                     for t, v in zip(times, velocities)])
    order = np.lexsort((all_classes, all_times))
    return DrumHits(all_times[order], all_classes[order], all_velocities[order])


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
    target_downbeats = np.asarray(target_downbeats, dtype=np.float64).reshape(-1)
    if len(target_downbeats) < 2 or np.any(np.diff(target_downbeats) <= 0):
        raise ValueError(f"target_downbeats must hold at least 2 increasing bar lines, got "
                         f"{target_downbeats[:8].tolist()}")
    loop_lines = downbeats[-(last_bars + 1):]
    times, classes, velocities = [], [], []
    for target_bar in range(len(target_downbeats) - 1):
        source_start, source_end = loop_lines[target_bar % last_bars], loop_lines[target_bar % last_bars + 1]
        members = (prompt.times >= source_start) & (prompt.times < source_end)
        phase = (prompt.times[members] - source_start) / (source_end - source_start)
        bar_start, bar_end = target_downbeats[target_bar], target_downbeats[target_bar + 1]
        times.append(bar_start + phase * (bar_end - bar_start))
        classes.append(prompt.classes[members])
        velocities.append(prompt.velocities[members])
    all_times = np.concatenate(times)
    all_classes = np.concatenate(classes).astype(np.int64)
    all_velocities = np.concatenate(velocities).astype(np.int64)
    order = np.lexsort((all_classes, all_times))
    return DrumHits(all_times[order], all_classes[order], all_velocities[order])


__all__ = ["replay_last_bars", "rock_pattern"]
