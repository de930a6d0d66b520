"""Evaluate a groove model on GMD files: continuation F1 against replaying the prompt, copying, style-only genres.

1. Continuation: prompts of ``prompt_bars`` (4) bars cut on bar lines from each file (up to ``prompts_per_file``
   non-overlapping prompt + continuation spans per file); the model continues ``continuation_bars`` (2) bars,
   greedy, sampled and consensus (with the model's prompt adaptation unless told otherwise). Drum-hit F1
   (``evaluation.metrics``, ±50 ms, pooled over examples) against the real next bars, next to two baselines,
   "replay the last 2 prompt bars" (``baselines.replay_last_bars``, the one the issue names) and "the hits most
   prompt bars play" (``baselines.prompt_bar_majority``, a stronger one), and a ceiling for copying: the prompt bar
   closest to each real bar, chosen knowing it (``baselines.best_prompt_bars``); with the groove distance of each
   (timing / velocity of matched hits, W1 per 16th position on the file's beat grid).
   Copy share: generated bars identical to one of the prompt's bars (tick, class and velocity bin; and the onsets
   + classes rounded to 16th notes, velocity ignored), with the same figure for the real continuation as a
   reference (its F1 row is the real next bars through the tokenizer and this decoding: ~1, a check of the time
   alignment).
2. Style-only generation: for every GMD style of the files, ``genre_samples`` grooves of ``genre_bars`` bars from
   ``<bos> <STYLE>`` alone (sampled, at the style's median tempo), tagged by the genre classifier
   (``checkpoints/genre_classifier``); accuracy = tag == the style's genre group, with the confusion matrix.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ..data.sources import GrooveRecord, read_gmd_folder
from ..data.windows import midi_downbeats
from ..genres import group_genre, top_level_style
from ..midi import DrumHits, drum_hits, load_midi
from ..tokenization_drum import DrumTokenizer
from .baselines import best_prompt_bars, prompt_bar_majority, replay_last_bars
from .genre import GenreEvaluation
from .metrics import (DrumHitScores, GrooveDistance, combine_scores, drum_hit_scores, groove_distance,
                      pool_groove_distances, sixteenth_positions)

DECODINGS: tuple[str, ...] = ("greedy", "sampled", "consensus")
REPLAY = "replay_last_2_bars"
MAJORITY = "prompt_bar_majority"
"""Baseline: the hits at least half of the prompt's bars play, on a 16th grid (``baselines.prompt_bar_majority``)."""
CEILING = "best_prompt_bars"
"""Not a baseline: each bar the prompt bar closest to the real one, chosen knowing it (``baselines.best_prompt_bars``):
how far copying bars can go."""
BASELINES: tuple[str, ...] = (REPLAY, MAJORITY, CEILING)
REAL = "real"
EMPTY_PREDICTION = "(empty)"
"""The genre tag of a style-only generation without a bar of drums (counted as wrong)."""


