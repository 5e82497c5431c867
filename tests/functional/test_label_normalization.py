"""rPPG-Toolbox's label transforms (spec datasets.md §4.3): DiffNormalized and Standardized labels ``(B, T)``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import ShapeError
from rppgblocks.functional import diff_normalize_label, standardize_label, undo_diff_normalize


def _numpy_diff_normalized(y: np.ndarray) -> np.ndarray:
    """The spec, in numpy, one label at a time: diff, divide by np.std, append a 0; zeros where np.std is 0."""
    d = np.diff(y)
    std = np.std(d)
    d = d / std if std > 0 else np.zeros_like(d)  # the toolbox: NaN -> 0 for a constant, inf for a line
    return np.append(d, 0.0)


def _numpy_standardized(y: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (y - np.mean(y)) / np.std(y)
    z[np.isnan(z)] = 0.0
    return z


@given(batch=st.integers(1, 4), n=st.integers(2, 300), scale=st.floats(1e-3, 1e3), seed=st.integers(0, 2**16))
def test_equal_the_numpy_definitions(batch: int, n: int, scale: float, seed: int) -> None:
    y = scale * np.random.default_rng(seed).standard_normal((batch, n)) + 5.0
    ours_d = diff_normalize_label(torch.from_numpy(y)).numpy()
    ours_s = standardize_label(torch.from_numpy(y)).numpy()
    for i in range(batch):
        np.testing.assert_allclose(ours_d[i], _numpy_diff_normalized(y[i]), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(ours_s[i], _numpy_standardized(y[i]), rtol=1e-9, atol=1e-9)


def test_constant_signals_and_lines_give_zeros_not_nan_or_inf() -> None:
    y = torch.full((2, 50), 3.0)
    assert torch.equal(diff_normalize_label(y), torch.zeros_like(y))
    assert torch.equal(standardize_label(y), torch.zeros_like(y))
    line = torch.arange(8, dtype=torch.float64)[None]
    assert torch.equal(diff_normalize_label(line), torch.zeros_like(line))
    both = torch.cat([line, torch.tensor([[0.0, 1, 0, 1, 0, 1, 0, 1]], dtype=torch.float64)])
    assert bool(diff_normalize_label(both)[1].abs().sum() > 0)  # a zero row does not zero the others


@given(n=st.integers(3, 200), seed=st.integers(0, 2**16))
def test_undo_diff_normalize_inverts_up_to_offset_scale_and_one_sample(n: int, seed: int) -> None:
    y = torch.randn(3, n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    recovered = undo_diff_normalize(diff_normalize_label(y))
    sigma = y.diff(dim=-1).std(dim=-1, correction=0, keepdim=True)
    torch.testing.assert_close(recovered[:, :-1] * sigma + y[:, :1], y[:, 1:])


def test_dtype_gradient_and_errors() -> None:
    assert diff_normalize_label(torch.randn(2, 10).half()).dtype == torch.float16
    x = torch.randn(2, 12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(diff_normalize_label, (x,))
    assert torch.autograd.gradcheck(standardize_label, (x,))
    with pytest.raises(ShapeError, match="signal"):
        diff_normalize_label(torch.randn(1, 3, 10))
    with pytest.raises(ShapeError, match="DiffNormalized needs T >= 2"):
        diff_normalize_label(torch.randn(2, 1))
    with pytest.raises(TypeError, match="signal: expected a floating-point tensor"):
        standardize_label(torch.ones(2, 5, dtype=torch.int64))
