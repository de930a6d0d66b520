"""The one vector quantizer of the package: nearest code, straight-through gradient, EMA codebook, dead-code restart.

Both mel VQ-VAEs (backing and drums) import it; fix a bug here once.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .configuration_vqvae import MelVQVAEConfig


@dataclass
class MelQuantizerOutput:
    """Output of :class:`MelVectorQuantizer`.

    Attributes:
        codes: ``(batch_size, num_codes)`` long, index of the nearest code of each vector.
        quantized: ``(batch_size, num_codes, codebook_dim)`` the codes, with the straight-through gradient
            (forward = code vector, backward = identity to the encoder output).
        loss: scalar commitment loss ``commitment_weight * mean ||encoder_output - sg(code)||^2`` over valid vectors.
        perplexity: scalar ``exp(entropy)`` of the code histogram of the batch (1 = one code, codebook_size = uniform).
        codebook_usage: scalar fraction of the codebook used at least once in the batch.
    """

    codes: torch.Tensor
    quantized: torch.Tensor
    loss: torch.Tensor
    perplexity: torch.Tensor
    codebook_usage: torch.Tensor


@torch.no_grad()
def code_statistics(codes: torch.Tensor, codebook_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Perplexity and codebook usage of a set of codes (a batch, or a whole split for evaluation).

    Args:
        codes: long code indices of any shape, all counted.
        codebook_size: number of codes of the codebook.

    Returns:
        ``(perplexity, codebook_usage)`` scalars: ``exp(entropy)`` of the code histogram (1 = one code,
        ``codebook_size`` = uniform) and the fraction of the codebook used at least once.
    """
    counts = torch.bincount(codes.reshape(-1).long(), minlength=codebook_size).double()
    probabilities = counts / counts.sum().clamp(min=1)
    perplexity = torch.exp(-(probabilities * torch.log(probabilities + 1e-10)).sum()).float()
    return perplexity, (counts > 0).float().mean()


