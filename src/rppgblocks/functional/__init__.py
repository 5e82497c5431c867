"""Stateless tensor functions: the functional core behind every rppgblocks module."""

from rppgblocks.functional.detrend import detrend_smoothness_priors
from rppgblocks.functional.filters import (
    FilterCoefficients,
    bandpass,
    butter_bandpass,
    filtfilt,
    lfilter,
    lfilter_zi,
)
from rppgblocks.functional.heart_rate import (
    DEFAULT_HR_BAND,
    fft_heart_rate,
    next_power_of_two,
    power_spectral_density,
    soft_fft_heart_rate,
)
from rppgblocks.functional.hr_trace import sliding_window_heart_rate
from rppgblocks.functional.normalization import (
    center_over_time,
    diff_normalize,
    diff_normalize_label,
    normalize_video,
    standardize,
    standardize_label,
    undo_diff_normalize,
)
from rppgblocks.functional.partition import split_quadrants
from rppgblocks.functional.peaks import find_local_maxima, peak_heart_rate
from rppgblocks.functional.pearson import neg_pearson_loss, pearson_correlation
from rppgblocks.functional.quality import spectral_quality_index
from rppgblocks.functional.rgb_trace import rgb_trace_from_video, spatial_mean_rgb
from rppgblocks.functional.self_similarity import (
    Similarity,
    self_similarity_diagonal_std,
    self_similarity_map,
    self_similarity_wave,
)
from rppgblocks.functional.skin_attention import skin_attention, skin_attention_weights
from rppgblocks.functional.snr import DEFAULT_TOLERANCE_HZ, snr_db, spectral_snr_db
from rppgblocks.functional.sspd_views import (
    SSPDViews,
    global_view,
    local_view,
    masked_difference_modeling,
    sspd_views,
)
from rppgblocks.functional.temporal import temporal_compress

__all__ = [
    "DEFAULT_HR_BAND",
    "DEFAULT_TOLERANCE_HZ",
    "FilterCoefficients",
    "SSPDViews",
    "Similarity",
    "bandpass",
    "butter_bandpass",
    "center_over_time",
    "detrend_smoothness_priors",
    "diff_normalize",
    "diff_normalize_label",
    "fft_heart_rate",
    "filtfilt",
    "find_local_maxima",
    "global_view",
    "lfilter",
    "lfilter_zi",
    "local_view",
    "masked_difference_modeling",
    "neg_pearson_loss",
    "next_power_of_two",
    "normalize_video",
    "peak_heart_rate",
    "pearson_correlation",
    "power_spectral_density",
    "rgb_trace_from_video",
    "self_similarity_diagonal_std",
    "self_similarity_map",
    "self_similarity_wave",
    "skin_attention",
    "skin_attention_weights",
    "sliding_window_heart_rate",
    "snr_db",
    "soft_fft_heart_rate",
    "spatial_mean_rgb",
    "spectral_quality_index",
    "spectral_snr_db",
    "split_quadrants",
    "sspd_views",
    "standardize",
    "standardize_label",
    "temporal_compress",
    "undo_diff_normalize",
]
