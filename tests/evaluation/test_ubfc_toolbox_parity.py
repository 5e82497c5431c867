"""Parity of :func:`rppgblocks.evaluation.evaluate_hr` with rPPG-Toolbox's evaluation on real UBFC-rPPG signals.

Runs only where the shared real data is (``RPPGBLOCKS_REAL_DATA`` or ``../shared/data/real`` beside the checkout);
``benchmarks/ubfc_deepphys_parity.py`` prints the same comparison with the metrics report.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from rppgblocks.evaluation import evaluate_hr

HR_TOLERANCE_BPM = 0.01
SNR_TOLERANCE_DB = 0.01

Data = tuple[dict[str, npt.NDArray[np.float32]], dict[str, npt.NDArray[np.float32]], dict[str, dict[str, str]]]


def _data_dir() -> Path:
    root = os.environ.get("RPPGBLOCKS_REAL_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
    return base / "ubfc_deepphys"


@pytest.fixture(scope="module")
def ubfc() -> Data:
    directory = _data_dir()
    arrays, table = directory / "ubfc_deepphys_outputs.npz", directory / "reference_hr.csv"
    if not (arrays.exists() and table.exists()):
        pytest.skip(f"UBFC-rPPG DeepPhys outputs not found in {directory} (set RPPGBLOCKS_REAL_DATA)")
    with open(table, newline="") as handle:
        reference = {row["subject"]: row for row in csv.DictReader(handle)}
    with np.load(arrays) as data:
        predictions = {s: data[f"{s}/pred"] for s in reference}
        labels = {s: data[f"{s}/label"] for s in reference}
    return predictions, labels, reference


@pytest.mark.parametrize(
    ("method", "band", "suffix"),
    [
        ("FFT", (0.75, 2.5), "fft_band_0.75_2.5"),
        ("FFT", (0.6, 3.3), "fft_band_0.6_3.3"),
        ("peak", (0.6, 3.3), "peak_band_0.6_3.3"),
    ],
)
def test_per_subject_heart_rates_equal_the_toolbox(
    ubfc: Data, method: str, band: tuple[float, float], suffix: str
) -> None:
    predictions, labels, reference = ubfc
    report = evaluate_hr(predictions, labels, fs=30.0, label_type="DiffNormalized", method=method, band=band)  # type: ignore[arg-type]
    assert [p.video_id for p in report.pairs] == list(reference)
    for pair in report.pairs:
        row = reference[pair.video_id]
        assert pair.n_samples == int(row["n_frames"])
        assert abs(pair.hr_label_bpm - float(row[f"hr_label_{suffix}"])) <= HR_TOLERANCE_BPM, pair
        assert abs(pair.hr_pred_bpm - float(row[f"hr_pred_{suffix}"])) <= HR_TOLERANCE_BPM, pair
        if suffix == "fft_band_0.6_3.3":
            assert abs(pair.snr_db - float(row["snr_db_band_0.6_3.3"])) <= SNR_TOLERANCE_DB, pair


def test_the_comparison_is_sensitive_to_the_pipeline(ubfc: Data) -> None:
    """Skipping the cumulative sum of DiffNormalized signals moves heart rates by more than the tolerance."""
    predictions, labels, reference = ubfc
    report = evaluate_hr(predictions, labels, label_type="Raw", band=(0.6, 3.3))
    column = "hr_pred_fft_band_0.6_3.3"
    moved = [p for p in report.pairs if abs(p.hr_pred_bpm - float(reference[p.video_id][column])) > 1]
    assert len(moved) >= 3
