"""What every dataset build shares: an atomic output folder, the manifest, the dataset card, skip reasons, Hub push.

A build writes into a temporary sibling folder and renames it into place only when it finished, so a killed
build never leaves a half dataset where a complete one is expected.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import numpy as np


def check_output_free(output_dir: "str | os.PathLike", overwrite: bool) -> Path:
    """Raise ``FileExistsError`` when ``output_dir`` exists and ``overwrite`` is not set (call it before long work)."""
    output_dir = Path(output_dir)
    if output_dir.exists() and not overwrite:
        raise FileExistsError(f"{str(output_dir)!r} exists; pass --overwrite to replace it, or choose another --output")
    return output_dir


@contextlib.contextmanager
def atomic_build_dir(output_dir: "str | os.PathLike", overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``output_dir``; on success it replaces ``output_dir`` in one rename.

    Raises:
        FileExistsError: ``output_dir`` exists and ``overwrite`` is not set.
    """
    output_dir = check_output_free(output_dir, overwrite)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    temp_dir = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.building-", dir=output_dir.parent))
    try:
        yield temp_dir
        if output_dir.exists():
            retired = output_dir.with_name(f".{output_dir.name}.old-{os.getpid()}")
            os.replace(output_dir, retired)
            os.replace(temp_dir, output_dir)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(temp_dir, output_dir)
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise


class SkipLog:
    """Counts skipped inputs by reason (kept in the manifest) and keeps a few examples of each."""

    def __init__(self, examples_per_reason: int = 5):
        self.counts: Counter = Counter()
        self.examples: dict[str, list[str]] = {}
        self.examples_per_reason = examples_per_reason

    def skip(self, reason: str, item: str) -> None:
        self.counts[reason] += 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < self.examples_per_reason:
            examples.append(str(item))

    def merge(self, other: "SkipLog") -> None:
        for reason, count in other.counts.items():
            self.counts[reason] += count
            for item in other.examples.get(reason, []):
                if len(self.examples.setdefault(reason, [])) < self.examples_per_reason:
                    self.examples[reason].append(item)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "by_reason": dict(self.counts), "examples": self.examples}


REPO_ROOT = Path(__file__).resolve().parents[3]


def command_line(script: "str | os.PathLike | None" = None, argv: "list[str] | None" = None) -> str:
    """The command that is running, quoted so it can be pasted back into a shell.

    Args:
        script: the running script (pass ``__file__``); shown relative to the repository when it lives there.
            ``None``: ``sys.argv[0]``.
        argv: its arguments, e.g. those given to a script's ``main(argv)`` by a test. ``None``: ``sys.argv[1:]``.
    """
    if script is None and argv is None and not sys.argv[0].endswith(".py"):
        return " ".join(shlex.quote(part) for part in sys.argv)  # a console script such as drum-accomp
    script = Path(script if script is not None else sys.argv[0]).resolve()
    if script.is_relative_to(REPO_ROOT):
        script = script.relative_to(REPO_ROOT)
    parts = ["python", script.as_posix(), *(sys.argv[1:] if argv is None else argv)]
    return " ".join(shlex.quote(str(part)) for part in parts)


def measure_mel_statistics(rows, column: str, batch_size: int = 64) -> dict[str, Any]:
    """Mean and standard deviation of every value of a mel ``column`` (all frames, all bands) over ``rows`` (a
    ``datasets.Dataset`` in any format): the ``mel_mean`` / ``mel_std`` a model config normalises with."""
    total = total_squares = 0.0
    count = 0
    low, high = float("inf"), float("-inf")
    for start in range(0, len(rows), batch_size):
        values = np.asarray(rows[start:start + batch_size][column], dtype=np.float64)  # (batch, frames, mels)
        total += float(values.sum())
        total_squares += float(np.square(values).sum())
        count += values.size
        low, high = min(low, float(values.min())), max(high, float(values.max()))
    mean = total / count
    return {"column": column, "rows": len(rows), "values": count, "mel_mean": round(mean, 4),
            "mel_std": round(float(np.sqrt(max(total_squares / count - mean**2, 0.0))), 4),
            "min": round(low, 4), "max": round(high, 4)}


def folder_size_bytes(folder: "str | os.PathLike") -> int:
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())


