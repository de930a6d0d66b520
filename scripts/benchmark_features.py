"""Benchmark BeatAlignedMelFeatureExtractor against librosa on one CPU core, on 60 s of real audio.

The track is the backing (non-drum parts) of a real multi-track song rendered with FluidSynth, looped or cut to
``--seconds``; or any file given with ``--audio`` (loaded to 16 kHz mono). Beats for the beat-position timing come
exactly from the song's MIDI (looped with the audio); with ``--audio`` a steady 120 BPM grid is used.

Every BLAS/OpenMP pool is pinned to one thread before numpy and torch load (the environment variables below and
``torch.set_num_threads(1)``), so both sides get the same single core. Each timing is the median of ``--runs``
runs after ``--warmup`` runs. The error column compares mel power with ``librosa.feature.melspectrogram``:
``max|ours - librosa| / max|librosa|`` (for the log-mel rows, ``exp`` of our log-mel against librosa's power clamped
at the same floor).

    python scripts/benchmark_features.py
    python scripts/benchmark_features.py --audio song.wav --runs 50
"""

from __future__ import annotations

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS")
for _variable in THREAD_VARIABLES:  # must happen before numpy / torch / numba create their thread pools
    os.environ[_variable] = "1"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402
import torch  # noqa: E402

from drum_accomp import BeatAlignedMelFeatureExtractor  # noqa: E402
from drum_accomp.audio import SAMPLING_RATE, load_audio  # noqa: E402
from drum_accomp.benchmark import librosa_mel_power, median_seconds  # noqa: E402
from drum_accomp.midi import midi_beats  # noqa: E402
from drum_accomp.render import render_backing_and_drums  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "multitrack",
                        help="folder searched recursively for *.mid multi-track songs (the first, sorted, is used)")
    parser.add_argument("--song", type=Path, default=None, help="a specific multi-track MIDI file to render")
    parser.add_argument("--audio", type=Path, default=None, help="an audio file to use instead of a rendered song")
    parser.add_argument("--seconds", type=float, default=60.0, help="track length in seconds (looped or cut)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per measurement (the median is reported)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    return parser.parse_args()


def load_track(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """``(audio (num_samples,), beat_times, downbeat_times, description)`` at 16 kHz, ``args.seconds`` long."""
    num_samples = int(round(args.seconds * SAMPLING_RATE))
    if args.audio is not None:
        audio = load_audio(args.audio)
        beats = np.arange(0.0, args.seconds, 0.5)  # no ground truth for a plain file: 120 BPM, 4/4
        return loop_to_length(audio, num_samples), beats, beats[::4], str(args.audio)

    song = args.song
    if song is None:
        songs = sorted(args.data.rglob("*.mid"))
        if not songs:
            raise FileNotFoundError(f"no *.mid files under {str(args.data)!r}; pass --data, --song or --audio")
        song = songs[0]
    backing, _ = render_backing_and_drums(song, sampling_rate=SAMPLING_RATE)
    beats, downbeats = midi_beats(song)
    # loop the beat grid with the audio so beat positions cover the whole track
    period = len(backing) / SAMPLING_RATE
    repeats = int(np.ceil(args.seconds / period))
    beats = np.concatenate([beats + i * period for i in range(repeats)])
    downbeats = np.concatenate([downbeats + i * period for i in range(repeats)])
    beats, downbeats = beats[beats < args.seconds], downbeats[downbeats < args.seconds]
    description = f"backing of {song.name} ({period:.1f} s, rendered)"
    return loop_to_length(backing, num_samples), beats, downbeats, description


def loop_to_length(audio: np.ndarray, num_samples: int) -> np.ndarray:
    return np.resize(audio, num_samples).astype(np.float32)  # np.resize repeats the array when it is too short


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    audio, beats, downbeats, description = load_track(args)
    duration = len(audio) / SAMPLING_RATE
    extractor = BeatAlignedMelFeatureExtractor()
    num_frames = extractor.num_frames(len(audio))

    def librosa_mel() -> np.ndarray:
        return librosa_mel_power(extractor, audio)

    def call() -> object:
        return extractor(audio, sampling_rate=SAMPLING_RATE, beat_times=beats, downbeat_times=downbeats,
                         return_tensors="pt")

    reference = librosa_mel()
    reference_floored = np.maximum(reference, extractor.log_floor)

    def relative_error(ours: np.ndarray, target: np.ndarray) -> float:
        return float(np.abs(ours - target).max() / np.abs(target).max())

    audible = reference > 1e-6 * reference.max()
    ours_power = extractor.mel_power(audio)
    errors = {
        "librosa melspectrogram (power)": 0.0,  # the reference itself
        "ours mel_power": relative_error(ours_power, reference),
        "ours mel_spectrogram (log)": relative_error(np.exp(extractor.mel_spectrogram(audio)), reference_floored),
        "ours __call__ (log-mel + beats, pt)": relative_error(np.exp(call()["mel_features"][0].numpy()),
                                                              reference_floored),
    }
    rows = {
        "librosa melspectrogram (power)": librosa_mel,
        "ours mel_power": lambda: extractor.mel_power(audio),
        "ours mel_spectrogram (log)": lambda: extractor.mel_spectrogram(audio),
        "ours __call__ (log-mel + beats, pt)": call,
        "ours beat_positions only": lambda: extractor.beat_positions(beats, downbeats, num_frames),
    }
    seconds = {name: median_seconds(function, args.runs, args.warmup) for name, function in rows.items()}

    blas = sorted({(pool["internal_api"], pool["num_threads"]) for pool in threadpoolctl.threadpool_info()})
    print(f"track: {description}, looped/cut to {duration:.1f} s at {SAMPLING_RATE} Hz ({num_frames} frames, "
          f"{len(beats)} beats, {len(downbeats)} downbeats)")
    print(f"threads: torch intra-op {torch.get_num_threads()}, inter-op {torch.get_num_interop_threads()}; "
          + ", ".join(f"{name}={os.environ[name]}" for name in THREAD_VARIABLES)
          + "; thread pools " + ", ".join(f"{api}:{count}" for api, count in blas))
    print(f"versions: torch {torch.__version__}, librosa {librosa.__version__}, numpy {np.__version__}")
    print(f"timing: median of {args.runs} runs after {args.warmup} warm-up runs\n")
    librosa_seconds = seconds["librosa melspectrogram (power)"]
    header = f"{'method':<38} {'seconds':>9} {'x real time':>12} {'vs librosa':>11} {'max rel err':>12}"
    print(header)
    print("-" * len(header))
    for name, value in seconds.items():
        error = f"{errors[name]:.2e}" if name in errors else "-"
        speed_up = f"{librosa_seconds / value:.2f}x" if name in errors else "-"  # beat_positions does no mel work
        print(f"{name:<38} {value:>9.5f} {duration / value:>12.0f} {speed_up:>11} {error:>12}")
    per_element = float((np.abs(ours_power - reference)[audible] / reference[audible]).max())
    print(f"\nper-element relative error of mel_power where librosa > 1e-6 x its max ({audible.mean():.1%} of bins): "
          f"{per_element:.2e}")


if __name__ == "__main__":
    main()
