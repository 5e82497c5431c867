from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import CTFC, CrossTaskFeatureCombiner, ShapeError

dims = st.tuples(
    st.integers(1, 3),  # batch
    st.integers(1, 8),  # identity channels
    st.integers(1, 8),  # rppg channels
    st.integers(1, 6),  # T_r
    st.integers(1, 9),  # H_r
    st.integers(1, 9),  # W_r
    st.integers(1, 12),  # h
    st.integers(1, 12),  # w
)


def _eq_1_2(ctfc: CrossTaskFeatureCombiner, fm_i: torch.Tensor, fm_r: torch.Tensor) -> torch.Tensor:
    """Eq. 1-2 literally: upsample, repeat over time, then the 1x1x1 convolutions and the weighted sum."""
    t, h, w = fm_r.shape[-3:]
    up = F.interpolate(fm_i, size=(h, w), mode="bilinear", align_corners=False)
    repeated = up.unsqueeze(2).repeat(1, 1, t, 1, 1)
    conv_i = ctfc.identity_conv
    weight_i = conv_i.weight[..., None]  # (C_r, C_i, 1, 1, 1)
    identity = F.conv3d(repeated, weight_i, conv_i.bias)
    assert ctfc.second_conv is not None
    return ctfc.weights[0] * identity + ctfc.weights[1] * ctfc.second_conv(fm_r)


@given(dims)
def test_output_shape_is_the_rppg_maps_for_any_identity_size(d: tuple[int, ...]) -> None:
    b, ci, cr, t, hr, wr, h, w = d
    ctfc = CTFC(ci, cr)
    out = ctfc(torch.randn(b, ci, h, w), torch.randn(b, cr, t, hr, wr))
    assert out.shape == (b, cr, t, hr, wr)


@given(dims, st.integers(0, 2**16))
def test_equals_equations_1_and_2(d: tuple[int, ...], seed: int) -> None:
    b, ci, cr, t, hr, wr, h, w = d
    torch.manual_seed(seed)
    ctfc = CTFC(ci, cr).double()
    with torch.no_grad():
        ctfc.second_conv.weight.normal_()  # type: ignore[union-attr]
        ctfc.identity_conv.weight.normal_()
        ctfc.identity_conv.bias.normal_()
        ctfc.weights.copy_(torch.tensor([0.7, -1.3]))
    fm_i, fm_r = torch.randn(b, ci, h, w, dtype=torch.float64), torch.randn(b, cr, t, hr, wr, dtype=torch.float64)
    torch.testing.assert_close(ctfc(fm_i, fm_r), _eq_1_2(ctfc, fm_i, fm_r))


@given(dims)
def test_with_identity_path_zeroed_output_depends_on_rppg_map_alone(d: tuple[int, ...]) -> None:
    b, ci, cr, t, hr, wr, h, w = d
    ctfc = CTFC(ci, cr)
    with torch.no_grad():
        ctfc.weights[0] = 0.0
    fm_r = torch.randn(b, cr, t, hr, wr)
    a = ctfc(torch.randn(b, ci, h, w), fm_r)
    c = ctfc(100 * torch.randn(b, ci, h, w), fm_r)
    torch.testing.assert_close(a, c)
    torch.testing.assert_close(a, fm_r)  # Conv_r starts as the identity and beta as 1


def test_id_only_mode_passes_rppg_map_unchanged() -> None:
    ctfc = CTFC(4, 6, mode="id_only")
    assert ctfc.second_conv is None
    fm_r = torch.randn(2, 6, 3, 5, 5)
    with torch.no_grad():
        ctfc.weights[0] = 0.0
    torch.testing.assert_close(ctfc(torch.randn(2, 4, 3, 3), fm_r), fm_r)


def test_starts_as_the_identity_map_of_the_rppg_features() -> None:
    ctfc = CTFC(5, 4)
    fm_r = torch.randn(2, 4, 3, 6, 6)
    torch.testing.assert_close(ctfc(torch.randn(2, 5, 3, 3), fm_r), fm_r)


@pytest.mark.parametrize("learnable", [False, True])
def test_every_parameter_gets_a_gradient_from_the_first_step(learnable: bool) -> None:
    ctfc = CTFC(3, 2, learnable_weights=learnable)
    fm_i, fm_r = torch.randn(2, 3, 2, 3), torch.randn(2, 2, 2, 4, 4)
    (ctfc(fm_i, fm_r) * torch.randn(2, 2, 2, 4, 4)).sum().backward()
    names = {name for name, _ in ctfc.named_parameters()}
    assert ("weights" in names) == learnable
    for name, p in ctfc.named_parameters():
        if name == "weights":  # d/d alpha = <Conv_i(FM_i), grad> = 0 while Conv_i is zero; beta's is not
            assert p.grad is not None and p.grad[1] != 0
            continue
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("mode", ["both", "id_only"])
def test_gradients_reach_both_inputs_once_trained(mode: str) -> None:
    ctfc = CTFC(3, 2, mode=mode, learnable_weights=True).double()  # type: ignore[arg-type]
    with torch.no_grad():  # a trained state: the identity path is no longer zero
        for p in ctfc.parameters():
            p.add_(0.3 * torch.randn_like(p))
    fm_i = torch.randn(2, 3, 2, 3, dtype=torch.float64, requires_grad=True)
    fm_r = torch.randn(2, 2, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    ctfc(fm_i, fm_r).square().sum().backward()
    for name, p in ctfc.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert fm_i.grad is not None and fm_i.grad.abs().sum() > 0
    assert fm_r.grad is not None and fm_r.grad.abs().sum() > 0
    assert torch.autograd.gradcheck(lambda a, r: ctfc(a, r), (fm_i, fm_r))


def test_fixed_weights_are_buffers() -> None:
    ctfc = CTFC(3, 3, alpha=0.5, beta=2.0)
    assert "weights" not in dict(ctfc.named_parameters())
    assert torch.equal(ctfc.weights, torch.tensor([0.5, 2.0]))


def test_errors_name_argument_and_shapes() -> None:
    ctfc = CTFC(256, 64)
    with pytest.raises(ShapeError, match=r"identity_map: expected shape \(b 256 h w\), got \(2, 128, 9, 9\)"):
        ctfc(torch.zeros(2, 128, 9, 9), torch.zeros(2, 64, 4, 9, 9))
    with pytest.raises(ShapeError, match=r"rppg_map: expected shape \(b c t h w\), got \(2, 64, 9, 9\)"):
        ctfc(torch.zeros(2, 256, 9, 9), torch.zeros(2, 64, 9, 9))
    with pytest.raises(ShapeError, match=r"identity_map: expected shape \(2 c h w\), got \(3, 256, 9, 9\)"):
        ctfc(torch.zeros(3, 256, 9, 9), torch.zeros(2, 64, 4, 9, 9))
    with pytest.raises(ValueError, match="identity_channels"):
        CTFC(0, 4)
    with pytest.raises(ValueError, match="mode"):
        CTFC(4, 4, mode="sum")  # type: ignore[arg-type]
