"""``pipeline("drum-accompaniment")``: a backing track in, drums out (audio, mix, drum MIDI, beats).

    from transformers import pipeline
    import drum_accomp  # registers the task and the bundled default model

    drummer = pipeline("drum-accompaniment")
    result = drummer("backing.wav", genre="funk", seed=0)
    result["drums"], result["mix"], result["sampling_rate"], result["midi"], result["beats"], result["genre"]

The steps are those of DESIGN.md's data flow, numbered the same way in the code below.
"""

from __future__ import annotations

import numbers
import os
import warnings
from typing import Any

import numpy as np
import torch

from ..audio import SAMPLING_RATE, check_layout, read_audio, resample, to_mono, validate_audio
from ..beats import BeatTracker, BeatTrackingResult, DrumBeatTrackerBackend, beats_from_times, track_beats
from ..feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from ..genres import UNKNOWN_GENRE
from ..midi import DrumHits
from ..render import TARGET_PEAK, fit_length, render_midi
from .base import InferenceModePipeline

DRUM_AUDIO_CHOICES = ("vocoder", "midi")
DEFAULT_DRUM_AUDIO = "midi"
"""Drum audio path used when ``drum_audio`` is not given: the generated drum MIDI rendered with FluidSynth at
44.1 kHz. It measured better than the VQ-VAE + vocoder path (README, "Which drum audio";
``scripts/evaluate_pipeline.py``)."""

MIDI_RENDER_RATE = 44100
"""Rate (Hz) of the SoundFont render of the drum MIDI (``drum_audio="midi"``)."""


