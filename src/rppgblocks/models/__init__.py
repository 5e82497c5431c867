"""Reference models assembled from rppgblocks' blocks, and the registry of named presets."""

from rppgblocks.models._registry import ModelInfo, create_model, list_models, model_info, register_model
from rppgblocks.models.convert import (
    convert_rppg_toolbox_physnet,
    is_rppg_toolbox_physnet_state_dict,
    load_rppg_toolbox_physnet,
    to_rppg_toolbox_physnet,
)
from rppgblocks.models.identity_encoder import IdentityEncoder, IdentityEncoderOutput
from rppgblocks.models.physnet import PhysNet
from rppgblocks.models.rfacenet import RFACENET_HR_BAND, RFaceNet, RFaceNetOutput
from rppgblocks.models.rppgnet import RPPGNet, RPPGNetOutput

__all__ = [
    "RFACENET_HR_BAND",
    "IdentityEncoder",
    "IdentityEncoderOutput",
    "ModelInfo",
    "PhysNet",
    "RFaceNet",
    "RFaceNetOutput",
    "RPPGNet",
    "RPPGNetOutput",
    "convert_rppg_toolbox_physnet",
    "create_model",
    "is_rppg_toolbox_physnet_state_dict",
    "list_models",
    "load_rppg_toolbox_physnet",
    "model_info",
    "register_model",
    "to_rppg_toolbox_physnet",
]
