"""GrooveModel: shapes, save/load, determinism, KV-cache equivalence, style-only generation, clear errors."""

import numpy as np
import pretty_midi
import pytest
import torch
from transformers import AutoConfig, AutoModel

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.models.groove import GrooveConfig, GrooveModel, lookback_words, word_ticks

torch.set_num_threads(1)


def test_forward_shapes_and_loss(model, tiny_config, groove_words):
    words = groove_words.repeat(2, 1, 1)
    output = model(words, labels=words, bpm=torch.tensor([80.0, float("nan")]), beats_per_bar=4)
    dt_size, instrument_size, velocity_size = tiny_config.field_sizes
    assert output.dt_logits.shape == (2, 120, dt_size)
    assert output.instrument_logits.shape == (2, 119, instrument_size)
    assert output.velocity_logits.shape == (2, 119, velocity_size)
    assert output.last_hidden_state.shape == (2, 120, tiny_config.hidden_size)
    assert output.field_losses.shape == (3,) and torch.isfinite(output.loss)


def test_padding_labels_are_ignored(model, groove_words):
    labels = groove_words.clone()
    padded = torch.cat([groove_words, torch.zeros(1, 10, 3, dtype=torch.long)], dim=1)
    padded_labels = torch.cat([labels, torch.full((1, 10, 3), -100)], dim=1)
    assert torch.allclose(model(groove_words, labels=labels).loss, model(padded, labels=padded_labels).loss, atol=1e-5)


def test_lookback_finds_the_word_played_after_the_same_hit_a_bar_earlier(tiny_config):
    s = tiny_config.num_special_tokens
    kick, snare = s + 0, s + 1
    bar = 4 * tiny_config.ticks_per_beat
    # bar 1: kick at 0, snare at 192; bar 2: kick at 768 (3 ticks late)
    words = torch.tensor([[[1, 1, 1], [5, 5, 5], [s + 0, kick, s + 20], [s + 192, snare, s + 25],
                           [s + 192, s + 9, s], [s + 192, s + 9, s], [s + 192 - 189, s + 9, s],
                           [s + 192 - 3 + 3, kick, s + 21]]])
    # positions: 0, 0, 0, 192, 384, 576, 579 (shift dt 3), 771 (kick)
    ticks = word_ticks(words, tiny_config)
    candidates, kinds = lookback_words(words, ticks, torch.tensor([bar]), 1, tiny_config)
    assert kinds[0, -1] == 1  # anchored on the bar-1 kick (3 ticks away)
    assert candidates[0, -1].tolist() == [s + 192, snare, s + 25]  # "a snare a beat later"
    assert (kinds[0, :4] == 0).all()  # nothing one bar back during the first bar


def test_save_load_roundtrip_gives_equal_outputs(model, groove_words, tmp_path):
    model.save_pretrained(tmp_path)
    assert AutoConfig.from_pretrained(tmp_path).model_type == "drum_accomp_groove"
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, GrooveModel)
    with torch.no_grad():
        torch.testing.assert_close(loaded(groove_words, bpm=80.0).dt_logits, model(groove_words, bpm=80.0).dt_logits)


def test_sampling_is_deterministic_under_a_seed(model, groove_words):
    kwargs = dict(max_bars=2, bpm=80.0, temperature=1.0, top_k=30, top_p=0.95)
    first = model.generate(groove_words, seed=7, **kwargs).words
    again = model.generate(groove_words, seed=7, **kwargs).words
    other = model.generate(groove_words, seed=8, **kwargs).words
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_kv_cache_generation_equals_no_cache_generation(model, groove_words):
    cached = model.generate(groove_words, do_sample=False, max_new_words=40, bpm=80.0)
    uncached = model.generate(groove_words, do_sample=False, max_new_words=40, bpm=80.0, use_cache=False)
    assert cached.num_generated.item() > 0
    assert torch.equal(cached.words, uncached.words)


