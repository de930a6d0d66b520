"""DrumAccompanimentProcessor: one object that prepares backing audio (beat-aligned log-mels) and drum MIDI (tokens).

Audio goes to :class:`~drum_accomp.feature_extraction_beat_mel.BeatAlignedMelFeatureExtractor`, MIDI to
:class:`~drum_accomp.tokenization_drum.DrumTokenizer`. ``save_pretrained`` writes ``processor_config.json`` (the
feature extractor nested in it) next to the tokenizer files; ``from_pretrained`` (or ``AutoProcessor`` once
``drum_accomp`` is imported) reads them back.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
import pretty_midi
from transformers import BatchFeature, ProcessorMixin

from .feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from .tokenization_drum import DrumDecodeOutput, DrumTokenizer


class DrumAccompanimentProcessor(ProcessorMixin):
    """Feature extractor (backing audio) + drum tokenizer (drum MIDI) in one processor.

    Args:
        feature_extractor (`BeatAlignedMelFeatureExtractor`): audio -> log-mels with beat positions.
        tokenizer (`DrumTokenizer`): drum MIDI <-> compound-word tokens.
    """

    def __init__(self, feature_extractor: BeatAlignedMelFeatureExtractor, tokenizer: DrumTokenizer):
        if not isinstance(feature_extractor, BeatAlignedMelFeatureExtractor):
            raise TypeError(f"feature_extractor must be a BeatAlignedMelFeatureExtractor, got "
                            f"{type(feature_extractor).__name__}; build one with BeatAlignedMelFeatureExtractor()")
        if not isinstance(tokenizer, DrumTokenizer):
            raise TypeError(f"tokenizer must be a DrumTokenizer, got {type(tokenizer).__name__}; "
                            "build one with DrumTokenizer()")
        super().__init__(feature_extractor, tokenizer)

    def __call__(
        self,
        audio: "np.ndarray | Sequence[np.ndarray] | None" = None,
        sampling_rate: int | None = None,
        midi: "str | os.PathLike | pretty_midi.PrettyMIDI | Sequence | None" = None,
        style: "str | Sequence[str] | None" = None,
        beat_times: "np.ndarray | Sequence | None" = None,
        downbeat_times: "np.ndarray | Sequence | None" = None,
        return_tensors: str | None = None,
        audio_kwargs: dict[str, Any] | None = None,
        midi_kwargs: dict[str, Any] | None = None,
    ) -> BatchFeature:
        """Prepare backing audio, drum MIDI, or both.

        Args:
            audio: mono float waveform ``(num_samples,)`` at 16 kHz, or a list of them.
            sampling_rate: rate of ``audio`` in Hz (must be the feature extractor's, 16000).
            midi: drum MIDI path or ``PrettyMIDI``, or a list of them.
            style: genre of the MIDI (one name, or one per file); subgenres map to their top level.
            beat_times, downbeat_times: beats / bars of the audio in seconds (per item for a batch); for a MIDI
                song, ``drum_accomp.midi.midi_beats`` gives the exact ones.
            return_tensors: ``"pt"`` or ``"np"``.
            audio_kwargs: extra feature-extractor options (``padding``, ``max_length``, ``pad_to_multiple_of`` ...).
            midi_kwargs: extra tokenizer options (``padding``, ``max_length``, ``truncation`` ...); a batch of MIDI
                files is padded to the longest by default.

        Returns:
            ``BatchFeature``. Audio only: ``mel_features (batch_size, num_frames, num_mels)``,
            ``beat_positions``, ``downbeat_flags``, ``attention_mask (batch_size, num_frames)``. MIDI only:
            ``input_ids``, ``attention_mask`` ``(batch_size, seq_len)``. Both: the audio features, plus the MIDI
            tokens as ``drum_input_ids`` and ``drum_attention_mask``.
        """
        if audio is None and midi is None:
            raise ValueError("pass audio= (backing waveform), midi= (drum MIDI), or both")
        if audio is None and (beat_times is not None or downbeat_times is not None or sampling_rate is not None):
            raise ValueError("beat_times / downbeat_times / sampling_rate describe audio, but no audio= was given")
        if midi is None and style is not None:
            raise ValueError(f"style={style!r} describes a drum MIDI, but no midi= was given")

        data: dict[str, Any] = {}
        if audio is not None:
            features = self.feature_extractor(
                audio, sampling_rate=sampling_rate, beat_times=beat_times, downbeat_times=downbeat_times,
                return_tensors=return_tensors, **(audio_kwargs or {}),
            )
            data.update(features)
        if midi is not None:
            options = dict(midi_kwargs or {})
            if isinstance(midi, (list, tuple)):
                options.setdefault("padding", "longest")
            encoding = self.tokenizer(midi, style=style, return_tensors=return_tensors, **options)
            if audio is None:
                data.update(encoding)
            else:
                data.update({f"drum_{name}": value for name, value in encoding.items()})
        return BatchFeature(data, tensor_type=return_tensors)

    def decode_midi(self, ids, bpm: float = 120.0, beat_times=None) -> pretty_midi.PrettyMIDI:
        """Token ids -> drum MIDI; see :meth:`DrumTokenizer.decode_midi`."""
        return self.tokenizer.decode_midi(ids, bpm=bpm, beat_times=beat_times)

    def decode_tokens(self, ids, bpm: float = 120.0, beat_times=None) -> DrumDecodeOutput:
        """Token ids -> drum MIDI with counts of skipped words; see :meth:`DrumTokenizer.decode_tokens`."""
        return self.tokenizer.decode_tokens(ids, bpm=bpm, beat_times=beat_times)

    @property
    def model_input_names(self) -> list[str]:
        return list(dict.fromkeys(self.feature_extractor.model_input_names + self.tokenizer.model_input_names))


__all__ = ["DrumAccompanimentProcessor"]
