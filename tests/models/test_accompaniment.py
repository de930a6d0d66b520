"""DrumAccompanimentModel: shapes, losses, save/load, determinism, KV cache == no cache, the backing reaches the
decoder, windowed generation, hit targets <-> MIDI hits, and the per-step decode cost."""

import time

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModel

import drum_accomp  # noqa: F401  (registers the Auto classes)
from drum_accomp.models.accompaniment import (
    DrumAccompanimentCollator,
    DrumAccompanimentConfig,
    DrumAccompanimentModel,
    codes_to_step_tokens,
    hits_from_step_predictions,
    sample_next_code,
    step_hit_targets,
    step_tokens_to_codes,
)

NUM_CODES = 32


def tiny_config(**overrides) -> DrumAccompanimentConfig:
    settings = {"backing_codebook_size": 16, "drum_codebook_size": 8, "hidden_size": 32, "encoder_layers": 2,
                    "decoder_layers": 2, "num_attention_heads": 4, "intermediate_size": 64, "max_steps": 16, "codes_per_step": 2,
                    "dropout": 0.0}
    return DrumAccompanimentConfig(**{**settings, **overrides})


@pytest.fixture(params=[2, 1], ids=["2_codes_per_step", "1_code_per_step"])
def model(request):
    torch.manual_seed(0)
    max_steps = 16 * 2 // request.param  # 32 codes of context either way
    return DrumAccompanimentModel(tiny_config(codes_per_step=request.param, max_steps=max_steps)).eval()


def random_batch(config: DrumAccompanimentConfig, batch_size: int = 3, num_codes: int = NUM_CODES, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    hit_flags = (torch.rand(batch_size, num_codes, 9, generator=generator) < 0.1).float()
    return {
        "backing_codes": torch.randint(0, config.backing_codebook_size, (batch_size, num_codes), generator=generator),
        "beat_positions": torch.arange(num_codes).repeat(batch_size, 1) % 16,
        "labels": torch.randint(0, config.drum_codebook_size, (batch_size, num_codes), generator=generator),
        "genre_ids": torch.tensor([config.genre_id("rock"), config.genre_id("funk"), config.genre_id(None)])[
            :batch_size],
        "hit_flags": hit_flags,
        "hit_velocities": hit_flags * torch.randint(1, 128, (batch_size, num_codes, 9), generator=generator),
        "hit_offsets": hit_flags * torch.rand(batch_size, num_codes, 9, generator=generator),
    }


def test_config_documents_derived_values_and_shipped_config_loads():
    import json
    from pathlib import Path

    config = DrumAccompanimentConfig()
    assert config.code_seconds == 0.04 and config.code_rate == 25.0
    assert config.step_rate == 12.5 and config.max_codes == 256 and config.max_seconds == pytest.approx(10.24)
    assert config.output_vocab_size == 64 ** 2 and config.genre_id(None) == config.unknown_genre_id
    with pytest.raises(ValueError, match="unknown genre"):
        config.genre_id("polka-metal")
    with pytest.raises(ValueError, match="must contain 'unknown'"):
        DrumAccompanimentConfig(genre_vocabulary=["rock"])
    settings = json.loads((Path(__file__).resolve().parents[2] / "configs" / "accompaniment.json").read_text())
    shipped = DrumAccompanimentConfig(**settings["model"])
    assert shipped.max_codes == 256 and shipped.aux_loss_weight > 0


def test_forward_shapes_and_losses(model):
    config = model.config
    output = model(**random_batch(config))
    num_steps = NUM_CODES // config.codes_per_step
    assert output.logits.shape == (3, num_steps, config.drum_codebook_size ** config.codes_per_step)
    assert output.hit_logits.shape == (3, NUM_CODES, 9, 3)
    assert output.encoder_last_hidden_state.shape == (3, num_steps, config.hidden_size)
    # an untrained model is near uniform: about log(8) nats per code
    assert output.ce_loss.item() == pytest.approx(np.log(config.drum_codebook_size), abs=0.3)
    torch.testing.assert_close(output.loss, output.ce_loss + config.aux_loss_weight * output.hit_loss)
    output.loss.backward()
    assert all(parameter.grad is not None for name, parameter in model.named_parameters()), "unused parameters"


def test_ignored_codes_leave_the_loss():
    torch.manual_seed(0)
    model = DrumAccompanimentModel(tiny_config()).eval()
    batch = random_batch(model.config)
    masked = {**batch, "labels": batch["labels"].clone()}
    masked["labels"][:, -4:] = -100
    changed = {**masked, "labels": masked["labels"].clone()}
    changed["hit_flags"] = batch["hit_flags"].clone()
    changed["hit_flags"][:, -4:] = 1.0  # targets of ignored codes must not count
    torch.testing.assert_close(model(**masked).loss, model(**changed).loss)


def test_bad_inputs_raise_clear_errors():
    model = DrumAccompanimentModel(tiny_config()).eval()
    batch = random_batch(model.config)
    with pytest.raises(ValueError, match="multiple of codes_per_step"):
        model(**{**batch, "backing_codes": batch["backing_codes"][:, :31], "beat_positions": batch["beat_positions"][:, :31]})
    with pytest.raises(ValueError, match="backing_codes must lie in"):
        model(**{**batch, "backing_codes": batch["backing_codes"] + 100})
    with pytest.raises(ValueError, match="overlap_steps"):
        model.generate(batch["backing_codes"], batch["beat_positions"], overlap_steps=16)


def test_save_load_round_trip_is_exact(model, tmp_path):
    batch = random_batch(model.config)
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    loaded = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(loaded, DrumAccompanimentModel)
    assert isinstance(AutoConfig.from_pretrained(tmp_path), DrumAccompanimentConfig)
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], tensor, rtol=0, atol=0)
    torch.testing.assert_close(loaded(**batch).logits, model(**batch).logits, rtol=0, atol=0)


