"""Evaluate ``pipeline("drum-accompaniment")`` end to end on real songs of a split: audio in, drums out.

    python scripts/evaluate_pipeline.py --split validation --seconds 30 --output_json model_cards/pipeline_eval_validation.json
    python scripts/evaluate_pipeline.py --split test_heldout_soundfont --soundfont musescore_lite --seconds 20

The songs are the split's (the accompaniment build's ``songs`` table; songs transcribed from audio left out, as in
the beat evaluation) or ``--files``. What is measured and how: ``drum_accomp.evaluation.pipeline_eval`` (drum-hit
F1 of the pipeline vs the rock pattern on the tracked and the true beats, beat F of the drum audio of both paths
and of the real drums, onset F1, compute per audio second). ``scripts/evaluate.py`` runs the same evaluation inside
the full report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from transformers import HfArgumentParser, pipeline

import drum_accomp  # noqa: F401  (registers the task)
from drum_accomp.data.build_utils import write_json_atomic
from drum_accomp.evaluation.pipeline_eval import PipelineEvaluationConfig, evaluate_songs, song_files

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(kw_only=True)
class PipelineEvaluationArguments(PipelineEvaluationConfig):
    model: str = field(default="", metadata={"help": "pipeline checkpoint ('' = the bundled default)"})
    split: str = field(default="validation")
    dataset: str = field(default=str(REPO_ROOT / "data" / "accompaniment"),
                         metadata={"help": "accompaniment build whose songs table gives the split"})
    data: str = field(default=str(REPO_ROOT.parent / "shared" / "data" / "multitrack"))
    max_songs: int = field(default=0, metadata={"help": "only the first N songs (0 = all)"})
    files: str = field(default="", metadata={"help": "comma-separated multi-track MIDI files to use instead of the "
                                                     "split (e.g. your own songs)"})
    output_json: str = field(default="", metadata={"help": "write the results here ('' = print only)"})


def main(argv: list[str] | None = None) -> dict:
    (args,) = HfArgumentParser(PipelineEvaluationArguments).parse_args_into_dataclasses(args=argv)
    files = song_files(args.files, args.dataset, args.split, args.data, args.max_songs)
    drummer = pipeline("drum-accompaniment", model=args.model) if args.model else pipeline("drum-accompaniment")
    source = "the --files" if args.files else f"songs of split {args.split!r}"
    evaluation = evaluate_songs(drummer, files, args, description=source)
    results = evaluation.summary(settings=asdict(args))
    print(evaluation.format())
    if args.output_json:
        write_json_atomic(args.output_json, results, default=float)
        print(f"saved {args.output_json}")
    return results


if __name__ == "__main__":
    main()
