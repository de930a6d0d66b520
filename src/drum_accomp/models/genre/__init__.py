"""Drum genre classifier: drum MIDI -> genre group (GMD styles grouped as in ``genres.json``)."""

from .configuration_genre import DrumGenreClassifierConfig
from .modeling_genre import (
    DrumGenreClassifier,
    DrumGenreClassifierOutput,
    DrumGenreClassifierPreTrainedModel,
    beat_positions_from_words,
    collate_words,
)

__all__ = [
    "DrumGenreClassifier",
    "DrumGenreClassifierConfig",
    "DrumGenreClassifierOutput",
    "DrumGenreClassifierPreTrainedModel",
    "beat_positions_from_words",
    "collate_words",
]