def test_generation_is_deterministic_with_a_seed(model):
    batch = random_batch(model.config)
    first = model.generate(batch["backing_codes"], batch["beat_positions"], seed=7, top_k=5, top_p=0.9)
    second = model.generate(batch["backing_codes"], batch["beat_positions"], seed=7, top_k=5, top_p=0.9)
    other = model.generate(batch["backing_codes"], batch["beat_positions"], seed=8, top_k=5, top_p=0.9)
    assert torch.equal(first.drum_codes, second.drum_codes)
    assert not torch.equal(first.drum_codes, other.drum_codes)
    assert first.drum_codes.shape == (3, NUM_CODES) and first.drum_codes.max() < model.config.drum_codebook_size
    assert first.hit_probabilities.shape == (3, NUM_CODES, 9) and len(first.hits) == 3


@pytest.mark.parametrize("num_codes", [NUM_CODES, 101], ids=["one_window", "four_windows_odd_length"])
def test_kv_cache_generation_equals_no_cache_generation_greedy(model, num_codes):
    batch = random_batch(model.config, num_codes=num_codes)
    genre = batch["genre_ids"]
    cached = model.generate(batch["backing_codes"], batch["beat_positions"], genre, do_sample=False)
    uncached = model.generate(batch["backing_codes"], batch["beat_positions"], genre, do_sample=False, use_cache=False)
    assert cached.drum_codes.shape == (3, num_codes)
    assert torch.equal(cached.drum_codes, uncached.drum_codes)
    torch.testing.assert_close(cached.hit_probabilities, uncached.hit_probabilities, rtol=1e-4, atol=1e-5)


def test_greedy_generation_matches_the_teacher_forced_argmax():
    """Inside one window, generate() makes the same decoder inputs as forward() on its own output."""
    torch.manual_seed(0)
    model = DrumAccompanimentModel(tiny_config()).eval()
    batch = random_batch(model.config)
    generated = model.generate(batch["backing_codes"], batch["beat_positions"], batch["genre_ids"], do_sample=False)
    output = model(batch["backing_codes"], batch["beat_positions"], labels=generated.drum_codes,
                   genre_ids=batch["genre_ids"])
    codes = step_tokens_to_codes(output.logits.argmax(-1), model.config.drum_codebook_size, 2).flatten(1)
    assert torch.equal(codes, generated.drum_codes)
    torch.testing.assert_close(output.hit_logits[..., 0].sigmoid(), generated.hit_probabilities, rtol=1e-4,
                               atol=1e-5)


