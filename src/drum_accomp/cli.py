"""``drum-accomp``: the command line. Each subcommand is a thin wrapper over the package's functions.

    drum-accomp demo                       # the main job on the bundled example (see README)
    drum-accomp generate backing.wav -o out/ --genre funk --seed 3
    drum-accomp groove --style funk --bars 8 -o groove.mid
    drum-accomp render SONG.mid -o out.wav --part backing
    drum-accomp beats backing.wav --backend madmom
    drum-accomp features backing.wav -o features.npz
    drum-accomp tokenize groove.mid --style funk -o tokens.json
    drum-accomp detokenize tokens.json --bpm 100 -o groove.mid
    drum-accomp evaluate reference/ generated/ --tolerance 0.05
    drum-accomp evaluate --report --split validation --seconds 20   # the evaluation report (reports/default_models/)
    drum-accomp abx build --split validation -o abx_trials/         # a listening test from held-back songs
    drum-accomp abx serve abx_trials/                               # ABX, rating, summary, Try-it on 127.0.0.1
    drum-accomp benchmark                                           # speed and memory of the default pipeline
    drum-accomp build groove --output data/groove --num-proc 2      # datasets (a clone of the repository)
    drum-accomp train groove --config configs/groove.json --output_dir outputs/groove   # models (a clone too)
    drum-accomp finetune --source MY_SONGS/ --output_dir outputs/my_drummer
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
import time
from pathlib import Path

import numpy as np

from .beats import DEFAULT_BEAT_TRACKER
from .data.build_utils import write_json_atomic

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO_ROOT / "examples" / "slakh_Track00001"
REPOSITORY_SCRIPTS: dict[str, tuple[str, dict[str, str]]] = {
    "build": ("build a training dataset (runs datasets_scripts/build_*.py; --help after the name for its options)", {
        "groove": "datasets_scripts/build_groove.py",
        "accompaniment": "datasets_scripts/build_accompaniment.py",
        "vocoder-data": "datasets_scripts/build_vocoder_data.py",
        "codes": "scripts/encode_codes.py",
    }),
    "train": ("train a model (runs scripts/train_*.py; --help after the name for its options)", {
        "groove": "scripts/train_groove.py",
        "accompaniment": "scripts/train_accompaniment.py",
        "vqvae": "scripts/train_vqvae.py",
        "vocoder": "scripts/train_vocoder.py",
        "beat-tracker": "scripts/train_beat_tracker.py",
        "genre-classifier": "scripts/train_genre_classifier.py",
    }),
    "finetune": ("fine-tune the default model on your songs (runs scripts/finetune.py)", {
        "": "scripts/finetune.py",
    }),
}
"""Subcommands that run a script of the repository with the arguments that follow: building data and training need
the repository's scripts and configs (a clone installed with ``pip install -e .``), not only the installed package."""


def _add_render(subparsers) -> None:
    parser = subparsers.add_parser("render", help="render MIDI to a wav with FluidSynth")
    parser.add_argument("midi")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--part", choices=["all", "backing", "drums"], default="all")
    parser.add_argument("--sampling-rate", type=int, default=16000)
    parser.add_argument("--soundfont", default=None, help="SoundFont path or name (default FluidR3_GM)")
    parser.add_argument("--drum-kit", default=None, help="GM kit name (standard, room, power, electronic, tr808, "
                        "jazz, brush, orchestra) or program number")
    parser.set_defaults(func=_render)


def _render(args) -> None:
    from .audio import save_audio
    from .midi import load_midi, split_backing_and_drums
    from .render import render_midi

    midi = load_midi(args.midi)
    if args.part != "all":
        midi = split_backing_and_drums(midi)[0 if args.part == "backing" else 1]
    kit = int(args.drum_kit) if args.drum_kit and args.drum_kit.isdigit() else args.drum_kit
    audio = render_midi(midi, args.sampling_rate, soundfont=args.soundfont, drum_kit=kit)
    save_audio(args.output, audio, args.sampling_rate)
    print(f"wrote {args.output}: {len(audio) / args.sampling_rate:.1f} s at {args.sampling_rate} Hz")


