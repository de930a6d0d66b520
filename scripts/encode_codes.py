"""Encode the accompaniment dataset into VQ-VAE codes once: the training data of the accompaniment model.

    python scripts/encode_codes.py --dataset data/accompaniment --backing_vqvae checkpoints/vqvae_backing \
        --drums_vqvae checkpoints/vqvae_drums --output data/accompaniment_codes [--overwrite] [--torch_threads 2]

Per window of the source (``datasets_scripts/build_accompaniment.py``), with ``num_codes = num_frames /
frames_per_code``:

- ``backing_codes``, ``drum_codes`` ``(num_codes,)``: the two VQ-VAEs' ``encode`` of ``backing_mel`` / ``drums_mel``;
- ``beat_positions`` ``(num_codes,)``: the frames' beat positions taken every ``frames_per_code`` frames (the
  position of each code's first frame);
- ``step_hit_flags``, ``step_hit_velocities``, ``step_hit_offsets`` ``(num_codes, 9)``: the hit-head targets from
  the window's MIDI hits (``modeling_accompaniment.step_hit_targets``: hit or not, MIDI velocity, onset inside the
  code in codes);
- ``backing_mel`` ``(num_frames, num_mels)`` float16: the backing's log-mels as they are (an accompaniment model
  with ``backing_mel_bins > 0`` hears them beside the backing codes);
- the metadata the evaluation needs: ids, genre, bpm, beats, downbeats and the hits themselves.

The output folder is written beside its final place and renamed into it when complete, with a ``manifest.json``
naming both VQ-VAEs.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from datasets import Array2D, Dataset, DatasetDict, Features, List, Value, concatenate_datasets, load_from_disk
from transformers import HfArgumentParser

from drum_accomp.data.build_utils import SkipLog, atomic_build_dir, check_output_free, write_manifest
from drum_accomp.midi import NUM_DRUM_CLASSES
from drum_accomp.models.accompaniment import step_hit_targets
from drum_accomp.models.vqvae import MelVQVAEModel

REPO_ROOT = Path(__file__).resolve().parents[1]
METADATA_COLUMNS = ("window_id", "song_id", "genre", "style", "bpm", "beats_per_bar", "window_start_s",
                    "beat_times", "downbeat_times", "hit_times", "hit_classes", "hit_velocities", "backing_mel")
"""Source columns copied as they are (those present): what the evaluation, the genre token and a model that hears
the backing's mels need."""


