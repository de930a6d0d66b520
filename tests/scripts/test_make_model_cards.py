"""scripts/make_model_cards.py: cards from configs and evaluation JSONs, with licences and a model-index that
huggingface_hub reads back; a missing evaluation leaves the results out and says how to make them."""

import json

from helpers import load_script
from huggingface_hub import ModelCard


def test_cards_carry_licence_and_measured_results(tmp_path):
    checkpoints, cards, pretrained = tmp_path / "checkpoints", tmp_path / "cards", tmp_path / "pretrained"
    for folder in (checkpoints / "accompaniment", checkpoints / "groove", cards, pretrained / "drum_accompaniment"):
        folder.mkdir(parents=True)
    (checkpoints / "accompaniment" / "config.json").write_text(json.dumps({"encoder_layers": 4, "codes_per_step": 2}))
    (cards / "accompaniment_eval_validation.json").write_text(json.dumps({
        "conditioning": {"ce_true_backing": 1.7, "ce_other_song_backing": 2.1, "gap_nats_per_code": 0.4,
                         "min_gap": 0.3, "windows": 10},
        "drum_hit_f1": {"model_micro_f1": 0.61, "rock_baseline_micro_f1": 0.48, "generation_ms_per_code": 1.2,
                        "windows": 10},
        "settings": {"batch_size": 16, "do_sample": False}}))
    made = load_script("make_model_cards").main(["--checkpoints", str(checkpoints), "--cards_dir", str(cards),
                                                 "--pretrained", str(pretrained)])
    card = ModelCard.load(cards / "accompaniment.md")
    assert card.data.license == "cc-by-nc-sa-4.0"
    values = {result.metric_name.split(" (")[0]: result.metric_value for result in card.data.eval_results}
    assert values["conditioning gap"] == 0.4 and values["drum-hit F1"] == 0.61
    assert (checkpoints / "accompaniment" / "README.md").is_file()
    assert ModelCard.load(cards / "groove.md").data.license == "cc-by-4.0"
    assert "Not evaluated yet" in made["system"].text
    assert (pretrained / "drum_accompaniment" / "README.md").is_file()
