"""DrumAccompanimentSystem: one checkpoint for all parts; configs checked against each other; generation covers
the input exactly; chunked convolution passes equal one pass; save/load round trip through AutoModel."""

import numpy as np
import pytest
import torch
from helpers import tiny_system
from transformers import AutoConfig, AutoModel

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.models.system import DrumAccompanimentSystem, DrumAccompanimentSystemConfig, apply_in_chunks
from drum_accomp.models.vqvae import MelVQVAEConfig


def backing_inputs(num_frames: int, batch_size: int = 2, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    mels = torch.randn(batch_size, num_frames, 80, generator=generator) - 5.0
    positions = torch.randint(0, 32, (batch_size, num_frames), generator=generator)
    return mels, positions


def test_generate_covers_the_input_frames_exactly_for_any_length():
    system = tiny_system()
    for num_frames in (64, 203):  # 203 is not a whole number of codes: padded, then cut back
        mels, positions = backing_inputs(num_frames)
        output = system.generate(mels, positions, do_sample=False)
        assert output.drum_waveforms.shape == (2, num_frames * 160)
        assert output.drum_mel.shape == (2, num_frames, 80)
        assert output.drum_codes.shape == output.backing_codes.shape == (2, -(-num_frames // 4))
        assert len(output.hits) == 2
        assert all((hits.times < num_frames / 100).all() for hits in output.hits)
        assert torch.isfinite(output.drum_waveforms).all() and output.drum_waveforms.abs().max() <= 1.0


def test_a_transformer_that_hears_the_mels_gets_the_backing_mels_and_must_share_their_size():
    system = tiny_system()
    config = system.config.to_dict()
    config["transformer"].update(backing_mel_bins=80, backing_hit_loss_weight=1.0, hit_source="backing")
    hearing = DrumAccompanimentSystem(DrumAccompanimentSystemConfig(**config)).eval()
    torch.nn.init.normal_(hearing.transformer.encoder.mel_projection.weight, std=0.1)
    mels, positions = backing_inputs(203)
    output = hearing.generate(mels, positions, do_sample=False, return_audio=False)
    assert output.hit_probabilities.shape == (2, 51, 9)
    torch.nn.init.zeros_(hearing.transformer.encoder.mel_projection.weight)  # deaf to the mels: other hits
    deaf = hearing.generate(mels, positions, do_sample=False, return_audio=False)
    assert not torch.allclose(output.hit_probabilities, deaf.hit_probabilities)
    config["transformer"]["backing_mel_bins"] = 64
    with pytest.raises(ValueError, match="transformer.backing_mel_bins"):
        DrumAccompanimentSystemConfig(**config)


def test_generate_without_audio_skips_the_vocoder_and_keeps_the_codes():
    system = tiny_system()
    mels, positions = backing_inputs(96)
    with_audio = system.generate(mels, positions, do_sample=True, seed=3)
    codes_only = system.generate(mels, positions, do_sample=True, seed=3, return_audio=False)
    assert codes_only.drum_waveforms is None
    assert torch.equal(with_audio.drum_codes, codes_only.drum_codes)


def test_chunked_passes_equal_one_pass():
    system = tiny_system()
    mels, _ = backing_inputs(800, batch_size=1)
    codes = system.backing_vqvae.encode(mels)
    chunked_codes = apply_in_chunks(system.backing_vqvae.encode, mels, 96, margin=64, output_per_input=1 / 4)
    assert torch.equal(codes, chunked_codes)
    drum_mel = system.drums_vqvae.decode(codes)
    assert torch.allclose(apply_in_chunks(system.drums_vqvae.decode, codes, 24, 16, 4), drum_mel, atol=1e-5)
    audio = system.vocoder.generate(drum_mel)
    chunked_audio = apply_in_chunks(system.vocoder.generate, drum_mel, 96, 64, 160)
    assert chunked_audio.shape == audio.shape
    assert torch.allclose(chunked_audio, audio, atol=1e-4)


def test_save_and_load_as_one_checkpoint_through_auto_classes(tmp_path):
    system = tiny_system()
    system.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    assert isinstance(AutoConfig.from_pretrained(tmp_path), DrumAccompanimentSystemConfig)
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, DrumAccompanimentSystem)
    for name, tensor in system.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name]), name
    mels, positions = backing_inputs(64)
    first = system.generate(mels, positions, do_sample=False)
    second = loaded.generate(mels, positions, do_sample=False)
    assert torch.equal(first.drum_codes, second.drum_codes)
    np.testing.assert_allclose(first.drum_waveforms.numpy(), second.drum_waveforms.numpy(), atol=1e-6)


def test_from_parts_keeps_each_parts_weights():
    parts = tiny_system(seed=1)
    system = DrumAccompanimentSystem.from_parts(parts.backing_vqvae, parts.drums_vqvae, parts.transformer,
                                                parts.vocoder, parts.beat_tracker)
    for name, tensor in parts.state_dict().items():
        assert torch.equal(tensor, system.state_dict()[name]), name


def test_parts_that_do_not_fit_are_refused_with_the_mismatch_named():
    config = tiny_system().config.to_dict()
    config["drums_vqvae"]["codebook_size"] = 16  # the transformer was trained on 8 drum codes
    with pytest.raises(ValueError, match="drums_vqvae.codebook_size=16"):
        DrumAccompanimentSystemConfig(**{key: config[key] for key in DrumAccompanimentSystemConfig.sub_configs})
    with pytest.raises(ValueError, match="downsample_factor=8"):
        DrumAccompanimentSystemConfig(backing_vqvae=MelVQVAEConfig(downsample_factor=8))
