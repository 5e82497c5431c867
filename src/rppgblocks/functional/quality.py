r"""A ground-truth-free signal quality index for BVP/rPPG signals: the SNR of a signal against its own pulse rate.

Definition. The spectral SNR of G. de Haan and V. Jeanne, "Robust pulse rate from chrominance-based rPPG", IEEE
Transactions on Biomedical Engineering 60(10):2878-2886, 2013 (their evaluation metric, also rPPG-Toolbox's SNR:
see :mod:`rppgblocks.functional.snr`) measures how much of a pulse signal's in-band power lies in narrow windows
around the fundamental :math:`f_0` and the first harmonic :math:`2 f_0` of the *reference* pulse rate. Replacing the
reference by the signal's own dominant in-band frequency,

.. math::
    \hat f_0 = \arg\max_{f \in [f_{lo}, f_{hi}]} P(f), \qquad
    \mathrm{SQI} = 10 \log_{10} \frac{\sum_{|f - \hat f_0| \le \delta} P(f) + \sum_{|f - 2\hat f_0| \le \delta} P(f)}
    {\sum_{f \in [f_{lo}, f_{hi}] \setminus \text{those windows}} P(f)} ,

gives a quality index that needs no ground truth: the spectral concentration of the signal around its own pulse
rate and harmonic, in dB. :math:`P` is the periodogram of the mean-removed signal with a Hann window (which keeps a
strong pulse's leakage out of the noise bins), and :math:`\delta = \max(0.1\,\text{Hz}, 2 f_s / T)` by default:
rPPG-Toolbox's 6 bpm, widened to the Hann main lobe's half-width on short windows, so a clean periodic pulse scores
high whatever its length.

Why this index. A clean pulse is quasi-periodic, so its power concentrates at :math:`f_0` and its harmonics; noise
and motion spread power over the band. The index is computed from the same spectrum as the FFT heart rate (so it
says how much to trust that estimate), needs no beat segmentation (template-matching SQIs such as Q. Li and G. D.
Clifford, "Dynamic time warping and machine learning for signal quality assessment of pulsatile signals",
Physiological Measurement 33(9):1491-1501, 2012, need reliable beat detection, which fails on exactly the noisy rPPG
signals one wants to flag), is defined for any window length, is vectorised and differentiable almost everywhere,
and is on the scale of the SNR the field already reports (:math:`10 \log_{10}`, as rPPG-Toolbox). Its limit: a
strong periodic artefact (e.g. rhythmic motion) in the band also scores high.
"""

from __future__ import annotations

from torch import Tensor

from rppgblocks._checks import check_band, check_finite_positive, check_shape
from rppgblocks.functional.heart_rate import DEFAULT_HR_BAND, _band_mask, _fs_column, power_spectral_density
from rppgblocks.functional.snr import spectral_snr_db
from rppgblocks.layout import SIGNAL

__all__ = ["spectral_quality_index"]

_MIN_TOLERANCE_HZ = 0.1


def spectral_quality_index(
    signal: Tensor,
    fs: float | Tensor,
    *,
    band: tuple[float, float] = DEFAULT_HR_BAND,
    tolerance_hz: float | None = None,
    nfft: int | None = None,
) -> Tensor:
    r"""Signal quality index in dB: the SNR of each signal around its own dominant in-band frequency.

    See the module notes for the definition (de Haan and Jeanne 2013's spectral SNR with the signal's own pulse rate
    :math:`\hat f_0` as reference) and for why it was chosen. Higher is cleaner. At 30 fps a clean sinusoidal pulse
    scores above 30 dB, the same pulse plus white noise of half its power about 11-13 dB, and white noise alone
    about +2, -2 and -7 dB on 5, 10 and 60 s windows (its power is spread evenly, and the windows narrow as T grows,
    down to 0.1 Hz). Use it to rank or threshold windows of one length, not as an absolute scale: it depends on
    ``band``, ``tolerance_hz`` and the window length.

    Computes in float32 (float64 for float64 input). Autograd (with respect to ``signal``, for a fixed dominant
    frequency), ``torch.compile`` and ``torch.export`` supported.

    Args:
        signal: BVP/rPPG signals, ``(B, T)``.
        fs: The sampling rate in Hz: a float, or a ``(B,)`` tensor.
        band: ``(low_hz, high_hz)`` pulse-rate band. Default :data:`DEFAULT_HR_BAND` = (0.6, 3.3) Hz.
        tolerance_hz: Half-width of the signal windows (> 0). Default :math:`\max(0.1, 2 f_s / T)` Hz.
        nfft: FFT length (>= T). Default: the next power of two >= max(T, 1024).

    Returns:
        The quality index in dB, ``(B,)``, float32 (float64 for float64 input).

    Raises:
        ShapeError: If ``signal`` is not ``(B, T)`` or ``fs`` is a tensor of the wrong shape.
        ValueError: If ``fs``, ``band``, ``tolerance_hz`` or ``nfft`` is invalid, or the band holds no bin.

    Shape:
        - signal: :math:`(B, T)`
        - output: :math:`(B,)`

    Examples:
        >>> import torch
        >>> gen = torch.Generator().manual_seed(0)
        >>> t = torch.arange(300) / 30.0
        >>> pulse = torch.sin(2 * torch.pi * 1.2 * t)
        >>> noise = torch.randn(300, generator=gen)
        >>> sqi = spectral_quality_index(torch.stack([pulse, pulse + noise, noise]), 30.0)
        >>> bool(sqi[0] > sqi[1] > sqi[2])
        True
    """
    check_shape(signal, SIGNAL, "signal")
    band = check_band(band)
    batch, n_samples = signal.shape
    freqs, psd = power_spectral_density(signal, fs, nfft=nfft, window="hann", detrend=True)
    mask = _band_mask(freqs, band)
    peak = psd.masked_fill(~mask, float("-inf")).argmax(dim=-1, keepdim=True)
    f0 = freqs.gather(-1, peak).squeeze(-1)
    if tolerance_hz is None:
        fs_col = _fs_column(fs, batch, psd.device, psd.dtype).squeeze(-1)
        tolerance: float | Tensor = (2.0 * fs_col / n_samples).clamp_min(_MIN_TOLERANCE_HZ)
    else:
        check_finite_positive(tolerance_hz, "tolerance_hz")
        tolerance = float(tolerance_hz)
    return spectral_snr_db(freqs, psd, f0, band=band, tolerance_hz=tolerance)
