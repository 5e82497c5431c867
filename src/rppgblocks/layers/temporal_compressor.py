"""rFaceNet's Temporal Compressor Unit (TCU) as a module.

Source: rFaceNet, arXiv 2403.09034, §3.2 and §4.2; rppgblocks spec ``architectures.md`` §2.2.
"""

from __future__ import annotations

from torch import Tensor, nn

from rppgblocks._checks import check_finite_positive
from rppgblocks.functional.temporal import InterpolationMode, temporal_compress

__all__ = ["TemporalCompressor"]


class TemporalCompressor(nn.Module):
    r"""Temporal Compressor Unit: the temporal mean image of a clip, optionally rescaled.

    A thin module over :func:`rppgblocks.functional.temporal_compress`. In rFaceNet it turns the input clip into the
    one image the identity (facial contour) branch sees (§3.2); the cross-dataset setting rescales it x2 (§4.2).
    Parameter-free; autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        scale_factor: Spatial scale factor (> 0) applied after averaging, or ``None`` (default) for none.
        mode: Interpolation mode of the rescale (default ``"bilinear"``, ``align_corners=False``).

    Raises:
        ValueError: If ``scale_factor`` is not positive or ``mode`` is unknown.

    Shape:
        - Input: :math:`(B, C, T, H, W)`
        - Output: :math:`(B, C, \lfloor sH \rfloor, \lfloor sW \rfloor)`

    Examples:
        >>> import torch
        >>> tcu = TemporalCompressor(scale_factor=2.0)
        >>> tcu(torch.rand(2, 3, 128, 72, 72)).shape
        torch.Size([2, 3, 144, 144])
    """

    def __init__(self, scale_factor: float | None = None, *, mode: InterpolationMode = "bilinear") -> None:
        super().__init__()
        if scale_factor is not None:
            check_finite_positive(scale_factor, "scale_factor")
        if mode not in ("bilinear", "bicubic", "nearest", "area"):
            raise ValueError(f"mode: expected one of 'bilinear', 'bicubic', 'nearest', 'area', got {mode!r}")
        self.scale_factor = None if scale_factor is None else float(scale_factor)
        self.mode: InterpolationMode = mode

    def forward(self, video: Tensor) -> Tensor:
        """Compress ``video`` ``(B, C, T, H, W)`` into ``(B, C, H', W')``."""
        return temporal_compress(video, scale_factor=self.scale_factor, mode=self.mode)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}"
