"""rppgblocks: PyTorch building blocks for remote photoplethysmography (rPPG).

The most used names are importable from the top level::

    from rppgblocks import CTFC, TemporalCompressor, UncertaintyMultiTaskLoss, FFTHeartRateHead, RFaceNet

Subpackages: :mod:`rppgblocks.functional` (stateless tensor functions), :mod:`rppgblocks.layers`,
:mod:`rppgblocks.heads`, :mod:`rppgblocks.losses`, :mod:`rppgblocks.models`, :mod:`rppgblocks.classical`
(non-learned rPPG methods) and :mod:`rppgblocks.data` (video I/O, datasets, synthetic data).
"""

from rppgblocks._version import __version__
from rppgblocks.errors import ShapeError, VideoDecodeError
from rppgblocks.heads import FFTHeartRateHead
from rppgblocks.layers import CTFC, CrossTaskFeatureCombiner, TemporalCompressor
from rppgblocks.losses import NegPearsonLoss, UncertaintyLossOutput, UncertaintyMultiTaskLoss
from rppgblocks.models import (
    IdentityEncoder,
    PhysNet,
    RFaceNet,
    RFaceNetOutput,
    RPPGNet,
    create_model,
    list_models,
)

__all__ = [
    "CTFC",
    "CrossTaskFeatureCombiner",
    "FFTHeartRateHead",
    "IdentityEncoder",
    "NegPearsonLoss",
    "PhysNet",
    "RFaceNet",
    "RFaceNetOutput",
    "RPPGNet",
    "ShapeError",
    "TemporalCompressor",
    "UncertaintyLossOutput",
    "UncertaintyMultiTaskLoss",
    "VideoDecodeError",
    "__version__",
    "create_model",
    "list_models",
]
