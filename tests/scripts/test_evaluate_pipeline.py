"""scripts/evaluate_pipeline.py end to end on a real song (the bundled Slakh example's MIDI) with a tiny system:
every figure is computed and in range, and the JSON is written."""

import json

from helpers import REPO_ROOT, load_script, save_tiny_checkpoint


def test_the_pipeline_evaluation_reports_every_figure(tmp_path):
    checkpoint = save_tiny_checkpoint(tmp_path / "system")
    output = tmp_path / "eval.json"
    song = REPO_ROOT / "examples" / "slakh_Track00001" / "all_src.mid"
    results = load_script("evaluate_pipeline").main([f"--model={checkpoint}", f"--files={song}", "--seconds=12",
                                                     f"--output_json={output}"])
    assert results["songs_evaluated"] == 1
    for name in ("pipeline", "rock_on_tracked_beats", "rock_on_true_beats"):
        assert 0.0 <= results["drum_hit_f1"][name] <= 1.0
    assert results["drum_hit_f1"]["rock_on_true_beats"] > 0.1  # a real song's drums share hits with a rock beat
    for name in ("midi", "vocoder", "real_drums"):
        assert 0.0 <= results["drum_audio"][name]["beat_f_measure"] <= 1.0
        assert 0.0 <= results["drum_audio"][name]["onset_f1"] <= 1.0
    assert results["drum_audio"]["real_drums"]["onset_f1"] > 0.3  # the real drums' onsets match their own hits
    assert results["better_drum_audio"] in ("midi", "vocoder")
    assert json.loads(output.read_text())["songs_evaluated"] == 1


def test_the_pipeline_evaluation_keeps_its_json_keys_and_renders_with_a_named_soundfont(tmp_path):
    """The keys model_cards/pipeline_eval_*.json and the model cards rely on; ``--soundfont`` renders the song with
    the held-out SoundFont (the generalization check) and is recorded in the settings."""
    checkpoint = save_tiny_checkpoint(tmp_path / "system")
    song = REPO_ROOT / "examples" / "slakh_Track00001" / "all_src.mid"
    results = load_script("evaluate_pipeline").main([f"--model={checkpoint}", f"--files={song}", "--seconds=8",
                                                     "--soundfont=musescore_lite", "--no_vocoder"])
    committed = json.loads((REPO_ROOT / "model_cards" / "pipeline_eval_validation.json").read_text())
    assert set(results) == set(committed)
    assert set(results["songs"][0]) == set(committed["songs"][0]) - {"vocoder_beat_f"}
    assert set(results["drum_audio"]) == {"midi", "real_drums"} and results["better_drum_audio"] == "midi"
    assert results["settings"]["soundfont"] == "musescore_lite"
