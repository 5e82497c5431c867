"""Negative Pearson loss as a module (PhysNet, Yu et al., BMVC 2019, Eq. 1)."""

from __future__ import annotations

from torch import Tensor, nn

from rppgblocks.functional.pearson import Reduction, neg_pearson_loss

__all__ = ["NegPearsonLoss"]


class NegPearsonLoss(nn.Module):
    r"""Negative Pearson loss :math:`1 - r(\hat y, y)` over time, per signal, reduced over the batch.

    A thin module over :func:`rppgblocks.functional.neg_pearson_loss`. In [0, 2]; 0 for a positive affine copy of
    the target and 2 for a negative one. Computes in float32 (float64 for float64 input), so it is safe under
    autocast.

    Args:
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"``.
        eps: Lower bound of the correlation's denominator.

    Raises:
        ValueError: If ``reduction`` is unknown.

    Shape:
        - pred, target: :math:`(B, T)`
        - Output: :math:`()`, or :math:`(B,)` with ``reduction="none"``

    Examples:
        >>> import torch
        >>> loss = NegPearsonLoss()
        >>> target = torch.randn(4, 128)
        >>> float(loss(0.5 * target + 3.0, target)) < 1e-6
        True
    """

    def __init__(self, reduction: Reduction = "mean", *, eps: float = 1e-8) -> None:
        super().__init__()
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"reduction: expected 'none', 'mean' or 'sum', got {reduction!r}")
        self.reduction: Reduction = reduction
        self.eps = eps

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """Loss of ``pred`` ``(B, T)`` against ``target`` ``(B, T)``."""
        return neg_pearson_loss(pred, target, reduction=self.reduction, eps=self.eps)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return f"reduction={self.reduction!r}"
