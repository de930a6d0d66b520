"""The listening-test web app: a small standard-library HTTP server over a trial folder and an answers database.

    drum-accomp abx serve abx_trials/ --port 7860      # then open http://127.0.0.1:7860/

Pages (plain HTML/JS in ``static/``): ``/abx`` (the ABX test), ``/rate`` (rate the groove 1-5), ``/summary``
(accuracy and binomial p-value per condition, mean ratings) and ``/try`` (upload a backing track, pick a genre and
a seed, listen to and download drums, mix and MIDI: the demo a Hub Space would host). JSON API:

    GET  /api/info                                  trial set facts, genres, upload limit, licence
    POST /api/listeners            {"name": ...}    -> {"listener_id"}
    GET  /api/session/{abx|rating}?listener=ID      the listener's trials (drawn and recorded on first call)
    GET  /api/audio/ID/{abx|rating}/TRIAL/{A|B|X|R} a stimulus (the URL does not say which source it is)
    POST /api/abx/answer           {"listener_id", "trial_id", "choice": "A"|"B", "response_ms"}
    POST /api/rating/answer        {"listener_id", "trial_id", "rating": 1..5, "response_ms"}
    GET  /api/summary                               the statistics
    POST /api/try?genre=G&seed=S&filename=F         raw audio bytes as the body -> result id and file URLs
    GET  /api/try/RESULT/{drums.wav|mix.wav|drums.mid}

Errors come back as ``{"error": "..."}`` with a 4xx status (413 for an upload over the limit, 409 for a second
answer to the same trial). The server binds 127.0.0.1 unless told otherwise: it has no authentication. The
pipeline for the Try-it page is loaded on the first upload, and runs one upload at a time.
"""

from __future__ import annotations

import errno
import json
import mimetypes
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import uuid
import warnings
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from ...audio import save_audio
from ...genres import style_vocabulary, validate_genre
from . import stats
from .store import MODES, AlreadyAnswered, AnswerStore, UnknownListener
from .trials import TrialSet, draw_presentations, load_drummer, load_trial_set

STATIC_DIR = Path(__file__).with_name("static")
PAGES = {"/abx": "abx.html", "/rate": "rate.html", "/summary": "summary.html", "/try": "try.html"}
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 7860
DEFAULT_DB_NAME = "answers.sqlite"
DEFAULT_MAX_UPLOAD_MB = 50.0
MAX_JSON_BYTES = 64 * 1024
MAX_DISCARD_BYTES = 1 << 30
TRY_OUTPUTS = {"drums.wav": "audio/wav", "mix.wav": "audio/wav", "drums.mid": "audio/midi"}
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
MODEL_LICENCE = ("The bundled drum model is CC BY-NC-SA 4.0 (trained on CC BY-NC-SA songs): the drums it writes are "
                 "for non-commercial use.")


