"""The training examples (train_vipl.py, train_ubfc.py, train_pure.py) and their engine, on tiny synthetic data.

Each example runs a few steps end to end; two-process DistributedDataParallel (gloo, CPU) matches one process with
the same global batch; a run interrupted after an epoch and resumed ends with the same weights as an uninterrupted
one; configuration, checkpoints, logs and evaluation protocols are checked on their own.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch

ROOT = Path(__file__).parents[2]
Loader = Callable[[str], ModuleType]  # the load_example fixture (conftest.py)
EXAMPLES = ROOT / "examples"

pytest.importorskip("cv2")
pytest.importorskip("tqdm")


@pytest.fixture(scope="module")
def engine(load_example: Loader) -> ModuleType:
    return load_example("engine")


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("synthetic")


def _tiny_cross(synthetic_root: Path, out_dir: Path, *extra: str) -> list[str]:
    return [
        "--synthetic-root", str(synthetic_root),
        "--out-dir", str(out_dir),
        "--synthetic-pure-subjects", "3",
        "--synthetic-pure-tasks", "1",
        "--synthetic-ubfc-subjects", "2",
        "--synthetic-duration-s", "6",
        "--synthetic-frame-size", "64", "48",
        "--train-fraction", "0.67",
        "--clip-length", "32",
        "--frame-size", "16",
        "--identity-widths", "8", "8", "16", "16",
        "--epochs", "2",
        "--batch-size", "4",
        "--log-every", "1",
        "--hr-warmup-epochs", "1",  # so that the tiny runs train the HR task too (epoch 2)
        *extra,
    ]  # fmt: skip


def _tiny_vipl(synthetic_root: Path, out_dir: Path, *extra: str) -> list[str]:
    return [
        "--synthetic-root", str(synthetic_root / "vipl"),
        "--out-dir", str(out_dir),
        "--synthetic-subjects", "6",
        "--synthetic-scenarios", "v1",
        "--synthetic-duration-s", "4",
        "--clip-length", "32",
        "--clip-stride", "32",
        "--eval-clip-length", "64",
        "--frame-size", "16",
        "--identity-widths", "8", "8", "16", "16",
        "--epochs", "2",
        "--batch-size", "4",
        "--log-every", "1",
        *extra,
    ]  # fmt: skip


def json_safe_equal(a: Any, b: Any) -> bool:
    """Equal once tuples are lists (the checkpoint keeps tuples, JSON has lists)."""
    return bool(json.loads(json.dumps(a)) == json.loads(json.dumps(b)))


def _check_run(summary: dict[str, Any], out_dir: Path, epochs: int) -> dict[str, Any]:
    """What every finished run must leave behind."""
    results = json.loads((out_dir / "results.json").read_text())
    assert results["finished"] and len(results["history"]) == epochs
    test = results["test"]
    for name in ("mae", "rmse", "mape", "sd"):
        assert math.isfinite(test["metrics"][name]) and test["metrics"][name] >= 0
        assert math.isfinite(test["metrics"][f"{name}_se"])
    assert test["metrics"]["n"] == test["n_videos"] == len(test["per_video"]) >= 1
    assert math.isfinite(test["snr_db"]) and math.isfinite(test["snr_db_se"])
    assert summary["test"]["metrics"]["mae"] == pytest.approx(test["metrics"]["mae"])
    assert json.loads((out_dir / "config.json").read_text()) == results["config"]
    # checkpoints: loadable with weights_only=True, with everything needed to resume
    state = torch.load(out_dir / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    expected = {"model", "criterion", "optimizer", "scheduler", "scaler", "epoch", "step", "rng", "history", "config"}
    assert expected <= set(state) and state["epoch"] == epochs
    assert state["rppgblocks_version"] == results["rppgblocks_version"]
    assert json_safe_equal(state["config"], results["config"])
    # the log: losses, uncertainty weights and log-variances per step, metrics per epoch
    with (out_dir / "log.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = {(r["split"], r["name"]) for r in rows}
    for task in state["tasks"]:
        assert ("train_step", f"loss_{task}") in names
        assert ("train_step", f"weight_{task}") in names
        assert ("train_step", f"log_variance_{task}") in names
    assert ("epoch", "clips_per_s") in names
    if results["config"]["plots"]:
        for path in results["plots"]:
            assert Path(path).stat().st_size > 0
        assert any(Path(p).name.startswith("bvp_") for p in results["plots"])
    return results


# ---------------------------------------------------------------------------------------------------------------
# Each example end to end
# ---------------------------------------------------------------------------------------------------------------


def test_train_pure_end_to_end(synthetic_root: Path, tmp_path: Path, load_example: Loader) -> None:
    pytest.importorskip("matplotlib")
    summary = load_example("train_pure").main(_tiny_cross(synthetic_root, tmp_path))
    results = _check_run(summary, tmp_path, epochs=2)
    data = results["data"]
    assert data["protocol"] == "PURE -> UBFC-rPPG"
    assert data["train_subjects"] == [1, 2] and data["val_subjects"] == [3]  # fraction split of sorted subjects
    assert data["test_subjects"] == [1, 3]  # every subject of the other dataset
    assert results["test"]["protocol"]["name"] == "whole_video"
    assert results["test"]["protocol"]["label_type"] == "DiffNormalized"
    assert results["test"]["evaluation_settings"]["band"] == [0.6, 3.3]
    assert {v["video_id"] for v in results["test"]["per_video"]} == {"subject1", "subject3"}
    assert results["model"]["name"] == "rfacenet"
    assert all("val_mae" in h for h in results["history"])
    assert (tmp_path / "checkpoints" / "best.pt").exists()


def test_train_ubfc_end_to_end(synthetic_root: Path, tmp_path: Path, load_example: Loader) -> None:
    summary = load_example("train_ubfc").main(
        _tiny_cross(synthetic_root, tmp_path, "--epochs", "1", "--no-plots", "--lr-schedule", "onecycle")
    )
    results = _check_run(summary, tmp_path, epochs=1)
    assert results["data"]["protocol"] == "UBFC-rPPG -> PURE"
    assert results["data"]["train_subjects"] == [1] and results["data"]["val_subjects"] == [3]
    assert {v["video_id"] for v in results["test"]["per_video"]} == {"01-01", "02-01", "03-01"}


def test_train_vipl_end_to_end(synthetic_root: Path, tmp_path: Path, load_example: Loader) -> None:
    summary = load_example("train_vipl").main(
        _tiny_vipl(synthetic_root, tmp_path, "--no-plots", "--tasks", "bvp", "hr")
    )
    results = _check_run(summary, tmp_path, epochs=2)
    data = results["data"]
    splits = [set(data["train_subjects"]), set(data["val_subjects"]), set(data["test_subjects"])]
    assert all(splits) and sum(map(len, splits)) == len(set.union(*splits)) == 6  # subject-exclusive
    assert results["test"]["protocol"]["name"] == "clip_average"
    for video in results["test"]["per_video"]:
        assert video["n_clips"] >= 1
    assert results["model"]["tasks"] == ["bvp", "hr"]
    assert "metrics_vs_reference_hr" in results["test"]


def test_physnet_model_and_neg_pearson(synthetic_root: Path, tmp_path: Path, load_example: Loader) -> None:
    summary = load_example("train_pure").main(
        _tiny_cross(synthetic_root, tmp_path, "--epochs", "1", "--no-plots", "--model", "physnet",
                    "--physnet-width", "8", "--bvp-loss", "neg_pearson")
    )  # fmt: skip
    results = _check_run(summary, tmp_path, epochs=1)
    assert results["model"]["class"] == "PhysNet" and results["model"]["tasks"] == ["bvp", "hr"]


# ---------------------------------------------------------------------------------------------------------------
# Resume and DDP
# ---------------------------------------------------------------------------------------------------------------


def test_interrupted_and_resumed_equals_uninterrupted(
    synthetic_root: Path, tmp_path: Path, load_example: Loader
) -> None:
    example = load_example("train_pure")
    schedule = ("--no-plots", "--lr-schedule", "onecycle", "--epochs", "3")
    example.main(_tiny_cross(synthetic_root, tmp_path / "straight", *schedule))
    partial = example.main(_tiny_cross(synthetic_root, tmp_path / "resumed", *schedule, "--stop-after-epoch", "1"))
    assert not partial["finished"] and not (tmp_path / "resumed" / "results.json").exists()
    resumed = example.main(_tiny_cross(synthetic_root, tmp_path / "resumed", *schedule, "--resume", "auto"))
    assert resumed["finished"]
    a = torch.load(tmp_path / "straight" / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "resumed" / "checkpoints" / "last.pt", weights_only=True)
    assert a["epoch"] == b["epoch"] == 3 and a["step"] == b["step"]
    for key in ("model", "criterion"):
        assert a[key].keys() == b[key].keys()
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), f"{key}.{name} differs after resuming"
    assert a["scheduler"]["last_epoch"] == b["scheduler"]["last_epoch"]
    straight = json.loads((tmp_path / "straight" / "results.json").read_text())
    again = json.loads((tmp_path / "resumed" / "results.json").read_text())
    assert straight["test"]["metrics"] == again["test"]["metrics"]
    assert [h["loss"] for h in straight["history"]] == [h["loss"] for h in again["history"]]
    with (tmp_path / "resumed" / "log.csv").open(newline="") as handle:
        epochs = [int(r["epoch"]) for r in csv.DictReader(handle) if r["split"] == "epoch" and r["name"] == "loss"]
    assert epochs == [1, 2, 3]  # no epoch logged twice
    # resuming a finished run only tests it again (the ablation script collects its table this way)
    last = tmp_path / "resumed" / "checkpoints" / "last.pt"
    written = last.stat().st_mtime_ns
    example.main(_tiny_cross(synthetic_root, tmp_path / "resumed", *schedule, "--resume", "auto"))
    retested = json.loads((tmp_path / "resumed" / "results.json").read_text())
    assert retested["history"] == again["history"] and last.stat().st_mtime_ns == written
    assert retested["test"]["metrics"] == again["test"]["metrics"]
    assert retested["train_seconds"] == again["train_seconds"] > 0  # the training time survives the re-test


def test_resume_without_checkpoint_fails_clearly(synthetic_root: Path, tmp_path: Path, load_example: Loader) -> None:
    with pytest.raises(FileNotFoundError, match="--resume"):
        load_example("train_pure").main(_tiny_cross(synthetic_root, tmp_path, "--resume", str(tmp_path / "missing.pt")))


def test_two_process_ddp_matches_one_process(synthetic_root: Path, tmp_path: Path, load_example: Loader) -> None:
    """torchrun with 2 gloo ranks of batch 2 = one process with batch 4: same metrics, same weights."""
    args = ("--no-plots", "--epochs", "2")
    load_example("train_pure").main(
        _tiny_cross(synthetic_root, tmp_path / "single", *args)
    )  # also fills the data caches
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        str(EXAMPLES / "train_pure.py"),
        *_tiny_cross(synthetic_root, tmp_path / "ddp", *args, "--batch-size", "2"),
    ]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    single = json.loads((tmp_path / "single" / "results.json").read_text())
    ddp = json.loads((tmp_path / "ddp" / "results.json").read_text())
    assert ddp["world_size"] == 2 and single["world_size"] == 1
    assert ddp["test"]["n_clips"] == single["test"]["n_clips"]  # every test clip evaluated once
    for name, value in single["test"]["metrics"].items():
        if value is None:
            assert ddp["test"]["metrics"][name] is None
        else:
            assert ddp["test"]["metrics"][name] == pytest.approx(value, rel=1e-3, abs=1e-3), name
    assert ddp["test"]["snr_db"] == pytest.approx(single["test"]["snr_db"], abs=0.02)  # float summation order
    for a, b in zip(single["history"], ddp["history"], strict=True):
        assert b["loss_bvp"] == pytest.approx(a["loss_bvp"], rel=1e-3)
        assert b["loss_hr"] == pytest.approx(a["loss_hr"], rel=1e-3)
        # the identity loss drifts most: after two epochs it differed by up to 0.3 % between thread counts, where
        # rounding noise in near-zero gradients, normalised by Adam, moves the identity branch's weights
        assert b["loss_identity"] == pytest.approx(a["loss_identity"], rel=1e-2)
        assert b["loss"] == pytest.approx(a["loss"], rel=5e-3)
        assert b["val_mae"] == pytest.approx(a["val_mae"], abs=1e-3)
    # the trained networks compute the same function (raw weights may differ where the gradient is only rounding
    # noise that Adam normalises, e.g. a convolution's bias right before a batch norm)
    engine = load_example("engine")
    config = load_example("cross_dataset").CrossDatasetConfig(**single["config"])
    clip = torch.rand(2, 3, 32, 16, 16, generator=torch.Generator().manual_seed(0))
    outputs = []
    for run in ("single", "ddp"):
        state = torch.load(tmp_path / run / "checkpoints" / "last.pt", weights_only=True)
        model = engine.build_model(config, len(state["classes"]), 30.0)
        model.load_state_dict(state["model"])
        outputs.append(model.eval()(clip).bvp)
    torch.testing.assert_close(outputs[1], outputs[0], rtol=1e-3, atol=1e-3)
    with (tmp_path / "ddp" / "log.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["split"] == "epoch" and r["name"] == "loss"]
    assert [int(r["epoch"]) for r in rows] == [1, 2]  # rank 0 alone writes the log


# ---------------------------------------------------------------------------------------------------------------
# Engine pieces
# ---------------------------------------------------------------------------------------------------------------


def test_config_presets_file_and_flags(tmp_path: Path, load_example: Loader) -> None:
    vipl = load_example("train_vipl")
    assert vipl.parse_args([]).data_root is None
    paper = vipl.parse_args(["--data-root", "/data/VIPL-HR", "--epochs", "3"])
    assert (paper.clip_length, paper.frame_size, paper.batch_size) == (64, 128, 16)
    assert (paper.lr, paper.weight_decay, paper.epochs) == (1e-5, 5e-5, 3)
    assert paper.exclude_scenarios == ("v2", "v9") and paper.tcu_scale_factor is None
    cross = load_example("cross_dataset")
    toolbox = cross.parse_args(["--data-root", "/a", "--test-root", "/b"], out_dir="runs/x", description="")
    assert (toolbox.clip_length, toolbox.frame_size, toolbox.batch_size, toolbox.lr) == (128, 72, 4, 9e-3)
    assert toolbox.lr_schedule == "onecycle" and toolbox.out_dir == "runs/x"
    (tmp_path / "config.json").write_text(json.dumps({"epochs": 7, "tcu_scale_factor": None, "tasks": ["bvp"]}))
    loaded = vipl.parse_args(["--config", str(tmp_path / "config.json"), "--batch-size", "3"])
    assert (loaded.epochs, loaded.tcu_scale_factor, loaded.tasks, loaded.batch_size) == (7, None, ("bvp",), 3)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--batch-size", "0"], "--batch-size"),
        (["--clip-length", "30"], "--clip-length"),
        (["--lr", "-1"], "--lr"),
        (["--tasks", "hr"], "--tasks"),
        (["--val-fraction", "1.5"], "--val-fraction"),
        (["--fold", "6"], "--fold"),
        (["--data-seed", "-1"], "--data-seed"),
    ],
)
def test_config_errors_name_the_flag(flags: list[str], message: str, load_example: Loader) -> None:
    with pytest.raises(ValueError, match=message):
        load_example("train_vipl").parse_args(flags)


def test_cross_dataset_needs_both_roots(load_example: Loader) -> None:
    with pytest.raises(ValueError, match="--test-root"):
        load_example("cross_dataset").parse_args(["--data-root", "/a"], out_dir="x", description="")


def test_unknown_setting_in_config_file(tmp_path: Path, load_example: Loader) -> None:
    (tmp_path / "c.json").write_text(json.dumps({"epochs": 2, "not_a_setting": 1}))
    with pytest.raises(ValueError, match="not_a_setting"):
        load_example("train_vipl").parse_args(["--config", str(tmp_path / "c.json")])


def _record(video: str, start: int, pred: np.ndarray, label: np.ndarray) -> dict[str, Any]:
    return {"video_id": video, "start": start, "fs": 30.0, "reference_hr_bpm": 70.0, "pred": pred, "label": label}


def test_clip_average_protocol_averages_clip_hrs(engine: ModuleType) -> None:
    t = np.arange(240) / 30.0
    records = [
        _record("a", 0, np.sin(2 * np.pi * 1.0 * t), np.sin(2 * np.pi * 1.0 * t)),
        _record("a", 240, np.sin(2 * np.pi * 1.5 * t), np.sin(2 * np.pi * 1.0 * t)),
        _record("b", 0, np.sin(2 * np.pi * 2.0 * t), np.sin(2 * np.pi * 2.0 * t)),
    ]
    result = engine.evaluate_records(records, engine.Protocol("clip_average"))
    per_video = {v["video_id"]: v for v in result["per_video"]}
    assert per_video["a"]["hr_pred_bpm"] == pytest.approx(75.0, abs=0.5)  # mean of 60 and 90 bpm
    assert per_video["a"]["hr_label_bpm"] == pytest.approx(60.0, abs=0.5)
    assert per_video["b"]["hr_pred_bpm"] == pytest.approx(120.0, abs=0.5)
    assert result["metrics"]["mae"] == pytest.approx(7.5, abs=0.5) and result["n_clips"] == 3


def test_whole_video_protocol_equals_evaluate_hr_of_the_concatenation(engine: ModuleType) -> None:
    from rppgblocks.evaluation import evaluate_hr

    rng = np.random.default_rng(0)
    t = np.arange(384) / 30.0
    signals = {v: (np.sin(2 * np.pi * f * t) + 0.3 * rng.standard_normal(384), np.sin(2 * np.pi * f * t))
               for v, f in (("x", 1.1), ("y", 1.7))}  # fmt: skip
    records = [
        _record(v, s, p[s : s + 128], lab[s : s + 128]) for v, (p, lab) in signals.items() for s in (0, 128, 256)
    ]
    result = engine.evaluate_records(records[::-1], engine.Protocol("whole_video", "Raw", (0.6, 3.3)))
    reference = evaluate_hr({v: p for v, (p, _) in signals.items()}, {v: lab for v, (_, lab) in signals.items()},
                            label_type="Raw", band=(0.6, 3.3))  # fmt: skip
    assert result["metrics"] == pytest.approx(reference.metrics.as_dict(), nan_ok=True)
    assert result["snr_db"] == pytest.approx(reference.snr_db)
    gap = [r for r in records if r["start"] != 128]
    with pytest.raises(ValueError, match="not contiguous"):
        engine.evaluate_records(gap, engine.Protocol("whole_video", "Raw", (0.6, 3.3)))


def test_rng_state_round_trip_through_weights_only_checkpoint(engine: ModuleType, tmp_path: Path) -> None:
    import random

    engine.seed_everything(3)
    engine.save_checkpoint(tmp_path / "rng.pt", {"rng": engine.rng_state()})
    expected = (random.random(), np.random.rand(), torch.rand(3))  # noqa: NPY002
    engine.seed_everything(99)
    engine.set_rng_state(engine.load_checkpoint(tmp_path / "rng.pt")["rng"])
    again = (random.random(), np.random.rand(), torch.rand(3))  # noqa: NPY002
    assert expected[:2] == again[:2] and torch.equal(expected[2], again[2])


def test_distributed_batchnorm_is_batchnorm_in_one_process(engine: ModuleType) -> None:
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Conv3d(3, 4, 1), torch.nn.BatchNorm3d(4), torch.nn.BatchNorm2d(2))
    expected = torch.nn.BatchNorm3d(4)
    expected.load_state_dict(reference[1].state_dict())
    converted = engine.convert_sync_batchnorm(reference, torch.device("cpu"))
    assert all(isinstance(converted[i], engine.DistributedBatchNorm) for i in (1, 2))
    assert converted[1].weight is reference[1].weight  # parameters are shared, not copied
    x = torch.randn(2, 4, 4, 5, 5)
    torch.testing.assert_close(converted[1](x), expected(x))
    torch.testing.assert_close(converted[1].running_var, expected.running_var)


def test_amp_policy(engine: ModuleType) -> None:
    cpu = torch.device("cpu")
    assert engine.amp_dtype("auto", cpu) is None and engine.amp_dtype("off", cpu) is None
    assert engine.amp_dtype("bf16", cpu) is torch.bfloat16
    with pytest.raises(ValueError, match="--amp"):
        engine.amp_dtype("fp16", cpu)
    assert not engine.make_grad_scaler(torch.bfloat16, cpu).is_enabled()


def test_json_safe(engine: ModuleType) -> None:
    value = engine.json_safe({"a": float("nan"), "b": (np.float32(1.5), np.int64(2)), 3: [float("inf")]})
    assert value == {"a": None, "b": [1.5, 2], "3": [None]}
    json.dumps(value, allow_nan=False)


def test_ablation_runs_each_variant(synthetic_root: Path, tmp_path: Path, load_example: Loader) -> None:
    ablation = load_example("ablation_rfacenet")
    tiny = _tiny_cross(synthetic_root, tmp_path / "unused", "--epochs", "1")
    tiny = tiny[:2] + tiny[4:]  # the ablation sets each run's --out-dir itself
    summary = ablation.main(
        ["--out-dir", str(tmp_path), "--variants", "physnet", "ctfc_noise", "tcu_no_ctfc", "--", *tiny]
    )
    written = json.loads((tmp_path / "ablation.json").read_text())
    assert [r["variant"] for r in written["rows"]] == ["physnet", "ctfc_noise", "tcu_no_ctfc"]
    assert written["data"] == "synthetic PURE -> synthetic UBFC-rPPG"
    for row in summary["rows"]:
        assert math.isfinite(row["mae"]) and math.isfinite(row["rmse"]) and row["n_videos"] == 2
    runs = {name: json.loads((tmp_path / f"{name}_seed0" / "results.json").read_text()) for name in
            ("physnet", "ctfc_noise", "tcu_no_ctfc")}  # fmt: skip
    assert runs["physnet"]["model"]["class"] == "PhysNet"
    assert runs["ctfc_noise"]["config"]["identity_source"] == "noise"
    assert runs["ctfc_noise"]["model"]["tasks"] == ["bvp", "hr"]  # no identity loss
    assert runs["tcu_no_ctfc"]["config"]["ctfc_stage"] is None
    assert runs["tcu_no_ctfc"]["model"]["tasks"] == ["bvp", "hr", "identity"]


def test_hr_warmup_takes_the_hr_gradient_out(engine: ModuleType) -> None:
    from rppgblocks.models import create_model

    torch.manual_seed(0)
    model = create_model("physnet", width=8)
    video, fs = torch.rand(2, 3, 32, 16, 16), torch.full((2,), 30.0)
    t = torch.arange(32) / 30.0
    bvp = torch.stack([torch.sin(2 * torch.pi * 1.2 * t), torch.sin(2 * torch.pi * 1.9 * t)])
    identity = torch.zeros(2, dtype=torch.long)

    def gradients(tasks: tuple[str, ...], hr_gradient: bool) -> list[torch.Tensor]:
        model.zero_grad()
        step = engine.MultiTaskStep(model, tasks, "mse", (0.7, 3.0), diff_labels=True)
        total, losses, _, _ = step(video, fs, bvp, identity, hr_gradient)
        assert set(losses) == set(tasks)  # the HR loss is still computed and logged
        total.backward()
        return [p.grad.clone() for p in model.parameters() if p.grad is not None]

    bvp_only = gradients(("bvp",), hr_gradient=True)
    warmup = gradients(("bvp", "hr"), hr_gradient=False)
    trained = gradients(("bvp", "hr"), hr_gradient=True)
    assert all(torch.allclose(a, b, rtol=1e-5, atol=1e-8) for a, b in zip(bvp_only, warmup, strict=True))
    assert any(not torch.allclose(a, b, rtol=1e-3, atol=1e-6) for a, b in zip(bvp_only, trained, strict=True))


def test_synthetic_dir_is_one_folder_per_parameter_set(engine: ModuleType, tmp_path: Path) -> None:
    params = {"n_subjects": 3, "frame_size": (64, 48), "seed": 0}
    first = engine.synthetic_dir(tmp_path, "synthetic_pure", params)
    assert first.parent == tmp_path and first.name.startswith("synthetic_pure-")
    assert engine.synthetic_dir(tmp_path, "synthetic_pure", dict(reversed(params.items()))) == first
    assert engine.synthetic_dir(tmp_path, "synthetic_pure", params | {"seed": 1}) != first
    assert engine.synthetic_dir(tmp_path, "synthetic_pure", params | {"n_subjects": 4}) != first


def test_seed_varies_training_on_the_same_synthetic_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, load_example: Loader
) -> None:
    cross = load_example("cross_dataset")
    calls: list[tuple[Path, int]] = []

    def fake(root: Path, **params: Any) -> Path:
        calls.append((root, params["seed"]))
        return root

    monkeypatch.setattr(cross, "generate_pure", fake)
    for flags in ([], ["--seed", "5"], ["--data-seed", "2"]):
        config = cross.parse_args(["--synthetic-root", str(tmp_path), *flags], out_dir="unused", description="")
        cross._synthetic(config, "pure")
    (root0, seed0), (root1, seed1), (root2, seed2) = calls
    assert root0 == root1 and seed0 == seed1 == 0  # --seed alone: the same data
    assert root2 != root0 and seed2 == 2  # --data-seed: other data, in their own folder
