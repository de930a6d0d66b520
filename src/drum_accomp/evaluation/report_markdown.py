"""``report.md`` of the evaluation report, made from ``report.json``'s content alone (so it can be remade from it)."""

from __future__ import annotations

import math
from typing import Any

from ..midi import DRUM_CLASSES

SYSTEM_NAMES = {"pipeline": "pipeline", "rock_on_tracked_beats": "rock, tracked beats",
                "rock_on_true_beats": "rock, true beats"}
DRUM_AUDIO_NAMES = {"midi": "generated, `midi` (the default: its MIDI through FluidSynth)",
                    "vocoder": "generated, `vocoder` (VQ-VAE + vocoder)",
                    "real_drums": "the song's real drums (reference)"}
CONTINUATION_NAMES = {"greedy": "model, greedy", "sampled": "model, sampled",
                      "consensus": "model, consensus of sampled takes",
                      "replay_last_2_bars": "replay the last 2 prompt bars (baseline)",
                      "prompt_bar_majority": "the hits most prompt bars play (baseline)",
                      "best_prompt_bars": "the best prompt bar for each bar, chosen knowing the answer (copy ceiling)",
                      "real": "the real next bars through the tokenizer (alignment check)"}


def _number(value: Any, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals; "–" for a missing or undefined (NaN) figure."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _songs(count: int) -> str:
    return f"{count} song" + ("" if count == 1 else "s")


def _table(header: list[str], rows: list[list[str]], numbers: bool = True) -> list[str]:
    """A Markdown table, the first column left-aligned and the others right-aligned when they hold ``numbers``."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:" if numbers else "---"] * (len(header) - 1)) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _header(report: dict[str, Any]) -> list[str]:
    settings, machine = report["settings"], report["machine"]
    runtime = report["runtime_seconds"]
    lines = [f"# {report['title']}", "",
             f"Made with `{report['command']}` on {report['date']} (drum_accomp {report['package_version']}; "
             f"{machine['cpu']}, {machine['threads']} torch threads; {runtime['total'] / 60:.1f} min).", ""]
    names = {"accompaniment": "accompaniment system, `pipeline(\"drum-accompaniment\")`",
             "groove": "groove model, `pipeline(\"drum-groove\")`",
             "genre_classifier": "genre classifier (tags grooves)"}
    lines += _table(["model", "folder", "SHA-256 of the weights (first 16 hex digits)"],
                    [[names[name], f"`{model['path']}`", f"`{model['sha256']}`"]
                     for name, model in report["models"].items()], numbers=False)
    lines += ["", f"Split `{settings['split']}`; first {settings['seconds']:g} s of each song; one sampled take per "
                  f"song and per prompt (seed {settings['seed']}). Songs are rendered with FluidSynth at 44.1 kHz, "
                  "backing and drums apart; the pipeline hears the backing only and tracks the beats itself. "
                  "Baselines run on the same songs and prompts: the rock pattern (kick on 1 and 3, snare on 2 and 4, "
                  "closed hi-hat on eighths) on the pipeline's tracked beats and on the true beats; replaying the "
                  "prompt's last 2 bars.",
              ""]
    return lines


def _hit_table(pipeline: dict[str, Any]) -> list[str]:
    scores = pipeline["drum_hit_scores"]
    model = scores["pipeline"]
    rows = []
    for name in DRUM_CLASSES:
        values = model["classes"][name]
        rows.append([name, str(values["reference"]), _number(values["precision"]), _number(values["recall"]),
                     _number(values["f1"])]
                    + [_number(scores[system]["classes"][name]["f1"]) for system in list(SYSTEM_NAMES)[1:]])
    total = sum(values["reference"] for values in model["classes"].values())
    rows.append(["**micro**", str(total), _number(model["micro"]["precision"]), _number(model["micro"]["recall"]),
                 f"**{_number(model['micro']['f1'])}**"]
                + [_number(scores[system]["micro"]["f1"]) for system in list(SYSTEM_NAMES)[1:]])
    return _table(["class", "real hits", "pipeline P", "pipeline R", "pipeline F1", "rock, tracked beats F1",
                   "rock, true beats F1"], rows)


def _groove_distance_table(distances: dict[str, dict[str, float]], names: dict[str, str]) -> list[str]:
    measures = [("num_matched", "matched hits", 0), ("timing_mae_ms", "timing error of matched hits (ms, mean)", 1),
                ("velocity_mae", "velocity error of matched hits (mean)", 1),
                ("mean_offset_wasserstein_ms", "W1 of microtiming per 16th position (ms)", 1),
                ("mean_velocity_wasserstein", "W1 of velocity per 16th position", 1)]
    return _table(["measure", *(names[name] for name in distances)],
                  [[label, *(_number(values[key], digits) for values in distances.values())]
                   for key, label, digits in measures])


def _pipeline_section(pipeline: dict[str, Any], plots: list[str]) -> list[str]:
    settings = pipeline["settings"]
    lines = ["## Drums for a backing track (`pipeline(\"drum-accompaniment\")`)", "",
             f"{_songs(pipeline['songs_evaluated'])} of {settings['songs']} ({pipeline['songs_skipped']} skipped: no "
             f"drum hit or under 8 beats in the span), first {settings['seconds']:g} s each.", "",
             "### Drum hits against the real drums (9 classes, ±50 ms, counts pooled over songs)", ""]
    lines += _hit_table(pipeline)
    lines += ["", "![per-class F1: pipeline and rock baselines](per_class_f1.png)", "",
              "### Groove distance to the real drums", "",
              "Timing and velocity errors of the matched hits; Wasserstein-1 distance between the generated and the "
              "real distributions of microtiming (offset from the 16th grid of the song's true beats) and velocity, "
              "per 16th position in the beat, averaged over positions and songs. Lower is closer.", ""]
    lines += _groove_distance_table(pipeline["groove_distance"], SYSTEM_NAMES)
    timing = pipeline["microtiming"]["mean_abs_ms"]
    lines += ["", f"Mean |offset| from the 16th grid: generated {_number(timing['generated'], 1)} ms, real "
                  f"{_number(timing['real'], 1)} ms.", "", "![microtiming histograms](microtiming.png)", "",
              "### Beat alignment (beats tracked by madmom on the drum audio alone vs the song's true beats)", ""]
    rows = []
    for name, values in pipeline["beat_alignment"].items():
        rows.append([DRUM_AUDIO_NAMES[name], _number(values["f_measure"]), _number(values["median_offset_ms"], 1),
                     _number(values["share_within_tolerance"]), _number(pipeline["drum_audio"][name]["onset_f1"])])
    lines += _table(["drum audio", "beat F (±70 ms)", "median offset (ms)", "tracked beats within ±70 ms",
                     "onset F1 vs the real hits"], rows)
    lines += ["", "The pipeline's own tracked beats vs the true beats: F "
                  f"{_number(pipeline['tracked_beat_f_measure'])}. "
                  f"Pipeline compute: {_number(pipeline['seconds_per_audio_second'])} s per second of audio.", "",
              "![beat offsets](beat_offsets.png)", "", "### Piano rolls: real (top) and generated (bottom)", ""]
    lines += [f"![{name}]({name})" for name in plots if name.startswith("piano_roll")]
    return lines + [""]


def _generalization_section(report: dict[str, Any]) -> list[str]:
    lines = ["## Generalization: a SoundFont never used in training", ""]
    section = report.get("generalization")
    if not section:
        return lines + ["Not run (`--heldout-songs 0`).", ""]
    training, heldout = section["training_soundfont"], section["heldout_soundfont"]
    runs = section["runs"]
    first, second = runs[training], runs[heldout]
    rows = []
    measures = [("drum-hit F1, pipeline", lambda run: run["drum_hit_f1"]["pipeline"], 3),
                ("drum-hit F1, rock on the tracked beats", lambda run: run["drum_hit_f1"]["rock_on_tracked_beats"], 3),
                ("drum-hit F1, rock on the true beats", lambda run: run["drum_hit_f1"]["rock_on_true_beats"], 3),
                ("tracked beats vs true beats (F)", lambda run: run["tracked_beat_f_measure"], 3),
                ("beat F of the generated drums (`midi`)", lambda run: run["drum_audio"]["midi"]["beat_f_measure"], 3),
                ("beat F of the real drums (reference)",
                 lambda run: run["drum_audio"]["real_drums"]["beat_f_measure"], 3),
                ("timing error of matched hits, pipeline (ms)",
                 lambda run: run["groove_distance"]["pipeline"]["timing_mae_ms"], 1)]
    for label, value, digits in measures:
        rows.append([label, _number(value(first), digits), _number(value(second), digits),
                     _number(value(second) - value(first), digits)])
    lines += [f"{_songs(first['songs_evaluated'])} of {section['songs']} (never trained on), first "
              f"{first['settings']['seconds']:g} s, rendered twice: with {training} (a training SoundFont) and with "
              f"{heldout} (never used for training data). Same songs and seed, so the difference is the SoundFont's "
              "(the generated MIDI is rendered with FluidR3_GM, as the pipeline does).", ""]
    lines += _table(["measure", f"{training} (training)", f"{heldout} (held out)", "difference"], rows)
    return lines + [""]


def _style_settings(groove: dict[str, Any]) -> str:
    """``", guidance 3, temperature 0.8"``: how the style-only grooves were sampled ('' for reports made before
    guidance existed)."""
    guidance, temperature = groove.get("guidance_scale"), groove.get("genre_temperature")
    if not isinstance(guidance, dict) or not temperature:
        return ""
    return f", guidance {guidance['style_only']:g}, temperature {temperature:g}"


def _groove_section(groove: dict[str, Any], plots: list[str]) -> list[str]:
    continuation = groove["continuation"]
    lines = ["## Groove model (`pipeline(\"drum-groove\")`)", "",
             f"{continuation['num_examples']} prompts of {groove['prompt_bars']} bars cut on bar lines from the GMD "
             f"files of split `{groove['split']}` ({groove['num_files']} files, in `info.csv` order, up to "
             f"{groove['prompts_per_file']} prompts each); the model writes the next {groove['continuation_bars']} "
             "bars, scored against the real ones (drum-hit F1, ±50 ms, pooled).", ""]
    rows = []
    for name, label in CONTINUATION_NAMES.items():
        if name not in continuation:  # a report made before consensus decoding or these baselines existed
            continue
        values, distance = continuation[name], groove["groove_distance"].get(name, {})
        if name == "sampled":
            label += f" (top-p {groove['sampling']['top_p']:g})"
        rows.append([label, f"**{_number(values['f1'])}**" if name == "greedy" else _number(values["f1"]),
                     _number(values["precision"]), _number(values["recall"]), _number(values.get("copy_share_onsets")),
                     _number(distance.get("timing_mae_ms"), 1), _number(distance.get("mean_offset_wasserstein_ms"), 1)])
    lines += _table(["continuation", "hit F1", "precision", "recall", "bars copying a prompt bar's pattern",
                     "timing error (ms)", "W1 microtiming (ms)"], rows)
    timing = groove["microtiming"]["mean_abs_ms"]
    lines += ["", f"Mean |offset| from the 16th grid: real next bars {_number(timing['reference'], 1)} ms, "
                  + ", ".join(f"{mode} {_number(timing[mode], 1)} ms" for mode in ("greedy", "sampled", "consensus")
                              if mode in timing) + ".", ""]
    genre = groove.get("genre")
    if not genre:
        return lines + ["Genre accuracy: not run (`--genre-samples 0` or no classifier).", ""]
    lines += [f"**Style-only grooves** ({genre['num_generations']}, {groove['genre_bars']} bars each from `<STYLE>` "
              f"alone, {groove.get('genre_decoding', 'sampled')}{_style_settings(groove)}), tagged by the genre "
              "classifier: genre accuracy "
              f"**{_number(genre['accuracy'])}** (balanced {_number(genre['balanced_accuracy'])}).", ""]
    lines += _table(["genre", *genre["per_genre"]], [["accuracy", *(_number(value, 2)
                                                                    for value in genre["per_genre"].values())]])
    if "genre_confusion.png" in plots:
        lines += ["", "![genre confusion matrix of style-only grooves](genre_confusion.png)"]
    return lines + [""]


def _runtime_section(report: dict[str, Any]) -> list[str]:
    runtime = report["runtime_seconds"]
    labels = {"pipeline": "pipeline, all songs", "pipeline_per_song": "pipeline, per song",
              "generalization": "generalization, both SoundFonts",
              "generalization_per_song": "generalization, per song and SoundFont",
              "groove_continuation": "groove continuations", "groove_per_example": "groove, per prompt",
              "groove_genre": "style-only grooves and their tags", "total": "total (with loading and plots)"}
    return ["## Runtime", ""] + _table(["part", "seconds"], [[label, _number(runtime[key], 1)]
                                                             for key, label in labels.items() if key in runtime]) + [""]


def format_markdown(report: dict[str, Any]) -> str:
    """The whole ``report.md``: header, pipeline, generalization, groove model, runtime."""
    plots = report.get("plots", [])
    lines = (_header(report) + _pipeline_section(report["pipeline"], plots) + _generalization_section(report)
             + _groove_section(report["groove"], plots) + _runtime_section(report))
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["format_markdown"]