class HttpError(Exception):
    """An error answered to the client as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class AbxApp:
    """What the handlers share: the trial set, the answers store, and the lazily loaded pipeline.

    Args:
        trial_set: a loaded trial folder.
        store: the answers database.
        drummer_factory: called once, on the first Try-it upload, to get the pipeline.
        max_upload_bytes: the largest accepted upload (bytes).
    """

    def __init__(self, trial_set: TrialSet, store: AnswerStore, drummer_factory: Callable[[], Any] = load_drummer,
                 max_upload_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * 1e6)):
        self.trial_set = trial_set
        self.store = store
        self.max_upload_bytes = max_upload_bytes
        self._drummer_factory = drummer_factory
        self._drummer = None
        self._drummer_lock = threading.Lock()
        self.try_dir = Path(tempfile.mkdtemp(prefix="drum_accomp_try_"))

    def close(self) -> None:
        shutil.rmtree(self.try_dir, ignore_errors=True)

    # ----- ABX and rating ----------------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        manifest = self.trial_set.manifest
        conditions = sorted({trial["condition"] for trial in self.trial_set.trials})
        return {"num_trials": len(self.trial_set.trials), "conditions": conditions, "split": manifest.get("split"), "seconds": manifest.get("seconds"),
                "licence": manifest.get("licence"), "licence_note": manifest.get("licence_note"),
                "model_licence": MODEL_LICENCE, "genres": style_vocabulary(),
                "max_upload_mb": self.max_upload_bytes / 1e6}

    def session(self, mode: str, listener_id: str) -> dict[str, Any]:
        """The listener's trials in ``mode``, recording their draw the first time (never changing it)."""
        if mode not in MODES:
            raise HttpError(404, f"no mode {mode!r}; use one of {', '.join(MODES)}")
        if not self.store.has_listener(listener_id):
            raise HttpError(404, f"unknown listener {listener_id!r}; start a new session (reload the page)")
        self.store.add_presentations(draw_presentations(listener_id, mode, self.trial_set.trials))
        slots = ("A", "B", "X") if mode == "abx" else ("R",)
        trials = [{"trial_id": p.trial_id, "position": p.position, "answered": p.answered,
                   "audio": {slot: f"/api/audio/{listener_id}/{mode}/{p.trial_id}/{slot}" for slot in slots}}
                  for p in self.store.presentations(listener_id, mode)]
        return {"listener_id": listener_id, "mode": mode, "trials": trials}

    def stimulus_path(self, listener_id: str, mode: str, trial_id: str, slot: str) -> Path:
        try:
            presentation = self.store.presentation(listener_id, mode, trial_id)
            return self.trial_set.audio_path(trial_id, presentation.source_of(slot))
        except (UnknownListener, KeyError, ValueError) as error:
            raise HttpError(404, str(error).strip("'\"")) from None

    def summary(self) -> dict[str, Any]:
        results = self.store.abx_results()
        rows = [(row["condition"], row["listener_id"], row["correct"]) for row in results]
        ratings = self.store.rating_results()
        manifest = self.trial_set.manifest
        return {
            "abx": [score.to_dict() for score in stats.abx_scores(rows)],
            "abx_per_listener": [score.to_dict() for score in stats.abx_scores(rows, per_listener=True)],
            "ratings": [score.to_dict() for score in stats.rating_scores(
                (row["condition"], row["source"], row["rating"]) for row in ratings)],
            "num_listeners": self.store.num_listeners(), "num_abx_answers": len(results),
            "num_ratings": len(ratings), "num_trials": len(self.trial_set.trials),
            "trials": [{key: trial[key] for key in ("trial_id", "song", "source", "licence", "condition")}
                       for trial in self.trial_set.trials],
            "split": manifest.get("split"), "licence": manifest.get("licence"),
            "licence_note": manifest.get("licence_note"),
        }

    # ----- Try it ------------------------------------------------------------------------------------------------

    def drummer(self):
        with self._drummer_lock:
            if self._drummer is None:
                self._drummer = self._drummer_factory()
            return self._drummer

    def try_upload(self, body: bytes, filename: str, genre: str | None, seed: int) -> dict[str, Any]:
        """Drums for one uploaded backing track; writes drums.wav, mix.wav and drums.mid under a new result id (in
        a temporary folder removed when the server stops)."""
        if genre is not None:
            try:
                validate_genre(genre)
            except ValueError as error:
                raise HttpError(400, str(error)) from None
        drummer = self.drummer()
        name = Path(filename or "upload").name[:200]
        suffix = Path(name).suffix.lower()
        result_id = uuid.uuid4().hex
        folder = self.try_dir / result_id
        folder.mkdir()
        upload = folder / f"upload{suffix if suffix in AUDIO_SUFFIXES else '.bin'}"
        upload.write_bytes(body)
        started = time.perf_counter()
        try:
            with self._drummer_lock, warnings.catch_warnings(record=True) as caught:
                # one generation at a time (the model is not thread-safe and CPU is scarce); the pipeline's
                # warnings (e.g. unsure beats, with the fix) go to the page
                warnings.simplefilter("always", UserWarning)
                result = drummer(str(upload), genre=genre, seed=seed)
        except (ValueError, FileNotFoundError) as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise HttpError(400, str(error).replace(repr(str(upload)), repr(name))) from None
        seconds = time.perf_counter() - started
        upload.unlink()
        save_audio(folder / "drums.wav", result["drums"], result["sampling_rate"])
        save_audio(folder / "mix.wav", result["mix"], result["sampling_rate"])
        result["midi"].write(str(folder / "drums.mid"))
        return {"result_id": result_id, "filename": name, "genre": result["genre"], "seed": seed,
                "duration_s": round(len(result["drums"]) / result["sampling_rate"], 2),
                "sampling_rate": result["sampling_rate"], "num_beats": len(result["beats"]),
                "num_hits": sum(len(instrument.notes) for instrument in result["midi"].instruments),
                "beat_source": result.get("beat_source"), "seconds": round(seconds, 2),
                "files": {output: f"/api/try/{result_id}/{output}" for output in TRY_OUTPUTS},
                "warnings": sorted({str(warning.message) for warning in caught
                                    if issubclass(warning.category, UserWarning)}),
                "model_licence": MODEL_LICENCE}

    def try_output(self, result_id: str, output: str) -> Path:
        path = self.try_dir / result_id / output
        if not ID_PATTERN.match(result_id) or output not in TRY_OUTPUTS or not path.is_file():
            raise HttpError(404, f"no result file {result_id}/{output}; upload the backing track again")
        return path


