"""End-to-end drum codec evaluation on rendered validation drums: do the resynthesized drums keep their hits?

    python scripts/evaluate_codec.py --data data/vocoder --vocoder checkpoints/vocoder \
        [--vqvae checkpoints/vqvae_drums] [--max_segments 200] [--output_json outputs/codec_eval.json]

For each validation segment (``datasets_scripts/build_vocoder_data.py``):

    drum audio -> log-mel (BeatAlignedMelFeatureExtractor) -> [drum VQ-VAE codes -> log-mel, with --vqvae]
               -> DrumVocoder (--vocoder) or Griffin-Lim (no weights) -> drum audio

and against the input audio:

- multi-resolution STFT distance (``multi_resolution_stft_loss``: spectral convergence + log-magnitude L1 at FFT
  sizes 256/512/1024, hop a quarter; lower is better; scale-sensitive);
- onset F1 within ±50 ms (``mir_eval.util.match_events``, the matching of ``mir_eval.onset.f_measure``), overall
  and per band: the audio is band-filtered (4th-order Butterworth from ``scipy.signal``, zero-phase
  ``sosfiltfilt``: below 150 Hz ~ kick, 150 Hz-2 kHz ~ snare/toms, above 5 kHz ~ cymbals/hi-hats) and onsets are
  detected with ``librosa.onset.onset_detect`` (10 ms hop), the same way on input and output. Counts are pooled over
  the segments (micro F1); the mean per-segment ``mir_eval.onset.f_measure`` is reported too;
- compute: seconds of CPU time (wall clock, one torch thread) per second of audio.

Target (issue 5): onset F1 >= 0.9 overall and >= 0.85 in every band.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]

ONSET_BANDS: dict[str, tuple[float | None, float | None]] = {
    "all": (None, None), "low_<150Hz": (None, 150.0), "mid_150-2000Hz": (150.0, 2000.0), "high_>5kHz": (5000.0, None),
}
"""Onset bands in Hz (low edge, high edge); ``None`` = open. ``all`` is the unfiltered audio."""
ONSET_TOLERANCE = 0.05
"""±50 ms, ``mir_eval.onset.f_measure``'s default window."""
ONSET_HOP = 160
"""Onset-envelope hop (samples): 10 ms at 16 kHz."""
FILTER_ORDER = 4
TARGET_F1_OVERALL = 0.9
TARGET_F1_PER_BAND = 0.85


@dataclass
class CodecEvaluationArguments:
    data: str = field(default=str(REPO_ROOT / "data" / "vocoder"),
                      metadata={"help": "dataset from datasets_scripts/build_vocoder_data.py"})
    split: str = field(default="validation", metadata={"help": "split to evaluate"})
    max_segments: int = field(default=200, metadata={"help": "first N segments of the split (0 = all)"})
    vocoder: str = field(default="", metadata={"help": "trained DrumVocoder folder ('' = Griffin-Lim only)"})
    vqvae: str = field(default="", metadata={"help": "drum MelVQVAEModel folder: mels go through its codes"})
    griffin_lim: bool = field(default=True, metadata={"help": "also evaluate Griffin-Lim (--no_griffin_lim: skip)"})
    griffin_lim_iters: int = field(default=32, metadata={"help": "Griffin-Lim iterations"})
    output_json: str = field(default="", metadata={"help": "also write the results here as JSON"})
    torch_threads: int = field(default=1, metadata={"help": "torch CPU threads (the machine is shared)"})


# ----- onsets ------------------------------------------------------------------------------------------------------


def band_filter(audio: np.ndarray, sampling_rate: int, low: float | None, high: float | None) -> np.ndarray:
    """Zero-phase Butterworth band filter (``scipy.signal.butter`` + ``sosfiltfilt``); no edges = unchanged."""
    from scipy.signal import butter, sosfiltfilt

    if low is None and high is None:
        return audio
    if low is None:
        sos = butter(FILTER_ORDER, high, btype="lowpass", fs=sampling_rate, output="sos")
    elif high is None:
        sos = butter(FILTER_ORDER, low, btype="highpass", fs=sampling_rate, output="sos")
    else:
        sos = butter(FILTER_ORDER, [low, high], btype="bandpass", fs=sampling_rate, output="sos")
    return sosfiltfilt(sos, audio).astype(np.float32)


