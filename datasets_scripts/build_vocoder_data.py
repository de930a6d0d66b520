"""Build the drum vocoder's audio: GMD performances rendered with FluidSynth, cut into fixed-length segments.

    python datasets_scripts/build_vocoder_data.py --output data/vocoder [--num-proc 2] [--limit N]

Per GMD file (train and validation splits of ``info.csv``):

1. ``render_file``: the performance's hits, mapped to the 9 GMD drum classes and written back as GM notes (the
   drums the pipeline's models produce), rendered once at 16 kHz with a training SoundFont and a GM drum kit drawn
   from a generator seeded by ``(--seed, split, file index)``; peak-normalized over the whole file.
2. ``cut_segments``: ``--segments-per-file`` segments of ``--segment-seconds`` at seeded random starts, each
   holding at least ``MIN_HITS`` hits and not silent. Short files (fills) give one zero-padded segment.
3. Each segment is stored as int16 audio plus its float16 log-mel (``BeatAlignedMelFeatureExtractor``, the last
   centred frame dropped so ``num_frames * hop_length == num_samples``: the vocoder's convention), then
   ``save_to_disk`` with ``manifest.json`` and a dataset card, all in an atomic folder.

The same command gives the same dataset: every random choice is seeded by ``--seed`` and the file, never by the
order or the process that handles it. Default build (897 train + 124 validation files, up to 4 segments of 3 s
per file; fills give one): 2,730 train + 358 validation segments, 2.6 h of audio, 449 MB, built in 15 min with
``--num-proc 2`` on the shared 2-core machine (load ~8 from other jobs). Per file, FluidSynth's start and SoundFont
load cost 0.13-0.24 s and rendering runs at ~240x real time: about 6 min of CPU in all.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from drum_accomp.data.build_utils import check_output_free, check_render_setup, command_line, worker_pool
from drum_accomp.render import TRAINING_SOUNDFONTS

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GROOVE_DIR = REPO_ROOT.parent / "shared" / "data" / "groove"
DEFAULT_OUTPUT = REPO_ROOT / "data" / "vocoder"

RENDER_DRUM_KITS: tuple[str, ...] = ("standard", "room", "power", "electronic", "tr808", "jazz", "brush")
"""GM drum kits drawn from (the orchestra kit is left out: it is no drum set), as in ``build_groove.py``."""
SPLITS: tuple[str, ...] = ("train", "validation")
MIN_HITS = 2
"""A segment must hold at least this many drum hits."""
SILENCE_PEAK = 1e-3
"""A segment whose peak stays below this (after the file's peak normalization) is silent and not used."""
MAX_DRAWS = 50
"""Random starts tried per file before giving up on finding more non-silent segments."""
FRAMES_MULTIPLE = 4
"""Segments hold a multiple of this many mel frames, so a drum VQ-VAE (x4) can encode them whole."""

SKIP_UNREADABLE = "unreadable MIDI or no drum hits"
SKIP_RENDER_FAILED = "render failed"
SKIP_NO_SEGMENT = "no non-silent segment"

GMD_CREDIT = (
    "Groove MIDI Dataset v1.0.0 (Magenta, Google): Jon Gillick, Adam Roberts, Jesse Engel, Mark Tsai and David "
    "Bamman, \"Learning to Groove with Inverse Sequence Transformations\", ICML 2019. "
    "https://magenta.tensorflow.org/datasets/groove, licensed CC BY 4.0.")


@dataclass
class VocoderBuildArguments:
    """Options of the vocoder data build (command-line flags use dashes: ``--segment-seconds``)."""

    groove_dir: str = field(default=str(DEFAULT_GROOVE_DIR),
                            metadata={"help": "GMD-style folder: info.csv (with a split column) + MIDI files"})
    output: str = field(default=str(DEFAULT_OUTPUT), metadata={"help": "output folder (built atomically)"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing output folder"})
    segment_seconds: float = field(default=3.0, metadata={"help": "segment length in seconds (x100 frames must be a "
                                                                  "multiple of 4)"})
    segments_per_file: int = field(default=4, metadata={"help": "segments cut from each train file"})
    validation_segments_per_file: int = field(default=4, metadata={"help": "segments cut from each validation file"})
    limit: int | None = field(default=None, metadata={"help": "only the first N files of each split (tests, trials)"})
    seed: int = field(default=0, metadata={"help": "seed of the SoundFont, kit and segment choices"})
    num_proc: int = field(default=1, metadata={"help": "worker processes (each renders with one thread)"})

    def __post_init__(self):
        for name in ("segments_per_file", "validation_segments_per_file", "num_proc"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit must be >= 1 file per split, got {self.limit}")
        frames = self.segment_seconds * 100
        if self.segment_seconds <= 0 or abs(frames - round(frames)) > 1e-6 or round(frames) % FRAMES_MULTIPLE:
            raise ValueError(f"--segment-seconds must be a positive multiple of {FRAMES_MULTIPLE / 100} s (whole "
                             f"VQ-VAE codes of {FRAMES_MULTIPLE} frames of 10 ms), got {self.segment_seconds}")


# ----- per-file work -----------------------------------------------------------------------------------------------


def render_choice(rng: np.random.Generator) -> tuple[str, str]:
    """A training SoundFont and a GM kit, drawn uniformly (never the held-out SoundFont)."""
    return (TRAINING_SOUNDFONTS[int(rng.integers(len(TRAINING_SOUNDFONTS)))],
            RENDER_DRUM_KITS[int(rng.integers(len(RENDER_DRUM_KITS)))])


def render_file(hits, soundfont: str, kit: str, sampling_rate: int, min_seconds: float) -> np.ndarray:
    """The hits rendered to float32 audio, peak-normalized, at least ``min_seconds`` long (1 s release tail)."""
    from drum_accomp.render import render_midi

    duration = max(float(hits.times.max()) + 1.0 if len(hits) else 0.0, min_seconds)
    return render_midi(hits.to_midi(bpm=120.0), sampling_rate, soundfont=soundfont, drum_kit=kit, duration=duration)


def cut_segments(audio: np.ndarray, hit_times: np.ndarray, num_segments: int, segment_samples: int,
                 sampling_rate: int, rng: np.random.Generator) -> list[int]:
    """Start samples of up to ``num_segments`` segments with >= ``MIN_HITS`` hits and a peak >= ``SILENCE_PEAK``,
    sorted; starts are drawn uniformly (whole hops of 160 samples) and never repeated."""
    last_start = len(audio) - segment_samples
    if last_start <= 0:
        return [0] if float(np.abs(audio).max(initial=0.0)) >= SILENCE_PEAK and len(hit_times) >= MIN_HITS else []
    starts: set[int] = set()
    for _ in range(MAX_DRAWS):
        if len(starts) == num_segments:
            break
        start = int(rng.integers(0, last_start // 160 + 1)) * 160
        window_hits = np.count_nonzero((hit_times >= start / sampling_rate)
                                       & (hit_times < (start + segment_samples) / sampling_rate))
        if window_hits >= MIN_HITS and float(np.abs(audio[start:start + segment_samples]).max()) >= SILENCE_PEAK:
            starts.add(start)
    return sorted(starts)


def make_file_rows(task: dict[str, Any]) -> dict[str, Any]:
    """Rows of one file: render it, cut its segments, add their log-mels. Returns ``{"rows", "skips"}``."""
    from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
    from drum_accomp.midi import drum_hits

    meta, sampling_rate = task["meta"], task["sampling_rate"]
    rng = np.random.default_rng([task["seed"], SPLITS.index(meta["split"]), task["file_index"]])
    soundfont, kit = render_choice(rng)
    segment_samples = round(task["segment_seconds"] * sampling_rate)
    try:
        hits = drum_hits(task["path"])
    except (OSError, ValueError):
        return {"rows": [], "skips": [SKIP_UNREADABLE]}
    if len(hits) < MIN_HITS:
        return {"rows": [], "skips": [SKIP_UNREADABLE]}
    try:
        audio = render_file(hits, soundfont, kit, sampling_rate, task["segment_seconds"])
    except RuntimeError as error:
        return {"rows": [], "skips": [f"{SKIP_RENDER_FAILED} ({str(error)[:60]})"]}
    starts = cut_segments(audio, hits.times, task["num_segments"], segment_samples, sampling_rate, rng)
    if not starts:
        return {"rows": [], "skips": [SKIP_NO_SEGMENT]}

    extractor = BeatAlignedMelFeatureExtractor(sampling_rate=sampling_rate)
    rows = []
    for index, start in enumerate(starts):
        segment = np.zeros(segment_samples, dtype=np.float32)
        piece = audio[start:start + segment_samples]
        segment[:len(piece)] = piece
        pcm = np.clip(np.rint(segment * 32767.0), -32768, 32767).astype(np.int16)
        # the mel of exactly the stored samples; the last centred frame is dropped (frames * hop == samples)
        mel = extractor.mel_spectrogram(pcm.astype(np.float32) / 32768.0)[:-1]
        rows.append({**meta, "segment_id": f"{meta['id']}:{index}", "start_s": start / sampling_rate,
                     "soundfont": soundfont, "drum_kit": kit, "sampling_rate": sampling_rate, "audio": pcm,
                     "mel": mel.astype(np.float16)})
    return {"rows": rows, "skips": []}


def vocoder_features(num_mels: int = 80):
    """Column types: int16 audio, float16 ``(frames, mels)`` log-mels, GMD metadata."""
    import datasets

    return datasets.Features({
        "segment_id": datasets.Value("string"), "id": datasets.Value("string"),
        "source_file": datasets.Value("string"), "split": datasets.Value("string"),
        "drummer": datasets.Value("string"), "style": datasets.Value("string"),
        "beat_type": datasets.Value("string"), "start_s": datasets.Value("float64"),
        "soundfont": datasets.Value("string"), "drum_kit": datasets.Value("string"),
        "sampling_rate": datasets.Value("int32"), "audio": datasets.List(datasets.Value("int16")),
        "mel": datasets.Array2D(shape=(None, num_mels), dtype="float16"),
    })


def generate_rows(tasks: tuple[dict[str, Any], ...], num_proc: int, skip_file: str, description: str
                  ) -> Iterator[dict[str, Any]]:
    """Rows of ``tasks`` in task order (``num_proc`` workers); skip reasons appended to ``skip_file``."""
    from tqdm.auto import tqdm

    with worker_pool(num_proc) as pool, open(skip_file, "a", encoding="utf-8") as skips:
        for task, result in tqdm(zip(tasks, pool(make_file_rows, tasks)), total=len(tasks), desc=description,
                                 unit="file"):
            skips.writelines(json.dumps([reason, task["meta"]["source_file"]]) + "\n" for reason in result["skips"])
            yield from result["rows"]


# ----- build -------------------------------------------------------------------------------------------------------


def file_tasks(records: list, args: VocoderBuildArguments, split: str, sampling_rate: int) -> list[dict[str, Any]]:
    tasks = []
    for file_index, record in enumerate(record for record in records if record.split == split):
        if args.limit is not None and file_index >= args.limit:
            break
        tasks.append({
            "path": str(record.path), "file_index": file_index, "seed": args.seed, "sampling_rate": sampling_rate,
            "segment_seconds": args.segment_seconds,
            "num_segments": args.segments_per_file if split == "train" else args.validation_segments_per_file,
            "meta": {"id": record.id, "source_file": record.source_file, "split": split, "drummer": record.drummer,
                     "style": record.style, "beat_type": record.beat_type},
        })
    return tasks


def build(args: VocoderBuildArguments, command: str | None = None) -> dict[str, Any]:
    """Run the whole build into ``args.output`` (atomically). Returns the manifest's stats plus ``"output"``."""
    import datasets

    from drum_accomp.audio import SAMPLING_RATE
    from drum_accomp.data.build_utils import (
        SkipLog,
        atomic_build_dir,
        folder_size_bytes,
        write_dataset_card,
        write_manifest,
    )
    from drum_accomp.data.sources import read_gmd_folder

    started = time.time()
    command = command or command_line(__file__)
    output = Path(args.output)
    check_output_free(output, args.overwrite)  # fail before the work, not after it
    check_render_setup(TRAINING_SOUNDFONTS)
    records = read_gmd_folder(args.groove_dir, splits=SPLITS)
    skipped = SkipLog()

    with atomic_build_dir(output, overwrite=args.overwrite) as folder:
        cache_dir, skip_path = folder / ".cache", folder / ".skips.jsonl"
        parts, seconds_per_split = {}, {}
        for split in SPLITS:
            tasks = file_tasks(records, args, split, SAMPLING_RATE)
            if not tasks:
                continue
            fingerprint = hashlib.sha256(json.dumps([asdict(args), split], sort_keys=True).encode()).hexdigest()[:16]
            split_start = time.time()
            try:
                parts[split] = datasets.Dataset.from_generator(
                    generate_rows, features=vocoder_features(), cache_dir=str(cache_dir), fingerprint=fingerprint,
                    gen_kwargs={"tasks": tuple(tasks), "num_proc": args.num_proc, "skip_file": str(skip_path),
                                "description": f"render {split}"},
                )
            except datasets.exceptions.DatasetGenerationError as error:
                raise (error.__cause__ or error) from None
            seconds_per_split[split] = round(time.time() - split_start, 1)
            print(f"{split}: {len(tasks)} files -> {len(parts[split])} segments in {seconds_per_split[split]} s")
        if skip_path.exists():
            for line in skip_path.read_text(encoding="utf-8").splitlines():
                skipped.skip(*json.loads(line))
        dataset = datasets.DatasetDict({split: part for split, part in parts.items() if len(part)})
        if not dataset:
            raise RuntimeError(f"no segment rendered from {args.groove_dir}; skipped: {dict(skipped.counts)}")
        dataset.save_to_disk(str(folder))
        num_rows = {split: len(part) for split, part in dataset.items()}
        columns = {split: part.select_columns(["soundfont", "drum_kit", "source_file"]).to_dict()
                   for split, part in dataset.items()}
        del parts, dataset
        shutil.rmtree(cache_dir, ignore_errors=True)
        skip_path.unlink(missing_ok=True)

        stats = {
            "num_rows": num_rows,
            "num_files": {split: len(set(c["source_file"])) for split, c in columns.items()},
            "hours_of_audio": {split: round(rows * args.segment_seconds / 3600, 3) for split, rows in num_rows.items()},
            "seconds_per_split": seconds_per_split,
            "soundfonts": {split: dict(Counter(c["soundfont"])) for split, c in columns.items()},
            "drum_kits": {split: dict(Counter(c["drum_kit"])) for split, c in columns.items()},
        }
        config = {**asdict(args), "command": command, "sampling_rate": SAMPLING_RATE,
                  "render_soundfonts": list(TRAINING_SOUNDFONTS), "render_kits": list(RENDER_DRUM_KITS),
                  "mel": "BeatAlignedMelFeatureExtractor() defaults, last frame dropped"}
        write_manifest(folder, config, stats, skipped, started=started)
        write_dataset_card(
            folder, title="Groove MIDI Dataset drums rendered for the drum vocoder",
            summary=(f"Real drum performances of the Groove MIDI Dataset, mapped to 9 drum classes and rendered with "
                     f"FluidSynth at 16 kHz, cut into {args.segment_seconds:g}-second segments with their log-mels."
                     f"\n\nCredit: {GMD_CREDIT}"),
            licences={"Groove MIDI Dataset v1.0.0": "cc-by-4.0"}, task="audio-to-audio", num_examples=num_rows,
            size_bytes=folder_size_bytes(folder), sections=_card_sections(args), command=command,
        )
    seconds = time.time() - started
    size = folder_size_bytes(output)
    print(f"built {output} in {seconds:.1f} s: {num_rows}, {size / 1e6:.1f} MB on disk, skipped {skipped.total} "
          f"({dict(skipped.counts)})")
    return {**stats, "output": str(output), "seconds": seconds, "size_bytes": size, "skipped": skipped.to_dict()}


def _card_sections(args: VocoderBuildArguments) -> dict[str, str]:
    columns = (
        "| column | type | meaning |\n|---|---|---|\n"
        "| `audio` | int16 list | the segment at `sampling_rate` (16 kHz); float = int16 / 32768 |\n"
        "| `mel` | float16 `(frames, 80)` | natural-log mel of `audio` (`BeatAlignedMelFeatureExtractor`, hop 160), "
        "`frames * 160 == len(audio)` |\n"
        "| `soundfont`, `drum_kit` | string | the training SoundFont and GM kit of the file's render |\n"
        "| `start_s` | float64 | segment start in the rendered file (s) |\n"
        "| `segment_id`, `id`, `source_file`, `split`, `drummer`, `style`, `beat_type` | string | GMD metadata |\n")
    method = (
        f"- Each file's hits (9 GMD classes as GM notes) are rendered once with a SoundFont from "
        f"{', '.join(TRAINING_SOUNDFONTS)} and a GM kit from {', '.join(RENDER_DRUM_KITS)}, drawn from the seed "
        f"(the held-out SoundFont is never used), and peak-normalized to 0.9 over the file.\n"
        f"- Up to {args.segments_per_file} (train) / {args.validation_segments_per_file} (validation) segments per "
        f"file at seeded random starts, each with at least {MIN_HITS} hits and not silent.\n")
    return {"Task": "Training and evaluating the drum vocoder (`DrumVocoder`: log-mel -> audio) and the drum codec "
                    "end to end (`scripts/evaluate_codec.py`).",
            "Columns": columns, "Method": method,
            "Loading": "```python\nfrom datasets import load_from_disk\ndataset = load_from_disk(\"data/vocoder\")\n```"}


def parse_args(argv: list[str] | None = None) -> VocoderBuildArguments:
    from transformers import HfArgumentParser

    (args,) = HfArgumentParser(VocoderBuildArguments).parse_args_into_dataclasses(args=argv)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else list(argv)
    return build(parse_args(argv), command=command_line(__file__, argv))


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
