"""Configuration of :class:`DrumAccompanimentSystem`: one sub-config per part, checked against each other."""

from __future__ import annotations

from typing import ClassVar

from transformers import PretrainedConfig

from ..accompaniment import DrumAccompanimentConfig
from ..beat_tracker import DrumBeatTrackerConfig
from ..vocoder import DrumVocoderConfig
from ..vqvae import MelVQVAEConfig


class DrumAccompanimentSystemConfig(PretrainedConfig):
    r"""Sub-configs of the five parts of the system (``MusicgenConfig`` style). Each part keeps its own
    hyper-parameters; this config only holds them together and checks that they fit:

    - both VQ-VAEs cut time like the transformer (``downsample_factor == transformer.frames_per_code``) and have
      the codebooks it was trained on (``codebook_size``);
    - the vocoder, both VQ-VAEs and the beat tracker read the same 80-band mels at the same frame rate.

    Args:
        backing_vqvae (`dict` or `MelVQVAEConfig`): the backing-track VQ-VAE (backing mels -> backing codes).
        drums_vqvae (`dict` or `MelVQVAEConfig`): the drum VQ-VAE (drum codes -> drum mels).
        transformer (`dict` or `DrumAccompanimentConfig`): backing codes + beat positions -> drum codes + hits.
        vocoder (`dict` or `DrumVocoderConfig`): drum mels -> 16 kHz drum audio.
        beat_tracker (`dict` or `DrumBeatTrackerConfig`): mels -> beats and downbeats.
    """

    model_type: ClassVar[str] = "drum_accompaniment_system"
    sub_configs_defaults = {
        "backing_vqvae": MelVQVAEConfig,
        "drums_vqvae": MelVQVAEConfig,
        "transformer": DrumAccompanimentConfig,
        "vocoder": DrumVocoderConfig,
        "beat_tracker": DrumBeatTrackerConfig,
    }

    backing_vqvae: dict | PretrainedConfig | None = None
    drums_vqvae: dict | PretrainedConfig | None = None
    transformer: dict | PretrainedConfig | None = None
    vocoder: dict | PretrainedConfig | None = None
    beat_tracker: dict | PretrainedConfig | None = None

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        self.check_parts()

    def check_parts(self) -> None:
        """Raise ``ValueError`` naming the mismatch when the parts cannot work together."""
        transformer = self.transformer
        for name in ("backing_vqvae", "drums_vqvae"):
            vqvae = getattr(self, name)
            if vqvae.downsample_factor != transformer.frames_per_code:
                raise ValueError(f"{name}.downsample_factor={vqvae.downsample_factor} but transformer.frames_per_code="
                                 f"{transformer.frames_per_code}: the parts were trained for different code rates; "
                                 "use parts from one training run")
        for name, size in (("backing_vqvae", transformer.backing_codebook_size),
                           ("drums_vqvae", transformer.drum_codebook_size)):
            if getattr(self, name).codebook_size != size:
                raise ValueError(f"{name}.codebook_size={getattr(self, name).codebook_size} but the transformer was "
                                 f"trained on {size} codes: use the VQ-VAE its code dataset was encoded with")
        mels = {name: getattr(self, name).num_mels for name in ("backing_vqvae", "drums_vqvae", "vocoder",
                                                                 "beat_tracker")}
        if transformer.backing_mel_bins:  # a transformer that hears the backing's mels reads the same ones
            mels["transformer.backing_mel_bins"] = transformer.backing_mel_bins
        if len(set(mels.values())) != 1:
            raise ValueError(f"the parts read different mel sizes {mels}; they must share the feature extractor")
        if abs(self.vocoder.frame_rate - transformer.frame_rate) > 1e-6:
            raise ValueError(f"vocoder frame rate {self.vocoder.frame_rate} Hz != transformer frame rate "
                             f"{transformer.frame_rate} Hz")

    @property
    def num_mels(self) -> int:
        return self.vocoder.num_mels

    @property
    def sampling_rate(self) -> int:
        """Rate (Hz) of the mels' audio and of the vocoder's output."""
        return self.vocoder.sampling_rate

    @property
    def frames_per_code(self) -> int:
        return self.transformer.frames_per_code

    @property
    def genres(self) -> list[str]:
        """Genre names the transformer knows (its genre tokens), ``unknown`` included."""
        return list(self.transformer.genre_vocabulary)


__all__ = ["DrumAccompanimentSystemConfig"]
