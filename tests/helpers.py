"""Helpers shared by tests (importable because pytest puts this folder, the conftest's, on sys.path)."""

import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str, folder: str = "scripts", module_name: str | None = None):
    """Import ``<repo>/<folder>/<name>.py`` as a module (scripts are not a package), registered as ``module_name``
    (default ``name``; give another when ``name`` is also an installable package's, e.g. ``evaluate``)."""
    spec = importlib.util.spec_from_file_location(module_name or name, REPO_ROOT / folder / f"{name}.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script  # dataclasses look their module up while the script is executed
    spec.loader.exec_module(script)
    return script


def tiny_system(seed: int = 0):
    """A ``DrumAccompanimentSystem`` of tiny, randomly initialised parts (fast; for plumbing tests)."""
    import torch

    from drum_accomp.models.accompaniment import DrumAccompanimentConfig
    from drum_accomp.models.beat_tracker import DrumBeatTrackerConfig
    from drum_accomp.models.system import DrumAccompanimentSystem, DrumAccompanimentSystemConfig
    from drum_accomp.models.vocoder import DrumVocoderConfig
    from drum_accomp.models.vqvae import MelVQVAEConfig

    torch.manual_seed(seed)
    vqvae = {"hidden_size": 16, "num_res_blocks": 1, "downsample_factor": 4, "codebook_size": 8, "codebook_dim": 8}
    config = DrumAccompanimentSystemConfig(
        backing_vqvae=MelVQVAEConfig(**vqvae),
        drums_vqvae=MelVQVAEConfig(**vqvae),
        transformer=DrumAccompanimentConfig(backing_codebook_size=8, drum_codebook_size=8, hidden_size=32,
                                            encoder_layers=1, decoder_layers=1, num_attention_heads=4,
                                            intermediate_size=64, max_steps=16, codes_per_step=2, dropout=0.0),
        vocoder=DrumVocoderConfig(hidden_size=16, intermediate_size=32, num_layers=2, n_fft=320,
                                  stft_loss_fft_sizes=[128, 256]),
        beat_tracker=DrumBeatTrackerConfig(hidden_size=8, num_blocks=3, dropout=0.0),
    )
    return DrumAccompanimentSystem(config).eval()


def save_tiny_checkpoint(folder):
    """A tiny system saved as a pipeline checkpoint (model + feature extractor in one folder); returns the folder."""
    from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor

    tiny_system().save_pretrained(folder)
    BeatAlignedMelFeatureExtractor().save_pretrained(folder)
    return folder
