"""Evaluate a trained accompaniment model on held-out code windows (``scripts/encode_codes.py``).

    python scripts/evaluate_accompaniment.py --model checkpoints/accompaniment \
        --codes_dir data/accompaniment_codes --split validation --output_json model_cards/accompaniment_eval.json

Two numbers:

1. Conditioning gap. The drum-code cross-entropy (nats per code, teacher forcing) of every window with its own
   backing codes, and with the backing codes of a window of *another song* (same beat positions, drums and
   genre: only the backing changes). A model that uses the backing scores better with the true one; it passes
   when ``ce_swapped - ce_true >= --min_gap`` (0.3 nats per code). Windows are paired by sorting them by song and
   shifting by the largest song's window count, so no window gets a backing of its own song (when no song holds
   more than half of the windows; pairs of one song are otherwise left out and counted).
2. Drum-hit F1 (``evaluation.metrics``, ±50 ms, per class and micro) of the MIDI that ``generate()`` writes from
   the backing alone (beat positions and genre, no drums), against the window's real drum hits, next to the
   rock pattern (``evaluation.baselines.rock_pattern``) on the window's beats. Windows with fewer than 2 beats
   are left out of both (the rock pattern needs a beat grid) and counted. A third row calibrates the target: the
   *song's groove*, the bar most of the song's *other* windows play (``baselines.majority_bar``, 16th grid), looped
   on this window's bars: what knowing the song's drums elsewhere, not from the backing, would score (windows do not
   overlap, so nothing of the window itself is used; windows whose song has no other window are left out of it).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset, load_from_disk
from torch.nn import functional as F
from transformers import HfArgumentParser

from drum_accomp.data.build_utils import write_json_atomic
from drum_accomp.evaluation.baselines import majority_bar, rock_pattern
from drum_accomp.evaluation.metrics import combine_scores, drum_hit_scores, format_scores
from drum_accomp.midi import DrumHits
from drum_accomp.models.accompaniment import DrumAccompanimentCollator, DrumAccompanimentModel, codes_to_step_tokens

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class EvaluationArguments:
    model: str = field(default=str(REPO_ROOT / "checkpoints" / "accompaniment"),
                       metadata={"help": "trained DrumAccompanimentModel (from_pretrained folder)"})
    codes_dir: str = field(default=str(REPO_ROOT / "data" / "accompaniment_codes"),
                           metadata={"help": "code dataset (scripts/encode_codes.py)"})
    split: str = field(default="validation")
    max_rows: int = field(default=0, metadata={"help": "evaluate only the first N windows (0 = all)"})
    row_stride: int = field(default=1, metadata={"help": "evaluate every N-th window (spread over the songs; e.g. 10 "
                                                         "on the training split for decoding choices)"})
    batch_size: int = field(default=16)
    min_gap: float = field(default=0.3, metadata={"help": "conditioning gap (nats per code) the model must reach"})
    do_sample: bool = field(default=False, metadata={"help": "sample the drums (default: greedy)"})
    temperature: float = field(default=1.0)
    top_k: int = field(default=0)
    top_p: float = field(default=1.0)
    seed: int = field(default=0)
    hit_threshold: float = field(default=0.0, metadata={"help": "hit probability above which a hit is written (0 = the "
                                                               "model config's hit_threshold)"})
    hit_peak_window: int = field(default=-1, metadata={"help": "peak picking of the hits over +-N codes (0 = off; -1 = "
                                                                "the model config's hit_peak_window)"})
    skip_gap: bool = field(default=False, metadata={"help": "only the hit F1 (e.g. to compare decoding settings)"})
    output_json: str = field(default="", metadata={"help": "write the results here as JSON ('' = print only)"})
    torch_threads: int = field(default=1)


# ----- conditioning gap --------------------------------------------------------------------------------------------


def other_song_partners(song_ids: list[str]) -> np.ndarray:
    """For each window, the index of a window of another song (see the module docstring); -1 when impossible."""
    order = np.argsort(np.asarray(song_ids), kind="stable")
    _, counts = np.unique(np.asarray(song_ids), return_counts=True)
    shift = int(counts.max())
    partners = np.empty(len(order), dtype=np.int64)
    partners[order] = order[(np.arange(len(order)) + shift) % len(order)]
    same = np.asarray(song_ids)[partners] == np.asarray(song_ids)
    partners[same] = -1
    return partners


@torch.no_grad()
def window_cross_entropy(model: DrumAccompanimentModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """``(batch_size,)`` mean drum-code cross-entropy of each window, nats per code."""
    logits = model(**{key: value for key, value in batch.items() if not key.startswith("hit_")}).logits
    steps = batch["labels"].view(len(logits), -1, model.config.codes_per_step)
    targets = codes_to_step_tokens(steps, model.config.drum_codebook_size)  # (batch_size, num_steps)
    loss = F.cross_entropy(logits.float().transpose(1, 2), targets, ignore_index=-100, reduction="none")
    return loss.mean(dim=1) / model.config.codes_per_step


def conditioning_gap(model: DrumAccompanimentModel, rows: Dataset, batch_size: int = 16) -> dict[str, Any]:
    """Cross-entropy with the true backing vs another song's backing (same beat positions, drums, genre)."""
    collator = DrumAccompanimentCollator(model.config)
    partners = other_song_partners(list(rows["song_id"]))
    kept = np.flatnonzero(partners >= 0)
    true_losses, swapped_losses = [], []
    for start in range(0, len(kept), batch_size):
        indices = kept[start:start + batch_size]
        batch = collator([rows[int(index)] for index in indices])
        true_losses.append(window_cross_entropy(model, batch))
        other = collator([rows[int(index)] for index in partners[indices]])
        batch["backing_codes"] = other["backing_codes"]
        if "backing_mel" in other:  # a model that hears the mels gets the other song's too
            batch["backing_mel"] = other["backing_mel"]
        swapped_losses.append(window_cross_entropy(model, batch))
    true_loss = float(torch.cat(true_losses).mean()) if true_losses else float("nan")
    swapped_loss = float(torch.cat(swapped_losses).mean()) if swapped_losses else float("nan")
    return {"ce_true_backing": true_loss, "ce_other_song_backing": swapped_loss,
            "gap_nats_per_code": swapped_loss - true_loss,
            # the decoder's token is one step of codes_per_step codes (one softmax over their joint values)
            "gap_nats_per_step_token": (swapped_loss - true_loss) * model.config.codes_per_step,
            "codes_per_step": model.config.codes_per_step, "windows": len(kept),
            "windows_without_other_song": int(len(partners) - len(kept))}


