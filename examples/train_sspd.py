"""Train SSPD without labels on synthetic face videos, then compare it with its untrained self and with POS.

Usage::

    python examples/train_sspd.py                          # synthetic UBFC-rPPG layout, CPU-sized defaults
    python examples/train_sspd.py --steps 400 --device cuda   # longer run on a GPU
    python examples/train_sspd.py --data-root /data/UBFC-rPPG/DATASET_2 --device cuda   # real UBFC-rPPG videos

What it demonstrates: SSPD (Zhang et al., IEEE TMM 2024, arXiv 2311.05100) is an *unsupervised* rPPG method. A
student network sees the masked local view of a clip's frame differences (Local-Global Augmentation plus Masked
Difference Modeling, :func:`rppgblocks.functional.sspd_views`) and is trained to match an EMA teacher
(:class:`rppgblocks.models.EMATeacher`, momentum on a cosine schedule from 0.9 to 1) that sees the unmasked global
view: TSPD distils the self-similarity maps and waves of the S3M (Temporal Similarity blocks), RPD the predicted
signal, and two priors push the maps toward a periodic structure and the waves into the heart-rate band
(:class:`rppgblocks.losses.SSPDLoss`). No ground truth is involved.

No labels are used in training, and this is checkable: the training set is wrapped in :class:`VideoOnly`, which
hands the training loop the ``video`` tensor of each clip and nothing else (no ``bvp``, no ``hr``), and the loop
asserts that every batch holds exactly that one key. ``tests/examples/test_train_sspd.py`` trains twice, once with
the labels replaced by noise, and checks that the trained weights are bit-identical.

With no ``--data-root`` the script generates a small synthetic dataset in UBFC-rPPG's on-disk layout (cached under
``--synthetic-root``), splits its subjects into disjoint train and test sets, trains, and then evaluates, *with*
labels, on clips of the held-out subjects:

- ``sspd_trained``: the student network after training (inference path: backbone and predictor);
- ``sspd_untrained``: the same network at its initialisation (the same seed), to show what training added;
- ``pos``: the classical POS method (:func:`rppgblocks.classical.pos`) on the spatial mean RGB of the same clips.

All three go through the same heart-rate estimator, :func:`rppgblocks.evaluation.evaluate_hr` (label type Raw:
detrending, band-pass and FFT peak in ``--hr-band``, 0.6-3.3 Hz by default), against the heart rate of the
ground-truth BVP over the same frames, once per test clip and once per test video (its clips' signals joined in
order). The script prints MAE, RMSE and Pearson r for each and writes everything (configuration, training losses,
metrics, per-clip heart rates) to ``<out-dir>/results.json``; the trained student's weights go to
``<out-dir>/sspd_student.pt``. The numbers are reported as they come out, whichever method wins; in the default
synthetic run SSPD learned the pulse (the untrained network is far off) but did not beat POS (the measured numbers
are in ``docs/howto/sspd.rst``).

The defaults are sized for a 2-core CPU (the whole run in under ten minutes with one thread), which makes them
far smaller than the paper's: the preset ``"sspd"`` is built with reduced widths (stem 4, blocks 8/8/16, embedding
32, predictor 16 instead of 8, 16/32/64, 256, 64), trained for 80 steps of batch 2 on 64-frame clips (paper: 30
epochs of batch 12 on 300-frame clips), and the synthetic videos are rendered at 15 fps rather than 30 so that a
short clip still holds several heart beats. The frames cannot shrink: SSPD's convolutions do not pad in space, so
the views must be at least :data:`rppgblocks.models.sspd.MIN_FRAME_SIZE` (122) pixels; they are 128 x 128 views of
151 x 151 face crops, as in the paper. ``--help`` lists every setting; the paper's network is ``--stem-channels 8
--block-channels 16 32 64 --embed-dim 256 --predictor-channels 64``.

On CUDA the loop can use automatic mixed precision (``--amp``: bfloat16 where supported, else float16 with a
gradient scaler); the losses are computed in float32 either way.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import hashlib
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

import rppgblocks
from rppgblocks.classical import pos
from rppgblocks.data import UBFCRPPG, subject_exclusive_split, ubfc_rppg_subjects
from rppgblocks.data.synthetic import generate_ubfc_rppg
from rppgblocks.evaluation import evaluate_hr
from rppgblocks.functional import global_view, spatial_mean_rgb, sspd_views
from rppgblocks.losses import SSPDLoss
from rppgblocks.models import SSPD, EMATeacher, cosine_ema_momentum, create_model
from rppgblocks.models.sspd import MIN_FRAME_SIZE

#: The keys the training loop may see: the clip, nothing else.
TRAINING_KEYS = frozenset({"video"})


def _default_cache() -> Path:
    base = os.environ.get("RPPGBLOCKS_CACHE") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rppgblocks"


@dataclass
class Config:
    """Every setting of a run; saved in results.json and with the trained weights."""

    # data
    data_root: str | None = None
    synthetic_root: str = str(_default_cache() / "synthetic_ubfc_rppg_sspd")
    cache_dir: str | None = None
    out_dir: str = "runs/train_sspd"
    n_test_subjects: int = 4
    face_size: int = 151
    view_size: int = 128
    clip_length: int = 64
    clip_stride: int = 32
    eval_clip_length: int = 120
    # synthetic data (used without --data-root)
    synthetic_subjects: int = 12
    synthetic_duration_s: float = 40.0
    synthetic_fps: float = 15.0
    synthetic_frame_size: tuple[int, int] = (160, 120)
    # model: overrides of the "sspd" preset
    stem_channels: int = 4
    block_channels: tuple[int, int, int] = (8, 8, 16)
    embed_dim: int = 32
    predictor_channels: int = 16
    kernel_sizes: tuple[int, ...] = (9, 7, 5)
    heads: int = 2
    # self-distillation
    keep_prob: float = 0.7
    ema_start: float = 0.9
    ema_end: float = 1.0
    loss_band: tuple[float, float] = (0.5, 3.0)
    # optimisation
    steps: int = 80
    batch_size: int = 2
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    threads: int = 0
    log_every: int = 10
    # evaluation (the same for every method)
    hr_band: tuple[float, float] = (0.6, 3.3)
    eval_batch_size: int = 2


#: The paper's network (spec §5.2), for comparison with the reduced defaults.
PAPER_WIDTHS = {"stem_channels": 8, "block_channels": (16, 32, 64), "embed_dim": 256, "predictor_channels": 64}


def _optional(kind: type) -> Any:
    """An argparse type that also accepts "none" (for settings whose default is None)."""

    def parse(text: str) -> Any:
        return None if text.lower() == "none" else kind(text)

    parse.__name__ = kind.__name__
    return parse


def parse_args(argv: list[str] | None = None) -> Config:
    """The run configuration: the dataclass defaults, overridden by the command-line flags."""
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawTextHelpFormatter,
        argument_default=argparse.SUPPRESS,  # only the flags given appear in the parsed namespace
    )
    defaults = Config()
    for f in dataclasses.fields(Config):
        flag = "--" + f.name.replace("_", "-")
        value = getattr(defaults, f.name)
        if f.name == "device":
            parser.add_argument(flag, choices=("auto", "cpu", "cuda"), help=f"(default {value})")
        elif isinstance(value, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=f"(default {value})")
        elif isinstance(value, tuple):
            kind = type(value[0]) if value else str
            parser.add_argument(flag, nargs="+", type=kind, help=f"(default {' '.join(map(str, value))})")
        elif value is None:
            parser.add_argument(flag, type=_optional(str), help="(default none)")
        else:
            parser.add_argument(flag, type=type(value), help=f"(default {value})")
    config = Config()
    for key, value in vars(parser.parse_args(argv)).items():
        setattr(config, key, tuple(value) if isinstance(value, list) else value)
    check_config(config)
    return config


def check_config(config: Config) -> None:
    """Reject settings SSPD cannot run with, naming the flag."""
    if config.view_size < MIN_FRAME_SIZE:
        raise SystemExit(f"--view-size: SSPD needs views of at least {MIN_FRAME_SIZE} pixels, got {config.view_size}")
    if config.face_size < config.view_size:
        raise SystemExit(f"--face-size: must be >= --view-size ({config.view_size}), got {config.face_size}")
    if len(config.block_channels) != 3:
        raise SystemExit(f"--block-channels: expected three numbers, got {config.block_channels}")
    if len(config.loss_band) != 2 or len(config.hr_band) != 2:
        raise SystemExit("--loss-band, --hr-band: expected two numbers (low_hz high_hz)")
    min_frames = 1 + sum(k - 1 for k in config.kernel_sizes)
    if config.clip_length < min_frames:
        raise SystemExit(f"--clip-length: the S3M with kernels {config.kernel_sizes} needs >= {min_frames} frames")
    if config.steps < 1 or config.batch_size < 1:
        raise SystemExit("--steps, --batch-size: expected positive integers")


def model_overrides(config: Config) -> dict[str, Any]:
    """The keyword overrides of the ``"sspd"`` preset that this configuration uses."""
    return {
        "stem_channels": config.stem_channels,
        "block_channels": tuple(config.block_channels),
        "embed_dim": config.embed_dim,
        "predictor_channels": config.predictor_channels,
        "kernel_sizes": tuple(config.kernel_sizes),
        "heads": config.heads,
    }


def select_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class VideoOnly(Dataset[dict[str, Tensor]]):
    """A clip dataset seen without its labels: each item is ``{"video": clip}``, nothing else.

    The training loop reads only this wrapper, so the ground-truth ``bvp`` and ``hr`` of the wrapped dataset never
    reach it (nor the collate function, the views or the losses).
    """

    def __init__(self, dataset: Dataset[Any]) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {"video": self.dataset[index]["video"]}


def _synthetic_root(config: Config) -> Path:
    """A folder per set of generation parameters, so that changing one never collides with an old dataset."""
    params = (
        config.synthetic_subjects,
        config.synthetic_duration_s,
        config.synthetic_fps,
        tuple(config.synthetic_frame_size),
        config.seed,
    )
    digest = hashlib.sha256(repr(params).encode()).hexdigest()[:10]
    return Path(config.synthetic_root) / f"ubfc_{digest}"


def prepare_data(config: Config) -> tuple[UBFCRPPG, UBFCRPPG]:
    """Generate or locate the videos, split the subjects, and build the train and test clip datasets."""
    if config.data_root is None:
        start = time.perf_counter()
        root = generate_ubfc_rppg(
            _synthetic_root(config),
            n_subjects=config.synthetic_subjects,
            duration_s=config.synthetic_duration_s,
            fps=config.synthetic_fps,
            frame_size=tuple(config.synthetic_frame_size),
            seed=config.seed,
        )
        print(f"synthetic UBFC-rPPG-layout dataset at {root} ({time.perf_counter() - start:.1f} s)")
    else:
        root = Path(config.data_root)
    subjects = ubfc_rppg_subjects(root)
    train_ids, test_ids = subject_exclusive_split(subjects, n_test=config.n_test_subjects, seed=config.seed)
    common: dict[str, Any] = {"frame_size": (config.face_size, config.face_size), "cache_dir": config.cache_dir}
    start = time.perf_counter()
    # clip_length + 1 frames give clip_length frame differences
    train = UBFCRPPG(
        root, clip_length=config.clip_length + 1, clip_stride=config.clip_stride, subjects=train_ids, **common
    )
    test = UBFCRPPG(
        root,
        clip_length=config.eval_clip_length + 1,
        clip_stride=config.eval_clip_length,  # consecutive clips share one frame, not one difference
        subjects=test_ids,
        **common,
    )
    print(
        f"train: subjects {list(train.subjects)}, {len(train)} clips of {config.clip_length} frame differences; "
        f"test: subjects {list(test.subjects)}, {len(test)} clips of {config.eval_clip_length} "
        f"(face crops {config.face_size}x{config.face_size}, preprocessed in {time.perf_counter() - start:.1f} s)"
    )
    return train, test


def autocast_context(device: torch.device, enabled: bool) -> tuple[contextlib.AbstractContextManager[Any], Any]:
    """AMP on CUDA: bfloat16 if supported (no scaler), else float16 with a gradient scaler; nothing on CPU."""
    if device.type != "cuda" or not enabled:
        return contextlib.nullcontext(), None
    if torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16), None
    scaler_class = getattr(torch.amp, "GradScaler", None)  # torch >= 2.3; torch.cuda.amp before
    scaler = scaler_class("cuda") if scaler_class is not None else torch.cuda.amp.GradScaler()
    return torch.autocast("cuda", dtype=torch.float16), scaler


def endless(loader: DataLoader[Any]) -> Iterator[dict[str, Tensor]]:
    """The loader's batches, epoch after epoch (reshuffled each time)."""
    while True:
        yield from loader


