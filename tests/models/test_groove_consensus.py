"""Consensus decoding of the groove model: the hits most sampled takes play, on a grid, with their median timing."""

import numpy as np
import pytest
import torch

from drum_accomp.models.groove import word_ticks
from drum_accomp.models.groove.consensus import consensus_hits, hits_to_words, take_hits

torch.set_num_threads(1)
GRID = 48  # 16th notes at 192 ticks per beat


def take(*hits):
    """``(ticks, instruments, velocity bins)`` of ``(tick, instrument, bin)`` hits."""
    array = np.asarray(hits, dtype=np.int64).reshape(-1, 3)
    return array[:, 0], array[:, 1], array[:, 2]


def test_identical_takes_give_themselves_back():
    hits = take((0, 24, 30), (0, 25, 40), (96, 26, 35), (200, 24, 31))
    ticks, instruments, bins = consensus_hits([hits] * 5, GRID, 0.5)
    assert ticks.tolist() == [0, 0, 96, 200] and instruments.tolist() == [24, 25, 26, 24]
    assert bins.tolist() == [30, 40, 35, 31]


def test_a_hit_is_kept_only_when_enough_takes_play_it_at_their_median_tick_and_velocity():
    takes = [take((190, 24, 30), (96, 26, 35)), take((194, 24, 34)), take((200, 24, 38)), take((0, 25, 40))]
    ticks, instruments, bins = consensus_hits(takes, GRID, 0.5)  # kick near tick 192 in 3 of 4 takes; others in 1
    assert ticks.tolist() == [194] and instruments.tolist() == [24] and bins.tolist() == [34]
    ticks, instruments, _ = consensus_hits(takes, GRID, 0.25)  # one take in four is enough
    assert sorted(zip(ticks.tolist(), instruments.tolist())) == [(0, 25), (96, 26), (194, 24)]
    assert len(consensus_hits(takes, GRID, 1.0)[0]) == 0  # no hit is in every take


def test_two_hits_of_one_take_on_one_line_count_once():
    takes = [take((0, 24, 30), (10, 24, 32)), take((300, 25, 30))]  # a flam on the kick is one vote, not two
    assert len(consensus_hits(takes, GRID, 1.0)[0]) == 0


def test_hits_to_words_round_trips_through_take_hits_with_time_shifts(tiny_config):
    ticks = np.array([10, 10, 700, 701])  # 690 ticks of silence need time-shift words (max_dt 192)
    instruments = np.array([24, 25, 26, 24])
    bins = np.array([30, 31, 32, 33])
    words = hits_to_words(ticks, instruments, bins, tiny_config, start_tick=5)
    assert (words[:, 1] == tiny_config.shift_index).sum() == 3
    prompt = np.array([[tiny_config.bos_token_id] * 3, [5] * 3, [tiny_config.num_special_tokens + 5, 24, 30]])
    all_words = torch.as_tensor(np.concatenate([prompt, words]))
    recovered = take_hits(all_words, word_ticks(all_words[None], tiny_config)[0], start=3, config=tiny_config)
    assert [values.tolist() for values in recovered] == [ticks.tolist(), instruments.tolist(), bins.tolist()]


def test_generate_consensus_keeps_the_prompt_is_deterministic_and_stays_in_the_bars_asked(model, tiny_config,
                                                                                          groove_words):
    settings = dict(bpm=96.0, max_bars=1, num_samples=6, seed=3, max_new_words=200)
    first = model.generate_consensus(groove_words, **settings)
    again = model.generate_consensus(groove_words, **settings)
    assert torch.equal(first.words, again.words)
    assert torch.equal(first.words[0, :first.prompt_length], groove_words[0])
    new = first.words[0, first.prompt_length:first.prompt_length + first.num_generated.item()]
    ticks = word_ticks(first.words, tiny_config)[0, first.prompt_length:first.prompt_length + len(new)]
    assert (ticks < first.end_ticks.item()).all()
    assert (new[:, 0] != tiny_config.eos_token_id).all() and (new[:, 0] != tiny_config.pad_token_id).all()


def test_consensus_of_one_take_with_any_share_is_that_take(model, tiny_config, groove_words):
    sampled = model.generate(groove_words, do_sample=True, seed=5, bpm=96.0, max_bars=1, max_new_words=200)
    consensus = model.generate_consensus(groove_words, num_samples=1, seed=5, bpm=96.0, max_bars=1, max_new_words=200)
    expected = take_hits(sampled.words[0], word_ticks(sampled.words, tiny_config)[0], sampled.prompt_length,
                         tiny_config)
    lines = [((2 * tick + GRID) // (2 * GRID), instrument) for tick, instrument in zip(*expected[:2])]
    assert len(expected[0]) > 0 and len(set(lines)) == len(lines)  # (no instrument twice on one line: no merging)
    found = take_hits(consensus.words[0], word_ticks(consensus.words, tiny_config)[0], consensus.prompt_length,
                      tiny_config)
    assert [values.tolist() for values in found] == [values.tolist() for values in expected]


def test_style_only_batches_give_one_consensus_per_style(model, tokenizer):
    styles = [tokenizer.style_id("funk"), tokenizer.style_id("jazz")]
    output = model.generate_consensus(style_ids=styles, num_samples=3, seed=0, bpm=100.0, max_bars=1)
    assert output.words.shape[0] == 2 and output.words[:, 1, 0].tolist() == styles


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_samples=0), "num_samples must be >= 1"),
    (dict(min_share=0.0), "min_share must be in"),
    (dict(do_sample=False), "always samples"),
])
def test_bad_consensus_options_raise_clear_errors(model, groove_words, kwargs, message):
    with pytest.raises(ValueError, match=message):
        model.generate_consensus(groove_words, **{"seed": 0, "max_bars": 1, **kwargs})
