"""Helpers shared by tests (importable because pytest puts this folder, the conftest's, on sys.path)."""

import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str, folder: str = "scripts"):
    """Import ``<repo>/<folder>/<name>.py`` as a module (scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / folder / f"{name}.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script  # dataclasses look their module up while the script is executed
    spec.loader.exec_module(script)
    return script
