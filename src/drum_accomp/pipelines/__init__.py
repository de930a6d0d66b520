"""Pipelines: ``pipeline("drum-accompaniment")`` (backing audio -> drums) and ``pipeline("drum-groove")``."""

from pathlib import Path

from .drum_accompaniment import DEFAULT_DRUM_AUDIO, DrumAccompanimentPipeline
from .drum_groove import DrumGroovePipeline, parse_time_signature

DEFAULT_ACCOMPANIMENT_MODEL = Path(__file__).resolve().parents[1] / "pretrained" / "drum_accompaniment"
"""The bundled default ``DrumAccompanimentSystem`` checkpoint (with its feature extractor), installed with the
package: ``pipeline("drum-accompaniment")`` loads it when no ``model=`` is given."""

DEFAULT_GROOVE_MODEL = Path(__file__).resolve().parents[1] / "pretrained" / "groove"
"""The bundled default ``GrooveModel`` checkpoint with its ``DrumTokenizer`` (``pipeline("drum-groove")``)."""

__all__ = ["DEFAULT_ACCOMPANIMENT_MODEL", "DEFAULT_DRUM_AUDIO", "DEFAULT_GROOVE_MODEL", "DrumAccompanimentPipeline",
           "DrumGroovePipeline", "parse_time_signature"]
