"""Drum metrics: drum-hit F1 per class, groove (timing / velocity) distances, beat alignment.

Drum-hit F1 (as PocketVAE and GrooVAE report note F1). For each of the 9 drum classes ``c`` separately, reference
onsets ``R_c`` and estimated onsets ``E_c`` are matched one-to-one with ``mir_eval.util.match_events`` (a maximum
bipartite matching of pairs with ``|r - e| <= tolerance``), exactly as ``mir_eval.onset.f_measure`` does::

    P_c = |M_c| / |E_c|      R_c = |M_c| / |R_c|      F_c = 2 P_c R_c / (P_c + R_c)

and micro-averaged over the classes (hits of every class pooled)::

    P = sum_c |M_c| / sum_c |E_c|     R = sum_c |M_c| / sum_c |R_c|     F = 2 P R / (P + R)

As in ``mir_eval.onset.f_measure``, a class with hits on only one side scores 0; a class with no hits on either
side is undefined and reported as NaN (it does not enter the micro average either way, having no hits).

Groove distance, on the matched pairs ``(r, e)`` of all classes:

    timing_mae_ms   = 1000 * mean |t_e - t_r|
    velocity_mae    = mean |v_e - v_r|        (MIDI velocity units)

and, given beat times, a distribution distance per metrical position: every hit gets its nearest 16th-note grid
point (4 per beat, linear between beats), its position ``k = 0..3`` in the beat and its microtiming offset
``o = t - grid`` in ms. For each ``k``, ``W_1`` (``scipy.stats.wasserstein_distance``) between the generated and
the real offsets, and between the generated and the real velocities, then their mean over the positions present
on both sides. These compare the *distributions* (swing, push/pull, accents), so they need no matching.

Beat alignment: beats tracked on the generated drums' audio against the backing's beats, with
``mir_eval.beat.f_measure`` (±70 ms), plus a histogram of the signed offset of each tracked beat to its nearest
reference beat (negative = early).

Audio cross-check (approximate): when only audio is at hand, onsets are detected per frequency band with
``librosa.onset.onset_detect`` on a band-limited onset envelope (kick < 150 Hz, snare 150 Hz-2 kHz, hi-hat / cymbals
> 6 kHz) and scored with the same matcher. Bands overlap across instruments (a snare has low energy, a kick a
click), so these F1s are only a sanity check, not the MIDI metric.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import mir_eval
import numpy as np
import pretty_midi
from scipy.stats import wasserstein_distance

from ..midi import DRUM_CLASSES, NUM_DRUM_CLASSES, DrumHits, as_midi, drum_hits

DEFAULT_TOLERANCE = 0.05
"""Onset tolerance (s) of the drum-hit F1: ±50 ms, ``mir_eval.onset``'s default window."""

BEAT_TOLERANCE = 0.07
"""Beat tolerance (s) of ``mir_eval.beat.f_measure``: ±70 ms."""

SIXTEENTHS_PER_BEAT = 4

AUDIO_BANDS: dict[str, tuple[float, float]] = {"kick": (20.0, 150.0), "snare": (150.0, 2000.0),
                                               "closed_hihat": (6000.0, 8000.0)}
"""Frequency bands (Hz) of the approximate audio onset cross-check, named by the drum class they stand for.
The hi-hat band stops at 8 kHz, the Nyquist frequency of 16 kHz audio."""


def as_hits(drums: str | os.PathLike | pretty_midi.PrettyMIDI | DrumHits) -> DrumHits:
    """A MIDI path, a ``PrettyMIDI`` or ``DrumHits`` -> ``DrumHits`` (an empty drum part is allowed)."""
    if isinstance(drums, DrumHits):
        return drums
    return drum_hits(as_midi(drums), require_drums=False)


# ----- drum-hit F1 --------------------------------------------------------------------------------------------------


