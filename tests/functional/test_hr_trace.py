from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import ShapeError
from rppgblocks.functional.filters import bandpass
from rppgblocks.functional.heart_rate import fft_heart_rate
from rppgblocks.functional.hr_trace import sliding_window_heart_rate
from rppgblocks.functional.peaks import peak_heart_rate

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


def _from_rate(rate_hz: torch.Tensor, fs: float) -> torch.Tensor:
    """A phase-continuous pulse whose instantaneous frequency is ``rate_hz`` (one value per sample)."""
    phase = 2 * math.pi * torch.cumsum(rate_hz, dim=-1) / fs
    return torch.sin(phase)


@pytest.mark.parametrize("method", ["fft", "peak"])
def test_piecewise_constant_rate(method: str) -> None:
    fs = 30.0
    n = int(60 * fs)
    rate = torch.where(torch.arange(n) < n // 2, 66.0 / 60, 108.0 / 60).to(torch.float64)
    bvp = _from_rate(rate, fs)[None]
    hr, centres = sliding_window_heart_rate(bvp, fs, window_s=10.0, step_s=1.0, method=method)  # type: ignore[arg-type]
    assert hr.shape == (1, 51) and centres.shape == (51,)
    half_window = 5.0
    first = centres + half_window < 30.0  # windows entirely in the first half
    second = centres - half_window > 30.0
    tolerance = 1.0 if method == "fft" else 2.0
    assert float((hr[0, first] - 66.0).abs().max()) < tolerance
    assert float((hr[0, second] - 108.0).abs().max()) < tolerance
    straddling = hr[0, ~first & ~second]
    assert bool(((straddling > 60.0) & (straddling < 114.0)).all())


@given(start_bpm=st.floats(50.0, 90.0), end_bpm=st.floats(100.0, 160.0))
def test_linear_chirp_follows_the_rate_at_each_window_centre(start_bpm: float, end_bpm: float) -> None:
    fs, duration = 30.0, 60.0
    t = torch.arange(int(duration * fs), dtype=torch.float64) / fs
    rate_bpm = start_bpm + (end_bpm - start_bpm) * t / duration
    bvp = _from_rate(rate_bpm / 60, fs)[None]
    hr, centres = sliding_window_heart_rate(bvp, fs, window_s=8.0, step_s=2.0)
    expected = start_bpm + (end_bpm - start_bpm) * centres / duration  # a linear chirp's mean rate over a window
    assert float((hr[0] - expected).abs().max()) < 2.0


def test_windows_and_centre_times_are_the_documented_ones() -> None:
    fs = 25.0
    x = torch.randn(2, 333, dtype=torch.float64)
    hr, centres = sliding_window_heart_rate(x, fs, window_s=4.0, step_s=1.5, band=(0.7, 3.0))
    length, step = 100, 38  # round(4 * 25), round(1.5 * 25)
    n_windows = (333 - length) // step + 1
    assert hr.shape == (2, n_windows) and hr.dtype == torch.float64
    torch.testing.assert_close(centres, (torch.arange(n_windows, dtype=torch.float64) * step + 49.5) / fs)
    for k in range(n_windows):
        window = x[:, k * step : k * step + length]
        torch.testing.assert_close(hr[:, k], fft_heart_rate(window, fs, band=(0.7, 3.0)))
    peak, _ = sliding_window_heart_rate(x, fs, window_s=4.0, step_s=1.5, method="peak")
    torch.testing.assert_close(peak[:, 3], peak_heart_rate(x[:, 3 * step : 3 * step + length], fs))


def test_toolbox_style_windows_on_a_filtered_signal() -> None:
    """Non-overlapping windows (step = window), boxcar, no refinement: rPPG-Toolbox's windowed FFT rule."""
    fs = 30.0
    t = torch.arange(1800, dtype=torch.float64) / fs
    x = bandpass((torch.sin(2 * math.pi * 1.3 * t) + 0.3 * torch.randn(1800, dtype=torch.float64))[None], fs)
    hr, centres = sliding_window_heart_rate(
        x, fs, window_s=10.0, step_s=10.0, spectral_window="boxcar", refine="none", nfft=512
    )
    assert hr.shape == (1, 6)
    assert float((hr - 78.0).abs().max()) <= 60.0 * fs / 512  # within one bin of 78 bpm
    torch.testing.assert_close(centres[1] - centres[0], torch.tensor(10.0, dtype=torch.float64))


def test_errors() -> None:
    x = torch.randn(2, 200)
    with pytest.raises(ShapeError, match="shorter than one window"):
        sliding_window_heart_rate(x, 30.0, window_s=10.0)
    with pytest.raises(ValueError, match="method"):
        sliding_window_heart_rate(x, 30.0, window_s=2.0, method="wavelet")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="window_s"):
        sliding_window_heart_rate(x, 30.0, window_s=0.05)
    with pytest.raises(ValueError, match="step_s"):
        sliding_window_heart_rate(x, 30.0, window_s=2.0, step_s=0.0)
    with pytest.raises(ValueError, match="fs"):
        sliding_window_heart_rate(x, -1.0)
    with pytest.raises(ShapeError, match="signal"):
        sliding_window_heart_rate(torch.randn(200), 30.0, window_s=2.0)


class _Trace(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        fft, centres = sliding_window_heart_rate(x, 30.0, window_s=4.0, step_s=1.0)
        peak, _ = sliding_window_heart_rate(x, 30.0, window_s=4.0, step_s=1.0, method="peak")
        return fft, peak, centres


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_compile_and_export_equal_eager(dtype: torch.dtype) -> None:
    x = torch.randn(2, 240).to(dtype)
    module = _Trace()
    eager = module(x)
    for out in (
        torch.compile(module, fullgraph=True, backend="aot_eager")(x),
        torch.export.export(module, (x,)).module()(x),
    ):
        for got, want in zip(out, eager, strict=True):
            torch.testing.assert_close(got, want, equal_nan=True)


@pytest.mark.parametrize("device", DEVICES)
def test_devices(device: str) -> None:
    x = torch.randn(2, 300, dtype=torch.float64)
    hr, centres = sliding_window_heart_rate(x.to(device), 30.0, window_s=5.0)
    assert hr.device.type == centres.device.type == device
    torch.testing.assert_close(hr.cpu(), sliding_window_heart_rate(x, 30.0, window_s=5.0)[0])
