"""DrumTokenizer: exact round trip on real GMD files, shift words, robustness to any ids, save/load, STYLE tokens."""

import numpy as np
import pretty_midi
import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from drum_accomp import DrumTokenizer
from drum_accomp.genres import style_vocabulary
from drum_accomp.midi import DRUM_CLASSES, DrumHits, drum_hits, load_midi
from drum_accomp.tokenization_drum import beats_to_times, times_to_beats

GROOVE_FIXTURES = ["1_funk_80_beat_4-4.mid", "100_neworleans-secondline_94_beat_4-4.mid", "4_jazz_120_beat_3-4.mid"]
MAX_ONSET_ERROR = 0.005  # seconds
MAX_VELOCITY_ERROR = 4


@pytest.fixture(scope="module")
def tokenizer() -> DrumTokenizer:
    return DrumTokenizer()


def assert_same_hits(tokenizer, midi, decoded):
    """Every encoded hit comes back: same count, exact classes, onsets within 5 ms, velocities within 4."""
    original, _ = tokenizer.quantized_hits(midi)
    again = drum_hits(decoded)
    assert len(again) == len(original)
    np.testing.assert_array_equal(again.classes, original.classes)
    assert np.abs(again.times - original.times).max() <= MAX_ONSET_ERROR
    assert np.abs(again.velocities - original.velocities).max() <= MAX_VELOCITY_ERROR


@pytest.mark.parametrize("name", GROOVE_FIXTURES)
def test_round_trip_keeps_every_hit_on_real_gmd_files(tokenizer, fixtures_dir, name):
    midi = load_midi(fixtures_dir / "groove" / name)
    ids = tokenizer.encode_midi(midi, style="funk")
    assert_same_hits(tokenizer, midi, tokenizer.decode_midi(ids, beat_times=midi.get_beats()))
    # GMD files have one tempo: decoding at that bpm is as good as decoding on the beats
    assert_same_hits(tokenizer, midi, tokenizer.decode_midi(ids, bpm=midi.get_tempo_changes()[1][0]))


def test_round_trip_stays_within_5_ms_at_50_bpm_the_slowest_gmd_tempo(tokenizer, groove_midi_path):
    midi = load_midi(groove_midi_path)  # 80 BPM
    midi.adjust_times([0.0, midi.get_end_time()], [0.0, midi.get_end_time() * 80.0 / 50.0])
    assert midi.get_tempo_changes()[1][0] == pytest.approx(50.0)
    ids = tokenizer.encode_midi(midi)
    assert_same_hits(tokenizer, midi, tokenizer.decode_midi(ids, bpm=50.0))


def test_round_trip_survives_writing_the_decoded_midi_to_disk(tokenizer, groove_midi_path, tmp_path):
    midi = load_midi(groove_midi_path)
    decoded = tokenizer.decode_midi(tokenizer.encode_midi(midi), bpm=80.0)
    decoded.write(str(tmp_path / "decoded.mid"))
    reread = load_midi(tmp_path / "decoded.mid")
    assert [instrument.is_drum for instrument in reread.instruments] == [True]
    assert_same_hits(tokenizer, midi, reread)


def test_positions_are_quantized_absolutely_so_errors_do_not_accumulate(tokenizer, fixtures_dir):
    midi = load_midi(fixtures_dir / "groove" / "100_neworleans-secondline_94_beat_4-4.mid")
    hits, ticks = tokenizer.quantized_hits(midi)
    decoded = tokenizer.decode_tokens(tokenizer.encode_midi(midi), beat_times=midi.get_beats())
    np.testing.assert_array_equal(decoded.ticks, ticks)
    errors = np.abs(decoded.hits.times - hits.times)
    half_tick = 0.5 * (60.0 / 94.0) / tokenizer.ticks_per_beat
    assert errors.max() <= half_tick + 1e-6  # as large at the end of a 2-minute file as at its start


