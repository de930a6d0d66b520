"""Evaluate the beat trackers on real songs: backing-only audio (and full mixes) rendered from multi-track MIDI.

Ground truth comes exactly from the MIDI tempo map (``drum_accomp.midi.midi_beats``). Each song is cut to its
first ``--seconds``; the reference is cut to the same span. Scoring is mir_eval's beat F-measure (70 ms window)
for beats and for downbeats, on an evaluation window that is the same for reference and estimate:

- ``mir_eval.beat.trim_beats`` drops everything before 5 s (mir_eval's own convention), on both sides;
- beats before the part's first note (minus 70 ms) are dropped too, on both sides: karaoke files often open
  with seconds of silence whose "beats" no tracker can hear.

Also reported: meter accuracy (estimated beats per bar == the reference's, counted in MIDI beats), the median
signed offset of estimated beats against their nearest reference beat (positive = late; matches within a quarter
of a beat), and seconds of compute per minute of audio.

Also reported: CMLt and AMLt (mir_eval.beat.continuity: correct metrical level, and any allowed level, i.e.
tempo-octave and off-beat errors forgiven).

Songs: with ``--split validation`` (or ``test``), the songs of that split of the accompaniment build (``--dataset``),
the split our tracker was not trained on; songs transcribed from audio are left out unless
``--keep-transcribed`` (their MIDI tempo maps do not follow the music, so no tracker can match them). Without
``--split``, the sorted ``*.mid`` files under ``--data`` (recursively), every k-th one (k = total // limit) from
``--start``, so every sub-collection is represented; a different ``--start`` gives a disjoint subset (used to tune
``--librosa-offset`` on songs that are not reported).

Audio is rendered at 44.1 kHz; madmom gets it as is (its networks were trained at 44.1 kHz), the other trackers
get it resampled to 16 kHz (the pipeline's rate). Compute time counts everything a tracker does from the
waveform, including our tracker's mel spectrogram.

    python scripts/evaluate_beat_trackers.py --split validation --seconds 60 --backends drum madmom librosa --mix
    python scripts/evaluate_beat_trackers.py --limit 40 --seconds 60 --backends madmom librosa --mix
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import Counter
from pathlib import Path

import mir_eval
import numpy as np
from tqdm import tqdm

from drum_accomp.audio import SAMPLING_RATE, resample
from drum_accomp.beats import BeatTrackingResult, available_beat_trackers, get_beat_tracker
from drum_accomp.midi import load_midi, midi_beats, split_backing_and_drums
from drum_accomp.evaluation.songs import split_songs, truncate_midi
from drum_accomp.render import render_backing_and_drums

REPO_ROOT = Path(__file__).resolve().parents[1]
RENDER_RATE = 44100
"""Songs are rendered at this rate (Hz): madmom's networks expect 44.1 kHz; the others get 16 kHz resampled."""
MATCH_WINDOW = 0.07
"""mir_eval's F-measure window (s), also the slack before the first note in the evaluation window."""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "multitrack",
                        help="folder searched recursively for *.mid multi-track songs")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds evaluated from the start of each song")
    parser.add_argument("--limit", type=int, default=40, help="number of songs (every k-th of the sorted list)")
    parser.add_argument("--start", type=int, default=0,
                        help="index of the first selected song (0 <= start < k); another value gives disjoint songs")
    parser.add_argument("--split", default=None, choices=["train", "validation", "test"],
                        help="evaluate the songs of this split of the accompaniment build (instead of --limit/--start)")
    parser.add_argument("--dataset", type=Path, default=REPO_ROOT / "data" / "accompaniment",
                        help="accompaniment build whose songs/ table gives the split (with --split)")
    parser.add_argument("--keep-transcribed", action="store_true",
                        help="with --split: keep songs transcribed from audio (unreliable MIDI tempo maps)")
    parser.add_argument("--backends", nargs="+", default=["drum", "madmom", "librosa"], choices=available_beat_trackers())
    parser.add_argument("--drum-model", default=None,
                        help="DrumBeatTracker checkpoint for the 'drum' backend (default: the bundled one)")
    parser.add_argument("--soundfont", default=None,
                        help="SoundFont to render with: a name of drum_accomp.render.SOUNDFONTS (e.g. musescore_lite, "
                             "the one kept out of training) or a .sf2 path; default: FluidSynth's GM SoundFont")
    parser.add_argument("--mix", action="store_true", help="also evaluate full mixes (backing + drums)")
    parser.add_argument("--librosa-offset", type=float, default=None,
                        help="seconds added to librosa's beats (default: the tracker's LIBROSA_DEFAULT_OFFSET)")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "outputs" / "beat_eval.json")
    return parser.parse_args()


