"""rPPGNet's parameter-free skin-based attention as a module.

Source: Yu, Peng, Zhao, ICCV 2019 (rPPGNet); rppgblocks spec ``architectures.md`` §3 ("Skin-based attention").
"""

from __future__ import annotations

from torch import Tensor, nn

from rppgblocks.functional.skin_attention import skin_attention

__all__ = ["SkinAttention"]


class SkinAttention(nn.Module):
    r"""rPPGNet's skin-based attention :math:`X \odot \mathrm{softmax}_{hw}(\sigma(\bar X) + \sigma(\max_c X) + S)`.

    A thin module over :func:`rppgblocks.functional.skin_attention.skin_attention` (see it for the formula and its
    properties). No parameters and no buffers.

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Shape:
        - features: :math:`(B, C, T, h, w)`
        - skin_map: :math:`(B, T, h, w)`
        - Output: :math:`(B, C, T, h, w)`

    Examples:
        >>> import torch
        >>> attention = SkinAttention()
        >>> attention(torch.randn(2, 8, 3, 4, 4), torch.rand(2, 3, 4, 4)).shape
        torch.Size([2, 8, 3, 4, 4])
    """

    def forward(self, features: Tensor, skin_map: Tensor) -> Tensor:
        """Attend ``features`` ``(B, C, T, h, w)`` with ``skin_map`` ``(B, T, h, w)``.

        Raises:
            ShapeError: If ``features`` is not 5-D or ``skin_map`` is not ``(B, T, h, w)`` of ``features``.
        """
        return skin_attention(features, skin_map)
