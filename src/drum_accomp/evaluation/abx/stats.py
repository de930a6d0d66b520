"""Summary statistics of a listening test: ABX accuracy with an exact binomial test, and mean groove ratings.

ABX: under the null hypothesis the listener cannot tell A from B and picks X's twin with probability 1/2. With
``k`` correct answers out of ``n``, the one-sided p-value is ``P(K >= k)`` for ``K ~ Binomial(n, 1/2)``
(``scipy.stats.binomtest(k, n, 0.5, alternative="greater")``). A small p-value means the generated drums can be
told from the real ones; a large one means they could not be told apart in this test (which is not proof that
they are indistinguishable: few answers give little power). Answers of all listeners of a condition are pooled.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Iterable

import numpy as np

CHANCE = 0.5
"""Probability of a correct ABX answer by guessing."""


@dataclass
class AbxScore:
    """ABX answers of one condition (and optionally one listener).

    Attributes:
        condition: the trial set's condition name (e.g. ``"default-model"``).
        listener_id: ``None`` for the pooled score of all listeners.
        num_answers: answers counted.
        num_correct: answers where the listener matched X to its twin.
        accuracy: ``num_correct / num_answers`` (NaN without answers).
        p_value: exact one-sided binomial p-value against chance (1.0 without answers).
        num_listeners: distinct listeners among the answers.
    """

    condition: str
    listener_id: str | None
    num_answers: int
    num_correct: int
    accuracy: float
    p_value: float
    num_listeners: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RatingScore:
    """Groove ratings (1-5) of one condition and one source (``"real"`` or ``"generated"``)."""

    condition: str
    source: str
    num_ratings: int
    mean: float
    std: float

    def to_dict(self) -> dict:
        return asdict(self)


def binomial_p_value(num_correct: int, num_answers: int) -> float:
    """Exact one-sided p-value of ``num_correct`` or more correct answers out of ``num_answers`` by chance."""
    # imported here, not at the top: scipy.stats takes 0.4 s to import, and the CLI rarely needs it
    from scipy.stats import binomtest

    if num_answers == 0:
        return 1.0
    return float(binomtest(num_correct, num_answers, CHANCE, alternative="greater").pvalue)


def abx_scores(answers: Iterable[tuple[str, str, bool]], per_listener: bool = False) -> list[AbxScore]:
    """Score ABX answers per condition (pooled over listeners), or per (condition, listener).

    Args:
        answers: ``(condition, listener_id, correct)`` per answer.
        per_listener: one score per (condition, listener) instead of one per condition.

    Returns:
        Scores sorted by condition (then listener).
    """
    groups: dict[tuple[str, str | None], list[tuple[str, bool]]] = defaultdict(list)
    for condition, listener_id, correct in answers:
        groups[(condition, listener_id if per_listener else None)].append((listener_id, bool(correct)))
    scores = []
    for (condition, listener_id), rows in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        num_correct = sum(correct for _, correct in rows)
        scores.append(AbxScore(condition=condition, listener_id=listener_id, num_answers=len(rows),
                               num_correct=num_correct, accuracy=num_correct / len(rows),
                               p_value=binomial_p_value(num_correct, len(rows)),
                               num_listeners=len({listener for listener, _ in rows})))
    return scores


def rating_scores(ratings: Iterable[tuple[str, str, int]]) -> list[RatingScore]:
    """Mean and standard deviation (ddof 0) of the ratings per (condition, source).

    Args:
        ratings: ``(condition, source, rating)`` per answer, ``rating`` in 1..5.
    """
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for condition, source, rating in ratings:
        groups[(condition, source)].append(int(rating))
    return [RatingScore(condition=condition, source=source, num_ratings=len(values),
                        mean=float(np.mean(values)), std=float(np.std(values)))
            for (condition, source), values in sorted(groups.items())]


__all__ = ["CHANCE", "AbxScore", "RatingScore", "abx_scores", "binomial_p_value", "rating_scores"]
