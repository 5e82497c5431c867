r"""Heart rate over time: the heart rate of each window of a sliding window over a BVP signal.

rPPG-Toolbox's windowed evaluation (``USE_SMALLER_WINDOW``, rppgblocks spec ``datasets.md`` §4.5) estimates one heart
rate per non-overlapping window of ``WINDOW_SIZE`` seconds; overlapping windows (a step shorter than the window) give
a heart-rate trace over time. All windows are cut with ``Tensor.unfold`` and estimated in one batched call.
"""

from __future__ import annotations

from typing import Literal

import torch
from einops import rearrange
from torch import Tensor

from rppgblocks._checks import check_band, check_finite_positive, check_shape
from rppgblocks.errors import ShapeError
from rppgblocks.functional.heart_rate import DEFAULT_HR_BAND, Window, _working_dtype, fft_heart_rate
from rppgblocks.functional.peaks import peak_heart_rate
from rppgblocks.layout import SIGNAL

__all__ = ["HRMethod", "sliding_window_heart_rate"]

HRMethod = Literal["fft", "peak"]


def sliding_window_heart_rate(
    signal: Tensor,
    fs: float,
    *,
    window_s: float = 10.0,
    step_s: float = 1.0,
    band: tuple[float, float] = DEFAULT_HR_BAND,
    method: HRMethod = "fft",
    nfft: int | None = None,
    spectral_window: Window = "hann",
    refine: Literal["parabolic", "none"] = "parabolic",
) -> tuple[Tensor, Tensor]:
    r"""The heart rate of every window of ``window_s`` seconds, moved by ``step_s`` seconds, of each signal.

    With :math:`L = \mathrm{round}(w f_s)` samples per window and a step of :math:`S = \max(1, \mathrm{round}(s
    f_s))` samples, window :math:`k` covers samples :math:`kS .. kS + L - 1`, for :math:`k = 0 .. W - 1`,
    :math:`W = \lfloor (T - L) / S \rfloor + 1` (a remainder shorter than a step is not covered). Each window's heart
    rate is :func:`~rppgblocks.functional.fft_heart_rate` (``method="fft"``, with ``band``, ``nfft``,
    ``spectral_window`` and ``refine``) or :func:`~rppgblocks.functional.peak_heart_rate` (``method="peak"``; NaN
    for a window with fewer than two peaks; ``band`` is not used: band-pass the signal first, e.g. with
    :func:`~rppgblocks.functional.bandpass`). For rPPG-Toolbox's rule use ``spectral_window="boxcar"``,
    ``refine="none"``, ``nfft`` = the next power of two >= L, and detrend and band-pass each window first.

    Differentiable only as far as the chosen estimator is (neither is). ``torch.compile`` and ``torch.export``
    supported.

    Args:
        signal: BVP signals, ``(B, T)``.
        fs: The sampling rate in Hz (one rate for the batch: it sets the window length in samples).
        window_s: Window length in seconds (> 0); at least 3 samples.
        step_s: Step between window starts in seconds (> 0); at least one sample.
        band: ``(low_hz, high_hz)`` heart-rate search band of the FFT method. Default (0.6, 3.3) Hz.
        method: ``"fft"`` (default) or ``"peak"``.
        nfft: FFT length of the FFT method (>= L); default the next power of two >= max(L, 1024).
        spectral_window: ``"hann"`` (default) or ``"boxcar"`` taper of the FFT method.
        refine: ``"parabolic"`` (default) or ``"none"``: sub-bin refinement of the FFT method.

    Returns:
        ``(hr, centre_times_s)``: the heart rates in bpm, ``(B, W)``, float32 (float64 for float64 input), and the
        time of each window's centre in seconds, ``(W,)``: the mean of its sample times,
        :math:`(kS + (L - 1)/2) / f_s`, with sample :math:`n` at time :math:`n / f_s`.

    Raises:
        ShapeError: If ``signal`` is not ``(B, T)`` or is shorter than one window.
        ValueError: If ``fs``, ``window_s``, ``step_s``, ``band``, ``method`` or an FFT option is invalid.

    Shape:
        - signal: :math:`(B, T)`
        - hr: :math:`(B, W)`
        - centre_times_s: :math:`(W,)`

    Examples:
        >>> fs = 30.0
        >>> t = torch.arange(900, dtype=torch.float64) / fs  # 30 s
        >>> bvp = torch.sin(2 * torch.pi * 1.2 * t)[None]  # 72 bpm
        >>> hr, times = sliding_window_heart_rate(bvp, fs, window_s=10.0, step_s=5.0)
        >>> hr.round(decimals=1)
        tensor([[72., 72., 72., 72., 72.]], dtype=torch.float64)
        >>> times  # (k * 150 + 149.5) / 30
        tensor([ 4.9833,  9.9833, 14.9833, 19.9833, 24.9833], dtype=torch.float64)
    """
    check_shape(signal, SIGNAL, "signal")
    check_finite_positive(fs, "fs")
    check_finite_positive(window_s, "window_s")
    check_finite_positive(step_s, "step_s")
    check_band(band)
    if method not in ("fft", "peak"):
        raise ValueError(f"method: expected 'fft' or 'peak', got {method!r}")
    length = round(window_s * fs)
    step = max(1, round(step_s * fs))
    if length < 3:
        raise ValueError(f"window_s: a window of {window_s} s at {fs} Hz has {length} samples; expected >= 3")
    batch, n_samples = signal.shape
    if n_samples < length:
        raise ShapeError("signal", SIGNAL, signal.shape, f"shorter than one window of {length} samples")
    windows = rearrange(signal.unfold(-1, length, step), "b w l -> (b w) l")
    if method == "fft":
        rates = fft_heart_rate(windows, fs, band=band, nfft=nfft, window=spectral_window, refine=refine)
    else:
        rates = peak_heart_rate(windows, fs)
    hr = rearrange(rates, "(b w) -> b w", b=batch)
    n_windows = hr.shape[-1]
    dtype = _working_dtype(signal)
    starts = torch.arange(n_windows, dtype=dtype, device=signal.device) * step
    return hr, (starts + (length - 1) / 2) / fs
