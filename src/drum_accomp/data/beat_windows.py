"""Training windows for the beat tracker, read from the accompaniment dataset build.

Each row of ``datasets_scripts/build_accompaniment.py``'s output holds a 10.24 s window: ``backing_mel`` and
``drums_mel`` ``(1024, 80)`` float16 natural-log mels (already augmented at render time: two SoundFonts, seven
kits, transposition, tempo, EQ, reverb, noise, low-pass) and the exact ``beat_times`` / ``downbeat_times`` of
the MIDI, relative to the window start. ``BeatWindowDataset`` adds, per item, the augmentations that are cheap on
mels:

- **full mix** with probability ``mix_probability``: the drums added to the backing in the power domain
  (``log(exp(backing) + gain * exp(drums))``, exact for uncorrelated signals), the drums ``drum_gain_db`` louder
  or softer, so that the tracker also works on songs that already have drums;
- **gain**: the whole window ``gain_db`` louder or softer (a constant in the log domain, floor kept);
- **frequency masking**: up to ``max_masked_bands`` adjacent bands set to the floor (SpecAugment).

Songs whose MIDI was transcribed from audio (``/Transcribed Songs/`` in their path) are left out by default:
their tempo maps do not follow the music, so their beat labels are wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..models.beat_tracker.modeling_beat_tracker import training_targets

LOG_FLOOR = float(np.log(1e-5))
"""The feature extractor's log floor (natural log of its ``1e-5`` power floor)."""

UNRELIABLE_BEAT_LABELS = ("/Transcribed Songs/",)
"""Path parts of songs whose MIDI tempo map does not follow the music (audio transcriptions)."""

COLUMNS = ("backing_mel", "drums_mel", "beat_times", "downbeat_times")


@dataclass
class BeatAugmentationConfig:
    """Per-item mel augmentations (probabilities in [0, 1], gains in dB)."""

    mix_probability: float = 0.3
    drum_gain_db: tuple[float, float] = (-9.0, 3.0)
    gain_db: tuple[float, float] = (-12.0, 6.0)
    mask_probability: float = 0.3
    max_masked_bands: int = 12


def reliable_beat_rows(dataset, exclude: tuple[str, ...] = UNRELIABLE_BEAT_LABELS):
    """The rows of a build split whose ``song_id`` contains none of ``exclude``."""
    keep = [index for index, song in enumerate(dataset["song_id"]) if not any(part in song for part in exclude)]
    return dataset.select(keep)


class BeatWindowDataset(torch.utils.data.Dataset):
    """Items ``{"mel_features": (num_frames, num_mels) float32, "beat_targets": (num_frames, 2) float32}``.

    Args:
        dataset: a split of the accompaniment build (``datasets.Dataset`` with ``COLUMNS``).
        augmentation: ``BeatAugmentationConfig`` for training, ``None`` for evaluation (backing only, as is).
        target_widening: value of the frames next to an annotation (``DrumBeatTrackerConfig.target_widening``).
        seed: base seed; item ``i`` of epoch ``e`` draws from ``(seed, e, i)`` so runs repeat exactly.
    """

    def __init__(self, dataset, augmentation: BeatAugmentationConfig | None, target_widening: float,
                 frame_rate: float = 100.0, seed: int = 0):
        missing = [column for column in COLUMNS if column not in dataset.column_names]
        if missing:
            raise ValueError(f"dataset lacks columns {missing}; build it with datasets_scripts/build_accompaniment.py")
        self.dataset = dataset.select_columns(list(COLUMNS)).with_format("numpy")
        self.augmentation = augmentation
        self.target_widening = target_widening
        self.frame_rate = frame_rate
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        row = self.dataset[int(index)]
        mels = row["backing_mel"].astype(np.float32)
        if self.augmentation is not None:
            rng = np.random.default_rng((self.seed, self.epoch, int(index)))
            mels = augment_mels(mels, row["drums_mel"].astype(np.float32), self.augmentation, rng)
        num_frames = len(mels)
        targets = training_targets(np.round(row["beat_times"] * self.frame_rate),
                                   np.round(row["downbeat_times"] * self.frame_rate), num_frames,
                                   self.target_widening)
        return {"mel_features": torch.from_numpy(mels), "beat_targets": torch.from_numpy(targets)}


def augment_mels(backing: np.ndarray, drums: np.ndarray, config: BeatAugmentationConfig,
                 rng: np.random.Generator) -> np.ndarray:
    """``(num_frames, num_mels)`` backing (and drums) log-mels -> augmented log-mels, same shape."""
    mels = backing
    if rng.random() < config.mix_probability:
        drum_gain = np.log(10.0) * rng.uniform(*config.drum_gain_db) / 10.0  # dB of power -> natural log
        mels = np.logaddexp(backing, drums + drum_gain)
    gain = np.log(10.0) * rng.uniform(*config.gain_db) / 10.0
    mels = np.maximum(mels + gain, LOG_FLOOR)
    if rng.random() < config.mask_probability and config.max_masked_bands > 0:
        width = int(rng.integers(1, config.max_masked_bands + 1))
        start = int(rng.integers(0, mels.shape[1] - width + 1))
        mels = mels.copy()
        mels[:, start:start + width] = LOG_FLOOR
    return mels.astype(np.float32)


def collate_beat_windows(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack equal-length windows (the build's windows all have the same length)."""
    return {key: torch.stack([item[key] for item in items]) for key in items[0]}


__all__ = ["BeatAugmentationConfig", "BeatWindowDataset", "augment_mels", "collate_beat_windows",
           "reliable_beat_rows"]
