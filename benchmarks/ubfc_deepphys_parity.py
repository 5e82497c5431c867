"""Parity of rppgblocks' evaluation with rPPG-Toolbox's on real UBFC-rPPG labels and a DeepPhys model's outputs.

DATA_DIR is the folder with ``ubfc_deepphys_outputs.npz`` (per subject ``<subject>/pred`` and ``<subject>/label``,
DiffNormalized, 30 Hz) and ``reference_hr.csv`` (the per-subject heart rates and SNR that rPPG-Toolbox's own
evaluation computes from those arrays). For both bands (0.75-2.5 Hz, the toolbox's published setting, and 0.6-3.3 Hz,
its current one) and both HR methods, the script evaluates with :func:`rppgblocks.evaluation.evaluate_hr`, compares
every subject's HR with the reference (tolerance 0.01 bpm) and the SNR (0.01 dB), prints the metrics report, and
exits with status 1 on any mismatch.

Usage: python benchmarks/ubfc_deepphys_parity.py DATA_DIR [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

from rppgblocks.evaluation import evaluate_hr

HR_TOLERANCE_BPM = 0.01
SNR_TOLERANCE_DB = 0.01

# (method, band, reference column of the label HR, of the predicted HR, of the SNR or None)
CHECKS = [
    ("FFT", (0.75, 2.5), "hr_label_fft_band_0.75_2.5", "hr_pred_fft_band_0.75_2.5", None),
    ("FFT", (0.6, 3.3), "hr_label_fft_band_0.6_3.3", "hr_pred_fft_band_0.6_3.3", "snr_db_band_0.6_3.3"),
    ("peak", (0.6, 3.3), "hr_label_peak_band_0.6_3.3", "hr_pred_peak_band_0.6_3.3", None),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    arrays = np.load(args.data_dir / "ubfc_deepphys_outputs.npz")
    with open(args.data_dir / "reference_hr.csv", newline="") as handle:
        reference = {row["subject"]: row for row in csv.DictReader(handle)}
    subjects = sorted(reference, key=lambda s: int(s.removeprefix("subject")))
    predictions = {s: arrays[f"{s}/pred"] for s in subjects}
    labels = {s: arrays[f"{s}/label"] for s in subjects}

    failures = 0
    summary: dict[str, object] = {}
    for method, band, label_col, pred_col, snr_col in CHECKS:
        report = evaluate_hr(predictions, labels, fs=30.0, label_type="DiffNormalized", method=method, band=band)
        name = f"{method} band {band[0]}-{band[1]} Hz"
        worst_hr, worst_snr = 0.0, 0.0
        for pair in report.pairs:
            row = reference[pair.video_id]
            worst_hr = max(
                worst_hr,
                abs(pair.hr_label_bpm - float(row[label_col])),
                abs(pair.hr_pred_bpm - float(row[pred_col])),
            )
            if snr_col is not None:
                worst_snr = max(worst_snr, abs(pair.snr_db - float(row[snr_col])))
        ok = worst_hr <= HR_TOLERANCE_BPM and worst_snr <= SNR_TOLERANCE_DB
        failures += not ok
        print(
            f"== {name}: {len(report.pairs)} subjects; largest HR difference to rPPG-Toolbox {worst_hr:.4f} bpm", end=""
        )
        print(f", SNR {worst_snr:.4f} dB" if snr_col else "", "->", "PASS" if ok else "FAIL")
        print(report.report())
        summary[name] = {"max_hr_difference_bpm": worst_hr, "max_snr_difference_db": worst_snr, **report.as_dict()}
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    print("parity:", "PASS" if failures == 0 else f"FAIL ({failures} check(s))")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
