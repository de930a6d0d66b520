"""drum-accomp generate / groove / demo write their files, build / train / finetune run the repository's scripts, and
errors exit with code 2 and one clear line."""

import json

import datasets
import pretty_midi
import pytest
import soundfile
from helpers import REPO_ROOT, save_tiny_checkpoint

from drum_accomp import cli

EXAMPLE = REPO_ROOT / "examples" / "slakh_Track00001"


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny_system"))


def test_generate_writes_the_four_files(tiny_checkpoint, tmp_path):
    output = tmp_path / "out"
    code = cli.main(["generate", str(EXAMPLE / "backing_30s.flac"), "-o", str(output), "--model",
                     str(tiny_checkpoint), "--genre", "rock", "--seed", "1"])
    assert code == 0
    assert {"drums.wav", "mix.wav", "drums.mid", "drums.png"} <= {path.name for path in output.iterdir()}
    drums, rate = soundfile.read(output / "drums.wav")
    backing_info = soundfile.info(str(EXAMPLE / "backing_30s.flac"))
    assert rate == backing_info.samplerate and len(drums) == backing_info.frames
    pretty_midi.PrettyMIDI(str(output / "drums.mid"))


def test_generate_with_a_beats_file(tiny_checkpoint, tmp_path):
    beats = tmp_path / "beats.json"
    beats.write_text(json.dumps({"beats": [0.5 * k for k in range(1, 50)], "downbeats": [0.5, 2.5, 4.5]}))
    assert cli.main(["generate", str(EXAMPLE / "backing_30s.flac"), "-o", str(tmp_path / "out"), "--model",
                     str(tiny_checkpoint), "--beats", str(beats)]) == 0


def test_errors_exit_2_with_one_line(tiny_checkpoint, tmp_path, capsys):
    assert cli.main(["generate", str(tmp_path / "missing.wav"), "-o", str(tmp_path), "--model",
                     str(tiny_checkpoint)]) == 2
    assert "not found" in capsys.readouterr().err
    assert cli.main(["generate", str(EXAMPLE / "backing_30s.flac"), "-o", str(tmp_path), "--model",
                     str(tiny_checkpoint), "--genre", "polka"]) == 2
    assert "unknown genre 'polka'" in capsys.readouterr().err
    broken = tmp_path / "beats.json"
    broken.write_text("0.5, 1.0, 1.5")
    assert cli.main(["generate", str(EXAMPLE / "backing_30s.flac"), "-o", str(tmp_path), "--model",
                     str(tiny_checkpoint), "--beats", str(broken)]) == 2
    assert "is not JSON" in capsys.readouterr().err
    assert cli.main(["groove", "-o", str(tmp_path / "x.mid")]) == 2
    assert "either --style" in capsys.readouterr().err


def test_groove_writes_midi_and_audio(tmp_path):
    output = tmp_path / "funk.mid"
    assert cli.main(["groove", "--style", "funk", "--bars", "2", "--bpm", "100", "--audio", "-o", str(output),
                     "--model", str(REPO_ROOT / "checkpoints" / "groove")]) == 0
    assert len(pretty_midi.PrettyMIDI(str(output)).instruments[0].notes) > 0
    assert soundfile.info(str(output.with_suffix(".wav"))).samplerate == 44100


def test_groove_continues_a_prompt_by_consensus(tmp_path, groove_midi_path, capsys):
    output = tmp_path / "more.mid"
    model = str(REPO_ROOT / "checkpoints" / "groove")
    assert cli.main(["groove", "--prompt", str(groove_midi_path), "--bars", "1", "--consensus", "-o", str(output),
                     "--model", model]) == 0
    prompt_hits = sum(len(instrument.notes) for instrument in pretty_midi.PrettyMIDI(str(groove_midi_path)).instruments)
    assert len(pretty_midi.PrettyMIDI(str(output)).instruments[0].notes) > prompt_hits  # the prompt, then more
    assert cli.main(["groove", "--prompt", str(groove_midi_path), "--greedy", "--consensus", "-o", str(output)]) == 2
    assert "give one of them" in capsys.readouterr().err


def test_benchmark_subcommand_takes_the_script_options():
    args = cli.build_parser().parse_args(["benchmark", "--durations", "30", "180", "--runs", "5", "--no-madmom"])
    assert args.durations == [30.0, 180.0] and args.runs == 5 and args.madmom is False
    assert args.model.endswith("pretrained/drum_accompaniment") and args.long_seconds == 600.0


def test_benchmark_refuses_bad_options_with_exit_code_2(capsys):
    assert cli.main(["benchmark", "--runs", "0"]) == 2
    assert "--runs must be at least 1" in capsys.readouterr().err
    assert cli.main(["benchmark", "--durations", "-3"]) == 2
    assert "song lengths must be > 0 s" in capsys.readouterr().err


def test_build_runs_the_dataset_script_with_the_arguments_after_its_name(tmp_path, shared_data):
    output = tmp_path / "groove"
    assert cli.main(["build", "groove", "--groove-dir", str(shared_data / "groove"), "--output", str(output),
                     "--limit", "2", "--min-files-per-genre", "1"]) == 0
    built = datasets.load_from_disk(str(output))
    assert len(built["train"]) > 0 and len(built["validation"]) > 0 and (output / "manifest.json").is_file()


def test_train_and_finetune_pass_help_and_errors_of_their_scripts(capsys, tmp_path):
    assert cli.main(["train", "groove", "--help"]) == 0
    assert "--config CONFIG" in capsys.readouterr().out  # the script's own options
    assert cli.main(["finetune", "--help"]) == 0
    assert "--source SOURCE" in capsys.readouterr().out
    assert cli.main(["train", "groove", "--config", str(tmp_path / "missing.json"), "--output_dir",
                     str(tmp_path / "out")]) == 2
    assert "training config not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit:
        cli.main(["train", "polka"])
    assert exit.value.code == 2 and "invalid choice: 'polka'" in capsys.readouterr().err


def test_repository_scripts_missing_give_a_clear_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "REPO_ROOT", tmp_path)  # an installed package without the repository
    assert cli.main(["train", "groove", "--help"]) == 2
    assert "clone the repository" in capsys.readouterr().err
