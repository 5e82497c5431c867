"""rPPGNet's skin segmentation branch: a per-frame skin probability map from early features.

Source: Yu, Peng, Zhao, "Remote Heart Rate Measurement from Highly Compressed Facial Videos: an End-to-end Deep
Learning Solution with Video Enhancement", ICCV 2019; rppgblocks spec ``architectures.md`` §3 ("Skin segmentation
branch").
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import Tensor, nn

from rppgblocks._checks import check_shape
from rppgblocks.layout import FEATURES

__all__ = ["SkinSegmentationBranch"]


def _spatial_conv_block(in_channels: int, out_channels: int, kernel: int) -> nn.Sequential:
    """Conv3d ``(1, k, k)`` (size preserving) + BatchNorm + ReLU: each frame is processed on its own."""
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, (1, kernel, kernel), padding=(0, kernel // 2, kernel // 2)),
        nn.BatchNorm3d(out_channels),
        nn.ReLU(inplace=True),
    )


class SkinSegmentationBranch(nn.Module):
    r"""Predict a per-frame skin map from a feature map (rPPGNet's skin branch, spec §3).

    Main path: conv :math:`1 \times 3 \times 3` :math:`C \to c_1` + BN + ReLU, conv :math:`1 \times 3 \times 3`
    :math:`c_1 \to c_2` + BN + ReLU; residual path: conv :math:`1 \times 1 \times 1` :math:`C \to c_2` + BN + ReLU;
    their sum goes through a conv :math:`1 \times 3 \times 3` :math:`c_2 \to 1`. :meth:`logits` returns that
    output; :meth:`forward` applies the sigmoid, giving the skin probability map :math:`S`. Every kernel is
    spatial only, so frames are segmented independently and the map has the input's :math:`(T, h, w)`. With the
    defaults (:math:`C = 32`, :math:`c_1, c_2 = 16, 8`) it has 6,185 parameters (5,832 + 280 + 73, spec §3).

    Train :meth:`logits` with a BCE-with-logits loss (as :class:`~rppgblocks.losses.rppgnet_loss.RPPGNetLoss`
    does): it stays exact where the sigmoid saturates, e.g. in float16.

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        in_channels: :math:`C`, channels of the input features (32 in rPPGNet).
        hidden_channels: :math:`(c_1, c_2)`, channels of the main path's two convolutions.

    Raises:
        ValueError: If a channel count is not a positive integer.

    Shape:
        - Input: :math:`(B, C, T, h, w)`
        - Output: :math:`(B, T, h, w)`, probabilities in (0, 1) (:meth:`forward`) or logits (:meth:`logits`)

    Examples:
        >>> import torch
        >>> branch = SkinSegmentationBranch()
        >>> skin = branch(torch.rand(2, 32, 4, 16, 16))
        >>> skin.shape, bool(((skin > 0) & (skin < 1)).all())
        (torch.Size([2, 4, 16, 16]), True)
        >>> sum(p.numel() for p in branch.parameters())
        6185
    """

    def __init__(self, in_channels: int = 32, *, hidden_channels: tuple[int, int] = (16, 8)) -> None:
        super().__init__()
        if isinstance(in_channels, bool) or not isinstance(in_channels, int) or in_channels <= 0:
            raise ValueError(f"in_channels: expected a positive integer, got {in_channels!r}")
        if (
            not isinstance(hidden_channels, tuple)
            or len(hidden_channels) != 2
            or any(isinstance(c, bool) or not isinstance(c, int) or c <= 0 for c in hidden_channels)
        ):
            raise ValueError(f"hidden_channels: expected a pair of positive integers, got {hidden_channels!r}")
        first, second = hidden_channels
        self.in_channels = in_channels
        self.hidden_channels = (first, second)
        self.main = nn.Sequential(
            _spatial_conv_block(in_channels, first, 3),
            _spatial_conv_block(first, second, 3),
        )
        self.residual = _spatial_conv_block(in_channels, second, 1)
        self.output = nn.Conv3d(second, 1, (1, 3, 3), padding=(0, 1, 1))

    def logits(self, features: Tensor) -> Tensor:
        """The skin logits ``(B, T, h, w)`` (before the sigmoid) of ``features`` ``(B, C, T, h, w)``."""
        check_shape(features, FEATURES, "features", c=self.in_channels)
        hidden = self.main(features) + self.residual(features)
        logits: Tensor = rearrange(self.output(hidden), "b 1 t h w -> b t h w")
        return logits

    def forward(self, features: Tensor) -> Tensor:
        """The skin probability map ``(B, T, h, w)`` of ``features`` ``(B, C, T, h, w)``."""
        return torch.sigmoid(self.logits(features))

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return f"in_channels={self.in_channels}, hidden_channels={self.hidden_channels}"