def test_grid_greedy_picks_the_grid_line_holding_the_most_probability(model, tiny_config):
    special, eos = tiny_config.num_special_tokens, tiny_config.eos_token_id
    probabilities = torch.zeros(2, tiny_config.field_sizes[0])
    probabilities[:, eos] = 0.3  # the single most likely index...
    probabilities[:, special + 96] = 0.2
    for dt, p in ((44, 0.08), (46, 0.1), (48, 0.12), (50, 0.1), (52, 0.1)):  # ...but 0.5 sits around one 16th
        probabilities[:, special + dt] = p
    logits = probabilities.clamp(min=1e-9).log()
    allowed = model._field_masks()[0]
    assert model._pick(logits, allowed, False, 1.0, 0, 1.0, None).tolist() == [eos, eos]
    # "now" on the grid (tick 0) and 10 ticks late (tick 10: the line nearest to 10 + 44 .. 10 + 52 is still 48)
    picked = model._grid_argmax_dt(logits, allowed, torch.tensor([0, 10]), grid_ticks=48)
    assert picked.tolist() == [special + 48, special + 48]
    # a grid line that only the eos beats
    probabilities[:, special + 44:special + 53] = 0.01
    assert model._grid_argmax_dt(probabilities.clamp(min=1e-9).log(), allowed, torch.tensor([0, 0]), 48).tolist() \
        == [eos, eos]


def test_grid_greedy_generation_with_and_without_cache_agree(model, groove_words):
    first = model.generate(groove_words, do_sample=False, max_new_words=30, bpm=80.0, greedy_grid_ticks=48)
    again = model.generate(groove_words, do_sample=False, max_new_words=30, bpm=80.0, greedy_grid_ticks=48,
                           use_cache=False)
    assert first.num_generated.item() > 0
    assert torch.equal(first.words, again.words)


