"""scripts/evaluate.py (= ``drum-accomp evaluate --report``): a tiny real report of the bundled models on 2 real
songs (8 s each, given by file: no dataset build needed), 1 held-out-SoundFont song and 3 GMD prompts. Every figure
is in range, the baselines stand beside the model on the same songs, the Markdown shows the tables and links PNGs
that exist, report.md is made from report.json alone, and bad options fail before any long work with the fix."""

import json
import math

import pretty_midi
import pytest
from helpers import load_script

from drum_accomp.cli import main as cli_main
from drum_accomp.evaluation.pipeline_eval import SYSTEMS, PipelineEvaluationConfig, evaluate_songs
from drum_accomp.evaluation.report_markdown import format_markdown
from drum_accomp.midi import DRUM_CLASSES
from drum_accomp.render import HELD_OUT_SOUNDFONT

SONGS = ("Tiny-Karaoke-MIDI-Dataset-CC-BY-NC-SA/Eyetiger.mid", "Tiny-Karaoke-MIDI-Dataset-CC-BY-NC-SA/Drive.mid")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_script(argv: list[str]) -> dict:
    return load_script("evaluate", module_name="evaluate_report_script").main(argv)


def tiny_options(shared_data, output) -> list[str]:
    files = ",".join(str(shared_data / "multitrack" / name) for name in SONGS)
    return [f"--files={files}", "--seconds=8", "--heldout-songs=1", "--groove-examples=3", "--genre-samples=1",
            "--threads=1", f"--groove-dir={shared_data / 'groove'}", f"--output-dir={output}"]


@pytest.fixture(scope="module")
def report_dir(shared_data, tmp_path_factory):
    output = tmp_path_factory.mktemp("report") / "default_models"
    run_script(tiny_options(shared_data, output))
    return output


@pytest.fixture(scope="module")
def report(report_dir) -> dict:
    return json.loads((report_dir / "report.json").read_text())


def in_unit_range(value: float) -> bool:
    return 0.0 <= value <= 1.0


def test_report_records_how_it_was_made(report):
    assert report["command"].startswith("python scripts/evaluate.py ") and "--seconds=8" in report["command"]
    assert report["package_version"] and report["date"]
    assert set(report["models"]) == {"accompaniment", "groove", "genre_classifier"}
    for model in report["models"].values():
        assert len(model["sha256"]) == 16 and int(model["sha256"], 16) >= 0
    assert report["settings"]["seconds"] == 8 and report["settings"]["split"] == "validation"
    runtime = report["runtime_seconds"]
    assert 0 < runtime["pipeline"] < runtime["total"] and runtime["groove_per_example"] > 0


def test_pipeline_and_rock_baselines_are_scored_on_the_same_songs(report):
    pipeline = report["pipeline"]
    assert pipeline["songs_evaluated"] == 2 and pipeline["songs_skipped"] == 0
    assert [row["file"] for row in pipeline["songs"]] == [name.split("/")[-1] for name in SONGS]
    real_hits = {name: [pipeline["drum_hit_scores"][name]["classes"][drum]["reference"] for drum in DRUM_CLASSES]
                 for name in SYSTEMS}
    assert real_hits["pipeline"] == real_hits["rock_on_tracked_beats"] == real_hits["rock_on_true_beats"]
    assert sum(real_hits["pipeline"]) > 0
    for name in SYSTEMS:
        scores = pipeline["drum_hit_scores"][name]
        assert in_unit_range(pipeline["drum_hit_f1"][name]) and scores["micro"]["f1"] == pipeline["drum_hit_f1"][name]
        for values in scores["classes"].values():
            assert math.isnan(values["f1"]) or in_unit_range(values["f1"])
            assert values["matched"] <= min(values["reference"], values["estimated"])
        distance = pipeline["groove_distance"][name]
        assert distance["num_matched"] == sum(values["matched"] for values in scores["classes"].values())
        assert distance["num_files"] == 2
    for name in ("midi", "vocoder", "real_drums"):
        alignment = pipeline["beat_alignment"][name]
        assert in_unit_range(alignment["f_measure"]) and in_unit_range(pipeline["drum_audio"][name]["onset_f1"])
        assert alignment["f_measure"] == pytest.approx(pipeline["drum_audio"][name]["beat_f_measure"])
        assert len(alignment["histogram"]) == len(alignment["bin_edges_ms"]) - 1
    microtiming = pipeline["microtiming"]
    assert sum(microtiming["histograms"]["real"]) == microtiming["num_hits"]["real"] == sum(real_hits["pipeline"])


def test_generalization_row_renders_the_same_songs_with_the_held_out_soundfont(report):
    section = report["generalization"]
    assert section["heldout_soundfont"] == HELD_OUT_SOUNDFONT and section["split"] == "files"
    runs = section["runs"]
    assert set(runs) == {section["training_soundfont"], HELD_OUT_SOUNDFONT}
    for run in runs.values():
        assert run["songs_evaluated"] == 1 and run["settings"]["soundfont"] in runs
        assert all(in_unit_range(value) for value in run["drum_hit_f1"].values())
    # the same song's real drum part on both sides: only the rendering differs
    references = [sum(values["reference"] for values in run["drum_hit_scores"]["pipeline"]["classes"].values())
                  for run in runs.values()]
    assert references[0] == references[1] > 0


