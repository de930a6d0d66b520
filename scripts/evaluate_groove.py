"""Evaluate a trained groove model on GMD validation files: continuation F1, copying, style-only genre accuracy.

    python scripts/evaluate_groove.py --model checkpoints/groove --split validation [--output_json FILE]

What is measured and how: ``drum_accomp.evaluation.groove_eval`` (continuations greedy / sampled / consensus, with
the model's prompt adaptation unless ``--adaptation_steps`` says otherwise, against the real next bars, next to the
replay-the-last-2-bars and prompt-bar-majority baselines and the best-prompt-bar ceiling; copy share; genre accuracy
of style-only generations).
Prints a table and writes everything as JSON (``--output_json``, default ``<model>/evaluation_<split>.json``).
``scripts/evaluate.py`` runs the same evaluation inside the full report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import HfArgumentParser

from drum_accomp.data.build_utils import write_json_atomic
from drum_accomp.evaluation.groove_eval import (GrooveEvaluationConfig, evaluate_groove, format_table,
                                                load_groove_model, split_records)

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(kw_only=True)
class EvaluateGrooveArguments(GrooveEvaluationConfig):
    model: str = field(metadata={"help": "exported groove model folder (config, weights, tokenizer)"})
    split: str = field(default="validation", metadata={"help": "GMD split whose files give the prompts"})
    groove_dir: str = field(default=str(REPO_ROOT.parent / "shared" / "data" / "groove"),
                            metadata={"help": "GMD-style folder with info.csv"})
    classifier: str = field(default=str(REPO_ROOT / "checkpoints" / "genre_classifier"),
                            metadata={"help": "genre classifier for the style-only accuracy ('' = skip)"})
    max_files: int = field(default=0, metadata={"help": "only the first N files of the split (0 = all)"})
    output_json: str = field(default="", metadata={"help": "where to write the JSON ('' = "
                                                           "<model>/evaluation_<split>.json)"})
    torch_threads: int = field(default=1, metadata={"help": "torch CPU threads (the machine is shared)"})


def main(argv: list[str] | None = None) -> dict:
    (args,) = HfArgumentParser(EvaluateGrooveArguments).parse_args_into_dataclasses(argv)
    torch.set_num_threads(args.torch_threads)
    model, tokenizer = load_groove_model(args.model)
    records = split_records(args.groove_dir, args.split, args.max_files)
    evaluation = evaluate_groove(model, tokenizer, records, args, classifier=args.classifier)
    result = evaluation.summary(args.model, args.split)
    print(format_table(result))
    output = Path(args.output_json or Path(args.model) / f"evaluation_{args.split}.json")
    write_json_atomic(output, result)
    print(f"wrote {output}")
    return result


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
