"""Spatial mean colour traces: the per-frame (masked) mean RGB of a video, the input of every classical rPPG method.

Averaging the skin pixels of each frame is the first step of the classical methods (Verkruysse, Svaasand and
Nelson, "Remote plethysmographic imaging using ambient light", Optics Express 16(26), 2008; Wang et al.,
"Algorithmic principles of remote PPG", IEEE TBME 64(7), 2017, Sec. II: the spatially averaged skin pixels
``C(t)``): spatial averaging suppresses camera noise, which is uncorrelated between pixels, while the pulse,
which is common to all skin pixels, survives.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rppgblocks._checks import check_shape, check_tensor, is_compiling
from rppgblocks.errors import ShapeError
from rppgblocks.layout import VIDEO

__all__ = ["spatial_mean_rgb"]

_MAX_REPORTED = 5


def _accumulation_dtype(x: Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def _normalise_mask(mask: Tensor, video_shape: torch.Size) -> Tensor:
    """Validate ``mask`` against ``video_shape``; return ``(B, T, H, W)`` (per frame) or ``(B, H, W)`` (static)."""
    check_tensor(mask, "mask")
    batch, _, frames, height, width = video_shape
    expected: tuple[int, ...]
    if mask.dim() == 5:
        expected = (batch, 1, frames, height, width)
    elif mask.dim() == 4:
        expected = (batch, frames, height, width)
    elif mask.dim() == 3:
        expected = (batch, height, width)
    else:
        raise ShapeError(
            "mask",
            "b t h w",
            mask.shape,
            f"expected (B, T, H, W), (B, 1, T, H, W) or (B, H, W) for video of shape {tuple(video_shape)}",
        )
    if tuple(mask.shape) != expected:
        raise ShapeError("mask", expected, mask.shape, f"does not match video of shape {tuple(video_shape)}")
    if mask.dtype != torch.bool and not mask.dtype.is_floating_point:
        raise TypeError(f"mask: expected a bool or floating-point tensor, got dtype {mask.dtype}")
    return mask[:, 0] if mask.dim() == 5 else mask


def spatial_mean_rgb(video: Tensor, mask: Tensor | None = None) -> Tensor:
    r"""The (masked) spatial mean of each colour channel in each frame: a video's RGB trace.

    :math:`C_{b,c,t} = \sum_{h,w} m_{b,t,h,w}\, x_{b,c,t,h,w} / \sum_{h,w} m_{b,t,h,w}`, the spatially averaged
    skin pixels of Wang et al., "Algorithmic principles of remote PPG", IEEE TBME 64(7), 2017, Sec. II. Without a
    mask every pixel has weight 1. A boolean mask selects pixels; a floating-point mask weights them (a soft skin
    probability, say), and must be >= 0. The values keep the video's scale: a ``uint8`` video in 0-255 gives a
    trace in 0-255.

    Sums are accumulated in float32 (float64 for a float64 video) whatever the input dtype, so ``uint8`` and
    half-precision videos are averaged without overflow or rounding drift; the ``uint8`` video is not copied
    into float32 when there is no mask.

    **An empty mask is an error**: if any frame's mask selects no pixel (all ``False``, or weights summing to 0),
    there is no colour to report for that frame, so a :class:`ValueError` listing the offending ``(batch,
    frame)`` indices is raised rather than returning NaN. Under ``torch.compile`` this value check is skipped
    and such frames come out as NaN (0/0).

    Properties: differentiable with respect to a floating-point ``video`` and ``mask``; CPU and CUDA.

    Args:
        video: The video, ``(B, 3, T, H, W)`` (layout :data:`rppgblocks.layout.VIDEO`), any real dtype.
        mask: Optional pixel mask, bool or floating point: ``(B, T, H, W)`` or ``(B, 1, T, H, W)`` (one mask
            per frame), or ``(B, H, W)`` (one mask for every frame). ``None`` averages the whole frame.

    Returns:
        The mean colour of each frame, ``(B, 3, T)`` (layout :data:`rppgblocks.layout.TRACE`), float32
        (float64 for a float64 video), in the video's units.

    Raises:
        TypeError: If ``video`` or ``mask`` is not a tensor, or ``mask`` is neither bool nor floating point.
        ShapeError: If ``video`` is not ``(B, 3, T, H, W)`` or ``mask`` does not match it.
        ValueError: If a floating-point ``mask`` has a negative weight, or a frame's mask is empty.

    Shape:
        - video: :math:`(B, 3, T, H, W)`
        - mask: :math:`(B, T, H, W)`, :math:`(B, 1, T, H, W)` or :math:`(B, H, W)`
        - output: :math:`(B, 3, T)`

    Examples:
        >>> video = torch.zeros(1, 3, 2, 4, 4, dtype=torch.uint8)
        >>> video[:, 0] = 200  # red everywhere
        >>> video[:, 1, :, :2] = 100  # green in the top half
        >>> spatial_mean_rgb(video)
        tensor([[[200., 200.],
                 [ 50.,  50.],
                 [  0.,   0.]]])
        >>> top = torch.zeros(1, 4, 4, dtype=torch.bool)
        >>> top[:, :2] = True
        >>> spatial_mean_rgb(video, top)[0, :, 0]
        tensor([200., 100.,   0.])
    """
    check_shape(video, VIDEO, "video", c=3)
    if video.dtype.is_complex:
        raise TypeError(f"video: expected a real tensor, got dtype {video.dtype}")
    acc = _accumulation_dtype(video)
    if mask is None:
        n_pixels = video.shape[-2] * video.shape[-1]
        return video.sum(dim=(-2, -1), dtype=acc) / n_pixels
    weights = _normalise_mask(mask, video.shape)
    static = weights.dim() == 3
    if not is_compiling() and weights.dtype != torch.bool and bool((weights < 0).any()):
        raise ValueError(f"mask: expected weights >= 0, got a minimum of {float(weights.min())}")
    weights = weights.to(acc)
    total = weights.sum(dim=(-2, -1))  # (B, T), or (B,) for a static mask
    if not is_compiling():
        _raise_if_empty(total, static)
    pattern = "bcthw,bhw->bct" if static else "bcthw,bthw->bct"
    weighted = torch.einsum(pattern, video.to(acc), weights)
    return weighted / (total[:, None, None] if static else total[:, None, :])


def _raise_if_empty(total: Tensor, static: bool) -> None:
    empty = (total <= 0).nonzero().tolist()
    if not empty:
        return
    if static:
        where = ", ".join(f"batch {b}" for (b,) in empty[:_MAX_REPORTED])
    else:
        where = ", ".join(f"(batch {b}, frame {t})" for b, t in empty[:_MAX_REPORTED])
    more = f" and {len(empty) - _MAX_REPORTED} more" if len(empty) > _MAX_REPORTED else ""
    kind = "static mask(s)" if static else "frame(s)"
    raise ValueError(f"mask: selects no pixel in {len(empty)} {kind}: {where}{more}; an empty mask has no mean colour")