def test_groove_model_is_scored_beside_the_replay_baseline(report):
    groove = report["groove"]
    continuation = groove["continuation"]
    assert continuation["num_examples"] == 3
    for name in ("greedy", "sampled", "replay_last_2_bars", "real"):
        assert in_unit_range(continuation[name]["f1"])
    assert continuation["real"]["f1"] > 0.95  # the tokenizer round trip keeps the real bars
    for name in ("greedy", "sampled"):
        assert in_unit_range(continuation[name]["copy_share_onsets"])
        assert groove["groove_distance"][name]["num_files"] == 3
    genre = groove["genre"]
    assert in_unit_range(genre["accuracy"]) and genre["num_generations"] > 0
    assert sum(sum(row.values()) for row in genre["confusion"].values()) == genre["num_generations"]


def test_markdown_shows_the_tables_and_links_valid_pngs(report, report_dir):
    markdown = (report_dir / "report.md").read_text()
    for heading in ("| class | real hits | pipeline P", "### Groove distance", "### Beat alignment",
                    "## Generalization", "## Groove model", "| model, greedy |", "genre accuracy", "## Runtime"):
        assert heading in markdown
    assert report["command"] in markdown
    links = [part.split(")")[0] for part in markdown.split("](")[1:]]
    assert set(links) == set(report["plots"])
    assert {"per_class_f1.png", "microtiming.png", "beat_offsets.png", "genre_confusion.png", "piano_roll_1.png",
            "piano_roll_2.png"} <= set(links)
    for name in links:
        assert (report_dir / name).read_bytes()[:8] == PNG_MAGIC
    assert not [path.name for path in report_dir.parent.iterdir() if path.name.startswith(".")]  # no temp folder left


def test_markdown_is_made_from_the_json_alone(report, report_dir):
    assert format_markdown(report) == (report_dir / "report.md").read_text()


def test_an_existing_report_is_kept_without_overwrite(shared_data, report_dir):
    with pytest.raises(FileExistsError, match="--overwrite"):
        run_script(tiny_options(shared_data, report_dir))


def test_bad_options_fail_fast_with_the_fix(shared_data, tmp_path, capsys):
    output = tmp_path / "report"
    with pytest.raises(FileNotFoundError, match="datasets_scripts/build_accompaniment.py.*--files"):
        run_script([f"--dataset={tmp_path / 'no_build'}", f"--output-dir={output}"])
    with pytest.raises(ValueError, match="no 'nosuch' files .*it has \\['train', 'validation'\\]"):
        run_script([*tiny_options(shared_data, output), "--split=nosuch"])
    with pytest.raises(ValueError, match="--max-songs must be >= 0, got -1"):
        run_script([*tiny_options(shared_data, output), "--max-songs=-1"])
    with pytest.raises(FileNotFoundError, match="not found"):
        run_script([f"--files={tmp_path / 'missing.mid'}", f"--output-dir={output}"])
    assert not output.exists()
    # the command line says it in one line and exits with 2, in both modes
    assert cli_main(["evaluate", "--report", f"--dataset={tmp_path / 'no_build'}", f"--output-dir={output}"]) == 2
    assert "build_accompaniment.py" in capsys.readouterr().err
    assert cli_main(["evaluate"]) == 2
    assert "--report" in capsys.readouterr().err
    assert cli_main(["evaluate", "--report", "reference.mid", "generated.mid"]) == 2
    assert "takes no REFERENCE" in capsys.readouterr().err


def test_zero_songs_evaluated_is_an_error_naming_the_reasons(tmp_path):
    song = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(velocity=90, pitch=60, start=0.5 * beat, end=0.5 * beat + 0.4)
                   for beat in range(20)]
    song.instruments.append(piano)
    song.write(str(tmp_path / "no_drums.mid"))
    # the song is skipped before the pipeline or the beat tracker is needed
    with pytest.raises(ValueError, match="none of the 1 test songs could be evaluated.*no drum"):
        evaluate_songs(None, [tmp_path / "no_drums.mid"], PipelineEvaluationConfig(seconds=8), tracker=object(),
                       description="test songs")


def test_pipeline_evaluation_options_are_checked_and_passed_to_the_pipeline():
    assert "bar_smoothing" not in PipelineEvaluationConfig().sampling  # -1: the model's own
    assert PipelineEvaluationConfig(bar_smoothing=0.0).sampling["bar_smoothing"] == 0.0
    assert PipelineEvaluationConfig(genre_ensemble="false").sampling["genre_ensemble"] is False
    with pytest.raises(ValueError, match="bar_smoothing=1.5; give a weight in"):
        PipelineEvaluationConfig(bar_smoothing=1.5)
    with pytest.raises(ValueError, match="genre_ensemble='maybe'"):
        PipelineEvaluationConfig(genre_ensemble="maybe")
