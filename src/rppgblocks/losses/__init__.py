"""Training losses."""

from rppgblocks.losses.neg_pearson import NegPearsonLoss
from rppgblocks.losses.rppgnet_loss import RPPGNetLoss, RPPGNetLossOutput
from rppgblocks.losses.sspd_loss import (
    SSPDLoss,
    SSPDLossOutput,
    band_ratio,
    normalized_spectrum,
    rpd_loss,
    self_similarity_regularizer,
    tspd_loss,
    wave_frequency_prior,
)
from rppgblocks.losses.stven_loss import (
    STVENCycle,
    STVENLoss,
    STVENLossOutput,
    STVENRPPGNetLoss,
    STVENRPPGNetLossOutput,
    stven_cycle,
    stven_cycle_loss,
    stven_reconstruction_loss,
)
from rppgblocks.losses.uncertainty import (
    UncertaintyLossOutput,
    UncertaintyMultiTaskLoss,
    uncertainty_weighted_term,
)

__all__ = [
    "NegPearsonLoss",
    "RPPGNetLoss",
    "RPPGNetLossOutput",
    "SSPDLoss",
    "SSPDLossOutput",
    "STVENCycle",
    "STVENLoss",
    "STVENLossOutput",
    "STVENRPPGNetLoss",
    "STVENRPPGNetLossOutput",
    "UncertaintyLossOutput",
    "UncertaintyMultiTaskLoss",
    "band_ratio",
    "normalized_spectrum",
    "rpd_loss",
    "self_similarity_regularizer",
    "stven_cycle",
    "stven_cycle_loss",
    "stven_reconstruction_loss",
    "tspd_loss",
    "uncertainty_weighted_term",
    "wave_frequency_prior",
]
