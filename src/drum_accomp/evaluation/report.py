"""The evaluation report of the default models: ``drum-accomp evaluate --report`` = ``python scripts/evaluate.py``.

One run scores both bundled models on one dataset split, every metric beside its baseline on the same material:

1. ``pipeline("drum-accompaniment")`` on the split's songs (``evaluation.pipeline_eval``): drum-hit P/R/F1 per class
   and micro against the real drums, next to the rock pattern on the tracked and on the true beats; groove distance
   (timing / velocity of matched hits, W1 per 16th position); beat alignment of the drum audio; microtiming.
2. Generalization: songs never trained on (by default the build's ``test_heldout_soundfont`` songs, i.e. its test
   songs) rendered with a training SoundFont (FluidR3_GM) and with the held-out one (``render.HELD_OUT_SOUNDFONT``,
   MuseScore_General_Lite): same songs, same metrics, so the difference is the SoundFont's.
3. ``pipeline("drum-groove")``'s model on the split's GMD files (``evaluation.groove_eval``): continuations greedy
   and sampled against the replay-the-last-2-bars baseline, copy share, groove distance, microtiming, and the
   genre accuracy of style-only grooves with the confusion matrix.

Writes, into ``output_dir`` (replaced in one rename when done, so a killed run never leaves half a report):
``report.json`` (every number, the settings, the command line, date, package version, the weights' SHA-256,
runtimes), ``report.md`` (the tables) and its PNG plots. ``scripts/make_model_cards.py`` reads ``report.json`` for
the model cards' model-index.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..data.build_utils import REPO_ROOT
from ..pipelines import DEFAULT_ACCOMPANIMENT_MODEL, DEFAULT_GROOVE_MODEL
from ..render import HELD_OUT_SOUNDFONT, HELD_OUT_SOUNDFONT_SPLIT

if TYPE_CHECKING:
    from .groove_eval import GrooveEvaluation
    from .pipeline_eval import PipelineEvaluation

REPORT_JSON = "report.json"
REPORT_MARKDOWN = "report.md"
TRAINING_SOUNDFONT = "fluidr3_gm"
"""The SoundFont of the main run and of the generalization reference (the one most training songs were rendered
with); the pipeline's own ``drum_audio="midi"`` render uses it too."""
PLOT_FILES = {"per_class_f1": "per_class_f1.png", "microtiming": "microtiming.png", "beat_offsets": "beat_offsets.png",
              "genre_confusion": "genre_confusion.png", "piano_roll": "piano_roll_{index}.png"}


