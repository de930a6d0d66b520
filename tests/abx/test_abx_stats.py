"""ABX accuracy and the exact one-sided binomial p-value per condition; mean ratings per condition and source."""

import math

import pytest

from drum_accomp.evaluation.abx.stats import abx_scores, binomial_p_value, rating_scores


def test_binomial_p_value_is_the_exact_upper_tail_of_fair_coin_flips():
    # P(K >= 9), K ~ Binomial(12, 1/2) = (C(12,9) + C(12,10) + C(12,11) + C(12,12)) / 2^12
    assert binomial_p_value(9, 12) == pytest.approx((220 + 66 + 12 + 1) / 4096)
    assert binomial_p_value(12, 12) == pytest.approx(1 / 4096)
    assert binomial_p_value(0, 12) == pytest.approx(1.0)
    assert binomial_p_value(0, 0) == 1.0


def test_abx_scores_pool_listeners_per_condition():
    answers = [("default-model", "ann", True), ("default-model", "ann", True), ("default-model", "bob", False),
               ("default-model", "bob", True), ("rock-pattern", "ann", True)]
    pooled = {score.condition: score for score in abx_scores(answers)}
    assert set(pooled) == {"default-model", "rock-pattern"}
    model = pooled["default-model"]
    assert (model.num_answers, model.num_correct, model.num_listeners) == (4, 3, 2)
    assert model.accuracy == 0.75 and model.listener_id is None
    assert model.p_value == pytest.approx(5 / 16)  # P(K >= 3), K ~ Binomial(4, 1/2)


def test_abx_scores_per_listener():
    answers = [("default-model", "ann", True), ("default-model", "bob", False), ("default-model", "ann", False)]
    scores = {score.listener_id: score for score in abx_scores(answers, per_listener=True)}
    assert (scores["ann"].num_answers, scores["ann"].num_correct) == (2, 1)
    assert (scores["bob"].num_answers, scores["bob"].accuracy, scores["bob"].p_value) == (1, 0.0, 1.0)


def test_no_answers_give_no_rows():
    assert abx_scores([]) == [] and rating_scores([]) == []


def test_rating_scores_per_condition_and_source():
    scores = {(score.condition, score.source): score for score in rating_scores(
        [("default-model", "real", 5), ("default-model", "real", 3), ("default-model", "generated", 2)])}
    real = scores[("default-model", "real")]
    assert (real.num_ratings, real.mean, real.std) == (2, 4.0, 1.0)
    assert scores[("default-model", "generated")].mean == 2.0 and not math.isnan(real.std)
