"""The listening-test app end to end in headless Chromium: a listener clicks through every ABX trial and every
rating, the answers are in SQLite at once (listener, trial, answer, correctness, presented order, timestamps), the
summary page shows the right accuracy, a restarted server keeps them, a second listener cannot touch the first's,
and the Try-it page turns an uploaded backing track into drums, mix and MIDI that download and parse."""

import io
import json
import sqlite3
import urllib.error
import urllib.request
from datetime import datetime

import numpy as np
import pretty_midi
import pytest
import soundfile
from helpers import REPO_ROOT

from drum_accomp.evaluation.abx.store import SOURCES

LISTENER_KEY = "drum_accomp_abx_listener"
EXAMPLE_BACKING = REPO_ROOT / "examples" / "slakh_Track00001" / "backing_30s.flac"

AUDIO_DURATION_JS = """async (id) => {
  const audio = document.getElementById(id);
  if (audio.error) throw new Error(`cannot load ${audio.src}: ${audio.error.message}`);
  if (audio.readyState < 1) {
    await new Promise((resolve, reject) => {
      audio.addEventListener("loadedmetadata", resolve, { once: true });
      audio.addEventListener("error", () => reject(new Error(`cannot load ${audio.src}`)), { once: true });
    });
  }
  return audio.duration;
}"""


def audio_duration(page, element_id: str) -> float:
    """Seconds of the clip an <audio> element loaded (the browser decoded its header)."""
    return page.evaluate(AUDIO_DURATION_JS, element_id)


def rows(db, query: str) -> list[dict]:
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(query).fetchall()]


