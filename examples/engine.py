"""The training engine shared by the rppgblocks examples.

``train_vipl.py``, ``train_ubfc.py``, ``train_pure.py`` and ``ablation_rfacenet.py`` differ only in their data and
protocol; everything else lives here:

- **Configuration**: :class:`TrainConfig`, a typed dataclass; :func:`parse_config` builds the command line from its
  fields (``--clip-length 128``, ``--no-compile``, ``--identity-widths 64 128 256 512``), applies a paper preset when
  real data is given, then a saved ``config.json`` (``--config``), then the flags. The resolved configuration is
  written to ``<out-dir>/config.json`` and into every checkpoint and result.
- **Model and loss**: a registry preset (:func:`rppgblocks.models.create_model`) trained with
  :class:`rppgblocks.UncertaintyMultiTaskLoss` on the BVP (z-scored MSE, i.e. 2 (1 - r), or negative Pearson), HR
  (soft FFT HR, in Hz) and identity (cross-entropy) tasks; Adam with the log-variances out of weight decay; a
  constant, one-cycle or cosine learning-rate schedule.
- **Hardware**: automatic mixed precision on CUDA (bfloat16 where supported, else float16 with a gradient scaler),
  optional ``torch.compile``, ``channels_last_3d`` on CUDA, pinned memory and loader worker processes.
- **Distributed**: under ``torchrun`` (``WORLD_SIZE`` > 1) the same script runs DistributedDataParallel: NCCL on
  CUDA, gloo on CPU; a :class:`~torch.utils.data.DistributedSampler`; batch-norm statistics synchronised across
  ranks (``--sync-bn``, default on; torch's ``SyncBatchNorm`` on CUDA, :class:`DistributedBatchNorm` on CPU), so
  that N ranks with batch B train exactly like one process with batch N x B; evaluation sharded and gathered;
  losses averaged across ranks; rank 0 alone writes checkpoints, logs and plots. Rank 0 prepares the data (and
  its cache) first, the others then read the cache.
- **Checkpoints**: after every epoch, ``last.pt`` and ``epoch_NNN.pt`` (the newest ``--keep-checkpoints``), and
  ``best.pt`` by validation MAE; each holds the model, loss, optimiser, scheduler and scaler states, the epoch and
  step, every rank's RNG states, the history, the configuration and the library version, and loads with
  ``torch.load(..., weights_only=True)``. ``--resume auto`` (or a path) continues a run exactly: the weights
  after resuming equal those of an uninterrupted run.
- **Logging**: tqdm progress, ``<out-dir>/log.csv`` (one row per value: epoch, step, split, name, value) and/or
  TensorBoard (``--log tensorboard``): losses, per-task uncertainty weights and log-variances, learning rate,
  throughput and validation metrics.
- **Evaluation**: two protocols. ``clip_average`` (VIPL-HR, following PhysFormer and rFaceNet): the HR of each video
  is the mean of the FFT HRs of its ~8 s clips. ``whole_video`` (rPPG-Toolbox's cross-dataset evaluation): each
  video's clip predictions are concatenated and evaluated by :func:`rppgblocks.evaluation.evaluate_hr` (detrend,
  band-pass, FFT HR). Both report MAE, RMSE, MAPE, Pearson r and SD with standard errors and the SNR, write
  ``results.json``, BVP, Bland-Altman and scatter plots.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import hashlib
import json
import math
import os
import random
import sys
import time
import types
import typing
import warnings
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset
from tqdm import tqdm

import rppgblocks
from rppgblocks import UncertaintyMultiTaskLoss
from rppgblocks.evaluation import bland_altman_plot, bvp_plot, evaluate_hr, hr_metrics, postprocess_bvp, scatter_plot
from rppgblocks.functional import fft_heart_rate, snr_db, undo_diff_normalize
from rppgblocks.heads import FFTHeartRateHead
from rppgblocks.losses import NegPearsonLoss
from rppgblocks.models import RFACENET_HR_BAND, RFaceNet, create_model

_TASK_KINDS = {"bvp": "regression", "hr": "regression", "identity": "classification"}


def default_cache() -> Path:
    """Where synthetic datasets are generated: ``$RPPGBLOCKS_CACHE``, ``$XDG_CACHE_HOME/rppgblocks`` or ~/.cache."""
    base = os.environ.get("RPPGBLOCKS_CACHE") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rppgblocks"


def synthetic_dir(base: str | os.PathLike[str] | None, name: str, params: Mapping[str, Any]) -> Path:
    """The folder of a synthetic dataset under ``base`` (default :func:`default_cache`), one per parameter set.

    The name carries a digest of the generator's parameters, so that runs with another ``--data-seed`` or size
    generate their own dataset next to the others instead of meeting a different one at the same path.
    """
    text = json.dumps(json_safe(dict(params)), sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return (Path(base) if base else default_cache()) / f"{name}-{digest}"


# ------------------------------------------------------------------------------------------------------------------
# Configuration
# ------------------------------------------------------------------------------------------------------------------


@dataclass
class TrainConfig:
    """The settings every example shares; each example subclasses it with its data settings and defaults."""

    # data
    data_root: str | None = None
    synthetic_root: str | None = None
    cache_dir: str | None = None
    out_dir: str = "runs/train"
    clip_length: int = 64
    clip_stride: int | None = None
    frame_size: int = 32
    num_workers: int = 0
    preprocess_workers: int = 0
    val_fraction: float = 0.2
    # model
    model: str = "rfacenet"
    tcu_scale_factor: float | None = 2.0
    identity_widths: tuple[int, ...] = (32, 64, 128, 256)
    ctfc_stage: int | None = 3
    identity_source: Literal["identity", "noise"] = "identity"
    physnet_width: int = 64
    tasks: tuple[str, ...] = ("bvp", "hr", "identity")
    bvp_loss: Literal["mse", "neg_pearson"] = "mse"
    hr_warmup_epochs: int = 1  # epochs in which the HR loss is computed and logged but gives no gradient
    # optimisation
    epochs: int = 5
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 5e-5
    lr_schedule: Literal["constant", "onecycle", "cosine"] = "constant"
    grad_clip: float | None = None
    seed: int = 0  # initialisation, shuffling and augmentation
    data_seed: int = 0  # the synthetic data and random subject splits: --seed can vary with the data fixed
    # hardware
    device: str = "auto"
    amp: Literal["auto", "bf16", "fp16", "off"] = "auto"
    compile: bool = False
    channels_last: Literal["auto", "on", "off"] = "auto"
    sync_bn: bool = True
    eval_batch_size: int | None = None
    # run
    resume: str | None = None
    stop_after_epoch: int | None = None
    keep_checkpoints: int = 2
    test_checkpoint: Literal["last", "best"] = "last"
    log: Literal["csv", "tensorboard", "both", "none"] = "csv"
    log_every: int = 10
    plots: bool = True
    plot_videos: int = 4

    def validate(self) -> None:
        """Raise ``ValueError`` naming the setting if one is out of range."""
        positive = (
            "clip_length",
            "frame_size",
            "epochs",
            "batch_size",
            "keep_checkpoints",
            "log_every",
            "physnet_width",
        )
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"--{_flag(name)}: expected a positive integer, got {value!r}")
        for name in ("clip_stride", "eval_batch_size", "stop_after_epoch"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"--{_flag(name)}: expected a positive integer or none, got {value!r}")
        for name in ("num_workers", "preprocess_workers", "hr_warmup_epochs", "plot_videos", "data_seed"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{_flag(name)}: expected >= 0, got {getattr(self, name)!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"--lr: expected a positive number, got {self.lr!r}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"--weight-decay: expected >= 0, got {self.weight_decay!r}")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"--val-fraction: expected 0 <= value < 1, got {self.val_fraction!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"--grad-clip: expected a positive number or none, got {self.grad_clip!r}")
        unknown = sorted(set(self.tasks) - set(_TASK_KINDS))
        if unknown or "bvp" not in self.tasks:
            raise ValueError(f"--tasks: expected 'bvp' and any of 'hr', 'identity', got {list(self.tasks)}")
        if self.clip_length % 4:
            raise ValueError(f"--clip-length: PhysNet needs a multiple of 4, got {self.clip_length}")


def _flag(name: str) -> str:
    return name.replace("_", "-")


def _parser_for(hint: Any) -> tuple[dict[str, Any], bool]:
    """argparse keyword arguments for a field's type hint, and whether it is a tuple (nargs)."""
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional, hint = len(args) < len(typing.get_args(hint)), args[0]
    origin = typing.get_origin(hint)
    if origin is tuple:
        element = typing.get_args(hint)[0]
        return {"nargs": "*", "type": element}, True
    if origin is Literal:
        return {"choices": list(typing.get_args(hint))}, False
    if hint is bool:
        return {"action": argparse.BooleanOptionalAction}, False
    kind: Callable[[str], Any] = hint if hint in (int, float, str) else str
    if optional:
        inner = kind

        def parse(text: str) -> Any:
            return None if text.lower() == "none" else inner(text)

        parse.__name__ = getattr(inner, "__name__", "value")
        kind = parse
    return {"type": kind}, False


