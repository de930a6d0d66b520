"""Train the beat and downbeat tracker (DrumBeatTracker) on the accompaniment build's backing mels.

    python scripts/train_beat_tracker.py --config configs/beat_tracker.json \
        --output_dir outputs/beat_tracker --export_dir checkpoints/beat_tracker [--resume]

Labels are the exact MIDI beats and downbeats stored with each window; songs transcribed from audio are left out
(their tempo maps are not the music's). Validation = the build's validation songs (a song-level split), scored per
window with mir_eval's beat F-measure (70 ms) after the full post-processing; the best checkpoint is the one with
the highest mean of beat and downbeat F. Song-level figures against madmom and librosa come from
``scripts/evaluate_beat_trackers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import mir_eval
import numpy as np
import torch
from datasets import DatasetDict, load_from_disk
from transformers import HfArgumentParser, Trainer, TrainerCallback

from drum_accomp.data.build_utils import command_line, measure_mel_statistics
from drum_accomp.data.beat_windows import (BeatAugmentationConfig, BeatWindowDataset, collate_beat_windows,
                                           reliable_beat_rows)
from drum_accomp.models.beat_tracker import DrumBeatTracker, DrumBeatTrackerConfig, decode_beats
from drum_accomp.training import (CommonTrainingArguments, early_stopping, load_settings, train_and_export,
                                  training_arguments)

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class BeatTrackerArguments:
    dataset: str = field(default=str(REPO_ROOT / "data" / "accompaniment"),
                         metadata={"help": "accompaniment build (datasets_scripts/build_accompaniment.py)"})
    keep_transcribed: bool = field(default=False, metadata={"help": "keep songs transcribed from audio"})


class SetEpochCallback(TrainerCallback):
    """Tells the training dataset the epoch, so its augmentations differ from epoch to epoch (and repeat)."""

    def __init__(self, dataset: BeatWindowDataset):
        self.dataset = dataset

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.dataset.set_epoch(int(state.epoch or 0))


def beat_metrics(config: DrumBeatTrackerConfig):
    """``compute_metrics`` for the Trainer: mean beat and downbeat F-measure of the decoded windows."""

    def compute(prediction) -> dict[str, float]:
        activations = prediction.predictions  # (num_windows, num_frames, 2) probabilities
        targets = prediction.label_ids
        beat_scores, downbeat_scores = [], []
        for window_activations, window_targets in zip(activations, targets):
            decoded = decode_beats(window_activations, config)
            reference = [np.flatnonzero(window_targets[:, column] >= 1.0) / config.frame_rate for column in (0, 1)]
            beat_scores.append(mir_eval.beat.f_measure(reference[0], decoded.beats))
            downbeat_scores.append(mir_eval.beat.f_measure(reference[1], decoded.downbeats))
        beat_f, downbeat_f = float(np.mean(beat_scores)), float(np.mean(downbeat_scores))
        return {"beat_f": beat_f, "downbeat_f": downbeat_f, "mean_f": (beat_f + downbeat_f) / 2}

    return compute


def main(argv: list[str] | None = None) -> dict:
    common, own = HfArgumentParser((CommonTrainingArguments, BeatTrackerArguments)).parse_args_into_dataclasses(argv)
    settings = load_settings(common.config)
    training_args = training_arguments(settings, common)

    # 1. Data: the build's train and validation splits, songs with reliable beat labels.
    splits = own.dataset if isinstance(own.dataset, DatasetDict) else load_from_disk(own.dataset)
    train, validation = splits["train"], splits["validation"]
    if not own.keep_transcribed:
        train, validation = reliable_beat_rows(train), reliable_beat_rows(validation)
    if common.max_train_rows:
        train = train.select(range(min(common.max_train_rows, len(train))))
    if common.max_eval_rows:
        validation = validation.select(range(min(common.max_eval_rows, len(validation))))

    # 2. Model: mel statistics measured on the training rows unless the config fixes them.
    model_settings = dict(settings["model"])
    if "mel_mean" not in model_settings or "mel_std" not in model_settings:
        statistics = measure_mel_statistics(train.select_columns(["backing_mel"]).with_format("numpy"), "backing_mel",
                                            batch_size=256)
        model_settings["mel_mean"], model_settings["mel_std"] = statistics["mel_mean"], statistics["mel_std"]
    config = DrumBeatTrackerConfig(**model_settings)
    model = DrumBeatTracker(config)
    print(f"windows: train {len(train)}, validation {len(validation)}; model {model.num_parameters():,} parameters, "
          f"receptive field {config.receptive_field / config.frame_rate:.1f} s")

    augmentation = BeatAugmentationConfig(**settings.get("augmentation", {}))
    train_windows = BeatWindowDataset(train, augmentation, config.target_widening, config.frame_rate,
                                      seed=training_args.seed)
    validation_windows = BeatWindowDataset(validation, None, config.target_widening, config.frame_rate)

    # 3. Trainer: validation activations are reduced to probabilities before gathering (small).
    trainer = Trainer(
        model=model, args=training_args, train_dataset=train_windows, eval_dataset=validation_windows,
        data_collator=collate_beat_windows, compute_metrics=beat_metrics(config),
        preprocess_logits_for_metrics=lambda logits, labels: torch.sigmoid(logits.float()),
        callbacks=early_stopping(settings) + [SetEpochCallback(train_windows)],
    )
    return train_and_export(trainer, common, settings, command=command_line(__file__, argv),
                            extra={"train_windows": len(train), "validation_windows": len(validation)})


if __name__ == "__main__":
    main()
