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
                                                 "--pretrained", str(pretrained), "--report", str(tmp_path / "none")])
    card = ModelCard.load(cards / "accompaniment.md")
    assert card.data.license == "cc-by-nc-sa-4.0"
    values = {result.metric_name.split(" (")[0]: result.metric_value for result in card.data.eval_results}
    assert values["conditioning gap"] == 0.4 and values["drum-hit F1"] == 0.61
    assert (checkpoints / "accompaniment" / "README.md").is_file()
    assert ModelCard.load(cards / "groove.md").data.license == "cc-by-4.0"
    assert "Not evaluated yet" in made["system"].text
    assert (pretrained / "drum_accompaniment" / "README.md").is_file()


def pipeline_results(f1: float, songs: int, soundfont: str = "fluidr3_gm") -> dict:
    """A section of the evaluation report with the keys of scripts/evaluate_pipeline.py's JSON."""
    return {"songs_evaluated": songs, "settings": {"seconds": 20.0, "soundfont": soundfont},
            "drum_hit_f1": {"pipeline": f1, "rock_on_tracked_beats": 0.35, "rock_on_true_beats": 0.38},
            "tracked_beat_f_measure": 0.68, "better_drum_audio": "midi", "seconds_per_audio_second": 0.1,
            "drum_audio": {name: {"beat_f_measure": 0.6, "onset_f1": 0.4}
                           for name in ("midi", "vocoder", "real_drums")}}


def test_cards_take_their_results_from_the_evaluation_report(tmp_path):
    checkpoints, cards, pretrained = tmp_path / "checkpoints", tmp_path / "cards", tmp_path / "pretrained"
    for folder in (checkpoints / "groove", cards, pretrained / "drum_accompaniment", pretrained / "groove"):
        folder.mkdir(parents=True)
    continuation = {name: {"f1": f1, "precision": 0.7, "recall": 0.6}
                    for name, f1 in (("greedy", 0.66), ("sampled", 0.51), ("replay_last_2_bars", 0.73), ("real", 1.0))}
    report = {"command": "python scripts/evaluate.py --split validation", "settings": {"split": "validation"},
              "pipeline": pipeline_results(0.41, 27),
              "generalization": {"split": "test_heldout_soundfont", "heldout_soundfont": "musescore_lite",
                                 "runs": {"fluidr3_gm": pipeline_results(0.39, 10),
                                          "musescore_lite": pipeline_results(0.31, 10, "musescore_lite")}},
              "groove": {"continuation": {**continuation, "num_examples": 85},
                         "genre": {"accuracy": 0.45, "num_generations": 112}}}
    (tmp_path / "report.json").write_text(json.dumps(report))
    # a stale per-script JSON is ignored when the report is there
    (cards / "pipeline_eval_validation.json").write_text(json.dumps(pipeline_results(0.2, 3)))
    made = load_script("make_model_cards").main(["--checkpoints", str(checkpoints), "--cards_dir", str(cards),
                                                 "--pretrained", str(pretrained),
                                                 "--report", str(tmp_path / "report.json")])
    system = {(result.dataset_split, result.metric_name): result.metric_value
              for result in made["system"].data.eval_results}
    assert system[("validation", "drum-hit F1 vs the real drums (tracked beats)")] == 0.41
    assert system[("test_heldout_soundfont", "drum-hit F1 vs the real drums, songs rendered with a SoundFont never "
                                             "trained on (musescore_lite)")] == 0.31
    assert "| rock pattern on the same tracked beats | 0.350 |" in made["system"].text  # the baseline, in the table
    assert "python scripts/evaluate.py --split validation" in made["system"].text
    assert "musescore_lite" in made["system"].text
    groove = {result.metric_name: result.metric_value
              for result in ModelCard.load(cards / "groove.md").data.eval_results}
    assert groove["continuation hit F1, greedy"] == 0.66 and groove["genre accuracy of style-only generations"] == 0.45


def test_groove_card_licence_follows_its_training_data(tmp_path):
    """GMD alone: CC BY 4.0; with the accompaniment songs' drums (--extra_train, in any stage): CC BY-NC-SA 4.0."""
    cards_script = load_script("make_model_cards")
    licence, datasets, text = cards_script.groove_data({"extra_train": {}})
    assert licence == "cc-by-4.0" and datasets == ["groove-midi-dataset"] and "CC BY 4.0" in text
    earlier = {"earlier_stages": [{"extra_train": {"data/groove_songs": 10861}}]}
    licence, datasets, text = cards_script.groove_data(earlier)
    assert licence == "cc-by-nc-sa-4.0" and "tegridy-multitrack-midi" in datasets
    assert "`groove_songs` (10,861 windows)" in text and "non-commercial" in text
