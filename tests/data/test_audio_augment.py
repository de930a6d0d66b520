"""data/audio_augment.py: seeded EQ, low-pass, reverb and noise for rendered backing tracks, on real audio."""

import json

import numpy as np
import pytest

from drum_accomp.data.audio_augment import (
    AudioAugmentConfig, add_noise, apply_audio_augmentation, augment_audio, equalize, low_pass, reverberate,
    sample_audio_augmentation,
)
from drum_accomp.midi import load_midi, split_backing_and_drums
from drum_accomp.render import render_midi

SAMPLING_RATE = 16000


@pytest.fixture(scope="module")
def backing(song_midi_path) -> np.ndarray:
    """12 s of the fixture song's real backing, rendered with FluidR3_GM."""
    backing_midi, _ = split_backing_and_drums(load_midi(song_midi_path))
    return render_midi(backing_midi, SAMPLING_RATE, duration=12.0)


def band_energy(audio: np.ndarray, low_hz: float, high_hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(audio)) ** 2
    frequencies = np.fft.rfftfreq(len(audio), 1.0 / SAMPLING_RATE)
    return float(spectrum[(frequencies >= low_hz) & (frequencies < high_hz)].sum())


def test_same_seed_same_output_and_other_seed_differs(backing):
    first, params = augment_audio(backing, SAMPLING_RATE, np.random.default_rng(7))
    again, params_again = augment_audio(backing, SAMPLING_RATE, np.random.default_rng(7))
    other, _ = augment_audio(backing, SAMPLING_RATE, np.random.default_rng(8))
    assert params == params_again
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    json.dumps(params)  # stored with the dataset as JSON


def test_every_effect_keeps_length_dtype_and_is_finite(backing):
    rng = np.random.default_rng(0)
    outputs = [
        equalize(backing, SAMPLING_RATE, [(500.0, 6.0, 1.0), (3000.0, -6.0, 0.7)]),
        low_pass(backing, SAMPLING_RATE, 3000.0),
        reverberate(backing, SAMPLING_RATE, rt60_s=0.8, wet=0.3, predelay_s=0.01, rng=rng),
        add_noise(backing, 30.0, rng, "pink"),
        augment_audio(backing, SAMPLING_RATE, rng, AudioAugmentConfig(1.0, lowpass_probability=1.0,
                                                                      reverb_probability=1.0,
                                                                      noise_probability=1.0))[0],
    ]
    for output in outputs:
        assert output.shape == backing.shape and output.dtype == np.float32
        assert np.all(np.isfinite(output))


def test_eq_boost_raises_its_band_and_cut_lowers_it(backing):
    boosted = equalize(backing, SAMPLING_RATE, [(1000.0, 6.0, 1.0)])
    cut = equalize(backing, SAMPLING_RATE, [(1000.0, -6.0, 1.0)])
    before = band_energy(backing, 800, 1250)
    assert band_energy(boosted, 800, 1250) > 2.5 * before  # +6 dB = 4x power at the centre
    assert band_energy(cut, 800, 1250) < before / 2.5
    # far from the band nothing changes much
    assert band_energy(boosted, 6000, 8000) == pytest.approx(band_energy(backing, 6000, 8000), rel=0.1)


def test_low_pass_removes_the_highs_and_keeps_the_lows(backing):
    filtered = low_pass(backing, SAMPLING_RATE, 2000.0)
    assert band_energy(filtered, 4000, 8000) < 0.01 * band_energy(backing, 4000, 8000)
    assert band_energy(filtered, 100, 1000) == pytest.approx(band_energy(backing, 100, 1000), rel=0.1)


def test_reverb_adds_a_decaying_tail_after_an_impulse():
    impulse = np.zeros(SAMPLING_RATE, dtype=np.float32)
    impulse[1000] = 1.0
    wet = reverberate(impulse, SAMPLING_RATE, rt60_s=0.5, wet=0.5, predelay_s=0.0, rng=np.random.default_rng(0))
    early, late = np.abs(wet[1100:2600]).mean(), np.abs(wet[1100 + 4000:2600 + 4000]).mean()
    assert early > 0 and late < early  # a tail that decays
    # 60 dB down after RT60 (0.5 s): the tail past 0.6 s is far below its start
    assert np.abs(wet[1000 + int(0.6 * SAMPLING_RATE):]).max() < 0.01 * np.abs(wet[1001:1500]).max()
    assert np.abs(wet[:1000]).max() < 1e-9  # nothing before the impulse (up to FFT rounding)


