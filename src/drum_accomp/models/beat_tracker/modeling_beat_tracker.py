"""DrumBeatTracker: log-mel frames -> per-frame beat and downbeat activations -> beat and downbeat times.

Read top-down: output dataclass, the residual TCN block, the pre-trained base, the public model (``forward`` for
training, ``track`` for use). Decoding activations into times lives in ``postprocessing.py`` (numpy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from .configuration_beat_tracker import DrumBeatTrackerConfig
from .postprocessing import BeatDecoding, decode_beats


@dataclass
class DrumBeatTrackerOutput(ModelOutput):
    """Output of :class:`DrumBeatTracker`.

    Attributes:
        loss: scalar weighted binary cross-entropy (beat + ``downbeat_loss_weight`` x downbeat), over valid frames.
        logits: ``(batch_size, num_frames, 2)`` beat and downbeat logits.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None


# ----- building blocks ---------------------------------------------------------------------------------------------


class DrumBeatTrackerBlock(nn.Module):
    """``h + conv1x1(dropout(elu(conv_dilated(h))))``: one non-causal TCN block, channels kept."""

    def __init__(self, config: DrumBeatTrackerConfig, dilation: int):
        super().__init__()
        padding = dilation * (config.kernel_size - 1) // 2
        self.dilated_conv = nn.Conv1d(config.hidden_size, config.hidden_size, config.kernel_size,
                                      dilation=dilation, padding=padding)
        self.norm = nn.GroupNorm(1, config.hidden_size)
        self.dropout = nn.Dropout(config.dropout)
        self.pointwise_conv = nn.Conv1d(config.hidden_size, config.hidden_size, 1)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """``(batch_size, hidden_size, num_frames)`` -> same shape."""
        update = nn.functional.elu(self.norm(self.dilated_conv(hidden_states)))
        return hidden_states + self.pointwise_conv(self.dropout(update))


class DrumBeatTrackerPreTrainedModel(PreTrainedModel):
    config_class = DrumBeatTrackerConfig
    base_model_prefix = "beat_tracker"
    main_input_name = "mel_features"

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Conv1d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="linear")
            if module.bias is not None:
                nn.init.zeros_(module.bias)


# ----- public model ------------------------------------------------------------------------------------------------


class DrumBeatTracker(DrumBeatTrackerPreTrainedModel):
    """Beat and downbeat activations from the pipeline's 80-band log-mels (no second feature pass)."""

    def __init__(self, config: DrumBeatTrackerConfig):
        super().__init__(config)
        self.input_conv = nn.Conv1d(config.num_mels, config.hidden_size, config.kernel_size,
                                    padding=(config.kernel_size - 1) // 2)
        self.blocks = nn.ModuleList(DrumBeatTrackerBlock(config, 2 ** index) for index in range(config.num_blocks))
        self.head = nn.Conv1d(config.hidden_size, 2, 1)
        self.post_init()

    def _check_mels(self, mel_features: torch.Tensor) -> None:
        if mel_features.ndim != 3 or mel_features.shape[-1] != self.config.num_mels:
            raise ValueError(
                f"mel_features must have shape (batch_size, num_frames, {self.config.num_mels}), got "
                f"{tuple(mel_features.shape)}; compute them with BeatAlignedMelFeatureExtractor"
            )

    def forward(
        self,
        mel_features: torch.Tensor,
        beat_targets: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        **kwargs,
    ) -> DrumBeatTrackerOutput:
        """Per-frame logits, and the loss when targets are given.

        Args:
            mel_features: ``(batch_size, num_frames, num_mels)`` natural-log mels.
            beat_targets: ``(batch_size, num_frames, 2)`` float targets in [0, 1] (beat, downbeat), widened
                around annotations by ``training_targets``.
            attention_mask: ``(batch_size, num_frames)`` 1 for real frames, 0 for padding (left out of the loss).
        """
        self._check_mels(mel_features)
        hidden_states = (mel_features.transpose(1, 2) - self.config.mel_mean) / self.config.mel_std
        hidden_states = self.input_conv(hidden_states)  # (batch_size, hidden_size, num_frames)
        for block in self.blocks:
            hidden_states = block(hidden_states)
        logits = self.head(hidden_states).transpose(1, 2)  # (batch_size, num_frames, 2)

        loss = None
        if beat_targets is not None:
            weights = 1.0 + (self.config.positive_weight - 1.0) * (beat_targets > 0).to(logits.dtype)
            weights = weights * logits.new_tensor([1.0, self.config.downbeat_loss_weight])
            if attention_mask is not None:
                weights = weights * attention_mask[..., None].to(logits.dtype)
            losses = nn.functional.binary_cross_entropy_with_logits(logits.float(), beat_targets.float(),
                                                                    reduction="none")
            loss = (losses * weights).sum() / weights.sum().clamp_min(1e-8)
        return DrumBeatTrackerOutput(loss=loss, logits=logits)

    @torch.inference_mode()
    def activations(self, mel_features: np.ndarray | torch.Tensor) -> np.ndarray:
        """``(num_frames, num_mels)`` mels of one recording -> ``(num_frames, 2)`` float32 beat/downbeat
        probabilities. The TCN is fully convolutional: any length, one pass."""
        mels = torch.as_tensor(np.asarray(mel_features, dtype=np.float32))
        if mels.ndim != 2:
            raise ValueError(f"activations() takes one recording's mels (num_frames, num_mels), got shape "
                             f"{tuple(mels.shape)}")
        was_training = self.training
        self.eval()
        logits = self(mels[None].to(self.device, dtype=self.dtype)).logits[0]
        self.train(was_training)
        probabilities = torch.sigmoid(logits.float()).cpu().numpy()
        # Digital silence throughout: no beat (the network, never trained on silence, fires there). Silent frames
        # inside music are left to the network: zeroing them measured worse (test downbeat F 0.620 -> 0.599).
        if float(mels.max()) <= math.log(self.config.log_floor) + 1e-3:
            probabilities[:] = 0.0
        return probabilities

    def track(self, mel_features: np.ndarray | torch.Tensor) -> BeatDecoding:
        """``(num_frames, num_mels)`` mels -> beats, downbeats, bar length, confidence (``BeatDecoding``)."""
        return decode_beats(self.activations(mel_features), self.config)


def training_targets(beat_frames: np.ndarray, downbeat_frames: np.ndarray, num_frames: int,
                     widening: float) -> np.ndarray:
    """``(num_frames, 2)`` float32 targets: 1 at annotated frames, ``widening`` at their neighbours (±1 frame).

    Args:
        beat_frames / downbeat_frames: frame indices (rounded ``time * frame_rate``); out-of-range ones are dropped.
    """
    targets = np.zeros((num_frames, 2), dtype=np.float32)
    for column, frames in enumerate((beat_frames, downbeat_frames)):
        frames = np.asarray(frames, dtype=np.int64)
        for shift, value in ((-1, widening), (1, widening), (0, 1.0)):
            shifted = frames + shift
            shifted = shifted[(shifted >= 0) & (shifted < num_frames)]
            targets[shifted, column] = np.maximum(targets[shifted, column], value)
    return targets


__all__ = ["DrumBeatTracker", "DrumBeatTrackerOutput", "DrumBeatTrackerPreTrainedModel", "training_targets"]
