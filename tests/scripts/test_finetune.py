"""scripts/finetune.py end to end on real songs (the two multi-track fixtures) from a tiny base system: build,
codes, 2 training steps from the base weights, and a fine-tuned folder the pipeline loads."""

import numpy as np
import torch
from helpers import REPO_ROOT, load_script, save_tiny_checkpoint, tiny_system
from transformers import pipeline

import drum_accomp  # noqa: F401
from drum_accomp.models.system import DrumAccompanimentSystem


def test_finetune_builds_trains_and_writes_a_pipeline_checkpoint(tmp_path):
    base_dir = save_tiny_checkpoint(tmp_path / "base_system")
    base = tiny_system()  # the same seed: the same weights as the saved base
    model_dir = load_script("finetune").main(["--source", str(REPO_ROOT / "tests" / "fixtures" / "multitrack"),
                                              "--output_dir", str(tmp_path / "work"), "--model", str(base_dir),
                                              "--max_steps", "2", "--torch_threads", "1"])
    tuned = DrumAccompanimentSystem.from_pretrained(model_dir, dtype=torch.float32)
    # The transformer moved; the VQ-VAEs and the vocoder are the base's (up to fp16 storage).
    assert not torch.allclose(tuned.transformer.lm_head.weight, base.transformer.lm_head.weight.half().float())
    assert torch.allclose(tuned.vocoder.embed.weight, base.vocoder.embed.weight.half().float())
    result = pipeline("drum-accompaniment", model=str(model_dir))(np.random.default_rng(0).normal(
        0, 0.1, 16000 * 3).astype(np.float32), sampling_rate=16000, seed=0)
    assert result["drums"].shape == (16000 * 3,)
