"""Evaluate ``pipeline("drum-accompaniment")`` end to end on real songs of a split: audio in, drums out.

    python scripts/evaluate_pipeline.py --split validation --seconds 30 --output_json model_cards/pipeline_eval_validation.json

Each song of the split (the accompaniment build's ``songs`` table; songs transcribed from audio left out, as in
the beat evaluation) is cut to its first ``--seconds``, its backing and its real drums rendered with FluidSynth at
44.1 kHz. The pipeline gets the backing only (no beats: it tracks them itself) and writes drums. Reported, pooled
over songs:

1. Drum-hit F1 (9 classes, ±50 ms, ``evaluation.metrics``) of the pipeline's drum MIDI against the song's real
   drums, next to the rock pattern (kick 1 & 3, snare 2 & 4, closed hi-hat on eighths) on the *same tracked*
   beats, and on the true MIDI beats.
2. Beat agreement of the generated drums with the backing: madmom tracks the beats of the drum audio alone, and
   mir_eval's beat F-measure (70 ms) scores them against the song's true beats (after 5 s, as mir_eval trims);
   the same for the real drums rendered alone, as the reference.
3. Both drum-audio paths (``"vocoder"``: the pipeline's own output; ``"midi"``: the same generation's MIDI rendered
   with FluidSynth, which is what ``drum_audio="midi"`` returns): the beat F of 2 and
   the class-agnostic onset F1 (librosa onsets of the drum audio vs the real hits, ±50 ms). The better one is the
   pipeline's default (``DEFAULT_DRUM_AUDIO``).
4. Seconds of pipeline compute per second of audio (the vocoder path, beat tracking included).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import librosa
import mir_eval
import numpy as np
from tqdm import tqdm
from transformers import HfArgumentParser, pipeline

import drum_accomp  # noqa: F401  (registers the task)
from drum_accomp.audio import SAMPLING_RATE, resample
from drum_accomp.beats import get_beat_tracker
from drum_accomp.data.build_utils import write_json_atomic
from drum_accomp.evaluation.baselines import rock_pattern
from drum_accomp.evaluation.metrics import combine_scores, drum_hit_scores, format_scores
from drum_accomp.evaluation.songs import split_songs, truncate_midi
from drum_accomp.midi import drum_hits, load_midi, midi_beats
from drum_accomp.render import render_backing_and_drums, render_midi

REPO_ROOT = Path(__file__).resolve().parents[1]
RENDER_RATE = 44100
ONSET_TOLERANCE = 0.05


@dataclass
class PipelineEvaluationArguments:
    model: str = field(default="", metadata={"help": "pipeline checkpoint ('' = the bundled default)"})
    split: str = field(default="validation")
    dataset: str = field(default=str(REPO_ROOT / "data" / "accompaniment"),
                        metadata={"help": "accompaniment build whose songs table gives the split"})
    data: str = field(default=str(REPO_ROOT.parent / "shared" / "data" / "multitrack"))
    seconds: float = field(default=30.0, metadata={"help": "seconds evaluated from the start of each song"})
    max_songs: int = field(default=0, metadata={"help": "only the first N songs (0 = all)"})
    files: str = field(default="", metadata={"help": "comma-separated multi-track MIDI files to use instead of the "
                                                     "split (e.g. your own songs)"})
    seed: int = field(default=0)
    temperature: float = field(default=1.0)
    top_p: float = field(default=1.0)
    do_sample: bool = field(default=True)
    hit_threshold: float = field(default=0.0, metadata={"help": "hit probability above which a hit is written (0 = "
                                                               "the model's)"})
    output_json: str = field(default="", metadata={"help": "write the results here ('' = print only)"})


def onset_counts(audio: np.ndarray, rate: int, reference_times: np.ndarray) -> tuple[int, int, int]:
    """Class-agnostic onsets of ``audio`` (librosa) vs reference hit times: (matches, references, estimates)."""
    estimated = librosa.onset.onset_detect(y=audio.astype(np.float32), sr=rate, units="time", backtrack=False)
    reference = np.unique(np.round(reference_times, 3))
    matches = len(mir_eval.util.match_events(reference, estimated, ONSET_TOLERANCE)) if len(reference) and len(estimated) else 0
    return matches, len(reference), len(estimated)


def beat_f(tracker, audio: np.ndarray, rate: int, reference_beats: np.ndarray) -> float:
    """Beat F-measure (mir_eval, 70 ms, beats after 5 s) of ``tracker``'s beats on ``audio``."""
    result = tracker(audio, rate)
    return float(mir_eval.beat.f_measure(mir_eval.beat.trim_beats(reference_beats),
                                         mir_eval.beat.trim_beats(np.asarray(result.beats))))


def pooled_f1(counts: list[tuple[int, int, int]]) -> float:
    """F1 of :func:`onset_counts` pooled over songs."""
    matches, references, estimates = (sum(item[i] for item in counts) for i in range(3))
    return float(mir_eval.util.f_measure(matches / max(estimates, 1), matches / max(references, 1)))


