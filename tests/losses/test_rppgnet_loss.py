from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.errors import ShapeError
from rppgblocks.losses.rppgnet_loss import RPPGNetLoss, RPPGNetLossOutput
from rppgblocks.models.rppgnet import RPPGNetOutput

TERMS = ["global", "mid", "skin", "part1", "part2", "part3", "part4"]


def _output(bvp: torch.Tensor, mid: torch.Tensor, parts: torch.Tensor, skin_logits: torch.Tensor) -> RPPGNetOutput:
    b, t = bvp.shape
    empty = torch.zeros(b, 1, t, 1, 1, dtype=bvp.dtype)
    return RPPGNetOutput(bvp, mid, parts, torch.sigmoid(skin_logits), skin_logits, empty, empty)


def _random(b: int, t: int, seed: int, dtype: torch.dtype = torch.float64) -> tuple[RPPGNetOutput, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    out = _output(
        torch.randn(b, t, generator=g, dtype=dtype),
        torch.randn(b, t, generator=g, dtype=dtype),
        torch.randn(b, 4, t, generator=g, dtype=dtype),
        3 * torch.randn(b, t, 4, 4, generator=g, dtype=dtype),
    )
    return out, torch.randn(b, t, generator=g, dtype=dtype)


@given(st.integers(1, 4), st.integers(3, 32), st.integers(0, 2**16))
def test_total_is_the_weighted_sum_of_the_terms(b: int, t: int, seed: int) -> None:
    out, target = _random(b, t, seed)
    labels = (torch.rand(b, t, 4, 4, generator=torch.Generator().manual_seed(seed)) > 0.5).double()
    result = RPPGNetLoss()(out, target, labels)
    assert isinstance(result, RPPGNetLossOutput)
    assert list(result.terms) == list(result.losses) == TERMS
    weights = {"global": 1.0, "mid": 0.5, "skin": 0.1, "part1": 0.5, "part2": 0.5, "part3": 0.5, "part4": 0.5}
    for name in TERMS:
        torch.testing.assert_close(result.terms[name], weights[name] * result.losses[name])
    torch.testing.assert_close(result.total, sum(result.terms.values()))
    # reference values: 1 - r per sample, batch mean; BCE on probabilities averaged over every pixel
    r = torch.stack([torch.corrcoef(torch.stack([out.bvp[i], target[i]]))[0, 1] for i in range(b)])
    torch.testing.assert_close(result.losses["global"], (1 - r).mean())
    r_part3 = torch.stack([torch.corrcoef(torch.stack([out.bvp_parts[i, 2], target[i]]))[0, 1] for i in range(b)])
    torch.testing.assert_close(result.losses["part3"], (1 - r_part3).mean())
    torch.testing.assert_close(result.losses["skin"], F.binary_cross_entropy(out.skin, labels))
    for name in TERMS:
        if name != "skin":
            assert 0 <= float(result.losses[name]) <= 2


@given(st.floats(0, 3), st.floats(0, 3), st.floats(0, 3), st.floats(0, 3), st.integers(0, 2**16))
def test_weights_are_constructor_arguments(wg: float, wm: float, ws: float, wp: float, seed: int) -> None:
    out, target = _random(2, 16, seed)
    labels = torch.rand(2, 16, 4, 4, dtype=torch.float64)
    base = RPPGNetLoss()(out, target, labels)
    result = RPPGNetLoss(global_weight=wg, mid_weight=wm, skin_weight=ws, part_weight=wp)(out, target, labels)
    expected = wg * base.losses["global"] + wm * base.losses["mid"] + ws * base.losses["skin"]
    expected = expected + wp * sum(base.losses[f"part{i}"] for i in range(1, 5))
    torch.testing.assert_close(result.total, expected)


@given(st.integers(1, 4), st.integers(3, 32), st.floats(0.1, 10), st.floats(-5, 5), st.integers(0, 2**16))
def test_perfect_predictions_give_zero(b: int, t: int, scale: float, offset: float, seed: int) -> None:
    """Positive affine copies of the target and saturated correct skin logits: every term is (about) 0."""
    target = torch.randn(b, t, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    copy = scale * target + offset
    labels = (torch.rand(b, t, 4, 4, generator=torch.Generator().manual_seed(seed)) > 0.5).double()
    out = _output(copy, copy, torch.stack([copy] * 4, dim=1), 40 * (2 * labels - 1))
    result = RPPGNetLoss()(out, target, labels)
    assert float(result.total) < 1e-9


def test_each_part_is_compared_with_the_target() -> None:
    target = torch.randn(3, 20, dtype=torch.float64)
    parts = torch.stack([target, -target, 2 * target, target], dim=1)
    out = _output(target, target, parts, torch.zeros(3, 20, 4, 4, dtype=torch.float64))
    result = RPPGNetLoss()(out, target, torch.full((3, 20, 4, 4), 0.5, dtype=torch.float64))
    values = [float(result.losses[f"part{i}"]) for i in range(1, 5)]
    assert values == pytest.approx([0.0, 2.0, 0.0, 0.0], abs=1e-9)
    assert float(result.losses["skin"]) == pytest.approx(math.log(2))  # sigmoid(0) = 0.5 against 0.5
    assert float(result.total) == pytest.approx(0.5 * 2.0 + 0.1 * math.log(2))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_inputs_are_computed_in_float32(dtype: torch.dtype) -> None:
    out64, target64 = _random(2, 16, 0)
    labels = (torch.rand(2, 16, 4, 4) > 0.5).float()
    reference = RPPGNetLoss()(out64, target64, labels.double())
    low_out = RPPGNetOutput(*(o.to(dtype) for o in out64))
    result = RPPGNetLoss()(low_out, target64.to(dtype), labels.to(dtype))
    assert result.total.dtype == torch.float32
    assert all(v.dtype == torch.float32 for v in result.losses.values())
    torch.testing.assert_close(result.total.double(), reference.total, rtol=0.02, atol=0.02)


def test_saturated_wrong_skin_logits_keep_their_loss_and_gradient_in_float16() -> None:
    """sigmoid(12) rounds to 1 in float16: a BCE on probabilities would clamp; from logits it stays exact."""
    assert torch.sigmoid(torch.tensor(12.0, dtype=torch.float16)) == 1
    logits = torch.full((1, 4, 2, 2), 12.0, dtype=torch.float16, requires_grad=True)
    target = torch.randn(1, 4)
    out = RPPGNetOutput(target, target, target[:, None].expand(1, 4, 4), torch.sigmoid(logits), logits, target, target)
    result = RPPGNetLoss()(out, target, torch.zeros(1, 4, 2, 2))
    assert result.losses["skin"].item() == pytest.approx(12.0 + math.log1p(math.exp(-12.0)), rel=1e-6)
    result.total.backward()
    assert logits.grad is not None
    torch.testing.assert_close(logits.grad.float(), torch.full((1, 4, 2, 2), 0.1 / 16), rtol=1e-3, atol=0)


def test_gradients_reach_the_signals_and_the_skin_logits() -> None:
    out, target = _random(2, 16, 1)
    leaves = [out.bvp, out.bvp_mid, out.bvp_parts, out.skin_logits]
    for leaf in leaves:
        leaf.requires_grad_(True)
    out = out._replace(skin=torch.sigmoid(out.skin_logits))
    RPPGNetLoss()(out, target, torch.rand(2, 16, 4, 4, dtype=torch.float64)).total.backward()
    for leaf in leaves:
        assert leaf.grad is not None and torch.isfinite(leaf.grad).all() and leaf.grad.abs().sum() > 0


def test_compile_fullgraph_matches_eager() -> None:
    out, target = _random(2, 16, 2, torch.float32)
    labels = torch.rand(2, 16, 4, 4)
    criterion = RPPGNetLoss()
    eager = criterion(out, target, labels)
    compiled = torch.compile(criterion, fullgraph=True, backend="aot_eager")(out, target, labels)
    torch.testing.assert_close(compiled.total, eager.total)
    for name in TERMS:
        torch.testing.assert_close(compiled.terms[name], eager.terms[name])


def test_errors_name_argument_and_shapes() -> None:
    out, target = _random(2, 16, 0)
    labels = torch.rand(2, 16, 4, 4, dtype=torch.float64)
    criterion = RPPGNetLoss()
    with pytest.raises(ShapeError, match=r"target: expected shape \(2, 16\), got \(2, 15\)"):
        criterion(out, target[:, :15], labels)
    with pytest.raises(ShapeError, match=r"target: expected shape \(b t\), got \(2, 1, 16\)"):
        criterion(out, target[:, None], labels)
    with pytest.raises(ShapeError, match=r"skin_labels: expected shape \(2, 16, 4, 4\), got \(2, 16, 8, 8\)"):
        criterion(out, target, torch.rand(2, 16, 8, 8))
    with pytest.raises(ValueError, match=r"skin_labels: expected values in \[0, 1\], got values in \[-1.0, 1.0\]"):
        criterion(out, target, labels.clone().fill_(1.0).index_fill_(0, torch.tensor([1]), -1.0))
    with pytest.raises(ValueError, match=r"skin_weight: expected a finite number >= 0, got -0\.1"):
        RPPGNetLoss(skin_weight=-0.1)
    with pytest.raises(ValueError, match="part_weight"):
        RPPGNetLoss(part_weight=math.nan)
