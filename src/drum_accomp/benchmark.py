"""Speed and memory of the shipped pipeline: ``drum-accomp benchmark`` / ``python scripts/benchmark.py``.

What it measures, on the bundled default model (its weights' hash is printed, so the figures belong to what users
get) and the bundled example backing track looped to each length:

* end-to-end ``pipeline("drum-accompaniment")`` time and real-time factor (audio seconds per wall second) for each
  ``--durations`` length, with the model's own beat tracker, and once with the madmom backend;
* time per stage, run the way the pipeline runs them: features (log-mels), beats, beat positions, VQ encode,
  generation of the hits (the default ``drum_audio="midi"`` path), MIDI render; and the stages only the
  ``drum_audio="vocoder"`` path runs: generation of the drum codes (autoregressive), VQ decode + vocoder;
* generated codes per second of the accompaniment transformer with and without the KV cache (``--cache_codes``
  codes), and words per second of the groove model likewise;
* the log-mel front end against ``librosa.feature.melspectrogram`` on the same audio;
* model FLOPs per generated step (``torch.utils.flop_counter``) and the machine's measured matmul GFLOP/s, large
  and at the decoder's own batch-1 shape, so the distance to the hardware limit shows;
* peak resident memory of a ``--long_seconds`` song, each in a fresh process (``resource.ru_maxrss``).

Threads are pinned (``--threads``, torch and every BLAS pool through threadpoolctl) and reported; every timing is
the median of ``--runs`` runs after one warm-up run.
"""

from __future__ import annotations

import hashlib
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .audio import SAMPLING_RATE, load_audio

EXAMPLE_AUDIO = Path(__file__).resolve().parents[2] / "examples" / "slakh_Track00001" / "backing_30s.flac"
DEFAULT_MODEL = Path(__file__).resolve().parent / "pretrained" / "drum_accompaniment"
DEFAULT_GROOVE_MODEL = Path(__file__).resolve().parent / "pretrained" / "groove"


# ----- helpers -----------------------------------------------------------------------------------------------------


