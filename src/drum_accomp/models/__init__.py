"""Models: each in its own folder (configuration_*.py, modeling_*.py)."""
