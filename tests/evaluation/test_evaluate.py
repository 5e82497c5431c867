"""Tests of :func:`rppgblocks.evaluation.evaluate_hr` against a direct numpy/scipy re-derivation of rPPG-Toolbox's rule.

The reference below follows the documented definition step by step with the toolbox's own tools: ``np.cumsum`` for
DiffNormalized signals, the smoothness-priors detrender as a dense matrix inverse, ``scipy.signal.butter`` +
``filtfilt``, ``scipy.signal.periodogram`` with a next-power-of-two length, ``scipy.signal.find_peaks``.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rppgblocks.evaluation import HREvaluation, evaluate_hr, hr_metrics, postprocess_bvp

BANDS = [(0.6, 3.3), (0.75, 2.5)]
LABEL_TYPES = ["DiffNormalized", "Standardized", "Raw"]


# --------------------------------------------------------------------------------------------------------------
# The reference: rPPG-Toolbox's post-processing and heart-rate rules, re-derived with numpy/scipy
# --------------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _detrend_matrix(n: int, lam: float) -> np.ndarray:
    """``I - inv(I + lam^2 D^T D)``, D the (n-2) x n second-difference matrix (Tarvainen et al. 2002, Eq. 6)."""
    d = np.zeros((n - 2, n))
    rows = np.arange(n - 2)
    d[rows, rows], d[rows, rows + 1], d[rows, rows + 2] = 1.0, -2.0, 1.0
    eye = np.eye(n)
    return eye - np.linalg.inv(eye + lam**2 * d.T @ d)


def _ref_postprocess(
    x: np.ndarray, fs: float, *, diff: bool, band: tuple[float, float], lam: float = 100.0, order: int = 1
) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if diff:
        x = np.cumsum(x)
    x = _detrend_matrix(len(x), lam) @ x
    b, a = scipy.signal.butter(order, [band[0] / (fs / 2), band[1] / (fs / 2)], btype="bandpass")
    return scipy.signal.filtfilt(b, a, x)


def _nfft(n: int) -> int:
    return 1 << (n - 1).bit_length()


def _ref_fft_hr(x: np.ndarray, fs: float, band: tuple[float, float]) -> float:
    f, p = scipy.signal.periodogram(x, fs, nfft=_nfft(len(x)), detrend=False)
    inside = (f >= band[0]) & (f <= band[1])
    return 60.0 * f[inside][np.argmax(p[inside])]


def _ref_peak_hr(x: np.ndarray, fs: float) -> float:
    peaks = scipy.signal.find_peaks(x)[0]
    if len(peaks) < 2:
        return math.nan
    return 60.0 / (np.mean(np.diff(peaks)) / fs)


def _ref_snr(x: np.ndarray, hr: float, fs: float, band: tuple[float, float]) -> float:
    f, p = scipy.signal.periodogram(x, fs, nfft=_nfft(len(x)), detrend=False)
    f1, f2, dev = hr / 60, 2 * hr / 60, 0.1
    first = (f >= f1 - dev) & (f <= f1 + dev)
    second = (f >= f2 - dev) & (f <= f2 + dev)
    rest = (f >= band[0]) & (f <= band[1]) & ~first & ~second
    signal, noise = p[first].sum() + p[second].sum(), p[rest].sum()
    if noise == 0:
        return 0.0
    return -math.inf if signal == 0 else 10 * math.log10(signal / noise)


RefPair = tuple[str, int, int, int, float, float, float]


def _ref_evaluate(
    preds: Mapping[str, np.ndarray],
    labels: Mapping[str, np.ndarray],
    *,
    fs: float | Mapping[str, float],
    label_type: str,
    method: str,
    band: tuple[float, float],
    window_s: float | None,
) -> tuple[list[RefPair], list[tuple[str, int, int]]]:
    """(video, window, start, n, hr_pred, hr_label, snr) per evaluated window, and (video, start, n) per skipped one."""
    pairs: list[RefPair] = []
    skipped: list[tuple[str, int, int]] = []
    for video in preds:
        rate = fs[video] if isinstance(fs, Mapping) else fs
        pred, label = np.asarray(preds[video], np.float64), np.asarray(labels[video], np.float64)
        n = len(pred)
        size = n if window_s is None else round(window_s * rate)
        for index, start in enumerate(range(0, n, size)):
            length = min(size, n - start)
            if length < 9:
                skipped.append((video, start, length))
                continue
            processed = [
                _ref_postprocess(s[start : start + length], rate, diff=label_type == "DiffNormalized", band=band)
                for s in (pred, label)
            ]
            if method == "FFT":
                hr_pred, hr_label = (_ref_fft_hr(s, rate, band) for s in processed)
            else:
                hr_pred, hr_label = (_ref_peak_hr(s, rate) for s in processed)
            snr = _ref_snr(processed[0], hr_label, rate, band)
            pairs.append((video, index, start, length, hr_pred, hr_label, snr))
    return pairs, skipped


# --------------------------------------------------------------------------------------------------------------
# Synthetic videos
# --------------------------------------------------------------------------------------------------------------


def _pulse(rng: np.random.Generator, n: int, fs: float, hr_bpm: float, noise: float) -> np.ndarray:
    """A pulse sinusoid with a weaker second harmonic, white noise and a slow random drift."""
    t = np.arange(n) / fs
    f0 = hr_bpm / 60
    pulse = np.sin(2 * np.pi * f0 * t + rng.uniform(0, 2 * np.pi))
    pulse += 0.3 * np.sin(4 * np.pi * f0 * t + rng.uniform(0, 2 * np.pi))
    drift = rng.uniform(-1, 1) * t / t[-1] + rng.uniform(-1, 1) * np.sin(2 * np.pi * 0.05 * t + rng.uniform(0, 6))
    return rng.uniform(0.5, 2.0) * pulse + noise * rng.standard_normal(n) + drift + rng.uniform(-5, 5)


def _as_label_type(x: np.ndarray, label_type: str) -> np.ndarray:
    """The signal as rPPG-Toolbox stores it: DiffNormalized = diff / std with a zero appended (same length)."""
    if label_type == "DiffNormalized":
        d = np.diff(x)
        return np.append(d / np.std(d), 0.0)
    if label_type == "Standardized":
        return (x - x.mean()) / x.std()
    return x


def _videos(
    seed: int, lengths: Sequence[int], rates: Sequence[float], label_type: str, noise: float = 1.0
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    preds, labels = {}, {}
    for i, (n, fs) in enumerate(zip(lengths, rates, strict=True)):
        hr = rng.uniform(45.0, 170.0)
        hr_pred = hr + rng.choice([0.0, rng.uniform(-20, 20)])
        labels[f"v{i}"] = _as_label_type(_pulse(rng, n, fs, hr, noise=0.1), label_type)
        preds[f"v{i}"] = _as_label_type(_pulse(rng, n, fs, hr_pred, noise=noise), label_type)
    return preds, labels


def _same(a: float, b: float, tol: float = 1e-6) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(b))


def _assert_metrics_equal(report: HREvaluation, pred: Sequence[float], true: Sequence[float]) -> None:
    expected = hr_metrics(list(pred), list(true)).as_dict()
    got = report.metrics.as_dict()
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-9, nan_ok=True), key


# --------------------------------------------------------------------------------------------------------------
# 1. Agreement with the reference
# --------------------------------------------------------------------------------------------------------------


@settings(max_examples=14, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    lengths=st.lists(st.integers(200, 900), min_size=1, max_size=4),
    equal_lengths=st.booleans(),
    rates=st.lists(st.sampled_from([25.0, 30.0]), min_size=4, max_size=4),
    fs_per_video=st.booleans(),
    label_type=st.sampled_from(LABEL_TYPES),
    method=st.sampled_from(["FFT", "peak"]),
    band=st.sampled_from(BANDS),
    window_s=st.sampled_from([None, None, 7.0]),
)
def test_equals_the_reference_on_random_videos(
    seed: int,
    lengths: list[int],
    equal_lengths: bool,
    rates: list[float],
    fs_per_video: bool,
    label_type: str,
    method: str,
    band: tuple[float, float],
    window_s: float | None,
) -> None:
    if equal_lengths:
        lengths = [lengths[0]] * len(lengths)  # one batch inside evaluate_hr
    rates = rates[: len(lengths)] if fs_per_video else [rates[0]] * len(lengths)
    preds, labels = _videos(seed, lengths, rates, label_type)
    fs: float | dict[str, float] = dict(zip(preds, rates, strict=True)) if fs_per_video else rates[0]
    kwargs = {"fs": fs, "label_type": label_type, "method": method, "band": band, "window_s": window_s}
    expected, expected_skipped = _ref_evaluate(preds, labels, **kwargs)  # type: ignore[arg-type]
    if any(math.isnan(p[4]) or math.isnan(p[5]) for p in expected):  # peak detection without two peaks
        with pytest.raises(ValueError, match="too few peaks"):
            evaluate_hr(preds, labels, **kwargs)  # type: ignore[arg-type]
        return
    report = evaluate_hr(preds, labels, **kwargs)  # type: ignore[arg-type]

    assert len(report.pairs) == len(expected)
    for pair, (video, window, start, n, hr_pred, hr_label, snr) in zip(report.pairs, expected, strict=True):
        assert (pair.video_id, pair.window, pair.start, pair.n_samples) == (video, window, start, n)
        if method == "FFT":  # the very same periodogram bin
            rate = fs[video] if isinstance(fs, dict) else fs
            bin_width = 60 * rate / _nfft(n)
            assert round(pair.hr_pred_bpm / bin_width) == round(hr_pred / bin_width)
            assert round(pair.hr_label_bpm / bin_width) == round(hr_label / bin_width)
        assert pair.hr_pred_bpm == pytest.approx(hr_pred, rel=1e-9)
        assert pair.hr_label_bpm == pytest.approx(hr_label, rel=1e-9)
        assert _same(pair.snr_db, snr), (pair.snr_db, snr)
    assert [s[:3] for s in report.skipped] == expected_skipped
    _assert_metrics_equal(report, [p[4] for p in expected], [p[5] for p in expected])
    np.testing.assert_array_equal(report.hr_pred_bpm, [p.hr_pred_bpm for p in report.pairs])
    np.testing.assert_array_equal(report.hr_label_bpm, [p.hr_label_bpm for p in report.pairs])
    assert report.settings["method"] == method and report.settings["label_type"] == label_type
    assert report.settings["band"] == band and report.settings["window_s"] == window_s


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    batch=st.integers(1, 3),
    n=st.integers(20, 600),
    fs=st.sampled_from([25.0, 30.0, 60.0]),
    diff=st.booleans(),
    band=st.sampled_from(BANDS),
    lam=st.sampled_from([100.0, 20.0]),
    order=st.sampled_from([1, 2]),
)
def test_postprocess_bvp_equals_the_reference(
    seed: int, batch: int, n: int, fs: float, diff: bool, band: tuple[float, float], lam: float, order: int
) -> None:
    assume(n > 3 * (2 * order + 1))  # filtfilt's default padding
    rng = np.random.default_rng(seed)
    x = np.stack([_as_label_type(_pulse(rng, n, fs, rng.uniform(45, 170), 0.5), "Standardized") for _ in range(batch)])
    if diff:
        x = np.stack([_as_label_type(row, "DiffNormalized") for row in x])
    kwargs = {"diff_normalized": diff, "band": band, "detrend_lambda": lam, "filter_order": order}
    out = postprocess_bvp(torch.from_numpy(x), fs, **kwargs)  # type: ignore[arg-type]
    assert out.dtype == torch.float64 and out.shape == x.shape
    expected = np.stack([_ref_postprocess(row, fs, diff=diff, band=band, lam=lam, order=order) for row in x])
    np.testing.assert_allclose(out.numpy(), expected, rtol=0, atol=1e-9)
    # float32 input is computed in float64 too
    out32 = postprocess_bvp(torch.from_numpy(x).float(), fs, **kwargs)  # type: ignore[arg-type]
    assert out32.dtype == torch.float64
    expected32 = np.stack(
        [_ref_postprocess(row, fs, diff=diff, band=band, lam=lam, order=order) for row in x.astype(np.float32)]
    )
    np.testing.assert_allclose(out32.numpy(), expected32, rtol=0, atol=1e-9)


# --------------------------------------------------------------------------------------------------------------
# 2. The summary statistics equal their definitions
# --------------------------------------------------------------------------------------------------------------


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_videos=st.integers(3, 7), method=st.sampled_from(["FFT", "peak"]))
def test_metrics_and_snr_equal_their_definitions(seed: int, n_videos: int, method: str) -> None:
    preds, labels = _videos(seed, [450] * n_videos, [30.0] * n_videos, "Raw", noise=0.5)
    report = evaluate_hr(preds, labels, label_type="Raw", method=method)  # type: ignore[arg-type]
    pred, gt = report.hr_pred_bpm, report.hr_label_bpm
    snr = np.array([p.snr_db for p in report.pairs])
    n, e = len(gt), pred - gt
    m = report.metrics
    assert m.n == n == n_videos
    assert m.mae == pytest.approx(np.mean(np.abs(e)), abs=1e-12)
    assert m.mae_se == pytest.approx(np.std(np.abs(e)) / math.sqrt(n), abs=1e-12)
    assert m.rmse == pytest.approx(math.sqrt(np.mean(e**2)), abs=1e-12)
    assert m.rmse_se == pytest.approx(math.sqrt(np.std(e**2) / math.sqrt(n)), abs=1e-12)
    assert m.mape == pytest.approx(100 * np.mean(np.abs(e) / gt), abs=1e-12)
    assert m.mape_se == pytest.approx(100 * np.std(np.abs(e) / gt) / math.sqrt(n), abs=1e-12)
    assert m.sd == pytest.approx(np.std(e), abs=1e-12)
    assert m.sd_se == pytest.approx(np.std(e) / math.sqrt(2 * (n - 1)), abs=1e-12)
    if np.std(pred) > 0 and np.std(gt) > 0:
        r = np.corrcoef(pred, gt)[0, 1]
        assert m.pearson == pytest.approx(r, abs=1e-12)
        assert m.pearson_se == pytest.approx(math.sqrt((1 - r**2) / (n - 2)), abs=1e-12)
    else:
        assert math.isnan(m.pearson)
    assert report.snr_db == pytest.approx(np.mean(snr), abs=1e-12)
    assert report.snr_db_se == pytest.approx(np.std(snr) / math.sqrt(n), abs=1e-12)


def test_a_perfect_prediction_has_zero_error() -> None:
    _, labels = _videos(3, [600, 700, 800], [30.0] * 3, "DiffNormalized")
    report = evaluate_hr(labels, labels)
    assert report.metrics.mae == report.metrics.rmse == report.metrics.sd == 0.0
    assert report.metrics.pearson == pytest.approx(1.0)
    np.testing.assert_array_equal(report.hr_pred_bpm, report.hr_label_bpm)


# --------------------------------------------------------------------------------------------------------------
# 3. Windowed evaluation
# --------------------------------------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(
    lengths=st.lists(st.integers(40, 1500), min_size=1, max_size=3),
    fs=st.sampled_from([25.0, 30.0, 29.97]),
    window_s=st.floats(1.5, 12.0),
)
def test_window_layout(lengths: list[int], fs: float, window_s: float) -> None:
    size = round(window_s * fs)
    assume(any(n >= 10 for n in lengths))
    rng = np.random.default_rng(len(lengths))
    signals = {f"v{i}": rng.standard_normal(n) for i, n in enumerate(lengths)}
    report = evaluate_hr(signals, signals, fs=fs, label_type="Raw", window_s=window_s)
    expected_pairs, expected_skipped = [], []
    for video, signal in signals.items():
        n = len(signal)
        n_windows = math.ceil(n / size)
        for k in range(n_windows):
            start, length = k * size, min(size, n - k * size)
            if length >= 10:  # >= 9 (rPPG-Toolbox) and > 9 (the first-order band-pass's padding)
                expected_pairs.append((video, k, start, length))
            else:
                assert k == n_windows - 1  # only the last window can be short
                expected_skipped.append((video, start, length))
    assert [(p.video_id, p.window, p.start, p.n_samples) for p in report.pairs] == expected_pairs
    assert [s[:3] for s in report.skipped] == expected_skipped
    assert all("9" in s[3] for s in report.skipped)  # the reason names the minimum length
    assert all(("shorter than 9" in s[3]) == (s[2] < 9) for s in report.skipped)
    assert report.metrics.n == len(expected_pairs)
    for video, signal in signals.items():  # pairs per video = its evaluated windows
        count = sum(p.video_id == video for p in report.pairs)
        assert count == math.ceil(len(signal) / size) - sum(s[0] == video for s in expected_skipped)


def test_short_tail_is_skipped_and_reported() -> None:
    fs, size = 30.0, 300
    rng = np.random.default_rng(0)
    signals = {"a": rng.standard_normal(2 * size + 5), "b": rng.standard_normal(size + 12)}
    report = evaluate_hr(signals, signals, fs=fs, label_type="Raw", window_s=10.0)
    assert [(p.video_id, p.start, p.n_samples) for p in report.pairs] == [
        ("a", 0, 300),
        ("a", 300, 300),
        ("b", 0, 300),
        ("b", 300, 12),
    ]
    assert len(report.skipped) == 1
    video, start, n, reason = report.skipped[0]
    assert (video, start, n) == ("a", 600, 5) and "shorter than 9" in reason
    assert report.as_dict()["skipped"] == [["a", 600, 5, reason]]


@pytest.mark.parametrize(("order", "kept"), [(1, [300, 10]), (2, [300, 16])])
def test_windows_too_short_for_the_band_pass_are_skipped(order: int, kept: list[int]) -> None:
    rng = np.random.default_rng(0)
    padding = 3 * (2 * order + 1)
    for tail in (9, padding, padding + 1):
        x = rng.standard_normal(300 + tail)
        report = evaluate_hr({"a": x}, {"a": x}, label_type="Raw", window_s=10.0, filter_order=order)
        if tail > padding:
            assert [p.n_samples for p in report.pairs] == [300, tail] and not report.skipped
            assert tail == kept[1]
        else:
            assert [p.n_samples for p in report.pairs] == [300]
            reason = f"too short for the band-pass (needs more than {padding} samples)"
            assert report.skipped == (("a", 300, tail, reason),)


def _chirp_free_steps(fs: float, segments: Sequence[tuple[float, float]]) -> np.ndarray:
    """A phase-continuous sinusoid whose frequency steps between segments of (duration_s, hr_bpm)."""
    freq = np.concatenate([np.full(round(d * fs), hr / 60) for d, hr in segments])
    phase = 2 * np.pi * np.cumsum(freq) / fs
    return np.sin(phase)


@pytest.mark.parametrize("label_type", ["Raw", "DiffNormalized"])
@pytest.mark.parametrize("fs", [30.0, 25.0])
def test_windows_follow_a_changing_heart_rate(label_type: str, fs: float) -> None:
    segments = [(20.0, 60.0), (20.0, 120.0)]
    x = _chirp_free_steps(fs, segments)
    noisy = x + 0.2 * np.random.default_rng(0).standard_normal(x.shape)
    preds, labels = ({"v": _as_label_type(s, label_type)} for s in (noisy, x))
    report = evaluate_hr(preds, labels, fs=fs, label_type=label_type, window_s=10.0)  # type: ignore[arg-type]
    size = round(10.0 * fs)
    assert [p.start for p in report.pairs] == [0, size, 2 * size, 3 * size]
    truth = [60.0, 60.0, 120.0, 120.0]
    bin_bpm = 60 * fs / _nfft(size)  # one FFT bin
    np.testing.assert_array_less(np.abs(report.hr_label_bpm - truth), bin_bpm)
    np.testing.assert_array_less(np.abs(report.hr_pred_bpm - truth), bin_bpm)
    whole = evaluate_hr(preds, labels, fs=fs, label_type=label_type)  # type: ignore[arg-type]
    assert len(whole.pairs) == 1 and not whole.skipped  # whole-video evaluation: one pair


# --------------------------------------------------------------------------------------------------------------
# 4. Per-video sampling rates and batching
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["FFT", "peak"])
@pytest.mark.parametrize("window_s", [None, 5.0])
def test_fs_per_video_and_batching_change_nothing(method: str, window_s: float | None) -> None:
    # b, c share (length, fs): one batch; d has b's length at another fs; a is alone
    lengths, rates = [500, 600, 600, 600], [25.0, 30.0, 30.0, 25.0]
    preds, labels = _videos(7, lengths, rates, "DiffNormalized", noise=0.5)
    fs = dict(zip(preds, rates, strict=True))
    report = evaluate_hr(preds, labels, fs=fs, method=method, window_s=window_s)  # type: ignore[arg-type]
    assert report.settings["fs"] == fs
    assert [p.video_id for p in report.pairs] == sorted(p.video_id for p in report.pairs)  # input order kept
    for video in preds:
        alone = evaluate_hr(
            {video: preds[video]},
            {video: labels[video]},
            fs=fs[video],
            method=method,  # type: ignore[arg-type]
            window_s=window_s,
        )
        batched = [p for p in report.pairs if p.video_id == video]
        assert len(batched) == len(alone.pairs)
        for p, q in zip(batched, alone.pairs, strict=True):
            assert (p.window, p.start, p.n_samples) == (q.window, q.start, q.n_samples)
            assert p.hr_pred_bpm == pytest.approx(q.hr_pred_bpm, rel=1e-12)
            assert p.hr_label_bpm == pytest.approx(q.hr_label_bpm, rel=1e-12)
            assert p.snr_db == pytest.approx(q.snr_db, rel=1e-9, abs=1e-9)
    # the wrong rate for a video changes its result: the mapping is used per video
    wrong = evaluate_hr({"v0": preds["v0"]}, {"v0": labels["v0"]}, fs=30.0, method=method)  # type: ignore[arg-type]
    right = evaluate_hr({"v0": preds["v0"]}, {"v0": labels["v0"]}, fs=25.0, method=method)  # type: ignore[arg-type]
    assert wrong.pairs[0].hr_label_bpm != pytest.approx(right.pairs[0].hr_label_bpm, rel=1e-3)


# --------------------------------------------------------------------------------------------------------------
# 5. The band
# --------------------------------------------------------------------------------------------------------------


def test_band_decides_whether_a_fast_pulse_is_found() -> None:
    fs, n = 30.0, 900
    x = np.sin(2 * np.pi * 2.8 * np.arange(n) / fs)  # 168 bpm
    wide = evaluate_hr({"v": x}, {"v": x}, fs=fs, label_type="Raw", band=(0.6, 3.3))
    half_bin = 30 * fs / _nfft(n)
    assert abs(wide.pairs[0].hr_label_bpm - 168.0) <= half_bin
    assert abs(wide.pairs[0].hr_pred_bpm - 168.0) <= half_bin
    narrow = evaluate_hr({"v": x}, {"v": x}, fs=fs, label_type="Raw", band=(0.75, 2.5))
    for hr in (narrow.pairs[0].hr_label_bpm, narrow.pairs[0].hr_pred_bpm):
        assert 45.0 <= hr <= 150.0
    assert narrow.settings["band"] == (0.75, 2.5)


# --------------------------------------------------------------------------------------------------------------
# 6. Report, plots, serialisation
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def report() -> HREvaluation:
    preds, labels = _videos(11, [600, 650, 700, 750], [30.0] * 4, "DiffNormalized", noise=1.0)
    return evaluate_hr(preds, labels)


def test_report_text(report: HREvaluation) -> None:
    text = report.report()
    assert f"{report.metrics.mae:.4f}" in text and f"{report.metrics.rmse:.4f}" in text
    assert f"{report.snr_db:.4f}" in text
    assert f"n = {report.metrics.n}" in text and "videos" in text
    assert text.splitlines()[0].startswith("FFT MAE")


def test_as_dict_is_json_serialisable(report: HREvaluation) -> None:
    d = report.as_dict()
    text = json.dumps(d, allow_nan=False)
    back = json.loads(text)
    assert back["metrics"]["mae"] == pytest.approx(report.metrics.mae)
    assert len(back["pairs"]) == len(report.pairs) == 4
    assert back["pairs"][2]["hr_pred_bpm"] == report.pairs[2].hr_pred_bpm
    assert back["settings"]["method"] == "FFT" and back["snr_db"] == pytest.approx(report.snr_db)


def test_save_plots(report: HREvaluation, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    paths = report.save_plots(tmp_path, prefix="x_")
    assert len(paths) == 2 and len({p.name for p in paths}) == 2
    for path in paths:
        assert path.parent == tmp_path and path.name.startswith("x_") and path.suffix == ".png"
        data = path.read_bytes()
        assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_bvp_plot_writes_a_png_and_rejects_bad_signals(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from rppgblocks.evaluation import bvp_plot

    wave = np.sin(2 * np.pi * 1.2 * np.arange(300) / 30.0)
    path = bvp_plot(3.0 * wave + 5.0, wave, tmp_path / "sub" / "bvp.png", fs=30.0, title="x")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="pred, label"):
        bvp_plot(wave, wave[:-1], tmp_path / "a.png")
    with pytest.raises(ValueError, match="fs"):
        bvp_plot(wave, wave, tmp_path / "b.png", fs=0.0)
    with pytest.raises(ValueError, match="label"):
        bvp_plot(wave, np.full(300, np.nan), tmp_path / "c.png")


# --------------------------------------------------------------------------------------------------------------
# 7. Errors
# --------------------------------------------------------------------------------------------------------------


def test_errors() -> None:
    x = np.sin(np.arange(300) / 5.0)
    ok = {"a": x}
    with pytest.raises(ValueError, match="predictions") as info:
        evaluate_hr({"a": x, "c": x}, {"a": x, "b": x})
    assert "'b'" in str(info.value) and "'c'" in str(info.value)
    assert "missing ['b']" in str(info.value) and "extra ['c']" in str(info.value)
    with pytest.raises(ValueError, match=r"predictions\['a'\]"):
        evaluate_hr({"a": x[:-1]}, ok)
    with pytest.raises(ValueError, match=r"labels\['a'\].*1-D"):
        evaluate_hr(ok, {"a": np.stack([x, x])})
    with pytest.raises(ValueError, match=r"predictions\['a'\].*non-finite"):
        evaluate_hr({"a": np.where(np.arange(300) == 7, np.nan, x)}, ok)
    with pytest.raises(ValueError, match="label_type"):
        evaluate_hr(ok, ok, label_type="Normalized")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method"):
        evaluate_hr(ok, ok, method="fft")  # type: ignore[arg-type]
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="window_s"):
            evaluate_hr(ok, ok, window_s=bad)
    with pytest.raises(ValueError, match="band"):
        evaluate_hr(ok, ok, fs=6.0, band=(0.6, 3.3))  # Nyquist 3 Hz
    with pytest.raises(ValueError, match="band"):
        evaluate_hr({"a": x, "b": x}, {"a": x, "b": x}, fs={"a": 30.0, "b": 6.0})
    with pytest.raises(ValueError, match="fs"):
        evaluate_hr(ok, ok, fs=0.0)
    with pytest.raises(ValueError, match="predictions: nothing to evaluate"):
        evaluate_hr({"a": x[:8]}, {"a": x[:8]})
    with pytest.raises(ValueError, match="predictions: nothing to evaluate"):
        evaluate_hr(ok, ok, window_s=0.2)  # 6-sample windows
    with pytest.raises(ValueError, match="predictions: nothing to evaluate"):
        evaluate_hr({}, {})


def test_peak_method_without_two_peaks_is_an_error() -> None:
    flat = {"v": np.zeros(300)}
    with pytest.raises(ValueError, match="too few peaks") as info:
        evaluate_hr(flat, flat, label_type="Raw", method="peak")
    assert "'v'" in str(info.value)
    assert evaluate_hr(flat, flat, label_type="Raw", method="FFT").metrics.n == 1  # the FFT rule still answers


# --------------------------------------------------------------------------------------------------------------
# 8. Input types
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["FFT", "peak"])
def test_tensor_numpy_and_list_inputs_agree(method: str) -> None:
    preds, labels = _videos(5, [400, 500], [30.0, 30.0], "DiffNormalized", noise=0.5)
    preds32 = {k: v.astype(np.float32) for k, v in preds.items()}  # exactly representable in every container
    labels32 = {k: v.astype(np.float32) for k, v in labels.items()}
    variants = [
        (preds32, labels32),
        ({k: v.astype(np.float64) for k, v in preds32.items()}, labels32),
        ({k: torch.from_numpy(v) for k, v in preds32.items()}, {k: torch.from_numpy(v) for k, v in labels32.items()}),
        ({k: torch.from_numpy(v).double() for k, v in preds32.items()}, labels32),
        ({k: v.tolist() for k, v in preds32.items()}, {k: v.tolist() for k, v in labels32.items()}),
    ]
    reports = [evaluate_hr(p, q, method=method) for p, q in variants]  # type: ignore[arg-type]
    for other in reports[1:]:
        assert other.pairs == reports[0].pairs
        metrics, expected = other.metrics.as_dict(), reports[0].metrics.as_dict()
        np.testing.assert_array_equal(list(metrics.values()), list(expected.values()))  # NaN == NaN here