def parse_config(
    config_class: type[TrainConfig],
    argv: Sequence[str] | None = None,
    *,
    defaults: Mapping[str, Any] | None = None,
    paper_preset: Mapping[str, Any] | None = None,
    description: str = "",
) -> TrainConfig:
    """The run's configuration: the class's ``defaults`` (overridden by ``defaults``), then ``paper_preset`` if
    ``--data-root`` is given, then a ``--config`` file, then the flags.

    Raises:
        ValueError: If a setting is out of range, or the ``--config`` file names unknown settings.
    """
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,  # only the flags given appear in the namespace
    )
    parser.add_argument("--config", help="a config.json written by an earlier run; flags override it")
    base = config_class(**(defaults or {}))
    hints = typing.get_type_hints(config_class)
    for f in dataclasses.fields(config_class):
        kwargs, is_tuple = _parser_for(hints[f.name])
        value = getattr(base, f.name)
        shown = " ".join(map(str, value)) if is_tuple else value
        parser.add_argument(f"--{_flag(f.name)}", help=f"(default: {shown})", **kwargs)
    args = vars(parser.parse_args(list(argv) if argv is not None else None))
    from_file: dict[str, Any] = {}
    if "config" in args:
        from_file = json.loads(Path(args.pop("config")).read_text())
        from_file = dict(from_file.get("config", from_file))  # a results.json or checkpoint dump also works
        known = {f.name for f in dataclasses.fields(config_class)}
        unknown = sorted(set(from_file) - known)
        if unknown:
            raise ValueError(f"--config: unknown settings {unknown}")
    config = config_class(**(defaults or {}))
    data_root = args.get("data_root", from_file.get("data_root"))
    if data_root is not None and paper_preset:
        for key, value in paper_preset.items():
            setattr(config, key, value)
    for source in (from_file, args):
        for key, value in source.items():
            setattr(config, key, tuple(value) if isinstance(value, list) else value)
    config.validate()
    return config


# ------------------------------------------------------------------------------------------------------------------
# Distributed runtime
# ------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Runtime:
    """Where this process runs: its device, rank and the world size (1 without ``torchrun``)."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup_runtime(device: str) -> Runtime:
    """Initialise the process group under ``torchrun`` (NCCL on CUDA, gloo on CPU) and pick the device.

    Raises:
        ValueError: If ``device`` is ``cuda`` but CUDA is not available.
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device: {device!r} requested but CUDA is not available")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Runtime(torch.device(device))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda"):
        torch.cuda.set_device(local_rank)
        target = torch.device("cuda", local_rank)
        try:
            dist.init_process_group("nccl", device_id=target)
        except TypeError:  # pragma: no cover - torch < 2.3 has no device_id
            dist.init_process_group("nccl")
    else:
        target = torch.device(device)
        dist.init_process_group("gloo")
    return Runtime(target, rank, world_size, local_rank)


def teardown_runtime(runtime: Runtime) -> None:
    if runtime.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(runtime: Runtime) -> None:
    if runtime.distributed:
        dist.barrier()


def gather_objects(value: Any, runtime: Runtime) -> list[Any]:
    """Every rank's ``value``, in rank order (a one-item list without distribution)."""
    if not runtime.distributed:
        return [value]
    gathered: list[Any] = [None] * runtime.world_size
    dist.all_gather_object(gathered, value)
    return gathered