def main(argv: list[str] | None = None) -> dict:
    (args,) = HfArgumentParser(PipelineEvaluationArguments).parse_args_into_dataclasses(args=argv)
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="pretty_midi")
    if args.files:
        files = [Path(name.strip()) for name in args.files.split(",") if name.strip()]
    else:
        files, _ = split_songs(Path(args.dataset), args.split, Path(args.data), keep_transcribed=False)
    files = files[:args.max_songs] if args.max_songs else files
    drummer = pipeline("drum-accompaniment", model=args.model) if args.model else pipeline("drum-accompaniment")
    madmom = get_beat_tracker("madmom")
    sampling = {"seed": args.seed, "temperature": args.temperature, "top_p": args.top_p, "do_sample": args.do_sample}
    if args.hit_threshold:
        sampling["hit_threshold"] = args.hit_threshold

    hit_scores = {"pipeline": [], "rock_on_tracked_beats": [], "rock_on_true_beats": []}
    audio_scores = {path: {"beat_f": [], "onsets": []} for path in ("midi", "vocoder", "real_drums")}
    tracked_beat_f, songs, compute_seconds, audio_seconds = [], [], 0.0, 0.0
    for path in tqdm(files, desc="songs", unit="song"):
        try:
            midi = truncate_midi(load_midi(path), args.seconds)
            backing, drums = render_backing_and_drums(midi, sampling_rate=RENDER_RATE)
        except (ValueError, RuntimeError) as error:
            songs.append({"file": path.name, "skipped": str(error).split(";")[0]})
            continue
        num_samples = min(len(backing), int(args.seconds * RENDER_RATE))
        backing, drums = backing[:num_samples], drums[:num_samples]
        end = num_samples / RENDER_RATE
        true_beats, true_downbeats = (times[times < end] for times in midi_beats(midi))
        real = drum_hits(midi, require_drums=False).window(0.0, end)
        if len(true_beats) < 8 or len(real) == 0:
            songs.append({"file": path.name, "skipped": "fewer than 8 beats or no drum hit in the span"})
            continue

        # 1. The pipeline, from the backing alone. One generation serves both drum-audio paths: the vocoder's audio
        # comes with the MIDI, and the "midi" path is exactly that MIDI rendered with FluidSynth.
        started = time.perf_counter()
        result = drummer(backing, sampling_rate=RENDER_RATE, drum_audio="vocoder", **sampling)
        compute_seconds += time.perf_counter() - started
        audio_seconds += end
        midi_drums = render_midi(result["midi"], RENDER_RATE, duration=end, normalize=False)
        generated = drum_hits(result["midi"], require_drums=False)

        # 2. Hits vs the real drums; the rock pattern on the tracked and on the true beats.
        hit_scores["pipeline"].append(drum_hit_scores(real, generated))
        tracked_rock = rock_pattern(result["beats"], result["downbeats"]).window(0.0, end)
        hit_scores["rock_on_tracked_beats"].append(drum_hit_scores(real, tracked_rock))
        true_rock = rock_pattern(true_beats, true_downbeats if len(true_downbeats) else None).window(0.0, end)
        hit_scores["rock_on_true_beats"].append(drum_hit_scores(real, true_rock))
        tracked_beat_f.append(float(mir_eval.beat.f_measure(mir_eval.beat.trim_beats(true_beats),
                                                            mir_eval.beat.trim_beats(result["beats"]))))

        # 3. Drum audio alone: do its beats match the song's? do its onsets match the real hits?
        song = {"file": path.name, "seconds": end, "pipeline_f1": hit_scores["pipeline"][-1].micro_f1,
                "rock_f1": hit_scores["rock_on_tracked_beats"][-1].micro_f1, "genre": result["genre"]}
        for name, audio in (("midi", midi_drums), ("vocoder", result["drums"]), ("real_drums", drums)):
            audio_scores[name]["beat_f"].append(beat_f(madmom, audio, RENDER_RATE, true_beats))
            audio_scores[name]["onsets"].append(onset_counts(resample(audio, RENDER_RATE, SAMPLING_RATE), SAMPLING_RATE,
                                                         real.times))
            song[f"{name}_beat_f"] = audio_scores[name]["beat_f"][-1]
        songs.append(song)

    evaluated = [song for song in songs if "skipped" not in song]
    if not evaluated:
        raise ValueError(f"no song of split {args.split!r} could be evaluated; see the skip reasons: {songs}")
    pooled = {name: combine_scores(values) for name, values in hit_scores.items()}
    for name, total in pooled.items():
        print(f"{name}:\n{format_scores(total)}")
    drum_audio = {name: {"beat_f_measure": float(np.mean(values["beat_f"])), "onset_f1": pooled_f1(values["onsets"])}
                  for name, values in audio_scores.items()}
    results = {
        "songs_evaluated": len(evaluated), "songs_skipped": len(songs) - len(evaluated),
        "drum_hit_f1": {name: total.micro_f1 for name, total in pooled.items()},
        "drum_hit_scores": {name: total.to_dict() for name, total in pooled.items()},
        "tracked_beat_f_measure": float(np.mean(tracked_beat_f)),
        "drum_audio": drum_audio,
        "better_drum_audio": max(("midi", "vocoder"), key=lambda name: drum_audio[name]["beat_f_measure"]),
        "seconds_per_audio_second": compute_seconds / max(audio_seconds, 1e-9),
        "settings": asdict(args), "songs": songs,
    }
    print(f"\n{len(evaluated)} songs, first {args.seconds:g} s: hit F1 pipeline {results['drum_hit_f1']['pipeline']:.3f}, "
          f"rock pattern on the tracked beats {results['drum_hit_f1']['rock_on_tracked_beats']:.3f} "
          f"(on the true beats {results['drum_hit_f1']['rock_on_true_beats']:.3f}); tracked beats F "
          f"{results['tracked_beat_f_measure']:.3f}")
    for name, values in drum_audio.items():
        print(f"drum audio {name}: beat F {values['beat_f_measure']:.3f} (madmom on the drums alone vs the true beats), "
              f"onset F1 {values['onset_f1']:.3f}")
    print(f"pipeline compute: {results['seconds_per_audio_second']:.3f} s per audio second")
    if args.output_json:
        write_json_atomic(args.output_json, results, default=float)
        print(f"saved {args.output_json}")
    return results


if __name__ == "__main__":
    main()
