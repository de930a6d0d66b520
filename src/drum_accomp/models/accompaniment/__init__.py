"""Drum accompaniment model: backing codes + beat positions (+ genre) -> drum codes and drum hits."""

from .configuration_accompaniment import DrumAccompanimentConfig
from .modeling_accompaniment import (
    DrumAccompanimentCollator,
    DrumAccompanimentGenerationOutput,
    DrumAccompanimentModel,
    DrumAccompanimentOutput,
    DrumAccompanimentPreTrainedModel,
    codes_to_step_tokens,
    hits_from_step_predictions,
    sample_next_code,
    step_hit_targets,
    step_tokens_to_codes,
)

__all__ = [
    "DrumAccompanimentCollator",
    "DrumAccompanimentConfig",
    "DrumAccompanimentGenerationOutput",
    "DrumAccompanimentModel",
    "DrumAccompanimentOutput",
    "DrumAccompanimentPreTrainedModel",
    "codes_to_step_tokens",
    "hits_from_step_predictions",
    "sample_next_code",
    "step_hit_targets",
    "step_tokens_to_codes",
]
