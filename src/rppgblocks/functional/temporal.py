"""Temporal compression of a video clip into one image (rFaceNet's Temporal Compressor Unit, TCU).

Source: rFaceNet, arXiv 2403.09034, §3.2; rppgblocks spec ``architectures.md`` §2.2.
"""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from einops import reduce
from torch import Tensor

from rppgblocks._checks import check_finite_positive, check_shape
from rppgblocks.layout import VIDEO

__all__ = ["InterpolationMode", "temporal_compress"]

InterpolationMode = Literal["bilinear", "bicubic", "nearest", "area"]


def temporal_compress(
    video: Tensor,
    *,
    scale_factor: float | None = None,
    mode: InterpolationMode = "bilinear",
) -> Tensor:
    r"""Average a clip over time and optionally rescale the resulting image.

    :math:`\mathrm{TCU}(x)_{b,c,h,w} = \frac{1}{T}\sum_t x_{b,c,t,h,w}` (rFaceNet §3.2: an adaptive average pool to
    ``(1, H, W)`` followed by squeezing the time axis), then, if ``scale_factor`` is given, a spatial interpolation
    by that factor (rFaceNet §4.2 uses x2 in its cross-dataset setting; bilinear with ``align_corners=False``).

    Autograd, ``torch.compile`` and ``torch.export`` supported. Parameter-free.

    Args:
        video: The clip, ``(B, C, T, H, W)``.
        scale_factor: Spatial scale factor (> 0), or ``None`` for none.
        mode: Interpolation mode for the rescale.

    Returns:
        The temporally compressed image ``(B, C, H', W')`` with ``H' = floor(H * scale_factor)`` (or ``H``), in the
        input's dtype.

    Raises:
        ShapeError: If ``video`` is not 5-D.
        ValueError: If ``scale_factor`` is not a positive number or ``mode`` is unknown.

    Shape:
        - video: :math:`(B, C, T, H, W)`
        - output: :math:`(B, C, H \cdot s, W \cdot s)`

    Examples:
        >>> import torch
        >>> clip = torch.rand(2, 3, 16, 8, 8)
        >>> temporal_compress(clip).shape
        torch.Size([2, 3, 8, 8])
        >>> temporal_compress(clip, scale_factor=2.0).shape
        torch.Size([2, 3, 16, 16])
    """
    check_shape(video, VIDEO, "video")
    if mode not in ("bilinear", "bicubic", "nearest", "area"):
        raise ValueError(f"mode: expected one of 'bilinear', 'bicubic', 'nearest', 'area', got {mode!r}")
    image = reduce(video, "b c t h w -> b c h w", "mean")
    if scale_factor is None or scale_factor == 1:
        return image
    check_finite_positive(scale_factor, "scale_factor")
    align = False if mode in ("bilinear", "bicubic") else None
    return F.interpolate(image, scale_factor=float(scale_factor), mode=mode, align_corners=align)
