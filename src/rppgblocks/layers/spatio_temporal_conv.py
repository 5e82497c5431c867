r"""The factorised (2+1)D convolution of R(2+1)D and rPPGNet's ST block built on it.

Source: Tran, Wang, Torresani, Ray, LeCun, Paluri, "A Closer Look at Spatiotemporal Convolutions for Action
Recognition", CVPR 2018, §3.5 (the mid-channel count :math:`M` that keeps the parameter count of the full 3D
convolution); used by rPPGNet (Yu, Peng, Zhao, ICCV 2019) as its "ST_Block"; rppgblocks spec ``architectures.md``
§3 ("ST_Block (R(2+1)D)").

A full :math:`k_t \times k_h \times k_w` convolution :math:`C_{in} \to C_{out}` is replaced by a spatial
:math:`1 \times k_h \times k_w` convolution :math:`C_{in} \to M`, BatchNorm, ReLU, and a temporal
:math:`k_t \times 1 \times 1` convolution :math:`M \to C_{out}`, with

.. math::
    M = \left\lfloor \frac{k_t k_h k_w \, C_{in} C_{out}}{k_h k_w \, C_{in} + k_t \, C_{out}} \right\rfloor,

so that the two kernels together hold (at most, and within one "row" of
:math:`k_h k_w C_{in} + k_t C_{out}` weights of) the :math:`k_t k_h k_w C_{in} C_{out}` weights of the full kernel.
"""

from __future__ import annotations

from torch import Tensor, nn

from rppgblocks._checks import check_shape
from rppgblocks.layout import FEATURES

__all__ = ["STBlock", "SpatioTemporalConv", "r2plus1d_mid_channels"]

Triple = tuple[int, int, int]


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return value


def _triple(value: int | tuple[int, ...], name: str, *, minimum: int = 1) -> Triple:
    """``value`` as a ``(t, h, w)`` triple of integers >= ``minimum``."""
    items = (value, value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(items, tuple)
        or len(items) != 3
        or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in items)
    ):
        raise ValueError(f"{name}: expected an integer >= {minimum} or a (t, h, w) triple of them, got {value!r}")
    return (items[0], items[1], items[2])


