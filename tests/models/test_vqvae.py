"""MelVQVAEModel / MelVectorQuantizer: shapes, save/load (safetensors), EMA codebook, dead codes, a real Trainer run."""

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModel, Trainer, TrainingArguments

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor
from drum_accomp.models.vqvae import (
    MelVectorQuantizer,
    MelVQVAEConfig,
    MelVQVAEModel,
    MelVQVAEOutput,
    code_statistics,
)
from drum_accomp.render import render_midi
from drum_accomp.training import load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
NUM_MELS = 80


@pytest.fixture
def tiny_config():
    return MelVQVAEConfig(num_mels=NUM_MELS, hidden_size=16, num_res_blocks=1, downsample_factor=4,
                          codebook_size=8, codebook_dim=8)


@pytest.fixture
def tiny_model(tiny_config):
    torch.manual_seed(0)
    return MelVQVAEModel(tiny_config)


@pytest.fixture(scope="module")
def real_mels(groove_midi_path):
    """Four 256-frame log-mel windows of the GMD funk fixture rendered with FluidSynth, ``(4, 256, 80)``."""
    audio = render_midi(groove_midi_path, duration=8.0)
    mels = BeatAlignedMelFeatureExtractor().mel_spectrogram(audio)  # (801, 80)
    windows = [mels[start:start + 256] for start in (0, 180, 360, 540)]
    return torch.from_numpy(np.stack(windows))


def test_config_derived_values_and_shipped_configs_load():
    config = MelVQVAEConfig()
    assert config.frames_per_code == 4 and config.code_rate == 25.0
    for name in ("vqvae_backing.json", "vqvae_drums.json"):
        settings = load_settings(REPO_ROOT / "configs" / name)  # {"model": MelVQVAEConfig fields, "training": ...}
        shipped = MelVQVAEConfig(**settings["model"])
        assert shipped.num_mels == 80 and shipped.frames_per_code == 4
        assert settings["data"]["crop_frames"] % shipped.downsample_factor == 0
    with pytest.raises(ValueError, match="power of 2"):
        MelVQVAEConfig(downsample_factor=3)