# ----- drum-hit F1 -------------------------------------------------------------------------------------------------


def reference_hits(row: dict[str, Any]) -> DrumHits:
    return DrumHits(np.asarray(row["hit_times"], dtype=np.float64), np.asarray(row["hit_classes"], dtype=np.int64),
                    np.asarray(row["hit_velocities"], dtype=np.int64))


def rock_baseline(row: dict[str, Any], window_seconds: float) -> DrumHits:
    """The rock pattern on the window's beats and downbeats, cut to the window."""
    downbeats = np.asarray(row["downbeat_times"], dtype=np.float64)
    hits = rock_pattern(np.asarray(row["beat_times"], dtype=np.float64), downbeats if len(downbeats) else None)
    return hits.window(0.0, window_seconds)


def window_bar_lines(row: dict[str, Any], window_seconds: float) -> np.ndarray | None:
    """The window's bar lines extended by whole bars (median bar length) to cover ``[0, window_seconds]``; ``None``
    with fewer than 2 downbeats."""
    lines = list(np.asarray(row["downbeat_times"], dtype=np.float64))
    if len(lines) < 2:
        return None
    bar = float(np.median(np.diff(lines)))
    while lines[0] > 0:
        lines.insert(0, lines[0] - bar)
    while lines[-1] < window_seconds:
        lines.append(lines[-1] + bar)
    return np.asarray(lines)


def song_groove_scores(rows: Dataset, usable: list[int], window_seconds: float) -> list:
    """Per usable window whose song has another window: drum-hit scores of the song's groove (the bar most of the
    song's *other* windows play, on a 16th grid) looped on the window's bars, against its real hits."""
    columns = rows.select_columns(["song_id", "beat_times", "downbeat_times", "hit_times", "hit_classes",
                                   "hit_velocities"])
    songs = defaultdict(list)  # song id -> (real hits, bar lines, 16th cells per bar) of its windows
    for index in usable:
        row = columns[int(index)]
        lines = window_bar_lines(row, window_seconds)
        if lines is not None:
            beats = np.asarray(row["beat_times"], dtype=np.float64)
            beats_per_bar = int(np.median([np.sum((beats >= start - 1e-6) & (beats < end - 1e-6))
                                           for start, end in zip(lines[:-1], lines[1:])]))
            songs[str(row["song_id"])].append((reference_hits(row), lines, 4 * max(beats_per_bar, 1)))
    scores = []
    for windows in songs.values():
        for index, (reference, lines, cells) in enumerate(windows):
            others = [(hits, other_lines) for other, (hits, other_lines, _) in enumerate(windows) if other != index]
            if others:
                groove = majority_bar(others, lines, cells_per_bar=cells).window(0.0, window_seconds)
                scores.append(drum_hit_scores(reference, groove))
    return scores


