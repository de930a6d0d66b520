"""Build the backing + drums accompaniment windows as a `datasets.DatasetDict` (log-mels, beats, drum hits, tokens).

    python datasets_scripts/build_accompaniment.py --output data/accompaniment [--source DIR ...] [--num-proc 2]

Songs come from multi-track MIDI folders, Slakh-style tracks and MUSDB-style stem folders (``data.song_sources``).
Steps (each a function below, so tests can run any part):

1. ``scan_songs`` (parallel): load each song, check it (corrupt MIDI, no drums, no backing, silent stems, shorter
   than one window: skipped and counted), list its *base windows* (fixed length, each starting on a downbeat) on
   the original tempo, track the beats of stem folders (``beats.track_beats``) and tag genres (``--tagger``).
2. ``plan_variants``: genres (``--genre-labels`` file, tagger, else ``unknown``), a song-level split
   (``stratified_split``: no song in two splits), ``balance_splits`` on the train base windows by genre (a no-op
   while every song is ``unknown``), then the song variants to render: per train song ``--train-variants``
   (variant 0 clean, the others augmented), and as many augmented ones per balancing copy; one clean variant per
   validation/test song; and the test songs again with the held-out SoundFont (split ``test_heldout_soundfont``).
3. ``make_song_variant`` (per variant, in parallel, seeded by a stable hash of the song id and the variant): MIDI
   augmentation (transpose the backing, scale the tempo, change the drum kit), backing and drums rendered apart with
   FluidSynth at 16 kHz, audio augmentation of the backing (``data.audio_augment``), then per window fp16 log-mels of
   both parts, beat positions and downbeat flags per frame, the window's drum hits and drum tokens.
4. ``build``: windows per split, the ``songs`` table (each variant's MIDI stored once), genre tables and chart,
   ``manifest.json`` and the dataset card, written into an atomic folder; then an optional Hub push.

The same command gives the same dataset, with any ``--num-proc``.

Size and time, measured on the shared 2-core machine (``--num-proc 2``, other jobs running):

- full default build (311 multitrack songs, 109,640 s of audio rendered in 591 song variants): 8,977 windows
  (train 7,552 / validation 451 / test 487 / test_heldout_soundfont 487), **3.08 GB** on disk (343 kB per window,
  almost all of it the two fp16 mels), 22 MB of MIDI in ``songs/``; **30 min** wall time (the job got 1.27 cores
  on average; FluidSynth rendering is about half the CPU time). Peak RSS 4.4 GB (mostly memory-mapped Arrow
  pages while saving). ``--store-audio`` adds 655 kB per window (about 5.9 GB more).
- ``--limit 40``: 1,012 windows, 349 MB, 490 s (on a more loaded machine).
Size scales with the audio rendered: about 28 kB per rendered second (10.24 s windows, non-overlapping).
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib
import io
import json
import os
import pickle
import shutil
import sys
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from drum_accomp.data.build_utils import check_output_free, check_render_setup, command_line, worker_pool
from drum_accomp.render import HELD_OUT_SOUNDFONT, HELD_OUT_SOUNDFONT_SPLIT, TRAINING_SOUNDFONTS

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "multitrack"
DEFAULT_OUTPUT = REPO_ROOT / "data" / "accompaniment"

SAMPLING_RATE = 16000
HOP_LENGTH = 160
"""Samples per mel frame (the feature extractor's default): 100 frames per second."""
MEL_CONTEXT_FRAMES = 4
"""Frames of real audio taken on each side of a window before the STFT (4 x 160 samples >= n_fft / 2), so a
window's first and last frames see the song around them, as on a whole track, not zero padding."""
HELD_OUT_SPLIT = HELD_OUT_SOUNDFONT_SPLIT
SPLIT_ORDER: tuple[str, ...] = ("train", "validation", "test", HELD_OUT_SPLIT)

RENDER_DRUM_KITS: tuple[str, ...] = ("standard", "room", "power", "electronic", "tr808", "jazz", "brush")
"""GM drum kits an augmented variant may use (the orchestra kit is left out: it is no drum set)."""
TRANSPOSE_RANGE: tuple[int, int] = (-3, 3)
"""Backing transposition of an augmented variant, semitones, uniform (drums never move)."""
TEMPO_RANGE: tuple[float, float] = (0.9, 1.1)
"""Tempo factor of an augmented variant, log-uniform (1.1 = 10 % faster)."""
BACKING_GAIN_DB_RANGE: tuple[float, float] = (-6.0, 0.0)
"""Gain of an augmented variant's backing after the audio effects, dB, uniform."""
SILENCE_PEAK = 1e-4
"""A render (before normalization) or a window (after) whose peak stays below this is silent."""

SKIP_CORRUPT = "corrupt or unreadable MIDI"
SKIP_NO_DRUMS = "no drum notes"
SKIP_NO_BACKING = "no backing instruments"
SKIP_BAD_STEMS = "unreadable or incomplete stems"
SKIP_SILENT_STEMS = "silent stems"
SKIP_BEATS = "beat tracking failed"
SKIP_WINDOWING = "windowing failed"
SKIP_SHORT = "shorter than one window"
SKIP_SILENT_RENDER = "silent render"
SKIP_RENDER_FAILED = "render failed"
SKIP_NO_HITS = "window without drum hits"
SKIP_SILENT_WINDOW = "silent window"

# Licences of the sources this project ships, recognised by folder name; anything else is the user's.
KNOWN_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("multitrack", "Tegridy MIDI Dataset multi-track songs (Project Los Angeles)", "cc-by-nc-sa-4.0"),
    ("slakh", "Slakh2100 (Manilow et al., 2019; MIDI from the Lakh MIDI Dataset)", "cc-by-4.0"),
    ("lakh_tests", "Lakh MIDI Dataset files (Colin Raffel, CC BY 4.0) as shipped in the MidiTok tests (MIT)",
     "cc-by-4.0"),
)
USER_SOURCE_LICENCE = "other"
"""Licence id of a source the build does not know: the card names it and asks to check its terms."""


