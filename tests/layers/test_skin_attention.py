from __future__ import annotations

import math

import pytest
import torch
from einops import rearrange
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.errors import ShapeError
from rppgblocks.functional.skin_attention import skin_attention, skin_attention_weights
from rppgblocks.layers.skin_attention import SkinAttention

dims = st.tuples(
    st.integers(1, 3),  # B
    st.integers(1, 6),  # C
    st.integers(1, 4),  # T
    st.integers(1, 6),  # h
    st.integers(1, 6),  # w
)


def _inputs(d: tuple[int, ...], seed: int, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    b, c, t, h, w = d
    g = torch.Generator().manual_seed(seed)
    features = 3 * torch.randn(b, c, t, h, w, generator=g, dtype=dtype)
    skin = torch.rand(b, t, h, w, generator=g, dtype=dtype)
    return features, skin


def _reference(features: torch.Tensor, skin: torch.Tensor) -> torch.Tensor:
    """The spec's formula written out: exp(a) / sum over the frame's positions of exp(a)."""
    a = torch.sigmoid(features.mean(dim=1)) + torch.sigmoid(features.max(dim=1).values) + skin
    e = torch.exp(a)
    return features * (e / e.sum(dim=(-2, -1), keepdim=True)).unsqueeze(1)


@given(dims, st.integers(0, 2**16))
def test_equals_the_formula_and_weights_form_a_distribution_per_frame(d: tuple[int, ...], seed: int) -> None:
    features, skin = _inputs(d, seed)
    weights = skin_attention_weights(features, skin)
    assert weights.shape == skin.shape
    assert (weights > 0).all()
    torch.testing.assert_close(weights.sum(dim=(-2, -1)), torch.ones(d[0], d[2], dtype=torch.float64))
    torch.testing.assert_close(skin_attention(features, skin), _reference(features, skin))
    torch.testing.assert_close(SkinAttention()(features, skin), skin_attention(features, skin), rtol=0, atol=0)


@given(dims, st.integers(0, 2**16))
def test_weights_do_not_depend_on_channel_order(d: tuple[int, ...], seed: int) -> None:
    features, skin = _inputs(d, seed)
    perm = torch.randperm(d[1], generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(skin_attention_weights(features[:, perm], skin), skin_attention_weights(features, skin))
    torch.testing.assert_close(skin_attention(features[:, perm], skin), skin_attention(features, skin)[:, perm])


@given(dims, st.integers(0, 2**16))
def test_weights_are_invariant_to_a_per_frame_constant_added_to_the_skin_map(d: tuple[int, ...], seed: int) -> None:
    features, skin = _inputs(d, seed)
    shift = 10 * torch.randn(d[0], d[2], 1, 1, dtype=torch.float64)
    torch.testing.assert_close(skin_attention(features, skin + shift), skin_attention(features, skin))


@given(dims, st.integers(0, 2**16))
def test_equivariant_to_permuting_positions_frames_and_batch(d: tuple[int, ...], seed: int) -> None:
    b, _, t, h, w = d
    features, skin = _inputs(d, seed)
    g = torch.Generator().manual_seed(seed + 1)
    pos, frames, batch = (
        torch.randperm(h * w, generator=g),
        torch.randperm(t, generator=g),
        torch.randperm(b, generator=g),
    )

    def shuffle(x: torch.Tensor, pattern: str) -> torch.Tensor:
        flat = rearrange(x, f"{pattern} h w -> {pattern} (h w)")[..., pos]
        return rearrange(flat, f"{pattern} (h w) -> {pattern} h w", h=h)[batch][..., frames, :, :]

    out = skin_attention(shuffle(features, "b c t"), shuffle(skin, "b t"))
    torch.testing.assert_close(out, shuffle(skin_attention(features, skin), "b c t"))


@given(dims, st.integers(0, 2**16))
def test_skin_map_in_unit_interval_bounds_the_reweighting_by_e_cubed(d: tuple[int, ...], seed: int) -> None:
    """With S in [0, 1] the logits lie in (0, 3), so h*w*A lies in (e^-3, e^3)."""
    features, skin = _inputs(d, seed)
    features = 1e3 * features  # push the sigmoids towards 0 and 1
    scaled = d[3] * d[4] * skin_attention_weights(features, skin)
    assert (scaled > math.exp(-3)).all() and (scaled < math.exp(3)).all()


@given(dims, st.integers(0, 2**16))
def test_minus_infinity_in_the_skin_map_masks_positions(d: tuple[int, ...], seed: int) -> None:
    b, _, t, h, w = d
    features, skin = _inputs(d, seed)
    mask = torch.rand(b, t, h, w, generator=torch.Generator().manual_seed(seed)) < 0.5
    mask[..., 0, 0] = False  # at least one finite position per frame
    weights = skin_attention_weights(features, skin.masked_fill(mask, -math.inf))
    assert (weights[mask] == 0).all()
    unmasked = skin_attention_weights(features, skin) * ~mask  # the softmax restricted to the finite positions
    torch.testing.assert_close(weights, unmasked / unmasked.sum(dim=(-2, -1), keepdim=True))


def test_a_frame_masked_everywhere_gives_nan() -> None:
    skin = torch.zeros(1, 2, 2, 2)
    skin[0, 1] = -math.inf
    weights = skin_attention_weights(torch.randn(1, 3, 2, 2, 2), skin)
    assert torch.isfinite(weights[0, 0]).all() and torch.isnan(weights[0, 1]).all()


@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**16))
def test_a_single_position_is_the_identity(b: int, c: int, t: int, seed: int) -> None:
    features, skin = _inputs((b, c, t, 1, 1), seed)
    torch.testing.assert_close(skin_attention(features, skin), features)


