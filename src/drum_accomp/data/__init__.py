"""Dataset building blocks: genre balancing, MIDI/audio augmentation and (later) the data sources."""
