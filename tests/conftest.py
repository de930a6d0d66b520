"""Shared test setup: offline Hub, paths to the fixtures and to the shared real data."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
SHARED_DATA = Path(os.environ.get("DRUM_ACCOMP_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}; set DRUM_ACCOMP_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def groove_midi_path() -> Path:
    return FIXTURES / "groove" / "1_funk_80_beat_4-4.mid"


@pytest.fixture(scope="session")
def song_midi_path() -> Path:
    return FIXTURES / "multitrack" / "Amazing_grace.mid"
