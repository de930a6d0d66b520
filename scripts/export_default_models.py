"""Assemble the default models that ship inside the package (``src/drum_accomp/pretrained/``).

    python scripts/export_default_models.py --overwrite

1. ``drum_accompaniment/``: one ``DrumAccompanimentSystem`` checkpoint (fp16) made of the trained parts: the
   backing and drum VQ-VAEs, the accompaniment transformer, the vocoder and the bundled beat tracker, with the
   feature extractor's ``preprocessor_config.json`` beside it: what ``pipeline("drum-accompaniment")`` loads.
2. ``groove/``: the groove model (fp16) with its ``DrumTokenizer``: what ``pipeline("drum-groove")`` loads.

Each folder is written to a temporary folder and renamed into place (a killed export leaves the old one intact),
with ``export.json`` naming the source folders and the command. Model cards are written by
``scripts/make_model_cards.py`` (run it after this script).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import AutoTokenizer, HfArgumentParser

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.data.build_utils import atomic_build_dir, command_line, write_json_atomic
from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from drum_accomp.models.accompaniment import DrumAccompanimentModel
from drum_accomp.models.beat_tracker import DrumBeatTracker
from drum_accomp.models.groove import GrooveModel
from drum_accomp.models.system import DrumAccompanimentSystem
from drum_accomp.models.vocoder import DrumVocoder
from drum_accomp.models.vqvae import MelVQVAEModel

REPO_ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = REPO_ROOT / "checkpoints"


@dataclass
class ExportArguments:
    backing_vqvae: str = field(default=str(CHECKPOINTS / "vqvae_backing"))
    drums_vqvae: str = field(default=str(CHECKPOINTS / "vqvae_drums"))
    transformer: str = field(default=str(CHECKPOINTS / "accompaniment"))
    vocoder: str = field(default=str(CHECKPOINTS / "vocoder"))
    beat_tracker: str = field(default=str(REPO_ROOT / "src" / "drum_accomp" / "pretrained" / "beat_tracker"))
    groove: str = field(default=str(CHECKPOINTS / "groove"), metadata={"help": "groove checkpoint ('' = skip)"})
    output_dir: str = field(default=str(REPO_ROOT / "src" / "drum_accomp" / "pretrained"))
    overwrite: bool = field(default=False, metadata={"help": "replace existing exports"})


def repo_relative(path: str) -> str:
    """``path`` relative to the repository when inside it (export.json stays machine-independent)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else str(path)


def load_part(model_class, path: str):
    if not (Path(path) / "config.json").is_file():
        raise FileNotFoundError(f"no {model_class.__name__} checkpoint at {path!r} (config.json missing); train it "
                                "or pass its folder")
    return model_class.from_pretrained(path, dtype=torch.float32).eval()


def export_system(args: ExportArguments, command: str) -> Path:
    parts = {"backing_vqvae": (MelVQVAEModel, args.backing_vqvae), "drums_vqvae": (MelVQVAEModel, args.drums_vqvae),
             "transformer": (DrumAccompanimentModel, args.transformer), "vocoder": (DrumVocoder, args.vocoder),
             "beat_tracker": (DrumBeatTracker, args.beat_tracker)}
    system = DrumAccompanimentSystem.from_parts(**{name: load_part(*spec) for name, spec in parts.items()})
    feature_extractor = BeatAlignedMelFeatureExtractor(**system.config.vocoder.feature_extractor_kwargs())
    target = Path(args.output_dir) / "drum_accompaniment"
    with atomic_build_dir(target, overwrite=args.overwrite) as staging:
        system.half().save_pretrained(staging)
        feature_extractor.save_pretrained(staging)
        write_json_atomic(staging / "export.json", {
            "command": command, "parts": {name: repo_relative(path) for name, (_, path) in parts.items()}})
    print(f"saved {target}: {sum(p.numel() for p in system.parameters()):,} parameters, "
          f"{(target / 'model.safetensors').stat().st_size / 1e6:.1f} MB")
    return target


def export_groove(args: ExportArguments, command: str) -> Path:
    model = load_part(GrooveModel, args.groove)
    tokenizer = AutoTokenizer.from_pretrained(args.groove)
    target = Path(args.output_dir) / "groove"
    with atomic_build_dir(target, overwrite=args.overwrite) as staging:
        model.half().save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        for extra in ("README.md", "training_summary.json"):
            if (Path(args.groove) / extra).is_file():
                shutil.copy(Path(args.groove) / extra, staging / extra)
        write_json_atomic(staging / "export.json", {"command": command, "source": repo_relative(args.groove)})
    print(f"saved {target}: {(target / 'model.safetensors').stat().st_size / 1e6:.1f} MB")
    return target


def main(argv: list[str] | None = None) -> dict[str, Path]:
    (args,) = HfArgumentParser(ExportArguments).parse_args_into_dataclasses(args=argv)
    command = command_line(__file__, argv)
    exported = {"drum_accompaniment": export_system(args, command)}
    if args.groove:
        exported["groove"] = export_groove(args, command)
    return exported


if __name__ == "__main__":
    main()