def r2plus1d_mid_channels(in_channels: int, out_channels: int, kernel_size: int | tuple[int, int, int] = 3) -> int:
    r"""Mid-channel count :math:`M` of a (2+1)D convolution (R(2+1)D, Tran et al., CVPR 2018, §3.5).

    :math:`M = \lfloor k_t k_h k_w C_{in} C_{out} / (k_h k_w C_{in} + k_t C_{out}) \rfloor`, at least 1, so that the
    factorised kernels hold about as many weights as the full :math:`k_t \times k_h \times k_w` kernel (spec §3).

    Args:
        in_channels: :math:`C_{in}`.
        out_channels: :math:`C_{out}`.
        kernel_size: :math:`k` or :math:`(k_t, k_h, k_w)` of the full convolution.

    Returns:
        :math:`M`, a positive integer.

    Raises:
        ValueError: If a channel count or kernel size is not a positive integer.

    Examples:
        >>> [r2plus1d_mid_channels(i, o) for i, o in ((16, 32), (32, 32), (32, 64), (64, 64))]  # spec §3
        [57, 72, 115, 144]
        >>> r2plus1d_mid_channels(512, 512)  # STVEN's bottleneck
        1152
    """
    cin = _positive_int(in_channels, "in_channels")
    cout = _positive_int(out_channels, "out_channels")
    kt, kh, kw = _triple(kernel_size, "kernel_size")
    return max(1, (kt * kh * kw * cin * cout) // (kh * kw * cin + kt * cout))


class SpatioTemporalConv(nn.Module):
    r"""A factorised (2+1)D convolution (R(2+1)D, CVPR 2018; rPPGNet's ``SpatioTemporalConv``, spec §3).

    Spatial :math:`1 \times k_h \times k_w` conv :math:`C_{in} \to M`, BatchNorm, ReLU, then temporal
    :math:`k_t \times 1 \times 1` conv :math:`M \to C_{out}`.
    There is no normalisation after the temporal convolution (wrap it in :class:`STBlock` for that). With
    ``kernel_size=3`` and the default padding the output has the input's :math:`(T, H, W)`. Parameters:
    :math:`M(k_h k_w C_{in} + 1) + 2M + M k_t C_{out} + C_{out}` with biases (both convolutions have one, as in the
    original).

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        in_channels: :math:`C_{in}`.
        out_channels: :math:`C_{out}`.
        kernel_size: :math:`k` or :math:`(k_t, k_h, k_w)` of the convolution being factorised.
        stride: :math:`s` or :math:`(s_t, s_h, s_w)`; the spatial conv takes :math:`(1, s_h, s_w)`, the temporal
            conv :math:`(s_t, 1, 1)`.
        padding: :math:`p` or :math:`(p_t, p_h, p_w)`, split the same way; default :math:`k // 2` per axis (size
            preserving for odd kernels and stride 1).
        mid_channels: :math:`M`; default :func:`r2plus1d_mid_channels`.
        bias: Whether both convolutions have a bias.

    Raises:
        ValueError: If a channel count, kernel size, stride or padding is invalid.

    Shape:
        - Input: :math:`(B, C_{in}, T, H, W)`
        - Output: :math:`(B, C_{out}, T', H', W')`, with the usual convolution arithmetic per axis
          (:math:`T' = T, H' = H, W' = W` for the defaults)

    Examples:
        >>> import torch
        >>> conv = SpatioTemporalConv(16, 32)
        >>> conv.mid_channels
        57
        >>> conv(torch.rand(2, 16, 4, 8, 8)).shape
        torch.Size([2, 32, 4, 8, 8])
        >>> sum(p.numel() for p in conv.parameters())  # 57*(144+1) + 2*57 + 57*96 + 32
        13883
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int, int] = 3,
        *,
        stride: int | tuple[int, int, int] = 1,
        padding: int | tuple[int, int, int] | None = None,
        mid_channels: int | None = None,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.out_channels = _positive_int(out_channels, "out_channels")
        kt, kh, kw = _triple(kernel_size, "kernel_size")
        st, sh, sw = _triple(stride, "stride")
        pt, ph, pw = (kt // 2, kh // 2, kw // 2) if padding is None else _triple(padding, "padding", minimum=0)
        if mid_channels is None:
            mid_channels = r2plus1d_mid_channels(in_channels, out_channels, (kt, kh, kw))
        self.mid_channels = _positive_int(mid_channels, "mid_channels")
        self.kernel_size: Triple = (kt, kh, kw)
        self.spatial_conv = nn.Conv3d(
            in_channels, self.mid_channels, (1, kh, kw), stride=(1, sh, sw), padding=(0, ph, pw), bias=bias
        )
        self.norm = nn.BatchNorm3d(self.mid_channels)
        self.act = nn.ReLU(inplace=True)
        self.temporal_conv = nn.Conv3d(
            self.mid_channels, out_channels, (kt, 1, 1), stride=(st, 1, 1), padding=(pt, 0, 0), bias=bias
        )

    def forward(self, features: Tensor) -> Tensor:
        """Convolve ``features`` ``(B, C_in, T, H, W)``."""
        check_shape(features, FEATURES, "features", c=self.in_channels)
        out: Tensor = self.temporal_conv(self.act(self.norm(self.spatial_conv(features))))
        return out

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, mid_channels={self.mid_channels}"
        )


class STBlock(nn.Module):
    r"""rPPGNet's ST block: :class:`SpatioTemporalConv`, then BatchNorm and ReLU (spec §3, "ST_Block").

    Parameters with the defaults: those of the (2+1)D conv plus :math:`2 C_{out}`; e.g. 13,947 for 16 -> 32,
    27,960 for 32 -> 32, 55,737 for 32 -> 64 and 111,216 for 64 -> 64 (spec §3's table).

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        in_channels: :math:`C_{in}`.
        out_channels: :math:`C_{out}`.
        kernel_size: :math:`k` or :math:`(k_t, k_h, k_w)` of the factorised convolution.
        stride: Stride of the factorised convolution (see :class:`SpatioTemporalConv`).
        padding: Padding of the factorised convolution; default :math:`k // 2` per axis.
        mid_channels: :math:`M`; default :func:`r2plus1d_mid_channels`.
        bias: Whether the convolutions have a bias (the original's do).

    Raises:
        ValueError: If a channel count, kernel size, stride or padding is invalid.

    Shape:
        - Input: :math:`(B, C_{in}, T, H, W)`
        - Output: :math:`(B, C_{out}, T, H, W)` with the defaults

    Examples:
        >>> import torch
        >>> block = STBlock(64, 64)
        >>> block(torch.rand(1, 64, 3, 4, 4)).shape
        torch.Size([1, 64, 3, 4, 4])
        >>> sum(p.numel() for p in block.parameters())
        111216
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int, int] = 3,
        *,
        stride: int | tuple[int, int, int] = 1,
        padding: int | tuple[int, int, int] | None = None,
        mid_channels: int | None = None,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.conv = SpatioTemporalConv(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            mid_channels=mid_channels,
            bias=bias,
        )
        self.norm = nn.BatchNorm3d(out_channels)
        self.act = nn.ReLU(inplace=True)

    @property
    def in_channels(self) -> int:
        """:math:`C_{in}`."""
        return self.conv.in_channels

    @property
    def out_channels(self) -> int:
        """:math:`C_{out}`."""
        return self.conv.out_channels

    def forward(self, features: Tensor) -> Tensor:
        """Apply the block to ``features`` ``(B, C_in, T, H, W)``."""
        out: Tensor = self.act(self.norm(self.conv(features)))
        return out
