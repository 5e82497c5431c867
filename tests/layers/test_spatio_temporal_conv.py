from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from rppgblocks.errors import ShapeError
from rppgblocks.layers.spatio_temporal_conv import SpatioTemporalConv, STBlock, r2plus1d_mid_channels

channels = st.integers(1, 96)
kernels = st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5))


def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_mid_channels_and_parameter_counts_match_the_spec_table() -> None:
    pairs = [(16, 32), (32, 32), (32, 64), (64, 64)]
    assert [r2plus1d_mid_channels(i, o) for i, o in pairs] == [57, 72, 115, 144]
    assert [_n_params(STBlock(i, o)) for i, o in pairs] == [13_947, 27_960, 55_737, 111_216]
    assert r2plus1d_mid_channels(512, 512) == 1152  # STVEN's bottleneck (spec §4)


@given(channels, channels, kernels)
def test_factorised_weights_match_the_full_kernel_within_one_row(cin: int, cout: int, k: tuple[int, int, int]) -> None:
    """M (kh kw Cin + kt Cout) <= kt kh kw Cin Cout < (M + 1)(kh kw Cin + kt Cout): M is the floor of the ratio."""
    kt, kh, kw = k
    full = kt * kh * kw * cin * cout
    row = kh * kw * cin + kt * cout
    m = r2plus1d_mid_channels(cin, cout, k)
    assert m == max(1, full // row)
    if full >= row:
        assert m * row <= full < (m + 1) * row
    conv = SpatioTemporalConv(cin, cout, k)
    assert conv.spatial_conv.weight.numel() + conv.temporal_conv.weight.numel() == m * row


@given(channels, channels)
def test_st_block_parameters_equal_a_full_3x3x3_conv_block_up_to_the_floor(cin: int, cout: int) -> None:
    """STBlock vs Conv3d(3x3x3) + BN: the difference is the floor's remainder (< one row) plus M's bias and BN."""
    m = r2plus1d_mid_channels(cin, cout)
    row = 9 * cin + 3 * cout
    full = _n_params(nn.Conv3d(cin, cout, 3)) + _n_params(nn.BatchNorm3d(cout))
    factorised = _n_params(STBlock(cin, cout))
    assert factorised == full - (27 * cin * cout - m * row) + 3 * m
    if 27 * cin * cout >= row:
        assert full - row + 3 * m < factorised <= full + 3 * m


@given(
    st.integers(1, 2),
    st.integers(1, 4),
    st.integers(1, 4),
    kernels,
    st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 2)),
    st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.integers(5, 8), st.integers(5, 8), st.integers(5, 8)),
)
def test_output_shape_equals_the_full_convolutions(
    b: int,
    cin: int,
    cout: int,
    k: tuple[int, int, int],
    stride: tuple[int, int, int],
    padding: tuple[int, int, int],
    size: tuple[int, int, int],
) -> None:
    x = torch.randn(b, cin, *size)
    conv = SpatioTemporalConv(cin, cout, k, stride=stride, padding=padding)
    full = nn.Conv3d(cin, cout, k, stride=stride, padding=padding)
    assert conv(x).shape == full(x).shape


@given(st.integers(1, 6), st.integers(1, 6), st.sampled_from([1, 3, 5]), st.integers(1, 5), st.integers(1, 6))
def test_default_padding_preserves_the_size(cin: int, cout: int, k: int, t: int, hw: int) -> None:
    assert STBlock(cin, cout, k)(torch.randn(2, cin, t, hw, hw)).shape == (2, cout, t, hw, hw)


