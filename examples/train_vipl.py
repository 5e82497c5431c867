"""Train the reference rFaceNet on VIPL-HR (or, by default, on a synthetic dataset in VIPL-HR's layout).

Usage::

    python examples/train_vipl.py                         # synthetic VIPL-HR layout, CPU-sized defaults
    python examples/train_vipl.py --data-root /data/VIPL-HR --device cuda   # the real dataset, paper settings

With no ``--data-root`` the script generates a small synthetic dataset in VIPL-HR's exact on-disk layout (or reuses
the one it generated before, cached under ``--synthetic-root``), splits its subjects into disjoint train and test
sets, trains :class:`rppgblocks.RFaceNet` with :class:`rppgblocks.UncertaintyMultiTaskLoss` on the BVP, HR and
identity tasks, and finally evaluates heart-rate errors on the held-out subjects by the rFaceNet/PhysFormer VIPL-HR
protocol (the HR of each test video is the mean over its ~8 s clips). It prints MAE, RMSE and Pearson r next to the
MAE of always predicting the training set's mean HR, and writes everything to ``<out-dir>/metrics.json``.

With ``--data-root`` the defaults switch to the rFaceNet paper's VIPL-HR settings (arXiv 2403.09034, §4.2):
64x128x128 clips, scenes v2 and v9 excluded, Adam with lr 1e-5 and weight decay 5e-5, batch 16. Every setting can be
overridden from the command line (``--help``).

The HR term of the loss is held back for ``--hr-warmup-epochs`` (default 1): during those epochs it only calibrates
its uncertainty, without sending gradients into the network, so that the BVP branch first learns a pulse-shaped
signal; from a random signal, the soft-argmax HR's gradients slowed BVP learning several-fold on synthetic data.

On CUDA the loop uses automatic mixed precision (bfloat16 where supported, else float16 with a gradient scaler).
A checkpoint is written after every epoch (``<out-dir>/checkpoints``), with the model, optimiser and loss states,
the epoch and the configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

import rppgblocks
from rppgblocks import RFaceNet, UncertaintyMultiTaskLoss
from rppgblocks.data.splits import subject_exclusive_split
from rppgblocks.data.synthetic import generate_vipl_hr
from rppgblocks.data.vipl_hr import VIPLHR, vipl_hr_subjects
from rppgblocks.evaluation import hr_metrics
from rppgblocks.functional import fft_heart_rate
from rppgblocks.models import RFACENET_HR_BAND


def _default_cache() -> Path:
    base = os.environ.get("RPPGBLOCKS_CACHE") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rppgblocks"


@dataclass
class Config:
    """Every setting of a run; saved with each checkpoint and in metrics.json."""

    # data
    data_root: str | None = None
    synthetic_root: str = str(_default_cache() / "synthetic_vipl_hr")
    cache_dir: str | None = None
    out_dir: str = "runs/train_vipl"
    sources: tuple[str, ...] = ("source1", "source2", "source3")
    exclude_scenarios: tuple[str, ...] = ("v2", "v9")
    test_fraction: float = 0.25
    clip_length: int = 64
    clip_stride: int = 32
    eval_clip_length: int = 240
    frame_size: int = 32
    # synthetic data (used without --data-root)
    synthetic_subjects: int = 16
    synthetic_scenarios: tuple[str, ...] = ("v1", "v3")
    synthetic_sources: tuple[str, ...] = ("source1",)
    synthetic_duration_s: float = 20.0
    synthetic_frame_size: tuple[int, int] = (160, 120)
    # model
    tcu_scale_factor: float | None = 2.0
    identity_widths: tuple[int, ...] = (32, 64, 128, 256)
    ctfc_stage: int | None = 3
    # optimisation
    epochs: int = 5
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 5e-5
    seed: int = 0
    num_workers: int = 0
    device: str = "auto"
    amp: bool = True
    keep_checkpoints: int = 2
    hr_warmup_epochs: int = 1


#: The rFaceNet paper's VIPL-HR settings (§4.2), applied when --data-root is given.
PAPER_VIPL = {
    "clip_length": 64,
    "clip_stride": 64,
    "frame_size": 128,
    "tcu_scale_factor": None,
    "identity_widths": (64, 128, 256, 512),
    "batch_size": 16,
    "lr": 1e-5,
    "weight_decay": 5e-5,
    "epochs": 30,
    "num_workers": 4,
}


def _optional(kind: type) -> Any:
    """An argparse type that also accepts "none" (for settings whose default may be None)."""

    def parse(text: str) -> Any:
        return None if text.lower() == "none" else kind(text)

    parse.__name__ = kind.__name__
    return parse


_OPTIONAL_TYPES = {
    "data_root": _optional(str),
    "cache_dir": _optional(str),
    "tcu_scale_factor": _optional(float),
    "ctfc_stage": _optional(int),
}


def parse_args(argv: list[str] | None = None) -> Config:
    """Build the run configuration: the dataclass defaults, the paper preset for real data, then the flags."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawTextHelpFormatter,
        argument_default=argparse.SUPPRESS,  # only the flags given appear in the parsed namespace
    )
    defaults = Config()
    for f in dataclasses.fields(Config):
        flag = "--" + f.name.replace("_", "-")
        value = getattr(defaults, f.name)
        if isinstance(value, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=f"(default {value})")
        elif isinstance(value, tuple):
            kind = int if value and isinstance(value[0], int) else str
            parser.add_argument(flag, nargs="*", type=kind, help=f"(default {' '.join(map(str, value))})")
        else:
            kind = _OPTIONAL_TYPES.get(f.name) or {int: int, float: float}.get(type(value), str)
            parser.add_argument(flag, type=kind, help=f"(default {value})")
    args = vars(parser.parse_args(argv))
    config = Config()
    if args.get("data_root") is not None:
        for key, value in PAPER_VIPL.items():
            setattr(config, key, value)
    for key, value in args.items():
        setattr(config, key, tuple(value) if isinstance(value, list) else value)
    return config


