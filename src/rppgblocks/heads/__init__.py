"""Output heads."""

from rppgblocks.heads.fft_heart_rate import FFTHeartRateHead

__all__ = ["FFTHeartRateHead"]