def test_the_backing_changes_the_decoder_logits(model):
    """The aligned encoder state reaches the decoder: zeroing or swapping the backing changes its predictions."""
    batch = random_batch(model.config)
    logits = model(**batch).logits
    zeroed = model(**{**batch, "backing_codes": torch.zeros_like(batch["backing_codes"])}).logits
    swapped = model(**{**batch, "backing_codes": batch["backing_codes"].roll(1, dims=0)}).logits
    assert (logits - zeroed).abs().mean() > 1e-3 and (logits - swapped).abs().mean() > 1e-3
    # the aligned path alone (cross-attention switched off) still carries the backing to the logits
    for layer in model.decoder.layers:
        layer.cross_attention.forward = lambda hidden_states, *args, **kwargs: torch.zeros_like(hidden_states)
    aligned_only = model(**batch).logits
    aligned_only_zeroed = model(**{**batch, "backing_codes": torch.zeros_like(batch["backing_codes"])}).logits
    assert (aligned_only - aligned_only_zeroed).abs().mean() > 1e-3


def test_genre_changes_the_prediction_and_dropout_only_in_training():
    torch.manual_seed(0)
    model = DrumAccompanimentModel(tiny_config(genre_dropout=1.0, decoder_input_dropout=0.0)).eval()
    batch = random_batch(model.config)
    rock = model(**{**batch, "genre_ids": torch.full((3,), model.config.genre_id("rock"))}).logits
    jazz = model(**{**batch, "genre_ids": torch.full((3,), model.config.genre_id("jazz"))}).logits
    assert not torch.allclose(rock, jazz)
    model.train()  # genre dropout 1.0: every genre becomes unknown
    rock = model(**{**batch, "genre_ids": torch.full((3,), model.config.genre_id("rock"))}).logits
    jazz = model(**{**batch, "genre_ids": torch.full((3,), model.config.genre_id("jazz"))}).logits
    torch.testing.assert_close(rock, jazz)


def test_the_genre_reaches_the_encoder():
    torch.manual_seed(0)
    model = DrumAccompanimentModel(tiny_config()).eval()
    batch = random_batch(model.config)
    rock = model.encode_backing(batch["backing_codes"], batch["beat_positions"], torch.full((3,), 0))
    jazz = model.encode_backing(batch["backing_codes"], batch["beat_positions"], torch.full((3,), 9))
    assert not torch.allclose(rock, jazz)


def test_backing_code_dropout_replaces_codes_only_in_training():
    torch.manual_seed(0)
    model = DrumAccompanimentModel(tiny_config(backing_code_dropout=0.5, genre_dropout=0.0)).eval()
    batch = random_batch(model.config)
    codes, positions, genres = batch["backing_codes"], batch["beat_positions"], batch["genre_ids"]
    seen = []
    model.encoder.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0].clone()))
    evaluated = model.encode_backing(codes, positions, genres)
    torch.testing.assert_close(model.encode_backing(codes, positions, genres), evaluated)  # no dropout in eval
    torch.testing.assert_close(seen[0], model._steps(codes))
    model.train()
    model.encode_backing(codes, positions, genres)
    replaced = (seen[-1] != model._steps(codes)).float().mean().item()
    # half the codes are redrawn; a redrawn code equals the old one with probability 1/16
    assert 0.3 < replaced < 0.6, replaced
    assert 0 <= seen[-1].min() and seen[-1].max() < model.config.backing_codebook_size
    with pytest.raises(ValueError, match="backing_code_dropout"):
        tiny_config(backing_code_dropout=1.5)


def backing_hit_model() -> DrumAccompanimentModel:
    torch.manual_seed(0)
    return DrumAccompanimentModel(tiny_config(backing_hit_loss_weight=0.5, hit_source="backing")).eval()


