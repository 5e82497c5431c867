"""rFaceNet: rPPG estimation guided by facial identity (contour) features.

Source: "rFaceNet: An End-to-End Network for Enhanced Physiological Signal Extraction through Identity-Specific Facial
Contours", arXiv 2403.09034, §3 (Fig. 2) and §4.2; rppgblocks spec ``architectures.md`` §2 with the resolutions of
§2.8. Two branches see the same clip: the identity branch (TCU -> 2D CNN -> identity logits, tapped feature map
:math:`FM_i`) and the BVP branch (PhysNet, with the CTFC fusing :math:`FM_i` into the output of a chosen stage).
"""

from __future__ import annotations

import math
from typing import Any, Literal, NamedTuple

import torch
from torch import Tensor, nn

from rppgblocks._checks import check_band, check_finite_positive
from rppgblocks.functional.normalization import VideoNormalization, normalize_video
from rppgblocks.heads.fft_heart_rate import FFTHeartRateHead
from rppgblocks.layers.cross_task_feature_combiner import CombinerMode, CrossTaskFeatureCombiner
from rppgblocks.layers.temporal_compressor import TemporalCompressor
from rppgblocks.models._registry import register_model
from rppgblocks.models.identity_encoder import IdentityEncoder
from rppgblocks.models.physnet import PhysNet

__all__ = ["RFACENET_HR_BAND", "RFaceNet", "RFaceNetOutput", "rfacenet", "rfacenet_vipl"]

#: rFaceNet's heart-rate band in Hz (Eq. 3): 30-252 bpm.
RFACENET_HR_BAND: tuple[float, float] = (0.5, 4.2)

HRMode = Literal["auto", "soft", "hard"]
IdentitySource = Literal["identity", "noise"]


class RFaceNetOutput(NamedTuple):
    """What :class:`RFaceNet` returns.

    Attributes:
        bvp: Predicted BVP, ``(B, T)``.
        hr: Heart rate in bpm from ``bvp`` by the FFT head, ``(B,)`` (soft while training, hard in eval mode by
            default).
        identity_logits: Identity logits, ``(B, num_identities)``.

    Examples:
        >>> import torch
        >>> out = RFaceNetOutput(torch.zeros(2, 64), torch.full((2,), 72.0), torch.zeros(2, 5))
        >>> out.hr.tolist(), out._fields
        ([72.0, 72.0], ('bvp', 'hr', 'identity_logits'))
    """

    bvp: Tensor
    hr: Tensor
    identity_logits: Tensor


def _auto_tap_stage(ctfc_stage: int, scale_factor: float | None, n_stages: int) -> int:
    """The identity-encoder stage whose resolution matches PhysNet's :math:`M_k` (spec §2.3)."""
    scale = 1.0 if scale_factor is None else scale_factor
    stage = round(ctfc_stage + math.log2(scale) - 1)
    return min(max(stage, 1), n_stages)