@dataclass
class DrumHitScores:
    """Drum-hit precision / recall / F1 (see the module docstring for the formulas).

    Attributes:
        precision, recall, f1: ``(9,)`` per class in ``DRUM_CLASSES`` order; NaN for a class absent on both sides.
        num_reference, num_estimated, num_matched: ``(9,)`` int64 counts per class.
        matches: per class, ``(num_matched_c, 2)`` int64 index pairs ``(reference, estimated)`` into that class's
            hits in time order (as ``mir_eval.util.match_events`` returns them).
        tolerance: the onset tolerance in seconds.
    """

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    num_reference: np.ndarray
    num_estimated: np.ndarray
    num_matched: np.ndarray
    matches: list[np.ndarray] = field(repr=False, default_factory=list)
    tolerance: float = DEFAULT_TOLERANCE

    @property
    def micro_precision(self) -> float:
        return _ratio(self.num_matched.sum(), self.num_estimated.sum())

    @property
    def micro_recall(self) -> float:
        return _ratio(self.num_matched.sum(), self.num_reference.sum())

    @property
    def micro_f1(self) -> float:
        return _f_measure(self.micro_precision, self.micro_recall)

    def to_dict(self) -> dict:
        """JSON-friendly: per class and micro P/R/F1 with counts."""
        classes = {name: {"precision": float(self.precision[i]), "recall": float(self.recall[i]),
                          "f1": float(self.f1[i]), "reference": int(self.num_reference[i]),
                          "estimated": int(self.num_estimated[i]), "matched": int(self.num_matched[i])}
                   for i, name in enumerate(DRUM_CLASSES)}
        return {"classes": classes, "micro": {"precision": self.micro_precision, "recall": self.micro_recall,
                                              "f1": self.micro_f1}, "tolerance": self.tolerance}


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else 0.0


def _f_measure(precision: float, recall: float) -> float:
    return mir_eval.util.f_measure(precision, recall)