def write_text_atomic(path: "str | os.PathLike", text: str) -> Path:
    """Write text through a temporary file and one rename, creating the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)
    return path


def write_json_atomic(path: "str | os.PathLike", payload: Any, default: Any = str) -> Path:
    """Write JSON through a temporary file and one rename, creating the parent folder; ``default`` converts what
    JSON cannot hold (``str`` for paths, ``float`` for numpy numbers)."""
    return write_text_atomic(path, json.dumps(payload, indent=2, default=default) + "\n")


def write_manifest(folder: "str | os.PathLike", config: dict, stats: dict, skipped: SkipLog,
                   started: float | None = None) -> Path:
    """``manifest.json``: the exact config and command of the build, what it produced, what it skipped and why."""
    import datasets
    import numpy

    manifest = {
        "command": command_line(),
        "config": config,
        "stats": stats,
        "skipped": skipped.to_dict(),
        "seconds": None if started is None else round(time.time() - started, 1),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": {"python": platform.python_version(), "datasets": datasets.__version__,
                     "numpy": numpy.__version__},
    }
    return write_json_atomic(Path(folder) / "manifest.json", manifest)


def write_dataset_card(
    folder: "str | os.PathLike",
    title: str,
    summary: str,
    licences: dict[str, str],
    task: str,
    num_examples: dict[str, int],
    size_bytes: int,
    sections: dict[str, str],
    command: str | None = None,
) -> Path:
    """``README.md`` with Hub YAML metadata (licence per source, task, size) and free sections (tables, method).

    Args:
        licences: source name -> SPDX-style licence id (e.g. ``{"Groove MIDI Dataset": "cc-by-4.0"}``).
        num_examples: split -> rows.
        sections: heading -> Markdown body, in order.
    """
    total = sum(num_examples.values())
    size_category = ("n<1K" if total < 1_000 else "1K<n<10K" if total < 10_000 else "10K<n<100K"
                     if total < 100_000 else "100K<n<1M")
    distinct = sorted(set(licences.values()))
    yaml_lines = ["---", f"license: {distinct[0] if len(distinct) == 1 else 'other'}"]
    if len(distinct) > 1:
        yaml_lines.append("license_details: " + "; ".join(f"{name}: {lic}" for name, lic in licences.items()))
    yaml_lines += [f"task_categories:\n- {task}", "tags:\n- music\n- drums\n- midi", f"size_categories:\n- {size_category}",
                   "---"]
    body = [f"# {title}", "", summary, "", "## Sources and licences", ""]
    body += [f"- {name}: {lic}" for name, lic in licences.items()]
    body += ["", "## Size", "", "| split | rows |", "|---|---:|"]
    body += [f"| {split} | {count} |" for split, count in num_examples.items()]
    body += ["", f"On disk: {size_bytes / 1e6:.1f} MB.", ""]
    for heading, text in sections.items():
        body += [f"## {heading}", "", text.rstrip(), ""]
    body += ["## How it was built", "", "```", command or command_line(), "```", "",
             "The exact configuration is in `manifest.json`.", ""]
    path = Path(folder) / "README.md"
    temp = path.with_name("README.md.tmp")
    temp.write_text("\n".join(yaml_lines + body), encoding="utf-8")
    os.replace(temp, path)
    return path


def push_folder_to_hub(folder: "str | os.PathLike", repo_id: str, private: bool = True, token: str | None = None):
    """Upload a built dataset folder (data, card, manifest, plots) to a Hub dataset repo."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    return api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset",
                             commit_message="Upload drum_accomp dataset build")


class worker_pool:
    """``with worker_pool(n) as run: run(function, tasks)`` -> results in task order; in-process when ``n == 1``.

    Workers are forked (the parent's imports are reused) and each keeps one torch math thread, since ``n``
    workers already share the cores.
    """

    def __init__(self, num_proc: int):
        self.num_proc = num_proc
        self.pool = None

    def __enter__(self):
        if self.num_proc > 1:
            import multiprocessing

            self.pool = multiprocessing.get_context("fork").Pool(self.num_proc, initializer=_one_thread_worker)
            return lambda function, tasks: self.pool.imap(function, tasks, chunksize=1)
        return lambda function, tasks: map(function, tasks)

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


def _one_thread_worker() -> None:
    import torch

    torch.set_num_threads(1)


def check_render_setup(soundfonts: "tuple[str, ...] | list[str]") -> None:
    """Fail before any work when FluidSynth or one of ``soundfonts`` is missing (the error says what to install)."""
    from ..render import find_soundfont, fluidsynth_binary

    fluidsynth_binary()
    for soundfont in soundfonts:
        find_soundfont(soundfont)