def train(
    model: SSPD, train_set: Dataset[Any], config: Config, device: torch.device, fs: float
) -> list[dict[str, Any]]:
    """Self-distil ``model`` (the student) against its EMA teacher for ``config.steps`` steps, without labels."""
    loader = DataLoader(
        VideoOnly(train_set),
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=len(train_set) > config.batch_size,  # type: ignore[arg-type]
        num_workers=0,
        pin_memory=device.type == "cuda",
        generator=torch.Generator().manual_seed(config.seed),
    )
    views_rng = torch.Generator(device=device).manual_seed(config.seed)
    teacher = EMATeacher(model).to(device)
    teacher.train()  # as in SSPD: the teacher's BatchNorm uses batch statistics
    model.train()
    criterion = SSPDLoss(fs=fs, band=tuple(config.loss_band))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    cast, scaler = autocast_context(device, config.amp)
    history: list[dict[str, Any]] = []
    window: list[dict[str, float]] = []
    started = time.perf_counter()
    for step, batch in zip(range(config.steps), endless(loader), strict=False):
        if set(batch) != TRAINING_KEYS:  # the labels never reach this loop
            raise RuntimeError(f"training batch holds {sorted(batch)}, expected only {sorted(TRAINING_KEYS)}")
        clip = batch["video"].to(device, non_blocking=True) * 255.0  # SSPD works on differences of 0-255 frames
        views = sspd_views(clip, size=config.view_size, keep_prob=config.keep_prob, generator=views_rng)
        with cast:
            online = model(views.online)
            target = teacher(views.target)
        result = criterion(online, target)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(result.total).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            result.total.backward()
            optimizer.step()
        momentum = cosine_ema_momentum(step, config.steps, start=config.ema_start, end=config.ema_end)
        teacher.update(model, momentum)
        record = {"loss": float(result.total.detach())}
        record.update({name: float(value.detach()) for name, value in result.losses.items()})
        window.append(record)
        if (step + 1) % config.log_every == 0 or step + 1 == config.steps:
            mean = {k: float(np.mean([r[k] for r in window])) for k in window[0]}
            mean.update(step=step + 1, ema_momentum=momentum, seconds=time.perf_counter() - started)
            history.append(mean)
            window = []
            print(
                f"step {step + 1:4d}/{config.steps}: loss {mean['loss']:.3f} (rpd {mean['rpd']:.3f}, "
                f"tspd {mean['tspd']:.3f}, reg {mean['regularizer']:.3f}, freq {mean['frequency']:.3f}), "
                f"EMA m {momentum:.3f}, {mean['seconds']:.0f} s"
            )
    return history