def mean_across_ranks(values: Mapping[str, float], weight: float, runtime: Runtime) -> dict[str, float]:
    """The ``weight``-weighted mean of each value over the ranks (e.g. epoch means weighted by batch counts)."""
    if not runtime.distributed:
        return dict(values)
    names = sorted(values)
    packed = torch.tensor([values[n] * weight for n in names] + [weight], dtype=torch.float64)
    if runtime.device.type == "cuda":
        packed = packed.to(runtime.device)
    dist.all_reduce(packed)
    total = float(packed[-1])
    return {n: float(packed[i]) / max(total, 1e-12) for i, n in enumerate(names)}


class _AllReduceSum(torch.autograd.Function):
    """Sum over the ranks; its gradient is the sum of the ranks' gradients (each rank's loss uses the total)."""

    @staticmethod
    def forward(ctx: Any, tensor: Tensor) -> Tensor:
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        total = grad.clone()
        dist.all_reduce(total)
        return total


class DistributedBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch normalisation whose training statistics are those of the global batch across all ranks, on any device.

    torch's ``SyncBatchNorm`` runs only on accelerators; this is its CPU (gloo) counterpart: per-channel sums, then
    sums of squared deviations from the global mean, are all-reduced with autograd (the gradient of a sum is
    all-reduced too), so the forward pass, its gradients and the running statistics equal those of one process
    seeing the whole global batch. Outside distributed training (or in eval mode) it is plain batch normalisation.
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"input: expected at least 2 dimensions (N, C, ...), got shape {tuple(input.shape)}")

    def forward(self, input: Tensor) -> Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(input)
        self._check_input_dim(input)
        channels = input.shape[1]
        dims = [0, *range(2, input.dim())]
        x = input.float()
        shape = [1, channels] + [1] * (input.dim() - 2)
        # two passes (global mean, then the global sum of squared deviations): E[x^2] - E[x]^2 in float32 loses the
        # variance of inputs whose mean is large against their spread, such as raw RGB clips
        count = x.new_tensor([input.numel() / channels])
        stats = _AllReduceSum.apply(torch.cat([x.sum(dims), count]))
        n = stats[-1]
        mean = stats[:channels] / n
        centered = x - mean.view(shape)
        var = _AllReduceSum.apply(centered.square().sum(dims)) / n
        if self.track_running_stats and self.running_mean is not None and self.running_var is not None:
            with torch.no_grad():
                self.num_batches_tracked += 1  # type: ignore[operator]
                momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                unbiased = var * (n / (n - 1).clamp_min(1.0))
                self.running_mean.mul_(1 - momentum).add_(momentum * mean.detach().to(self.running_mean.dtype))
                self.running_var.mul_(1 - momentum).add_(momentum * unbiased.detach().to(self.running_var.dtype))
        y = centered * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.float().view(shape) + self.bias.float().view(shape)
        return y.to(input.dtype)


