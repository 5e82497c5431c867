"""Spatial mean colour traces: the per-frame (masked) mean RGB of a video, the input of every classical rPPG method.

Averaging the skin pixels of each frame is the first step of the classical methods (Verkruysse, Svaasand and
Nelson, "Remote plethysmographic imaging using ambient light", Optics Express 16(26), 2008; Wang et al.,
"Algorithmic principles of remote PPG", IEEE TBME 64(7), 2017, Sec. II: the spatially averaged skin pixels
``C(t)``): spatial averaging suppresses camera noise, which is uncorrelated between pixels, while the pulse,
which is common to all skin pixels, survives.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from rppgblocks._checks import check_finite_positive, check_shape, check_tensor, is_compiling
from rppgblocks.errors import ShapeError
from rppgblocks.layout import VIDEO

__all__ = ["rgb_trace_from_video", "spatial_mean_rgb"]

_MAX_REPORTED = 5

# Chai and Ngan 1999, the skin-colour map, a box in the Cb-Cr plane (0-255 units, BT.601 full range).
_SKIN_CB = (77.0, 127.0)
_SKIN_CR = (133.0, 173.0)
# ITU-R BT.601 full-range ("JPEG") chroma: Cb and Cr as offsets from 128, per unit of R, G, B.
_CB_WEIGHTS = (-0.168736, -0.331264, 0.5)
_CR_WEIGHTS = (0.5, -0.418688, -0.081312)


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


def _ycrcb_skin_mask(video: Tensor, scale: float) -> Tensor:
    """The Chai-Ngan skin box on ``video * scale`` (0-255 units): a bool mask ``(B, T, H, W)``."""
    dtype = _accumulation_dtype(video)
    red, green, blue = (video[:, c].to(dtype) for c in range(3))
    cb = 128.0 + scale * (_CB_WEIGHTS[0] * red + _CB_WEIGHTS[1] * green + _CB_WEIGHTS[2] * blue)
    cr = 128.0 + scale * (_CR_WEIGHTS[0] * red + _CR_WEIGHTS[1] * green + _CR_WEIGHTS[2] * blue)
    return (cb >= _SKIN_CB[0]) & (cb <= _SKIN_CB[1]) & (cr >= _SKIN_CR[0]) & (cr <= _SKIN_CR[1])


def rgb_trace_from_video(
    video: Tensor,
    *,
    skin_mask: Literal["ycrcb"] | Tensor | None = None,
    max_value: float | None = None,
) -> Tensor:
    r"""A video's RGB trace, averaged over the whole frame or over the pixels of skin colour.

    With ``skin_mask=None`` this is :func:`spatial_mean_rgb` of the whole frame, and with a mask tensor (e.g. from a
    skin segmentation model) the masked mean :func:`spatial_mean_rgb` ``(video, mask)``. With ``skin_mask="ycrcb"``
    each frame is averaged over the pixels whose chroma lies in the skin-colour box of Chai and Ngan, "Face
    segmentation using skin-color map in videophone applications", IEEE Transactions on Circuits and Systems for
    Video Technology 9(4):551-564, 1999: :math:`77 \le C_b \le 127` and :math:`133 \le C_r \le 173`, with
    :math:`C_b, C_r` the ITU-R BT.601 full-range chroma of the pixel in 0-255 units (:math:`C_b = 128 - 0.168736R -
    0.331264G + 0.5B`, :math:`C_r = 128 + 0.5R - 0.418688G - 0.081312B`). The box is a fixed threshold, computed per
    pixel and per frame in one vectorised pass: it drops background, hair, eyes and lips of a face video so that the
    mean colour is mostly skin, which is what the classical rPPG methods model (Wang et al., "Algorithmic principles
    of remote PPG", IEEE TBME 64(7), 2017, Sec. II). It ignores the luma, so very dark or saturated skin may fall
    outside it, and skin-coloured background inside.

    Properties: differentiable with respect to a floating-point ``video`` through the mean (the mask itself is a
    threshold, with no gradient); ``torch.compile(fullgraph=True)`` and ``torch.export``; CPU and CUDA.

    Args:
        video: The video, ``(B, 3, T, H, W)`` (layout :data:`rppgblocks.layout.VIDEO`), linear RGB.
        skin_mask: ``None`` (default) for the whole frame, ``"ycrcb"`` for the skin-colour box above, or a mask
            tensor as :func:`spatial_mean_rgb` takes it (``(B, T, H, W)``, ``(B, 1, T, H, W)`` or ``(B, H, W)``;
            bool or floating-point weights).
        max_value: The value of full intensity in ``video``, used to bring it to 0-255 for the skin box. Default:
            255 for integer videos (``uint8``), 1.0 for floating-point videos.

    Returns:
        The mean colour of each frame, ``(B, 3, T)``, float32 (float64 for a float64 video), in the video's units.

    Raises:
        TypeError: If ``video`` is not a tensor.
        ShapeError: If ``video`` is not ``(B, 3, T, H, W)``.
        ValueError: If ``skin_mask`` is not ``None``, ``"ycrcb"`` or a tensor, ``max_value`` is not a finite number
            > 0, or the skin mask selects no pixel in some frame (the frames are listed; the check is skipped under
            ``torch.compile``, where such frames are NaN).

    Shape:
        - video: :math:`(B, 3, T, H, W)`
        - output: :math:`(B, 3, T)`

    Examples:
        >>> video = torch.zeros(1, 3, 2, 2, 2, dtype=torch.uint8)
        >>> video[0, :, :, 0] = torch.tensor([200, 150, 120], dtype=torch.uint8)[:, None, None]  # skin, top row
        >>> video[0, :, :, 1] = torch.tensor([40, 90, 200], dtype=torch.uint8)[:, None, None]  # blue, bottom row
        >>> rgb_trace_from_video(video)[0, :, 0]
        tensor([120., 120., 160.])
        >>> rgb_trace_from_video(video, skin_mask="ycrcb")[0, :, 0]
        tensor([200., 150., 120.])
    """
    check_shape(video, VIDEO, "video", c=3)
    if isinstance(skin_mask, Tensor):
        return spatial_mean_rgb(video, skin_mask)
    if skin_mask is not None and skin_mask != "ycrcb":
        raise ValueError(f"skin_mask: expected None or 'ycrcb', got {skin_mask!r}")
    if max_value is not None:
        check_finite_positive(max_value, "max_value")
    if skin_mask is None:
        return spatial_mean_rgb(video)
    if video.dtype.is_complex:
        raise TypeError(f"video: expected a real tensor, got dtype {video.dtype}")
    if max_value is None:
        max_value = 1.0 if video.dtype.is_floating_point else 255.0
    mask = _ycrcb_skin_mask(video, 255.0 / max_value)
    try:
        return spatial_mean_rgb(video, mask)
    except ValueError as exc:
        raise ValueError(f"skin_mask: the 'ycrcb' skin-colour mask {str(exc).removeprefix('mask: ')}") from None