def test_not_invariant_to_shifting_or_scaling_the_features() -> None:
    features, skin = _inputs((1, 4, 2, 3, 3), 0)
    weights = skin_attention_weights(features, skin)
    assert not torch.allclose(skin_attention_weights(features + 1.0, skin), weights)
    assert not torch.allclose(skin_attention_weights(2.0 * features, skin), weights)


def test_more_skin_means_more_weight() -> None:
    features, skin = _inputs((1, 4, 1, 3, 3), 1)
    raised = skin.clone()
    raised[0, 0, 1, 2] += 0.5
    before, after = skin_attention_weights(features, skin), skin_attention_weights(features, raised)
    assert after[0, 0, 1, 2] > before[0, 0, 1, 2]
    others = torch.ones(3, 3, dtype=torch.bool)
    others[1, 2] = False
    assert (after[0, 0][others] < before[0, 0][others]).all()


def test_gradcheck_float64() -> None:
    features, skin = _inputs((2, 3, 2, 3, 3), 0)
    features.requires_grad_(True)
    skin.requires_grad_(True)
    assert torch.autograd.gradcheck(skin_attention, (features, skin))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_is_finite_and_close(dtype: torch.dtype) -> None:
    features, skin = _inputs((2, 8, 3, 32, 32), 0, torch.float32)
    reference = skin_attention(features, skin)
    low = skin_attention(features.to(dtype), skin.to(dtype))
    assert low.dtype == dtype and torch.isfinite(low).all()
    torch.testing.assert_close(low.float(), reference, rtol=0.02, atol=1e-4)


def test_compile_and_export_match_eager() -> None:
    features, skin = _inputs((1, 4, 3, 5, 6), 0, torch.float32)
    module = SkinAttention()
    eager = module(features, skin)
    compiled = torch.compile(module, fullgraph=True, backend="aot_eager")(features, skin)
    exported = torch.export.export(module, (features, skin)).module()(features, skin)
    torch.testing.assert_close(compiled, eager)
    torch.testing.assert_close(exported, eager)


def test_errors_name_argument_and_shapes() -> None:
    with pytest.raises(
        ShapeError, match=r"skin_map: expected shape \(2, 3, 4, 4\), got \(2, 3, 8, 8\); .*\(2, 5, 3, 4, 4\)"
    ):
        skin_attention(torch.zeros(2, 5, 3, 4, 4), torch.zeros(2, 3, 8, 8))
    with pytest.raises(ShapeError, match=r"skin_map: expected shape \(b t h w\), got \(2, 1, 3, 4, 4\)"):
        skin_attention(torch.zeros(2, 5, 3, 4, 4), torch.zeros(2, 1, 3, 4, 4))
    with pytest.raises(ShapeError, match=r"features: expected shape \(b c t h w\), got \(5, 3, 4, 4\)"):
        SkinAttention()(torch.zeros(5, 3, 4, 4), torch.zeros(1, 3, 4, 4))
