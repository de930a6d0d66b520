"""The bundled defaults: pipeline("drum-accompaniment") and pipeline("drum-groove") with no model= load the
checkpoints installed inside the package, offline, and run on real audio / a real style; the demo runs."""

import json

import numpy as np
import soundfile
from helpers import REPO_ROOT
from transformers import pipeline

import drum_accomp  # noqa: F401
from drum_accomp import cli
from drum_accomp.midi import drum_hits
from drum_accomp.models.system import DrumAccompanimentSystem
from drum_accomp.pipelines import DEFAULT_ACCOMPANIMENT_MODEL, DEFAULT_GROOVE_MODEL

EXAMPLE = REPO_ROOT / "examples" / "slakh_Track00001"


def test_the_bundled_checkpoints_are_small_and_complete():
    for folder, files in ((DEFAULT_ACCOMPANIMENT_MODEL, {"config.json", "model.safetensors", "preprocessor_config.json",
                                                         "README.md"}),
                          (DEFAULT_GROOVE_MODEL, {"config.json", "model.safetensors", "tokenizer_config.json",
                                                  "README.md"})):
        assert files <= {path.name for path in folder.iterdir()}, folder
    assert (DEFAULT_ACCOMPANIMENT_MODEL / "model.safetensors").stat().st_size < 40e6


def test_drum_accompaniment_with_no_model_argument():
    audio, rate = soundfile.read(str(EXAMPLE / "backing_30s.flac"), dtype="float32")
    backing = audio[: 12 * rate]  # 12 s of the bundled Slakh backing
    drummer = pipeline("drum-accompaniment")
    assert isinstance(drummer.model, DrumAccompanimentSystem)
    result = drummer(backing, sampling_rate=rate, seed=0)
    assert result["drums"].shape == (len(backing),) and result["sampling_rate"] == rate
    assert len(drum_hits(result["midi"], require_drums=False)) > 0  # a trained model plays something
    assert np.abs(result["drums"]).max() > 0


def test_drum_groove_with_no_model_argument():
    result = pipeline("drum-groove")("rock", bars=2, bpm=110, seed=0)
    assert len(drum_hits(result["midi"])) > 0


def test_the_demo_writes_its_files_and_scores(tmp_path):
    assert cli.main(["demo", "--output-dir", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert {"drum_hit_f1", "rock_pattern_f1", "beat_f_measure"} <= set(report)
    assert {"drums.wav", "mix.wav", "drums.mid", "drums.png"} <= {path.name for path in tmp_path.iterdir()}
