"""Drum vocoder: log-mel frames -> 16 kHz drum audio (Vocos-style neural vocoder; Griffin-Lim without weights)."""

from .configuration_vocoder import DrumVocoderConfig
from .griffin_lim import griffin_lim
from .modeling_vocoder import (
    DrumVocoder,
    DrumVocoderMelSpectrogram,
    DrumVocoderOutput,
    DrumVocoderPreTrainedModel,
    multi_resolution_stft_loss,
)

__all__ = [
    "DrumVocoder",
    "DrumVocoderConfig",
    "DrumVocoderMelSpectrogram",
    "DrumVocoderOutput",
    "DrumVocoderPreTrainedModel",
    "griffin_lim",
    "multi_resolution_stft_loss",
]
