"""DrumVocoder and Griffin-Lim: shapes, the mel definition, save/load, determinism, gradients, bad input, and that
Griffin-Lim of a real drum mel keeps the drums' onsets."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModel

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from drum_accomp.models.vocoder import (
    DrumVocoder,
    DrumVocoderConfig,
    DrumVocoderMelSpectrogram,
    DrumVocoderOutput,
    griffin_lim,
    multi_resolution_stft_loss,
)
from drum_accomp.render import render_midi

REPO_ROOT = Path(__file__).resolve().parents[2]
HOP = 160


@pytest.fixture
def tiny_config():
    return DrumVocoderConfig(hidden_size=16, intermediate_size=32, num_layers=2, n_fft=320,
                             stft_loss_fft_sizes=[128, 256])


@pytest.fixture
def tiny_model(tiny_config):
    torch.manual_seed(0)
    return DrumVocoder(tiny_config)


@pytest.fixture(scope="module")
def real_drums(groove_midi_path):
    """4 s of the GMD funk fixture rendered with FluidSynth, and its log-mel with ``frames * 160 == samples``."""
    audio = render_midi(groove_midi_path, duration=6.0)[2 * 16000:]  # (64000,); the performance starts at ~2 s
    mel = BeatAlignedMelFeatureExtractor().mel_spectrogram(audio)[:-1]  # (400, 80)
    return audio, mel


@pytest.fixture(scope="module")
def evaluate_codec():
    """scripts/evaluate_codec.py as a module (scripts/ is not a package): its onset detector and scores."""
    spec = importlib.util.spec_from_file_location("evaluate_codec", REPO_ROOT / "scripts" / "evaluate_codec.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["evaluate_codec"] = module
    spec.loader.exec_module(module)
    return module


def test_config_derived_values_and_shipped_config_match_the_feature_extractor():
    config = DrumVocoderConfig()
    assert config.frame_rate == 100.0 and config.num_frequency_bins == 321
    assert config.log_floor_value == pytest.approx(np.log(1e-5))
    extractor = BeatAlignedMelFeatureExtractor(**config.feature_extractor_kwargs())
    assert extractor.to_dict() == BeatAlignedMelFeatureExtractor().to_dict()
    shipped = DrumVocoderConfig(**json.loads((REPO_ROOT / "configs" / "vocoder.json").read_text())["model"])
    assert shipped.num_mels == 80 and shipped.hop_length == 160
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        DrumVocoderConfig(kernel_size=4)
    with pytest.raises(ValueError, match="n_fft"):
        DrumVocoderConfig(n_fft=100)


def test_default_model_is_small():
    num_parameters = sum(parameter.numel() for parameter in DrumVocoder(DrumVocoderConfig()).parameters())
    assert num_parameters <= 5_000_000  # fast on a CPU; about 7 MB in float16


def test_loss_mel_is_exactly_the_feature_extractor_mel(tiny_config, real_drums):
    audio, _ = real_drums
    ours = DrumVocoderMelSpectrogram(tiny_config)(torch.from_numpy(audio)[None])[0].numpy()
    reference = BeatAlignedMelFeatureExtractor().mel_spectrogram(audio)
    np.testing.assert_allclose(ours, reference, atol=1e-4)


def test_forward_gives_one_hop_of_audio_per_frame_and_a_finite_loss(tiny_model, real_drums):
    audio, mel = real_drums
    mel_features = torch.from_numpy(mel[:100]).expand(2, -1, -1)  # (2, 100, 80)
    waveforms = torch.from_numpy(audio[:100 * HOP]).expand(2, -1)
    output = tiny_model(mel_features, waveforms=waveforms)
    assert isinstance(output, DrumVocoderOutput)
    assert output.waveforms.shape == (2, 100 * HOP)
    for value in (output.loss, output.mel_loss, output.stft_loss):
        assert torch.isfinite(value) and value > 0
    torch.testing.assert_close(output.loss, 45.0 * output.mel_loss + output.stft_loss)
    assert tiny_model(mel_features).loss is None


def test_gradients_reach_every_parameter(tiny_model, real_drums):
    audio, mel = real_drums
    output = tiny_model(torch.from_numpy(mel[None, :64]), waveforms=torch.from_numpy(audio[None, :64 * HOP]))
    output.loss.backward()
    for name, parameter in tiny_model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_multi_resolution_stft_distance_is_zero_only_for_identical_audio(real_drums):
    audio = torch.from_numpy(real_drums[0])[None]
    assert float(multi_resolution_stft_loss(audio, audio)) == pytest.approx(0.0, abs=1e-6)
    assert float(multi_resolution_stft_loss(0.5 * audio, audio)) > 0.1
    with pytest.raises(ValueError, match="differ in shape"):
        multi_resolution_stft_loss(audio[:, :100], audio)


def test_save_load_round_trip_gives_identical_audio(tiny_model, real_drums, tmp_path):
    tiny_model.eval()
    mel = torch.from_numpy(real_drums[1][:50])
    before = tiny_model.generate(mel)
    tiny_model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    assert AutoConfig.from_pretrained(tmp_path).model_type == "drum_accomp_vocoder"
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, DrumVocoder)
    torch.testing.assert_close(loaded.generate(mel), before)


def test_same_seed_same_model_and_inference_is_deterministic(tiny_config, real_drums):
    mel = torch.from_numpy(real_drums[1][:40])
    models = []
    for _ in range(2):
        torch.manual_seed(3)
        models.append(DrumVocoder(tiny_config).eval())
    first = models[0].generate(mel)
    torch.testing.assert_close(models[0].generate(mel), first)
    torch.testing.assert_close(models[1].generate(mel), first)


def test_generate_takes_one_item_or_a_batch_and_stays_in_range(tiny_model, real_drums):
    mel = torch.from_numpy(real_drums[1][:30])
    single = tiny_model.eval().generate(mel)
    batch = tiny_model.generate(torch.stack([mel, mel]))
    assert single.shape == (30 * HOP,) and batch.shape == (2, 30 * HOP)
    assert single.abs().max() <= 1.0
    torch.testing.assert_close(batch[1], single)


def test_bad_inputs_raise_clear_errors(tiny_model):
    with pytest.raises(ValueError, match="80"):
        tiny_model(torch.zeros(1, 10, 64))
    with pytest.raises(ValueError, match="batch_size, num_frames"):
        tiny_model(torch.zeros(10, 80))
    with pytest.raises(ValueError, match="0 frames"):
        tiny_model(torch.zeros(1, 0, 80))
    with pytest.raises(ValueError, match="NaN"):
        tiny_model(torch.full((1, 10, 80), float("nan")))
    with pytest.raises(ValueError, match="num_frames \\* hop_length"):
        tiny_model(torch.zeros(1, 10, 80), waveforms=torch.zeros(1, 10 * HOP + 1))


def test_griffin_lim_gives_finite_audio_of_one_hop_per_frame(real_drums):
    mel = real_drums[1][:60]
    single = griffin_lim(mel, n_iter=4)
    batch = griffin_lim(torch.from_numpy(np.stack([mel, mel])), n_iter=4)
    assert single.shape == (60 * HOP,) and single.dtype == np.float32 and np.isfinite(single).all()
    assert batch.shape == (2, 60 * HOP)
    np.testing.assert_array_equal(batch[0], single)  # seeded initial phase
    assert np.abs(single).max() > 0.01  # drums, not silence
    silence = griffin_lim(np.full((20, 80), np.log(1e-5), dtype=np.float32), n_iter=2)
    assert np.abs(silence).max() == 0.0  # log-floor frames are silence, not floor-level noise


def test_griffin_lim_rejects_bad_input():
    with pytest.raises(ValueError, match="num_frames"):
        griffin_lim(np.zeros((10, 64), dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        griffin_lim(np.full((10, 80), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="n_iter"):
        griffin_lim(np.zeros((10, 80), dtype=np.float32), n_iter=0)


def test_griffin_lim_of_a_real_drum_mel_keeps_its_onsets(real_drums, evaluate_codec):
    audio, mel = real_drums
    resynthesized = griffin_lim(mel, n_iter=32)
    scores = evaluate_codec.onset_scores([audio], [resynthesized], 16000)
    assert scores["all"].reference >= 5  # a real groove: many hits in 4 s
    assert scores["all"].f1 >= 0.9, scores["all"].to_dict()
    for band in ("low_<150Hz", "mid_150-2000Hz", "high_>5kHz"):
        assert scores[band].f1 >= 0.8, (band, scores[band].to_dict())