BEAT_BACKEND_HELP = ("beat tracker: drum (ours, default: fast, trained on backing tracks), madmom (accurate, slow, "
                     "non-commercial models) or librosa (fast, permissive, less accurate)")


def _warn_if_unsure(result) -> None:
    """Say so when the tracker could not hear a clear beat (low confidence)."""
    if result.unsure:
        confidence = f" (confidence {result.confidence:.2f})" if result.confidence is not None else ""
        print(f"warning: the beat tracker is unsure of these beats{confidence}; check them, try --backend madmom, "
              "or give your own beats", file=sys.stderr)


def _add_beats(subparsers) -> None:
    parser = subparsers.add_parser("beats", help="track beats and downbeats of an audio file")
    parser.add_argument("audio")
    parser.add_argument("--backend", default=DEFAULT_BEAT_TRACKER, help=BEAT_BACKEND_HELP)
    parser.add_argument("-o", "--output", default=None, help="write the beats as JSON here")
    parser.set_defaults(func=_beats)


def _beats(args) -> None:
    from .audio import SAMPLING_RATE, load_audio
    from .beats import track_beats

    audio = load_audio(args.audio)
    result = track_beats(audio, SAMPLING_RATE, backend=args.backend)
    print(f"{len(result.beats)} beats, {len(result.downbeats)} downbeats, {result.beats_per_bar} beats/bar, "
          f"{result.bpm:.1f} BPM ({result.backend})")
    _warn_if_unsure(result)
    if args.output:
        write_json_atomic(args.output, result.to_dict())


def _add_features(subparsers) -> None:
    parser = subparsers.add_parser("features", help="beat-aligned log-mel features of an audio file (.npz)")
    parser.add_argument("audio")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--beat-backend", default=DEFAULT_BEAT_TRACKER, help=BEAT_BACKEND_HELP)
    parser.set_defaults(func=_features)


def _features(args) -> None:
    from .audio import SAMPLING_RATE, load_audio
    from .beats import track_beats
    from .feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor

    audio = load_audio(args.audio)
    beats = track_beats(audio, SAMPLING_RATE, backend=args.beat_backend)
    features = BeatAlignedMelFeatureExtractor()(audio, sampling_rate=SAMPLING_RATE, beat_times=beats.beats,
                                                downbeat_times=beats.downbeats, return_tensors="np")
    np.savez_compressed(args.output, **{key: value[0] for key, value in features.items()})
    print(f"wrote {args.output}: mel_features {features['mel_features'][0].shape}")


def _add_tokenize(subparsers) -> None:
    parser = subparsers.add_parser("tokenize", help="drum MIDI -> compound-word token ids (JSON)")
    parser.add_argument("midi")
    parser.add_argument("--style", default="unknown")
    parser.add_argument("-o", "--output", required=True)
    parser.set_defaults(func=_tokenize)

    parser = subparsers.add_parser("detokenize", help="token ids (JSON from `tokenize`) -> drum MIDI")
    parser.add_argument("tokens")
    parser.add_argument("--bpm", type=float, default=None, help="tempo to place the beats at (default: saved bpm)")
    parser.add_argument("-o", "--output", required=True)
    parser.set_defaults(func=_detokenize)


def _tokenize(args) -> None:
    from .midi import load_midi
    from .tokenization_drum import DrumTokenizer

    midi = load_midi(args.midi)
    ids = DrumTokenizer().encode_midi(midi, style=args.style)
    bpm = float(midi.get_tempo_changes()[1][0]) if len(midi.get_tempo_changes()[1]) else 120.0
    write_json_atomic(args.output, {"ids": ids, "bpm": bpm, "style": args.style})
    print(f"wrote {args.output}: {len(ids)} tokens")


def _detokenize(args) -> None:
    from .tokenization_drum import DrumTokenizer

    with open(args.tokens, encoding="utf-8") as handle:
        saved = json.load(handle)
    decoded = DrumTokenizer().decode_tokens(saved["ids"], bpm=args.bpm or saved.get("bpm", 120.0))
    decoded.midi.write(args.output)
    print(f"wrote {args.output}: {decoded.num_hits} hits ({decoded.num_invalid_words} invalid words skipped)")


