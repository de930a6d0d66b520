"""Genre classifier data and evaluation: GMD bar windows with genre labels, window- and file-level accuracy.

Windows: each performance is cut with ``data.windows.bar_windows`` on its MIDI bar lines (``midi_downbeats``) into
``window_bars``-bar windows every ``hop_bars`` bars (a fill shorter than a window gives one shorter window), and
each window is encoded by ``DrumTokenizer.encode_midi(start_time=, end_time=)`` WITHOUT special tokens, so the
STYLE token (the answer) never reaches the classifier.

Labels: ``data.balancing.genre_labels`` over all records (styles grouped by ``genres.group_genre``, groups with
fewer than ``min_files_per_genre`` train files folded into ``unknown``), the same mapping for every split.

Accuracy:
    window-level  = mean_w [argmax logits_w == label_w]
    file-level    = mean_f [argmax (1/|W_f|) sum_{w in W_f} logits_w == label_f]
where ``W_f`` are the windows of file ``f`` (the logits are averaged, as ``DrumGenreClassifier.predict`` does).
Balanced accuracy is the mean of the per-class recalls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pretty_midi

from ..data.balancing import BalancingConfig, genre_labels
from ..data.sources import GrooveRecord, read_gmd_folder
from ..data.windows import bar_windows, midi_downbeats
from ..midi import load_midi
from ..models.genre.configuration_genre import DrumGenreClassifierConfig
from ..models.genre.modeling_genre import beat_positions_from_words
from ..tokenization_drum import DrumTokenizer


def midi_windows(
    midi: pretty_midi.PrettyMIDI, tokenizer: DrumTokenizer, config: DrumGenreClassifierConfig,
) -> list[dict]:
    """Bar windows of one MIDI file as classifier inputs.

    Returns:
        ``[{"input_words": (n, 3) int64, "beat_positions": (n,) int64, "tempo_bin": int, "start": s, "end": s},
        ...]``, one per window with at least one drum hit, ``n <= config.max_words`` (longer windows are cut). The
        tempo is ``60 / median beat interval`` of the MIDI's beats inside the window.
    """
    end_time = midi.get_end_time()
    beats = np.asarray(midi.get_beats(), dtype=np.float64)
    spans = bar_windows(midi_downbeats(midi), end_time, config.window_bars, config.hop_bars, min_bars=1)
    examples = []
    for start, end, _, _ in spans:
        ids = tokenizer.encode_midi(midi, style=None, add_special_tokens=False, start_time=start, end_time=end)
        words = tokenizer.ids_to_words(ids)[: config.max_words]
        if len(words) == 0:
            continue
        inside = beats[(beats >= start) & (beats <= end)]
        bpm = 60.0 / float(np.median(np.diff(inside))) if len(inside) >= 2 else float(midi.get_tempo_changes()[1][0])
        examples.append({"input_words": words, "beat_positions": beat_positions_from_words(tokenizer, words, config),
                         "tempo_bin": config.tempo_bin(bpm), "start": start, "end": end})
    return examples


@dataclass
class GenreWindows:
    """Windows of a GMD-style folder, ready for the classifier.

    Attributes:
        examples: per split, a list of ``{"input_words", "beat_positions", "labels", "file_index"}``.
        records: per split, the ``GrooveRecord`` of each ``file_index``.
        file_labels: per split, the label id of each file.
        labels: the genre names, index = label id (sorted).
        num_skipped: files skipped per split (missing, unreadable, no drums, no full bar).
    """

    examples: dict[str, list[dict]] = field(default_factory=dict)
    records: dict[str, list[GrooveRecord]] = field(default_factory=dict)
    file_labels: dict[str, list[int]] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    num_skipped: dict[str, int] = field(default_factory=dict)

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.labels))

    @property
    def label2id(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.labels)}


def gmd_genre_windows(
    folder: str | os.PathLike,
    config: DrumGenreClassifierConfig,
    tokenizer: DrumTokenizer | None = None,
    splits: tuple[str, ...] = ("train", "validation"),
    balancing: BalancingConfig | None = None,
    max_files: int | None = None,
    window_splits: tuple[str, ...] | None = None,
) -> GenreWindows:
    """Cut every performance of a GMD-style folder into labelled classifier windows.

    Args:
        folder: the folder holding ``info.csv`` (e.g. ``shared/data/groove``).
        config: gives ``window_bars``, ``hop_bars``, ``max_words`` and the beat-position resolution.
        splits: the splits to read; labels are decided on all of them (rarity on ``train``).
        balancing: decides the grouping and ``min_files_per_genre`` (defaults of ``BalancingConfig``).
        max_files: read only the first files of each split (tests).
        window_splits: cut windows only for these splits (default: all of ``splits``); the others still count
            for the labels (e.g. evaluate validation with the labels decided on train).
    """
    tokenizer = tokenizer or DrumTokenizer()
    records = read_gmd_folder(folder, splits=list(splits))
    if max_files is not None:
        records = [record for split in splits for record in [r for r in records if r.split == split][:max_files]]
    names = genre_labels([record.style for record in records], [record.id for record in records],
                         [record.split for record in records], balancing)
    result = GenreWindows(labels=sorted(set(names)))
    label2id = result.label2id
    for split in splits:
        result.examples[split], result.records[split], result.file_labels[split] = [], [], []
        result.num_skipped[split] = 0
    for record, name in zip(records, names):
        split = record.split
        if window_splits is not None and split not in window_splits:
            continue
        try:
            windows = midi_windows(load_midi(record.path), tokenizer, config)
        except (ValueError, FileNotFoundError):
            windows = []
        if not windows:
            result.num_skipped[split] += 1
            continue
        file_index = len(result.records[split])
        result.records[split].append(record)
        result.file_labels[split].append(label2id[name])
        for window in windows:
            result.examples[split].append({"input_words": window["input_words"],
                                           "beat_positions": window["beat_positions"],
                                           "tempo_bin": window["tempo_bin"],
                                           "labels": label2id[name], "file_index": file_index})
    return result


def oversample_short_files(examples: list[dict], min_windows_per_file: int) -> list[dict]:
    """Repeat the windows of files with fewer than ``min_windows_per_file`` windows up to about that many.

    A one-bar fill gives one window and a 3-minute beat eighty: without this, fills (60 % of GMD validation
    files) are almost absent from what the model learns, while file-level accuracy counts every file once.
    Each window of a file with ``n`` windows appears ``ceil(min_windows_per_file / n)`` times (0 = off).
    """
    if min_windows_per_file <= 1:
        return list(examples)
    counts = np.bincount([example["file_index"] for example in examples])
    repeated = []
    for example in examples:
        repeats = max(1, -(-min_windows_per_file // int(counts[example["file_index"]])))
        repeated.extend([example] * repeats)
    return repeated


@dataclass
class GenreEvaluation:
    """Accuracy of a classifier on one split.

    Attributes:
        window_accuracy: fraction of windows whose argmax is the file's label.
        file_accuracy: fraction of files whose averaged window logits have the label as argmax.
        balanced_file_accuracy: mean over classes of the file-level recall.
        confusion: ``(num_labels, num_labels)`` int64 file-level counts, rows = true, columns = predicted.
        labels: class names in index order.
        num_windows / num_files: how many were evaluated.
    """

    window_accuracy: float
    file_accuracy: float
    balanced_file_accuracy: float
    confusion: np.ndarray
    labels: list[str]
    num_windows: int
    num_files: int

    def per_class(self) -> list[dict]:
        """Per class: files, precision, recall, F1 (file level)."""
        rows = []
        for index, name in enumerate(self.labels):
            true_positive = int(self.confusion[index, index])
            support = int(self.confusion[index].sum())
            predicted = int(self.confusion[:, index].sum())
            precision = true_positive / predicted if predicted else 0.0
            recall = true_positive / support if support else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            rows.append({"genre": name, "files": support, "precision": precision, "recall": recall, "f1": f1})
        return rows

    def format(self) -> str:
        lines = [f"windows: {self.num_windows}  window-level accuracy: {self.window_accuracy:.3f}",
                 (f"files:   {self.num_files}  file-level accuracy: {self.file_accuracy:.3f}  "
                 f"balanced: {self.balanced_file_accuracy:.3f}"),
                 f"{'genre':<12} {'files':>5} {'P':>6} {'R':>6} {'F1':>6}"]
        for row in self.per_class():
            lines.append(f"{row['genre']:<12} {row['files']:>5} {row['precision']:>6.3f} {row['recall']:>6.3f} "
                         f"{row['f1']:>6.3f}")
        width = max(len(name) for name in self.labels)
        lines.append("confusion (rows true, columns predicted): " + " ".join(name[:4] for name in self.labels))
        for name, row in zip(self.labels, self.confusion):
            lines.append(f"  {name:<{width}} " + " ".join(f"{value:>4d}" for value in row))
        return "\n".join(lines)


def evaluate_logits(
    window_logits: np.ndarray, window_labels: np.ndarray, file_index: np.ndarray, labels: list[str],
) -> GenreEvaluation:
    """Window- and file-level accuracy from window logits (see the module docstring for the formulas).

    Args:
        window_logits: ``(num_windows, num_labels)``.
        window_labels: ``(num_windows,)`` label ids (a file's windows share its label).
        file_index: ``(num_windows,)`` the file each window came from.
    """
    window_logits = np.asarray(window_logits, dtype=np.float64)
    window_labels = np.asarray(window_labels, dtype=np.int64)
    file_index = np.asarray(file_index, dtype=np.int64)
    window_accuracy = float(np.mean(window_logits.argmax(axis=1) == window_labels))
    files = np.unique(file_index)
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for file in files:
        members = file_index == file
        predicted = int(window_logits[members].mean(axis=0).argmax())
        confusion[int(window_labels[members][0]), predicted] += 1
    supports = confusion.sum(axis=1)
    recalls = np.diag(confusion)[supports > 0] / supports[supports > 0]
    return GenreEvaluation(
        window_accuracy=window_accuracy, file_accuracy=float(np.trace(confusion) / max(len(files), 1)),
        balanced_file_accuracy=float(recalls.mean()) if len(recalls) else 0.0, confusion=confusion,
        labels=list(labels), num_windows=len(window_labels), num_files=len(files),
    )


def plot_confusion(evaluation: GenreEvaluation, path: str | os.PathLike, title: str = "") -> Path:
    """Save the file-level confusion matrix as a PNG (rows true, columns predicted, counts in cells)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    size = len(evaluation.labels)
    figure, axis = plt.subplots(figsize=(1.0 + 0.6 * size, 0.8 + 0.6 * size))
    axis.imshow(evaluation.confusion, cmap="Blues")
    for row in range(size):
        for column in range(size):
            value = evaluation.confusion[row, column]
            if value:
                axis.text(column, row, str(value), ha="center", va="center", fontsize=8)
    axis.set_xticks(range(size), evaluation.labels, rotation=60, ha="right")
    axis.set_yticks(range(size), evaluation.labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title or f"file-level accuracy {evaluation.file_accuracy:.3f}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


__all__ = [
    "GenreEvaluation",
    "GenreWindows",
    "evaluate_logits",
    "gmd_genre_windows",
    "midi_windows",
    "oversample_short_files",
    "plot_confusion",
]
