"""Heart rate of the 12 real bias-eval clips with ``rppgblocks estimate`` (whole-frame mean RGB -> method -> FFT peak).

Usage::

    python benchmarks/bias_eval_estimate.py /work/shared/data/real/bias_eval [--method pos] [--out results.json]
    python benchmarks/bias_eval_estimate.py /work/shared/data/real/bias_eval --method all

``--method`` is one of the methods of ``rppgblocks estimate`` (green, ica, chrom, pbv, pos, lgi, omit; default pos)
or ``all``, which runs every method on every clip and prints one HR column per method, then MAE, RMSE and mean SNR
per method.

The data (Dasari et al., "Evaluation of biases in remote photoplethysmography methods", npj Digital Medicine 2021;
see the README.md beside the clips) are 4 face videos x 3 skin crops (forehead, left cheek, right cheek), one
ground-truth HR per video from a contact pulse oximeter. Each crop is one clip and is scored against its video's
ground truth.

Printed per clip (one method): the estimate, the ground truth, the error and the spectral SNR of the clip's pulse
signal; then the MAE and RMSE over the clips and, for scale, the MAE of always predicting the mean ground-truth HR of
these clips (an oracle constant: it sees the labels, so it is a floor for "no information", not a fair competitor).

SNR is :func:`rppgblocks.functional.snr_db`, rPPG-Toolbox's definition (``datasets.md`` §4.5 step 6): periodogram
(boxcar, nfft = next power of two >= T); signal power = the bins within ±6 bpm of the ground-truth HR and of its first
harmonic (2 x HR); noise power = the other bins inside the HR band; SNR = 10·log10(signal / noise) dB. It is computed
on the mean-removed pulse signal that ``estimate`` returns.

Nothing here is tuned to these clips: every method runs with the library defaults (see the README there for why).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from pathlib import Path

import torch

from rppgblocks.classical import DEFAULT_POS_WINDOW_S
from rppgblocks.cli import _METHODS, estimate_video
from rppgblocks.functional import DEFAULT_HR_BAND, snr_db

CROPS = ("forehead", "leftcheek", "rightcheek")
CLIP_NAME = re.compile(r"^(?P<video>video\d+)_(?P<crop>[a-z]+)\.avi$")
SNR_TOLERANCE_BPM = 6.0


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


def evaluate(
    clips: list[tuple[str, Path, float]], method: str, band: tuple[float, float], window_s: float
) -> tuple[list[dict[str, object]], list[str]]:
    """Run ``method`` on every clip: one row per clip that succeeded, and the failures."""
    rows: list[dict[str, object]] = []
    failures: list[str] = []
    for name, path, gt in clips:
        try:
            est = estimate_video(path, method=method, band=band, window_s=window_s)
        except (OSError, ValueError) as exc:
            failures.append(f"{name} ({method}): {exc}")
            print(f"error: {name} ({method}): {exc}", file=sys.stderr)
            continue
        rows.append(
            {
                "clip": name,
                "hr_estimate_bpm": est.hr_bpm,
                "hr_ground_truth_bpm": gt,
                "error_bpm": est.hr_bpm - gt,
                "snr_db": float(snr_db((est.bvp - est.bvp.mean())[None].double(), gt, est.fs, band=band)[0]),
                "fs": est.fs,
                "n_frames": est.n_frames,
            }
        )
    return rows, failures


def summarise(rows: list[dict[str, object]]) -> dict[str, object]:
    """MAE, RMSE, the mean-ground-truth baseline's MAE and the mean SNR over ``rows``."""
    summary: dict[str, object] = {"n_clips": len(rows)}
    if not rows:
        return summary
    errors = torch.tensor([float(r["error_bpm"]) for r in rows], dtype=torch.float64)  # type: ignore[arg-type]
    gts = torch.tensor([float(r["hr_ground_truth_bpm"]) for r in rows], dtype=torch.float64)  # type: ignore[arg-type]
    snrs = torch.tensor([float(r["snr_db"]) for r in rows], dtype=torch.float64)  # type: ignore[arg-type]
    mean_gt = float(gts.mean())
    return summary | {
        "mae_bpm": float(errors.abs().mean()),
        "rmse_bpm": float(errors.square().mean().sqrt()),
        "mean_gt_hr_bpm": mean_gt,
        "mean_gt_baseline_mae_bpm": float((gts - mean_gt).abs().mean()),
        "mean_snr_db": float(snrs.mean()),
    }


