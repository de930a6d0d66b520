"""Evaluation: drum-hit F1, groove distances, beat alignment, baselines, genre classifier accuracy (``metrics``,
``baselines``, ``genre``); the evaluation loops of the pipeline and of the groove model (``pipeline_eval``,
``groove_eval``); the evaluation report of the default models (``report``, ``report_markdown``, ``report_plots``)."""
