"""Push a drum_accomp checkpoint to the Hugging Face Hub: weights, processor / tokenizer files, model card, and the
pipeline registration, so that ``pipeline(model="you/your-drummer", trust_remote_code=True)`` finds the task.

    python scripts/push_to_hub.py --repo_id you/drum-accomp-default                         # the bundled system
    python scripts/push_to_hub.py --repo_id you/drum-groove --model_dir src/drum_accomp/pretrained/groove
    python scripts/push_to_hub.py --repo_id you/x --dry_run --staging_dir /tmp/x            # stage only, no network

Steps (all but the last run offline, and are tested):
1. Stage a copy of the checkpoint folder (the model card is its ``README.md``; make it with
   ``scripts/make_model_cards.py``; a folder without one is refused).
2. Add the pipeline module ``drum_accomp_pipeline.py`` (it imports the pipeline class from the ``drum_accomp``
   package, which users install with pip) and register it under ``custom_pipelines`` in ``config.json``, the way
   ``Pipeline.push_to_hub`` does for registered custom pipelines.
3. ``HfApi.create_repo`` + ``HfApi.upload_folder`` (needs a token: ``hf auth login`` or ``HF_TOKEN``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub import HfApi
from transformers import HfArgumentParser

REPO_ROOT = Path(__file__).resolve().parents[1]
TASKS = {
    # model_type in config.json -> (task, pipeline class, pipeline type)
    "drum_accompaniment_system": ("drum-accompaniment", "DrumAccompanimentPipeline", "audio"),
    "drum_accomp_groove": ("drum-groove", "DrumGroovePipeline", "multimodal"),
}
PIPELINE_MODULE = "drum_accomp_pipeline"
PIPELINE_CODE = '''"""Pipeline code for this checkpoint: `pip install drum_accomp`, then
pipeline(model="{repo_id}", trust_remote_code=True) (or `import drum_accomp` and pipeline("{task}", model=...))."""

from drum_accomp.pipelines import {pipeline_class}  # noqa: F401
'''


@dataclass
class PushArguments:
    repo_id: str = field(metadata={"help": "Hub repository, e.g. you/drum-accomp-default"})
    model_dir: str = field(default=str(REPO_ROOT / "src" / "drum_accomp" / "pretrained" / "drum_accompaniment"))
    private: bool = field(default=False)
    dry_run: bool = field(default=False, metadata={"help": "stage the folder and stop before any network call"})
    staging_dir: str = field(default="", metadata={"help": "where to stage ('' = a temporary folder)"})
    commit_message: str = field(default="Upload drum_accomp checkpoint")


def stage(model_dir: Path, staging: Path, repo_id: str) -> dict:
    """Copy the checkpoint, add the pipeline module and its ``custom_pipelines`` entry; returns the config."""
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"no checkpoint in {str(model_dir)!r} (config.json missing); pass --model_dir")
    if not (model_dir / "README.md").is_file():
        raise FileNotFoundError(f"{str(model_dir)!r} has no model card (README.md); run scripts/make_model_cards.py")
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") not in TASKS:
        raise ValueError(f"model_type {config.get('model_type')!r} has no drum_accomp pipeline; push one of "
                         f"{sorted(TASKS)}")
    task, pipeline_class, pipeline_type = TASKS[config["model_type"]]
    shutil.copytree(model_dir, staging, dirs_exist_ok=True)
    (staging / f"{PIPELINE_MODULE}.py").write_text(
        PIPELINE_CODE.format(repo_id=repo_id, task=task, pipeline_class=pipeline_class), encoding="utf-8")
    config["custom_pipelines"] = {task: {"impl": f"{PIPELINE_MODULE}.{pipeline_class}", "pt": ["AutoModel"],
                                         "type": pipeline_type}}
    (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return config


def main(argv: list[str] | None = None) -> Path:
    (args,) = HfArgumentParser(PushArguments).parse_args_into_dataclasses(args=argv)
    staging = Path(args.staging_dir or tempfile.mkdtemp(prefix="drum-accomp-push-"))
    stage(Path(args.model_dir), staging, args.repo_id)
    files = sorted(path.name for path in staging.iterdir())
    print(f"staged {staging}: {', '.join(files)}")
    if args.dry_run:
        print("dry run: nothing uploaded")
        return staging
    api = HfApi()
    api.create_repo(repo_id=args.repo_id, private=args.private, exist_ok=True)
    api.upload_folder(repo_id=args.repo_id, folder_path=str(staging), commit_message=args.commit_message)
    print(f"pushed https://huggingface.co/{args.repo_id}")
    return staging


if __name__ == "__main__":
    main()
