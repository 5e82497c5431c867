from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import ShapeError
from rppgblocks.functional.detrend import detrend_smoothness_priors

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


def _reference(x: np.ndarray, lam: float) -> np.ndarray:
    """Tarvainen et al. 2002 Eq. 6 with a sparse direct solve: (I - (I + lam^2 D2^T D2)^-1) z, per row."""
    n = x.shape[-1]
    d2 = scipy.sparse.diags([np.ones(n - 2), -2 * np.ones(n - 2), np.ones(n - 2)], [0, 1, 2], shape=(n - 2, n))
    system = (scipy.sparse.eye(n) + lam**2 * (d2.T @ d2)).tocsc()
    return x - scipy.sparse.linalg.spsolve(system, x.T).T.reshape(x.shape)


@pytest.mark.parametrize("n", [3, 4, 5, 10, 257, 1000])
@pytest.mark.parametrize("lam", [1.0, 10.0, 100.0])
def test_equals_a_sparse_direct_solve(n: int, lam: float) -> None:
    rng = np.random.default_rng(n)
    t = np.linspace(0.0, 1.0, n)
    x = rng.standard_normal((3, n)) + 2.0 * t - 3.0 * t**2 + np.sin(7.0 * t)
    ours = detrend_smoothness_priors(torch.from_numpy(x), lam=lam).numpy()
    np.testing.assert_allclose(ours, _reference(x, lam), atol=1e-10, rtol=0)


def test_equals_the_toolbox_dense_inverse() -> None:
    """rPPG-Toolbox's ``_detrend(x, 100)``: np.dot(H - inv(H + 100**2 * D.T @ D), x)."""
    n = 300
    x = np.random.default_rng(0).standard_normal(n).cumsum()
    d2 = np.diff(np.eye(n), n=2, axis=0)
    expected = (np.eye(n) - np.linalg.inv(np.eye(n) + 100.0**2 * d2.T @ d2)) @ x
    ours = detrend_smoothness_priors(torch.from_numpy(x)[None])[0].numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-9 * np.abs(x).max())


@given(
    n=st.integers(3, 600),
    lam=st.floats(0.5, 1000.0),
    intercept=st.floats(-100.0, 100.0),
    slope=st.floats(-10.0, 10.0),
)
def test_linear_trends_are_removed_exactly_for_any_lambda(n: int, lam: float, intercept: float, slope: float) -> None:
    t = torch.arange(n, dtype=torch.float64) / n
    out = detrend_smoothness_priors((intercept + slope * t)[None], lam=lam)
    assert float(out.abs().max()) < 1e-9 * (1.0 + abs(intercept) + abs(slope))


@given(
    n=st.integers(300, 2000),
    coefficients=st.tuples(st.floats(-5.0, 5.0), st.floats(-5.0, 5.0), st.floats(-5.0, 5.0)),
)
def test_slow_polynomial_drifts_are_removed_away_from_the_ends(n: int, coefficients: tuple[float, ...]) -> None:
    """A quadratic/cubic drift over >= 10 s at 30 fps: lambda = 100 removes it except in the first/last samples.

    (The residual of a polynomial drift is concentrated at the ends, within a few times sqrt(lambda) = 10 samples;
    for lambda -> infinity the method removes only the best linear fit, so it is *moderate* lambda that removes
    curvature.)
    """
    t = torch.linspace(-1.0, 1.0, n, dtype=torch.float64)
    drift = coefficients[0] * t + coefficients[1] * t**2 + coefficients[2] * t**3
    scale = 1.0 + sum(abs(c) for c in coefficients)
    out = detrend_smoothness_priors(drift[None], lam=100.0)[0]
    assert float(out[60:-60].abs().max()) < 1e-3 * scale
    assert float(out.abs().max()) < 0.05 * scale


@given(f_hz=st.floats(1.0, 3.3), phase=st.floats(0.0, 2 * math.pi))
def test_heart_rate_band_sinusoid_passes_with_the_predicted_gain(f_hz: float, phase: float) -> None:
    fs, lam = 30.0, 100.0
    t = torch.arange(1800, dtype=torch.float64) / fs
    pulse = torch.sin(2 * math.pi * f_hz * t + phase)
    out = detrend_smoothness_priors(pulse[None], lam=lam)[0]
    mu = 4 * math.sin(math.pi * f_hz / fs) ** 2
    gain = lam**2 * mu**2 / (1 + lam**2 * mu**2)  # the documented frequency response away from the ends
    assert gain > 0.95
    middle = slice(300, 1500)
    torch.testing.assert_close(out[middle], gain * pulse[middle], atol=2e-3, rtol=0)


def test_drift_plus_pulse() -> None:
    fs = 30.0
    t = torch.arange(600, dtype=torch.float64) / fs
    pulse = torch.sin(2 * math.pi * 1.5 * t)
    drift = 3.0 + 0.8 * t - 0.03 * t**2 + 0.5 * torch.sin(2 * math.pi * 0.02 * t)
    out = detrend_smoothness_priors((pulse + drift)[None])[0]
    assert float((out - pulse)[30:-30].abs().max()) < 0.05


def test_dtypes_batch_consistency_and_gradcheck() -> None:
    x = torch.randn(4, 50, dtype=torch.float64)
    out = detrend_smoothness_priors(x)
    torch.testing.assert_close(out, torch.cat([detrend_smoothness_priors(x[i : i + 1]) for i in range(4)]))
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        low = detrend_smoothness_priors(x.to(dtype))
        assert low.dtype == dtype
        # computed in float64, so only the final rounding differs
        torch.testing.assert_close(low, detrend_smoothness_priors(x.to(dtype).double()).to(dtype), atol=0, rtol=0)
    small = torch.randn(2, 12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda s: detrend_smoothness_priors(s, lam=3.0), (small,))


def test_errors() -> None:
    with pytest.raises(ShapeError, match="T >= 3"):
        detrend_smoothness_priors(torch.randn(2, 2))
    with pytest.raises(ShapeError, match="signal"):
        detrend_smoothness_priors(torch.randn(10))
    with pytest.raises(ValueError, match="lam"):
        detrend_smoothness_priors(torch.randn(1, 10), lam=0.0)
    with pytest.raises(ValueError, match="lam"):
        detrend_smoothness_priors(torch.randn(1, 10), lam=float("nan"))


class _Detrend(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return detrend_smoothness_priors(x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_compile_and_export_equal_eager(dtype: torch.dtype) -> None:
    x = torch.randn(2, 64).to(dtype)
    module = _Detrend()
    eager = module(x)
    torch.testing.assert_close(torch.compile(module, fullgraph=True, backend="aot_eager")(x), eager)
    torch.testing.assert_close(torch.export.export(module, (x,)).module()(x), eager)


@pytest.mark.parametrize("device", DEVICES)
def test_devices(device: str) -> None:
    x = torch.randn(3, 200, dtype=torch.float64)
    out = detrend_smoothness_priors(x.to(device))
    assert out.device.type == device
    torch.testing.assert_close(out.cpu(), detrend_smoothness_priors(x))