EVALUATE_HELP = """Two modes. `drum-accomp evaluate REFERENCE GENERATED`: drum-hit P/R/F1 per class, micro F1 and
the groove distance of generated drum MIDI against reference MIDI (two files, or two folders paired by file name).
`drum-accomp evaluate --report`: the evaluation report of the default models (the pipeline and the groove model on a
dataset split, every metric beside its baseline, a generalization row with a held-out SoundFont), written as
report.json, report.md and PNG plots into --output-dir; the same as `python scripts/evaluate.py`."""


def _add_evaluate(subparsers) -> None:
    from .evaluation.report import add_arguments

    parser = subparsers.add_parser("evaluate", help="drum-hit P/R/F1 + groove distance of generated drum MIDI vs "
                                   "reference MIDI; or, with --report, the evaluation report of the default models",
                                   description=EVALUATE_HELP)
    parser.add_argument("reference", nargs="?", help="reference drum MIDI file or folder")
    parser.add_argument("generated", nargs="?", help="generated drum MIDI file or folder (same file names as the "
                        "reference)")
    parser.add_argument("--tolerance", type=float, default=0.05, help="onset tolerance in seconds (default 0.05)")
    parser.add_argument("-o", "--output", default=None, help="also write the figures as JSON")
    parser.add_argument("--report", action="store_true", help="write the evaluation report instead (options below)")
    add_arguments(parser.add_argument_group("report options (with --report)"))
    parser.set_defaults(func=_evaluate)


def _evaluate(args) -> None:
    from .evaluation.metrics import (combine_scores, drum_hit_scores, format_scores, groove_distance,
                                     pool_groove_distances)
    from .midi import load_midi, midi_beats

    if args.report:
        _evaluation_report(args)
        return
    if args.reference is None or args.generated is None:
        raise ValueError("give REFERENCE and GENERATED (drum MIDI files or folders), or --report for the evaluation "
                         "report of the default models")
    pairs = _paired_midi_files(Path(args.reference), Path(args.generated))
    scores, grooves, per_file = [], [], {}
    for reference_path, generated_path in pairs:
        reference = load_midi(reference_path)
        beats, _ = midi_beats(reference)
        generated = load_midi(generated_path)
        score = drum_hit_scores(reference, generated, tolerance=args.tolerance)
        groove = groove_distance(reference, generated, tolerance=args.tolerance,
                                 beat_times=beats if len(beats) >= 2 else None, scores=score)
        scores.append(score)
        grooves.append(groove)
        per_file[reference_path.name] = {"micro_f1": score.micro_f1, **groove.to_dict()}
    total = combine_scores(scores)
    pooled = pool_groove_distances(grooves)  # timing / velocity weighted by matched hits, W1 averaged over files
    print(f"{len(pairs)} file pair(s)")
    print(format_scores(total))
    print(f"groove: timing MAE {pooled['timing_mae_ms']:.2f} ms, velocity MAE {pooled['velocity_mae']:.2f} over "
          f"{pooled['num_matched']} matched hits; W1 per 16th position (mean over files): offset "
          f"{pooled['mean_offset_wasserstein_ms']:.2f} ms, velocity {pooled['mean_velocity_wasserstein']:.2f}")
    if args.output:
        write_json_atomic(args.output, {**total.to_dict(), "timing_mae_ms": pooled["timing_mae_ms"],
                                        "velocity_mae": pooled["velocity_mae"],
                                        "offset_wasserstein_ms": pooled["mean_offset_wasserstein_ms"],
                                        "velocity_wasserstein": pooled["mean_velocity_wasserstein"], "files": per_file})


def _evaluation_report(args) -> None:
    """``evaluate --report``: the report of ``evaluation.report`` (MIDI-folder arguments are refused)."""
    from .data.build_utils import command_line
    from .evaluation.report import run_from_args

    if args.reference is not None or args.generated is not None:
        raise ValueError("--report evaluates the default models on a dataset split and takes no REFERENCE / GENERATED; "
                         "drop them (or drop --report to compare MIDI files)")
    try:
        run_from_args(args, command=command_line())
    except FileExistsError as error:
        raise ValueError(str(error)) from None