@pytest.mark.parametrize("color", ["white", "pink"])
def test_noise_is_added_at_the_requested_snr(backing, color):
    noisy = add_noise(backing, 25.0, np.random.default_rng(1), color)
    noise = noisy.astype(np.float64) - backing
    snr = 10 * np.log10(np.mean(backing.astype(np.float64) ** 2) / np.mean(noise ** 2))
    assert snr == pytest.approx(25.0, abs=0.1)
    if color == "pink":  # more energy per Hz in the lows than in the highs
        assert band_energy(noise, 100, 600) > 5 * band_energy(noise, 7000, 7500)


def test_silent_input_stays_silent_and_peak_is_kept(backing):
    silence = np.zeros(SAMPLING_RATE, dtype=np.float32)
    config = AudioAugmentConfig(1.0, lowpass_probability=1.0, reverb_probability=1.0, noise_probability=1.0)
    output, _ = augment_audio(silence, SAMPLING_RATE, np.random.default_rng(0), config)
    assert not output.any()
    loud, _ = augment_audio(backing, SAMPLING_RATE, np.random.default_rng(0), config)
    assert np.abs(loud).max() == pytest.approx(np.abs(backing).max(), rel=1e-5)


def test_sampled_parameters_stay_in_their_ranges():
    config = AudioAugmentConfig()
    applied = {"eq": 0, "lowpass": 0, "reverb": 0, "noise": 0}
    for seed in range(200):
        params = sample_audio_augmentation(np.random.default_rng(seed), SAMPLING_RATE, config)
        for name in applied:
            applied[name] += params[name] is not None
        if params["eq"]:
            assert 1 <= len(params["eq"]["bands"]) <= 3
            for frequency, gain, q in params["eq"]["bands"]:
                assert 100 <= frequency <= 6000 and -6 <= gain <= 6 and 0.5 <= q <= 2
        if params["lowpass"]:
            assert 3000 <= params["lowpass"]["cutoff_hz"] <= 7500
        if params["reverb"]:
            assert 0.2 <= params["reverb"]["rt60_s"] <= 1.5 and 0.05 <= params["reverb"]["wet"] <= 0.35
        if params["noise"]:
            assert 20 <= params["noise"]["snr_db"] <= 45 and params["noise"]["color"] in ("white", "pink")
    # each effect's probability is roughly respected
    assert 0.45 < applied["eq"] / 200 < 0.75 and 0.18 < applied["lowpass"] / 200 < 0.42
    assert 0.35 < applied["reverb"] / 200 < 0.65 and 0.35 < applied["noise"] / 200 < 0.65


def test_no_effect_drawn_means_unchanged_audio(backing):
    config = AudioAugmentConfig(0.0, lowpass_probability=0.0, reverb_probability=0.0, noise_probability=0.0)
    params = sample_audio_augmentation(np.random.default_rng(0), SAMPLING_RATE, config)
    assert params == {"eq": None, "lowpass": None, "reverb": None, "noise": None}
    np.testing.assert_array_equal(apply_audio_augmentation(backing, SAMPLING_RATE, params,
                                                           np.random.default_rng(0)), backing)


def test_bad_inputs_and_configs_raise_with_the_value():
    audio = np.zeros(100, dtype=np.float32)
    with pytest.raises(ValueError, match="Nyquist"):
        low_pass(audio, SAMPLING_RATE, 9000.0)
    with pytest.raises(ValueError, match="mono"):
        equalize(np.zeros((100, 2), dtype=np.float32), SAMPLING_RATE, [])
    with pytest.raises(ValueError, match="float"):
        add_noise(np.zeros(100, dtype=np.int16), 20.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="NaN"):
        low_pass(np.full(100, np.nan, dtype=np.float32), SAMPLING_RATE, 1000.0)
    with pytest.raises(ValueError, match="wet"):
        reverberate(audio, SAMPLING_RATE, 0.5, 1.5, 0.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="noise color"):
        add_noise(audio, 20.0, np.random.default_rng(0), "brown")
    with pytest.raises(ValueError, match="probability"):
        AudioAugmentConfig(eq_probability=1.5)
    with pytest.raises(ValueError, match="eq_gain_db"):
        AudioAugmentConfig(eq_gain_db=(6.0, -6.0))
