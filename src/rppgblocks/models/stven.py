r"""STVEN: the Spatio-Temporal Video Enhancement Network, conditioned on a target compression level.

Source: Yu, Peng, Zhao, "Remote Heart Rate Measurement from Highly Compressed Facial Videos: an End-to-end Deep
Learning Solution with Video Enhancement", ICCV 2019 (arXiv 1907.11921), §3.2 (STVEN); rppgblocks spec
``architectures.md`` §4, written from that description.

STVEN maps a clip and a *target* compression level :math:`k` to the clip at that level: :math:`G(c_j, 0)` restores
a compressed clip towards the original, :math:`G(c_0, k)` degrades an original clip to level :math:`k`. The level
is a one-hot code :math:`c \in \{0, 1\}^K` tiled over :math:`(T, H, W)` and concatenated to the clip as :math:`K`
extra channels (StarGAN-style conditioning). Encoder: a :math:`3 \times 7 \times 7` conv, then two strided convs
(spatial /2, then space and time /2); bottleneck: four chained (2+1)D convolutions
(:class:`~rppgblocks.layers.spatio_temporal_conv.SpatioTemporalConv`); decoder: two transposed convs mirroring the
encoder and a :math:`1 \times 7 \times 7` conv with tanh, added to the input clip (a global residual). Every encoder
and decoder conv is followed by an InstanceNorm (affine, with running statistics) and a ReLU, except the last.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from rppgblocks._checks import check_shape, check_tensor, is_compiling
from rppgblocks.errors import ShapeError
from rppgblocks.layers.spatio_temporal_conv import SpatioTemporalConv
from rppgblocks.layout import VIDEO
from rppgblocks.models._registry import register_model

__all__ = ["STVEN", "stven", "stven_condition"]


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return value


def _norm(channels: int) -> nn.InstanceNorm3d:
    return nn.InstanceNorm3d(channels, affine=True, track_running_stats=True)


def _conv_block(
    conv: type[nn.Conv3d] | type[nn.ConvTranspose3d],
    in_channels: int,
    out_channels: int,
    kernel: tuple[int, int, int],
    stride: tuple[int, int, int],
    padding: tuple[int, int, int],
) -> nn.Sequential:
    """``conv`` (no bias) -> InstanceNorm (affine, running statistics) -> ReLU."""
    return nn.Sequential(
        conv(in_channels, out_channels, kernel, stride=stride, padding=padding, bias=False),
        _norm(out_channels),
        nn.ReLU(inplace=True),
    )


def stven_condition(level: Tensor | int, num_levels: int, batch_size: int) -> Tensor:
    r"""The condition code :math:`c` of STVEN for target compression ``level`` (spec §4, "Condition injection").

    An integer level (or a ``(B,)`` integer tensor of levels) becomes a one-hot code; a floating ``(B, K)`` tensor
    is taken as the code itself (e.g. the released code's float one-hot vectors, or a mixture of levels).

    Args:
        level: The target level: a Python ``int`` (the same for the whole batch), an integer tensor ``(B,)``, or a
            floating code ``(B, K)``. Level 0 is the original (least compressed) video, higher levels are stronger
            compression.
        num_levels: :math:`K`, the number of levels (the length of the code).
        batch_size: :math:`B`, used to expand an ``int`` level and to check a tensor's batch size.

    Returns:
        The code, ``(B, K)``, float32 for integer levels (a floating code is returned as it is).

    Raises:
        ValueError: If an integer level is outside ``[0, K)`` (for tensors, checked outside ``torch.compile``
            only; out-of-range values give an all-zero code under compilation).
        TypeError: If ``level`` is neither an ``int`` nor a tensor.
        ShapeError: If a tensor level has the wrong shape or batch size.

    Shape:
        - level: :math:`()` (``int``), :math:`(B,)` integer or :math:`(B, K)` floating
        - Output: :math:`(B, K)`

    Examples:
        >>> stven_condition(torch.tensor([0, 2]), num_levels=3, batch_size=2)
        tensor([[1., 0., 0.],
                [0., 0., 1.]])
        >>> stven_condition(1, num_levels=3, batch_size=1)
        tensor([[0., 1., 0.]])
    """
    if isinstance(level, bool) or not isinstance(level, (int, Tensor)):
        raise TypeError(f"level: expected an int or a torch.Tensor, got {type(level).__name__}")
    if isinstance(level, int):
        if not 0 <= level < num_levels:
            raise ValueError(f"level: expected an integer in [0, {num_levels}), got {level}")
        level = torch.full((batch_size,), level, dtype=torch.long)
    check_tensor(level, "level")
    if level.is_floating_point():
        check_shape(level, "b k", "level", k=num_levels)
        if level.shape[0] != batch_size:
            raise ShapeError("level", (batch_size, num_levels), level.shape, "batch size must match the video's")
        return level
    check_shape(level, "b", "level")
    if level.shape[0] != batch_size:
        raise ShapeError("level", (batch_size,), level.shape, "batch size must match the video's")
    if not is_compiling() and level.numel() and not bool(((level >= 0) & (level < num_levels)).all()):
        raise ValueError(
            f"level: expected integers in [0, {num_levels}), got values in [{int(level.min())}, {int(level.max())}]"
        )
    levels = torch.arange(num_levels, device=level.device)
    return (level[:, None] == levels).to(torch.float32)


class STVEN(nn.Module):
    r"""STVEN (ICCV 2019, §3.2): a video-to-video network that moves a clip to a target compression level.

    ``model(video, level)`` returns :math:`G(\text{video}, \text{level})`. For enhancement, feed a compressed clip
    with ``level=0`` (the default): :math:`G(c_k, 0)` estimates the original clip :math:`c_0`. Train with
    :class:`~rppgblocks.losses.stven_loss.STVENLoss` (reconstruction + cycle losses, both directions), then jointly
    with rPPGNet through :class:`~rppgblocks.losses.stven_loss.STVENRPPGNetLoss`.

    Layers (spec §4's table; defaults :math:`C_1, C_2, C_3 = 64, 128, 512` and :math:`K = 5`; "IN" =
    InstanceNorm3d, affine, ``track_running_stats=True``, so eval mode uses running statistics; no conv has a bias):

    - condition: concatenate the code :math:`c`, tiled over :math:`(T, H, W)` -> :math:`(C + K, T, H, W)`;
    - ``encoder.stem``: conv :math:`C + K \to C_1`, kernel :math:`3 \times 7 \times 7`, padding (1, 3, 3); IN; ReLU
      -> :math:`(C_1, T, H, W)`;
    - ``encoder.down1``: conv :math:`C_1 \to C_2`, kernel :math:`3 \times 4 \times 4`, stride (1, 2, 2), padding 1;
      IN; ReLU -> :math:`(C_2, T, H/2, W/2)`;
    - ``encoder.down2``: conv :math:`C_2 \to C_3`, kernel :math:`4 \times 4 \times 4`, stride 2, padding 1; IN;
      ReLU -> :math:`(C_3, T/2, H/4, W/4)`;
    - ``bottleneck``: ``num_blocks`` chained (2+1)D convs :math:`C_3 \to C_3` (:math:`M = 1152` for
      :math:`C_3 = 512`), with no outer norm, activation or skip -> same shape;
    - ``decoder.up1``: transposed conv :math:`C_3 \to C_2`, kernel :math:`4 \times 4 \times 4`, stride 2, padding
      1; IN; ReLU -> :math:`(C_2, T, H/2, W/2)`;
    - ``decoder.up2``: transposed conv :math:`C_2 \to C_1`, kernel :math:`1 \times 4 \times 4`, stride (1, 2, 2),
      padding (0, 1, 1); IN; ReLU -> :math:`(C_1, T, H, W)`;
    - ``decoder.head``: conv :math:`C_1 \to C`, kernel :math:`1 \times 7 \times 7`, padding (0, 3, 3); tanh;
    - output: ``decoder.head``'s output plus the input clip (a global residual) -> :math:`(C, T, H, W)`.

    With the defaults it has **37,326,784** parameters (spec §4: encoder + bottleneck 32,991,616, of which the
    bottleneck 28,327,424; ``up1`` 4,194,560; ``up2`` 131,200; head 9,408). The value range is not stated by the
    source; the tanh plus residual suggests clips in :math:`[-1, 1]` (not enforced; the output is not clamped).

    Conditioning: ``level`` is a Python ``int``, a ``(B,)`` integer tensor (one level per sample) or a floating
    ``(B, K)`` code; see :func:`stven_condition`. Level 0 is the original (least compressed) video and higher levels
    are stronger compression (the spec's reading of the paper; what each level means, codec and bit rate, is up to
    the training data, e.g. :func:`rppgblocks.data.compression.compress_video`).

    The code is constant over :math:`(T, H, W)`; in training mode the stem's InstanceNorm removes a constant per
    channel, so the code acts there only through the convolution's zero padding at the clip's borders (and through the
    running statistics in eval mode), as in StarGAN's design; the level does change the output (see the tests).

    Gradients: the bottleneck's (2+1)D convs have a BatchNorm between their spatial and temporal conv (as
    released); in training mode the spatial convs' biases are therefore cancelled and get a zero gradient. Every
    other parameter is trained.

    Autograd, ``torch.compile`` (``fullgraph=True``) and ``torch.export`` supported.

    Args:
        in_channels: :math:`C`, the clip's channels (3 for RGB).
        num_levels: :math:`K`, the number of compression levels (the length of the one-hot code; 5 as released).
        channels: :math:`(C_1, C_2, C_3)`, the widths of the stem, the first and the second downsampling stage
            (``(64, 128, 512)`` as released; note the x4 jump at the second stage).
        num_blocks: The number of (2+1)D convs in the bottleneck (4 as released).

    Raises:
        ValueError: If a channel count or ``num_blocks`` is not a positive integer; in ``forward``, if a level is
            out of range (checked outside ``torch.compile`` only).
        ShapeError: In ``forward``, if ``video`` is not :math:`(B, C, T, H, W)` with :math:`T` even and
            :math:`H, W` multiples of 4 (all positive), or ``level`` does not fit the batch.

    Shape:
        - video: :math:`(B, C, T, H, W)`, :math:`T \ge 2` even, :math:`H, W \ge 4` multiples of 4
        - level: ``int``, :math:`(B,)` integer or :math:`(B, K)` floating
        - Output: :math:`(B, C, T, H, W)`

    Examples:
        >>> import torch
        >>> model = STVEN(channels=(8, 16, 32)).eval()
        >>> compressed = torch.rand(2, 3, 4, 16, 16) * 2 - 1
        >>> model(compressed).shape  # level 0: restore towards the original
        torch.Size([2, 3, 4, 16, 16])
        >>> model(compressed, torch.tensor([1, 4])).shape  # degrade sample 0 to level 1, sample 1 to level 4
        torch.Size([2, 3, 4, 16, 16])
        >>> sum(p.numel() for p in STVEN().parameters())
        37326784
    """

    def __init__(
        self,
        *,
        in_channels: int = 3,
        num_levels: int = 5,
        channels: tuple[int, int, int] = (64, 128, 512),
        num_blocks: int = 4,
    ) -> None:
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.num_levels = _positive_int(num_levels, "num_levels")
        if not isinstance(channels, tuple) or len(channels) != 3:
            raise ValueError(f"channels: expected a tuple of three positive integers, got {channels!r}")
        c1, c2, c3 = (_positive_int(c, "channels") for c in channels)
        self.channels = (c1, c2, c3)
        self.num_blocks = _positive_int(num_blocks, "num_blocks")
        self.encoder = nn.Sequential()
        self.encoder.add_module(
            "stem", _conv_block(nn.Conv3d, in_channels + num_levels, c1, (3, 7, 7), (1, 1, 1), (1, 3, 3))
        )
        self.encoder.add_module("down1", _conv_block(nn.Conv3d, c1, c2, (3, 4, 4), (1, 2, 2), (1, 1, 1)))
        self.encoder.add_module("down2", _conv_block(nn.Conv3d, c2, c3, (4, 4, 4), (2, 2, 2), (1, 1, 1)))
        self.bottleneck = nn.Sequential(*(SpatioTemporalConv(c3, c3) for _ in range(num_blocks)))
        self.decoder = nn.Sequential()
        self.decoder.add_module("up1", _conv_block(nn.ConvTranspose3d, c3, c2, (4, 4, 4), (2, 2, 2), (1, 1, 1)))
        self.decoder.add_module("up2", _conv_block(nn.ConvTranspose3d, c2, c1, (1, 4, 4), (1, 2, 2), (0, 1, 1)))
        self.decoder.add_module(
            "head", nn.Sequential(nn.Conv3d(c1, in_channels, (1, 7, 7), padding=(0, 3, 3), bias=False), nn.Tanh())
        )

    def _check_video(self, video: Tensor) -> None:
        check_shape(video, VIDEO, "video", c=self.in_channels)
        _, _, frames, height, width = video.shape
        if frames < 2 or frames % 2 or height < 4 or height % 4 or width < 4 or width % 4:
            raise ShapeError(
                "video",
                VIDEO,
                video.shape,
                "STVEN halves T once and H, W twice and restores them exactly, so T must be even and H, W "
                f"multiples of 4 (all positive), got T={frames}, H={height}, W={width}",
            )

    def condition(self, video: Tensor, level: Tensor | int = 0) -> Tensor:
        """The network's input: ``video`` with the tiled condition code of ``level`` concatenated as channels.

        Args:
            video: The clip ``(B, C, T, H, W)``.
            level: The target level(s); see :func:`stven_condition`.

        Returns:
            ``(B, C + K, T, H, W)``.

        Examples:
            >>> model = STVEN(num_levels=5, channels=(4, 4, 4))
            >>> x = model.condition(torch.zeros(1, 3, 2, 4, 4), 2)
            >>> x.shape, x[0, 3:, 0, 0, 0].tolist()
            (torch.Size([1, 8, 2, 4, 4]), [0.0, 0.0, 1.0, 0.0, 0.0])
        """
        self._check_video(video)
        batch, _, frames, height, width = video.shape
        code = stven_condition(level, self.num_levels, batch).to(device=video.device, dtype=video.dtype)
        tiled = code[:, :, None, None, None].expand(batch, self.num_levels, frames, height, width)
        return torch.cat([video, tiled], dim=1)

    def forward(self, video: Tensor, level: Tensor | int = 0) -> Tensor:
        """Move ``video`` ``(B, C, T, H, W)`` to compression ``level`` (default 0: restore); returns the same shape."""
        residual: Tensor = self.decoder(self.bottleneck(self.encoder(self.condition(video, level))))
        return video + residual

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return (
            f"in_channels={self.in_channels}, num_levels={self.num_levels}, channels={self.channels}, "
            f"num_blocks={self.num_blocks}"
        )


@register_model(
    input_size=(3, 64, 128, 128),
    input_normalization="RGB face crops resized to 128x128, in [-1, 1] (inferred from tanh + residual; not stated)",
    paper="Yu, Peng, Zhao, ICCV 2019 (STVEN, §3.2); spec architectures.md §4",
)
def stven(**overrides: Any) -> STVEN:
    """STVEN as released: 64-frame 128x128 clips, 5 compression levels (37,326,784 parameters; see STVEN).

    Examples:
        >>> from rppgblocks.models import create_model
        >>> import rppgblocks.models.stven  # registers the preset
        >>> create_model("stven", channels=(8, 16, 32)).num_levels
        5
    """
    return STVEN(**overrides)
