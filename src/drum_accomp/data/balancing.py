"""Genre balancing for the dataset builds: labels, stratified splits, over/under-sampling, weights, genre tables.

Music data is skewed (GMD train: 275 rock files, 1 highlife file). Both builds (GMD groove windows, songs for
accompaniment) describe their examples as plain per-example lists: a style or genre, a file id (the song or
performance an example was cut from) and a split name. Everything here works on those lists and returns
indices, so the builds stay in charge of loading, windowing and augmenting. A build runs, in order:

1. ``genre_labels``: raw styles -> balancing genres (the ``genres.json`` groups, then genres with fewer than
   ``min_files_per_genre`` train files folded into ``unknown``), the same labels for every split;
2. ``stratified_split`` when the source has no official split (or on ``--resplit``), file by file, so the
   windows of one file never cross splits;
3. ``balance_splits`` (``balance_indices`` on the train split, the other splits untouched): which examples to
   keep, drop or repeat and which repeats are augmented copies (``mode="resample"``), or per-example sampling
   weights instead of discarding data (``mode="weights"``);
4. ``genre_table`` before and after, then ``save_genre_report`` to print and save both tables and a bar chart.

Counts are in examples (windows), the unit a model trains on; tables show unique files beside them, because 80
windows of one performance are not 80 performances.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..genres import UNKNOWN_GENRE, group_genre, top_level_style

BALANCING_MODES: tuple[str, ...] = ("resample", "weights")

DEFAULT_SPLIT_FRACTIONS: Mapping[str, float] = {"train": 0.8, "validation": 0.1, "test": 0.1}
"""Fractions of each genre's files that ``stratified_split`` sends to each split."""

TRAIN_SPLIT = "train"

# Names that are already balancing genres (group_genre maps them to unknown, as they are no GMD styles).

# Splits in the order tables list them and ``stratified_split`` serves them a first file; others follow.
_SPLIT_ORDER: tuple[str, ...] = ("train", "validation", "test")


@dataclass
class BalancingConfig:
    """How the train split is balanced across genres.

    Args:
        enabled (`bool`, defaults to `True`):
            Balance at all. When `False`, `balance_indices` returns every example once.
        mode (`str`, defaults to `"resample"`):
            `"resample"`: select examples with repeats (augmented copies of rare genres) and drops (dominant
            genres). `"weights"`: keep every example once and return per-example sampling weights instead
            of discarding data (for a weighted sampler).
        group_genres (`bool`, defaults to `True`):
            Map styles to their `genres.json` group before balancing (`"highlife"` -> `"world"`). When
            `False`, only the top-level style is kept (`"funk/groove1"` -> `"funk"`).
        min_files_per_genre (`int`, defaults to `4`):
            A genre with fewer unique train files (after grouping) is folded into `unknown` in every split.
            A style seen in 1-3 performances would be learned as a copy of them, and keeping it as its own
            genre would force the ratio target to undersample every other genre down to its few examples.
            `unknown` itself is balanced like any genre.
        max_ratio (`float`, defaults to `4.0`):
            Largest allowed ratio between the most and the least frequent genre in train, counted in
            examples, after balancing (`mode="resample"`).
        max_repeats_per_file (`int`, defaults to `4`):
            Most augmented copies one example may get, so one file's material appears at most
            `1 + max_repeats_per_file` times in train. This bounds how far a rare genre can be oversampled;
            the rest of the gap to `max_ratio` is closed by undersampling.
        undersample (`bool`, defaults to `True`):
            Drop examples of dominant genres when oversampling within `max_repeats_per_file` cannot reach
            `max_ratio` alone: the largest genres are cut to `max_ratio` times the smallest reachable count.
            When `False` and the cap is too tight, `balance_indices` raises.
        weight_power (`float`, defaults to `1.0`):
            `mode="weights"` gives each example the weight `count(genre) ** -weight_power`: 1 makes every
            genre equally likely (1:1), 0 leaves the data as it is, 0.5 is in between (may exceed
            `max_ratio`).
        seed (`int`, defaults to `0`):
            Seeds splits and selections: the same seed and data give the same dataset.
    """

    enabled: bool = True
    mode: str = "resample"
    group_genres: bool = True
    min_files_per_genre: int = 4
    max_ratio: float = 4.0
    max_repeats_per_file: int = 4
    undersample: bool = True
    weight_power: float = 1.0
    seed: int = 0

    def __post_init__(self):
        if self.mode not in BALANCING_MODES:
            raise ValueError(f"unknown balancing mode {self.mode!r}; choose one of {', '.join(BALANCING_MODES)}")
        if not self.max_ratio >= 1.0:
            raise ValueError(f"max_ratio must be >= 1 (largest / smallest genre), got {self.max_ratio}")
        if self.max_repeats_per_file < 0:
            raise ValueError(f"max_repeats_per_file must be >= 0 (0 = no augmented copies), "
                             f"got {self.max_repeats_per_file}")
        if self.min_files_per_genre < 1:
            raise ValueError(f"min_files_per_genre must be >= 1, got {self.min_files_per_genre}")
        if not self.weight_power >= 0.0:
            raise ValueError(f"weight_power must be >= 0 (0 = no reweighting, 1 = equal genres), "
                             f"got {self.weight_power}")