def _paired_midi_files(reference: Path, generated: Path) -> list[tuple[Path, Path]]:
    """(reference, generated) MIDI paths: two files, or the files of two folders with the same names."""
    for path in (reference, generated):
        if not path.exists():
            raise FileNotFoundError(f"not found: {str(path)!r}; pass a MIDI file or a folder of MIDI files")
    if reference.is_file() and generated.is_file():
        return [(reference, generated)]
    if reference.is_dir() != generated.is_dir():
        raise ValueError("pass two MIDI files or two folders, got one of each "
                         f"({str(reference)!r}, {str(generated)!r})")
    suffixes = {".mid", ".midi", ".kar"}
    references = {path.relative_to(reference): path for path in sorted(reference.rglob("*"))
                  if path.suffix.lower() in suffixes}
    pairs = [(path, generated / name) for name, path in references.items() if (generated / name).is_file()]
    if not pairs:
        raise ValueError(f"no file of {str(reference)!r} has a namesake in {str(generated)!r}; generated files are "
                         "paired with reference files by relative path and name")
    return pairs


GENERATE_HELP = """Write drums for a backing track (a song without drums): drums.wav, mix.wav, drums.mid and drums.png
(the backing's beats and the generated hits) in the output folder. The drums follow the song's beat; set
--genre to steer the style, --seed to get the same take again (or a different seed for another take), and
--beats to give your own beat times if the tracked ones are off (e.g. half time)."""


def _add_generate(subparsers) -> None:
    parser = subparsers.add_parser("generate", help="drums for a backing track (audio, mix, MIDI, plot)",
                                   description=GENERATE_HELP)
    parser.add_argument("song", help="backing track: wav, flac, ogg or mp3 (any rate, mono or stereo)")
    parser.add_argument("-o", "--output-dir", required=True, help="folder for drums.wav, mix.wav, drums.mid, drums.png")
    parser.add_argument("--genre", default=None, help="style of the drums: rock, funk, jazz, latin, ... (default: "
                        "let the model choose from the song)")
    parser.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same drums")
    parser.add_argument("--temperature", type=float, default=1.0, help="lower = safer, higher = wilder (default 1.0)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (default 1.0 = off)")
    parser.add_argument("--greedy", action="store_true", help="no sampling: the most likely drums")
    parser.add_argument("--beats", default=None, help="your beat times: a JSON file (list, or {'beats': [...], "
                        "'downbeats': [...]} as written by `drum-accomp beats`)")
    parser.add_argument("--beat-backend", default="drum", help=BEAT_BACKEND_HELP)
    parser.add_argument("--drum-audio", choices=["midi", "vocoder"], default=None,
                        help="drum sound: midi = the drum MIDI played by a General MIDI kit at 44.1 kHz, vocoder = "
                        "the model's own audio (16 kHz); default: the one that measured better (see README)")
    parser.add_argument("--mix-gain", type=float, default=1.0, help="drum level in the mix (default 1.0)")
    parser.add_argument("--model", default=None, help="a drum-accompaniment checkpoint folder or Hub id "
                        "(default: the model installed with the package)")
    parser.set_defaults(func=_generate)


def _read_beats_file(path: str) -> tuple[list[float], list[float] | None]:
    if not Path(path).is_file():
        raise FileNotFoundError(f"beats file not found: {path!r}; give a JSON list of beat times in seconds")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path!r} is not JSON ({error}); give a list of beat times in seconds, or the JSON "
                         "`drum-accomp beats -o` writes") from None
    if isinstance(data, dict):
        if "beats" not in data:
            raise ValueError(f"{path!r} has no 'beats' list; give {{'beats': [...], 'downbeats': [...]}} or a list")
        return data["beats"], data.get("downbeats")
    return data, None


def generate_song(song: str, output_dir: str | Path, model: str | None = None, **options) -> dict:
    """Run the drum-accompaniment pipeline on one file and write its four files; returns the pipeline result."""
    from transformers import pipeline

    from .audio import save_audio

    output_dir = Path(output_dir)
    drummer = pipeline("drum-accompaniment", model=model) if model else pipeline("drum-accompaniment")
    result = drummer(song, show_progress=True, **options)
    output_dir.mkdir(parents=True, exist_ok=True)
    save_audio(output_dir / "drums.wav", result["drums"], result["sampling_rate"])
    save_audio(output_dir / "mix.wav", result["mix"], result["sampling_rate"])
    result["midi"].write(str(output_dir / "drums.mid"))
    _plot_generation(song, result, output_dir / "drums.png")
    return result


