"""datasets_scripts/build_groove.py: the genre-balanced GMD window build, on small real subsets.

The build runs as a function (``main(argv)``) on a few real GMD files into temporary folders. The balancing
target (train at most 4:1 after grouping, every train genre in validation, no file in two splits) is checked on
the full GMD metadata through the build's own planning step, without tokenizing every file.
"""

import importlib.util
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pretty_midi
import pytest

from drum_accomp.data.augment import AugmentConfig
from drum_accomp.data.balancing import genre_ratio, genre_table
from drum_accomp.data.sources import read_gmd_folder
from drum_accomp.data.windows import bar_windows, midi_downbeats
from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from drum_accomp.midi import drum_hits, load_midi
from drum_accomp.render import HELD_OUT_SOUNDFONT, TRAINING_SOUNDFONTS
from drum_accomp.tokenization_drum import DrumTokenizer

REPO_ROOT = Path(__file__).resolve().parents[2]
INFO_COLUMNS = ["drummer", "session", "id", "style", "bpm", "beat_type", "time_signature", "midi_filename",
                "duration", "split"]


@pytest.fixture(scope="module")
def build_groove():
    """The build script, imported as a module (datasets_scripts is not a package)."""
    spec = importlib.util.spec_from_file_location("build_groove", REPO_ROOT / "datasets_scripts" / "build_groove.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_groove"] = module  # dataclasses and worker pickling look the module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def groove_dir(shared_data) -> Path:
    return shared_data / "groove"


@pytest.fixture(scope="module")
def small_build(build_groove, groove_dir, tmp_path_factory):
    """4 real files per split; every style its own genre, so rare ones get augmented copies."""
    output = tmp_path_factory.mktemp("small") / "groove"
    argv = ["--groove-dir", str(groove_dir), "--output", str(output), "--limit", "4", "--min-files-per-genre", "1"]
    stats = build_groove.main(argv)
    return {"argv": argv, "stats": stats, "output": output, "dataset": datasets.load_from_disk(str(output))}