@dataclass
class GenreBalance:
    """What balancing did to one genre of the train split.

    Attributes:
        genre: the balancing genre.
        files: unique files before balancing.
        examples_before: examples (windows) before balancing.
        examples_after: examples after balancing; in `mode="weights"` the expected count per epoch of
            `examples_before` total draws (a float).
        files_after: unique files still present after balancing.
        max_occurrences: most times a single example appears (1 = no repeats; at most
            `1 + max_repeats_per_file`).
    """

    genre: str
    files: int
    examples_before: int
    examples_after: float
    files_after: int
    max_occurrences: int


@dataclass
class BalancingResult:
    """The balanced selection of a split.

    Attributes:
        indices: `(num_selected,)` int64 indices into the example lists given, sorted; an index appears once
            per occurrence (repeats = oversampled copies) and dropped examples are absent.
        copies: `(num_selected,)` int64 copy number of each selected index: 0 = the original example, k > 0 =
            its k-th augmented copy (seed its augmentation with `augment.copy_generator(seed, index, k)`).
        weights: `(num_selected,)` float64 sampling weights with mean 1 over train (`mode="weights"`), else
            `None`.
        genres: per-genre statistics of the train split, by genre name.
    """

    indices: np.ndarray
    copies: np.ndarray
    weights: np.ndarray | None = None
    genres: dict[str, GenreBalance] = field(default_factory=dict)

    @property
    def augment(self) -> np.ndarray:
        """`(num_selected,)` bool: which selected examples are augmented copies rather than originals."""
        return self.copies > 0

    @property
    def ratio(self) -> float:
        """Largest over smallest genre count in train after balancing (1.0 for a single genre)."""
        counts = [stats.examples_after for stats in self.genres.values()]
        return max(counts) / min(counts) if counts else 1.0


# ---------------------------------------------------------------------------------------------------------
# Genre labels
# ---------------------------------------------------------------------------------------------------------


def balancing_genre(style: str, group_genres: bool = True) -> str:
    """A raw style (`"funk/groove1"`) or an already grouped genre (`"world"`) -> its balancing genre."""
    return group_genre(style) if group_genres else top_level_style(style)


def rare_genres(
    genres: Sequence[str], file_ids: Sequence[Hashable], splits: Sequence[str] | None = None, min_files: int = 4,
) -> set[str]:
    """Genres with fewer than `min_files` unique files, counted in train when `splits` is given, else overall.

    A genre present only outside train has 0 train files and is therefore rare: a model cannot learn it.
    """
    _check_lengths(genres=genres, file_ids=file_ids, splits=splits)
    splits = None if splits is None else list(splits)
    if splits is not None and TRAIN_SPLIT not in set(splits):
        raise ValueError(f"no example is in the {TRAIN_SPLIT!r} split (splits seen: {sorted(set(splits))}); "
                         "pass splits=None to count files over all splits")
    files_per_genre: dict[str, set] = {genre: set() for genre in genres}
    for index, (genre, file_id) in enumerate(zip(genres, file_ids)):
        if splits is None or splits[index] == TRAIN_SPLIT:
            files_per_genre[genre].add(file_id)
    return {genre for genre, files in files_per_genre.items() if len(files) < min_files and genre != UNKNOWN_GENRE}


