"""datasets_scripts/build_vocoder_data.py and scripts/train_vocoder.py on real GMD MIDI rendered with FluidSynth.

The three GMD fixtures become a tiny GMD-style folder (2 train files, 1 validation file); the build renders them
into 2-second segments; ``main()`` trains a tiny vocoder for 2 real steps, resumes to a 3rd, exports a model that
``AutoModel`` loads, and trains on a drum VQ-VAE's decoded mels with ``--vqvae``.
"""

import json
import shutil
from pathlib import Path

import datasets
import numpy as np
import pytest
from helpers import load_script
import torch
from transformers import AutoModel

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from drum_accomp.models.vocoder import DrumVocoder
from drum_accomp.models.vqvae import MelVQVAEConfig, MelVQVAEModel

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_SPLITS = {"1_funk_80_beat_4-4.mid": "train", "100_neworleans-secondline_94_beat_4-4.mid": "train",
                  "4_jazz_120_beat_3-4.mid": "validation"}


@pytest.fixture(scope="module")
def build_vocoder_data():
    return load_script("build_vocoder_data", "datasets_scripts")


@pytest.fixture(scope="module")
def train_vocoder():
    return load_script("train_vocoder")


@pytest.fixture(scope="module")
def gmd_folder(tmp_path_factory, fixtures_dir):
    folder = tmp_path_factory.mktemp("gmd")
    rows = ["drummer,session,id,style,bpm,beat_type,time_signature,midi_filename,duration,split"]
    for index, (name, split) in enumerate(FIXTURE_SPLITS.items()):
        shutil.copy(fixtures_dir / "groove" / name, folder / name)
        rows.append(f"drummer1,drummer1/session1,drummer1/session1/{index},funk,100,beat,4-4,{name},30.0,{split}")
    (folder / "info.csv").write_text("\n".join(rows) + "\n")
    return folder


@pytest.fixture(scope="module")
def vocoder_data(build_vocoder_data, gmd_folder, tmp_path_factory):
    output = tmp_path_factory.mktemp("built") / "vocoder"
    build_vocoder_data.main(["--groove-dir", str(gmd_folder), "--output", str(output), "--segment-seconds", "2.0",
                             "--segments-per-file", "3", "--validation-segments-per-file", "2"])
    return output


@pytest.fixture
def tiny_config(tmp_path):
    settings = json.loads((REPO_ROOT / "configs" / "vocoder.json").read_text())
    settings["model"].update(hidden_size=16, intermediate_size=32, num_layers=2, n_fft=320,
                             stft_loss_fft_sizes=[128, 256])
    settings["data"]["crop_frames"] = 32
    settings["training"].update(per_device_train_batch_size=2, per_device_eval_batch_size=2, warmup_steps=0,
                                logging_steps=1)
    path = tmp_path / "vocoder.json"
    path.write_text(json.dumps(settings))
    return path


def test_build_writes_segments_whose_mels_match_their_audio(vocoder_data):
    dataset = datasets.load_from_disk(str(vocoder_data))
    assert set(dataset) == {"train", "validation"}
    assert len(dataset["train"]) == 6 and len(dataset["validation"]) == 2
    row = dataset["train"].with_format("numpy")[0]
    assert len(row["audio"]) == 32000 and row["mel"].shape == (200, 80)  # frames * 160 == samples
    audio = row["audio"].astype(np.float32) / 32768.0
    assert np.abs(audio).max() > 0.01
    expected = BeatAlignedMelFeatureExtractor().mel_spectrogram(audio)[:-1]
    np.testing.assert_allclose(row["mel"].astype(np.float32), expected, atol=0.02)  # float16 storage
    assert row["soundfont"] in ("fluidr3_gm", "timgm6mb")
    manifest = json.loads((vocoder_data / "manifest.json").read_text())
    assert manifest["stats"]["num_rows"] == {"train": 6, "validation": 2}


def test_build_choices_are_seeded_by_the_file_not_the_order(build_vocoder_data, gmd_folder):
    from drum_accomp.data.sources import read_gmd_folder

    args = build_vocoder_data.parse_args(["--groove-dir", str(gmd_folder), "--segment-seconds", "2.0"])
    task = build_vocoder_data.file_tasks(read_gmd_folder(gmd_folder), args, "train", 16000)[1]
    first, second = build_vocoder_data.make_file_rows(task), build_vocoder_data.make_file_rows(task)
    assert [row["start_s"] for row in first["rows"]] == [row["start_s"] for row in second["rows"]]
    np.testing.assert_array_equal(first["rows"][0]["audio"], second["rows"][0]["audio"])
    with pytest.raises(ValueError, match="segment-seconds"):
        build_vocoder_data.parse_args(["--segment-seconds", "0.3"])  # 30 frames: not whole codes of 4


def test_two_step_training_resumes_and_exports_a_loadable_model(train_vocoder, vocoder_data, tiny_config, tmp_path):
    torch.set_num_threads(1)
    common = ["--config", str(tiny_config), "--data", str(vocoder_data), "--output_dir", str(tmp_path / "run"),
              "--eval_steps", "1", "--torch_threads", "1"]
    summary = train_vocoder.main(common + ["--max_steps", "2"])
    assert summary["global_step"] == 2 and np.isfinite(summary["validation"]["eval_loss"])
    assert (tmp_path / "run" / "checkpoint-2").is_dir()

    resumed = train_vocoder.main(common + ["--max_steps", "3", "--resume", "--export_dir", str(tmp_path / "export")])
    assert resumed["global_step"] == 3
    model = AutoModel.from_pretrained(tmp_path / "export").eval()
    assert isinstance(model, DrumVocoder) and model.config.hidden_size == 16
    assert model.generate(torch.zeros(10, 80) - 5.0).shape == (1600,)
    assert json.loads((tmp_path / "export" / "training_summary.json").read_text())["global_step"] == 3


def test_training_on_vqvae_decoded_mels(train_vocoder, vocoder_data, tiny_config, tmp_path):
    torch.manual_seed(0)
    MelVQVAEModel(MelVQVAEConfig(hidden_size=16, num_res_blocks=1, codebook_size=8, codebook_dim=8)) \
        .save_pretrained(tmp_path / "vqvae")
    summary = train_vocoder.main(["--config", str(tiny_config), "--data", str(vocoder_data), "--output_dir",
                                  str(tmp_path / "run"), "--max_steps", "1", "--eval_steps", "1",
                                  "--torch_threads", "1", "--vqvae", str(tmp_path / "vqvae")])
    assert summary["global_step"] == 1 and summary["vqvae"] == str(tmp_path / "vqvae")
    assert np.isfinite(summary["validation"]["eval_loss"])
