"""Evaluate a trained groove model on GMD validation files: continuation F1, copying, style-only genre accuracy.

    python scripts/evaluate_groove.py --model checkpoints/groove --split validation [--output_json FILE]

1. Continuation: prompts of ``prompt_bars`` (4) bars cut on bar lines from each file of the split (up to
   ``prompts_per_file`` non-overlapping prompt + continuation spans per file), the model continues ``continuation_bars``
   (2) bars, greedy and sampled. Drum-hit F1 (``evaluation.metrics``, ±50 ms, pooled over examples) against the real
   next bars, next to the "replay the last 2 prompt bars" baseline (``evaluation.baselines.replay_last_bars``).
   Copy share: generated bars identical to one of the prompt's bars (tick, class and velocity bin; and the onsets
   + classes rounded to 16th notes, velocity ignored), with the same figure for the real continuation as a
   reference (its F1 row is the real next bars through the tokenizer and this decoding: ~1, a check of the time
   alignment).
2. Style-only generation: for every GMD style of the split, ``genre_samples`` grooves of ``genre_bars`` bars from
   ``<bos> <STYLE>`` alone (sampled, at the style's median tempo), tagged by the genre classifier
   (``checkpoints/genre_classifier``); accuracy = tag == the style's genre group.

Prints a table and writes everything as JSON (``--output_json``, default ``<model>/evaluation_<split>.json``).
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import HfArgumentParser

from drum_accomp.data.sources import read_gmd_folder
from drum_accomp.data.windows import midi_downbeats
from drum_accomp.evaluation.baselines import replay_last_bars
from drum_accomp.evaluation.metrics import combine_scores, drum_hit_scores
from drum_accomp.genres import group_genre, top_level_style
from drum_accomp.midi import DrumHits, drum_hits, load_midi
from drum_accomp.models.groove import GrooveModel
from drum_accomp.tokenization_drum import DrumTokenizer

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class EvaluateGrooveArguments:
    model: str = field(metadata={"help": "exported groove model folder (config, weights, tokenizer)"})
    split: str = field(default="validation", metadata={"help": "GMD split whose files give the prompts"})
    groove_dir: str = field(default=str(REPO_ROOT.parent / "shared" / "data" / "groove"),
                            metadata={"help": "GMD-style folder with info.csv"})
    classifier: str = field(default=str(REPO_ROOT / "checkpoints" / "genre_classifier"),
                            metadata={"help": "genre classifier for the style-only accuracy ('' = skip)"})
    prompt_bars: int = field(default=4, metadata={"help": "bars of each prompt"})
    continuation_bars: int = field(default=2, metadata={"help": "bars generated and scored"})
    prompts_per_file: int = field(default=2, metadata={"help": "non-overlapping prompt spans per file"})
    max_files: int = field(default=0, metadata={"help": "only the first N files of the split (0 = all)"})
    temperature: float = field(default=1.0, metadata={"help": "sampled decoding: temperature"})
    top_k: int = field(default=0, metadata={"help": "sampled decoding: top-k (0 = off)"})
    top_p: float = field(default=0.95, metadata={"help": "sampled decoding: nucleus mass"})
    genre_samples: int = field(default=8, metadata={"help": "style-only generations per style (0 = skip)"})
    genre_bars: int = field(default=8, metadata={"help": "bars of each style-only generation"})
    seed: int = field(default=0, metadata={"help": "sampling seed (example i uses seed + i)"})
    greedy_grid_ticks: int = field(default=-1, metadata={"help": "greedy decoding: dt argmax on this grid in ticks "
                                                                 "(48 = 16ths; 0 = plain argmax; -1 = the model's "
                                                                 "config)"})
    output_json: str = field(default="", metadata={"help": "where to write the JSON ('' = <model>/evaluation_<split>.json)"})
    torch_threads: int = field(default=1, metadata={"help": "torch CPU threads (the machine is shared)"})


def beats_per_bar(time_signature: str) -> int:
    """pretty_midi beats in a bar of ``"n-d"`` / ``"n/d"`` (a dotted quarter in 6/8, 9/8, 12/8)."""
    try:
        numerator = int(str(time_signature).replace("-", "/").split("/")[0])
    except ValueError:
        return 4
    return numerator // 3 if numerator > 3 and numerator % 3 == 0 else max(numerator, 1)


def bar_contents(ticks: np.ndarray, classes: np.ndarray, bins: np.ndarray, bar: int) -> dict[int, tuple]:
    """Bar index -> sorted ``(tick in bar, class, velocity bin)`` of its hits."""
    contents = defaultdict(list)
    for tick, class_index, velocity_bin in zip(ticks.tolist(), classes.tolist(), bins.tolist()):
        contents[tick // bar].append((tick % bar, class_index, velocity_bin))
    return {index: tuple(sorted(hits)) for index, hits in contents.items()}


def copy_counts(prompt: dict[int, tuple], continuation: dict[int, tuple], bars: range,
                grid: int) -> tuple[int, int, int]:
    """(bars, bars equal to a prompt bar, bars whose onsets + classes on a ``grid``-tick grid equal a prompt bar's)
    over ``bars``. The exact comparison is at tick resolution, where played (unquantized) bars almost never repeat;
    the grid one (16th notes) ignores velocity and microtiming: "the same pattern"."""
    def pattern(hits: tuple) -> tuple:
        return tuple(sorted({((tick + grid // 2) // grid, class_index) for tick, class_index, _ in hits}))

    exact = {hits for hits in prompt.values() if hits}
    patterns = {pattern(hits) for hits in exact}
    num_exact = sum(continuation.get(index, ()) in exact for index in bars)
    num_pattern = sum(bool(continuation.get(index)) and pattern(continuation[index]) in patterns for index in bars)
    return len(bars), num_exact, num_pattern


def decoded_hits(tokenizer: DrumTokenizer, words: torch.Tensor, beat_times: np.ndarray):
    decoded = tokenizer.decode_tokens(tokenizer.words_to_ids(words.cpu().numpy()), beat_times=beat_times)
    bins = tokenizer.velocity_to_bin(decoded.hits.velocities)
    return decoded, bins


def continuation_examples(records, args: EvaluateGrooveArguments) -> list[dict]:
    """Prompt / continuation spans on bar lines: ``{"record", "midi", "bars": bar lines (prompt + continuation + 1)}``."""
    span = args.prompt_bars + args.continuation_bars
    examples = []
    for record in records:
        try:
            midi = load_midi(record.path)
            hits = drum_hits(midi)
        except (ValueError, OSError):
            continue
        lines = midi_downbeats(midi)
        end_time = float(hits.times.max()) if len(hits) else 0.0
        for first in range(0, args.prompts_per_file * span, span):
            if first + span >= len(lines) or lines[first + span] > end_time + 1e-6:
                break
            examples.append({"record": record, "midi": midi, "hits": hits, "bars": lines[first:first + span + 1]})
    return examples


def evaluate_continuations(model: GrooveModel, tokenizer: DrumTokenizer, examples: list[dict],
                           args: EvaluateGrooveArguments) -> dict:
    prompt_bars, num_bars = args.prompt_bars, args.continuation_bars
    grid = tokenizer.ticks_per_beat // 4  # 16th notes
    scores = {"greedy": [], "sampled": [], "replay_last_2_bars": [], "real": []}
    copies = {"greedy": np.zeros(3, int), "sampled": np.zeros(3, int), "real": np.zeros(3, int)}
    invalid = {"greedy": 0, "sampled": 0}
    for index, example in enumerate(examples):
        record, midi, lines = example["record"], example["midi"], example["bars"]
        start, prompt_end, end = lines[0], lines[prompt_bars], lines[-1]
        meter = beats_per_bar(record.time_signature)
        bar = meter * tokenizer.ticks_per_beat
        beats = np.asarray(midi.get_beats(), dtype=np.float64)
        inside = beats[(beats >= start - 1e-6) & (beats <= end + 1e-6)]
        bpm = 60.0 / float(np.median(np.diff(inside))) if len(inside) >= 2 else float(record.bpm)
        beat_times = beats[beats >= start - 1e-6] - start

        # 1. Prompt words (<bos> <STYLE> ... without <eos>) and the real continuation's tokens.
        prompt_ids = tokenizer.encode_midi(midi, style=record.style, start_time=start, end_time=prompt_end)[:-1]
        prompt_words = torch.as_tensor(tokenizer.ids_to_words(prompt_ids))[None]
        full_words = tokenizer.ids_to_words(tokenizer.encode_midi(midi, style=record.style, start_time=start,
                                                                  end_time=end))
        real, real_bins = decoded_hits(tokenizer, torch.as_tensor(full_words), beat_times)
        prompt_bar_contents = bar_contents(real.ticks, real.hits.classes, real_bins, bar)
        prompt_bar_contents = {i: hits for i, hits in prompt_bar_contents.items() if i < prompt_bars}
        continuation_range = range(prompt_bars, prompt_bars + num_bars)
        copies["real"] += copy_counts(prompt_bar_contents, bar_contents(real.ticks, real.hits.classes, real_bins, bar),
                                      continuation_range, grid)

        # 2. The reference and the replay baseline, in seconds from the prompt's start.
        target = example["hits"].window(prompt_end, end)
        reference = DrumHits(target.times + (prompt_end - start), target.classes, target.velocities)
        prompt_hits = example["hits"].window(start, prompt_end)
        replay = replay_last_bars(prompt_hits, lines[prompt_bars - 2:prompt_bars + 1] - start, last_bars=2,
                                  target_downbeats=lines[prompt_bars:] - start)
        scores["replay_last_2_bars"].append(drum_hit_scores(reference, replay))
        # The real continuation through the tokenizer and this decoding: the upper bound (checks the alignment).
        keep = real.ticks >= prompt_bars * bar
        scores["real"].append(drum_hit_scores(reference, DrumHits(real.hits.times[keep], real.hits.classes[keep],
                                                                  real.hits.velocities[keep])))

        # 3. Greedy and sampled continuations.
        for mode in ("greedy", "sampled"):
            output = model.generate(prompt_words, bpm=bpm, beats_per_bar=meter, max_bars=num_bars,
                                    prompt_ticks=prompt_bars * bar, do_sample=mode == "sampled",
                                    temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                                    seed=args.seed + index, max_new_words=64 * num_bars * meter,
                                    greedy_grid_ticks=None if args.greedy_grid_ticks < 0 else args.greedy_grid_ticks)
            decoded, bins = decoded_hits(tokenizer, output.words[0], beat_times)
            invalid[mode] += decoded.num_invalid_words
            keep = decoded.ticks >= prompt_bars * bar
            estimated = DrumHits(decoded.hits.times[keep], decoded.hits.classes[keep],
                                 decoded.hits.velocities[keep])
            scores[mode].append(drum_hit_scores(reference, estimated))
            copies[mode] += copy_counts(prompt_bar_contents,
                                        bar_contents(decoded.ticks[keep], decoded.hits.classes[keep], bins[keep], bar),
                                        continuation_range, grid)
    result = {}
    for name, values in scores.items():
        pooled = combine_scores(values)
        result[name] = {"f1": pooled.micro_f1, "precision": pooled.micro_precision, "recall": pooled.micro_recall,
                        "mean_example_f1": float(np.mean([score.micro_f1 for score in values]))}
    for name, (bars, exact, pattern) in copies.items():
        result.setdefault(name, {}).update({"copy_share_exact": exact / max(bars, 1),
                                            "copy_share_onsets": pattern / max(bars, 1)})
    for name, count in invalid.items():
        result[name]["invalid_words"] = int(count)
    result["num_examples"] = len(examples)
    return result


def evaluate_genre(model: GrooveModel, tokenizer: DrumTokenizer, records, args: EvaluateGrooveArguments) -> dict:
    """Style-only generations per GMD style, tagged by the genre classifier."""
    from drum_accomp.models.genre import DrumGenreClassifier

    classifier = DrumGenreClassifier.from_pretrained(args.classifier).eval()
    tempos = defaultdict(list)
    for record in records:
        if np.isfinite(record.bpm):
            tempos[top_level_style(record.style)].append(record.bpm)
    labels = set(classifier.config.label2id)
    per_genre = defaultdict(lambda: [0, 0])
    confusion = defaultdict(lambda: defaultdict(int))
    for style in sorted(tempos):
        genre = group_genre(style)
        if genre not in labels or style not in tokenizer.styles:
            continue
        bpm = float(np.median(tempos[style]))
        output = model.generate(style_ids=[tokenizer.style_id(style)] * args.genre_samples, bpm=bpm, beats_per_bar=4,
                                max_bars=args.genre_bars, do_sample=True, temperature=args.temperature,
                                top_k=args.top_k, top_p=args.top_p, seed=args.seed,
                                max_new_words=64 * 4 * args.genre_bars)
        for words in output.words:
            decoded = tokenizer.decode_tokens(tokenizer.words_to_ids(words.cpu().numpy()), bpm=bpm)
            try:
                predicted = classifier.predict(decoded.midi, tokenizer)
            except ValueError:  # no bar with drums: counts as wrong
                predicted = "(empty)"
            per_genre[genre][0] += predicted == genre
            per_genre[genre][1] += 1
            confusion[genre][predicted] += 1
    correct, total = (sum(values[i] for values in per_genre.values()) for i in (0, 1))
    accuracies = {genre: hits / count for genre, (hits, count) in sorted(per_genre.items())}
    return {"accuracy": correct / max(total, 1), "balanced_accuracy": float(np.mean(list(accuracies.values()) or [0])),
            "per_genre": accuracies, "num_generations": total,
            "confusion": {genre: dict(row) for genre, row in confusion.items()}}


def format_table(result: dict) -> str:
    continuation = result["continuation"]
    lines = [f"groove continuation: {continuation['num_examples']} examples, {result['prompt_bars']}-bar prompts, "
             f"{result['continuation_bars']} bars scored (drum-hit F1, ±50 ms, pooled)",
             f"{'decoding':<22}{'F1':>8}{'P':>8}{'R':>8}{'copy exact':>12}{'copy onsets':>13}"]
    for name in ("greedy", "sampled", "replay_last_2_bars", "real"):
        row = continuation.get(name, {})
        numbers = [row.get(key) for key in ("f1", "precision", "recall", "copy_share_exact", "copy_share_onsets")]
        lines.append(f"{name:<22}" + "".join(f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}"
                                               for value, width in zip(numbers, (8, 8, 8, 12, 13))))
    if "genre" in result:
        genre = result["genre"]
        lines.append(f"style-only genre accuracy: {genre['accuracy']:.3f} (balanced {genre['balanced_accuracy']:.3f}, "
                     f"{genre['num_generations']} generations): "
                     + ", ".join(f"{name} {value:.2f}" for name, value in genre["per_genre"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    (args,) = HfArgumentParser(EvaluateGrooveArguments).parse_args_into_dataclasses(argv)
    torch.set_num_threads(args.torch_threads)
    started = time.perf_counter()
    model = GrooveModel.from_pretrained(args.model).eval()
    tokenizer_dir = Path(args.model)
    tokenizer = (DrumTokenizer.from_pretrained(str(tokenizer_dir)) if (tokenizer_dir / "tokenizer_config.json").is_file()
                 else DrumTokenizer())
    records = [record for record in read_gmd_folder(args.groove_dir) if record.split == args.split]
    if not records:
        raise ValueError(f"no {args.split!r} files in {args.groove_dir}; pass --split validation or a GMD folder")
    if args.max_files:
        records = records[: args.max_files]
    examples = continuation_examples(records, args)
    result = {"model": args.model, "split": args.split, "prompt_bars": args.prompt_bars,
              "continuation_bars": args.continuation_bars, "num_files": len(records),
              "sampling": {"temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p,
                           "seed": args.seed},
              "continuation": evaluate_continuations(model, tokenizer, examples, args)}
    if args.classifier and args.genre_samples > 0:
        result["genre"] = evaluate_genre(model, tokenizer, records, args)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(format_table(result))
    output = Path(args.output_json or Path(args.model) / f"evaluation_{args.split}.json")
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {output}")
    return result


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
