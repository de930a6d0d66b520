"""ABX trial sets from real held-back songs: the song's real drums vs the model's drums, on the same backing.

    build_trial_set("abx_trials/", split="validation", num_trials=12, seconds=10.0)

For each chosen song of a held-back split (songs the model never trained on), one clip of ``seconds`` starting on
a downbeat where the song's drums and backing play (see :func:`choose_clip_start`) becomes a trial with two
stimuli, rendered with FluidSynth (FluidR3_GM) at 44.1 kHz:

- ``real``: the backing + the song's own drum part. By default (``real_drums="hits"``) that part is reduced to the
  9 drum classes the model writes and rendered through the same path as the model's drums (standard GM kit, one
  pitch per class, the song's velocities), so that the test compares grooves, not drum kits or extra percussion;
  ``real_drums="original"`` renders the drum tracks as written instead.
- ``generated``: the backing + the drums ``pipeline("drum-accompaniment")`` writes from the backing clip alone
  (it tracks the beats itself; ``genre`` and ``seed`` as given).

Both are mixed by :func:`mix_clip` (drums at the backing's peak level, as the pipeline and the training data do,
then the mix peak-normalised and faded in/out over 10 ms), so neither differs in level. Which of them plays as A,
which as X, and the order of the trials are drawn per listener when the listener starts (:func:`draw_presentations`)
and recorded in the answers database before the first answer.

The folder holds ``trials.json`` (the manifest: every trial's song, source file, licence, condition, clip span,
genre, seed and files; how the songs were chosen; skipped songs with reasons) and per trial ``tNN_real.wav``,
``tNN_generated.wav`` and both drum parts as MIDI. It is written into a temporary folder and renamed into place,
so a killed build leaves nothing half-written.

Held-back songs come from the accompaniment build's ``songs`` table when it exists (``evaluation.songs.split_songs``,
songs transcribed from audio left out as in the pipeline evaluation). Without a build (``data/`` is not in git),
the split is recomputed from the multi-track folder exactly as the default build assigns it: every song, genre
``unknown``, ``stratified_split`` with the default fractions (80/10/10) and seed 0. This matches the build when
the build kept every song and tagged none, as the default build does (311 of 311 kept, all ``unknown``); a build
with ``--genre-labels``, ``--tagger``, ``--exclude`` or another seed has other splits, so pass ``dataset=`` then.
"""

from __future__ import annotations

import json
import os
import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pretty_midi

from ...audio import save_audio
from ...data.build_utils import REPO_ROOT, atomic_build_dir, write_json_atomic
from ..songs import split_songs, truncate_midi
from ...genres import validate_genre
from ...midi import drum_hits, load_midi, midi_beats, split_backing_and_drums
from ...render import TARGET_PEAK, fit_length, normalize_peak, render_midi
from .store import SOURCES, Presentation, utc_now

TRIALS_FILE = "trials.json"
TRIAL_SET_FORMAT = "drum_accomp ABX trial set, version 1"
DEFAULT_CONDITION = "default-model"
CLIP_SAMPLING_RATE = 44100
"""Rate (Hz) of the trial audio: the rate the pipeline renders its drum MIDI at."""
FADE_SECONDS = 0.01
HELD_BACK_SPLITS: tuple[str, ...] = ("validation", "test")
REAL_DRUMS_CHOICES: tuple[str, ...] = ("hits", "original")
MIN_CLIP_SECONDS, MAX_CLIP_SECONDS = 2.0, 60.0
EARLIEST_CLIP_FRACTION = 0.25
"""Clips start on the first suitable downbeat from this fraction of the song on (intros often have no drums)."""
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "multitrack"
DEFAULT_DATASET = REPO_ROOT / "data" / "accompaniment"
MULTITRACK_LICENCE = "CC BY-NC-SA 4.0"
LICENCE_NOTE = ("Trial audio is derived from multi-track MIDI songs licensed CC BY-NC-SA 4.0 (Tegridy MIDI Dataset, "
                "Project Los Angeles; https://creativecommons.org/licenses/by-nc-sa/4.0/): non-commercial use only, "
                "share alike, credit the source. The generated drums come from a model trained on the same "
                "(CC BY-NC-SA 4.0) songs.")

Drummer = Callable[..., dict]
"""``pipeline("drum-accompaniment")`` or anything called the same way (array, ``sampling_rate=``, ``genre=``,
``seed=``) returning its dict (``drums``, ``midi``, ...)."""


