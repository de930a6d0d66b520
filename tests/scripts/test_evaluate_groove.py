"""scripts/evaluate_groove.py on real GMD validation files with the bundled groove model: the JSON keys the model
cards and model_cards/groove_eval_validation.json rely on, every F1 in range, and a clear error for a bad split."""

import json

import pytest
from helpers import REPO_ROOT, load_script

from drum_accomp.pipelines import DEFAULT_GROOVE_MODEL


def test_the_groove_evaluation_keeps_its_json_keys(shared_data, tmp_path):
    output = tmp_path / "groove.json"
    result = load_script("evaluate_groove").main([f"--model={DEFAULT_GROOVE_MODEL}",
                                                  f"--groove_dir={shared_data / 'groove'}", "--max_files=3",
                                                  "--genre_samples=1", "--genre_bars=1", f"--output_json={output}"])
    committed = json.loads((REPO_ROOT / "model_cards" / "groove_eval_validation.json").read_text())
    assert set(result) == set(committed) and json.loads(output.read_text()) == result
    assert set(result["continuation"]) == set(committed["continuation"])
    for name in ("greedy", "sampled", "replay_last_2_bars", "real"):
        assert set(result["continuation"][name]) == set(committed["continuation"][name])
        assert 0.0 <= result["continuation"][name]["f1"] <= 1.0
    assert set(result["genre"]) == set(committed["genre"])


def test_an_unknown_split_names_the_splits_there_are(shared_data, tmp_path):
    with pytest.raises(ValueError, match="no 'test' files .*it has \\['train', 'validation'\\]"):
        load_script("evaluate_groove").main([f"--model={DEFAULT_GROOVE_MODEL}",
                                             f"--groove_dir={shared_data / 'groove'}", "--split=test",
                                             f"--output_json={tmp_path / 'g.json'}"])
