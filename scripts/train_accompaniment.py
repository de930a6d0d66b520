"""Train the drum accompaniment model on VQ-VAE codes, evaluate on the validation windows.

    python scripts/encode_codes.py --output data/accompaniment_codes          # once, after both VQ-VAEs are trained
    python scripts/train_accompaniment.py --config configs/accompaniment.json \
        --output_dir outputs/accompaniment --export_dir checkpoints/accompaniment [--resume] [--torch_threads 2]

The config holds everything else: ``"model"`` -> ``DrumAccompanimentConfig``, ``"data"`` -> the code dataset
(``codes_dir``, split names), ``"training"`` -> ``TrainingArguments``, ``"early_stopping_patience"``. Training
and evaluation log the two parts of the loss apart: ``ce_loss`` (drum-code cross-entropy, nats per code) and
``hit_loss`` (the hit head); ``eval_loss`` picks the best checkpoint.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset, load_from_disk
from transformers import HfArgumentParser, Trainer, set_seed

from drum_accomp.data.build_utils import command_line
from drum_accomp.models.accompaniment import DrumAccompanimentCollator, DrumAccompanimentConfig, DrumAccompanimentModel
from drum_accomp.training import (
    REPO_ROOT,
    CommonTrainingArguments,
    early_stopping,
    load_settings,
    train_and_export,
    training_arguments,
)

TRAINING_COLUMNS = ("backing_codes", "drum_codes", "beat_positions", "genre", "step_hit_flags",
                    "step_hit_velocities", "step_hit_offsets")


@dataclass
class AccompanimentArguments:
    codes_dir: str = field(default="", metadata={"help": "code dataset (scripts/encode_codes.py); '' = the config's "
                                                         "data.codes_dir (relative paths: cwd, then the repo)"})
    init_from: str = field(default="", metadata={"help": "start from this DrumAccompanimentModel's weights and config "
                                                         "(fine-tuning; a 'model' section in the config "
                                                         "then overrides values of its config)"})


# ----- data --------------------------------------------------------------------------------------------------------


def resolve_path(path: str | os.PathLike) -> Path:
    """``path`` as given when it exists (absolute or from the cwd), else relative to the repository."""
    path = Path(path)
    return path if path.exists() or path.is_absolute() else REPO_ROOT / path


def load_code_split(codes_dir: str | os.PathLike, split: str, max_rows: int = 0, mels: bool = False) -> Dataset:
    """One split of a code dataset, reduced to the training columns (and ``backing_mel`` with ``mels``: a model with
    ``backing_mel_bins``), as numpy rows (memory-mapped)."""
    path = resolve_path(codes_dir)
    if not (path / "dataset_dict.json").is_file():
        raise FileNotFoundError(f"no code dataset at {str(path)!r}; make it with scripts/encode_codes.py or pass "
                                "--codes_dir DIR")
    splits = load_from_disk(str(path))
    if split not in splits:
        raise ValueError(f"split {split!r} is not in {str(path)!r}; it has {list(splits)}")
    rows = splits[split]
    columns = [*TRAINING_COLUMNS, "backing_mel"] if mels else list(TRAINING_COLUMNS)
    missing = [name for name in columns if name not in rows.column_names and name != "genre"]
    if missing:
        raise ValueError(f"{str(path)!r} lacks the columns {missing}; re-run scripts/encode_codes.py")
    if max_rows:
        rows = rows.select(range(min(max_rows, len(rows))))
    return rows.select_columns([name for name in columns if name in rows.column_names]).with_format("numpy")


def check_windows(rows: Dataset, config: DrumAccompanimentConfig) -> int:
    """Codes per window, after checking it against the model's steps and context."""
    num_codes = len(rows[0]["drum_codes"])
    if num_codes % config.codes_per_step or num_codes > config.max_codes:
        raise ValueError(f"windows hold {num_codes} codes; the model needs a multiple of codes_per_step="
                         f"{config.codes_per_step}, at most max_codes={config.max_codes}: fix model.max_steps / "
                         "model.codes_per_step in the config")
    return num_codes