# ---------------------------------------------------------------------------------------------------------------
# Songs and clips
# ---------------------------------------------------------------------------------------------------------------


def held_back_songs(split: str, data: "str | os.PathLike" = DEFAULT_DATA,
                    dataset: "str | os.PathLike | None" = DEFAULT_DATASET) -> tuple[list[Path], str]:
    """The MIDI files of a held-back split, sorted, and a sentence saying where the split came from.

    Args:
        split: ``"validation"`` or ``"test"``.
        data: the multi-track MIDI folder the accompaniment build read (``../shared/data/multitrack``).
        dataset: the accompaniment build; its ``songs`` table decides the split when present, else the split is
            recomputed (see the module docstring).
    """
    if split not in HELD_BACK_SPLITS:
        raise ValueError(f"split {split!r} is not held back from training; use --split validation or --split test")
    data = Path(data)
    if not data.is_dir():
        raise FileNotFoundError(f"multi-track song folder not found: {str(data)!r}; pass --data (the folder the "
                                "accompaniment build read, ../shared/data/multitrack)")
    from ...data.beat_windows import UNRELIABLE_BEAT_LABELS

    if dataset is not None and (Path(dataset) / "songs").is_dir():
        files, _ = split_songs(Path(dataset), split, data, keep_transcribed=False)
        return files, f"the {split} songs of the accompaniment build {str(dataset)!r} (its songs table)"

    from ...data.balancing import DEFAULT_SPLIT_FRACTIONS, balancing_genre, stratified_split
    from ...data.song_sources import read_song_sources
    from ...genres import UNKNOWN_GENRE

    records = read_song_sources([data])
    assignment = stratified_split([record.id for record in records],
                                  [balancing_genre(UNKNOWN_GENRE)] * len(records), DEFAULT_SPLIT_FRACTIONS, seed=0)
    names = sorted(record.id for record in records if assignment[record.id] == split
                   and not any(label in record.id for label in UNRELIABLE_BEAT_LABELS))
    return [data.parent / name for name in names], (
        f"the {split} songs of {str(data)!r} as the default accompaniment build splits them (stratified_split, "
        "80/10/10, seed 0, all songs genre 'unknown'; no build found to read the split from)")


def choose_clip_start(midi: pretty_midi.PrettyMIDI, seconds: float,
                      earliest_fraction: float = EARLIEST_CLIP_FRACTION) -> float | None:
    """Start (s) of a clip of ``seconds`` where the song's drums and backing both play, or ``None``.

    Candidates are the song's downbeats whose clip ends before the song does: first those from
    ``earliest_fraction`` of the song on (in order), then the earlier ones (latest first). The first one whose clip
    holds at least one drum hit per second, hits in its first and in its last quarter, and at least one backing
    note onset per two seconds is taken.
    """
    _, downbeats = midi_beats(midi)
    end = midi.get_end_time()
    hit_times = drum_hits(midi, require_drums=False).times
    backing_onsets = np.array([note.start for instrument in midi.instruments if not instrument.is_drum
                               for note in instrument.notes])
    fitting = [float(start) for start in downbeats if start + seconds <= end]
    later = [start for start in fitting if start >= earliest_fraction * end]
    earlier = [start for start in fitting if start < earliest_fraction * end][::-1]
    quarter = seconds / 4
    for start in later + earlier:
        hits = hit_times[(hit_times >= start) & (hit_times < start + seconds)]
        onsets = int(((backing_onsets >= start) & (backing_onsets < start + seconds)).sum())
        if (len(hits) >= seconds and (hits < start + quarter).any() and (hits >= start + seconds - quarter).any()
                and onsets >= seconds / 2):
            return start
    return None


