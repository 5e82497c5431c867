"""The four spatial quadrants of a feature map, for rPPGNet's partition constraint.

Source: Yu, Peng, Zhao, ICCV 2019 (rPPGNet, partition constraint); rppgblocks spec ``architectures.md`` §3
("partition constraint"): the attended 16x16 map is split into four non-overlapping 8x8 quadrants, in the order
[0:8, 0:8], [8:16, 0:8], [0:8, 8:16], [8:16, 8:16] along (h, w).
"""

from __future__ import annotations

from einops import rearrange
from torch import Tensor

from rppgblocks._checks import check_shape
from rppgblocks.errors import ShapeError
from rppgblocks.layout import FEATURES

__all__ = ["split_quadrants"]


def split_quadrants(features: Tensor) -> Tensor:
    r"""Split a feature map into its four non-overlapping spatial quadrants (rPPGNet, ICCV 2019; spec §3).

    With :math:`h_2 = h/2, w_2 = w/2`, quadrant :math:`q` is ``features[..., rows, cols]`` with, in order,
    :math:`q=0`: top-left ``[:h2, :w2]``; :math:`q=1`: bottom-left ``[h2:, :w2]``; :math:`q=2`: top-right
    ``[:h2, w2:]``; :math:`q=3`: bottom-right ``[h2:, w2:]`` (the released rPPGNet's order: the row index varies
    fastest). A permutation of the entries, so the gradient is the inverse permutation.

    Autograd, ``torch.compile`` and ``torch.export`` supported. Parameter-free.

    Args:
        features: ``(B, C, T, h, w)`` with ``h`` and ``w`` even.

    Returns:
        The quadrants, ``(B, 4, C, T, h/2, w/2)``.

    Raises:
        ShapeError: If ``features`` is not 5-D or ``h`` or ``w`` is odd or zero.

    Shape:
        - features: :math:`(B, C, T, h, w)`
        - output: :math:`(B, 4, C, T, h/2, w/2)`

    Examples:
        >>> import torch
        >>> x = torch.arange(16.0).reshape(1, 1, 1, 4, 4)
        >>> quadrants = split_quadrants(x)
        >>> quadrants.shape
        torch.Size([1, 4, 1, 1, 2, 2])
        >>> quadrants[0, 1, 0, 0]  # bottom-left
        tensor([[ 8.,  9.],
                [12., 13.]])
    """
    check_shape(features, FEATURES, "features")
    h, w = features.shape[-2:]
    if h == 0 or w == 0 or h % 2 or w % 2:
        raise ShapeError(
            "features", FEATURES, features.shape, f"h and w must be positive and even to split, got h={h}, w={w}"
        )
    quadrants: Tensor = rearrange(features, "b c t (i h) (j w) -> b (j i) c t h w", i=2, j=2)
    return quadrants
