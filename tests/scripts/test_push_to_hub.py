"""scripts/push_to_hub.py up to the network call: the staged folder holds the weights, the card, the pipeline
module and its custom_pipelines entry; the upload calls get the right repository; bad folders are refused."""

import json

import pytest
from helpers import REPO_ROOT, load_script, save_tiny_checkpoint


@pytest.fixture
def checkpoint(tmp_path):
    folder = save_tiny_checkpoint(tmp_path / "system")
    (folder / "README.md").write_text("---\nlicense: cc-by-nc-sa-4.0\n---\n# test\n")
    return folder


def test_dry_run_stages_weights_card_and_pipeline_registration(checkpoint, tmp_path):
    staging = load_script("push_to_hub").main(["--repo_id", "someone/drummer", "--model_dir", str(checkpoint),
                                               "--staging_dir", str(tmp_path / "stage"), "--dry_run"])
    names = {path.name for path in staging.iterdir()}
    assert {"config.json", "model.safetensors", "preprocessor_config.json", "README.md", "drum_accomp_pipeline.py"} <= names
    config = json.loads((staging / "config.json").read_text())
    assert config["custom_pipelines"]["drum-accompaniment"]["impl"] == "drum_accomp_pipeline.DrumAccompanimentPipeline"
    namespace = {}
    exec((staging / "drum_accomp_pipeline.py").read_text(), namespace)  # the module imports the real class
    assert namespace["DrumAccompanimentPipeline"].__name__ == "DrumAccompanimentPipeline"


def test_upload_goes_to_the_named_repository(checkpoint, tmp_path, monkeypatch):
    import huggingface_hub

    calls = []
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda api, **kwargs: calls.append(("create", kwargs)))
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", lambda api, **kwargs: calls.append(("upload", kwargs)))
    load_script("push_to_hub").main(["--repo_id", "someone/drummer", "--model_dir", str(checkpoint), "--private"])
    assert calls[0] == ("create", {"repo_id": "someone/drummer", "private": True, "exist_ok": True})
    assert calls[1][1]["repo_id"] == "someone/drummer"


def test_the_groove_checkpoint_stages_with_its_task(tmp_path):
    staging = load_script("push_to_hub").main(["--repo_id", "someone/groove", "--model_dir",
                                               str(REPO_ROOT / "checkpoints" / "groove"), "--staging_dir",
                                               str(tmp_path / "stage"), "--dry_run"])
    config = json.loads((staging / "config.json").read_text())
    assert "drum-groove" in config["custom_pipelines"]
    assert (staging / "vocab.json").is_file()


def test_a_folder_without_a_card_or_weights_is_refused(checkpoint, tmp_path):
    script = load_script("push_to_hub")
    (checkpoint / "README.md").unlink()
    with pytest.raises(FileNotFoundError, match="make_model_cards"):
        script.main(["--repo_id", "a/b", "--model_dir", str(checkpoint), "--dry_run"])
    with pytest.raises(FileNotFoundError, match="config.json missing"):
        script.main(["--repo_id", "a/b", "--model_dir", str(tmp_path / "empty"), "--dry_run"])
