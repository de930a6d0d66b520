"""scripts/train_vqvae.py and scripts/evaluate_vqvae.py: real 2-step runs, resume, fp16 export, metrics, crops.

The data is a tiny ``DatasetDict`` of real mels (the multitrack fixture rendered apart into backing and drums),
saved to disk like ``data/accompaniment``, so the tests need no built dataset.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import load_script
import torch
from datasets import Array2D, Dataset, DatasetDict, Features, load_from_disk
from safetensors import safe_open
from transformers import AutoModel

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from drum_accomp.midi import split_backing_and_drums
from drum_accomp.models.vqvae import MelVQVAEModel
from drum_accomp.render import render_midi
from drum_accomp.training import CommonTrainingArguments

REPO_ROOT = Path(__file__).resolve().parents[2]
WINDOW_FRAMES = 256


@pytest.fixture(scope="module")
def train_script():
    return load_script("train_vqvae")


@pytest.fixture(scope="module")
def evaluate_script():
    return load_script("evaluate_vqvae")


@pytest.fixture(scope="module")
def tiny_dataset_dir(tmp_path_factory, song_midi_path) -> Path:
    """8 train + 3 validation windows of 256 frames of real backing and drum mels, saved with save_to_disk."""
    backing_midi, drums_midi = split_backing_and_drums(song_midi_path)
    extractor = BeatAlignedMelFeatureExtractor()
    first_frame = 4200  # the song's drums come in at 41.5 s
    mels = {column: extractor.mel_spectrogram(render_midi(midi, duration=72.0))[first_frame:].astype(np.float16)
            for column, midi in (("backing_mel", backing_midi), ("drums_mel", drums_midi))}
    assert all(len(mel) >= 11 * WINDOW_FRAMES for mel in mels.values())
    features = Features({column: Array2D((WINDOW_FRAMES, 80), "float16") for column in mels})

    def windows(first: int, count: int) -> Dataset:
        starts = [(first + index) * WINDOW_FRAMES for index in range(count)]
        return Dataset.from_dict({column: [mel[start:start + WINDOW_FRAMES] for start in starts]
                                  for column, mel in mels.items()}, features=features)

    path = tmp_path_factory.mktemp("tiny_accompaniment")
    DatasetDict({"train": windows(0, 8), "validation": windows(8, 3)}).save_to_disk(str(path))
    return path


def tiny_config(path: Path, dataset_dir: Path, column: str = "drums_mel") -> Path:
    settings = {
        "_comment": "tiny test config",
        "model": {"hidden_size": 16, "num_res_blocks": 1, "codebook_size": 8, "codebook_dim": 8,
                  "mel_mean": -7.0, "mel_std": 3.5},
        "data": {"dataset": str(dataset_dir), "column": column, "crop_frames": 128},
        "training": {"per_device_train_batch_size": 4, "per_device_eval_batch_size": 2, "learning_rate": 1e-3,
                     "lr_scheduler_type": "cosine", "eval_strategy": "steps", "eval_steps": 2,
                     "save_strategy": "steps", "save_steps": 2, "save_total_limit": 2,
                     "load_best_model_at_end": True, "metric_for_best_model": "mel_l1", "greater_is_better": False,
                     "logging_steps": 1, "seed": 0, "use_cpu": True, "report_to": "none",
                     "remove_unused_columns": False, "dataloader_num_workers": 0, "disable_tqdm": True},
        "early_stopping_patience": 3,
        "min_codebook_usage": 0.25,
    }
    path.write_text(json.dumps(settings), encoding="utf-8")
    return path


def test_two_steps_then_resume_to_four_and_export_fp16(train_script, tiny_dataset_dir, tmp_path):
    config = tiny_config(tmp_path / "tiny.json", tiny_dataset_dir)
    common = CommonTrainingArguments(config=str(config), output_dir=str(tmp_path / "run"),
                                     export_dir=str(tmp_path / "export"), max_steps=2, torch_threads=1)
    summary = train_script.main(common, train_script.VQVAEArguments())
    assert summary["global_step"] == 2 and (tmp_path / "run" / "checkpoint-2").is_dir()
    validation = summary["validation"]
    assert np.isfinite(validation["eval_mel_l1"]) and validation["eval_mel_l1"] > 0
    assert 0 < validation["eval_codebook_usage"] <= 1 and 1 <= validation["eval_perplexity"] <= 8
    assert summary["column"] == "drums_mel" and summary["validation_windows"] == 3
    assert "codebook_collapsed" in summary and summary["train_frames_per_second"] > 0

    common.max_steps, common.resume = 4, True
    resumed = train_script.main(common, train_script.VQVAEArguments())
    assert resumed["global_step"] == 4 and (tmp_path / "run" / "checkpoint-4").is_dir()
    state = json.loads((tmp_path / "run" / "checkpoint-4" / "trainer_state.json").read_text())
    assert [row["step"] for row in state["log_history"] if "loss" in row] == [1, 2, 3, 4]  # continued, not restarted

    export = tmp_path / "export"
    model = AutoModel.from_pretrained(export)
    assert isinstance(model, MelVQVAEModel) and model.config.codebook_size == 8
    with safe_open(str(export / "model.safetensors"), framework="pt") as weights:
        names = list(weights.keys())
        dtypes = {weights.get_tensor(name).dtype for name in names}
    assert torch.float16 in dtypes and torch.float32 not in dtypes
    exported = json.loads((export / "training_summary.json").read_text())
    assert exported["global_step"] == 4 and exported["settings"]["data"]["column"] == "drums_mel"


def test_evaluate_script_scores_the_export_like_the_trainer(train_script, evaluate_script, tiny_dataset_dir,
                                                            tmp_path):
    config = tiny_config(tmp_path / "tiny.json", tiny_dataset_dir, column="backing_mel")
    common = CommonTrainingArguments(config=str(config), output_dir=str(tmp_path / "run"),
                                     export_dir=str(tmp_path / "export"), max_steps=2, torch_threads=1,
                                     export_fp16=False)
    summary = train_script.main(common, train_script.VQVAEArguments())
    report = evaluate_script.main(evaluate_script.EvaluationArguments(
        model=str(tmp_path / "export"), split="validation", output_json=str(tmp_path / "eval.json")))
    assert report["column"] == "backing_mel"  # from the export's training_summary.json
    result = report["results"]["validation"]
    assert result["windows"] == 3 and result["frames"] == 3 * WINDOW_FRAMES
    assert result["mel_l1"] == pytest.approx(summary["validation"]["eval_mel_l1"], rel=1e-3)
    assert result["codebook_usage"] == pytest.approx(summary["validation"]["eval_codebook_usage"], abs=1e-4)
    assert json.loads((tmp_path / "eval.json").read_text())["results"]["validation"]["mel_l1"] == result["mel_l1"]


def test_training_crops_are_seeded_by_epoch_and_row_and_validation_sees_whole_windows(train_script,
                                                                                      tiny_dataset_dir):
    splits = train_script.load_mel_splits(str(tiny_dataset_dir), "drums_mel")
    crops = train_script.MelWindowDataset(splits["train"], "drums_mel", crop_frames=128, seed=0)
    first = crops[3]["mel_features"]
    assert first.shape == (128, 80) and first.dtype == torch.float32
    assert torch.equal(crops[3]["mel_features"], first)  # same seed, epoch and row: same crop
    starts = set()
    for epoch in range(6):
        crops.set_epoch(epoch)
        crop = crops[3]["mel_features"].numpy()
        window = splits["train"][3]["drums_mel"].numpy()
        starts.add(next(start for start in range(WINDOW_FRAMES - 128 + 1)
                        if np.array_equal(window[start:start + 128], crop)))
    assert len(starts) > 1  # a new crop each epoch
    whole = train_script.MelWindowDataset(splits["validation"], "drums_mel")
    assert whole[0]["mel_features"].shape == (WINDOW_FRAMES, 80)


def test_measure_stats_gives_the_mean_and_std_of_every_value(train_script, tiny_dataset_dir):
    splits = train_script.load_mel_splits(str(tiny_dataset_dir), "drums_mel")
    stats = train_script.measure_mel_statistics(splits["train"], "drums_mel", batch_size=3)
    train = load_from_disk(str(tiny_dataset_dir))["train"].with_format("numpy")
    values = np.stack(train["drums_mel"]).astype(np.float64)
    assert stats["rows"] == 8 and stats["values"] == values.size
    assert stats["mel_mean"] == pytest.approx(values.mean(), abs=1e-3)
    assert stats["mel_std"] == pytest.approx(values.std(), abs=1e-3)


def test_collapsed_codebook_is_reported_loudly(train_script, capsys):
    check = train_script.codebook_checks(codebook_size=64, min_usage=0.25)
    assert check({"validation": {"eval_codebook_usage": 0.5}}) == {"codebook_collapsed": False}
    found = check({"validation": {"eval_codebook_usage": 0.1}})
    assert found["codebook_collapsed"] and "10% of the 64 codes" in found["warnings"][0]
    assert "WARNING: codebook collapse" in capsys.readouterr().err


def test_bad_data_settings_raise_clear_errors(train_script, tiny_dataset_dir, tmp_path):
    with pytest.raises(ValueError, match="data.column must be one of"):
        train_script.load_mel_splits(str(tiny_dataset_dir), "mix_mel")
    with pytest.raises(FileNotFoundError, match="no dataset at"):
        train_script.load_mel_splits(str(tmp_path / "missing"), "drums_mel")
    config = tiny_config(tmp_path / "tiny.json", tiny_dataset_dir)
    settings = json.loads(config.read_text())
    settings["data"]["crop_frames"] = 130  # not a multiple of downsample_factor 4
    config.write_text(json.dumps(settings))
    common = CommonTrainingArguments(config=str(config), output_dir=str(tmp_path / "run"), max_steps=1,
                                     torch_threads=1)
    with pytest.raises(ValueError, match="crop_frames=130 must be a positive multiple"):
        train_script.main(common, train_script.VQVAEArguments())