class DrumAccompanimentPipeline(InferenceModePipeline):
    """Drums for a backing track (audio without drums), from a :class:`DrumAccompanimentSystem` checkpoint.

    Inputs: a path, a numpy array with ``sampling_rate=``, a dict ``{"raw": array, "sampling_rate": rate}``, or a
    list of them. Options (all keywords): ``genre`` (a name from ``model.config.genres``; default ``unknown``),
    ``temperature``, ``top_k``, ``top_p``, ``do_sample`` (default sampling), ``seed`` (same seed, same drums),
    ``beats`` / ``downbeats`` / ``beats_per_bar`` (your own beat times in seconds, e.g. to fix a half-time or a
    shifted bar), ``beat_tracker`` (``"drum"`` = the checkpoint's own, ``"madmom"``, ``"librosa"`` or a
    ``BeatTracker``), ``drum_audio`` (``"midi"`` or ``"vocoder"``), ``mix_gain`` (drum level in the mix, 1 = the
    level of the training data), ``hit_threshold`` (hit probability above which a hit is written: higher = sparser
    drums; default the model's), ``genre_ensemble`` (without a genre, average the hit predictions over every genre
    token; default the model's ``hit_genre_ensemble``), ``bar_smoothing`` (weight in [0, 1] of the same place in the
    neighbouring bars in each hit probability: drums repeat from bar to bar; 0 = off; default the model's
    ``hit_bar_smoothing``), ``return_midi``, ``show_progress``.

    Returns a dict per input: ``drums`` (float32, the input's length and sampling rate, mono), ``mix`` (backing +
    drums at the input's rate and channel count), ``sampling_rate``, ``midi`` (``PrettyMIDI`` of the drum hits,
    with velocities; unless ``return_midi=False``), ``beats`` and ``downbeats`` (seconds), ``genre`` (the genre
    token used), ``beat_source`` (``"user"``, the tracker's name, or ``"tempo estimate"``).
    """

    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = True
    _load_tokenizer = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = self.model.float().eval()  # checkpoints store fp16; CPU inference runs in fp32
        if self.feature_extractor is None:
            self.feature_extractor = BeatAlignedMelFeatureExtractor(**self.model.config.vocoder.feature_extractor_kwargs())
        self._own_beat_tracker = DrumBeatTrackerBackend(self.model.beat_tracker)

    # ----- parameters ------------------------------------------------------------------------------------------

    def _sanitize_parameters(self, sampling_rate=None, genre=None, beats=None, downbeats=None, beats_per_bar=None,
                             beat_tracker=None, temperature=None, top_k=None, top_p=None, do_sample=None, seed=None,
                             show_progress=None, drum_audio=None, mix_gain=None, return_midi=None, hit_threshold=None,
                             genre_ensemble=None, bar_smoothing=None, **kwargs):
        if kwargs:
            raise TypeError(f"unknown drum-accompaniment options {sorted(kwargs)}; see help(DrumAccompanimentPipeline)")
        preprocess = {key: value for key, value in {
            "sampling_rate": sampling_rate, "genre": genre, "beats": beats, "downbeats": downbeats,
            "beats_per_bar": beats_per_bar, "beat_tracker": beat_tracker}.items() if value is not None}
        if drum_audio is not None and drum_audio not in DRUM_AUDIO_CHOICES:
            raise ValueError(f"drum_audio={drum_audio!r}; choose one of {DRUM_AUDIO_CHOICES}")
        forward = {key: value for key, value in {
            "temperature": temperature, "top_k": top_k, "top_p": top_p, "do_sample": do_sample, "seed": seed,
            "show_progress": show_progress, "drum_audio": drum_audio}.items() if value is not None}
        if hit_threshold is not None:
            if not isinstance(hit_threshold, numbers.Real) or not 0.0 < float(hit_threshold) < 1.0:
                raise ValueError(f"hit_threshold={hit_threshold!r}; give a probability in (0, 1): higher = fewer "
                                 f"hits (the model's default is {self.model.config.transformer.hit_threshold})")
            forward["hit_threshold"] = float(hit_threshold)
        if genre_ensemble is not None:
            if not isinstance(genre_ensemble, (bool, np.bool_)):
                raise ValueError(f"genre_ensemble={genre_ensemble!r}; give True or False")
            forward["genre_ensemble"] = bool(genre_ensemble)
        if bar_smoothing is not None:
            if (isinstance(bar_smoothing, (bool, np.bool_)) or not isinstance(bar_smoothing, numbers.Real)
                    or not 0.0 <= float(bar_smoothing) <= 1.0):
                raise ValueError(f"bar_smoothing={bar_smoothing!r}; give a weight in [0, 1]: 0 = off, higher = more "
                                 f"like the neighbouring bars (the model's default is "
                                 f"{self.model.config.transformer.hit_bar_smoothing})")
            forward["bar_smoothing"] = float(bar_smoothing)
        if mix_gain is not None and (not np.isfinite(mix_gain) or mix_gain < 0):
            raise ValueError(f"mix_gain={mix_gain!r}; give a number >= 0 (1 = the training data's drum level)")
        postprocess = {key: value for key, value in {
            "mix_gain": mix_gain, "return_midi": return_midi, "drum_audio": drum_audio}.items() if value is not None}
        return preprocess, forward, postprocess

    # ----- 1-3: audio, beats, features -------------------------------------------------------------------------

    def _read(self, inputs: Any, sampling_rate: int | None) -> tuple[np.ndarray, int]:
        """The input as it is: ``(num_samples,)`` or ``(num_samples, num_channels)`` float32 and its rate."""
        if isinstance(inputs, dict):
            if "raw" not in inputs and "array" not in inputs:
                raise ValueError(f"an audio dict needs 'raw' (or 'array') and 'sampling_rate'; got keys {sorted(inputs)}")
            return self._read(inputs.get("raw", inputs.get("array")), inputs.get("sampling_rate", sampling_rate))
        if isinstance(inputs, (str, os.PathLike)):
            audio, rate = read_audio(inputs)
            audio = audio[:, 0] if audio.shape[1] == 1 else audio
            return validate_audio(audio, rate, name=f"audio file {str(inputs)!r}"), rate
        if isinstance(inputs, torch.Tensor):
            inputs = inputs.detach().cpu().numpy()
        if not isinstance(inputs, np.ndarray):
            raise TypeError(f"give a path, a numpy array (with sampling_rate=) or a list of them; got {type(inputs).__name__}")
        if sampling_rate is None:
            raise ValueError("an audio array needs its sampling_rate=; e.g. drummer(audio, sampling_rate=44100)")
        check_layout(inputs)
        return validate_audio(inputs, int(sampling_rate), name="audio array"), int(sampling_rate)

    def _beats(self, audio: np.ndarray, mel_features: np.ndarray, beats, downbeats, beats_per_bar,
               beat_tracker) -> tuple[BeatTrackingResult, str]:
        """User beats, or tracked ones; with fewer than 2 tracked beats, a steady grid at the estimated tempo."""
        if beats is not None:
            return track_beats(audio, SAMPLING_RATE, beats=beats, downbeats=downbeats,
                               beats_per_bar=beats_per_bar), "user"
        if downbeats is not None or beats_per_bar is not None:
            raise ValueError("downbeats= and beats_per_bar= go with beats=; pass your beats too, or drop them")
        tracker = self._own_beat_tracker if beat_tracker in (None, "drum") else beat_tracker
        result = track_beats(audio, SAMPLING_RATE, backend=tracker, mel_features=mel_features)
        name = tracker.name if isinstance(tracker, BeatTracker) else str(tracker)
        if len(result.beats) >= 2:
            if result.unsure:
                warnings.warn(f"the beat tracker is unsure of this song's beats (confidence {result.confidence:.2f}); "
                              "check result['beats'], or pass beats= / beat_tracker='madmom'", stacklevel=3)
            return result, name
        return self._tempo_grid(audio), "tempo estimate"

    @staticmethod
    def _tempo_grid(audio: np.ndarray) -> BeatTrackingResult:
        """Beats every ``60 / tempo`` s from the first onset, the tempo estimated by librosa (4/4 assumed)."""
        import librosa

        onset_envelope = librosa.onset.onset_strength(y=audio, sr=SAMPLING_RATE)
        tempo = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset_envelope, sr=SAMPLING_RATE))[0])
        tempo = tempo if np.isfinite(tempo) and tempo > 0 else 120.0
        onsets = librosa.onset.onset_detect(onset_envelope=onset_envelope, sr=SAMPLING_RATE, units="time")
        start = float(onsets[0]) if len(onsets) else 0.0
        beats = np.arange(start, len(audio) / SAMPLING_RATE, 60.0 / tempo)
        warnings.warn(f"no beat could be tracked in this song; the drums follow a steady {tempo:.1f} BPM grid from a "
                      "tempo estimate. Pass beats= (seconds) to set the beat yourself", stacklevel=4)
        return beats_from_times(beats, None, 4)

    def preprocess(self, inputs, sampling_rate=None, genre=None, beats=None, downbeats=None, beats_per_bar=None,
                   beat_tracker=None):
        # 1. Audio: keep the input as it is for the mix; the model reads mono 16 kHz.
        original, original_rate = self._read(inputs, sampling_rate)
        audio = resample(to_mono(original), original_rate, SAMPLING_RATE)
        genre_name = UNKNOWN_GENRE if genre is None else str(genre).strip().lower()
        genre_id = self.model.config.transformer.genre_id(genre_name)  # unknown names: an error listing the known
        # 2. Beats and downbeats (the user's, tracked on the same mels, or a tempo grid), 3. beat-aligned mels.
        # One mel pass serves the beat tracker and the model; the beat positions are labelled on its frames.
        mel_features = self.feature_extractor.mel_spectrogram(audio)  # (num_frames, num_mels)
        beat_result, beat_source = self._beats(audio, mel_features, beats, downbeats, beats_per_bar, beat_tracker)
        beat_positions, _ = self.feature_extractor.beat_positions(beat_result.beats, beat_result.downbeats,
                                                                  len(mel_features))
        return {"mel_features": torch.from_numpy(mel_features)[None],
                "beat_positions": torch.from_numpy(beat_positions)[None],
                "genre_ids": torch.tensor([genre_id]), "genre": genre_name, "beat_result": beat_result,
                "beat_source": beat_source, "original": original, "original_rate": original_rate,
                "num_samples": len(audio)}

    # ----- 4-6: codes, drums, audio ----------------------------------------------------------------------------

    def _forward(self, model_inputs, temperature=1.0, top_k=0, top_p=1.0, do_sample=True, seed=None,
                 show_progress=False, drum_audio=DEFAULT_DRUM_AUDIO, hit_threshold=None, genre_ensemble=None,
                 bar_smoothing=None):
        # 4. backing codes, 5. drum hits (and, for the vocoder path, drum codes; windowed), 6. drum mels + vocoder
        # audio (when asked).
        output = self.model.generate(model_inputs["mel_features"], model_inputs["beat_positions"],
                                     genre_ids=model_inputs["genre_ids"], return_audio=drum_audio == "vocoder",
                                     show_progress=show_progress, do_sample=do_sample, temperature=temperature,
                                     top_k=top_k, top_p=top_p, seed=seed, hit_threshold=hit_threshold,
                                     genre_ensemble=genre_ensemble, bar_smoothing=bar_smoothing)
        passed = {key: model_inputs[key] for key in ("genre", "beat_result", "beat_source", "original",
                                                     "original_rate", "num_samples")}
        waveforms = None if output.drum_waveforms is None else output.drum_waveforms[0].float().numpy()
        return {"hits": output.hits[0], "drum_waveform": waveforms, **passed}

    # ----- 7: outputs ------------------------------------------------------------------------------------------

    def postprocess(self, model_outputs, mix_gain=1.0, return_midi=True, drum_audio=DEFAULT_DRUM_AUDIO):
        hits: DrumHits = model_outputs["hits"]
        beat_result: BeatTrackingResult = model_outputs["beat_result"]
        original, rate = model_outputs["original"], model_outputs["original_rate"]
        duration = model_outputs["num_samples"] / SAMPLING_RATE
        midi = hits.to_midi(bpm=beat_result.bpm if len(beat_result.beats) >= 2 else 120.0)

        # 7a. Drum audio at the input's rate: the SoundFont render of the MIDI, or the vocoder's output.
        if drum_audio == "midi":
            drums = render_midi(midi, MIDI_RENDER_RATE, duration=duration, normalize=False) if len(hits) else \
                np.zeros(round(duration * MIDI_RENDER_RATE), np.float32)
            drums = resample(drums, MIDI_RENDER_RATE, rate)
        else:
            drums = resample(model_outputs["drum_waveform"], SAMPLING_RATE, rate)
        drums = fit_length(drums.astype(np.float32), original.shape[0])

        # 7b. Mix: the drums at the backing's peak level (both were peak-normalised alike in training), x mix_gain,
        # added to every channel; scaled down only if the sum would clip.
        backing_peak = float(np.abs(original).max())
        drum_peak = float(np.abs(drums).max())
        if drum_peak > 0:
            drums = drums * (max(backing_peak, 1e-3) / drum_peak)
        mix = original + mix_gain * (drums[:, None] if original.ndim == 2 else drums)
        peak = float(np.abs(mix).max())
        if peak > 1.0:
            mix = mix * (TARGET_PEAK / peak)
        result = {"drums": drums.astype(np.float32), "mix": mix.astype(np.float32), "sampling_rate": rate,
                  "beats": beat_result.beats, "downbeats": beat_result.downbeats, "genre": model_outputs["genre"],
                  "beat_source": model_outputs["beat_source"]}
        if return_midi:
            result["midi"] = midi
        return result


__all__ = ["DEFAULT_DRUM_AUDIO", "DrumAccompanimentPipeline"]
