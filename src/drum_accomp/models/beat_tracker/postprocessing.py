"""Beat and downbeat activations -> beat times, downbeat times, bar length: light and numpy-only.

1. Tempo: librosa's autocorrelation tempogram of the beat activation with a log-normal prior, per frame (a
   local estimate every frame, so tempo changes are followed), folded by octaves onto the song's global tempo
   and into ``[min_bpm, max_bpm]``, then median-smoothed.
2. Beats: librosa's dynamic programme (Ellis 2007) over the beat activation with that time-varying tempo, and
   with half and double it; the run whose beats stand out most from its off-beats wins (tempo-octave errors
   are the commonest failure). Beats over silence before the music starts and after it ends are dropped.
3. Bars: a Viterbi pass over (bar length, position in bar) states, one step per beat, scored by the downbeat
   activation at each beat relative to its beat activation; the bar length may change at a bar end with a small
   probability (which also lets the bar phase recover after a wrong turn).

madmom's DBN decodes beats and bars jointly in a fine tempo-by-phase state space and costs about 0.75 s per
audio minute here; steps 1-3 take a few tens of milliseconds (``scripts/evaluate_beat_trackers.py`` prints it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from .configuration_beat_tracker import DrumBeatTrackerConfig

PEAK_RADIUS = 2
"""Frames either side of a beat searched for the activation peak that scores it (±20 ms at 100 frames/s)."""

TEMPO_FACTORS = (1.0, 0.5, 2.0)
"""Tempo levels tried by the beat programme (the estimate first; ties keep it)."""

TRIM_FRACTION = 0.3
"""Leading and trailing beats whose activation peak is below this fraction of the median beat's are dropped."""

TEMPOGRAM_SECONDS = 8.0
"""Autocorrelation window of the tempogram (s), librosa's ``ac_size`` default."""

TEMPOGRAM_HOP = 25
"""Frames between tempogram windows (0.25 s at 100 frames/s)."""

TEMPO_SMOOTHING_SECONDS = 4.0
"""Length of the median filter over the per-frame tempo (s): follows tempo changes, ignores single bars."""


@dataclass
class BeatDecoding:
    """Decoded beats of one recording.

    Attributes:
        beats: ``(num_beats,)`` float64 beat times (s), increasing.
        downbeats: ``(num_downbeats,)`` float64 bar starts (s), a subset of ``beats``.
        beats_per_bar: the most common bar length (beats).
        bpm: median tempo of the tracked beats (beats per minute); ``nan`` with fewer than two beats.
        confidence: mean beat activation at the tracked beats, in [0, 1] (0 without beats).
        unsure: ``confidence < config.confidence_threshold``: the tracker could not hear a clear beat.
        bar_positions: ``(num_beats,)`` int position of each beat in its bar (0 = downbeat).
    """

    beats: np.ndarray
    downbeats: np.ndarray
    beats_per_bar: int
    bpm: float
    confidence: float
    unsure: bool
    bar_positions: np.ndarray


