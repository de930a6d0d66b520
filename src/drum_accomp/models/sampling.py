"""Picking the next token from logits, shared by every model that samples (accompaniment, groove)."""

from __future__ import annotations

import torch


def sample_next_code(
    logits: torch.Tensor, do_sample: bool = True, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``(batch_size, vocab)`` logits -> ``(batch_size,)`` tokens: greedy, or temperature / top-k / top-p sampling."""
    if not do_sample or temperature <= 0:
        return logits.argmax(dim=-1)
    logits = logits / temperature
    if 0 < top_k < logits.shape[-1]:
        kth_largest = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth_largest, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        sorted_probabilities = sorted_logits.softmax(dim=-1)
        # drop a code when the codes more likely than it already hold top_p of the mass (the first always stays)
        drop = (sorted_probabilities.cumsum(dim=-1) - sorted_probabilities) >= top_p
        logits = logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return torch.multinomial(logits.softmax(dim=-1), 1, generator=generator).squeeze(-1)


__all__ = ["sample_next_code"]
