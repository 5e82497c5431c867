from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import NegPearsonLoss, ShapeError
from rppgblocks.functional import neg_pearson_loss, pearson_correlation

signals = st.tuples(st.integers(1, 4), st.integers(4, 64), st.integers(0, 2**16))


def _randn(batch: int, n: int, seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(batch, n, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@given(signals)
def test_loss_in_zero_two_and_matches_numpy(spec: tuple[int, int, int]) -> None:
    batch, n, seed = spec
    x, y = _randn(batch, n, seed), _randn(batch, n, seed + 1)
    loss = neg_pearson_loss(x, y, reduction="none")
    assert loss.shape == (batch,)
    assert bool(((loss >= 0) & (loss <= 2)).all())
    expected = [1 - np.corrcoef(a, b)[0, 1] for a, b in zip(x.numpy(), y.numpy(), strict=True)]
    np.testing.assert_allclose(loss.numpy(), expected, atol=1e-6)


@given(signals, st.floats(0.01, 100.0), st.floats(-100.0, 100.0))
def test_zero_for_positive_and_two_for_negative_affine_copies(
    spec: tuple[int, int, int], scale: float, shift: float
) -> None:
    batch, n, seed = spec
    y = _randn(batch, n, seed)
    assert float(neg_pearson_loss(scale * y + shift, y)) == pytest.approx(0.0, abs=1e-6)
    assert float(neg_pearson_loss(-scale * y + shift, y)) == pytest.approx(2.0, abs=1e-6)


def test_reductions_and_module() -> None:
    x, y = _randn(3, 32, 0), _randn(3, 32, 1)
    per = neg_pearson_loss(x, y, reduction="none")
    torch.testing.assert_close(neg_pearson_loss(x, y, reduction="sum"), per.sum())
    torch.testing.assert_close(NegPearsonLoss()(x, y), per.mean())
    torch.testing.assert_close(NegPearsonLoss("none")(x, y), per)


def test_gradcheck() -> None:
    x = _randn(2, 16, 0).requires_grad_()
    y = _randn(2, 16, 1)
    assert torch.autograd.gradcheck(lambda a: neg_pearson_loss(a, y), (x,))


def test_half_precision_input_is_safe() -> None:
    y = _randn(2, 128, 0, torch.float32)
    loss = NegPearsonLoss()(y.half(), y.half())
    assert loss.dtype == torch.float32 and float(loss) < 1e-3


def test_constant_signal_gives_zero_correlation_not_nan() -> None:
    r = pearson_correlation(torch.ones(1, 10), torch.randn(1, 10))
    assert torch.isfinite(r).all() and float(r) == 0.0


def test_errors() -> None:
    with pytest.raises(ShapeError, match=r"y: expected shape \(2, 8\), got \(2, 9\)"):
        neg_pearson_loss(torch.zeros(2, 8), torch.zeros(2, 9))
    with pytest.raises(ShapeError, match=r"pred|x"):
        neg_pearson_loss(torch.zeros(8), torch.zeros(8))
    with pytest.raises(ValueError, match="reduction"):
        NegPearsonLoss("avg")  # type: ignore[arg-type]
