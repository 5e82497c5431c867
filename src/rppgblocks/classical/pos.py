r"""POS, Plane-Orthogonal-to-Skin: a training-free rPPG method on spatial mean RGB traces.

Wang, den Brinker, Stuijk and de Haan, "Algorithmic principles of remote PPG", IEEE Transactions on Biomedical
Engineering 64(7):1479-1491, 2017, Algorithm 1.

The skin reflection model of the paper (Sec. II) writes the spatially averaged skin colour as
:math:`C(t) = I(t) \cdot (u_c c_0 + u_s s(t) + u_p p(t))`: a luminance intensity :math:`I(t)` modulating the
stationary skin colour :math:`u_c c_0`, specular reflections :math:`u_s s(t)` and the pulse :math:`u_p p(t)`.
Dividing each window by its temporal mean removes the skin tone; projecting onto the plane orthogonal to the
normalised skin tone :math:`1 = (1, 1, 1)` removes the intensity variation; mixing the two projected signals with
the ratio of their standard deviations ("alpha tuning") cancels the specular and motion distortion that remains
in the plane, leaving the pulse. Short overlapping windows make the method follow slow changes of illumination
and skin tone.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rppgblocks._checks import check_finite_positive
from rppgblocks.classical._common import check_rgb

__all__ = ["DEFAULT_POS_WINDOW_S", "POS", "pos"]

#: Default POS window in seconds: 1.6 s, the paper's ``l = 32`` frames at 20 fps, long enough to hold at least one
#: cardiac period at heart rates above 37.5 bpm.
DEFAULT_POS_WINDOW_S = 1.6

# Algorithm 1, step "projection": the rows span the plane orthogonal to the normalised skin tone (1, 1, 1).
_PROJECTION = ((0.0, 1.0, -1.0), (-2.0, 1.0, 1.0))

# Tolerance when turning window_s * fs into a frame count, so that 1.6 s at 30 Hz (48.000000000000007 in floating
# point) is 48 frames, not 49.
_ROUNDING_SLACK = 1e-9


def _window_length(fs: float, window_s: float) -> int:
    """The POS window length ``l = ceil(window_s * fs)`` in frames (validated inputs)."""
    return max(1, math.ceil(window_s * fs - _ROUNDING_SLACK))


def _validate(fs: float, window_s: float) -> int:
    check_finite_positive(fs, "fs")
    check_finite_positive(window_s, "window_s")
    length = _window_length(fs, window_s)
    if length < 2:
        raise ValueError(
            f"window_s: window_s={window_s} s at fs={fs} Hz gives a window of {length} frame; POS needs at least "
            "2 frames per window (the paper uses about 1.6 s)"
        )
    return length


def pos(rgb: Tensor, fs: float, *, window_s: float = DEFAULT_POS_WINDOW_S) -> Tensor:
    r"""Recover the pulse signal from RGB traces with POS (Plane-Orthogonal-to-Skin).

    Wang et al., "Algorithmic principles of remote PPG", IEEE TBME 64(7), 2017, Algorithm 1. For every window
    of :math:`l = \lceil \text{window\_s} \cdot f_s \rceil` consecutive frames (stride 1, so :math:`T - l + 1`
    windows):

    1. temporal normalisation: :math:`C_n = \mathrm{diag}(\mu(C))^{-1} C`, each channel divided by its mean over
       the window;
    2. projection: :math:`S = P C_n` with :math:`P = \begin{pmatrix} 0 & 1 & -1 \\ -2 & 1 & 1 \end{pmatrix}`;
    3. alpha tuning: :math:`h = S_1 + \frac{\sigma(S_1)}{\sigma(S_2)} S_2`;
    4. overlap-adding: :math:`H \mathrel{+}= h - \mu(h)` at the window's frames.

    Since each window's output is a linear combination of the trace with coefficients set by the window's means
    and covariances, all windows of the whole batch are computed at once from running (prefix) sums, in
    :math:`O(T)` time and memory instead of :math:`O(T l)`; there is no loop over frames or windows. The sums are
    accumulated in float64 on a centred trace. As in the paper, the overlap-added output is not divided by the
    number of windows covering a frame, so its first and last :math:`l - 1` frames taper towards zero.

    The trace should hold linear, positive intensities (e.g. :func:`~rppgblocks.functional.spatial_mean_rgb` of
    a video in 0-255 or 0-1); its scale does not matter, since each window is divided by its mean. Window means
    and :math:`\sigma(S_2)` are guarded by the dtype's machine epsilon (the float resolution of the normalised
    trace, whose mean is 1), so an all-black window or a window with a constant colour gives zeros, not NaN.

    The output is in arbitrary units. Its sign follows the colour change: a change along the pulse direction
    :math:`+u_p \propto (0.33, 0.77, 0.53)` (Sec. II) gives a positive output, since both projections of
    :math:`u_p` are positive and the tuning weight :math:`\sigma(S_1)/\sigma(S_2)` is never negative.

    Properties: differentiable with respect to ``rgb``; CPU and CUDA; float32 and float64.

    Args:
        rgb: RGB traces, ``(B, 3, T)`` (layout :data:`rppgblocks.layout.TRACE`), channels in R, G, B order.
            Any real dtype; computed in float32 (float64 for float64 input).
        fs: The frame rate in Hz.
        window_s: The window length in seconds (default :data:`DEFAULT_POS_WINDOW_S` = 1.6 s, as the paper's
            32 frames at 20 fps). It should span at least one cardiac period.

    Returns:
        The pulse signals, ``(B, T)``, float32 (float64 for float64 input), arbitrary units.

    Raises:
        TypeError: If ``rgb`` is not a real tensor (complex and bool are refused).
        ShapeError: If ``rgb`` is not ``(B, 3, T)``.
        ValueError: If ``fs`` or ``window_s`` is not a finite number > 0, the window is shorter than 2 frames,
            or ``rgb`` has fewer frames than one window.

    Shape:
        - rgb: :math:`(B, 3, T)`
        - output: :math:`(B, T)`

    Examples:
        >>> from rppgblocks.functional import fft_heart_rate
        >>> fs, t = 30.0, torch.arange(300) / 30.0
        >>> pulse = torch.sin(2 * torch.pi * 1.2 * t)  # 72 bpm
        >>> skin = torch.tensor([180.0, 120.0, 100.0])[:, None]
        >>> rgb = skin * (1 + 0.005 * torch.tensor([0.33, 0.77, 0.53])[:, None] * pulse)
        >>> bvp = pos(rgb[None], fs)
        >>> bvp.shape
        torch.Size([1, 300])
        >>> round(float(fft_heart_rate(bvp, fs)))
        72
    """
    dtype = check_rgb(rgb)
    length = _validate(fs, window_s)
    n_frames = rgb.shape[-1]
    if n_frames < length:
        raise ValueError(
            f"rgb: has T={n_frames} frames, fewer than one POS window of {length} frames "
            f"(window_s={window_s} s at fs={fs} Hz); give at least {length} frames or a shorter window_s"
        )
    eps = torch.finfo(dtype).eps
    tiny = torch.finfo(dtype).tiny

    # Every step is linear in the trace given the per-window statistics, so the whole algorithm runs on running
    # sums (prefix sums over time) in O(T), instead of materialising the T - l + 1 windows of l frames. The sums
    # are kept in float64 on a per-channel centred trace, which keeps the second moments free of cancellation.
    x = rgb.to(torch.float64)
    offset = x.mean(dim=-1, keepdim=True)  # (B, 3, 1)
    centred = x - offset
    n_windows = n_frames - length + 1
    first = _window_sums(centred, length)  # (B, 3, W)
    second = _window_sums(centred[:, :, None, :] * centred[:, None, :, :], length)  # (B, 3, 3, W)
    local_mean = first / length  # window means of the centred trace
    covariance = second / length - local_mean[:, :, None, :] * local_mean[:, None, :, :]  # (B, 3, 3, W)
    # 1. temporal normalisation by the window mean, with a sign-preserving guard against a zero mean
    mean = local_mean + offset
    mean = torch.where(mean < 0, mean.clamp_max(-eps), mean.clamp_min(eps))
    # 2. projection: S_k = sum_c P_kc x_c / mean_c, i.e. coefficients q_kc = P_kc / mean_c per window
    projection = torch.tensor(_PROJECTION, dtype=torch.float64, device=rgb.device)
    q = projection[None, :, :, None] / mean[:, None, :, :]  # (B, 2, 3, W)
    # 3. alpha tuning: var(S_k) = q_k^T Cov q_k over each window
    variance = torch.einsum("bkcw,bcdw,bkdw->bkw", q, covariance, q)
    # a variance below the rounding error of this sum is zero: floor it there, so that alpha stays a ratio of
    # comparable numbers when a window holds no chromatic variation at all (e.g. a pure intensity change)
    rounding = torch.einsum("bkcw,bcdw,bkdw->bkw", q.abs(), covariance.abs(), q.abs())
    variance = torch.maximum(variance, 16 * torch.finfo(torch.float64).eps * rounding)
    std1 = variance[:, 0].clamp_min(tiny).sqrt()
    std2 = variance[:, 1].clamp_min(tiny).sqrt()
    alpha = std1 / (std2 + eps)  # (B, W)
    weights = q[:, 0] + alpha[:, None, :] * q[:, 1]  # h_w(t) = sum_c weights_c(w) x_c(t), (B, 3, W)
    # 4. mean removal (zero up to rounding: each row of P sums to 0; kept as in the paper) and overlap-add: frame t
    #    receives h_w(t) - mean(h_w) from every window w that covers it
    window_mean = (weights * (local_mean + offset)).sum(dim=1)  # (B, W)
    frames = torch.arange(n_frames, device=rgb.device)
    last = frames.clamp(max=n_windows - 1) + 1
    first_window = (frames - length + 1).clamp(min=0)
    covering_weights = _prefix(weights)[..., last] - _prefix(weights)[..., first_window]  # (B, 3, T)
    covering_means = _prefix(window_mean)[..., last] - _prefix(window_mean)[..., first_window]  # (B, T)
    pulse = (covering_weights * x).sum(dim=1) - covering_means
    return pulse.to(dtype)


def _prefix(values: Tensor) -> Tensor:
    """Prefix sums along the last axis with a leading zero: ``out[..., k] = values[..., :k].sum(-1)``."""
    return F.pad(values.cumsum(dim=-1), (1, 0))


def _window_sums(values: Tensor, length: int) -> Tensor:
    """Sums over every window of ``length`` consecutive samples along the last axis (T - length + 1 of them)."""
    prefix = _prefix(values)
    return prefix[..., length:] - prefix[..., :-length]


class POS(nn.Module):
    """POS (Plane-Orthogonal-to-Skin) as a module: RGB traces in, pulse signal out.

    Wang et al., "Algorithmic principles of remote PPG", IEEE TBME 64(7), 2017, Algorithm 1. A thin wrapper
    that validates its configuration once and calls :func:`pos`; it has no parameters.

    Args:
        fs: The frame rate in Hz.
        window_s: The window length in seconds (default :data:`DEFAULT_POS_WINDOW_S` = 1.6 s).

    Raises:
        ValueError: If ``fs`` or ``window_s`` is not a finite number > 0, or the window is shorter than 2 frames.

    Shape:
        - Input: :math:`(B, 3, T)`, RGB traces
        - Output: :math:`(B, T)`, the pulse signals

    Examples:
        >>> module = POS(fs=30.0)
        >>> module
        POS(fs=30.0, window_s=1.6, window_length=48)
        >>> module(torch.rand(2, 3, 64) + 1).shape
        torch.Size([2, 64])
    """

    def __init__(self, fs: float, *, window_s: float = DEFAULT_POS_WINDOW_S) -> None:
        super().__init__()
        self.window_length = _validate(fs, window_s)
        self.fs = float(fs)
        self.window_s = float(window_s)

    def forward(self, rgb: Tensor) -> Tensor:
        """Apply :func:`pos` to ``rgb`` (``(B, 3, T)``), returning ``(B, T)``."""
        return pos(rgb, self.fs, window_s=self.window_s)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return f"fs={self.fs}, window_s={self.window_s}, window_length={self.window_length}"
