r"""Spectral signal-to-noise ratio of a BVP signal around a known heart rate (rPPG-Toolbox's SNR).

Definition (rPPG-Toolbox ``evaluation/post_process.py::_calculate_SNR``; rppgblocks spec ``datasets.md`` §4.5 step
6), after G. de Haan and V. Jeanne, "Robust pulse rate from chrominance-based rPPG", IEEE Transactions on
Biomedical Engineering 60(10):2878-2886, 2013: from the periodogram :math:`P(f)` of the signal (boxcar window,
no detrending, FFT length the next power of two >= T), with :math:`f_0 = \mathrm{HR} / 60`,

.. math::
    P_{sig} = \sum_{|f - f_0| \le \delta} P(f) + \sum_{|f - 2 f_0| \le \delta} P(f), \qquad
    P_{noise} = \sum_{f \in [f_{lo}, f_{hi}],\ |f - f_0| > \delta,\ |f - 2 f_0| > \delta} P(f),

with :math:`\delta` = 0.1 Hz (6 bpm). The signal bins are not restricted to the band; the noise bins are.

and SNR = :math:`10 \log_{10}(P_{sig} / P_{noise})` dB. Checked against rPPG-Toolbox's own numbers on real
UBFC-rPPG predictions (``benchmarks/ubfc_deepphys_parity.py``): equal to 0.0001 dB for all 21 subjects.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rppgblocks._checks import check_band, check_finite_positive, check_shape, is_compiling
from rppgblocks.functional.heart_rate import DEFAULT_HR_BAND, next_power_of_two, power_spectral_density
from rppgblocks.layout import SIGNAL

__all__ = ["DEFAULT_TOLERANCE_HZ", "snr_db", "spectral_snr_db"]

#: rPPG-Toolbox's half-width of the signal windows around f0 and 2 f0: 6 bpm.
DEFAULT_TOLERANCE_HZ = 6 / 60


def spectral_snr_db(
    freqs: Tensor,
    psd: Tensor,
    f0_hz: Tensor,
    *,
    band: tuple[float, float] = DEFAULT_HR_BAND,
    tolerance_hz: float | Tensor = DEFAULT_TOLERANCE_HZ,
) -> Tensor:
    r"""The SNR of a given spectrum around the fundamental ``f0_hz`` and its second harmonic (see the module notes).

    The spectral core of :func:`snr_db`, for callers that already have a spectrum (e.g. a windowed one).

    Args:
        freqs: Bin frequencies in Hz, ``(B, F)`` (or ``(F,)``).
        psd: Power in each bin, ``(B, F)``, non-negative.
        f0_hz: The fundamental frequency in Hz per signal, ``(B,)``.
        band: ``(low_hz, high_hz)`` band of the noise bins. Default :data:`DEFAULT_HR_BAND` = (0.6, 3.3) Hz.
        tolerance_hz: Half-width of the signal windows around :math:`f_0` and :math:`2 f_0` (> 0), default 0.1 Hz;
            a float or a ``(B,)`` tensor.

    Returns:
        The SNR in dB, ``(B,)``, in ``psd``'s dtype: 0 where the noise power is 0 (rPPG-Toolbox's rule), and
        -inf where the signal power is 0 but the noise power is not.

    Raises:
        ShapeError: If ``psd`` is not ``(B, F)``.
        ValueError: If ``band`` or ``tolerance_hz`` is invalid.

    Shape:
        - freqs: :math:`(B, F)` or :math:`(F,)`
        - psd: :math:`(B, F)`
        - f0_hz, output: :math:`(B,)`

    Examples:
        >>> freqs = torch.linspace(0.0, 4.0, 41)[None]  # 0.1 Hz bins
        >>> psd = torch.zeros(1, 41); psd[0, 12] = 9.0; psd[0, 30] = 1.0  # 1.2 Hz fundamental, 3.0 Hz noise
        >>> spectral_snr_db(freqs, psd, torch.tensor([1.2]))
        tensor([9.5424])
    """
    check_shape(psd, "b f", "psd")
    check_shape(f0_hz, "b", "f0_hz", b=psd.shape[0])
    low, high = check_band(band)
    if isinstance(tolerance_hz, Tensor):
        check_shape(tolerance_hz, "b", "tolerance_hz", b=psd.shape[0])
        delta: float | Tensor = tolerance_hz.to(psd.dtype)[:, None]
    else:
        check_finite_positive(tolerance_hz, "tolerance_hz")
        delta = float(tolerance_hz)
    f1 = f0_hz.to(psd.dtype)[:, None]
    f2 = 2 * f1
    near_first = (freqs >= f1 - delta) & (freqs <= f1 + delta)
    near_second = (freqs >= f2 - delta) & (freqs <= f2 + delta)
    in_band = (freqs >= low) & (freqs <= high)
    zero = torch.zeros_like(psd)
    signal_power = torch.where(near_first, psd, zero).sum(-1) + torch.where(near_second, psd, zero).sum(-1)
    noise_power = torch.where(in_band & ~near_first & ~near_second, psd, zero).sum(-1)
    safe_noise = torch.where(noise_power > 0, noise_power, torch.ones_like(noise_power))
    snr = 10.0 * torch.log10(signal_power / safe_noise)
    return torch.where(noise_power > 0, snr, torch.zeros_like(snr))


def snr_db(
    signal: Tensor,
    hr_bpm: float | Tensor,
    fs: float | Tensor,
    *,
    band: tuple[float, float] = DEFAULT_HR_BAND,
    tolerance_hz: float = DEFAULT_TOLERANCE_HZ,
    nfft: int | None = None,
) -> Tensor:
    r"""rPPG-Toolbox's SNR of a predicted BVP signal around the ground-truth heart rate, in dB.

    The periodogram of each signal (:func:`~rppgblocks.functional.power_spectral_density` with a boxcar window,
    no detrending and ``nfft`` = the next power of two >= T, as ``scipy.signal.periodogram(x, fs, nfft=N,
    detrend=False)``) is split into the signal bins within ``tolerance_hz`` of :math:`f_0 = \mathrm{HR}/60` and of
    :math:`2 f_0`, and the remaining bins of ``band`` (the noise); the SNR is
    :math:`10 \log_{10}(P_{sig} / P_{noise})`. 0 where the noise power is 0. See the
    module notes. rPPG-Toolbox evaluates it on the detrended, band-passed prediction with the heart rate of the
    equally processed label.

    Computes in float32 (float64 for float64 input). Autograd (with respect to ``signal``), ``torch.compile`` and
    ``torch.export`` supported.

    Args:
        signal: The predicted BVP signals, ``(B, T)``.
        hr_bpm: The reference heart rate in bpm: a float, or a ``(B,)`` tensor.
        fs: The sampling rate in Hz: a float, or a ``(B,)`` tensor.
        band: ``(low_hz, high_hz)`` band of the noise bins. Default :data:`DEFAULT_HR_BAND` = (0.6, 3.3) Hz.
        tolerance_hz: Half-width of the signal windows (> 0). Default 0.1 Hz (6 bpm), as rPPG-Toolbox.
        nfft: FFT length (>= T). Default: the next power of two >= T, as rPPG-Toolbox.

    Returns:
        The SNR in dB, ``(B,)``, float32 (float64 for float64 input).

    Raises:
        ShapeError: If ``signal`` is not ``(B, T)`` or ``hr_bpm``/``fs`` is a tensor of the wrong shape.
        ValueError: If ``fs``, ``band``, ``tolerance_hz``, ``nfft`` or a heart rate is invalid.

    Shape:
        - signal: :math:`(B, T)`
        - hr_bpm: :math:`(B,)` or a float
        - output: :math:`(B,)`

    Examples:
        >>> t = torch.arange(512, dtype=torch.float64) / 32.0
        >>> x = torch.sin(2 * torch.pi * 1.25 * t) + 0.1 * torch.sin(2 * torch.pi * 2.0 * t)  # power ratio 100
        >>> snr_db(x[None], 75.0, 32.0)
        tensor([20.0000], dtype=torch.float64)
    """
    check_shape(signal, SIGNAL, "signal")
    batch, n_samples = signal.shape
    if nfft is None:
        nfft = next_power_of_two(n_samples)
    freqs, psd = power_spectral_density(signal, fs, nfft=nfft, window="boxcar", detrend=False)
    if isinstance(hr_bpm, Tensor):
        if hr_bpm.dim() == 0:
            hr_bpm = hr_bpm.expand(batch)
        check_shape(hr_bpm, "b", "hr_bpm", b=batch)
        if not is_compiling() and not bool(torch.all(torch.isfinite(hr_bpm) & (hr_bpm > 0))):
            raise ValueError(f"hr_bpm: expected finite heart rates > 0 bpm, got {hr_bpm.tolist()}")
        hr = hr_bpm.to(device=psd.device, dtype=psd.dtype)
    else:
        check_finite_positive(hr_bpm, "hr_bpm")
        hr = torch.full((batch,), float(hr_bpm), dtype=psd.dtype, device=psd.device)
    return spectral_snr_db(freqs, psd, hr / 60, band=band, tolerance_hz=tolerance_hz)
