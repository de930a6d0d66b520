"""scripts/export_default_models.py: trained parts -> one fp16 system folder the pipeline loads (also from a
Hub-layout cache, offline), plus the groove folder with its tokenizer."""

import os
import shutil

import numpy as np
import pytest
import torch
from helpers import REPO_ROOT, load_script, tiny_system
from transformers import pipeline

import drum_accomp  # noqa: F401


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    parts_dir = tmp_path_factory.mktemp("parts")
    system = tiny_system()
    for name in ("backing_vqvae", "drums_vqvae", "transformer", "vocoder", "beat_tracker"):
        getattr(system, name).save_pretrained(parts_dir / name)
    output = tmp_path_factory.mktemp("pretrained")
    script = load_script("export_default_models")
    folders = script.main([f"--{name}={parts_dir / name}" for name in ("backing_vqvae", "drums_vqvae", "transformer",
                                                                       "vocoder", "beat_tracker")]
                          + [f"--groove={REPO_ROOT / 'checkpoints' / 'groove'}", f"--output_dir={output}",
                             "--overwrite"])
    return system, folders


def test_the_system_folder_holds_fp16_weights_and_the_feature_extractor(exported):
    _, folders = exported
    folder = folders["drum_accompaniment"]
    assert {"config.json", "model.safetensors", "preprocessor_config.json", "export.json"} <= set(os.listdir(folder))
    from safetensors import safe_open

    with safe_open(folder / "model.safetensors", "pt") as weights:
        assert all(weights.get_tensor(name).dtype == torch.float16 for name in weights.keys()
                   if weights.get_tensor(name).is_floating_point())


def test_the_pipeline_loads_the_export_and_a_hub_layout_cache_offline(exported, tmp_path, monkeypatch):
    system, folders = exported
    backing = np.random.default_rng(0).normal(0, 0.1, 16000 * 3).astype(np.float32)
    local = pipeline("drum-accompaniment", model=str(folders["drum_accompaniment"]))(backing, sampling_rate=16000,
                                                                                    seed=0, drum_audio="vocoder")
    # The same files in the layout huggingface_hub writes: models--org--name/{refs/main, snapshots/<commit>/...}.
    commit = "0" * 40
    repo = tmp_path / "hub" / "models--drum-accomp--tiny-test"
    shutil.copytree(folders["drum_accompaniment"], repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    from_hub = pipeline("drum-accompaniment", model="drum-accomp/tiny-test", model_kwargs={"cache_dir": str(tmp_path / "hub")})
    result = from_hub(backing, sampling_rate=16000, seed=0, drum_audio="vocoder")
    np.testing.assert_allclose(result["drums"], local["drums"], atol=1e-6)
    assert result["drums"].shape == backing.shape


def test_the_groove_folder_works_with_its_pipeline(exported):
    _, folders = exported
    result = pipeline("drum-groove", model=str(folders["groove"]))("rock", bars=1, seed=0)
    assert len(result["midi"].instruments[0].notes) > 0


def test_a_missing_part_is_named(tmp_path):
    script = load_script("export_default_models")
    with pytest.raises(FileNotFoundError, match="no MelVQVAEModel checkpoint at"):
        script.main([f"--backing_vqvae={tmp_path / 'nothing'}", f"--output_dir={tmp_path / 'out'}"])
