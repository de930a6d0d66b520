"""What every ``scripts/train_*.py`` shares: command-line arguments, the JSON config, resuming, early stopping,
the fp16 safetensors export and the training-log summary.

A training script is then: its own data + model + metrics, and

    (common, own) = HfArgumentParser((CommonTrainingArguments, OwnArguments)).parse_args_into_dataclasses()
    settings = load_settings(common.config)                       # {"model": ..., "training": ..., ...}
    trainer = Trainer(model=..., args=training_arguments(settings, common), callbacks=early_stopping(settings), ...)
    summary = train_and_export(trainer, common, settings, extra={...})

Hyper-parameters live in the JSON config (``configs/*.json``: ``"model"`` -> the model's ``PretrainedConfig``,
``"training"`` -> ``transformers.TrainingArguments``, ``"early_stopping_patience"``, plus script-specific
sections). Command-line flags only say where things are and how long to run (tests shorten runs with
``--max_steps``).

Multi-process training is the Trainer's own: ``torchrun --nproc_per_node 2 scripts/train_x.py ...`` runs DDP over
gloo on CPU (``tests/test_training.py`` checks it with 2 processes).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import EarlyStoppingCallback, PreTrainedModel, Trainer, TrainingArguments
from transformers.trainer_utils import get_last_checkpoint

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CommonTrainingArguments:
    """Flags every training script takes (where things are, how long to run); the rest is in ``--config``."""

    config: str = field(metadata={"help": "JSON config: 'model', 'training' (TrainingArguments) and script sections"})
    output_dir: str = field(default="outputs/run", metadata={"help": "Trainer checkpoints and logs"})
    export_dir: str = field(default="", metadata={"help": "where the best model is saved (safetensors); '' = not"})
    export_fp16: bool = field(default=True, metadata={"help": "store exported weights in float16 (halves the size)"})
    resume: bool = field(default=False, metadata={"help": "resume from the last checkpoint in output_dir"})
    max_steps: int = field(default=-1, metadata={"help": "override the step budget (tests, quick runs); -1 = config"})
    num_train_epochs: float = field(default=0, metadata={"help": "override the config's epochs (0 = config)"})
    max_train_rows: int = field(default=0, metadata={"help": "use only the first N training rows (0 = all)"})
    max_eval_rows: int = field(default=0, metadata={"help": "use only the first N validation rows (0 = all)"})
    eval_steps: int = field(default=0, metadata={"help": "override the config's eval/save interval (0 = config)"})
    torch_threads: int = field(default=0, metadata={"help": "torch CPU threads per process (0 = torch's default)"})


def load_settings(path: str | os.PathLike, required: tuple[str, ...] = ("model", "training")) -> dict[str, Any]:
    """The JSON config as a dict; keys starting with ``_`` (comments) are dropped at every level; each of the
    ``required`` sections must be there."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training config not found: {str(path)!r}; pass --config configs/<name>.json")
    with path.open(encoding="utf-8") as handle:
        settings = json.load(handle)

    def strip(value):
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items() if not key.startswith("_")}
        return value

    settings = strip(settings)
    for section in required:
        if section not in settings:
            raise ValueError(f"{str(path)!r} has no {section!r} section; see configs/ for examples")
    return settings


def training_arguments(settings: dict[str, Any], args: CommonTrainingArguments) -> TrainingArguments:
    """``TrainingArguments`` from the config's ``"training"`` section with the command-line overrides applied."""
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    training = dict(settings["training"])
    if args.max_steps > 0:
        training["max_steps"] = args.max_steps
    if args.num_train_epochs:
        training["num_train_epochs"] = args.num_train_epochs
    if args.eval_steps > 0:
        for key in ("eval_steps", "save_steps"):
            if key in training:
                training[key] = args.eval_steps
    return TrainingArguments(output_dir=args.output_dir, **training)


def early_stopping(settings: dict[str, Any]) -> list:
    """``[EarlyStoppingCallback]`` with the config's ``early_stopping_patience`` (evaluations without progress)."""
    patience = settings.get("early_stopping_patience")
    return [EarlyStoppingCallback(early_stopping_patience=int(patience))] if patience else []


