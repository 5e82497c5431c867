from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import ShapeError
from rppgblocks.functional.heart_rate import power_spectral_density
from rppgblocks.functional.quality import spectral_quality_index
from rppgblocks.functional.snr import spectral_snr_db

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


def _pulse(hr_bpm: float, fs: float, n: int, phase: float = 0.0) -> torch.Tensor:
    """A non-sinusoidal pulse: fundamental plus a weaker second harmonic."""
    t = torch.arange(n, dtype=torch.float64) / fs
    w = 2 * math.pi * hr_bpm / 60
    return torch.sin(w * t + phase) + 0.3 * torch.sin(2 * w * t + 2 * phase + 0.5)


@given(
    hr=st.floats(45.0, 180.0),
    fs=st.sampled_from([25.0, 30.0, 60.0]),
    seconds=st.floats(6.0, 30.0),
    seed=st.integers(0, 2**16),
)
def test_ranks_clean_above_noisy_above_white_noise(hr: float, fs: float, seconds: float, seed: int) -> None:
    n = int(seconds * fs)
    gen = torch.Generator().manual_seed(seed)
    pulse = _pulse(hr, fs, n, phase=float(torch.rand(1, generator=gen)) * 6.0)
    noise = torch.randn(n, generator=gen, dtype=torch.float64)
    scale = float(pulse.std())
    sqi = spectral_quality_index(
        torch.stack([pulse, pulse + 0.3 * scale * noise, pulse + 3.0 * scale * noise, noise]), fs
    )
    assert float(sqi[0]) > float(sqi[1]) > float(sqi[3])
    assert float(sqi[1]) > float(sqi[2])
    assert float(sqi[0]) > 20.0  # a clean pulse is far above any noise


def test_decreases_with_the_noise_level_on_average() -> None:
    fs, n = 30.0, 300
    gen = torch.Generator().manual_seed(0)
    pulse = _pulse(75.0, fs, n)
    levels = [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]
    noise = torch.randn(64, n, generator=gen, dtype=torch.float64)
    means = [float(spectral_quality_index(pulse + level * noise, fs).mean()) for level in levels]
    assert all(a > b for a, b in itertools.pairwise(means))


@given(gain=st.floats(0.01, 100.0), offset=st.floats(-1000.0, 1000.0), seed=st.integers(0, 2**16))
def test_invariant_to_gain_and_offset(gain: float, offset: float, seed: int) -> None:
    x = _pulse(80.0, 30.0, 300) + torch.randn(300, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    torch.testing.assert_close(
        spectral_quality_index((gain * x + offset)[None], 30.0), spectral_quality_index(x[None], 30.0)
    )


def test_is_the_snr_against_the_signals_own_dominant_frequency() -> None:
    fs = 30.0
    x = torch.randn(3, 450, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    freqs, psd = power_spectral_density(x, fs, window="hann", detrend=True)
    in_band = (freqs >= 0.6) & (freqs <= 3.3)
    f0 = freqs.gather(-1, psd.masked_fill(~in_band, -1.0).argmax(-1, keepdim=True)).squeeze(-1)
    expected = spectral_snr_db(freqs, psd, f0, tolerance_hz=0.15)
    torch.testing.assert_close(spectral_quality_index(x, fs, tolerance_hz=0.15), expected)
    # Default tolerance: max(0.1 Hz, 2 fs / T) = 0.1333 Hz here.
    torch.testing.assert_close(
        spectral_quality_index(x, fs), spectral_snr_db(freqs, psd, f0, tolerance_hz=2 * fs / 450)
    )


def test_dtype_gradient_and_errors() -> None:
    x = torch.randn(2, 200)
    assert spectral_quality_index(x, 30.0).dtype == torch.float32
    assert spectral_quality_index(x.half(), 30.0).dtype == torch.float32
    leaf = torch.randn(2, 64, dtype=torch.float64, requires_grad=True)
    spectral_quality_index(leaf, 16.0).sum().backward()
    assert leaf.grad is not None and bool(torch.isfinite(leaf.grad).all())
    with pytest.raises(ShapeError, match="signal"):
        spectral_quality_index(torch.randn(200), 30.0)
    with pytest.raises(ValueError, match="tolerance_hz"):
        spectral_quality_index(x, 30.0, tolerance_hz=-0.1)
    with pytest.raises(ValueError, match="band"):
        spectral_quality_index(x, 30.0, band=(3.0, 1.0))


class _SQI(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return spectral_quality_index(x, 30.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_compile_and_export_equal_eager(dtype: torch.dtype) -> None:
    x = torch.randn(3, 150).to(dtype)
    module = _SQI()
    eager = module(x)
    torch.testing.assert_close(torch.compile(module, fullgraph=True, backend="aot_eager")(x), eager)
    torch.testing.assert_close(torch.export.export(module, (x,)).module()(x), eager)


@pytest.mark.parametrize("device", DEVICES)
def test_devices(device: str) -> None:
    x = torch.randn(2, 300, dtype=torch.float64)
    torch.testing.assert_close(spectral_quality_index(x.to(device), 30.0).cpu(), spectral_quality_index(x, 30.0))