def genre_labels(
    styles: Sequence[str], file_ids: Sequence[Hashable], splits: Sequence[str] | None = None,
    config: BalancingConfig | None = None,
) -> list[str]:
    """Per-example balancing genre: grouped (`config.group_genres`), then rare genres folded into `unknown`.

    Rarity is judged on train files (`splits` given) or on all files (`splits=None`, before
    `stratified_split`), and the same mapping is applied to every split, so validation speaks the genres
    train was balanced on.

    Args:
        styles: per-example raw styles (`"funk/groove1"`, `""`) or genre names.
        file_ids: per-example id of the file (song, performance) the example was cut from.
        splits: per-example split name, or `None`.
        config: the `BalancingConfig` (defaults when `None`).
    """
    config = config or BalancingConfig()
    grouped = [balancing_genre(style, config.group_genres) for style in styles]
    rare = rare_genres(grouped, file_ids, splits, config.min_files_per_genre)
    return [UNKNOWN_GENRE if genre in rare else genre for genre in grouped]


# ---------------------------------------------------------------------------------------------------------
# Stratified split
# ---------------------------------------------------------------------------------------------------------


def stratified_split(
    file_ids: Sequence[Hashable], genres: Sequence[str], fractions: Mapping[str, float] | None = None,
    seed: int = 0,
) -> dict[Hashable, str]:
    """Assign whole files to splits, stratified by genre, deterministically.

    Each genre's files are shuffled (seeded by `seed` and the genre name, so adding a genre does not reshuffle
    the others) and cut by `fractions` with largest-remainder rounding. A genre then gets at least one file in
    train, in validation once it has 2 files, and in each further split once it has enough files. To keep
    related files together (e.g. one GMD session), pass the coarser id as `file_ids`.

    Args:
        file_ids: per-example (or per-file) file ids; repeats are fine.
        genres: the genre of each entry of `file_ids`; a file must have one genre.
        fractions: split name -> fraction of files, summing to 1; defaults to
            `{"train": 0.8, "validation": 0.1, "test": 0.1}`. Must include `"train"`.
        seed: the random seed.

    Returns:
        file id -> split name, for every distinct file.
    """
    _check_lengths(file_ids=file_ids, genres=genres)
    fractions = dict(DEFAULT_SPLIT_FRACTIONS if fractions is None else fractions)
    _check_fractions(fractions)
    genre_of_file: dict[Hashable, str] = {}
    for file_id, genre in zip(file_ids, genres):
        if genre_of_file.setdefault(file_id, genre) != genre:
            raise ValueError(f"file {file_id!r} has two genres ({genre_of_file[file_id]!r} and {genre!r}); "
                             "a split is stratified per file, so give each file one genre")
    files_by_genre: dict[str, list] = {}
    for file_id, genre in genre_of_file.items():
        files_by_genre.setdefault(genre, []).append(file_id)

    assignment: dict[Hashable, str] = {}
    for genre in sorted(files_by_genre):
        # Sorting first makes the result independent of the order examples were listed in.
        files = sorted(files_by_genre[genre], key=str)
        order = _genre_rng(seed, genre).permutation(len(files))
        start = 0
        for split, count in _split_counts(len(files), fractions).items():
            for position in order[start:start + count]:
                assignment[files[position]] = split
            start += count
    return assignment


def _check_fractions(fractions: dict[str, float]) -> None:
    if TRAIN_SPLIT not in fractions:
        raise ValueError(f"fractions {fractions} have no {TRAIN_SPLIT!r} split; add one (e.g. train=0.8)")
    if any(not value >= 0 for value in fractions.values()) or not math.isclose(sum(fractions.values()), 1.0,
                                                                                 abs_tol=1e-6):
        raise ValueError(f"split fractions must be >= 0 and sum to 1, got {fractions}")


def _split_counts(num_files: int, fractions: dict[str, float]) -> dict[str, int]:
    """Files per split for one genre: largest remainder, then the minimum of one file per served split."""
    names = [name for name, value in fractions.items() if value > 0]
    exact = np.array([num_files * fractions[name] for name in names])
    counts = np.floor(exact).astype(int)
    # Stable sort: on equal remainders the split listed first (train) gets the file.
    counts[np.argsort(-(exact - counts), kind="stable")[: num_files - counts.sum()]] += 1
    counts = dict(zip(names, counts.tolist()))
    priority = [name for name in _SPLIT_ORDER if name in counts] + [name for name in names if name not in _SPLIT_ORDER]
    served = priority[:num_files]
    for name in served:
        if counts[name] == 0:
            donors = [other for other in names if counts[other] > (1 if other in served else 0)]
            donor = max(donors, key=lambda other: counts[other])
            counts[donor] -= 1
            counts[name] += 1
    return counts