def resume_checkpoint(args: CommonTrainingArguments) -> str | None:
    """The last ``checkpoint-*`` folder in ``output_dir`` when ``--resume`` is given (a killed run goes on)."""
    if not args.resume or not os.path.isdir(args.output_dir):
        return None
    return get_last_checkpoint(args.output_dir)


def export_model(model: PreTrainedModel, export_dir: str | os.PathLike, fp16: bool = True,
                 extra_files: dict[str, str] | None = None) -> Path:
    """``save_pretrained`` (safetensors) into ``export_dir`` atomically: written beside it, then renamed over it.

    ``fp16`` stores floating-point weights in float16 (``config.dtype`` records it; ``from_pretrained`` gives
    float32 back unless asked otherwise). ``extra_files`` maps file names to text written beside the weights
    (training summary, command). A kill mid-export leaves the previous export whole.
    """
    export_dir = Path(export_dir)
    export_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{export_dir.name}.", dir=export_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; an export is a normal folder
    try:
        if fp16:
            state_dict = {name: (tensor.half() if tensor.is_floating_point() else tensor)
                          for name, tensor in model.state_dict().items()}
            model.save_pretrained(staging, state_dict=state_dict)
        else:
            model.save_pretrained(staging)
        for name, text in (extra_files or {}).items():
            (staging / name).write_text(text, encoding="utf-8")
        previous = export_dir.with_name(f".{export_dir.name}.previous")
        if previous.exists():
            shutil.rmtree(previous)
        if export_dir.exists():
            export_dir.rename(previous)
        staging.rename(export_dir)
        if previous.exists():
            shutil.rmtree(previous)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return export_dir


def log_summary(trainer: Trainer, every: int = 1) -> list[dict[str, Any]]:
    """The Trainer's log history reduced to evaluation rows (and every ``every``-th training row)."""
    rows = []
    train_rows = 0
    for row in trainer.state.log_history:
        if any(key.startswith("eval_") for key in row):
            rows.append({key: value for key, value in row.items() if not key.endswith("_per_second")})
        elif "loss" in row:
            train_rows += 1
            if train_rows % every == 0:
                rows.append({key: row[key] for key in ("step", "epoch", "loss", "learning_rate") if key in row})
    return rows


def train_and_export(trainer: Trainer, args: CommonTrainingArguments, settings: dict[str, Any],
                     extra: dict[str, Any] | None = None, command: str | None = None,
                     checks: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Train (resuming if asked), evaluate the best model, export it with ``training_summary.json``.

    Returns the summary: final validation metrics, steps, seconds, the log summary, the config and ``extra``.
    ``checks`` is called with the summary before the export; the entries it returns (e.g. warnings about a
    collapsed codebook) are added to it, so the exported ``training_summary.json`` records them.
    Only the main process exports (DDP runs call this from every process).
    """
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume_checkpoint(args))
    train_seconds = time.perf_counter() - start
    metrics = trainer.evaluate()
    summary = {
        "command": command or "",
        "global_step": result.global_step,
        "epoch": result.metrics.get("epoch"),
        "train_seconds": round(train_seconds, 1),
        "train_samples_per_second": result.metrics.get("train_samples_per_second"),
        "validation": {key: value for key, value in metrics.items() if isinstance(value, (int, float))},
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "settings": settings,
        **(extra or {}),
        "log": log_summary(trainer, every=max(1, len(trainer.state.log_history) // 200)),
    }
    if checks is not None:
        summary.update(checks(summary))
    print(f"trained {result.global_step} steps in {train_seconds:.0f} s; validation: "
          + ", ".join(f"{key} {value:.4f}" for key, value in summary["validation"].items() if isinstance(value, float)))
    if args.export_dir and trainer.is_world_process_zero():
        export_model(trainer.model, args.export_dir, fp16=args.export_fp16,
                     extra_files={"training_summary.json": json.dumps(summary, indent=2, default=str) + "\n"})
        print(f"saved {args.export_dir}")
    return summary
