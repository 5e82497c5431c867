"""examples/train_stven_rppgnet.py runs end to end on tiny synthetic data compressed with real codecs."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch

ROOT = Path(__file__).parents[2]
Loader = Callable[[str], ModuleType]  # the load_example fixture (conftest.py)


@pytest.fixture(scope="module")
def example(load_example: Loader) -> ModuleType:
    pytest.importorskip("cv2")
    av = pytest.importorskip("av")
    del av
    from rppgblocks.data import available_codecs

    if "h264" not in available_codecs():
        pytest.skip("this PyAV/FFmpeg build has no H.264 encoder")
    return load_example("train_stven_rppgnet")


def test_cli_overrides_and_validation(example: ModuleType) -> None:
    defaults = example.parse_args([])
    assert defaults == example.Config()
    assert [lv.name for lv in example.parse_levels(defaults.levels)] == [
        "h264@40kbps",
        "mpeg4@10kbps",
        "h264@12kbps",
    ]
    config = example.parse_args(
        ["--levels", "mpeg4:50", "h264:8", "--stven-channels", "4", "8", "8", "--no-amp", "--eval-window-s", "none"]
    )
    assert config.levels == ("mpeg4:50", "h264:8")
    assert config.stven_channels == (4, 8, 8)
    assert config.amp is False and config.eval_window_s is None
    with pytest.raises(ValueError, match="levels"):
        example.parse_args(["--levels", "h265:100"])
    with pytest.raises(ValueError, match="frame-size"):
        example.parse_args(["--frame-size", "24"])
    with pytest.raises(SystemExit):
        example.parse_args(["--device", "tpu"])


def test_skin_labels(example: ModuleType) -> None:
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    frames[:, :, :2] = (200, 150, 120)  # skin tone on the left half
    frames[:, :, 2:] = (40, 60, 200)  # blue on the right half
    labels = example.skin_labels(frames)
    assert labels.shape == (2, 2, 2) and labels.dtype == np.float32
    np.testing.assert_array_equal(labels[:, :, 0], 1.0)
    np.testing.assert_array_equal(labels[:, :, 1], 0.0)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def test_runs_end_to_end_on_tiny_synthetic_data(example: ModuleType, tmp_path: Path) -> None:
    torch.set_num_threads(2)
    out_dir = tmp_path / "run"
    summary = example.main(
        [
            "--synthetic-root", str(tmp_path / "synthetic"),
            "--out-dir", str(out_dir),
            "--subjects", "3",
            "--duration-s", "4",
            "--video-size", "96", "72",
            "--frame-size", "16",
            "--test-fraction", "0.34",
            "--levels", "h264:60", "h264:4",
            "--stven-channels", "4", "4", "8",
            "--stven-blocks", "1",
            "--rppgnet-channels", "4", "8", "8",
            "--stven-steps", "2",
            "--rppgnet-steps", "2",
            "--joint-steps", "2",
            "--batch-size", "2",
            "--stven-clip-length", "8",
            "--rppgnet-clip-length", "16",
            "--joint-clip-length", "8",
            "--eval-chunk", "32",
            "--eval-window-s", "2",
            "--log-every", "1",
            "--device", "cpu",
        ]
    )  # fmt: skip
    saved = json.loads((out_dir / "results.json").read_text())
    assert saved["results"].keys() == summary["results"].keys()
    assert saved["device"] == "cpu" and saved["reduced_model_sizes"] is True

    expected = ["original", "original+stven", "h264@60kbps", "h264@60kbps+stven", "h264@4kbps", "h264@4kbps+stven"]
    assert list(saved["results"]) == expected
    labels = None
    for name, row in saved["results"].items():
        metrics = row["metrics"]
        assert all(_finite(metrics[key]) for key in ("mae", "rmse", "mape")), name
        assert "pearson" in metrics
        assert metrics["n"] == saved["n_pairs"] >= 2
        row_labels = [pair["hr_label_bpm"] for pair in row["pairs"]]
        assert labels is None or row_labels == labels, "every condition is scored on the same test windows"
        labels = row_labels
        assert row["stven"] == name.endswith("+stven")

    psnr = {name: row["psnr_db"] for name, row in saved["results"].items()}
    assert psnr["original"] is None  # identical to the reference: infinite PSNR, stored as null
    assert all(_finite(psnr[name]) for name in expected[1:])
    assert psnr["h264@60kbps"] > psnr["h264@4kbps"] + 1.0  # the levels really differ: real codec artefacts

    assert [row["level"] for row in saved["comparison"]] == ["h264@60kbps", "h264@4kbps"]
    assert [lv["level"] for lv in saved["levels"]] == [1, 2]
    assert set(saved["data"]["train_subjects"]).isdisjoint(saved["data"]["test_subjects"])
    assert [len(saved["history"][stage]) for stage in ("stven", "rppgnet", "joint")] == [2, 2, 2]
    assert _finite(saved["baseline_metrics"]["mae"])

    state = torch.load(out_dir / "models.pt", map_location="cpu", weights_only=True)
    stven = example.create_model("stven", num_levels=3, channels=(4, 4, 8), num_blocks=1)
    stven.load_state_dict(state["stven"])  # the saved weights fit the configured model
