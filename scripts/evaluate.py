"""The evaluation report of the default models (issue 9): report.json, report.md and PNG plots.

    python scripts/evaluate.py --split validation --seconds 20 --heldout-songs 10 --output-dir reports/default_models
    python scripts/evaluate.py --files "a.mid,b.mid" --seconds 8 --groove-examples 4 --output-dir /tmp/report  # a look

The same as ``drum-accomp evaluate --report``; what is measured and how: ``drum_accomp.evaluation.report``.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from drum_accomp.data.build_utils import command_line  # noqa: E402
from drum_accomp.evaluation.report import add_arguments, run_from_args  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv), command=command_line(__file__, argv))


if __name__ == "__main__":
    main()
