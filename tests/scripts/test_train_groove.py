"""scripts/train_groove.py: a real 2-step run on GMD fixture windows, resume, and an export AutoModel loads.

The data is a tiny ``DatasetDict`` shaped like ``data/groove`` (4-bar windows, hop 2, tokenized with
``DrumTokenizer``), made from the GMD MIDI fixtures, so the test needs no built dataset.
"""

import json
from pathlib import Path

import pytest
from helpers import load_script
import torch
from datasets import Dataset, DatasetDict
from transformers import AutoModel

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp import DrumTokenizer
from drum_accomp.data.windows import bar_windows, midi_downbeats
from drum_accomp.midi import load_midi
from drum_accomp.models.groove import GrooveModel

torch.set_num_threads(1)
REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = {"1_funk_80_beat_4-4.mid": ("funk", "train"), "4_jazz_120_beat_3-4.mid": ("jazz", "train"),
            "100_neworleans-secondline_94_beat_4-4.mid": ("neworleans", "validation")}


@pytest.fixture(scope="module")
def train_script():
    return load_script("train_groove")


@pytest.fixture(scope="module")
def tiny_groove_dataset(fixtures_dir, tmp_path_factory) -> Path:
    """Windows of the GMD fixtures with the build's columns, saved to disk with the tokenizer."""
    tokenizer = DrumTokenizer()
    rows = {"train": [], "validation": []}
    for name, (style, split) in FIXTURES.items():
        midi = load_midi(fixtures_dir / "groove" / name)
        numerator = midi.time_signature_changes[0].numerator if midi.time_signature_changes else 4
        for start, end, first_bar, num_bars in bar_windows(midi_downbeats(midi), midi.get_end_time(), 4, 2):
            rows[split].append({
                "input_ids": tokenizer.encode_midi(midi, style=style, start_time=start, end_time=end),
                "source_file": name, "copy": 0, "window_start_bar": first_bar,
                "window_end_bar": first_bar + num_bars, "bpm": float(midi.get_tempo_changes()[1][0]),
                "time_signature": f"{numerator}/4", "style": style, "genre": style})
    folder = tmp_path_factory.mktemp("groove_data") / "groove"
    DatasetDict({split: Dataset.from_list(items[:12]) for split, items in rows.items()}).save_to_disk(str(folder))
    tokenizer.save_pretrained(str(folder / "tokenizer"))
    return folder


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory) -> Path:
    settings = json.loads((REPO_ROOT / "configs" / "groove.json").read_text())
    settings["model"].update(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                             field_intermediate_size=32)
    settings["data"]["max_words"] = 96
    settings["training"].update(per_device_train_batch_size=4, per_device_eval_batch_size=4, warmup_steps=0,
                                logging_steps=1)
    path = tmp_path_factory.mktemp("groove_config") / "groove.json"
    path.write_text(json.dumps(settings))
    return path


def test_sequences_chain_windows_of_the_same_file(train_script, tiny_groove_dataset):
    from datasets import load_from_disk

    split = load_from_disk(str(tiny_groove_dataset))["train"]
    tokenizer = DrumTokenizer()
    config = train_script.GrooveConfig.from_tokenizer(tokenizer)
    sequences = train_script.build_sequences(split, tokenizer, config, sequence_bars=8)
    first = sequences[0]["words"]
    assert first[0, 0] == tokenizer.bos_token_id and first[1, 0] == tokenizer.style_id("funk")
    assert first[-1, 0] == tokenizer.eos_token_id
    # window bars 0-4 chained with bars 4-8: the hits of both windows, in order
    hits = lambda words: int(((words[:, 1] >= 24) & (words[:, 1] < 33)).sum())
    window_hits = [hits(tokenizer.ids_to_words(ids)) for ids in split["input_ids"][:3]]
    assert hits(first) == window_hits[0] + window_hits[2]
    assert (tokenizer.word_ticks(first[2:-1]) < 8 * 4 * 192).all()


def test_two_step_training_resumes_and_exports_a_loadable_model(train_script, tiny_groove_dataset, tiny_config,
                                                                tmp_path):
    arguments = ["--config", str(tiny_config), "--dataset", str(tiny_groove_dataset), "--output_dir",
                 str(tmp_path / "run"), "--export_dir", str(tmp_path / "export"), "--max_steps", "2",
                 "--eval_steps", "1", "--torch_threads", "1"]
    summary = train_script.main(arguments)
    assert summary["global_step"] == 2 and summary["validation"]["eval_loss"] > 0
    resumed = train_script.main(arguments[:-6] + ["--max_steps", "3", "--eval_steps", "1", "--resume",
                                                  "--torch_threads", "1"])
    assert resumed["global_step"] == 3
    model = AutoModel.from_pretrained(tmp_path / "export")
    assert isinstance(model, GrooveModel) and model.config.hidden_size == 32
    tokenizer = DrumTokenizer.from_pretrained(str(tmp_path / "export"))
    output = model.generate(style_ids=[tokenizer.style_id("funk")], max_bars=1, seed=0)
    assert output.words.shape[1] >= 2
    summary_file = json.loads((tmp_path / "export" / "training_summary.json").read_text())
    assert summary_file["parameters"] == model.num_parameters()


