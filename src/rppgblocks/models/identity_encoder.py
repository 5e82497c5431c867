"""The 2D identity (facial contour) encoder of rFaceNet: a ResNet-style CNN with a tapped feature stage.

Source: rFaceNet, arXiv 2403.09034, §3.1-§3.2 (TCU -> 2D feature extractor -> identity classifier); the paper leaves
the extractor unspecified, so rppgblocks follows its spec's resolution (``architectures.md`` §2.3): a ResNet-18
layout (He et al., "Deep residual learning for image recognition", CVPR 2016) trained from scratch, whose tapped
stage feeds the CTFC.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from einops import reduce
from torch import Tensor, nn

from rppgblocks._checks import check_shape
from rppgblocks.layout import IMAGE

__all__ = ["IdentityEncoder", "IdentityEncoderOutput"]


class _BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet's basic block)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        result: Tensor = self.relu(out + self.shortcut(x))
        return result


class IdentityEncoderOutput(NamedTuple):
    """What :class:`IdentityEncoder` returns.

    Attributes:
        feature_map: The tapped stage's output :math:`FM_i`, ``(B, C_i, h, w)``.
        logits: Identity logits, ``(B, num_classes)``.

    Examples:
        >>> import torch
        >>> out = IdentityEncoder(num_classes=3, widths=(4, 8), depths=(1, 1), tap_stage=2)(torch.rand(1, 3, 32, 32))
        >>> out.feature_map.shape, out.logits.shape
        (torch.Size([1, 8, 4, 4]), torch.Size([1, 3]))
    """

    feature_map: Tensor
    logits: Tensor


class IdentityEncoder(nn.Module):
    r"""A ResNet-style 2D CNN returning a tapped feature map and identity logits.

    Stem: 7x7 stride-2 convolution, BN, ReLU, 3x3 stride-2 max-pool; then ``len(depths)`` stages of basic residual
    blocks, the first at stride 1 and each later one halving the resolution. Stage ``k`` (1-based) therefore has
    stride :math:`2^{k+1}` (4, 8, 16, 32 for ResNet-18). The classifier is a global average pool over the last stage
    and a linear layer. With the defaults (ResNet-18 widths and depths) the layer3 map of a 144 x 144 image is 9 x 9,
    the size of PhysNet's :math:`M_3` for 72 x 72 clips (spec §2.3).

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        num_classes: Number of identities (subjects in the training split).
        in_channels: Image channels.
        widths: Channels per stage.
        depths: Residual blocks per stage.
        tap_stage: The stage (1-based) whose output is returned as the feature map.

    Raises:
        ValueError: If an argument is not a positive integer, ``widths`` and ``depths`` differ in length, or
            ``tap_stage`` is out of range.

    Shape:
        - Input: :math:`(B, C, H, W)`
        - feature_map: :math:`(B, \mathrm{widths}[k-1], H / 2^{k+1}, W / 2^{k+1})` for ``tap_stage`` :math:`k`
        - logits: :math:`(B, \mathrm{num\_classes})`

    Examples:
        >>> import torch
        >>> encoder = IdentityEncoder(num_classes=10, tap_stage=3)
        >>> out = encoder(torch.rand(2, 3, 144, 144))
        >>> out.feature_map.shape, out.logits.shape
        (torch.Size([2, 256, 9, 9]), torch.Size([2, 10]))
    """

    def __init__(
        self,
        num_classes: int,
        *,
        in_channels: int = 3,
        widths: Sequence[int] = (64, 128, 256, 512),
        depths: Sequence[int] = (2, 2, 2, 2),
        tap_stage: int = 3,
    ) -> None:
        super().__init__()
        widths, depths = tuple(widths), tuple(depths)
        for name, values in (
            ("num_classes", (num_classes,)),
            ("in_channels", (in_channels,)),
            ("widths", widths),
            ("depths", depths),
        ):
            if not values or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in values):
                raise ValueError(
                    f"{name}: expected positive integer(s), got {values if len(values) > 1 else values[0]!r}"
                )
        if len(widths) != len(depths):
            raise ValueError(f"widths, depths: expected the same length, got {len(widths)} and {len(depths)}")
        if isinstance(tap_stage, bool) or not isinstance(tap_stage, int) or not 1 <= tap_stage <= len(widths):
            raise ValueError(f"tap_stage: expected an integer in 1..{len(widths)}, got {tap_stage!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.widths = widths
        self.tap_stage = tap_stage
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        stages = []
        previous = widths[0]
        for index, (width, depth) in enumerate(zip(widths, depths, strict=True)):
            blocks = [_BasicBlock(previous, width, stride=1 if index == 0 else 2)]
            blocks += [_BasicBlock(width, width, stride=1) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
            previous = width
        self.stages = nn.ModuleList(stages)
        self.classifier = nn.Linear(widths[-1], num_classes)

    @property
    def feature_channels(self) -> int:
        """Channels :math:`C_i` of the tapped feature map."""
        return self.widths[self.tap_stage - 1]

    @staticmethod
    def stage_stride(stage: int) -> int:
        """Spatial stride of stage ``stage`` (1-based): :math:`2^{stage+1}`."""
        return 1 << (stage + 1)

    def forward(self, image: Tensor) -> IdentityEncoderOutput:
        """Encode ``image`` ``(B, C, H, W)`` into the tapped feature map and identity logits."""
        check_shape(image, IMAGE, "image", c=self.in_channels)
        x = self.stem(image)
        tapped = x
        for index, stage in enumerate(self.stages, start=1):
            x = stage(x)
            if index == self.tap_stage:
                tapped = x
        logits = self.classifier(reduce(x, "b c h w -> b c", "mean"))
        return IdentityEncoderOutput(tapped, logits)
