"""DrumAccompanimentProcessor: routes audio to the feature extractor and MIDI to the tokenizer; save/load round trip."""

import numpy as np
import pytest
from transformers import AutoProcessor

from drum_accomp import BeatAlignedMelFeatureExtractor, DrumAccompanimentProcessor, DrumTokenizer
from drum_accomp.midi import load_midi, midi_beats

SAMPLING_RATE = 16000


@pytest.fixture(scope="module")
def processor() -> DrumAccompanimentProcessor:
    return DrumAccompanimentProcessor(BeatAlignedMelFeatureExtractor(), DrumTokenizer())


@pytest.fixture(scope="module")
def backing_audio() -> np.ndarray:
    """Two seconds of a decaying 220 Hz tone struck on every beat at 120 BPM."""
    time = np.arange(2 * SAMPLING_RATE) / SAMPLING_RATE
    return (0.3 * np.sin(2 * np.pi * 220.0 * time) * np.exp(-8.0 * (time % 0.5))).astype(np.float32)


def test_processor_routes_audio_to_the_feature_extractor(processor, backing_audio):
    beats = np.arange(0.0, 2.0, 0.5)
    inputs = processor(audio=backing_audio, sampling_rate=SAMPLING_RATE, beat_times=beats, return_tensors="np")
    direct = processor.feature_extractor(backing_audio, sampling_rate=SAMPLING_RATE, beat_times=beats,
                                         return_tensors="np")
    assert set(inputs) == set(direct) == {"mel_features", "beat_positions", "downbeat_flags", "attention_mask"}
    for name in direct:
        np.testing.assert_array_equal(inputs[name], direct[name])


def test_processor_routes_midi_to_the_tokenizer(processor, groove_midi_path):
    inputs = processor(midi=groove_midi_path, style="funk/groove1")
    assert set(inputs) == {"input_ids", "attention_mask"}
    assert inputs["input_ids"] == processor.tokenizer.encode_midi(groove_midi_path, style="funk")


def test_processor_with_audio_and_midi_returns_both_with_drum_prefix(processor, backing_audio, song_midi_path):
    beats, downbeats = midi_beats(song_midi_path)
    inputs = processor(audio=backing_audio, sampling_rate=SAMPLING_RATE, midi=song_midi_path, style="pop",
                       beat_times=beats[beats < 2.0], downbeat_times=downbeats[downbeats < 2.0], return_tensors="pt")
    assert {"mel_features", "attention_mask", "drum_input_ids", "drum_attention_mask"} <= set(inputs)
    assert inputs["mel_features"].shape[:2] == inputs["attention_mask"].shape
    assert inputs["drum_input_ids"][0].tolist() == processor.tokenizer.encode_midi(song_midi_path, style="pop")


def test_processor_pads_a_batch_of_midi_files(processor, fixtures_dir):
    paths = sorted((fixtures_dir / "groove").glob("*.mid"))
    inputs = processor(midi=paths, style="rock", return_tensors="pt")
    lengths = [len(processor.tokenizer.encode_midi(path, style="rock")) for path in paths]
    assert tuple(inputs["input_ids"].shape) == (len(paths), max(lengths))
    assert inputs["attention_mask"].sum(dim=1).tolist() == lengths


def test_processor_decodes_ids_back_to_midi(processor, groove_midi_path):
    midi = load_midi(groove_midi_path)
    ids = processor(midi=midi)["input_ids"]
    decoded = processor.decode_tokens(ids, beat_times=midi.get_beats())
    assert decoded.num_hits == len(midi.instruments[0].notes) and decoded.num_invalid_words == 0
    assert len(processor.decode_midi(ids).instruments[0].notes) == decoded.num_hits


def test_processor_save_and_load_round_trip(tmp_path, groove_midi_path, backing_audio):
    processor = DrumAccompanimentProcessor(
        BeatAlignedMelFeatureExtractor(hop_length=320, subdivisions_per_beat=3),
        DrumTokenizer(ticks_per_beat=96, num_velocity_bins=16),
    )
    processor.save_pretrained(tmp_path)
    assert {"processor_config.json", "tokenizer_config.json", "vocab.json"} <= {p.name for p in tmp_path.iterdir()}
    for loaded in (DrumAccompanimentProcessor.from_pretrained(tmp_path), AutoProcessor.from_pretrained(tmp_path)):
        assert isinstance(loaded, DrumAccompanimentProcessor)
        assert loaded.feature_extractor.to_dict() == processor.feature_extractor.to_dict()
        assert (loaded.tokenizer.ticks_per_beat, loaded.tokenizer.num_velocity_bins) == (96, 16)
        assert loaded.tokenizer.get_vocab() == processor.tokenizer.get_vocab()
        assert loaded(midi=groove_midi_path)["input_ids"] == processor(midi=groove_midi_path)["input_ids"]
        np.testing.assert_array_equal(
            loaded(audio=backing_audio, sampling_rate=SAMPLING_RATE)["mel_features"],
            processor(audio=backing_audio, sampling_rate=SAMPLING_RATE)["mel_features"],
        )


def test_processor_rejects_missing_or_misplaced_inputs(processor, groove_midi_path):
    with pytest.raises(ValueError, match="pass audio="):
        processor()
    with pytest.raises(ValueError, match="no audio= was given"):
        processor(midi=groove_midi_path, beat_times=[0.0, 0.5])
    with pytest.raises(ValueError, match="no midi= was given"):
        processor(audio=np.zeros(16000, dtype=np.float32), sampling_rate=SAMPLING_RATE, style="rock")
    with pytest.raises(TypeError, match="tokenizer must be a DrumTokenizer"):
        DrumAccompanimentProcessor(BeatAlignedMelFeatureExtractor(), processor.feature_extractor)