def zscore(signal: torch.Tensor) -> torch.Tensor:
    """Per-signal z-score over time (population std)."""
    centred = signal - signal.mean(dim=-1, keepdim=True)
    return centred / (centred.square().mean(dim=-1, keepdim=True).sqrt() + 1e-6)


def label_hr(bvp: torch.Tensor, fs: torch.Tensor) -> torch.Tensor:
    """The HR label of a clip: the FFT HR of its ground-truth BVP (rFaceNet Eq. 3 applied to the label)."""
    return fft_heart_rate(bvp.float(), fs.float(), band=RFACENET_HR_BAND)


def select_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def prepare_data(config: Config) -> tuple[VIPLHR, VIPLHR, dict[int, int]]:
    """Generate or locate the data, split subjects, and build the train and test clip datasets."""
    if config.data_root is None:
        start = time.perf_counter()
        root = generate_vipl_hr(
            config.synthetic_root,
            n_subjects=config.synthetic_subjects,
            scenarios=config.synthetic_scenarios,
            sources=config.synthetic_sources,
            duration_s=config.synthetic_duration_s,
            frame_size=config.synthetic_frame_size,
            seed=config.seed,
        )
        print(f"synthetic VIPL-HR-layout dataset at {root} ({time.perf_counter() - start:.1f} s)")
        sources = config.synthetic_sources
    else:
        root = Path(config.data_root)
        sources = config.sources
    subjects = vipl_hr_subjects(root)
    train_ids, test_ids = subject_exclusive_split(subjects, test_fraction=config.test_fraction, seed=config.seed)
    common: dict[str, Any] = {
        "frame_size": (config.frame_size, config.frame_size),
        "sources": sources,
        "exclude_scenarios": config.exclude_scenarios,
        "cache_dir": config.cache_dir,
    }
    start = time.perf_counter()
    train = VIPLHR(root, clip_length=config.clip_length, clip_stride=config.clip_stride, subjects=train_ids, **common)
    test = VIPLHR(root, clip_length=config.eval_clip_length, subjects=test_ids, **common)
    print(
        f"train: {len(train.videos)} videos of subjects {list(train.subjects)}, {len(train)} clips; "
        f"test: {len(test.videos)} videos of subjects {list(test.subjects)}, {len(test)} clips "
        f"(preprocessed in {time.perf_counter() - start:.1f} s)"
    )
    classes = {subject: i for i, subject in enumerate(train.subjects)}
    return train, test, classes


