"""DrumGenreClassifier: shapes, learning, save/load (safetensors), Auto classes, a real Trainer run, the checkpoint."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.evaluation.genre import evaluate_logits, gmd_genre_windows, midi_windows
from drum_accomp.genres import style_vocabulary
from drum_accomp.midi import load_midi
from drum_accomp.models.genre import DrumGenreClassifier, DrumGenreClassifierConfig, collate_words
from drum_accomp.tokenization_drum import DrumTokenizer

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT = REPO_ROOT / "checkpoints" / "genre_classifier"
LABELS = ["funk", "jazz", "rock"]


@pytest.fixture(scope="module")
def tokenizer():
    return DrumTokenizer()


def tiny_config(tokenizer, encoder_type="transformer", **kwargs):
    return DrumGenreClassifierConfig(
        field_sizes=list(tokenizer.field_sizes), hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64,
        encoder_type=encoder_type, max_words=256, dropout=0.0, id2label=dict(enumerate(LABELS)),
        label2id={name: index for index, name in enumerate(LABELS)}, **kwargs,
    )


@pytest.fixture(scope="module")
def real_batch(tokenizer, groove_midi_path):
    """The first windows of the real GMD fixture, labelled funk."""
    examples = midi_windows(load_midi(groove_midi_path), tokenizer, tiny_config(tokenizer))[:4]
    for example in examples:
        example["labels"] = 0
    return collate_words(examples)


def test_windows_hold_no_style_token_and_positions_in_the_bar(tokenizer, groove_midi_path):
    config = tiny_config(tokenizer)
    examples = midi_windows(load_midi(groove_midi_path), tokenizer, config)
    assert len(examples) > 5
    for example in examples:
        assert example["input_words"].min() >= tokenizer.num_special_tokens  # no <bos>, no <STYLE=funk>
        assert 0 <= example["beat_positions"].min() and example["beat_positions"].max() < config.num_beat_positions
        assert example["end"] > example["start"]


@pytest.mark.parametrize("encoder_type", ["transformer", "conv"])
def test_forward_shapes_and_padding_invariance(tokenizer, real_batch, encoder_type):
    torch.manual_seed(0)
    model = DrumGenreClassifier(tiny_config(tokenizer, encoder_type)).eval()
    output = model(**real_batch)
    assert output.logits.shape == (4, len(LABELS))
    assert output.pooled.shape == (4, 32)
    assert output.loss is not None and output.loss.ndim == 0
    assert next(iter(output.keys())) == "loss"
    # extra padding must not change a window's logits
    single = {key: value[:1] for key, value in real_batch.items()}
    length = int(single["attention_mask"].sum())
    trimmed = {key: value[:, :length] if value.ndim > 1 else value for key, value in single.items()}
    torch.testing.assert_close(model(**trimmed).logits, model(**single).logits, atol=1e-5, rtol=1e-5)


def test_loss_decreases_over_a_few_steps(tokenizer, real_batch):
    torch.manual_seed(0)
    model = DrumGenreClassifier(tiny_config(tokenizer))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    labels = torch.tensor([0, 1, 2, 0])
    losses = []
    for _ in range(10):
        loss = model(**{**real_batch, "labels": labels}).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.7


def test_save_load_equality_with_safetensors_and_auto_classes(tokenizer, real_batch, tmp_path):
    torch.manual_seed(0)
    model = DrumGenreClassifier(tiny_config(tokenizer, pooling="mean")).eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file() and not list(tmp_path.glob("*.bin"))
    for loader in (DrumGenreClassifier, AutoModel, AutoModelForSequenceClassification):
        loaded = loader.from_pretrained(tmp_path).eval()
        assert isinstance(loaded, DrumGenreClassifier)
        torch.testing.assert_close(loaded(**real_batch).logits, model(**real_batch).logits)
    config = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(config, DrumGenreClassifierConfig) and config.id2label[2] == "rock"


def test_predict_returns_one_of_the_labels(tokenizer, groove_midi_path):
    model = DrumGenreClassifier(tiny_config(tokenizer))
    assert model.predict(groove_midi_path, tokenizer) in LABELS
    assert model.window_logits(groove_midi_path, tokenizer).shape[1] == len(LABELS)


def test_file_level_accuracy_averages_window_logits():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 5.0]])
    evaluation = evaluate_logits(logits, np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]), ["a", "b"])
    assert evaluation.window_accuracy == 0.75
    assert evaluation.file_accuracy == 1.0  # file 0: mean (1.0, 0.5) -> a
    np.testing.assert_array_equal(evaluation.confusion, [[1, 0], [0, 1]])


def test_two_step_trainer_run_on_real_gmd_windows(shared_data, tmp_path):
    spec = importlib.util.spec_from_file_location("train_genre_classifier",
                                                  REPO_ROOT / "scripts" / "train_genre_classifier.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script  # dataclasses look their module up while the script is executed
    spec.loader.exec_module(script)
    args = script.ScriptArguments(data_dir=str(shared_data / "groove"), output_dir=str(tmp_path / "run"),
                                  export_dir=str(tmp_path / "export"), max_files=5, max_steps=2)
    result = script.main(args)
    assert result["global_step"] == 2
    assert np.isfinite(result["metrics"]["eval_loss"])
    model = DrumGenreClassifier.from_pretrained(tmp_path / "export")
    assert set(model.config.label2id) <= set(style_vocabulary())


def test_gmd_windows_use_grouped_genre_labels(shared_data, tokenizer):
    data = gmd_genre_windows(shared_data / "groove", tiny_config(tokenizer), tokenizer, max_files=8)
    assert data.examples["train"] and data.examples["validation"]
    assert set(data.labels) <= set(style_vocabulary())
    assert "afrocuban" not in data.labels  # grouped into latin by genres.json


@pytest.mark.skipif(not (CHECKPOINT / "model.safetensors").is_file(), reason="no committed genre checkpoint")
def test_committed_checkpoint_loads_and_predicts_a_valid_genre(groove_midi_path):
    model = AutoModel.from_pretrained(CHECKPOINT)
    assert isinstance(model, DrumGenreClassifier)
    assert model.predict(groove_midi_path) in model.config.label2id
    size = sum(path.stat().st_size for path in CHECKPOINT.iterdir())
    assert size < 20 * 2**20


def test_tempo_input_is_binned_on_a_log_scale_and_required_when_configured(tokenizer, groove_midi_path):
    config = tiny_config(tokenizer, num_tempo_bins=24)
    assert config.tempo_bin(40) == 0 and config.tempo_bin(80) == 8 and config.tempo_bin(160) == 16
    assert config.tempo_bin(1000) == 23 and config.tempo_bin(10) == 0
    real_batch = collate_words(midi_windows(load_midi(groove_midi_path), tokenizer, config)[:4])
    assert real_batch["tempo_bins"].tolist() == [8] * 4  # the fixture is at 80 BPM
    model = DrumGenreClassifier(config)
    assert model(**real_batch).logits.shape == (4, len(LABELS))
    with pytest.raises(ValueError, match="tempo_bins"):
        model(real_batch["input_words"], real_batch["beat_positions"])


def test_tagger_for_dataset_builds_names_a_known_genre(song_midi_path):
    from drum_accomp.genres import style_vocabulary
    from drum_accomp.midi import load_midi, split_backing_and_drums
    from drum_accomp.models.genre.tagging import DEFAULT_CHECKPOINT, tag_drums

    if not (DEFAULT_CHECKPOINT / "model.safetensors").is_file():
        pytest.skip("no committed genre classifier checkpoint")
    _, drums = split_backing_and_drums(load_midi(song_midi_path))
    assert tag_drums(drums) in style_vocabulary()
