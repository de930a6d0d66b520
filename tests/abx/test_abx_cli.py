"""``drum-accomp abx build / serve``: errors print one line naming the value and the fix and exit with code 2; the
server runs in its own process until stopped."""

import json
import re
import socket
import subprocess
import sys
import urllib.request

import pytest

from drum_accomp import cli
from drum_accomp.evaluation.abx.store import AnswerStore


@pytest.mark.parametrize("port, message", [
    ("abc", "--port must be an integer from 1 to 65535, got 'abc'"),
    ("70000", "--port must be an integer from 1 to 65535 (or 0 for any free port), got 70000"),
])
def test_serve_refuses_a_bad_port(trial_dir, tmp_path, capsys, port, message):
    assert cli.main(["abx", "serve", str(trial_dir), "--port", port, "--db", str(tmp_path / "a.sqlite")]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_serve_says_when_the_port_is_in_use(trial_dir, tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["abx", "serve", str(trial_dir), "--port", str(port), "--db", str(tmp_path / "a.sqlite")]) == 2
    assert f"port {port} on 127.0.0.1 is in use; pick another with --port" in capsys.readouterr().err


def test_serve_needs_a_built_non_empty_trial_set(tmp_path, capsys):
    assert cli.main(["abx", "serve", str(tmp_path / "missing")]) == 2
    assert "trial set folder not found" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "trials.json").write_text(json.dumps({"trials": []}))
    assert cli.main(["abx", "serve", str(tmp_path / "empty")]) == 2
    assert "is empty" in capsys.readouterr().err


def test_build_errors(tmp_path, shared_data, capsys):
    data = ["--data", str(shared_data / "multitrack"), "--dataset", str(tmp_path / "no_build")]
    assert cli.main(["abx", "build", "-o", str(tmp_path / "new"), "--genre", "polka", *data]) == 2
    assert "unknown genre 'polka'; choose one of" in capsys.readouterr().err
    assert cli.main(["abx", "build", "-o", str(tmp_path / "new"), "--split", "train", *data]) == 2
    assert "'train' is not held back" in capsys.readouterr().err
    (tmp_path / "exists").mkdir()
    assert cli.main(["abx", "build", "-o", str(tmp_path / "exists"), *data]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err


def test_serve_runs_until_stopped_and_keeps_the_answers(trial_dir, tmp_path):
    """The real entry point in its own process: it prints its URL, answers, and stops cleanly on SIGTERM."""
    db = tmp_path / "answers.sqlite"
    process = subprocess.Popen([sys.executable, "-m", "drum_accomp.cli", "abx", "serve", str(trial_dir), "--port", "0",
                                "--db", str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []  # the URL line may follow other output (e.g. a first-run notice of a library)
        while not any(re.search(r"http://127\.0\.0\.1:\d+/abx", line) for line in lines) and len(lines) < 50:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
        match = re.search(r"(http://127\.0\.0\.1:\d+/)abx", "".join(lines))
        assert match, f"no URL in the server's output: {lines!r}"
        url = match.group(1)
        with urllib.request.urlopen(url + "api/info") as response:
            assert json.loads(response.read())["num_trials"] == 2
        request = urllib.request.Request(url + "api/listeners", data=b'{"name": "ann"}', method="POST")
        with urllib.request.urlopen(request) as response:
            assert response.status == 201
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0 and "stopped" in stderr
    assert AnswerStore(db).num_listeners() == 1