def convert_sync_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """Replace every batch-norm layer by one synchronised across ranks (torch's on CUDA, ours elsewhere)."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    converted = module
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(module, DistributedBatchNorm):
        converted = DistributedBatchNorm(
            module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats
        )
        if module.affine:
            with torch.no_grad():
                converted.weight = module.weight
                converted.bias = module.bias
        converted.running_mean = module.running_mean
        converted.running_var = module.running_var
        converted.num_batches_tracked = module.num_batches_tracked
        converted.train(module.training)
    for name, child in module.named_children():
        converted.add_module(name, convert_sync_batchnorm(child, device))
    return converted


# ------------------------------------------------------------------------------------------------------------------
# Precision, RNG and checkpoints
# ------------------------------------------------------------------------------------------------------------------


def amp_dtype(mode: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype: ``auto`` = bfloat16 on CUDA where supported, else float16; no AMP on CPU unless asked."""
    if mode == "off" or (mode == "auto" and device.type != "cuda"):
        return None
    if mode == "bf16" or (mode == "auto" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    if device.type != "cuda":
        raise ValueError(f"--amp: float16 autocast needs CUDA, got device {device}")
    return torch.float16


def make_grad_scaler(dtype: torch.dtype | None, device: torch.device) -> Any:
    """A gradient scaler, enabled for float16 only."""
    enabled = dtype == torch.float16
    scaler_class = getattr(torch.amp, "GradScaler", None)  # torch >= 2.3
    if scaler_class is not None:
        return scaler_class(device.type, enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)  # pragma: no cover - torch < 2.3


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - the legacy global generator, which user code may use
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """This process's Python, numpy, torch and CUDA RNG states, in types ``torch.load(weights_only=True)`` accepts."""
    name, keys, pos, has_gauss, cached = np.random.get_state()  # type: ignore[misc]  # noqa: NPY002
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "name": name,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    python = state["python"]
    random.setstate((python[0], tuple(python[1]), python[2]))
    n = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        (n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"])
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, state: Mapping[str, Any]) -> None:
    """Write atomically (a temporary file renamed into place), so an interrupted write never leaves a broken file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(dict(state), tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint of these examples with ``weights_only=True`` (no arbitrary code is unpickled)."""
    return torch.load(path, map_location=map_location, weights_only=True)  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------------------------------------
# Data bundle and protocols
# ------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Protocol:
    """How a test set is evaluated.

    Attributes:
        name: ``"clip_average"`` (per-video HR = mean of the clips' FFT HRs; VIPL-HR) or ``"whole_video"``
            (rPPG-Toolbox: concatenated clips, post-processing, FFT HR of the whole video).
        label_type: The labels' normalisation for ``whole_video`` (``"DiffNormalized"``, ``"Standardized"``,
            ``"Raw"``); the same post-processing is applied to predictions and labels.
        band: The HR band in Hz.
    """

    name: Literal["clip_average", "whole_video"]
    label_type: Literal["DiffNormalized", "Standardized", "Raw"] = "Raw"
    band: tuple[float, float] = RFACENET_HR_BAND


@dataclass
class DataBundle:
    """What an example's data preparation hands to :func:`run`.

    ``train`` is one of the library's clip datasets (with ``subjects`` and ``videos``): the identity classes (its
    subjects, in order) and the model's nominal ``fs`` (the median frame rate of its videos) are derived from it.
    """

    train: Dataset[Any]
    val: Dataset[Any] | None
    test: Dataset[Any]
    protocol: Protocol
    description: dict[str, Any] = field(default_factory=dict)
    classes: dict[int, int] = field(init=False)
    fs: float = field(init=False)

    def __post_init__(self) -> None:
        train: Any = self.train
        self.classes = {subject: i for i, subject in enumerate(train.subjects)}
        self.fs = nominal_fs(train.videos)


# ------------------------------------------------------------------------------------------------------------------
# Model and loss
# ------------------------------------------------------------------------------------------------------------------


def zscore(signal: Tensor) -> Tensor:
    """Per-signal z-score over time (population SD), with an epsilon so that its gradient stays finite for a
    constant prediction (``functional.standardize_label`` returns zeros there, without a useful gradient)."""
    centred = signal - signal.mean(dim=-1, keepdim=True)
    return centred / (centred.square().mean(dim=-1, keepdim=True).sqrt() + 1e-6)


def integrate(signal: Tensor) -> Tensor:
    """Undo DiffNormalized: cumulative sum over time, then the least-squares line removed (the sum's drift).

    The HR of a DiffNormalized (first-difference) signal must be read from its integral, as rPPG-Toolbox's
    evaluation does: differencing multiplies each frequency's amplitude by about 2 pi f / fs, which can make the
    first harmonic of a pulse outweigh its fundamental.
    """
    summed = undo_diff_normalize(signal.float())
    t = torch.arange(summed.shape[-1], device=summed.device, dtype=summed.dtype)
    t = t - t.mean()
    slope = (summed * t).sum(-1, keepdim=True) / t.square().sum().clamp_min(1e-12)
    return summed - summed.mean(-1, keepdim=True) - slope * t


def nominal_fs(videos: Sequence[Any]) -> float:
    """The median frame rate in Hz of a dataset's ``videos`` (each with an ``fps``): the model's default ``fs``."""
    return float(np.median([video.fps for video in videos]))


def label_hr(bvp: Tensor, fs: Tensor, band: tuple[float, float] = RFACENET_HR_BAND, *, diff: bool = False) -> Tensor:
    """The HR label of a clip: the FFT HR of its ground-truth BVP (rFaceNet Eq. 3), integrated first if ``diff``."""
    return fft_heart_rate(integrate(bvp) if diff else bvp.float(), fs.float(), band=band)


def build_model(config: TrainConfig, num_identities: int, fs: float) -> nn.Module:
    """The registry preset ``config.model`` with the configuration's overrides."""
    if config.model.startswith("rfacenet"):
        return create_model(
            config.model,
            num_identities=max(num_identities, 1),
            fs=fs,
            tcu_scale_factor=config.tcu_scale_factor,
            identity_widths=tuple(config.identity_widths),
            ctfc_stage=config.ctfc_stage,
            identity_source=config.identity_source,
            physnet_width=config.physnet_width,
        )
    if config.model == "physnet":
        return create_model("physnet", width=config.physnet_width)
    raise ValueError(f"--model: the examples train 'rfacenet', 'rfacenet_vipl' or 'physnet', got {config.model!r}")


class MultiTaskStep(nn.Module):
    """The model and its uncertainty-weighted loss as one module, so that DDP synchronises both.

    ``forward`` returns the total loss, each task's loss (detached) and each task's uncertainty weight.
    """

    def __init__(
        self,
        model: nn.Module,
        tasks: Sequence[str],
        bvp_loss: str,
        hr_band: tuple[float, float],
        *,
        diff_labels: bool = False,
    ) -> None:
        super().__init__()
        self.model = model
        self.tasks = tuple(tasks)
        self.bvp_loss = bvp_loss
        self.hr_band = hr_band
        self.diff_labels = diff_labels
        self.criterion = UncertaintyMultiTaskLoss({t: _TASK_KINDS[t] for t in self.tasks})
        self.neg_pearson = NegPearsonLoss()
        # with DiffNormalized labels the BVP output is a derivative: its HR is read from its integral
        own_head = diff_labels or not isinstance(model, RFaceNet)
        self.hr_head = FFTHeartRateHead(band=hr_band, soft=True) if own_head else None

    def predict(self, video: Tensor, fs: Tensor) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """BVP ``(B, T)``, soft HR ``(B,)`` and identity logits (``None`` where the model has none)."""
        logits = None
        if isinstance(self.model, RFaceNet):
            out = self.model(video, fs)
            bvp, hr, logits = out.bvp, out.hr, out.identity_logits
        else:
            bvp, hr = self.model(video), None
        if self.hr_head is not None and "hr" in self.tasks:
            hr = self.hr_head(integrate(bvp) if self.diff_labels else bvp.float(), fs)
        return bvp, hr, logits

    def forward(
        self, video: Tensor, fs: Tensor, bvp: Tensor, identity: Tensor, hr_gradient: bool
    ) -> tuple[Tensor, dict[str, Tensor], dict[str, Tensor], Tensor]:
        pred_bvp, pred_hr, logits = self.predict(video, fs)
        target_hr = label_hr(bvp, fs, self.hr_band, diff=self.diff_labels)
        losses: dict[str, Tensor] = {}
        if self.bvp_loss == "neg_pearson":
            losses["bvp"] = self.neg_pearson(pred_bvp.float(), bvp.float())
        else:  # mean squared error of per-sample z-scored signals = 2 (1 - r)
            losses["bvp"] = F.mse_loss(zscore(pred_bvp.float()), zscore(bvp.float()))
        if "hr" in self.tasks and pred_hr is not None:
            hr_loss = F.mse_loss(pred_hr.float() / 60.0, target_hr / 60.0)  # in Hz: a loss scale of order 1
            losses["hr"] = hr_loss if hr_gradient else hr_loss.detach()
        if "identity" in self.tasks and logits is not None:
            losses["identity"] = F.cross_entropy(logits.float(), identity)
        result = self.criterion(losses)
        detached = {k: v.detach() for k, v in losses.items()}
        return result.total, detached, result.weights, target_hr.detach()


# ------------------------------------------------------------------------------------------------------------------
# Logging
# ------------------------------------------------------------------------------------------------------------------


class RunLog:
    """Scalars to ``log.csv`` (long format) and/or TensorBoard, written by rank 0 only."""

    FIELDS = ("wall_time_s", "epoch", "step", "split", "name", "value")

    def __init__(self, out_dir: Path, kind: str, enabled: bool, resume_epoch: int = 0) -> None:
        self.enabled = enabled and kind != "none"
        self.started = time.time()
        self._csv: Any = None
        self._writer: csv.DictWriter[str] | None = None
        self._tb: Any = None
        if not self.enabled:
            return
        if kind in ("csv", "both"):
            path = out_dir / "log.csv"
            rows: list[dict[str, str]] = []
            if resume_epoch and path.exists():  # drop what an interrupted run logged after its last checkpoint
                with path.open(newline="") as handle:
                    rows = [r for r in csv.DictReader(handle) if int(r["epoch"]) <= resume_epoch]
            self._csv = path.open("w", newline="")
            self._writer = csv.DictWriter(self._csv, fieldnames=self.FIELDS)
            self._writer.writeheader()
            self._writer.writerows(rows)
        if kind in ("tensorboard", "both"):
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as exc:
                raise ImportError("--log tensorboard needs the tensorboard package: pip install tensorboard") from exc
            self._tb = SummaryWriter(str(out_dir / "tensorboard"), purge_step=None)

    def scalars(self, split: str, values: Mapping[str, float], *, epoch: int, step: int) -> None:
        if not self.enabled:
            return
        now = round(time.time() - self.started, 3)
        for name, value in values.items():
            if self._writer is not None:
                self._writer.writerow(
                    {"wall_time_s": now, "epoch": epoch, "step": step, "split": split, "name": name, "value": value}
                )
            if self._tb is not None:
                self._tb.add_scalar(f"{split}/{name}", value, step)
        if self._csv is not None:
            self._csv.flush()

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()
        if self._tb is not None:
            self._tb.close()


def json_safe(value: Any) -> Any:
    """NaN and infinities become null (strict JSON); tuples become lists; numpy scalars become Python numbers."""
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json_safe(value), indent=2, allow_nan=False))