def test_backing_hit_head_adds_its_weighted_loss():
    model = backing_hit_model()
    batch = random_batch(model.config)
    output = model(**batch)
    assert output.backing_hit_logits.shape == (3, NUM_CODES, 9, 3)
    torch.testing.assert_close(output.loss, output.ce_loss + output.hit_loss + 0.5 * output.backing_hit_loss)
    # the backing head reads the encoder alone: other drum labels leave it unchanged
    other = model(**{**batch, "labels": (batch["labels"] + 1) % model.config.drum_codebook_size})
    torch.testing.assert_close(other.backing_hit_logits, output.backing_hit_logits)
    assert DrumAccompanimentModel(tiny_config()).backing_hit_head is None
    with pytest.raises(ValueError, match="backing_hit_loss_weight > 0"):
        tiny_config(hit_source="backing")
    with pytest.raises(ValueError, match="hit_source must be one of"):
        tiny_config(hit_source="drums")


def test_backing_hits_of_generate_are_the_thresholded_backing_head_and_sampling_varies_unsure_cells():
    model = backing_hit_model()
    batch = random_batch(model.config, batch_size=1)
    codes, positions = batch["backing_codes"], batch["beat_positions"]
    greedy = model.generate(codes, positions, do_sample=False, hit_threshold=0.5)
    expected = model(codes, positions, labels=batch["labels"]).backing_hit_logits[..., 0].sigmoid()
    torch.testing.assert_close(greedy.hit_probabilities, expected)
    assert len(greedy.hits[0]) == int((expected > 0.5).sum())
    first = model.generate(codes, positions, do_sample=True, seed=1)
    again = model.generate(codes, positions, do_sample=True, seed=1)
    assert np.array_equal(first.hits[0].times, again.hits[0].times)
    # a tiny sampling temperature gives the greedy decision, except in cells right at the threshold
    cold = model.generate(codes, positions, do_sample=True, seed=2, temperature=1e-3)
    code_seconds = model.config.code_seconds

    def cells(hits):
        return {(int(time // code_seconds), int(cls)) for time, cls in zip(hits.times, hits.classes)}

    flipped = cells(cold.hits[0]) ^ cells(greedy.hits[0])
    assert all(abs(float(expected[0, code, cls]) - 0.5) < 1e-3 for code, cls in flipped)
    # sampled takes at the edge thresholds: 1 = nothing is hit, 0 = every cell is hit (as greedy decoding)
    assert len(model.generate(codes, positions, do_sample=True, seed=3, hit_threshold=1.0).hits[0]) == 0
    assert len(model.generate(codes, positions, do_sample=True, seed=3, hit_threshold=0.0).hits[0]) == expected.numel()


def test_hits_alone_equal_the_hits_written_with_the_codes_on_long_batched_songs():
    model = backing_hit_model()
    batch = random_batch(model.config, batch_size=2, num_codes=3 * model.config.max_codes + 6)
    codes, positions, genres = batch["backing_codes"], batch["beat_positions"], torch.tensor([0, 5])
    full = model.generate(codes, positions, genre_ids=genres, do_sample=False)
    fast = model.generate(codes, positions, genre_ids=genres, do_sample=False, return_codes=False)
    assert fast.drum_codes is None and full.drum_codes.shape == codes.shape
    torch.testing.assert_close(fast.hit_probabilities, full.hit_probabilities)
    for one, other in zip(fast.hits, full.hits):
        assert np.allclose(one.times, other.times) and np.array_equal(one.classes, other.classes)
    # a sampled take: the same seed gives the same hits with or without the codes (the MIDI and vocoder paths)
    full = model.generate(codes, positions, genre_ids=genres, seed=3, hit_threshold=0.52)
    fast = model.generate(codes, positions, genre_ids=genres, seed=3, hit_threshold=0.52, return_codes=False)
    for one, other in zip(fast.hits, full.hits):
        assert np.allclose(one.times, other.times) and np.array_equal(one.classes, other.classes)
    with pytest.raises(ValueError, match="return_codes=False needs"):
        DrumAccompanimentModel(tiny_config()).generate(codes, positions, return_codes=False)


def test_genre_ensemble_averages_the_hit_head_over_every_genre_when_none_is_given():
    model = backing_hit_model()
    batch = random_batch(model.config, batch_size=2, num_codes=2 * model.config.max_codes + 6)
    codes, positions = batch["backing_codes"], batch["beat_positions"]
    per_genre = torch.stack([model.generate(codes, positions, genre_ids=torch.full((2,), genre), do_sample=False,
                                            return_codes=False).hit_probabilities
                             for genre in range(model.config.num_genres)])
    model.config.hit_genre_ensemble = True
    try:
        ensemble = model.generate(codes, positions, do_sample=False, return_codes=False)
        torch.testing.assert_close(ensemble.hit_probabilities, per_genre.mean(dim=0), atol=1e-5, rtol=1e-4)
        rock = model.config.genre_id("rock")  # a genre given: its own probabilities, no ensemble
        mixed = model.generate(codes, positions, genre_ids=torch.tensor([rock, model.config.unknown_genre_id]),
                               do_sample=False, return_codes=False).hit_probabilities
        torch.testing.assert_close(mixed[0], per_genre[rock, 0])
        torch.testing.assert_close(mixed[1], per_genre.mean(dim=0)[1], atol=1e-5, rtol=1e-4)
    finally:
        model.config.hit_genre_ensemble = False


def test_peak_picking_leaves_no_two_hits_of_a_class_in_neighbouring_codes():
    model = backing_hit_model()
    batch = random_batch(model.config, batch_size=1, num_codes=64)
    plain = model.generate(batch["backing_codes"], batch["beat_positions"], do_sample=False, hit_threshold=0.3)
    model.config.hit_peak_window = 1
    picked = model.generate(batch["backing_codes"], batch["beat_positions"], do_sample=False, hit_threshold=0.3)
    model.config.hit_peak_window = 0
    assert 0 < len(picked.hits[0]) < len(plain.hits[0])
    codes = np.floor(picked.hits[0].times / model.config.code_seconds).astype(int)
    for drum_class in range(9):
        assert (np.diff(np.sort(codes[picked.hits[0].classes == drum_class])) > 1).all()
    with pytest.raises(ValueError, match="hit_peak_window"):
        tiny_config(hit_peak_window=-1)


def test_window_plan_covers_every_step_once_with_full_windows():
    from drum_accomp.models.accompaniment.modeling_accompaniment import window_plan

    assert window_plan(10, 16, 8) == [(0, 0, 10)]
    plan = window_plan(50, 16, 8)
    assert plan[0] == (0, 0, 16) and plan[-1][2] == 50
    assert all(end - start == 16 for start, _, end in plan)
    assert [done for _, done, _ in plan[1:]] == [end for _, _, end in plan[:-1]]


def test_step_tokens_round_trip_and_ignore_index():
    codes = torch.tensor([[[3, 7], [0, 0], [-100, 2]]])
    tokens = codes_to_step_tokens(codes, 8)
    assert tokens.tolist() == [[31, 0, -100]]
    assert step_tokens_to_codes(tokens[:, :2], 8, 2).tolist() == [[[3, 7], [0, 0]]]


def test_sampling_filters():
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0]])
    generator = torch.Generator().manual_seed(0)
    assert sample_next_code(logits, do_sample=False).item() == 3
    top_k = {sample_next_code(logits, top_k=2, generator=generator).item() for _ in range(50)}
    assert top_k == {2, 3}
    top_p = {sample_next_code(logits, top_p=0.5, generator=generator).item() for _ in range(50)}
    assert top_p == {3}  # the top code alone holds 64 % of the mass


