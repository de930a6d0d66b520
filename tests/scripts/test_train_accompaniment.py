"""scripts/encode_codes.py, scripts/train_accompaniment.py and scripts/evaluate_accompaniment.py, end to end on CPU.

The source is a tiny dataset shaped like ``data/accompaniment``: real backing and drum mels of the multitrack
fixture (rendered apart), its MIDI beats, beat positions and drum hits, in windows of 256 frames (64 codes).
Tiny untrained VQ-VAEs turn it into codes, so the tests need neither the built dataset nor trained VQ-VAEs.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import load_script
import torch
from datasets import Array2D, Dataset, DatasetDict, Features, List, Value, load_from_disk

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from drum_accomp.midi import drum_hits, midi_beats, split_backing_and_drums
from drum_accomp.models.accompaniment import DrumAccompanimentModel
from drum_accomp.models.vqvae import MelVQVAEConfig, MelVQVAEModel
from drum_accomp.render import render_midi

REPO_ROOT = Path(__file__).resolve().parents[2]
WINDOW_FRAMES = 256
FIRST_SECOND = 42.0  # the fixture's drums come in at 41.5 s


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory, song_midi_path) -> Path:
    """6 train + 4 validation windows (two 'songs' each) of real mels, beats and hits, saved like the build."""
    backing_midi, drums_midi = split_backing_and_drums(song_midi_path)
    extractor = BeatAlignedMelFeatureExtractor()
    mels = {column: extractor.mel_spectrogram(render_midi(midi, duration=70.0)) for column, midi in
            (("backing_mel", backing_midi), ("drums_mel", drums_midi))}
    beats, downbeats = midi_beats(song_midi_path)
    hits = drum_hits(drums_midi)
    rows = []
    for index in range(10):
        start = FIRST_SECOND + index * WINDOW_FRAMES / 100
        first_frame = round(start * 100)
        window_beats = beats[(beats >= start) & (beats < start + 2.56)] - start
        window_downbeats = downbeats[(downbeats >= start) & (downbeats < start + 2.56)] - start
        positions, flags = extractor.beat_positions(window_beats, window_downbeats, WINDOW_FRAMES)
        window_hits = hits.window(start, start + 2.56)
        rows.append({
            "window_id": f"song{index % 2}@{index}", "song_id": f"song{index % 2}", "genre": "rock" if index % 2 else "unknown",
            "backing_mel": mels["backing_mel"][first_frame:first_frame + WINDOW_FRAMES].astype(np.float16),
            "drums_mel": mels["drums_mel"][first_frame:first_frame + WINDOW_FRAMES].astype(np.float16),
            "beat_positions": positions.astype(np.int8), "downbeat_flags": flags.astype(np.int8),
            "beat_times": window_beats.astype(np.float32), "downbeat_times": window_downbeats.astype(np.float32),
            "hit_times": window_hits.times.astype(np.float32), "hit_classes": window_hits.classes.astype(np.int8),
            "hit_velocities": window_hits.velocities.astype(np.int16),
        })
    assert sum(len(row["hit_times"]) for row in rows) > 20, "the windows should hold real drum hits"
    features = Features({
        "window_id": Value("string"), "song_id": Value("string"), "genre": Value("string"),
        "backing_mel": Array2D((WINDOW_FRAMES, 80), "float16"), "drums_mel": Array2D((WINDOW_FRAMES, 80), "float16"),
        "beat_positions": List(Value("int8"), length=WINDOW_FRAMES),
        "downbeat_flags": List(Value("int8"), length=WINDOW_FRAMES),
        "beat_times": List(Value("float32")), "downbeat_times": List(Value("float32")),
        "hit_times": List(Value("float32")), "hit_classes": List(Value("int8")), "hit_velocities": List(Value("int16")),
    })
    path = tmp_path_factory.mktemp("tiny_accompaniment")

    def split(members):
        return Dataset.from_dict({name: [rows[i][name] for i in members] for name in features}, features=features)

    DatasetDict({"train": split(range(6)), "validation": split(range(6, 10))}).save_to_disk(str(path))
    return path


@pytest.fixture(scope="module")
def codes_dir(tmp_path_factory, source_dir) -> Path:
    """The code dataset made by scripts/encode_codes.py with two tiny untrained VQ-VAEs (8 backing, 8 drum codes)."""
    encode = load_script("encode_codes")
    folder = tmp_path_factory.mktemp("vqvaes")
    for name in ("backing", "drums"):
        torch.manual_seed(0)
        MelVQVAEModel(MelVQVAEConfig(hidden_size=16, num_res_blocks=1, codebook_size=8, codebook_dim=8)).save_pretrained(
            folder / name)
    output = tmp_path_factory.mktemp("codes") / "accompaniment_codes"
    encode.main(encode.EncodeArguments(dataset=str(source_dir), backing_vqvae=str(folder / "backing"),
                                       drums_vqvae=str(folder / "drums"), output=str(output), batch_size=4))
    return output


def tiny_settings(path: Path, codes: Path) -> Path:
    settings = {
        "_comment": "tiny test config",
        "model": {"backing_codebook_size": 8, "drum_codebook_size": 8, "hidden_size": 32, "encoder_layers": 1,
                  "decoder_layers": 1, "num_attention_heads": 2, "intermediate_size": 64, "max_steps": 32,
                  "codes_per_step": 2, "aux_loss_weight": 0.5},
        "data": {"codes_dir": str(codes)},
        "training": {"per_device_train_batch_size": 4, "per_device_eval_batch_size": 2, "learning_rate": 1e-3,
                     "eval_strategy": "steps", "eval_steps": 2, "save_strategy": "steps", "save_steps": 2,
                     "save_total_limit": 2, "load_best_model_at_end": True, "metric_for_best_model": "eval_loss",
                     "greater_is_better": False, "logging_steps": 1, "seed": 0, "use_cpu": True, "report_to": "none",
                     "remove_unused_columns": False, "dataloader_num_workers": 0, "disable_tqdm": True},
        "early_stopping_patience": 3,
    }
    path.write_text(json.dumps(settings))
    return path


def test_encode_codes_writes_codes_beats_and_hit_targets(codes_dir, source_dir):
    codes = load_from_disk(str(codes_dir))
    assert set(codes) == {"train", "validation"} and len(codes["train"]) == 6
    row = codes["validation"].with_format("numpy")[0]
    source = load_from_disk(str(source_dir))["validation"].with_format("numpy")[0]
    assert row["backing_codes"].shape == row["drum_codes"].shape == (64,) and row["drum_codes"].max() < 8
    np.testing.assert_array_equal(row["beat_positions"], source["beat_positions"][::4])
    assert row["step_hit_flags"].shape == (64, 9)
    np.testing.assert_array_equal(row["backing_mel"], source["backing_mel"])  # for a model that hears the mels
    assert row["step_hit_flags"].sum() == len({(int(t / 0.04), c) for t, c in zip(source["hit_times"],
                                                                                   source["hit_classes"])})
    assert (codes_dir / "manifest.json").is_file() and row["song_id"] == "song0"
    with pytest.raises(FileExistsError):
        encode = load_script("encode_codes")
        encode.main(encode.EncodeArguments(dataset=str(source_dir), output=str(codes_dir)))


def test_two_step_training_run_exports_a_loadable_model(tmp_path, codes_dir):
    train = load_script("train_accompaniment")
    config = tiny_settings(tmp_path / "config.json", codes_dir)
    summary = train.main(["--config", str(config), "--output_dir", str(tmp_path / "run"),
                          "--export_dir", str(tmp_path / "export"), "--max_steps", "2", "--torch_threads", "1"])
    assert summary["global_step"] == 2 and np.isfinite(summary["validation"]["eval_loss"])
    assert "eval_ce_loss" in summary["validation"] and "eval_hit_loss" in summary["validation"]
    assert summary["train_codes_per_second"] > 0
    model = DrumAccompanimentModel.from_pretrained(tmp_path / "export")
    assert model.config.codes_per_step == 2 and (tmp_path / "export" / "training_summary.json").is_file()
    # resume goes on from the last checkpoint
    resumed = train.main(["--config", str(config), "--output_dir", str(tmp_path / "run"), "--max_steps", "4",
                          "--resume"])
    assert resumed["global_step"] == 4


def test_a_model_that_hears_the_mels_trains_and_is_evaluated_with_them(tmp_path, codes_dir):
    train = load_script("train_accompaniment")
    config = tiny_settings(tmp_path / "config.json", codes_dir)
    settings = json.loads(config.read_text())
    settings["model"].update(backing_mel_bins=80, backing_hit_loss_weight=1.0, hit_source="backing")
    config.write_text(json.dumps(settings))
    summary = train.main(["--config", str(config), "--output_dir", str(tmp_path / "run"),
                          "--export_dir", str(tmp_path / "export"), "--max_steps", "2", "--torch_threads", "1"])
    assert summary["global_step"] == 2 and np.isfinite(summary["validation"]["eval_backing_hit_loss"])
    model = DrumAccompanimentModel.from_pretrained(tmp_path / "export")
    assert model.config.backing_mel_bins == 80 and torch.count_nonzero(model.encoder.mel_projection.weight) > 0
    evaluate = load_script("evaluate_accompaniment")
    results = evaluate.main(evaluate.EvaluationArguments(model=str(tmp_path / "export"), codes_dir=str(codes_dir),
                                                         split="validation", batch_size=2))
    assert np.isfinite(results["conditioning"]["gap_nats_per_code"])
    assert 0.0 <= results["drum_hit_f1"]["model_micro_f1"] <= 1.0


def test_evaluation_reports_the_conditioning_gap_and_hit_f1(tmp_path, codes_dir):
    evaluate = load_script("evaluate_accompaniment")
    torch.manual_seed(0)
    model = DrumAccompanimentModel(DrumAccompanimentModel.config_class(
        backing_codebook_size=8, drum_codebook_size=8, hidden_size=32, encoder_layers=1, decoder_layers=1,
        num_attention_heads=2, intermediate_size=64, max_steps=32, hit_threshold=0.3))
    model.save_pretrained(tmp_path / "model")
    results = evaluate.main(evaluate.EvaluationArguments(
        model=str(tmp_path / "model"), codes_dir=str(codes_dir), split="validation", batch_size=2,
        output_json=str(tmp_path / "eval.json")))
    gap = results["conditioning"]
    assert gap["windows"] == 4 and gap["windows_without_other_song"] == 0
    assert np.isfinite(gap["gap_nats_per_code"]) and isinstance(gap["passed"], bool)
    f1 = results["drum_hit_f1"]
    assert 0.0 <= f1["model_micro_f1"] <= 1.0 and f1["rock_baseline_micro_f1"] > 0.0
    assert json.loads((tmp_path / "eval.json").read_text())["drum_hit_f1"]["windows"] == 4
    assert 0 <= f1["song_groove_calibration_windows"] <= 4


def test_the_song_groove_calibration_plays_the_bar_the_songs_other_windows_play():
    from datasets import Dataset

    evaluate = load_script("evaluate_accompaniment")
    bar = [0.0, 0.5, 1.0, 1.5]  # kick, snare, kick, snare in a 2 s bar of 4 beats

    def window(song, shift=0.0):
        times = [start + offset + shift for start in (0.0, 2.0, 4.0) for offset in bar]
        return {"song_id": song, "beat_times": np.arange(12) * 0.5, "downbeat_times": [0.0, 2.0, 4.0],
                "hit_times": times, "hit_classes": [0, 1, 0, 1] * 3, "hit_velocities": [100] * 12}

    rows = Dataset.from_list([window("a"), window("a", shift=0.02), window("b")]).with_format("numpy")
    scores = evaluate.song_groove_scores(rows, [0, 1, 2], window_seconds=6.0)
    assert len(scores) == 2  # song b has no other window
    assert all(score.micro_f1 == 1.0 for score in scores)  # 20 ms of microtiming is inside the 50 ms window
    assert evaluate.window_bar_lines({"downbeat_times": [0.5, 2.5]}, 6.0).tolist() == [-1.5, 0.5, 2.5, 4.5, 6.5]
    assert evaluate.window_bar_lines({"downbeat_times": [0.5]}, 6.0) is None


def test_evaluation_can_take_every_nth_window(tmp_path, codes_dir):
    evaluate = load_script("evaluate_accompaniment")
    torch.manual_seed(0)
    DrumAccompanimentModel(DrumAccompanimentModel.config_class(
        backing_codebook_size=8, drum_codebook_size=8, hidden_size=32, encoder_layers=1, decoder_layers=1,
        num_attention_heads=2, intermediate_size=64, max_steps=32)).save_pretrained(tmp_path / "model")
    settings = dict(model=str(tmp_path / "model"), codes_dir=str(codes_dir), split="train", skip_gap=True)
    results = evaluate.main(evaluate.EvaluationArguments(row_stride=3, **settings))
    assert results["drum_hit_f1"]["windows"] + results["drum_hit_f1"]["windows_without_beats"] == 2  # rows 0, 3
    with pytest.raises(ValueError, match="row_stride must be >= 1"):
        evaluate.main(evaluate.EvaluationArguments(row_stride=0, **settings))


def test_other_song_partners_never_pair_a_window_with_its_own_song():
    evaluate = load_script("evaluate_accompaniment")
    songs = ["a", "a", "a", "b", "c", "c", "d"]
    partners = evaluate.other_song_partners(songs)
    assert all(songs[partner] != song for song, partner in zip(songs, partners))
    assert sorted(partners.tolist()) == list(range(len(songs)))
