"""The cross-dataset protocols of the rFaceNet paper's Table 2: PURE -> UBFC-rPPG and UBFC-rPPG -> PURE.

Shared by ``train_pure.py`` (train on PURE, test on UBFC-rPPG) and ``train_ubfc.py`` (train on UBFC-rPPG, test on
PURE). The protocol is rPPG-Toolbox's (``datasets.md`` §4.7), which the paper follows (arXiv 2403.09034, §4.2):

- the training dataset's subjects, sorted, split by fraction: train [0, 0.8), validation [0.8, 1.0)
  (PURE: subjects 01-08 and 09-10; UBFC-rPPG: the first 80 % of its 42 subjects and the rest);
- every video of the other dataset is the test set;
- 128-frame chunks of 72x72 face crops (static Haar-cascade box, enlarged 1.5x), DiffNormalized labels; the
  ``rfacenet`` preset DiffNormalizes the clip for its BVP branch (PhysNet) while its identity branch sees RGB;
- PhysNet's rPPG-Toolbox hyperparameters: Adam, lr 9e-3 with a one-cycle schedule, batch 4, 30 epochs, the last
  epoch tested;
- evaluation: each test video's chunk predictions are concatenated and evaluated as a whole (cumulative sum of the
  DiffNormalized signals, detrending, band-pass, FFT HR) by :func:`rppgblocks.evaluation.evaluate_hr`; the band is
  ``--eval-band`` (default 0.6-3.3 Hz, rPPG-Toolbox's current one; its tables before 2025, and likely the paper's,
  used 0.75-2.5 Hz).

Without ``--data-root`` both datasets are synthetic (written in their real layouts under ``--synthetic-root``, one
folder per ``--data-seed`` and size) and the defaults are CPU-sized (64-frame clips of 32x32 pixels, a narrow
identity encoder, 12 epochs at lr 1e-3).

The HR loss gives no gradient in the first ``--hr-warmup-epochs`` (6) epochs. With DiffNormalized labels the HR
of a prediction is read from its integral, and an untrained network can lower that loss without the pulse: an
output whose integral peaks near the training mean HR. The uncertainty weighting then raises the HR task's weight
as its loss falls and lowers the BVP task's, and the BVP branch never starts. Measured on the synthetic default
(PhysNet, seed 0): with the HR gradient from epoch 2 the BVP loss (z-scored MSE, 2 (1 - r)) was still 1.92 after
10 epochs; with the BVP loss alone for the first epochs it fell to 0.61 in epoch 5, and the HR loss then trained
within one epoch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import DataBundle, Protocol, Runtime, TrainConfig, parse_config, run, synthetic_dir
from rppgblocks.data import PURE, UBFCRPPG, fraction_split, pure_sessions, ubfc_rppg_subjects
from rppgblocks.data.synthetic import generate_pure, generate_ubfc_rppg

Dataset = Literal["pure", "ubfc"]
_NAMES = {"pure": "PURE", "ubfc": "UBFC-rPPG"}


@dataclass
class CrossDatasetConfig(TrainConfig):
    """Every setting of a cross-dataset run (the engine's, plus the datasets'); saved with the run.

    ``data_root`` is the training dataset's folder and ``test_root`` the test dataset's; give both or neither.
    """

    out_dir: str = "runs/cross_dataset"
    clip_stride: int | None = 32
    # the HR loss on the integral of an untrained DiffNormalized output has a shortcut (see the module docstring)
    hr_warmup_epochs: int = 6
    epochs: int = 12
    test_root: str | None = None
    train_fraction: float = 0.8
    eval_band: tuple[float, ...] = (0.6, 3.3)
    pure_label_alignment: Literal["timestamps", "index_stretch"] = "timestamps"
    # synthetic data (used without --data-root)
    synthetic_pure_subjects: int = 6
    synthetic_pure_tasks: tuple[int, ...] = (1, 2)
    synthetic_ubfc_subjects: int = 6
    synthetic_duration_s: float = 20.0
    synthetic_frame_size: tuple[int, ...] = (160, 120)

    def validate(self) -> None:
        super().validate()
        if (self.data_root is None) != (self.test_root is None):
            raise ValueError("--data-root, --test-root: give both (the training and the test dataset) or neither")
        if not 0 < self.train_fraction < 1:
            raise ValueError(f"--train-fraction: expected 0 < value < 1, got {self.train_fraction}")
        if len(self.eval_band) != 2 or not 0 < self.eval_band[0] < self.eval_band[1]:
            raise ValueError(f"--eval-band: expected two frequencies 0 < low < high in Hz, got {self.eval_band}")


#: rPPG-Toolbox's PhysNet settings (``architectures.md`` §1, §2.7), applied when --data-root is given.
PAPER_CROSS: dict[str, Any] = {
    "clip_length": 128,
    "clip_stride": 128,
    "frame_size": 72,
    "tcu_scale_factor": 2.0,
    "identity_widths": (64, 128, 256, 512),
    "batch_size": 4,
    "lr": 9e-3,
    "weight_decay": 0.0,
    "lr_schedule": "onecycle",
    "epochs": 30,
    "test_checkpoint": "last",
    "num_workers": 4,
    "preprocess_workers": 4,
}


def parse_args(argv: Sequence[str] | None, *, out_dir: str, description: str) -> CrossDatasetConfig:
    """The run's configuration: defaults (with this example's ``out_dir``), the paper preset, ``--config``, flags."""
    config = parse_config(
        CrossDatasetConfig, argv, defaults={"out_dir": out_dir}, paper_preset=PAPER_CROSS, description=description
    )
    return cast(CrossDatasetConfig, config)


def _synthetic(config: CrossDatasetConfig, name: Dataset) -> Path:
    size = (config.synthetic_frame_size[0], config.synthetic_frame_size[1])
    params: dict[str, Any] = {"duration_s": config.synthetic_duration_s, "frame_size": size}
    if name == "pure":
        params |= {
            "n_subjects": config.synthetic_pure_subjects,
            "tasks": config.synthetic_pure_tasks,
            "seed": config.data_seed,
        }
        return generate_pure(synthetic_dir(config.synthetic_root, "synthetic_pure", params), **params)
    params |= {"n_subjects": config.synthetic_ubfc_subjects, "seed": config.data_seed + 1}
    return generate_ubfc_rppg(synthetic_dir(config.synthetic_root, "synthetic_ubfc_rppg", params), **params)


def _subjects(name: Dataset, root: Path) -> list[int]:
    if name == "pure":
        return sorted({int(session[:2]) for session in pure_sessions(root)})
    return ubfc_rppg_subjects(root)


def _dataset(name: Dataset, root: Path, subjects: Sequence[int], config: CrossDatasetConfig, **clips: Any) -> Any:
    common: dict[str, Any] = {
        "frame_size": (config.frame_size, config.frame_size),
        "subjects": subjects,
        "cache_dir": config.cache_dir,
        "num_workers": config.preprocess_workers,
        "label_normalization": "diff_normalized",
        "video_normalization": "diff_normalized" if config.model == "physnet" else "raw",
    }
    if name == "pure":
        return PURE(root, label_alignment=config.pure_label_alignment, **common, **clips)
    return UBFCRPPG(root, **common, **clips)


def prepare_for(train_name: Dataset, test_name: Dataset) -> Any:
    """The data preparation of the ``train_name`` -> ``test_name`` protocol, for :func:`engine.run`."""

    def prepare(config: TrainConfig, runtime: Runtime) -> DataBundle:
        config = cast(CrossDatasetConfig, config)
        say = print if runtime.is_main else (lambda *_: None)
        start = time.perf_counter()
        if config.data_root is None:
            train_root, test_root = _synthetic(config, train_name), _synthetic(config, test_name)
            say(
                f"synthetic {_NAMES[train_name]} and {_NAMES[test_name]} layouts at {train_root}, {test_root} "
                f"({time.perf_counter() - start:.1f} s)"
            )
        else:
            train_root, test_root = Path(config.data_root), Path(cast(str, config.test_root))
        subjects = _subjects(train_name, train_root)
        train_ids = fraction_split(subjects, 0.0, config.train_fraction)
        val_ids = fraction_split(subjects, config.train_fraction, 1.0)
        stride = config.clip_stride or config.clip_length
        start = time.perf_counter()
        train = _dataset(train_name, train_root, train_ids, config, clip_length=config.clip_length, clip_stride=stride)
        chunks = {"clip_length": config.clip_length, "clip_stride": config.clip_length}  # the toolbox's chunks
        val = _dataset(train_name, train_root, val_ids, config, **chunks) if val_ids else None
        test = _dataset(test_name, test_root, _subjects(test_name, test_root), config, **chunks)
        say(
            f"{_NAMES[train_name]} subjects: train {list(train_ids)}, validation {list(val_ids)}; "
            f"{_NAMES[test_name]} test subjects {list(test.subjects)}; "
            f"{len(train.videos)} / {len(val.videos) if val else 0} / {len(test.videos)} videos "
            f"(preprocessed in {time.perf_counter() - start:.1f} s)"
        )
        return DataBundle(
            train=train,
            val=val,
            test=test,
            protocol=Protocol("whole_video", "DiffNormalized", (config.eval_band[0], config.eval_band[1])),
            description={
                "protocol": f"{_NAMES[train_name]} -> {_NAMES[test_name]}",
                "synthetic": config.data_root is None,
                "train_root": str(train_root),
                "test_root": str(test_root),
                "train_subjects": list(train_ids),
                "val_subjects": list(val_ids),
                "test_subjects": list(test.subjects),
                "videos": {"train": len(train.videos), "val": len(val.videos) if val else 0, "test": len(test.videos)},
            },
        )

    return prepare


def main(train_name: Dataset, test_name: Dataset, argv: Sequence[str] | None, *, description: str) -> dict[str, Any]:
    """Run the ``train_name`` -> ``test_name`` protocol; return the summary written to ``results.json``."""
    config = parse_args(argv, out_dir=f"runs/train_{train_name}", description=description)
    return run(config, prepare_for(train_name, test_name))
