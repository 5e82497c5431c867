"""Reference models assembled from rppgblocks' blocks, and the registry of named presets."""

from rppgblocks.models._registry import ModelInfo, create_model, list_models, model_info, register_model
from rppgblocks.models.convert import (
    convert_rppg_toolbox_physnet,
    is_rppg_toolbox_physnet_state_dict,
    load_rppg_toolbox_physnet,
    to_rppg_toolbox_physnet,
)
from rppgblocks.models.ema import EMATeacher, cosine_ema_momentum, ema_update_
from rppgblocks.models.identity_encoder import IdentityEncoder, IdentityEncoderOutput
from rppgblocks.models.physnet import PhysNet
from rppgblocks.models.rfacenet import RFACENET_HR_BAND, RFaceNet, RFaceNetOutput
from rppgblocks.models.rppgnet import RPPGNet, RPPGNetOutput
from rppgblocks.models.sspd import (
    MIN_FRAME_SIZE,
    SSPD,
    S3MOutput,
    SeparableSelfSimilarityModel,
    SSPDBackbone,
    SSPDOutput,
    SSPDPredictor,
    TemporalSimilarityBlock,
)
from rppgblocks.models.stven import STVEN, stven_condition

__all__ = [
    "MIN_FRAME_SIZE",
    "RFACENET_HR_BAND",
    "SSPD",
    "STVEN",
    "EMATeacher",
    "IdentityEncoder",
    "IdentityEncoderOutput",
    "ModelInfo",
    "PhysNet",
    "RFaceNet",
    "RFaceNetOutput",
    "RPPGNet",
    "RPPGNetOutput",
    "S3MOutput",
    "SSPDBackbone",
    "SSPDOutput",
    "SSPDPredictor",
    "SeparableSelfSimilarityModel",
    "TemporalSimilarityBlock",
    "convert_rppg_toolbox_physnet",
    "cosine_ema_momentum",
    "create_model",
    "ema_update_",
    "is_rppg_toolbox_physnet_state_dict",
    "list_models",
    "load_rppg_toolbox_physnet",
    "model_info",
    "register_model",
    "stven_condition",
    "to_rppg_toolbox_physnet",
]