def test_generation_stops_at_max_bars_after_the_prompt(model, tiny_config, groove_words):
    bar = 4 * tiny_config.ticks_per_beat
    output = model.generate(groove_words, do_sample=True, seed=0, max_bars=1, bpm=80.0, max_new_words=500)
    prompt_end = word_ticks(groove_words, tiny_config)[0, -1]
    expected_end = (prompt_end // bar + 1) * bar + bar  # the bar line after the prompt, plus one bar
    assert output.end_ticks.item() == expected_end
    generated = output.words[0, output.prompt_length:output.prompt_length + output.num_generated.item()]
    ticks = word_ticks(output.words, tiny_config)[0, output.prompt_length:output.prompt_length + len(generated)]
    assert (ticks < expected_end).all()


def test_asked_for_bars_the_model_writes_them_even_when_it_would_end(tiny_config, groove_words):
    torch.manual_seed(0)
    eager_to_end = GrooveModel(tiny_config).eval()
    with torch.no_grad():
        eager_to_end.heads[0].bias[tiny_config.eos_token_id] = 50.0  # <eos> is by far the likeliest dt
    for do_sample in (False, True):
        settings = {"do_sample": do_sample, "seed": 0, "bpm": 80.0, "max_new_words": 500}
        ended = eager_to_end.generate(groove_words, max_bars=1, allow_eos=True, **settings)
        assert ended.num_generated.item() == 1 and ended.words[0, -1, 0] == tiny_config.eos_token_id
        assert eager_to_end.generate(groove_words, **settings).num_generated.item() == 1  # no bars asked: it may end
        filled = eager_to_end.generate(groove_words, max_bars=1, **settings)
        new = filled.words[0, filled.prompt_length:filled.prompt_length + filled.num_generated.item()]
        assert len(new) > 1 and not (new[:, 0] == tiny_config.eos_token_id).any()
        last_tick = word_ticks(filled.words, tiny_config)[0, filled.prompt_length + len(new) - 1]
        assert last_tick >= filled.end_ticks.item() - 4 * tiny_config.ticks_per_beat  # it went into the asked bar


def test_style_only_generation_starts_with_the_style_and_decodes_to_midi(model, tokenizer):
    styles = [tokenizer.style_id("funk"), tokenizer.style_id("jazz")]
    output = model.generate(style_ids=styles, max_bars=2, seed=0, bpm=100.0)
    assert output.prompt_length == 2
    assert output.words[:, 0, 0].tolist() == [tokenizer.bos_token_id] * 2
    assert output.words[:, 1, 0].tolist() == styles
    for row, name in enumerate(("funk", "jazz")):
        decoded = tokenizer.decode_tokens(tokenizer.words_to_ids(output.words[row].numpy()), bpm=100.0)
        assert decoded.style == name
        assert decoded.num_invalid_words == 0
        assert isinstance(decoded.midi, pretty_midi.PrettyMIDI)
        assert (decoded.hits.times < 2 * 4 * 60 / 100.0 + 1e-6).all()


def test_guidance_leaves_a_style_free_prompt_alone_and_keeps_cache_equivalence(model, tiny_config, groove_words):
    settings = {"do_sample": True, "seed": 4, "bpm": 90.0, "max_bars": 1, "max_new_words": 200}
    unknown = groove_words.clone()
    unknown[:, 1] = tiny_config.unknown_style_id  # conditional == unconditional: guidance changes nothing
    plain = model.generate(unknown, **settings)
    np.testing.assert_array_equal(model.generate(unknown, guidance_scale=3.0, **settings).words, plain.words)
    guided = model.generate(groove_words, guidance_scale=3.0, **settings)
    assert guided.words.shape[0] == 1 and guided.num_generated.item() > 0  # the unconditional half is not returned
    # the first greedy dt of a style-only prompt is the argmax of unconditional + scale * (conditional -
    # unconditional) dt logits, here not that of the conditional ones
    with torch.no_grad():
        conditional = model(model.style_prompt([9]), bpm=90.0).dt_logits[0, -1]
        unconditional = model(model.style_prompt([tiny_config.unknown_style_id]), bpm=90.0).dt_logits[0, -1]
    special = tiny_config.num_special_tokens  # no special dt (<eos> is suppressed with max_bars)
    mixed = unconditional + 10.0 * (conditional - unconditional)
    first = model.generate(style_ids=[9], guidance_scale=10.0, do_sample=False, greedy_grid_ticks=0, bpm=90.0,
                           max_bars=4, max_new_words=1)
    assert first.words[0, -1, 0].item() == special + mixed[special:].argmax().item()
    assert mixed[special:].argmax() != conditional[special:].argmax()
    no_cache = model.generate(groove_words, guidance_scale=3.0, use_cache=False, **settings)
    assert torch.equal(guided.words, no_cache.words)
    styles = model.generate(style_ids=[5, 6], guidance_scale=2.0, do_sample=False, max_bars=1, bpm=torch.tensor(
        [90.0, 120.0]), beats_per_bar=torch.tensor([4, 3]))  # per-row tempo and meter repeat for the other half
    assert styles.words.shape[0] == 2 and styles.words[:, 1, 0].tolist() == [5, 6]
    with pytest.raises(ValueError, match="guidance_scale must be > 0"):
        model.generate(groove_words, guidance_scale=0.0)


def test_style_only_grooves_default_to_the_config_style_settings_and_continuations_to_none(tiny_config,
                                                                                         groove_words):
    torch.manual_seed(0)
    model = GrooveModel(GrooveConfig(**{**tiny_config.to_dict(), "style_guidance_scale": 3.0,
                                        "style_temperature": 0.7})).eval()
    settings = {"do_sample": True, "seed": 1, "bpm": 100.0, "max_bars": 1, "max_new_words": 100}
    style_only = model.generate(style_ids=[9], **settings).words
    assert torch.equal(style_only, model.generate(style_ids=[9], guidance_scale=3.0, temperature=0.7, **settings).words)
    assert not torch.equal(style_only, model.generate(style_ids=[9], guidance_scale=1.0, temperature=1.0,
                                                      **settings).words)
    continued = model.generate(groove_words, **settings).words
    assert torch.equal(continued, model.generate(groove_words, guidance_scale=1.0, temperature=1.0, **settings).words)


@pytest.mark.parametrize("kwargs, message", [
    (dict(input_words=torch.zeros(1, 2, 4, dtype=torch.long)), "shape"),
    (dict(input_words=torch.zeros(1, 2, 3)), "integer"),
    (dict(input_words=torch.full((1, 2, 3), 999)), "outside"),
    (dict(), "either input_words"),
    (dict(style_ids=[2]), "STYLE token ids"),
    (dict(style_ids=[5], temperature=0.0), "temperature"),
    (dict(style_ids=[5], top_p=1.5), "top_p"),
    (dict(style_ids=[5], beats_per_bar=0), "beats_per_bar"),
])
def test_bad_generate_inputs_raise_clear_errors(model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        model.generate(**kwargs)


def test_prompt_ending_with_eos_and_bad_labels_raise(model, groove_words):
    with pytest.raises(ValueError, match="ends with <eos>"):
        model.generate(torch.cat([groove_words, torch.full((1, 1, 3), 2)], dim=1))
    with pytest.raises(ValueError, match="labels must have the shape"):
        model(groove_words, labels=groove_words[:, :-1])
    with pytest.raises(ValueError, match="field_sizes must give 3"):
        GrooveConfig(field_sizes=[217, 34])