class RFaceNet(nn.Module):
    r"""The reference rFaceNet: identity branch + PhysNet BVP branch joined by a CTFC.

    Forward pass on a clip :math:`x` ``(B, C, T, H, W)``:

    1. identity branch: :math:`\mathrm{TCU}(x)` ``(B, C, sH, sW)`` -> :class:`IdentityEncoder` -> identity logits and
       the tapped map :math:`FM_i`;
    2. BVP branch: the clip normalised by ``bvp_input_norm`` goes through PhysNet up to stage ``ctfc_stage``,
       giving :math:`M_k`; the CTFC fuses :math:`FM_i` into it
       (Eq. 1-2) and PhysNet continues to the BVP ``(B, T)``;
    3. :class:`~rppgblocks.heads.FFTHeartRateHead` turns the BVP into HR in bpm over ``hr_band`` (Eq. 3).

    Ablations of the paper's Table 3: ``ctfc_stage=None`` runs the two branches without interaction;
    ``identity_source="noise"`` feeds :math:`\mathcal N(0, 1)` noise of :math:`FM_i`'s shape to the CTFC instead of
    the identity map; ``ctfc_stage`` in 1-3 chooses where the fusion happens (3 is the paper's best).

    Train with :class:`~rppgblocks.losses.UncertaintyMultiTaskLoss` on the BVP, HR and identity outputs.

    Args:
        num_identities: Number of identities of the classifier (subjects in the training split).
        fs: Default frame rate in Hz for the HR head (a per-sample ``fs`` can be given to ``forward``).
        in_channels: Input channels.
        physnet_width: Width of PhysNet's stages (64 in the paper).
        ctfc_stage: PhysNet stage after which the CTFC fuses the identity map (1-3; default 3), or ``None``.
        ctfc_mode: The CTFC's reading of its two convolutions, ``"both"`` (default) or ``"id_only"``.
        identity_source: ``"identity"`` (default) or ``"noise"`` (the "CTFC only" ablation).
        tcu_scale_factor: Spatial scale of the TCU output (2.0 in the paper's cross-dataset setting; ``None`` for VIPL).
        identity_widths: Channels of the identity encoder's stages (ResNet-18: 64, 128, 256, 512).
        identity_depths: Residual blocks per identity-encoder stage (ResNet-18: 2, 2, 2, 2).
        identity_tap_stage: The identity-encoder stage feeding the CTFC; default: the stage whose resolution matches
            PhysNet's :math:`M_k` (layer3 for ``ctfc_stage=3`` with x2 TCU scaling, layer2 without).
        hr_band: ``(low_hz, high_hz)`` of the HR head; default rFaceNet's (0.5, 4.2) Hz.
        hr_mode: ``"auto"`` (default: soft, differentiable HR in training mode, hard argmax in eval mode),
            ``"soft"`` or ``"hard"``.
        hr_temperature: Temperature of the soft HR.
        bvp_input_norm: Normalisation of the clip before the BVP branch (the identity branch always sees the clip
            as given): ``"temporal_center"`` (default; each pixel's temporal mean removed, see
            :func:`~rppgblocks.functional.center_over_time`), ``"diff_normalized"``, ``"standardized"`` or
            ``"none"`` (pass already-normalised clips, e.g. rPPG-Toolbox's DiffNormalized ones). The paper says only
            "RGB normalisation"; temporal centring lets the BVP branch train from raw RGB clips in [0, 1] while the
            identity branch still sees the face.

    Raises:
        ValueError: If an argument is out of range.

    Shape:
        - video: :math:`(B, C, T, H, W)`, :math:`T \bmod 4 = 0`, :math:`H, W \ge 16`; fs: float or :math:`(B,)`
        - Output: :class:`RFaceNetOutput` with bvp :math:`(B, T)`, hr :math:`(B,)`,
          identity_logits :math:`(B, N_{id})`

    Examples:
        >>> import torch
        >>> model = RFaceNet(num_identities=5, tcu_scale_factor=2.0).eval()
        >>> out = model(torch.rand(2, 3, 32, 32, 32))
        >>> out.bvp.shape, out.hr.shape, out.identity_logits.shape
        (torch.Size([2, 32]), torch.Size([2]), torch.Size([2, 5]))
    """

    def __init__(
        self,
        num_identities: int,
        *,
        fs: float = 30.0,
        in_channels: int = 3,
        physnet_width: int = 64,
        ctfc_stage: int | None = 3,
        ctfc_mode: CombinerMode = "both",
        identity_source: IdentitySource = "identity",
        tcu_scale_factor: float | None = 2.0,
        identity_widths: tuple[int, ...] = (64, 128, 256, 512),
        identity_depths: tuple[int, ...] = (2, 2, 2, 2),
        identity_tap_stage: int | None = None,
        hr_band: tuple[float, float] = RFACENET_HR_BAND,
        hr_mode: HRMode = "auto",
        hr_temperature: float = 0.05,
        bvp_input_norm: VideoNormalization = "temporal_center",
    ) -> None:
        super().__init__()
        check_finite_positive(fs, "fs")
        if ctfc_stage is not None and (isinstance(ctfc_stage, bool) or ctfc_stage not in (1, 2, 3)):
            raise ValueError(f"ctfc_stage: expected 1, 2, 3 or None, got {ctfc_stage!r}")
        if identity_source not in ("identity", "noise"):
            raise ValueError(f"identity_source: expected 'identity' or 'noise', got {identity_source!r}")
        if hr_mode not in ("auto", "soft", "hard"):
            raise ValueError(f"hr_mode: expected 'auto', 'soft' or 'hard', got {hr_mode!r}")
        check_band(hr_band, "hr_band")
        if bvp_input_norm not in ("none", "temporal_center", "diff_normalized", "standardized"):
            raise ValueError(
                "bvp_input_norm: expected 'none', 'temporal_center', 'diff_normalized' or 'standardized', "
                f"got {bvp_input_norm!r}"
            )
        self.bvp_input_norm: VideoNormalization = bvp_input_norm
        if tcu_scale_factor is not None:
            check_finite_positive(tcu_scale_factor, "tcu_scale_factor")
        n_identity_stages = len(identity_widths)
        if identity_tap_stage is None:
            identity_tap_stage = _auto_tap_stage(ctfc_stage or 3, tcu_scale_factor, n_identity_stages)
        self.ctfc_stage = ctfc_stage
        self.identity_source: IdentitySource = identity_source
        self.hr_mode: HRMode = hr_mode
        self.num_identities = num_identities
        self.tcu = TemporalCompressor(tcu_scale_factor)
        self.identity_encoder = IdentityEncoder(
            num_identities,
            in_channels=in_channels,
            widths=identity_widths,
            depths=identity_depths,
            tap_stage=identity_tap_stage,
        )
        self.physnet = PhysNet(in_channels=in_channels, width=physnet_width)
        self.ctfc: CrossTaskFeatureCombiner | None = None
        if ctfc_stage is not None:
            self.ctfc = CrossTaskFeatureCombiner(
                self.identity_encoder.feature_channels, self.physnet.stage_channels(ctfc_stage), mode=ctfc_mode
            )
        self.hr_head = FFTHeartRateHead(fs, band=hr_band, temperature=hr_temperature)

    def _use_soft_hr(self) -> bool:
        if self.hr_mode == "auto":
            return self.training
        return self.hr_mode == "soft"

    def forward(self, video: Tensor, fs: float | Tensor | None = None) -> RFaceNetOutput:
        """Predict BVP, HR and identity logits for ``video`` ``(B, C, T, H, W)`` sampled at ``fs`` Hz."""
        identity = self.identity_encoder(self.tcu(video))
        bvp_input = normalize_video(video, self.bvp_input_norm)
        if self.ctfc is None or self.ctfc_stage is None:
            bvp = self.physnet(bvp_input)
        else:
            features = self.physnet.forward_until(bvp_input, self.ctfc_stage)
            identity_map = identity.feature_map
            if self.identity_source == "noise":
                identity_map = torch.randn_like(identity_map)
            features = self.ctfc(identity_map, features)
            bvp = self.physnet.forward_from(features, self.ctfc_stage)
        hr = self.hr_head(bvp, fs, soft=self._use_soft_hr())
        return RFaceNetOutput(bvp, hr, identity.logits)


