"""Band-limited sinusoids are recovered by every heart-rate estimator, within a tolerance set by its resolution.

The signals: a unit sinusoid at a random heart rate of 45-170 bpm (well inside the default 0.6-3.3 Hz band, i.e.
36-198 bpm), random phase, 10-30 s at 25, 29.97, 30 or 60 Hz, optionally a second harmonic of smaller amplitude and
optionally white noise of std 0.1 (amplitude SNR 10). Each row of a batch has its own heart rate.

Tolerances, with T_s the signal's duration, R = 60 / T_s bpm the Rayleigh resolution and nfft the FFT length:

* unrefined FFT peaks (boxcar, bin centre; also the soft-argmax, a convex combination concentrated on the main-lobe
  bins around the true frequency): the true frequency lies within half a bin of the nearest bin, so
  ``30 fs / nfft`` bpm, plus 0.05 R for the displacement of the continuous periodogram peak by leakage (from the
  negative-frequency image, the harmonic and the noise; measured below 0.02 R over thousands of random cases);
* parabolically refined Hann peaks: no bin quantisation left, only that leakage bias and the interpolation's own
  bias, a small fraction of a bin: 0.05 R (0.3 bpm at 10 s; measured below 0.03 R);
* peak detection on noise-free signals: each of the first and last peaks sits within one sample of the true maximum
  (within half a sample for a symmetric peak), and the estimate is 60 fs (K - 1) / (n_last - n_first), so the error
  is at most HR * 2 / span, where span = T - 2P - 4 samples (P the period in samples; the first and last crests lie
  within a period and a sample of the ends, one more crest if one falls on an end sample) bounds n_last - n_first.
  The harmonic is kept below 1/4 there: ``sin(x) + b sin(2x + phi)`` has a single maximum per period for every phi
  iff b <= 1/4, above which the "dicrotic" bump becomes a spurious peak;
* peak detection after the zero-phase band-pass (and, in evaluate_hr, the smoothness-priors detrender): interior
  peaks are untouched, but the filters' end transients move the first and last peaks, by up to about a quarter
  period each at low heart rates and 60 Hz: error at most HR * (P/2 + 2) / span.

Peak detection is tested on noise-free signals only: scipy's ``find_peaks`` with no constraint counts every local
maximum, and noise of std 0.1 puts spurious maxima near the crests, where the sinusoid's slope vanishes. rPPG-Toolbox's
1st-order band-pass does not prevent this (its skirt is too gentle: errors of tens of bpm at 60 Hz).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rppgblocks.evaluation import evaluate_hr
from rppgblocks.functional import (
    bandpass,
    fft_heart_rate,
    next_power_of_two,
    peak_heart_rate,
    sliding_window_heart_rate,
    soft_fft_heart_rate,
)
from rppgblocks.heads import FFTHeartRateHead

DTYPES = [torch.float32, torch.float64]
#: Window of the sliding-window estimators, seconds.
WINDOW_S, STEP_S = 8.0, 2.0
#: Leakage margin, as a fraction of the Rayleigh resolution 60 / T_s bpm.
LEAKAGE = 0.05


@dataclass
class Case:
    fs: float
    hr: np.ndarray  # (B,) bpm
    fundamental: np.ndarray  # (B, T), unit amplitude
    harmonic: np.ndarray  # (B, T), amplitude < max_harmonic (or zero)
    noise: np.ndarray  # (B, T), std 0.1 or zero
    max_harmonic: float
    dtype: torch.dtype

    @property
    def n(self) -> int:
        return self.fundamental.shape[1]

    def signal(self, *, noise: bool = True, max_harmonic: float | None = None) -> torch.Tensor:
        """The signals as a tensor, with the harmonic scaled to an amplitude below ``max_harmonic`` if given."""
        scale = 1.0 if max_harmonic is None else min(1.0, max_harmonic / self.max_harmonic)
        x = self.fundamental + scale * self.harmonic + (self.noise if noise else 0.0)
        return torch.from_numpy(x).to(self.dtype)

    def rayleigh(self, n: int | None = None) -> float:
        """The Rayleigh resolution 60 fs / n bpm of ``n`` samples (default: the whole signal)."""
        return 60 * self.fs / (self.n if n is None else n)

    def period(self) -> np.ndarray:
        """The period of each row in samples, (B,)."""
        return 60 * self.fs / self.hr


@st.composite
def cases(draw: st.DrawFn, max_harmonic: float, noise: bool) -> Case:
    fs = draw(st.sampled_from([25.0, 29.97, 30.0, 60.0]))
    n = round(draw(st.floats(10.0, 30.0)) * fs)
    batch = draw(st.integers(1, 4))
    hr = np.array(draw(st.lists(st.floats(45.0, 170.0), min_size=batch, max_size=batch)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    with_harmonic = draw(st.booleans())
    noise_std = draw(st.sampled_from([0.0, 0.1])) if noise else 0.0
    angle = 2 * np.pi * hr[:, None] / 60 * (np.arange(n) / fs) + rng.uniform(0, 2 * np.pi, (batch, 1))
    amplitude = rng.uniform(0, max_harmonic, (batch, 1)) if with_harmonic else np.zeros((batch, 1))
    harmonic = amplitude * np.sin(2 * angle + rng.uniform(0, 2 * np.pi, (batch, 1)))
    white = noise_std * rng.standard_normal((batch, n))
    return Case(fs, hr, np.sin(angle), harmonic, white, max_harmonic, draw(st.sampled_from(DTYPES)))


def _check_rows(estimate: torch.Tensor, case: Case, tol: float | np.ndarray, what: str) -> None:
    assert estimate.dtype == case.dtype, what
    assert estimate.shape == case.hr.shape, what
    error = np.abs(estimate.double().numpy() - case.hr)
    assert np.all(error <= tol), f"{what}: errors {error} > tolerance {tol} (hr {case.hr}, fs {case.fs}, T {case.n})"


def _check_batch_consistency(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> None:
    """Each row alone gives the batched result."""
    batched = fn(x)
    alone = torch.cat([fn(x[i : i + 1]) for i in range(x.shape[0])])
    torch.testing.assert_close(alone, batched, equal_nan=True)


@settings(max_examples=30, deadline=None)
@given(case=cases(max_harmonic=0.5, noise=True))
def test_spectral_estimators_recover_the_heart_rate(case: Case) -> None:
    x, fs = case.signal(), case.fs
    nfft_default = next_power_of_two(max(case.n, 1024))
    nfft_toolbox = next_power_of_two(case.n)
    leakage = LEAKAGE * case.rayleigh()
    estimators: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], float]] = {
        "fft_heart_rate (hann, parabolic)": (lambda s: fft_heart_rate(s, fs), leakage),
        "fft_heart_rate (toolbox, default nfft)": (
            lambda s: fft_heart_rate(s, fs, window="boxcar", refine="none", detrend=False),
            30 * fs / nfft_default + leakage,
        ),
        "fft_heart_rate (toolbox, nfft = next pow2 >= T)": (
            lambda s: fft_heart_rate(s, fs, window="boxcar", refine="none", detrend=False, nfft=nfft_toolbox),
            30 * fs / nfft_toolbox + leakage,
        ),
        "soft_fft_heart_rate": (lambda s: soft_fft_heart_rate(s, fs), 30 * fs / nfft_default + leakage),
        "FFTHeartRateHead": (FFTHeartRateHead(fs=fs), leakage),
        "FFTHeartRateHead(soft=True)": (FFTHeartRateHead(fs=fs, soft=True), 30 * fs / nfft_default + leakage),
        "FFTHeartRateHead(boxcar, none, nfft)": (
            FFTHeartRateHead(fs=fs, window="boxcar", refine="none", nfft=nfft_toolbox),
            30 * fs / nfft_toolbox + leakage,
        ),
    }
    for what, (fn, tol) in estimators.items():
        _check_rows(fn(x), case, tol, what)
        _check_batch_consistency(fn, x)
    # the head is the functional form; fs per call (a float or one rate per row) overrides the constructor's
    head = FFTHeartRateHead(fs=1.0)
    torch.testing.assert_close(head(x, fs), fft_heart_rate(x, fs))
    torch.testing.assert_close(head(x, torch.full((x.shape[0],), fs)), fft_heart_rate(x, fs))
    torch.testing.assert_close(head(x, fs, soft=True), soft_fft_heart_rate(x, fs))


@settings(max_examples=30, deadline=None)
@given(case=cases(max_harmonic=0.5, noise=True))
def test_sliding_window_fft_recovers_the_heart_rate_in_every_window(case: Case) -> None:
    x, fs = case.signal(), case.fs
    length, step = round(WINDOW_S * fs), round(STEP_S * fs)
    n_windows = (case.n - length) // step + 1

    def estimate(s: torch.Tensor) -> torch.Tensor:
        return sliding_window_heart_rate(s, fs, window_s=WINDOW_S, step_s=STEP_S)[0]

    hr = estimate(x)
    assert hr.shape == (x.shape[0], n_windows) and hr.dtype == case.dtype
    error = np.abs(hr.double().numpy() - case.hr[:, None])
    assert np.all(error <= LEAKAGE * case.rayleigh(length)), error.max()
    _check_batch_consistency(estimate, x)
    nfft = next_power_of_two(length)
    toolbox = sliding_window_heart_rate(
        x, fs, window_s=WINDOW_S, step_s=STEP_S, spectral_window="boxcar", refine="none", nfft=nfft
    )[0]
    error = np.abs(toolbox.double().numpy() - case.hr[:, None])
    assert np.all(error <= 30 * fs / nfft + LEAKAGE * case.rayleigh(length)), error.max()


@settings(max_examples=30, deadline=None)
@given(case=cases(max_harmonic=0.25, noise=False))
def test_peak_detection_recovers_the_heart_rate_of_noise_free_signals(case: Case) -> None:
    x, fs, period = case.signal(noise=False), case.fs, case.period()
    span = case.n - 2 * period - 4  # a lower bound of n_last - n_first, samples
    # direct: the end peaks are within one sample of the true crests
    _check_rows(peak_heart_rate(x, fs), case, case.hr * 2 / span, "peak_heart_rate")
    _check_batch_consistency(lambda s: peak_heart_rate(s, fs), x)
    # every sliding window
    length = round(WINDOW_S * fs)
    hr, _ = sliding_window_heart_rate(x, fs, window_s=WINDOW_S, step_s=STEP_S, method="peak")
    assert hr.dtype == case.dtype
    tol = case.hr * 2 / (length - 2 * period - 4)
    assert np.all(np.abs(hr.double().numpy() - case.hr[:, None]) <= tol[:, None])
    # after rPPG-Toolbox's band-pass, which raises the harmonic by at most 1.5x relative to the fundamental (at
    # 45 bpm), so the harmonic is kept under 1/6 for a single crest per period; its end transients move the end peaks
    filtered = bandpass(case.signal(noise=False, max_harmonic=1 / 6), fs)
    _check_rows(peak_heart_rate(filtered, fs), case, case.hr * (period / 2 + 2) / span, "peak_heart_rate(bandpass)")


@settings(max_examples=25, deadline=None)
@given(case=cases(max_harmonic=0.5, noise=True))
def test_evaluate_hr_recovers_the_heart_rate(case: Case) -> None:
    """evaluate_hr (label_type "Raw", prediction = label) in both methods, each row one video.

    Its detrender (lambda = 100 per sample: half gain at 0.95 Hz at 60 Hz) and band-pass together raise the second
    harmonic by up to 4.6x relative to the fundamental (45 bpm at 60 Hz), so the harmonic is kept under 0.05 here:
    after processing it stays under 1/4, the fundamental dominating the spectrum and one crest per period.
    """
    fs, period = case.fs, case.period()
    span = case.n - 2 * period - 4
    tolerances = {
        "FFT": 30 * fs / next_power_of_two(case.n) + LEAKAGE * case.rayleigh(),
        "peak": case.hr * (period / 2 + 2) / span,
    }
    for method, tol in tolerances.items():
        x = case.signal(noise=method == "FFT", max_harmonic=0.05)
        videos = {f"v{i}": row for i, row in enumerate(x)}
        report = evaluate_hr(videos, videos, fs=fs, label_type="Raw", method=method)  # type: ignore[arg-type]
        error = np.abs(report.hr_label_bpm - case.hr)
        assert np.all(error <= tol), f"evaluate_hr {method}: errors {error} > {tol} (hr {case.hr}, fs {fs}, T {case.n})"
        np.testing.assert_array_equal(report.hr_pred_bpm, report.hr_label_bpm)
        assert report.metrics.mae == 0.0
        for i, (video, row) in enumerate(videos.items()):  # batching changes nothing
            alone = evaluate_hr({video: row}, {video: row}, fs=fs, label_type="Raw", method=method)  # type: ignore[arg-type]
            assert alone.pairs[0].hr_label_bpm == report.pairs[i].hr_label_bpm
            assert alone.pairs[0].snr_db == pytest.approx(report.pairs[i].snr_db, rel=1e-9, abs=1e-9)
