#!/usr/bin/env bash
# Set up drum_accomp on a bare Debian machine: system packages (FluidSynth + GM SoundFonts, Chromium for the
# browser tests), a venv in .venv,
# CPU torch first (so nothing pulls a CUDA build), then the package with its pinned dependencies.
# Idempotent: re-running it on a set-up machine only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium (+ fonts-liberation, a recommends we skip otherwise): the browser the listening-test app's tests drive
# (Playwright with executable_path, no browser download)
APT_PACKAGES=(fluidsynth fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont-small chromium
              fonts-liberation)
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "[setup] apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
# torch first: the CPU wheel; then the package (its torch pin is then already satisfied).
.venv/bin/python -m pip install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install -q -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import torch, transformers, drum_accomp; print('[setup] ok: torch', torch.__version__, '| transformers', transformers.__version__, '| drum_accomp', drum_accomp.__version__)"