@dataclass
class AccompanimentBuildArguments:
    """Options of the accompaniment build (command-line flags use dashes: ``--train-variants``)."""

    source: list[str] = field(default_factory=list, metadata={
        "action": "extend", "help": f"song folder: MIDI files (recursive), Slakh-style tracks or stem folders; "
                                    f"repeatable (default {DEFAULT_SOURCE})"})
    output: str = field(default=str(DEFAULT_OUTPUT), metadata={"help": "output folder (built atomically)"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing output folder"})
    limit: int | None = field(default=None, metadata={"help": "only the first N songs (sorted by id)"})
    exclude: list[str] = field(default_factory=list, metadata={
        "action": "extend", "help": "skip songs whose id (<source folder>/<relative path>) matches this fnmatch "
                                    "pattern; repeatable. E.g. '*/Transcribed Songs/*': those MT3/MuScriptor "
                                    "transcriptions sit on a default 120 BPM grid that does not follow the music, "
                                    "so their MIDI beats are no ground truth"})
    seed: int = field(default=0, metadata={"help": "seed of the split, balancing, augmentation and render choices"})
    num_proc: int = field(default=1, metadata={"help": "worker processes"})
    window_frames: int = field(default=1024, metadata={
        "help": "window length in mel frames (100 per second); a multiple of 8 (the VQ-VAE downsampling)"})
    hop_seconds: float | None = field(default=None, metadata={
        "help": "the next window starts on the first downbeat at least this many seconds after the last one "
                "(default: the window length, i.e. non-overlapping)"})
    train_variants: int = field(default=2, metadata={
        "help": "renders per train song: variant 0 clean (FluidR3), the others augmented"})
    store_audio: bool = field(default=False, metadata={
        "help": "also store each window's backing and drums waveforms (int16), for the vocoder / beat tracker"})
    beat_tracker: str = field(default="madmom", metadata={"help": "beat tracker for stem folders (no MIDI)"})
    genre_labels: str | None = field(default=None, metadata={
        "help": "CSV (columns song|id|path, genre) or JSON {song: genre} of genres by song id or path"})
    tagger: str | None = field(default=None, metadata={
        "help": "module:function called with a song's drum PrettyMIDI, returning its genre (songs without a label)"})
    split_fractions: str = field(default="train=0.8,validation=0.1,test=0.1",
                                 metadata={"help": "song-level split fractions"})
    heldout_soundfont: bool = field(default=True, metadata={
        "help": f"also render the test songs with the held-out SoundFont as split {HELD_OUT_SPLIT}"})
    balance: bool = field(default=True, metadata={"help": "balance train genres (--no-balance turns it off)"})
    max_ratio: float = field(default=4.0, metadata={"help": "largest/smallest train genre, in windows"})
    max_repeats: int = field(default=4, metadata={"help": "most augmented copies of one window"})
    min_files_per_genre: int = field(default=4, metadata={"help": "genres with fewer train songs -> unknown"})
    push_to_hub: str | None = field(default=None, metadata={"help": "Hub dataset repo id to upload the folder to"})
    hub_private: bool = field(default=True, metadata={"help": "create the Hub repo private (--no-hub-private)"})

    def __post_init__(self):
        self.source = [str(path) for path in (self.source or [DEFAULT_SOURCE])]
        for name in ("num_proc", "window_frames", "train_variants"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.window_frames % 8:
            raise ValueError(f"--window-frames must be a multiple of 8 (the VQ-VAE downsamples time by 8), got "
                             f"{self.window_frames}; e.g. 1024")
        if self.hop_seconds is not None and not self.hop_seconds > 0:
            raise ValueError(f"--hop-seconds must be > 0, got {self.hop_seconds}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit must be >= 1 song, got {self.limit}")
        if self.tagger is not None:
            load_tagger(self.tagger)  # fail before any work
        self.fractions  # validates the text

    @property
    def window_seconds(self) -> float:
        return self.window_frames * HOP_LENGTH / SAMPLING_RATE

    @property
    def hop(self) -> float:
        return self.window_seconds if self.hop_seconds is None else float(self.hop_seconds)

    @property
    def fractions(self) -> dict[str, float]:
        try:
            pairs = [part.split("=") for part in self.split_fractions.split(",") if part.strip()]
            return {name.strip(): float(value) for name, value in pairs}
        except ValueError as error:
            raise ValueError(f"--split-fractions must look like train=0.8,validation=0.1,test=0.1, got "
                             f"{self.split_fractions!r}") from error

    def balancing_config(self):
        from drum_accomp.data.balancing import BalancingConfig

        return BalancingConfig(enabled=self.balance, max_ratio=self.max_ratio, max_repeats_per_file=self.max_repeats,
                               min_files_per_genre=self.min_files_per_genre, seed=self.seed)


# -------------------------------------------------------------------------------------------------------------
# Windows, seeds and genre inputs
# -------------------------------------------------------------------------------------------------------------


def downbeat_windows(downbeats: "np.ndarray | list[float]", end_time: float, window_seconds: float,
                     hop_seconds: float) -> list[tuple[float, int]]:
    """Fixed-length windows that start on downbeats: the first on the first downbeat, each next one on the first
    downbeat at least ``hop_seconds`` after the previous start; a window must end by ``end_time``.

    Args:
        downbeats: ``(num_downbeats,)`` increasing bar-line times in seconds.
        end_time: end of the music in seconds.
        window_seconds: window length (s).
        hop_seconds: least distance between window starts (s), > 0.

    Returns:
        ``[(start_s, downbeat_index), ...]``; empty when the piece is shorter than one window.
    """
    downbeats = np.asarray(downbeats, dtype=np.float64).reshape(-1)
    if not hop_seconds > 0 or not window_seconds > 0:
        raise ValueError(f"window_seconds and hop_seconds must be > 0, got {window_seconds} and {hop_seconds}")
    if np.any(np.diff(downbeats) <= 0) or not np.all(np.isfinite(downbeats)):
        raise ValueError("downbeats must be finite and strictly increasing seconds")
    windows, index = [], 0
    while index < len(downbeats) and downbeats[index] + window_seconds <= end_time + 1e-9:
        windows.append((float(downbeats[index]), index))
        index = max(index + 1, int(np.searchsorted(downbeats, downbeats[index] + hop_seconds - 1e-9, side="left")))
    return windows


def song_generator(seed: int, song_id: str, variant: int, stream: int = 0) -> np.random.Generator:
    """The random stream of one song variant (``stream`` 0: choices, 1: the audio effects' noise), from a stable
    hash of the song id: independent of order, process and which other songs exist."""
    digest = int.from_bytes(hashlib.sha256(song_id.encode("utf-8")).digest()[:8], "little")
    return np.random.default_rng([int(seed), digest, int(variant), int(stream)])


def load_tagger(spec: str) -> Callable:
    """``"package.module:function"`` -> the function (called with a drum ``PrettyMIDI``, returning a genre)."""
    module_name, _, function_name = spec.partition(":")
    if not module_name or not function_name:
        raise ValueError(f"--tagger must look like package.module:function, got {spec!r}")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot load the tagger {spec!r} ({type(error).__name__}: {error}); is the module on "
                         "PYTHONPATH and the function defined?") from error
    if not callable(function):
        raise ValueError(f"the tagger {spec!r} is not callable")
    return function


def read_genre_labels(path: "str | os.PathLike") -> dict[str, str]:
    """A genre labels file as ``{song key: validated genre}``.

    CSV: a ``genre`` column and a key column named ``song``, ``id``, ``song_id``, ``path`` or ``source_path``.
    JSON: an object ``{key: genre}``. A key is a song id (``multitrack/Some Song.mid``), a path (absolute, or
    relative to its source folder) or a file/folder name.

    Raises:
        FileNotFoundError, ValueError: unreadable file, missing columns, or a genre that is not in ``genres.json``
            (the message lists the valid ones).
    """
    from drum_accomp.genres import validate_genre

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--genre-labels file not found: {str(path)!r}")
    if path.suffix.lower() == ".json":
        with open(path, encoding="utf-8") as handle:
            mapping = json.load(handle)
        if not isinstance(mapping, dict):
            raise ValueError(f"{str(path)!r} must hold a JSON object {{song id or path: genre}}")
    else:
        import pandas as pd

        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        keys = [name for name in ("song", "id", "song_id", "path", "source_path") if name in table.columns]
        if "genre" not in table.columns or not keys:
            raise ValueError(f"{str(path)!r} needs a 'genre' column and a song column (song, id, song_id, path or "
                             f"source_path); it has {list(table.columns)}")
        mapping = dict(zip(table[keys[0]], table["genre"]))
    labels = {}
    for key, genre in mapping.items():
        try:
            labels[str(key).strip()] = validate_genre(str(genre))
        except ValueError as error:
            raise ValueError(f"--genre-labels {str(path)!r}, song {key!r}: {error}") from None
    return labels


def label_for(record, labels: dict[str, str]) -> str | None:
    """The label of ``record`` by id, absolute path, path inside its source, or file name (first match)."""
    for key in (record.id, str(record.path), record.relative_path, record.path.name):
        if key in labels:
            return labels[key]
    return None


# -------------------------------------------------------------------------------------------------------------
# Step 1: scan songs
# -------------------------------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def canonical_midi(midi):
    """``(PrettyMIDI, bytes)``: the song written to MIDI bytes and read back, so everything the build derives
    (renders, beats, hits, tokens) comes from exactly the bytes it stores."""
    import pretty_midi

    buffer = io.BytesIO()
    midi.write(buffer)
    data = buffer.getvalue()
    return pretty_midi.PrettyMIDI(io.BytesIO(data)), data


def _quiet_midi_warnings(function):
    """Run ``function`` without pretty_midi's per-file warning about tempo events on non-zero tracks (common in
    karaoke files, harmless here: the tempo map is read all the same), which would flood the build log."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Tempo, Key or Time signature change events found on non-zero")
            return function(*args, **kwargs)

    return wrapper


@_quiet_midi_warnings
def scan_song(task: dict[str, Any]) -> dict[str, Any]:
    """Check one song and list its base windows (original tempo), or say why it is skipped.

    Returns:
        ``{"skip": reason | None, "base_starts": [s, ...], "duration": s, "tag": genre | None, "beats": ...}``;
        stem folders also carry their tracked ``beats``, ``downbeats`` and ``beats_per_bar``.
    """
    from drum_accomp.data.song_sources import KIND_STEMS, load_song_midi, load_stem_folder
    from drum_accomp.data.windows import midi_downbeats
    from drum_accomp.midi import drum_hits, split_backing_and_drums

    record = task["record"]
    result: dict[str, Any] = {"skip": None, "base_starts": [], "duration": 0.0, "tag": None}
    if record.kind == KIND_STEMS:
        try:
            backing, drums, _ = load_stem_folder(record.path, SAMPLING_RATE)
        except (ValueError, FileNotFoundError) as error:
            result["skip"] = f"{SKIP_BAD_STEMS} ({type(error).__name__})"
            return result
        if _peak(backing) < SILENCE_PEAK or _peak(drums) < SILENCE_PEAK:
            result["skip"] = SKIP_SILENT_STEMS
            return result
        try:
            tracked = _track_beats(backing + drums, task["beat_tracker"])
        except (ValueError, RuntimeError) as error:
            result["skip"] = f"{SKIP_BEATS} ({type(error).__name__})"
            return result
        duration = len(backing) / SAMPLING_RATE
        result.update(beats=tracked.beats.tolist(), downbeats=tracked.downbeats.tolist(),
                      beats_per_bar=tracked.beats_per_bar, duration=duration)
        downbeats = tracked.downbeats
    else:
        try:
            midi = load_song_midi(record)
        except (ValueError, OSError, EOFError, KeyError, IndexError):  # load_midi wraps mido's errors in ValueError
            result["skip"] = SKIP_CORRUPT
            return result
        try:
            if len(drum_hits(midi)) == 0:
                raise ValueError("no drum note maps to a drum class")
        except ValueError:
            result["skip"] = SKIP_NO_DRUMS
            return result
        try:
            _, drums_midi = split_backing_and_drums(midi)
        except ValueError:
            result["skip"] = SKIP_NO_BACKING
            return result
        duration = midi.get_end_time()
        result["duration"] = duration
        try:
            downbeats = midi_downbeats(midi)
        except (ValueError, IndexError) as error:
            result["skip"] = f"{SKIP_WINDOWING} ({type(error).__name__})"
            return result
        if task["tagger"]:
            from drum_accomp.genres import validate_genre

            result["tag"] = validate_genre(load_tagger(task["tagger"])(drums_midi))
    try:
        windows = downbeat_windows(downbeats, duration, task["window_seconds"], task["hop_seconds"])
    except ValueError as error:
        result["skip"] = f"{SKIP_WINDOWING} ({type(error).__name__})"
        return result
    if not windows:
        result["skip"] = SKIP_SHORT
        return result
    result["base_starts"] = [start for start, _ in windows]
    return result


def scan_songs(records: list, args: AccompanimentBuildArguments, skipped, labels: dict[str, str] | None = None
               ) -> dict[int, dict[str, Any]]:
    """Step 1 over all records (``num_proc`` processes). Returns ``{record index: scan result}`` of kept songs.
    The tagger only runs on songs that ``labels`` (from ``--genre-labels``) leaves without a genre."""
    from tqdm.auto import tqdm

    tasks = [{"record": record, "window_seconds": args.window_seconds, "hop_seconds": args.hop,
              "tagger": None if label_for(record, labels or {}) else args.tagger, "beat_tracker": args.beat_tracker}
             for record in records]
    kept = {}
    with worker_pool(args.num_proc) as pool:
        for index, result in enumerate(tqdm(pool(scan_song, tasks), total=len(tasks), desc="scan songs",
                                            unit="song")):
            if result["skip"]:
                skipped.skip(result["skip"], records[index].id)
            else:
                kept[index] = result
    return kept


# -------------------------------------------------------------------------------------------------------------
# Step 2: genres, split, balancing, variants
# -------------------------------------------------------------------------------------------------------------


@dataclass
class VariantPlan:
    """What the build renders.

    Attributes:
        songs: kept record indices, in id order.
        styles: record index -> genre label (validated; ``unknown`` without one).
        genres: record index -> balancing genre (grouped, rare ones folded into ``unknown``).
        splits: record index -> ``train`` / ``validation`` / ``test``.
        base_windows: every base window as ``(record index, window number)`` (for the "before" table).
        tasks: split -> variant tasks in row order.
        balance: the ``BalancingResult`` over base windows.
    """

    songs: list[int]
    styles: dict[int, str]
    genres: dict[int, str]
    splits: dict[int, str]
    tasks: dict[str, list[dict[str, Any]]]
    base_windows: list[tuple[int, int]]
    balance: Any


def plan_variants(records: list, scans: dict[int, dict[str, Any]], args: AccompanimentBuildArguments,
                  labels: dict[str, str]) -> VariantPlan:
    """Step 2: genres, the song-level split, balancing of train base windows, and every variant to render."""
    from drum_accomp.data.balancing import balance_splits, balancing_genre, genre_labels, stratified_split
    from drum_accomp.genres import UNKNOWN_GENRE

    config = args.balancing_config()
    songs = sorted(scans)
    styles = {index: label_for(records[index], labels) or scans[index]["tag"] or UNKNOWN_GENRE for index in songs}

    # 1. Song-level split, stratified by (grouped) genre.
    song_ids = [records[index].id for index in songs]
    assignment = stratified_split(song_ids, [balancing_genre(styles[i], config.group_genres) for i in songs],
                                  args.fractions, seed=args.seed)
    splits = {index: assignment[records[index].id] for index in songs}

    # 2. Balancing genres per base window (rarity judged on train songs), then balance_splits on train.
    base_windows = [(index, number) for index in songs for number in range(len(scans[index]["base_starts"]))]
    window_songs = [records[index].id for index, _ in base_windows]
    window_splits = [splits[index] for index, _ in base_windows]
    window_genres = genre_labels([styles[index] for index, _ in base_windows], window_songs, window_splits, config)
    genres = {index: genre for (index, _), genre in zip(base_windows, window_genres)}
    result = balance_splits(window_genres, window_songs, window_splits, config, seed=args.seed)
    selected: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))  # song -> copy -> windows
    for window, copy in zip(result.indices.tolist(), result.copies.tolist()):
        index, number = base_windows[window]
        selected[index][copy].add(number)

    # 3. Variants: train = clean + augmented (+ one augmented variant per balancing copy); others one clean.
    tasks: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLIT_ORDER}
    for index in songs:
        split = splits[index]
        common = {"record": records[index], "scan": scans[index], "style": styles[index], "genre": genres[index],
                  "seed": args.seed, "window_seconds": args.window_seconds, "hop_seconds": args.hop,
                  "window_frames": args.window_frames, "store_audio": args.store_audio}
        if split == "train":
            copies = selected.get(index, {})
            for variant in range(args.train_variants):
                if copies.get(0):
                    tasks[split].append({**common, "split": split, "variant": variant, "augment": variant > 0,
                                         "copy": 0, "windows": sorted(copies[0]), "soundfont": None})
            # A balancing copy counts like an original window: it is rendered train_variants times too (all
            # augmented, variants copy * train_variants + j), so the rendered rows keep balance_splits' ratios.
            for copy in sorted(number for number in copies if number > 0):
                for offset in range(args.train_variants):
                    tasks[split].append({**common, "split": split, "variant": copy * args.train_variants + offset,
                                         "augment": True, "copy": copy, "windows": sorted(copies[copy]),
                                         "soundfont": None})
        else:
            tasks[split].append({**common, "split": split, "variant": 0, "augment": False, "copy": 0,
                                 "windows": None, "soundfont": None})
            if split == "test" and args.heldout_soundfont and records[index].has_midi:
                tasks[HELD_OUT_SPLIT].append({**common, "split": HELD_OUT_SPLIT, "variant": 0, "augment": False,
                                              "copy": 0, "windows": None, "soundfont": HELD_OUT_SOUNDFONT})
    tasks = {split: rows for split, rows in tasks.items() if rows}
    return VariantPlan(songs=songs, styles=styles, genres=genres, splits=splits, tasks=tasks,
                       base_windows=base_windows, balance=result)


# -------------------------------------------------------------------------------------------------------------
# Step 3: one song variant -> windows
# -------------------------------------------------------------------------------------------------------------


def _feature_extractor():
    if "feature_extractor" not in _WORKER:
        from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor

        _WORKER["feature_extractor"] = BeatAlignedMelFeatureExtractor()
    return _WORKER["feature_extractor"]


def _tokenizer():
    if "tokenizer" not in _WORKER:
        from drum_accomp.tokenization_drum import DrumTokenizer

        _WORKER["tokenizer"] = DrumTokenizer()
    return _WORKER["tokenizer"]


def variant_choices(task: dict[str, Any]) -> dict[str, Any]:
    """The seeded render and augmentation choices of one variant (JSON-friendly).

    Clean variants: the first training SoundFont (FluidR3_GM) or the task's (held-out) one, the file's kit, no
    transposition, tempo x1, no audio effects. Augmented variants draw, in this order: SoundFont, transposition,
    tempo factor, drum kit, backing audio effects, backing gain.
    """
    from drum_accomp.data.audio_augment import sample_audio_augmentation

    if not task["augment"]:
        soundfont = (task["soundfont"] or TRAINING_SOUNDFONTS[0]) if task["record"].has_midi else ""
        return {"soundfont": soundfont, "transpose": 0, "tempo_factor": 1.0, "drum_kit": None, "audio": None,
                "backing_gain_db": 0.0}
    rng = song_generator(task["seed"], task["record"].id, task["variant"])
    soundfont = TRAINING_SOUNDFONTS[int(rng.integers(len(TRAINING_SOUNDFONTS)))]
    transpose = int(rng.integers(TRANSPOSE_RANGE[0], TRANSPOSE_RANGE[1] + 1))
    tempo_factor = float(np.exp(rng.uniform(np.log(TEMPO_RANGE[0]), np.log(TEMPO_RANGE[1]))))
    kit = RENDER_DRUM_KITS[int(rng.integers(len(RENDER_DRUM_KITS)))]
    audio = sample_audio_augmentation(rng, SAMPLING_RATE)
    gain_db = float(rng.uniform(*BACKING_GAIN_DB_RANGE))
    if not task["record"].has_midi:  # audio only: nothing to re-render, transpose or re-time
        soundfont, transpose, tempo_factor, kit = "", 0, 1.0, None
    return {"soundfont": soundfont, "transpose": transpose, "tempo_factor": round(tempo_factor, 6), "drum_kit": kit,
            "audio": audio, "backing_gain_db": round(gain_db, 4)}


@_quiet_midi_warnings
def make_song_variant(task: dict[str, Any]) -> dict[str, Any]:
    """Windows of one song variant, and its ``songs`` row.

    Returns:
        ``{"rows": [window row, ...], "song": songs row | None, "skips": [reason, ...]}``.
    """
    from drum_accomp.data.audio_augment import apply_audio_augmentation
    from drum_accomp.render import normalize_peak

    record, choices = task["record"], variant_choices(task)
    # 1. The variant's audio, beats and drum hits.
    try:
        song = _midi_variant(task, choices) if record.has_midi else _stem_variant(task)
    except _Skip as skip:
        return {"rows": [], "song": None, "skips": [str(skip)]}
    backing, drums = normalize_peak(song["backing"]), normalize_peak(song["drums"])
    if choices["audio"] is not None:
        rng = song_generator(task["seed"], record.id, task["variant"], stream=1)
        backing = apply_audio_augmentation(backing, SAMPLING_RATE, choices["audio"], rng)
        backing = (backing * 10.0 ** (choices["backing_gain_db"] / 20.0)).astype(np.float32)

    # 2. Windows of this variant that balancing kept (matched to base windows on the original time line).
    base_starts = np.asarray(task["scan"]["base_starts"])
    keep = None if task["windows"] is None else set(task["windows"])
    rows, skips = [], []
    for number, (start, downbeat_index) in enumerate(song["windows"]):
        base = int(np.searchsorted(base_starts, start * choices["tempo_factor"] + 1e-6, side="right")) - 1
        if keep is not None and max(base, 0) not in keep:
            continue
        row = _window_row(task, song, choices, backing, drums, number, start, downbeat_index)
        if isinstance(row, str):
            skips.append(row)
        else:
            rows.append(row)
    song_row = {
        "song_variant_id": song["variant_id"], "song_id": record.id, "source_path": str(record.path),
        "source_kind": record.kind, "split": task["split"], "variant": task["variant"], "copy": task["copy"],
        "augmented": task["augment"], "has_midi": record.has_midi, "midi": song["midi_bytes"],
        "style": task["style"], "genre": task["genre"], "soundfont": choices["soundfont"],
        "drum_kit": song["drum_kit"], "transpose": choices["transpose"], "tempo_factor": choices["tempo_factor"],
        "augmentation": json.dumps(choices, sort_keys=True), "duration_s": song["duration"],
        "num_windows": len(rows),
    }
    return {"rows": rows, "song": song_row, "skips": skips}


class _Skip(Exception):
    """A song variant that cannot be used; the message is the skip reason."""


def _midi_variant(task: dict[str, Any], choices: dict[str, Any]) -> dict[str, Any]:
    """Augment, canonicalize and render a MIDI song; its windows, beats and hits on the variant's time line."""
    from drum_accomp.data.augment import change_drum_kit, scale_tempo, transpose_backing
    from drum_accomp.data.song_sources import load_song_midi
    from drum_accomp.data.windows import midi_downbeats
    from drum_accomp.midi import drum_hits
    from drum_accomp.render import render_backing_and_drums

    record = task["record"]
    midi = load_song_midi(record)
    if choices["transpose"]:
        midi = transpose_backing(midi, choices["transpose"])
    if choices["tempo_factor"] != 1.0:
        midi = scale_tempo(midi, choices["tempo_factor"])
    if choices["drum_kit"]:
        midi = change_drum_kit(midi, choices["drum_kit"])
    midi, midi_bytes = canonical_midi(midi)
    duration = midi.get_end_time()
    try:
        backing, drums = render_backing_and_drums(midi, SAMPLING_RATE, choices["soundfont"], normalize=False)
    except RuntimeError as error:
        raise _Skip(f"{SKIP_RENDER_FAILED} ({str(error)[:60]})") from None
    if _peak(backing) < SILENCE_PEAK or _peak(drums) < SILENCE_PEAK:
        raise _Skip(SKIP_SILENT_RENDER)
    downbeats = midi_downbeats(midi)
    kit_program = next(instrument.program for instrument in midi.instruments if instrument.is_drum)
    suffix = "heldout" if task["split"] == HELD_OUT_SPLIT else f"v{task['variant']}"
    return {
        "midi": midi, "midi_bytes": midi_bytes, "backing": backing, "drums": drums, "duration": duration,
        "beats": np.asarray(midi.get_beats(), dtype=np.float64), "downbeats": downbeats,
        "hits": drum_hits(midi), "beats_per_bar": None,
        "windows": downbeat_windows(downbeats, duration, task["window_seconds"], task["hop_seconds"]),
        "drum_kit": choices["drum_kit"] or _kit_name(kit_program), "variant_id": f"{record.id}#{suffix}",
    }


def _stem_variant(task: dict[str, Any]) -> dict[str, Any]:
    """A stem folder's backing and drums with the beats tracked in the scan; no MIDI, no hits."""
    from drum_accomp.data.song_sources import load_stem_folder
    from drum_accomp.midi import DrumHits

    backing, drums, _ = load_stem_folder(task["record"].path, SAMPLING_RATE)
    scan = task["scan"]
    downbeats = np.asarray(scan["downbeats"], dtype=np.float64)
    return {
        "midi": None, "midi_bytes": b"", "backing": backing, "drums": drums, "duration": scan["duration"],
        "beats": np.asarray(scan["beats"], dtype=np.float64), "downbeats": downbeats,
        "hits": DrumHits(np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64)),
        "beats_per_bar": scan["beats_per_bar"],
        "windows": downbeat_windows(downbeats, scan["duration"], task["window_seconds"], task["hop_seconds"]),
        "drum_kit": "", "variant_id": f"{task['record'].id}#v{task['variant']}",
    }


def _window_row(task, song, choices, backing, drums, number, start, downbeat_index) -> "dict[str, Any] | str":
    """One window's row, or its skip reason."""
    num_frames = task["window_frames"]
    window_seconds = num_frames * HOP_LENGTH / SAMPLING_RATE
    end = start + window_seconds
    first_sample = int(round(start * SAMPLING_RATE))
    num_samples = num_frames * HOP_LENGTH
    backing_audio = _segment(backing, first_sample, num_samples)
    drums_audio = _segment(drums, first_sample, num_samples)
    if _peak(backing_audio) < SILENCE_PEAK or _peak(drums_audio) < SILENCE_PEAK:
        return SKIP_SILENT_WINDOW
    record = task["record"]
    hits = song["hits"].window(start, end)
    if record.has_midi and len(hits) == 0:
        return SKIP_NO_HITS

    # Beats around the window, on the window's time line (its first frame is the downbeat at 0 s).
    beats, downbeats = song["beats"], song["downbeats"]
    near = (beats >= start - 4 * window_seconds) & (beats <= end + window_seconds)
    beats_near = beats[near] - start
    downbeats_near = downbeats[(downbeats >= start - 4 * window_seconds) & (downbeats <= end + window_seconds)] - start
    feature_extractor = _feature_extractor()
    positions, flags = feature_extractor.beat_positions(beats_near, downbeats_near, num_frames)
    in_window = (beats_near >= -1e-9) & (beats_near < window_seconds)
    window_beats = np.maximum(beats_near[in_window], 0.0)
    window_downbeats = downbeats_near[(downbeats_near >= -1e-9) & (downbeats_near < window_seconds)]
    window_downbeats = np.maximum(window_downbeats, 0.0)
    input_ids = (_tokenizer().encode_midi(song["midi"], style=task["style"], start_time=start, end_time=end)
                 if record.has_midi else [])
    row = {
        "window_id": f"{song['variant_id']}@{number}", "song_variant_id": song["variant_id"], "song_id": record.id,
        "source_path": str(record.path), "source_kind": record.kind, "has_midi": record.has_midi,
        "style": task["style"], "genre": task["genre"],
        "window_index": number, "window_start_s": start, "window_end_s": end,
        "window_start_bar": int(downbeat_index),
        "backing_mel": _window_mel(backing, first_sample, num_frames),
        "drums_mel": _window_mel(drums, first_sample, num_frames),
        "beat_positions": positions.astype(np.int8), "downbeat_flags": flags.astype(np.int8),
        "beat_times": window_beats.astype(np.float32), "downbeat_times": window_downbeats.astype(np.float32),
        "hit_times": hits.times.astype(np.float32), "hit_classes": hits.classes.astype(np.int8),
        "hit_velocities": hits.velocities.astype(np.int16), "num_hits": len(hits),
        "drum_input_ids": input_ids,
        "bpm": _bpm(window_beats), "beats_per_bar": _beats_per_bar(beats, downbeats, start, end,
                                                                    song["beats_per_bar"]),
        "soundfont": choices["soundfont"], "drum_kit": song["drum_kit"], "variant": task["variant"],
        "copy": task["copy"], "augmented": task["augment"], "transpose": choices["transpose"],
        "tempo_factor": choices["tempo_factor"], "augmentation": json.dumps(choices, sort_keys=True),
    }
    if task["store_audio"]:
        row.update({"backing_audio": _to_int16(backing_audio), "drums_audio": _to_int16(drums_audio),
                    "sampling_rate": SAMPLING_RATE})
    return row


def _window_mel(audio: np.ndarray, first_sample: int, num_frames: int) -> np.ndarray:
    """``(num_frames, 80)`` float16 log-mel of the window starting at ``first_sample``, computed with
    ``MEL_CONTEXT_FRAMES`` frames of the real song on each side (frame ``i`` is centred on ``first_sample + i *
    HOP_LENGTH``, exactly as in a mel of the whole song)."""
    context = MEL_CONTEXT_FRAMES * HOP_LENGTH
    segment = _segment(audio, first_sample - context, (num_frames - 1) * HOP_LENGTH + 2 * context)
    mel = _feature_extractor().mel_spectrogram(segment)  # (num_frames + 2 * MEL_CONTEXT_FRAMES, 80)
    return mel[MEL_CONTEXT_FRAMES: MEL_CONTEXT_FRAMES + num_frames].astype(np.float16)


def _segment(audio: np.ndarray, first: int, length: int) -> np.ndarray:
    """``audio[first: first + length]``, zero-padded where it reaches past either end."""
    output = np.zeros(length, dtype=np.float32)
    source_start, source_end = max(first, 0), min(first + length, len(audio))
    if source_end > source_start:
        output[source_start - first: source_end - first] = audio[source_start:source_end]
    return output


def _bpm(window_beats: np.ndarray) -> float:
    return float(60.0 / np.median(np.diff(window_beats))) if len(window_beats) >= 2 else float("nan")


def _beats_per_bar(beats: np.ndarray, downbeats: np.ndarray, start: float, end: float, default: int | None) -> int:
    """The most common bar length, in beats, of the bars starting in ``[start, end)`` (so a pickup bar or one odd
    bar does not define the window's meter; 6/8 counts pretty_midi's dotted-quarter beats); ``default`` (else 4)
    when no bar is closed inside the grid."""
    lines = downbeats[(downbeats >= start - 1e-6) & (downbeats < end - 1e-6)]
    following = downbeats[np.searchsorted(downbeats, lines[-1], side="right"):][:1] if len(lines) else []
    bar_lines = np.concatenate([lines, following])
    counts = [int(np.count_nonzero((beats >= low - 1e-6) & (beats < high - 1e-6)))
              for low, high in zip(bar_lines[:-1], bar_lines[1:])]
    counts = [count for count in counts if count > 0]
    if not counts:
        return int(default or 4)
    return Counter(counts).most_common(1)[0][0]


def _kit_name(program: int) -> str:
    from drum_accomp.midi import GM_DRUM_KITS

    names = {number: name for name, number in GM_DRUM_KITS.items()}
    return names.get(int(program), f"program {int(program)}")


def _to_int16(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(audio * 32767.0), -32768, 32767).astype(np.int16)


def _peak(audio: np.ndarray) -> float:
    return float(np.abs(audio).max()) if len(audio) else 0.0


def _track_beats(audio: np.ndarray, backend: str):
    from drum_accomp.beats import track_beats

    return track_beats(audio, SAMPLING_RATE, backend=backend)


# -------------------------------------------------------------------------------------------------------------
# Step 4: the dataset
# -------------------------------------------------------------------------------------------------------------


def window_features(window_frames: int, store_audio: bool, num_mels: int = 80):
    """Column types of the windows (see the dataset card for their meaning)."""
    import datasets

    string, int32, float32 = datasets.Value("string"), datasets.Value("int32"), datasets.Value("float32")
    columns = {
        "window_id": string, "song_variant_id": string, "song_id": string, "source_path": string,
        "source_kind": string, "has_midi": datasets.Value("bool"), "style": string, "genre": string,
        "window_index": int32, "window_start_s": datasets.Value("float64"), "window_end_s": datasets.Value("float64"),
        "window_start_bar": int32,
        "backing_mel": datasets.Array2D(shape=(window_frames, num_mels), dtype="float16"),
        "drums_mel": datasets.Array2D(shape=(window_frames, num_mels), dtype="float16"),
        "beat_positions": datasets.List(datasets.Value("int8"), length=window_frames),
        "downbeat_flags": datasets.List(datasets.Value("int8"), length=window_frames),
        "beat_times": datasets.List(float32), "downbeat_times": datasets.List(float32),
        "hit_times": datasets.List(float32), "hit_classes": datasets.List(datasets.Value("int8")),
        "hit_velocities": datasets.List(datasets.Value("int16")), "num_hits": int32,
        "drum_input_ids": datasets.List(int32), "bpm": float32, "beats_per_bar": int32,
        "soundfont": string, "drum_kit": string, "variant": int32, "copy": int32,
        "augmented": datasets.Value("bool"), "transpose": int32, "tempo_factor": float32, "augmentation": string,
    }
    if store_audio:
        columns.update({"backing_audio": datasets.List(datasets.Value("int16")),
                        "drums_audio": datasets.List(datasets.Value("int16")), "sampling_rate": int32})
    return datasets.Features(columns)


def song_features():
    import datasets

    string = datasets.Value("string")
    return datasets.Features({
        "song_variant_id": string, "song_id": string, "source_path": string, "source_kind": string, "split": string,
        "variant": datasets.Value("int32"), "copy": datasets.Value("int32"), "augmented": datasets.Value("bool"),
        "has_midi": datasets.Value("bool"), "midi": datasets.Value("binary"), "style": string, "genre": string,
        "soundfont": string, "drum_kit": string, "transpose": datasets.Value("int32"),
        "tempo_factor": datasets.Value("float32"), "augmentation": string, "duration_s": datasets.Value("float64"),
        "num_windows": datasets.Value("int32"),
    })


def generate_rows(tasks: "tuple[dict[str, Any], ...]", num_proc: int, side_file: str, description: str
                  ) -> Iterator[dict[str, Any]]:
    """Window rows of ``tasks`` in order (``num_proc`` workers); each variant's song row and skip reasons are
    appended to ``side_file`` (pickles), to be read after the split is written."""
    from tqdm.auto import tqdm

    with worker_pool(num_proc) as pool, _one_torch_thread(), open(side_file, "ab") as side:
        for task, result in tqdm(zip(tasks, pool(make_song_variant, tasks)), total=len(tasks), desc=description,
                                 unit="song"):
            pickle.dump({"song": result["song"], "skips": result["skips"], "song_id": task["record"].id}, side)
            yield from result["rows"]


def read_side_file(path: Path) -> list[dict[str, Any]]:
    entries = []
    if path.exists():
        with open(path, "rb") as handle:
            while True:
                try:
                    entries.append(pickle.load(handle))
                except EOFError:
                    break
    return entries


def build(args: AccompanimentBuildArguments, command: str | None = None) -> dict[str, Any]:
    """Run the whole build into ``args.output`` (atomically). Returns the manifest's stats plus ``"output"``.

    Raises:
        RuntimeError: when no window is left (every song skipped), naming the skip reasons.
    """
    import datasets

    from drum_accomp.data.balancing import genre_ratio, genre_table, save_genre_report
    from drum_accomp.data.build_utils import (
        SkipLog, atomic_build_dir, folder_size_bytes, push_folder_to_hub, write_dataset_card, write_manifest,
    )
    from drum_accomp.data.song_sources import read_song_sources

    started = time.time()
    command = command or command_line(__file__)
    output = Path(args.output)
    check_output_free(output, args.overwrite)  # fail before the work, not after it
    labels = read_genre_labels(args.genre_labels) if args.genre_labels else {}
    check_render_setup((*TRAINING_SOUNDFONTS, HELD_OUT_SOUNDFONT))
    records = read_song_sources(args.source)
    skipped = SkipLog()
    for record in [record for record in records if any(fnmatch.fnmatch(record.id, p) for p in args.exclude)]:
        skipped.skip("excluded by --exclude", record.id)
        records.remove(record)
    if args.limit is not None:
        records = records[: args.limit]
    print(f"accompaniment build: {len(records)} songs from {', '.join(args.source)}")

    # 1-2. Scan, split, balance, plan the variants.
    scans = scan_songs(records, args, skipped, labels)
    if not scans:
        raise RuntimeError(f"no song left to build from {len(records)} songs; skipped: {dict(skipped.counts)}. "
                           "Check --source and the files")
    plan = plan_variants(records, scans, args, labels)
    before_genres, before_splits, before_songs = [], [], []
    for index, _ in plan.base_windows:
        for split in planned_splits(plan.splits[index], args, heldout=HELD_OUT_SPLIT in plan.tasks
                                    and records[index].has_midi):
            before_genres.append(plan.genres[index])
            before_splits.append(split)
            before_songs.append(records[index].id)
    before = genre_table(before_genres, before_splits, before_songs)

    with atomic_build_dir(output, overwrite=args.overwrite) as folder:
        # 3. Windows per split through an Arrow cache in the build folder (removed at the end).
        cache_dir = folder / ".cache"
        features = window_features(args.window_frames, args.store_audio)
        parts, song_rows = {}, []
        for split, tasks in plan.tasks.items():
            side_path = folder / f".side-{split}.pkl"
            fingerprint = hashlib.sha256(json.dumps([asdict(args), split, command], sort_keys=True, default=str)
                                         .encode()).hexdigest()[:16]
            try:
                # A tuple, not a list: datasets would shard a list into one generator call (and pool) per song.
                parts[split] = datasets.Dataset.from_generator(
                    generate_rows, features=features, cache_dir=str(cache_dir), fingerprint=fingerprint,
                    gen_kwargs={"tasks": tuple(tasks), "num_proc": args.num_proc, "side_file": str(side_path),
                                "description": f"render {split} songs"},
                )
            except datasets.exceptions.DatasetGenerationError as error:
                raise (error.__cause__ or error) from None
            except ValueError:  # datasets refuses a split without rows: fine when every variant was skipped
                if any(entry["song"] and entry["song"]["num_windows"] for entry in read_side_file(side_path)):
                    raise
            for entry in read_side_file(side_path):
                for reason in entry["skips"]:
                    skipped.skip(reason, entry["song_id"])
                if entry["song"] is not None:
                    song_rows.append(entry["song"])
            side_path.unlink()
        dataset = datasets.DatasetDict({split: part for split, part in parts.items() if len(part)})
        if not dataset:
            raise RuntimeError(f"no window left after rendering; skipped: {dict(skipped.counts)}")

        # 4. Tables, data, songs, manifest, card.
        columns = {split: part.select_columns(["genre", "song_id"]).to_dict() for split, part in dataset.items()}
        after = genre_table([g for c in columns.values() for g in c["genre"]],
                            [split for split, c in columns.items() for _ in c["genre"]],
                            [s for c in columns.values() for s in c["song_id"]])
        report = save_genre_report(before, after, folder, title="accompaniment windows")
        print(report["text"])
        dataset.save_to_disk(str(folder))
        songs = datasets.Dataset.from_list(song_rows, features=song_features())
        songs.save_to_disk(str(folder / "songs"))
        del parts, dataset, songs
        shutil.rmtree(cache_dir, ignore_errors=True)

        num_rows = {split: len(c["genre"]) for split, c in columns.items()}
        window_bytes = folder_size_bytes(folder)
        stats = {
            "num_rows": num_rows,
            "num_songs": {split: len(set(c["song_id"])) for split, c in columns.items()},
            "num_song_variants": dict(Counter(row["split"] for row in song_rows)),
            "songs_read": len(records), "songs_kept": len(plan.songs),
            "source_kinds": dict(Counter(records[index].kind for index in plan.songs)),
            "styles": dict(Counter(plan.styles.values())),
            "base_windows": len(plan.base_windows),
            "augmented_copies": int(sum(task["copy"] > 0 for tasks in plan.tasks.values() for task in tasks)),
            "train_genre_ratio_before": round(genre_ratio(before), 3),
            "train_genre_ratio_after": round(genre_ratio(after), 3) if "train" in num_rows else None,
            "window_seconds": args.window_seconds, "window_frames": args.window_frames,
            "bytes_per_window": round(window_bytes / max(sum(num_rows.values()), 1)),
            "audio_seconds": round(sum(row["duration_s"] for row in song_rows), 1),
        }
        config = {**asdict(args), "command": command, "window_seconds": args.window_seconds, "hop": args.hop,
                  "tokenizer": "DrumTokenizer() defaults", "feature_extractor": "BeatAlignedMelFeatureExtractor() "
                  "defaults (80 mels, 16 kHz, hop 160)", "render_soundfonts": list(TRAINING_SOUNDFONTS),
                  "render_kits": list(RENDER_DRUM_KITS), "transpose_range": list(TRANSPOSE_RANGE),
                  "tempo_range": list(TEMPO_RANGE), "backing_gain_db_range": list(BACKING_GAIN_DB_RANGE),
                  "audio_augment": _audio_augment_config(), "genre_labels_applied": sum(
                      1 for index in plan.songs if label_for(records[index], labels))}
        write_manifest(folder, config, stats, skipped, started=started)
        size = folder_size_bytes(folder)
        write_dataset_card(
            folder, title="Backing + drums windows for drum accompaniment", summary=_card_summary(args, records,
                                                                                                  plan),
            licences=source_licences(args.source), task="audio-to-audio", num_examples=num_rows, size_bytes=size,
            sections=_card_sections(args, report["text"], skipped, stats), command=command,
        )
    seconds = time.time() - started
    size = folder_size_bytes(output)
    print(f"built {output} in {seconds:.1f} s: {num_rows} windows, {stats['num_songs']} songs, "
          f"{size / 1e6:.1f} MB on disk ({stats['bytes_per_window'] / 1e3:.0f} kB per window), skipped "
          f"{skipped.total} ({dict(skipped.counts)})")
    if args.push_to_hub:
        push_folder_to_hub(output, args.push_to_hub, private=args.hub_private)
        print(f"pushed {output} to the Hub dataset repo {args.push_to_hub}")
    return {**stats, "output": str(output), "seconds": seconds, "size_bytes": size, "skipped": skipped.to_dict()}


def planned_splits(split: str, args: AccompanimentBuildArguments, heldout: bool) -> list[str]:
    """Where a base window of a ``split`` song lands before balancing: once per train variant, once in
    validation / test, and once more in the held-out SoundFont split for a test song with MIDI."""
    if split == "train":
        return ["train"] * args.train_variants
    return [split, HELD_OUT_SPLIT] if split == "test" and heldout else [split]


# -------------------------------------------------------------------------------------------------------------
# Helpers
# -------------------------------------------------------------------------------------------------------------


class _one_torch_thread:
    """One torch math thread while the build runs in-process (4x faster mels on a busy 2-core machine than 2
    threads fighting over the cores); the caller's setting is restored after."""

    def __enter__(self):
        import torch

        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.threads)