def median_seconds(function: Callable[[], object], runs: int, warmup: int = 1) -> float:
    """Median wall time of ``runs`` calls of ``function`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        function()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def checkpoint_hash(folder: str | os.PathLike) -> str:
    """First 16 hex digits of the SHA-256 of the folder's ``*.safetensors`` files (sorted by name)."""
    digest = hashlib.sha256()
    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"no *.safetensors in {str(folder)!r}; pass a saved model folder")
    for path in files:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def machine_description(threads: int) -> dict[str, Any]:
    """CPU model, core count, threads used, library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import transformers

    return {"cpu": cpu, "cores": os.cpu_count(), "threads": threads, "python": platform.python_version(),
            "torch": torch.__version__, "transformers": transformers.__version__, "platform": platform.platform()}


def backing_track(seconds: float, sampling_rate: int = SAMPLING_RATE, channels: int = 1,
                  audio_path: str | os.PathLike = EXAMPLE_AUDIO) -> np.ndarray:
    """The example backing looped or cut to ``seconds``, at ``sampling_rate`` with ``channels`` equal channels:
    ``(num_samples,)`` float32 for mono, ``(num_samples, channels)`` otherwise."""
    from .audio import resample

    audio = np.resize(load_audio(audio_path), int(round(seconds * SAMPLING_RATE))).astype(np.float32)
    audio = resample(audio, SAMPLING_RATE, sampling_rate) if sampling_rate != SAMPLING_RATE else audio
    return audio if channels == 1 else np.repeat(audio[:, None], channels, axis=1)


def matmul_gflops(size: tuple[int, int, int], runs: int = 20) -> float:
    """Measured GFLOP/s of a float32 ``(m, k) @ (k, n)`` matmul."""
    m, k, n = size
    a, b = torch.randn(m, k), torch.randn(k, n)
    seconds = median_seconds(lambda: a @ b, runs, warmup=3)
    return 2 * m * k * n / seconds / 1e9


# ----- the measurements --------------------------------------------------------------------------------------------


def stage_timings(drummer, audio: np.ndarray, runs: int) -> dict[str, float]:
    """Median seconds of each pipeline stage on ``audio`` (16 kHz mono), run as the pipeline runs them (the
    default ``drum_audio="midi"`` path), then the two stages only the ``"vocoder"`` path adds."""
    from .beats import track_beats
    from .render import render_midi

    model, extractor, tracker = drummer.model, drummer.feature_extractor, drummer._own_beat_tracker
    duration = len(audio) / SAMPLING_RATE
    mels = extractor.mel_spectrogram(audio)
    timings = {"features": median_seconds(lambda: extractor.mel_spectrogram(audio), runs)}
    timings["beats"] = median_seconds(lambda: track_beats(audio, SAMPLING_RATE, backend=tracker, mel_features=mels),
                                      runs)
    beats = track_beats(audio, SAMPLING_RATE, backend=tracker, mel_features=mels)
    timings["beat_positions"] = median_seconds(
        lambda: extractor.beat_positions(beats.beats, beats.downbeats, len(mels)), runs)
    positions, _ = extractor.beat_positions(beats.beats, beats.downbeats, len(mels))
    padded_mels, padded_positions = model.pad_to_codes(torch.from_numpy(mels)[None], torch.from_numpy(positions)[None])
    code_positions = padded_positions[:, ::model.config.frames_per_code].long()
    hits_only = model.config.transformer.hit_source == "backing"
    with torch.inference_mode():
        timings["vq_encode"] = median_seconds(lambda: model.encode_backing(padded_mels), runs)
        codes = model.encode_backing(padded_mels)  # the transformer hears padded_mels too if it was trained to

        def generate_hits():
            return model.transformer.generate(codes, code_positions, seed=0, return_codes=not hits_only,
                                              backing_mel=padded_mels)

        timings["generation_hits"] = median_seconds(generate_hits, runs)
        midi = generate_hits().hits[0].to_midi(bpm=beats.bpm if len(beats.beats) >= 2 else 120.0)
        timings["midi_render"] = median_seconds(
            lambda: render_midi(midi, 44100, duration=duration, normalize=False), runs)
        # only drum_audio="vocoder": the drum codes (the autoregressive decoder), their mels and the vocoder
        timings["vocoder_path_generation_codes"] = median_seconds(
            lambda: model.transformer.generate(codes, code_positions, seed=0, backing_mel=padded_mels), runs)
        drum_codes = model.transformer.generate(codes, code_positions, seed=0, backing_mel=padded_mels).drum_codes
        timings["vocoder_path_vq_decode_and_vocoder"] = median_seconds(lambda: model.decode_drums(drum_codes), runs)
    return timings


def cache_speed(model, num_codes: int, runs: int) -> dict[str, float]:
    """Codes per second of ``DrumAccompanimentModel.generate`` over ``num_codes`` codes, with and without cache."""
    generator = torch.Generator().manual_seed(0)
    config = model.config
    codes = torch.randint(0, config.backing_codebook_size, (1, num_codes), generator=generator)
    positions = torch.arange(num_codes)[None] % (config.num_beat_positions - 1)
    mels = (torch.randn(1, num_codes * config.frames_per_code, config.backing_mel_bins, generator=generator)
            if config.backing_mel_bins else None)
    result = {}
    with torch.inference_mode():
        for name, use_cache in (("with_cache", True), ("without_cache", False)):
            seconds = median_seconds(lambda: model.generate(codes, positions, seed=0, use_cache=use_cache,
                                                            backing_mel=mels), runs)
            result[f"codes_per_second_{name}"] = num_codes / seconds
    result["speedup"] = result["codes_per_second_with_cache"] / result["codes_per_second_without_cache"]
    result["num_codes"] = num_codes
    return result


def groove_cache_speed(folder: str | os.PathLike, num_words: int, runs: int) -> dict[str, float]:
    """Words per second of ``GrooveModel.generate`` continuing a long real prompt (the example song's drums, cut to
    ``max_context_words - num_words`` words), so the last words see a full context, with and without the cache
    (prompt adaptation off); and the seconds prompt adaptation takes on that prompt (the model's ``adaptation_steps``,
    or 10 when they are off)."""
    from .models.groove.adaptation import adapt_to_prompt
    from .midi import midi_beats
    from .models.groove import GrooveModel
    from .tokenization_drum import DrumTokenizer

    model = GrooveModel.from_pretrained(folder, dtype=torch.float32).eval()
    tokenizer = DrumTokenizer.from_pretrained(folder)
    drums = EXAMPLE_AUDIO.parent / "drums_30s.mid"
    beats, _ = midi_beats(drums)
    bpm = 60.0 / float(np.median(np.diff(beats))) if len(beats) >= 2 else 120.0
    words = torch.as_tensor(tokenizer.ids_to_words(tokenizer.encode_midi(drums, style="rock")[:-1]))[None]
    prompt_words = max(2, min(words.shape[1], model.config.max_context_words - num_words))
    prompt = words[:, :prompt_words]
    result = {"prompt_words": int(prompt.shape[1])}
    with torch.inference_mode():
        for name, use_cache in (("with_cache", True), ("without_cache", False)):
            def run() -> int:
                output = model.generate(prompt, bpm=bpm, seed=0, max_new_words=num_words, use_cache=use_cache,
                                        adaptation_steps=0)
                return int(output.num_generated[0])

            generated = run()  # the same seed: the same words with and without the cache
            seconds = median_seconds(run, runs, warmup=0)
            result[f"words_per_second_{name}"] = generated / seconds
    result["speedup"] = result["words_per_second_with_cache"] / result["words_per_second_without_cache"]
    result["num_words"] = generated
    steps = model.config.adaptation_steps or 10
    result["adaptation_steps"] = steps
    result["adaptation_seconds"] = median_seconds(
        lambda: adapt_to_prompt(model, prompt, steps, model.config.adaptation_learning_rate, bpm=bpm), runs, warmup=0)
    return result


def librosa_mel_power(extractor, audio: np.ndarray) -> np.ndarray:
    """``librosa.feature.melspectrogram`` with ``extractor``'s STFT and mel settings: ``(num_frames, num_mels)``
    mel power, the reference our front end is timed and checked against."""
    import librosa

    return librosa.feature.melspectrogram(
        y=audio, sr=extractor.sampling_rate, n_fft=extractor.n_fft, hop_length=extractor.hop_length,
        win_length=extractor.win_length, n_mels=extractor.num_mels, fmin=extractor.fmin, fmax=extractor.fmax,
        power=2.0, center=True).T


def feature_speed(extractor, audio: np.ndarray, runs: int) -> dict[str, float]:
    """Our log-mel front end against ``librosa.feature.melspectrogram`` (same STFT and mel settings)."""
    duration = len(audio) / SAMPLING_RATE
    ours = median_seconds(lambda: extractor.mel_spectrogram(audio), runs)
    theirs = median_seconds(lambda: librosa_mel_power(extractor, audio), runs)
    return {"ours_seconds": ours, "librosa_seconds": theirs, "ours_realtime_factor": duration / ours,
            "librosa_realtime_factor": duration / theirs, "speedup_vs_librosa": theirs / ours}


def flops_per_step(model) -> dict[str, float]:
    """FLOPs of one cached decoder step of the accompaniment transformer (mid-window: half the context cached),
    counted by ``torch.utils.flop_counter.FlopCounterMode`` (matmuls and attention)."""
    from torch.utils.flop_counter import FlopCounterMode
    from transformers.cache_utils import DynamicCache, EncoderDecoderCache

    config = model.config
    steps = config.max_steps
    codes = torch.zeros(1, steps * config.codes_per_step, dtype=torch.long)
    with torch.inference_mode():
        mels = (torch.zeros(1, codes.shape[1] * config.frames_per_code, config.backing_mel_bins)
                if config.backing_mel_bins else None)
        encoder_states = model.encode_backing(codes, codes, backing_mel=mels)  # unknown genre
        conditioning = model.decoder.step_conditioning(encoder_states)
        cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
        prompt = torch.zeros(1, steps // 2, config.codes_per_step, dtype=torch.long)
        model.decoder(prompt, conditioning, encoder_states, cache)
        counter = FlopCounterMode(display=False)
        with counter:
            hidden = model.decoder(prompt[:, :1], conditioning, encoder_states, cache, first_step=steps // 2)
            model.lm_head(hidden)
    per_step = float(counter.get_total_flops())
    return {"flops_per_step": per_step, "flops_per_code": per_step / config.codes_per_step}


def peak_rss_mb() -> float:
    """Peak resident memory of this process image in MB: ``VmHWM`` of ``/proc/self/status`` (Linux), else
    ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_of_song(model: str, seconds: float, threads: int, sampling_rate: int = 44100,
                        channels: int = 2) -> dict[str, float]:
    """Peak resident memory (MB) of a fresh process that loads the pipeline and runs it on a ``seconds`` song
    given as a path (a WAV file written here first, as a user would hand one over); also its baseline after
    loading the pipeline, before the song."""
    import tempfile

    import soundfile

    # VmHWM (the peak RSS of this process image): ru_maxrss would also count the parent's peak, folded in at exec
    code = (
        "import sys, time, torch, warnings; warnings.simplefilter('ignore');"
        "from drum_accomp.benchmark import peak_rss_mb;"
        f"torch.set_num_threads({threads});"
        "from transformers import pipeline; import drum_accomp;"
        f"drummer = pipeline('drum-accompaniment', model={model!r});"
        "loaded = peak_rss_mb();"
        "start = time.perf_counter(); drummer(sys.argv[1], seed=0);"
        "print(time.perf_counter() - start, loaded, peak_rss_mb())"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "song.wav"
        soundfile.write(str(path), backing_track(seconds, sampling_rate, channels), sampling_rate, subtype="PCM_16")
        output = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env,
                                check=False)
    if output.returncode != 0:
        raise RuntimeError(f"the memory probe failed:\n{output.stderr[-2000:]}")
    wall, loaded_mb, peak_mb = (float(value) for value in output.stdout.split()[-3:])
    return {"seconds_of_audio": seconds, "peak_rss_mb": peak_mb, "rss_after_loading_mb": loaded_mb,
            "pipeline_seconds": wall, "realtime_factor": seconds / wall}


