"""Pearson correlation of signals and the negative-Pearson loss.

Source: PhysNet (Yu et al., BMVC 2019), Eq. 1: :math:`L = 1 - r(x, y)` per signal; rPPG-Toolbox averages it over the
batch.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from rppgblocks._checks import check_shape
from rppgblocks.errors import ShapeError
from rppgblocks.layout import SIGNAL

__all__ = ["Reduction", "neg_pearson_loss", "pearson_correlation"]

Reduction = Literal["none", "mean", "sum"]


def pearson_correlation(x: Tensor, y: Tensor, *, eps: float = 1e-8) -> Tensor:
    r"""Pearson correlation coefficient of each pair of signals along time.

    :math:`r = \frac{\sum_t (x_t-\bar x)(y_t-\bar y)}{\max(\sqrt{\sum_t (x_t-\bar x)^2 \sum_t (y_t-\bar y)^2},
    \epsilon)}`. Computed in float32 (float64 for float64 input). A constant signal gives r = 0.

    Args:
        x: Signals ``(B, T)``.
        y: Signals ``(B, T)``, same shape as ``x``.
        eps: Lower bound of the denominator (guards constant signals; no bias otherwise).

    Returns:
        ``(B,)`` correlations in [-1, 1].

    Raises:
        ShapeError: If the inputs are not ``(B, T)`` or their shapes differ.

    Shape:
        - x, y: :math:`(B, T)`
        - output: :math:`(B,)`

    Examples:
        >>> x = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
        >>> pearson_correlation(x, 3 * x + 1), pearson_correlation(x, -x)
        (tensor([1.0000]), tensor([-1.0000]))
    """
    check_shape(x, SIGNAL, "x")
    check_shape(y, SIGNAL, "y")
    if x.shape != y.shape:
        raise ShapeError("y", tuple(x.shape), y.shape, "x and y must have the same shape")
    dtype = torch.float64 if torch.float64 in (x.dtype, y.dtype) else torch.float32
    xc = x.to(dtype) - x.to(dtype).mean(dim=-1, keepdim=True)
    yc = y.to(dtype) - y.to(dtype).mean(dim=-1, keepdim=True)
    cov = (xc * yc).sum(dim=-1)
    norm = torch.sqrt(xc.square().sum(dim=-1) * yc.square().sum(dim=-1))
    return (cov / norm.clamp_min(eps)).clamp(-1.0, 1.0)


def neg_pearson_loss(pred: Tensor, target: Tensor, *, reduction: Reduction = "mean", eps: float = 1e-8) -> Tensor:
    r"""Negative Pearson loss :math:`1 - r(\text{pred}, \text{target})` per signal (PhysNet, BMVC 2019, Eq. 1).

    Invariant to a positive affine change of either signal; lies in [0, 2]: 0 for a positive affine copy of the
    target, 2 for a negative one. Computed in float32 (float64 for float64 input).

    Args:
        pred: Predicted signals ``(B, T)``.
        target: Target signals ``(B, T)``.
        reduction: ``"mean"`` (default) or ``"sum"`` over the batch, or ``"none"`` for the ``(B,)`` values.
        eps: Lower bound of the correlation's denominator.

    Returns:
        A scalar, or ``(B,)`` with ``reduction="none"``.

    Raises:
        ShapeError: If the inputs are not ``(B, T)`` of equal shape.
        ValueError: If ``reduction`` is unknown.

    Shape:
        - pred, target: :math:`(B, T)`
        - output: :math:`()` or :math:`(B,)`

    Examples:
        >>> t = torch.linspace(0, 6.28, 64)[None]
        >>> float(neg_pearson_loss(2 * torch.sin(t) + 1, torch.sin(t)))
        0.0
        >>> round(float(neg_pearson_loss(-torch.sin(t), torch.sin(t))), 4)
        2.0
    """
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction: expected 'none', 'mean' or 'sum', got {reduction!r}")
    loss = 1.0 - pearson_correlation(pred, target, eps=eps)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
