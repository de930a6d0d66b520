"""Round-trip every Groove MIDI Dataset file through DrumTokenizer and report what survives.

    python scripts/tokenizer_roundtrip.py [--groove-dir ../shared/data/groove] [--ticks-per-beat 192]

Each file is encoded with its ``info.csv`` style, decoded on its own beat grid, and compared hit by hit with the
original (in the tokenizer's word order): hits lost, class mismatches, onset error (ms), velocity error, invalid
words, tokens per file, and encode+decode speed in words per second.
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from transformers import HfArgumentParser

from drum_accomp import DrumTokenizer
from drum_accomp.midi import drum_hits, load_midi

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RoundTripArguments:
    groove_dir: str = field(default=str(REPO_ROOT.parent / "shared" / "data" / "groove"),
                            metadata={"help": "folder holding the GMD MIDI files (searched recursively) and info.csv"})
    ticks_per_beat: int = field(default=192, metadata={"help": "tokenizer time resolution, ticks per beat"})
    num_velocity_bins: int = field(default=32, metadata={"help": "tokenizer velocity bins over 1..127"})
    limit: int | None = field(default=None, metadata={"help": "only the first N files (sorted), for a quick look"})


def read_styles(groove_dir: Path) -> dict[str, str]:
    """``midi_filename`` (relative to ``groove_dir``) -> style, from ``info.csv`` when present."""
    info = groove_dir / "info.csv"
    if not info.is_file():
        return {}
    with open(info, newline="", encoding="utf-8") as handle:
        return {row["midi_filename"]: row["style"] for row in csv.DictReader(handle)}


def main(args: RoundTripArguments) -> None:
    groove_dir = Path(args.groove_dir)
    paths = sorted(groove_dir.rglob("*.mid"))
    if args.limit is not None:
        paths = paths[: args.limit]
    if not paths:
        raise SystemExit(f"no .mid files under {str(groove_dir)!r}; pass --groove-dir pointing at the GMD folder")
    styles = read_styles(groove_dir)
    tokenizer = DrumTokenizer(ticks_per_beat=args.ticks_per_beat, num_velocity_bins=args.num_velocity_bins)

    num_hits = hits_lost = class_mismatches = invalid_words = num_words = 0
    onset_errors, velocity_errors, tokens_per_file = [], [], []
    seconds = 0.0
    for path in paths:
        midi = load_midi(path)
        style = styles.get(os.path.relpath(path, groove_dir).replace(os.sep, "/"), "unknown")
        original, _ = tokenizer.quantized_hits(midi)

        start = time.perf_counter()
        ids = tokenizer.encode_midi(midi, style=style)
        decoded = tokenizer.decode_tokens(ids, beat_times=midi.get_beats())
        seconds += time.perf_counter() - start

        again = drum_hits(decoded.midi, require_drums=False)
        num_hits += len(original)
        hits_lost += max(0, len(original) - len(again))
        invalid_words += decoded.num_invalid_words
        num_words += decoded.num_hits + decoded.num_shift_words
        tokens_per_file.append(len(ids))
        common = min(len(original), len(again))
        class_mismatches += int((original.classes[:common] != again.classes[:common]).sum())
        onset_errors.append(np.abs(original.times[:common] - again.times[:common]))
        velocity_errors.append(np.abs(original.velocities[:common] - again.velocities[:common]))

    onset_ms = np.concatenate(onset_errors) * 1000.0
    velocity = np.concatenate(velocity_errors)
    tokens = np.array(tokens_per_file)
    print(f"tokenizer: ticks_per_beat={tokenizer.ticks_per_beat} max_dt={tokenizer.max_dt} "
          f"num_velocity_bins={tokenizer.num_velocity_bins} vocab_size={tokenizer.vocab_size}")
    print(f"files: {len(paths)}")
    print(f"hits: {num_hits}")
    print(f"hits lost: {hits_lost}")
    print(f"class mismatches: {class_mismatches}")
    print(f"invalid words: {invalid_words}")
    print(f"onset error (ms): max {onset_ms.max():.3f}  mean {onset_ms.mean():.3f}")
    print(f"velocity error: max {velocity.max()}  mean {velocity.mean():.3f}")
    print(f"tokens per file: min {tokens.min()}  median {int(np.median(tokens))}  mean {tokens.mean():.1f}  "
          f"max {tokens.max()}  total {tokens.sum()}")
    print(f"words (hits + shifts): {num_words}")
    print(f"encode+decode speed: {num_words / seconds:,.0f} words/s ({seconds:.2f} s)")


if __name__ == "__main__":
    (arguments,) = HfArgumentParser(RoundTripArguments).parse_args_into_dataclasses()
    main(arguments)