@torch.no_grad()
def sspd_signal(model: SSPD, video: Tensor, view_size: int, amp: bool) -> Tensor:
    """SSPD's inference: the whole face (the unflipped global view) of the clip's frame differences -> ``(B, T-1)``."""
    model.eval()
    differences = (video * 255.0).diff(dim=2)
    cast, _ = autocast_context(video.device, amp)
    with cast:
        signal = model.predict(global_view(differences, view_size, flip=False))
    return signal.float()


@torch.no_grad()
def collect_signals(
    models: dict[str, SSPD], test_set: UBFCRPPG, device: torch.device, config: Config
) -> tuple[dict[str, dict[str, Tensor]], dict[str, Tensor], dict[str, float]]:
    """Per test clip: each method's pulse signal, the label BVP over the same frames, and the frame rate.

    The SSPD signal of a clip of ``L + 1`` frames covers its ``L`` differences; POS runs on frames ``1..L`` and the
    label is the BVP at those frames, so that every method is scored on the same ``L`` samples.
    """
    loader = DataLoader(test_set, batch_size=config.eval_batch_size, shuffle=False, num_workers=0)
    signals: dict[str, dict[str, Tensor]] = {name: {} for name in [*models, "pos"]}
    labels: dict[str, Tensor] = {}
    rates: dict[str, float] = {}
    for batch in loader:
        video = batch["video"].to(device)
        outputs = {
            name: sspd_signal(model, video, config.view_size, config.amp).cpu() for name, model in models.items()
        }
        rgb = spatial_mean_rgb(batch["video"][:, :, 1:])  # (B, 3, L) on the CPU, float32
        for i, (video_id, start) in enumerate(zip(batch["video_id"], batch["start"].tolist(), strict=True)):
            key = f"{video_id}@{start}"
            fs = float(batch["fs"][i])
            rates[key] = fs
            labels[key] = batch["bvp"][i, 1:].double()
            signals["pos"][key] = pos(rgb[i : i + 1].double(), fs)[0]
            for name, out in outputs.items():
                signals[name][key] = out[i].double()
    return signals, labels, rates


