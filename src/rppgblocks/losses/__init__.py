"""Training losses."""

from rppgblocks.losses.neg_pearson import NegPearsonLoss
from rppgblocks.losses.uncertainty import (
    UncertaintyLossOutput,
    UncertaintyMultiTaskLoss,
    uncertainty_weighted_term,
)

__all__ = ["NegPearsonLoss", "UncertaintyLossOutput", "UncertaintyMultiTaskLoss", "uncertainty_weighted_term"]
