"""Make the bundled example: the first 30 s of Slakh2100 Track00001's backing (all non-drum parts), rendered
with FluidSynth + FluidR3_GM at 16 kHz, as FLAC; and its drum part as MIDI, for comparison.

    python scripts/make_example.py            # writes examples/slakh_Track00001/{backing_30s.flac,drums_30s.mid}
"""

import argparse
from pathlib import Path

import soundfile

from drum_accomp.midi import load_midi, split_backing_and_drums
from drum_accomp.render import render_midi

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "slakh_Track00001"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    backing_midi, drums_midi = split_backing_and_drums(load_midi(EXAMPLE / "all_src.mid"))
    backing = render_midi(backing_midi, sampling_rate=16000, duration=args.seconds)
    soundfile.write(EXAMPLE / "backing_30s.flac", backing, 16000, subtype="PCM_16")
    for instrument in drums_midi.instruments:
        instrument.notes = [note for note in instrument.notes if note.start < args.seconds]
    drums_midi.write(str(EXAMPLE / "drums_30s.mid"))
    print(f"wrote {EXAMPLE / 'backing_30s.flac'} ({len(backing) / 16000:.1f} s) and {EXAMPLE / 'drums_30s.mid'}")


if __name__ == "__main__":
    main()