# ----- the run -----------------------------------------------------------------------------------------------------


def run_benchmark(model: str | os.PathLike = DEFAULT_MODEL, groove_model: str | os.PathLike = DEFAULT_GROOVE_MODEL,
                  durations: tuple[float, ...] = (30.0, 180.0), long_seconds: float = 600.0, runs: int = 3,
                  threads: int = 2, cache_codes: int = 1024, madmom: bool = True, sampling_rate: int = 44100,
                  channels: int = 2, log: Callable[[str], None] = print) -> dict[str, Any]:
    """All the measurements above; returns the JSON-ready results (see the module docstring)."""
    import threadpoolctl
    from transformers import pipeline

    from . import DrumAccompanimentPipeline  # noqa: F401  (registers the task)

    torch.set_num_threads(threads)
    threadpoolctl.threadpool_limits(threads)
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "machine": machine_description(threads),
                               "model": str(model), "checkpoint_sha256": checkpoint_hash(model), "runs": runs,
                               "input": {"sampling_rate": sampling_rate, "channels": channels,
                                         "audio": f"{EXAMPLE_AUDIO.parent.name}/{EXAMPLE_AUDIO.name}, looped"}}
    log(f"model {model} (sha256 {results['checkpoint_sha256']}); {results['machine']['cpu']}, "
        f"{threads} threads")

    start = time.perf_counter()
    drummer = pipeline("drum-accompaniment", model=str(model))
    results["load_seconds"] = time.perf_counter() - start

    results["songs"] = []
    for seconds in durations:
        audio = backing_track(seconds, sampling_rate, channels)  # what a user hands over
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            end_to_end = median_seconds(lambda: drummer(audio, sampling_rate=sampling_rate, seed=0), runs)
            row = {"seconds_of_audio": seconds, "end_to_end_seconds": end_to_end,
                   "realtime_factor": seconds / end_to_end,
                   "stages": stage_timings(drummer, backing_track(seconds), runs)}  # the model's 16 kHz mono
            if madmom:
                madmom_seconds = median_seconds(
                    lambda: drummer(audio, sampling_rate=sampling_rate, seed=0, beat_tracker="madmom"), 1, warmup=0)
                row["end_to_end_seconds_madmom"] = madmom_seconds
                row["realtime_factor_madmom"] = seconds / madmom_seconds
        results["songs"].append(row)
        log(f"{seconds:.0f} s song: {end_to_end:.2f} s end to end ({row['realtime_factor']:.1f}x real time)")

    results["kv_cache"] = cache_speed(drummer.model.transformer, cache_codes, runs)
    results["groove_kv_cache"] = groove_cache_speed(groove_model, 128, runs)
    results["features"] = feature_speed(drummer.feature_extractor, backing_track(max(durations)), runs)
    results["flops"] = flops_per_step(drummer.model.transformer)
    steps_per_second = (results["kv_cache"]["codes_per_second_with_cache"]
                        / drummer.model.config.transformer.codes_per_step)
    step_seconds = 1.0 / steps_per_second
    results["flops"]["achieved_gflops_in_generation"] = results["flops"]["flops_per_step"] / step_seconds / 1e9
    hidden = drummer.model.config.transformer.hidden_size
    results["matmul_gflops"] = {"1024x1024x1024": matmul_gflops((1024, 1024, 1024)),
                                f"1x{hidden}x{4 * hidden} (a decoder step)": matmul_gflops((1, hidden, 4 * hidden),
                                                                                           runs=200)}
    if long_seconds > 0:
        results["long_song"] = peak_memory_of_song(str(model), long_seconds, threads, sampling_rate, channels)
    return results