def write_gmd_folder(folder: Path, rows: list[dict]) -> Path:
    """A GMD-style folder: ``rows`` are info.csv rows plus ``"source"`` (a file to copy) or ``"content"`` (bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    for row in rows:
        target = folder / row["midi_filename"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if "source" in row:
            shutil.copy(row["source"], target)
        elif "content" in row:
            target.write_bytes(row["content"])
    pd.DataFrame([{column: row.get(column, "") for column in INFO_COLUMNS} for row in rows]).to_csv(
        folder / "info.csv", index=False)
    return folder


def info_row(groove_dir: Path, midi_filename: str) -> dict:
    info = pd.read_csv(groove_dir / "info.csv")
    row = info[info.midi_filename == midi_filename].iloc[0].to_dict()
    return {**row, "source": groove_dir / midi_filename}


def drumless_midi_bytes(tmp_path: Path) -> bytes:
    midi = pretty_midi.PrettyMIDI(initial_tempo=100.0)
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(80, 60 + i % 12, i * 0.5, i * 0.5 + 0.4) for i in range(32)]
    midi.instruments.append(piano)
    path = tmp_path / "piano.mid"
    midi.write(str(path))
    return path.read_bytes()


@pytest.fixture(scope="module")
def messy_folder(groove_dir, fixtures_dir, tmp_path_factory) -> Path:
    """Real files (one in 3/4) plus a corrupt MIDI, a drum-less MIDI and a missing file."""
    folder = tmp_path_factory.mktemp("messy") / "gmd"
    fixtures = fixtures_dir / "groove"
    rows = [
        {"drummer": "drummer1", "session": "drummer1/session1", "id": "drummer1/session1/1", "style": "funk",
         "bpm": 80, "beat_type": "beat", "time_signature": "4-4", "midi_filename": "a/1_funk_80_beat_4-4.mid",
         "duration": 86.7, "split": "train", "source": fixtures / "1_funk_80_beat_4-4.mid"},
        {"drummer": "drummer1", "session": "drummer1/session2", "id": "drummer1/session2/4", "style": "jazz",
         "bpm": 120, "beat_type": "beat", "time_signature": "3-4", "midi_filename": "b/4_jazz_120_beat_3-4.mid",
         "duration": 40.0, "split": "train", "source": fixtures / "4_jazz_120_beat_3-4.mid"},
        {"id": "bad/1", "style": "rock", "midi_filename": "bad/corrupt (1).mid", "split": "train",
         "content": b"MThd\x00\x00\x00\x06this is not a midi file"},
        {"id": "bad/2", "style": "rock", "midi_filename": "bad/piano only.mid", "split": "train",
         "content": drumless_midi_bytes(folder.parent)},
        {"id": "bad/3", "style": "rock", "midi_filename": "bad/missing.mid", "split": "train"},
        info_row(groove_dir, "drummer1/session1/121_funk_95_fill_4-4.mid"),
    ]
    return write_gmd_folder(folder, rows)


# -------------------------------------------------------------------------------------------------------------
# The small real build
# -------------------------------------------------------------------------------------------------------------


def test_columns_and_dtypes(small_build):
    dataset = small_build["dataset"]
    assert set(dataset) == {"train", "validation"}
    features = dataset["train"].features
    expected = {"input_ids": datasets.List(datasets.Value("int32")), "style": datasets.Value("string"),
                "substyle": datasets.Value("string"), "genre": datasets.Value("string"),
                "bpm": datasets.Value("float32"), "beat_type": datasets.Value("string"),
                "time_signature": datasets.Value("string"), "drummer": datasets.Value("string"),
                "source_file": datasets.Value("string"), "window_start_s": datasets.Value("float64"),
                "window_end_s": datasets.Value("float64"), "window_start_bar": datasets.Value("int32"),
                "window_end_bar": datasets.Value("int32"), "num_hits": datasets.Value("int32"),
                "copy": datasets.Value("int32"), "augmented": datasets.Value("bool")}
    for name, feature in expected.items():
        assert features[name] == feature, name
    assert "audio" not in features  # only with --render
    train = dataset["train"].to_pandas()
    assert (train["augmented"] == (train["copy"] > 0)).all()
    assert train["augmented"].any() and not dataset["validation"].to_pandas()["augmented"].any()
    assert set(train["style"]) == {"funk", "jazz", "neworleans", "dance"}  # the first 4 GMD train files
    assert set(train["genre"]) == {"funk", "jazz", "neworleans", "pop"}  # dance is grouped into pop
    assert (train["num_hits"] > 0).all() and (train["window_end_s"] > train["window_start_s"]).all()
    assert small_build["stats"]["num_rows"] == {split: len(part) for split, part in dataset.items()}


def test_original_windows_tokens_decode_back_to_the_windows_hits(small_build, groove_dir):
    tokenizer = DrumTokenizer.from_pretrained(str(small_build["output"] / "tokenizer"))
    rows = [row for split in ("train", "validation") for row in small_build["dataset"][split] if row["copy"] == 0]
    tolerance = 0.5 * 60.0 / (tokenizer.ticks_per_beat * min(row["bpm"] for row in rows)) + 1e-6
    for row in rows[::3]:
        midi = load_midi(groove_dir / row["source_file"])
        hits = drum_hits(midi).window(row["window_start_s"], row["window_end_s"])
        decoded = tokenizer.decode_tokens(row["input_ids"], bpm=row["bpm"])
        assert decoded.style == row["style"]
        assert len(decoded.hits) == len(hits) == row["num_hits"]
        np.testing.assert_allclose(np.sort(decoded.hits.times), np.sort(hits.times), atol=tolerance)
        assert Counter(zip(decoded.hits.classes.tolist(), tokenizer.velocity_to_bin(decoded.hits.velocities).tolist())) \
            == Counter(zip(hits.classes.tolist(), tokenizer.velocity_to_bin(hits.velocities).tolist()))


def test_augmented_copies_are_the_same_bars_slightly_changed(small_build, groove_dir):
    train = small_build["dataset"]["train"].to_pandas()
    originals = train[train["copy"] == 0].set_index("window_id")
    tokenizer = DrumTokenizer.from_pretrained(str(small_build["output"] / "tokenizer"))
    tempo = AugmentConfig().tempo_range
    copies = train[train["copy"] > 0]
    assert len(copies) >= 4 and set(copies["genre"]) >= {"jazz"}  # the one-window jazz fill is oversampled
    for _, copy in copies.iterrows():
        source = load_midi(groove_dir / copy["source_file"])
        bar_lines = midi_downbeats(source)
        factor = (bar_lines[copy["window_end_bar"]] - bar_lines[copy["window_start_bar"]]) / \
            (copy["window_end_s"] - copy["window_start_s"])
        assert tempo[0] - 1e-6 <= factor <= tempo[1] + 1e-6
        np.testing.assert_allclose(copy["window_start_s"], bar_lines[copy["window_start_bar"]] / factor, rtol=1e-6)
        original_hits = drum_hits(source).window(bar_lines[copy["window_start_bar"]], bar_lines[copy["window_end_bar"]])
        assert abs(copy["num_hits"] - len(original_hits)) <= 2  # jitter may move a hit across the window edge
        decoded = tokenizer.decode_tokens(copy["input_ids"], bpm=copy["bpm"])
        assert len(decoded.hits) == copy["num_hits"]
        assert decoded.hits.times.max() < copy["window_end_s"] - copy["window_start_s"] + 0.01
        if copy["window_id"] in originals.index:  # same bars as an original row: same tokens length, roughly
            assert abs(len(copy["input_ids"]) - len(originals.loc[copy["window_id"], "input_ids"])) <= 12


def test_windows_start_on_bar_lines(small_build, groove_dir):
    for part in small_build["dataset"].values():
        frame = part.to_pandas()
        for source_file, rows in frame[frame["copy"] == 0].groupby("source_file"):
            bar_lines = midi_downbeats(load_midi(groove_dir / source_file))
            np.testing.assert_allclose(rows["window_start_s"], bar_lines[rows["window_start_bar"]])
            np.testing.assert_allclose(rows["window_end_s"], bar_lines[rows["window_end_bar"]])
            num_bars = rows["window_end_bar"] - rows["window_start_bar"]
            # Full windows of 4 bars, or a file's single shorter window (a fill).
            assert (num_bars == 4).all() or (len(rows) == 1 and 1 <= num_bars.iloc[0] < 4), source_file


def test_no_source_file_or_window_in_two_splits(small_build):
    dataset = small_build["dataset"]
    files = {split: set(part["source_file"]) for split, part in dataset.items()}
    windows = {split: set(part["window_id"]) for split, part in dataset.items()}
    assert not files["train"] & files["validation"]
    assert not windows["train"] & windows["validation"]


def test_output_folder_has_card_manifest_tables_plot_and_tokenizer(small_build):
    output = small_build["output"]
    card = (output / "README.md").read_text()
    assert "license: cc-by-4.0" in card and "Gillick" in card and "Magenta" in card
    assert "GMD groove windows: before" in card and "GMD groove windows: after" in card
    assert " ".join(small_build["argv"]) in card
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["config"]["window_bars"] == 4 and manifest["config"]["hop_bars"] == 2
    assert manifest["stats"]["num_rows"] == small_build["stats"]["num_rows"]
    for name in ("genre_table_before.csv", "genre_table_after.csv", "genre_table.md", "genre_balance.png"):
        assert (output / name).is_file(), name
    assert DrumTokenizer.from_pretrained(str(output / "tokenizer")).get_vocab() == DrumTokenizer().get_vocab()
    assert not list(output.parent.glob(".groove.building-*"))  # no temp folder left


def test_same_command_gives_an_identical_dataset_with_any_num_proc(build_groove, small_build, tmp_path):
    output = tmp_path / "again"
    argv = [*small_build["argv"], "--num-proc", "2"]
    argv[argv.index("--output") + 1] = str(output)
    build_groove.main(argv)
    again = datasets.load_from_disk(str(output))
    for split, part in small_build["dataset"].items():
        assert again[split].to_dict() == part.to_dict(), split
    first = json.loads((small_build["output"] / "manifest.json").read_text())
    second = json.loads((output / "manifest.json").read_text())
    assert first["stats"] == second["stats"] and first["skipped"] == second["skipped"]


# -------------------------------------------------------------------------------------------------------------
# Balancing on the full GMD metadata (the build's own planning step, windows estimated from info.csv)
# -------------------------------------------------------------------------------------------------------------


def metadata_windows(build_groove, records: list):
    """Windows of every GMD file from info.csv's duration, bpm and meter, without reading MIDI."""
    table = build_groove.WindowTable()
    for index, record in enumerate(records):
        numerator, denominator = (int(part) for part in record.time_signature.split("-"))
        bar_seconds = numerator * (4.0 / denominator) * 60.0 / record.bpm
        downbeats = np.arange(int(record.duration / bar_seconds) + 2) * bar_seconds
        for start, end, first_bar, num_bars in bar_windows(downbeats, record.duration, 4, 2):
            table.append(index, start, end, first_bar, num_bars)
    return table


