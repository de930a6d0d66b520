"""datasets_scripts/export_song_drums.py and the source licence of build_groove.py, on the multitrack fixture song.

An accompaniment build's ``songs`` table is made by hand (the real columns the export reads, the real MIDI bytes of
``tests/fixtures/multitrack/Amazing_grace.mid``), so the test needs no rendered build.
"""

import csv
import json
from pathlib import Path

import datasets
import pytest
from helpers import load_script

from drum_accomp.tokenization_drum import DrumTokenizer


@pytest.fixture(scope="module")
def export_script():
    return load_script("export_song_drums", folder="datasets_scripts")


@pytest.fixture(scope="module")
def build_groove():
    return load_script("build_groove", folder="datasets_scripts")


@pytest.fixture(scope="module")
def accompaniment_build(fixtures_dir, tmp_path_factory) -> Path:
    """A songs table: the fixture song as train variants 0 (clean) and 1 (augmented), and as a validation song."""
    song = (fixtures_dir / "multitrack" / "Amazing_grace.mid").read_bytes()
    folder = tmp_path_factory.mktemp("accompaniment") / "accompaniment"
    datasets.Dataset.from_dict({
        "song_id": ["multitrack/a.mid", "multitrack/a.mid", "multitrack/b.mid"],
        "split": ["train", "train", "validation"], "variant": [0, 1, 0], "has_midi": [True, True, True],
        "midi": [song, b"augmented", b"validation"],
    }).save_to_disk(str(folder / "songs"))
    return folder


def test_export_writes_the_clean_train_songs_with_info_csv_and_licence(export_script, accompaniment_build, tmp_path,
                                                                     fixtures_dir):
    output = tmp_path / "songs"
    result = export_script.main(["--accompaniment", str(accompaniment_build), "--output", str(output)])
    assert result == {"songs": 1}
    with open(output / "info.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{"id": "multitrack/a.mid", "midi_filename": "song_0000.mid", "style": "", "split": "train"}]
    # variant 0 only: the clean MIDI, byte for byte (not the augmented variant, not the validation song)
    assert (output / "song_0000.mid").read_bytes() == (fixtures_dir / "multitrack" / "Amazing_grace.mid").read_bytes()
    assert json.loads((output / "source.json").read_text())["licence"] == "cc-by-nc-sa-4.0"
    assert "CC BY-NC-SA 4.0" in (output / "LICENSE.md").read_text()


def test_groove_build_of_the_export_carries_its_licence_and_the_unknown_style(export_script, build_groove,
                                                                             accompaniment_build, tmp_path):
    songs = tmp_path / "songs"
    export_script.main(["--accompaniment", str(accompaniment_build), "--output", str(songs)])
    output = tmp_path / "groove_songs"
    build_groove.main(["--groove-dir", str(songs), "--output", str(output)])
    card = (output / "README.md").read_text()
    assert "license: cc-by-nc-sa-4.0" in card and "Tegridy" in card and "Groove MIDI Dataset v1.0.0" not in card
    train = datasets.load_from_disk(str(output))["train"]
    assert len(train) > 10 and set(train["style"]) == {"unknown"}
    tokenizer = DrumTokenizer()
    assert {tokenizer.ids_to_words(ids)[1, 0] for ids in train["input_ids"]} == {tokenizer.style_id("unknown")}


def test_export_errors_name_the_problem(export_script, accompaniment_build, tmp_path):
    with pytest.raises(FileNotFoundError, match="no songs table.*build_accompaniment"):
        export_script.main(["--accompaniment", str(tmp_path / "missing"), "--output", str(tmp_path / "out")])
    with pytest.raises(ValueError, match=r"no song with MIDI in split 'test'.*\['train', 'validation'\]"):
        export_script.main(["--accompaniment", str(accompaniment_build), "--split", "test",
                            "--output", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def test_source_json_is_checked_and_gmd_is_the_default(build_groove, tmp_path):
    assert build_groove.read_source(tmp_path)["licence"] == "cc-by-4.0"  # no source.json: GMD
    (tmp_path / "source.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        build_groove.read_source(tmp_path)
    (tmp_path / "source.json").write_text(json.dumps({"name": "x", "licence": "mit"}))
    with pytest.raises(ValueError, match=r"lacks \['credit', 'description'\]"):
        build_groove.read_source(tmp_path)
