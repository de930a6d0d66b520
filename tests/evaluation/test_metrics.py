"""Drum metrics on real GMD drums: F1 identical to mir_eval per class, groove distances, beat alignment."""

import json

import mir_eval
import numpy as np
import pytest

from drum_accomp.cli import main
from drum_accomp.evaluation.metrics import (
    audio_band_onsets,
    beat_alignment,
    beat_alignment_from_times,
    combine_scores,
    drum_hit_scores,
    groove_distance,
    pool_beat_alignments,
    pool_groove_distances,
    sixteenth_positions,
)
from drum_accomp.midi import DRUM_CLASSES, DrumHits, drum_hits, load_midi, midi_beats


@pytest.fixture(scope="module")
def groove_hits(groove_midi_path) -> DrumHits:
    return drum_hits(groove_midi_path)


def _jittered_thinned(hits: DrumHits, seed: int = 0, jitter: float = 0.04, keep: float = 0.8) -> DrumHits:
    """A degraded copy: 20% of hits dropped, the rest moved by up to ±40 ms, velocities changed."""
    rng = np.random.default_rng(seed)
    kept = rng.random(len(hits)) < keep
    times = hits.times[kept] + rng.uniform(-jitter, jitter, kept.sum())
    velocities = np.clip(hits.velocities[kept] + rng.integers(-10, 11, kept.sum()), 1, 127)
    order = np.lexsort((hits.classes[kept], times))
    return DrumHits(times[order], hits.classes[kept][order], velocities[order])


def test_per_class_f1_equals_mir_eval_onset_f_measure_on_real_gmd(groove_hits):
    estimated = _jittered_thinned(groove_hits)
    scores = drum_hit_scores(groove_hits, estimated, tolerance=0.05)
    checked = 0
    for class_index, name in enumerate(DRUM_CLASSES):
        reference_times = groove_hits.times[groove_hits.classes == class_index]
        estimated_times = np.sort(estimated.times[estimated.classes == class_index])
        if len(reference_times) == 0 and len(estimated_times) == 0:
            assert np.isnan(scores.f1[class_index]), name
            continue
        expected = mir_eval.onset.f_measure(reference_times, estimated_times, window=0.05)
        np.testing.assert_allclose([scores.f1[class_index], scores.precision[class_index],
                                    scores.recall[class_index]], expected, err_msg=name)
        checked += 1
    assert checked >= 3
    assert 0.3 < scores.micro_f1 < 1.0


def test_micro_average_pools_matches_over_classes(groove_hits):
    scores = drum_hit_scores(groove_hits, _jittered_thinned(groove_hits, seed=1))
    precision = scores.num_matched.sum() / scores.num_estimated.sum()
    recall = scores.num_matched.sum() / scores.num_reference.sum()
    assert scores.micro_precision == pytest.approx(precision)
    assert scores.micro_f1 == pytest.approx(2 * precision * recall / (precision + recall))
    pooled = combine_scores([scores, scores])
    assert pooled.micro_f1 == pytest.approx(scores.micro_f1)


def test_identical_hits_give_f1_one_and_zero_distances(groove_midi_path):
    midi = load_midi(groove_midi_path)
    beats, _ = midi_beats(midi)
    scores = drum_hit_scores(groove_midi_path, midi)  # a path and a PrettyMIDI of the same file
    assert scores.micro_f1 == 1.0
    present = scores.num_reference > 0
    assert np.all(scores.f1[present] == 1.0)
    groove = groove_distance(groove_midi_path, midi, beat_times=beats)
    assert groove.timing_mae_ms == 0.0 and groove.velocity_mae == 0.0
    assert groove.num_matched == scores.num_reference.sum()
    assert np.nanmax(groove.offset_wasserstein_ms) == 0.0 and np.nanmax(groove.velocity_wasserstein) == 0.0


def test_groove_distance_measures_a_constant_shift_and_velocity_change(groove_hits, groove_midi_path):
    beats, _ = midi_beats(groove_midi_path)
    shifted = DrumHits(groove_hits.times + 0.010, groove_hits.classes, np.clip(groove_hits.velocities - 5, 1, 127))
    groove = groove_distance(groove_hits, shifted, beat_times=beats)
    assert groove.timing_mae_ms == pytest.approx(10.0, abs=1e-6)
    assert groove.velocity_mae == pytest.approx(np.mean(groove_hits.velocities - np.clip(groove_hits.velocities - 5,
                                                                                         1, 127)))
    # a 10 ms shift moves every offset distribution by 10 ms (hits near a grid boundary may change position)
    assert np.nanmean(groove.offset_wasserstein_ms) == pytest.approx(10.0, abs=2.0)


def test_sixteenth_positions_on_a_regular_grid():
    beats = np.arange(0, 4, 0.5)  # 120 BPM
    times = np.array([0.0, 0.125 + 0.01, 0.25, 0.375 - 0.02, 1.0])
    positions, offsets = sixteenth_positions(times, beats)
    np.testing.assert_array_equal(positions, [0, 1, 2, 3, 0])
    np.testing.assert_allclose(offsets, [0.0, 0.01, 0.0, -0.02, 0.0], atol=1e-12)


