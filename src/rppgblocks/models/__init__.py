"""Reference models assembled from rppgblocks' blocks, and the registry of named presets."""

from rppgblocks.models._registry import ModelInfo, create_model, list_models, model_info, register_model
from rppgblocks.models.identity_encoder import IdentityEncoder, IdentityEncoderOutput
from rppgblocks.models.physnet import PhysNet
from rppgblocks.models.rfacenet import RFACENET_HR_BAND, RFaceNet, RFaceNetOutput

__all__ = [
    "RFACENET_HR_BAND",
    "IdentityEncoder",
    "IdentityEncoderOutput",
    "ModelInfo",
    "PhysNet",
    "RFaceNet",
    "RFaceNetOutput",
    "create_model",
    "list_models",
    "model_info",
    "register_model",
]