def test_hit_targets_round_trip_to_drum_hits_at_full_resolution():
    times = np.array([0.013, 0.013, 0.045, 0.5, 0.51, 1.279, 1.5])
    classes = np.array([0, 2, 2, 1, 1, 8, 0])
    velocities = np.array([100, 60, 70, 90, 40, 30, 120])
    flags, step_velocities, offsets = step_hit_targets(times, classes, velocities, num_codes=32, code_seconds=0.04)
    assert flags.shape == (32, 9) and flags.sum() == 5  # two snare hits share code 12; 1.5 s is past the window
    assert step_velocities[12, 1] == 90 and offsets[12, 1] == pytest.approx(0.5, abs=1e-6)  # loudest, earliest
    hits = hits_from_step_predictions(flags.astype(float), step_velocities.astype(float), offsets, 0.04)
    np.testing.assert_allclose(hits.times, [0.013, 0.013, 0.045, 0.5, 1.279], atol=1e-6)
    assert hits.classes.tolist() == [0, 2, 2, 1, 8] and hits.velocities.tolist() == [100, 60, 70, 90, 30]


def test_collator_maps_genres_and_hit_targets():
    config = tiny_config()
    flags, velocities, offsets = step_hit_targets([0.05], [0], [100], NUM_CODES, 0.04)
    row = {"backing_codes": np.arange(NUM_CODES) % 16, "drum_codes": np.zeros(NUM_CODES, np.int16),
           "beat_positions": np.zeros(NUM_CODES, np.int8), "step_hit_flags": flags,
           "step_hit_velocities": velocities, "step_hit_offsets": offsets}
    batch = DrumAccompanimentCollator(config)([{**row, "genre": "funk/groove"}, {**row, "genre": "zydeco"}])
    assert batch["genre_ids"].tolist() == [config.genre_id("funk"), config.unknown_genre_id]
    assert batch["hit_flags"].shape == (2, NUM_CODES, 9) and batch["hit_velocities"][0, 1, 0] == 100


