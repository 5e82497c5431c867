"""Train rFaceNet on VIPL-HR (or, by default, on a synthetic dataset in VIPL-HR's layout).

Usage::

    python examples/train_vipl.py                                    # synthetic VIPL-HR layout, CPU-sized defaults
    python examples/train_vipl.py --data-root /data/VIPL-HR --fold 1  # the real dataset, the paper's settings
    torchrun --nproc-per-node 4 examples/train_vipl.py --data-root /data/VIPL-HR   # 4 GPUs, DDP
    python examples/train_vipl.py --data-root /data/VIPL-HR --resume auto          # continue an interrupted run

With no ``--data-root`` the script generates a small synthetic dataset in VIPL-HR's exact on-disk layout (or reuses
the one it generated before, under ``--synthetic-root``), splits its subjects into disjoint train, validation and
test sets, trains the registry preset ``rfacenet_vipl`` (CPU-sized: 32x32 frames, TCU x2, a narrow identity encoder)
with the uncertainty-weighted BVP, HR and identity losses, and tests on the held-out subjects by the rFaceNet /
PhysFormer VIPL-HR protocol: each test video's HR is the mean of the FFT HRs of its ~8 s clips (240 frames).

With ``--data-root`` the defaults switch to the rFaceNet paper's VIPL-HR settings (arXiv 2403.09034, §4.2): fold
``--fold`` of the 5-fold subject-exclusive protocol as the test set, 64x128x128 clips, scenes v2 and v9 excluded,
Adam with lr 1e-5 and weight decay 5e-5, batch 16, no validation split (the last epoch is tested). Every setting can
be overridden from the command line (``--help``); the training machinery (AMP, ``--compile``, DDP, checkpoints,
logs, plots, ``results.json``) is described in ``examples/engine.py``.

The HR term of the loss is held back for ``--hr-warmup-epochs`` (default 1): during those epochs it only calibrates
its uncertainty, without sending gradients into the network, so that the BVP branch first learns a pulse-shaped
signal; from a random signal, the soft-argmax HR's gradients slowed BVP learning several-fold on synthetic data.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import DataBundle, Protocol, Runtime, TrainConfig, parse_config, run, synthetic_dir
from rppgblocks.data.splits import subject_exclusive_split, vipl_hr_fold_split
from rppgblocks.data.synthetic import generate_vipl_hr
from rppgblocks.data.vipl_hr import VIPLHR, vipl_hr_subjects
from rppgblocks.models import RFACENET_HR_BAND


@dataclass
class VIPLConfig(TrainConfig):
    """Every setting of a VIPL-HR run (the engine's, plus the dataset's); saved with the run."""

    out_dir: str = "runs/train_vipl"
    model: str = "rfacenet_vipl"
    clip_stride: int | None = 32
    # VIPL-HR
    sources: tuple[str, ...] = ("source1", "source2", "source3")
    exclude_scenarios: tuple[str, ...] = ("v2", "v9")
    fold: int = 1
    test_fraction: float = 0.25
    eval_clip_length: int = 240
    # synthetic data (used without --data-root)
    synthetic_subjects: int = 16
    synthetic_scenarios: tuple[str, ...] = ("v1", "v3")
    synthetic_sources: tuple[str, ...] = ("source1",)
    synthetic_duration_s: float = 20.0
    synthetic_frame_size: tuple[int, ...] = (160, 120)

    def validate(self) -> None:
        super().validate()
        if not 1 <= self.fold <= 5:
            raise ValueError(f"--fold: expected 1-5, got {self.fold}")
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"--test-fraction: expected 0 < value < 1, got {self.test_fraction}")
        if self.eval_clip_length < 4 or self.eval_clip_length % 4:
            raise ValueError(f"--eval-clip-length: expected a positive multiple of 4, got {self.eval_clip_length}")


#: The rFaceNet paper's VIPL-HR settings (§4.2), applied when --data-root is given (flags still override them).
PAPER_VIPL: dict[str, Any] = {
    "clip_length": 64,
    "clip_stride": 64,
    "frame_size": 128,
    "tcu_scale_factor": None,
    "identity_widths": (64, 128, 256, 512),
    "batch_size": 16,
    "lr": 1e-5,
    "weight_decay": 5e-5,
    "epochs": 30,
    "val_fraction": 0.0,
    "num_workers": 4,
    "preprocess_workers": 4,
}


def parse_args(argv: Sequence[str] | None = None) -> VIPLConfig:
    """The run's configuration: defaults, the paper preset for real data, ``--config``, then the flags."""
    return cast(VIPLConfig, parse_config(VIPLConfig, argv, paper_preset=PAPER_VIPL, description=__doc__ or ""))


