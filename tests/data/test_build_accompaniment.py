"""datasets_scripts/build_accompaniment.py: backing + drums windows from real multi-track songs and stem folders.

Builds run as functions (``main(argv)``) on three short real songs of the shared data (5/4, 2/4 and 4/4, file
names with spaces, parentheses and non-ASCII characters) plus broken inputs, into temporary folders.
"""

import importlib.util
import io
import json
import shutil
import sys
from pathlib import Path

import datasets
import numpy as np
import pretty_midi
import pytest

from drum_accomp.data.song_sources import (
    KIND_MIDI, KIND_SLAKH, KIND_STEMS, detect_source_kind, load_song_midi, read_song_sources,
)
from drum_accomp.data.windows import midi_downbeats
from drum_accomp.midi import drum_hits, split_backing_and_drums
from drum_accomp.render import HELD_OUT_SOUNDFONT, TRAINING_SOUNDFONTS, render_midi
from drum_accomp.tokenization_drum import DrumTokenizer

REPO_ROOT = Path(__file__).resolve().parents[2]
SONGS = {  # shared-data file -> the messy name the test gives it
    "multitrack/Tegridy-Children-Songs-CC-BY-NC-SA/Tegridy-Children-Songs-102-CC-BY-NC-SA.mid":
        "Kinderlied 102 (5-4) ä.mid",
    "multitrack/Rare-Scores-and-Transcribed-Songs-CC-BY-NC-SA/MIDIs/Rare Scores/"
    "Tammurriata nera --- Nuova Compagnia di Canto Popolare.mid": "sub folder/Tammurriata nera – live.mid",
    "multitrack/Rare-Scores-and-Transcribed-Songs-CC-BY-NC-SA/MIDIs/Transcribed Songs/MuScriptor/"
    "My Fat Baby Loves To Eat --- Family Guy.mid": "My Fat Baby (Family Guy).mid",
}
SPLITS = ("train", "validation", "test", "test_heldout_soundfont")


def tag_as_funk(drums_midi: pretty_midi.PrettyMIDI) -> str:
    """A stand-in genre tagger for ``--tagger test_build_accompaniment:tag_as_funk``."""
    assert all(instrument.is_drum for instrument in drums_midi.instruments)
    return "funk"


@pytest.fixture(scope="module")
def build_accompaniment():
    """The build script, imported as a module (datasets_scripts is not a package)."""
    spec = importlib.util.spec_from_file_location("build_accompaniment",
                                                  REPO_ROOT / "datasets_scripts" / "build_accompaniment.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_accompaniment"] = module  # dataclasses and worker pickling look the module up by name
    spec.loader.exec_module(module)
    return module


