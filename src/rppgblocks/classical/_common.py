r"""Helpers shared by the classical rPPG methods (private): input checks, window lengths, Hann overlap-add.

The sign convention of :mod:`rppgblocks.classical`: every method's output is positive for a colour change along
the blood volume pulse direction :math:`+u_p \propto (0.33, 0.77, 0.53)` (relative to the skin tone; Wang et al.,
"Algorithmic principles of remote PPG", IEEE TBME 64(7), 2017, Sec. II), as :func:`~rppgblocks.classical.pos` is.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from rppgblocks._checks import check_finite_positive, check_shape
from rppgblocks.layout import TRACE

__all__ = [
    "GREEN_CHANNEL",
    "check_frames",
    "check_rgb",
    "green_orthogonal_to",
    "hann_overlap_add",
    "hann_window_length",
    "relative_change",
    "safe_divide_by_mean",
]

#: The index of the green channel in an RGB trace.
GREEN_CHANNEL = 1

# Tolerance when turning window_s * fs into a frame count (1.6 s at 30 Hz is 48.000000000000007 in floating point).
_ROUNDING_SLACK = 1e-9


def check_rgb(rgb: Tensor, name: str = "rgb") -> torch.dtype:
    """Validate an RGB trace ``(B, 3, T)`` of a real dtype; return the working dtype (float64 or float32)."""
    check_shape(rgb, TRACE, name, c=3)
    if rgb.dtype.is_complex or rgb.dtype == torch.bool:
        raise TypeError(f"{name}: expected a real-valued tensor, got dtype {rgb.dtype}")
    return torch.float64 if rgb.dtype == torch.float64 else torch.float32


def check_frames(rgb: Tensor, needed: int, method: str, why: str, name: str = "rgb") -> None:
    """Raise :class:`ValueError` naming ``name`` if ``rgb`` has fewer than ``needed`` frames."""
    n_frames = rgb.shape[-1]
    if n_frames < needed:
        raise ValueError(f"{name}: has T={n_frames} frames, but {method} needs at least {needed} ({why})")


def hann_window_length(fs: float, window_s: float, method: str) -> int:
    """The even window length ``2 * ceil(window_s * fs / 2)`` in frames (>= 2), validating ``fs`` and ``window_s``.

    An even length makes a periodic Hann window hopped by half its length sum to exactly 1 (constant overlap-add).
    """
    check_finite_positive(fs, "fs")
    check_finite_positive(window_s, "window_s")
    length = 2 * max(1, math.ceil(window_s * fs / 2 - _ROUNDING_SLACK))
    if length < 4:
        raise ValueError(
            f"window_s: window_s={window_s} s at fs={fs} Hz gives a window of {length} frames; {method} needs at "
            "least 4 frames per window (the default is 1.6 s)"
        )
    return length


def _guarded_mean(x: Tensor, dim: int) -> Tensor:
    """The mean over ``dim`` (kept), pushed away from 0 by the machine epsilon, keeping its sign."""
    eps = torch.finfo(x.dtype).eps
    mean = x.mean(dim=dim, keepdim=True)
    return torch.where(mean < 0, mean.clamp_max(-eps), mean.clamp_min(eps))


def safe_divide_by_mean(x: Tensor, dim: int = -1) -> Tensor:
    """``x / mean(x, dim)``, with a sign-preserving guard so that a zero mean gives zeros (not NaN or inf)."""
    return x / _guarded_mean(x, dim)


def relative_change(x: Tensor, dim: int = -1) -> Tensor:
    """``x / mean(x, dim) - 1``, computed as ``(x - mean) / mean`` so that an all-zero ``x`` gives zeros."""
    mean = x.mean(dim=dim, keepdim=True)
    return (x - mean) / _guarded_mean(x, dim)


def hann_overlap_add(segments: Tensor, n_frames: int, hop: int) -> Tensor:
    """Taper each window with a periodic Hann window and overlap-add all windows in one pass (``F.fold``).

    Args:
        segments: ``(B, W, l)``: window ``w`` covers frames ``w * hop`` to ``w * hop + l - 1``.
        n_frames: The output length ``T``.
        hop: The stride between windows (``l // 2`` for a constant overlap-add of the periodic Hann window).

    Returns:
        ``(B, T)``; frames after the last window are 0.
    """
    batch, _, length = segments.shape
    taper = torch.hann_window(length, periodic=True, dtype=segments.dtype, device=segments.device)
    tapered = (segments * taper).transpose(1, 2)  # (B, l, W): fold's (N, C * kernel, L) layout
    summed = F.fold(tapered, output_size=(1, n_frames), kernel_size=(1, length), stride=(1, hop))
    return summed.reshape(batch, n_frames)


def green_orthogonal_to(x: Tensor, u: Tensor) -> Tensor:
    r"""The green row of :math:`(I - u u^\top) X`: the green trace with its component along unit ``u`` removed.

    Args:
        x: RGB traces ``(B, 3, T)``.
        u: Unit colour directions ``(B, 3)``.

    Returns:
        ``(B, T)``: :math:`X_g - u_g (u^\top X)`.
    """
    return x[:, GREEN_CHANNEL] - u[:, GREEN_CHANNEL, None] * torch.einsum("bc,bct->bt", u, x)
