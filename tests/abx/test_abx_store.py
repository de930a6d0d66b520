"""The answers database: every answer stored at once, final, keyed by (listener, trial); a reopened database
keeps everything; what each listener was presented is recorded before the answer."""

import sqlite3

import pytest

from drum_accomp.evaluation.abx.store import (
    AlreadyAnswered,
    AnswerStore,
    Presentation,
    UnknownListener,
    utc_now,
)

TRIALS = [{"trial_id": "t01", "condition": "default-model"}, {"trial_id": "t02", "condition": "default-model"}]


def presentation(listener_id, trial_id, a_source, x_source, mode="abx", position=0):
    return Presentation(listener_id=listener_id, mode=mode, trial_id=trial_id, position=position,
                        condition="default-model", a_source=a_source, x_source=x_source, created_at=utc_now())


@pytest.fixture
def store(tmp_path):
    return AnswerStore(tmp_path / "answers.sqlite")


def test_correctness_follows_the_recorded_presentation(store):
    listener = store.create_listener("ann")
    # X is the real drums; A plays the real drums in t01 and the generated ones in t02.
    store.add_presentations([presentation(listener, "t01", "real", "real"),
                             presentation(listener, "t02", "generated", "real", position=1)])
    assert store.add_abx_answer(listener, "t01", "A", response_ms=1500) is True
    assert store.add_abx_answer(listener, "t02", "A") is False
    rows = store.abx_results()
    assert [(row["trial_id"], row["choice"], row["correct"], row["a_source"], row["b_source"], row["x_source"])
            for row in rows] == [("t01", "A", 1, "real", "generated", "real"), ("t02", "A", 0, "generated", "real",
                                                                                   "real")]
    assert rows[0]["response_ms"] == 1500 and rows[1]["response_ms"] is None
    assert rows[0]["drawn_at"] <= rows[0]["answered_at"]


def test_an_answer_is_final_and_listeners_are_independent(store):
    ann, bob = store.create_listener("ann"), store.create_listener(None)
    for listener in (ann, bob):
        store.add_presentations([presentation(listener, "t01", "real", "generated")])
    store.add_abx_answer(ann, "t01", "B")
    with pytest.raises(AlreadyAnswered, match="already answered"):
        store.add_abx_answer(ann, "t01", "A")
    store.add_abx_answer(bob, "t01", "A")
    rows = {row["listener_id"]: row for row in store.abx_results()}
    assert (rows[ann]["choice"], rows[ann]["correct"]) == ("B", 1)
    assert (rows[bob]["choice"], rows[bob]["correct"]) == ("A", 0)


def test_recorded_presentations_never_change(store):
    listener = store.create_listener()
    store.add_presentations([presentation(listener, "t01", "real", "real")])
    store.add_presentations([presentation(listener, "t01", "generated", "generated")])  # ignored
    (recorded,) = store.presentations(listener, "abx")
    assert (recorded.a_source, recorded.x_source, recorded.answered) == ("real", "real", False)


def test_a_reopened_database_keeps_everything(tmp_path):
    path = tmp_path / "answers.sqlite"
    first = AnswerStore(path)
    listener = first.create_listener("ann")
    first.add_presentations([presentation(listener, "t01", "real", "real"),
                             presentation(listener, "t02", "real", None, mode="rating")])
    first.add_abx_answer(listener, "t01", "A")
    first.add_rating(listener, "t02", 4)
    reopened = AnswerStore(path)
    assert reopened.has_listener(listener) and reopened.num_listeners() == 1
    assert [row["trial_id"] for row in reopened.abx_results()] == ["t01"]
    assert [(row["trial_id"], row["source"], row["rating"]) for row in reopened.rating_results()] == [
        ("t02", "real", 4)]
    assert [p.answered for p in reopened.presentations(listener, "abx")] == [True]
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_bad_answers_are_refused_with_the_value(store):
    listener = store.create_listener()
    store.add_presentations([presentation(listener, "t01", "real", "real"),
                             presentation(listener, "t01", "real", None, mode="rating")])
    with pytest.raises(ValueError, match="choice must be 'A' or 'B'.*'X'"):
        store.add_abx_answer(listener, "t01", "X")
    with pytest.raises(ValueError, match="rating must be an integer from 1 to 5, got 6"):
        store.add_rating(listener, "t01", 6)
    with pytest.raises(ValueError, match="response_ms must be a non-negative integer"):
        store.add_rating(listener, "t01", 3, response_ms=-5)
    with pytest.raises(UnknownListener, match="unknown listener 'nobody'"):
        store.add_abx_answer("nobody", "t01", "A")
    with pytest.raises(UnknownListener, match="'t09' was not presented"):
        store.add_abx_answer(listener, "t09", "A")
    assert store.abx_results() == [] and store.rating_results() == []


def test_a_folder_or_a_non_database_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        AnswerStore(tmp_path)
    (tmp_path / "notes.txt").write_text("not a database" * 100)
    with pytest.raises(ValueError, match="not an answers database"):
        AnswerStore(tmp_path / "notes.txt")