def write_song(path: Path, seconds: float, drums: bool = True, backing: bool = True, silent: bool = False) -> Path:
    """A small multi-track song: a piano line and a kick/snare/hi-hat beat at 120 BPM."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    if backing:
        piano = pretty_midi.Instrument(program=0, name="piano")
        piano.notes = [pretty_midi.Note(90, 60 + (i * 5) % 12, i * 0.5, i * 0.5 + 0.45) for i in range(int(seconds * 2))]
        if silent:  # channel volume 0: FluidSynth renders nothing
            piano.control_changes = [pretty_midi.ControlChange(7, 0, 0.0)]
        midi.instruments.append(piano)
    if drums:
        kit = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
        kit.notes = [pretty_midi.Note(100, (36, 42, 38, 42)[i % 4], i * 0.25, i * 0.25 + 0.1)
                     for i in range(int(seconds * 4))]
        if silent:
            kit.control_changes = [pretty_midi.ControlChange(7, 0, 0.0)]
        midi.instruments.append(kit)
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.write(str(path))
    return path


@pytest.fixture(scope="module")
def songs_dir(shared_data, tmp_path_factory) -> Path:
    """Three real songs under messy names, plus a corrupt, a drum-less and a too-short MIDI file. The folder is
    named like the shared one, so the card credits the right licence."""
    folder = tmp_path_factory.mktemp("sources") / "multitrack"
    for source, name in SONGS.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared_data / source, folder / name)
    (folder / "broken (1).mid").write_bytes(b"MThd\x00\x00\x00\x06this is not a midi file")
    write_song(folder / "piano only.mid", 30.0, drums=False)
    write_song(folder / "kurz ß.mid", 6.0)
    return folder


class HubRecorder:
    def __init__(self):
        self.calls = []

    def patch(self, monkeypatch):
        import huggingface_hub

        monkeypatch.setattr(huggingface_hub.HfApi, "create_repo",
                            lambda api, repo_id, **kwargs: self.calls.append(("create_repo", repo_id, kwargs)))
        monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder",
                            lambda api, **kwargs: self.calls.append(("upload_folder", kwargs["repo_id"], kwargs)))


@pytest.fixture(scope="module")
def main_build(build_accompaniment, songs_dir, tmp_path_factory):
    output = tmp_path_factory.mktemp("main") / "accompaniment"
    argv = ["--source", str(songs_dir), "--output", str(output), "--push-to-hub", "someone/accompaniment-test"]
    hub = HubRecorder()
    with pytest.MonkeyPatch.context() as monkeypatch:
        hub.patch(monkeypatch)
        stats = build_accompaniment.main(argv)
    return {"argv": argv, "stats": stats, "output": output, "hub": hub,
            "windows": datasets.load_from_disk(str(output)), "songs": datasets.load_from_disk(str(output / "songs")),
            "manifest": json.loads((output / "manifest.json").read_text(encoding="utf-8"))}


def rows(dataset: datasets.Dataset) -> list[dict]:
    return list(dataset.with_format("numpy"))


# -------------------------------------------------------------------------------------------------------------
# The real build
# -------------------------------------------------------------------------------------------------------------


def test_columns_dtypes_and_shapes(main_build):
    windows = main_build["windows"]
    assert set(windows) == set(SPLITS)
    features = windows["train"].features
    assert features["backing_mel"] == datasets.Array2D(shape=(1024, 80), dtype="float16")
    assert features["drums_mel"] == datasets.Array2D(shape=(1024, 80), dtype="float16")
    assert features["beat_positions"] == datasets.List(datasets.Value("int8"), length=1024)
    assert features["drum_input_ids"] == datasets.List(datasets.Value("int32"))
    assert features["hit_classes"] == datasets.List(datasets.Value("int8"))
    assert "backing_audio" not in features  # waveforms only with --store-audio
    assert str(windows["train"].data.table.schema.field("backing_mel").type.value_type) == "float16"  # on disk
    row = windows["train"].with_format("numpy")[0]
    assert row["backing_mel"].shape == (1024, 80)
    assert row["downbeat_flags"].shape == (1024,)
    assert row["window_end_s"] - row["window_start_s"] == pytest.approx(10.24)
    assert row["has_midi"] and row["style"] == "unknown" and row["genre"] == "unknown"
    assert 40 < row["bpm"] < 250 and row["beats_per_bar"] in (2, 4, 5)
    assert all(np.all(np.isfinite(r["backing_mel"].astype(np.float32))) for r in rows(windows["train"]))


def test_windows_start_on_downbeats_of_their_song_variant(main_build):
    songs = {row["song_variant_id"]: row for row in main_build["songs"]}
    for split in SPLITS:
        for row in rows(main_build["windows"][split]):
            assert row["beat_positions"][0] == 0 and row["downbeat_flags"][0] == 1
            assert row["beat_times"][0] == 0.0 and row["downbeat_times"][0] == 0.0
            midi = pretty_midi.PrettyMIDI(io.BytesIO(songs[row["song_variant_id"]]["midi"]))
            downbeats = midi_downbeats(midi)
            assert np.min(np.abs(downbeats - row["window_start_s"])) < 1e-9
            assert row["window_start_s"] + 10.24 <= midi.get_end_time() + 1e-6
            # a later downbeat flag sits on each bar line inside the window
            flagged = np.flatnonzero(np.diff(np.concatenate([[0], row["downbeat_flags"]])) == 1) / 100.0
            assert np.allclose(flagged, row["downbeat_times"], atol=0.011)


def test_drum_tokens_decode_to_the_window_hits(main_build):
    tokenizer = DrumTokenizer()
    checked = 0
    for row in rows(main_build["windows"]["train"]) + rows(main_build["windows"]["test"]):
        decoded = tokenizer.decode_tokens(row["drum_input_ids"], beat_times=row["beat_times"])
        assert decoded.num_invalid_words == 0 and decoded.style == "unknown"
        assert len(decoded.hits) == row["num_hits"] == len(row["hit_times"]) > 0
        for class_index in range(9):
            mine = np.sort(row["hit_times"][row["hit_classes"] == class_index])
            theirs = np.sort(decoded.hits.times[decoded.hits.classes == class_index])
            assert len(mine) == len(theirs)
            assert np.allclose(mine, theirs, atol=0.005)
        assert np.all((row["hit_times"] >= 0) & (row["hit_times"] < 10.24))
        assert np.all((row["hit_velocities"] >= 1) & (row["hit_velocities"] <= 127))
        checked += 1
    assert checked > 4


def test_window_hits_match_the_stored_song_midi(main_build):
    songs = {row["song_variant_id"]: row for row in main_build["songs"]}
    row = rows(main_build["windows"]["train"])[-1]  # an augmented variant (tempo and kit changed)
    midi = pretty_midi.PrettyMIDI(io.BytesIO(songs[row["song_variant_id"]]["midi"]))
    hits = drum_hits(midi).window(row["window_start_s"], row["window_end_s"])
    np.testing.assert_allclose(row["hit_times"], hits.times, atol=1e-5)
    np.testing.assert_array_equal(row["hit_classes"], hits.classes)


def test_backing_and_drums_mels_differ_and_carry_sound(main_build):
    for row in rows(main_build["windows"]["validation"]):
        backing, drums = row["backing_mel"].astype(np.float32), row["drums_mel"].astype(np.float32)
        assert np.abs(backing - drums).mean() > 1.0
        assert backing.std() > 0.5 and drums.std() > 0.5


def test_split_is_by_song_and_heldout_soundfont_only_in_its_split(main_build):
    windows = main_build["windows"]
    song_sets = {split: set(windows[split]["song_id"]) for split in SPLITS}
    assert not song_sets["train"] & song_sets["validation"]
    assert not song_sets["train"] & song_sets["test"]
    assert not song_sets["validation"] & song_sets["test"]
    assert song_sets["test_heldout_soundfont"] == song_sets["test"]
    assert sum(len(song_sets[split]) for split in ("train", "validation", "test")) == 3
    for split in ("train", "validation", "test"):
        assert HELD_OUT_SOUNDFONT not in set(windows[split]["soundfont"])
        assert set(windows[split]["soundfont"]) <= set(TRAINING_SOUNDFONTS)
    assert set(windows["test_heldout_soundfont"]["soundfont"]) == {HELD_OUT_SOUNDFONT}
    # train: a clean FluidR3 variant and an augmented one per song; evaluation splits clean only
    train = windows["train"].select_columns(["variant", "augmented", "soundfont", "augmentation"]).to_list()
    assert {row["variant"] for row in train} == {0, 1}
    assert all(row["soundfont"] == TRAINING_SOUNDFONTS[0] and not row["augmented"] for row in train
               if row["variant"] == 0)
    augmented = [json.loads(row["augmentation"]) for row in train if row["augmented"]]
    assert augmented and all(choice["drum_kit"] and choice["tempo_factor"] != 1.0 for choice in augmented)
    for split in ("validation", "test", "test_heldout_soundfont"):
        assert not any(windows[split]["augmented"])


def test_songs_table_holds_each_variant_midi_once(main_build):
    songs, windows = main_build["songs"], main_build["windows"]
    variant_ids = songs["song_variant_id"]
    assert len(variant_ids) == len(set(variant_ids)) == 2 + 1 + 1 + 1  # train x2, validation, test, held-out
    for split in SPLITS:
        counts = {}
        for variant_id in windows[split]["song_variant_id"]:
            counts[variant_id] = counts.get(variant_id, 0) + 1
        for song in songs:
            if song["split"] == split:
                assert counts.get(song["song_variant_id"], 0) == song["num_windows"]
        assert set(counts) <= set(variant_ids)
    train_songs = [song for song in songs if song["split"] == "train"]
    clean, augmented = sorted(train_songs, key=lambda song: song["variant"])
    assert clean["midi"] != augmented["midi"]
    midi = pretty_midi.PrettyMIDI(io.BytesIO(augmented["midi"]))
    assert any(instrument.is_drum for instrument in midi.instruments)


def test_skip_reasons_are_counted(main_build):
    by_reason = main_build["manifest"]["skipped"]["by_reason"]
    build = sys.modules["build_accompaniment"]
    assert by_reason[build.SKIP_CORRUPT] == 1
    assert by_reason[build.SKIP_NO_DRUMS] == 1
    assert by_reason[build.SKIP_SHORT] == 1
    assert main_build["stats"]["songs_read"] == 6 and main_build["stats"]["songs_kept"] == 3


def test_card_manifest_report_and_hub_push(main_build):
    output = main_build["output"]
    card = (output / "README.md").read_text(encoding="utf-8")
    assert "cc-by-nc-sa-4.0" in card and "NonCommercial" in card
    assert "build_accompaniment.py" in card and "MB" in card and "test_heldout_soundfont" in card
    for name in ("genre_table_before.csv", "genre_table_after.csv", "genre_balance.png", "genre_table.md"):
        assert (output / name).is_file()
    manifest = main_build["manifest"]
    assert manifest["config"]["window_frames"] == 1024 and manifest["config"]["train_variants"] == 2
    assert manifest["stats"]["num_rows"] == {split: len(main_build["windows"][split]) for split in SPLITS}
    assert not list(output.glob(".*"))  # no cache or side files left
    calls = main_build["hub"].calls
    assert [call[0] for call in calls] == ["create_repo", "upload_folder"]
    assert calls[1][1] == "someone/accompaniment-test" and Path(calls[1][2]["folder_path"]) == output


def test_two_builds_are_identical_with_any_num_proc(build_accompaniment, main_build, tmp_path):
    output = tmp_path / "again"
    argv = ["--source", main_build["argv"][1], "--output", str(output), "--num-proc", "2"]
    build_accompaniment.main(argv)
    again = datasets.load_from_disk(str(output))
    for split in SPLITS:
        assert again[split].data.table.equals(main_build["windows"][split].data.table), split
    assert datasets.load_from_disk(str(output / "songs")).data.table.equals(main_build["songs"].data.table)


# -------------------------------------------------------------------------------------------------------------
# Failures, genres, stems, sources
# -------------------------------------------------------------------------------------------------------------


def test_failed_build_leaves_nothing(build_accompaniment, songs_dir, tmp_path, monkeypatch):
    import drum_accomp.data.build_utils as build_utils

    def broken_card(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(build_utils, "write_dataset_card", broken_card)
    output = tmp_path / "out" / "accompaniment"
    with pytest.raises(RuntimeError, match="disk full"):
        build_accompaniment.main(["--source", str(songs_dir / "sub folder"), "--output", str(output),
                                  "--train-variants", "1"])
    assert not output.exists()
    assert list(output.parent.iterdir()) == []  # no half-built temporary folder either


def test_nothing_left_fails_loudly_with_the_reasons(build_accompaniment, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "broken.mid").write_bytes(b"garbage")
    with pytest.raises(RuntimeError, match="corrupt"):
        build_accompaniment.main(["--source", str(folder), "--output", str(tmp_path / "a")])
    write_song(folder / "silent.mid", 25.0, silent=True)
    with pytest.raises(RuntimeError, match="silent render"):
        build_accompaniment.main(["--source", str(folder), "--output", str(tmp_path / "b"), "--train-variants", "1"])
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_genre_labels_file_and_tagger_set_styles(build_accompaniment, songs_dir, tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("song,genre\nKinderlied 102 (5-4) ä.mid,Rock\n", encoding="utf-8")
    output = tmp_path / "labelled"
    build_accompaniment.main([
        "--source", str(songs_dir), "--output", str(output), "--genre-labels", str(labels),
        "--tagger", "test_build_accompaniment:tag_as_funk", "--train-variants", "1", "--no-heldout-soundfont",
        "--limit", "3", "--min-files-per-genre", "1"])
    windows = datasets.load_from_disk(str(output))
    tokenizer = DrumTokenizer()
    styles = {}
    for split in windows:
        for row in windows[split].select_columns(["song_id", "style", "drum_input_ids"]).to_list():
            styles[row["song_id"]] = row["style"]
            assert row["drum_input_ids"][1] == tokenizer.style_id(row["style"])
    # --limit 3 keeps the first three ids: the two songs below and the corrupt file (skipped)
    assert styles == {"multitrack/Kinderlied 102 (5-4) ä.mid": "rock", "multitrack/My Fat Baby (Family Guy).mid": "funk"}
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["genre_labels_applied"] == 1


def test_invalid_genre_label_raises_naming_valid_ones(build_accompaniment, songs_dir, tmp_path):
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"My Fat Baby (Family Guy).mid": "polka"}), encoding="utf-8")
    with pytest.raises(ValueError, match="polka.*choose one of.*rock"):
        build_accompaniment.main(["--source", str(songs_dir), "--output", str(tmp_path / "x"),
                                  "--genre-labels", str(labels)])
    assert not (tmp_path / "x").exists()


@pytest.fixture(scope="module")
def stem_source(song_midi_path, tmp_path_factory) -> Path:
    """A MUSDB-style folder made from the fixture song's rendered stems (41-80 s, where the drums play): drums,
    bass, other, and a mixture file that must not count as backing."""
    import soundfile

    root = tmp_path_factory.mktemp("musdb") / "train"
    folder = root / "Amazing Grace (Stems) – Test"
    folder.mkdir(parents=True)
    backing_midi, drums_midi = split_backing_and_drums(song_midi_path)
    bass = [instrument for instrument in backing_midi.instruments if 32 <= instrument.program < 40]
    other = [instrument for instrument in backing_midi.instruments if not 32 <= instrument.program < 40]
    stems = {"drums": drums_midi.instruments, "bass": bass, "other": other}
    mix = 0
    for name, instruments in stems.items():
        part = pretty_midi.PrettyMIDI(str(song_midi_path))
        part.instruments = instruments
        audio = render_midi(part, 16000, duration=80.0)[41 * 16000:] * 0.5
        soundfile.write(str(folder / f"{name}.wav"), audio, 16000)
        mix = mix + audio
    soundfile.write(str(folder / "mixture.wav"), mix, 16000)
    return root


def test_stem_folder_builds_with_tracked_beats(build_accompaniment, stem_source, tmp_path):
    records = read_song_sources([stem_source])
    assert [record.kind for record in records] == [KIND_STEMS]
    output = tmp_path / "stems"
    build_accompaniment.main(["--source", str(stem_source), "--output", str(output), "--beat-tracker", "librosa",
                              "--train-variants", "1"])
    windows = datasets.load_from_disk(str(output))
    assert list(windows) == ["train"]
    table = rows(windows["train"])
    assert len(table) >= 2
    for row in table:
        assert not row["has_midi"] and row["source_kind"] == KIND_STEMS
        assert row["num_hits"] == 0 and len(row["hit_times"]) == 0 and len(row["drum_input_ids"]) == 0
        assert row["backing_mel"].shape == (1024, 80)
        assert row["beat_positions"][0] == 0 and row["downbeat_flags"][0] == 1
        assert len(row["beat_times"]) >= 8 and row["soundfont"] == ""
        assert np.abs(row["backing_mel"].astype(np.float32) - row["drums_mel"].astype(np.float32)).mean() > 1.0
    songs = datasets.load_from_disk(str(output / "songs"))
    assert songs["midi"] == [b""] and songs["has_midi"] == [False]


def test_store_audio_and_window_length_flags(build_accompaniment, songs_dir, tmp_path):
    output = tmp_path / "audio"
    build_accompaniment.main(["--source", str(songs_dir / "sub folder"), "--output", str(output),
                              "--store-audio", "--window-frames", "512", "--train-variants", "1"])
    train = datasets.load_from_disk(str(output))["train"]
    assert train.features["backing_audio"] == datasets.List(datasets.Value("int16"))
    row = train.with_format("numpy")[0]
    assert row["backing_mel"].shape == (512, 80) and row["sampling_rate"] == 16000
    assert row["backing_audio"].shape == row["drums_audio"].shape == (512 * 160,)
    # the stored waveform gives the stored mel (frame 0 centred on the window start)
    from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor

    mel = BeatAlignedMelFeatureExtractor().mel_spectrogram(row["drums_audio"].astype(np.float32) / 32767.0)
    inner = slice(8, 500)  # away from the edges, where the stored mel saw the song around the window
    np.testing.assert_allclose(mel[inner], row["drums_mel"][inner].astype(np.float32), atol=0.05)
    with pytest.raises(ValueError, match="multiple of 8"):
        build_accompaniment.parse_args(["--window-frames", "1020"])


def test_downbeat_windows_are_fixed_length_and_start_on_downbeats(build_accompaniment):
    downbeats = np.arange(0, 60, 2.5)  # 2.5 s bars
    windows = build_accompaniment.downbeat_windows(downbeats, 40.0, window_seconds=10.24, hop_seconds=10.24)
    starts = [start for start, _ in windows]
    assert starts == [0.0, 12.5, 25.0]  # first downbeat >= previous + 10.24 s; each window ends by 40 s
    assert all(downbeats[index] == start for start, index in windows)
    overlapping = build_accompaniment.downbeat_windows(downbeats, 40.0, window_seconds=10.24, hop_seconds=5.0)
    assert [start for start, _ in overlapping][:3] == [0.0, 5.0, 10.0]
    assert build_accompaniment.downbeat_windows(downbeats, 10.0, 10.24, 10.24) == []


def test_sources_are_detected_per_folder(shared_data, songs_dir, stem_source, tmp_path):
    assert detect_source_kind(shared_data / "slakh_sample" / "Track00001") == KIND_SLAKH
    assert detect_source_kind(songs_dir) == KIND_MIDI
    records = read_song_sources([shared_data / "slakh_sample", songs_dir, stem_source])
    kinds = {record.id: record.kind for record in records}
    assert kinds["slakh_sample/Track00001"] == KIND_SLAKH
    assert kinds["multitrack/sub folder/Tammurriata nera – live.mid"] == KIND_MIDI
    assert kinds["train/Amazing Grace (Stems) – Test"] == KIND_STEMS
    assert [record.id for record in records] == sorted(kinds)
    slakh = load_song_midi(next(record for record in records if record.kind == KIND_SLAKH))
    backing, drums = split_backing_and_drums(slakh)
    assert len(drum_hits(drums)) > 500 and len(backing.instruments) >= 5
    with pytest.raises(FileNotFoundError, match="not found"):
        read_song_sources([tmp_path / "missing"])


def test_balancing_copies_become_extra_augmented_variants(build_accompaniment, tmp_path):
    """Planning only (nothing rendered): 6 rock songs and 2 funk songs at most 1.5:1 -> funk windows get
    augmented copies, each rendered as --train-variants extra augmented variants, so the ratio holds in rows."""
    from drum_accomp.data.song_sources import SongRecord

    records = [SongRecord(f"multitrack/{name}.mid", KIND_MIDI, tmp_path / f"{name}.mid", tmp_path)
               for name in [f"rock{i}" for i in range(6)] + ["funk0", "funk1"]]
    scans = {index: {"base_starts": [0.0, 10.5, 21.0, 31.5], "tag": None} for index in range(len(records))}
    labels = {record.id: ("funk" if "funk" in record.id else "rock") for record in records}
    args = build_accompaniment.parse_args(["--max-ratio", "1.5", "--min-files-per-genre", "1",
                                           "--split-fractions", "train=1.0", "--train-variants", "2"])
    plan = build_accompaniment.plan_variants(records, scans, args, labels)
    tasks = plan.tasks["train"]
    funk = [task for task in tasks if "funk" in task["record"].id]
    copies = [task for task in funk if task["copy"] > 0]
    assert copies and all(task["augment"] and task["variant"] // 2 == task["copy"] for task in copies)
    assert len({(task["record"].id, task["variant"]) for task in tasks}) == len(tasks)
    assert all(0 <= window < 4 for task in tasks for window in task["windows"])
    counts = {"rock": 0, "funk": 0}
    for task in tasks:
        counts[task["genre"]] += len(task["windows"])
    assert max(counts.values()) / min(counts.values()) <= 1.5 + 1e-9
    unbalanced = build_accompaniment.plan_variants(records, scans, build_accompaniment.parse_args(
        ["--no-balance", "--split-fractions", "train=1.0"]), labels)
    assert all(task["copy"] == 0 and task["windows"] == [0, 1, 2, 3] for task in unbalanced.tasks["train"])