# ------------------------------------------------------------------------------------------------------------------
# Prediction and evaluation
# ------------------------------------------------------------------------------------------------------------------


def _to_device(batch: Mapping[str, Any], device: torch.device, channels_last: bool) -> dict[str, Any]:
    out = {k: v.to(device, non_blocking=True) if isinstance(v, Tensor) else v for k, v in batch.items()}
    if channels_last:
        out["video"] = out["video"].contiguous(memory_format=torch.channels_last_3d)
    return out


@torch.no_grad()
def predict_clips(
    step: MultiTaskStep, dataset: Dataset[Any], runtime: Runtime, config: TrainConfig, channels_last: bool
) -> list[dict[str, Any]]:
    """The predicted and label BVP of every clip, sharded over the ranks and gathered, sorted by (video, start)."""
    was_training = step.training
    step.eval()
    indices = list(range(runtime.rank, len(dataset), runtime.world_size))  # type: ignore[arg-type]
    loader = DataLoader(
        Subset(dataset, indices),
        batch_size=config.eval_batch_size or max(1, config.batch_size // 2),
        shuffle=False,
        num_workers=config.num_workers,
        pin_memory=runtime.device.type == "cuda",
    )
    dtype = amp_dtype(config.amp, runtime.device)
    records: list[dict[str, Any]] = []
    for batch in loader:
        batch = _to_device(batch, runtime.device, channels_last)
        with _autocast(runtime.device, dtype):
            pred, _, _ = step.predict(batch["video"], batch["fs"])
        pred = pred.float().cpu().numpy()
        label = batch["bvp"].float().cpu().numpy()
        for i, video_id in enumerate(batch["video_id"]):
            records.append(
                {
                    "video_id": video_id,
                    "start": int(batch["start"][i]),
                    "fs": float(batch["fs"][i]),
                    "reference_hr_bpm": float(batch["hr"][i]),
                    "pred": pred[i],
                    "label": label[i],
                }
            )
    step.train(was_training)
    merged = [r for part in gather_objects(records, runtime) for r in part]
    return sorted(merged, key=lambda r: (r["video_id"], r["start"]))


def to_channels_last_3d(module: nn.Module) -> None:
    """Store every 5-D parameter (the Conv3d kernels) channels-last; 2-D branches keep their layout."""
    for parameter in module.parameters():
        if parameter.dim() == 5:
            parameter.data = parameter.data.contiguous(memory_format=torch.channels_last_3d)


def _autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager[Any]:
    return contextlib.nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)


def _by_video(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    videos: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r["video_id"], r["start"])):
        videos[record["video_id"]].append(record)
    return videos


def evaluate_records(records: Sequence[Mapping[str, Any]], protocol: Protocol) -> dict[str, Any]:
    """Metrics of gathered clip predictions by ``protocol``: per video HRs, HR metrics with SEs, SNR.

    Raises:
        ValueError: If there are no records, or a ``whole_video`` video's clips are not contiguous.
    """
    if not records:
        raise ValueError("records: nothing to evaluate (the evaluation set is empty)")
    videos = _by_video(records)
    per_video: list[dict[str, Any]] = []
    if protocol.name == "clip_average":
        pred = torch.as_tensor(np.stack([r["pred"] for r in records]), dtype=torch.float64)
        label = torch.as_tensor(np.stack([r["label"] for r in records]), dtype=torch.float64)
        fs = torch.tensor([r["fs"] for r in records], dtype=torch.float64)
        hr_pred = fft_heart_rate(pred, fs, band=protocol.band)
        hr_label = fft_heart_rate(label, fs, band=protocol.band)
        snr = snr_db(pred, hr_label, fs, band=protocol.band)
        index = {id(r): i for i, r in enumerate(records)}
        for video_id, clips in videos.items():
            rows = [index[id(c)] for c in clips]
            per_video.append(
                {
                    "video_id": video_id,
                    "n_clips": len(rows),
                    "hr_pred_bpm": float(hr_pred[rows].mean()),
                    "hr_label_bpm": float(hr_label[rows].mean()),
                    "reference_hr_bpm": float(np.mean([c["reference_hr_bpm"] for c in clips])),
                    "snr_db": float(snr[rows].mean()),
                }
            )
        metrics = hr_metrics([v["hr_pred_bpm"] for v in per_video], [v["hr_label_bpm"] for v in per_video])
        snrs = np.array([v["snr_db"] for v in per_video])
        with np.errstate(invalid="ignore"):  # an infinite SNR (a silent prediction) makes the mean infinite
            snr_mean, snr_se = float(snrs.mean()), float(snrs.std() / math.sqrt(len(snrs)))
        vs_reference = hr_metrics([v["hr_pred_bpm"] for v in per_video], [v["reference_hr_bpm"] for v in per_video])
        extra = {"metrics_vs_reference_hr": vs_reference.as_dict()}
    else:
        preds, labels, rates = {}, {}, {}
        for video_id, clips in videos.items():
            starts = [c["start"] for c in clips]
            lengths = [len(c["pred"]) for c in clips]
            expected = list(np.cumsum([starts[0], *lengths[:-1]]))
            if starts != expected:
                raise ValueError(f"records: the clips of {video_id!r} are not contiguous (starts {starts})")
            preds[video_id] = np.concatenate([c["pred"] for c in clips])
            labels[video_id] = np.concatenate([c["label"] for c in clips])
            rates[video_id] = clips[0]["fs"]
        report = evaluate_hr(preds, labels, fs=rates, label_type=protocol.label_type, band=protocol.band)
        for pair in report.pairs:
            per_video.append(
                {
                    "video_id": pair.video_id,
                    "n_clips": len(videos[pair.video_id]),
                    "hr_pred_bpm": pair.hr_pred_bpm,
                    "hr_label_bpm": pair.hr_label_bpm,
                    "reference_hr_bpm": float(np.mean([c["reference_hr_bpm"] for c in videos[pair.video_id]])),
                    "snr_db": pair.snr_db,
                }
            )
        metrics, snr_mean, snr_se = report.metrics, report.snr_db, report.snr_db_se
        extra = {"evaluation_settings": report.settings, "skipped": [list(s) for s in report.skipped]}
    return {
        "protocol": dataclasses.asdict(protocol),
        "n_videos": len(per_video),
        "n_clips": len(records),
        "metrics": metrics.as_dict(),
        "snr_db": snr_mean,
        "snr_db_se": snr_se,
        "per_video": per_video,
        **extra,
    }


