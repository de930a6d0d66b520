"""Copy a few validation windows of the code dataset into a test fixture (the conditioning test on real windows).

    python scripts/make_test_windows.py --codes_dir data/accompaniment_codes --split validation --songs 16 \
        --output tests/fixtures/accompaniment_windows/validation_windows.npz

The first window (in dataset order) of each of the first ``--songs`` songs (sorted by id): no choice by score. The
``.npz`` holds plain arrays (codes, beat positions, the float16 backing mels, genres, song and window ids), so the
test reads it with ``numpy.load(allow_pickle=False)``. The windows come from the multi-track songs (Tegridy MIDI
Dataset, CC BY-NC-SA 4.0) rendered with FluidSynth and encoded with the bundled VQ-VAEs; the licence travels with
the file (``tests/fixtures/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from datasets import load_from_disk
from transformers import HfArgumentParser

REPO_ROOT = Path(__file__).resolve().parents[1]
ARRAYS = ("backing_codes", "drum_codes", "beat_positions", "backing_mel")
TEXTS = ("genre", "song_id", "window_id")


@dataclass
class FixtureArguments:
    codes_dir: str = field(default=str(REPO_ROOT / "data" / "accompaniment_codes"))
    split: str = field(default="validation")
    songs: int = field(default=16, metadata={"help": "how many songs (one window each)"})
    output: str = field(default=str(REPO_ROOT / "tests" / "fixtures" / "accompaniment_windows" /
                                    "validation_windows.npz"))


def main(args: FixtureArguments | None = None) -> dict:
    if args is None:
        (args,) = HfArgumentParser(FixtureArguments).parse_args_into_dataclasses()
    if not (Path(args.codes_dir) / "dataset_dict.json").is_file():
        raise FileNotFoundError(f"no code dataset at {args.codes_dir!r}; make it with scripts/encode_codes.py")
    rows = load_from_disk(args.codes_dir)[args.split]
    if "backing_mel" not in rows.column_names:
        raise ValueError(f"{args.codes_dir!r} has no backing_mel column; re-run scripts/encode_codes.py")
    song_ids = rows["song_id"]
    first = {}
    for index, song in enumerate(song_ids):
        first.setdefault(song, index)
    chosen = [first[song] for song in sorted(first)[:args.songs]]
    if len(chosen) < 2:
        raise ValueError(f"split {args.split!r} has {len(chosen)} song(s); the swap test needs at least 2")
    picked = rows.select(chosen).with_format("numpy")
    arrays = {name: np.stack([np.asarray(row[name]) for row in picked]) for name in ARRAYS}
    arrays["backing_mel"] = arrays["backing_mel"].astype(np.float16)
    texts = {name: np.asarray([str(row[name]) for row in picked]) for name in TEXTS}
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_suffix(".tmp.npz")
    np.savez_compressed(temporary, **arrays, **texts)
    temporary.replace(output)
    print(f"wrote {output}: {len(chosen)} windows of {len(chosen)} songs ({output.stat().st_size / 1e6:.1f} MB)")
    return {"windows": len(chosen), "output": str(output)}


if __name__ == "__main__":
    main()