def autocast_context(device: torch.device, enabled: bool) -> tuple[contextlib.AbstractContextManager[Any], Any]:
    """AMP on CUDA: bfloat16 if supported (no scaler), else float16 with a gradient scaler."""
    if device.type != "cuda" or not enabled:
        return contextlib.nullcontext(), None
    if torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16), None
    scaler_class = getattr(torch.amp, "GradScaler", None)  # torch >= 2.3; torch.cuda.amp before
    scaler = scaler_class("cuda") if scaler_class is not None else torch.cuda.amp.GradScaler()
    return torch.autocast("cuda", dtype=torch.float16), scaler


def batches(loader: DataLoader[Any], device: torch.device) -> Iterator[dict[str, Any]]:
    for batch in loader:
        yield {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def train_one_epoch(
    model: RFaceNet,
    criterion: UncertaintyMultiTaskLoss,
    optimizer: torch.optim.Optimizer,
    loader: DataLoader[Any],
    classes: dict[int, int],
    device: torch.device,
    amp: bool,
    scaler: Any,
    epoch: int,
    hr_warmup: bool,
) -> dict[str, float]:
    model.train()
    sums: dict[str, float] = defaultdict(float)
    n_batches = 0
    cast, _ = autocast_context(device, amp)
    progress = tqdm(batches(loader, device), total=len(loader), desc=f"epoch {epoch}", leave=False, file=sys.stdout)
    lookup = torch.full((max(classes) + 1,), -1, dtype=torch.long, device=device)
    for subject, index in classes.items():
        lookup[subject] = index
    for batch in progress:
        video, bvp, fs = batch["video"], batch["bvp"], batch["fs"]
        identity = lookup[batch["subject"]]
        with cast:
            out = model(video, fs)
        target_hr = label_hr(bvp, fs)
        losses = {
            "bvp": F.mse_loss(zscore(out.bvp.float()), zscore(bvp.float())),
            "hr": F.mse_loss(out.hr.float() / 60.0, target_hr / 60.0),  # in Hz, so the scale is of order 1
            "identity": F.cross_entropy(out.identity_logits.float(), identity),
        }
        if hr_warmup:  # the HR term calibrates its uncertainty but sends no gradient into the network yet
            losses["hr"] = losses["hr"].detach()
        result = criterion(losses)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(result.total).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            result.total.backward()
            optimizer.step()
        n_batches += 1
        sums["loss"] += float(result.total.detach())
        for name, value in losses.items():
            sums[f"loss_{name}"] += float(value.detach())
        for name, weight in result.weights.items():
            sums[f"weight_{name}"] += float(weight)
        progress.set_postfix(loss=f"{sums['loss'] / n_batches:.3f}", bvp=f"{sums['loss_bvp'] / n_batches:.3f}")
    return {k: v / max(n_batches, 1) for k, v in sums.items()}


@torch.no_grad()
def evaluate(model: RFaceNet, dataset: VIPLHR, device: torch.device, config: Config) -> dict[str, Any]:
    """Per-video HR = mean over the video's clips (rFaceNet/PhysFormer VIPL-HR protocol)."""
    model.eval()
    loader = DataLoader(dataset, batch_size=max(1, config.batch_size // 2), shuffle=False, num_workers=0)
    pred: dict[str, list[float]] = defaultdict(list)
    label: dict[str, list[float]] = defaultdict(list)
    reference: dict[str, list[float]] = defaultdict(list)
    cast, _ = autocast_context(device, config.amp)
    for batch in batches(loader, device):
        with cast:
            out = model(batch["video"], batch["fs"])
        hr_label = label_hr(batch["bvp"], batch["fs"])
        for i, video_id in enumerate(batch["video_id"]):
            pred[video_id].append(float(out.hr[i]))
            label[video_id].append(float(hr_label[i]))
            reference[video_id].append(float(batch["hr"][i]))
    videos = sorted(pred)
    return {
        "video_ids": videos,
        "pred_bpm": [float(np.mean(pred[v])) for v in videos],
        "label_bpm": [float(np.mean(label[v])) for v in videos],
        "gt_hr_csv_bpm": [float(np.mean(reference[v])) for v in videos],
    }


def _json_safe(value: Any) -> Any:
    """NaN and infinities (e.g. Pearson r of a single video) become null, so metrics.json is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def save_checkpoint(path: Path, state: dict[str, Any], keep: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
    old = sorted(path.parent.glob("epoch_*.pt"))
    for stale in old[: max(0, len(old) - keep)]:
        stale.unlink()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    config = parse_args(argv)
    torch.manual_seed(config.seed)
    device = select_device(config.device)
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"rppgblocks {rppgblocks.__version__}, torch {torch.__version__}, device {device}")

    train_set, test_set, classes = prepare_data(config)
    generator = torch.Generator().manual_seed(config.seed)
    loader = DataLoader(
        train_set,
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=len(train_set) > config.batch_size,
        num_workers=config.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=config.num_workers > 0,
        generator=generator,
    )
    fs_nominal = float(np.median([v.fps for v in train_set.videos]))
    model = RFaceNet(
        len(classes),
        fs=fs_nominal,
        tcu_scale_factor=config.tcu_scale_factor,
        identity_widths=config.identity_widths,
        ctfc_stage=config.ctfc_stage,
    ).to(device)
    criterion = UncertaintyMultiTaskLoss({"bvp": "regression", "hr": "regression", "identity": "classification"})
    criterion.to(device)
    optimizer = torch.optim.Adam(
        [
            {"params": model.parameters(), "weight_decay": config.weight_decay},
            {"params": criterion.parameters(), "weight_decay": 0.0},  # log-variances: no weight decay
        ],
        lr=config.lr,
    )
    _, scaler = autocast_context(device, config.amp)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"RFaceNet: {n_params / 1e6:.2f} M parameters, {len(classes)} identities; {config.epochs} epochs")

    history = []
    for epoch in range(1, config.epochs + 1):
        epoch_start = time.perf_counter()
        hr_warmup = epoch <= config.hr_warmup_epochs
        stats = train_one_epoch(
            model, criterion, optimizer, loader, classes, device, config.amp, scaler, epoch, hr_warmup
        )
        stats["epoch"] = epoch
        stats["seconds"] = time.perf_counter() - epoch_start
        history.append(stats)
        print(
            f"epoch {epoch:3d}/{config.epochs}: loss {stats['loss']:.3f} (bvp {stats['loss_bvp']:.3f}, "
            f"hr {stats['loss_hr']:.4f}, identity {stats['loss_identity']:.3f}) in {stats['seconds']:.1f} s"
        )
        save_checkpoint(
            out_dir / "checkpoints" / f"epoch_{epoch:03d}.pt",
            {
                "model": model.state_dict(),
                "criterion": criterion.state_dict(),
                "optimizer": optimizer.state_dict(),
                "epoch": epoch,
                "classes": classes,
                "config": dataclasses.asdict(config),
                "rppgblocks_version": rppgblocks.__version__,
            },
            config.keep_checkpoints,
        )

    results = evaluate(model, test_set, device, config)
    metrics = hr_metrics(results["pred_bpm"], results["label_bpm"])
    train_hr = torch.cat([label_hr(b["bvp"], b["fs"]) for b in DataLoader(train_set, batch_size=64)])
    mean_hr = float(train_hr.mean())
    baseline = hr_metrics([mean_hr] * len(results["label_bpm"]), results["label_bpm"])
    vs_csv = hr_metrics(results["pred_bpm"], results["gt_hr_csv_bpm"])
    summary = {
        "config": dataclasses.asdict(config),
        "rppgblocks_version": rppgblocks.__version__,
        "device": str(device),
        "n_test_videos": len(results["video_ids"]),
        "test_subjects": list(test_set.subjects),
        "metrics": metrics.as_dict(),
        "baseline_mean_train_hr_bpm": mean_hr,
        "baseline_metrics": baseline.as_dict(),
        "metrics_vs_gt_hr_csv": vs_csv.as_dict(),
        "per_video": results,
        "history": history,
        "seconds": time.perf_counter() - started,
    }
    (out_dir / "metrics.json").write_text(json.dumps(_json_safe(summary), indent=2, allow_nan=False))
    print(f"\nTest set ({len(results['video_ids'])} videos of held-out subjects {list(test_set.subjects)}):")
    print(f"  rFaceNet:                         {metrics}")
    print(f"  always the train mean ({mean_hr:.1f} bpm): MAE {baseline.mae:.2f} bpm, RMSE {baseline.rmse:.2f} bpm")
    print(f"  rFaceNet vs gt_HR.csv:             MAE {vs_csv.mae:.2f} bpm, RMSE {vs_csv.rmse:.2f} bpm")
    print(f"wrote {out_dir / 'metrics.json'} ({summary['seconds']:.0f} s in total)")
    return summary


if __name__ == "__main__":
    main()