def test_long_gaps_round_trip_through_shift_words(tokenizer):
    max_dt = tokenizer.max_dt
    gaps_in_ticks = [0, 1, max_dt, max_dt + 1, 2 * max_dt, 2 * max_dt + 1, 7 * max_dt + 5, 40 * max_dt]
    ticks = np.cumsum(gaps_in_ticks) + 3 * max_dt  # a pickup of three beats of silence too
    bpm = 100.0
    hits = DrumHits(times=ticks / tokenizer.ticks_per_beat * 60.0 / bpm,
                    classes=np.arange(len(ticks)) % len(DRUM_CLASSES), velocities=np.full(len(ticks), 90))
    ids = tokenizer.encode_midi(hits.to_midi(bpm=bpm))
    words = tokenizer.ids_to_words(ids)
    shift = tokenizer.num_special_tokens + tokenizer.shift_instrument
    expected_shifts = sum(max(0, (gap - 1) // max_dt) for gap in np.diff(ticks, prepend=0))
    assert int((words[:, 1] == shift).sum()) == expected_shifts > 40
    assert words[:, 0].max() - tokenizer.num_special_tokens <= max_dt
    decoded = tokenizer.decode_tokens(ids, bpm=bpm)
    assert decoded.num_shift_words == expected_shifts and decoded.num_invalid_words == 0
    np.testing.assert_array_equal(decoded.ticks, ticks)
    np.testing.assert_allclose(decoded.hits.times, hits.times, atol=1e-9)


def test_random_ids_never_crash_and_invalid_words_are_counted(tokenizer, groove_midi_path):
    rng = np.random.default_rng(0)
    valid = tokenizer.encode_midi(groove_midi_path)
    special = tokenizer.num_special_tokens
    for trial in range(300):
        if trial % 3 == 0:  # uniform noise, including ids outside the vocabulary
            ids = rng.integers(-5, len(tokenizer) + 5, size=rng.integers(0, 120)).tolist()
        elif trial % 3 == 1:  # a real sequence with corrupted, dropped and inserted tokens
            ids = list(valid[: rng.integers(1, 300)])
            for _ in range(rng.integers(1, 10)):
                position = int(rng.integers(0, len(ids) + 1))
                action = rng.integers(0, 3)
                if action == 0 and position < len(ids):
                    ids[position] = int(rng.integers(-2, len(tokenizer) + 2))
                elif action == 1 and position < len(ids):
                    del ids[position]
                else:
                    ids.insert(position, int(rng.integers(0, len(tokenizer))))
        else:  # well-formed words in a random field order
            ids = rng.permutation(valid[2:200]).tolist()
        decoded = tokenizer.decode_tokens(ids)
        assert isinstance(decoded.midi, pretty_midi.PrettyMIDI)
        assert len(decoded.midi.instruments[0].notes) == decoded.num_hits
        # every token read is a special, part of a complete word, or counted as invalid
        read = ids[: ids.index(tokenizer.eos_token_id)] if decoded.stopped_at_eos else ids
        num_specials = sum(0 <= token < special for token in read)
        assert num_specials + 3 * (decoded.num_hits + decoded.num_shift_words) + decoded.num_invalid_tokens == len(read)
        assert (decoded.num_invalid_words == 0) == (decoded.num_invalid_tokens == 0)
        assert decoded.num_invalid_words <= decoded.num_invalid_tokens
        if decoded.num_hits:
            assert np.all(np.diff(decoded.hits.times) >= 0)
            assert decoded.hits.velocities.min() >= 1 and decoded.hits.velocities.max() <= 127


def test_malformed_words_are_skipped_and_counted_one_each(tokenizer):
    dt, inst, vel = (tokenizer.field_offsets[0] + 10, tokenizer.field_offsets[1] + 0, tokenizer.field_offsets[2] + 5)
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    cases = {
        "clean": ([bos, dt, inst, vel, eos], 1, 0),
        "truncated at the end": ([bos, dt, inst, vel, dt, inst], 1, 1),
        "wrong field order": ([inst, dt, vel, dt, inst, vel], 1, 3),  # stray inst; dt cut by vel; stray vel
        "special inside a word": ([dt, bos, inst, vel, dt, inst, vel], 1, 3),
        "out of range id": ([dt, inst, 10**9, dt, inst, vel, -1], 1, 3),
        "eos stops decoding": ([dt, inst, vel, eos, dt, inst, vel], 1, 0),
    }
    for name, (ids, hits, invalid) in cases.items():
        decoded = tokenizer.decode_tokens(ids)
        assert (decoded.num_hits, decoded.num_invalid_words) == (hits, invalid), name


def test_decode_accepts_tensors_arrays_and_per_field_words(tokenizer, groove_midi_path):
    torch = pytest.importorskip("torch")
    ids = tokenizer.encode_midi(groove_midi_path, style="funk")
    reference = tokenizer.decode_tokens(ids).hits
    for variant in (np.array(ids), torch.tensor([ids]), tokenizer.ids_to_words(ids)):
        decoded = tokenizer.decode_tokens(variant)
        np.testing.assert_array_equal(decoded.hits.times, reference.times)
        assert decoded.style == "funk"
    words = tokenizer.ids_to_words(ids)
    words[5] = (tokenizer.num_special_tokens, 0, 10**6)  # a row no head should produce
    assert tokenizer.decode_tokens(words).num_invalid_words == 1


def test_ids_to_words_gives_per_field_indices_and_round_trips(tokenizer, groove_midi_path):
    ids = tokenizer.encode_midi(groove_midi_path, style="jazz")
    words = tokenizer.ids_to_words(ids)
    assert words.shape == ((len(ids) - 3) // 3 + 3, 3)
    assert tuple(words[0]) == (tokenizer.bos_token_id,) * 3 and tuple(words[1]) == (tokenizer.style_id("jazz"),) * 3
    assert tuple(words[-1]) == (tokenizer.eos_token_id,) * 3
    assert np.all(words.max(axis=0) < np.array(tokenizer.field_sizes))
    assert tokenizer.words_to_ids(words) == ids
    with pytest.raises(ValueError, match="not a <dt, instrument, velocity> word"):
        tokenizer.ids_to_words(ids[:3] + ids[4:])
    with pytest.raises(ValueError, match="is not a word"):
        tokenizer.words_to_ids([[1, 2, 3]])


def test_word_ticks_give_each_word_its_running_beat_position(tokenizer, groove_midi_path):
    ids = tokenizer.encode_midi(groove_midi_path)
    words = tokenizer.ids_to_words(ids)
    hits, ticks = tokenizer.quantized_hits(groove_midi_path)
    is_hit = (words[:, 0] >= tokenizer.num_special_tokens) & (
        words[:, 1] != tokenizer.num_special_tokens + tokenizer.shift_instrument)
    np.testing.assert_array_equal(tokenizer.word_ticks(words)[is_hit], ticks)
    np.testing.assert_allclose(tokenizer.word_beats(words)[is_hit], ticks / tokenizer.ticks_per_beat)


def test_field_ranges_partition_the_flat_vocabulary(tokenizer):
    ranges = tokenizer.field_ranges
    assert ranges["dt"].start == tokenizer.num_special_tokens
    assert ranges["dt"].stop == ranges["instrument"].start and ranges["instrument"].stop == ranges["velocity"].start
    assert ranges["velocity"].stop == tokenizer.vocab_size == len(tokenizer)
    assert len(ranges["dt"]) == tokenizer.max_dt + 1 == tokenizer.ticks_per_beat + 1
    assert len(ranges["instrument"]) == len(DRUM_CLASSES) + 1 and len(ranges["velocity"]) == 32
    assert tokenizer.field_sizes == tuple(tokenizer.num_special_tokens + len(r) for r in ranges.values())
    assert tokenizer.convert_ids_to_tokens(list(ranges["instrument"]))[-1] == "inst_shift"


def test_velocity_bins_decode_within_2_of_every_midi_velocity(tokenizer):
    velocities = np.arange(1, 128)
    decoded = tokenizer.bin_to_velocity(tokenizer.velocity_to_bin(velocities))
    assert np.abs(decoded - velocities).max() <= 2
    assert decoded.min() >= 1 and decoded.max() <= 127


def test_style_tokens_come_from_the_genre_file(tokenizer):
    assert tokenizer.styles == style_vocabulary()
    vocab = tokenizer.get_vocab()
    for name in style_vocabulary():
        assert vocab[f"<STYLE={name}>"] == tokenizer.style_id(name) < tokenizer.num_special_tokens
    assert tokenizer.style_id("funk/purdieshuffle") == tokenizer.style_id("funk")
    assert tokenizer.style_id(None) == tokenizer.style_id("unknown")
    with pytest.raises(ValueError, match="unknown genre 'polka'.*choose one of"):
        tokenizer.encode_midi(one_kick_midi(), style="polka")


def one_kick_midi():
    return DrumHits(np.array([0.0]), np.array([0]), np.array([100])).to_midi()


def test_encode_starts_with_bos_and_style_and_ends_with_eos(tokenizer, groove_midi_path):
    ids = tokenizer.encode_midi(groove_midi_path, style="Funk/Groove1")
    assert ids[:2] == [tokenizer.bos_token_id, tokenizer.style_id("funk")] and ids[-1] == tokenizer.eos_token_id
    assert (len(ids) - 3) % 3 == 0
    assert tokenizer.encode_midi(groove_midi_path, add_special_tokens=False) == ids[2:-1]


def test_midi_without_drums_raises_a_value_error_naming_the_fix(tokenizer):
    midi = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes.append(pretty_midi.Note(velocity=80, pitch=60, start=0.0, end=1.0))
    midi.instruments.append(piano)
    with pytest.raises(ValueError, match="no drum notes.*channel 10"):
        tokenizer.encode_midi(midi)


def test_call_and_encode_on_midi_run_encode_midi(tokenizer, fixtures_dir, groove_midi_path):
    ids = tokenizer.encode_midi(groove_midi_path, style="funk")
    assert tokenizer.encode(str(groove_midi_path), style="funk") == ids
    assert tokenizer(groove_midi_path, style="funk")["input_ids"] == ids
    assert tokenizer(midi=load_midi(groove_midi_path), style="funk")["input_ids"] == ids
    tensors = tokenizer(groove_midi_path, style="funk", return_tensors="pt")
    assert tuple(tensors["input_ids"].shape) == (1, len(ids)) and int(tensors["attention_mask"].sum()) == len(ids)
    other = fixtures_dir / "groove" / "4_jazz_120_beat_3-4.mid"
    batch = tokenizer([groove_midi_path, other], style=["funk", "jazz"], padding=True, return_tensors="np")
    lengths = batch["attention_mask"].sum(axis=1)
    assert batch["input_ids"].shape == (2, lengths.max())
    assert batch["input_ids"][0, : lengths[0]].tolist() == ids
    assert np.all(batch["input_ids"][batch["attention_mask"] == 0] == tokenizer.pad_token_id)
    assert len(tokenizer(groove_midi_path, max_length=32, truncation=True)["input_ids"]) == 32


def test_token_strings_encode_and_decode_like_any_tokenizer(tokenizer):
    text = "<bos> <STYLE=rock> dt_0 inst_kick vel_20 dt_96 inst_snare vel_25 <eos>"
    ids = tokenizer(text)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert tokenizer.decode(ids, skip_special_tokens=True) == "dt_0 inst_kick vel_20 dt_96 inst_snare vel_25"
    assert tokenizer.decode_tokens(ids).num_hits == 2
    assert tokenizer.decode([len(tokenizer) + 7]) == f"<invalid:{len(tokenizer) + 7}>"
    with pytest.raises(ValueError, match="unknown drum token 'dt_x'"):
        tokenizer("dt_x")


def test_bar_tokens_mark_each_downbeat_and_do_not_move_hits(fixtures_dir):
    tokenizer = DrumTokenizer(add_bar_tokens=True)
    midi = load_midi(fixtures_dir / "groove" / "4_jazz_120_beat_3-4.mid")
    ids = tokenizer.encode_midi(midi, style="jazz")
    hits, ticks = tokenizer.quantized_hits(midi)
    bar_ticks = tokenizer.midi_ticks(midi, midi.get_downbeats())
    assert ids.count(tokenizer.bar_token_id) == int((bar_ticks <= ticks[-1]).sum())
    assert np.all(np.diff(bar_ticks) == 3 * tokenizer.ticks_per_beat)  # 3/4
    decoded = tokenizer.decode_tokens(ids, beat_times=midi.get_beats())
    np.testing.assert_array_equal(decoded.ticks, ticks)
    assert decoded.num_invalid_words == 0


def test_save_and_load_keep_config_and_vocabulary(tmp_path, groove_midi_path):
    tokenizer = DrumTokenizer(ticks_per_beat=96, max_dt=384, num_velocity_bins=16, add_bar_tokens=True)
    tokenizer.save_pretrained(tmp_path)
    assert (tmp_path / "vocab.json").is_file()
    for loaded in (DrumTokenizer.from_pretrained(tmp_path), AutoTokenizer.from_pretrained(tmp_path)):
        assert isinstance(loaded, DrumTokenizer) and isinstance(loaded, PreTrainedTokenizerBase)
        assert (loaded.ticks_per_beat, loaded.max_dt, loaded.num_velocity_bins, loaded.add_bar_tokens) == (
            96, 384, 16, True)
        assert loaded.get_vocab() == tokenizer.get_vocab() and len(loaded) == len(tokenizer)
        assert loaded.all_special_ids == tokenizer.all_special_ids
        assert loaded.encode_midi(groove_midi_path, "rock") == tokenizer.encode_midi(groove_midi_path, "rock")


def test_saved_styles_keep_their_ids_even_if_the_genre_file_changes(tmp_path):
    DrumTokenizer(styles=["rock", "jazz", "unknown"]).save_pretrained(tmp_path)
    loaded = DrumTokenizer.from_pretrained(tmp_path)
    assert loaded.styles == ["rock", "jazz", "unknown"] and loaded.num_special_tokens == 7
    with pytest.raises(ValueError, match="no STYLE token in this tokenizer"):
        loaded.style_id("funk")


def test_bad_config_values_raise_errors_naming_the_value():
    with pytest.raises(ValueError, match="ticks_per_beat must be >= 1, got 0"):
        DrumTokenizer(ticks_per_beat=0)
    with pytest.raises(ValueError, match="num_velocity_bins must be in 1..127, got 200"):
        DrumTokenizer(num_velocity_bins=200)
    with pytest.raises(ValueError, match="bos_token is fixed"):
        DrumTokenizer(bos_token="<s>")
    with pytest.raises(ValueError, match="bpm must be a positive number, got 0"):
        DrumTokenizer().decode_midi([], bpm=0)


def test_beat_interpolation_extrapolates_past_both_ends_and_inverts():
    beat_times = np.array([1.0, 1.5, 2.0, 3.0])  # tempo change before the last beat
    times = np.array([0.0, 0.75, 1.25, 2.5, 3.0, 5.0])
    positions = times_to_beats(times, beat_times)
    np.testing.assert_allclose(positions, [-2.0, -0.5, 0.5, 2.5, 3.0, 5.0])
    np.testing.assert_allclose(beats_to_times(positions, beat_times), times)


def test_a_vocab_file_that_disagrees_with_the_config_is_refused(tmp_path):
    DrumTokenizer().save_pretrained(tmp_path)
    (tmp_path / "vocab.json").write_text('{"<pad>": 0}', encoding="utf-8")
    with pytest.raises(ValueError, match="does not match the vocabulary built from the tokenizer config"):
        DrumTokenizer.from_pretrained(tmp_path)


def test_window_encoding_counts_time_from_the_window_start_and_keeps_only_its_hits(groove_midi_path):
    from drum_accomp.midi import drum_hits, load_midi

    tokenizer = DrumTokenizer()
    midi = load_midi(groove_midi_path)  # 80 BPM: one bar is 3 s
    bar = 3.0
    ids = tokenizer.encode_midi(midi, style="funk", start_time=2 * bar, end_time=4 * bar)
    decoded = tokenizer.decode_tokens(ids, bpm=80.0)
    window = drum_hits(midi).window(2 * bar, 4 * bar)
    assert decoded.num_hits == len(window) > 0
    np.testing.assert_allclose(np.sort(decoded.hits.times), np.sort(window.times), atol=0.005)


def test_encode_hits_on_a_given_beat_grid_matches_encode_midi(groove_midi_path):
    from drum_accomp.midi import drum_hits, load_midi

    tokenizer = DrumTokenizer()
    midi = load_midi(groove_midi_path)
    assert tokenizer.encode_hits(drum_hits(midi), midi.get_beats(), style="funk") == \
        tokenizer.encode_midi(midi, style="funk")
