"""Evaluation of heart-rate estimates in the field's conventions."""

from rppgblocks.evaluation.metrics import HRMetrics, hr_metrics

__all__ = ["HRMetrics", "hr_metrics"]
