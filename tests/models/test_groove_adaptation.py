"""Prompt adaptation (dynamic evaluation) of the groove model: a private copy fits the prompt, the model stays."""

import pytest
import torch

from drum_accomp.models.groove import GrooveConfig
from drum_accomp.models.groove.adaptation import adapt_to_prompt

torch.set_num_threads(1)
SETTINGS = dict(bpm=96.0, max_bars=1, max_new_words=200)


def prompt_loss(model, words):
    labels = words.clone()
    labels[:, :2] = -100
    with torch.no_grad():
        return model(words, labels=labels, bpm=96.0).loss.item()


def test_adaptation_lowers_the_prompt_loss_of_a_copy_and_leaves_the_model_alone(model, groove_words):
    before = {name: value.clone() for name, value in model.state_dict().items()}
    adapted = adapt_to_prompt(model, groove_words, steps=5, learning_rate=1e-3, bpm=96.0)
    assert adapted is not model and not adapted.training
    assert prompt_loss(adapted, groove_words) < prompt_loss(model, groove_words) - 0.05
    assert all(torch.equal(value, model.state_dict()[name]) for name, value in before.items())
    assert not any(parameter.requires_grad for parameter in adapted.parameters())
    assert adapt_to_prompt(model, groove_words, steps=0, learning_rate=1e-3) is model


def test_generate_adapts_under_inference_mode_deterministically_and_changes_the_continuation(model, groove_words):
    with torch.inference_mode():  # as pipelines call it
        adapted = model.generate(groove_words, do_sample=False, adaptation_steps=5, adaptation_learning_rate=1e-2,
                                 **SETTINGS)
        again = model.generate(groove_words, do_sample=False, adaptation_steps=5, adaptation_learning_rate=1e-2,
                               **SETTINGS)
    plain = model.generate(groove_words, do_sample=False, **SETTINGS)
    assert torch.equal(adapted.words, again.words)
    assert torch.equal(adapted.words[0, :adapted.prompt_length], groove_words[0])
    assert not torch.equal(adapted.words, plain.words)


def test_a_batch_is_adapted_row_by_row(model, groove_words):
    other = torch.cat([groove_words[:, :90], groove_words[:, 30:60]], dim=1)  # another prompt of the same length
    batch = torch.cat([groove_words, other])
    options = dict(do_sample=False, adaptation_steps=3, adaptation_learning_rate=1e-2, **SETTINGS)
    together = model.generate(batch, **options)
    for row in range(2):
        alone = model.generate(batch[row:row + 1], **options)
        length = alone.words.shape[1]
        assert torch.equal(together.words[row, :length], alone.words[0])
        assert together.num_generated[row] == alone.num_generated[0]


def test_consensus_and_the_config_default_adapt_too(tiny_config, groove_words):
    torch.manual_seed(0)
    from drum_accomp.models.groove import GrooveModel

    config = GrooveConfig(**{**tiny_config.to_dict(), "adaptation_steps": 4, "adaptation_learning_rate": 1e-2})
    adapting = GrooveModel(config).eval()
    plain = GrooveModel(tiny_config).eval()
    plain.load_state_dict(adapting.state_dict())
    options = dict(num_samples=4, seed=1, **SETTINGS)
    assert not torch.equal(adapting.generate_consensus(groove_words, **options).words,
                           plain.generate_consensus(groove_words, **options).words)
    assert torch.equal(adapting.generate_consensus(groove_words, adaptation_steps=0, **options).words,
                       plain.generate_consensus(groove_words, **options).words)
    # a new groove from a style alone has no prompt to adapt to: the same output either way
    styles = dict(style_ids=[5], seed=2, bpm=100.0, max_bars=1)
    assert torch.equal(adapting.generate(**styles).words, plain.generate(**styles).words)


@pytest.mark.parametrize("kwargs, message", [
    (dict(adaptation_steps=-1), "adaptation_steps >= 0"),
    (dict(adaptation_steps=2, adaptation_learning_rate=0.0), "adaptation_learning_rate > 0"),
])
def test_bad_adaptation_settings_raise_clear_errors(model, groove_words, kwargs, message):
    with pytest.raises(ValueError, match=message):
        model.generate(groove_words, **kwargs, **SETTINGS)
    with pytest.raises(ValueError, match="adaptation_steps >= 0"):
        GrooveConfig(adaptation_steps=-2)
    with pytest.raises(ValueError, match="one prompt"):
        adapt_to_prompt(model, groove_words.repeat(2, 1, 1), steps=1, learning_rate=1e-3)


def test_a_float16_model_adapts_in_float32_and_still_writes_valid_words(model, tiny_config, groove_words):
    import copy

    half = copy.deepcopy(model).half()
    adapted = adapt_to_prompt(half, groove_words, steps=5, learning_rate=1e-2, bpm=96.0)
    assert next(adapted.parameters()).dtype == torch.float32 and next(half.parameters()).dtype == torch.float16
    output = half.generate(groove_words, do_sample=False, adaptation_steps=5, adaptation_learning_rate=1e-2,
                           **SETTINGS)
    new = output.words[0, output.prompt_length:output.prompt_length + output.num_generated.item()]
    assert len(new) > 0 and (new[:, 0] >= tiny_config.num_special_tokens).all()
