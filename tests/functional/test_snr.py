from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import ShapeError
from rppgblocks.functional.snr import snr_db, spectral_snr_db

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


def _toolbox_snr(x: np.ndarray, hr: float, fs: float, low: float = 0.6, high: float = 3.3) -> float:
    """A direct numpy/scipy computation of the rule in rppgblocks spec datasets.md §4.5 step 6."""
    nfft = 1 << (len(x) - 1).bit_length()
    f, p = scipy.signal.periodogram(x, fs=fs, nfft=nfft, detrend=False)
    f1, f2, dev = hr / 60, 2 * hr / 60, 6 / 60
    first = (f >= f1 - dev) & (f <= f1 + dev)
    second = (f >= f2 - dev) & (f <= f2 + dev)
    rest = (f >= low) & (f <= high) & ~first & ~second
    signal, noise = p[first].sum() + p[second].sum(), p[rest].sum()
    if noise == 0:
        return 0.0
    return -math.inf if signal == 0 else 10 * math.log10(signal / noise)  # numpy's log10(0) = -inf, as the toolbox


@given(
    seed=st.integers(0, 2**16),
    n=st.integers(64, 700),
    fs=st.sampled_from([25.0, 30.0, 29.97, 60.0]),
    hr=st.floats(40.0, 180.0),
    noise=st.floats(0.0, 3.0),
)
def test_equals_a_direct_scipy_computation(seed: int, n: int, fs: float, hr: float, noise: float) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    x = np.sin(2 * np.pi * hr / 60 * t + rng.uniform(0, 6)) + noise * rng.standard_normal(n)
    x2 = rng.standard_normal(n)
    hrs = torch.tensor([hr, hr * 1.1], dtype=torch.float64)
    ours = snr_db(torch.from_numpy(np.stack([x, x2])), hrs, fs)
    assert ours.dtype == torch.float64
    assert float(ours[0]) == pytest.approx(_toolbox_snr(x, hr, fs), abs=1e-9)
    assert float(ours[1]) == pytest.approx(_toolbox_snr(x2, hr * 1.1, fs), abs=1e-9)


def test_known_power_ratios() -> None:
    fs, n = 32.0, 512  # bins of 1/16 Hz: these tones sit exactly on bins, with no leakage
    t = torch.arange(n, dtype=torch.float64) / fs
    pulse = torch.sin(2 * math.pi * 1.25 * t) + 0.5 * torch.sin(2 * math.pi * 2.5 * t)  # f0 and 2 f0
    noise = 0.25 * torch.sin(2 * math.pi * 2.0 * t)
    ratio = (1.0 + 0.25) / 0.0625
    x = (pulse + noise)[None]
    assert float(snr_db(x, 75.0, fs)[0]) == pytest.approx(10 * math.log10(ratio), abs=1e-9)
    assert float(snr_db(pulse[None], 75.0, fs)[0]) > 200  # no noise but rounding
    assert float(snr_db(noise[None], 75.0, fs)[0]) < -200


def test_zero_noise_power_gives_zero_and_second_harmonic_outside_the_band_counts() -> None:
    freqs = torch.linspace(0.0, 8.0, 81)[None]  # 0.1 Hz bins
    psd = torch.zeros(1, 81)
    psd[0, 30] = 4.0  # f0 = 3.0 Hz
    assert float(spectral_snr_db(freqs, psd, torch.tensor([3.0]))[0]) == 0.0  # no in-band noise power -> 0
    psd[0, 60] = 4.0  # 2 f0 = 6.0 Hz, outside the band: still signal
    psd[0, 10] = 1.0  # 1.0 Hz: noise
    assert float(spectral_snr_db(freqs, psd, torch.tensor([3.0]))[0]) == pytest.approx(10 * math.log10(8.0))


def test_batch_consistency_tensor_fs_and_gradcheck() -> None:
    x = torch.randn(3, 128, dtype=torch.float64)
    hr = torch.tensor([60.0, 80.0, 100.0], dtype=torch.float64)
    batched = snr_db(x, hr, torch.tensor([30.0, 25.0, 30.0]))
    single = torch.cat([snr_db(x[i : i + 1], hr[i : i + 1], fs) for i, fs in enumerate((30.0, 25.0, 30.0))])
    torch.testing.assert_close(batched, single)
    small = torch.randn(2, 32, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda s: snr_db(s, torch.tensor([72.0, 90.0]), 8.0, band=(0.5, 3.5)), (small,))


def test_errors() -> None:
    x = torch.randn(2, 64)
    with pytest.raises(ValueError, match="hr_bpm"):
        snr_db(x, torch.tensor([70.0, -1.0]), 30.0)
    with pytest.raises(ShapeError, match="hr_bpm"):
        snr_db(x, torch.tensor([70.0, 80.0, 90.0]), 30.0)
    with pytest.raises(ValueError, match="hr_bpm"):
        snr_db(x, 0.0, 30.0)
    with pytest.raises(ValueError, match="tolerance_hz"):
        snr_db(x, 70.0, 30.0, tolerance_hz=0.0)
    with pytest.raises(ValueError, match="nfft"):
        snr_db(x, 70.0, 30.0, nfft=32)
    with pytest.raises(ShapeError, match="signal"):
        snr_db(torch.randn(64), 70.0, 30.0)


class _SNR(torch.nn.Module):
    def forward(self, x: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return snr_db(x, hr, 30.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_compile_and_export_equal_eager(dtype: torch.dtype) -> None:
    x, hr = torch.randn(3, 128).to(dtype), torch.tensor([60.0, 75.0, 120.0])
    module = _SNR()
    eager = module(x, hr)
    assert eager.dtype == torch.float32
    torch.testing.assert_close(torch.compile(module, fullgraph=True, backend="aot_eager")(x, hr), eager)
    torch.testing.assert_close(torch.export.export(module, (x, hr)).module()(x, hr), eager)


@pytest.mark.parametrize("device", DEVICES)
def test_devices(device: str) -> None:
    x = torch.randn(3, 128, dtype=torch.float64)
    torch.testing.assert_close(snr_db(x.to(device), 70.0, 30.0).cpu(), snr_db(x, 70.0, 30.0))
