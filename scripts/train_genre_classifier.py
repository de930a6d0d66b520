"""Train the drum genre classifier on GMD train windows, evaluate on GMD validation each epoch.

    python scripts/train_genre_classifier.py --config configs/genre_classifier.json \
        --output_dir outputs/genre_classifier --export_dir checkpoints/genre_classifier [--resume]

Hyper-parameters live in the JSON config; command-line flags only say where things are and how long to run.
The class imbalance is handled with a class-weighted cross-entropy: each genre's weight is the mean of
``balancing.sampling_weights`` over its windows (``count ** -weight_power``, mean 1 over the windows).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import EarlyStoppingCallback, HfArgumentParser, Trainer, TrainingArguments
from transformers.trainer_utils import get_last_checkpoint

from drum_accomp.data.balancing import BalancingConfig, sampling_weights
from drum_accomp.evaluation.genre import evaluate_logits, gmd_genre_windows, oversample_short_files
from drum_accomp.models.genre import DrumGenreClassifier, DrumGenreClassifierConfig, collate_words
from drum_accomp.tokenization_drum import DrumTokenizer

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class ScriptArguments:
    config: str = field(default=str(REPO_ROOT / "configs" / "genre_classifier.json"),
                        metadata={"help": "JSON with 'model', 'balancing', 'training' sections"})
    data_dir: str = field(default=str(REPO_ROOT.parent / "shared" / "data" / "groove"),
                          metadata={"help": "GMD-style folder with info.csv"})
    output_dir: str = field(default="outputs/genre_classifier", metadata={"help": "Trainer checkpoints"})
    export_dir: str = field(default="", metadata={"help": "where to save the best model (save_pretrained)"})
    resume: bool = field(default=False, metadata={"help": "resume from the last checkpoint in output_dir"})
    max_files: int = field(default=0, metadata={"help": "use only the first N files per split (0 = all)"})
    max_steps: int = field(default=-1, metadata={"help": "override the step budget (tests); -1 = epochs"})
    num_train_epochs: float = field(default=0, metadata={"help": "override the config's epochs (0 = config)"})
    encoder_type: str = field(default="", metadata={"help": "override model.encoder_type (transformer|conv)"})
    num_tempo_bins: int = field(default=-1, metadata={"help": "override model.num_tempo_bins (0 = no tempo)"})
    min_windows_per_file: int = field(default=-1, metadata={"help": "override min_windows_per_file"})
    torch_threads: int = field(default=1, metadata={"help": "torch CPU threads (the machine is shared)"})


def class_weights(labels: np.ndarray, num_labels: int, balancing: BalancingConfig) -> torch.Tensor:
    """Per-class loss weights: the mean ``sampling_weights`` of each class's windows (1 for absent classes)."""
    example_weights = sampling_weights([str(label) for label in labels], balancing)
    weights = np.ones(num_labels)
    for label in range(num_labels):
        members = labels == label
        if members.any():
            weights[label] = example_weights[members].mean()
    return torch.tensor(weights / weights.mean(), dtype=torch.float32)


def main(args: ScriptArguments | None = None) -> dict:
    if args is None:
        (args,) = HfArgumentParser(ScriptArguments).parse_args_into_dataclasses()
    torch.set_num_threads(args.torch_threads)
    with open(args.config, encoding="utf-8") as handle:
        settings = json.load(handle)
    model_settings = dict(settings["model"])
    if args.encoder_type:
        model_settings["encoder_type"] = args.encoder_type
    if args.num_tempo_bins >= 0:
        model_settings["num_tempo_bins"] = args.num_tempo_bins
    if args.min_windows_per_file >= 0:
        settings["min_windows_per_file"] = args.min_windows_per_file
    balancing = BalancingConfig(mode="weights", **settings.get("balancing", {}))

    # 1. Data: labelled bar windows of GMD train and validation.
    tokenizer = DrumTokenizer()
    window_config = DrumGenreClassifierConfig(field_sizes=list(tokenizer.field_sizes),
                                              ticks_per_beat=tokenizer.ticks_per_beat, **model_settings)
    start = time.perf_counter()
    data = gmd_genre_windows(args.data_dir, window_config, tokenizer, balancing=balancing,
                             max_files=args.max_files or None)
    train, validation = data.examples["train"], data.examples["validation"]
    train = oversample_short_files(train, settings.get("min_windows_per_file", 0))
    print(f"windows: train {len(train)} after oversampling short files ({len(data.records['train'])} files), validation {len(validation)} "
          f"({len(data.records['validation'])} files), labels {data.labels}, built in "
          f"{time.perf_counter() - start:.1f} s")

    # 2. Model.
    config = DrumGenreClassifierConfig(field_sizes=list(tokenizer.field_sizes), ticks_per_beat=tokenizer.ticks_per_beat,
                                       id2label=data.id2label, label2id=data.label2id, **model_settings)
    model = DrumGenreClassifier(config)
    print(f"model: {config.encoder_type}, {sum(p.numel() for p in model.parameters()):,} parameters")

    # 3. Class-weighted loss and file-level metrics.
    weights = class_weights(np.array([example["labels"] for example in train]), config.num_labels, balancing)

    def weighted_loss(outputs, labels, num_items_in_batch=None):
        return torch.nn.functional.cross_entropy(outputs.logits.float(), labels, weight=weights)

    validation_files = np.array([example["file_index"] for example in validation])

    def compute_metrics(prediction):
        logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
        evaluation = evaluate_logits(logits, prediction.label_ids, validation_files, data.labels)
        return {"accuracy": evaluation.window_accuracy, "file_accuracy": evaluation.file_accuracy,
                "balanced_file_accuracy": evaluation.balanced_file_accuracy}

    # 4. Trainer.
    training = dict(settings["training"])
    if args.max_steps > 0:
        training["max_steps"] = args.max_steps
    if args.num_train_epochs:
        training["num_train_epochs"] = args.num_train_epochs
    training_args = TrainingArguments(output_dir=args.output_dir, **training)
    trainer = Trainer(
        model=model, args=training_args, train_dataset=train, eval_dataset=validation, data_collator=collate_words,
        compute_loss_func=weighted_loss, compute_metrics=compute_metrics,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=settings.get("early_stopping_patience", 3))],
    )
    checkpoint = get_last_checkpoint(args.output_dir) if args.resume and os.path.isdir(args.output_dir) else None
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    train_seconds = time.perf_counter() - start
    metrics = trainer.evaluate()
    num_words = sum(len(example["input_words"]) for example in train)
    print(f"trained {result.global_step} steps in {train_seconds:.0f} s "
          f"({num_words * result.metrics.get('epoch', 0) / max(train_seconds, 1e-9):.0f} words/s)")
    print("validation: " + ", ".join(f"{key} {value:.4f}" for key, value in metrics.items()
                                      if isinstance(value, float)))

    # 5. Export the best model (safetensors).
    if args.export_dir:
        trainer.model.save_pretrained(args.export_dir)
        print(f"saved {args.export_dir}")
    return {"metrics": metrics, "train_seconds": train_seconds, "global_step": result.global_step}


if __name__ == "__main__":
    main()
