"""The evaluation report's figures (matplotlib, Agg backend, PNG): piano rolls of generated vs real drums, per-class
F1 bars, microtiming and beat-offset histograms. The genre confusion matrix is ``evaluation.genre.plot_confusion``.

Each function writes one PNG at ``path`` (parent folders created) and returns the path.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..midi import DRUM_CLASSES, DrumHits

MICROTIMING_BIN_EDGES_MS = np.arange(-100.0, 100.1, 5.0)
"""Bins (ms) of the microtiming histograms: offset from the nearest 16th note (half a 16th at 75 BPM is 100 ms);
offsets outside go to the outer bins."""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    _pyplot().close(figure)
    return path


def microtiming_histogram(offsets_ms: np.ndarray, bin_edges_ms: np.ndarray = MICROTIMING_BIN_EDGES_MS) -> np.ndarray:
    """Counts of ``offsets_ms`` in ``bin_edges_ms`` (values outside clipped into the outer bins): ``(num_bins,)``."""
    centers = (bin_edges_ms[0] + bin_edges_ms[1]) / 2, (bin_edges_ms[-2] + bin_edges_ms[-1]) / 2
    counts, _ = np.histogram(np.clip(np.asarray(offsets_ms, dtype=np.float64), *centers), bins=bin_edges_ms)
    return counts


def plot_piano_roll(path: str | os.PathLike, real: DrumHits, generated: DrumHits, beats: np.ndarray,
                    title: str) -> Path:
    """Real (top) and generated (bottom) hits of one song: time (s) across, the 9 drum classes down, colour =
    velocity; the song's true beats as grey lines."""
    plt = _pyplot()
    figure, axes = plt.subplots(2, 1, figsize=(12, 5), sharex=True, layout="constrained")
    for axis, hits, name in zip(axes, (real, generated), ("real drums", "generated")):
        axis.vlines(beats, -0.5, len(DRUM_CLASSES) - 0.5, colors="0.85", linewidth=0.6)
        points = axis.scatter(hits.times, hits.classes, c=hits.velocities, cmap="viridis", vmin=1, vmax=127, s=16,
                              marker="s")
        axis.set_yticks(range(len(DRUM_CLASSES)), list(DRUM_CLASSES), fontsize=8)
        axis.set_ylim(-0.5, len(DRUM_CLASSES) - 0.5)
        axis.set_ylabel(name)
    figure.colorbar(points, ax=axes, label="velocity", fraction=0.02)
    axes[0].set_title(title, fontsize=10)
    axes[-1].set_xlabel("seconds (grey: the song's beats)")
    return _save(figure, path)


def plot_per_class_f1(path: str | os.PathLike, scores: dict[str, dict], title: str) -> Path:
    """Grouped bars of per-class and micro F1, one bar per system.

    Args:
        scores: system name -> ``DrumHitScores.to_dict()`` (``{"classes": {name: {"f1", ...}}, "micro": {"f1"}}``);
            a class absent on both sides (NaN) is drawn as 0.
    """
    plt = _pyplot()
    names = [*DRUM_CLASSES, "micro"]
    width = 0.8 / max(len(scores), 1)
    figure, axis = plt.subplots(figsize=(11, 4), layout="constrained")
    for index, (system, values) in enumerate(scores.items()):
        f1 = [values["classes"][name]["f1"] for name in DRUM_CLASSES] + [values["micro"]["f1"]]
        axis.bar(np.arange(len(names)) + (index - (len(scores) - 1) / 2) * width, np.nan_to_num(f1), width,
                 label=system.replace("_", " "))
    axis.set_xticks(range(len(names)), names, rotation=30, ha="right")
    axis.set_ylim(0, 1)
    axis.set_ylabel("F1 (±50 ms)")
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=8)
    axis.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def plot_histograms(path: str | os.PathLike, panels: dict[str, dict[str, np.ndarray]], bin_edges_ms: np.ndarray,
                    xlabel: str) -> Path:
    """One panel per entry of ``panels`` ({panel title: {series name: counts}}), each series a step histogram
    normalised to a share of its hits, over ``bin_edges_ms``."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.6), squeeze=False,
                               layout="constrained")
    for axis, (title, series) in zip(axes[0], panels.items()):
        for name, counts in series.items():
            counts = np.asarray(counts, dtype=np.float64)
            axis.stairs(counts / max(counts.sum(), 1), bin_edges_ms, label=f"{name} ({int(counts.sum())})",
                        linewidth=1.5)
        axis.axvline(0, color="0.6", linewidth=0.8)
        axis.set_title(title, fontsize=10)
        axis.set_xlabel(xlabel)
        axis.set_ylabel("share")
        axis.legend(fontsize=8)
    return _save(figure, path)


__all__ = ["MICROTIMING_BIN_EDGES_MS", "microtiming_histogram", "plot_histograms", "plot_per_class_f1",
           "plot_piano_roll"]
