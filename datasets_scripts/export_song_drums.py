"""Write the clean MIDI of one split's songs of an accompaniment build as a GMD-style folder, for groove training.

    python datasets_scripts/export_song_drums.py --accompaniment data/accompaniment --split train \
        --output data/song_drums_train
    python datasets_scripts/build_groove.py --groove-dir data/song_drums_train --output data/groove_songs --num-proc 2

The groove model learns from GMD alone by default (CC BY 4.0). The multi-track songs hold about as much drum playing
again (other drummers and arrangers, whole songs with verses, choruses and fills), so this script hands their drum
parts to ``build_groove.py``: it reads the build's ``songs`` table, takes variant 0 (the clean, un-augmented MIDI) of
every song of ``--split``, writes it as ``song_XXXX.mid`` and writes an ``info.csv`` (``midi_filename``, ``id``,
``split`` = train, empty ``style``: these songs have no genre, so their windows carry ``<STYLE=unknown>``) and a
``source.json`` (name, licence, credit) that ``build_groove.py`` puts on the dataset card.

Only the accompaniment build's **train** songs should be used: its validation and test songs judge the
accompaniment pipeline, whose bundle may hold a groove model. Licences travel with the data: a groove model trained on
the Tegridy multi-track songs is CC BY-NC-SA 4.0 (the folder's ``LICENSE.md`` says so, and the model card must).
The folder is written atomically (``build_utils.atomic_build_dir``).
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from drum_accomp.data.build_utils import atomic_build_dir, check_output_free

REPO_ROOT = Path(__file__).resolve().parents[1]

LICENCE_TEXT = """# Licence of this folder

Clean drum + backing MIDI of songs from an accompaniment build (`{accompaniment}`, split `{split}`), written by
`datasets_scripts/export_song_drums.py` for groove training. The songs keep the licences of their sources, as the
accompaniment build's dataset card lists them; for this project's multi-track songs (Tegridy MIDI Dataset, Project Los
Angeles) that is **CC BY-NC-SA 4.0**: non-commercial research use, share-alike. A model trained on them carries that
licence.
"""
SOURCE = {
    "name": "Drum parts of the accompaniment build's songs",
    "licence": "cc-by-nc-sa-4.0",
    "credit": "Tegridy MIDI Dataset multi-track songs (Project Los Angeles), licensed CC BY-NC-SA 4.0: non-commercial "
              "research use, share-alike; a model trained on them carries that licence.",
    "description": "Drum parts of whole songs (verses, choruses, fills; karaoke pop/rock/oldies, children's songs, "
                   "transcriptions) taken from the clean MIDI of an accompaniment build's train songs",
}
"""``source.json`` of the folder: ``build_groove.py`` credits it and carries its licence on the dataset card."""


@dataclass
class ExportArguments:
    accompaniment: str = field(default=str(REPO_ROOT / "data" / "accompaniment"),
                               metadata={"help": "accompaniment build (datasets_scripts/build_accompaniment.py)"})
    split: str = field(default="train", metadata={"help": "the songs of this split (train: never the judged ones)"})
    output: str = field(default=str(REPO_ROOT / "data" / "song_drums_train"),
                        metadata={"help": "GMD-style output folder (info.csv + MIDI files), written atomically"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing output folder"})


def export_song_drums(args: ExportArguments) -> dict[str, int]:
    """Write the folder; returns ``{"songs": n}``.

    Raises:
        FileNotFoundError: no accompaniment build (no ``songs`` table) at ``args.accompaniment``.
        ValueError: the split has no song with MIDI (names the splits it has).
    """
    from datasets import load_from_disk

    songs_dir = Path(args.accompaniment) / "songs"
    if not songs_dir.is_dir():
        raise FileNotFoundError(f"no songs table in {args.accompaniment!r}; build it with "
                                "datasets_scripts/build_accompaniment.py (or pass --accompaniment)")
    check_output_free(Path(args.output), args.overwrite)
    songs = load_from_disk(str(songs_dir))
    splits = songs["split"]
    rows = [index for index, (split, variant, has_midi) in enumerate(zip(splits, songs["variant"], songs["has_midi"]))
            if split == args.split and variant == 0 and has_midi]
    if not rows:
        raise ValueError(f"no song with MIDI in split {args.split!r} of {args.accompaniment!r}; it has "
                         f"{sorted(set(splits))}")
    midi_column = songs.select(rows).select_columns(["song_id", "midi"])
    with atomic_build_dir(Path(args.output), overwrite=args.overwrite) as folder:
        with open(folder / "info.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "midi_filename", "style", "split"])
            for number, row in enumerate(midi_column):
                name = f"song_{number:04d}.mid"
                (folder / name).write_bytes(row["midi"])
                writer.writerow([row["song_id"], name, "", "train"])
        (folder / "LICENSE.md").write_text(LICENCE_TEXT.format(accompaniment=args.accompaniment, split=args.split))
        (folder / "source.json").write_text(json.dumps(SOURCE, indent=2) + "\n")
    return {"songs": len(rows)}


def main(argv: list[str] | None = None) -> dict[str, int]:
    (args,) = HfArgumentParser(ExportArguments).parse_args_into_dataclasses(argv)
    result = export_song_drums(args)
    print(f"wrote {result['songs']} songs of split {args.split!r} to {args.output}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