def print_one(method: str, band: tuple[float, float], window_s: float, rows: list[dict[str, object]]) -> None:
    header = f"{'clip':<20} {'HR est':>8} {'HR gt':>8} {'error':>8} {'SNR dB':>8} {'frames':>7}"
    print(f"method={method} window_s={window_s} band={band[0]}-{band[1]} Hz roi=full (whole frame)")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['clip']:<20} {row['hr_estimate_bpm']:>8.2f} {row['hr_ground_truth_bpm']:>8.2f} "
            f"{row['error_bpm']:>+8.2f} {row['snr_db']:>8.2f} {row['n_frames']:>7}"
        )
    summary = summarise(rows)
    if rows:
        print("-" * len(header))
        print(f"clips: {len(rows)}")
        print(f"MAE:  {summary['mae_bpm']:.2f} bpm")
        print(f"RMSE: {summary['rmse_bpm']:.2f} bpm")
        print(
            f"MAE of always predicting the mean ground-truth HR ({summary['mean_gt_hr_bpm']:.2f} bpm): "
            f"{summary['mean_gt_baseline_mae_bpm']:.2f} bpm"
        )
        print(f"mean SNR: {summary['mean_snr_db']:.2f} dB")


def print_all(
    methods: list[str],
    band: tuple[float, float],
    window_s: float,
    clips: list[tuple[str, Path, float]],
    results: dict[str, list[dict[str, object]]],
) -> None:
    print(f"methods={','.join(methods)} window_s={window_s} (chrom, pbv, pos) band={band[0]}-{band[1]} Hz roi=full")
    header = f"{'clip':<20} {'HR gt':>7} " + " ".join(f"{m:>7}" for m in methods)
    print(header)
    print("-" * len(header))
    by_clip = {m: {str(r["clip"]): float(r["hr_estimate_bpm"]) for r in results[m]} for m in methods}  # type: ignore[arg-type]
    for name, _, gt in clips:
        cells = " ".join(f"{by_clip[m][name]:>7.1f}" if name in by_clip[m] else f"{'failed':>7}" for m in methods)
        print(f"{name:<20} {gt:>7.1f} {cells}")
    print("-" * len(header))
    summaries = {m: summarise(results[m]) for m in methods}
    for label, key, fmt in (
        ("MAE bpm", "mae_bpm", ">7.2f"),
        ("RMSE bpm", "rmse_bpm", ">7.2f"),
        ("mean SNR dB", "mean_snr_db", ">7.2f"),
        ("clips", "n_clips", ">7d"),
    ):
        cells = " ".join(format(summaries[m][key], fmt) if key in summaries[m] else f"{'-':>7}" for m in methods)
        print(f"{label:<28} {cells}")
    baseline = next((s for s in summaries.values() if "mean_gt_baseline_mae_bpm" in s), None)
    if baseline is not None:
        print(
            f"MAE of always predicting the mean ground-truth HR ({baseline['mean_gt_hr_bpm']:.2f} bpm): "
            f"{baseline['mean_gt_baseline_mae_bpm']:.2f} bpm"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("data_dir", type=Path, help="the bias_eval folder (clips + ground_truth.csv)")
    parser.add_argument(
        "--method",
        choices=[*_METHODS, "all"],
        default="pos",
        help="the pulse-extraction method of `rppgblocks estimate`, or all of them (default: pos)",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    truth = read_ground_truth(args.data_dir / "ground_truth.csv")
    clips, problems = find_clips(args.data_dir, truth)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    methods = list(_METHODS) if args.method == "all" else [args.method]
    band, window_s = DEFAULT_HR_BAND, DEFAULT_POS_WINDOW_S

    results: dict[str, list[dict[str, object]]] = {}
    failures: list[str] = []
    for method in methods:
        results[method], failed = evaluate(clips, method, band, window_s)
        failures += failed
    if args.method == "all":
        print_all(methods, band, window_s, clips, results)
    else:
        print_one(args.method, band, window_s, results[args.method])
    elapsed = time.perf_counter() - started
    print(f"time: {elapsed:.1f} s")
    if args.out is not None:
        common = {
            "data_dir": str(args.data_dir),
            "window_s": window_s,
            "band_hz": list(band),
            "roi": "full",
            "snr": {"definition": "rPPG-Toolbox (datasets.md §4.5 step 6), raw method output", "tolerance_bpm": 6.0},
        }
        per_method = {m: {"clips": results[m], "summary": summarise(results[m])} for m in methods}
        if args.method == "all":
            record: dict[str, object] = common | {"methods": per_method}
        else:
            record = common | {"method": args.method} | per_method[args.method]
        record |= {"problems": problems, "failures": failures}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 1 if failures or problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
