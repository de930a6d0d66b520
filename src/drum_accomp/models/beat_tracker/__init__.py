"""DrumBeatTracker: our own beat and downbeat tracker over the pipeline's mel frames."""

from .configuration_beat_tracker import DrumBeatTrackerConfig
from .modeling_beat_tracker import DrumBeatTracker, DrumBeatTrackerOutput, training_targets
from .postprocessing import BeatDecoding, decode_beats

__all__ = ["BeatDecoding", "DrumBeatTracker", "DrumBeatTrackerConfig", "DrumBeatTrackerOutput", "decode_beats",
           "training_targets"]