@register_model(
    input_size=(3, 128, 72, 72),
    input_normalization="raw RGB in [0, 1]; DiffNormalized inside the BVP branch, 30 fps",
    paper="rFaceNet, arXiv 2403.09034, §4.2 and §4.4 (cross-dataset, rPPG-Toolbox setting)",
)
def rfacenet(**overrides: Any) -> RFaceNet:
    """rFaceNet in the rPPG-Toolbox cross-dataset setting: 128x72x72 clips, TCU x2, CTFC after stage 3.

    The identity encoder is a ResNet-18 layout whose layer3 (9 x 9 for 144 x 144 images) feeds the CTFC; the BVP
    branch gets the clip DiffNormalized, as rPPG-Toolbox feeds PhysNet (so rPPG-Toolbox PhysNet weights fit it),
    while the identity branch sees the RGB clip. ``num_identities`` defaults to 8, the training subjects of PURE in
    rPPG-Toolbox's PURE -> UBFC-rPPG protocol (subjects 01-08).

    Examples:
        >>> from rppgblocks.models import create_model
        >>> model = create_model("rfacenet")
        >>> model.identity_encoder.tap_stage, model.num_identities
        (3, 8)
    """
    kwargs: dict[str, Any] = {
        "num_identities": 8,
        "fs": 30.0,
        "tcu_scale_factor": 2.0,
        "ctfc_stage": 3,
        "bvp_input_norm": "diff_normalized",
    }
    kwargs.update(overrides)
    return RFaceNet(**kwargs)


@register_model(
    input_size=(3, 64, 128, 128),
    input_normalization="raw RGB in [0, 1], 30 fps",
    paper="rFaceNet, arXiv 2403.09034, §4.2-§4.3 (VIPL-HR)",
)
def rfacenet_vipl(**overrides: Any) -> RFaceNet:
    """rFaceNet in the paper's VIPL-HR setting: 64x128x128 clips, no TCU rescaling, CTFC after stage 3.

    The identity encoder's layer2 (16 x 16 for 128 x 128 images) matches PhysNet's stage-3 map; the BVP branch gets
    the clip temporally centred (rppgblocks' reading of the paper's "RGB normalisation"). ``num_identities``
    defaults to 86, the training subjects of one fold of VIPL-HR's 5-fold protocol (107 subjects, 21 in fold 1).

    Examples:
        >>> from rppgblocks.models import create_model
        >>> model = create_model("rfacenet_vipl")
        >>> model.identity_encoder.tap_stage, model.num_identities
        (2, 86)
    """
    kwargs: dict[str, Any] = {
        "num_identities": 86,
        "fs": 30.0,
        "tcu_scale_factor": None,
        "ctfc_stage": 3,
        "bvp_input_norm": "temporal_center",
    }
    kwargs.update(overrides)
    return RFaceNet(**kwargs)