@torch.no_grad()
def hit_f1(model: DrumAccompanimentModel, rows: Dataset, batch_size: int = 16,
           sampling: dict[str, Any] | None = None) -> dict[str, Any]:
    """Drum-hit F1 of ``generate()`` from the backing alone and of the rock pattern, pooled over the windows."""
    collator = DrumAccompanimentCollator(model.config)
    usable = [index for index in range(len(rows)) if len(rows[index]["beat_times"]) >= 2]
    model_scores, rock_scores = [], []
    start_time = time.perf_counter()
    num_codes = 0
    for start in range(0, len(usable), batch_size):
        batch_rows = [rows[index] for index in usable[start:start + batch_size]]
        batch = collator(batch_rows)
        # hits from the backing hit head do not read the drum codes: skip writing them
        generated = model.generate(batch["backing_codes"], batch["beat_positions"], genre_ids=batch["genre_ids"],
                                   backing_mel=batch.get("backing_mel"),
                                   return_codes=model.config.hit_source != "backing", **(sampling or {}))
        window_seconds = batch["backing_codes"].shape[1] * model.config.code_seconds
        num_codes += batch["backing_codes"].numel()
        for row, hits in zip(batch_rows, generated.hits):
            reference = reference_hits(row)
            model_scores.append(drum_hit_scores(reference, hits))
            rock_scores.append(drum_hit_scores(reference, rock_baseline(row, window_seconds)))
    seconds = time.perf_counter() - start_time
    if not model_scores:
        raise ValueError("no window with at least 2 beats to evaluate; check the code dataset's beat_times")
    model_total, rock_total = combine_scores(model_scores), combine_scores(rock_scores)
    print("model (generate from the backing alone):\n" + format_scores(model_total))
    print("rock-pattern baseline:\n" + format_scores(rock_total))
    groove_scores = song_groove_scores(rows, usable, window_seconds)
    groove_total = combine_scores(groove_scores) if groove_scores else None
    if groove_total is not None:
        print(f"the song's groove from its other windows (calibration, knows the song's drums; {len(groove_scores)} "
              "windows):\n" + format_scores(groove_total))
    return {"model": model_total.to_dict(), "rock_baseline": rock_total.to_dict(),
            "song_groove_calibration": groove_total.to_dict() if groove_total is not None else None,
            "model_micro_f1": model_total.micro_f1, "rock_baseline_micro_f1": rock_total.micro_f1,
            "song_groove_calibration_micro_f1": groove_total.micro_f1 if groove_total is not None else None,
            "song_groove_calibration_windows": len(groove_scores),
            "windows": len(usable), "windows_without_beats": len(rows) - len(usable),
            "generation_ms_per_code": round(1000 * seconds / max(num_codes, 1), 3)}


# ----- main --------------------------------------------------------------------------------------------------------


def main(args: EvaluationArguments | None = None) -> dict[str, Any]:
    if args is None:
        (args,) = HfArgumentParser(EvaluationArguments).parse_args_into_dataclasses()
    torch.set_num_threads(args.torch_threads)
    if not (Path(args.codes_dir) / "dataset_dict.json").is_file():
        raise FileNotFoundError(f"no code dataset at {args.codes_dir!r}; make it with scripts/encode_codes.py")
    splits = load_from_disk(args.codes_dir)
    if args.split not in splits:
        raise ValueError(f"split {args.split!r} is not in {args.codes_dir!r}; it has {list(splits)}")
    rows = splits[args.split].with_format("numpy")
    if args.row_stride < 1:
        raise ValueError(f"row_stride must be >= 1 (1 = every window), got {args.row_stride}")
    if args.row_stride > 1:
        rows = rows.select(range(0, len(rows), args.row_stride))
    if args.max_rows:
        rows = rows.select(range(min(args.max_rows, len(rows))))
    model = DrumAccompanimentModel.from_pretrained(args.model, dtype=torch.float32).eval()

    if args.hit_peak_window >= 0:
        model.config.hit_peak_window = args.hit_peak_window
    gap = None
    if not args.skip_gap:
        gap = conditioning_gap(model, rows, args.batch_size)
        gap["min_gap"] = args.min_gap
        gap["passed"] = bool(gap["gap_nats_per_code"] >= args.min_gap)
        print(f"conditioning: CE {gap['ce_true_backing']:.4f} nats/code with the true backing, "
              f"{gap['ce_other_song_backing']:.4f} with another song's: gap {gap['gap_nats_per_code']:.4f} "
              f"({'passes' if gap['passed'] else 'FAILS'} >= {args.min_gap}) over {gap['windows']} windows; "
              f"{gap['gap_nats_per_step_token']:.4f} nats per decoder token ({gap['codes_per_step']} codes)",
              flush=True)
    sampling = {"do_sample": args.do_sample, "temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p,
                "seed": args.seed, "hit_threshold": args.hit_threshold or None}
    f1 = hit_f1(model, rows, args.batch_size, sampling)
    results = {"conditioning": gap, "drum_hit_f1": f1, "settings": asdict(args)}
    if args.output_json:
        write_json_atomic(args.output_json, results, default=float)
        print(f"saved {args.output_json}")
    return results


if __name__ == "__main__":
    main()
