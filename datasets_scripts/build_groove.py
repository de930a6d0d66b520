"""Build the genre-balanced Groove MIDI Dataset windows as a `datasets.DatasetDict` (tokens, and audio on request).

    python datasets_scripts/build_groove.py --output data/groove [--render] [--num-proc 2]

Steps (each a function below, so tests can run any part):

1. ``scan_files``: read ``info.csv`` (``data.sources``), load each MIDI, cut bar-aligned windows on its downbeats
   (``data.windows``: any meter; fills and short files give one shorter window if they hold a bar). Bad files
   and empty windows are skipped and counted by reason.
2. ``plan_examples``: official split (or ``--resplit``: stratified by session), balancing genres
   (``genre_labels``), then ``balance_splits`` on train: rare genres repeated as augmented copies, dominant
   ones undersampled (or per-window weights with ``--balance-mode weights``). Validation is untouched.
3. ``make_file_examples`` (per file, in parallel): augment the copies (``augment_midi_copy`` seeded by
   ``copy_generator(seed, window_index, copy)``) BEFORE tokenizing, tokenize each window with
   ``DrumTokenizer.encode_midi`` (time from the window start), and with ``--render`` render the window's hits to
   16 kHz audio with a seeded choice of training SoundFont and GM kit, plus fp16 log-mels.
4. ``build``: genre tables before/after and the bar chart, ``save_to_disk``, the tokenizer, ``manifest.json`` and
   the dataset card, all written into an atomic folder; then an optional Hub push.

The same command gives the same dataset: every random choice is seeded by ``--seed`` and the window, never by
the order or process that handles it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from drum_accomp.data.build_utils import check_output_free, check_render_setup, command_line, worker_pool
from drum_accomp.render import TRAINING_SOUNDFONTS

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GROOVE_DIR = REPO_ROOT.parent / "shared" / "data" / "groove"
DEFAULT_OUTPUT = REPO_ROOT / "data" / "groove"

RENDER_DRUM_KITS: tuple[str, ...] = ("standard", "room", "power", "electronic", "tr808", "jazz", "brush")
"""GM drum kits a rendered window may use (the orchestra kit is left out: it is no drum set)."""
RENDER_GAP_SECONDS = 4.0
"""Silence between windows rendered in one FluidSynth call, longer than any cymbal tail, so no window hears
another's hits."""
SILENCE_PEAK = 1e-4
"""A rendered window whose peak stays below this (FluidSynth's raw output) is silent and skipped."""
CROP_MARGIN_SECONDS = 1.0
"""Notes kept around a window before augmenting it: the jitter moves notes by milliseconds only."""
_RENDER_STREAM = 1  # separates the render choice's random stream from augmentation streams

SKIP_MISSING = "MIDI file missing"
SKIP_CORRUPT = "corrupt or unreadable MIDI"
SKIP_NO_DRUMS = "no drum notes"
SKIP_WINDOWING = "windowing failed"
SKIP_SHORT = "shorter than one bar"
SKIP_EMPTY_WINDOW = "window without drum hits"
SKIP_SILENT = "silent render"
SKIP_RENDER_FAILED = "render failed"

GMD_CREDIT = (
    "Groove MIDI Dataset v1.0.0 (Magenta, Google): Jon Gillick, Adam Roberts, Jesse Engel, Mark Tsai and David "
    "Bamman, \"Learning to Groove with Inverse Sequence Transformations\", ICML 2019. "
    "https://magenta.tensorflow.org/datasets/groove, licensed CC BY 4.0.")
GMD_SOURCE = {"name": "Groove MIDI Dataset v1.0.0", "licence": "cc-by-4.0", "credit": GMD_CREDIT,
              "description": "Real drum performances of the Groove MIDI Dataset (10 drummers on a Roland TD-11)"}
SOURCE_FILE = "source.json"
"""Optional file beside ``info.csv`` naming another source: ``{"name", "licence", "credit", "description"}`` (e.g.
written by ``export_song_drums.py``); the dataset card then credits it and carries its licence instead of GMD's."""