def select_songs(data: Path, limit: int, start: int) -> tuple[list[Path], int]:
    """Every k-th of the sorted ``*.mid`` files, from ``start``; also returns how many files there are."""
    if not data.is_dir():
        raise FileNotFoundError(f"MIDI folder not found: {str(data)!r}; pass --data FOLDER")
    files = sorted(data.rglob("*.mid"), key=lambda path: path.relative_to(data).as_posix())
    if not files:
        raise FileNotFoundError(f"no *.mid files under {str(data)!r}; pass --data FOLDER")
    if limit < 1:
        raise ValueError(f"--limit must be >= 1, got {limit}")
    step = max(1, len(files) // limit)
    if not 0 <= start < step:
        raise ValueError(f"--start must be in [0, {step}) for {len(files)} files and --limit {limit}, got {start}")
    return files[start::step][:limit], len(files)


def evaluation_window(times: np.ndarray, first_note: float, end: float) -> np.ndarray:
    """The times scored: mir_eval's 5 s trim, then nothing before the first note (minus the window) or after ``end``."""
    times = mir_eval.beat.trim_beats(np.asarray(times, dtype=np.float64))
    return times[(times >= first_note - MATCH_WINDOW) & (times < end)]


def median_offset(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Median signed error (s, positive = late) of estimated beats within a quarter beat of a reference beat."""
    if len(reference) < 2 or len(estimate) == 0:
        return float("nan")
    nearest = np.abs(estimate[:, None] - reference[None, :]).argmin(axis=1)
    errors = estimate - reference[nearest]
    errors = errors[np.abs(errors) < 0.25 * np.median(np.diff(reference))]
    return float(np.median(errors)) if errors.size else float("nan")


def reference_beats_per_bar(beats: np.ndarray, downbeats: np.ndarray) -> int:
    """Median number of reference beats per bar (MIDI beats, as pretty_midi counts them)."""
    indices = np.searchsorted(beats, downbeats)
    return int(round(np.median(np.diff(indices)))) if len(indices) > 1 else 0


def score(result: BeatTrackingResult, beats: np.ndarray, downbeats: np.ndarray, first_note: float, end: float,
          beats_per_bar: int) -> dict:
    estimated_beats = evaluation_window(result.beats, first_note, end)
    estimated_downbeats = evaluation_window(result.downbeats, first_note, end)
    _, cml_t, _, aml_t = mir_eval.beat.continuity(beats, estimated_beats) if len(estimated_beats) > 1 else (0, 0, 0, 0)
    return {
        "beat_f": float(mir_eval.beat.f_measure(beats, estimated_beats)),
        "cml_t": float(cml_t),
        "aml_t": float(aml_t),
        "downbeat_f": float(mir_eval.beat.f_measure(downbeats, estimated_downbeats)),
        "beats_per_bar": result.beats_per_bar,
        "meter_correct": bool(result.beats_per_bar == beats_per_bar),
        "offset": median_offset(beats, estimated_beats),
        "bpm": result.bpm,  # against the reference's, tells tempo octave errors from phase (off-beat) errors
        "reference_bpm": float(60.0 / np.median(np.diff(beats))),
    }


def summarize(songs: list[dict], conditions: list[str], backends: list[str]) -> list[dict]:
    rows = []
    for condition in conditions:
        for backend in backends:
            runs = [song["results"][condition][backend] for song in songs]
            if not runs:
                continue
            beat_f = np.array([run["beat_f"] for run in runs])
            downbeat_f = np.array([run["downbeat_f"] for run in runs])
            audio_minutes = sum(song["seconds"] for song in songs) / 60.0
            rows.append({
                "audio": condition, "backend": backend, "songs": len(runs),
                "beat_f_mean": float(beat_f.mean()), "beat_f_median": float(np.median(beat_f)),
                "downbeat_f_mean": float(downbeat_f.mean()), "downbeat_f_median": float(np.median(downbeat_f)),
                "cml_t_mean": float(np.mean([run["cml_t"] for run in runs])),
                "aml_t_mean": float(np.mean([run["aml_t"] for run in runs])),
                "meter_accuracy": float(np.mean([run["meter_correct"] for run in runs])),
                "unsure": int(sum(run.get("unsure", False) for run in runs)),
                "offset_ms_median": float(np.nanmedian([run["offset"] for run in runs]) * 1000),
                "seconds_per_audio_minute": sum(run["compute_seconds"] for run in runs) / audio_minutes,
            })
    return rows


def format_table(rows: list[dict]) -> str:
    header = (f"{'audio':<8} {'backend':<8} {'songs':>5} {'beat F mean':>11} {'median':>7} {'downbeat F mean':>15} "
              f"{'median':>7} {'CMLt':>6} {'AMLt':>6} {'meter acc':>9} {'offset ms':>9} {'s/audio min':>11}")
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row['audio']:<8} {row['backend']:<8} {row['songs']:>5} {row['beat_f_mean']:>11.3f} "
            f"{row['beat_f_median']:>7.3f} {row['downbeat_f_mean']:>15.3f} {row['downbeat_f_median']:>7.3f} "
            f"{row['cml_t_mean']:>6.3f} {row['aml_t_mean']:>6.3f} "
            f"{row['meter_accuracy']:>9.2f} {row['offset_ms_median']:>+9.1f} {row['seconds_per_audio_minute']:>11.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    # pretty_midi warns about tempo events on non-zero tracks in many real files; the beats it derives are fine.
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="pretty_midi")
    if args.split:
        files, total_files = split_songs(args.dataset, args.split, args.data, args.keep_transcribed)
    else:
        files, total_files = select_songs(args.data, args.limit, args.start)
    conditions = ["backing"] + (["mix"] if args.mix else [])

    trackers = {}
    for backend in args.backends:
        kwargs = {"offset": args.librosa_offset} if backend == "librosa" and args.librosa_offset is not None else {}
        if backend == "drum" and args.drum_model:
            kwargs = {"model": args.drum_model}
        trackers[backend] = get_beat_tracker(backend, **kwargs)
        # Warm-up outside the timing: numba compiles librosa's kernels on first use, madmom loads its networks.
        trackers[backend](np.random.default_rng(0).normal(0, 0.1, 4 * SAMPLING_RATE).astype(np.float32),
                          SAMPLING_RATE)

    songs, skipped, skipped_files = [], Counter(), []
    for path in tqdm(files, desc="songs", unit="song"):
        name = path.relative_to(args.data).as_posix()
        try:
            midi = truncate_midi(load_midi(path), args.seconds)
            backing_midi, _ = split_backing_and_drums(midi)
            backing, drums = render_backing_and_drums(midi, sampling_rate=RENDER_RATE, soundfont=args.soundfont)
        except (ValueError, RuntimeError) as error:  # unreadable MIDI, no drum / no backing part, FluidSynth error
            reason = str(error).split(";")[0]
            if "cannot read" in reason:
                reason = "cannot read as MIDI"
            skipped[reason] += 1
            skipped_files.append({"file": name, "reason": str(error)})
            continue

        num_samples = min(len(backing), int(round(args.seconds * RENDER_RATE)))
        end = num_samples / RENDER_RATE
        audio = {"backing": backing[:num_samples], "mix": 0.5 * (backing[:num_samples] + drums[:num_samples])}
        audio_16k = {condition: resample(waveform, RENDER_RATE, SAMPLING_RATE) for condition, waveform in audio.items()}
        first_note = {
            "backing": min(note.start for instrument in backing_midi.instruments for note in instrument.notes),
            "mix": min(note.start for instrument in midi.instruments for note in instrument.notes),
        }
        all_beats, all_downbeats = midi_beats(midi)
        references = {condition: (evaluation_window(all_beats, first_note[condition], end),
                                  evaluation_window(all_downbeats, first_note[condition], end))
                      for condition in conditions}
        if any(len(beats) < 2 or len(downbeats) < 1 for beats, downbeats in references.values()):
            reason = "fewer than 2 reference beats or no downbeat in the evaluation window"
            skipped[reason] += 1
            skipped_files.append({"file": name, "reason": reason})
            continue

        meter = reference_beats_per_bar(all_beats[all_beats < end], all_downbeats[all_downbeats < end])
        song = {"file": name, "seconds": end, "reference_beats_per_bar": meter, "results": {}}
        for condition, (beats, downbeats) in references.items():
            song["results"][condition] = {}
            for backend, tracker in trackers.items():
                waveform, rate = ((audio[condition], RENDER_RATE) if backend == "madmom"
                                  else (audio_16k[condition], SAMPLING_RATE))
                started = time.perf_counter()
                result = tracker(waveform, rate)
                compute_seconds = time.perf_counter() - started
                song["results"][condition][backend] = {
                    **score(result, beats, downbeats, first_note[condition], end, meter),
                    "compute_seconds": compute_seconds, "unsure": bool(result.unsure),
                }
        songs.append(song)

    rows = summarize(songs, conditions, args.backends)
    print(f"\n{len(songs)} of {len(files)} selected songs evaluated ({total_files} files under {args.data}); "
          f"first {args.seconds:g} s of each, beats from 5 s (mir_eval.beat.trim_beats) and from the first note")
    if skipped:
        print("skipped: " + "; ".join(f"{count} x {reason}" for reason, count in skipped.items()))
    print(format_table(rows))

    args.output.parent.mkdir(parents=True, exist_ok=True)
    config = {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()}
    report = {"config": config, "total_files": total_files, "selected_files": len(files), "summary": rows,
              "skipped": dict(skipped), "skipped_files": skipped_files, "songs": songs}
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