@dataclass
class ReportConfig:
    """Every option of the report (``add_arguments`` turns them into command-line options)."""

    split: str = field(default="validation", metadata={
        "help": "dataset split: the accompaniment build's songs and the GMD files of this split"})
    seconds: float = field(default=20.0, metadata={"help": "seconds evaluated from the start of each song"})
    max_songs: int = field(default=0, metadata={"help": "only the first N songs of the split (0 = all)"})
    files: str = field(default="", metadata={
        "help": "comma-separated multi-track MIDI files to evaluate instead of the split's songs (no build needed)"})
    heldout_songs: int = field(default=10, metadata={
        "help": "songs of the generalization row, rendered with the held-out SoundFont (0 = skip the row)"})
    heldout_files: str = field(default="", metadata={
        "help": f"comma-separated MIDI files for the generalization row (default: the build's "
                f"{HELD_OUT_SOUNDFONT_SPLIT} songs, or --files when given)"})
    groove_examples: int = field(default=0, metadata={
        "help": "groove continuation prompts from the split's GMD files (0 = all)"})
    genre_samples: int = field(default=8, metadata={
        "help": "style-only grooves per GMD style for the genre accuracy (0 = skip)"})
    seed: int = field(default=0, metadata={"help": "sampling seed of both models"})
    vocoder: bool = field(default=True, metadata={
        "help": "also score the pipeline's vocoder drum audio (most of the pipeline's compute)"})
    piano_rolls: int = field(default=3, metadata={"help": "songs drawn as piano rolls, generated vs real"})
    output_dir: str = field(default=str(Path("reports") / "default_models"), metadata={
        "help": "folder of report.json, report.md and the plots"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing report in --output-dir"})
    model: str = field(default=str(DEFAULT_ACCOMPANIMENT_MODEL), metadata={
        "help": "pipeline checkpoint (default: the bundled one)"})
    groove_model: str = field(default=str(DEFAULT_GROOVE_MODEL), metadata={
        "help": "groove model folder (default: the bundled one)"})
    classifier: str = field(default=str(REPO_ROOT / "checkpoints" / "genre_classifier"), metadata={
        "help": "genre classifier for the style-only accuracy ('' = skip)"})
    dataset: str = field(default=str(REPO_ROOT / "data" / "accompaniment"), metadata={
        "help": "accompaniment build whose songs table gives the split"})
    data: str = field(default=str(REPO_ROOT.parent / "shared" / "data" / "multitrack"), metadata={
        "help": "the multi-track MIDI folder the build read"})
    groove_dir: str = field(default=str(REPO_ROOT.parent / "shared" / "data" / "groove"), metadata={
        "help": "GMD-style folder with info.csv"})
    threads: int = field(default=2, metadata={"help": "torch CPU threads"})

    def __post_init__(self):
        for name in ("max_songs", "heldout_songs", "groove_examples", "genre_samples", "piano_rolls"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(self, name)}")
        if self.threads < 1:
            raise ValueError(f"--threads must be at least 1, got {self.threads}")
        if not self.seconds > 0:
            raise ValueError(f"--seconds must be > 0, got {self.seconds}; e.g. 20 for the first 20 s of each song")


_OPTION_TYPES = {"str": str, "int": int, "float": float}


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The report's options (``--max-songs`` or ``--max_songs``, ...), one per field of :class:`ReportConfig`."""
    for option in fields(ReportConfig):
        flags = [f"--{option.name.replace('_', '-')}"] + ([f"--{option.name}"] if "_" in option.name else [])
        shown = option.default if option.default != "" else "''"
        help_text = f"{option.metadata['help']} (default: {shown})".replace("%", "%%")
        if option.type == "bool":
            parser.add_argument(*flags, dest=option.name, action=argparse.BooleanOptionalAction,
                                default=option.default, help=help_text)
        else:
            parser.add_argument(*flags, dest=option.name, type=_OPTION_TYPES[option.type], default=option.default,
                                help=help_text)


def config_from_args(args: argparse.Namespace) -> ReportConfig:
    """The :class:`ReportConfig` of options parsed with :func:`add_arguments` (checks them)."""
    return ReportConfig(**{option.name: getattr(args, option.name) for option in fields(ReportConfig)})


# ----- the run -----------------------------------------------------------------------------------------------------


def _display_path(path: str | os.PathLike) -> str:
    """A path relative to the repository when it lies beside or inside it (the committed report stays portable)."""
    path = Path(path).resolve()
    return os.path.relpath(path, REPO_ROOT) if path.is_relative_to(REPO_ROOT.parent) else str(path)


def heldout_song_files(config: ReportConfig) -> tuple[list[Path], str]:
    """Songs of the generalization row and where they come from: ``heldout_files``, else ``files``, else the build's
    held-out split (its test songs); the first ``heldout_songs`` (none when it is 0)."""
    from .pipeline_eval import song_files

    source = ("--heldout-files" if config.heldout_files else "--files" if config.files
              else f"split {HELD_OUT_SOUNDFONT_SPLIT!r}")
    if not config.heldout_songs:
        return [], source
    files = config.heldout_files or config.files
    return song_files(files, config.dataset, HELD_OUT_SOUNDFONT_SPLIT, config.data, config.heldout_songs), source


def _microtiming(offsets_ms: dict[str, np.ndarray]) -> dict[str, Any]:
    """Histograms (``report_plots.MICROTIMING_BIN_EDGES_MS``) and mean |offset| of each series of offsets (ms)."""
    from .report_plots import MICROTIMING_BIN_EDGES_MS, microtiming_histogram

    return {"bin_edges_ms": MICROTIMING_BIN_EDGES_MS.tolist(),
            "histograms": {name: microtiming_histogram(values).tolist() for name, values in offsets_ms.items()},
            "mean_abs_ms": {name: float(np.mean(np.abs(values))) if len(values) else float("nan")
                            for name, values in offsets_ms.items()},
            "num_hits": {name: len(values) for name, values in offsets_ms.items()}}


def pipeline_section(evaluation: PipelineEvaluation, source: str) -> dict[str, Any]:
    """The JSON of one :class:`~.pipeline_eval.PipelineEvaluation`: the keys of ``scripts/evaluate_pipeline.py``,
    plus ``groove_distance``, ``beat_alignment`` and ``microtiming``."""
    result = evaluation.summary(settings={**asdict(evaluation.config), "songs": source})
    result["groove_distance"] = evaluation.groove_distances()
    result["beat_alignment"] = evaluation.beat_alignments()
    result["microtiming"] = _microtiming(evaluation.microtiming_ms())
    return result


def groove_section(evaluation: GrooveEvaluation, model: str, split: str) -> dict[str, Any]:
    """The JSON of one :class:`~.groove_eval.GrooveEvaluation`: the keys of ``scripts/evaluate_groove.py``, plus
    ``groove_distance`` and ``microtiming`` of the continuations."""
    result = evaluation.summary(model, split)
    result["groove_distance"] = evaluation.continuation.groove_distances()
    result["microtiming"] = _microtiming(evaluation.continuation.microtiming())
    result.update(prompts_per_file=evaluation.config.prompts_per_file, genre_samples=evaluation.config.genre_samples,
                  genre_bars=evaluation.config.genre_bars)
    result["seconds_continuation"] = round(evaluation.continuation_seconds, 1)
    result["seconds_genre"] = round(evaluation.genre_seconds, 1)
    return result


def run_report(config: ReportConfig, command: str, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Evaluate, plot and write the report (see the module docstring); returns the ``report.json`` content.

    Raises:
        FileExistsError: ``output_dir`` exists and ``overwrite`` is not set (checked before any long work).
        FileNotFoundError: no accompaniment build and no ``files`` (says which command builds it), a missing
            model, SoundFont or GMD folder.
        ValueError: an unknown split, bad options, or no song / prompt that could be evaluated.
    """
    import torch
    from transformers import pipeline

    from .. import __version__
    from ..benchmark import checkpoint_hash, machine_description
    from ..beats import get_beat_tracker
    from ..data.build_utils import atomic_build_dir
    from ..render import find_soundfont
    from .groove_eval import GrooveEvaluationConfig, evaluate_groove, load_groove_model, split_records
    from .pipeline_eval import DRUM_AUDIO_BEAT_TRACKER, PipelineEvaluationConfig, evaluate_songs, song_files

    started = time.perf_counter()
    # 1. Everything that can fail fast, before the long work.
    if Path(config.output_dir).exists() and not config.overwrite:
        raise FileExistsError(f"{config.output_dir!r} exists (a report?); pass --overwrite to replace it, or choose "
                              "another --output-dir")
    songs = song_files(config.files, config.dataset, config.split, config.data, config.max_songs)
    heldout, heldout_source = heldout_song_files(config)
    if heldout:
        find_soundfont(HELD_OUT_SOUNDFONT)
    records = split_records(config.groove_dir, config.split)
    models = {"accompaniment": config.model, "groove": config.groove_model}
    if config.classifier and config.genre_samples:
        models["genre_classifier"] = config.classifier
    models = {name: {"path": _display_path(path), "sha256": checkpoint_hash(path)} for name, path in models.items()}
    torch.set_num_threads(config.threads)
    source = "--files" if config.files else f"split {config.split!r}"
    report: dict[str, Any] = {
        "title": "Evaluation report of the default models", "command": command,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "package_version": __version__,
        "machine": machine_description(config.threads), "models": models,
        "settings": {**asdict(config), **{name: _display_path(getattr(config, name)) for name in
                                          ("model", "groove_model", "dataset", "data", "groove_dir")}},
        "runtime_seconds": {}}
    runtime = report["runtime_seconds"]

    # 2. The pipeline on the split's songs, rendered with the training SoundFont.
    log(f"pipeline: {len(songs)} song(s) of {source}, first {config.seconds:g} s each")
    drummer = pipeline("drum-accompaniment", model=config.model)
    tracker = get_beat_tracker(DRUM_AUDIO_BEAT_TRACKER)
    song_config = PipelineEvaluationConfig(seconds=config.seconds, soundfont=TRAINING_SOUNDFONT, seed=config.seed,
                                           vocoder=config.vocoder)
    section_started = time.perf_counter()
    split_run = evaluate_songs(drummer, songs, song_config, tracker, description=f"songs of {source}")
    report["pipeline"] = pipeline_section(split_run, source)
    runtime["pipeline"] = time.perf_counter() - section_started
    runtime["pipeline_per_song"] = runtime["pipeline"] / len(songs)

    # 3. Generalization: the held-out songs with the training and with the held-out SoundFont.
    heldout_runs = {}
    if heldout:
        section_started = time.perf_counter()
        for soundfont in (TRAINING_SOUNDFONT, HELD_OUT_SOUNDFONT):
            log(f"generalization: {len(heldout)} song(s) of {heldout_source} rendered with {soundfont}")
            heldout_runs[soundfont] = evaluate_songs(drummer, heldout, replace(song_config, soundfont=soundfont),
                                                     tracker, description=f"{soundfont} songs")
        report["generalization"] = {
            "songs": heldout_source,
            "split": HELD_OUT_SOUNDFONT_SPLIT if heldout_source.startswith("split") else "files",
            "training_soundfont": TRAINING_SOUNDFONT, "heldout_soundfont": HELD_OUT_SOUNDFONT,
            "runs": {soundfont: pipeline_section(run, heldout_source) for soundfont, run in heldout_runs.items()}}
        runtime["generalization"] = time.perf_counter() - section_started
        runtime["generalization_per_song"] = runtime["generalization"] / (2 * len(heldout))

    # 4. The groove model on the split's GMD files.
    log(f"groove model: prompts from {len(records)} GMD files of split {config.split!r}")
    model, tokenizer = load_groove_model(config.groove_model)
    groove = evaluate_groove(model, tokenizer, records, GrooveEvaluationConfig(genre_samples=config.genre_samples,
                                                                               seed=config.seed),
                             classifier=config.classifier or None, max_examples=config.groove_examples)
    report["groove"] = groove_section(groove, _display_path(config.groove_model), config.split)
    runtime["groove_continuation"] = groove.continuation_seconds
    runtime["groove_per_example"] = groove.continuation_seconds / groove.continuation.num_examples
    runtime["groove_genre"] = groove.genre_seconds

    # 5. Plots and files, in a temporary folder renamed into place.
    with atomic_build_dir(config.output_dir, overwrite=config.overwrite) as folder:
        report["plots"] = write_plots(folder, split_run, groove, report, config.piano_rolls)
        runtime["total"] = time.perf_counter() - started
        write_report_files(folder, report)
    log(f"wrote {config.output_dir}/{REPORT_MARKDOWN}, {REPORT_JSON} and {len(report['plots'])} plots "
        f"in {runtime['total']:.0f} s")
    return report


def write_plots(folder: Path, split_run: PipelineEvaluation, groove: GrooveEvaluation, report: dict[str, Any],
                piano_rolls: int) -> list[str]:
    """The report's PNGs in ``folder`` from the split run's songs, the groove evaluation and the report's pooled
    figures; returns their file names (in the order the Markdown shows them)."""
    from .genre import plot_confusion
    from .groove_eval import genre_confusion
    from .report_plots import plot_histograms, plot_per_class_f1, plot_piano_roll

    pipeline, continuation = report["pipeline"], report["groove"]
    plots = []
    scores = pipeline["drum_hit_scores"]
    plot_per_class_f1(folder / PLOT_FILES["per_class_f1"], scores,
                      f"drum-hit F1 per class, {pipeline['songs_evaluated']} songs (pooled)")
    plots.append(PLOT_FILES["per_class_f1"])
    edges = np.asarray(pipeline["microtiming"]["bin_edges_ms"])
    plot_histograms(folder / PLOT_FILES["microtiming"], {
        "pipeline: hits vs the song's 16th grid": {
            "real drums": pipeline["microtiming"]["histograms"]["real"],
            "generated": pipeline["microtiming"]["histograms"]["generated"]},
        "groove model: continuation hits vs the 16th grid": {
            "real next bars": continuation["microtiming"]["histograms"]["reference"],
            **{mode: histogram for mode, histogram in continuation["microtiming"]["histograms"].items()
               if mode != "reference"}}},
        edges, "offset from the nearest 16th note (ms, + = late)")
    plots.append(PLOT_FILES["microtiming"])
    alignment = pipeline["beat_alignment"]
    plot_histograms(folder / PLOT_FILES["beat_offsets"], {
        "beats tracked on drum audio alone vs the song's beats": {
            name.replace("_", " "): values["histogram"] for name, values in alignment.items()}},
        np.asarray(next(iter(alignment.values()))["bin_edges_ms"]),
        "offset to the nearest true beat (ms; beats beyond ±100 ms not counted)")
    plots.append(PLOT_FILES["beat_offsets"])
    if groove.genre and groove.genre["num_generations"]:
        plot_confusion(genre_confusion(groove.genre), folder / PLOT_FILES["genre_confusion"],
                       title=f"style-only grooves: genre accuracy {groove.genre['accuracy']:.3f}")
        plots.append(PLOT_FILES["genre_confusion"])
    for index, song in enumerate(split_run.songs[:piano_rolls], start=1):
        name = PLOT_FILES["piano_roll"].format(index=index)
        plot_piano_roll(folder / name, song.real, song.generated, song.true_beats,
                        f"{song.file}: first {song.seconds:g} s; hit F1 {song.hit_scores['pipeline'].micro_f1:.3f} "
                        f"(rock pattern on the tracked beats {song.hit_scores['rock_on_tracked_beats'].micro_f1:.3f})")
        plots.append(name)
    return plots


def write_report_files(folder: Path, report: dict[str, Any]) -> None:
    """``report.json`` and ``report.md`` in ``folder``, each written atomically."""
    from ..data.build_utils import write_json_atomic, write_text_atomic
    from .report_markdown import format_markdown

    write_json_atomic(folder / REPORT_JSON, report, default=float)
    write_text_atomic(folder / REPORT_MARKDOWN, format_markdown(report))


def run_from_args(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """Run with parsed :func:`add_arguments` options; ``command`` is stored in the report."""
    return run_report(config_from_args(args), command)


__all__ = ["PLOT_FILES", "REPORT_JSON", "REPORT_MARKDOWN", "ReportConfig", "add_arguments", "config_from_args",
           "run_from_args", "run_report"]