@dataclass
class GrooveEvaluationConfig:
    """How the groove model is evaluated: the shared options of ``scripts/evaluate_groove.py`` and of the report."""

    prompt_bars: int = field(default=4, metadata={"help": "bars of each prompt"})
    continuation_bars: int = field(default=2, metadata={"help": "bars generated and scored"})
    prompts_per_file: int = field(default=2, metadata={"help": "non-overlapping prompt spans per file"})
    temperature: float = field(default=1.0, metadata={"help": "sampled decoding: temperature"})
    top_k: int = field(default=0, metadata={"help": "sampled decoding: top-k (0 = off)"})
    top_p: float = field(default=0.95, metadata={"help": "sampled decoding: nucleus mass"})
    genre_samples: int = field(default=8, metadata={"help": "style-only generations per style (0 = skip)"})
    genre_bars: int = field(default=8, metadata={"help": "bars of each style-only generation"})
    guidance_scale: float = field(default=0.0, metadata={"help": "classifier-free guidance on the style for every "
                                                                 "generation (1 = off; 0 = the model's defaults: "
                                                                 "none for continuations, style_guidance_scale for "
                                                                 "style-only grooves)"})
    genre_temperature: float = field(default=0.0, metadata={"help": "sampling temperature of the style-only grooves "
                                                                    "(0 = the model's style_temperature)"})
    genre_decoding: str = field(default="sampled", metadata={"help": "decoding of the style-only grooves: sampled "
                                                                     "(one take each) or consensus"})
    seed: int = field(default=0, metadata={"help": "sampling seed (example i uses seed + i)"})
    consensus_samples: int = field(default=0, metadata={"help": "consensus decoding: sampled takes per prompt "
                                                                "(GrooveModel.generate_consensus; 0 = the model's)"})
    consensus_min_share: float = field(default=0.0, metadata={"help": "consensus decoding: share of the takes that "
                                                                      "must play a hit for it to be kept (0 = the "
                                                                      "model's)"})
    consensus_temperature: float = field(default=0.0, metadata={"help": "consensus decoding: temperature of the "
                                                                        "takes (0 = the model's)"})
    greedy_grid_ticks: int = field(default=-1, metadata={"help": "greedy decoding: dt argmax on this grid in ticks "
                                                                 "(48 = 16ths; 0 = plain argmax; -1 = the model's "
                                                                 "config)"})
    adaptation_steps: int = field(default=-1, metadata={"help": "prompt adaptation: Adam steps on each prompt "
                                                                "before continuing it (0 = off; -1 = the model's "
                                                                "config)"})
    adaptation_learning_rate: float = field(default=0.0, metadata={"help": "prompt adaptation: learning rate (0 = "
                                                                           "the model's config)"})

    def __post_init__(self):
        for name in ("continuation_bars", "prompts_per_file", "genre_bars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.prompt_bars < 2:
            raise ValueError(f"prompt_bars must be at least 2 (the replay baseline loops the last 2 prompt bars), "
                             f"got {self.prompt_bars}")
        if self.consensus_samples < 0 or not 0 <= self.consensus_min_share <= 1 or self.consensus_temperature < 0:
            raise ValueError(f"need consensus_samples >= 0, consensus_min_share in [0, 1] and consensus_temperature "
                             f">= 0 (0 = the model's), got {self.consensus_samples}, {self.consensus_min_share} and "
                             f"{self.consensus_temperature}")
        if self.guidance_scale < 0 or self.genre_temperature < 0:
            raise ValueError(f"guidance_scale and genre_temperature must be > 0, or 0 for the model's defaults; got "
                             f"{self.guidance_scale} and {self.genre_temperature}")
        if self.genre_decoding not in ("sampled", "consensus"):
            raise ValueError(f"genre_decoding={self.genre_decoding!r}; give sampled or consensus")
        if self.adaptation_steps < -1 or self.adaptation_learning_rate < 0:
            raise ValueError(f"adaptation_steps must be >= 0 (or -1 for the model's) and adaptation_learning_rate >= 0 "
                             f"(0 for the model's), got {self.adaptation_steps} and {self.adaptation_learning_rate}")
        if self.genre_samples < 0:
            raise ValueError(f"genre_samples must be >= 0 (0 skips the genre accuracy), got {self.genre_samples}")

    @property
    def sampling(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p, "seed": self.seed}


# ----- data ----------------------------------------------------------------------------------------------------------


def load_groove_model(folder: str | Path):
    """``(GrooveModel in eval mode, DrumTokenizer)`` of a groove checkpoint (the default tokenizer when the folder
    has none)."""
    from ..models.groove import GrooveModel

    model = GrooveModel.from_pretrained(str(folder)).eval()
    tokenizer = (DrumTokenizer.from_pretrained(str(folder)) if (Path(folder) / "tokenizer_config.json").is_file()
                 else DrumTokenizer())
    return model, tokenizer


def split_records(groove_dir: str | Path, split: str, max_files: int = 0) -> list[GrooveRecord]:
    """The GMD records of ``split`` in ``info.csv`` order, the first ``max_files`` (0 = all).

    Raises:
        ValueError: the folder has no file of that split (names the splits it has).
    """
    all_records = read_gmd_folder(groove_dir)
    records = [record for record in all_records if record.split == split]
    if not records:
        splits = sorted({record.split for record in all_records})
        raise ValueError(f"no {split!r} files in {str(groove_dir)!r} (it has {splits}); pass --split validation or "
                         "another GMD folder")
    return records[:max_files] if max_files else records


def beats_per_bar(time_signature: str) -> int:
    """pretty_midi beats in a bar of ``"n-d"`` / ``"n/d"`` (a dotted quarter in 6/8, 9/8, 12/8)."""
    try:
        numerator = int(str(time_signature).replace("-", "/").split("/")[0])
    except ValueError:
        return 4
    return numerator // 3 if numerator > 3 and numerator % 3 == 0 else max(numerator, 1)


def continuation_examples(records: list[GrooveRecord], config: GrooveEvaluationConfig,
                          max_examples: int = 0) -> list[dict]:
    """Prompt / continuation spans on bar lines: ``{"record", "midi", "hits", "bars": bar lines (prompt +
    continuation + 1)}``, the first ``max_examples`` (0 = all)."""
    span = config.prompt_bars + config.continuation_bars
    examples = []
    for record in records:
        try:
            midi = load_midi(record.path)
            hits = drum_hits(midi)
        except (ValueError, OSError):
            continue
        lines = midi_downbeats(midi)
        end_time = float(hits.times.max()) if len(hits) else 0.0
        for first in range(0, config.prompts_per_file * span, span):
            if first + span >= len(lines) or lines[first + span] > end_time + 1e-6:
                break
            examples.append({"record": record, "midi": midi, "hits": hits, "bars": lines[first:first + span + 1]})
        if max_examples and len(examples) >= max_examples:
            return examples[:max_examples]
    return examples


# ----- continuation ------------------------------------------------------------------------------------------------


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
    """``(DecodedDrums, velocity bins)`` of compound words ``(num_words, 3)`` on the given beat times (s)."""
    decoded = tokenizer.decode_tokens(tokenizer.words_to_ids(words.cpu().numpy()), beat_times=beat_times)
    bins = tokenizer.velocity_to_bin(decoded.hits.velocities)
    return decoded, bins


@dataclass
class ContinuationEvaluation:
    """Per-example figures of the continuation task; :meth:`summary` pools them.

    Attributes:
        scores: per decoding (``"greedy"``, ``"sampled"``), ``REPLAY`` and ``REAL``: one ``DrumHitScores`` per example.
        grooves: per decoding and ``REPLAY``: one ``GrooveDistance`` per example (beat grid of the file).
        copies: per decoding and ``REAL``: ``(3,)`` counts (bars, exact copies, onset-pattern copies).
        invalid: per decoding, words the tokenizer could not decode.
        microtiming_ms: per decoding and ``"reference"`` (the real next bars): offsets (ms, positive = late) of every
            hit from the nearest 16th note of the file's beat grid, pooled over the examples.
    """

    scores: dict[str, list[DrumHitScores]] = field(default_factory=lambda: {
        name: [] for name in (*DECODINGS, *BASELINES, REAL)})
    grooves: dict[str, list[GrooveDistance]] = field(default_factory=lambda: {
        name: [] for name in (*DECODINGS, *BASELINES)})
    copies: dict[str, np.ndarray] = field(default_factory=lambda: {
        name: np.zeros(3, int) for name in (*DECODINGS, REAL)})
    invalid: dict[str, int] = field(default_factory=lambda: {name: 0 for name in DECODINGS})
    microtiming_ms: dict[str, list[np.ndarray]] = field(default_factory=lambda: {
        name: [] for name in ("reference", *DECODINGS)})

    @property
    def num_examples(self) -> int:
        return len(self.scores[REAL])

    def summary(self) -> dict[str, Any]:
        """Pooled F1 / precision / recall, mean example F1, copy shares, invalid words (the script's JSON)."""
        result = {}
        for name, values in self.scores.items():
            pooled = combine_scores(values)
            result[name] = {"f1": pooled.micro_f1, "precision": pooled.micro_precision,
                            "recall": pooled.micro_recall,
                            "mean_example_f1": float(np.mean([score.micro_f1 for score in values]))}
        for name, (bars, exact, pattern) in self.copies.items():
            result.setdefault(name, {}).update({"copy_share_exact": exact / max(bars, 1),
                                                "copy_share_onsets": pattern / max(bars, 1)})
        for name, count in self.invalid.items():
            result[name]["invalid_words"] = int(count)
        result["num_examples"] = self.num_examples
        return result

    def groove_distances(self) -> dict[str, dict[str, float]]:
        """Per decoding and ``REPLAY``: ``metrics.pool_groove_distances`` over the examples."""
        return {name: pool_groove_distances(values) for name, values in self.grooves.items()}

    def microtiming(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate(values) if values else np.zeros(0)
                for name, values in self.microtiming_ms.items()}


def evaluate_continuations(model, tokenizer: DrumTokenizer, examples: list[dict],
                           config: GrooveEvaluationConfig) -> ContinuationEvaluation:
    """Greedy and sampled continuations of every example, the replay baseline and the tokenizer round trip.

    Raises:
        ValueError: no example (the files hold no prompt + continuation span on bar lines).
    """
    if not examples:
        raise ValueError(f"no {config.prompt_bars} + {config.continuation_bars}-bar span in the files to evaluate; "
                         "pass more files (--max_files 0) or shorter --prompt_bars / --continuation_bars")
    prompt_bars, num_bars = config.prompt_bars, config.continuation_bars
    grid = tokenizer.ticks_per_beat // 4  # 16th notes
    greedy_grid_ticks = None if config.greedy_grid_ticks < 0 else config.greedy_grid_ticks
    adaptation = dict(adaptation_steps=None if config.adaptation_steps < 0 else config.adaptation_steps,
                      adaptation_learning_rate=config.adaptation_learning_rate or None)
    evaluation = ContinuationEvaluation()
    for index, example in enumerate(tqdm(examples, desc="groove continuations", unit="prompt")):
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
        evaluation.copies[REAL] += copy_counts(prompt_bar_contents,
                                               bar_contents(real.ticks, real.hits.classes, real_bins, bar),
                                               continuation_range, grid)

        # 2. The reference and the baselines, in seconds from the prompt's start.
        target = example["hits"].window(prompt_end, end)
        reference = DrumHits(target.times + (prompt_end - start), target.classes, target.velocities)
        evaluation.microtiming_ms["reference"].append(1000 * sixteenth_positions(reference.times, beat_times)[1])
        prompt_hits = example["hits"].window(start, prompt_end)
        replay = replay_last_bars(prompt_hits, lines[prompt_bars - 2:prompt_bars + 1] - start, last_bars=2,
                                  target_downbeats=lines[prompt_bars:] - start)
        _score(evaluation, REPLAY, reference, replay, beat_times)
        prompt_lines, target_lines = lines[:prompt_bars + 1] - start, lines[prompt_bars:] - start
        majority = prompt_bar_majority(prompt_hits, prompt_lines, target_lines, cells_per_bar=4 * meter)
        _score(evaluation, MAJORITY, reference, majority, beat_times)
        _score(evaluation, CEILING, reference, best_prompt_bars(prompt_hits, prompt_lines, target_lines, reference),
               beat_times)
        # The real continuation through the tokenizer and this decoding: the upper bound (checks the alignment).
        keep = real.ticks >= prompt_bars * bar
        evaluation.scores[REAL].append(drum_hit_scores(reference, DrumHits(
            real.hits.times[keep], real.hits.classes[keep], real.hits.velocities[keep])))

        # 3. Greedy and sampled continuations.
        for mode in DECODINGS:
            options = dict(bpm=bpm, beats_per_bar=meter, max_bars=num_bars, prompt_ticks=prompt_bars * bar,
                           temperature=config.temperature, top_k=config.top_k, top_p=config.top_p,
                           seed=config.seed + index, max_new_words=64 * num_bars * meter,
                           guidance_scale=config.guidance_scale or None, **adaptation)
            if mode == "consensus":
                output = model.generate_consensus(prompt_words, num_samples=config.consensus_samples or None,
                                                  min_share=config.consensus_min_share or None,
                                                  **{**options, "temperature": config.consensus_temperature or None})
            else:
                output = model.generate(prompt_words, do_sample=mode == "sampled",
                                        greedy_grid_ticks=greedy_grid_ticks, **options)
            decoded, bins = decoded_hits(tokenizer, output.words[0], beat_times)
            evaluation.invalid[mode] += decoded.num_invalid_words
            keep = decoded.ticks >= prompt_bars * bar
            estimated = DrumHits(decoded.hits.times[keep], decoded.hits.classes[keep], decoded.hits.velocities[keep])
            _score(evaluation, mode, reference, estimated, beat_times)
            evaluation.microtiming_ms[mode].append(1000 * sixteenth_positions(estimated.times, beat_times)[1])
            evaluation.copies[mode] += copy_counts(prompt_bar_contents,
                                                   bar_contents(decoded.ticks[keep], decoded.hits.classes[keep],
                                                                bins[keep], bar),
                                                   continuation_range, grid)
    return evaluation


def _score(evaluation: ContinuationEvaluation, name: str, reference: DrumHits, estimated: DrumHits,
           beat_times: np.ndarray) -> None:
    """Append the hit scores and the groove distance of one continuation."""
    score = drum_hit_scores(reference, estimated)
    evaluation.scores[name].append(score)
    evaluation.grooves[name].append(groove_distance(reference, estimated, beat_times=beat_times, scores=score))


# ----- style-only genre accuracy -----------------------------------------------------------------------------------


def evaluate_genre(model, tokenizer: DrumTokenizer, records: list[GrooveRecord], classifier: str | Path,
                   config: GrooveEvaluationConfig) -> dict[str, Any]:
    """Style-only generations per GMD style, tagged by the genre classifier at ``classifier``.

    Returns:
        ``{"accuracy", "balanced_accuracy", "per_genre": {genre: accuracy}, "num_generations",
        "confusion": {true genre: {predicted genre: count}}}``.
    """
    from ..models.genre import DrumGenreClassifier

    classifier = DrumGenreClassifier.from_pretrained(str(classifier)).eval()
    tempos = defaultdict(list)
    for record in records:
        if np.isfinite(record.bpm):
            tempos[top_level_style(record.style)].append(record.bpm)
    labels = set(classifier.config.label2id)
    per_genre = defaultdict(lambda: [0, 0])
    confusion = defaultdict(lambda: defaultdict(int))
    for style in tqdm(sorted(tempos), desc="style-only grooves", unit="style"):
        genre = group_genre(style)
        if genre not in labels or style not in tokenizer.styles:
            continue
        bpm = float(np.median(tempos[style]))
        options = dict(style_ids=[tokenizer.style_id(style)] * config.genre_samples, bpm=bpm, beats_per_bar=4,
                       max_bars=config.genre_bars, top_k=config.top_k, top_p=config.top_p, seed=config.seed,
                       max_new_words=64 * 4 * config.genre_bars, guidance_scale=config.guidance_scale or None)
        if config.genre_decoding == "consensus":
            output = model.generate_consensus(num_samples=config.consensus_samples or None,
                                              min_share=config.consensus_min_share or None,
                                              temperature=config.consensus_temperature or None, **options)
        else:
            output = model.generate(do_sample=True, temperature=config.genre_temperature or None, **options)
        for words in output.words:
            decoded = tokenizer.decode_tokens(tokenizer.words_to_ids(words.cpu().numpy()), bpm=bpm)
            try:
                predicted = classifier.predict(decoded.midi, tokenizer)
            except ValueError:  # no bar with drums: counts as wrong
                predicted = EMPTY_PREDICTION
            per_genre[genre][0] += predicted == genre
            per_genre[genre][1] += 1
            confusion[genre][predicted] += 1
    correct, total = (sum(values[i] for values in per_genre.values()) for i in (0, 1))
    accuracies = {genre: hits / count for genre, (hits, count) in sorted(per_genre.items())}
    return {"accuracy": correct / max(total, 1), "balanced_accuracy": float(np.mean(list(accuracies.values()) or [0])),
            "per_genre": accuracies, "num_generations": total,
            "confusion": {genre: dict(row) for genre, row in confusion.items()}}


def genre_confusion(genre: dict[str, Any]) -> GenreEvaluation:
    """The confusion of :func:`evaluate_genre` as a ``GenreEvaluation`` (one "file" per generation), for
    ``evaluation.genre.plot_confusion``: rows = the style's genre, columns = the classifier's tag."""
    labels = sorted({*genre["confusion"], *(name for row in genre["confusion"].values() for name in row)})
    index = {name: position for position, name in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for true, row in genre["confusion"].items():
        for predicted, count in row.items():
            matrix[index[true], index[predicted]] = count
    return GenreEvaluation(window_accuracy=genre["accuracy"], file_accuracy=genre["accuracy"],
                           balanced_file_accuracy=genre["balanced_accuracy"], confusion=matrix, labels=labels,
                           num_windows=genre["num_generations"], num_files=genre["num_generations"])


# ----- the whole evaluation ----------------------------------------------------------------------------------------


@dataclass
class GrooveEvaluation:
    """Continuation and genre results of one groove model on one set of GMD files."""

    config: GrooveEvaluationConfig
    continuation: ContinuationEvaluation
    genre: dict[str, Any] | None
    num_files: int
    continuation_seconds: float
    genre_seconds: float = 0.0
    style_guidance_scale: float = 1.0
    """The guidance of the style-only grooves: ``config.guidance_scale``, or the model's ``style_guidance_scale``."""

    @property
    def seconds(self) -> float:
        return self.continuation_seconds + self.genre_seconds

    def summary(self, model: str, split: str) -> dict[str, Any]:
        """The JSON of ``scripts/evaluate_groove.py``."""
        result = {"model": model, "split": split, "prompt_bars": self.config.prompt_bars,
                  "continuation_bars": self.config.continuation_bars, "num_files": self.num_files,
                  "sampling": self.config.sampling,
                  "consensus": {"num_samples": self.config.consensus_samples,
                                "min_share": self.config.consensus_min_share,
                                "temperature": self.config.consensus_temperature},
                  "adaptation": {"steps": self.config.adaptation_steps,
                                 "learning_rate": self.config.adaptation_learning_rate},
                  "guidance_scale": {"continuation": self.config.guidance_scale or 1.0,
                                     "style_only": self.style_guidance_scale},
                  "genre_temperature": self.config.genre_temperature,
                  "genre_decoding": self.config.genre_decoding, "continuation": self.continuation.summary()}
        if self.genre is not None:
            result["genre"] = self.genre
        result["seconds"] = round(self.seconds, 1)
        return result


def evaluate_groove(model, tokenizer: DrumTokenizer, records: list[GrooveRecord], config: GrooveEvaluationConfig,
                    classifier: str | Path | None = None, max_examples: int = 0) -> GrooveEvaluation:
    """Continuations of the records' prompts (the first ``max_examples``, 0 = all) and, with a ``classifier`` and
    ``config.genre_samples > 0``, the style-only genre accuracy."""
    started = time.perf_counter()
    config = dataclasses.replace(  # the model's settings where the config leaves them to it (0, or -1)
        config, consensus_samples=config.consensus_samples or model.config.consensus_samples,
        consensus_min_share=config.consensus_min_share or model.config.consensus_min_share,
        consensus_temperature=config.consensus_temperature or model.config.consensus_temperature,
        genre_temperature=config.genre_temperature or model.config.style_temperature,
        adaptation_steps=config.adaptation_steps if config.adaptation_steps >= 0 else model.config.adaptation_steps,
        adaptation_learning_rate=config.adaptation_learning_rate or model.config.adaptation_learning_rate)
    examples = continuation_examples(records, config, max_examples)
    continuation = evaluate_continuations(model, tokenizer, examples, config)
    evaluation = GrooveEvaluation(config, continuation, None, len(records), time.perf_counter() - started,
                                  style_guidance_scale=config.guidance_scale or model.config.style_guidance_scale)
    if classifier and config.genre_samples > 0:
        started = time.perf_counter()
        evaluation.genre = evaluate_genre(model, tokenizer, records, classifier, config)
        evaluation.genre_seconds = time.perf_counter() - started
    return evaluation


def format_table(result: dict[str, Any]) -> str:
    """The table the script prints, from :meth:`GrooveEvaluation.summary`."""
    continuation = result["continuation"]
    lines = [f"groove continuation: {continuation['num_examples']} examples, {result['prompt_bars']}-bar prompts, "
             f"{result['continuation_bars']} bars scored (drum-hit F1, ±50 ms, pooled)",
             f"{'decoding':<22}{'F1':>8}{'P':>8}{'R':>8}{'copy exact':>12}{'copy onsets':>13}"]
    for name in (*DECODINGS, *BASELINES, REAL):
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


__all__ = [
    "ContinuationEvaluation",
    "GrooveEvaluation",
    "GrooveEvaluationConfig",
    "continuation_examples",
    "evaluate_continuations",
    "evaluate_genre",
    "evaluate_groove",
    "format_table",
    "genre_confusion",
    "load_groove_model",
    "split_records",
]
