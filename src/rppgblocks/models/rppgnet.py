r"""rPPGNet: spatio-temporal (2+1)D network with skin segmentation, skin-based attention and a partition constraint.

Source: Yu, Peng, Zhao, "Remote Heart Rate Measurement from Highly Compressed Facial Videos: an End-to-end Deep
Learning Solution with Video Enhancement", ICCV 2019 (arXiv 1907.11921); rppgblocks spec ``architectures.md`` §3,
written from that description.

Trunk (spec §3's table): stem = conv :math:`1 \times 5 \times 5` + BN + ReLU at full resolution; stage 1 = spatial
average pool + two :class:`~rppgblocks.layers.spatio_temporal_conv.STBlock` (at :math:`H/2`, the released code's
``x_visual6464``); stage 2 = pool + two ST blocks (:math:`H/4`, ``x_visual3232``); stage 3 = pool + three ST blocks
(:math:`H/8`, ``x_visual1616``). Time is never downsampled. Side branches: the skin segmentation branch on the
stage-1 map gives the skin map :math:`S` at :math:`H/2`; skin-based attention (with :math:`S` average-pooled to
match) on the stage-2 and stage-3 maps feeds the heads (the trunk itself continues from the unattended maps); each
head pools its attended map over space (the attention-weighted mean :math:`\sum_i A_i X_i`, see :class:`RPPGNet`)
and projects it to one signal with a :math:`1 \times 1 \times 1` conv.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from einops import rearrange, reduce
from torch import Tensor, nn

from rppgblocks._checks import check_shape
from rppgblocks.errors import ShapeError
from rppgblocks.functional.partition import split_quadrants
from rppgblocks.layers.skin_attention import SkinAttention
from rppgblocks.layers.skin_segmentation import SkinSegmentationBranch
from rppgblocks.layers.spatio_temporal_conv import STBlock
from rppgblocks.layout import VIDEO
from rppgblocks.models._registry import register_model

__all__ = ["RPPGNet", "RPPGNetOutput", "rppgnet"]

_N_PARTS = 4


class RPPGNetOutput(NamedTuple):
    r"""What :class:`RPPGNet` returns (the released code's 9-tuple, named and regrouped).

    Attributes:
        bvp: The global BVP from the attended stage-3 map (``ecg_global``), ``(B, T)``.
        bvp_mid: The mid-layer (auxiliary) BVP from the attended stage-2 map (``ecg_SA1``), ``(B, T)``.
        bvp_parts: The four part BVPs of the partition constraint, one per quadrant of the attended stage-3 map
            in :func:`~rppgblocks.functional.partition.split_quadrants`' order, ``(B, 4, T)``.
        skin: The skin probability map :math:`S`, ``(B, T, H/2, W/2)``.
        skin_logits: The logits of ``skin`` (``skin = sigmoid(skin_logits)``), for a BCE-with-logits loss.
        stage1_features: The stage-1 map (``x_visual6464``) before any attention, ``(B, C_1, T, H/2, W/2)``.
        stage2_features: The stage-2 map (``x_visual3232``) before attention, ``(B, C_w, T, H/4, W/4)``.
    """

    bvp: Tensor
    bvp_mid: Tensor
    bvp_parts: Tensor
    skin: Tensor
    skin_logits: Tensor
    stage1_features: Tensor
    stage2_features: Tensor


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return value


class _SpatialAvgPool(nn.Module):
    """``AvgPool3d((1, 2, 2))`` of a ``(B, C, T, H, W)`` map (odd sizes floored), as a 2D pool over ``(C*T)`` planes.

    Same values; unlike ``avg_pool3d`` it also runs in float16 on the CPU.
    """

    def forward(self, features: Tensor) -> Tensor:
        channels = features.shape[1]
        pooled = F.avg_pool2d(rearrange(features, "b c t h w -> b (c t) h w"), 2)
        out: Tensor = rearrange(pooled, "b (c t) h w -> b c t h w", c=channels)
        return out


def _pool() -> _SpatialAvgPool:
    return _SpatialAvgPool()


def _signal(head: nn.Module, features: Tensor) -> Tensor:
    """Sum attended ``features`` ``(B, C, T, h, w)`` over space and project to a signal ``(B, T)``."""
    pooled = reduce(features, "b c t h w -> b c t 1 1", "sum")
    signal: Tensor = rearrange(head(pooled), "b 1 t 1 1 -> b t")
    return signal


class RPPGNet(nn.Module):
    r"""rPPGNet (ICCV 2019): BVP from a face clip, with skin segmentation, skin attention and four part signals.

    See the module notes for the architecture. With the defaults it has **550,331** parameters. The spec's count of
    the released model is 550,779, of which 513 are unused (a 3 -> 16 conv, 448, and the part-1 head ``ConvPart1``,
    65): 550,266 used. The released code reuses the global head for quadrant 1 and never calls ``ConvPart1``, a
    quirk; here the four quadrants have four distinct heads, hence 65 more than the used count, and no module is
    unused.

    Pooling, a departure from the released code: there each head averages the attended map :math:`X \odot A` over
    its :math:`n` positions, i.e. computes :math:`\frac1n \sum_i A_i X_i`, which is :math:`n` times smaller than the
    features because :math:`A` sums to 1 over the frame (:math:`n` = 256 for the global head at 128 x 128). The
    head's bias then dominates its output, and it never trains (the negative Pearson loss ignores offsets): in our
    check (random initialisation, a 1 x 3 x 8 x 32 x 32 clip) the global BVP varied about 1000 times less over
    time than its offset and rounded to a constant in bfloat16. Here the heads sum over the positions,
    :math:`\sum_i A_i X_i` (the attention-weighted mean of the features): the same family of functions, a head
    weight :math:`W` of the released model corresponding to :math:`W / n` here (:math:`n` = positions of the map
    the head pools: the whole stage-2 or stage-3 map, or one quadrant for the part heads).

    Gradients: every conv followed by a BatchNorm keeps its bias (as released, for the parameter count), but in
    training mode BN removes any per-channel constant, so those biases get an analytically zero gradient; so do the
    three heads' biases under :class:`~rppgblocks.losses.rppgnet_loss.RPPGNetLoss` (the negative Pearson loss is
    blind to offsets). Every other parameter is trained.

    Sizes: any clip length :math:`T \ge 1` (nothing resamples time; every output has the input's :math:`T`). Three
    spatial average pools floor :math:`H \to \lfloor H/2 \rfloor \to \lfloor H/4 \rfloor \to \lfloor H/8
    \rfloor`, and the partition constraint splits the last map into four equal quadrants, so :math:`\lfloor H/8
    \rfloor` and :math:`\lfloor W/8 \rfloor` must be positive and even: :math:`H, W \ge 16` with :math:`H \bmod 16
    < 8` (any multiple of 16 works). The skin map is at :math:`(\lfloor H/2 \rfloor, \lfloor W/2 \rfloor)`.

    Train with :class:`~rppgblocks.losses.rppgnet_loss.RPPGNetLoss`.

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        in_channels: Input channels (3 for RGB).
        stem_channels: Channels of the stem (16 in the paper).
        stage1_channels: :math:`C_1`, channels of stage 1, the input of the skin branch (32 in the paper).
        width: :math:`C_w`, channels of stages 2 and 3 (64 in the paper).
        skin_hidden_channels: Channels of the skin branch's main path (``(16, 8)`` in the paper).

    Raises:
        ValueError: If a channel count is not a positive integer.

    Shape:
        - Input: :math:`(B, C, T, H, W)`, :math:`T \ge 1`, :math:`H, W \ge 16`, :math:`H, W \bmod 16 < 8`
        - Output: :class:`RPPGNetOutput`; ``bvp``, ``bvp_mid``: :math:`(B, T)`; ``bvp_parts``: :math:`(B, 4, T)`;
          ``skin``, ``skin_logits``: :math:`(B, T, H/2, W/2)`; ``stage1_features``: :math:`(B, C_1, T, H/2, W/2)`;
          ``stage2_features``: :math:`(B, C_w, T, H/4, W/4)` (sizes floored)

    Examples:
        >>> import torch
        >>> model = RPPGNet().eval()
        >>> out = model(torch.rand(1, 3, 8, 32, 32))
        >>> out.bvp.shape, out.bvp_parts.shape, out.skin.shape
        (torch.Size([1, 8]), torch.Size([1, 4, 8]), torch.Size([1, 8, 16, 16]))
        >>> sum(p.numel() for p in model.parameters())
        550331
    """

    def __init__(
        self,
        *,
        in_channels: int = 3,
        stem_channels: int = 16,
        stage1_channels: int = 32,
        width: int = 64,
        skin_hidden_channels: tuple[int, int] = (16, 8),
    ) -> None:
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels")
        _positive_int(stem_channels, "stem_channels")
        self.stage1_channels = _positive_int(stage1_channels, "stage1_channels")
        self.width = _positive_int(width, "width")
        self.stem = nn.Sequential(
            nn.Conv3d(in_channels, stem_channels, (1, 5, 5), padding=(0, 2, 2)),
            nn.BatchNorm3d(stem_channels),
            nn.ReLU(inplace=True),
        )
        self.stage1 = nn.Sequential(
            _pool(), STBlock(stem_channels, stage1_channels), STBlock(stage1_channels, stage1_channels)
        )
        self.stage2 = nn.Sequential(_pool(), STBlock(stage1_channels, width), STBlock(width, width))
        self.stage3 = nn.Sequential(_pool(), STBlock(width, width), STBlock(width, width), STBlock(width, width))
        self.skin_branch = SkinSegmentationBranch(stage1_channels, hidden_channels=skin_hidden_channels)
        self.attention = SkinAttention()
        self.mid_head = nn.Conv3d(width, 1, kernel_size=1)
        self.global_head = nn.Conv3d(width, 1, kernel_size=1)
        # Four independent (C_w -> 1) heads as one grouped conv: group q sees only quadrant q's channels.
        self.part_heads = nn.Conv3d(_N_PARTS * width, _N_PARTS, kernel_size=1, groups=_N_PARTS)

    def _check_video(self, video: Tensor) -> None:
        check_shape(video, VIDEO, "video", c=self.in_channels)
        _, _, frames, height, width = video.shape
        if frames < 1:
            raise ShapeError("video", VIDEO, video.shape, f"T must be >= 1, got T={frames}")
        if height // 8 < 2 or width // 8 < 2 or (height // 8) % 2 or (width // 8) % 2:
            raise ShapeError(
                "video",
                VIDEO,
                video.shape,
                "three 2x spatial pools and the quadrant split need floor(H/8) and floor(W/8) positive and even "
                f"(H, W >= 16 with H mod 16 < 8, e.g. multiples of 16), got H={height}, W={width}",
            )

    def forward(self, video: Tensor) -> RPPGNetOutput:
        """Run rPPGNet on ``video`` ``(B, C, T, H, W)``; see :class:`RPPGNetOutput`."""
        self._check_video(video)
        stage1 = self.stage1(self.stem(video))
        stage2 = self.stage2(stage1)
        stage3 = self.stage3(stage2)
        skin_logits = self.skin_branch.logits(stage1)
        skin = torch.sigmoid(skin_logits)
        skin2 = F.avg_pool2d(skin, 2)  # (B, T, h, w): T acts as the channels
        skin3 = F.avg_pool2d(skin2, 2)
        attended2 = self.attention(stage2, skin2)
        attended3 = self.attention(stage3, skin3)
        bvp_mid = _signal(self.mid_head, attended2)
        bvp = _signal(self.global_head, attended3)
        quadrants = reduce(split_quadrants(attended3), "b q c t h w -> b (q c) t 1 1", "sum")
        bvp_parts = rearrange(self.part_heads(quadrants), "b q t 1 1 -> b q t")
        return RPPGNetOutput(bvp, bvp_mid, bvp_parts, skin, skin_logits, stage1, stage2)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return f"in_channels={self.in_channels}, stage1_channels={self.stage1_channels}, width={self.width}"


@register_model(
    input_size=(3, 64, 128, 128),
    input_normalization="Viola-Jones face crops resized to 128x128, RGB (value range not stated by the source)",
    paper="Yu, Peng, Zhao, ICCV 2019 (rPPGNet); spec architectures.md §3",
)
def rppgnet(**overrides: Any) -> RPPGNet:
    """rPPGNet as released: 64-frame 128x128 face clips, 64x64 skin maps (550,331 parameters; see RPPGNet).

    Examples:
        >>> from rppgblocks.models import create_model
        >>> create_model("rppgnet").width
        64
    """
    return RPPGNet(**overrides)