@pytest.mark.parametrize("resplit", [False, True])
def test_full_gmd_plan_is_balanced_to_4_to_1_and_keeps_splits_apart(build_groove, groove_dir, tmp_path, resplit):
    args = build_groove.GrooveBuildArguments(groove_dir=str(groove_dir), output=str(tmp_path / "unused"),
                                             resplit=resplit)
    records = read_gmd_folder(groove_dir)
    table = metadata_windows(build_groove, records)
    splits = build_groove.assign_splits(records, table, args)
    plan = build_groove.plan_examples(records, table, splits, args)
    rows = [(split, index) for split, selected in plan.rows.items() for index, _, _ in selected]
    genres = [plan.genres[index] for _, index in rows]
    files = [records[table.record[index]].source_file for _, index in rows]
    after = genre_table(genres, [split for split, _ in rows], files)

    assert genre_ratio(genre_table(plan.genres, [splits[r] for r in table.record],
                                   [records[r].source_file for r in table.record])) > 10
    assert genre_ratio(after, "train") <= 4.0 + 1e-9
    assert "world" in after.index and "highlife" not in after.index  # grouped
    train_genres = set(after.index[after["train_examples"] > 0])
    source_validation = {plan.genres[i] for i in range(len(table)) if splits[table.record[i]] == "validation"}
    assert train_genres & source_validation <= set(after.index[after["validation_examples"] > 0])
    if not resplit:
        assert train_genres <= source_validation  # GMD's validation has every grouped train genre
    split_of_file: dict[str, set] = {}
    for (split, _), file in zip(rows, files):
        split_of_file.setdefault(file, set()).add(split)
    assert all(len(names) == 1 for names in split_of_file.values())
    if resplit:  # a drummer session never spans splits
        split_of_session: dict[str, set] = {}
        for record, split in zip(records, splits):
            split_of_session.setdefault(record.session_id, set()).add(split)
        assert all(len(names) == 1 for names in split_of_session.values())
    # Validation is untouched: every source validation window once, no copies.
    validation = plan.rows["validation"]
    assert all(copy == 0 for _, copy, _ in validation)
    assert sorted(index for index, _, _ in validation) == [
        i for i in range(len(table)) if splits[table.record[i]] == "validation"]


