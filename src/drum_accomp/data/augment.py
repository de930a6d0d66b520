"""Small, label-preserving augmentations for the oversampled copies of rare genres.

MIDI functions take a ``pretty_midi.PrettyMIDI`` and return an augmented deep copy; the input is never changed.
Random ones draw from a ``numpy.random.Generator``, so every copy is reproducible from its seed:
``copy_generator(seed, example_index, copy)`` gives copy ``k`` of example ``i`` its own stream, independent of
the order the build visits examples in. Audio gets a random gain; audio rendered from an augmented MIDI also
carries the MIDI-level augmentations.

All augmentations keep the genre: a few percent of tempo, a few velocity steps, a few milliseconds of timing.
Times are seconds, velocities MIDI steps (1..127), pitches MIDI note numbers, gains decibels.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import pretty_midi

from ..midi import GM_DRUM_KITS, set_drum_kit

MIN_VELOCITY, MAX_VELOCITY = 1, 127
MIN_PITCH, MAX_PITCH = 0, 127


@dataclass
class AugmentConfig:
    """Ranges of the augmentations applied to an oversampled copy (`augment_midi_copy`, `random_gain`).

    Args:
        tempo_range (`tuple[float, float]`, defaults to `(0.95, 1.05)`):
            Tempo factor range, drawn log-uniformly (1.05 = 5 % faster, every time divided by 1.05).
            `(1.0, 1.0)` turns it off.
        velocity_std (`float`, defaults to `6.0`):
            Standard deviation of the Gaussian velocity jitter, in MIDI velocity steps; 0 turns it off.
        velocity_drums_only (`bool`, defaults to `True`):
            Jitter only drum velocities (the part the model writes); `False` jitters the backing too.
        microtiming_std (`float`, defaults to `0.005`):
            Standard deviation of the Gaussian onset jitter of drum notes, in seconds (5 ms is well below the
            10-20 ms deviations of human drummers, so the groove stays the drummer's); 0 turns it off.
        transpose_range (`tuple[int, int]`, defaults to `(0, 0)`):
            Inclusive range of backing transposition, in semitones (drums never move). Off by default: copies
            of a drums-only source have no backing, and a song's key is part of its character.
        drum_kits (`tuple[str, ...]`, defaults to `()`):
            GM drum kit names (`midi.GM_DRUM_KITS`) a copy may be switched to for rendering; empty keeps the
            file's kit. Off by default because the kit (brushes, 808) is part of a genre's sound.
        gain_db_range (`tuple[float, float]`, defaults to `(-6.0, 0.0)`):
            Range of the uniform random gain for audio, in decibels.
    """

    tempo_range: tuple[float, float] = (0.95, 1.05)
    velocity_std: float = 6.0
    velocity_drums_only: bool = True
    microtiming_std: float = 0.005
    transpose_range: tuple[int, int] = (0, 0)
    drum_kits: tuple[str, ...] = ()
    gain_db_range: tuple[float, float] = (-6.0, 0.0)

    def __post_init__(self):
        low, high = self.tempo_range
        if not 0 < low <= high:
            raise ValueError(f"tempo_range must be 0 < low <= high (factors, 1 = unchanged), got {self.tempo_range}")
        if self.velocity_std < 0 or self.microtiming_std < 0:
            raise ValueError(f"velocity_std and microtiming_std must be >= 0, got {self.velocity_std} and "
                             f"{self.microtiming_std}")
        low, high = self.transpose_range
        if int(low) != low or int(high) != high or low > high:
            raise ValueError(f"transpose_range must be whole semitones with low <= high, got {self.transpose_range}")
        unknown = [kit for kit in self.drum_kits if kit not in GM_DRUM_KITS]
        if unknown:
            raise ValueError(f"unknown drum kits {unknown}; choose from {', '.join(GM_DRUM_KITS)}")
        if self.gain_db_range[0] > self.gain_db_range[1]:
            raise ValueError(f"gain_db_range must be (low, high) in dB with low <= high, got {self.gain_db_range}")


def copy_generator(seed: int, example_index: int, copy_number: int) -> np.random.Generator:
    """The random stream of augmented copy `copy_number` of example `example_index` (all >= 0).

    Seeding from the triple, rather than drawing from one shared generator, keeps a copy identical when the
    build skips, reorders or parallelises examples.
    """
    if min(seed, example_index, copy_number) < 0:
        raise ValueError(f"seed, example_index and copy_number must be >= 0, got {seed}, {example_index}, "
                         f"{copy_number}")
    return np.random.default_rng([int(seed), int(example_index), int(copy_number)])


# ---------------------------------------------------------------------------------------------------------
# MIDI augmentations (each returns a new PrettyMIDI)
# ---------------------------------------------------------------------------------------------------------


def scale_tempo(midi: pretty_midi.PrettyMIDI, factor: float) -> pretty_midi.PrettyMIDI:
    """Play `factor` times faster: every time (notes, controls, meta events) divided by `factor`.

    The tempo map is scaled with them (tempi x `factor`, ticks unchanged), so beats, downbeats and bars stay
    on the same notes: `get_beats()` of the copy equals the original's divided by `factor`.
    """
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"tempo factor must be a finite number > 0, got {factor}; 1.1 plays 10% faster")
    scaled = copy.deepcopy(midi)
    _scale_tempo_inplace(scaled, factor)
    return scaled


def jitter_velocity(
    midi: pretty_midi.PrettyMIDI, rng: np.random.Generator, std: float, drums_only: bool = True,
) -> pretty_midi.PrettyMIDI:
    """Add rounded Gaussian noise of `std` velocity steps to note velocities, clipped to 1..127.

    `drums_only` leaves backing instruments untouched.
    """
    jittered = copy.deepcopy(midi)
    _jitter_velocity_inplace(jittered, rng, std, drums_only)
    return jittered


def jitter_microtiming(
    midi: pretty_midi.PrettyMIDI, rng: np.random.Generator, std_seconds: float,
) -> pretty_midi.PrettyMIDI:
    """Shift each drum note by Gaussian noise of `std_seconds` (its end moves with it; backing stays).

    Shifts are clipped to 2 standard deviations and to half the gap to the previous and next hit of the same
    pitch, so strokes of one drum never swap (a roll stays a roll); no note moves before 0 s. Hits on
    different drums may pass each other by a few ms, as in human playing. Notes are re-sorted by onset.
    """
    jittered = copy.deepcopy(midi)
    _jitter_microtiming_inplace(jittered, rng, std_seconds)
    return jittered


def transpose_backing(midi: pretty_midi.PrettyMIDI, semitones: int) -> pretty_midi.PrettyMIDI:
    """Transpose non-drum instruments (and key signatures) by `semitones`; drums are untouched.

    A note pushed outside the MIDI range 0..127 is moved back by octaves rather than clipped, so it keeps
    its pitch class (a clipped note would add a wrong note to the harmony).
    """
    if int(semitones) != semitones:
        raise ValueError(f"semitones must be a whole number, got {semitones}")
    transposed = copy.deepcopy(midi)
    _transpose_backing_inplace(transposed, int(semitones))
    return transposed


def change_drum_kit(midi: pretty_midi.PrettyMIDI, kit: str | int) -> pretty_midi.PrettyMIDI:
    """A copy whose drum tracks use GM drum kit `kit` (a `midi.GM_DRUM_KITS` name or program 0-127)."""
    return set_drum_kit(copy.deepcopy(midi), kit)


def augment_midi_copy(
    midi: pretty_midi.PrettyMIDI, rng: np.random.Generator, config: AugmentConfig | None = None,
) -> pretty_midi.PrettyMIDI:
    """One augmented copy for oversampling: tempo, then velocity, microtiming, transposition and drum kit.

    Draws in that fixed order from `rng` (use `copy_generator(seed, index, copy)`), so a copy is reproducible.
    Tempo comes first so the microtiming jitter is in seconds of the final copy. Read the copy's tempo from
    `get_tempo_changes()`: it differs from the source's by the drawn factor.
    """
    config = config or AugmentConfig()
    augmented = copy.deepcopy(midi)
    low, high = config.tempo_range
    factor = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    _scale_tempo_inplace(augmented, factor)
    _jitter_velocity_inplace(augmented, rng, config.velocity_std, config.velocity_drums_only)
    _jitter_microtiming_inplace(augmented, rng, config.microtiming_std)
    semitones = int(rng.integers(int(config.transpose_range[0]), int(config.transpose_range[1]) + 1))
    _transpose_backing_inplace(augmented, semitones)
    if config.drum_kits:
        set_drum_kit(augmented, config.drum_kits[int(rng.integers(len(config.drum_kits)))])
    return augmented


def _scale_tempo_inplace(midi: pretty_midi.PrettyMIDI, factor: float) -> None:
    if factor == 1.0:
        return
    stretch = 1.0 / factor
    # Measured before any change: the tick-to-time table must again reach the last event.
    last_tick = midi.time_to_tick(midi.get_end_time()) + 1
    for instrument in midi.instruments:
        for note in instrument.notes:
            note.start *= stretch
            note.end *= stretch
        for event in instrument.pitch_bends + instrument.control_changes:
            event.time *= stretch
    for event in (midi.time_signature_changes + midi.key_signature_changes + midi.lyrics + midi.text_events):
        event.time *= stretch
    # A uniform stretch keeps every event on its tick and only shortens the tick, so scaling the tick scales is
    # exact. (`adjust_times`, the public route, re-quantises tempo changes, moves the first time signature to a
    # downbeat and drops zero-length notes.) pretty_midi is pinned, and tests check tempo and beats.
    midi._tick_scales = [(tick, scale * stretch) for tick, scale in midi._tick_scales]
    midi._update_tick_to_time(last_tick)


def _jitter_velocity_inplace(midi: pretty_midi.PrettyMIDI, rng: np.random.Generator, std: float,
                             drums_only: bool) -> None:
    if std < 0:
        raise ValueError(f"velocity std must be >= 0 (MIDI velocity steps), got {std}")
    for instrument in midi.instruments:
        if drums_only and not instrument.is_drum:
            continue
        noise = np.rint(rng.normal(0.0, std, len(instrument.notes))).astype(np.int64)
        for note, delta in zip(instrument.notes, noise):
            note.velocity = int(np.clip(note.velocity + delta, MIN_VELOCITY, MAX_VELOCITY))


def _jitter_microtiming_inplace(midi: pretty_midi.PrettyMIDI, rng: np.random.Generator, std_seconds: float) -> None:
    if std_seconds < 0:
        raise ValueError(f"microtiming std must be >= 0 seconds, got {std_seconds}")
    for instrument in midi.instruments:
        if not instrument.is_drum or not instrument.notes:
            continue
        notes = instrument.notes
        starts = np.array([note.start for note in notes])
        pitches = np.array([note.pitch for note in notes])
        bounds = np.full(len(notes), 2.0 * std_seconds)
        for pitch in np.unique(pitches):
            members = np.flatnonzero(pitches == pitch)
            members = members[np.argsort(starts[members], kind="stable")]
            half_gaps = np.diff(starts[members]) / 2.0
            bounds[members[:-1]] = np.minimum(bounds[members[:-1]], half_gaps)
            bounds[members[1:]] = np.minimum(bounds[members[1:]], half_gaps)
        shifts = np.clip(rng.normal(0.0, std_seconds, len(notes)), -bounds, bounds)
        shifts = np.maximum(shifts, -starts)
        for note, shift in zip(notes, shifts):
            note.start += float(shift)
            note.end += float(shift)
        notes.sort(key=lambda note: (note.start, note.pitch))


def _transpose_backing_inplace(midi: pretty_midi.PrettyMIDI, semitones: int) -> None:
    if semitones == 0:
        return
    for instrument in midi.instruments:
        if instrument.is_drum:
            continue
        for note in instrument.notes:
            pitch = note.pitch + semitones
            pitch -= 12 * max(0, math.ceil((pitch - MAX_PITCH) / 12))
            pitch += 12 * max(0, math.ceil((MIN_PITCH - pitch) / 12))
            note.pitch = pitch
    for key in midi.key_signature_changes:
        # key_number: 0-11 major keys from C, 12-23 minor keys from C.
        key.key_number = (key.key_number % 12 + semitones) % 12 + 12 * (key.key_number // 12)


# ---------------------------------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------------------------------


def random_gain(audio: np.ndarray, rng: np.random.Generator, db_range: tuple[float, float] = (-6.0, 0.0)) -> np.ndarray:
    """A copy of `audio` (any shape, float) scaled by a gain drawn uniformly in `db_range` decibels.

    Not clipped: keep the upper bound at 0 dB for audio that already peaks near full scale.
    """
    audio = np.asarray(audio)
    if not np.issubdtype(audio.dtype, np.floating):
        raise ValueError(f"random_gain expects float audio, got dtype {audio.dtype}; convert with "
                         "audio.astype(np.float32) / 32768 for 16-bit PCM")
    low, high = db_range
    if low > high:
        raise ValueError(f"db_range must be (low, high) in dB with low <= high, got {db_range}")
    gain = 10.0 ** (rng.uniform(low, high) / 20.0)
    return (audio * gain).astype(audio.dtype, copy=False)
