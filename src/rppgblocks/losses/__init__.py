"""Training losses."""

from rppgblocks.losses.neg_pearson import NegPearsonLoss
from rppgblocks.losses.rppgnet_loss import RPPGNetLoss, RPPGNetLossOutput
from rppgblocks.losses.uncertainty import (
    UncertaintyLossOutput,
    UncertaintyMultiTaskLoss,
    uncertainty_weighted_term,
)

__all__ = [
    "NegPearsonLoss",
    "RPPGNetLoss",
    "RPPGNetLossOutput",
    "UncertaintyLossOutput",
    "UncertaintyMultiTaskLoss",
    "uncertainty_weighted_term",
]