def save_plots(records: Sequence[Mapping[str, Any]], result: Mapping[str, Any], out: Path, n_videos: int) -> list[str]:
    """BVP-vs-ground-truth plots of the first ``n_videos`` videos, a Bland-Altman and a scatter plot."""
    protocol = Protocol(**{**result["protocol"], "band": tuple(result["protocol"]["band"])})
    per_video = result["per_video"]
    pred = [v["hr_pred_bpm"] for v in per_video]
    true = [v["hr_label_bpm"] for v in per_video]
    paths = [
        bland_altman_plot(pred, true, out / "bland_altman.png", title=f"Bland-Altman ({protocol.name})"),
        scatter_plot(pred, true, out / "scatter.png", title=f"HR per video ({protocol.name})"),
    ]
    for video_id, clips in list(_by_video(records).items())[:n_videos]:
        fs = float(clips[0]["fs"])
        if protocol.name == "whole_video":  # what the metric sees: the concatenated, post-processed signals
            diff = protocol.label_type == "DiffNormalized"
            signals = [
                postprocess_bvp(
                    torch.as_tensor(np.concatenate([c[key] for c in clips]), dtype=torch.float64)[None],
                    fs,
                    diff_normalized=diff,
                    band=protocol.band,
                )[0].numpy()
                for key in ("pred", "label")
            ]
        else:  # the first clip, as the network sees it
            signals = [clips[0]["pred"], clips[0]["label"]]
        name = "".join(ch if ch.isalnum() else "_" for ch in video_id)
        paths.append(bvp_plot(signals[0], signals[1], out / f"bvp_{name}.png", fs=fs, title=f"BVP of {video_id}"))
    return [str(p) for p in paths]


# ------------------------------------------------------------------------------------------------------------------
# The training loop
# ------------------------------------------------------------------------------------------------------------------


def _scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    total = max(1, config.epochs * steps_per_epoch)
    if config.lr_schedule == "onecycle":  # rPPG-Toolbox's PhysNet recipe: OneCycleLR with max_lr = lr
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total)
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    return None


def _lookup(classes: Mapping[int, int], device: torch.device) -> Tensor:
    table = torch.full((max(classes, default=0) + 1,), -100, dtype=torch.long)  # -100: cross_entropy's ignore_index
    for subject, index in classes.items():
        table[subject] = index
    return table.to(device)


def _describe_results(name: str, result: Mapping[str, Any]) -> str:
    m = result["metrics"]
    return (
        f"{name}: MAE {m['mae']:.2f} ± {m['mae_se']:.2f} bpm, RMSE {m['rmse']:.2f} ± {m['rmse_se']:.2f} bpm, "
        f"MAPE {m['mape']:.2f} ± {m['mape_se']:.2f} %, r {m['pearson']:.3f} ± {m['pearson_se']:.3f}, "
        f"SD {m['sd']:.2f} ± {m['sd_se']:.2f} bpm, SNR {result['snr_db']:.2f} ± {result['snr_db_se']:.2f} dB "
        f"(n = {result['n_videos']} videos)"
    )


def run(config: TrainConfig, prepare: Callable[[TrainConfig, Runtime], DataBundle]) -> dict[str, Any]:
    """Train, validate, checkpoint and test as ``config`` says; return the summary written to ``results.json``.

    ``prepare`` builds the datasets; it is called by rank 0 first (which fills the caches), then by the others.
    """
    runtime = setup_runtime(config.device)
    try:
        return _run(config, prepare, runtime)
    finally:
        teardown_runtime(runtime)