def test_forward_encode_decode_shapes(tiny_model, real_mels):
    output = tiny_model(real_mels)
    assert isinstance(output, MelVQVAEOutput)
    assert output.reconstruction.shape == real_mels.shape
    assert output.codes.shape == (4, 64) and output.codes.dtype == torch.long
    assert torch.isfinite(output.loss) and output.loss > 0
    assert 1.0 <= output.perplexity <= 8.0 and 0.0 < output.codebook_usage <= 1.0
    tiny_model.eval()
    codes = tiny_model.encode(real_mels)
    assert codes.shape == (4, 256 // 4) and 0 <= codes.min() and codes.max() < 8
    assert tiny_model.decode(codes).shape == (4, 256, NUM_MELS)


def test_mel_l1_is_the_per_window_mean_absolute_error_in_log_mel_units(tiny_model, real_mels):
    tiny_model.eval()
    output = tiny_model(real_mels)
    expected = (output.reconstruction - real_mels).abs().mean(dim=(1, 2))
    assert output.mel_l1.shape == (4,)
    torch.testing.assert_close(output.mel_l1, expected, rtol=1e-4, atol=1e-5)


def test_code_statistics_count_every_code_of_the_set():
    perplexity, usage = code_statistics(torch.tensor([[0, 1], [2, 3]]), codebook_size=8)
    assert usage == 0.5
    torch.testing.assert_close(perplexity, torch.tensor(4.0))
    perplexity, usage = code_statistics(torch.zeros(3, 5, dtype=torch.long), codebook_size=8)
    assert usage == 1 / 8 and torch.isclose(perplexity, torch.tensor(1.0))


def test_padding_is_left_out_of_the_reconstruction_loss(tiny_model, real_mels):
    tiny_model.eval()
    mask = torch.ones(real_mels.shape[:2], dtype=torch.long)
    mask[:, 200:] = 0
    corrupted = real_mels.clone()
    corrupted[:, 200:] = 0.0  # garbage in the padding must not count
    # the receptive field crosses frame 200, so compare against the same masked input, not the unmasked one
    first = tiny_model(real_mels, attention_mask=mask).reconstruction_loss
    second = tiny_model(corrupted, attention_mask=mask).reconstruction_loss
    torch.testing.assert_close(first, second)


def test_eval_mode_is_deterministic_and_leaves_the_codebook_alone(tiny_model, real_mels):
    tiny_model.eval()
    before = {name: buffer.clone() for name, buffer in tiny_model.quantizer.named_buffers()}
    first, second = tiny_model(real_mels), tiny_model(real_mels)
    assert torch.equal(first.codes, second.codes)
    assert torch.equal(first.reconstruction, second.reconstruction)
    for name, buffer in tiny_model.quantizer.named_buffers():
        assert torch.equal(buffer, before[name]), name


def test_ema_updates_the_codebook_only_in_train_mode(tiny_model, real_mels):
    codebook = tiny_model.quantizer.codebook.clone()
    tiny_model.train()(real_mels)
    assert not torch.equal(tiny_model.quantizer.codebook, codebook)
    assert tiny_model.quantizer.cluster_size.sum() > 0
    assert not tiny_model.quantizer.codebook.requires_grad  # learned by EMA, not by gradient


def test_gradient_reaches_the_encoder_through_the_straight_through_quantizer(tiny_model, real_mels):
    tiny_model.train()
    output = tiny_model(real_mels)
    output.reconstruction_loss.backward()  # no commitment term: only the straight-through path can reach it
    first_encoder_conv = tiny_model.encoder.layers[0]
    assert first_encoder_conv.weight.grad is not None and first_encoder_conv.weight.grad.abs().sum() > 0


def test_dead_code_is_restarted_from_an_encoder_output(tiny_config):
    torch.manual_seed(0)
    quantizer = MelVectorQuantizer(tiny_config).train()
    hidden_states = torch.randn(2, 16, tiny_config.codebook_dim)
    with torch.no_grad():
        quantizer.codebook.copy_(torch.randn_like(quantizer.codebook))
        quantizer.codebook[3] = 1e3  # far from every vector: never chosen
        quantizer.cluster_size.fill_(100.0)
        quantizer.cluster_size[3] = 0.0  # and unused: dead
        quantizer.embedding_sum.copy_(quantizer.codebook * 100.0)
        quantizer.embedding_sum[3] = 0.0
    quantizer(hidden_states)
    restarted = quantizer.codebook[3]
    vectors = hidden_states.reshape(-1, tiny_config.codebook_dim)
    assert torch.isclose(vectors, restarted[None]).all(dim=1).any()
    assert quantizer.cluster_size[3] == tiny_config.dead_code_threshold
    # live codes stay live
    assert (quantizer.cluster_size >= tiny_config.dead_code_threshold).all()


def test_save_and_load_keep_weights_and_codebook(tmp_path, tiny_model, real_mels):
    tiny_model.train()(real_mels)  # move the codebook away from its initial state
    tiny_model.eval()
    tiny_model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    assert AutoConfig.from_pretrained(tmp_path).model_type == "drum_accomp_mel_vqvae"
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, MelVQVAEModel)
    expected = tiny_model.state_dict()
    assert {"quantizer.codebook", "quantizer.cluster_size", "quantizer.embedding_sum"} <= set(expected)
    for name, tensor in loaded.state_dict().items():
        assert torch.equal(tensor, expected[name]), name
    assert torch.equal(loaded.encode(real_mels), tiny_model.encode(real_mels))
    torch.testing.assert_close(loaded(real_mels).reconstruction, tiny_model(real_mels).reconstruction)


def test_bad_inputs_raise_clear_errors(tiny_model):
    with pytest.raises(ValueError, match="pad_to_multiple_of=4"):
        tiny_model(torch.zeros(1, 30, NUM_MELS))
    with pytest.raises(ValueError, match="pad_to_multiple_of"):
        tiny_model.encode(torch.zeros(1, 30, NUM_MELS))
    with pytest.raises(ValueError, match="80 mel bands"):
        tiny_model(torch.zeros(1, 32, 64))
    with pytest.raises(ValueError, match="codes must be in"):
        tiny_model.decode(torch.full((1, 8), 8))


class MelWindows(torch.utils.data.Dataset):
    def __init__(self, mels: torch.Tensor):
        self.mels = mels

    def __len__(self) -> int:
        return len(self.mels)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"mel_features": self.mels[index]}


def test_two_step_trainer_run_on_real_mels_gives_a_finite_loss(tmp_path, tiny_model, real_mels):
    arguments = TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=2,
                                  report_to="none", use_cpu=True, save_strategy="no", logging_steps=1)
    trainer = Trainer(model=tiny_model, args=arguments, train_dataset=MelWindows(real_mels))
    result = trainer.train()
    assert result.global_step == 2
    assert np.isfinite(result.training_loss)
    assert tiny_model.quantizer.cluster_size.sum() > 0  # the EMA codebook learned during training
