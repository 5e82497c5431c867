"""examples/train_sspd.py trains SSPD without labels and evaluates it, its untrained self and POS."""

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
METHODS = ("sspd_trained", "sspd_untrained", "pos")


@pytest.fixture(scope="module")
def example(load_example: Loader) -> ModuleType:
    pytest.importorskip("cv2")
    return load_example("train_sspd")


def _tiny_args(tmp_path: Path, run: str) -> list[str]:
    return [
        "--synthetic-root", str(tmp_path / "synthetic"),  # shared: generated once, reused by the second run
        "--out-dir", str(tmp_path / run),
        "--synthetic-subjects", "3",
        "--synthetic-duration-s", "6",
        "--n-test-subjects", "1",
        "--face-size", "128",
        "--view-size", "122",
        "--clip-length", "20",
        "--clip-stride", "20",
        "--eval-clip-length", "40",
        "--stem-channels", "2",
        "--block-channels", "2", "2", "2",
        "--embed-dim", "4",
        "--predictor-channels", "2",
        "--kernel-sizes", "3", "3",
        "--steps", "3",
        "--batch-size", "2",
        "--log-every", "1",
        "--device", "cpu",
    ]  # fmt: skip


def test_defaults_fit_sspd(example: ModuleType) -> None:
    from rppgblocks.models.sspd import MIN_FRAME_SIZE

    config = example.parse_args([])
    assert config.data_root is None
    assert config.face_size >= config.view_size >= MIN_FRAME_SIZE
    assert config.clip_length >= 1 + sum(k - 1 for k in config.kernel_sizes)
    parsed = example.parse_args(["--block-channels", "16", "32", "64", "--hr-band", "0.75", "2.5", "--no-amp"])
    assert parsed.block_channels == (16, 32, 64)
    assert parsed.hr_band == (0.75, 2.5)
    assert parsed.amp is False
    with pytest.raises(SystemExit):
        example.parse_args(["--view-size", str(MIN_FRAME_SIZE - 1)])
    with pytest.raises(SystemExit):
        example.parse_args(["--device", "tpu"])


def test_video_only_hides_the_labels(example: ModuleType) -> None:
    sample = {"video": torch.zeros(3, 4, 2, 2), "bvp": torch.zeros(4), "hr": torch.tensor(70.0)}
    wrapped = example.VideoOnly([sample, sample])
    assert len(wrapped) == 2
    assert set(wrapped[1]) == {"video"}


def test_trains_without_labels_and_reports_all_methods(
    example: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = example.main(_tiny_args(tmp_path, "real_labels"))

    results = json.loads((tmp_path / "real_labels" / "results.json").read_text())
    assert results["labels_used_in_training"] is False
    assert results["training_keys"] == ["video"]
    assert set(results["data"]["train_subjects"]).isdisjoint(results["data"]["test_subjects"])
    assert results["data"]["n_test_clips"] == 2
    for method in METHODS:
        for level, n in (("clips", 2), ("videos", 1)):
            metrics = results["results"][method][level]["metrics"]
            assert metrics["n"] == n
            assert math.isfinite(metrics["mae"]) and math.isfinite(metrics["rmse"])
            assert "pearson" in metrics  # null where r is undefined (one video, or equal heart rates)
            assert summary["results"][method][level]["metrics"]["mae"] == metrics["mae"]
        # every method is scored on the same clips against the same label heart rates
        assert [p["hr_label_bpm"] for p in results["results"][method]["clips"]["pairs"]] == [
            p["hr_label_bpm"] for p in results["results"]["sspd_trained"]["clips"]["pairs"]
        ]
    assert [h["step"] for h in results["history"]] == [1, 2, 3]
    assert all(math.isfinite(h["loss"]) for h in results["history"])

    # Train again with every label replaced by noise: the trained weights must not change by a single bit.
    class NoiseLabels(example.UBFCRPPG):  # type: ignore[name-defined, misc]
        def __getitem__(self, index: int) -> dict[str, Any]:
            sample = super().__getitem__(index)
            rng = np.random.default_rng(12345 + index)  # its own RNG: the global torch RNG is left untouched
            sample["bvp"] = torch.from_numpy(rng.standard_normal(sample["bvp"].shape).astype(np.float32))
            sample["hr"] = torch.tensor(float(rng.uniform(40.0, 180.0)))
            return sample

    monkeypatch.setattr(example, "UBFCRPPG", NoiseLabels)
    example.main(_tiny_args(tmp_path, "noise_labels"))

    real = torch.load(tmp_path / "real_labels" / "sspd_student.pt", map_location="cpu", weights_only=True)["model"]
    noise = torch.load(tmp_path / "noise_labels" / "sspd_student.pt", map_location="cpu", weights_only=True)["model"]
    assert real.keys() == noise.keys()
    for name in real:
        assert torch.equal(real[name], noise[name]), name

    # ... and training did change the network (the comparison above is not between two untouched inits).
    from rppgblocks.models import create_model

    config = example.parse_args(_tiny_args(tmp_path, "unused"))
    torch.manual_seed(config.seed)
    init = create_model("sspd", **example.model_overrides(config)).state_dict()
    assert any(not torch.equal(init[name], real[name]) for name in real if real[name].is_floating_point())
    # the evaluation did read the (noise) labels, so the label heart rates differ between the two runs
    noisy_results = json.loads((tmp_path / "noise_labels" / "results.json").read_text())
    assert noisy_results["results"]["pos"]["clips"]["pairs"] != results["results"]["pos"]["clips"]["pairs"]