def _run(
    config: TrainConfig, prepare: Callable[[TrainConfig, Runtime], DataBundle], runtime: Runtime
) -> dict[str, Any]:
    started = time.perf_counter()
    out_dir = Path(config.out_dir)
    main = runtime.is_main
    say: Callable[[str], None] = print if main else (lambda _: None)
    if main:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(out_dir / "config.json", dataclasses.asdict(config))
    say(
        f"rppgblocks {rppgblocks.__version__}, torch {torch.__version__}, device {runtime.device}, "
        f"{runtime.world_size} process(es)"
    )
    seed_everything(config.seed)

    # data: rank 0 first (generation, face detection, cache), then the others from the cache
    if not main:
        barrier(runtime)
    bundle = prepare(config, runtime)
    if main:
        barrier(runtime)
    say(
        f"train {len(bundle.train)} clips, val {len(bundle.val) if bundle.val is not None else 0} clips, "  # type: ignore[arg-type]
        f"test {len(bundle.test)} clips; {len(bundle.classes)} training identities"  # type: ignore[arg-type]
    )

    # model
    seed_everything(config.seed)
    model = build_model(config, len(bundle.classes), bundle.fs)
    tasks = [t for t in config.tasks if t != "identity" or (isinstance(model, RFaceNet) and bundle.classes)]
    if isinstance(model, RFaceNet) and model.identity_source == "noise":
        tasks = [t for t in tasks if t != "identity"]  # the "CTFC only" ablation has no identity task (spec §2.4)
    diff = bundle.protocol.label_type == "DiffNormalized"
    step = MultiTaskStep(model, tasks, config.bvp_loss, RFACENET_HR_BAND, diff_labels=diff)  # band: rFaceNet Eq. 3
    channels_last = config.channels_last == "on" or (config.channels_last == "auto" and runtime.device.type == "cuda")
    if runtime.distributed and config.sync_bn:
        step = convert_sync_batchnorm(step, runtime.device)  # type: ignore[assignment]
    step.to(runtime.device)
    if channels_last:
        to_channels_last_3d(step)
    n_params = sum(p.numel() for p in model.parameters())
    say(f"{type(model).__name__} ({config.model}): {n_params / 1e6:.2f} M parameters; tasks {tasks}")

    train_module: nn.Module = step
    if runtime.distributed:
        train_module = nn.parallel.DistributedDataParallel(
            step,
            device_ids=[runtime.device.index] if runtime.device.type == "cuda" else None,
            find_unused_parameters=isinstance(model, RFaceNet) and "identity" not in tasks,
        )
    if config.compile:
        train_module = torch.compile(train_module)  # type: ignore[assignment]

    sampler = DistributedSampler(
        bundle.train, num_replicas=runtime.world_size, rank=runtime.rank, shuffle=True, seed=config.seed
    )
    loader = DataLoader(
        bundle.train,
        batch_size=config.batch_size,
        sampler=sampler,
        drop_last=len(sampler) > config.batch_size,
        num_workers=config.num_workers,
        pin_memory=runtime.device.type == "cuda",
        persistent_workers=config.num_workers > 0,
    )
    steps_per_epoch = len(loader)
    optimizer = torch.optim.Adam(
        [
            {"params": step.model.parameters(), "weight_decay": config.weight_decay},
            {"params": step.criterion.parameters(), "weight_decay": 0.0},  # log-variances: no weight decay
        ],
        lr=config.lr,
    )
    scheduler = _scheduler(optimizer, config, steps_per_epoch)
    dtype = amp_dtype(config.amp, runtime.device)
    scaler = make_grad_scaler(dtype, runtime.device)
    lookup = _lookup(bundle.classes, runtime.device)

    # resume
    epoch0, global_step, history = 0, 0, []
    best: dict[str, Any] = {"epoch": None, "val_mae": math.inf}
    ckpt_dir = out_dir / "checkpoints"
    resume_path = None
    if config.resume is not None:
        resume_path = ckpt_dir / "last.pt" if config.resume == "auto" else Path(config.resume)
        if config.resume == "auto" and not resume_path.exists():
            say(f"--resume auto: no checkpoint at {resume_path}; starting afresh")
            resume_path = None
        elif not resume_path.exists():
            raise FileNotFoundError(f"--resume: no checkpoint at {resume_path}")
    if resume_path is not None:
        state = load_checkpoint(resume_path, map_location=runtime.device)
        step.model.load_state_dict(state["model"])
        step.criterion.load_state_dict(state["criterion"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        epoch0, global_step, history = int(state["epoch"]), int(state["step"]), list(state["history"])
        best = dict(state["best"])
        rngs = state["rng"]
        set_rng_state(rngs[runtime.rank] if len(rngs) == runtime.world_size else rngs[0])
        if len(rngs) != runtime.world_size:
            warnings.warn(
                f"--resume: saved with {len(rngs)} process(es), resumed with {runtime.world_size}", stacklevel=1
            )
        changed = {
            k: (v, getattr(config, k))
            for k, v in state["config"].items()
            if k not in ("resume", "stop_after_epoch") and hasattr(config, k) and _differs(v, getattr(config, k))
        }
        if changed:
            say(f"resuming with changed settings (saved, now): {changed}")
        say(f"resumed from {resume_path}: epoch {epoch0}, step {global_step}")

    log = RunLog(out_dir, config.log, main, resume_epoch=epoch0)
    accumulate = torch.float32 if runtime.device.type == "mps" else torch.float64  # MPS has no float64
    stopped_early = False
    train_hr_mean = math.nan
    for epoch in range(epoch0 + 1, config.epochs + 1):
        sampler.set_epoch(epoch)
        train_module.train()
        epoch_start = time.perf_counter()
        # running sums stay on the device: reading a value (float()) waits for the GPU, so that happens only at
        # logging steps and at the end of the epoch
        sums: dict[str, Tensor] = {}
        n_batches, n_clips = 0, 0
        hr_gradient = epoch > config.hr_warmup_epochs
        progress = tqdm(loader, desc=f"epoch {epoch}/{config.epochs}", leave=False, file=sys.stdout, disable=not main)
        for raw in progress:
            batch = _to_device(raw, runtime.device, channels_last)
            identity = lookup[batch["subject"]]
            with _autocast(runtime.device, dtype):
                total, losses, weights, target_hr = train_module(
                    batch["video"], batch["fs"], batch["bvp"], identity, hr_gradient
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(total).backward()
            if config.grad_clip is not None:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(step.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            if scheduler is not None:
                scheduler.step()
            global_step += 1
            n_batches += 1
            n_clips += len(batch["video"])
            values = {"loss": total, "hr_sum": target_hr.sum()}
            values.update({f"loss_{k}": v for k, v in losses.items()})
            values.update({f"weight_{k}": v for k, v in weights.items()})
            for name, value in values.items():
                value = value.detach().to(accumulate)
                sums[name] = sums[name] + value if name in sums else value
            if main and global_step % config.log_every == 0:
                current = dict(
                    zip(values, torch.stack([v.detach().float() for v in values.values()]).tolist(), strict=True)
                )
                del current["hr_sum"]
                log_values = dict(current, lr=optimizer.param_groups[0]["lr"])
                log_values.update(
                    {
                        f"log_variance_{t}": float(s)
                        for t, s in zip(step.criterion.task_names, step.criterion.log_variances.detach(), strict=True)
                    }
                )
                log.scalars("train_step", log_values, epoch=epoch, step=global_step)
                progress.set_postfix(
                    loss=f"{float(sums['loss']) / n_batches:.3f}", bvp=f"{float(sums['loss_bvp']) / n_batches:.3f}"
                )
        seconds = time.perf_counter() - epoch_start
        epoch_sums = dict(zip(sums, torch.stack(list(sums.values())).tolist(), strict=True)) if sums else {}
        hr_sum = epoch_sums.pop("hr_sum", 0.0)
        stats = mean_across_ranks({k: v / max(n_batches, 1) for k, v in epoch_sums.items()}, n_batches, runtime)
        totals = mean_across_ranks({"clips": n_clips, "hr_sum": hr_sum}, 1.0, runtime)  # sums over ranks
        clips_total = totals["clips"] * runtime.world_size
        train_hr_mean = totals["hr_sum"] * runtime.world_size / max(clips_total, 1)
        stats.update(
            epoch=epoch,
            step=global_step,
            seconds=seconds,
            clips_per_s=clips_total / max(seconds, 1e-9),
            lr=optimizer.param_groups[0]["lr"],
            train_hr_mean_bpm=train_hr_mean,
        )
        if runtime.device.type == "cuda":
            stats["peak_gpu_memory_gib"] = torch.cuda.max_memory_allocated(runtime.device) / 2**30
        val_line = ""
        if bundle.val is not None and len(bundle.val):  # type: ignore[arg-type]
            val = evaluate_records(predict_clips(step, bundle.val, runtime, config, channels_last), bundle.protocol)
            stats.update({f"val_{k}": v for k, v in val["metrics"].items()}, val_snr_db=val["snr_db"])
            val_line = f"; val MAE {val['metrics']['mae']:.2f} bpm, r {val['metrics']['pearson']:.3f}"
            if val["metrics"]["mae"] < best["val_mae"]:
                best = {"epoch": epoch, "val_mae": val["metrics"]["mae"]}
        history.append(stats)
        log.scalars(
            "epoch", {k: v for k, v in stats.items() if k not in ("epoch", "step")}, epoch=epoch, step=global_step
        )
        say(
            f"epoch {epoch:3d}/{config.epochs}: loss {stats['loss']:.3f} ("
            + ", ".join(f"{t} {stats['loss_' + t]:.3f}" for t in step.criterion.task_names)
            + f") {stats['clips_per_s']:.1f} clips/s, {seconds:.1f} s{val_line}"
        )
        rngs = gather_objects(rng_state(), runtime)
        if main:
            state = {
                "model": step.model.state_dict(),
                "criterion": step.criterion.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "scaler": scaler.state_dict(),
                "epoch": epoch,
                "step": global_step,
                "rng": rngs,
                "history": history,
                "best": best,
                "classes": dict(bundle.classes),
                "tasks": list(tasks),
                "config": dataclasses.asdict(config),
                "rppgblocks_version": rppgblocks.__version__,
                "torch_version": str(torch.__version__),
                "world_size": runtime.world_size,
            }
            save_checkpoint(ckpt_dir / f"epoch_{epoch:03d}.pt", state)
            save_checkpoint(ckpt_dir / "last.pt", state)
            if best["epoch"] == epoch:
                save_checkpoint(ckpt_dir / "best.pt", state)
            old = sorted(ckpt_dir.glob("epoch_*.pt"))
            for stale in old[: max(0, len(old) - config.keep_checkpoints)]:
                stale.unlink()
        barrier(runtime)
        if config.stop_after_epoch is not None and epoch >= config.stop_after_epoch and epoch < config.epochs:
            say(f"stopping after epoch {epoch} (--stop-after-epoch); continue with --resume auto")
            stopped_early = True
            break
    log.close()

    summary: dict[str, Any] = {
        "config": dataclasses.asdict(config),
        "rppgblocks_version": rppgblocks.__version__,
        "torch_version": str(torch.__version__),
        "device": str(runtime.device),
        "world_size": runtime.world_size,
        "model": {"name": config.model, "class": type(model).__name__, "parameters": n_params, "tasks": tasks},
        "data": bundle.description,
        "history": history,
        "best": best,
        "finished": not stopped_early,
    }
    if stopped_early:
        return summary

    # test with the last or the best model
    tested = "last"
    if config.test_checkpoint == "best" and best["epoch"] is not None:
        state = load_checkpoint(ckpt_dir / "best.pt", map_location=runtime.device)
        step.model.load_state_dict(state["model"])
        tested = f"best (epoch {best['epoch']})"
    records = predict_clips(step, bundle.test, runtime, config, channels_last)
    result = evaluate_records(records, bundle.protocol)
    labels = [v["hr_label_bpm"] for v in result["per_video"]]
    if not math.isfinite(train_hr_mean) and history:  # resumed after the last epoch: from the history
        train_hr_mean = float(history[-1]["train_hr_mean_bpm"])
    baseline = hr_metrics([train_hr_mean] * len(labels), labels)
    summary.update(
        tested_checkpoint=tested,
        test=result,
        baseline_train_mean_hr={"hr_bpm": train_hr_mean, "metrics": baseline.as_dict()},
        seconds=time.perf_counter() - started,  # this invocation; a resumed run's training is in train_seconds
        train_seconds=float(sum(h["seconds"] for h in history)),
    )
    if main:
        if config.plots:
            try:
                summary["plots"] = save_plots(records, result, out_dir / "plots", config.plot_videos)
            except ImportError as exc:
                say(f"no plots: {exc}")
        write_json(out_dir / "results.json", summary)
        say("")
        say(_describe_results(f"test ({tested} model, {bundle.protocol.name})", result))
        say(
            f"always the training mean HR ({train_hr_mean:.1f} bpm): MAE {baseline.mae:.2f} bpm, "
            f"RMSE {baseline.rmse:.2f} bpm"
        )
        say(f"wrote {out_dir / 'results.json'} ({summary['seconds']:.0f} s in total)")
    return summary


def _differs(saved: Any, current: Any) -> bool:
    if isinstance(saved, (list, tuple)) and isinstance(current, (list, tuple)):
        return list(saved) != list(current)
    return bool(saved != current)