# ----- trainer -----------------------------------------------------------------------------------------------------


LOSS_PARTS = ("ce_loss", "hit_loss", "backing_hit_loss")
"""Parts of ``DrumAccompanimentOutput.loss`` logged on their own."""


class AccompanimentTrainer(Trainer):
    """``Trainer`` that also logs the mean of each loss part (``LOSS_PARTS``) since the last log (train and eval)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._loss_parts: dict[str, list[float]] = {}

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        prefix = "" if model.training else "eval_"
        for name in LOSS_PARTS:
            if outputs.get(name) is not None:
                self._loss_parts.setdefault(prefix + name, []).append(float(outputs[name].detach()))
        return (loss, outputs) if return_outputs else loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs or "eval_loss" in logs:
            prefix = "eval_" if "eval_loss" in logs else ""
            for name in LOSS_PARTS:
                values = self._loss_parts.pop(prefix + name, None)
                if values:
                    logs[prefix + name] = round(float(np.mean(values)), 4)
        super().log(logs, start_time)


# ----- main --------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, Any]:
    common, own = HfArgumentParser((CommonTrainingArguments, AccompanimentArguments)).parse_args_into_dataclasses(
        args=argv)
    settings = load_settings(common.config, required=("training",) if own.init_from else ("model", "training"))
    training_args = training_arguments(settings, common)
    set_seed(training_args.seed)

    # 1. Model.
    if own.init_from:
        # a "model" section overrides config values of the base (e.g. adds the backing hit head; new weights are
        # initialised, and transformers lists them)
        model = DrumAccompanimentModel.from_pretrained(own.init_from, dtype=torch.float32, **settings.get("model", {}))
        config = model.config
    else:
        config = DrumAccompanimentConfig(**settings["model"])
        model = DrumAccompanimentModel(config)

    # 2. Data: code windows (scripts/encode_codes.py), with the backing mels when the model hears them.
    data = settings.get("data", {})
    codes_dir = own.codes_dir or data.get("codes_dir", "data/accompaniment_codes")
    mels = config.backing_mel_bins > 0
    train = load_code_split(codes_dir, data.get("train_split", "train"), common.max_train_rows, mels)
    validation = load_code_split(codes_dir, data.get("eval_split", "validation"), common.max_eval_rows, mels)
    num_codes = check_windows(train, config)
    num_parameters = sum(parameter.numel() for parameter in model.parameters())
    print(f"model: {num_parameters:,} parameters; {config.codes_per_step} codes per step, {config.step_rate} steps/s; "
          f"data: train {len(train)} x {num_codes} codes, validation {len(validation)}", flush=True)

    # 3. Train, evaluate the best checkpoint, export.
    trainer = AccompanimentTrainer(model=model, args=training_args, train_dataset=train, eval_dataset=validation,
                                   data_collator=DrumAccompanimentCollator(config), callbacks=early_stopping(settings))
    start = time.perf_counter()
    summary = train_and_export(trainer, common, settings, command=command_line(__file__, argv), extra={
        "parameters": num_parameters, "codes_dir": str(codes_dir), "train_rows": len(train),
        "validation_rows": len(validation), "codes_per_window": num_codes})
    seconds = time.perf_counter() - start
    codes_trained = trainer.state.global_step * training_args.per_device_train_batch_size * num_codes
    summary["train_codes_per_second"] = round(codes_trained / max(summary["train_seconds"], 1e-9), 1)
    print(f"throughput: {summary['train_codes_per_second']:.0f} codes/s "
          f"({summary['train_codes_per_second'] / config.codes_per_step:.0f} decoder steps/s) over "
          f"{trainer.state.global_step} steps; total {seconds:.0f} s")
    return summary


if __name__ == "__main__":
    main()
