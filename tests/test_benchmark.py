"""The benchmark (``drum_accomp.benchmark``, ``scripts/benchmark.py``, ``drum-accomp benchmark``) on a tiny system:
every figure is measured and positive, the table holds them, the JSON and Markdown are written."""

import json

from helpers import load_script, save_tiny_checkpoint

from drum_accomp.benchmark import checkpoint_hash


def test_the_benchmark_measures_every_stage_and_writes_its_table(tmp_path):
    checkpoint = save_tiny_checkpoint(tmp_path / "system")
    output = tmp_path / "bench" / "benchmark.json"
    results = load_script("benchmark").main([f"--model={checkpoint}", "--durations", "4", "--long_seconds=5",
                                             "--runs=1", "--threads=1", "--cache_codes=48", "--no_madmom",
                                             f"--output_json={output}"])
    assert results["checkpoint_sha256"] == checkpoint_hash(checkpoint) and len(results["checkpoint_sha256"]) == 16
    (song,) = results["songs"]
    assert song["seconds_of_audio"] == 4 and song["end_to_end_seconds"] > 0
    assert set(song["stages"]) >= {"features", "beats", "vq_encode", "generation_hits", "midi_render",
                                   "vocoder_path_generation_codes", "vocoder_path_vq_decode_and_vocoder"}
    assert all(seconds >= 0 for seconds in song["stages"].values())
    assert results["kv_cache"]["codes_per_second_with_cache"] > 0
    assert results["groove_kv_cache"]["words_per_second_with_cache"] > 0
    assert results["groove_kv_cache"]["adaptation_seconds"] > 0 and results["groove_kv_cache"]["adaptation_steps"] >= 1
    assert results["features"]["speedup_vs_librosa"] > 0
    assert results["flops"]["flops_per_step"] > 0
    assert results["long_song"]["peak_rss_mb"] > 100  # a process with torch loaded
    assert json.loads(output.read_text())["songs"][0]["seconds_of_audio"] == 4
    table = output.with_suffix(".md").read_text()
    assert "real-time factor" in table and "peak memory" in table and results["checkpoint_sha256"] in table
