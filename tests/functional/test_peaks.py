from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import ShapeError
from rppgblocks.functional.peaks import find_local_maxima, peak_heart_rate

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


def _scipy_peaks(row: np.ndarray) -> np.ndarray:
    return scipy.signal.find_peaks(row)[0]


def _assert_same_peaks(x: np.ndarray) -> None:
    mask = find_local_maxima(torch.from_numpy(x))
    assert mask.dtype == torch.bool and mask.shape == x.shape
    for row, row_mask in zip(x, mask, strict=True):
        np.testing.assert_array_equal(row_mask.nonzero().squeeze(-1).numpy(), _scipy_peaks(row))


@given(rows=st.lists(st.lists(st.integers(-3, 3), min_size=12, max_size=12), min_size=1, max_size=4))
def test_equals_scipy_on_plateau_rich_integer_signals(rows: list[list[int]]) -> None:
    """Few distinct values: many plateaus, of odd and even length, at the ends and inside."""
    _assert_same_peaks(np.asarray(rows, dtype=np.float64))


@pytest.mark.parametrize("seed", range(4))
def test_equals_scipy_on_random_signals(seed: int) -> None:
    rng = np.random.default_rng(seed)
    _assert_same_peaks(rng.standard_normal((5, 500)))
    _assert_same_peaks(np.round(rng.standard_normal((5, 500)).cumsum(axis=1)))  # quantised random walk: plateaus


def test_equals_scipy_with_nan() -> None:
    rng = np.random.default_rng(0)
    x = np.round(rng.standard_normal((4, 200)) * 2)
    x[rng.random(x.shape) < 0.1] = np.nan
    _assert_same_peaks(x)


def test_plateau_and_edge_rules() -> None:
    x = torch.tensor(
        [
            [0.0, 2.0, 2.0, 1.0, 3.0, 3.0, 3.0, 0.0],  # even plateau -> left middle (1), odd plateau -> middle (5)
            [5.0, 1.0, 2.0, 1.0, 0.0, 1.0, 1.0, 1.0],  # first sample and plateau touching the end are not peaks
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],  # constant: no peak
        ]
    )
    mask = find_local_maxima(x)
    assert mask[0].nonzero().squeeze(-1).tolist() == [1, 5]
    assert mask[1].nonzero().squeeze(-1).tolist() == [2]
    assert not bool(mask[2].any())
    assert not bool(find_local_maxima(torch.tensor([[1.0, 2.0]])).any())


@given(hr=st.floats(40.0, 200.0), fs=st.floats(20.0, 60.0), phase=st.floats(0.0, 2 * math.pi))
def test_peak_heart_rate_of_a_sinusoid(hr: float, fs: float, phase: float) -> None:
    t = torch.arange(int(20 * fs), dtype=torch.float64) / fs
    estimate = float(peak_heart_rate(torch.sin(2 * math.pi * hr / 60 * t + phase)[None], fs)[0])
    # Each peak is within half a sample of a true maximum, so the span first..last is off by at most one sample,
    # over at least n_intervals periods of fs * 60 / hr samples.
    n_intervals = int(20 * hr / 60) - 2
    assert abs(estimate - hr) < 1.1 * hr / (fs * 60 / hr * n_intervals)


@pytest.mark.parametrize("seed", range(3))
def test_peak_heart_rate_equals_the_toolbox_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 300))
    fs = np.array([30.0, 25.0, 30.0, 60.0, 29.97, 30.0])
    ours = peak_heart_rate(torch.from_numpy(x), torch.from_numpy(fs)).numpy()
    for row, rate, value in zip(x, fs, ours, strict=True):
        assert value == 60 / (np.mean(np.diff(_scipy_peaks(row))) / rate)  # bit-exact: same operations


def test_fewer_than_two_peaks_give_nan() -> None:
    x = torch.tensor([[0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0, 0.0]])
    hr = peak_heart_rate(x, 30.0)
    assert hr.dtype == torch.float32
    assert math.isnan(float(hr[0])) and math.isnan(float(hr[1]))
    assert float(hr[2]) == pytest.approx(900.0)  # peaks 2 samples apart at 30 Hz


def test_errors() -> None:
    with pytest.raises(ShapeError, match="signal"):
        find_local_maxima(torch.randn(10))
    with pytest.raises(ValueError, match="fs"):
        peak_heart_rate(torch.randn(2, 10), 0.0)
    with pytest.raises(ValueError, match="fs"):
        peak_heart_rate(torch.randn(2, 10), torch.tensor([30.0, 30.0, 30.0]))


class _PeakHR(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return find_local_maxima(x), peak_heart_rate(x, 30.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_compile_and_export_equal_eager(dtype: torch.dtype) -> None:
    x = torch.randn(3, 64).to(dtype)
    module = _PeakHR()
    eager = module(x)
    for out in (
        torch.compile(module, fullgraph=True, backend="aot_eager")(x),
        torch.export.export(module, (x,)).module()(x),
    ):
        torch.testing.assert_close(out[0], eager[0])
        torch.testing.assert_close(out[1], eager[1], equal_nan=True)


@pytest.mark.parametrize("device", DEVICES)
def test_devices(device: str) -> None:
    x = torch.randn(3, 100)
    assert torch.equal(find_local_maxima(x.to(device)).cpu(), find_local_maxima(x))
    torch.testing.assert_close(peak_heart_rate(x.to(device), 30.0).cpu(), peak_heart_rate(x, 30.0))
