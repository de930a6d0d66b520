"""Write the model cards of the accompaniment transformer, the groove model and the bundled default system with
``huggingface_hub.ModelCard``: metadata (licence per training data, datasets, pipeline tag, model-index with the
measured results) from the checkpoints' configs, training summaries and evaluation JSONs; nothing typed by hand.

    python scripts/make_model_cards.py

Reads (each made by a script of this repository; a missing file leaves its rows out and says so):
  checkpoints/accompaniment/{config.json, training_summary.json}, model_cards/accompaniment_eval_validation.json
      (scripts/evaluate_accompaniment.py)
  checkpoints/groove/{config.json, training_summary.json}
  reports/default_models/report.json (scripts/evaluate.py, the evaluation report): the results of the default
      system and of the groove model; when it is absent, model_cards/pipeline_eval_validation.json
      (scripts/evaluate_pipeline.py) and model_cards/groove_eval_validation.json (scripts/evaluate_groove.py)
Writes model_cards/{accompaniment,groove,drum_accompaniment}.md and the same cards as README.md beside the weights
(checkpoints/accompaniment, checkpoints/groove, src/drum_accomp/pretrained/{drum_accompaniment,groove}).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData
from transformers import HfArgumentParser

REPO_ROOT = Path(__file__).resolve().parents[1]
NC_LICENCE = "cc-by-nc-sa-4.0"
GMD_LICENCE = "cc-by-4.0"
NC_NOTE = ("**Licence: CC BY-NC-SA 4.0 (non-commercial use only)**: trained on the multi-track songs of the Tegridy "
           "MIDI Dataset, which are CC BY-NC-SA 4.0. The code is Apache-2.0.")


@dataclass
class CardArguments:
    checkpoints: str = field(default=str(REPO_ROOT / "checkpoints"))
    cards_dir: str = field(default=str(REPO_ROOT / "model_cards"))
    pretrained: str = field(default=str(REPO_ROOT / "src" / "drum_accomp" / "pretrained"))
    report: str = field(default=str(REPO_ROOT / "reports" / "default_models" / "report.json"),
                        metadata={"help": "the evaluation report's JSON (scripts/evaluate.py); read when present"})


def read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def evaluation_of(args: CardArguments, section: str, fallback_json: str, fallback_command: str
                  ) -> tuple[dict[str, Any] | None, str, str]:
    """``(results, provenance, split)`` of one model: the evaluation report's ``section`` when the report exists
    (its sections keep the keys of the per-model scripts' JSON), else the script's JSON in the cards folder.
    ``provenance`` is a Markdown sentence with the command; ``split`` is ``"files"`` for pipeline songs given by file
    (the groove model always reads the split's GMD files)."""
    report = read_json(Path(args.report))
    if report and section in report:
        by_file = section == "pipeline" and report["settings"].get("files")
        return (report[section], f"From the evaluation report (`reports/default_models/report.md`), made with "
                f"`{report['command']}`.", "files" if by_file else report["settings"]["split"])
    return read_json(Path(args.cards_dir) / fallback_json), f"Command: `{fallback_command}`.", "validation"


def result(task: str, dataset: str, split: str, metric: str, value: float, name: str) -> EvalResult:
    return EvalResult(task_type=task, dataset_type=dataset, dataset_name=dataset, dataset_split=split,
                      metric_type=metric, metric_value=round(float(value), 4), metric_name=name)


def write_card(card_data: ModelCardData, body: str, targets: list[Path]) -> ModelCard:
    card = ModelCard(f"---\n{card_data.to_yaml()}\n---\n\n{body.strip()}\n")
    for target in targets:
        if target.parent.is_dir():
            card.save(target)
    return card


def training_lines(summary: dict[str, Any] | None) -> str:
    if not summary:
        return "- No training summary found (train with the command in the script's docstring)."
    hours = summary.get("train_seconds", 0) / 3600
    best = f"eval_loss {summary.get('validation', {}).get('eval_loss', float('nan')):.4f}"
    chosen = (f"exported weights: `{summary['exported_checkpoint']}` (eval_loss "
              f"{summary.get('exported_checkpoint_eval_loss', float('nan')):.4f}; the best by validation loss was "
              f"`{summary.get('best_checkpoint')}`, {best})" if "exported_checkpoint" in summary
              else f"best checkpoint by validation loss ({best})")
    lines = [f"- Command: `{summary.get('command', '?')}`",
             f"- {summary.get('global_step', '?')} optimizer steps, {summary.get('epoch', 0):.2f} epochs, "
             f"{hours:.2f} h on 2 CPU cores; {chosen}."]
    earlier = summary.get("earlier_stages") or ([summary["stage_1"]] if "stage_1" in summary else [])
    for number, stage in enumerate(earlier, start=1):
        lines.append(f"- Before it, stage {number}: `{stage.get('command', '?')}` ({stage.get('global_step', '?')} "
                     "steps).")
    if summary.get("note"):
        lines.append(f"- {summary['note']}")
    return "\n".join(lines)


# ----- the accompaniment transformer -------------------------------------------------------------------------------


def accompaniment_card(args: CardArguments) -> ModelCard:
    folder = Path(args.checkpoints) / "accompaniment"
    config, summary = read_json(folder / "config.json") or {}, read_json(folder / "training_summary.json")
    evaluation = read_json(Path(args.cards_dir) / "accompaniment_eval_validation.json")
    results, table = [], "Not evaluated yet: run `scripts/evaluate_accompaniment.py`."
    if evaluation:
        gap, f1 = evaluation["conditioning"], evaluation["drum_hit_f1"]
        results = [
            result("audio-to-audio", "tegridy-multitrack-windows", "validation", "cross_entropy",
                   gap["gap_nats_per_code"], "conditioning gap (nats/code, other song's backing minus own)"),
            result("audio-to-audio", "tegridy-multitrack-windows", "validation", "f1", f1["model_micro_f1"],
                   "drum-hit F1 (9 classes, 50 ms), generated from the backing alone"),
        ]
        table = (
            "| measure (validation windows, 10.24 s) | this model | reference |\n|---|---:|---:|\n"
            f"| drum-code cross-entropy, true backing (nats/code) | {gap['ce_true_backing']:.3f} | "
            f"another song's backing: {gap['ce_other_song_backing']:.3f} |\n"
            f"| conditioning gap (nats/code; must be >= {gap['min_gap']}) | **{gap['gap_nats_per_code']:.3f}** | |\n"
            f"| the same per decoder token ({gap.get('codes_per_step', 2)} codes) | "
            f"{gap.get('gap_nats_per_step_token', 2 * gap['gap_nats_per_code']):.3f} | |\n"
            f"| drum-hit F1, `generate()` from the backing alone | **{f1['model_micro_f1']:.3f}** | rock pattern on "
            f"the true beats: {f1['rock_baseline_micro_f1']:.3f} |\n"
            + (f"| *calibration:* the song's own most common bar, from its other windows | | "
               f"{f1['song_groove_calibration_micro_f1']:.3f} |\n"
               if f1.get("song_groove_calibration_micro_f1") is not None else "") +
            f"| decoding cost (ms per code, batch {evaluation['settings']['batch_size']}) | "
            f"{f1['generation_ms_per_code']:.2f} | |\n\n"
            f"{gap['windows']} windows for the gap, {f1['windows']} for F1 "
            f"({'sampled' if evaluation['settings']['do_sample'] else 'greedy'} decoding). Command: "
            "`python scripts/evaluate_accompaniment.py --model checkpoints/accompaniment --split validation "
            "--output_json model_cards/accompaniment_eval_validation.json`.")
    data = ModelCardData(license=NC_LICENCE, library_name="transformers", tags=["drum_accomp", "drums", "music"],
                         datasets=["tegridy-multitrack-midi"], model_name="DrumAccompanimentModel",
                         eval_results=results or None)
    parameters = summary.get("parameters") if summary else None
    mel_input = (f" + a patch embedding of each step's backing log-mels ({config['backing_mel_bins']} bands)"
                 if config.get("backing_mel_bins") else "")
    body = f"""
# DrumAccompanimentModel (`checkpoints/accompaniment`)

Backing-track VQ codes{' and log-mels' if config.get('backing_mel_bins') else ''} + beat positions (+ a genre token)
-> drum VQ codes, and per code and drum class
(9 GMD classes) whether it is hit, with what velocity and where inside the code. Part of the default
`pipeline("drum-accompaniment")` system (see `drum_accompaniment.md`).

## Model
- Encoder ({config.get('encoder_layers')} layers) over the backing codes + beat-position + genre embeddings{mel_input};
  decoder
  ({config.get('decoder_layers')} layers, d={config.get('hidden_size')}) over drum codes with cross-attention AND the
  time-aligned encoder state added at every step, {config.get('codes_per_step')} codes per decoder step
  ({25 / max(config.get('codes_per_step', 1), 1):g} steps/s), context {config.get('max_steps')} steps; longer songs
  are generated in overlapping windows.
- Two hit heads: one on the decoder state + the generated codes, and a *backing hit head* on the encoder state
  alone. The MIDI of `generate()` comes from the {config.get('hit_source', 'decoder')} head
  (`hit_source`), threshold {config.get('hit_threshold')}, peak picking over ±{config.get('hit_peak_window', 0)}
  code(s); with sampling, cells near the threshold vary from seed to seed.
- Loss: drum-code cross-entropy + {config.get('aux_loss_weight')} x hit loss + {config.get('backing_hit_loss_weight', 0)}
  x backing hit loss (each: BCE on hits, L1 on velocity and offset).
- {f'{parameters:,} parameters, ' if parameters else ''}stored in float16.

## Data and licence
Windows of the accompaniment build (`datasets_scripts/build_accompaniment.py`): backing and drums rendered apart
from real multi-track MIDI songs, song-level train/validation/test splits, genre-balanced. {NC_NOTE}

## Training
{training_lines(summary)}

## Evaluation
{table}

## Limits
- Trained on General-MIDI renders: real recordings are out of domain. The drum vocabulary is 9 classes.
- The conditioning gap shows the backing is used; matching the song's exact drum part is a hard target (many
  drum parts fit one backing), so hit F1 is a floor on quality, not a ceiling.
"""
    return write_card(data, body, [Path(args.cards_dir) / "accompaniment.md", folder / "README.md"])


# ----- the groove model --------------------------------------------------------------------------------------------


def groove_data(summary: dict[str, Any] | None) -> tuple[str, list[str], str]:
    """``(licence, dataset tags, Markdown)`` of the groove model's training data: GMD alone is CC BY 4.0; with the
    accompaniment songs' drum parts (``--extra_train`` in the training summary, this stage's or an earlier one's)
    the model is CC BY-NC-SA 4.0."""
    stages = [summary or {}] + list((summary or {}).get("earlier_stages", []))
    extra = {folder: rows for stage in stages for folder, rows in (stage.get("extra_train") or {}).items()}
    common = ("tempo and velocity augmentation, style dropout (the `<STYLE>` token replaced by `<STYLE=unknown>`, "
              "which guidance contrasts with)")
    if not extra:
        return GMD_LICENCE, ["groove-midi-dataset"], (f"Groove MIDI Dataset (Magenta), train split; {common}. "
                                                      "**Licence: CC BY 4.0** (as GMD).")
    windows = ", ".join(f"`{Path(folder).name}` ({rows:,} windows)" for folder, rows in extra.items())
    return NC_LICENCE, ["groove-midi-dataset", "tegridy-multitrack-midi"], (
        f"Groove MIDI Dataset (Magenta), train split, and the drum parts of the accompaniment build's train songs "
        f"({windows}; `datasets_scripts/export_song_drums.py`, then `build_groove.py`; they carry "
        f"`<STYLE=unknown>`); validation and checkpoint choice on GMD validation; {common}. {NC_NOTE}")


def groove_card(args: CardArguments) -> ModelCard:
    folder = Path(args.checkpoints) / "groove"
    config, summary = read_json(folder / "config.json") or {}, read_json(folder / "training_summary.json")
    evaluation, provenance, split = evaluation_of(
        args, "groove", "groove_eval_validation.json",
        "python scripts/evaluate_groove.py --model checkpoints/groove --split validation --output_json "
        "model_cards/groove_eval_validation.json")
    results, table = [], "Not evaluated yet: run `scripts/evaluate.py` (or `scripts/evaluate_groove.py`)."
    if evaluation:
        continuation = evaluation["continuation"]
        results = [result("text-generation", "groove-midi-dataset", split, "f1",
                          continuation[mode]["f1"], f"continuation hit F1, {mode}")
                   for mode in ("greedy", "sampled", "consensus") if mode in continuation]
        genre = evaluation.get("genre")
        if genre:
            results.append(result("text-generation", "groove-midi-dataset", split, "accuracy",
                                  genre["accuracy"], "genre accuracy of style-only generations"))
        rows = "\n".join(
            f"| {name} | {continuation[name]['f1']:.3f} | {continuation[name]['precision']:.3f} | "
            f"{continuation[name]['recall']:.3f} |"
            for name in ("greedy", "sampled", "consensus", "replay_last_2_bars", "prompt_bar_majority",
                         "best_prompt_bars", "real") if name in continuation)
        table = ("| 2 bars after a 4-bar prompt | hit F1 (9 classes, 50 ms) | precision | recall |\n"
                 f"|---|---:|---:|---:|\n{rows}\n\n"
                 f"{continuation['num_examples']} prompts from GMD {split} files. "
                 + (f"Style-only generations (sampled at the model's defaults: guidance "
                    f"{evaluation.get('guidance_scale', {}).get('style_only', 1.0):g}, temperature "
                    f"{evaluation.get('genre_temperature', 1.0):g}) tagged by the genre classifier: accuracy "
                    f"**{genre['accuracy']:.3f}** ({genre['num_generations']} grooves). " if genre else "")
                 + provenance)
    licence, datasets, data_text = groove_data(summary)
    data = ModelCardData(license=licence, library_name="transformers", tags=["drum_accomp", "drums", "midi"],
                         datasets=datasets, model_name="GrooveModel", eval_results=results or None)
    body = f"""
# GrooveModel (`checkpoints/groove`, `pipeline("drum-groove")`)

Continues a drum MIDI prompt, or starts from a `<STYLE=...>` token alone, in compound words (time shift,
instrument, velocity; one embedding per field summed, one head per field, sampled field by field).

## Model
- {config.get('num_hidden_layers')} causal layers, d={config.get('hidden_size')}, rotary attention in musical time,
  beat-in-bar embeddings, and a copy path that shows each step what was played one and two bars back at the same
  position ({config.get('lookback_bars')} bars), so repetition is cheap to learn without hard-coded replay.
- Greedy decoding picks the time shift on a musical grid of {config.get('greedy_grid_ticks', 0)} ticks
  (`greedy_grid_ticks`; 48 = 16th notes): the grid line holding the most probability wins, then its most likely
  tick (a plain argmax over ticks wrote too few hits).
- Consensus decoding (`generate_consensus`, `pipeline("drum-groove")(..., consensus=True)`):
  {config.get('consensus_samples')} sampled takes at temperature {config.get('consensus_temperature')}, and the
  hits at least {config.get('consensus_min_share')} of them play on the same 16th-note line, at their median timing
  and velocity.
- Prompt adaptation (`adaptation_steps`, dynamic evaluation): before continuing a prompt, a copy of the model
  takes {config.get('adaptation_steps', 0)} Adam steps (learning rate {config.get('adaptation_learning_rate', 1e-4):g})
  on the prompt's own next-word loss, so it plays this drummer's groove; the model itself is not changed (0 = off).
- Classifier-free guidance on the style (`guidance_scale`): a new groove from a style alone defaults to guidance
  {config.get('style_guidance_scale', 1.0)} at temperature {config.get('style_temperature', 1.0)}; a continuation to
  none (its prompt carries the style, and guidance pulls it away from the prompt).

## Data and licence
{data_text}

## Training
{training_lines(summary)}

## Evaluation
{table}

## Limits
- 9 drum classes (GMD map); tempo and meter come from the prompt or the caller.
"""
    return write_card(data, body, [Path(args.cards_dir) / "groove.md", folder / "README.md",
                                   Path(args.pretrained) / "groove" / "README.md"])


# ----- the default system ------------------------------------------------------------------------------------------


def generalization_rows(generalization: dict[str, Any] | None, results: list[EvalResult]) -> str:
    """Table rows of the report's generalization runs (same songs, training vs held-out SoundFont); appends the
    held-out drum-hit F1 to the model-index ``results``."""
    if not generalization:
        return ""
    heldout = generalization["heldout_soundfont"]
    runs = {name: run["drum_hit_f1"]["pipeline"] for name, run in generalization["runs"].items()}
    results.append(result("audio-to-audio", "tegridy-multitrack-songs", generalization["split"], "f1", runs[heldout],
                          "drum-hit F1 vs the real drums, songs rendered with a SoundFont never trained on "
                          f"({heldout})"))
    rows = []
    for name, value in runs.items():
        songs = generalization["runs"][name]["songs_evaluated"]
        rows.append(f"| drum-hit F1, {songs} held-out song{'s' if songs != 1 else ''} rendered with {name}"
                    f"{' (never used in training)' if name == heldout else ''} | {value:.3f} |\n")
    return "".join(rows)


def system_card(args: CardArguments) -> ModelCard:
    evaluation, provenance, split = evaluation_of(
        args, "pipeline", "pipeline_eval_validation.json",
        "python scripts/evaluate_pipeline.py --split validation --seconds 30 --output_json "
        "model_cards/pipeline_eval_validation.json")
    report = read_json(Path(args.report)) or {}
    results, table = [], "Not evaluated yet: run `scripts/evaluate.py` (or `scripts/evaluate_pipeline.py`)."
    if evaluation:
        f1, audio = evaluation["drum_hit_f1"], evaluation["drum_audio"]
        results = [
            result("audio-to-audio", "tegridy-multitrack-songs", split, "f1", f1["pipeline"],
                   "drum-hit F1 vs the real drums (tracked beats)"),
            result("audio-to-audio", "tegridy-multitrack-songs", split, "f1",
                   audio[evaluation["better_drum_audio"]]["beat_f_measure"],
                   "beat F-measure of the generated drums vs the song's beats"),
        ]
        table = (
            f"| {evaluation['songs_evaluated']} {'songs given by file' if split == 'files' else f'{split} songs'}, "
            f"first {evaluation['settings']['seconds']:g} s | "
            "value |\n|---|---:|\n"
            f"| drum-hit F1 of the pipeline's MIDI vs the real drums | **{f1['pipeline']:.3f}** |\n"
            f"| rock pattern on the same tracked beats | {f1['rock_on_tracked_beats']:.3f} |\n"
            f"| rock pattern on the true beats | {f1['rock_on_true_beats']:.3f} |\n"
            f"| tracked beats vs true beats (F) | {evaluation['tracked_beat_f_measure']:.3f} |\n"
            + "".join(f"| generated drums' beats vs the song's (F), drum audio `{name}` | "
                      f"{audio[name]['beat_f_measure']:.3f} |\n" for name in ("midi", "vocoder"))
            + f"| the real drums' beats vs the song's (F), reference | {audio['real_drums']['beat_f_measure']:.3f} |\n"
            f"| compute, s per audio s | {evaluation['seconds_per_audio_second']:.3f} |\n"
            + generalization_rows(report.get("generalization"), results)
            + f"\n{provenance}")
    data = ModelCardData(license=NC_LICENCE, library_name="transformers", pipeline_tag="audio-to-audio",
                         tags=["drum_accomp", "drums", "music", "accompaniment"],
                         datasets=["tegridy-multitrack-midi", "groove-midi-dataset"],
                         model_name="drum_accomp default system", eval_results=results or None)
    body = f"""
# drum_accomp default model (`src/drum_accomp/pretrained/drum_accompaniment`)

The checkpoint `pipeline("drum-accompaniment")` loads when no `model=` is given: one `DrumAccompanimentSystem`
holding the backing VQ-VAE, the accompaniment transformer, the drum VQ-VAE, the vocoder and the beat tracker
(float16), with the feature extractor's `preprocessor_config.json`. Made by `scripts/export_default_models.py`
from `checkpoints/` (cards of each part in `model_cards/`).

```python
from transformers import pipeline
import drum_accomp

result = pipeline("drum-accompaniment")("backing.wav", genre="funk", seed=0)
```

## Licence
{NC_NOTE} The drum VQ-VAE and the vocoder were trained on Groove MIDI Dataset renders (CC BY 4.0).

## Evaluation
{table}

## Intended use and limits
- Drums for demos, sketches and research on CPU; outputs are drafts to edit (the MIDI is the editable part).
- Trained on General-MIDI renders of karaoke-style songs: real recordings, dense mixes and non-Western meters are
  out of domain; the beat tracker may pick half or double time (pass `beats=` to fix).
"""
    return write_card(data, body, [Path(args.cards_dir) / "drum_accompaniment.md",
                                   Path(args.pretrained) / "drum_accompaniment" / "README.md"])


def main(argv: list[str] | None = None) -> dict[str, ModelCard]:
    (args,) = HfArgumentParser(CardArguments).parse_args_into_dataclasses(args=argv)
    cards = {"accompaniment": accompaniment_card(args), "groove": groove_card(args), "system": system_card(args)}
    for name, card in cards.items():
        print(f"{name}: {len(card.data.eval_results or [])} evaluation results")
    return cards


if __name__ == "__main__":
    main()