@dataclass
class GrooveBuildArguments:
    """Options of the groove build (command-line flags use dashes: ``--window-bars``)."""

    groove_dir: str = field(default=str(DEFAULT_GROOVE_DIR),
                            metadata={"help": "GMD-style folder: info.csv + MIDI files"})
    output: str = field(default=str(DEFAULT_OUTPUT), metadata={"help": "output folder (built atomically)"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing output folder"})
    window_bars: int = field(default=4, metadata={"help": "bars per training window"})
    hop_bars: int = field(default=2, metadata={"help": "bars between window starts"})
    min_bars: int = field(default=1, metadata={"help": "shortest window kept for fills / short files, in bars"})
    limit: int | None = field(default=None, metadata={"help": "only the first N files of each split (tests)"})
    resplit: bool = field(default=False, metadata={
        "help": "ignore info.csv's split: stratified split by session (a session never spans splits)"})
    split_fractions: str = field(default="train=0.9,validation=0.1",
                                 metadata={"help": "fractions for --resplit, e.g. train=0.8,validation=0.1,test=0.1"})
    balance: bool = field(default=True, metadata={"help": "balance train genres (--no-balance turns it off)"})
    balance_mode: str = field(default="resample", metadata={
        "help": "resample: augmented copies + undersampling; weights: keep all, add sampling weights",
        "choices": ["resample", "weights"]})
    max_ratio: float = field(default=4.0, metadata={"help": "largest/smallest train genre, in windows"})
    max_repeats: int = field(default=4, metadata={"help": "most augmented copies of one window"})
    min_files_per_genre: int = field(default=4, metadata={"help": "genres with fewer train files -> unknown"})
    render: bool = field(default=False, metadata={"help": "also render each window to 16 kHz audio + log-mels"})
    seed: int = field(default=0, metadata={"help": "seed of splits, balancing, augmentation and render choices"})
    num_proc: int = field(default=1, metadata={"help": "worker processes"})
    push_to_hub: str | None = field(default=None, metadata={"help": "Hub dataset repo id to upload the folder to"})
    hub_private: bool = field(default=True, metadata={"help": "create the Hub repo private (--no-hub-private)"})

    def __post_init__(self):
        for name in ("window_bars", "hop_bars", "min_bars", "num_proc"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.min_bars > self.window_bars:
            raise ValueError(f"--min-bars ({self.min_bars}) must not exceed --window-bars ({self.window_bars})")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit must be >= 1 file per split, got {self.limit}")
        _ = self.fractions  # parse now, so a malformed --split-fractions fails before any work

    @property
    def fractions(self) -> dict[str, float]:
        try:
            pairs = [part.split("=") for part in self.split_fractions.split(",") if part.strip()]
            return {name.strip(): float(value) for name, value in pairs}
        except ValueError as error:
            raise ValueError(f"--split-fractions must look like train=0.9,validation=0.1, got "
                             f"{self.split_fractions!r}") from error

    def balancing_config(self):
        from drum_accomp.data.balancing import BalancingConfig

        return BalancingConfig(enabled=self.balance, mode=self.balance_mode, max_ratio=self.max_ratio,
                               max_repeats_per_file=self.max_repeats, min_files_per_genre=self.min_files_per_genre,
                               seed=self.seed)


@dataclass
class WindowTable:
    """The windows of every kept file, one entry per window, in file then bar order (the plan's index space).

    ``record`` indexes the records list; ``start``/``end`` are seconds, ``first_bar``/``num_bars`` bars.
    """

    record: list[int] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    end: list[float] = field(default_factory=list)
    first_bar: list[int] = field(default_factory=list)
    num_bars: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.record)

    def append(self, record: int, start: float, end: float, first_bar: int, num_bars: int) -> None:
        self.record.append(record)
        self.start.append(start)
        self.end.append(end)
        self.first_bar.append(first_bar)
        self.num_bars.append(num_bars)


@dataclass
class ExamplePlan:
    """What the build makes: per split, the (window index, copy, weight) triples in row order, and the labels.

    Attributes:
        splits: per-record split name (after ``--resplit``).
        genres: per-window balancing genre.
        rows: split -> list of ``(window_index, copy, weight)``; copy 0 is the original window.
        balance: the ``BalancingResult`` (train statistics).
    """

    splits: list[str]
    genres: list[str]
    rows: dict[str, list[tuple[int, int, float]]]
    balance: Any


# -------------------------------------------------------------------------------------------------------------
# Step 1: scan files into windows
# -------------------------------------------------------------------------------------------------------------


def scan_file(path: str, window_bars: int, hop_bars: int, min_bars: int) -> dict[str, Any]:
    """Windows of one MIDI file, or the reason it is skipped.

    Returns:
        ``{"windows": [(start_s, end_s, first_bar, num_bars), ...], "skips": [reason, ...],
        "skip_file": reason | None, "time_signature": "4/4"}`` (windows without hits are dropped and
        listed in ``skips``).
    """
    from drum_accomp.data.windows import bar_windows, midi_downbeats
    from drum_accomp.midi import drum_hits, load_midi

    result: dict[str, Any] = {"windows": [], "skips": [], "skip_file": None, "time_signature": ""}
    if not Path(path).is_file():
        result["skip_file"] = SKIP_MISSING
        return result
    try:
        midi = load_midi(path)
    except ValueError:
        result["skip_file"] = SKIP_CORRUPT
        return result
    try:
        hits = drum_hits(midi)
    except ValueError:
        result["skip_file"] = SKIP_NO_DRUMS
        return result
    if len(hits) == 0:  # drum notes exist but none maps to a drum class
        result["skip_file"] = SKIP_NO_DRUMS
        return result
    result["time_signature"] = _time_signature_at(midi, 0.0)
    try:
        windows = bar_windows(midi_downbeats(midi), midi.get_end_time(), window_bars, hop_bars, min_bars)
    except (ValueError, IndexError) as error:  # e.g. a broken tempo map; every meter itself is handled
        result["skip_file"] = f"{SKIP_WINDOWING} ({type(error).__name__})"
        return result
    if not windows:
        result["skip_file"] = SKIP_SHORT
        return result
    for window in windows:
        if np.any((hits.times >= window[0]) & (hits.times < window[1])):
            result["windows"].append(window)
        else:
            result["skips"].append(SKIP_EMPTY_WINDOW)
    return result


def _scan_task(task: tuple) -> dict[str, Any]:
    return scan_file(*task)


def scan_files(records: list, args: GrooveBuildArguments, skipped) -> WindowTable:
    """Step 1 over all records (``num_proc`` processes); skips are added to the ``SkipLog`` ``skipped``."""
    from tqdm.auto import tqdm

    tasks = [(str(record.path), args.window_bars, args.hop_bars, args.min_bars) for record in records]
    table = WindowTable()
    with worker_pool(args.num_proc) as pool:
        results = pool(_scan_task, tasks)
        for index, result in enumerate(tqdm(results, total=len(tasks), desc="scan MIDI files", unit="file")):
            name = records[index].source_file
            if result["skip_file"]:
                skipped.skip(result["skip_file"], name)
                continue
            for reason in result["skips"]:
                skipped.skip(reason, name)
            for start, end, first_bar, num_bars in result["windows"]:
                table.append(index, start, end, first_bar, num_bars)
    return table


# -------------------------------------------------------------------------------------------------------------
# Step 2: splits, genre labels and balancing
# -------------------------------------------------------------------------------------------------------------


def assign_splits(records: list, table: WindowTable, args: GrooveBuildArguments) -> list[str]:
    """Per-record split: ``info.csv``'s, or (``--resplit`` or no split given) a stratified split by session.

    Sessions hold several styles; each session is stratified by its most frequent balancing genre (counted in
    windows), so whole sessions move together.
    """
    from drum_accomp.data.balancing import balancing_genre, stratified_split

    official = [record.split for record in records]
    if not args.resplit and all(official):
        return official
    windows_per_session: dict[str, Counter] = defaultdict(Counter)
    for record_index in table.record:
        record = records[record_index]
        windows_per_session[record.session_id][balancing_genre(record.style)] += 1
    sessions = sorted(windows_per_session)
    # The most frequent genre; ties broken by name, not by the order files were listed in.
    majority = [min(windows_per_session[s].items(), key=lambda item: (-item[1], item[0]))[0] for s in sessions]
    assignment = stratified_split(sessions, majority, args.fractions, seed=args.seed)
    return [assignment.get(record.session_id, "") for record in records]


def plan_examples(
    records: list, table: WindowTable, splits: list[str], args: GrooveBuildArguments,
) -> ExamplePlan:
    """Step 2: balancing genres per window and the balanced selection of train windows.

    Only records with windows matter; ``splits`` is per record. Returns the rows of every split in order:
    train as ``balance_splits`` selects it (originals and their augmented copies), the others once each.
    """
    from drum_accomp.data.balancing import balance_splits, genre_labels

    config = args.balancing_config()
    styles = [records[r].style for r in table.record]
    file_ids = [records[r].source_file for r in table.record]
    window_splits = [splits[r] for r in table.record]
    genres = genre_labels(styles, file_ids, window_splits, config)
    result = balance_splits(genres, file_ids, window_splits, config, seed=args.seed)
    weights = np.ones(len(result.indices)) if result.weights is None else result.weights
    rows: dict[str, list[tuple[int, int, float]]] = {}
    for index, copy, weight in zip(result.indices.tolist(), result.copies.tolist(), weights.tolist()):
        rows.setdefault(window_splits[index], []).append((index, copy, float(weight)))
    ordered = {name: rows[name] for name in ("train", "validation", "test") if name in rows}
    ordered.update({name: rows[name] for name in sorted(rows) if name not in ordered})
    return ExamplePlan(splits=splits, genres=genres, rows=ordered, balance=result)


# -------------------------------------------------------------------------------------------------------------
# Step 3: examples of one file (tokens, and audio)
# -------------------------------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _tokenizer():
    if "tokenizer" not in _WORKER:
        from drum_accomp.tokenization_drum import DrumTokenizer

        _WORKER["tokenizer"] = DrumTokenizer()
    return _WORKER["tokenizer"]


def _feature_extractor():
    if "feature_extractor" not in _WORKER:
        from drum_accomp.feature_extraction_beat_mel import (
            BeatAlignedMelFeatureExtractor,
        )

        _WORKER["feature_extractor"] = BeatAlignedMelFeatureExtractor()
    return _WORKER["feature_extractor"]


def make_file_examples(task: dict[str, Any]) -> dict[str, Any]:
    """Rows of one file: every planned (window, copy) of it, tokenized (and rendered).

    Args:
        task: ``{"path", "meta": per-file columns, "examples": [{"window_index", "copy", "weight", "genre",
            "start", "end", "first_bar", "num_bars"}], "seed", "render", "augment": AugmentConfig fields}``.

    Returns:
        ``{"rows": [row dict, ...], "skips": [reason, ...]}`` with rows in the order of ``examples``.
    """
    from drum_accomp.data.augment import (
        AugmentConfig,
        augment_midi_copy,
        copy_generator,
    )
    from drum_accomp.midi import drum_hits, load_midi

    # 1. One MIDI per file; an augmented copy is the window's part of it augmented, then cut at the same bars.
    midi = load_midi(task["path"])
    tempo = float(midi.get_tempo_changes()[1][0])
    augment_config = AugmentConfig(**task["augment"])
    tokenizer = _tokenizer()
    rows, skips, render_jobs = [], [], []
    for example in task["examples"]:
        start, end = example["start"], example["end"]
        # Only the window's neighbourhood: tokenizing or augmenting a whole 20-minute file per window is slow.
        variant = crop_notes(midi, start, end)
        if example["copy"] > 0:
            generator = copy_generator(task["seed"], example["window_index"], example["copy"])
            variant = augment_midi_copy(variant, generator, augment_config)
            # The tempo map scales uniformly: bars stay on the same notes, every time divides by the factor.
            factor = float(variant.get_tempo_changes()[1][0]) / tempo
            start, end = start / factor, end / factor
        # 2. Tokens (time counted from the window start) and the window's hits.
        hits = drum_hits(variant).window(start, end)
        if len(hits) == 0:  # jitter moved the window's only hit out of it
            skips.append(SKIP_EMPTY_WINDOW)
            continue
        input_ids = tokenizer.encode_midi(variant, style=task["meta"]["style"] or None, start_time=start,
                                          end_time=end)
        row = dict(task["meta"])
        row.update({
            "window_id": f"{task['meta']['id']}:bar{example['first_bar']}",
            "genre": example["genre"], "bpm": _tempo_at(variant, start),
            "time_signature": _time_signature_at(variant, start),
            "window_start_s": start, "window_end_s": end, "window_start_bar": example["first_bar"],
            "window_end_bar": example["first_bar"] + example["num_bars"], "num_hits": len(hits),
            "copy": example["copy"], "augmented": example["copy"] > 0, "weight": example["weight"],
            "input_ids": input_ids,
        })
        rows.append(row)
        if task["render"]:
            choice = np.random.default_rng([task["seed"], _RENDER_STREAM, example["window_index"], example["copy"]])
            render_jobs.append((hits, end - start, _render_choice(choice)))

    # 3. Audio: windows sharing a SoundFont and kit are rendered in one FluidSynth call.
    if task["render"]:
        audios = render_windows(render_jobs, task["sampling_rate"])
        kept = []
        for row, (_, _, (soundfont, kit)), audio in zip(rows, render_jobs, audios):
            if isinstance(audio, str):
                skips.append(audio)
                continue
            row.update({"audio": audio, "sampling_rate": task["sampling_rate"],
                        "mel": _feature_extractor().mel_spectrogram(audio.astype(np.float32) / 32768.0)
                        .astype(np.float16),
                        "soundfont": soundfont, "drum_kit": kit})
            kept.append(row)
        rows = kept
    return {"rows": rows, "skips": skips}


def crop_notes(midi, start: float, end: float, margin: float = CROP_MARGIN_SECONDS):
    """A copy of ``midi`` (same tempo map and meter, so same times) holding only notes starting in
    ``[start - margin, end + margin)``: tokenizing or augmenting it gives what the whole file would, far cheaper."""
    import pretty_midi

    from drum_accomp.midi import _with_instruments

    parts = []
    for instrument in midi.instruments:
        part = pretty_midi.Instrument(instrument.program, is_drum=instrument.is_drum, name=instrument.name)
        part.notes = [note for note in instrument.notes if start - margin <= note.start < end + margin]
        parts.append(part)
    return _with_instruments(midi, parts)


def _render_choice(rng: np.random.Generator) -> tuple[str, str]:
    """A training SoundFont and a GM kit, drawn uniformly (never the held-out SoundFont)."""
    from drum_accomp.render import TRAINING_SOUNDFONTS

    return TRAINING_SOUNDFONTS[int(rng.integers(len(TRAINING_SOUNDFONTS)))], \
        RENDER_DRUM_KITS[int(rng.integers(len(RENDER_DRUM_KITS)))]


def render_windows(jobs: list[tuple], sampling_rate: int) -> list[np.ndarray | str]:
    """Render windows' hits to int16 audio, one FluidSynth call per (SoundFont, kit).

    Args:
        jobs: ``[(hits, duration_s, (soundfont, kit)), ...]``; ``hits`` are ``DrumHits`` with times from the
            window start, written as 9-class GM notes (``DrumHits.to_midi``), so the audio is exactly the hits
            the tokens hold.

    Returns:
        Per job, ``(round(duration_s * sampling_rate),)`` int16 audio peak-normalized to ``TARGET_PEAK`` (float
        audio = int16 / 32768), or a skip reason string.
    """
    from drum_accomp.midi import DrumHits
    from drum_accomp.render import TARGET_PEAK, render_midi

    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, (_, _, choice) in enumerate(jobs):
        groups[choice].append(index)
    gap = round(RENDER_GAP_SECONDS * sampling_rate)
    outputs: list[np.ndarray | str] = [SKIP_RENDER_FAILED] * len(jobs)
    for (soundfont, kit), members in sorted(groups.items()):
        # Windows laid end to end with a silent gap; offsets on whole samples so cuts are exact.
        lengths = [round(jobs[i][1] * sampling_rate) for i in members]
        offsets = np.cumsum([0] + [length + gap for length in lengths[:-1]])
        hits = [jobs[i][0] for i in members]
        times = np.concatenate([h.times + offset / sampling_rate for h, offset in zip(hits, offsets)])
        joined = DrumHits(times, np.concatenate([h.classes for h in hits]),
                          np.concatenate([h.velocities for h in hits]))
        total = (offsets[-1] + lengths[-1]) / sampling_rate
        try:
            audio = render_midi(joined.to_midi(bpm=120.0), sampling_rate, soundfont=soundfont, drum_kit=kit,
                                normalize=False, duration=total)
        except RuntimeError as error:
            for i in members:
                outputs[i] = f"{SKIP_RENDER_FAILED} ({str(error)[:60]})"
            continue
        for i, offset, length in zip(members, offsets, lengths):
            window = audio[offset: offset + length]
            peak = float(np.abs(window).max()) if window.size else 0.0
            if peak < SILENCE_PEAK:
                outputs[i] = SKIP_SILENT
                continue
            scaled = np.rint(window * (TARGET_PEAK * 32767.0 / peak))
            outputs[i] = np.clip(scaled, -32768, 32767).astype(np.int16)
    return outputs


def _tempo_at(midi, time_s: float) -> float:
    """Quarter notes per minute in effect at ``time_s``."""
    times, tempi = midi.get_tempo_changes()
    return float(tempi[max(0, int(np.searchsorted(times, time_s + 1e-9, side="right")) - 1)])


def _time_signature_at(midi, time_s: float) -> str:
    """``"4/4"`` style signature in effect at ``time_s`` (4/4 when the file has none, as MIDI specifies)."""
    current = "4/4"
    for signature in sorted(midi.time_signature_changes, key=lambda s: s.time):
        if signature.time <= time_s + 1e-9:
            current = f"{signature.numerator}/{signature.denominator}"
    return current


# -------------------------------------------------------------------------------------------------------------
# Step 4: the dataset
# -------------------------------------------------------------------------------------------------------------


def groove_features(render: bool, num_mels: int = 80):
    """Column types: tokens as int32 lists, audio as int16 arrays and log-mels as float16 ``(frames, mels)``."""
    import datasets

    columns = {
        "window_id": datasets.Value("string"), "id": datasets.Value("string"),
        "source_file": datasets.Value("string"), "drummer": datasets.Value("string"),
        "session": datasets.Value("string"), "style": datasets.Value("string"),
        "substyle": datasets.Value("string"), "genre": datasets.Value("string"),
        "beat_type": datasets.Value("string"), "time_signature": datasets.Value("string"),
        "bpm": datasets.Value("float32"), "window_start_s": datasets.Value("float64"),
        "window_end_s": datasets.Value("float64"), "window_start_bar": datasets.Value("int32"),
        "window_end_bar": datasets.Value("int32"), "num_hits": datasets.Value("int32"),
        "copy": datasets.Value("int32"), "augmented": datasets.Value("bool"),
        "weight": datasets.Value("float32"), "input_ids": datasets.List(datasets.Value("int32")),
    }
    if render:
        columns.update({
            "audio": datasets.List(datasets.Value("int16")), "sampling_rate": datasets.Value("int32"),
            "mel": datasets.Array2D(shape=(None, num_mels), dtype="float16"),
            "soundfont": datasets.Value("string"), "drum_kit": datasets.Value("string"),
        })
    return datasets.Features(columns)


def file_tasks(records: list, table: WindowTable, plan: ExamplePlan, split: str,
               args: GrooveBuildArguments) -> list[dict[str, Any]]:
    """Per-file tasks of one split, in row order (a file's rows are consecutive in the plan)."""
    from drum_accomp.audio import SAMPLING_RATE
    from drum_accomp.data.augment import AugmentConfig

    tasks: list[dict[str, Any]] = []
    augment = asdict(AugmentConfig())
    for window_index, copy, weight in plan.rows[split]:
        record_index = table.record[window_index]
        if not tasks or tasks[-1]["record"] != record_index:
            record = records[record_index]
            tasks.append({
                "record": record_index, "path": str(record.path), "seed": args.seed, "render": args.render,
                "sampling_rate": SAMPLING_RATE, "augment": augment, "examples": [],
                "meta": {"id": record.id, "source_file": record.source_file, "drummer": record.drummer,
                         "session": record.session, "style": record.top_style, "substyle": record.substyle,
                         "beat_type": record.beat_type},
            })
        tasks[-1]["examples"].append({
            "window_index": window_index, "copy": copy, "weight": weight, "genre": plan.genres[window_index],
            "start": table.start[window_index], "end": table.end[window_index],
            "first_bar": table.first_bar[window_index], "num_bars": table.num_bars[window_index],
        })
    return tasks


def generate_rows(tasks: tuple[dict[str, Any], ...], num_proc: int, skip_file: str, description: str
                  ) -> Iterator[dict[str, Any]]:
    """Rows of ``tasks`` in order (``num_proc`` workers); skip reasons appended to ``skip_file`` as JSON lines."""
    from tqdm.auto import tqdm

    with worker_pool(num_proc) as pool, open(skip_file, "a", encoding="utf-8") as skips:
        for task, result in tqdm(zip(tasks, pool(make_file_examples, tasks)), total=len(tasks), desc=description,
                                 unit="file"):
            skips.writelines(json.dumps([reason, task["meta"]["source_file"]]) + "\n" for reason in result["skips"])
            yield from result["rows"]


def build(args: GrooveBuildArguments, command: str | None = None) -> dict[str, Any]:
    """Run the whole build into ``args.output`` (atomically). Returns the manifest's stats plus ``"output"``.

    Raises:
        RuntimeError: when no window is left (every file skipped), naming the skip reasons.
    """
    import datasets

    from drum_accomp.data.balancing import genre_ratio, genre_table, save_genre_report
    from drum_accomp.data.build_utils import (
        SkipLog,
        atomic_build_dir,
        folder_size_bytes,
        push_folder_to_hub,
        write_dataset_card,
        write_manifest,
    )
    from drum_accomp.data.sources import read_gmd_folder

    started = time.time()
    command = command or command_line(__file__)
    output = Path(args.output)
    check_output_free(output, args.overwrite)  # fail before the work, not after it
    if args.render:
        check_render_setup(TRAINING_SOUNDFONTS)
    records = read_gmd_folder(args.groove_dir)
    source = read_source(args.groove_dir)  # fail on a bad source.json before the work
    if args.limit is not None:
        records = _first_per_split(records, args.limit)
    skipped = SkipLog()
    print(f"groove build: {len(records)} files from {args.groove_dir}")

    # 1-2. Windows, splits, balancing plan.
    table = scan_files(records, args, skipped)
    if len(table) == 0:
        raise RuntimeError(f"no window left to build from {len(records)} files; skipped: "
                           f"{dict(skipped.counts)}. Check --groove-dir and the MIDI files")
    splits = assign_splits(records, table, args)
    plan = plan_examples(records, table, splits, args)
    window_splits = [splits[r] for r in table.record]
    window_files = [records[r].source_file for r in table.record]
    before = genre_table(plan.genres, window_splits, window_files)

    with atomic_build_dir(output, overwrite=args.overwrite) as folder:
        # 3. Rows per split, written through an Arrow cache inside the build folder (removed at the end).
        cache_dir, skip_path = folder / ".cache", folder / ".skips.jsonl"
        features = groove_features(args.render)
        parts = {}
        for split in plan.rows:
            tasks = file_tasks(records, table, plan, split, args)
            fingerprint = hashlib.sha256(json.dumps([asdict(args), split, command], sort_keys=True, default=str)
                                         .encode()).hexdigest()[:16]
            # A tuple, not a list: datasets would shard a list into one generator call (and pool) per file.
            try:
                parts[split] = datasets.Dataset.from_generator(
                    generate_rows, features=features, cache_dir=str(cache_dir), fingerprint=fingerprint,
                    gen_kwargs={"tasks": tuple(tasks), "num_proc": args.num_proc, "skip_file": str(skip_path),
                                "description": f"make {split} windows"},
                )
            except datasets.exceptions.DatasetGenerationError as error:
                # Show the real error (e.g. a bug in a file's examples), not datasets' generic wrapper.
                raise (error.__cause__ or error) from None
        if skip_path.exists():
            for line in skip_path.read_text(encoding="utf-8").splitlines():
                skipped.skip(*json.loads(line))
        dataset = datasets.DatasetDict({split: part for split, part in parts.items() if len(part)})
        if not dataset:
            raise RuntimeError(f"no example left after tokenizing/rendering; skipped: {dict(skipped.counts)}")

        # 4. Tables, data, tokenizer, manifest, card.
        columns = {split: part.select_columns(["genre", "source_file", "weight"]).to_dict()
                   for split, part in dataset.items()}
        after = genre_table(
            [g for c in columns.values() for g in c["genre"]],
            [split for split, c in columns.items() for _ in c["genre"]],
            [f for c in columns.values() for f in c["source_file"]],
            weights=[w for c in columns.values() for w in c["weight"]] if args.balance_mode == "weights" else None,
        )
        report = save_genre_report(before, after, folder, title="GMD groove windows")
        print(report["text"])
        dataset.save_to_disk(str(folder))
        _tokenizer().save_pretrained(str(folder / "tokenizer"))
        del parts, dataset
        shutil.rmtree(cache_dir, ignore_errors=True)
        skip_path.unlink(missing_ok=True)

        num_rows = {split: len(c["genre"]) for split, c in columns.items()}
        stats = {
            "num_rows": num_rows,
            "num_files": {split: len(set(c["source_file"])) for split, c in columns.items()},
            "windows_before_balancing": dict(Counter(window_splits)),
            "augmented_copies": int(sum(copy > 0 for rows in plan.rows.values() for _, copy, _ in rows)),
            "train_genre_ratio_before": round(genre_ratio(before), 3),
            "train_genre_ratio_after": round(genre_ratio(after), 3) if "train" in num_rows else None,
            "files_read": len(records),
            "time_signatures": dict(Counter(_signature_of(records[r]) for r in sorted(set(table.record)))),
        }
        config = {**asdict(args), "command": command, "tokenizer": "DrumTokenizer() defaults, saved in tokenizer/",
                  "augment": asdict(_augment_config()), "render_kits": list(RENDER_DRUM_KITS) if args.render else None,
                  "render_soundfonts": list(TRAINING_SOUNDFONTS) if args.render else None}
        write_manifest(folder, config, stats, skipped, started=started)
        size = folder_size_bytes(folder)
        write_dataset_card(
            folder, title=f"{source['name']}: genre-balanced bar windows" + (" with audio" if args.render else ""),
            summary=_card_summary(args, source), licences={source["name"]: source["licence"]},
            task="other", num_examples=num_rows, size_bytes=size,
            sections=_card_sections(args, report["text"], skipped), command=command,
        )
    seconds = time.time() - started
    size = folder_size_bytes(output)
    print(f"built {output} in {seconds:.1f} s: {num_rows}, {size / 1e6:.1f} MB on disk, skipped "
          f"{skipped.total} ({dict(skipped.counts)})")
    if args.push_to_hub:
        push_folder_to_hub(output, args.push_to_hub, private=args.hub_private)
        print(f"pushed {output} to the Hub dataset repo {args.push_to_hub}")
    return {**stats, "output": str(output), "seconds": seconds, "size_bytes": size, "skipped": skipped.to_dict()}


# -------------------------------------------------------------------------------------------------------------
# Helpers
# -------------------------------------------------------------------------------------------------------------


def _augment_config():
    from drum_accomp.data.augment import AugmentConfig

    return AugmentConfig()


def _first_per_split(records: list, limit: int) -> list:
    """The first ``limit`` records of each split, in ``info.csv`` order."""
    seen: Counter = Counter()
    kept = []
    for record in records:
        seen[record.split] += 1
        if seen[record.split] <= limit:
            kept.append(record)
    return kept


def _signature_of(record) -> str:
    return record.time_signature.replace("-", "/") or "unknown"


def read_source(groove_dir: str | os.PathLike) -> dict[str, str]:
    """The folder's ``source.json`` (see ``SOURCE_FILE``), or GMD's name, licence and credit when it has none.

    Raises:
        ValueError: a ``source.json`` that is not JSON or lacks one of the keys (names them).
    """
    path = Path(groove_dir) / SOURCE_FILE
    if not path.is_file():
        return dict(GMD_SOURCE)
    try:
        source = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{str(path)!r} is not valid JSON ({error}); write {sorted(GMD_SOURCE)} as a JSON object") \
            from error
    missing = [key for key in GMD_SOURCE if not isinstance(source, dict) or not source.get(key)]
    if missing:
        raise ValueError(f"{str(path)!r} lacks {missing}; it needs {sorted(GMD_SOURCE)} so the dataset card can "
                         "credit the source and carry its licence")
    return source


def _card_summary(args: GrooveBuildArguments, source: dict[str, str] = GMD_SOURCE) -> str:
    audio = (" Each window is also rendered to 16 kHz mono audio (int16) with 80-band fp16 log-mels, for the drum "
             "VQ-VAE and vocoder.") if args.render else ""
    return (f"{source['description']}, cut into "
            f"{args.window_bars}-bar windows that start on a bar line (hop {args.hop_bars} bars) and tokenized with "
            f"`drum_accomp.DrumTokenizer` (compound words, a STYLE token first). The train split is genre-balanced "
            f"(largest/smallest genre at most {args.max_ratio:g}:1 after grouping); validation keeps the source "
            f"distribution.{audio}\n\nCredit: {source['credit']}")


def _card_sections(args: GrooveBuildArguments, tables: str, skipped) -> dict[str, str]:
    columns = (
        "| column | type | meaning |\n|---|---|---|\n"
        "| `input_ids` | int32 list | `<bos> <STYLE=style> <dt, instrument, velocity>... <eos>`; decode with the "
        "tokenizer in `tokenizer/` (`DrumTokenizer.from_pretrained`) |\n"
        "| `style`, `substyle` | string | GMD style, top level (`funk`) and second level (`groove1`, or empty) |\n"
        "| `genre` | string | balancing genre (grouped, `genres.json`; rare ones -> `unknown`) |\n"
        "| `bpm`, `time_signature` | float32, string | tempo (quarter notes / min) and meter at the window start |\n"
        "| `beat_type`, `drummer`, `session`, `id`, `source_file` | string | GMD metadata |\n"
        "| `window_id` | string | `<id>:bar<first bar>`: the same window in its augmented copies |\n"
        "| `window_start_s`, `window_end_s` | float64 | window span in seconds of the (augmented) file |\n"
        "| `window_start_bar`, `window_end_bar` | int32 | bars `[start, end)` counted from the first downbeat |\n"
        "| `num_hits` | int32 | drum hits in the window |\n"
        "| `copy`, `augmented` | int32, bool | 0 = original window; k > 0 = k-th augmented oversampling copy |\n"
        "| `weight` | float32 | sampling weight (`--balance-mode weights`), else 1 |\n")
    if args.render:
        columns += (
            "| `audio` | int16 list | the window's hits rendered at `sampling_rate` (16 kHz), peak 0.9; "
            "float = int16 / 32768 |\n"
            "| `mel` | float16 `(frames, 80)` | natural-log mel of `audio` (`BeatAlignedMelFeatureExtractor`, hop 160) |\n"
            "| `soundfont`, `drum_kit` | string | the training SoundFont and GM kit used |\n")
    method = (
        f"- **Windows**: bars come from the MIDI's downbeats (tempo map and time signatures), so every meter "
        f"(3/4, 5/8, 6/8, ...) is windowed the same way. {args.window_bars}-bar windows start every "
        f"{args.hop_bars} bars; a fill or file shorter than one window gives one window over its whole bars "
        f"(at least {args.min_bars}), else it is skipped. A bar counts when the performance reaches 75 % of it.\n"
        f"- **Splits**: " + ("stratified by session (`--resplit`), a session never spans splits.\n" if args.resplit
                             else "the official GMD split (GMD's test split is not included).\n") +
        f"- **Balancing** ({'on, mode ' + args.balance_mode if args.balance else 'off'}): styles grouped by "
        f"`genres.json`, genres with fewer than {args.min_files_per_genre} train files folded into `unknown`; "
        f"rare genres repeated up to {args.max_repeats} times as augmented copies (tempo x0.95-1.05, velocity "
        f"jitter 6 steps, 5 ms microtiming, applied to the MIDI before tokenizing and rendering), dominant genres "
        f"undersampled. Validation is untouched.\n")
    if args.render:
        method += (
            f"- **Audio**: each window's hits (9 GMD drum classes as GM notes) rendered with FluidSynth at 16 kHz "
            f"with a SoundFont from {', '.join(TRAINING_SOUNDFONTS)} and a GM kit from "
            f"{', '.join(RENDER_DRUM_KITS)}, drawn per window from the seed; the held-out SoundFont is never used. "
            f"Silent renders are skipped.\n")
    skips = "\n".join(f"- {reason}: {count}" for reason, count in sorted(skipped.counts.items())) or "- none"
    task = ("Training and evaluating symbolic drum models: the style-conditioned groove language model "
            "(`GrooveModel`, continuation and generation from a STYLE token) and the drum genre classifier "
            "(`DrumGenreClassifier`, labels `style` / `genre`).")
    if args.render:
        task += " The rendered audio and log-mels train the drum mel VQ-VAE and the drum vocoder."
    return {"Task": task, "Columns": columns, "Method": method, "Genre balance": tables, "Skipped inputs": skips,
            "Loading": "```python\nfrom datasets import load_from_disk\nfrom drum_accomp import DrumTokenizer\n"
                       "dataset = load_from_disk(\"data/groove\")\n"
                       "tokenizer = DrumTokenizer.from_pretrained(\"data/groove/tokenizer\")\n```"}


def parse_args(argv: list[str] | None = None) -> GrooveBuildArguments:
    from transformers import HfArgumentParser

    (args,) = HfArgumentParser(GrooveBuildArguments).parse_args_into_dataclasses(args=argv)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else list(argv)
    return build(parse_args(argv), command=command_line(__file__, argv))


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
