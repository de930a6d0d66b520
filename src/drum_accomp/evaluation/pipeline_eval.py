"""Evaluate ``pipeline("drum-accompaniment")`` end to end on real songs: audio in, drums out.

Each song (a multi-track General MIDI file with a drum part) is cut to its first ``seconds``; its backing and its
real drums are rendered apart with FluidSynth at 44.1 kHz, with ``soundfont`` (FluidR3_GM, a training SoundFont,
unless another is given, e.g. the held-out ``render.HELD_OUT_SOUNDFONT``). The pipeline gets the backing only (no
beats: it tracks them itself) and writes drums. Per song, then pooled over the songs:

1. Drum-hit P/R/F1 (9 classes, ±50 ms, ``evaluation.metrics``) of the pipeline's drum MIDI against the song's
   real drums, next to the rock pattern (kick 1 & 3, snare 2 & 4, closed hi-hat on eighths) on the *same tracked*
   beats and on the true MIDI beats; the groove distance of each to the real drums (timing / velocity errors of
   matched hits; W1 of microtiming and velocity per 16th position, all on the true beat grid).
2. Beat alignment of drum audio alone: madmom tracks its beats and mir_eval's beat F-measure (±70 ms, beats after
   5 s, as mir_eval trims) scores them against the song's true beats, with the signed offset of every tracked beat
   to its nearest true beat; the real drums rendered alone are the reference.
3. Both drum-audio paths of one generation: ``"midi"`` (its MIDI rendered with FluidSynth and FluidR3_GM: what
   ``drum_audio="midi"``, the default, returns) and ``"vocoder"`` (VQ-VAE + vocoder; ``vocoder=False`` skips it,
   which saves most of the compute): the beat alignment of 2 and the class-agnostic onset F1 (librosa onsets of the
   drum audio vs the real hits, ±50 ms).
4. Seconds of pipeline compute per second of audio (beat tracking included; the vocoder path when it is scored).

Pooling: hit counts are summed over songs (micro F1 over all hits); timing / velocity errors are weighted by
matched hits; beat F-measures are averaged over songs; onset counts are summed.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import librosa
import mir_eval
import numpy as np
from tqdm import tqdm

from ..audio import SAMPLING_RATE, resample
from ..midi import DrumHits, drum_hits, load_midi, midi_beats
from ..render import render_backing_and_drums, render_midi
from .baselines import rock_pattern
from .metrics import (DEFAULT_TOLERANCE, BeatAlignment, DrumHitScores, GrooveDistance, beat_alignment_from_times,
                      combine_scores, drum_hit_scores, format_scores, groove_distance, pool_beat_alignments,
                      pool_groove_distances, sixteenth_positions)
from .songs import split_songs, truncate_midi

RENDER_RATE = 44100
"""Rate (Hz) of the songs' renders handed to the pipeline, and of the drum audio scored."""
MIN_BEATS = 8
"""A song needs this many true beats inside the evaluated span (the rock pattern and beat F need a grid)."""
DRUM_AUDIO_BEAT_TRACKER = "madmom"
"""Tracker of the beats of drum audio alone (more accurate than librosa; the model's own is trained on mixes)."""
SYSTEMS: tuple[str, ...] = ("pipeline", "rock_on_tracked_beats", "rock_on_true_beats")
"""What is scored against the real drums: the pipeline's MIDI, then the two rock-pattern baselines."""
DRUM_AUDIO_PATHS: tuple[str, ...] = ("midi", "vocoder")
REAL_DRUMS = "real_drums"


