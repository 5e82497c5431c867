r"""rPPGNet's training loss: negative Pearson on the global, mid-layer and part signals, plus skin BCE.

Source: Yu, Peng, Zhao, ICCV 2019 (rPPGNet), :math:`L = \alpha L_{np} + \beta L_{np}^{mid} + \gamma L_{skin} +
\delta L_{parts}`; the released ``train_rPPGNet`` weights :math:`\alpha = 1, \beta = 0.5, \gamma = 0.1,
\delta = 0.5`; rppgblocks spec ``architectures.md`` §3 ("Losses").
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from einops import rearrange, repeat
from torch import Tensor, nn

from rppgblocks._checks import check_shape, check_weight, is_compiling
from rppgblocks.errors import ShapeError
from rppgblocks.functional.pearson import neg_pearson_loss
from rppgblocks.layout import SIGNAL
from rppgblocks.models.rppgnet import RPPGNetOutput

__all__ = ["RPPGNetLoss", "RPPGNetLossOutput"]


class RPPGNetLossOutput(NamedTuple):
    """What :class:`RPPGNetLoss` returns.

    Attributes:
        total: The loss to minimise, a float32 scalar (float64 for float64 inputs); the sum of ``terms``.
        terms: Each weighted term (part of ``total``), keyed ``"global"``, ``"mid"``, ``"skin"``, ``"part1"`` ..
            ``"part4"``.
        losses: The same terms before weighting: negative Pearson losses (in [0, 2]) and the skin BCE.
    """

    total: Tensor
    terms: dict[str, Tensor]
    losses: dict[str, Tensor]


class RPPGNetLoss(nn.Module):
    r"""rPPGNet's loss (ICCV 2019; spec §3).

    .. math::
        L = w_g L_{np}(\text{bvp}) + w_m L_{np}(\text{bvp\_mid}) + w_s \,\mathrm{BCE}(S, \text{skin\_labels})
          + w_p \sum_{i=1}^{4} L_{np}(\text{part}_i)

    with defaults :math:`w_g = 1, w_m = 0.5, w_s = 0.1, w_p = 0.5`. :math:`L_{np} = 1 - r` is the negative Pearson
    correlation with the target over time, per sample, averaged over the batch
    (:func:`~rppgblocks.functional.pearson.neg_pearson_loss`; the released code z-scores the batch first, which does
    not change :math:`r`); every part signal is compared with the same target. The BCE is averaged over every
    pixel of the skin map.

    The BCE is computed from the model's skin *logits* (``binary_cross_entropy_with_logits``), not by clamping
    probabilities: it is exact where the sigmoid saturates (in float16 :math:`\sigma(z)` rounds to 1 for
    :math:`z \gtrsim 8`, where a clamped BCE would lose its gradient), and it is allowed under autocast, where
    ``binary_cross_entropy`` on probabilities is rejected. Everything is computed in float32 (float64 for float64
    inputs), so the loss is safe under autocast and with half-precision models.

    Args:
        global_weight: :math:`w_g`.
        mid_weight: :math:`w_m`.
        skin_weight: :math:`w_s`.
        part_weight: :math:`w_p`, the weight of each part's term.
        eps: Lower bound of the Pearson correlation's denominator.

    Raises:
        ValueError: If a weight is negative or not finite; in ``forward``, if ``skin_labels`` are outside [0, 1]
            (checked outside ``torch.compile`` only).
        ShapeError: In ``forward``, if ``target`` does not match ``output.bvp`` or ``skin_labels`` does not match
            ``output.skin_logits``.

    Shape:
        - output: :class:`~rppgblocks.models.rppgnet.RPPGNetOutput` of a clip :math:`(B, C, T, H, W)`
        - target: :math:`(B, T)`, the ground-truth BVP
        - skin_labels: :math:`(B, T, H/2, W/2)`, skin probabilities or binary masks in [0, 1]
        - Output: :class:`RPPGNetLossOutput` with a scalar ``total``

    Examples:
        >>> import torch
        >>> from rppgblocks.models.rppgnet import RPPGNet
        >>> model, criterion = RPPGNet(), RPPGNetLoss()
        >>> out = model(torch.rand(2, 3, 8, 32, 32))
        >>> result = criterion(out, torch.randn(2, 8), torch.randint(0, 2, (2, 8, 16, 16)).float())
        >>> result.total.backward()
        >>> sorted(result.terms)
        ['global', 'mid', 'part1', 'part2', 'part3', 'part4', 'skin']
        >>> bool(torch.isclose(result.total, sum(result.terms.values())))
        True
    """

    def __init__(
        self,
        *,
        global_weight: float = 1.0,
        mid_weight: float = 0.5,
        skin_weight: float = 0.1,
        part_weight: float = 0.5,
        eps: float = 1e-8,
    ) -> None:
        super().__init__()
        self.global_weight = check_weight(global_weight, "global_weight")
        self.mid_weight = check_weight(mid_weight, "mid_weight")
        self.skin_weight = check_weight(skin_weight, "skin_weight")
        self.part_weight = check_weight(part_weight, "part_weight")
        self.eps = eps

    def forward(self, output: RPPGNetOutput, target: Tensor, skin_labels: Tensor) -> RPPGNetLossOutput:
        """Loss of the model ``output`` against the BVP ``target`` ``(B, T)`` and ``skin_labels`` ``(B, T, h, w)``."""
        check_shape(target, SIGNAL, "target")
        if target.shape != output.bvp.shape:
            raise ShapeError("target", tuple(output.bvp.shape), target.shape, "must match the predicted BVP (B, T)")
        check_shape(skin_labels, "b t h w", "skin_labels")
        if skin_labels.shape != output.skin_logits.shape:
            raise ShapeError(
                "skin_labels", tuple(output.skin_logits.shape), skin_labels.shape, "must match the skin map"
            )
        if not is_compiling() and skin_labels.numel() and not bool(((skin_labels >= 0) & (skin_labels <= 1)).all()):
            low, high = float(skin_labels.min()), float(skin_labels.max())
            raise ValueError(f"skin_labels: expected values in [0, 1], got values in [{low}, {high}]")
        dtype = torch.float64 if torch.float64 in (output.skin_logits.dtype, target.dtype) else torch.float32
        n_parts = output.bvp_parts.shape[1]
        parts = neg_pearson_loss(
            rearrange(output.bvp_parts, "b q t -> (b q) t"),
            repeat(target, "b t -> (b q) t", q=n_parts),
            reduction="none",
            eps=self.eps,
        )
        part_losses = rearrange(parts, "(b q) -> b q", q=n_parts).mean(dim=0)
        losses = {
            "global": neg_pearson_loss(output.bvp, target, eps=self.eps),
            "mid": neg_pearson_loss(output.bvp_mid, target, eps=self.eps),
            "skin": F.binary_cross_entropy_with_logits(output.skin_logits.to(dtype), skin_labels.to(dtype)),
        }
        losses.update({f"part{i + 1}": part_losses[i] for i in range(n_parts)})
        weights = {"global": self.global_weight, "mid": self.mid_weight, "skin": self.skin_weight}
        terms = {name: weights.get(name, self.part_weight) * value for name, value in losses.items()}
        total = torch.stack(list(terms.values())).sum()
        return RPPGNetLossOutput(total, terms, losses)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return (
            f"global_weight={self.global_weight}, mid_weight={self.mid_weight}, skin_weight={self.skin_weight}, "
            f"part_weight={self.part_weight}"
        )
