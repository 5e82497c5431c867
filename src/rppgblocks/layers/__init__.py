"""Neural building blocks with (or without) parameters, each a thin module."""

from rppgblocks.layers.cross_task_feature_combiner import CTFC, CrossTaskFeatureCombiner
from rppgblocks.layers.temporal_compressor import TemporalCompressor

__all__ = ["CTFC", "CrossTaskFeatureCombiner", "TemporalCompressor"]
