"""Reference models assembled from rppgblocks' blocks."""

from rppgblocks.models.identity_encoder import IdentityEncoder, IdentityEncoderOutput
from rppgblocks.models.physnet import PhysNet
from rppgblocks.models.rfacenet import RFACENET_HR_BAND, RFaceNet, RFaceNetOutput

__all__ = ["RFACENET_HR_BAND", "IdentityEncoder", "IdentityEncoderOutput", "PhysNet", "RFaceNet", "RFaceNetOutput"]
