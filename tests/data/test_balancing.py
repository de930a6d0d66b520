"""data/balancing.py: genre labels, stratified splits, over/under-sampling with a repeat cap, weights, tables.

The central test balances the real Groove MIDI Dataset (info.csv) and checks the build target: after grouping
and balancing, train's largest-to-smallest genre ratio is at most 4:1, no file is repeated beyond the cap, and
validation is untouched.
"""

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from drum_accomp.data.balancing import (
    BalancingConfig, balance_indices, balance_splits, balancing_genre, format_genre_table, genre_labels,
    genre_ratio, genre_table, genre_targets, plot_genre_table, rare_genres, sampling_weights, save_genre_report,
    stratified_split,
)
from drum_accomp.genres import UNKNOWN_GENRE

WINDOW_SECONDS = 8.0  # stand-in for the groove build's windows: one per 8 s of performance


@pytest.fixture(scope="module")
def gmd_windows(shared_data) -> pd.DataFrame:
    """One row per 8-second window of every GMD file (at least one per file), with the file's metadata."""
    info = pd.read_csv(shared_data / "groove" / "info.csv")
    windows = np.maximum(1, np.floor(info["duration"] / WINDOW_SECONDS)).astype(int)
    return info.loc[info.index.repeat(windows)].reset_index(drop=True)


def skewed_examples(seed: int = 0) -> tuple[list[str], list[str]]:
    """A small skewed dataset: 40 rock files with 5 windows, 6 jazz files with 2 windows, 1 punk file."""
    genres, files = [], []
    for genre, num_files, windows in (("rock", 40, 5), ("jazz", 6, 2), ("punk", 1, 3)):
        for file_index in range(num_files):
            genres += [genre] * windows
            files += [f"{genre}/{file_index}"] * windows
    return genres, files


def test_real_gmd_balanced_train_meets_the_4_to_1_target_within_the_repeat_cap(gmd_windows):
    config = BalancingConfig()
    styles, files, splits = (gmd_windows[column].tolist() for column in ("style", "id", "split"))
    labels = genre_labels(styles, files, splits, config)
    result = balance_splits(labels, files, splits, config)
    selected = result.indices
    before = genre_table(labels, splits, files)
    after = genre_table([labels[i] for i in selected], [splits[i] for i in selected], [files[i] for i in selected])

    assert genre_ratio(before) > 20  # the problem is real: rock vs punk windows
    assert genre_ratio(after) <= config.max_ratio + 1e-9
    assert result.ratio <= config.max_ratio + 1e-9
    # Grouping applied: highlife and afrobeat are in "world", not genres of their own.
    assert "world" in after.index and "highlife" not in after.index
    # No window, hence no file's material, appears more than 1 + max_repeats_per_file times.
    cap = config.max_repeats_per_file + 1
    assert max(Counter(selected.tolist()).values()) <= cap
    windows_per_file = Counter(files)
    for file_id, occurrences in Counter(files[i] for i in selected).items():
        assert occurrences <= cap * windows_per_file[file_id]
    # Validation untouched: every validation window exactly once, never an augmented copy.
    validation = [i for i, split in enumerate(splits) if split == "validation"]
    selected_validation = selected[np.isin(selected, validation)]
    assert sorted(selected_validation.tolist()) == validation
    assert not result.augment[np.isin(selected, validation)].any()
    pd.testing.assert_frame_equal(before.filter(like="validation"), after.filter(like="validation").loc[before.index])
    # Every train genre that validation has is still in train, and dropping kept every file.
    kept_train_genres = set(after.index[after["train_examples"] > 0])
    assert set(before.index[before["validation_examples"] > 0]) & set(before.index[before["train_examples"] > 0]) \
        <= kept_train_genres
    assert (after["train_files"].loc[before.index] == before["train_files"]).all()


def test_genre_report_is_saved_as_csv_markdown_and_png(gmd_windows, tmp_path):
    labels = genre_labels(gmd_windows["style"], gmd_windows["id"].tolist(), gmd_windows["split"].tolist())
    files, splits = gmd_windows["id"].tolist(), gmd_windows["split"].tolist()
    result = balance_splits(labels, files, splits)
    before = genre_table(labels, splits, files)
    after = genre_table(*([values[i] for i in result.indices] for values in (labels, splits, files)))
    report = save_genre_report(before, after, tmp_path, title="GMD")
    assert "| rock |" in report["text"] and "train 4.0:1" in report["text"]
    assert report["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pd.testing.assert_frame_equal(pd.read_csv(report["before_csv"], index_col="genre"), before,
                                  check_dtype=False)


def test_genre_labels_group_then_fold_genres_with_too_few_train_files_into_unknown():
    styles = ["rock/groove1"] * 4 + ["highlife"] * 2 + ["afrobeat"] * 2 + ["gospel"] + ["gospel"]
    files = ["r1", "r2", "r3", "r4", "h1", "h2", "a1", "a2", "g1", "g2"]
    splits = ["train"] * 9 + ["validation"]
    labels = genre_labels(styles, files, splits, BalancingConfig(min_files_per_genre=4))
    assert labels[:8] == ["rock"] * 4 + ["world"] * 4  # 2 highlife + 2 afrobeat files make "world" big enough
    assert labels[8:] == [UNKNOWN_GENRE] * 2  # gospel -> soul has 1 train file: folded in both splits
    assert balancing_genre("world") == "world" and balancing_genre("funk/purdieshuffle") == "funk"
    assert balancing_genre("highlife", group_genres=False) == "highlife"
    assert rare_genres(["rock", "jazz"], ["a", "b"], ["train", "validation"], min_files=1) == {"jazz"}