def mix_clip(backing: np.ndarray, drums: np.ndarray) -> np.ndarray:
    """One stimulus: drums scaled to the backing's peak level, added, peak-normalised, 10 ms fades at both ends.

    Args:
        backing, drums: ``(num_samples,)`` float32 at ``CLIP_SAMPLING_RATE`` (same length).

    Returns:
        ``(num_samples,)`` float32 with peak ``TARGET_PEAK`` (unless silent).
    """
    drum_peak = float(np.abs(drums).max()) if drums.size else 0.0
    if drum_peak > 0:
        drums = drums * (max(float(np.abs(backing).max()), 1e-3) / drum_peak)
    mix = normalize_peak(backing + drums, TARGET_PEAK)
    fade = min(int(FADE_SECONDS * CLIP_SAMPLING_RATE), len(mix) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        mix[:fade] *= ramp
        mix[-fade:] *= ramp[::-1]
    return mix.astype(np.float32)


@dataclass
class TrialAudio:
    """The two stimuli of one trial and their drum parts.

    Attributes:
        real, generated: ``(num_samples,)`` float32 mixes at ``CLIP_SAMPLING_RATE``.
        real_midi, generated_midi: the drum parts, times from the clip start (s).
        genre: the genre token the pipeline used.
    """

    real: np.ndarray
    generated: np.ndarray
    real_midi: pretty_midi.PrettyMIDI
    generated_midi: pretty_midi.PrettyMIDI
    genre: str


def render_real_clip(midi: pretty_midi.PrettyMIDI, start: float, seconds: float, real_drums: str = "hits"
                     ) -> tuple[np.ndarray, np.ndarray, pretty_midi.PrettyMIDI]:
    """The clip ``[start, start + seconds)`` of a song: its backing, its real drums and their MIDI.

    Returns:
        ``(backing, drums, drums_midi)``: two ``(num_samples,)`` float32 at ``CLIP_SAMPLING_RATE`` and the drum
        part (as 9-class hits, times from the clip start). ``real_drums`` as in :func:`build_trial_set`.
    """
    end = start + seconds
    first, num_samples = round(start * CLIP_SAMPLING_RATE), round(seconds * CLIP_SAMPLING_RATE)
    backing_midi, drums_midi = split_backing_and_drums(truncate_midi(midi, end))
    backing = fit_length(render_midi(backing_midi, CLIP_SAMPLING_RATE, duration=end)[first:], num_samples)
    tempo_times, tempi = midi.get_tempo_changes()
    bpm = float(tempi[np.searchsorted(tempo_times, start, side="right") - 1]) if len(tempi) else 120.0
    hits_midi = drum_hits(midi, require_drums=False).window(start, end).to_midi(bpm=bpm)
    if real_drums == "hits":  # rendered as the pipeline renders its own drum MIDI
        drums = render_midi(hits_midi, CLIP_SAMPLING_RATE, duration=seconds, normalize=False)
    else:
        drums = fit_length(render_midi(drums_midi, CLIP_SAMPLING_RATE, duration=end)[first:], num_samples)
    return backing, drums, hits_midi


def render_trial(backing: np.ndarray, real_drums: np.ndarray, real_midi: pretty_midi.PrettyMIDI, drummer: Drummer,
                 genre: str | None = None, seed: int = 0) -> TrialAudio:
    """Both stimuli of a trial: the backing with its real drums, and with the drums ``drummer`` writes from the
    backing alone (it tracks the beats itself). Arrays as :func:`render_real_clip` returns them."""
    result = drummer(backing, sampling_rate=CLIP_SAMPLING_RATE, genre=genre, seed=seed)
    generated = fit_length(np.asarray(result["drums"], dtype=np.float32), len(backing))
    return TrialAudio(real=mix_clip(backing, real_drums), generated=mix_clip(backing, generated),
                      real_midi=real_midi, generated_midi=result["midi"], genre=result["genre"])


def load_drummer(model: str | None = None) -> Drummer:
    """``pipeline("drum-accompaniment")``: the bundled default model, or ``model`` (a folder or Hub id)."""
    from transformers import pipeline

    import drum_accomp  # noqa: F401  (registers the task)

    return pipeline("drum-accompaniment", model=model) if model else pipeline("drum-accompaniment")


# ---------------------------------------------------------------------------------------------------------------
# Building a trial set
# ---------------------------------------------------------------------------------------------------------------


def build_trial_set(
    output_dir: "str | os.PathLike",
    split: str = "validation",
    num_trials: int = 12,
    seconds: float = 10.0,
    seed: int = 0,
    genre: str | None = None,
    condition: str = DEFAULT_CONDITION,
    real_drums: str = "hits",
    data: "str | os.PathLike" = DEFAULT_DATA,
    dataset: "str | os.PathLike | None" = DEFAULT_DATASET,
    model: str | None = None,
    drummer: Drummer | None = None,
    overwrite: bool = False,
    log: Callable[[str], None] | None = print,
) -> dict[str, Any]:
    """Build a trial folder (see the module docstring); returns its manifest.

    Args:
        output_dir: the folder to write (must not exist unless ``overwrite``).
        split: held-back split the songs come from (``validation`` or ``test``).
        num_trials: trials (songs) wanted; fewer are written (with a warning) if too few songs qualify.
        seconds: clip length (s).
        seed: picks the songs (a seeded shuffle of the split) and is the pipeline's sampling seed.
        genre: genre passed to the pipeline (``None``: ``unknown``, the model chooses).
        condition: name of what is tested, shown in the summary (e.g. ``default-model``).
        real_drums: ``"hits"`` (the real part in the model's 9 classes and sound) or ``"original"`` (as written).
        data, dataset: where the songs and the split come from (:func:`held_back_songs`).
        model, drummer: the pipeline's checkpoint, or a ready pipeline (default: the bundled model).
        log: called with one line per trial (``None``: quiet).
    """
    if not isinstance(num_trials, int) or num_trials < 1:
        raise ValueError(f"--num-trials must be a positive integer, got {num_trials!r}")
    if not MIN_CLIP_SECONDS <= seconds <= MAX_CLIP_SECONDS:
        raise ValueError(f"--seconds must be between {MIN_CLIP_SECONDS:g} and {MAX_CLIP_SECONDS:g}, got {seconds:g}")
    if real_drums not in REAL_DRUMS_CHOICES:
        raise ValueError(f"real_drums must be one of {', '.join(REAL_DRUMS_CHOICES)}, got {real_drums!r}")
    if not condition.strip():
        raise ValueError("--condition must name what is tested, e.g. default-model")
    if genre is not None:
        validate_genre(genre)  # the package's vocabulary: an error listing the known genres, before any work
    data = Path(data)
    files, songs_from = held_back_songs(split, data, dataset)
    files = sorted(files)
    random.Random(seed).shuffle(files)
    log = log or (lambda line: None)
    started = time.perf_counter()
    with atomic_build_dir(output_dir, overwrite=overwrite) as folder:
        drummer = drummer or load_drummer(model)
        trials, skipped = [], []
        for path in files:
            if len(trials) == num_trials:
                break
            source = path.relative_to(data.parent).as_posix()  # the song id: "multitrack/..."
            try:
                with warnings.catch_warnings():  # pretty_midi on tempo events in non-zero tracks: harmless here
                    warnings.simplefilter("ignore", RuntimeWarning)
                    midi = load_midi(path)
                start = choose_clip_start(midi, seconds)
                if start is None:
                    skipped.append({"source": source, "reason": f"no {seconds:g} s clip with drums and backing"})
                    continue
                backing, real, real_midi = render_real_clip(midi, start, seconds, real_drums)
            except (ValueError, RuntimeError) as error:  # unreadable MIDI, no backing, FluidSynth failure
                skipped.append({"source": source, "reason": str(error).split(";")[0]})
                continue
            audio = render_trial(backing, real, real_midi, drummer, genre=genre, seed=seed)
            trial_id = f"t{len(trials) + 1:02d}"
            files_written = {name: f"{trial_id}_{name}.wav" for name in SOURCES}
            save_audio(folder / files_written["real"], audio.real, CLIP_SAMPLING_RATE)
            save_audio(folder / files_written["generated"], audio.generated, CLIP_SAMPLING_RATE)
            audio.real_midi.write(str(folder / f"{trial_id}_real_drums.mid"))
            audio.generated_midi.write(str(folder / f"{trial_id}_generated_drums.mid"))
            trials.append({
                "trial_id": trial_id, "song": path.stem, "source": source, "licence": MULTITRACK_LICENCE,
                "condition": condition, "clip_start_s": round(start, 3), "clip_seconds": seconds,
                "genre": audio.genre, "seed": seed, "files": files_written,
                "midi": {name: f"{trial_id}_{name}_drums.mid" for name in SOURCES},
                "num_hits": {"real": _num_notes(audio.real_midi), "generated": _num_notes(audio.generated_midi)},
            })
            log(f"{trial_id}: {path.name} {start:.1f}-{start + seconds:.1f} s: real {trials[-1]['num_hits']['real']} "
                f"hits, generated {trials[-1]['num_hits']['generated']} hits (genre {audio.genre})")
        if not trials:
            raise ValueError(f"no song of the {split} split made a trial ({len(skipped)} skipped, e.g. "
                             f"{skipped[:2]}); try shorter --seconds")
        if len(trials) < num_trials:
            log(f"warning: only {len(trials)} of {num_trials} trials: the {split} split has no more suitable songs")
        manifest = {
            "format": TRIAL_SET_FORMAT, "created": utc_now(), "condition": condition, "split": split,
            "songs_from": songs_from, "num_trials": len(trials), "num_trials_requested": num_trials,
            "seconds": seconds, "sampling_rate": CLIP_SAMPLING_RATE, "seed": seed, "genre": genre,
            "real_drums": real_drums, "model": model or "the bundled default (pipeline('drum-accompaniment'))",
            "soundfont": "FluidR3_GM", "licence": MULTITRACK_LICENCE, "licence_note": LICENCE_NOTE,
            "build_seconds": round(time.perf_counter() - started, 1), "trials": trials, "skipped": skipped,
        }
        write_json_atomic(folder / TRIALS_FILE, manifest)
    return manifest


def _num_notes(midi: pretty_midi.PrettyMIDI) -> int:
    return sum(len(instrument.notes) for instrument in midi.instruments)


# ---------------------------------------------------------------------------------------------------------------
# Reading a trial set and drawing what each listener hears
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class TrialSet:
    """A built trial folder: ``manifest`` (``trials.json``) and ``trials`` (its list, in trial-id order)."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def trials(self) -> list[dict[str, Any]]:
        return self.manifest["trials"]

    def trial(self, trial_id: str) -> dict[str, Any]:
        for trial in self.trials:
            if trial["trial_id"] == trial_id:
                return trial
        raise KeyError(f"no trial {trial_id!r} in {str(self.folder)!r}")

    def audio_path(self, trial_id: str, source: str) -> Path:
        """The wav of one stimulus (``source`` is ``"real"`` or ``"generated"``)."""
        return self.folder / self.trial(trial_id)["files"][source]


def load_trial_set(folder: "str | os.PathLike") -> TrialSet:
    """Read and check a trial folder written by :func:`build_trial_set`."""
    folder = Path(folder)
    hint = f"build one with: drum-accomp abx build -o {str(folder)!r}"
    if not folder.is_dir():
        raise FileNotFoundError(f"trial set folder not found: {str(folder)!r}; {hint}")
    manifest_path = folder / TRIALS_FILE
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{str(folder)!r} has no {TRIALS_FILE}; it is not a trial set ({hint})")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{str(manifest_path)!r} is not valid JSON ({error}); rebuild the trial set ({hint})") from None
    if not manifest.get("trials"):
        raise ValueError(f"the trial set {str(folder)!r} is empty (no trials in {TRIALS_FILE}); {hint}")
    trial_set = TrialSet(folder=folder, manifest=manifest)
    for trial in trial_set.trials:
        for source in SOURCES:
            if not trial_set.audio_path(trial["trial_id"], source).is_file():
                raise FileNotFoundError(f"trial {trial['trial_id']!r} misses its {source} audio "
                                        f"{str(trial_set.audio_path(trial['trial_id'], source))!r}; {hint}")
    return trial_set


def draw_presentations(listener_id: str, mode: str, trials: list[dict[str, Any]]) -> list[Presentation]:
    """What one listener hears in one mode: the trials in a random order, and per trial a random source as A
    (B is the other) and, for ABX, a random source as X; for rating, the rated source. Seeded by the listener id
    and the mode, so it is reproducible; it is recorded in the store either way."""
    rng = random.Random(f"{listener_id}/{mode}")
    order = list(range(len(trials)))
    rng.shuffle(order)
    now = utc_now()
    presentations = []
    for position, index in enumerate(order):
        a_source = rng.choice(SOURCES)
        x_source = rng.choice(SOURCES) if mode == "abx" else None
        presentations.append(Presentation(listener_id=listener_id, mode=mode, trial_id=trials[index]["trial_id"],
                                          position=position, condition=trials[index]["condition"],
                                          a_source=a_source, x_source=x_source, created_at=now))
    return presentations


__all__ = ["CLIP_SAMPLING_RATE", "DEFAULT_CONDITION", "LICENCE_NOTE", "MULTITRACK_LICENCE", "TRIALS_FILE",
           "TrialAudio", "TrialSet", "build_trial_set", "choose_clip_start", "draw_presentations",
           "held_back_songs", "load_drummer", "load_trial_set", "mix_clip", "render_real_clip", "render_trial"]