def _audio_augment_config() -> dict[str, Any]:
    from drum_accomp.data.audio_augment import AudioAugmentConfig

    return AudioAugmentConfig().to_dict()


def source_licences(sources: list[str]) -> dict[str, str]:
    """Source name -> licence, for the sources a build read (recognised by folder name)."""
    licences = {}
    for source in sources:
        path = str(Path(source).resolve()).lower()
        for key, name, licence in KNOWN_SOURCES:
            if key in path and not (key == "lakh_tests" and "slakh" in path):
                licences[name] = licence
                break
        else:
            licences[f"user source {Path(source).name} (licence unknown: check its terms before sharing)"] = \
                USER_SOURCE_LICENCE
    return licences


def _card_summary(args: AccompanimentBuildArguments, records: list, plan: VariantPlan) -> str:
    licences = source_licences(args.source)
    noncommercial = any("nc" in licence for licence in licences.values())
    warning = ("\n\n**Licence: NonCommercial.** The multi-track songs are CC BY-NC-SA 4.0 (Tegridy MIDI Dataset, "
               "Project Los Angeles). This dataset and every model trained on it inherit the NonCommercial and "
               "ShareAlike terms: research use only, no commercial checkpoints." if noncommercial else "")
    return (f"Backing tracks and their drum parts, rendered apart from real multi-track songs with FluidSynth at 16 kHz "
            f"and cut into {args.window_seconds:g} s windows ({args.window_frames} mel frames) that start on a "
            f"downbeat. Each window holds fp16 80-band log-mels of the backing and of the drums, the beat position and "
            f"downbeat flag of every frame (beats exact from the MIDI), the window's drum hits (9 GMD classes) and "
            f"drum tokens (`DrumTokenizer`), tempo and meter; the songs' (augmented) MIDI is stored once per song "
            f"variant in `songs/`. Splits are by song. Task: drum accompaniment (backing audio -> drums as audio "
            f"and MIDI).{warning}")


