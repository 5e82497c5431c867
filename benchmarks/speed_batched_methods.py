"""Speed of rppgblocks' batched POS, CHROM and FFT heart-rate head against plain per-sample numpy/scipy code.

The reference implementations below are written for this benchmark only, in the way such methods are usually
written (one signal at a time, a Python loop over the sliding windows, numpy/scipy): they are the baseline, not
part of the library. Both sides run in the same process on the same data; the script checks that they agree and
reports the time ratio (the target is a ratio of at least 20).

Usage: python benchmarks/speed_batched_methods.py [--repeats 5] [--threads N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable

import numpy as np
import scipy.signal
import torch

from rppgblocks.classical import chrom, pos
from rppgblocks.functional import fft_heart_rate, next_power_of_two

FS = 30.0


def pos_reference(rgb: np.ndarray, fs: float, window_s: float = 1.6) -> np.ndarray:
    """POS (Wang et al. 2017, Algorithm 1) for one trace (3, T): a loop over windows, as usually written."""
    n = rgb.shape[1]
    length = math.ceil(window_s * fs - 1e-9)
    h = np.zeros(n)
    projection = np.array([[0.0, 1.0, -1.0], [-2.0, 1.0, 1.0]])
    for start in range(n - length + 1):
        c = rgb[:, start : start + length]
        cn = c / c.mean(axis=1, keepdims=True)
        s = projection @ cn
        p = s[0] + (s[0].std() / s[1].std()) * s[1]
        h[start : start + length] += p - p.mean()
    return h


def chrom_reference(
    rgb: np.ndarray, fs: float, window_s: float = 1.6, band: tuple[float, float] = (0.6, 3.3), order: int = 3
) -> np.ndarray:
    """CHROM (de Haan & Jeanne 2013) for one trace (3, T): Hann-tapered, half-overlapping intervals in a loop.

    The same definition as :func:`rppgblocks.classical.chrom` (even interval length, per-interval normalisation,
    zero-phase Butterworth band-pass per interval, periodic Hann taper, sign such that +u_p is positive).
    """
    n = rgb.shape[1]
    length = 2 * math.ceil(window_s * fs / 2 - 1e-9)
    step = length // 2
    b, a = scipy.signal.butter(order, [band[0], band[1]], btype="bandpass", fs=fs)
    out = np.zeros(n)
    window = scipy.signal.get_window("hann", length, fftbins=True)  # periodic
    for start in range(0, n - length + 1, step):
        c = rgb[:, start : start + length]
        cn = c / c.mean(axis=1, keepdims=True)
        x = 3 * cn[0] - 2 * cn[1]
        y = 1.5 * cn[0] + cn[1] - 1.5 * cn[2]
        xf, yf = scipy.signal.filtfilt(b, a, x), scipy.signal.filtfilt(b, a, y)
        s = (xf.std() / yf.std()) * yf - xf
        out[start : start + length] += window * s
    return out


def fft_hr_reference(bvp: np.ndarray, fs: float, band: tuple[float, float] = (0.6, 3.3)) -> float:
    """rPPG-Toolbox's FFT HR rule for one signal: scipy periodogram with next-pow2 nfft, argmax in the band."""
    freqs, power = scipy.signal.periodogram(bvp, fs=fs, nfft=next_power_of_two(bvp.shape[0]), detrend=False)
    mask = (freqs >= band[0]) & (freqs <= band[1])
    return float(freqs[mask][np.argmax(power[mask])] * 60.0)


def _time(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _traces(batch: int, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    hr = rng.uniform(50, 150, size=(batch, 1)) / 60
    skin = rng.uniform(80, 200, size=(batch, 3, 1))
    pulse = np.sin(2 * np.pi * hr * t)[:, None, :] * np.array([0.33, 0.77, 0.53])[None, :, None]
    return skin * (1 + 0.01 * pulse + 0.002 * rng.standard_normal((batch, 3, n)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results: dict[str, dict[str, float]] = {}

    traces = _traces(64, 900)
    batched = torch.from_numpy(traces)
    ours = pos(batched, FS).numpy()
    ref = np.stack([pos_reference(x, FS) for x in traces])
    assert np.allclose(ours, ref, atol=1e-8), "POS: batched and reference disagree"
    t_ours = _time(lambda: pos(batched, FS), args.repeats)
    t_ref = _time(lambda: [pos_reference(x, FS) for x in traces], args.repeats)
    results["pos_64x900"] = {"rppgblocks_s": t_ours, "reference_s": t_ref, "ratio": t_ref / t_ours}

    ours = chrom(batched, FS).numpy()
    ref = np.stack([chrom_reference(x, FS) for x in traces])
    assert np.allclose(ours, ref, atol=1e-8 * np.abs(ref).max()), "CHROM: batched and reference disagree"
    t_ours = _time(lambda: chrom(batched, FS), args.repeats)
    t_ref = _time(lambda: [chrom_reference(x, FS) for x in traces], args.repeats)
    results["chrom_64x900"] = {"rppgblocks_s": t_ours, "reference_s": t_ref, "ratio": t_ref / t_ours}

    rng = np.random.default_rng(1)
    clips = np.sin(2 * np.pi * rng.uniform(0.8, 2.5, (256, 1)) * np.arange(180) / FS) + 0.3 * rng.standard_normal(
        (256, 180)
    )
    clips_t = torch.from_numpy(clips)
    nfft = next_power_of_two(180)

    def ours_fft() -> torch.Tensor:
        return fft_heart_rate(clips_t, FS, nfft=nfft, window="boxcar", refine="none", detrend=False)

    assert np.allclose(ours_fft().numpy(), [fft_hr_reference(c, FS) for c in clips]), "FFT HR disagrees"
    t_ours = _time(ours_fft, args.repeats)
    t_ref = _time(lambda: [fft_hr_reference(c, FS) for c in clips], args.repeats)
    results["fft_hr_256x180"] = {"rppgblocks_s": t_ours, "reference_s": t_ref, "ratio": t_ref / t_ours}

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {args.repeats} runs")
    print(f"{'benchmark':<18}{'rppgblocks':>14}{'reference':>14}{'ratio':>10}")
    for name, r in results.items():
        print(f"{name:<18}{r['rppgblocks_s'] * 1e3:>12.2f}ms{r['reference_s'] * 1e3:>12.2f}ms{r['ratio']:>9.1f}x")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