@dataclass
class PipelineEvaluationConfig:
    """How each song is evaluated: the shared options of ``scripts/evaluate_pipeline.py`` and of the report."""

    seconds: float = field(default=30.0, metadata={"help": "seconds evaluated from the start of each song"})
    soundfont: str = field(default="", metadata={"help": "SoundFont the songs (backing and real drums) are rendered "
                                                         "with: a name of render.SOUNDFONTS (musescore_lite is held "
                                                         "out of training) or a path ('' = FluidR3_GM)"})
    seed: int = field(default=0, metadata={"help": "sampling seed of the pipeline (one take per song)"})
    temperature: float = field(default=1.0)
    top_p: float = field(default=1.0)
    do_sample: bool = field(default=True)
    hit_threshold: float = field(default=0.0, metadata={"help": "hit probability above which a hit is written (0 = "
                                                               "the model's)"})
    genre_ensemble: str = field(default="", metadata={"help": "true / false: average the hit predictions over every "
                                                              "genre token (songs have no genre); '' = the model's"})
    bar_smoothing: float = field(default=-1.0, metadata={"help": "weight in [0, 1] of the neighbouring bars in each "
                                                                 "hit probability (-1 = the model's)"})
    vocoder: bool = field(default=True, metadata={"help": "also score the vocoder drum audio (its autoregressive "
                                                          "drum codes are most of the compute)"})

    def __post_init__(self):
        if not self.seconds > 0:
            raise ValueError(f"seconds must be > 0, got {self.seconds}; e.g. 20 for the first 20 s of each song")
        if str(self.genre_ensemble).lower() not in ("", "true", "false"):
            raise ValueError(f"genre_ensemble={self.genre_ensemble!r}; give true, false or '' (the model's)")
        if self.bar_smoothing != -1.0 and not 0.0 <= self.bar_smoothing <= 1.0:
            raise ValueError(f"bar_smoothing={self.bar_smoothing}; give a weight in [0, 1], or -1 for the model's")

    @property
    def sampling(self) -> dict[str, Any]:
        """Keyword arguments of the pipeline call."""
        options = {"seed": self.seed, "temperature": self.temperature, "top_p": self.top_p,
                   "do_sample": self.do_sample}
        if self.hit_threshold:
            options["hit_threshold"] = self.hit_threshold
        if self.genre_ensemble:
            options["genre_ensemble"] = str(self.genre_ensemble).lower() == "true"
        if self.bar_smoothing != -1.0:
            options["bar_smoothing"] = self.bar_smoothing
        return options

    @property
    def drum_audio_paths(self) -> tuple[str, ...]:
        return DRUM_AUDIO_PATHS if self.vocoder else DRUM_AUDIO_PATHS[:1]


class SongSkipped(Exception):
    """A song that cannot be scored (unreadable, unrenderable, no drums or too few beats); the message says why."""


