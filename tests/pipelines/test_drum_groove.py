"""pipeline("drum-groove") on the committed groove checkpoint: style-only grooves and continuations of a real GMD
prompt stay inside the asked bars at the asked tempo and meter; seeds reproduce; bad input gets clear errors."""

import numpy as np
import pretty_midi
import pytest
from transformers import pipeline

import drum_accomp  # noqa: F401  (registers the task)
from drum_accomp.midi import drum_hits
from drum_accomp.pipelines import DrumGroovePipeline, parse_time_signature

REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def groove():
    return pipeline("drum-groove", model=str(REPO_ROOT / "checkpoints" / "groove"))


def test_the_task_builds_our_pipeline(groove):
    assert isinstance(groove, DrumGroovePipeline)


def test_a_style_alone_gives_the_asked_bars_at_the_asked_tempo(groove):
    result = groove("funk", bars=2, bpm=100, seed=0)
    hits = drum_hits(result["midi"])
    assert len(hits) > 0
    assert hits.times.max() < 2 * 4 * 60 / 100 + 1e-6  # two 4/4 bars at 100 BPM
    assert result["style"] == "funk" and result["continuation_start"] == 0.0
    again = groove("funk", bars=2, bpm=100, seed=0)
    np.testing.assert_array_equal(drum_hits(again["midi"]).times, hits.times)


def test_a_prompt_is_continued_after_its_last_bar(groove, groove_midi_path):
    result = groove(str(groove_midi_path), bars=1, style="funk", seed=0, do_sample=False)
    prompt = drum_hits(pretty_midi.PrettyMIDI(str(groove_midi_path)))
    hits = drum_hits(result["midi"])
    start = result["continuation_start"]
    assert start >= prompt.times.max() - 1e-3  # the prompt is kept whole, the new bars come after it
    new = hits.times[hits.times >= start - 1e-6]
    assert len(new) > 0 and new.max() < start + 4 * 60 / result["bpm"] + 1e-6


def test_consensus_continuation_keeps_the_hits_most_takes_play(groove, groove_midi_path):
    options = dict(bars=1, style="funk", seed=0, consensus=True)
    result = groove(str(groove_midi_path), num_samples=5, **options)
    start = result["continuation_start"]
    new = drum_hits(result["midi"]).window(start - 1e-6, start + 4 * 60 / result["bpm"])
    assert len(new) > 0
    again = groove(str(groove_midi_path), num_samples=5, **options)
    np.testing.assert_array_equal(drum_hits(again["midi"]).times, drum_hits(result["midi"]).times)
    for bad, message in ((dict(consensus="yes"), "consensus='yes'"), (dict(consensus=True, num_samples=0),
                                                                       "num_samples=0"),
                         (dict(num_samples=4), "pass consensus=True"),
                         (dict(consensus=True, num_samples="many"), "num_samples='many'"),
                         (dict(consensus=True, do_sample=False), "samples its takes"),
                         (dict(guidance_scale=0), "guidance_scale=0"), (dict(guidance_scale="high"),
                                                                        "guidance_scale='high'")):
        with pytest.raises(ValueError, match=message):
            groove("funk", bars=1, **bad)


def test_prompt_adaptation_runs_inside_the_pipeline_and_can_be_switched_off(groove, groove_midi_path):
    options = dict(bars=1, style="funk", seed=0, do_sample=False)
    adapted = drum_hits(groove(str(groove_midi_path), adaptation_steps=5, **options)["midi"])
    again = drum_hits(groove(str(groove_midi_path), adaptation_steps=5, **options)["midi"])
    np.testing.assert_array_equal(adapted.times, again.times)
    plain = drum_hits(groove(str(groove_midi_path), adaptation_steps=0, **options)["midi"])
    assert len(adapted) > 0 and len(plain) > 0
    for bad in (-1, 1.5, True, "many"):
        with pytest.raises(ValueError, match=f"adaptation_steps={bad!r}"):
            groove(str(groove_midi_path), adaptation_steps=bad, **options)


def test_a_new_groove_defaults_to_the_models_style_guidance_and_temperature(groove):
    config = groove.model.config
    assert config.style_guidance_scale > 1  # the committed model guides new grooves by default
    default = drum_hits(groove("jazz", bars=1, bpm=120, seed=2)["midi"])
    explicit = drum_hits(groove("jazz", bars=1, bpm=120, seed=2, guidance_scale=config.style_guidance_scale,
                                temperature=config.style_temperature)["midi"])
    np.testing.assert_array_equal(default.times, explicit.times)
    unguided = drum_hits(groove("jazz", bars=1, bpm=120, seed=2, guidance_scale=1.0, temperature=1.0)["midi"])
    assert len(unguided) != len(default) or not np.allclose(unguided.times, default.times)
    guided = groove("jazz", bars=1, bpm=120, seed=2, guidance_scale=3.0, consensus=True, num_samples=3)
    assert len(drum_hits(guided["midi"])) > 0 and guided["style"] == "jazz"


def test_three_four_and_audio_rendering(groove):
    result = groove("jazz", bars=2, bpm=120, time_signature="3/4", seed=1, return_audio=True)
    assert result["beats_per_bar"] == 3
    assert drum_hits(result["midi"]).times.max() < 2 * 3 * 0.5 + 1e-6
    assert result["sampling_rate"] == 44100 and result["audio"].ndim == 1 and np.abs(result["audio"]).max() > 0


def test_time_signatures_parse_or_fail_clearly():
    assert parse_time_signature("4/4") == 4 and parse_time_signature("6/8") == 2 and parse_time_signature("2/2") == 4
    with pytest.raises(ValueError, match="'7/8' is not supported"):
        parse_time_signature("7/8")
    with pytest.raises(ValueError, match="not 'N/D'"):
        parse_time_signature("waltz")


def test_bad_input_gets_clear_errors(groove, tmp_path):
    with pytest.raises(ValueError, match="unknown style 'polka'; choose one of .*funk"):
        groove("polka")
    piano = pretty_midi.PrettyMIDI()
    piano.instruments.append(pretty_midi.Instrument(program=0))
    piano.instruments[0].notes.append(pretty_midi.Note(velocity=90, pitch=60, start=0.0, end=1.0))
    with pytest.raises(ValueError, match="no drum notes"):
        groove(piano)
    with pytest.raises(FileNotFoundError, match="not found"):
        groove(str(tmp_path / "missing.mid"))
    with pytest.raises(ValueError, match="bars=0"):
        groove("funk", bars=0)