def prepare(config: TrainConfig, runtime: Runtime) -> DataBundle:
    """Generate or locate the data, split subjects (test, validation, train) and build the clip datasets."""
    config = cast(VIPLConfig, config)
    say = print if runtime.is_main else (lambda *_: None)
    if config.data_root is None:
        start = time.perf_counter()
        params: dict[str, Any] = {
            "n_subjects": config.synthetic_subjects,
            "scenarios": config.synthetic_scenarios,
            "sources": config.synthetic_sources,
            "duration_s": config.synthetic_duration_s,
            "frame_size": (config.synthetic_frame_size[0], config.synthetic_frame_size[1]),
            "seed": config.data_seed,
        }
        root = generate_vipl_hr(config.synthetic_root or synthetic_dir(None, "synthetic_vipl_hr", params), **params)
        say(f"synthetic VIPL-HR-layout dataset at {root} ({time.perf_counter() - start:.1f} s)")
        sources = config.synthetic_sources
        train_ids, test_ids = subject_exclusive_split(
            vipl_hr_subjects(root), test_fraction=config.test_fraction, seed=config.data_seed
        )
        split = f"random subject-exclusive split, test fraction {config.test_fraction}"
    else:
        root = Path(config.data_root)
        sources = config.sources
        available = set(vipl_hr_subjects(root))
        train_ids, test_ids = (tuple(s for s in ids if s in available) for ids in vipl_hr_fold_split(config.fold))
        split = f"5-fold protocol, fold {config.fold} as the test set"
    val_ids: tuple[int, ...] = ()
    if config.val_fraction > 0:
        train_ids, val_ids = subject_exclusive_split(
            train_ids, test_fraction=config.val_fraction, seed=config.data_seed
        )
    common: dict[str, Any] = {
        "frame_size": (config.frame_size, config.frame_size),
        "sources": sources,
        "exclude_scenarios": config.exclude_scenarios,
        "cache_dir": config.cache_dir,
        "num_workers": config.preprocess_workers,
    }
    start = time.perf_counter()
    stride = config.clip_stride or config.clip_length
    train = VIPLHR(root, clip_length=config.clip_length, clip_stride=stride, subjects=train_ids, **common)
    evaluation = {"clip_length": config.eval_clip_length, "clip_stride": config.eval_clip_length}
    val = VIPLHR(root, subjects=val_ids, **evaluation, **common) if val_ids else None
    test = VIPLHR(root, subjects=test_ids, **evaluation, **common)
    say(
        f"subjects: train {list(train.subjects)}, validation {list(val_ids)}, test {list(test.subjects)} "
        f"({split}); {len(train.videos)} / {len(val.videos) if val else 0} / {len(test.videos)} videos "
        f"(preprocessed in {time.perf_counter() - start:.1f} s)"
    )
    return DataBundle(
        train=train,
        val=val,
        test=test,
        protocol=Protocol("clip_average", "Raw", RFACENET_HR_BAND),
        description={
            "dataset": "VIPL-HR" if config.data_root else "synthetic VIPL-HR layout",
            "root": str(root),
            "split": split,
            "train_subjects": list(train.subjects),
            "val_subjects": list(val_ids),
            "test_subjects": list(test.subjects),
            "videos": {"train": len(train.videos), "val": len(val.videos) if val else 0, "test": len(test.videos)},
        },
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the example; return the summary written to ``<out-dir>/results.json``."""
    return run(parse_args(argv), prepare)


if __name__ == "__main__":
    main()