def join_clips(signals: dict[str, Tensor]) -> dict[str, Tensor]:
    """Per video: its clips' signals (keys ``"<video_id>@<start>"``) concatenated in time order.

    The evaluation clips follow one another without a gap or an overlap of frame differences, so the result is the
    video's signal over all its whole clips, the way rPPG-Toolbox joins a model's chunks before whole-video
    evaluation.
    """
    by_video: dict[str, list[tuple[int, Tensor]]] = {}
    for key, signal in signals.items():
        video_id, start = key.rsplit("@", 1)
        by_video.setdefault(video_id, []).append((int(start), signal))
    return {video: torch.cat([s for _, s in sorted(parts, key=lambda p: p[0])]) for video, parts in by_video.items()}


def fft_bin_bpm(n_samples: int, fs: float) -> float:
    """The spacing of evaluate_hr's FFT bins for a signal of ``n_samples``: fs / next power of two, in bpm."""
    return 60.0 * fs / 2 ** math.ceil(math.log2(n_samples))


def _json_safe(value: Any) -> Any:
    """NaN and infinities (e.g. Pearson r of too few clips) become null, so the JSON is strict."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the example; return the summary written to ``<out-dir>/results.json``."""
    config = parse_args(argv)
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    device = select_device(config.device)
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(
        f"rppgblocks {rppgblocks.__version__}, torch {torch.__version__}, device {device}, "
        f"{torch.get_num_threads()} CPU threads"
    )

    train_set, test_set = prepare_data(config)
    fs = float(np.median([v.fps for v in train_set.videos]))
    torch.manual_seed(config.seed)
    overrides = model_overrides(config)
    model = create_model("sspd", **overrides).to(device)
    assert isinstance(model, SSPD)
    untrained = copy.deepcopy(model)  # the same initialisation, never trained
    n_params = sum(p.numel() for p in model.parameters())
    n_inference = n_params - sum(p.numel() for p in model.s3m.parameters()) if model.s3m is not None else n_params
    reduced = {k: PAPER_WIDTHS[k] for k, v in overrides.items() if k in PAPER_WIDTHS and v != PAPER_WIDTHS[k]}
    print(
        f"SSPD preset 'sspd' with overrides {overrides}: {n_params:,} parameters ({n_inference:,} for inference)"
        + (f"; reduced from the paper's {reduced} to fit a CPU" if reduced else "")
    )
    print(
        f"training without labels: {config.steps} steps of batch {config.batch_size}, {config.clip_length}-frame "
        f"clips at {fs:g} fps, {config.view_size}x{config.view_size} views (MDM keep {config.keep_prob})"
    )

    train_start = time.perf_counter()
    history = train(model, train_set, config, device, fs)
    train_seconds = time.perf_counter() - train_start
    torch.save(
        {"model": model.state_dict(), "preset": "sspd", "overrides": overrides, "config": dataclasses.asdict(config)},
        out_dir / "sspd_student.pt",
    )

    eval_start = time.perf_counter()
    signals, labels, rates = collect_signals(
        {"sspd_trained": model, "sspd_untrained": untrained}, test_set, device, config
    )
    video_labels, video_rates = join_clips(labels), {k.rsplit("@", 1)[0]: v for k, v in rates.items()}
    results: dict[str, Any] = {}
    for name, predictions in signals.items():
        band = tuple(config.hr_band)
        results[name] = {
            "clips": evaluate_hr(predictions, labels, fs=rates, label_type="Raw", band=band).as_dict(),
            "videos": evaluate_hr(
                join_clips(predictions), video_labels, fs=video_rates, label_type="Raw", band=band
            ).as_dict(),
        }
    eval_seconds = time.perf_counter() - eval_start

    summary = {
        "config": dataclasses.asdict(config),
        "rppgblocks_version": rppgblocks.__version__,
        "torch_version": torch.__version__,
        "device": str(device),
        "cpu_threads": torch.get_num_threads(),
        "labels_used_in_training": False,
        "training_keys": sorted(TRAINING_KEYS),
        "model": {
            "preset": "sspd",
            "overrides": overrides,
            "paper_widths": PAPER_WIDTHS,
            "parameters": n_params,
            "inference_parameters": n_inference,
        },
        "data": {
            "root": str(test_set.root),
            "synthetic": config.data_root is None,
            "fs": fs,
            "train_subjects": list(train_set.subjects),
            "test_subjects": list(test_set.subjects),
            "n_train_clips": len(train_set),
            "n_test_clips": len(labels),
        },
        "evaluation": {
            "estimator": "evaluate_hr (label_type Raw: detrend with lambda 100, band-pass, FFT peak), per test clip "
            "and per test video (the video's clips joined in order)",
            "fft_bin_bpm_per_clip": fft_bin_bpm(config.eval_clip_length, fs),
            "hr_band_hz": list(config.hr_band),
            "label": "FFT heart rate of the ground-truth BVP over the same frames",
        },
        "results": results,
        "history": history,
        "seconds": {
            "train": train_seconds,
            "evaluate": eval_seconds,
            "total": time.perf_counter() - started,
        },
    }
    (out_dir / "results.json").write_text(json.dumps(_json_safe(summary), indent=2, allow_nan=False))

    clip_bin = fft_bin_bpm(config.eval_clip_length, fs)
    video_bin = fft_bin_bpm(min(len(v) for v in video_labels.values()), fs)
    kind = "SYNTHETIC data" if config.data_root is None else f"data from {config.data_root}"
    print(
        f"\nHeld-out subjects {list(test_set.subjects)}, {kind}: {len(labels)} clips of "
        f"{config.eval_clip_length / fs:g} s (FFT bins of {clip_bin:.2f} bpm) and {len(video_labels)} whole videos "
        f"(their clips joined, bins of {video_bin:.2f} bpm or finer); "
        f"HR band {config.hr_band[0]}-{config.hr_band[1]} Hz"
    )
    print(f"  {'':16s} {'per clip':^30s}   {'per video':^30s}")
    print(f"  {'method':16s} {'MAE':>8s} {'RMSE':>8s} {'r':>7s} {'SNR dB':>7s}   {'MAE':>8s} {'RMSE':>8s} {'r':>7s}")
    for name, title in (("sspd_trained", "SSPD, trained"), ("sspd_untrained", "SSPD, untrained"), ("pos", "POS")):
        c, v = results[name]["clips"], results[name]["videos"]
        cm, vm = c["metrics"], v["metrics"]
        print(
            f"  {title:16s} {cm['mae']:8.2f} {cm['rmse']:8.2f} {cm['pearson']:7.3f} {c['snr_db']:7.2f}   "
            f"{vm['mae']:8.2f} {vm['rmse']:8.2f} {vm['pearson']:7.3f}"
        )
    print("  (MAE and RMSE in bpm; r: Pearson correlation of predicted and label heart rates)")
    print(f"wrote {out_dir / 'results.json'} ({summary['seconds']['total']:.0f} s in total)")
    return summary


if __name__ == "__main__":
    main()
