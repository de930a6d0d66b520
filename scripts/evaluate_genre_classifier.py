"""Evaluate a trained drum genre classifier on GMD validation: window- and file-level accuracy, per-class table,
confusion matrix (printed and saved as PNG).

    python scripts/evaluate_genre_classifier.py --model checkpoints/genre_classifier \
        --confusion_png model_cards/genre_classifier_confusion.png
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, HfArgumentParser

import drum_accomp  # noqa: F401  (registers the classifier with the Auto classes)
from drum_accomp.data.balancing import BalancingConfig
from drum_accomp.evaluation.genre import evaluate_logits, gmd_genre_windows, plot_confusion
from drum_accomp.models.genre import collate_words
from drum_accomp.tokenization_drum import DrumTokenizer

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class EvaluationArguments:
    model: str = field(default=str(REPO_ROOT / "checkpoints" / "genre_classifier"))
    config: str = field(default=str(REPO_ROOT / "configs" / "genre_classifier.json"),
                        metadata={"help": "training config (its 'balancing' section decides the labels)"})
    data_dir: str = field(default=str(REPO_ROOT.parent / "shared" / "data" / "groove"))
    split: str = field(default="validation")
    confusion_png: str = field(default="")
    output_json: str = field(default="")
    batch_size: int = field(default=64)
    torch_threads: int = field(default=1)


def main(args: EvaluationArguments | None = None):
    if args is None:
        (args,) = HfArgumentParser(EvaluationArguments).parse_args_into_dataclasses()
    torch.set_num_threads(args.torch_threads)
    with open(args.config, encoding="utf-8") as handle:
        balancing = BalancingConfig(mode="weights", **json.load(handle).get("balancing", {}))
    model = AutoModel.from_pretrained(args.model).float().eval()

    # 1. Windows of the split, labelled as in training; the model's label order is the one that counts.
    start = time.perf_counter()
    data = gmd_genre_windows(args.data_dir, model.config, DrumTokenizer(), splits=("train", args.split),
                             balancing=balancing, window_splits=(args.split,))
    examples = data.examples[args.split]
    unknown = set(data.labels) - set(model.config.label2id)
    if unknown:
        raise ValueError(f"the data has labels {sorted(unknown)} the model does not know; evaluate with the "
                         "training config")
    labels = [model.config.id2label[index] for index in range(model.config.num_labels)]
    remap = np.array([model.config.label2id[name] for name in data.labels])

    # 2. Window logits.
    logits = []
    with torch.no_grad():
        for first in range(0, len(examples), args.batch_size):
            logits.append(model(**collate_words(examples[first:first + args.batch_size])).logits.float().numpy())
    seconds = time.perf_counter() - start
    evaluation = evaluate_logits(np.concatenate(logits), remap[[example["labels"] for example in examples]],
                                 np.array([example["file_index"] for example in examples]), labels)

    # 3. Report.
    majority = evaluation.confusion.sum(axis=1).max()
    print(f"model {args.model} on GMD {args.split} ({seconds:.1f} s)")
    print(evaluation.format())
    print(f"majority-class file accuracy: {majority / evaluation.num_files:.3f}")
    if args.confusion_png:
        print(f"wrote {plot_confusion(evaluation, args.confusion_png, title=f'GMD {args.split}, file level')}")
    if args.output_json:
        Path(args.output_json).write_text(json.dumps({
            "window_accuracy": evaluation.window_accuracy, "file_accuracy": evaluation.file_accuracy,
            "balanced_file_accuracy": evaluation.balanced_file_accuracy, "per_class": evaluation.per_class(),
            "confusion": evaluation.confusion.tolist(), "labels": labels}, indent=2))
    return evaluation


if __name__ == "__main__":
    main()
