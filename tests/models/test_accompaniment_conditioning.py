"""The conditioning test of the trained accompaniment model on real validation windows.

``tests/fixtures/accompaniment_windows/validation_windows.npz`` holds the first window of 16 validation songs
(``scripts/make_test_windows.py``; songs never trained on). With teacher forcing, the drum codes of each window
must cost less with the window's own backing (codes and mels) than with another song's, keeping this window's beat
positions, genre and drums, so that beat alignment alone cannot explain the gap: by at least 0.3 nats per decoder
token (one token = one step of ``codes_per_step`` codes). These 16 windows give 0.438 per token (0.219 per code);
the full validation split 0.545 (0.272 per code): ``python scripts/evaluate_accompaniment.py --split validation``,
whose ``conditioning_gap`` this test runs.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import Dataset
from helpers import load_script

from drum_accomp.models.accompaniment import DrumAccompanimentModel

REPO_ROOT = Path(__file__).resolve().parents[2]
WINDOWS = REPO_ROOT / "tests" / "fixtures" / "accompaniment_windows" / "validation_windows.npz"
MIN_GAP_PER_TOKEN = 0.3


@pytest.fixture(scope="module")
def windows() -> Dataset:
    with np.load(WINDOWS, allow_pickle=False) as arrays:
        return Dataset.from_dict({name: list(arrays[name]) for name in arrays.files}).with_format("numpy")


def test_the_trained_model_uses_the_backing_beyond_the_beat(windows):
    torch.manual_seed(0)
    model = DrumAccompanimentModel.from_pretrained(REPO_ROOT / "checkpoints" / "accompaniment",
                                                   dtype=torch.float32).eval()
    evaluate = load_script("evaluate_accompaniment")
    gap = evaluate.conditioning_gap(model, windows, batch_size=8)
    assert gap["windows"] == len(windows) == 16 and gap["windows_without_other_song"] == 0
    assert gap["ce_true_backing"] < gap["ce_other_song_backing"]
    assert gap["gap_nats_per_step_token"] >= MIN_GAP_PER_TOKEN, gap


def test_the_fixture_windows_are_real_validation_windows(windows):
    row = windows[0]
    assert row["backing_codes"].shape == row["drum_codes"].shape == row["beat_positions"].shape == (256,)
    assert row["backing_mel"].shape == (1024, 80) and np.isfinite(row["backing_mel"]).all()
    assert len(set(windows["song_id"])) == 16  # one window per song: every swap is another song's backing
