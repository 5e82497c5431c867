"""The FFT heart-rate head: BVP -> heart rate in bpm (rFaceNet, arXiv 2403.09034, Eq. 3)."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from rppgblocks._checks import check_band, check_finite_positive
from rppgblocks.functional.heart_rate import (
    DEFAULT_HR_BAND,
    Window,
    fft_heart_rate,
    soft_fft_heart_rate,
)

__all__ = ["FFTHeartRateHead"]


class FFTHeartRateHead(nn.Module):
    r"""Heart rate in bpm from the spectral peak of a BVP signal inside a band; hard or soft (differentiable).

    A thin, parameter-free module over :func:`rppgblocks.functional.fft_heart_rate` (``soft=False``: argmax with
    sub-bin refinement, for evaluation) and :func:`rppgblocks.functional.soft_fft_heart_rate` (``soft=True``:
    softmax-weighted frequency, for losses). Computes in float32 (float64 for float64 input) whatever the input dtype.

    Args:
        fs: Default sampling rate in Hz, used when ``forward`` gets no ``fs``; ``None`` to require it per call.
        band: ``(low_hz, high_hz)`` search band; default (0.6, 3.3) Hz (rPPG-Toolbox). rFaceNet uses (0.5, 4.2).
        soft: Use the differentiable soft-argmax (default ``False``).
        temperature: Softmax temperature of the soft variant (> 0).
        nfft: FFT length; default the next power of two >= max(T, 1024).
        window: ``"hann"`` (default) or ``"boxcar"``.
        refine: Sub-bin refinement of the hard variant, ``"parabolic"`` (default) or ``"none"``.

    Raises:
        ValueError: If an argument is invalid; in ``forward``, if no sampling rate is known.

    Shape:
        - bvp: :math:`(B, T)`; fs (optional): a float or :math:`(B,)`
        - Output: :math:`(B,)` heart rate in bpm

    Examples:
        >>> import torch
        >>> head = FFTHeartRateHead(fs=30.0, band=(0.5, 4.2))
        >>> t = torch.arange(128) / 30.0
        >>> bvp = torch.stack([torch.sin(2 * torch.pi * f * t) for f in (1.0, 2.0)])
        >>> head(bvp).round()
        tensor([ 60., 120.])
    """

    def __init__(
        self,
        fs: float | None = None,
        *,
        band: tuple[float, float] = DEFAULT_HR_BAND,
        soft: bool = False,
        temperature: float = 0.05,
        nfft: int | None = None,
        window: Window = "hann",
        refine: Literal["parabolic", "none"] = "parabolic",
    ) -> None:
        super().__init__()
        if fs is not None:
            check_finite_positive(fs, "fs")
        check_finite_positive(temperature, "temperature")
        if window not in ("hann", "boxcar"):
            raise ValueError(f"window: expected 'hann' or 'boxcar', got {window!r}")
        if refine not in ("parabolic", "none"):
            raise ValueError(f"refine: expected 'parabolic' or 'none', got {refine!r}")
        if nfft is not None and (isinstance(nfft, bool) or not isinstance(nfft, int) or nfft <= 0):
            raise ValueError(f"nfft: expected a positive integer or None, got {nfft!r}")
        self.fs = None if fs is None else float(fs)
        self.band = check_band(band)
        self.soft = bool(soft)
        self.temperature = float(temperature)
        self.nfft = nfft
        self.window: Window = window
        self.refine: Literal["parabolic", "none"] = refine

    def forward(self, bvp: Tensor, fs: float | Tensor | None = None, *, soft: bool | None = None) -> Tensor:
        """Heart rate (B,) in bpm of ``bvp`` (B, T); ``fs`` and ``soft`` override the constructor's."""
        rate = self.fs if fs is None else fs
        if rate is None:
            raise ValueError("fs: no sampling rate given: pass fs to the constructor or to forward")
        use_soft = self.soft if soft is None else soft
        if use_soft:
            return soft_fft_heart_rate(
                bvp, rate, band=self.band, nfft=self.nfft, window=self.window, temperature=self.temperature
            )
        return fft_heart_rate(bvp, rate, band=self.band, nfft=self.nfft, window=self.window, refine=self.refine)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return (
            f"fs={self.fs}, band={self.band}, soft={self.soft}, temperature={self.temperature}, "
            f"nfft={self.nfft}, window={self.window!r}, refine={self.refine!r}"
        )
