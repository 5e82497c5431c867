r"""CHROM, the chrominance-based rPPG method, on spatial mean RGB traces.

de Haan and Jeanne, "Robust pulse rate from chrominance-based rPPG", IEEE Transactions on Biomedical Engineering
60(10):2878-2886, 2013; re-derived as a projection method in Wang, den Brinker, Stuijk and de Haan, "Algorithmic
principles of remote PPG", IEEE TBME 64(7):1479-1491, 2017.

CHROM divides each colour channel by its mean (removing the skin tone and the light's colour) and forms two
chrominance signals, :math:`X = 3R_n - 2G_n` and :math:`Y = 1.5R_n + G_n - 1.5B_n`: differences of the channels
in which white specular light on a standardised skin tone cancels (the normalised specular colour is
proportional to :math:`(1/0.7682, 1/0.5121, 1/0.3841)`, and both rows give 0 on it). A change of intensity
appears alike in both (:math:`X = Y = 1 + i(t)`), so after band-passing them to the pulse band the combination
:math:`S = X_f - \alpha Y_f` with :math:`\alpha = \sigma(X_f)/\sigma(Y_f)` cancels it, and with it whatever
distortion dominates both. The trace is processed in short overlapping intervals, each tapered with a Hann window
and overlap-added, so the method follows slow changes of light and skin tone.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rppgblocks._checks import check_band
from rppgblocks.classical._common import check_rgb, hann_overlap_add, hann_window_length, safe_divide_by_mean
from rppgblocks.functional.filters import bandpass, bandpass_padding
from rppgblocks.functional.heart_rate import DEFAULT_HR_BAND

__all__ = ["CHROM", "DEFAULT_CHROM_WINDOW_S", "chrom"]

#: Default CHROM interval in seconds: 1.6 s, as the POS window (32 frames at 20 fps); at least one cardiac
#: period at heart rates above 37.5 bpm.
DEFAULT_CHROM_WINDOW_S = 1.6

# de Haan and Jeanne 2013: the chrominance signals of the normalised channels (rows: X, Y; columns: R, G, B). Wang et
# al. 2017 write the same rows as CHROM's projection matrix.
_CHROMINANCE = ((3.0, -2.0, 0.0), (1.5, 1.0, -1.5))


def _validate(fs: float, window_s: float, band: tuple[float, float], order: int) -> tuple[int, tuple[float, float]]:
    length = hann_window_length(fs, window_s, "CHROM")
    band = check_band(band, "band", fs=fs)
    if band[0] <= 0 or band[1] >= fs / 2:
        raise ValueError(f"band: expected 0 < low_hz < high_hz < fs/2 = {fs / 2:g} Hz for the band-pass, got {band}")
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"order: expected an integer >= 1, got {order!r}")
    padding = bandpass_padding(order)  # filtfilt's extension at each end, which must be shorter than the interval
    if length <= padding:
        raise ValueError(
            f"window_s: window_s={window_s} s at fs={fs} Hz gives an interval of {length} frames, too short for the "
            f"zero-phase band-pass of order={order} (it needs more than {padding} frames); lengthen window_s or "
            "lower order"
        )
    return length, band


def chrom(
    rgb: Tensor,
    fs: float,
    *,
    window_s: float = DEFAULT_CHROM_WINDOW_S,
    band: tuple[float, float] = DEFAULT_HR_BAND,
    order: int = 3,
) -> Tensor:
    r"""Recover the pulse signal from RGB traces with CHROM (chrominance-based rPPG).

    de Haan and Jeanne, IEEE TBME 60(10), 2013 (the chrominance signals :math:`X_s, Y_s` and
    :math:`S = X_f - \alpha Y_f`); Wang et al., IEEE TBME 64(7), 2017. The trace is cut into intervals
    of :math:`l = 2\lceil \text{window\_s} \cdot f_s / 2\rceil` frames (even), hopped by :math:`l/2`; in each
    interval:

    1. normalisation: :math:`C_n = \mathrm{diag}(\mu(C))^{-1} C`, each channel divided by its mean over the
       interval;
    2. chrominance: :math:`X = 3R_n - 2G_n`, :math:`Y = 1.5R_n + G_n - 1.5B_n`;
    3. band-pass: :math:`X_f, Y_f` = :math:`X, Y` filtered to ``band`` with a zero-phase (forward-backward)
       Butterworth band-pass of prototype order ``order``, applied within the interval;
    4. :math:`\alpha = \sigma(X_f)/\sigma(Y_f)` and :math:`S = \alpha Y_f - X_f` (see the sign below);
    5. the interval's :math:`S` is multiplied by a periodic Hann window of length :math:`l` and overlap-added.

    All intervals of the whole batch are processed at once (``Tensor.unfold``, the band-pass as one
    :math:`l \times l` matrix, since it is linear, then one ``fold`` for the overlap-add); there is no loop over
    intervals or frames. The periodic Hann windows hopped by :math:`l/2` sum
    to 1, except over the first and last :math:`l/2` frames, which taper towards 0, and the frames after the last
    whole interval (fewer than :math:`l/2`), which are 0.

    **Sign.** The paper's :math:`S = X_f - \alpha Y_f` is negative for a colour change along the blood volume
    pulse direction :math:`+u_p \propto (0.33, 0.77, 0.53)` (:math:`X` of :math:`u_p` is -0.55 and :math:`Y` is
    0.47). rppgblocks returns :math:`-S = \alpha Y_f - X_f` so that, like
    :func:`~rppgblocks.classical.pos` and every method in :mod:`rppgblocks.classical`, a change along
    :math:`+u_p` gives a positive output; the heart rate is unaffected.

    **Band-pass.** The paper band-passes :math:`X` and :math:`Y` to the pulse band; the band and the filter are
    this implementation's: ``band`` defaults to the heart-rate band :data:`~rppgblocks.functional.DEFAULT_HR_BAND`
    (0.6-3.3 Hz), and the filter is :func:`rppgblocks.functional.filters.bandpass` (a Butterworth band-pass of
    prototype order ``order`` applied forwards and backwards, as ``scipy.signal.filtfilt`` with
    ``scipy.signal.butter(order, band, "bandpass", fs=fs)``), applied to each interval. Its odd extension of
    :math:`3(2\,\text{order} + 1)` frames at each end must be shorter than the interval.

    The trace should hold linear, positive intensities; its scale does not matter. Interval means and
    :math:`\sigma(Y_f)` are guarded by the machine epsilon, so a black or constant interval gives zeros, not NaN.
    Output in arbitrary units.

    Properties: differentiable with respect to ``rgb``; ``torch.compile(fullgraph=True)`` and ``torch.export``;
    CPU and CUDA.

    Args:
        rgb: RGB traces, ``(B, 3, T)`` (layout :data:`rppgblocks.layout.TRACE`), channels in R, G, B order.
            Any real dtype; computed in float32 (float64 for float64 input).
        fs: The frame rate in Hz.
        window_s: The interval length in seconds (default :data:`DEFAULT_CHROM_WINDOW_S` = 1.6 s); rounded up to
            an even number of frames, which must exceed :math:`3(2\,\text{order} + 1)` (21 for order 3).
        band: The band-pass ``(low_hz, high_hz)`` in Hz, ``0 < low < high < fs / 2``.
        order: The Butterworth prototype order of the band-pass (default 3, this implementation's choice).

    Returns:
        The pulse signals, ``(B, T)``, float32 (float64 for float64 input), arbitrary units.

    Raises:
        TypeError: If ``rgb`` is not a real tensor.
        ShapeError: If ``rgb`` is not ``(B, 3, T)``.
        ValueError: If ``fs``, ``window_s``, ``band`` or ``order`` is invalid, the interval is too short for the
            band-pass (at most :math:`3(2\,\text{order} + 1)` frames), or ``rgb`` has fewer frames than one
            interval.

    Shape:
        - rgb: :math:`(B, 3, T)`
        - output: :math:`(B, T)`

    Examples:
        >>> from rppgblocks.functional import fft_heart_rate
        >>> fs, t = 30.0, torch.arange(300) / 30.0
        >>> pulse = torch.sin(2 * torch.pi * 1.2 * t)  # 72 bpm
        >>> skin = torch.tensor([180.0, 120.0, 100.0])[:, None]
        >>> rgb = skin * (1 + 0.005 * torch.tensor([0.33, 0.77, 0.53])[:, None] * pulse)
        >>> bvp = chrom(rgb[None], fs)
        >>> bvp.shape
        torch.Size([1, 300])
        >>> round(float(fft_heart_rate(bvp, fs)))
        72
    """
    dtype = check_rgb(rgb)
    length, band = _validate(fs, window_s, band, order)
    n_frames = rgb.shape[-1]
    if n_frames < length:
        raise ValueError(
            f"rgb: has T={n_frames} frames, fewer than one CHROM interval of {length} frames "
            f"(window_s={window_s} s at fs={fs} Hz); give at least {length} frames or a shorter window_s"
        )
    hop = length // 2
    eps = torch.finfo(dtype).eps
    tiny = torch.finfo(dtype).tiny

    windows = rgb.to(dtype).unfold(-1, length, hop)  # (B, 3, W, l)
    normalised = safe_divide_by_mean(windows)
    chrominance = torch.tensor(_CHROMINANCE, dtype=dtype, device=rgb.device)
    xy = torch.einsum("pc,bcwl->bpwl", chrominance, normalised)  # (B, 2, W, l): X, Y
    # The zero-phase band-pass (odd extension, steady-state start, forwards and backwards) is linear in its input,
    # so on intervals of l frames it is one (l, l) matrix: its rows are the filtered unit impulses. One small
    # matrix product then filters every interval of the batch.
    response = bandpass(torch.eye(length, dtype=dtype, device=rgb.device), fs, band=band, order=order)
    xy_f = xy @ response
    x_f, y_f = xy_f[:, 0], xy_f[:, 1]  # (B, W, l)
    std_x = x_f.var(dim=-1, correction=0, keepdim=True).clamp_min(tiny).sqrt()
    std_y = y_f.var(dim=-1, correction=0, keepdim=True).clamp_min(tiny).sqrt()
    pulse = (std_x / (std_y + eps)) * y_f - x_f
    return hann_overlap_add(pulse, n_frames, hop)


class CHROM(nn.Module):
    """CHROM (chrominance-based rPPG) as a module: RGB traces in, pulse signal out.

    de Haan and Jeanne, IEEE TBME 60(10), 2013. A thin wrapper that validates its configuration once and calls
    :func:`chrom`; it has no parameters.

    Args:
        fs: The frame rate in Hz.
        window_s: The interval length in seconds (default :data:`DEFAULT_CHROM_WINDOW_S` = 1.6 s).
        band: The band-pass ``(low_hz, high_hz)`` in Hz (default :data:`~rppgblocks.functional.DEFAULT_HR_BAND`).
        order: The Butterworth order of the band-pass (default 3).

    Raises:
        ValueError: If ``fs``, ``window_s``, ``band`` or ``order`` is invalid.

    Shape:
        - Input: :math:`(B, 3, T)`, RGB traces
        - Output: :math:`(B, T)`, the pulse signals

    Examples:
        >>> module = CHROM(fs=30.0)
        >>> module
        CHROM(fs=30.0, window_s=1.6, window_length=48, band=(0.6, 3.3), order=3)
        >>> module(torch.rand(2, 3, 64) + 1).shape
        torch.Size([2, 64])
    """

    def __init__(
        self,
        fs: float,
        *,
        window_s: float = DEFAULT_CHROM_WINDOW_S,
        band: tuple[float, float] = DEFAULT_HR_BAND,
        order: int = 3,
    ) -> None:
        super().__init__()
        self.window_length, self.band = _validate(fs, window_s, band, order)
        self.fs = float(fs)
        self.window_s = float(window_s)
        self.order = order

    def forward(self, rgb: Tensor) -> Tensor:
        """Apply :func:`chrom` to ``rgb`` (``(B, 3, T)``), returning ``(B, T)``."""
        return chrom(rgb, self.fs, window_s=self.window_s, band=self.band, order=self.order)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return (
            f"fs={self.fs}, window_s={self.window_s}, window_length={self.window_length}, band={self.band}, "
            f"order={self.order}"
        )