@dataclass
class EncodeArguments:
    dataset: str = field(default=str(REPO_ROOT / "data" / "accompaniment"),
                         metadata={"help": "source dataset folder (load_from_disk) with backing_mel / drums_mel"})
    backing_vqvae: str = field(default=str(REPO_ROOT / "checkpoints" / "vqvae_backing"),
                               metadata={"help": "trained backing MelVQVAEModel (from_pretrained folder)"})
    drums_vqvae: str = field(default=str(REPO_ROOT / "checkpoints" / "vqvae_drums"),
                             metadata={"help": "trained drum MelVQVAEModel (from_pretrained folder)"})
    output: str = field(default=str(REPO_ROOT / "data" / "accompaniment_codes"), metadata={"help": "output folder"})
    splits: str = field(default="", metadata={"help": "comma-separated splits to encode ('' = all)"})
    max_rows: int = field(default=0, metadata={"help": "encode only the first N rows of each split (0 = all)"})
    batch_size: int = field(default=32, metadata={"help": "windows per VQ-VAE forward pass"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing output folder"})
    torch_threads: int = field(default=1, metadata={"help": "torch CPU threads (the machine is shared)"})


def code_features(num_codes: int) -> Features:
    """Arrow types of the columns this script adds."""
    per_code = (num_codes, NUM_DRUM_CLASSES)
    return Features({
        "backing_codes": List(Value("int16"), length=num_codes),
        "drum_codes": List(Value("int16"), length=num_codes),
        "beat_positions": List(Value("int8"), length=num_codes),
        "step_hit_flags": Array2D(per_code, "int8"),
        "step_hit_velocities": Array2D(per_code, "int8"),
        "step_hit_offsets": Array2D(per_code, "float16"),
    })


def load_vqvaes(backing_path: str, drums_path: str) -> tuple[MelVQVAEModel, MelVQVAEModel]:
    """Both VQ-VAEs in eval mode; they must cut time the same way (one backing code per drum code)."""
    for path in (backing_path, drums_path):
        if not (Path(path) / "config.json").is_file():
            raise FileNotFoundError(f"no trained VQ-VAE at {path!r}; train one with scripts/train_vqvae.py or pass "
                                    "--backing_vqvae / --drums_vqvae")
    backing, drums = (MelVQVAEModel.from_pretrained(path).eval() for path in (backing_path, drums_path))
    if backing.config.downsample_factor != drums.config.downsample_factor:
        raise ValueError(f"the backing VQ-VAE downsamples x{backing.config.downsample_factor}, the drum VQ-VAE "
                         f"x{drums.config.downsample_factor}; the accompaniment model needs one code of each per step")
    return backing, drums


def encode_split(rows: Dataset, backing_vqvae: MelVQVAEModel, drums_vqvae: MelVQVAEModel,
                 batch_size: int = 32) -> Dataset:
    """One split of the source -> its code dataset (metadata columns + the columns of :func:`code_features`)."""
    factor = drums_vqvae.config.downsample_factor
    code_seconds = factor / drums_vqvae.config.frame_rate
    num_frames = len(rows[0]["beat_positions"])
    if num_frames % factor:
        raise ValueError(f"windows hold {num_frames} frames, not a multiple of the VQ-VAE factor {factor}")
    num_codes = num_frames // factor
    columns: dict[str, list] = {name: [] for name in code_features(num_codes)}
    source = rows.select_columns(["backing_mel", "drums_mel", "beat_positions", "hit_times", "hit_classes",
                                  "hit_velocities"]).with_format("numpy")
    for start in range(0, len(rows), batch_size):
        batch = source[start:start + batch_size]
        with torch.inference_mode():
            backing_codes = backing_vqvae.encode(torch.from_numpy(np.asarray(batch["backing_mel"], np.float32)))
            drum_codes = drums_vqvae.encode(torch.from_numpy(np.asarray(batch["drums_mel"], np.float32)))
        columns["backing_codes"] += list(backing_codes.numpy().astype(np.int16))
        columns["drum_codes"] += list(drum_codes.numpy().astype(np.int16))
        columns["beat_positions"] += list(np.asarray(batch["beat_positions"])[:, ::factor].astype(np.int8))
        for times, classes, velocities in zip(batch["hit_times"], batch["hit_classes"], batch["hit_velocities"]):
            flags, step_velocities, offsets = step_hit_targets(times, classes, velocities, num_codes, code_seconds,
                                                               NUM_DRUM_CLASSES)
            columns["step_hit_flags"].append(flags)
            columns["step_hit_velocities"].append(step_velocities)
            columns["step_hit_offsets"].append(offsets.astype(np.float16))
    codes = Dataset.from_dict(columns, features=code_features(num_codes))
    metadata = rows.select_columns([name for name in METADATA_COLUMNS if name in rows.column_names])
    return concatenate_datasets([metadata.flatten_indices(), codes], axis=1)


def main(args: EncodeArguments | None = None) -> dict:
    if args is None:
        (args,) = HfArgumentParser(EncodeArguments).parse_args_into_dataclasses()
    torch.set_num_threads(args.torch_threads)
    started = time.time()
    check_output_free(args.output, args.overwrite)
    if not (Path(args.dataset) / "dataset_dict.json").is_file():
        raise FileNotFoundError(f"no dataset at {args.dataset!r}; build it with datasets_scripts/build_accompaniment.py")
    source = load_from_disk(args.dataset)
    names = [name.strip() for name in args.splits.split(",") if name.strip()] or list(source)
    missing = [name for name in names if name not in source]
    if missing:
        raise ValueError(f"splits {missing} are not in {args.dataset!r}; it has {list(source)}")
    backing_vqvae, drums_vqvae = load_vqvaes(args.backing_vqvae, args.drums_vqvae)

    splits = {}
    for name in names:
        rows = source[name]
        if args.max_rows:
            rows = rows.select(range(min(args.max_rows, len(rows))))
        split_start = time.perf_counter()
        splits[name] = encode_split(rows, backing_vqvae, drums_vqvae, args.batch_size)
        print(f"{name}: {len(rows)} windows encoded in {time.perf_counter() - split_start:.0f} s", flush=True)

    stats = {name: {"rows": len(split), "codes_per_window": len(split[0]["drum_codes"]),
                    "hit_cells_per_window": float(np.asarray(split.with_format("numpy")[:]["step_hit_flags"]).sum() / len(split))}
             for name, split in splits.items()}
    config = {**asdict(args), "code_rate": drums_vqvae.config.code_rate,
              "backing_codebook_size": backing_vqvae.config.codebook_size,
              "drum_codebook_size": drums_vqvae.config.codebook_size}
    with atomic_build_dir(args.output, overwrite=args.overwrite) as staging:
        DatasetDict(splits).save_to_disk(str(staging))
        write_manifest(staging, config, stats, SkipLog(), started)
    print(f"saved {args.output}: " + ", ".join(f"{name} {value['rows']}" for name, value in stats.items()))
    return {"output": os.fspath(args.output), "stats": stats}


if __name__ == "__main__":
    main()
