"""Groove model: a style-conditioned causal LM over drum compound words (continue a groove, or invent one)."""

from .configuration_groove import GrooveConfig
from .modeling_groove import (
    GrooveGenerateOutput,
    GrooveModel,
    GrooveOutput,
    GroovePreTrainedModel,
    lookback_words,
    word_ticks,
)

__all__ = [
    "GrooveConfig",
    "GrooveGenerateOutput",
    "GrooveModel",
    "GrooveOutput",
    "GroovePreTrainedModel",
    "lookback_words",
    "word_ticks",
]