# ---------------------------------------------------------------------------------------------------------
# Balancing
# ---------------------------------------------------------------------------------------------------------


def genre_targets(counts: Mapping[str, int], config: BalancingConfig | None = None) -> dict[str, int]:
    """Examples each genre should have after balancing, given its count before.

    Rare genres are raised to a floor, dominant ones cut to `max_ratio` x floor. The floor is what the
    largest genre needs (`ceil(largest / max_ratio)`, nothing dropped) when every genre can reach it within
    `1 + max_repeats_per_file` copies; otherwise it is what the rarest genre can reach, and the largest genres
    are undersampled.

    Raises:
        ValueError: when the repeat cap cannot reach `max_ratio` and `config.undersample` is off.
    """
    config = config or BalancingConfig()
    if not counts:
        return {}
    copies_allowed = 1 + config.max_repeats_per_file
    largest = max(counts.values())
    reachable = {genre: count * copies_allowed for genre, count in counts.items()}
    floor = math.ceil(largest / config.max_ratio)
    ceiling = largest
    rarest = min(reachable, key=reachable.get)
    if floor > reachable[rarest]:
        if not config.undersample:
            raise ValueError(
                f"genre {rarest!r} has {counts[rarest]} examples and may reach {reachable[rarest]} with "
                f"{config.max_repeats_per_file} copies each, short of the {floor} that a {config.max_ratio}:1 "
                f"ratio to the largest genre ({largest}) needs; set undersample=True, raise "
                "max_repeats_per_file or max_ratio, or use mode='weights'")
        floor = reachable[rarest]
        ceiling = math.floor(config.max_ratio * floor)
    return {genre: min(max(count, floor), ceiling) for genre, count in counts.items()}


def balance_indices(
    genres: Sequence[str], file_ids: Sequence[Hashable], config: BalancingConfig | None = None,
    split: str = TRAIN_SPLIT, seed: int | None = None,
) -> BalancingResult:
    """Balance the genres of the train split by repeating rare examples and dropping dominant ones.

    Each genre's target comes from `genre_targets`. A genre below it repeats every example equally often
    (give or take one; the odd copies go to every file, then in proportion to their examples); a genre above
    it keeps one example of every file when the target allows, then about the same fraction of each file.
    Repeats beyond the first occurrence are flagged as augmented copies.
    Selections are seeded per genre (by `seed` and the genre name).

    Args:
        genres: per-example balancing genre (from `genre_labels`), train examples only.
        file_ids: per-example file id.
        config: the `BalancingConfig` (defaults when `None`).
        split: the split these examples belong to; must be `"train"`.
        seed: overrides `config.seed`.

    Returns:
        A `BalancingResult`; in `mode="weights"` every example once with its sampling weight.

    Raises:
        ValueError: for a split other than train, or lists of different lengths.
    """
    config = config or BalancingConfig()
    if split != TRAIN_SPLIT:
        raise ValueError(f"balancing applies to the {TRAIN_SPLIT!r} split only, got split={split!r}; validation "
                         "and test keep the source distribution (use balance_splits for a whole dataset)")
    _check_lengths(genres=genres, file_ids=file_ids)
    seed = config.seed if seed is None else seed
    genres = np.asarray([str(genre) for genre in genres], dtype=object)
    file_codes = _codes(file_ids)
    all_indices = np.arange(len(genres), dtype=np.int64)

    if not config.enabled or config.mode == "weights":
        # Nothing selected or dropped: every example once, weighted in "weights" mode.
        weights = sampling_weights(genres, config) if config.enabled else None
        expected = np.ones(len(genres)) if weights is None else weights
        stats = {}
        for genre in sorted(set(genres)):
            members = genres == genre
            stats[genre] = _genre_stats(genre, file_codes[members], np.ones(members.sum(), dtype=np.int64),
                                        examples_after=float(expected[members].sum()))
        return BalancingResult(all_indices, np.zeros(len(genres), dtype=np.int64), weights, stats)

    counts = {genre: int((genres == genre).sum()) for genre in sorted(set(genres))}
    targets = genre_targets(counts, config)
    occurrences = np.zeros(len(genres), dtype=np.int64)
    stats = {}
    for genre, target in targets.items():
        members = all_indices[genres == genre]
        genre_occurrences = _occurrences(file_codes[members], target, _genre_rng(seed, genre))
        occurrences[members] = genre_occurrences
        stats[genre] = _genre_stats(genre, file_codes[members], genre_occurrences, float(target))

    indices = np.repeat(all_indices, occurrences)
    # Copy number = position within each run of one index: 0 for the original, then 1, 2, ...
    run_starts = np.repeat(np.cumsum(occurrences) - occurrences, occurrences)
    copies = np.arange(len(indices), dtype=np.int64) - run_starts
    return BalancingResult(indices, copies, None, stats)


