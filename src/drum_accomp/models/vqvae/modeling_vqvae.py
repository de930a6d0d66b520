"""MelVQVAEModel: log-mel frames -> discrete codes (time-downsampled) -> log-mel frames.

Read top-down: output dataclass, building blocks (residual block, encoder, decoder), the pre-trained base, the
public model with ``encode`` / ``decode``. The quantizer lives in ``quantizer.py`` (shared by both VQ-VAEs).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from .configuration_vqvae import MelVQVAEConfig
from .quantizer import MelVectorQuantizer


@dataclass
class MelVQVAEOutput(ModelOutput):
    """Output of :class:`MelVQVAEModel`.

    Attributes:
        loss: scalar ``reconstruction_loss + commitment_loss``.
        reconstruction_loss: scalar masked ``L1 + L2`` between input and reconstruction, in normalised mel units
            (``(mel - config.mel_mean) / config.mel_std``), averaged over valid frames and mel bands.
        commitment_loss: scalar ``commitment_weight * ||encoder_output - sg(code)||^2``.
        reconstruction: ``(batch_size, num_frames, num_mels)`` decoded log-mels (natural log, input units).
        codes: ``(batch_size, num_frames // downsample_factor)`` long code indices.
        perplexity: scalar ``exp(entropy)`` of the batch's code histogram.
        codebook_usage: scalar fraction of codes used in the batch.
        mel_l1: ``(batch_size,)`` mean absolute error between input and reconstruction per example, over valid
            frames and mel bands, in natural-log mel units (the reported metric; no gradient).
    """

    loss: torch.Tensor | None = None
    reconstruction_loss: torch.Tensor | None = None
    commitment_loss: torch.Tensor | None = None
    reconstruction: torch.Tensor | None = None
    codes: torch.Tensor | None = None
    perplexity: torch.Tensor | None = None
    codebook_usage: torch.Tensor | None = None
    mel_l1: torch.Tensor | None = None


# ----- building blocks ---------------------------------------------------------------------------------------------


class MelVQVAEResidualBlock(nn.Module):
    """``h + conv1x1(gelu(conv3_dilated(gelu(h))))`` over time, channels kept."""

    def __init__(self, config: MelVQVAEConfig, dilation: int):
        super().__init__()
        self.dilated_conv = nn.Conv1d(config.hidden_size, config.hidden_size, 3, dilation=dilation, padding=dilation)
        self.pointwise_conv = nn.Conv1d(config.hidden_size, config.hidden_size, 1)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        residual = hidden_states
        hidden_states = self.dilated_conv(nn.functional.gelu(hidden_states))
        hidden_states = self.pointwise_conv(nn.functional.gelu(hidden_states))
        return residual + hidden_states


def _residual_stack(config: MelVQVAEConfig) -> list[nn.Module]:
    return [MelVQVAEResidualBlock(config, config.dilation_growth_rate ** index)
            for index in range(config.num_res_blocks)]


class MelVQVAEEncoder(nn.Module):
    """``(batch_size, num_mels, num_frames)`` -> ``(batch_size, codebook_dim, num_frames // downsample_factor)``."""

    def __init__(self, config: MelVQVAEConfig):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv1d(config.num_mels, config.hidden_size, 3, padding=1)]
        for _ in range(config.num_downsampling_steps):
            layers += _residual_stack(config)
            # kernel 4, stride 2, padding 1 halves an even length exactly
            layers.append(nn.Conv1d(config.hidden_size, config.hidden_size, 4, stride=2, padding=1))
        layers += _residual_stack(config)
        layers += [nn.GELU(), nn.Conv1d(config.hidden_size, config.codebook_dim, 1)]
        self.layers = nn.Sequential(*layers)

    def forward(self, mel_features: torch.Tensor) -> torch.Tensor:
        return self.layers(mel_features)


class MelVQVAEDecoder(nn.Module):
    """``(batch_size, codebook_dim, num_codes)`` -> ``(batch_size, num_mels, num_codes * downsample_factor)``."""

    def __init__(self, config: MelVQVAEConfig):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv1d(config.codebook_dim, config.hidden_size, 3, padding=1)]
        layers += _residual_stack(config)
        for _ in range(config.num_downsampling_steps):
            # kernel 4, stride 2, padding 1 doubles the length exactly
            layers.append(nn.ConvTranspose1d(config.hidden_size, config.hidden_size, 4, stride=2, padding=1))
            layers += _residual_stack(config)
        layers += [nn.GELU(), nn.Conv1d(config.hidden_size, config.num_mels, 3, padding=1)]
        self.layers = nn.Sequential(*layers)

    def forward(self, quantized: torch.Tensor) -> torch.Tensor:
        return self.layers(quantized)


# ----- models ------------------------------------------------------------------------------------------------------


class MelVQVAEPreTrainedModel(PreTrainedModel):
    config_class = MelVQVAEConfig
    base_model_prefix = "mel_vqvae"
    main_input_name = "mel_features"

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)):
            module.reset_parameters()
        elif isinstance(module, MelVectorQuantizer):
            module.reset_codebook()