def test_decode_step_cost_of_the_default_model_is_measured():
    """The shipped size generates 10 s of drums (125 steps of 2 codes) at 1 thread; the time is printed (-s)."""
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = DrumAccompanimentModel(DrumAccompanimentConfig()).eval()
        codes = torch.randint(0, 64, (1, 250))
        model.generate(codes[:, :20], codes[:, :20] % 33, seed=0)
        start = time.process_time()
        model.generate(codes, codes % 33, seed=0, top_k=50)
        milliseconds = 1000 * (time.process_time() - start)
    finally:
        torch.set_num_threads(threads)
    print(f"\ndefault model: {milliseconds / 125:.2f} ms CPU per decoder step, {milliseconds / 250:.2f} ms per code")
    assert milliseconds / 250 < 20  # a loose guard against a broken cache (uncached is ~10x slower)


# ----- a model that hears the backing's mels -----------------------------------------------------------------------


def mel_batch(config: DrumAccompanimentConfig, batch_size: int = 3, num_codes: int = NUM_CODES, seed: int = 0):
    batch = random_batch(config, batch_size, num_codes, seed)
    generator = torch.Generator().manual_seed(seed + 1)
    batch["backing_mel"] = -4 + 3 * torch.randn(batch_size, num_codes * config.frames_per_code, config.backing_mel_bins,
                                                generator=generator)
    return batch


def test_mel_model_starts_as_its_codes_only_base_and_then_hears_the_mels(tmp_path):
    torch.manual_seed(0)
    base = DrumAccompanimentModel(tiny_config(backing_hit_loss_weight=1.0, hit_source="backing")).eval()
    base.save_pretrained(tmp_path)
    model = DrumAccompanimentModel.from_pretrained(tmp_path, backing_mel_bins=6).eval()  # fine-tuning start
    assert model.config.backing_mel_bins == 6 and model.config.backing_mel_step_size == 2 * 4 * 6
    assert torch.count_nonzero(model.encoder.mel_projection.weight) == 0
    batch = mel_batch(model.config)
    with torch.no_grad():
        assert torch.allclose(model(**batch).loss, base(**{k: v for k, v in batch.items() if k != "backing_mel"}).loss)
        torch.nn.init.normal_(model.encoder.mel_projection.weight, std=0.1)
        other = dict(batch, backing_mel=batch["backing_mel"].flip(0))
        assert not torch.allclose(model(**batch).backing_hit_logits, model(**other).backing_hit_logits)