def balance_splits(
    genres: Sequence[str], file_ids: Sequence[Hashable], splits: Sequence[str], config: BalancingConfig | None = None,
    seed: int | None = None,
) -> BalancingResult:
    """`balance_indices` on the train examples of a whole dataset; other splits pass through unchanged.

    Returned indices (and copies, weights) refer to the full lists: train selections first, then every
    validation/test example once with copy 0 (weight 1), so no copy ever reaches an evaluation split.
    """
    _check_lengths(genres=genres, file_ids=file_ids, splits=splits)
    # Plain lists: a pandas Series would index by label below, not by position.
    genres, file_ids = list(genres), list(file_ids)
    splits = np.asarray(list(splits), dtype=object)
    train = np.flatnonzero(splits == TRAIN_SPLIT)
    others = np.flatnonzero(splits != TRAIN_SPLIT)
    result = balance_indices([genres[i] for i in train], [file_ids[i] for i in train], config, seed=seed)
    weights = None if result.weights is None else np.concatenate([result.weights, np.ones(len(others))])
    return BalancingResult(
        indices=np.concatenate([train[result.indices], others]).astype(np.int64),
        copies=np.concatenate([result.copies, np.zeros(len(others), np.int64)]),
        weights=weights, genres=result.genres,
    )


def sampling_weights(genres: Sequence[str], config: BalancingConfig | None = None) -> np.ndarray:
    """Per-example sampling weights inverse to genre frequency: `count(genre) ** -config.weight_power`.

    The weighted alternative to resampling: nothing is dropped or copied, a weighted sampler (e.g.
    `torch.utils.data.WeightedRandomSampler`) draws rare genres more often. With `weight_power=1` every genre
    has the same total weight.

    Returns:
        `(num_examples,)` float64, mean 1 (so the weights sum to the number of examples).
    """
    config = config or BalancingConfig()
    if len(genres) == 0:
        return np.zeros(0)
    _, codes, counts = np.unique(np.asarray([str(genre) for genre in genres]), return_inverse=True,
                                 return_counts=True)
    weights = counts[codes].astype(np.float64) ** -config.weight_power
    return weights * (len(weights) / weights.sum())


def _occurrences(file_codes: np.ndarray, target: int, rng: np.random.Generator) -> np.ndarray:
    """How often each example of one genre appears so that the genre has `target` examples.

    Every example appears `target // n` times. The remaining `target % n` single extra occurrences go first
    one to every file (when there are enough), so undersampling keeps every file and oversampling copies
    every file, then to files in proportion to their remaining examples; within a file, to random examples.
    """
    num_examples = len(file_codes)
    base, extra = divmod(target, num_examples)
    occurrences = np.full(num_examples, base, dtype=np.int64)
    if extra == 0:
        return occurrences
    _, inverse, sizes = np.unique(file_codes, return_inverse=True, return_counts=True)
    if extra >= len(sizes):
        quotas = 1 + _largest_remainder(extra - len(sizes), sizes - 1, rng)
    else:
        quotas = _largest_remainder(extra, sizes, rng)
    members_by_file = np.split(np.argsort(inverse, kind="stable"), np.cumsum(sizes)[:-1])
    for members, quota in zip(members_by_file, quotas):
        if quota:
            occurrences[rng.choice(members, size=quota, replace=False)] += 1
    return occurrences