@dataclass
class SongResult:
    """One song's figures, and what the report's plots need.

    Attributes:
        file: the MIDI file's name.
        seconds: the evaluated span (s).
        genre: the genre the pipeline chose.
        hit_scores, grooves: per name of ``SYSTEMS``, scored against the real drums.
        tracked_beat_f: beat F-measure of the pipeline's tracked beats vs the true beats.
        beat_alignment: per drum audio (``"midi"``, ``"vocoder"``, ``"real_drums"``), its tracked beats vs the
            true beats.
        onsets: per drum audio, ``(matched, reference, estimated)`` onset counts.
        real, generated: the real and the generated drum hits (s from the song's start).
        true_beats, tracked_beats: ``(num_beats,)`` s.
        compute_seconds: wall time of the pipeline call.
    """

    file: str
    seconds: float
    genre: str
    hit_scores: dict[str, DrumHitScores]
    grooves: dict[str, GrooveDistance]
    tracked_beat_f: float
    beat_alignment: dict[str, BeatAlignment]
    onsets: dict[str, tuple[int, int, int]]
    real: DrumHits
    generated: DrumHits
    true_beats: np.ndarray
    tracked_beats: np.ndarray
    compute_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The per-song row of the JSON."""
        row = {"file": self.file, "seconds": self.seconds, "pipeline_f1": self.hit_scores["pipeline"].micro_f1,
               "rock_f1": self.hit_scores["rock_on_tracked_beats"].micro_f1, "genre": self.genre}
        row.update({f"{name}_beat_f": alignment.f_measure for name, alignment in self.beat_alignment.items()})
        return row


def onset_counts(audio: np.ndarray, rate: int, reference_times: np.ndarray) -> tuple[int, int, int]:
    """Class-agnostic onsets of ``audio`` (librosa) vs reference hit times: (matches, references, estimates)."""
    estimated = librosa.onset.onset_detect(y=audio.astype(np.float32), sr=rate, units="time", backtrack=False)
    reference = np.unique(np.round(reference_times, 3))
    matches = (len(mir_eval.util.match_events(reference, estimated, DEFAULT_TOLERANCE))
               if len(reference) and len(estimated) else 0)
    return matches, len(reference), len(estimated)


def pooled_onset_f1(counts: list[tuple[int, int, int]]) -> float:
    """F1 of :func:`onset_counts` pooled over songs."""
    matches, references, estimates = (sum(item[i] for item in counts) for i in range(3))
    return float(mir_eval.util.f_measure(matches / max(estimates, 1), matches / max(references, 1)))


def audio_beat_alignment(tracker, audio: np.ndarray, rate: int, reference_beats: np.ndarray) -> BeatAlignment:
    """Beats of ``tracker`` on ``audio`` vs the reference beats, both after 5 s (``mir_eval.beat.trim_beats``)."""
    estimated = np.asarray(tracker(audio, rate).beats, dtype=np.float64)
    return beat_alignment_from_times(mir_eval.beat.trim_beats(reference_beats), mir_eval.beat.trim_beats(estimated))


def evaluate_song(drummer, tracker, path: Path, config: PipelineEvaluationConfig) -> SongResult:
    """Render one song, run the pipeline on its backing, score everything (see the module docstring).

    Raises:
        SongSkipped: the song cannot be read or rendered, or its span has no drum hit or under ``MIN_BEATS`` beats.
    """
    # 1. The song's first seconds, backing and real drums rendered apart.
    try:
        midi = truncate_midi(load_midi(path), config.seconds)
        backing, drums = render_backing_and_drums(midi, sampling_rate=RENDER_RATE, soundfont=config.soundfont or None)
    except (ValueError, RuntimeError) as error:
        raise SongSkipped(str(error).split(";")[0]) from error
    num_samples = min(len(backing), int(config.seconds * RENDER_RATE))
    backing, drums = backing[:num_samples], drums[:num_samples]
    end = num_samples / RENDER_RATE
    true_beats, true_downbeats = (times[times < end] for times in midi_beats(midi))
    real = drum_hits(midi, require_drums=False).window(0.0, end)
    if len(true_beats) < MIN_BEATS or len(real) == 0:
        raise SongSkipped(f"fewer than {MIN_BEATS} beats or no drum hit in the span")

    # 2. The pipeline, from the backing alone. One generation serves both drum-audio paths: the vocoder's audio
    # comes with the MIDI, and the "midi" path is exactly that MIDI rendered with FluidSynth.
    started = time.perf_counter()
    result = drummer(backing, sampling_rate=RENDER_RATE, drum_audio="vocoder" if config.vocoder else "midi",
                     **config.sampling)
    compute_seconds = time.perf_counter() - started
    generated = drum_hits(result["midi"], require_drums=False)
    tracked_beats = np.asarray(result["beats"], dtype=np.float64)

    # 3. Hits vs the real drums, for the pipeline and the rock pattern on the tracked and on the true beats.
    estimates = {"pipeline": generated,
                 "rock_on_tracked_beats": rock_pattern(tracked_beats, result["downbeats"]).window(0.0, end),
                 "rock_on_true_beats": rock_pattern(true_beats, true_downbeats if len(true_downbeats) else None
                                                    ).window(0.0, end)}
    hit_scores = {name: drum_hit_scores(real, hits) for name, hits in estimates.items()}
    grooves = {name: groove_distance(real, hits, beat_times=true_beats, scores=hit_scores[name])
               for name, hits in estimates.items()}
    tracked_beat_f = float(mir_eval.beat.f_measure(mir_eval.beat.trim_beats(true_beats),
                                                   mir_eval.beat.trim_beats(tracked_beats)))

    # 4. Drum audio alone: do its beats match the song's? do its onsets match the real hits?
    audio = {"midi": render_midi(result["midi"], RENDER_RATE, duration=end, normalize=False)}
    if config.vocoder:
        audio["vocoder"] = result["drums"]
    audio[REAL_DRUMS] = drums
    alignments, onsets = {}, {}
    for name, waveform in audio.items():
        alignments[name] = audio_beat_alignment(tracker, waveform, RENDER_RATE, true_beats)
        onsets[name] = onset_counts(resample(waveform, RENDER_RATE, SAMPLING_RATE), SAMPLING_RATE, real.times)
    return SongResult(file=path.name, seconds=end, genre=result["genre"], hit_scores=hit_scores, grooves=grooves,
                      tracked_beat_f=tracked_beat_f, beat_alignment=alignments, onsets=onsets, real=real,
                      generated=generated, true_beats=true_beats, tracked_beats=tracked_beats,
                      compute_seconds=compute_seconds)


@dataclass
class PipelineEvaluation:
    """Songs of one run, scored; pooled figures as properties and JSON-friendly dicts.

    Attributes:
        config: how the songs were evaluated.
        songs: the scored songs, in file order.
        rows: one JSON row per file, in file order: a scored song's ``SongResult.to_dict()`` or
            ``{"file", "skipped": reason}``.
    """

    config: PipelineEvaluationConfig
    songs: list[SongResult] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def drum_audio_names(self) -> tuple[str, ...]:
        return (*self.config.drum_audio_paths, REAL_DRUMS)

    def pooled_hit_scores(self) -> dict[str, DrumHitScores]:
        """Per name of ``SYSTEMS``: hit counts summed over the songs."""
        return {name: combine_scores([song.hit_scores[name] for song in self.songs]) for name in SYSTEMS}

    def drum_audio(self) -> dict[str, dict[str, float]]:
        """Per drum audio: mean beat F-measure over the songs and pooled onset F1."""
        return {name: {"beat_f_measure": float(np.mean([song.beat_alignment[name].f_measure for song in self.songs])),
                       "onset_f1": pooled_onset_f1([song.onsets[name] for song in self.songs])}
                for name in self.drum_audio_names}

    def groove_distances(self) -> dict[str, dict[str, float]]:
        """Per name of ``SYSTEMS``: ``metrics.pool_groove_distances`` over the songs."""
        return {name: pool_groove_distances([song.grooves[name] for song in self.songs]) for name in SYSTEMS}

    def beat_alignments(self) -> dict[str, dict[str, Any]]:
        """Per drum audio: ``metrics.pool_beat_alignments`` over the songs (with the offset histogram)."""
        return {name: pool_beat_alignments([song.beat_alignment[name] for song in self.songs])
                for name in self.drum_audio_names}

    def microtiming_ms(self) -> dict[str, np.ndarray]:
        """Offsets (ms, positive = late) of every generated and every real hit from the nearest 16th note of the
        song's true beat grid, pooled over the songs: ``{"generated": (n,), "real": (m,)}``."""
        return {name: np.concatenate([1000 * sixteenth_positions(getattr(song, name).times, song.true_beats)[1]
                                      for song in self.songs]) for name in ("generated", "real")}

    def summary(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The JSON of ``scripts/evaluate_pipeline.py`` (``settings`` are stored as given)."""
        pooled = self.pooled_hit_scores()
        drum_audio = self.drum_audio()
        return {
            "songs_evaluated": len(self.songs), "songs_skipped": len(self.rows) - len(self.songs),
            "drum_hit_f1": {name: total.micro_f1 for name, total in pooled.items()},
            "drum_hit_scores": {name: total.to_dict() for name, total in pooled.items()},
            "tracked_beat_f_measure": float(np.mean([song.tracked_beat_f for song in self.songs])),
            "drum_audio": drum_audio,
            "better_drum_audio": max(self.config.drum_audio_paths, key=lambda name: drum_audio[name]["beat_f_measure"]),
            "seconds_per_audio_second": (sum(song.compute_seconds for song in self.songs)
                                         / max(sum(song.seconds for song in self.songs), 1e-9)),
            "settings": settings, "songs": self.rows,
        }

    def format(self) -> str:
        """Per-system score tables and one line per figure (what the script prints)."""
        pooled, drum_audio = self.pooled_hit_scores(), self.drum_audio()
        lines = [f"{name}:\n{format_scores(total)}" for name, total in pooled.items()]
        lines.append(f"\n{len(self.songs)} songs, first {self.config.seconds:g} s: hit F1 pipeline "
                     f"{pooled['pipeline'].micro_f1:.3f}, rock pattern on the tracked beats "
                     f"{pooled['rock_on_tracked_beats'].micro_f1:.3f} (on the true beats "
                     f"{pooled['rock_on_true_beats'].micro_f1:.3f}); tracked beats F "
                     f"{np.mean([song.tracked_beat_f for song in self.songs]):.3f}")
        for name, values in drum_audio.items():
            lines.append(f"drum audio {name}: beat F {values['beat_f_measure']:.3f} (madmom on the drums alone vs the "
                         f"true beats), onset F1 {values['onset_f1']:.3f}")
        compute = sum(song.compute_seconds for song in self.songs) / max(sum(song.seconds for song in self.songs), 1e-9)
        lines.append(f"pipeline compute: {compute:.3f} s per audio second")
        return "\n".join(lines)


def evaluate_songs(drummer, files: list[Path], config: PipelineEvaluationConfig, tracker=None,
                   description: str = "songs") -> PipelineEvaluation:
    """Evaluate ``drummer`` (a loaded ``pipeline("drum-accompaniment")``) on each file (see the module docstring).

    Args:
        drummer: the pipeline.
        files: multi-track MIDI files with a drum part.
        config: seconds, SoundFont and sampling.
        tracker: the drum-audio beat tracker (default: a new ``DRUM_AUDIO_BEAT_TRACKER``).
        description: what the files are, for the progress bar and the error.

    Raises:
        ValueError: no file could be evaluated (the message lists the skip reasons).
    """
    from ..beats import get_beat_tracker

    tracker = tracker or get_beat_tracker(DRUM_AUDIO_BEAT_TRACKER)
    evaluation = PipelineEvaluation(config)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pretty_midi")
        for path in tqdm(files, desc=description, unit="song"):
            try:
                song = evaluate_song(drummer, tracker, Path(path), config)
            except SongSkipped as reason:
                evaluation.rows.append({"file": Path(path).name, "skipped": str(reason)})
                continue
            evaluation.songs.append(song)
            evaluation.rows.append(song.to_dict())
    if not evaluation.songs:
        raise ValueError(f"none of the {len(files)} {description} could be evaluated; skip reasons: {evaluation.rows}. "
                         "Pass songs with a drum part and at least 8 beats in the first --seconds")
    return evaluation


def song_files(files: str | list, dataset: str | Path, split: str, data: str | Path,
               max_songs: int = 0) -> list[Path]:
    """The songs to evaluate: ``files`` (comma-separated or a list) when given, else the split of the accompaniment
    build at ``dataset`` (its MIDI under ``data``, transcribed songs left out); the first ``max_songs`` (0 = all).

    Raises:
        FileNotFoundError: a given file is missing, or there is no build (says how to make one, or to pass files).
        ValueError: an unknown split, or a negative ``max_songs``.
    """
    if max_songs < 0:
        raise ValueError(f"max_songs must be >= 0 (0 = all songs), got {max_songs}")
    if isinstance(files, str):
        files = [name.strip() for name in files.split(",") if name.strip()]
    if files:
        paths = [Path(name) for name in files]
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            raise FileNotFoundError(f"song file(s) not found: {missing}; pass existing multi-track MIDI files")
    else:
        try:
            paths, _ = split_songs(Path(dataset), split, Path(data), keep_transcribed=False)
        except FileNotFoundError as error:
            raise FileNotFoundError(f"{error}; or pass --files with multi-track MIDI files to evaluate") from error
    return paths[:max_songs] if max_songs else paths


__all__ = [
    "DRUM_AUDIO_PATHS",
    "PipelineEvaluation",
    "PipelineEvaluationConfig",
    "RENDER_RATE",
    "SYSTEMS",
    "SongResult",
    "SongSkipped",
    "evaluate_song",
    "evaluate_songs",
    "song_files",
]
