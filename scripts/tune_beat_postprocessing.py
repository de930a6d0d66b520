"""Tune the beat tracker's post-processor on validation songs (never on test songs).

Renders the validation songs of the accompaniment build once (backing only, first ``--seconds``), caches their mels
and MIDI beats in an ``.npz``, runs the network once per song, then scores post-processor settings (a small grid
over ``DrumBeatTrackerConfig`` fields) with the same song-level protocol as ``scripts/evaluate_beat_trackers.py``.
Prints one row per setting, best last; the chosen values go into ``configs/beat_tracker.json``.

    python scripts/tune_beat_postprocessing.py --model checkpoints/beat_tracker --split validation
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate_beat_trackers import (MATCH_WINDOW, RENDER_RATE, evaluation_window, split_songs,  # noqa: E402
                                    truncate_midi)

from drum_accomp.audio import SAMPLING_RATE, resample  # noqa: E402
from drum_accomp.feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor  # noqa: E402
from drum_accomp.midi import load_midi, midi_beats, split_backing_and_drums  # noqa: E402
from drum_accomp.models.beat_tracker import DrumBeatTracker, DrumBeatTrackerConfig, decode_beats  # noqa: E402
from drum_accomp.render import render_backing_and_drums  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]

GRID = {
    "tempo_std_octaves": [0.5, 1.0],
    "tightness": [100.0, 400.0],
    "tempo_level_selection": [False, True],
}


def build_cache(args) -> dict:
    import mir_eval  # noqa: F401

    files, _ = split_songs(args.dataset, args.split, args.data, keep_transcribed=False)
    extractor = BeatAlignedMelFeatureExtractor()
    cache = {}
    for path in files:
        try:
            midi = truncate_midi(load_midi(path), args.seconds)
            backing_midi, _ = split_backing_and_drums(midi)
            backing, _ = render_backing_and_drums(midi, sampling_rate=RENDER_RATE)
        except (ValueError, RuntimeError) as error:
            print(f"skip {path.name}: {str(error).split(';')[0]}")
            continue
        audio = resample(backing[:int(args.seconds * RENDER_RATE)], RENDER_RATE, SAMPLING_RATE)
        first_note = min(note.start for instrument in backing_midi.instruments for note in instrument.notes)
        beats, downbeats = midi_beats(midi)
        end = len(audio) / SAMPLING_RATE
        cache[path.name] = {"mels": extractor.mel_spectrogram(audio),
                            "beats": evaluation_window(beats, first_note, end),
                            "downbeats": evaluation_window(downbeats, first_note, end),
                            "first_note": first_note, "end": end}
    return cache


def score(cache: dict, activations: dict, config: DrumBeatTrackerConfig) -> tuple[float, float]:
    import mir_eval

    beat_scores, downbeat_scores = [], []
    for name, song in cache.items():
        decoded = decode_beats(activations[name], config)
        estimated = evaluation_window(decoded.beats, song["first_note"], song["end"])
        estimated_downbeats = evaluation_window(decoded.downbeats, song["first_note"], song["end"])
        beat_scores.append(mir_eval.beat.f_measure(song["beats"], estimated, f_measure_threshold=MATCH_WINDOW))
        downbeat_scores.append(mir_eval.beat.f_measure(song["downbeats"], estimated_downbeats,
                                                       f_measure_threshold=MATCH_WINDOW))
    return float(np.mean(beat_scores)), float(np.mean(downbeat_scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(REPO_ROOT / "checkpoints" / "beat_tracker"))
    parser.add_argument("--split", default="validation", choices=["validation"])
    parser.add_argument("--dataset", type=Path, default=REPO_ROOT / "data" / "accompaniment")
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "multitrack")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--grid", type=json.loads, default=None,
                        help='JSON {field: [values]} replacing the default grid, e.g. \'{"downbeat_floor": [0.02, 0.1]}\'')
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / "outputs" / "beat_tuning_cache.npz")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="pretty_midi")

    if args.cache.is_file():
        arrays = np.load(args.cache, allow_pickle=False)
        cache = {name: {**meta, **{key: arrays[f"{index}/{key}"] for key in ("mels", "beats", "downbeats")}}
                 for index, (name, meta) in enumerate(json.loads(arrays["index"].item()).items())}
    else:
        cache = build_cache(args)
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        index = {name: {"first_note": song["first_note"], "end": song["end"]} for name, song in cache.items()}
        arrays = {f"{i}/{key}": song[key] for i, song in enumerate(cache.values()) for key in ("mels", "beats", "downbeats")}
        np.savez(args.cache, index=np.array(json.dumps(index)), **arrays)
    print(f"{len(cache)} {args.split} songs")

    model = DrumBeatTracker.from_pretrained(args.model).eval()
    activations = {name: model.activations(song["mels"]) for name, song in cache.items()}
    base = model.config.to_dict()
    grid = args.grid or GRID
    rows = []
    for values in itertools.product(*grid.values()):
        settings = dict(zip(grid, values))
        config = DrumBeatTrackerConfig(**{**base, **settings})
        beat_f, downbeat_f = score(cache, activations, config)
        rows.append((beat_f + downbeat_f, beat_f, downbeat_f, settings))
        print(f"beat F {beat_f:.3f}  downbeat F {downbeat_f:.3f}  {settings}", flush=True)
    best = max(rows, key=lambda row: row[0])
    print(f"best: beat F {best[1]:.3f}, downbeat F {best[2]:.3f} with {best[3]}")


if __name__ == "__main__":
    main()