def detect_onsets(audio: np.ndarray, sampling_rate: int, band: str = "all") -> np.ndarray:
    """Onset times (s) of ``audio`` in one of ``ONSET_BANDS`` (librosa's spectral-flux detector, 10 ms hop)."""
    import librosa

    low, high = ONSET_BANDS[band]
    filtered = band_filter(np.asarray(audio, dtype=np.float32), sampling_rate, low, high)
    return librosa.onset.onset_detect(y=filtered, sr=sampling_rate, hop_length=ONSET_HOP, units="time")


@dataclass
class OnsetCounts:
    """Pooled onset matching counts of one band."""

    reference: int = 0
    estimated: int = 0
    matched: int = 0
    segment_f1: list[float] = field(default_factory=list)

    def add(self, reference_times: np.ndarray, estimated_times: np.ndarray) -> None:
        import mir_eval

        matched = len(mir_eval.util.match_events(reference_times, estimated_times, ONSET_TOLERANCE)) \
            if len(reference_times) and len(estimated_times) else 0
        self.reference += len(reference_times)
        self.estimated += len(estimated_times)
        self.matched += matched
        if len(reference_times) and len(estimated_times):
            self.segment_f1.append(float(mir_eval.onset.f_measure(reference_times, estimated_times,
                                                                  window=ONSET_TOLERANCE)[0]))
        elif len(reference_times) or len(estimated_times):
            self.segment_f1.append(0.0)

    @property
    def precision(self) -> float:
        return self.matched / self.estimated if self.estimated else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.reference if self.reference else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def to_dict(self) -> dict:
        return {"f1": round(self.f1, 4), "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "reference": self.reference, "estimated": self.estimated, "matched": self.matched,
                "mean_segment_f1": round(float(np.mean(self.segment_f1)), 4) if self.segment_f1 else None}


def onset_scores(reference: list[np.ndarray], estimated: list[np.ndarray], sampling_rate: int
                 ) -> dict[str, OnsetCounts]:
    """Pooled onset counts per band of ``estimated`` audio against ``reference`` audio (same detector)."""
    counts = {band: OnsetCounts() for band in ONSET_BANDS}
    for reference_audio, estimated_audio in zip(reference, estimated):
        for band, band_counts in counts.items():
            band_counts.add(detect_onsets(reference_audio, sampling_rate, band),
                            detect_onsets(estimated_audio, sampling_rate, band))
    return counts


def passes_target(counts: dict[str, OnsetCounts]) -> bool:
    return counts["all"].f1 >= TARGET_F1_OVERALL and all(
        band_counts.f1 >= TARGET_F1_PER_BAND for band, band_counts in counts.items() if band != "all")


# ----- systems -----------------------------------------------------------------------------------------------------


def load_segments(path: str, split: str, max_segments: int) -> list[np.ndarray]:
    """Float32 audio of the first ``max_segments`` segments of ``split``."""
    import datasets

    if not Path(path).is_dir():
        raise FileNotFoundError(f"no dataset at {path!r}; build it with python datasets_scripts/build_vocoder_data.py "
                                f"--output {path}")
    dataset = datasets.load_from_disk(path)
    if split not in dataset:
        raise ValueError(f"{path!r} has no {split!r} split; it has {list(dataset)}")
    part = dataset[split]
    if max_segments > 0:
        part = part.select(range(min(max_segments, len(part))))
    part = part.with_format("numpy", columns=["audio"])
    return [np.asarray(row["audio"], dtype=np.float32) / 32768.0 for row in part]


