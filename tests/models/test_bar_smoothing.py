"""Bar smoothing of hit probabilities: bar coordinates from beat positions, the blend with the neighbouring bars,
and its use in ``DrumAccompanimentModel.generate`` (config default, per-call override, clear errors)."""

import numpy as np
import pytest
import torch

from drum_accomp.models.accompaniment import DrumAccompanimentConfig, DrumAccompanimentModel
from drum_accomp.models.accompaniment.bar_smoothing import bar_coordinates, bar_smoothed_probabilities

UNKNOWN = 32
CODES_PER_BAR = 12  # 4/4, 4 positions per beat: 16 positions over 12 codes


def bar_positions(num_bars: int, codes_per_bar: int = CODES_PER_BAR) -> np.ndarray:
    """Beat-position ids of ``num_bars`` bars of ``codes_per_bar`` codes (16 positions per bar)."""
    one_bar = np.floor(np.arange(codes_per_bar) * 16 / codes_per_bar).astype(np.int64)
    return np.tile(one_bar, num_bars)


def test_bar_coordinates_count_bars_and_follow_bar_length_changes():
    positions = np.concatenate([bar_positions(2), bar_positions(2, codes_per_bar=8)])  # a tempo change
    coordinates = bar_coordinates(positions, UNKNOWN)
    np.testing.assert_allclose(coordinates[[0, 12, 24, 32]], [0, 1, 2, 3])
    np.testing.assert_allclose(coordinates[6], 0.5)
    np.testing.assert_allclose(coordinates[28], 2.5)  # half of an 8-code bar
    np.testing.assert_allclose(coordinates[-1], 3 + 7 / 8)  # the last bar: the length of the bar before it


def test_bar_coordinates_skip_unknown_codes_and_place_a_pickup():
    positions = np.concatenate([[UNKNOWN] * 3, bar_positions(3)[6:], [UNKNOWN] * 2])  # half a bar of pickup
    coordinates = bar_coordinates(positions, UNKNOWN)
    assert np.isnan(coordinates[:3]).all() and np.isnan(coordinates[-2:]).all()
    np.testing.assert_allclose(coordinates[3], -0.5)  # the pickup counts back from the first bar start
    np.testing.assert_allclose(coordinates[9], 0.0)
    assert np.isnan(bar_coordinates(bar_positions(1), UNKNOWN)).all()  # one bar start: no bar length known
    assert np.isnan(bar_coordinates(np.full(20, UNKNOWN), UNKNOWN)).all()


def test_a_hit_missing_from_one_bar_is_filled_in_from_its_neighbours():
    num_bars = 6
    probabilities = np.zeros((num_bars * CODES_PER_BAR, 9))
    probabilities[::CODES_PER_BAR, 0] = 0.9  # a kick on every downbeat ...
    probabilities[3 * CODES_PER_BAR, 0] = 0.2  # ... weakly heard in bar 3
    smoothed = bar_smoothed_probabilities(probabilities, bar_positions(num_bars), UNKNOWN, weight=0.5, bars=2,
                                          tolerance=0)
    assert smoothed[3 * CODES_PER_BAR, 0] == pytest.approx(0.5 * 0.2 + 0.5 * 0.9)
    assert smoothed[2 * CODES_PER_BAR, 0] == pytest.approx(0.5 * 0.9 + 0.5 * (0.9 * 3 + 0.2) / 4)
    assert smoothed[1, 0] == 0 and (smoothed[:, 1:] == 0).all()  # nothing spreads to other places or classes
    # a periodic pattern is left as it is; weight 0 changes nothing
    periodic = np.tile(np.random.default_rng(0).random((CODES_PER_BAR, 9)), (num_bars, 1))
    np.testing.assert_allclose(bar_smoothed_probabilities(periodic, bar_positions(num_bars), UNKNOWN, 0.7, 4, 0),
                               periodic)
    np.testing.assert_array_equal(bar_smoothed_probabilities(probabilities, bar_positions(num_bars), UNKNOWN, 0.0,
                                                             4, 1), probabilities)


def test_the_tolerance_takes_the_largest_probability_next_to_the_matching_code():
    probabilities = np.zeros((4 * CODES_PER_BAR, 9))
    probabilities[1::CODES_PER_BAR, 2] = 0.8  # a bar start known a code late would still find it
    smoothed = bar_smoothed_probabilities(probabilities, bar_positions(4), UNKNOWN, weight=1.0, bars=1, tolerance=1)
    assert smoothed[CODES_PER_BAR, 2] == pytest.approx(0.8)  # one code before the hit of each neighbour
    strict = bar_smoothed_probabilities(probabilities, bar_positions(4), UNKNOWN, weight=1.0, bars=1, tolerance=0)
    assert strict[CODES_PER_BAR, 2] == 0.0


def backing_hit_model(**overrides) -> DrumAccompanimentModel:
    torch.manual_seed(0)
    config = DrumAccompanimentConfig(backing_codebook_size=16, drum_codebook_size=8, hidden_size=32,
                                     encoder_layers=1, decoder_layers=1, num_attention_heads=4, intermediate_size=64,
                                     max_steps=16, dropout=0.0, backing_hit_loss_weight=0.5, hit_source="backing",
                                     **overrides)
    return DrumAccompanimentModel(config).eval()


def test_generate_blends_the_bars_by_default_or_when_asked_and_refuses_bad_weights():
    model = backing_hit_model(hit_bar_smoothing=0.5)
    positions = torch.from_numpy(bar_positions(5)).repeat(2, 1)
    codes = torch.randint(0, 16, positions.shape, generator=torch.Generator().manual_seed(0))
    raw = model.generate(codes, positions, do_sample=False, return_codes=False, bar_smoothing=0.0)
    smoothed = model.generate(codes, positions, do_sample=False, return_codes=False)
    for index in range(2):
        expected = bar_smoothed_probabilities(raw.hit_probabilities[index].numpy(), positions[index].numpy(),
                                              UNKNOWN, 0.5, model.config.hit_bar_smoothing_bars,
                                              model.config.hit_bar_smoothing_tolerance)
        np.testing.assert_allclose(smoothed.hit_probabilities[index].numpy(), expected, atol=1e-6)
    # the hits are decided on the smoothed probabilities, sampled or not
    sampled = [model.generate(codes, positions, do_sample=True, return_codes=False, seed=3) for _ in range(2)]
    np.testing.assert_array_equal(sampled[0].hits[0].times, sampled[1].hits[0].times)
    with pytest.raises(ValueError, match="bar_smoothing must be a weight in"):
        model.generate(codes, positions, return_codes=False, bar_smoothing=1.5)
    with pytest.raises(ValueError, match="hit_bar_smoothing must be a weight in"):
        DrumAccompanimentConfig(hit_bar_smoothing=-0.1)
    with pytest.raises(ValueError, match="hit_bar_smoothing_bars must be >= 1"):
        DrumAccompanimentConfig(hit_bar_smoothing_bars=0)