def test_forward_is_spatial_conv_bn_relu_temporal_conv() -> None:
    torch.manual_seed(0)
    conv = SpatioTemporalConv(3, 5, (3, 5, 3), mid_channels=4).double().eval()
    assert conv.norm.running_mean is not None and conv.norm.running_var is not None
    with torch.no_grad():
        conv.norm.running_mean.normal_()
        conv.norm.running_var.uniform_(0.5, 2.0)
        conv.norm.weight.normal_()
        conv.norm.bias.normal_()
    x = torch.randn(2, 3, 4, 6, 7, dtype=torch.float64)
    mid = F.conv3d(x, conv.spatial_conv.weight, conv.spatial_conv.bias, padding=(0, 2, 1))
    mid = F.relu(F.batch_norm(mid, conv.norm.running_mean, conv.norm.running_var, conv.norm.weight, conv.norm.bias))
    expected = F.conv3d(mid, conv.temporal_conv.weight, conv.temporal_conv.bias, padding=(1, 0, 0))
    assert conv.spatial_conv.weight.shape == (4, 3, 1, 5, 3)
    assert conv.temporal_conv.weight.shape == (5, 4, 3, 1, 1)
    torch.testing.assert_close(conv(x), expected)


@given(st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)), st.integers(0, 2**16))
def test_receptive_field_is_the_kernel_window(k: tuple[int, int, int], seed: int) -> None:
    """An output voxel depends only on the kt x kh x kw input window around it: time and space are not mixed up."""
    torch.manual_seed(seed)
    kt, kh, kw = (2 * k[0] + 1, 2 * k[1] - 1, 2 * k[2] - 1)
    conv = SpatioTemporalConv(2, 2, (kt, kh, kw), mid_channels=4).double().eval()
    with torch.no_grad():
        conv.norm.bias.fill_(50.0)  # keep the ReLU active, so that the whole window is reached
    x = torch.randn(1, 2, 9, 9, 9, dtype=torch.float64, requires_grad=True)
    conv(x)[0, :, 4, 4, 4].sum().backward()
    assert x.grad is not None
    reached = x.grad.abs().sum(dim=(0, 1)) > 0
    window = torch.zeros(9, 9, 9, dtype=torch.bool)
    window[4 - kt // 2 : 5 + kt // 2, 4 - kh // 2 : 5 + kh // 2, 4 - kw // 2 : 5 + kw // 2] = True
    assert torch.equal(reached, window)


def test_gradcheck_float64() -> None:
    torch.manual_seed(0)
    conv = SpatioTemporalConv(2, 3, mid_channels=3).double()  # training mode: batch statistics
    x = torch.randn(2, 2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(conv, (x,))


def test_compile_and_export_match_eager() -> None:
    torch.manual_seed(0)
    block = STBlock(3, 4).eval()
    x = torch.randn(1, 3, 4, 6, 6)
    with torch.no_grad():
        eager = block(x)
        compiled = torch.compile(block, fullgraph=True, backend="aot_eager")(x)
        exported = torch.export.export(block, (x,)).module()(x)
    torch.testing.assert_close(compiled, eager)
    torch.testing.assert_close(exported, eager)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_forward_is_finite(dtype: torch.dtype) -> None:
    block = STBlock(3, 4).eval()
    x = torch.randn(1, 3, 4, 6, 6)
    with torch.no_grad():
        reference = block(x)
        low = block.to(dtype)(x.to(dtype))
    assert low.dtype == dtype and torch.isfinite(low).all()
    torch.testing.assert_close(low.float(), reference, rtol=0.05, atol=0.05)


def test_errors_name_argument_and_shapes() -> None:
    conv = SpatioTemporalConv(16, 32)
    with pytest.raises(ShapeError, match=r"features: expected shape \(b 16 t h w\), got \(1, 8, 4, 8, 8\)"):
        conv(torch.zeros(1, 8, 4, 8, 8))
    with pytest.raises(ShapeError, match=r"features: expected shape \(b c t h w\), got \(16, 4, 8, 8\)"):
        STBlock(16, 32)(torch.zeros(16, 4, 8, 8))
    with pytest.raises(ValueError, match="in_channels: expected a positive integer, got 0"):
        SpatioTemporalConv(0, 4)
    with pytest.raises(ValueError, match="kernel_size"):
        SpatioTemporalConv(4, 4, (3, 3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="padding"):
        STBlock(4, 4, padding=-1)
    with pytest.raises(ValueError, match="mid_channels"):
        STBlock(4, 4, mid_channels=0)
    with pytest.raises(ValueError, match="out_channels"):
        r2plus1d_mid_channels(4, True)
