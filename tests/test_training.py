"""drum_accomp.training: config loading, command-line overrides, resume, atomic fp16 export, and a 2-process DDP
run of a real training script (torchrun, gloo on CPU)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import Array2D, Dataset, DatasetDict, Features
from safetensors import safe_open
from transformers import AutoModel, EarlyStoppingCallback

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from drum_accomp.midi import split_backing_and_drums
from drum_accomp.models.vqvae import MelVQVAEConfig, MelVQVAEModel
from drum_accomp.render import render_midi
from drum_accomp.training import (
    CommonTrainingArguments,
    early_stopping,
    export_model,
    load_settings,
    resume_checkpoint,
    training_arguments,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
TRAINING = {"num_train_epochs": 3, "per_device_train_batch_size": 4, "eval_strategy": "steps", "eval_steps": 50,
            "save_strategy": "steps", "save_steps": 50, "use_cpu": True, "report_to": "none"}


def write_config(path: Path, settings: dict) -> Path:
    path.write_text(json.dumps(settings), encoding="utf-8")
    return path


@pytest.fixture
def tiny_model():
    torch.manual_seed(0)
    return MelVQVAEModel(MelVQVAEConfig(hidden_size=16, num_res_blocks=1, codebook_size=8, codebook_dim=8))


# ----- load_settings -----------------------------------------------------------------------------------------------


def test_load_settings_drops_comments_at_every_level(tmp_path):
    config = write_config(tmp_path / "c.json", {"_comment": "top", "model": {"_note": "x", "hidden_size": 8},
                                                "training": TRAINING, "early_stopping_patience": 2})
    settings = load_settings(config)
    assert settings["model"] == {"hidden_size": 8} and "_comment" not in settings
    assert settings["early_stopping_patience"] == 2


def test_load_settings_names_the_missing_file_or_section(tmp_path):
    with pytest.raises(FileNotFoundError, match="training config not found.*--config configs/"):
        load_settings(tmp_path / "missing.json")
    config = write_config(tmp_path / "c.json", {"model": {}})
    with pytest.raises(ValueError, match="no 'training' section"):
        load_settings(config)


def test_shipped_vqvae_configs_load_without_their_comments():
    for name, column in (("vqvae_backing", "backing_mel"), ("vqvae_drums", "drums_mel")):
        settings = load_settings(REPO_ROOT / "configs" / f"{name}.json")
        assert settings["data"]["column"] == column
        assert "_mel_stats" not in settings["model"] and "_budget" not in settings["training"]
        assert training_arguments(settings, CommonTrainingArguments(config=name)).metric_for_best_model == "mel_l1"


# ----- TrainingArguments, early stopping, resume -------------------------------------------------------------------


def test_command_line_overrides_win_over_the_config(tmp_path):
    settings = {"model": {}, "training": TRAINING}
    args = CommonTrainingArguments(config="unused", output_dir=str(tmp_path / "run"))
    arguments = training_arguments(settings, args)
    assert arguments.num_train_epochs == 3 and arguments.max_steps == -1 and arguments.eval_steps == 50
    assert arguments.output_dir == str(tmp_path / "run")
    args = CommonTrainingArguments(config="unused", output_dir=str(tmp_path / "run"), max_steps=7,
                                   num_train_epochs=1.5, eval_steps=5)
    arguments = training_arguments(settings, args)
    assert arguments.max_steps == 7 and arguments.num_train_epochs == 1.5
    assert arguments.eval_steps == 5 and arguments.save_steps == 5
    assert settings["training"]["eval_steps"] == 50  # the settings themselves are left alone


def test_early_stopping_follows_the_configured_patience():
    (callback,) = early_stopping({"early_stopping_patience": 3})
    assert isinstance(callback, EarlyStoppingCallback) and callback.early_stopping_patience == 3
    assert early_stopping({}) == []


def test_resume_finds_the_last_checkpoint_only_when_asked(tmp_path):
    for step in (2, 10):
        (tmp_path / f"checkpoint-{step}").mkdir()
    args = CommonTrainingArguments(config="unused", output_dir=str(tmp_path))
    assert resume_checkpoint(args) is None
    args.resume = True
    assert resume_checkpoint(args) == str(tmp_path / "checkpoint-10")
    args.output_dir = str(tmp_path / "missing")
    assert resume_checkpoint(args) is None


# ----- export ------------------------------------------------------------------------------------------------------


def test_export_stores_fp16_and_loads_back_as_float32(tmp_path, tiny_model):
    export = export_model(tiny_model, tmp_path / "export", fp16=True, extra_files={"notes.txt": "hello"})
    with safe_open(str(export / "model.safetensors"), framework="pt") as weights:
        names = list(weights.keys())
        stored = {name: weights.get_tensor(name) for name in names}
    assert {tensor.dtype for tensor in stored.values()} == {torch.float16}
    assert (export / "notes.txt").read_text() == "hello"
    loaded = AutoModel.from_pretrained(export)
    for name, tensor in tiny_model.state_dict().items():
        assert loaded.state_dict()[name].dtype == torch.float32
        torch.testing.assert_close(loaded.state_dict()[name], tensor.half().float(), rtol=0, atol=0)
    payload = sum(tensor.numel() * 2 for tensor in stored.values())
    assert (export / "model.safetensors").stat().st_size < payload + 10_000  # 2 bytes a weight, plus the header


def test_export_without_fp16_keeps_float32(tmp_path, tiny_model):
    export = export_model(tiny_model, tmp_path / "export", fp16=False)
    with safe_open(str(export / "model.safetensors"), framework="pt") as weights:
        names = list(weights.keys())
        assert {weights.get_tensor(name).dtype for name in names} == {torch.float32}


def test_export_replaces_the_previous_one_and_a_failed_export_leaves_it_whole(tmp_path, tiny_model, monkeypatch):
    export_model(tiny_model, tmp_path / "export", extra_files={"version.txt": "1"})
    export_model(tiny_model, tmp_path / "export", extra_files={"version.txt": "2"})
    assert (tmp_path / "export" / "version.txt").read_text() == "2"

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tiny_model, "save_pretrained", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        export_model(tiny_model, tmp_path / "export", extra_files={"version.txt": "3"})
    assert (tmp_path / "export" / "version.txt").read_text() == "2"
    assert AutoModel.from_pretrained(tmp_path / "export") is not None
    assert sorted(path.name for path in tmp_path.iterdir()) == ["export"]  # no staging folder left behind


# ----- DDP -----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_mel_dataset(tmp_path_factory, song_midi_path) -> Path:
    """Real backing/drum mels of the multitrack fixture: 8 train + 2 validation windows of 128 frames."""
    extractor = BeatAlignedMelFeatureExtractor()
    midis = dict(zip(("backing_mel", "drums_mel"), split_backing_and_drums(song_midi_path)))
    # the drums come in at 41.5 s
    mels = {column: extractor.mel_spectrogram(render_midi(midi, duration=56.0))[4200:5480].astype(np.float16)
            for column, midi in midis.items()}
    features = Features({column: Array2D((128, 80), "float16") for column in mels})

    def windows(indices) -> Dataset:
        return Dataset.from_dict({column: [mel[index * 128:(index + 1) * 128] for index in indices]
                                  for column, mel in mels.items()}, features=features)

    path = tmp_path_factory.mktemp("tiny_mels")
    DatasetDict({"train": windows(range(8)), "validation": windows(range(8, 10))}).save_to_disk(str(path))
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_process_ddp_run_of_a_training_script_finishes_with_a_checkpoint(tmp_path, tiny_mel_dataset):
    config = write_config(tmp_path / "tiny.json", {
        "model": {"hidden_size": 16, "num_res_blocks": 1, "codebook_size": 8, "codebook_dim": 8},
        "data": {"dataset": str(tiny_mel_dataset), "column": "drums_mel", "crop_frames": 64},
        "training": {"per_device_train_batch_size": 2, "per_device_eval_batch_size": 2, "eval_strategy": "steps",
                     "eval_steps": 2, "save_strategy": "steps", "save_steps": 2, "logging_steps": 1,
                     "metric_for_best_model": "mel_l1", "greater_is_better": False, "load_best_model_at_end": True,
                     "use_cpu": True, "report_to": "none", "remove_unused_columns": False, "disable_tqdm": True,
                     "dataloader_num_workers": 0, "seed": 0},
    })
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
               str(REPO_ROOT / "scripts" / "train_vqvae.py"), "--config", str(config),
               "--output_dir", str(tmp_path / "run"), "--export_dir", str(tmp_path / "export"),
               "--max_steps", "2", "--torch_threads", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=180,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    state = json.loads((tmp_path / "run" / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    # 2 processes x batch 2 = 4 windows per step: the 8 training windows are one epoch in 2 steps
    assert state["epoch"] == pytest.approx(1.0)
    summary = json.loads((tmp_path / "export" / "training_summary.json").read_text())
    assert np.isfinite(summary["validation"]["eval_mel_l1"])
    assert summary["validation"]["eval_samples_per_second"] > 0
    assert isinstance(AutoModel.from_pretrained(tmp_path / "export"), MelVQVAEModel)
