"""Screenshot of the ABX page for the README (``docs/abx.png``), taken with Playwright and the system Chromium.

    drum-accomp abx build -o abx_trials/ && python scripts/abx_screenshot.py abx_trials/ --output docs/abx.png

Serves the trial folder on a free port with a throwaway answers database (no answer is stored), opens ``/abx`` in
headless Chromium, starts a session and captures the first trial.
"""

import argparse
import shutil
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from drum_accomp.evaluation.abx.server import make_server

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trials", help="a trial folder written by `drum-accomp abx build`")
    parser.add_argument("--output", default=str(REPO_ROOT / "docs" / "abx.png"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=900)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = make_server(args.trials, port=0, db=Path(folder) / "answers.sqlite")
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=args.chromium, headless=True)
                page = browser.new_page(viewport={"width": args.width, "height": args.height})
                page.goto(server.url + "abx")
                page.click("#start")
                page.wait_for_selector("#trial:not([hidden])")
                Path(args.output).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=args.output)
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
