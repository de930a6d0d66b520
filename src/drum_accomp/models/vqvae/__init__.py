"""Mel VQ-VAE: log-mel frames <-> discrete codes (one class; a backing config and a drums config)."""

from .configuration_vqvae import MelVQVAEConfig
from .modeling_vqvae import MelVQVAEModel, MelVQVAEOutput, MelVQVAEPreTrainedModel
from .quantizer import MelQuantizerOutput, MelVectorQuantizer, code_statistics

__all__ = [
    "MelQuantizerOutput",
    "MelVQVAEConfig",
    "MelVQVAEModel",
    "MelVQVAEOutput",
    "MelVQVAEPreTrainedModel",
    "MelVectorQuantizer",
    "code_statistics",
]
