"""What both of our pipelines share."""

from __future__ import annotations

import torch
from transformers import Pipeline


class InferenceModePipeline(Pipeline):
    """A ``transformers.Pipeline`` that runs the model call under ``torch.inference_mode`` (no autograd bookkeeping
    at all) instead of ``Pipeline``'s ``torch.no_grad``."""

    def get_inference_context(self):
        return torch.inference_mode


__all__ = ["InferenceModePipeline"]