def drum_hit_scores(
    reference: str | os.PathLike | pretty_midi.PrettyMIDI | DrumHits,
    estimated: str | os.PathLike | pretty_midi.PrettyMIDI | DrumHits,
    tolerance: float = DEFAULT_TOLERANCE,
) -> DrumHitScores:
    """Per-class and micro drum-hit P/R/F1 of ``estimated`` against ``reference`` (MIDI paths, ``PrettyMIDI`` or
    ``DrumHits``), one-to-one within ``tolerance`` seconds, identical per class to ``mir_eval.onset.f_measure``.

    Raises:
        ValueError: for a tolerance that is not a positive number of seconds.
    """
    if not (np.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance must be a positive number of seconds, got {tolerance}; e.g. 0.05 for ±50 ms")
    reference, estimated = as_hits(reference), as_hits(estimated)
    precision, recall, f1 = (np.full(NUM_DRUM_CLASSES, np.nan) for _ in range(3))
    counts = np.zeros((3, NUM_DRUM_CLASSES), dtype=np.int64)
    matches = []
    for class_index in range(NUM_DRUM_CLASSES):
        reference_times = np.sort(reference.times[reference.classes == class_index])
        estimated_times = np.sort(estimated.times[estimated.classes == class_index])
        pairs = np.zeros((0, 2), dtype=np.int64)
        if len(reference_times) and len(estimated_times):
            pairs = np.asarray(mir_eval.util.match_events(reference_times, estimated_times, tolerance),
                               dtype=np.int64).reshape(-1, 2)
        matches.append(pairs)
        counts[:, class_index] = len(reference_times), len(estimated_times), len(pairs)
        if len(reference_times) or len(estimated_times):
            precision[class_index] = _ratio(len(pairs), len(estimated_times))
            recall[class_index] = _ratio(len(pairs), len(reference_times))
            f1[class_index] = _f_measure(precision[class_index], recall[class_index])
    return DrumHitScores(precision, recall, f1, counts[0], counts[1], counts[2], matches, float(tolerance))


def combine_scores(scores: list[DrumHitScores]) -> DrumHitScores:
    """Pool the counts of several files (micro over files and classes); per-class P/R/F1 from pooled counts."""
    if not scores:
        raise ValueError("no scores to combine; evaluate at least one pair of files")
    num_reference = sum(score.num_reference for score in scores)
    num_estimated = sum(score.num_estimated for score in scores)
    num_matched = sum(score.num_matched for score in scores)
    precision, recall, f1 = (np.full(NUM_DRUM_CLASSES, np.nan) for _ in range(3))
    for c in range(NUM_DRUM_CLASSES):
        if num_reference[c] or num_estimated[c]:
            precision[c] = _ratio(num_matched[c], num_estimated[c])
            recall[c] = _ratio(num_matched[c], num_reference[c])
            f1[c] = _f_measure(precision[c], recall[c])
    return DrumHitScores(precision, recall, f1, num_reference, num_estimated, num_matched, [], scores[0].tolerance)


# ----- groove distance ----------------------------------------------------------------------------------------------


@dataclass
class GrooveDistance:
    """Timing and velocity distances (see the module docstring).

    Attributes:
        timing_mae_ms: mean |Δt| of matched hits in ms (NaN with no match).
        velocity_mae: mean |Δvelocity| of matched hits (NaN with no match).
        num_matched: matched pairs over all classes.
        offset_wasserstein_ms: per 16th position in the beat (0..3), W1 between offset distributions in ms
            (NaN where a side has no hits); empty without beats.
        velocity_wasserstein: per 16th position, W1 between velocity distributions.
    """

    timing_mae_ms: float
    velocity_mae: float
    num_matched: int
    offset_wasserstein_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    velocity_wasserstein: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def mean_offset_wasserstein_ms(self) -> float:
        """Mean over the positions defined on both sides (NaN when none)."""
        return _nanmean(self.offset_wasserstein_ms)

    @property
    def mean_velocity_wasserstein(self) -> float:
        return _nanmean(self.velocity_wasserstein)

    def to_dict(self) -> dict:
        return {"timing_mae_ms": self.timing_mae_ms, "velocity_mae": self.velocity_mae,
                "num_matched": self.num_matched,
                "offset_wasserstein_ms": self.offset_wasserstein_ms.tolist(),
                "velocity_wasserstein": self.velocity_wasserstein.tolist(),
                "mean_offset_wasserstein_ms": self.mean_offset_wasserstein_ms,
                "mean_velocity_wasserstein": self.mean_velocity_wasserstein}


def _nanmean(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")


def pool_groove_distances(distances: list[GrooveDistance]) -> dict:
    """Groove distances of several files pooled into one JSON-friendly dict.

    ``timing_mae_ms`` and ``velocity_mae`` are weighted by each file's matched hits (= the mean over all matched
    pairs); the W1 figures are the mean over files of each file's mean over positions (files without one left out).

    Returns:
        ``{"timing_mae_ms", "velocity_mae", "num_matched", "mean_offset_wasserstein_ms",
        "mean_velocity_wasserstein", "num_files"}`` (NaN where nothing was defined).
    """
    weights = np.array([distance.num_matched for distance in distances], dtype=np.float64)
    total = weights.sum()

    def weighted(values: list[float]) -> float:
        values = np.nan_to_num(np.asarray(values, dtype=np.float64))  # NaN only where the weight is 0
        return float((values * weights).sum() / total) if total > 0 else float("nan")

    return {"timing_mae_ms": weighted([distance.timing_mae_ms for distance in distances]),
            "velocity_mae": weighted([distance.velocity_mae for distance in distances]),
            "num_matched": int(total),
            "mean_offset_wasserstein_ms": _nanmean([distance.mean_offset_wasserstein_ms for distance in distances]),
            "mean_velocity_wasserstein": _nanmean([distance.mean_velocity_wasserstein for distance in distances]),
            "num_files": len(distances)}


def sixteenth_positions(times: np.ndarray, beat_times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest 16th-note grid point of each time, on a grid of 4 steps per beat between the given beats.

    The grid is linear between consecutive beats and extrapolated with the first / last beat interval.

    Args:
        times: ``(n,)`` seconds.
        beat_times: ``(num_beats,)`` increasing seconds, at least 2.
    Returns:
        ``(positions, offsets)``: ``(n,)`` int64 position of the grid point in its beat (0 = on the beat .. 3) and
        ``(n,)`` float64 offsets ``time - grid_time`` in seconds (positive = late).
    """
    beat_times = np.asarray(beat_times, dtype=np.float64).reshape(-1)
    if len(beat_times) < 2 or np.any(np.diff(beat_times) <= 0):
        raise ValueError(f"beat_times must hold at least 2 strictly increasing times (s), got {beat_times[:8]}")
    from ..tokenization_drum import beats_to_times, times_to_beats

    beats = times_to_beats(np.asarray(times, dtype=np.float64), beat_times)
    steps = np.rint(beats * SIXTEENTHS_PER_BEAT)
    grid_times = beats_to_times(steps / SIXTEENTHS_PER_BEAT, beat_times)
    return np.mod(steps, SIXTEENTHS_PER_BEAT).astype(np.int64), np.asarray(times, dtype=np.float64) - grid_times


def groove_distance(
    reference: str | os.PathLike | pretty_midi.PrettyMIDI | DrumHits,
    estimated: str | os.PathLike | pretty_midi.PrettyMIDI | DrumHits,
    tolerance: float = DEFAULT_TOLERANCE,
    beat_times: np.ndarray | None = None,
    estimated_beat_times: np.ndarray | None = None,
    scores: DrumHitScores | None = None,
) -> GrooveDistance:
    """Matched-hit timing / velocity errors and per-16th-position W1 distances (see the module docstring).

    Args:
        reference, estimated: MIDI paths, ``PrettyMIDI`` or ``DrumHits``.
        tolerance: matching window in seconds (as in :func:`drum_hit_scores`).
        beat_times: the reference's beat times (s) for the per-position distances; ``None`` skips them.
        estimated_beat_times: the generated part's beats when they differ (defaults to ``beat_times``).
        scores: a :func:`drum_hit_scores` result of the same pair, to reuse its matching.
    """
    reference, estimated = as_hits(reference), as_hits(estimated)
    scores = scores or drum_hit_scores(reference, estimated, tolerance)
    time_errors, velocity_errors = [], []
    for class_index, pairs in enumerate(scores.matches):
        if not len(pairs):
            continue
        reference_members = np.flatnonzero(reference.classes == class_index)
        estimated_members = np.flatnonzero(estimated.classes == class_index)
        # match indices refer to the class's hits sorted by time
        reference_members = reference_members[np.argsort(reference.times[reference_members], kind="stable")]
        estimated_members = estimated_members[np.argsort(estimated.times[estimated_members], kind="stable")]
        ref_index, est_index = reference_members[pairs[:, 0]], estimated_members[pairs[:, 1]]
        time_errors.append(np.abs(estimated.times[est_index] - reference.times[ref_index]))
        velocity_errors.append(np.abs(estimated.velocities[est_index] - reference.velocities[ref_index]))
    time_errors = np.concatenate(time_errors) if time_errors else np.zeros(0)
    velocity_errors = np.concatenate(velocity_errors) if velocity_errors else np.zeros(0)
    result = GrooveDistance(
        timing_mae_ms=float(1000 * time_errors.mean()) if len(time_errors) else float("nan"),
        velocity_mae=float(velocity_errors.mean()) if len(velocity_errors) else float("nan"),
        num_matched=len(time_errors),
    )
    if beat_times is not None:
        estimated_beat_times = beat_times if estimated_beat_times is None else estimated_beat_times
        ref_positions, ref_offsets = sixteenth_positions(reference.times, beat_times)
        est_positions, est_offsets = sixteenth_positions(estimated.times, estimated_beat_times)
        offset_distances, velocity_distances = np.full(4, np.nan), np.full(4, np.nan)
        for position in range(SIXTEENTHS_PER_BEAT):
            ref_members, est_members = ref_positions == position, est_positions == position
            if ref_members.any() and est_members.any():
                offset_distances[position] = 1000 * wasserstein_distance(ref_offsets[ref_members],
                                                                         est_offsets[est_members])
                velocity_distances[position] = wasserstein_distance(reference.velocities[ref_members],
                                                                    estimated.velocities[est_members])
        result.offset_wasserstein_ms, result.velocity_wasserstein = offset_distances, velocity_distances
    return result


# ----- beat alignment -----------------------------------------------------------------------------------------------


@dataclass
class BeatAlignment:
    """Beats of generated drums against the backing's beats.

    Attributes:
        f_measure: ``mir_eval.beat.f_measure`` at ±``tolerance``.
        offsets: ``(num_estimated_beats,)`` signed seconds from each estimated beat to its nearest reference beat
            (``estimated - reference``; negative = early).
        histogram: counts of ``offsets`` in ``bin_edges``.
        bin_edges: ``(num_bins + 1,)`` seconds.
        estimated_beats: the beats tracked on the generated drums (s).
    """

    f_measure: float
    offsets: np.ndarray
    histogram: np.ndarray
    bin_edges: np.ndarray
    estimated_beats: np.ndarray
    tolerance: float = BEAT_TOLERANCE

    @property
    def median_offset_ms(self) -> float:
        return float(1000 * np.median(self.offsets)) if len(self.offsets) else float("nan")


def beat_alignment_from_times(
    reference_beats: np.ndarray, estimated_beats: np.ndarray, tolerance: float = BEAT_TOLERANCE,
    bin_edges: np.ndarray | None = None,
) -> BeatAlignment:
    """Beat F-measure and the signed nearest-beat offset histogram of two beat lists (seconds).

    ``bin_edges`` default: 10 ms bins from -100 to +100 ms. Beats are used as given (``mir_eval.beat.trim_beats``
    drops the first 5 s only if you call it first).
    """
    reference_beats = np.asarray(reference_beats, dtype=np.float64).reshape(-1)
    estimated_beats = np.asarray(estimated_beats, dtype=np.float64).reshape(-1)
    f_measure = float(mir_eval.beat.f_measure(reference_beats, estimated_beats, f_measure_threshold=tolerance)) \
        if len(reference_beats) and len(estimated_beats) else 0.0
    offsets = np.zeros(0)
    if len(reference_beats) and len(estimated_beats):
        nearest = np.abs(estimated_beats[:, None] - reference_beats[None, :]).argmin(axis=1)
        offsets = estimated_beats - reference_beats[nearest]
    bin_edges = np.linspace(-0.1, 0.1, 21) if bin_edges is None else np.asarray(bin_edges, dtype=np.float64)
    histogram, _ = np.histogram(offsets, bins=bin_edges)
    return BeatAlignment(f_measure, offsets, histogram, bin_edges, estimated_beats, float(tolerance))


def beat_alignment(
    drums_audio: np.ndarray, sampling_rate: int, reference_beats: np.ndarray, backend: str = "librosa",
    tolerance: float = BEAT_TOLERANCE,
) -> BeatAlignment:
    """Track beats on the generated drums' audio (``beats.track_beats``) and compare them to the backing's beats.

    Args:
        drums_audio: ``(num_samples,)`` mono drums.
        sampling_rate: Hz.
        reference_beats: the backing's beat times (s): from its MIDI, or tracked on the backing.
        backend: beat tracker name (``"librosa"`` is permissive; ``"madmom"`` is more accurate).
    """
    from ..beats import track_beats

    tracked = track_beats(drums_audio, sampling_rate, backend=backend)
    return beat_alignment_from_times(reference_beats, tracked.beats, tolerance)


def pool_beat_alignments(alignments: list[BeatAlignment]) -> dict:
    """Beat alignments of several songs pooled into one JSON-friendly dict.

    Returns:
        ``{"f_measure": mean over songs, "num_songs", "median_offset_ms": median of all offsets,
        "share_within_tolerance": fraction of all offsets with |offset| <= tolerance, "histogram": summed counts,
        "bin_edges_ms"}`` (the songs must share their bin edges).
    """
    if not alignments:
        raise ValueError("no beat alignments to pool; evaluate at least one song")
    offsets = np.concatenate([alignment.offsets for alignment in alignments])
    tolerance = alignments[0].tolerance
    return {"f_measure": float(np.mean([alignment.f_measure for alignment in alignments])),
            "num_songs": len(alignments),
            "median_offset_ms": float(1000 * np.median(offsets)) if len(offsets) else float("nan"),
            "share_within_tolerance": float(np.mean(np.abs(offsets) <= tolerance)) if len(offsets) else 0.0,
            "histogram": np.sum([alignment.histogram for alignment in alignments], axis=0).astype(int).tolist(),
            "bin_edges_ms": (1000 * alignments[0].bin_edges).round(3).tolist()}


# ----- audio cross-check (approximate) ------------------------------------------------------------------------------


def audio_band_onsets(
    audio: np.ndarray, sampling_rate: int, bands: dict[str, tuple[float, float]] | None = None,
    hop_length: int = 160,
) -> DrumHits:
    """Approximate drum onsets of drum audio: librosa onset detection on each band's onset envelope.

    Each band's envelope is the spectral flux of the mel bands inside it (``librosa.onset.onset_strength`` with
    ``fmin``/``fmax``); its peaks (``librosa.onset.onset_detect``, backtracking off) become hits of the class the
    band is named after, velocity 100. Approximate by design: see the module docstring.
    """
    import librosa

    from ..midi import DRUM_CLASSES as names

    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    bands = AUDIO_BANDS if bands is None else bands
    times, classes = [], []
    for name, (low, high) in bands.items():
        high = min(high, sampling_rate / 2)
        envelope = librosa.onset.onset_strength(y=audio, sr=sampling_rate, hop_length=hop_length, fmin=low, fmax=high,
                                                n_mels=32)
        onsets = librosa.onset.onset_detect(onset_envelope=envelope, sr=sampling_rate, hop_length=hop_length,
                                            units="time")
        times.append(onsets)
        classes.append(np.full(len(onsets), names.index(name), dtype=np.int64))
    times, classes = np.concatenate(times), np.concatenate(classes)
    order = np.lexsort((classes, times))
    return DrumHits(times[order], classes[order], np.full(len(order), 100, dtype=np.int64))


def audio_drum_hit_scores(
    reference_audio: np.ndarray, estimated_audio: np.ndarray, sampling_rate: int,
    tolerance: float = DEFAULT_TOLERANCE,
) -> DrumHitScores:
    """Approximate per-band drum-hit F1 of two drum recordings (see :func:`audio_band_onsets`)."""
    return drum_hit_scores(audio_band_onsets(reference_audio, sampling_rate),
                           audio_band_onsets(estimated_audio, sampling_rate), tolerance)


# ----- report -------------------------------------------------------------------------------------------------------


def format_scores(scores: DrumHitScores, groove: GrooveDistance | None = None) -> str:
    """A plain-text table: per class P/R/F1 and counts, the micro average, then the groove distance."""
    lines = [f"{'class':<13} {'P':>6} {'R':>6} {'F1':>6} {'ref':>6} {'est':>6} {'match':>6}"]
    for index, name in enumerate(DRUM_CLASSES):
        lines.append(f"{name:<13} {scores.precision[index]:>6.3f} {scores.recall[index]:>6.3f} "
                     f"{scores.f1[index]:>6.3f} {scores.num_reference[index]:>6d} {scores.num_estimated[index]:>6d} "
                     f"{scores.num_matched[index]:>6d}")
    lines.append(f"{'micro':<13} {scores.micro_precision:>6.3f} {scores.micro_recall:>6.3f} {scores.micro_f1:>6.3f} "
                 f"{scores.num_reference.sum():>6d} {scores.num_estimated.sum():>6d} {scores.num_matched.sum():>6d}")
    lines.append(f"(onset tolerance ±{1000 * scores.tolerance:.0f} ms; nan = class absent on both sides)")
    if groove is not None:
        lines.append(f"groove: timing MAE {groove.timing_mae_ms:.2f} ms, velocity MAE {groove.velocity_mae:.2f} "
                     f"over {groove.num_matched} matched hits")
        if len(groove.offset_wasserstein_ms):
            lines.append("  W1 per 16th position (offset ms / velocity): " + ", ".join(
                f"{k}: {o:.2f}/{v:.2f}" for k, (o, v) in enumerate(zip(groove.offset_wasserstein_ms,
                                                                      groove.velocity_wasserstein))))
    return "\n".join(lines)


__all__ = [
    "AUDIO_BANDS",
    "BEAT_TOLERANCE",
    "DEFAULT_TOLERANCE",
    "BeatAlignment",
    "DrumHitScores",
    "GrooveDistance",
    "as_hits",
    "audio_band_onsets",
    "audio_drum_hit_scores",
    "beat_alignment",
    "beat_alignment_from_times",
    "combine_scores",
    "drum_hit_scores",
    "format_scores",
    "groove_distance",
    "pool_beat_alignments",
    "pool_groove_distances",
    "sixteenth_positions",
]
