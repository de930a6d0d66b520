"""Train the groove model (GrooveModel) on the GMD groove build: next-word prediction over drum compound words.

    python scripts/train_groove.py --config configs/groove.json \
        --output_dir outputs/groove --export_dir checkpoints/groove [--resume] [--torch_threads 2]

Training sequences: each window of the build (``datasets_scripts/build_groove.py``: 4 bars, hop 2, a STYLE token
first) is chained with the windows that follow it in the same file (same augmented copy) up to ``sequence_bars``
bars, so the model sees what comes after 4 bars, as when it continues a 4-bar prompt. Sequences are cut to
``max_words`` words. Train-time augmentation (``data.augmentation``): tempo scaling (the model's tempo input), a
velocity scale per sequence, and dropping the tempo now and then (generation without a tempo). Validation loss
(the build's validation files, unaugmented) picks the best checkpoint; ``scripts/evaluate_groove.py`` gives the
continuation F1 and genre figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from datasets import DatasetDict, load_from_disk
from transformers import HfArgumentParser, Trainer, TrainerCallback
from transformers.trainer_pt_utils import LengthGroupedSampler

from drum_accomp.data.build_utils import command_line
from drum_accomp.genres import UNKNOWN_GENRE
from drum_accomp.models.groove import GrooveConfig, GrooveModel
from drum_accomp.models.groove.consensus import hits_to_words
from drum_accomp.models.groove.modeling_groove import IGNORE_INDEX
from drum_accomp.tokenization_drum import DrumTokenizer
from drum_accomp.training import (
    CommonTrainingArguments,
    early_stopping,
    load_settings,
    train_and_export,
    training_arguments,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class GrooveArguments:
    dataset: str = field(default=str(REPO_ROOT / "data" / "groove"),
                         metadata={"help": "groove build (datasets_scripts/build_groove.py), with tokenizer/ inside"})
    extra_train: list[str] = field(default_factory=list, metadata={
        "help": "more groove builds whose train split joins the training data (validation stays --dataset's), e.g. "
                "data/groove_songs (datasets_scripts/export_song_drums.py: the accompaniment train songs' drums, "
                "CC BY-NC-SA 4.0, so the model then carries that licence); their tokenizer must equal --dataset's"})
    init_from: str = field(default="", metadata={
        "help": "start from this GrooveModel's weights and config (continue a run whose Trainer checkpoints are gone) "
                "instead of a fresh model; the config's 'model' section overrides values of its config (e.g. dropout)"})


@dataclass
class GrooveAugmentation:
    """Train-time augmentation of one sequence (``data.augmentation`` in the config).

    Attributes:
        tempo_range: the tempo input is multiplied by a factor drawn log-uniformly from this range.
        velocity_scale_range: every hit's velocity is multiplied by one factor drawn uniformly from this range
            (then re-binned), as a drummer playing softer or harder.
        tempo_dropout: probability of hiding the tempo (the model then also works without one).
        style_dropout: probability of replacing the ``<STYLE>`` token by ``<STYLE=unknown>``: the model learns
            grooves without a style (a prompt continued without one), and the style-free prediction that
            classifier-free guidance on the style contrasts with.
    """

    tempo_range: tuple[float, float] = (0.9, 1.1)
    velocity_scale_range: tuple[float, float] = (0.8, 1.2)
    tempo_dropout: float = 0.1
    style_dropout: float = 0.0


def beats_per_bar(time_signature: str) -> int:
    """pretty_midi beats in a bar of ``"n/d"``: a dotted quarter in compound meters (6/8 -> 2), else ``n``."""
    try:
        numerator = int(str(time_signature).split("/")[0])
    except ValueError:
        return 4
    return numerator // 3 if numerator > 3 and numerator % 3 == 0 else max(numerator, 1)


def build_sequences(split, tokenizer: DrumTokenizer, config: GrooveConfig, sequence_bars: int) -> list[dict]:
    """Each window chained with the windows after it in the same file and copy, up to ``sequence_bars`` bars.

    Returns:
        ``[{"words": (n, 3) int64 <bos> <STYLE> hits... <eos>, "bpm": float, "beats_per_bar": int}, ...]``, one
        per row of ``split``.
    """
    columns = split.select_columns(["input_ids", "source_file", "copy", "window_start_bar", "window_end_bar", "bpm",
                                    "time_signature"]).to_dict()
    meters = columns["time_signature"]
    by_start = defaultdict(dict)  # (file, copy) -> window start bar -> row
    for row, (name, copy, start) in enumerate(zip(columns["source_file"], columns["copy"],
                                                  columns["window_start_bar"])):
        by_start[(name, copy)][start] = row
    special = config.num_special_tokens
    sequences = []
    for row in range(len(columns["input_ids"])):
        bar = beats_per_bar(meters[row]) * config.ticks_per_beat
        key = (columns["source_file"][row], columns["copy"][row])
        first = tokenizer.ids_to_words(columns["input_ids"][row])
        parts, offset, current = [], 0, row
        while current is not None:
            words = tokenizer.ids_to_words(columns["input_ids"][current]) if current != row else first
            ticks = tokenizer.word_ticks(words)
            num_bars = columns["window_end_bar"][current] - columns["window_start_bar"][current]
            # hits past the window's bars (a tempo or meter change inside it) would run into the next part
            hit = (words[:, 1] >= special) & (words[:, 1] < config.shift_index) & (ticks < num_bars * bar)
            parts.append((ticks[hit] + offset, words[hit, 1], words[hit, 2]))
            offset += num_bars * bar
            end_bar = columns["window_end_bar"][current]
            following = by_start[key].get(end_bar)
            # one meter per sequence: the model counts beat positions with one beats_per_bar
            same_meter = following is not None and meters[following] == meters[row]
            current = following if offset < sequence_bars * bar and same_meter else None
        ticks, instruments, velocities = (np.concatenate(values) for values in zip(*parts))
        style = first[1] if len(first) > 1 and first[1, 0] < special else first[0]
        words = np.concatenate([first[:1], style[None], hits_to_words(ticks, instruments, velocities, config),
                                np.full((1, 3), config.eos_token_id)])
        sequences.append({"words": words, "bpm": float(columns["bpm"][row]),
                          "beats_per_bar": beats_per_bar(meters[row])})
    return sequences


class GrooveSequenceDataset(torch.utils.data.Dataset):
    """Sequences cut to ``max_words`` words, augmented (train) with a generator seeded by (seed, epoch, index)."""

    def __init__(self, sequences: list[dict], tokenizer: DrumTokenizer, config: GrooveConfig, max_words: int,
                 augmentation: GrooveAugmentation | None = None, seed: int = 0):
        self.sequences, self.tokenizer, self.config = sequences, tokenizer, config
        self.max_words, self.augmentation, self.seed, self.epoch = max_words, augmentation, seed, 0

    @property
    def lengths(self) -> list[int]:
        return [min(len(sequence["words"]), self.max_words) for sequence in self.sequences]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, index: int) -> dict:
        sequence = self.sequences[index]
        words, bpm = sequence["words"][: self.max_words].copy(), sequence["bpm"]
        if self.augmentation is not None:
            rng = np.random.default_rng((self.seed, self.epoch, index))
            low, high = self.augmentation.tempo_range
            bpm = bpm * float(np.exp(rng.uniform(np.log(low), np.log(high))))
            if rng.random() < self.augmentation.tempo_dropout:
                bpm = float("nan")
            if rng.random() < self.augmentation.style_dropout:  # words[1] is the STYLE word (s, s, s)
                words[1] = self.tokenizer.style_id(UNKNOWN_GENRE)
            scale = rng.uniform(*self.augmentation.velocity_scale_range)
            special = self.config.num_special_tokens
            hit = (words[:, 1] >= special) & (words[:, 1] < self.config.shift_index)
            velocities = self.tokenizer.bin_to_velocity(words[hit, 2] - special) * scale
            words[hit, 2] = special + self.tokenizer.velocity_to_bin(np.rint(velocities).astype(np.int64))
        return {"words": words, "bpm": bpm, "beats_per_bar": sequence["beats_per_bar"]}


def collate_groove(examples: list[dict], pad_token_id: int = 0) -> dict[str, torch.Tensor]:
    """Right-pad to a batch: ``input_words`` / ``labels`` ``(batch_size, max_words, 3)`` (labels -100 on padding),
    ``bpm`` ``(batch_size,)`` float (NaN = unknown), ``beats_per_bar`` ``(batch_size,)`` long."""
    length = max(len(example["words"]) for example in examples)
    words = torch.full((len(examples), length, 3), pad_token_id, dtype=torch.long)
    labels = torch.full((len(examples), length, 3), IGNORE_INDEX, dtype=torch.long)
    for row, example in enumerate(examples):
        sequence = torch.as_tensor(example["words"], dtype=torch.long)
        words[row, : len(sequence)] = sequence
        labels[row, : len(sequence)] = sequence
    return {"input_words": words, "labels": labels,
            "bpm": torch.tensor([float(example["bpm"]) for example in examples], dtype=torch.float32),
            "beats_per_bar": torch.tensor([int(example["beats_per_bar"]) for example in examples], dtype=torch.long)}


class GrooveTrainer(Trainer):
    """A ``Trainer`` whose training batches group sequences of similar length (random mega-batches sorted by
    length, as ``group_by_length``): sequences range from a few to ``max_words`` words, and padding is wasted CPU."""

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        return LengthGroupedSampler(self.args.train_batch_size * self.args.gradient_accumulation_steps,
                                    lengths=dataset.lengths)


class SetEpochCallback(TrainerCallback):
    """Tells the training dataset the epoch, so its augmentations differ from epoch to epoch (and repeat)."""

    def __init__(self, dataset: GrooveSequenceDataset):
        self.dataset = dataset

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.dataset.set_epoch(int(state.epoch or 0))


def build_tokenizer(folder: str) -> DrumTokenizer:
    """The tokenizer a groove build saved in ``tokenizer/`` (the default one for a build without it)."""
    tokenizer_dir = Path(folder) / "tokenizer"
    return DrumTokenizer.from_pretrained(str(tokenizer_dir)) if tokenizer_dir.is_dir() else DrumTokenizer()


def extra_train_split(folder: str, tokenizer: DrumTokenizer):
    """The train split of another groove build, checked to share ``tokenizer``'s vocabulary.

    Raises:
        FileNotFoundError: no dataset at ``folder``; ValueError: no train split, or another vocabulary.
    """
    if not (Path(folder) / "dataset_dict.json").is_file():
        raise FileNotFoundError(f"no groove build at {folder!r} (--extra_train); make it with "
                                "datasets_scripts/build_groove.py --groove-dir <folder with info.csv>")
    splits = load_from_disk(folder)
    if "train" not in splits:
        raise ValueError(f"--extra_train {folder!r} has no train split (it has {list(splits)})")
    if build_tokenizer(folder).get_vocab() != tokenizer.get_vocab():
        raise ValueError(f"--extra_train {folder!r} was tokenized with another vocabulary than --dataset; rebuild it "
                         "with the same DrumTokenizer settings")
    return splits["train"]


def main(argv: list[str] | None = None) -> dict:
    common, own = HfArgumentParser((CommonTrainingArguments, GrooveArguments)).parse_args_into_dataclasses(argv)
    settings = load_settings(common.config)
    training_args = training_arguments(settings, common)
    data_settings = dict(settings.get("data", {}))

    # 1. Data: the build's splits and its tokenizer, chained into longer sequences.
    splits = load_from_disk(own.dataset) if not isinstance(own.dataset, DatasetDict) else own.dataset
    tokenizer = build_tokenizer(own.dataset)
    train, validation = splits["train"], splits["validation"]
    extra = [extra_train_split(folder, tokenizer) for folder in own.extra_train]
    if common.max_train_rows:
        train = train.select(range(min(common.max_train_rows, len(train))))
    if common.max_eval_rows:
        validation = validation.select(range(min(common.max_eval_rows, len(validation))))
    config = GrooveConfig.from_tokenizer(tokenizer, **settings["model"])
    sequence_bars, max_words = int(data_settings.get("sequence_bars", 8)), int(data_settings.get("max_words", 256))
    augmentation = GrooveAugmentation(**data_settings.get("augmentation", {}))
    train_sequences = build_sequences(train, tokenizer, config, sequence_bars)
    for split in extra:  # chained within each build (file names of two builds may coincide)
        train_sequences += build_sequences(split, tokenizer, config, sequence_bars)
    validation_sequences = build_sequences(validation, tokenizer, config, sequence_bars)
    train_set = GrooveSequenceDataset(train_sequences, tokenizer, config, max_words, augmentation, training_args.seed)
    validation_set = GrooveSequenceDataset(validation_sequences, tokenizer, config, max_words)
    num_words = sum(min(len(s["words"]), max_words) for s in train_sequences)

    # 2. Model.
    model = (GrooveModel.from_pretrained(own.init_from, dtype=torch.float32, **settings["model"]) if own.init_from
             else GrooveModel(config))
    print(f"sequences: train {len(train_set)} ({num_words:,} words, up to {sequence_bars} bars / {max_words} words), "
          f"validation {len(validation_set)}; model {model.num_parameters():,} parameters "
          f"({model.num_parameters() * 2 / 1e6:.1f} MB in fp16)")

    # 3. Trainer: validation loss picks the best checkpoint.
    trainer = GrooveTrainer(
        model=model, args=training_args, train_dataset=train_set, eval_dataset=validation_set,
        data_collator=lambda examples: collate_groove(examples, config.pad_token_id),
        callbacks=early_stopping(settings) + [SetEpochCallback(train_set)],
    )
    summary = train_and_export(trainer, common, settings, command=command_line(__file__, argv),
                               extra={"train_sequences": len(train_set), "train_words_per_epoch": num_words,
                                      "validation_sequences": len(validation_set),
                                      "extra_train": {folder: len(split) for folder, split in zip(own.extra_train,
                                                                                                  extra)},
                                      "parameters": model.num_parameters()})
    if common.export_dir and trainer.is_world_process_zero():
        tokenizer.save_pretrained(common.export_dir)  # the export decodes on its own
    return summary


if __name__ == "__main__":
    main()