def input_mels(segments: list[np.ndarray], vqvae=None) -> list[np.ndarray]:
    """Log-mels ``(num_frames, 80)`` with ``num_frames * 160 == num_samples`` (through the VQ-VAE when given)."""
    import torch

    from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor

    extractor = BeatAlignedMelFeatureExtractor()
    mels = []
    for audio in segments:
        mel = extractor.mel_spectrogram(audio)[: len(audio) // extractor.hop_length]
        if vqvae is not None:
            factor = vqvae.config.downsample_factor
            usable = len(mel) - len(mel) % factor
            with torch.no_grad():
                decoded = vqvae.decode(vqvae.encode(torch.from_numpy(mel[:usable])[None]))[0].numpy()
            mel = np.concatenate([decoded, mel[usable:]]) if usable < len(mel) else decoded
        mels.append(mel.astype(np.float32))
    return mels


def run_system(name: str, synthesize, mels: list[np.ndarray], segments: list[np.ndarray], sampling_rate: int
               ) -> dict:
    """Resynthesize every segment with ``synthesize(mel) -> audio`` and score it against the input."""
    import torch

    from drum_accomp.models.vocoder import multi_resolution_stft_loss

    outputs, seconds = [], 0.0
    for mel in mels:
        start = time.perf_counter()
        outputs.append(np.asarray(synthesize(mel), dtype=np.float32))
        seconds += time.perf_counter() - start
    distances = [float(multi_resolution_stft_loss(torch.from_numpy(output)[None], torch.from_numpy(reference)[None]))
                 for output, reference in zip(outputs, segments)]
    counts = onset_scores(segments, outputs, sampling_rate)
    audio_seconds = sum(len(segment) for segment in segments) / sampling_rate
    return {"system": name, "mrstft_distance": round(float(np.mean(distances)), 4),
            "compute_seconds_per_audio_second": round(seconds / audio_seconds, 5),
            "onsets": {band: band_counts.to_dict() for band, band_counts in counts.items()},
            "passes_target": passes_target(counts)}


def format_table(rows: list[dict]) -> str:
    bands = list(ONSET_BANDS)
    header = f"{'system':<14} {'MR-STFT':>8} {'s/s audio':>10} " + " ".join(f"{'F1 ' + band:>18}" for band in bands)
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(f"{row['system']:<14} {row['mrstft_distance']:>8.3f} {row['compute_seconds_per_audio_second']:>10.4f} "
                     + " ".join(f"{row['onsets'][band]['f1']:>18.3f}" for band in bands)
                     + ("   target met" if row["passes_target"] else "   below target"))
    lines.append(f"(onset F1 pooled over segments, ±{1000 * ONSET_TOLERANCE:.0f} ms; target: all >= "
                 f"{TARGET_F1_OVERALL}, each band >= {TARGET_F1_PER_BAND}; MR-STFT: lower is better)")
    return "\n".join(lines)


def main(args: CodecEvaluationArguments | None = None) -> dict:
    import torch
    from transformers import HfArgumentParser

    if args is None:
        (args,) = HfArgumentParser(CodecEvaluationArguments).parse_args_into_dataclasses()
    torch.set_num_threads(args.torch_threads)
    from drum_accomp.audio import SAMPLING_RATE
    from drum_accomp.models.vocoder import DrumVocoder, griffin_lim

    segments = load_segments(args.data, args.split, args.max_segments)
    vqvae = None
    if args.vqvae:
        from drum_accomp.models.vqvae import MelVQVAEModel

        vqvae = MelVQVAEModel.from_pretrained(args.vqvae).eval()
    mels = input_mels(segments, vqvae)
    print(f"{len(segments)} {args.split} segments ({sum(map(len, segments)) / SAMPLING_RATE:.0f} s), mels "
          f"{'through the VQ-VAE ' + args.vqvae if vqvae is not None else 'direct (no VQ)'}")

    rows = []
    if args.vocoder:
        vocoder = DrumVocoder.from_pretrained(args.vocoder, dtype=torch.float32).eval()
        rows.append(run_system("vocoder", lambda mel: vocoder.generate(torch.from_numpy(mel)).numpy(), mels, segments,
                               SAMPLING_RATE))
    if args.griffin_lim:
        rows.append(run_system("griffin_lim", lambda mel: griffin_lim(mel, n_iter=args.griffin_lim_iters), mels,
                               segments, SAMPLING_RATE))
    if not rows:
        raise ValueError("nothing to evaluate: pass --vocoder DIR and/or keep Griffin-Lim on")
    results = {"data": args.data, "split": args.split, "num_segments": len(segments),
               "audio_seconds": round(sum(map(len, segments)) / SAMPLING_RATE, 1), "vqvae": args.vqvae or None,
               "vocoder": args.vocoder or None, "griffin_lim_iters": args.griffin_lim_iters,
               "onset_bands_hz": ONSET_BANDS, "onset_tolerance_s": ONSET_TOLERANCE, "systems": rows}
    print(format_table(rows))
    print(json.dumps(results, indent=2))
    if args.output_json:
        Path(args.output_json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output_json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
