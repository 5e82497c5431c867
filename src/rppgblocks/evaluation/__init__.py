"""Evaluation of heart-rate estimates in the field's conventions."""

from rppgblocks.evaluation.evaluate import HREvaluation, HRPair, evaluate_hr, postprocess_bvp
from rppgblocks.evaluation.metrics import HRMetrics, hr_metrics
from rppgblocks.evaluation.plots import bland_altman_plot, bvp_plot, scatter_plot

__all__ = [
    "HREvaluation",
    "HRMetrics",
    "HRPair",
    "bland_altman_plot",
    "bvp_plot",
    "evaluate_hr",
    "hr_metrics",
    "postprocess_bvp",
    "scatter_plot",
]