def format_report(results: dict[str, Any]) -> str:
    """A Markdown table of :func:`run_benchmark`'s results (the README's table)."""
    machine = results["machine"]
    source = results["input"]
    lines = [f"Benchmark of {results['date']}: {machine['cpu']}, {machine['cores']} cores, {machine['threads']} "
             f"threads, torch {machine['torch']}; model sha256 {results['checkpoint_sha256']}; median of "
             f"{results['runs']} runs; load {results['load_seconds']:.2f} s. Input: {source['audio']} at "
             f"{source['sampling_rate']} Hz, {source['channels']} channel(s); stages on the model's 16 kHz mono.",
             ""]
    songs = results["songs"]
    lines.append("| | " + " | ".join(f"{song['seconds_of_audio']:.0f} s song" for song in songs) + " |")
    lines.append("|---|" + "---:|" * len(songs))

    def row(name: str, values: list[str]) -> None:
        lines.append(f"| {name} | " + " | ".join(values) + " |")

    row("end to end, own beat tracker (s)", [f"{song['end_to_end_seconds']:.2f}" for song in songs])
    row("real-time factor", [f"{song['realtime_factor']:.1f}x" for song in songs])
    if "end_to_end_seconds_madmom" in songs[0]:
        row("end to end, madmom beats (s)", [f"{song['end_to_end_seconds_madmom']:.2f}" for song in songs])
        row("real-time factor, madmom", [f"{song['realtime_factor_madmom']:.1f}x" for song in songs])
    for stage in songs[0]["stages"]:
        row(f"stage: {stage.replace('_', ' ')} (s)", [f"{song['stages'][stage]:.3f}" for song in songs])
    lines.append("")
    cache, groove = results["kv_cache"], results["groove_kv_cache"]
    features, flops = results["features"], results["flops"]
    lines += [
        "| measure | value |", "|---|---:|",
        f"| accompaniment generation, {cache['num_codes']} codes, KV cache | "
        f"{cache['codes_per_second_with_cache']:.0f} codes/s |",
        f"| same without the cache | {cache['codes_per_second_without_cache']:.0f} codes/s "
        f"({cache['speedup']:.1f}x slower) |",
        f"| groove generation, {groove['num_words']} words after a {groove['prompt_words']}-word prompt, KV cache | "
        f"{groove['words_per_second_with_cache']:.0f} words/s ({groove['speedup']:.1f}x the no-cache speed) |",
        *([f"| groove prompt adaptation, {groove['adaptation_steps']} steps on that prompt | "
           f"{groove['adaptation_seconds']:.2f} s |"] if "adaptation_seconds" in groove else []),
        f"| log-mel features | {features['ours_realtime_factor']:.0f}x real time "
        f"(librosa: {features['librosa_realtime_factor']:.0f}x; {features['speedup_vs_librosa']:.1f}x faster) |",
        f"| FLOPs per decoder step ({flops['flops_per_code'] / 1e6:.1f} M per code) | "
        f"{flops['flops_per_step'] / 1e6:.1f} M |",
        f"| achieved in generation | {flops['achieved_gflops_in_generation']:.2f} GFLOP/s |",
    ]
    for shape, value in results["matmul_gflops"].items():
        lines.append(f"| matmul {shape} | {value:.1f} GFLOP/s |")
    if "long_song" in results:
        long_song = results["long_song"]
        lines.append(f"| peak memory, {long_song['seconds_of_audio'] / 60:g}-minute song from a WAV file (fresh "
                     f"process; {long_song['rss_after_loading_mb']:.0f} MB after loading the pipeline) | "
                     f"{long_song['peak_rss_mb']:.0f} MB ({long_song['realtime_factor']:.1f}x real time) |")
    return "\n".join(lines)