def test_mel_model_generates_whole_songs_and_needs_its_mels():
    torch.manual_seed(0)
    model = DrumAccompanimentModel(tiny_config(backing_mel_bins=6, backing_hit_loss_weight=1.0,
                                               hit_source="backing")).eval()
    torch.nn.init.normal_(model.encoder.mel_projection.weight, std=0.1)
    batch = mel_batch(model.config, num_codes=75)  # odd length, three windows of 32 codes
    output = model.generate(batch["backing_codes"], batch["beat_positions"], backing_mel=batch["backing_mel"],
                            do_sample=False, return_codes=True)
    assert output.drum_codes.shape == (3, 75) and output.hit_probabilities.shape == (3, 75, 9)
    hits_only = model.generate(batch["backing_codes"], batch["beat_positions"], backing_mel=batch["backing_mel"],
                               do_sample=False, return_codes=False)
    assert torch.allclose(hits_only.hit_probabilities, output.hit_probabilities, atol=1e-5)
    changed = model.generate(batch["backing_codes"], batch["beat_positions"], backing_mel=-batch["backing_mel"],
                             do_sample=False, return_codes=False)
    assert not torch.allclose(changed.hit_probabilities, output.hit_probabilities)
    with pytest.raises(ValueError, match="backing_mel_bins=6.*pass backing_mel"):
        model.generate(batch["backing_codes"], batch["beat_positions"])
    with pytest.raises(ValueError, match=r"\(3, 300, 6\)"):
        model.generate(batch["backing_codes"], batch["beat_positions"], backing_mel=batch["backing_mel"][:, :-4])


def test_collator_passes_the_mels_and_names_a_dataset_without_them():
    config = tiny_config(backing_mel_bins=6)
    row = {"backing_codes": np.zeros(8, np.int16), "drum_codes": np.zeros(8, np.int16),
           "beat_positions": np.zeros(8, np.int8), "genre": "rock"}
    with pytest.raises(ValueError, match="re-encode the code dataset"):
        DrumAccompanimentCollator(config)([row])
    batch = DrumAccompanimentCollator(config)([dict(row, backing_mel=np.ones((32, 6), np.float16))] * 2)
    assert batch["backing_mel"].shape == (2, 32, 6) and batch["backing_mel"].dtype == torch.float32


def test_spec_augment_masks_bands_and_frames_only_in_training():
    from drum_accomp.models.accompaniment.modeling_accompaniment import mask_bands_and_frames

    mels = torch.ones(4, 100, 20)
    masked = mask_bands_and_frames(mels, 2, 5, 10, torch.Generator().manual_seed(0))
    zero_bands = (masked == 0).all(dim=1).sum(dim=1)  # per window: bands masked over every frame
    zero_frames = (masked == 0).all(dim=2).sum(dim=1)
    assert (zero_bands <= 10).all() and (zero_frames <= 20).all() and (zero_bands + zero_frames > 0).any()
    assert set(masked.unique().tolist()) <= {0.0, 1.0}
    torch.manual_seed(0)
    model = DrumAccompanimentModel(tiny_config(backing_mel_bins=6, backing_mel_masks=2, backing_mel_mask_bands=3,
                                               backing_mel_mask_frames=8))
    torch.nn.init.normal_(model.encoder.mel_projection.weight, std=0.1)
    batch = mel_batch(model.config)
    inputs = (batch["backing_codes"], batch["beat_positions"], batch["genre_ids"], batch["backing_mel"])
    model.eval()  # (dropout is 0: masks are the only difference between training and eval here)
    with torch.no_grad():
        first, again = model.encode_backing(*inputs), model.encode_backing(*inputs)
        model.train()
        trained = model.encode_backing(*inputs)
    assert torch.equal(first, again) and not torch.allclose(first, trained)
    with pytest.raises(ValueError, match="backing_mel_masks"):
        tiny_config(backing_mel_masks=-1)


def test_a_codes_only_model_leaves_given_mels_unused():
    torch.manual_seed(0)
    model = DrumAccompanimentModel(tiny_config(backing_hit_loss_weight=1.0, hit_source="backing")).eval()
    batch = mel_batch(tiny_config(backing_mel_bins=6), num_codes=75)  # odd length: padded inside generate
    without = model.generate(batch["backing_codes"], batch["beat_positions"], do_sample=False, return_codes=False)
    given = model.generate(batch["backing_codes"], batch["beat_positions"], do_sample=False, return_codes=False,
                           backing_mel=batch["backing_mel"])
    assert torch.equal(without.hit_probabilities, given.hit_probabilities)
