"""Fixtures of the groove model tests (``test_groove.py``, ``test_groove_consensus.py``): a tiny config on the real
tokenizer's vocabulary, a seeded model, and a real GMD prompt."""

import pytest
import torch

from drum_accomp import DrumTokenizer
from drum_accomp.models.groove import GrooveConfig, GrooveModel


@pytest.fixture(scope="module")
def tokenizer():
    return DrumTokenizer()


@pytest.fixture(scope="module")
def tiny_config(tokenizer):
    return GrooveConfig.from_tokenizer(tokenizer, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                       intermediate_size=64, field_intermediate_size=32, dropout=0.0)


@pytest.fixture(scope="module")
def model(tiny_config):
    torch.manual_seed(0)
    return GrooveModel(tiny_config).eval()


@pytest.fixture(scope="module")
def groove_words(tokenizer, groove_midi_path):
    """The first 120 words of a real GMD funk performance: ``(1, 120, 3)``, starting ``<bos> <STYLE=funk>``."""
    ids = tokenizer.encode_midi(groove_midi_path, style="funk")
    return torch.as_tensor(tokenizer.ids_to_words(ids)[:120])[None]
