"""Evaluate a trained mel VQ-VAE: reconstruction mel L1, codebook usage and perplexity over whole splits.

    python scripts/evaluate_vqvae.py --model checkpoints/vqvae_drums --split validation
    python scripts/evaluate_vqvae.py --model checkpoints/vqvae_backing --split test,test_heldout_soundfont \
        --output_json outputs/vqvae_backing_test.json

The README / model-card numbers come from here. ``mel_l1`` is the mean absolute error between each whole window's
log-mel and its reconstruction through the codebook, in natural-log units (the log floor is ``ln(1e-5) = -11.5``);
``codebook_usage`` is the share of the codes used at least once over the whole split, ``perplexity`` the
``exp(entropy)`` of the split's code histogram (``codebook_size`` = every code equally often). The mel column and
the dataset default to the ones the model was trained on (its ``training_summary.json``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from datasets import load_from_disk
from transformers import AutoModel, HfArgumentParser

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.models.vqvae import MelVQVAEModel, code_statistics
from drum_accomp.training import REPO_ROOT


@dataclass
class EvaluationArguments:
    model: str = field(metadata={"help": "exported VQ-VAE folder (save_pretrained)"})
    split: str = field(default="validation", metadata={"help": "split name(s), comma-separated"})
    dataset: str = field(default="", metadata={"help": "dataset folder (load_from_disk); '' = the one in the "
                                                       "model's training_summary.json, else data/accompaniment"})
    column: str = field(default="", metadata={"help": "backing_mel or drums_mel; '' = the one the model was "
                                                      "trained on (training_summary.json)"})
    batch_size: int = field(default=16, metadata={"help": "windows per forward pass"})
    max_rows: int = field(default=0, metadata={"help": "evaluate only the first N windows per split (0 = all)"})
    output_json: str = field(default="", metadata={"help": "also write the results here"})
    torch_threads: int = field(default=0, metadata={"help": "torch CPU threads (0 = torch's default)"})


def training_data_settings(model_dir: str | Path) -> dict[str, Any]:
    """The ``"data"`` section the model was trained with (empty when it has no ``training_summary.json``)."""
    summary_path = Path(model_dir) / "training_summary.json"
    if not summary_path.is_file():
        return {}
    return json.loads(summary_path.read_text(encoding="utf-8")).get("settings", {}).get("data", {})


@torch.no_grad()
def evaluate_split(model: MelVQVAEModel, rows, column: str, batch_size: int = 16) -> dict[str, Any]:
    """Reconstruct every window of ``rows`` (a torch-formatted dataset with ``column``) and score the whole split."""
    model.eval()
    mel_l1, codes = [], []
    for start in range(0, len(rows), batch_size):
        mel_features = rows[start:start + batch_size][column].float()  # (batch_size, num_frames, num_mels)
        output = model(mel_features)
        mel_l1.append(output.mel_l1)
        codes.append(output.codes)
    codes = torch.cat(codes)  # (num_windows, num_codes)
    perplexity, usage = code_statistics(codes, model.config.codebook_size)
    return {"windows": len(rows), "frames": int(codes.numel() * model.config.downsample_factor),
            "mel_l1": round(float(torch.cat(mel_l1).mean()), 4), "codebook_usage": round(float(usage), 4),
            "codes_used": int(codes.unique().numel()), "codebook_size": model.config.codebook_size,
            "perplexity": round(float(perplexity), 2)}


def markdown_table(results: dict[str, dict[str, Any]], column: str) -> str:
    lines = [f"| split ({column}) | windows | mel L1 (ln units) | codebook usage | perplexity |",
             "|---|---:|---:|---:|---:|"]
    for split, result in results.items():
        lines.append(f"| {split} | {result['windows']} | {result['mel_l1']:.4f} | {result['codebook_usage']:.1%} "
                     f"({result['codes_used']}/{result['codebook_size']}) | {result['perplexity']:.1f} |")
    return "\n".join(lines)


def main(args: EvaluationArguments | None = None) -> dict[str, Any]:
    if args is None:
        (args,) = HfArgumentParser(EvaluationArguments).parse_args_into_dataclasses()
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    trained_on = training_data_settings(args.model)
    column = args.column or trained_on.get("column", "")
    if not column:
        raise ValueError(f"{args.model!r} has no training_summary.json naming its mel column; pass --column "
                         "backing_mel or --column drums_mel")
    dataset_path = Path(args.dataset or trained_on.get("dataset") or "data/accompaniment")
    if not dataset_path.exists() and not dataset_path.is_absolute():
        dataset_path = REPO_ROOT / dataset_path
    if not (dataset_path / "dataset_dict.json").is_file():
        raise FileNotFoundError(f"no dataset at {str(dataset_path)!r}; pass --dataset DIR")
    dataset = load_from_disk(str(dataset_path))
    model = AutoModel.from_pretrained(args.model).float().eval()

    results = {}
    for split in [name.strip() for name in args.split.split(",") if name.strip()]:
        if split not in dataset:
            raise ValueError(f"no split {split!r} in {str(dataset_path)!r}; splits: {list(dataset)}")
        rows = dataset[split].select_columns([column]).with_format("torch")
        if args.max_rows:
            rows = rows.select(range(min(args.max_rows, len(rows))))
        start = time.perf_counter()
        results[split] = evaluate_split(model, rows, column, args.batch_size)
        results[split]["seconds"] = round(time.perf_counter() - start, 1)

    report = {"model": str(args.model), "dataset": str(dataset_path), "column": column, "results": results}
    print(markdown_table(results, column))
    print(json.dumps(report, indent=2))
    if args.output_json:
        Path(args.output_json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output_json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
