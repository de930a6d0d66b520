"""``drum-accomp``: the command line. Each subcommand is a thin wrapper over the package's functions.

    drum-accomp demo                       # the main job on the bundled example (see README)
    drum-accomp render SONG.mid -o out.wav --part backing
    drum-accomp beats backing.wav --backend madmom
    drum-accomp features backing.wav -o features.npz
    drum-accomp tokenize groove.mid --style funk -o tokens.json
    drum-accomp detokenize tokens.json --bpm 100 -o groove.mid
    drum-accomp evaluate reference/ generated/ --tolerance 0.05
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from .beats import DEFAULT_BEAT_TRACKER
from .data.build_utils import write_json_atomic

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples" / "slakh_Track00001"


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


def _add_evaluate(subparsers) -> None:
    parser = subparsers.add_parser("evaluate", help="drum-hit P/R/F1 per class + groove distance of generated drum "
                                   "MIDI against reference MIDI (files, or folders paired by file name)")
    parser.add_argument("reference", help="reference drum MIDI file or folder")
    parser.add_argument("generated", help="generated drum MIDI file or folder (same file names as the reference)")
    parser.add_argument("--tolerance", type=float, default=0.05, help="onset tolerance in seconds (default 0.05)")
    parser.add_argument("-o", "--output", default=None, help="also write the figures as JSON")
    parser.set_defaults(func=_evaluate)


def _evaluate(args) -> None:
    from .evaluation.metrics import combine_scores, drum_hit_scores, format_scores, groove_distance
    from .midi import load_midi, midi_beats

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
    # Groove figures pooled over files, weighted by each file's matched hits.
    weights = np.array([groove.num_matched for groove in grooves], dtype=np.float64)
    timing = np.array([groove.timing_mae_ms for groove in grooves])
    velocity = np.array([groove.velocity_mae for groove in grooves])
    pooled = weights.sum() > 0
    timing_mae = float(np.nansum(timing * weights) / weights.sum()) if pooled else float("nan")
    velocity_mae = float(np.nansum(velocity * weights) / weights.sum()) if pooled else float("nan")
    offset_w1 = np.nanmean([groove.mean_offset_wasserstein_ms for groove in grooves]) if grooves else float("nan")
    velocity_w1 = np.nanmean([groove.mean_velocity_wasserstein for groove in grooves]) if grooves else float("nan")
    print(f"{len(pairs)} file pair(s)")
    print(format_scores(total))
    print(f"groove: timing MAE {timing_mae:.2f} ms, velocity MAE {velocity_mae:.2f} over {int(weights.sum())} "
          f"matched hits; W1 per 16th position (mean over files): offset {offset_w1:.2f} ms, velocity "
          f"{velocity_w1:.2f}")
    if args.output:
        write_json_atomic(args.output, {**total.to_dict(), "timing_mae_ms": timing_mae, "velocity_mae": velocity_mae,
                                  "offset_wasserstein_ms": float(offset_w1), "velocity_wasserstein": float(velocity_w1),
                                  "files": per_file})


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


def _add_demo(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="the foundation end to end on the bundled example")
    parser.add_argument("--audio", default=str(EXAMPLE_DIR / "backing_30s.flac"), help="backing track")
    parser.add_argument("--drums-midi", default=str(EXAMPLE_DIR / "drums_30s.mid"),
                        help="a drum part to tokenize and re-render over the backing")
    parser.add_argument("--reference-midi", default=str(EXAMPLE_DIR / "all_src.mid"),
                        help="MIDI whose beats are the ground truth for the tracked beats ('' to skip)")
    parser.add_argument("--beat-backend", default=DEFAULT_BEAT_TRACKER, help=BEAT_BACKEND_HELP)
    parser.add_argument("--style", default="rock")
    parser.add_argument("--output-dir", default="outputs/demo")
    parser.set_defaults(func=_demo)


def _demo(args) -> None:
    """Backing audio -> beats -> beat-aligned mels; drum MIDI -> tokens -> MIDI -> audio -> mix. Writes files."""
    import mir_eval

    from .audio import SAMPLING_RATE, load_audio, save_audio
    from .beats import track_beats
    from .midi import load_midi, midi_beats
    from .render import fit_length, render_midi

    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    processor = _default_processor()
    timings = {}

    # 1. Load the backing track: mono float32 at 16 kHz.
    start = time.perf_counter()
    backing = load_audio(args.audio)
    timings["load"] = time.perf_counter() - start
    duration = len(backing) / SAMPLING_RATE

    # 2. Beats and downbeats.
    start = time.perf_counter()
    beats = track_beats(backing, SAMPLING_RATE, backend=args.beat_backend)
    timings["beats"] = time.perf_counter() - start
    _warn_if_unsure(beats)
    report = {"audio": args.audio, "duration_s": duration, "beat_backend": beats.backend, "bpm": beats.bpm,
              "beats_per_bar": beats.beats_per_bar, "num_beats": len(beats.beats)}
    if args.reference_midi:
        true_beats, true_downbeats = midi_beats(load_midi(args.reference_midi))
        keep = lambda times: times[times < duration]  # noqa: E731
        report["beat_f_measure"] = float(mir_eval.beat.f_measure(keep(true_beats), beats.beats))
        report["downbeat_f_measure"] = float(mir_eval.beat.f_measure(keep(true_downbeats), beats.downbeats))

    # 3. Beat-aligned mel features.
    start = time.perf_counter()
    features = processor(audio=backing, sampling_rate=SAMPLING_RATE, beat_times=beats.beats,
                         downbeat_times=beats.downbeats, return_tensors="np")
    timings["features"] = time.perf_counter() - start
    report["mel_features_shape"] = list(features["mel_features"].shape)
    np.savez_compressed(output_dir / "features.npz", **{key: value[0] for key, value in features.items()})
    _plot_features(features, beats, output_dir / "features.png")

    # 4. Drum MIDI -> compound-word tokens -> MIDI (on the tracked tempo) -> audio, mixed over the backing.
    start = time.perf_counter()
    ids = processor.tokenizer.encode_midi(args.drums_midi, style=args.style)
    decoded = processor.tokenizer.decode_tokens(ids, bpm=_midi_bpm(args.drums_midi))
    drums = fit_length(render_midi(decoded.midi, SAMPLING_RATE), len(backing))
    timings["tokens_and_render"] = time.perf_counter() - start
    decoded.midi.write(str(output_dir / "drums.mid"))
    save_audio(output_dir / "drums.wav", drums, SAMPLING_RATE)
    save_audio(output_dir / "mix.wav", 0.6 * backing + 0.4 * drums, SAMPLING_RATE)
    write_json_atomic(output_dir / "beats.json", beats.to_dict())
    report.update({"num_tokens": len(ids), "num_hits": decoded.num_hits, "invalid_words": decoded.num_invalid_words,
                   "seconds": timings})
    write_json_atomic(output_dir / "report.json", report)

    print(f"backing: {args.audio} ({duration:.1f} s)")
    print(f"beats ({beats.backend}): {len(beats.beats)} beats, {len(beats.downbeats)} downbeats, "
          f"{beats.bpm:.1f} BPM, {beats.beats_per_bar}/bar", end="")
    if "beat_f_measure" in report:
        print(f"; F vs MIDI: beat {report['beat_f_measure']:.3f}, downbeat {report['downbeat_f_measure']:.3f}", end="")
    print(f"\nfeatures: mel {tuple(features['mel_features'].shape)}, beat positions "
          f"{tuple(features['beat_positions'].shape)}")
    print(f"drum tokens: {len(ids)} ids -> {decoded.num_hits} hits, {decoded.num_invalid_words} invalid words")
    print("seconds: " + ", ".join(f"{name} {value:.2f}" for name, value in timings.items()))
    print(f"wrote {output_dir}/: mix.wav drums.wav drums.mid beats.json features.npz features.png report.json")


def _default_processor():
    from .feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
    from .processing_drum_accomp import DrumAccompanimentProcessor
    from .tokenization_drum import DrumTokenizer

    return DrumAccompanimentProcessor(feature_extractor=BeatAlignedMelFeatureExtractor(), tokenizer=DrumTokenizer())


def _midi_bpm(path) -> float:
    from .midi import load_midi

    tempi = load_midi(path).get_tempo_changes()[1]
    return float(tempi[0]) if len(tempi) else 120.0


def _plot_features(features, beats, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mel = features["mel_features"][0]
    frame_rate = 100.0
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(12, 5), sharex=True, height_ratios=[3, 1])
    top.imshow(mel.T, origin="lower", aspect="auto", extent=[0, len(mel) / frame_rate, 0, mel.shape[1]])
    top.vlines(beats.downbeats, 0, mel.shape[1], colors="white", linewidth=0.8)
    top.set_ylabel("mel band")
    top.set_title("backing log-mel with tracked downbeats")
    bottom.plot(np.arange(len(mel)) / frame_rate, features["beat_positions"][0], linewidth=0.8)
    bottom.set_ylabel("beat position")
    bottom.set_xlabel("seconds")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drum-accomp", description="Drums for a backing track, as audio and MIDI.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for add in (_add_demo, _add_render, _add_beats, _add_features, _add_tokenize, _add_evaluate):
        add(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"drum-accomp {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