class MelVectorQuantizer(nn.Module):
    """Vector quantizer with an exponential-moving-average codebook (van den Oord et al. 2017, appendix; Jukebox).

    The codebook is a buffer, not a parameter: in training mode each forward pass updates

    - ``cluster_size <- decay * cluster_size + (1 - decay) * (vectors assigned to each code)``
    - ``embedding_sum <- decay * embedding_sum + (1 - decay) * (sum of the vectors assigned to each code)``
    - ``codebook = embedding_sum / laplace_smoothed(cluster_size)``

    and restarts every code whose ``cluster_size`` is below ``config.dead_code_threshold`` from a random valid
    encoder output of the batch. In eval mode the codebook is frozen and the lookup is deterministic.
    """

    def __init__(self, config: MelVQVAEConfig):
        super().__init__()
        self.codebook_size = config.codebook_size
        self.codebook_dim = config.codebook_dim
        self.commitment_weight = config.commitment_weight
        self.decay = config.ema_decay
        self.dead_code_threshold = config.dead_code_threshold
        self.epsilon = config.epsilon
        self.register_buffer("codebook", torch.randn(config.codebook_size, config.codebook_dim))
        # Zero usage at start: the first training step restarts every code from encoder outputs (a data init).
        self.register_buffer("cluster_size", torch.zeros(config.codebook_size))
        self.register_buffer("embedding_sum", self.codebook.clone())

    def reset_codebook(self) -> None:
        """Random codes, zero usage (so the first training step restarts them all from data)."""
        with torch.no_grad():
            self.codebook.normal_()
            self.cluster_size.zero_()
            self.embedding_sum.copy_(self.codebook)

    def nearest_codes(self, vectors: torch.Tensor) -> torch.Tensor:
        """Index of the nearest code (squared Euclidean distance) of each row of ``vectors`` ``(n, codebook_dim)``."""
        # ||v - c||^2 = ||v||^2 - 2 v.c + ||c||^2; ||v||^2 is the same for every code, so it is left out
        distances = self.codebook.pow(2).sum(dim=1)[None] - 2 * vectors @ self.codebook.t()  # (n, codebook_size)
        return distances.argmin(dim=1)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Code vectors of ``codes`` ``(...)`` -> ``(..., codebook_dim)``."""
        if codes.numel() and (codes.min() < 0 or codes.max() >= self.codebook_size):
            raise ValueError(f"codes must be in [0, {self.codebook_size}), got values in "
                             f"[{int(codes.min())}, {int(codes.max())}]")
        return nn.functional.embedding(codes, self.codebook)

    @torch.no_grad()
    def _update_codebook(self, vectors: torch.Tensor, codes: torch.Tensor) -> None:
        """EMA step and dead-code restart from the valid encoder outputs ``vectors`` ``(n, codebook_dim)``."""
        # 1. moving averages of per-code counts and sums
        one_hot = nn.functional.one_hot(codes, self.codebook_size).to(vectors.dtype)  # (n, codebook_size)
        self.cluster_size.mul_(self.decay).add_(one_hot.sum(dim=0), alpha=1 - self.decay)
        self.embedding_sum.mul_(self.decay).add_(one_hot.t() @ vectors, alpha=1 - self.decay)
        # 2. Laplace smoothing keeps a never-used code from a division by zero while preserving the total count
        total = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.epsilon) / (total + self.codebook_size * self.epsilon) * total
        self.codebook.copy_(self.embedding_sum / smoothed.clamp(min=self.epsilon)[:, None])
        # 3. restart dead codes from random encoder outputs; give them threshold usage so the averages agree
        dead = self.cluster_size < self.dead_code_threshold
        num_dead = int(dead.sum())
        if num_dead and len(vectors):
            picks = torch.randint(len(vectors), (num_dead,), device=vectors.device)
            self.codebook[dead] = vectors[picks]
            self.cluster_size[dead] = self.dead_code_threshold
            self.embedding_sum[dead] = vectors[picks] * self.dead_code_threshold

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor | None = None) -> MelQuantizerOutput:
        """Quantize encoder outputs.

        Args:
            hidden_states: ``(batch_size, num_codes, codebook_dim)`` encoder outputs.
            mask: ``(batch_size, num_codes)``, 1 for vectors of real audio, 0 for padding (left out of the
                codebook update, the loss and the statistics); all ones when omitted.

        Returns:
            :class:`MelQuantizerOutput`.
        """
        batch_size, num_codes, codebook_dim = hidden_states.shape
        if codebook_dim != self.codebook_dim:
            raise ValueError(f"expected vectors of size codebook_dim={self.codebook_dim}, got {codebook_dim}")
        if mask is None:
            mask = torch.ones(batch_size, num_codes, dtype=torch.bool, device=hidden_states.device)
        mask = mask.bool()
        vectors = hidden_states.reshape(-1, codebook_dim)  # (batch_size * num_codes, codebook_dim)
        # The distances need no gradient (argmin); float32 keeps them stable under mixed precision.
        codes = self.nearest_codes(vectors.detach().float())
        valid = mask.reshape(-1)
        if self.training:
            self._update_codebook(vectors.detach().float()[valid], codes[valid])
            codes = self.nearest_codes(vectors.detach().float())  # the codebook moved: assign to the updated codes
        quantized = self.lookup(codes).to(hidden_states.dtype).view_as(hidden_states)

        # Commitment loss over valid vectors only; the codebook itself learns by EMA, not by gradient.
        weights = mask.to(hidden_states.dtype)[..., None]
        squared_error = (hidden_states - quantized.detach()).pow(2) * weights
        denominator = (weights.sum() * codebook_dim).clamp(min=1)
        loss = self.commitment_weight * squared_error.sum() / denominator

        # Straight-through estimator: forward uses the codes, backward copies the gradient to the encoder output.
        quantized = hidden_states + (quantized - hidden_states).detach()

        perplexity, codebook_usage = code_statistics(codes[valid], self.codebook_size)
        return MelQuantizerOutput(
            codes=codes.view(batch_size, num_codes), quantized=quantized, loss=loss,
            perplexity=perplexity, codebook_usage=codebook_usage,
        )


__all__ = ["MelQuantizerOutput", "MelVectorQuantizer", "code_statistics"]
