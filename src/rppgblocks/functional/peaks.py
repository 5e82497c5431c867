r"""Local maxima of a batch of signals and rPPG-Toolbox's peak-detection heart rate.

rPPG-Toolbox's ``_calculate_peak_hr`` finds the peaks with ``scipy.signal.find_peaks(x)`` (default arguments) and
returns :math:`60 / (\overline{\Delta n} / f_s)`, with :math:`\overline{\Delta n}` the mean distance in samples
between consecutive peaks (rppgblocks spec ``datasets.md`` §4.5 step 5). Both are vectorised here (no loop over
samples): runs of equal values are located with cumulative maxima/minima of their start and end indices.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rppgblocks._checks import check_shape
from rppgblocks.functional.heart_rate import _fs_column, _working_dtype
from rppgblocks.layout import SIGNAL

__all__ = ["find_local_maxima", "peak_heart_rate"]


def find_local_maxima(signal: Tensor) -> Tensor:
    r"""Boolean mask of the local maxima of each signal, equal to ``scipy.signal.find_peaks(x)`` with defaults.

    A peak is a sample (or a run of equal samples, a plateau) that is strictly greater than its neighbours on both
    sides; for a plateau the peak is its middle sample, the left one of the two middles for an even length
    (:math:`\lfloor (l + r) / 2 \rfloor`). The first and last samples are never peaks, nor is a plateau that
    touches either end. NaN compares false, so a NaN is never a peak and blocks its neighbours (as scipy).

    Not differentiable (a boolean output). ``torch.compile`` and ``torch.export`` supported.

    Args:
        signal: The signals, ``(B, T)``, any real dtype.

    Returns:
        A boolean mask ``(B, T)``, True at the peaks; ``mask.nonzero()`` gives ``(row, index)`` pairs and
        ``mask[i].nonzero().squeeze(-1)`` equals ``find_peaks(signal[i])[0]``.

    Raises:
        ShapeError: If ``signal`` is not ``(B, T)``.

    Shape:
        - signal, output: :math:`(B, T)`

    Examples:
        >>> x = torch.tensor([[0.0, 2.0, 1.0, 3.0, 3.0, 3.0, 0.0, 1.0, 1.0]])
        >>> find_local_maxima(x)[0].nonzero().squeeze(-1)  # index 1, the plateau 3..5 -> 4; 7..8 touches the end
        tensor([1, 4])
    """
    check_shape(signal, SIGNAL, "signal")
    batch, n_samples = signal.shape
    if n_samples < 3:
        return torch.zeros(batch, n_samples, dtype=torch.bool, device=signal.device)
    x = signal
    index = torch.arange(n_samples, device=x.device).expand(batch, n_samples)
    differs = x[:, 1:] != x[:, :-1]  # (B, T - 1): a run boundary between t and t + 1
    true_column = torch.ones(batch, 1, dtype=torch.bool, device=x.device)
    starts = torch.cat([true_column, differs], dim=-1)  # t starts a run
    ends = torch.cat([differs, true_column], dim=-1)  # t ends a run
    run_start = torch.cummax(torch.where(starts, index, torch.zeros_like(index)), dim=-1).values
    last = torch.full_like(index, n_samples - 1)
    run_end = torch.cummin(torch.where(ends, index, last).flip(-1), dim=-1).values.flip(-1)
    false_column = torch.zeros(batch, 1, dtype=torch.bool, device=x.device)
    rises = torch.cat([false_column, x[:, :-1] < x[:, 1:]], dim=-1)  # x[t - 1] < x[t]
    falls = torch.cat([x[:, 1:] < x[:, :-1], false_column], dim=-1)  # x[t + 1] < x[t]
    rises_into_run = rises.gather(-1, run_start)
    falls_after_run = falls.gather(-1, run_end)
    middle = index == torch.div(run_start + run_end, 2, rounding_mode="floor")
    return middle & rises_into_run & falls_after_run


def peak_heart_rate(signal: Tensor, fs: float | Tensor) -> Tensor:
    r"""Heart rate in bpm from the mean interval between consecutive local maxima (rPPG-Toolbox's "Peak" method).

    :math:`\mathrm{HR} = 60 / (\overline{\Delta n} / f_s)`, where :math:`\overline{\Delta n} = (n_{last} -
    n_{first}) / (K - 1)` is the mean distance between the K peaks of :func:`find_local_maxima` (scipy's
    ``find_peaks`` with no height, distance or prominence constraint, so every wiggle counts: apply it to a
    detrended, band-passed signal, as rPPG-Toolbox does). With fewer than two peaks there is no interval, and the
    result is NaN for that signal (rPPG-Toolbox's ``np.mean`` of an empty array, which also gives NaN).

    Not differentiable. ``torch.compile`` and ``torch.export`` supported.

    Args:
        signal: The signals, ``(B, T)``.
        fs: The sampling rate in Hz: a float, or a ``(B,)`` tensor of per-sample rates.

    Returns:
        Heart rate in beats per minute, ``(B,)``, float32 (float64 for float64 input); NaN where fewer than two
        peaks were found.

    Raises:
        ShapeError: If ``signal`` is not ``(B, T)`` or ``fs`` is a tensor of the wrong shape.
        ValueError: If ``fs`` is not positive.

    Shape:
        - signal: :math:`(B, T)`
        - output: :math:`(B,)`

    Examples:
        >>> t = torch.arange(300, dtype=torch.float64) / 30.0
        >>> peak_heart_rate(torch.sin(2 * torch.pi * 1.5 * t)[None], 30.0)  # 90 bpm
        tensor([90.], dtype=torch.float64)
        >>> peak_heart_rate(torch.zeros(1, 10), 30.0)  # no peak
        tensor([nan])
    """
    check_shape(signal, SIGNAL, "signal")
    batch, n_samples = signal.shape
    dtype = _working_dtype(signal)
    fs_col = _fs_column(fs, batch, signal.device, dtype).squeeze(-1)
    peaks = find_local_maxima(signal)
    count = peaks.sum(dim=-1)
    index = torch.arange(n_samples, device=signal.device, dtype=dtype)
    first = torch.where(peaks, index, torch.full_like(index, float(n_samples))).amin(dim=-1)
    last = torch.where(peaks, index, torch.full_like(index, -1.0)).amax(dim=-1)
    intervals = (count - 1).clamp_min(1).to(dtype)
    mean_interval = (last - first) / intervals
    period_s = mean_interval / fs_col
    rate = torch.full_like(period_s, 60.0) / period_s  # a true division (``60.0 / t`` multiplies by 1 / t)
    return torch.where(count >= 2, rate, torch.full_like(rate, float("nan")))
