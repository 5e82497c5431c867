"""The main job, examples/train_vipl.py, runs end to end on a tiny synthetic dataset."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

ROOT = Path(__file__).parents[2]


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_vipl", ROOT / "examples" / "train_vipl.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve string annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example() -> ModuleType:
    pytest.importorskip("cv2")
    pytest.importorskip("tqdm")
    return _load_example()


def test_defaults_and_paper_preset(example: ModuleType) -> None:
    synthetic = example.parse_args([])
    assert synthetic.data_root is None
    paper = example.parse_args(["--data-root", "/data/VIPL-HR", "--epochs", "3"])
    assert (paper.clip_length, paper.frame_size, paper.batch_size) == (64, 128, 16)
    assert (paper.lr, paper.weight_decay, paper.epochs) == (1e-5, 5e-5, 3)
    assert paper.exclude_scenarios == ("v2", "v9")


def test_runs_end_to_end_on_tiny_synthetic_data(example: ModuleType, tmp_path: Path) -> None:
    torch.set_num_threads(2)
    summary = example.main(
        [
            "--synthetic-root", str(tmp_path / "synthetic"),
            "--out-dir", str(tmp_path / "run"),
            "--synthetic-subjects", "5",
            "--synthetic-scenarios", "v1",
            "--synthetic-duration-s", "4",
            "--clip-length", "32",
            "--clip-stride", "32",
            "--eval-clip-length", "64",
            "--frame-size", "16",
            "--identity-widths", "8", "8", "16", "16",
            "--epochs", "2",
            "--batch-size", "4",
        ]
    )
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["n_test_videos"] == len(metrics["per_video"]["video_ids"]) >= 1
    assert math.isfinite(metrics["metrics"]["mae"])
    assert math.isfinite(metrics["baseline_metrics"]["mae"])
    assert len(metrics["history"]) == 2
    assert summary["metrics"]["mae"] == metrics["metrics"]["mae"]
    checkpoints = sorted((tmp_path / "run" / "checkpoints").glob("epoch_*.pt"))
    assert [p.name for p in checkpoints] == ["epoch_001.pt", "epoch_002.pt"]
    state = torch.load(checkpoints[-1], map_location="cpu", weights_only=True)
    assert state["epoch"] == 2
    assert {"model", "optimizer", "criterion", "config", "rppgblocks_version"} <= set(state)
    train_subjects = set(state["classes"])
    assert train_subjects.isdisjoint(metrics["test_subjects"])  # subject-exclusive split
