"""Train a mel VQ-VAE (backing or drums) on the accompaniment dataset, evaluate on its validation split.

    python scripts/train_vqvae.py --config configs/vqvae_drums.json \
        --output_dir outputs/vqvae_drums --export_dir checkpoints/vqvae_drums [--resume] [--torch_threads 2]
    python scripts/train_vqvae.py --config configs/vqvae_drums.json --measure_stats     # mel_mean / mel_std

The config holds everything else: ``"model"`` -> ``MelVQVAEConfig``, ``"data"`` -> which dataset, which mel column
(``backing_mel`` or ``drums_mel``) and the training crop length, ``"training"`` -> ``TrainingArguments``,
``"early_stopping_patience"`` and ``"min_codebook_usage"``. Training sees a random ``crop_frames`` crop of each
window (seeded by seed, epoch and row, so a resumed run sees the same crops); validation sees whole windows.

Validation reports ``mel_l1`` (mean absolute error of the reconstruction in natural-log mel units, the number the
model card quotes; it picks the best checkpoint), ``codebook_usage`` (share of the codes used over the whole
split) and ``perplexity`` (``exp(entropy)`` of the code histogram over the whole split). A final usage below
``min_codebook_usage`` is a collapsed codebook: a loud warning, recorded in ``training_summary.json``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset, DatasetDict, load_from_disk
from transformers import HfArgumentParser, Trainer, default_data_collator, set_seed

from drum_accomp.data.build_utils import command_line, measure_mel_statistics
from drum_accomp.models.vqvae import MelVQVAEConfig, MelVQVAEModel, code_statistics
from drum_accomp.training import (
    REPO_ROOT,
    CommonTrainingArguments,
    early_stopping,
    load_settings,
    train_and_export,
    training_arguments,
)

MEL_COLUMNS = ("backing_mel", "drums_mel")


@dataclass
class VQVAEArguments:
    dataset: str = field(default="", metadata={"help": "dataset folder (load_from_disk); '' = the config's "
                                                       "data.dataset (relative paths: cwd, then the repo)"})
    measure_stats: bool = field(default=False, metadata={"help": "print mean/std of the config's mel column over "
                                                                 "the train split (for model.mel_mean/mel_std), exit"})
    fail_on_codebook_collapse: bool = field(default=False, metadata={"help": "exit with an error (after the "
                                                                             "export) when the codebook collapsed"})


# ----- data --------------------------------------------------------------------------------------------------------


def resolve_dataset_path(path: str | os.PathLike) -> Path:
    """``path`` as given when it exists (absolute or from the cwd), else relative to the repository."""
    path = Path(path)
    if path.exists() or path.is_absolute():
        return path
    return REPO_ROOT / path


def load_mel_splits(source: str | os.PathLike | DatasetDict, column: str) -> DatasetDict:
    """The dataset's splits reduced to one mel column, as torch tensors (memory-mapped, nothing loaded yet)."""
    if column not in MEL_COLUMNS:
        raise ValueError(f"data.column must be one of {MEL_COLUMNS}, got {column!r}")
    if not isinstance(source, DatasetDict):
        path = resolve_dataset_path(source)
        if not (path / "dataset_dict.json").is_file():
            raise FileNotFoundError(f"no dataset at {str(path)!r}; build it with "
                                    "datasets_scripts/build_accompaniment.py or pass --dataset DIR")
        source = load_from_disk(str(path))
    for name, split in source.items():
        if column not in split.column_names:
            raise ValueError(f"split {name!r} has no column {column!r}; columns: {split.column_names}")
    return DatasetDict({name: split.select_columns([column]).with_format("torch") for name, split in source.items()})


