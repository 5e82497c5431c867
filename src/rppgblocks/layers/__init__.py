"""Neural building blocks with (or without) parameters, each a thin module."""

from rppgblocks.layers.cross_task_feature_combiner import CTFC, CrossTaskFeatureCombiner
from rppgblocks.layers.skin_attention import SkinAttention
from rppgblocks.layers.skin_segmentation import SkinSegmentationBranch
from rppgblocks.layers.spatio_temporal_conv import SpatioTemporalConv, STBlock, r2plus1d_mid_channels
from rppgblocks.layers.temporal_compressor import TemporalCompressor

__all__ = [
    "CTFC",
    "CrossTaskFeatureCombiner",
    "STBlock",
    "SkinAttention",
    "SkinSegmentationBranch",
    "SpatioTemporalConv",
    "TemporalCompressor",
    "r2plus1d_mid_channels",
]