def test_stratified_split_is_deterministic_file_level_and_serves_validation(gmd_windows):
    labels = genre_labels(gmd_windows["style"], gmd_windows["id"].tolist())
    files = gmd_windows["id"].tolist()
    first = stratified_split(files, labels, seed=3)
    assert stratified_split(list(reversed(files)), list(reversed(labels)), seed=3) == first
    assert stratified_split(files, labels, seed=4) != first
    assert set(first) == set(files)  # each file exactly once, so its windows never cross splits
    by_genre = pd.DataFrame({"genre": labels, "split": [first[f] for f in files], "file": files}).drop_duplicates()
    for genre, rows in by_genre.groupby("genre"):
        assert {"train", "validation"} <= set(rows["split"]), genre
        shares = rows["split"].value_counts(normalize=True)
        if len(rows) >= 20:
            assert abs(shares["train"] - 0.8) < 0.06, genre


def test_stratified_split_gives_a_two_file_genre_one_train_and_one_validation_file():
    assignment = stratified_split(["a", "b", "c"], ["punk", "punk", "jazz"], seed=0)
    assert sorted(assignment[f] for f in ("a", "b")) == ["train", "validation"]
    assert assignment["c"] == "train"
    with pytest.raises(ValueError, match="two genres"):
        stratified_split(["a", "a"], ["punk", "jazz"])
    with pytest.raises(ValueError, match="sum to 1"):
        stratified_split(["a"], ["punk"], fractions={"train": 0.5, "validation": 0.1})


def test_oversampled_copies_are_flagged_and_spread_over_the_rare_genre():
    genres, files = skewed_examples()
    config = BalancingConfig(max_ratio=4.0, max_repeats_per_file=4)
    result = balance_indices(genres, files, config)
    selected_genres = Counter(genres[i] for i in result.indices)
    assert max(selected_genres.values()) / min(selected_genres.values()) <= 4.0
    punk = np.array([genres[i] == "punk" for i in result.indices])
    assert selected_genres["punk"] == 15  # 3 windows x (1 + 4 copies): the cap, not 200 / 4 = 50
    assert selected_genres["rock"] == 60  # undersampled to 4 x 15
    assert result.augment[punk].sum() == 12 and set(result.copies[punk].tolist()) == {0, 1, 2, 3, 4}
    rock = np.array([genres[i] == "rock" for i in result.indices])
    assert not result.augment[rock].any()  # rock only loses windows
    assert result.augment[~punk & ~rock].sum() == 3  # jazz: 12 windows + 3 copies reach the floor of 15
    # Copy numbers count up per index, starting from the original.
    for index in set(result.indices[punk].tolist()):
        assert sorted(result.copies[result.indices == index].tolist()) == [0, 1, 2, 3, 4]
    assert result.genres["rock"].files_after == 40  # undersampling keeps a window of every file
    assert result.genres["punk"].max_occurrences == 5


def test_balancing_is_deterministic_and_refuses_other_splits():
    genres, files = skewed_examples()
    first, second = balance_indices(genres, files, seed=7), balance_indices(genres, files, seed=7)
    np.testing.assert_array_equal(first.indices, second.indices)
    np.testing.assert_array_equal(first.copies, second.copies)
    assert not np.array_equal(balance_indices(genres, files, seed=8).indices, first.indices)
    with pytest.raises(ValueError, match="'train' split only"):
        balance_indices(genres, files, split="validation")


def test_without_undersampling_an_unreachable_ratio_raises_and_reachable_one_drops_nothing():
    with pytest.raises(ValueError, match="undersample=True"):
        genre_targets({"rock": 200, "punk": 3}, BalancingConfig(undersample=False, max_repeats_per_file=4))
    targets = genre_targets({"rock": 200, "punk": 20}, BalancingConfig(undersample=False))
    assert targets == {"rock": 200, "punk": 50}
    assert genre_targets({"rock": 30, "jazz": 10}) == {"rock": 30, "jazz": 10}  # already within 4:1
    disabled = balance_indices(*skewed_examples(), BalancingConfig(enabled=False))
    np.testing.assert_array_equal(disabled.indices, np.arange(len(skewed_examples()[0])))


def test_sampling_weights_are_inverse_to_genre_frequency():
    genres = ["rock"] * 8 + ["jazz"] * 2
    weights = sampling_weights(genres)
    assert weights[0] * 8 == pytest.approx(weights[-1] * 2)  # equal total weight per genre
    assert weights.mean() == pytest.approx(1.0)
    np.testing.assert_allclose(sampling_weights(genres, BalancingConfig(weight_power=0.0)), 1.0)
    result = balance_indices(genres, list(range(10)), BalancingConfig(mode="weights"))
    np.testing.assert_array_equal(result.indices, np.arange(10))
    assert result.genres["rock"].examples_after == pytest.approx(result.genres["jazz"].examples_after)


def test_genre_table_counts_shares_and_unique_files(tmp_path):
    table = genre_table(["rock", "rock", "rock", "jazz", "rock"], ["train"] * 4 + ["validation"],
                        ["a", "a", "b", "c", "d"])
    assert table.loc["rock", "train_examples"] == 3 and table.loc["rock", "train_files"] == 2
    assert table.loc["rock", "train_share"] == pytest.approx(0.75)
    assert table.loc["jazz", "validation_examples"] == 0 and table.loc["rock", "validation_share"] == 1.0
    assert list(table.index) == ["rock", "jazz"]
    text = format_genre_table(table, "toy")
    assert "| rock | 3 | 75.0% | 2 |" in text and "train 3.0:1" in text
    assert plot_genre_table(table, table, tmp_path / "chart.png").stat().st_size > 1000