def local_tempo(beat_activation: np.ndarray, config: DrumBeatTrackerConfig) -> np.ndarray:
    """``(num_frames,)`` activation -> ``(num_frames,)`` tempo (beats per minute) per frame (step 1).

    An autocorrelation tempogram (librosa's, but over windows every ``TEMPOGRAM_HOP`` frames instead of every
    frame: 25x less work for a tempo that moves slowly), weighted by a log-normal prior around ``start_bpm``.
    The global tempo is the argmax of the mean tempogram; each window's estimate is folded by octaves onto it
    (local tempograms are noisier and jump octaves), kept in ``[min_bpm, max_bpm]``, median-smoothed and
    interpolated back to frames.
    """
    import librosa  # lazy: librosa's import costs a second

    envelope = beat_activation.astype(np.float64) - float(beat_activation.mean())
    window = int(TEMPOGRAM_SECONDS * config.frame_rate)
    padded = np.pad(envelope, window // 2)
    frames = librosa.util.frame(padded, frame_length=window, hop_length=TEMPOGRAM_HOP, axis=0)
    frames = frames * np.hanning(window)[None, :]
    correlation = librosa.autocorrelate(frames, axis=-1)  # (num_windows, window) by lag in frames
    lags = np.arange(1, window)
    bpm_of_lag = 60.0 * config.frame_rate / lags
    usable = (bpm_of_lag >= config.min_bpm / 2) & (bpm_of_lag <= config.max_bpm)
    lags, bpm_of_lag = lags[usable], bpm_of_lag[usable]
    prior = -0.5 * ((np.log2(bpm_of_lag) - np.log2(config.start_bpm)) / config.tempo_std_octaves) ** 2
    correlation = np.maximum(correlation[:, lags], 0.0) / np.maximum(correlation[:, :1], 1e-12)
    weighted = correlation * np.exp(prior)[None, :]
    global_bpm = _fold_into_range(np.array([bpm_of_lag[np.argmax(weighted.mean(axis=0))]]),
                                  config.min_bpm, config.max_bpm)[0]
    tempo = bpm_of_lag[np.argmax(weighted, axis=1)]
    octaves = np.round(np.log2(np.maximum(tempo, 1e-3) / global_bpm))
    tempo = _fold_into_range(tempo / 2.0 ** octaves, config.min_bpm, config.max_bpm)
    width = int(TEMPO_SMOOTHING_SECONDS * config.frame_rate / TEMPOGRAM_HOP) | 1
    if len(tempo) > width:
        import scipy.signal  # lazily: scipy.signal costs ~0.4 s of `import drum_accomp`

        tempo = scipy.signal.medfilt(tempo, width)
    centres = np.arange(len(tempo)) * TEMPOGRAM_HOP
    return np.interp(np.arange(len(beat_activation)), centres, tempo)


def _fold_into_range(bpm: np.ndarray, min_bpm: float, max_bpm: float) -> np.ndarray:
    bpm = np.asarray(bpm, dtype=np.float64).copy()
    for _ in range(4):
        bpm = np.where(bpm < min_bpm, bpm * 2, bpm)
        bpm = np.where(bpm > max_bpm, bpm / 2, bpm)
    return bpm


def track_beat_frames(beat_activation: np.ndarray, config: DrumBeatTrackerConfig) -> np.ndarray:
    """``(num_frames,)`` activation -> ``(num_beats,)`` int beat frames (steps 1-2).

    The tempogram often hesitates between a tempo and its double or half (the eighth notes of a slow ballad, the
    half notes of a fast one). So the programme runs at the estimated tempo and at half and double it, and keeps
    the beat sequence with the highest *contrast*: mean activation at its beats minus mean activation half-way
    between them. The network was trained on the notated beat level, so at the right level the beats are strong
    and the off-beats weak; at double tempo half the "beats" are off-beats, at half tempo the "off-beats" are
    beats.
    """
    if len(beat_activation) < 2 or float(beat_activation.max()) <= 1e-6:
        return np.zeros(0, dtype=np.int64)
    tempo = local_tempo(beat_activation, config)
    best_frames, best_contrast = np.zeros(0, dtype=np.int64), -np.inf
    for factor in TEMPO_FACTORS if config.tempo_level_selection else TEMPO_FACTORS[:1]:
        scaled = tempo * factor
        if np.median(scaled) < config.min_bpm or np.median(scaled) > config.max_bpm:
            continue
        frames = _dynamic_programme(beat_activation, scaled, config)
        if len(frames) < 2:
            continue
        contrast = _beat_contrast(beat_activation, frames)
        if contrast > best_contrast:
            best_frames, best_contrast = frames, contrast
    return best_frames


def _dynamic_programme(beat_activation: np.ndarray, tempo: np.ndarray, config: DrumBeatTrackerConfig) -> np.ndarray:
    """librosa's beat DP at a per-frame ``tempo`` (bpm), with beats over leading/trailing silence dropped."""
    import librosa

    hop_length = 160
    _, frames = librosa.beat.beat_track(onset_envelope=beat_activation.astype(np.float64),
                                        sr=config.frame_rate * hop_length, hop_length=hop_length, bpm=tempo,
                                        tightness=config.tightness, trim=False, units="frames")
    frames = np.asarray(frames, dtype=np.int64)
    # Drop the beats the programme placed over silence before the music starts and after it stops (librosa's own
    # trim also drops good first beats: its local score is weak at the edges).
    if len(frames):
        peaks = _peak_values(beat_activation, frames)
        heard = np.flatnonzero(peaks >= TRIM_FRACTION * np.median(peaks))
        frames = frames[heard[0]:heard[-1] + 1] if len(heard) else frames[:0]
    return frames


def _beat_contrast(beat_activation: np.ndarray, frames: np.ndarray) -> float:
    """Mean activation peak at the beats minus at the points half-way between consecutive beats."""
    midpoints = (frames[:-1] + frames[1:]) // 2
    return float(_peak_values(beat_activation, frames).mean() - _peak_values(beat_activation, midpoints).mean())


def _peak_values(activation: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Max of ``activation`` within ``PEAK_RADIUS`` frames of each frame index."""
    offsets = np.arange(-PEAK_RADIUS, PEAK_RADIUS + 1)
    indices = np.clip(frames[:, None] + offsets[None, :], 0, len(activation) - 1)
    return activation[indices].max(axis=1)


def bar_positions(downbeat_scores: np.ndarray, config: DrumBeatTrackerConfig) -> np.ndarray:
    """``(num_beats,)`` downbeat probabilities at the beats -> ``(num_beats,)`` position in the bar (step 3).

    Viterbi over states ``(bar length m, position k < m)``; ``k -> k + 1`` within a bar, ``m - 1 -> 0`` at its
    end (switching to another bar length with ``meter_change_probability``). A state at position 0 scores
    ``log p``, any other ``log (1 - p)``, with ``p`` clipped to ``[downbeat_floor, 1 - downbeat_floor]``.
    """
    lengths = config.beats_per_bar_options
    states = [(length, position) for length in lengths for position in range(length)]
    num_states = len(states)
    index = {state: i for i, state in enumerate(states)}
    with np.errstate(divide="ignore"):
        transitions = np.full((num_states, num_states), -np.inf)  # log P(to | from), [from, to]
        change = config.meter_change_probability if len(lengths) > 1 else 0.0
        for (length, position), i in index.items():
            if position < length - 1:
                transitions[i, index[(length, position + 1)]] = 0.0
            else:
                for other in lengths:
                    probability = 1.0 - change if other == length else change / (len(lengths) - 1)
                    transitions[i, index[(other, 0)]] = np.log(probability)
    probabilities = np.clip(downbeat_scores, config.downbeat_floor, 1.0 - config.downbeat_floor)
    is_downbeat = np.array([position == 0 for _, position in states])
    observations = np.where(is_downbeat[None, :], np.log(probabilities)[:, None],
                            np.log1p(-probabilities)[:, None])  # (num_beats, num_states)

    num_beats = len(downbeat_scores)
    scores = observations[0] - np.log(num_states)
    backpointers = np.zeros((num_beats, num_states), dtype=np.int64)
    for beat in range(1, num_beats):
        candidates = scores[:, None] + transitions  # (from, to)
        backpointers[beat] = np.argmax(candidates, axis=0)
        scores = candidates[backpointers[beat], np.arange(num_states)] + observations[beat]
    path = np.zeros(num_beats, dtype=np.int64)
    path[-1] = int(np.argmax(scores))
    for beat in range(num_beats - 1, 0, -1):
        path[beat - 1] = backpointers[beat, path[beat]]
    return np.array([states[state][1] for state in path], dtype=np.int64), \
        np.array([states[state][0] for state in path], dtype=np.int64)


def decode_beats(activations: np.ndarray, config: DrumBeatTrackerConfig) -> BeatDecoding:
    """``(num_frames, 2)`` beat/downbeat probabilities -> :class:`BeatDecoding` (steps 1-3)."""
    activations = np.asarray(activations, dtype=np.float64)
    if activations.ndim != 2 or activations.shape[1] != 2:
        raise ValueError(f"activations must have shape (num_frames, 2) [beat, downbeat], got {activations.shape}")
    frames = track_beat_frames(activations[:, 0], config)
    if len(frames) < 2:
        empty = np.zeros(0)
        return BeatDecoding(empty, empty, config.beats_per_bar_options[-1], float("nan"), 0.0, True,
                            np.zeros(0, dtype=np.int64))
    beat_scores = _peak_values(activations[:, 0], frames)
    downbeat_peaks = _peak_values(activations[:, 1], frames)
    # P(downbeat | beat) ~ downbeat / beat activation (downbeats are beats): steadier than the raw downbeat
    # activation, which sags together with the beat activation in quiet passages.
    downbeat_scores = downbeat_peaks / np.maximum(np.maximum(beat_scores, downbeat_peaks), 1e-6)
    positions, lengths = bar_positions(downbeat_scores, config)
    beats = frames / config.frame_rate
    confidence = float(beat_scores.mean())
    return BeatDecoding(
        beats=beats,
        downbeats=beats[positions == 0],
        beats_per_bar=int(Counter(lengths.tolist()).most_common(1)[0][0]),
        bpm=float(60.0 / np.median(np.diff(beats))),
        confidence=confidence,
        unsure=confidence < config.confidence_threshold,
        bar_positions=positions,
    )


__all__ = ["BeatDecoding", "bar_positions", "decode_beats", "local_tempo", "track_beat_frames"]