class AbxRequestHandler(BaseHTTPRequestHandler):
    """Routes requests to :class:`AbxApp` (``self.server.app``)."""

    server_version = "drum_accomp-abx"
    protocol_version = "HTTP/1.1"
    timeout = 120  # seconds an idle keep-alive connection may hold its thread

    @property
    def app(self) -> AbxApp:
        return self.server.app  # type: ignore[attr-defined]

    # ----- dispatch ------------------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_POST(self) -> None:
        self._handle(self._post)

    def _handle(self, route: Callable[[str, dict[str, list[str]]], None]) -> None:
        url = urlsplit(self.path)
        try:
            route(url.path, parse_qs(url.query))
        except HttpError as error:
            self._send_json({"error": str(error)}, error.status)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (e.g. a new audio range request replaced this one)
        except Exception as error:  # an unexpected bug: the client gets its message, the log its traceback
            traceback.print_exc()
            self._send_json({"error": f"internal error: {type(error).__name__}: {error}"}, 500)

    def _get(self, path: str, query: dict[str, list[str]]) -> None:
        parts = path.strip("/").split("/")
        if path == "/":
            self._redirect("/abx")
        elif path == "/favicon.ico":
            self._send_empty(HTTPStatus.NO_CONTENT)
        elif path in PAGES:
            self._send_file(STATIC_DIR / PAGES[path], "text/html; charset=utf-8")
        elif len(parts) == 2 and parts[0] == "static":
            file = STATIC_DIR / parts[1]
            if not re.match(r"^[\w.-]+$", parts[1]) or not file.is_file():
                raise HttpError(404, f"no static file {parts[1]!r}")
            self._send_file(file, mimetypes.guess_type(file.name)[0] or "application/octet-stream")
        elif path == "/api/info":
            self._send_json(self.app.info())
        elif len(parts) == 3 and parts[:2] == ["api", "session"]:
            self._send_json(self.app.session(parts[2], _query_value(query, "listener")))
        elif len(parts) == 6 and parts[:2] == ["api", "audio"]:
            self._send_file(self.app.stimulus_path(*parts[2:]), "audio/wav", cache=False)
        elif path == "/api/summary":
            self._send_json(self.app.summary())
        elif len(parts) == 4 and parts[:2] == ["api", "try"]:
            output = self.app.try_output(parts[2], parts[3])
            self._send_file(output, TRY_OUTPUTS[parts[3]], download_name=parts[3])
        else:
            raise HttpError(404, f"no page {path!r}; open /abx, /rate, /summary or /try")

    def _post(self, path: str, query: dict[str, list[str]]) -> None:
        if path == "/api/try":
            body = self._read_body(self.app.max_upload_bytes, "upload")
            if not body:
                raise HttpError(400, "the upload is empty; choose an audio file (wav, flac, ogg or mp3)")
            seed_text = _query_value(query, "seed", "0")
            try:
                seed = int(seed_text)
            except ValueError:
                raise HttpError(400, f"seed must be an integer, got {seed_text!r}") from None
            genre = _query_value(query, "genre", "") or None
            self._send_json(self.app.try_upload(body, _query_value(query, "filename", "upload"), genre, seed))
            return
        payload = self._read_json()
        try:
            if path == "/api/listeners":
                self._send_json({"listener_id": self.app.store.create_listener(payload.get("name"))}, 201)
            elif path == "/api/abx/answer":
                self.app.store.add_abx_answer(str(payload.get("listener_id")), str(payload.get("trial_id")),
                                              payload.get("choice"), payload.get("response_ms"))
                self._send_json({"stored": True}, 201)
            elif path == "/api/rating/answer":
                self.app.store.add_rating(str(payload.get("listener_id")), str(payload.get("trial_id")),
                                          payload.get("rating"), payload.get("response_ms"))
                self._send_json({"stored": True}, 201)
            else:
                raise HttpError(404, f"no API {path!r}")
        except AlreadyAnswered as error:
            raise HttpError(409, str(error)) from None
        except UnknownListener as error:
            raise HttpError(404, str(error)) from None
        except ValueError as error:
            raise HttpError(400, str(error)) from None

    # ----- reading and writing -------------------------------------------------------------------------------------

    def _read_body(self, limit: int, what: str) -> bytes:
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise HttpError(411, f"the {what} has no Content-Length; send the bytes as the request body")
        try:
            length = int(length_text)
        except ValueError:
            raise HttpError(400, f"bad Content-Length {length_text!r}") from None
        if length > limit:
            self._discard_body(length)
            raise HttpError(413, f"the {what} is {length / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit; send a "
                                 "shorter file (or restart the server with a larger --max-upload-mb)")
        return self.rfile.read(length)

    def _discard_body(self, length: int) -> None:
        """Read and drop a refused body, so the browser sees the error answer rather than a reset connection;
        a body beyond ``MAX_DISCARD_BYTES`` is left unread and the connection closed."""
        self.close_connection = True
        remaining = length if length <= MAX_DISCARD_BYTES else 0
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)

    def _read_json(self) -> dict[str, Any]:
        body = self._read_body(MAX_JSON_BYTES, "request")
        try:
            payload = json.loads(body or b"{}")
        except json.JSONDecodeError as error:
            raise HttpError(400, f"the request body is not JSON ({error})") from None
        if not isinstance(payload, dict):
            raise HttpError(400, "the request body must be a JSON object")
        return payload

    def _send_json(self, payload: Any, status: int = 200) -> None:
        body = json.dumps(payload, default=float).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self._send_empty(HTTPStatus.FOUND, Location=location)

    def _send_empty(self, status: int, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_file(self, path: Path, content_type: str, download_name: str | None = None, cache: bool = True) -> None:
        """Send a file, or the byte range the browser asks for (audio seeking)."""
        data = path.read_bytes()
        start, end, status = 0, len(data), HTTPStatus.OK
        match = re.match(r"^bytes=(\d*)-(\d*)$", self.headers.get("Range", ""))
        if match and (match.group(1) or match.group(2)) and data:
            if match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)) + 1, len(data)) if match.group(2) else len(data)
            else:  # a suffix range: the last N bytes
                start = max(len(data) - int(match.group(2)), 0)
            if start >= len(data) or start >= end:
                self._send_empty(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, **{"Content-Range": f"bytes */{len(data)}"})
                return
            status = HTTPStatus.PARTIAL_CONTENT
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        if download_name:
            self.send_header("Content-Disposition", f'attachment; filename="{download_name}"')
        self.end_headers()
        self.wfile.write(data[start:end])

    def log_request(self, code: "int | str" = "-", size: "int | str" = "-") -> None:
        """Log failed requests only (the answers are in the database, not in the log)."""
        if isinstance(code, int) and code >= 400:
            super().log_request(code, size)


