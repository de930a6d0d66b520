"""Fine-tune the default drum accompaniment model (or any system checkpoint) on your own songs.

    python scripts/finetune.py --source MY_SONGS/ --output_dir outputs/my_drummer [--max_steps 500]
    # then: pipeline("drum-accompaniment", model="outputs/my_drummer/model")

``MY_SONGS`` is whatever ``datasets_scripts/build_accompaniment.py`` reads: a folder of multi-track MIDI files,
Slakh-style tracks (``metadata.yaml`` + MIDI), or stem folders (``drums.wav`` + the other stems). The steps, each
a script of this repository (run in a subprocess, so each is the same command you could run yourself):

1. ``OUTPUT/data``: the windowed dataset build (song-level splits, no genre balancing), windows as long as the
   base transformer's context.
2. ``OUTPUT/base``: the parts of the base system, each ``save_pretrained`` on its own.
3. ``OUTPUT/codes``: ``scripts/encode_codes.py`` with the base VQ-VAEs (they stay frozen).
4. ``OUTPUT/transformer``: ``scripts/train_accompaniment.py --init_from OUTPUT/base/transformer`` with
   ``configs/finetune_accompaniment.json`` (low learning rate, few steps; resumable with ``--resume``). A build
   without validation songs (a small folder) evaluates on its training windows, and says so.
5. ``OUTPUT/model``: the base system with the fine-tuned transformer, with its feature extractor: what
   ``pipeline("drum-accompaniment", model=...)`` loads.

Licence: the result inherits the base model's CC BY-NC-SA 4.0 (non-commercial) and your data's terms.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from datasets import load_from_disk
from transformers import HfArgumentParser

import drum_accomp  # noqa: F401
from drum_accomp.data.build_utils import atomic_build_dir
from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from drum_accomp.models.accompaniment import DrumAccompanimentModel
from drum_accomp.models.system import DrumAccompanimentSystem
from drum_accomp.pipelines import DEFAULT_ACCOMPANIMENT_MODEL
from drum_accomp.training import load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
PARTS = ("backing_vqvae", "drums_vqvae", "transformer", "vocoder", "beat_tracker")


@dataclass
class FinetuneArguments:
    source: list[str] = field(metadata={"help": "your song folder(s): MIDI files, Slakh-style tracks or stem folders"})
    output_dir: str = field(metadata={"help": "work folder: data/, base/, codes/, transformer/, model/"})
    model: str = field(default=str(DEFAULT_ACCOMPANIMENT_MODEL), metadata={"help": "base system checkpoint"})
    config: str = field(default=str(REPO_ROOT / "configs" / "finetune_accompaniment.json"))
    max_steps: int = field(default=0, metadata={"help": "optimizer steps (0 = the config's)"})
    num_proc: int = field(default=1, metadata={"help": "worker processes of the dataset build"})
    resume: bool = field(default=False, metadata={"help": "keep a finished build / codes and resume training"})
    torch_threads: int = field(default=0, metadata={"help": "CPU threads for training (0 = torch's default)"})


def run(script: str, *arguments: str) -> None:
    """Run one of the repository's scripts with this Python; stop with its exit code on failure."""
    command = [sys.executable, str(REPO_ROOT / script), *arguments]
    print("$ " + " ".join(command), flush=True)
    completed = subprocess.run(command, check=False)
    if completed.returncode:
        raise SystemExit(f"{script} failed (exit code {completed.returncode}); see its output above")


def main(argv: list[str] | None = None) -> Path:
    (args,) = HfArgumentParser(FinetuneArguments).parse_args_into_dataclasses(args=argv)
    output = Path(args.output_dir)
    base = DrumAccompanimentSystem.from_pretrained(args.model, dtype=torch.float32).eval()
    window_frames = min(1024, base.config.transformer.max_codes * base.config.frames_per_code)

    # 1. The dataset build of the user's songs.
    data = output / "data"
    if not (args.resume and (data / "dataset_dict.json").is_file()):
        run("datasets_scripts/build_accompaniment.py", "--source", *args.source, "--output", str(data), "--overwrite",
            "--no_balance", "--no_heldout_soundfont", "--window_frames", str(window_frames),
            "--num_proc", str(args.num_proc))

    # 2. The base parts, each loadable on its own.
    for name in PARTS:
        getattr(base, name).save_pretrained(output / "base" / name)

    # 3. Codes of the windows, with the base VQ-VAEs.
    codes = output / "codes"
    if not (args.resume and (codes / "dataset_dict.json").is_file()):
        run("scripts/encode_codes.py", "--dataset", str(data), "--backing_vqvae", str(output / "base" / "backing_vqvae"),
            "--drums_vqvae", str(output / "base" / "drums_vqvae"), "--output", str(codes), "--overwrite")

    # 4. Fine-tune the transformer; without validation songs, evaluate on the training windows.
    settings = load_settings(args.config, required=("data", "training"))
    splits = load_from_disk(str(codes))
    if len(splits.get(settings["data"]["eval_split"], [])) == 0:
        print(f"no {settings['data']['eval_split']!r} windows in this build (too few songs for a song-level split): "
              "evaluating on the training windows, so early stopping sees training loss", flush=True)
        settings["data"]["eval_split"] = settings["data"]["train_split"]
    config_file = Path(tempfile.mkdtemp(prefix="finetune-")) / "config.json"
    config_file.write_text(json.dumps(settings, indent=2), encoding="utf-8")
    training = ["--config", str(config_file), "--init_from", str(output / "base" / "transformer"), "--codes_dir",
                str(codes), "--output_dir", str(output / "runs"), "--export_dir", str(output / "transformer")]
    training += ["--max_steps", str(args.max_steps)] if args.max_steps else []
    training += ["--torch_threads", str(args.torch_threads)] if args.torch_threads else []
    training += ["--resume"] if args.resume else []
    run("scripts/train_accompaniment.py", *training)

    # 5. The base system with the fine-tuned transformer: one folder for pipeline("drum-accompaniment", model=...).
    tuned = DrumAccompanimentModel.from_pretrained(output / "transformer", dtype=torch.float32)
    system = DrumAccompanimentSystem.from_parts(base.backing_vqvae, base.drums_vqvae, tuned, base.vocoder,
                                                base.beat_tracker)
    with atomic_build_dir(output / "model", overwrite=True) as staging:
        system.half().save_pretrained(staging)
        BeatAlignedMelFeatureExtractor(**system.config.vocoder.feature_extractor_kwargs()).save_pretrained(staging)
    print(f"saved {output / 'model'}: pipeline('drum-accompaniment', model={str(output / 'model')!r})")
    return output / "model"


if __name__ == "__main__":
    main()