def test_init_from_starts_a_new_run_from_exported_weights(train_script, tiny_groove_dataset, tiny_config, tmp_path):
    arguments = ["--config", str(tiny_config), "--dataset", str(tiny_groove_dataset), "--eval_steps", "1",
                 "--torch_threads", "1"]
    train_script.main(arguments + ["--output_dir", str(tmp_path / "first"), "--export_dir", str(tmp_path / "export"),
                                   "--max_steps", "1"])
    exported = GrooveModel.from_pretrained(tmp_path / "export")
    continued = train_script.main(arguments + ["--output_dir", str(tmp_path / "second"), "--max_steps", "1",
                                               "--init_from", str(tmp_path / "export")])
    assert continued["global_step"] == 1
    # same seed and data: only the starting weights differ, so the losses differ too
    fresh = train_script.main(arguments + ["--output_dir", str(tmp_path / "fresh"), "--max_steps", "1"])
    assert exported.num_parameters() > 0
    assert continued["validation"]["eval_loss"] != fresh["validation"]["eval_loss"]


def test_extra_train_builds_join_the_training_data(train_script, tiny_groove_dataset, tiny_config, tmp_path):
    summary = train_script.main(["--config", str(tiny_config), "--dataset", str(tiny_groove_dataset),
                                 "--extra_train", str(tiny_groove_dataset), "--output_dir", str(tmp_path / "run"),
                                 "--max_steps", "1", "--eval_steps", "1", "--torch_threads", "1"])
    assert summary["global_step"] == 1
    assert summary["extra_train"] == {str(tiny_groove_dataset): 12}
    assert summary["train_sequences"] == 24  # its 12 train windows twice; validation stays --dataset's
    assert summary["validation_sequences"] == 12


def test_extra_train_errors_name_the_folder_and_the_fix(train_script, tiny_groove_dataset, tmp_path):
    tokenizer = DrumTokenizer()
    with pytest.raises(FileNotFoundError, match="no groove build at .*build_groove.py"):
        train_script.extra_train_split(str(tmp_path / "missing"), tokenizer)
    other = tmp_path / "other"
    DatasetDict({"train": Dataset.from_dict({"input_ids": [[1, 2]]})}).save_to_disk(str(other))
    DrumTokenizer(num_velocity_bins=16).save_pretrained(str(other / "tokenizer"))
    with pytest.raises(ValueError, match="another vocabulary"):
        train_script.extra_train_split(str(other), tokenizer)
    DatasetDict({"validation": Dataset.from_dict({"input_ids": [[1, 2]]})}).save_to_disk(str(tmp_path / "nv"))
    with pytest.raises(ValueError, match=r"has no train split \(it has \['validation'\]\)"):
        train_script.extra_train_split(str(tmp_path / "nv"), tokenizer)


def test_sequences_stop_at_a_meter_change_and_drop_hits_past_a_window(train_script, fixtures_dir):
    """Songs change meter: a window in 3/4 is not chained to one in 4/4, and hits past a window's bars (its ticks
    counted in the first bar's meter) are dropped rather than running into the next part."""
    tokenizer = DrumTokenizer()
    config = train_script.GrooveConfig.from_tokenizer(tokenizer)
    midi = load_midi(fixtures_dir / "groove" / "1_funk_80_beat_4-4.mid")
    windows = bar_windows(midi_downbeats(midi), midi.get_end_time(), 4, 4)[:3]
    rows = [{"input_ids": tokenizer.encode_midi(midi, style="funk", start_time=start, end_time=end),
             "source_file": "a.mid", "copy": 0, "window_start_bar": first, "window_end_bar": first + bars,
             "bpm": 80.0, "time_signature": signature}
            for (start, end, first, bars), signature in zip(windows, ["4/4", "4/4", "3/4"])]
    sequences = train_script.build_sequences(Dataset.from_list(rows), tokenizer, config, sequence_bars=12)
    hits = lambda words: int(((words[:, 1] >= 24) & (words[:, 1] < 33)).sum())
    window_hits = [hits(tokenizer.ids_to_words(row["input_ids"])) for row in rows]
    assert hits(sequences[0]["words"]) == window_hits[0] + window_hits[1]  # stops before the 3/4 window
    # the 3/4 window holds 4/4 bars: only hits inside 4 bars of 3 beats are kept
    assert 0 < hits(sequences[2]["words"]) < window_hits[2]
    assert (tokenizer.word_ticks(sequences[2]["words"][2:-1]) < 4 * 3 * 192).all()
