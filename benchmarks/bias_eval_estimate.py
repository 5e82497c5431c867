"""Heart rate of the 12 real bias-eval clips with ``rppgblocks estimate`` (whole-frame mean RGB -> POS -> FFT peak).

Usage::

    python benchmarks/bias_eval_estimate.py /work/shared/data/real/bias_eval [--out results.json]

The data (Dasari et al., "Evaluation of biases in remote photoplethysmography methods", npj Digital Medicine 2021;
see the README.md beside the clips) are 4 face videos x 3 skin crops (forehead, left cheek, right cheek), one
ground-truth HR per video from a contact pulse oximeter. Each crop is one clip and is scored against its video's
ground truth.

Printed per clip: the estimate, the ground truth, the error and the spectral SNR of the clip's POS signal; then the
MAE and RMSE over the clips and, for scale, the MAE of always predicting the mean ground-truth HR of these clips
(an oracle constant: it sees the labels, so it is a floor for "no information", not a fair competitor).

SNR follows rPPG-Toolbox's definition (``datasets.md`` §4.5 step 6): periodogram (boxcar, nfft = next power of two
>= T); signal power = the bins within ±6 bpm of the ground-truth HR and of its first harmonic (2 x HR); noise power =
the other bins inside the HR band; SNR = 10·log10(signal / noise) dB. Unlike the toolbox it is computed on the raw
POS output (no detrending or band-pass first).

Nothing here is tuned to these clips: the estimator runs with the library defaults (see the README there for why).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
import time
from pathlib import Path

import torch

from rppgblocks.classical import DEFAULT_POS_WINDOW_S
from rppgblocks.cli import estimate_video
from rppgblocks.functional import DEFAULT_HR_BAND, next_power_of_two, power_spectral_density

CROPS = ("forehead", "leftcheek", "rightcheek")
CLIP_NAME = re.compile(r"^(?P<video>video\d+)_(?P<crop>[a-z]+)\.avi$")
SNR_TOLERANCE_BPM = 6.0


def spectral_snr_db(
    signal: torch.Tensor,
    fs: float,
    hr_bpm: float,
    *,
    band: tuple[float, float] = DEFAULT_HR_BAND,
    tolerance_bpm: float = SNR_TOLERANCE_BPM,
) -> float:
    """rPPG-Toolbox's spectral SNR in dB of a 1-D pulse signal against a reference HR (datasets.md §4.5 step 6).

    Signal: periodogram bins within ``tolerance_bpm`` of ``hr_bpm`` and of ``2 * hr_bpm``; noise: the other bins
    inside ``band`` (Hz). Returns 0.0 when the noise power is 0, as the toolbox does.
    """
    if signal.dim() != 1:
        raise ValueError(f"signal: expected a 1-D signal (T,), got shape {tuple(signal.shape)}")
    nfft = next_power_of_two(signal.shape[0])
    freqs, psd = power_spectral_density(signal[None].double(), fs, nfft=nfft, window="boxcar", detrend=True)
    freqs, psd = freqs[0], psd[0]
    f0, half_width = hr_bpm / 60.0, tolerance_bpm / 60.0
    is_signal = ((freqs - f0).abs() <= half_width) | ((freqs - 2 * f0).abs() <= half_width)
    is_noise = (freqs >= band[0]) & (freqs <= band[1]) & ~is_signal
    p_signal = float(psd[is_signal].sum())
    p_noise = float(psd[is_noise].sum())
    if p_noise == 0.0:
        return 0.0
    if p_signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(p_signal / p_noise)


def read_ground_truth(path: Path) -> dict[str, float]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or set(rows[0]) != {"video", "hr_bpm"}:
        raise ValueError(f"{path}: expected the columns video,hr_bpm")
    return {row["video"]: float(row["hr_bpm"]) for row in rows}


def find_clips(data_dir: Path, truth: dict[str, float]) -> tuple[list[tuple[str, Path, float]], list[str]]:
    """The (clip name, path, ground truth) of every clip, and a list of problems (missing clips or labels)."""
    clips: list[tuple[str, Path, float]] = []
    problems: list[str] = []
    for path in sorted(data_dir.glob("*.avi")):
        match = CLIP_NAME.match(path.name)
        if match is None or match["crop"] not in CROPS:
            problems.append(f"{path.name}: not a videoN_{{{','.join(CROPS)}}}.avi clip; skipped")
            continue
        if match["video"] not in truth:
            problems.append(f"{path.name}: no ground truth for {match['video']} in ground_truth.csv; skipped")
            continue
        clips.append((path.stem, path, truth[match["video"]]))
    found = {name for name, _, _ in clips}
    for video in truth:
        for crop in CROPS:
            if f"{video}_{crop}" not in found:
                problems.append(f"{video}_{crop}.avi: listed in ground_truth.csv but missing")
    clips.sort(key=lambda c: (int(re.sub(r"\D", "", c[0].split("_")[0])), CROPS.index(c[0].split("_")[1])))
    return clips, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("data_dir", type=Path, help="the bias_eval folder (clips + ground_truth.csv)")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    truth = read_ground_truth(args.data_dir / "ground_truth.csv")
    clips, problems = find_clips(args.data_dir, truth)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    method, band, window_s = "pos", DEFAULT_HR_BAND, DEFAULT_POS_WINDOW_S

    rows: list[dict[str, object]] = []
    failures: list[str] = []
    for name, path, gt in clips:
        try:
            est = estimate_video(path, method=method, band=band, window_s=window_s)
        except (OSError, ValueError) as exc:
            failures.append(f"{name}: {exc}")
            print(f"error: {name}: {exc}", file=sys.stderr)
            continue
        rows.append(
            {
                "clip": name,
                "hr_estimate_bpm": est.hr_bpm,
                "hr_ground_truth_bpm": gt,
                "error_bpm": est.hr_bpm - gt,
                "snr_db": spectral_snr_db(est.bvp, est.fs, gt, band=band),
                "fs": est.fs,
                "n_frames": est.n_frames,
            }
        )

    header = f"{'clip':<20} {'HR est':>8} {'HR gt':>8} {'error':>8} {'SNR dB':>8} {'frames':>7}"
    print(f"method={method} window_s={window_s} band={band[0]}-{band[1]} Hz roi=full (whole frame)")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['clip']:<20} {row['hr_estimate_bpm']:>8.2f} {row['hr_ground_truth_bpm']:>8.2f} "
            f"{row['error_bpm']:>+8.2f} {row['snr_db']:>8.2f} {row['n_frames']:>7}"
        )
    summary: dict[str, object] = {"n_clips": len(rows)}
    if rows:
        errors = torch.tensor([float(r["error_bpm"]) for r in rows], dtype=torch.float64)  # type: ignore[arg-type]
        gts = torch.tensor([float(r["hr_ground_truth_bpm"]) for r in rows], dtype=torch.float64)  # type: ignore[arg-type]
        snrs = torch.tensor([float(r["snr_db"]) for r in rows], dtype=torch.float64)  # type: ignore[arg-type]
        mean_gt = float(gts.mean())
        summary |= {
            "mae_bpm": float(errors.abs().mean()),
            "rmse_bpm": float(errors.square().mean().sqrt()),
            "mean_gt_hr_bpm": mean_gt,
            "mean_gt_baseline_mae_bpm": float((gts - mean_gt).abs().mean()),
            "mean_snr_db": float(snrs.mean()),
        }
        print("-" * len(header))
        print(f"clips: {len(rows)}")
        print(f"MAE:  {summary['mae_bpm']:.2f} bpm")
        print(f"RMSE: {summary['rmse_bpm']:.2f} bpm")
        print(
            f"MAE of always predicting the mean ground-truth HR ({mean_gt:.2f} bpm): "
            f"{summary['mean_gt_baseline_mae_bpm']:.2f} bpm"
        )
        print(f"mean SNR: {summary['mean_snr_db']:.2f} dB")
    elapsed = time.perf_counter() - started
    print(f"time: {elapsed:.1f} s")
    if args.out is not None:
        record = {
            "data_dir": str(args.data_dir),
            "method": method,
            "window_s": window_s,
            "band_hz": list(band),
            "roi": "full",
            "snr": {"definition": "rPPG-Toolbox (datasets.md §4.5 step 6), raw POS output", "tolerance_bpm": 6.0},
            "clips": rows,
            "summary": summary,
            "problems": problems,
            "failures": failures,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 1 if failures or problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