def _generate(args) -> None:
    options = {"genre": args.genre, "seed": args.seed, "temperature": args.temperature, "top_p": args.top_p,
               "do_sample": not args.greedy, "mix_gain": args.mix_gain, "beat_tracker": args.beat_backend}
    if args.drum_audio:
        options["drum_audio"] = args.drum_audio
    if args.beats:
        options["beats"], downbeats = _read_beats_file(args.beats)
        if downbeats:
            options["downbeats"] = downbeats
        options.pop("beat_tracker")
    start = time.perf_counter()
    result = generate_song(args.song, args.output_dir, args.model, **options)
    notes = len(result["midi"].instruments[0].notes) if result["midi"].instruments else 0
    seconds = len(result["drums"]) / result["sampling_rate"]
    print(f"{args.song}: {seconds:.1f} s, {len(result['beats'])} beats ({result['beat_source']}), genre "
          f"{result['genre']}: {notes} drum hits in {time.perf_counter() - start:.1f} s")
    print(f"wrote {args.output_dir}/: drums.wav mix.wav drums.mid drums.png")


def _plot_generation(song, result: dict, path: Path) -> None:
    """The backing's waveform envelope with its beats and downbeats, and a piano roll of the generated hits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .midi import DRUM_CLASSES, drum_hits

    mix, rate = result["mix"], result["sampling_rate"]
    backing = (mix if mix.ndim == 1 else mix.mean(axis=1)) - result["drums"]
    hop = max(1, rate // 100)
    envelope = np.abs(backing[: len(backing) // hop * hop]).reshape(-1, hop).max(axis=1)
    times = np.arange(len(envelope)) * hop / rate
    hits = drum_hits(result["midi"], require_drums=False)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(14, 5), sharex=True, height_ratios=[1, 2])
    top.fill_between(times, -envelope, envelope, color="0.6", linewidth=0)
    top.vlines(result["beats"], -1, 1, colors="tab:blue", linewidth=0.5, label="beats")
    top.vlines(result["downbeats"], -1, 1, colors="tab:red", linewidth=1.2, label="downbeats")
    top.set_ylim(-1, 1)
    top.set_title(f"{Path(str(song)).name if isinstance(song, (str, Path)) else 'backing'}: backing, "
                  f"beats ({result['beat_source']}) and generated drums (genre {result['genre']})")
    top.legend(loc="upper right", fontsize=8)
    bottom.scatter(hits.times, hits.classes, c=hits.velocities, cmap="viridis", vmin=1, vmax=127, s=14, marker="s")
    bottom.vlines(result["downbeats"], -0.5, len(DRUM_CLASSES) - 0.5, colors="tab:red", linewidth=0.6)
    bottom.set_yticks(range(len(DRUM_CLASSES)), list(DRUM_CLASSES))
    bottom.set_ylim(-0.5, len(DRUM_CLASSES) - 0.5)
    bottom.set_xlabel("seconds")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


GROOVE_HELP = """Write a drum groove as MIDI: a new one in a style (--style funk --bars 8), or the continuation of
a drum MIDI file (--prompt groove.mid --bars 2). Add --audio to also get it played by a General MIDI kit."""


def _add_groove(subparsers) -> None:
    parser = subparsers.add_parser("groove", help="a drum groove in MIDI: new in a style, or continuing a file",
                                   description=GROOVE_HELP)
    parser.add_argument("--style", default=None, help="rock, funk, jazz, latin, hiphop, ... (a new groove)")
    parser.add_argument("--prompt", default=None, help="a drum MIDI file to continue")
    parser.add_argument("--bars", type=int, default=4, help="bars to write (default 4)")
    parser.add_argument("--bpm", type=float, default=None, help="tempo (default: the prompt's, or 120)")
    parser.add_argument("--time-signature", default=None, help="e.g. 4/4, 3/4, 6/8 (default: the prompt's, or 4/4)")
    parser.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same groove")
    parser.add_argument("--temperature", type=float, default=None,
                        help="sampling temperature (default 1; with --consensus, the model's)")
    parser.add_argument("--greedy", action="store_true", help="no sampling: the most likely groove")
    parser.add_argument("--consensus", action="store_true",
                        help="draw many takes and keep the hits most of them play (the surest continuation)")
    parser.add_argument("--guidance-scale", type=float, default=None,
                        help="how plainly to play the style: 1 = off, 2-3 = plainer (default: the model's)")
    parser.add_argument("--adaptation-steps", type=int, default=None,
                        help="with --prompt: steps that fit the model to the prompt before continuing it (0 = off; "
                             "default: the model's)")
    parser.add_argument("--audio", action="store_true", help="also write FILE.wav (FluidSynth, 44.1 kHz)")
    parser.add_argument("--model", default=None, help="a groove checkpoint folder or Hub id (default: installed)")
    parser.add_argument("-o", "--output", required=True, help="the MIDI file to write (.mid)")
    parser.set_defaults(func=_groove)


def _groove(args) -> None:
    from transformers import pipeline

    from .audio import save_audio

    if (args.style is None) == (args.prompt is None):
        raise ValueError("give either --style (a new groove) or --prompt FILE.mid (a continuation)")
    if args.greedy and args.consensus:
        raise ValueError("--greedy and --consensus are two ways of decoding; give one of them")
    groove = pipeline("drum-groove", model=args.model) if args.model else pipeline("drum-groove")
    options = {"bars": args.bars, "bpm": args.bpm, "time_signature": args.time_signature, "seed": args.seed,
               "temperature": args.temperature, "do_sample": not args.greedy, "return_audio": args.audio,
               "consensus": args.consensus, "guidance_scale": args.guidance_scale,
               "adaptation_steps": args.adaptation_steps}
    if args.prompt:
        options["style"] = args.style
    result = groove(args.prompt or args.style, **{key: value for key, value in options.items() if value is not None})
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    result["midi"].write(str(output))
    notes = sum(len(instrument.notes) for instrument in result["midi"].instruments)
    print(f"wrote {output}: {notes} hits, {result['bpm']:.0f} BPM, {result['beats_per_bar']} beats/bar, style "
          f"{result['style']}")
    if args.audio:
        save_audio(output.with_suffix(".wav"), result["audio"], result["sampling_rate"])
        print(f"wrote {output.with_suffix('.wav')}")


def _add_demo(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="drums for the bundled example song, scored against its real drums")
    parser.add_argument("--audio", default=str(EXAMPLE_DIR / "backing_30s.flac"), help="backing track")
    parser.add_argument("--drums-midi", default=str(EXAMPLE_DIR / "drums_30s.mid"),
                        help="the song's real drum part, to score the generated drums against ('' to skip)")
    parser.add_argument("--reference-midi", default=str(EXAMPLE_DIR / "all_src.mid"),
                        help="MIDI whose beats are the ground truth for the tracked beats ('' to skip)")
    parser.add_argument("--genre", default=None, help="style of the drums (default: the model chooses)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default="outputs/demo")
    parser.set_defaults(func=_demo)


def _demo(args) -> None:
    """The main job on the bundled example: backing -> drums (audio, mix, MIDI, plot), scored against the truth."""
    import mir_eval

    from .evaluation.baselines import rock_pattern
    from .evaluation.metrics import drum_hit_scores
    from .midi import drum_hits, load_midi, midi_beats

    start = time.perf_counter()
    result = generate_song(args.audio, args.output_dir, genre=args.genre, seed=args.seed)
    seconds = time.perf_counter() - start
    duration = len(result["drums"]) / result["sampling_rate"]
    report = {"audio": args.audio, "duration_s": duration, "seconds": round(seconds, 2), "genre": result["genre"],
              "beat_source": result["beat_source"], "num_beats": len(result["beats"]),
              "num_hits": len(result["midi"].instruments[0].notes) if result["midi"].instruments else 0}
    if args.reference_midi:
        true_beats, true_downbeats = midi_beats(load_midi(args.reference_midi))
        keep = lambda times: times[times < duration]  # noqa: E731
        report["beat_f_measure"] = float(mir_eval.beat.f_measure(keep(true_beats), result["beats"]))
        report["downbeat_f_measure"] = float(mir_eval.beat.f_measure(keep(true_downbeats), result["downbeats"]))
    if args.drums_midi:
        real = drum_hits(load_midi(args.drums_midi)).window(0.0, duration)
        report["drum_hit_f1"] = drum_hit_scores(real, drum_hits(result["midi"], require_drums=False)).micro_f1
        rock = rock_pattern(result["beats"], result["downbeats"]).window(0.0, duration)
        report["rock_pattern_f1"] = drum_hit_scores(real, rock).micro_f1
    write_json_atomic(Path(args.output_dir) / "report.json", report)
    print(f"backing: {args.audio} ({duration:.1f} s); drums written in {seconds:.1f} s")
    if "beat_f_measure" in report:
        print(f"beats ({result['beat_source']}): F vs the song's MIDI {report['beat_f_measure']:.3f}, downbeats "
              f"{report['downbeat_f_measure']:.3f}")
    if "drum_hit_f1" in report:
        print(f"generated drums vs the song's real drums: hit F1 {report['drum_hit_f1']:.3f} (a rock pattern on the "
              f"same beats: {report['rock_pattern_f1']:.3f})")
    print(f"wrote {args.output_dir}/: drums.wav mix.wav drums.mid drums.png report.json")


def _add_benchmark(subparsers) -> None:
    from .benchmark import add_arguments

    parser = subparsers.add_parser("benchmark", help="speed and memory of the default pipeline (a table + JSON)",
                                   description="Times the bundled pipeline end to end and stage by stage on the "
                                               "example backing looped to each length; KV-cache speed-up; features "
                                               "vs librosa; FLOPs; peak memory of a long song.")
    add_arguments(parser)
    parser.set_defaults(func=_benchmark)


def _benchmark(args) -> None:
    from .benchmark import run_from_args

    run_from_args(args)


ABX_HELP = """A listening test in the browser. `abx build` makes a trial folder from real held-back songs (A = the
song's real drums on its backing, B = the bundled model's drums from the backing alone, X = one of them, drawn per
listener); `abx serve` runs the ABX, rating, summary and Try-it pages on 127.0.0.1 and stores every answer in
SQLite at once."""


def _add_abx(subparsers) -> None:
    from .evaluation.abx.server import DEFAULT_HOST, DEFAULT_MAX_UPLOAD_MB, DEFAULT_PORT
    from .evaluation.abx.trials import DEFAULT_CONDITION, DEFAULT_DATA, DEFAULT_DATASET, REAL_DRUMS_CHOICES

    parser = subparsers.add_parser("abx", help="ABX listening test and Try-it page in the browser (build, serve)",
                                   description=ABX_HELP)
    actions = parser.add_subparsers(dest="abx_command", required=True)
    build = actions.add_parser("build", help="a trial folder from real held-back songs")
    build.add_argument("-o", "--output", required=True, help="the trial folder to write")
    build.add_argument("--split", default="validation", help="held-back split: validation (default) or test")
    build.add_argument("--num-trials", type=int, default=12, help="trials, one song each (default 12)")
    build.add_argument("--seconds", type=float, default=10.0, help="clip length in seconds (default 10)")
    build.add_argument("--seed", type=int, default=0, help="picks the songs; the pipeline's seed (default 0)")
    build.add_argument("--genre", default=None, help="genre given to the model (default: unknown, it chooses)")
    build.add_argument("--condition", default=DEFAULT_CONDITION, help="name of what is tested, shown in the summary")
    build.add_argument("--real-drums", choices=REAL_DRUMS_CHOICES, default="hits", help="hits (default): the real "
                       "drum part in the model's 9 drum classes and kit, so only the groove differs; original: as "
                       "written (kit and extra percussion too)")
    build.add_argument("--data", default=str(DEFAULT_DATA), help="the multi-track MIDI folder")
    build.add_argument("--dataset", default=str(DEFAULT_DATASET), help="the accompaniment build whose songs table "
                       "gives the split (when absent, the default build's split is recomputed)")
    build.add_argument("--model", default=None, help="drum-accompaniment checkpoint (default: the bundled one)")
    build.add_argument("--overwrite", action="store_true", help="replace an existing trial folder")
    serve = actions.add_parser("serve", help="serve the ABX, rating, summary and Try-it pages")
    serve.add_argument("trials", help="a trial folder written by `abx build`")
    serve.add_argument("--port", default=str(DEFAULT_PORT), help=f"TCP port (default {DEFAULT_PORT}; 0 = any free)")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}: this "
                       "machine only; the server has no authentication)")
    serve.add_argument("--db", default=None, help="answers database (default TRIALS/answers.sqlite)")
    serve.add_argument("--model", default=None, help="checkpoint for the Try-it page (default: the bundled one)")
    serve.add_argument("--max-upload-mb", type=float, default=DEFAULT_MAX_UPLOAD_MB,
                       help=f"largest Try-it upload in MB (default {DEFAULT_MAX_UPLOAD_MB:g})")
    parser.set_defaults(func=_abx)


def _abx(args) -> None:
    from .evaluation.abx.server import serve
    from .evaluation.abx.trials import build_trial_set

    if args.abx_command == "build":
        try:
            manifest = build_trial_set(args.output, split=args.split, num_trials=args.num_trials,
                                       seconds=args.seconds, seed=args.seed, genre=args.genre,
                                       condition=args.condition, real_drums=args.real_drums, data=args.data,
                                       dataset=args.dataset, model=args.model, overwrite=args.overwrite)
        except FileExistsError as error:
            raise ValueError(str(error)) from None
        print(f"wrote {args.output}/: {manifest['num_trials']} trials of {args.seconds:g} s from "
              f"{manifest['songs_from']}; serve them with: drum-accomp abx serve {args.output}")
        return
    try:
        port = int(args.port)
    except ValueError:
        raise ValueError(f"--port must be an integer from 1 to 65535, got {args.port!r}") from None
    serve(args.trials, host=args.host, port=port, db=args.db, model=args.model, max_upload_mb=args.max_upload_mb)


def _takes_name(command: str) -> bool:
    """Whether a repository-script command picks its script by name (``train groove``); ``""`` keys a lone script."""
    return bool(REPOSITORY_SCRIPTS[command][1].keys() - {""})


def _add_repository_scripts(subparsers) -> None:
    for command, (description, scripts) in REPOSITORY_SCRIPTS.items():
        parser = subparsers.add_parser(command, help=description, description=description)
        if _takes_name(command):
            parser.add_argument("name", choices=sorted(scripts), help="what to " + command)
        parser.add_argument("script_args", nargs=argparse.REMAINDER, help="options of the script (see --help)")
        parser.set_defaults(func=_run_repository_script)


def _run_repository_script(args) -> int:
    """Run a repository script as ``__main__`` with the arguments after its name; returns its exit code."""
    relative = REPOSITORY_SCRIPTS[args.command][1][getattr(args, "name", "")]
    path = REPO_ROOT / relative
    if not path.is_file():
        raise FileNotFoundError(f"{relative} is not in {REPO_ROOT}: `drum-accomp {args.command}` runs the repository's "
                                "scripts; clone the repository and install it with `bash scripts/setup.sh` (an "
                                "installed package carries the models, not the training scripts)")
    saved_argv = sys.argv
    sys.argv = [str(path), *args.script_args]
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exit:  # argparse's --help (0) and usage errors (2) of the script
        if isinstance(exit.code, str):
            print(exit.code, file=sys.stderr)
            return 2
        return int(exit.code or 0)
    finally:
        sys.argv = saved_argv
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drum-accomp", description="Drums for a backing track, as audio and MIDI.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for add in (_add_demo, _add_generate, _add_groove, _add_render, _add_beats, _add_features, _add_tokenize,
                _add_evaluate, _add_benchmark, _add_abx, _add_repository_scripts):
        add(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] in REPOSITORY_SCRIPTS:  # the arguments after the script's name are the script's own
        if not _takes_name(argv[0]):  # `finetune ...`: everything after the command is the script's
            split = 1
        elif len(argv) > 1 and not argv[1].startswith("-"):  # `train groove ...`: after the target
            split = 2
        else:  # `train` / `train --help`: this parser's usage or error
            split = len(argv)
        args = parser.parse_args(argv[:split])
        args.script_args = argv[split:]
    else:
        args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"drum-accomp {args.command}: error: {error}", file=sys.stderr)
        return 2
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
