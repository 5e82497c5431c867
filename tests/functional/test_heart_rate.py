from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import FFTHeartRateHead, ShapeError
from rppgblocks.functional import (
    fft_heart_rate,
    next_power_of_two,
    power_spectral_density,
    soft_fft_heart_rate,
)


def _sinusoids(hr_bpm: torch.Tensor, fs: float, n: int, noise: float = 0.0, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(n, dtype=torch.float64) / fs
    phase = torch.rand(hr_bpm.shape[0], 1, generator=gen, dtype=torch.float64) * 2 * math.pi
    clean = torch.sin(2 * math.pi * hr_bpm[:, None].double() / 60.0 * t + phase)
    return clean + noise * torch.randn(clean.shape, generator=gen, dtype=torch.float64)


@given(
    fs=st.floats(10.0, 60.0),
    hr=st.floats(45.0, 180.0),
    n=st.integers(128, 600),
    seed=st.integers(0, 2**16),
)
def test_hard_hr_recovers_noisy_sinusoid(fs: float, hr: float, n: int, seed: int) -> None:
    signal = _sinusoids(torch.tensor([hr]), fs, n, noise=0.5, seed=seed)
    estimate = fft_heart_rate(signal, fs, band=(0.7, 3.3))
    bin_bpm = 60.0 * fs / n  # the spectral resolution of the signal itself
    assert abs(float(estimate) - hr) <= max(0.5 * bin_bpm, 1.0)


@given(fs=st.floats(10.0, 60.0), hr=st.floats(36.0, 240.0))
def test_refined_hr_is_within_half_a_native_bin_for_any_fs(fs: float, hr: float) -> None:
    n = 128
    if hr / 60.0 > 0.45 * fs:
        return
    est = fft_heart_rate(_sinusoids(torch.tensor([hr]), fs, n), fs, band=(0.5, min(4.2, fs / 2)))
    assert abs(float(est) - hr) < 0.5 * 60.0 * fs / n


def test_refinement_beats_the_bin_width_on_128_samples_at_30_fps() -> None:
    hr = torch.linspace(40.0, 240.0, 401, dtype=torch.float64)
    signal = _sinusoids(hr, 30.0, 128)
    coarse = fft_heart_rate(signal, 30.0, band=(0.5, 4.2), nfft=128, window="boxcar", refine="none")
    fine = fft_heart_rate(signal, 30.0, band=(0.5, 4.2))
    assert (coarse - hr).abs().max() > 5.0  # bin width 14 bpm
    assert (fine - hr).abs().max() < 0.5


def test_refined_hr_at_the_band_edges() -> None:
    hr = torch.tensor([30.0, 30.3, 251.7, 252.0], dtype=torch.float64)  # the edges of (0.5, 4.2) Hz
    estimate = fft_heart_rate(_sinusoids(hr, 30.0, 128), 30.0, band=(0.5, 4.2))
    assert (estimate - hr).abs().max() < 0.5
    assert bool(((estimate >= 30.0) & (estimate <= 252.0)).all())


def test_boxcar_unrefined_equals_the_toolbox_rule() -> None:
    """boxcar, no refinement, no detrend, nfft = next pow2: the argmax of scipy's periodogram in the band, x60."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 300)).cumsum(axis=1)
    ours = fft_heart_rate(
        torch.from_numpy(x), 30.0, band=(0.6, 3.3), nfft=512, window="boxcar", refine="none", detrend=False
    )
    for row, value in zip(x, ours, strict=True):
        f, p = scipy.signal.periodogram(row, fs=30.0, nfft=512, detrend=False)
        mask = (f >= 0.6) & (f <= 3.3)
        assert float(value) == pytest.approx(60.0 * f[mask][np.argmax(p[mask])])


@pytest.mark.parametrize("window", ["boxcar", "hann"])
def test_psd_matches_scipy_periodogram(window: str) -> None:
    x = torch.randn(3, 250, dtype=torch.float64)
    freqs, psd = power_spectral_density(x, 25.0, nfft=256, window=window)  # type: ignore[arg-type]
    f_ref, p_ref = scipy.signal.periodogram(x.numpy(), fs=25.0, window=window, nfft=256, detrend="constant")
    np.testing.assert_allclose(freqs[0].numpy(), f_ref)
    np.testing.assert_allclose(psd.numpy(), p_ref, rtol=1e-10, atol=1e-14)


def test_per_sample_fs_equals_separate_calls() -> None:
    fs = torch.tensor([20.0, 30.0, 45.0])
    hr = torch.tensor([70.0, 95.0, 130.0])
    signals = torch.cat([_sinusoids(hr[i : i + 1], float(fs[i]), 200, noise=0.3, seed=i) for i in range(3)])
    batched = fft_heart_rate(signals, fs)
    single = torch.cat([fft_heart_rate(signals[i : i + 1], float(fs[i])) for i in range(3)])
    torch.testing.assert_close(batched, single)


@given(batch=st.integers(1, 5), n=st.integers(64, 300))
def test_batch_consistency(batch: int, n: int) -> None:
    x = torch.randn(batch, n)
    for fn in (fft_heart_rate, soft_fft_heart_rate):
        batched = fn(x, 30.0)
        stacked = torch.cat([fn(x[i : i + 1], 30.0) for i in range(batch)])
        torch.testing.assert_close(batched, stacked)


def test_soft_converges_to_hard_as_temperature_falls() -> None:
    signal = _sinusoids(torch.tensor([52.0, 77.0, 121.0, 160.0]), 30.0, 256, noise=0.8, seed=3).float()
    hard = fft_heart_rate(signal, 30.0, refine="none")
    errors = [
        float((soft_fft_heart_rate(signal, 30.0, temperature=tau) - hard).abs().max()) for tau in (0.5, 0.1, 0.01)
    ]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.5


def test_soft_hr_is_differentiable_float64_gradcheck() -> None:
    x = _sinusoids(torch.tensor([80.0]), 30.0, 64, noise=0.2).requires_grad_()
    assert torch.autograd.gradcheck(lambda s: soft_fft_heart_rate(s, 30.0, nfft=64, temperature=0.2), (x,))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_low_precision_input_computes_in_float32(dtype: torch.dtype) -> None:
    signal = _sinusoids(torch.tensor([84.0]), 30.0, 256).to(dtype)
    hr = fft_heart_rate(signal, 30.0)
    assert hr.dtype == torch.float32
    assert abs(float(hr) - 84.0) < 1.0


def test_head_matches_functions() -> None:
    x = torch.randn(3, 160)
    torch.testing.assert_close(FFTHeartRateHead(30.0)(x), fft_heart_rate(x, 30.0))
    torch.testing.assert_close(
        FFTHeartRateHead(30.0, soft=True, temperature=0.1)(x), soft_fft_heart_rate(x, 30.0, temperature=0.1)
    )
    torch.testing.assert_close(FFTHeartRateHead()(x, fs=25.0), fft_heart_rate(x, 25.0))


def test_errors_name_the_argument() -> None:
    with pytest.raises(ShapeError, match=r"bvp: expected shape \(b t\), got \(3, 4, 5\)"):
        fft_heart_rate(torch.zeros(3, 4, 5), 30.0)
    with pytest.raises(ValueError, match="fs"):
        fft_heart_rate(torch.zeros(2, 64), -1.0)
    with pytest.raises(ValueError, match="fs"):
        fft_heart_rate(torch.zeros(2, 64), torch.tensor([30.0, 30.0, 30.0]))
    with pytest.raises(ValueError, match="band"):
        fft_heart_rate(torch.zeros(2, 64), 30.0, band=(3.0, 1.0))
    with pytest.raises(ValueError, match="nfft"):
        fft_heart_rate(torch.zeros(2, 64), 30.0, nfft=32)
    with pytest.raises(ValueError, match="temperature"):
        soft_fft_heart_rate(torch.zeros(2, 64), 30.0, temperature=0.0)
    with pytest.raises(ValueError, match="fs: no sampling rate"):
        FFTHeartRateHead()(torch.zeros(2, 64))
    with pytest.raises(ValueError, match="band"):
        fft_heart_rate(torch.zeros(1, 8), 30.0, band=(0.6, 0.61), nfft=8)


def test_next_power_of_two() -> None:
    assert [next_power_of_two(n) for n in (1, 2, 3, 1000, 1024, 1025)] == [1, 2, 4, 1024, 1024, 2048]
    with pytest.raises(ValueError, match="n"):
        next_power_of_two(0)
