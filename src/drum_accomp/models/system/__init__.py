"""The whole drum accompaniment system as one checkpoint: both VQ-VAEs, the transformer, the vocoder, the beat
tracker (composed like ``MusicgenForConditionalGeneration`` composes its text encoder, audio codec and decoder)."""

from .configuration_system import DrumAccompanimentSystemConfig
from .modeling_system import DrumAccompanimentSystem, DrumAccompanimentSystemOutput, apply_in_chunks

__all__ = ["DrumAccompanimentSystem", "DrumAccompanimentSystemConfig", "DrumAccompanimentSystemOutput", "apply_in_chunks"]