def _query_value(query: dict[str, list[str]], name: str, default: str | None = None) -> str:
    values = query.get(name)
    if not values:
        if default is None:
            raise HttpError(400, f"missing query parameter {name!r}")
        return default
    return values[0]


class AbxServer(ThreadingHTTPServer):
    """A threading HTTP server holding the :class:`AbxApp` its handlers use."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: AbxApp):
        self.app = app
        super().__init__(address, AbxRequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host if ':' not in str(host) else f'[{host}]'}:{port}/"

    def server_close(self) -> None:
        super().server_close()
        self.app.close()


def make_server(trial_dir: "str | os.PathLike", host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                db: "str | os.PathLike | None" = None, model: str | None = None,
                max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, drummer_factory: Callable[[], Any] | None = None
                ) -> AbxServer:
    """A bound (not yet serving) server for a trial folder; answers go to ``db`` (default
    ``trial_dir/answers.sqlite``). ``port=0`` picks a free port (see ``server.url``)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"--port must be an integer from 1 to 65535 (or 0 for any free port), got {port!r}")
    if not max_upload_mb > 0:
        raise ValueError(f"--max-upload-mb must be positive, got {max_upload_mb!r}")
    trial_set = load_trial_set(trial_dir)
    store = AnswerStore(db if db is not None else Path(trial_dir) / DEFAULT_DB_NAME)
    factory = drummer_factory or (lambda: load_drummer(model))
    app = AbxApp(trial_set, store, factory, max_upload_bytes=int(max_upload_mb * 1e6))
    try:
        return AbxServer((host, port), app)
    except OSError as error:
        app.close()
        if error.errno == errno.EADDRINUSE:
            raise ValueError(f"port {port} on {host} is in use; pick another with --port, or stop the program "
                             "using it") from None
        raise ValueError(f"cannot listen on {host}:{port} ({error.strerror or error}); check --host and --port") \
            from None


def serve(trial_dir: "str | os.PathLike", host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, **options) -> None:
    """Run the app until Ctrl+C (see :func:`make_server` for the options)."""
    if host not in LOCAL_HOSTS:
        print(f"warning: listening on {host}: anyone who can reach this machine can answer and upload; the "
              "server has no authentication", file=sys.stderr)
    server = make_server(trial_dir, host=host, port=port, **options)
    print(f"ABX listening test: {server.url}abx ({len(server.app.trial_set.trials)} trials; answers in "
          f"{server.app.store.path}); rating {server.url}rate, summary {server.url}summary, try it {server.url}try. "
          "Ctrl+C stops.", flush=True)
    if threading.current_thread() is threading.main_thread():  # `kill` stops it as cleanly as Ctrl+C
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


__all__ = [
    "DEFAULT_DB_NAME",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "AbxApp",
    "AbxRequestHandler",
    "AbxServer",
    "make_server",
    "serve",
]