def _card_sections(args: AccompanimentBuildArguments, tables: str, skipped, stats: dict) -> dict[str, str]:
    columns = (
        "| column | type | meaning |\n|---|---|---|\n"
        "| `window_id`, `song_variant_id`, `song_id` | string | `<song_id>#v<variant>@<window>`; join `song_variant_id` "
        "with `songs/` for the MIDI |\n"
        "| `source_path`, `source_kind` | string | the song's file or folder; `midi`, `slakh` or `stems` |\n"
        "| `has_midi` | bool | false for stem folders: beats tracked, drum hits and tokens unknown (empty) |\n"
        "| `style`, `genre` | string | genre label (`--genre-labels` / `--tagger`, else `unknown`) and its "
        "balancing group |\n"
        "| `window_index`, `window_start_s`, `window_end_s`, `window_start_bar` | int, float64, int | the window in "
        "the song variant (seconds of the variant's time line; bar = downbeat index) |\n"
        f"| `backing_mel`, `drums_mel` | float16 `({args.window_frames}, 80)` | natural-log mel "
        "(`BeatAlignedMelFeatureExtractor`, 16 kHz, hop 160 = 100 frames/s); frame 0 is centred on the downbeat |\n"
        f"| `beat_positions`, `downbeat_flags` | int8 `({args.window_frames},)` | position in the bar per frame "
        "(`beat_in_bar * 4 + sixteenth`, 32 = unknown) and 1 on a downbeat's first sixteenth |\n"
        "| `beat_times`, `downbeat_times` | float32 lists | beats / bar lines in the window, seconds from its start |\n"
        "| `hit_times`, `hit_classes`, `hit_velocities`, `num_hits` | lists | drum onsets (s from the window start), "
        "class (`midi.DRUM_CLASSES`), MIDI velocity |\n"
        "| `drum_input_ids` | int32 list | `DrumTokenizer().encode_midi(midi, style, start_time, end_time)`; decode "
        "with `beat_times` as the grid |\n"
        "| `bpm`, `beats_per_bar` | float32, int32 | median tempo of the window's beats; most common bar length "
        "in the window, in beats |\n"
        "| `soundfont`, `drum_kit` | string | SoundFont and GM kit rendered with (empty for stem folders) |\n"
        "| `variant`, `copy`, `augmented`, `transpose`, `tempo_factor`, `augmentation` | | variant number, balancing "
        "copy (0 = original), whether augmented, semitones, tempo factor, all choices as JSON |\n")
    if args.store_audio:
        columns += ("| `backing_audio`, `drums_audio`, `sampling_rate` | int16 lists, int32 | the window's waveforms "
                    "(float = int16 / 32768) |\n")
    method = (
        f"- **Sources**: multi-track General MIDI songs (drums on channel 10), Slakh-style tracks and stem folders "
        f"({', '.join(f'{kind}: {count}' for kind, count in stats['source_kinds'].items())} songs kept).\n"
        f"- **Render**: backing and drums rendered apart with FluidSynth at 16 kHz (no synth reverb/chorus), each "
        f"peak-normalized to 0.9. Stem folders: backing = sum of the non-drum stems, beats tracked with "
        f"`{args.beat_tracker}` on backing + drums.\n"
        f"- **Windows**: {args.window_frames} frames ({args.window_seconds:g} s), each starting on a downbeat of the "
        f"MIDI's tempo map; the next starts on the first downbeat at least {args.hop:g} s later. A window must end "
        f"before the song does; windows without drum hits or with a silent part are skipped.\n"
        f"- **Splits**: by song (`stratified_split`, {args.split_fractions}, seed {args.seed}); no song is in two "
        f"splits. `{HELD_OUT_SPLIT}` = the test songs rendered with the held-out SoundFont, never used for "
        f"training.\n"
        f"- **Variants**: each train song {args.train_variants}x: variant 0 clean (FluidR3_GM, file's kit); others "
        f"augmented, seeded by the song id: SoundFont from {', '.join(TRAINING_SOUNDFONTS)}, backing transposed "
        f"{TRANSPOSE_RANGE[0]}..{TRANSPOSE_RANGE[1]} semitones, tempo x{TEMPO_RANGE[0]}-{TEMPO_RANGE[1]}, drum kit "
        f"from {', '.join(RENDER_DRUM_KITS)}, backing audio effects (EQ, low-pass, reverb, noise; "
        f"`data.audio_augment`) and gain {BACKING_GAIN_DB_RANGE[0]:g}..{BACKING_GAIN_DB_RANGE[1]:g} dB. Validation "
        f"and test: one clean render.\n"
        f"- **Balancing** ({'on' if args.balance else 'off'}): train windows by genre with `balance_splits` (at most "
        f"{args.max_ratio:g}:1, up to {args.max_repeats} augmented copies per window, each rendered "
        f"{args.train_variants}x like the originals); a no-op while every song is `unknown`.\n")
    skips = "\n".join(f"- {reason}: {count}" for reason, count in sorted(skipped.counts.items())) or "- none"
    loading = ("```python\nfrom datasets import load_from_disk\n"
               "windows = load_from_disk(\"data/accompaniment\")            # train / validation / test / "
               f"{HELD_OUT_SPLIT}\n"
               "songs = load_from_disk(\"data/accompaniment/songs\")        # one row per song variant, with its MIDI\n"
               "row = windows[\"train\"].with_format(\"numpy\")[0]\n"
               "row[\"backing_mel\"].shape  # (1024, 80) float16\n```")
    return {"Columns": columns, "Method": method, "Genre balance": tables, "Skipped inputs": skips,
            "Loading": loading}


def parse_args(argv: list[str] | None = None) -> AccompanimentBuildArguments:
    from transformers import HfArgumentParser

    (args,) = HfArgumentParser(AccompanimentBuildArguments).parse_args_into_dataclasses(args=argv)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else list(argv)
    return build(parse_args(argv), command=command_line(__file__, argv))


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