def post_json(url: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def answer_abx_trials(page, base_url: str, choices: list[str], name: str, clip_seconds: float) -> list[str]:
    """Click through the ABX page: start, check the three players of each trial, answer X=choice. Returns the
    trial ids in the order they were shown."""
    page.goto(base_url + "abx")
    page.fill("#name", name)
    page.click("#start")
    shown = []
    for choice in choices:
        page.wait_for_selector("#trial:not([hidden])")
        trial_id = page.get_attribute("#trial", "data-trial-id")
        shown.append(trial_id)
        for slot in ("A", "B", "X"):
            assert page.is_visible(f"#play-{slot}")
            assert audio_duration(page, f"audio-{slot}") == pytest.approx(clip_seconds, abs=0.01)
        page.click("#play-A")  # plays A; then X stops A and plays X
        assert page.evaluate("!document.getElementById('audio-A').paused")
        page.click("#play-X")
        assert page.evaluate("document.getElementById('audio-A').paused && !document.getElementById('audio-X').paused")
        page.click(f"#answer-{choice}")
        page.wait_for_function("([old]) => document.getElementById('trial').dataset.trialId !== old || "
                               "!document.getElementById('done').hidden", arg=[trial_id])
    page.wait_for_selector("#done:not([hidden])")
    assert page.inner_text("#error") == ""
    return shown


def expected_correct(row: dict) -> bool:
    return (row["a_source"] if row["choice"] == "A" else row["b_source"]) == row["x_source"]


def summary_cells(page, base_url: str) -> dict[str, str]:
    page.goto(base_url + "summary")
    row = page.wait_for_selector('#abx-summary tbody tr[data-condition="default-model"]')
    return {name: row.query_selector(f"td.col-{name}").inner_text() for name in ("answers", "correct", "accuracy")}


def test_clicking_through_the_abx_trials_stores_every_answer(page, trial_dir, start_server, tmp_path):
    db = tmp_path / "answers.sqlite"
    clip_seconds = json.loads((trial_dir / "trials.json").read_text())["seconds"]
    with start_server(trial_dir, db) as server:
        shown = answer_abx_trials(page, server.url, ["A", "B"], "ann", clip_seconds)
        listener_id = page.evaluate(f"localStorage.getItem('{LISTENER_KEY}')")

        results = rows(db, "SELECT * FROM abx_results ORDER BY answer_id")
        assert [row["trial_id"] for row in results] == shown and sorted(shown) == ["t01", "t02"]
        assert [row["choice"] for row in results] == ["A", "B"]
        assert [row["position"] for row in results] == [0, 1]
        for row in results:
            assert row["listener_id"] == listener_id and row["condition"] == "default-model"
            assert {row["a_source"], row["b_source"]} == set(SOURCES) and row["x_source"] in SOURCES
            assert row["correct"] == expected_correct(row)
            assert row["response_ms"] > 0
            assert datetime.fromisoformat(row["drawn_at"]) <= datetime.fromisoformat(row["answered_at"])
        assert results[0]["answered_at"] < results[1]["answered_at"]
        assert rows(db, "SELECT name FROM listeners") == [{"name": "ann"}]

        num_correct = sum(row["correct"] for row in results)
        assert summary_cells(page, server.url) == {"answers": "2", "correct": str(num_correct),
                                                   "accuracy": f"{num_correct / 2:.3f}"}

        # The same listener coming back finds every trial answered.
        page.goto(server.url + "abx")
        page.click("#start")
        page.wait_for_selector("#done:not([hidden])")
        assert len(rows(db, "SELECT * FROM abx_answers")) == 2


def test_a_restart_keeps_the_answers_and_a_second_listener_touches_none(browser, trial_dir, start_server, tmp_path):
    db = tmp_path / "answers.sqlite"
    clip_seconds = json.loads((trial_dir / "trials.json").read_text())["seconds"]
    first_page = browser.new_page()
    with start_server(trial_dir, db) as server:
        answer_abx_trials(first_page, server.url, ["A", "A"], "ann", clip_seconds)
    first_id = first_page.evaluate(f"localStorage.getItem('{LISTENER_KEY}')")
    first_page.close()
    first_rows = rows(db, "SELECT * FROM abx_results ORDER BY answer_id")

    with start_server(trial_dir, db) as server:  # a new server process state, the same database
        second_page = browser.new_page()
        assert summary_cells(second_page, server.url)["answers"] == "2"
        answer_abx_trials(second_page, server.url, ["B", "B"], "bob", clip_seconds)
        second_id = second_page.evaluate(f"localStorage.getItem('{LISTENER_KEY}')")
        assert second_id != first_id
        # Answering the first listener's trials again (with their id) is refused: answers are final.
        status, payload = post_json(server.url + "api/abx/answer",
                                    {"listener_id": first_id, "trial_id": "t01", "choice": "B"})
        assert status == 409 and "already answered" in payload["error"]

        all_rows = rows(db, "SELECT * FROM abx_results ORDER BY answer_id")
        assert [row for row in all_rows if row["listener_id"] == first_id] == first_rows
        assert sorted(row["trial_id"] for row in all_rows if row["listener_id"] == second_id) == ["t01", "t02"]
        cells = summary_cells(second_page, server.url)
        num_correct = sum(row["correct"] for row in all_rows)
        assert cells == {"answers": "4", "correct": str(num_correct), "accuracy": f"{num_correct / 4:.3f}"}
        assert len(second_page.query_selector_all("#abx-listeners tbody tr")) == 2
        second_page.close()


def test_rating_mode_stores_each_rating(page, trial_dir, start_server, tmp_path):
    db = tmp_path / "answers.sqlite"
    with start_server(trial_dir, db) as server:
        page.goto(server.url + "rate")
        page.click("#start")
        for rating in (4, 2):
            page.wait_for_selector("#trial:not([hidden])")
            trial_id = page.get_attribute("#trial", "data-trial-id")
            assert page.is_visible("#play-R") and audio_duration(page, "audio-R") > 1.0
            page.click(f"#rate-{rating}")
            page.wait_for_function("([old]) => document.getElementById('trial').dataset.trialId !== old || "
                                   "!document.getElementById('done').hidden", arg=[trial_id])
        page.wait_for_selector("#done:not([hidden])")
        ratings = rows(db, "SELECT r.*, p.a_source FROM ratings AS r JOIN presentations AS p ON "
                           "p.listener_id = r.listener_id AND p.trial_id = r.trial_id AND p.mode = 'rating' "
                           "ORDER BY r.answer_id")
        assert [row["rating"] for row in ratings] == [4, 2]
        assert all(row["a_source"] in SOURCES and row["answered_at"] for row in ratings)
        page.goto(server.url + "summary")
        page.wait_for_selector("#rating-summary tbody tr")
        counts = [int(cell.inner_text()) for cell in page.query_selector_all("#rating-summary tbody td:nth-child(3)")]
        assert sum(counts) == 2


@pytest.fixture
def short_backing(tmp_path):
    """The first 6 s of the bundled example backing (real Slakh audio), as a wav."""
    audio, rate = soundfile.read(EXAMPLE_BACKING, dtype="float32")
    path = tmp_path / "backing_6s.wav"
    soundfile.write(path, audio[: 6 * rate], rate)
    return path, rate


def test_try_it_turns_an_upload_into_drums_mix_and_midi(page, trial_dir, start_server, tmp_path, short_backing):
    backing, rate = short_backing
    with start_server(trial_dir, tmp_path / "answers.sqlite") as server:
        page.goto(server.url + "try")
        page.wait_for_function("document.getElementById('genre').options.length > 1")
        page.set_input_files("#file", str(backing))
        page.select_option("#genre", "funk")
        page.fill("#seed", "3")
        page.click("#generate")
        page.wait_for_selector("#result:not([hidden])", timeout=120_000)
        facts = page.inner_text("#result-facts")
        assert "backing_6s.wav" in facts and "genre funk" in facts and "seed 3" in facts
        for player in ("drums-player", "mix-player"):
            assert audio_duration(page, player) == pytest.approx(6.0, abs=0.01)

        downloads = {}
        for link, name in (("#download-drums", "drums.wav"), ("#download-mix", "mix.wav"),
                           ("#download-midi", "drums.mid")):
            assert page.get_attribute(link, "download") is not None
            response = page.request.get(server.url.rstrip("/") + page.get_attribute(link, "href"))
            assert response.ok and f'filename="{name}"' in response.headers["content-disposition"]
            downloads[name] = response.body()
        for name in ("drums.wav", "mix.wav"):
            body = downloads[name]
            assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"
            audio, wav_rate = soundfile.read(io.BytesIO(body))
            assert wav_rate == rate and len(audio) == 6 * rate and np.abs(audio).max() > 0.01
        midi = pretty_midi.PrettyMIDI(io.BytesIO(downloads["drums.mid"]))
        assert midi.instruments and midi.instruments[0].is_drum and len(midi.instruments[0].notes) > 0

        with page.expect_download() as download:  # a real click downloads the file under its name
            page.click("#download-midi")
        assert download.value.suggested_filename == "drums.mid"


def test_try_it_errors_are_clear(page, trial_dir, start_server, tmp_path, short_backing):
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("these are not samples\n" * 50)
    with start_server(trial_dir, tmp_path / "answers.sqlite", max_upload_mb=0.05) as server:
        page.goto(server.url + "try")
        page.wait_for_function("document.getElementById('genre').options.length > 1")
        page.set_input_files("#file", str(not_audio))
        page.click("#generate")
        page.wait_for_function("document.getElementById('error').textContent.length > 0")
        assert "cannot decode 'notes.wav' as audio" in page.inner_text("#error")
        assert page.is_hidden("#result")

        page.set_input_files("#file", str(short_backing[0]))  # 192 kB: over the 0.05 MB limit
        page.click("#generate")
        page.wait_for_function("document.getElementById('error').textContent.includes('limit')")
        assert "over the 0.05 MB limit" in page.inner_text("#error")

        # The same checks on the server, for clients that skip the page's own.
        request = urllib.request.Request(server.url + "api/try?genre=rock&filename=big.wav",
                                         data=short_backing[0].read_bytes(), method="POST")
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request)
        assert error.value.code == 413 and "over the 0.05 MB limit" in json.loads(error.value.read())["error"]
        request = urllib.request.Request(server.url + "api/try?genre=polka&filename=x.wav", data=b"RIFF",
                                         method="POST")
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request)
        assert error.value.code == 400 and "unknown genre 'polka'; choose one of" in json.loads(
            error.value.read())["error"]
