"""Tag the drum part of an unlabelled song with the trained genre classifier (for dataset builds).

    python datasets_scripts/build_accompaniment.py --tagger drum_accomp.models.genre.tagging:tag_drums

The checkpoint is ``checkpoints/genre_classifier`` of this repository, or the folder named by the environment
variable ``DRUM_ACCOMP_GENRE_CLASSIFIER``. It is loaded once per process.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pretty_midi

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[4] / "checkpoints" / "genre_classifier"


@lru_cache(maxsize=1)
def _classifier():
    from .modeling_genre import DrumGenreClassifier

    path = Path(os.environ.get("DRUM_ACCOMP_GENRE_CLASSIFIER", DEFAULT_CHECKPOINT))
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"no genre classifier checkpoint at {str(path)!r}; train one with "
                                "scripts/train_genre_classifier.py or set DRUM_ACCOMP_GENRE_CLASSIFIER")
    return DrumGenreClassifier.from_pretrained(path).eval()


def tag_drums(drums: "str | os.PathLike | pretty_midi.PrettyMIDI") -> str:
    """The genre group (a name from ``genres.style_vocabulary()``) the classifier hears in a drum MIDI."""
    return _classifier().predict(drums)