class MelWindowDataset(torch.utils.data.Dataset):
    """Rows of one mel column as ``{"mel_features": (num_frames, num_mels)}``; a random crop when training.

    The crop of row ``index`` in epoch ``epoch`` starts at a position drawn from ``(seed, epoch, index)``: the same
    on every process and after a resume (the Trainer calls :meth:`set_epoch`).
    """

    def __init__(self, rows: Dataset, column: str, crop_frames: int = 0, seed: int = 0):
        self.rows = rows
        self.column = column
        self.crop_frames = int(crop_frames)
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        mel_features = self.rows[index][self.column].float()  # (num_frames, num_mels), stored as float16
        num_frames = mel_features.shape[0]
        if 0 < self.crop_frames < num_frames:
            start = np.random.default_rng((self.seed, self.epoch, index)).integers(num_frames - self.crop_frames + 1)
            mel_features = mel_features[start:start + self.crop_frames]
        return {"mel_features": mel_features}


def check_window_lengths(splits: DatasetDict, column: str, crop_frames: int, config: MelVQVAEConfig) -> int:
    """The stored window length, after checking it and the crop against the model's ``downsample_factor``."""
    num_frames = int(splits["validation"][0][column].shape[0])
    factor = config.downsample_factor
    if num_frames % factor:
        raise ValueError(f"validation windows hold {num_frames} frames, not a multiple of downsample_factor={factor}")
    if crop_frames % factor or not 0 < crop_frames <= num_frames:
        raise ValueError(f"data.crop_frames={crop_frames} must be a positive multiple of downsample_factor={factor} "
                         f"and at most the window length {num_frames}")
    return num_frames


# ----- metrics -----------------------------------------------------------------------------------------------------


class MelVQVAETrainer(Trainer):
    """``Trainer`` whose evaluation keeps each window's codes and mel L1, not its reconstruction.

    The split-level metrics need only those, so evaluating a whole split stays small in memory (and in DDP
    traffic). A VQ-VAE has no labels (its target is its input), but the Trainer calls ``compute_metrics`` only when
    there are some: a zero placeholder per window stands in.
    """

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad():
            outputs = model(**inputs)
        loss = outputs.loss.detach()
        if prediction_loss_only:
            return loss, None, None
        return loss, (outputs.codes, outputs.mel_l1), torch.zeros_like(outputs.mel_l1)


def split_metrics(codes: np.ndarray | torch.Tensor, mel_l1: np.ndarray | torch.Tensor,
                  codebook_size: int) -> dict[str, float]:
    """Validation metrics over a whole split: ``mel_l1`` (mean of the per-window L1; the windows have equal
    length), ``codebook_usage`` and ``perplexity`` of all the split's codes."""
    perplexity, usage = code_statistics(torch.as_tensor(np.asarray(codes)), codebook_size)
    return {"mel_l1": float(np.mean(mel_l1)), "codebook_usage": float(usage), "perplexity": float(perplexity)}


def metrics_function(codebook_size: int):
    def compute_metrics(prediction) -> dict[str, float]:
        codes, mel_l1 = prediction.predictions  # (num_windows, num_codes), (num_windows,)
        return split_metrics(codes, mel_l1, codebook_size)

    return compute_metrics


def codebook_checks(codebook_size: int, min_usage: float, fail: bool = False):
    """``train_and_export`` check: warn loudly, and record it, when the final validation usage is below
    ``min_usage``."""

    def check(summary: dict[str, Any]) -> dict[str, Any]:
        usage = summary["validation"].get("eval_codebook_usage")
        if usage is None or usage >= min_usage:
            return {"codebook_collapsed": False}
        message = (f"codebook collapse: only {usage:.0%} of the {codebook_size} codes are used on the validation "
                   f"split (< min_codebook_usage {min_usage:.0%}); lower the learning rate or commitment_weight, "
                   "raise dead_code_threshold, or check the mel_mean/mel_std normalisation")
        print("\n" + "!" * 100 + f"\nWARNING: {message}\n" + "!" * 100 + "\n", file=sys.stderr, flush=True)
        return {"codebook_collapsed": True, "warnings": [message], "fail_on_collapse": fail}

    return check


# ----- main --------------------------------------------------------------------------------------------------------


