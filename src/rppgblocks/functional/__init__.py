"""Stateless tensor functions: the functional core behind every rppgblocks module."""

from rppgblocks.functional.heart_rate import (
    DEFAULT_HR_BAND,
    fft_heart_rate,
    next_power_of_two,
    power_spectral_density,
    soft_fft_heart_rate,
)

__all__ = [
    "DEFAULT_HR_BAND",
    "fft_heart_rate",
    "next_power_of_two",
    "power_spectral_density",
    "soft_fft_heart_rate",
]