def test_tolerance_must_be_positive(groove_hits):
    with pytest.raises(ValueError, match="tolerance"):
        drum_hit_scores(groove_hits, groove_hits, tolerance=0)


def test_beat_alignment_from_times_f_measure_and_offset_histogram():
    reference = np.arange(1.0, 20.0, 0.5)
    result = beat_alignment_from_times(reference, reference + 0.025)
    assert result.f_measure == pytest.approx(mir_eval.beat.f_measure(reference, reference + 0.025))
    assert result.f_measure == 1.0
    np.testing.assert_allclose(result.offsets, 0.025)
    assert result.histogram.sum() == len(reference)
    assert result.histogram[np.searchsorted(result.bin_edges, 0.025, side="right") - 1] == len(reference)
    assert beat_alignment_from_times(reference, reference + 0.1).f_measure == 0.0


@pytest.fixture(scope="module")
def rendered_rock():
    """12 s of a rendered rock pattern at 120 BPM, 16 kHz, with its beats."""
    from drum_accomp.evaluation.baselines import rock_pattern
    from drum_accomp.render import render_midi

    beats = np.arange(0.0, 12.0, 0.5)
    hits = rock_pattern(beats, beats[::4])
    return render_midi(hits.to_midi(bpm=120), 16000), beats, hits


def test_beat_alignment_of_rendered_drums_tracks_their_beats(rendered_rock):
    audio, beats, _ = rendered_rock
    result = beat_alignment(audio, 16000, beats, backend="librosa")
    assert result.f_measure > 0.8
    assert abs(result.median_offset_ms) < 70


def test_audio_band_onsets_cross_check_is_approximate_but_finds_the_kicks(rendered_rock):
    audio, _, hits = rendered_rock
    detected = audio_band_onsets(audio, 16000)
    same = drum_hit_scores(detected, detected)
    assert same.micro_f1 == 1.0
    kick = DRUM_CLASSES.index("kick")
    kicks = drum_hit_scores(hits, detected).recall[kick]
    assert kicks > 0.8


def test_cli_evaluate_prints_per_class_table(groove_midi_path, tmp_path, capsys):
    reference_dir, generated_dir = tmp_path / "reference", tmp_path / "generated"
    reference_dir.mkdir()
    generated_dir.mkdir()
    hits = drum_hits(groove_midi_path)
    load_midi(groove_midi_path).write(str(reference_dir / "a.mid"))
    _jittered_thinned(hits).to_midi(bpm=80).write(str(generated_dir / "a.mid"))
    assert main(["evaluate", str(reference_dir), str(generated_dir), "--tolerance", "0.05",
                 "-o", str(tmp_path / "scores.json")]) == 0
    output = capsys.readouterr().out
    assert "1 file pair(s)" in output and "micro" in output and "groove: timing MAE" in output
    for name in DRUM_CLASSES:
        assert name in output
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert {"classes", "micro", "timing_mae_ms", "velocity_mae", "offset_wasserstein_ms", "velocity_wasserstein",
            "files"} <= set(scores)
    assert 0 < scores["timing_mae_ms"] <= 40.0  # jitter of up to ±40 ms
    assert main(["evaluate", str(groove_midi_path), str(groove_midi_path)]) == 0
    assert "micro          1.000  1.000  1.000" in capsys.readouterr().out


def test_pooled_groove_distance_weights_errors_by_matched_hits(groove_hits):
    first_ten = DrumHits(groove_hits.times[:10], groove_hits.classes[:10], groove_hits.velocities[:10])
    shifted = DrumHits(groove_hits.times + 0.01, groove_hits.classes, groove_hits.velocities)
    shifted_more = DrumHits(first_ten.times + 0.03, first_ten.classes, first_ten.velocities)
    pooled = pool_groove_distances([groove_distance(groove_hits, shifted), groove_distance(first_ten, shifted_more)])
    total = len(groove_hits) + 10
    assert pooled["num_matched"] == total and pooled["num_files"] == 2
    assert pooled["timing_mae_ms"] == pytest.approx((10.0 * len(groove_hits) + 30.0 * 10) / total)
    nothing = DrumHits(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    assert np.isnan(pool_groove_distances([groove_distance(groove_hits, nothing)])["timing_mae_ms"])


def test_pooled_beat_alignment_sums_histograms_and_averages_f():
    reference = np.arange(0.0, 20.0, 0.5)
    on_time = beat_alignment_from_times(reference, reference)
    late = beat_alignment_from_times(reference, reference + 0.08)  # outside the ±70 ms tolerance
    pooled = pool_beat_alignments([on_time, late])
    assert pooled["f_measure"] == pytest.approx(0.5) and pooled["num_songs"] == 2
    assert sum(pooled["histogram"]) == 2 * len(reference)
    assert pooled["share_within_tolerance"] == pytest.approx(0.5)
    assert len(pooled["bin_edges_ms"]) == len(pooled["histogram"]) + 1
