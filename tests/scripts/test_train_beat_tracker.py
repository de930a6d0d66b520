"""scripts/train_beat_tracker.py: a real 2-step run on real mels with MIDI beat labels, resume, fp16 export.

The data is a tiny ``DatasetDict`` shaped like ``data/accompaniment`` (the multitrack fixture rendered apart into
backing and drums, cut into windows with the MIDI's beats and downbeats relative to each window), so the test
needs no built dataset.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from datasets import Array2D, Dataset, DatasetDict, Features, Sequence, Value
from helpers import load_script
from safetensors import safe_open
from transformers import AutoModel

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from drum_accomp.midi import load_midi, midi_beats, split_backing_and_drums
from drum_accomp.models.beat_tracker import DrumBeatTracker
from drum_accomp.render import render_midi

WINDOW_FRAMES = 512
FRAME_RATE = 100.0


@pytest.fixture(scope="module")
def train_script():
    return load_script("train_beat_tracker")


@pytest.fixture(scope="module")
def tiny_dataset_dir(tmp_path_factory, song_midi_path) -> Path:
    """4 train + 2 validation windows of 512 frames (5.12 s) of a real song, with its MIDI beats."""
    midi = load_midi(song_midi_path)
    backing_midi, drums_midi = split_backing_and_drums(midi)
    beats, downbeats = midi_beats(midi)
    extractor = BeatAlignedMelFeatureExtractor()
    mels = {column: extractor.mel_spectrogram(render_midi(part, duration=32.0)).astype(np.float16)
            for column, part in (("backing_mel", backing_midi), ("drums_mel", drums_midi))}
    features = Features({"backing_mel": Array2D((WINDOW_FRAMES, 80), "float16"),
                         "drums_mel": Array2D((WINDOW_FRAMES, 80), "float16"),
                         "beat_times": Sequence(Value("float32")), "downbeat_times": Sequence(Value("float32")),
                         "song_id": Value("string")})

    def windows(first: int, count: int, song_id: str) -> Dataset:
        rows = {name: [] for name in features}
        for index in range(first, first + count):
            start = index * WINDOW_FRAMES
            begin, end = start / FRAME_RATE, (start + WINDOW_FRAMES) / FRAME_RATE
            for column, mel in mels.items():
                rows[column].append(mel[start:start + WINDOW_FRAMES])
            rows["beat_times"].append(beats[(beats >= begin) & (beats < end)] - begin)
            rows["downbeat_times"].append(downbeats[(downbeats >= begin) & (downbeats < end)] - begin)
            rows["song_id"].append(song_id)
        return Dataset.from_dict(rows, features=features)

    path = tmp_path_factory.mktemp("tiny_beats")
    DatasetDict({"train": windows(0, 4, "multitrack/song.mid"),
                 "validation": windows(4, 2, "multitrack/other.mid")}).save_to_disk(str(path))
    return path


def tiny_config(path: Path) -> Path:
    settings = json.loads((Path(__file__).resolve().parents[2] / "configs" / "beat_tracker.json").read_text())
    settings["model"].update(hidden_size=8, num_blocks=3)
    settings["training"].update(per_device_train_batch_size=2, per_device_eval_batch_size=2, warmup_steps=0,
                                eval_steps=2, save_steps=2, logging_steps=1)
    path.write_text(json.dumps(settings))
    return path


def test_two_step_training_run_resumes_and_exports_fp16(tmp_path, train_script, tiny_dataset_dir):
    config = tiny_config(tmp_path / "config.json")
    common = ["--config", str(config), "--output_dir", str(tmp_path / "run"), "--dataset", str(tiny_dataset_dir),
              "--torch_threads", "1"]
    summary = train_script.main(common + ["--max_steps", "2"])
    assert summary["global_step"] == 2
    assert 0.0 <= summary["validation"]["eval_beat_f"] <= 1.0
    assert np.isfinite(summary["validation"]["eval_loss"])
    assert (tmp_path / "run" / "checkpoint-2").is_dir()

    export = tmp_path / "export"
    resumed = train_script.main(common + ["--max_steps", "4", "--resume", "--export_dir", str(export)])
    assert resumed["global_step"] == 4
    assert [row["step"] for row in resumed["log"] if "loss" in row][:2] == [1, 2]  # the log goes on from step 2

    model = AutoModel.from_pretrained(export)
    assert isinstance(model, DrumBeatTracker)
    with safe_open(export / "model.safetensors", framework="pt") as weights:
        assert all(str(weights.get_tensor(name).dtype) == "torch.float16" for name in weights.keys())
    summary_file = json.loads((export / "training_summary.json").read_text())
    assert summary_file["train_windows"] == 4 and summary_file["validation_windows"] == 2
