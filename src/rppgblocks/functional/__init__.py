"""Stateless tensor functions: the functional core behind every rppgblocks module."""

from rppgblocks.functional.heart_rate import (
    DEFAULT_HR_BAND,
    fft_heart_rate,
    next_power_of_two,
    power_spectral_density,
    soft_fft_heart_rate,
)
from rppgblocks.functional.normalization import (
    center_over_time,
    diff_normalize,
    normalize_video,
    standardize,
)
from rppgblocks.functional.partition import split_quadrants
from rppgblocks.functional.pearson import neg_pearson_loss, pearson_correlation
from rppgblocks.functional.rgb_trace import spatial_mean_rgb
from rppgblocks.functional.skin_attention import skin_attention, skin_attention_weights
from rppgblocks.functional.temporal import temporal_compress

__all__ = [
    "DEFAULT_HR_BAND",
    "center_over_time",
    "diff_normalize",
    "fft_heart_rate",
    "neg_pearson_loss",
    "next_power_of_two",
    "normalize_video",
    "pearson_correlation",
    "power_spectral_density",
    "skin_attention",
    "skin_attention_weights",
    "soft_fft_heart_rate",
    "spatial_mean_rgb",
    "split_quadrants",
    "standardize",
    "temporal_compress",
]