def _largest_remainder(total: int, sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Split the integer `total` in proportion to `sizes` (largest remainder, random ties); each part <= size."""
    if total == 0:
        return np.zeros(len(sizes), dtype=np.int64)
    exact = total * sizes / sizes.sum()
    quotas = np.floor(exact).astype(np.int64)
    order = np.lexsort((rng.random(len(sizes)), -(exact - quotas)))
    quotas[order[: total - quotas.sum()]] += 1
    return quotas


def _genre_stats(genre: str, file_codes: np.ndarray, occurrences: np.ndarray, examples_after: float) -> GenreBalance:
    return GenreBalance(
        genre=genre, files=len(np.unique(file_codes)), examples_before=len(file_codes),
        examples_after=examples_after, files_after=len(np.unique(file_codes[occurrences > 0])),
        max_occurrences=int(occurrences.max()) if len(occurrences) else 0,
    )


def _genre_rng(seed: int, genre: str) -> np.random.Generator:
    # crc32, not hash(): Python salts str hashes per process, which would break determinism across runs.
    return np.random.default_rng([seed, zlib.crc32(genre.encode("utf-8"))])


def _codes(values: Sequence[Hashable]) -> np.ndarray:
    """Integer code per value (equal values, equal codes), for any hashable ids."""
    codes: dict[Hashable, int] = {}
    return np.fromiter((codes.setdefault(value, len(codes)) for value in values), dtype=np.int64, count=len(values))


def _check_lengths(**lists: Sequence | None) -> None:
    lengths = {name: len(values) for name, values in lists.items() if values is not None}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"per-example lists must have one entry per example, got lengths {lengths}")


# ---------------------------------------------------------------------------------------------------------
# Genre tables and the report
# ---------------------------------------------------------------------------------------------------------


def genre_table(
    genres: Sequence[str], splits: Sequence[str], file_ids: Sequence[Hashable], weights: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Examples, shares and unique files per genre and split.

    Args:
        genres, splits, file_ids: per-example lists (for an "after" table, index them with the balanced
            selection: `[genres[i] for i in result.indices]`).
        weights: optional per-example weights; counts are then weighted sums (expected examples per epoch).

    Returns:
        A DataFrame indexed by genre (largest train genre first) with, per split, the columns
        `"{split}_examples"`, `"{split}_share"` (fraction of the split, 0..1) and `"{split}_files"`.
    """
    _check_lengths(genres=genres, splits=splits, file_ids=file_ids, weights=weights)
    frame = pd.DataFrame({
        "genre": [str(genre) for genre in genres], "split": list(splits), "file": list(file_ids),
        "weight": np.ones(len(genres)) if weights is None else np.asarray(weights, dtype=np.float64),
    })
    split_names = [name for name in _SPLIT_ORDER if name in set(frame["split"])]
    split_names += sorted(set(frame["split"]) - set(split_names))
    table = pd.DataFrame(index=pd.Index(sorted(set(frame["genre"])), name="genre"))
    for split in split_names:
        part = frame[frame["split"] == split]
        examples = part.groupby("genre")["weight"].sum()
        if weights is None:
            examples = examples.round().astype(np.int64)
        table[f"{split}_examples"] = examples.reindex(table.index, fill_value=0)
        table[f"{split}_share"] = table[f"{split}_examples"] / max(table[f"{split}_examples"].sum(), 1e-12)
        table[f"{split}_files"] = part.groupby("genre")["file"].nunique().reindex(table.index, fill_value=0)
    sort_column = f"{split_names[0]}_examples" if split_names else None
    if sort_column:
        table = table.sort_values(sort_column, ascending=False, kind="stable")
    return table


def table_splits(table: pd.DataFrame) -> list[str]:
    """The split names a `genre_table` holds, in column order."""
    return [column[: -len("_examples")] for column in table.columns if column.endswith("_examples")]


def genre_ratio(table: pd.DataFrame, split: str = TRAIN_SPLIT) -> float:
    """Largest over smallest non-zero genre count of `split` in a `genre_table`."""
    column = f"{split}_examples"
    if column not in table:
        raise ValueError(f"the table has no split {split!r}; it has {', '.join(table_splits(table))}")
    counts = table[column][table[column] > 0]
    return float(counts.max() / counts.min()) if len(counts) else 1.0


def format_genre_table(table: pd.DataFrame, title: str | None = None) -> str:
    """A `genre_table` as a Markdown table (examples, share %, unique files per split), a total row, and the
    largest-to-smallest genre ratio per split: for printing and for dataset cards."""
    splits = table_splits(table)
    header = ["genre"] + [f"{split} {metric}" for split in splits for metric in ("examples", "share", "files")]
    lines = [f"### {title}", ""] if title else []
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]

    def row(name: str, values: pd.Series | dict) -> str:
        cells = [name]
        for split in splits:
            cells += [f"{values[f'{split}_examples']:.0f}", f"{100 * values[f'{split}_share']:.1f}%",
                      f"{values[f'{split}_files']:.0f}"]
        return "| " + " | ".join(cells) + " |"

    for genre, values in table.iterrows():
        lines.append(row(str(genre), values))
    totals = {}
    for split in splits:
        totals.update({f"{split}_examples": table[f"{split}_examples"].sum(), f"{split}_share": 1.0,
                       f"{split}_files": table[f"{split}_files"].sum()})
    lines.append(row("**total**", totals))
    lines.append("")
    lines.append("largest/smallest genre (examples): " + ", ".join(
        f"{split} {genre_ratio(table, split):.1f}:1" for split in splits))
    return "\n".join(lines)