# -------------------------------------------------------------------------------------------------------------
# Bad data, atomicity, rendering, Hub push
# -------------------------------------------------------------------------------------------------------------


def test_corrupt_drumless_and_missing_midi_are_skipped_with_reasons(build_groove, messy_folder, tmp_path):
    output = tmp_path / "messy_out"
    stats = build_groove.main(["--groove-dir", str(messy_folder), "--output", str(output)])
    manifest = json.loads((output / "manifest.json").read_text())
    reasons = manifest["skipped"]["by_reason"]
    assert reasons[build_groove.SKIP_CORRUPT] == 1
    assert reasons[build_groove.SKIP_NO_DRUMS] == 1
    assert reasons[build_groove.SKIP_MISSING] == 1
    assert "bad/corrupt (1).mid" in manifest["skipped"]["examples"][build_groove.SKIP_CORRUPT]
    dataset = datasets.load_from_disk(str(output))
    assert set(dataset["train"]["source_file"]) == {"a/1_funk_80_beat_4-4.mid", "b/4_jazz_120_beat_3-4.mid"}
    # The 3/4 file is windowed on its own bar lines: 4 bars of 3 beats at 120 BPM = 6 s.
    jazz = dataset["train"].filter(lambda row: row["time_signature"] == "3/4" and row["copy"] == 0)
    assert len(jazz) > 3
    np.testing.assert_allclose(np.array(jazz["window_end_s"]) - np.array(jazz["window_start_s"]), 6.0, rtol=1e-3)
    assert stats["skipped"]["total"] >= 3


def test_failing_build_leaves_no_output_and_no_temp_folder(build_groove, tmp_path):
    folder = write_gmd_folder(tmp_path / "all_bad", [
        {"id": "x/1", "style": "rock", "midi_filename": "x/1.mid", "split": "train", "content": b"not midi"},
        {"id": "x/2", "style": "rock", "midi_filename": "x/2.mid", "split": "validation", "content": b"\x00" * 40},
    ])
    output = tmp_path / "out" / "groove"
    with pytest.raises(RuntimeError, match="no window left"):
        build_groove.main(["--groove-dir", str(folder), "--output", str(output)])
    assert not output.exists()
    assert not list(output.parent.glob(".groove*")) if output.parent.exists() else True
    # An existing output is refused before any work unless --overwrite is given.
    output.mkdir(parents=True)
    with pytest.raises(FileExistsError, match="--overwrite"):
        build_groove.main(["--groove-dir", str(folder), "--output", str(output)])
    with pytest.raises(FileNotFoundError, match="info.csv"):
        build_groove.main(["--groove-dir", str(tmp_path), "--output", str(tmp_path / "none")])


