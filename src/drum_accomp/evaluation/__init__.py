"""Evaluation: drum-hit F1, groove distances, beat alignment, baselines, genre classifier accuracy."""