def add_arguments(parser) -> None:
    """The options of ``drum-accomp benchmark`` and ``scripts/benchmark.py`` (one definition for both)."""
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="accompaniment system folder (default: bundled)")
    parser.add_argument("--groove-model", "--groove_model", dest="groove_model", default=str(DEFAULT_GROOVE_MODEL),
                        help="groove model folder (default: bundled)")
    parser.add_argument("--durations", type=float, nargs="+", default=[30.0, 180.0],
                        help="song lengths in seconds (the example backing, looped)")
    parser.add_argument("--long-seconds", "--long_seconds", dest="long_seconds", type=float, default=600.0,
                        help="song length of the peak-memory probe (0 = skip)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measurement (median reported)")
    parser.add_argument("--threads", type=int, default=2, help="torch / BLAS threads")
    parser.add_argument("--cache-codes", "--cache_codes", dest="cache_codes", type=int, default=1024,
                        help="codes generated for the KV-cache comparison")
    parser.add_argument("--sampling-rate", "--sampling_rate", dest="sampling_rate", type=int, default=44100,
                        help="rate of the input handed to the pipeline (the example, resampled)")
    parser.add_argument("--channels", type=int, default=2, help="channels of the input (copies of the example)")
    parser.add_argument("--no-madmom", "--no_madmom", dest="madmom", action="store_false",
                        help="skip the madmom-backend end-to-end run")
    parser.add_argument("--output-json", "--output_json", dest="output_json", default="benchmarks/benchmark.json",
                        help="where the results go (a .md with the table is written beside it)")