class MelVQVAEModel(MelVQVAEPreTrainedModel):
    """Mel VQ-VAE: one class, two configs (``configs/vqvae_backing.json``, ``configs/vqvae_drums.json``).

    ``forward`` reconstructs and returns the training loss; :meth:`encode` turns log-mels into codes and
    :meth:`decode` turns codes back into log-mels.
    """

    def __init__(self, config: MelVQVAEConfig):
        super().__init__(config)
        self.encoder = MelVQVAEEncoder(config)
        self.quantizer = MelVectorQuantizer(config)
        self.decoder = MelVQVAEDecoder(config)
        self.post_init()

    def _check_mel_features(self, mel_features: torch.Tensor) -> None:
        if mel_features.dim() != 3:
            raise ValueError(f"mel_features must be (batch_size, num_frames, num_mels), got shape "
                             f"{tuple(mel_features.shape)}")
        num_frames, num_mels = mel_features.shape[1:]
        if num_mels != self.config.num_mels:
            raise ValueError(f"expected {self.config.num_mels} mel bands (config.num_mels), got {num_mels}; use "
                             "the feature extractor this model was trained with")
        factor = self.config.downsample_factor
        if num_frames == 0 or num_frames % factor:
            raise ValueError(f"num_frames={num_frames} is not a positive multiple of downsample_factor={factor}; "
                             f"pad with the feature extractor's pad_to_multiple_of={factor} (or crop)")

    def _encode_vectors(self, mel_features: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """Normalised, masked log-mels -> encoder outputs ``(batch_size, num_codes, codebook_dim)``."""
        normalized = (mel_features - self.config.mel_mean) / self.config.mel_std
        if attention_mask is not None:
            normalized = normalized * attention_mask[..., None].to(normalized.dtype)  # padding -> mean mel
        hidden_states = self.encoder(normalized.transpose(1, 2))  # (batch_size, codebook_dim, num_codes)
        return hidden_states.transpose(1, 2)

    def _decode_vectors(self, quantized: torch.Tensor) -> torch.Tensor:
        """``(batch_size, num_codes, codebook_dim)`` -> normalised log-mels ``(batch_size, num_frames, num_mels)``."""
        return self.decoder(quantized.transpose(1, 2)).transpose(1, 2)

    def forward(self, mel_features: torch.Tensor, attention_mask: torch.Tensor | None = None) -> MelVQVAEOutput:
        """Reconstruct log-mels through the codebook.

        Args:
            mel_features: ``(batch_size, num_frames, num_mels)`` natural-log mels
                (``BeatAlignedMelFeatureExtractor``), ``num_frames`` a multiple of ``config.downsample_factor``.
            attention_mask: ``(batch_size, num_frames)``, 1 for real frames, 0 for padding; padded frames are left
                out of the losses and the codebook update. All ones when omitted.

        Returns:
            :class:`MelVQVAEOutput` with ``loss`` for ``Trainer``.
        """
        self._check_mel_features(mel_features)
        batch_size, num_frames, _ = mel_features.shape
        factor = self.config.downsample_factor
        if attention_mask is None:
            attention_mask = torch.ones(batch_size, num_frames, dtype=torch.long, device=mel_features.device)
        frame_mask = attention_mask.to(mel_features.dtype)
        # a code is real when any of its frames is: (batch_size, num_codes, factor) -> (batch_size, num_codes)
        code_mask = attention_mask.view(batch_size, num_frames // factor, factor).bool().any(dim=-1)

        hidden_states = self._encode_vectors(mel_features, attention_mask)
        quantizer_output = self.quantizer(hidden_states, code_mask)
        predicted = self._decode_vectors(quantizer_output.quantized)  # normalised units

        target = (mel_features - self.config.mel_mean) / self.config.mel_std
        error = (predicted - target) * frame_mask[..., None]
        denominator = (frame_mask.sum() * self.config.num_mels).clamp(min=1)
        reconstruction_loss = (error.abs().sum() + error.pow(2).sum()) / denominator
        loss = reconstruction_loss + quantizer_output.loss
        with torch.no_grad():  # back to natural-log units: (batch_size, num_frames, num_mels) -> (batch_size,)
            valid_values = (frame_mask.sum(dim=1) * self.config.num_mels).clamp(min=1)
            mel_l1 = error.abs().sum(dim=(1, 2)) * self.config.mel_std / valid_values
        return MelVQVAEOutput(
            loss=loss,
            reconstruction_loss=reconstruction_loss,
            commitment_loss=quantizer_output.loss,
            reconstruction=predicted * self.config.mel_std + self.config.mel_mean,
            codes=quantizer_output.codes,
            perplexity=quantizer_output.perplexity,
            codebook_usage=quantizer_output.codebook_usage,
            mel_l1=mel_l1,
        )

    @torch.no_grad()
    def encode(self, mel_features: torch.Tensor) -> torch.Tensor:
        """Log-mels -> codes, without touching the codebook (whatever the mode).

        Args:
            mel_features: ``(batch_size, num_frames, num_mels)``, ``num_frames`` a multiple of
                ``config.downsample_factor``.

        Returns:
            ``(batch_size, num_frames // downsample_factor)`` long codes in ``[0, config.codebook_size)``.
        """
        self._check_mel_features(mel_features)
        hidden_states = self._encode_vectors(mel_features, None)  # (batch_size, num_codes, codebook_dim)
        codes = self.quantizer.nearest_codes(hidden_states.reshape(-1, self.config.codebook_dim).float())
        return codes.view(hidden_states.shape[:2])

    @torch.no_grad()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes -> log-mels.

        Args:
            codes: ``(batch_size, num_codes)`` long in ``[0, config.codebook_size)``.

        Returns:
            ``(batch_size, num_codes * downsample_factor, num_mels)`` natural-log mels.
        """
        if codes.dim() != 2:
            raise ValueError(f"codes must be (batch_size, num_codes), got shape {tuple(codes.shape)}")
        quantized = self.quantizer.lookup(codes.long())  # (batch_size, num_codes, codebook_dim)
        return self._decode_vectors(quantized) * self.config.mel_std + self.config.mel_mean


__all__ = ["MelVQVAEModel", "MelVQVAEOutput", "MelVQVAEPreTrainedModel"]