def plot_genre_table(
    before: pd.DataFrame, after: pd.DataFrame, path: str | Path, split: str = TRAIN_SPLIT,
    title: str | None = None,
) -> Path:
    """Save a PNG bar chart of one split's examples per genre, before vs after balancing.

    Bars are labelled with unique files. Uses matplotlib's object API with the Agg canvas, so it needs no
    display and leaves the global pyplot backend alone.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    column = f"{split}_examples"
    for name, table in (("before", before), ("after", after)):
        if column not in table:
            raise ValueError(f"the {name} table has no split {split!r}; it has {', '.join(table_splits(table))}")
    genres = list(before.index) + [genre for genre in after.index if genre not in before.index]
    counts_before = before[column].reindex(genres, fill_value=0).to_numpy(dtype=float)
    counts_after = after[column].reindex(genres, fill_value=0).to_numpy(dtype=float)
    files_before = before[f"{split}_files"].reindex(genres, fill_value=0).to_numpy()
    files_after = after[f"{split}_files"].reindex(genres, fill_value=0).to_numpy()

    figure = Figure(figsize=(max(6.0, 0.8 * len(genres) + 2.0), 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = np.arange(len(genres))
    width = 0.4
    for offset, counts, files, label in ((-width / 2, counts_before, files_before, "before"),
                                         (width / 2, counts_after, files_after, "after")):
        bars = axes.bar(positions + offset, counts, width, label=f"{label} ({_ratio_text(counts)})")
        axes.bar_label(bars, labels=[f"{int(count)}f" for count in files], fontsize=7, padding=1)
    axes.set_xticks(positions, genres, rotation=45, ha="right")
    axes.set_ylabel(f"{split} examples")
    axes.set_title(title or f"{split} examples per genre before/after balancing (labels: unique files)")
    axes.legend()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return path


def _ratio_text(counts: Sequence[float]) -> str:
    """`"27.6:1"`: largest over smallest non-zero count."""
    counts = np.asarray(counts, dtype=float)
    counts = counts[counts > 0]
    return f"{counts.max() / counts.min():.1f}:1" if len(counts) else "n/a"


def save_genre_report(
    before: pd.DataFrame, after: pd.DataFrame, output_dir: str | Path, title: str = "genre balance",
) -> dict[str, Path | str]:
    """Write both tables (CSV and Markdown) and the train bar chart into `output_dir`.

    Returns:
        `{"text": markdown of both tables (for printing / the dataset card), "before_csv", "after_csv",
        "markdown", "plot": paths}`.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    text = "\n\n".join([format_genre_table(before, f"{title}: before"), format_genre_table(after, f"{title}: after")])
    paths: dict[str, Path | str] = {
        "before_csv": output_dir / "genre_table_before.csv", "after_csv": output_dir / "genre_table_after.csv",
        "markdown": output_dir / "genre_table.md", "plot": output_dir / "genre_balance.png",
    }
    before.to_csv(paths["before_csv"])
    after.to_csv(paths["after_csv"])
    paths["markdown"].write_text(text + "\n", encoding="utf-8")
    plot_genre_table(before, after, paths["plot"], title=f"{title}: train examples per genre (labels: unique files)")
    return {"text": text, **paths}
