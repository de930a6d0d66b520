"""The drum accompaniment system: backing mels -> drum codes, drum hits, drum mels, drum audio (one checkpoint).

Shapes: ``num_frames`` mel frames at ``frame_rate`` (100 Hz), ``num_codes = num_frames / frames_per_code`` codes
(25 Hz), ``num_samples = num_frames * hop_length`` audio samples (16 kHz).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from ...midi import DrumHits
from ..accompaniment import DrumAccompanimentModel
from ..beat_tracker import DrumBeatTracker
from ..vocoder import DrumVocoder
from ..vqvae import MelVQVAEModel
from .configuration_system import DrumAccompanimentSystemConfig

# ----- outputs -----------------------------------------------------------------------------------------------------


@dataclass
class DrumAccompanimentSystemOutput(ModelOutput):
    """Output of :meth:`DrumAccompanimentSystem.generate`.

    Attributes:
        drum_waveforms: ``(batch_size, num_samples)`` float drum audio at ``config.sampling_rate`` (``None`` when
            ``return_audio=False``).
        drum_mel: ``(batch_size, num_frames, num_mels)`` decoded drum log-mels (``None`` without audio).
        drum_codes: ``(batch_size, num_codes)`` generated drum codes.
        backing_codes: ``(batch_size, num_codes)`` the backing's codes.
        hit_probabilities: ``(batch_size, num_codes, num_drum_classes)`` hit-head probabilities.
        hits: one ``DrumHits`` per item (seconds from the first frame): the drum MIDI.
    """

    drum_waveforms: torch.Tensor | None = None
    drum_mel: torch.Tensor | None = None
    drum_codes: torch.Tensor | None = None
    backing_codes: torch.Tensor | None = None
    hit_probabilities: torch.Tensor | None = None
    hits: list[DrumHits] | None = None


# ----- chunked convolutional passes ---------------------------------------------------------------------------------


def apply_in_chunks(function: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor, chunk_length: int,
                    margin: int, output_per_input: float) -> torch.Tensor:
    """Run a time-convolutional ``function`` over ``inputs`` ``(batch_size, length, ...)`` in chunks of
    ``chunk_length`` steps, each read with ``margin`` steps of context on both sides that are cut from its output.

    Memory stays bounded by the chunk, whatever the song's length; with ``margin`` at least the function's
    receptive field the result equals one pass over everything. ``function`` maps ``n`` input steps to
    ``n * output_per_input`` output steps (``chunk_length`` and ``margin`` must keep that a whole number).
    """
    length = inputs.shape[1]
    if length <= chunk_length + 2 * margin:
        return function(inputs)
    pieces = []
    for start in range(0, length, chunk_length):
        end = min(start + chunk_length, length)
        context_start, context_end = max(0, start - margin), min(length, end + margin)
        outputs = function(inputs[:, context_start:context_end])
        first = round((start - context_start) * output_per_input)
        pieces.append(outputs[:, first:first + round((end - start) * output_per_input)])
    return torch.cat(pieces, dim=1)


# ----- model -------------------------------------------------------------------------------------------------------


class DrumAccompanimentSystem(PreTrainedModel):
    """Backing mels + beat positions (+ genre) -> drums, as codes, hits (MIDI), mels and audio.

    The parts, each a model of its own (``from_pretrained`` on its own folder works too):
    ``backing_vqvae`` (``MelVQVAEModel``), ``transformer`` (``DrumAccompanimentModel``), ``drums_vqvae``
    (``MelVQVAEModel``), ``vocoder`` (``DrumVocoder``) and ``beat_tracker`` (``DrumBeatTracker``, used by the
    pipeline to find the backing's beats). ``save_pretrained`` writes them as one checkpoint.
    """

    config_class = DrumAccompanimentSystemConfig
    base_model_prefix = "system"
    main_input_name = "mel_features"

    def __init__(self, config: DrumAccompanimentSystemConfig):
        super().__init__(config)
        self.backing_vqvae = MelVQVAEModel(config.backing_vqvae)
        self.drums_vqvae = MelVQVAEModel(config.drums_vqvae)
        self.transformer = DrumAccompanimentModel(config.transformer)
        self.vocoder = DrumVocoder(config.vocoder)
        self.beat_tracker = DrumBeatTracker(config.beat_tracker)
        self.post_init()

    @classmethod
    def from_parts(cls, backing_vqvae: MelVQVAEModel, drums_vqvae: MelVQVAEModel,
                   transformer: DrumAccompanimentModel, vocoder: DrumVocoder,
                   beat_tracker: DrumBeatTracker) -> "DrumAccompanimentSystem":
        """Assemble a system from trained parts (their configs are checked against each other)."""
        config = DrumAccompanimentSystemConfig(
            backing_vqvae=backing_vqvae.config, drums_vqvae=drums_vqvae.config, transformer=transformer.config,
            vocoder=vocoder.config, beat_tracker=beat_tracker.config)
        system = cls(config)
        parts = {"backing_vqvae": backing_vqvae, "drums_vqvae": drums_vqvae, "transformer": transformer,
                 "vocoder": vocoder, "beat_tracker": beat_tracker}
        for name, part in parts.items():
            getattr(system, name).load_state_dict(part.state_dict())
        return system.to(next(transformer.parameters()).dtype).eval()

    # ----- the steps of generation ---------------------------------------------------------------------------------

    def pad_to_codes(self, mel_features: torch.Tensor, beat_positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pad ``(batch_size, num_frames, num_mels)`` mels (with silence) and ``(batch_size, num_frames)`` beat
        positions (unknown) to a whole number of codes."""
        padding = -mel_features.shape[1] % self.config.frames_per_code
        if padding:
            silence = torch.full_like(mel_features[:, :padding], self.config.vocoder.log_floor_value)
            unknown = torch.full_like(beat_positions[:, :padding], self.config.transformer.num_beat_positions - 1)
            mel_features = torch.cat([mel_features, silence], dim=1)
            beat_positions = torch.cat([beat_positions, unknown], dim=1)
        return mel_features, beat_positions

    @torch.inference_mode()
    def encode_backing(self, mel_features: torch.Tensor, chunk_frames: int = 6000) -> torch.Tensor:
        """``(batch_size, num_frames, num_mels)`` backing mels (``num_frames`` a multiple of ``frames_per_code``) ->
        ``(batch_size, num_codes)`` backing codes, in chunks of ``chunk_frames`` frames."""
        factor = self.config.frames_per_code
        return apply_in_chunks(self.backing_vqvae.encode, mel_features.to(self.dtype), chunk_frames,
                               margin=32 * factor, output_per_input=1 / factor)

    @torch.inference_mode()
    def decode_drums(self, drum_codes: torch.Tensor, chunk_codes: int = 1500) -> tuple[torch.Tensor, torch.Tensor]:
        """``(batch_size, num_codes)`` drum codes -> drum mels ``(batch_size, num_frames, num_mels)`` and drum audio
        ``(batch_size, num_samples)``, in chunks of ``chunk_codes`` codes (60 s) so memory stays bounded."""
        factor, hop = self.config.frames_per_code, self.config.vocoder.hop_length
        drum_mel = apply_in_chunks(self.drums_vqvae.decode, drum_codes, chunk_codes, margin=32,
                                   output_per_input=factor)
        waveforms = apply_in_chunks(self.vocoder.generate, drum_mel, chunk_codes * factor, margin=64,
                                    output_per_input=hop)
        return drum_mel, waveforms

    @torch.inference_mode()
    def generate(
        self,
        mel_features: torch.Tensor,
        beat_positions: torch.Tensor,
        genre_ids: torch.Tensor | None = None,
        return_audio: bool = True,
        show_progress: bool = False,
        **sampling: Any,
    ) -> DrumAccompanimentSystemOutput:
        """Drums for a backing track.

        Args:
            mel_features: ``(batch_size, num_frames, num_mels)`` log-mels of the backing
                (``BeatAlignedMelFeatureExtractor``); any length (windowed generation).
            beat_positions: ``(batch_size, num_frames)`` beat position of each frame (the feature extractor's).
            genre_ids: ``(batch_size,)`` genre indices (``config.transformer.genre_id(name)``); unknown when omitted.
            return_audio: also decode the drum codes to mels and audio (the vocoder path). Without it, a transformer
                whose hits come from its backing hit head skips the drum codes (``drum_codes`` is ``None``).
            show_progress: a progress bar over the generated steps.
            sampling: ``do_sample``, ``temperature``, ``top_k``, ``top_p``, ``seed``, ``overlap_steps``,
                ``hit_threshold``, ``genre_ensemble``, ``bar_smoothing`` of :meth:`DrumAccompanimentModel.generate`.

        Returns:
            :class:`DrumAccompanimentSystemOutput`; audio, codes and hits cover the input frames exactly.
        """
        # 1. Backing mels -> backing codes (mels padded to whole codes).
        num_frames = mel_features.shape[1]
        mel_features, beat_positions = self.pad_to_codes(mel_features, beat_positions)
        backing_codes = self.encode_backing(mel_features)
        code_positions = beat_positions[:, ::self.config.frames_per_code]  # the position of each code's first frame

        # 2. Backing codes -> drum codes and hits.
        # The drum codes are needed for the audio, or for hits read from them (hit_source="decoder").
        return_codes = return_audio or self.config.transformer.hit_source != "backing"
        generated = self.transformer.generate(backing_codes, code_positions.long(), genre_ids=genre_ids,
                                              show_progress=show_progress, return_codes=return_codes,
                                              backing_mel=mel_features, **sampling)  # (used if it hears them)
        hits = [hit.window(0.0, num_frames / self.config.transformer.frame_rate) for hit in generated.hits]
        if not return_audio:
            return DrumAccompanimentSystemOutput(drum_codes=generated.drum_codes, backing_codes=backing_codes,
                                                 hit_probabilities=generated.hit_probabilities, hits=hits)

        # 3. Drum codes -> drum mels -> drum audio, cut back to the input's length.
        drum_mel, waveforms = self.decode_drums(generated.drum_codes)
        num_samples = num_frames * self.config.vocoder.hop_length
        return DrumAccompanimentSystemOutput(
            drum_waveforms=waveforms[:, :num_samples], drum_mel=drum_mel[:, :num_frames],
            drum_codes=generated.drum_codes, backing_codes=backing_codes,
            hit_probabilities=generated.hit_probabilities, hits=hits)


__all__ = ["DrumAccompanimentSystem", "DrumAccompanimentSystemOutput", "apply_in_chunks"]