def run_from_args(args) -> dict[str, Any]:
    """Run with parsed :func:`add_arguments` options; print the table; write the JSON and the Markdown table."""
    from .data.build_utils import write_json_atomic, write_text_atomic

    for name, value in (("runs", args.runs), ("threads", args.threads), ("cache_codes", args.cache_codes),
                        ("channels", args.channels), ("sampling_rate", args.sampling_rate)):
        if value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if min(args.durations) <= 0 or args.long_seconds < 0:
        raise ValueError(f"song lengths must be > 0 s (--durations {args.durations}) and --long-seconds >= 0 "
                         f"(0 skips the memory probe), got {args.long_seconds}")
    results = run_benchmark(model=args.model, groove_model=args.groove_model, durations=tuple(args.durations),
                            long_seconds=args.long_seconds, runs=args.runs, threads=args.threads,
                            cache_codes=args.cache_codes, madmom=args.madmom, sampling_rate=args.sampling_rate,
                            channels=args.channels)
    report = format_report(results)
    print(report)
    output = Path(args.output_json)
    write_json_atomic(output, results)
    write_text_atomic(output.with_suffix(".md"), report + "\n")
    print(f"wrote {output} and {output.with_suffix('.md')}")
    return results


__all__ = ["add_arguments", "format_report", "run_benchmark", "run_from_args"]