def main(common: CommonTrainingArguments | None = None, args: VQVAEArguments | None = None,
         dataset: DatasetDict | None = None) -> dict[str, Any]:
    """Train and export; ``dataset`` (a ``DatasetDict``) replaces the config's data.dataset (tests)."""
    command = None
    if common is None:
        common, args = HfArgumentParser((CommonTrainingArguments, VQVAEArguments)).parse_args_into_dataclasses()
        command = command_line(__file__)
    args = args or VQVAEArguments()
    if common.torch_threads > 0:
        torch.set_num_threads(common.torch_threads)
    settings = load_settings(common.config)
    data = settings.get("data", {})
    column, crop_frames = data.get("column", ""), int(data.get("crop_frames", 0))
    splits = load_mel_splits(dataset if dataset is not None else args.dataset or data.get("dataset", ""), column)

    if args.measure_stats:
        start = time.perf_counter()
        stats = measure_mel_statistics(splits["train"], column)
        stats["seconds"] = round(time.perf_counter() - start, 1)
        print(json.dumps(stats, indent=2))
        return stats

    # 1. Data: random crops of the training windows, whole validation windows.
    training_args = training_arguments(settings, common)
    train_rows, validation_rows = splits["train"], splits["validation"]
    if common.max_train_rows:
        train_rows = train_rows.select(range(min(common.max_train_rows, len(train_rows))))
    if common.max_eval_rows:
        validation_rows = validation_rows.select(range(min(common.max_eval_rows, len(validation_rows))))

    # 2. Model (seeded before it is built: the Trainer seeds only itself).
    set_seed(training_args.seed)
    config = MelVQVAEConfig(**settings["model"])
    model = MelVQVAEModel(config)
    window_frames = check_window_lengths(splits, column, crop_frames, config)
    print(f"{column}: train {len(train_rows)} windows (crops of {crop_frames} of {window_frames} frames), "
          f"validation {len(validation_rows)} whole windows; model {sum(p.numel() for p in model.parameters()):,} "
          f"parameters, {config.codebook_size} codes")

    # 3. Trainer: validation mel L1 picks the best checkpoint; codebook usage and perplexity over the whole split.
    trainer = MelVQVAETrainer(
        model=model, args=training_args, data_collator=default_data_collator,
        train_dataset=MelWindowDataset(train_rows, column, crop_frames, seed=training_args.seed),
        eval_dataset=MelWindowDataset(validation_rows, column),
        compute_metrics=metrics_function(config.codebook_size), callbacks=early_stopping(settings),
    )

    # 4. Train, evaluate the best model, export it with throughput and the codebook check in its summary.
    codebook_check = codebook_checks(config.codebook_size, float(settings.get("min_codebook_usage", 0.25)),
                                     args.fail_on_codebook_collapse)

    def checks(summary: dict[str, Any]) -> dict[str, Any]:
        found = codebook_check(summary)
        if summary.get("train_samples_per_second"):
            frames_per_second = summary["train_samples_per_second"] * crop_frames
            found["train_frames_per_second"] = round(frames_per_second, 1)
            found["minutes_per_epoch"] = round(len(train_rows) * crop_frames / frames_per_second / 60, 2)
            print(f"throughput: {frames_per_second:.0f} frames/s, {found['minutes_per_epoch']:.1f} min per epoch "
                  f"({torch.get_num_threads()} torch threads per process)")
        return found

    summary = train_and_export(
        trainer, common, settings, command=command, checks=checks,
        extra={"column": column, "crop_frames": crop_frames, "window_frames": window_frames,
               "train_windows": len(train_rows), "validation_windows": len(validation_rows),
               "torch_threads": torch.get_num_threads()},
    )
    if summary["codebook_collapsed"] and args.fail_on_codebook_collapse:
        raise SystemExit(f"codebook collapsed: {summary['warnings'][0]}")
    return summary


if __name__ == "__main__":
    main()