def test_build_failing_midway_leaves_no_output_and_keeps_an_old_one(build_groove, messy_folder, tmp_path,
                                                                     monkeypatch):
    def fail(task):
        raise RuntimeError("simulated crash while making examples")

    monkeypatch.setattr(build_groove, "make_file_examples", fail)
    output = tmp_path / "out" / "groove"
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_groove.main(["--groove-dir", str(messy_folder), "--output", str(output)])
    assert not output.exists() and list(output.parent.iterdir()) == []
    output.mkdir()
    (output / "old.txt").write_text("previous build")
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_groove.main(["--groove-dir", str(messy_folder), "--output", str(output), "--overwrite"])
    assert [path.name for path in output.parent.iterdir()] == ["groove"]
    assert (output / "old.txt").read_text() == "previous build"


def test_render_adds_int16_audio_and_fp16_mels_of_each_window(build_groove, groove_dir, tmp_path):
    folder = write_gmd_folder(tmp_path / "fills", [
        info_row(groove_dir, "drummer1/session1/10_jazz-funk_116_fill_4-4.mid"),
        info_row(groove_dir, "drummer1/session1/121_funk_95_fill_4-4.mid"),
    ])
    output = tmp_path / "rendered"
    build_groove.main(["--groove-dir", str(folder), "--output", str(output), "--render"])
    dataset = datasets.load_from_disk(str(output))
    extractor = BeatAlignedMelFeatureExtractor()
    for part in dataset.values():
        assert part.features["audio"] == datasets.List(datasets.Value("int16"))
        assert part.features["mel"] == datasets.Array2D(shape=(None, 80), dtype="float16")
        assert part.data.schema.field("audio").type.value_type == "int16"  # stored small, whatever the formatter
        for row in part.with_format("numpy"):
            duration = row["window_end_s"] - row["window_start_s"]
            assert row["sampling_rate"] == 16000
            assert row["audio"].shape == (round(duration * 16000),)
            assert 0.5 < np.abs(row["audio"]).max() / 32768 <= 0.91
            assert row["mel"].shape == (1 + len(row["audio"]) // extractor.hop_length, 80)
            expected = extractor.mel_spectrogram(row["audio"].astype(np.float32) / 32768.0)
            np.testing.assert_allclose(row["mel"], expected, atol=0.05, rtol=0.01)
            assert row["soundfont"] in TRAINING_SOUNDFONTS and row["soundfont"] != HELD_OUT_SOUNDFONT
            assert row["drum_kit"] in build_groove.RENDER_DRUM_KITS
            # The audio starts with the window's first hit, not with silence or another window's tail.
            first_hit = drum_hits(load_midi(groove_dir / row["source_file"])).window(
                row["window_start_s"], row["window_end_s"]).times.min()
            onset = np.flatnonzero(np.abs(row["audio"]) > 100)[0] / 16000
            assert abs(onset - first_hit) < 0.02


def test_push_to_hub_uploads_the_built_folder(build_groove, messy_folder, tmp_path, monkeypatch):
    import huggingface_hub

    calls = []
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo",
                        lambda self, repo_id, **kwargs: calls.append(("create_repo", repo_id, kwargs)))
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder",
                        lambda self, **kwargs: calls.append(("upload_folder", kwargs)))
    output = tmp_path / "pushed"
    build_groove.main(["--groove-dir", str(messy_folder), "--output", str(output), "--no-balance",
                       "--push-to-hub", "someone/groove-windows"])
    assert calls[0][:2] == ("create_repo", "someone/groove-windows") and calls[0][2]["repo_type"] == "dataset"
    upload = calls[1][1]
    assert Path(upload["folder_path"]) == output and upload["repo_type"] == "dataset"
    assert upload["repo_id"] == "someone/groove-windows"
    assert (output / "README.md").is_file() and (output / "dataset_dict.json").is_file()
