"""Fixtures of the listening-test tests: one small trial set built from real held-back songs, the default pipeline
(loaded once and shared with the servers' Try-it page), servers on free ports in threads, headless Chromium."""

import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from drum_accomp.evaluation.abx.server import make_server
from drum_accomp.evaluation.abx.trials import build_trial_set, load_drummer

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")
NUM_TRIALS, CLIP_SECONDS = 2, 4.0


@pytest.fixture(scope="session")
def drummer():
    """The bundled default pipeline, loaded once for the whole session."""
    return load_drummer()


@pytest.fixture(scope="session")
def trial_dir(tmp_path_factory, shared_data, drummer) -> Path:
    """2 trials of 4 s from real validation songs (the split recomputed from the multi-track folder)."""
    folder = tmp_path_factory.mktemp("abx") / "trials"
    build_trial_set(folder, split="validation", num_trials=NUM_TRIALS, seconds=CLIP_SECONDS, seed=0,
                    data=shared_data / "multitrack", dataset=None, drummer=drummer, log=None)
    return folder


@pytest.fixture
def start_server(drummer):
    """``start_server(trial_dir, db, **options)``: a context manager running the app on a free port in a thread."""

    @contextmanager
    def running(trial_dir, db, **options):
        server = make_server(trial_dir, port=0, db=db, drummer_factory=lambda: drummer, **options)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)

    return running


@pytest.fixture(scope="session")
def chromium_path() -> str:
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium browser found (looked for chromium, chromium-browser on PATH); install the Debian "
                "package: apt-get install chromium (scripts/setup.sh does)")


@pytest.fixture(scope="session")
def browser(chromium_path):
    """Headless system Chromium driven by Playwright (no `playwright install`: the browser comes from apt)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                             args=["--autoplay-policy=no-user-gesture-required"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page in its own context (own localStorage: a new listener)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
