"""Speed and memory of the bundled pipeline (issue 10): a table on stdout, JSON + Markdown in ``benchmarks/``.

    python scripts/benchmark.py                      # 30 s and 3 min songs, 10-min memory probe, 3 runs each
    python scripts/benchmark.py --durations 30 --long_seconds 0 --runs 1 --no_madmom   # a quick look

The same as ``drum-accomp benchmark``; what is measured and how: ``drum_accomp.benchmark``.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from drum_accomp.benchmark import add_arguments, run_from_args  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    main()
