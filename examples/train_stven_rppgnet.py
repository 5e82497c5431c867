"""Train STVEN + rPPGNet on synthetic face videos compressed with real codecs, and measure what enhancement buys.

Usage::

    python examples/train_stven_rppgnet.py                        # CPU-sized defaults (at most ~10 min, 2 cores)
    python examples/train_stven_rppgnet.py --device cuda --frame-size 64 --stven-channels 64 128 512 \\
        --stven-blocks 4 --rppgnet-channels 16 32 64                # the released model sizes, on a GPU
    python examples/train_stven_rppgnet.py --help                 # every setting

What it demonstrates (Yu, Peng, Zhao, ICCV 2019, arXiv 1907.11921; spec ``architectures.md`` §3-§4):

1. **Data.** A synthetic dataset in UBFC-rPPG's layout (:func:`rppgblocks.data.synthetic.generate_ubfc_rppg`,
   cached), face-cropped by :class:`rppgblocks.data.UBFCRPPG`, split subject-exclusively into train and test
   subjects. Every video's face crops are then compressed with real codecs by
   :func:`rppgblocks.data.compress_video` (FFmpeg through PyAV) at each of ``--levels`` (``codec:kbps``), so each
   frame exists at compression level 0 (the original crop) and levels 1..K, aligned frame by frame.
2. **STVEN** (:class:`rppgblocks.models.STVEN`, conditioned on the one-hot compression level, K + 1 levels) is
   trained with the paper's reconstruction and cycle losses in both directions
   (:func:`rppgblocks.losses.stven_cycle` + :class:`rppgblocks.losses.STVENLoss`): restore c_k to c_0, degrade c_0
   to c_k, and both cycles.
3. **rPPGNet** (:class:`rppgblocks.models.RPPGNet`) is trained on the original clips with its own loss
   (:class:`rppgblocks.losses.RPPGNetLoss`: negative Pearson on the global, mid-layer and part signals, skin BCE).
   The skin labels are a YCbCr skin-colour box (Chai and Ngan 1999) on the original frames; the paper used the Bob
   skin filter.
4. **Joint fine-tuning** through the rPPG perceptual loss (:class:`rppgblocks.losses.STVENRPPGNetLoss`): the
   enhanced clip G(c_k, 0) goes through rPPGNet, a frozen copy of rPPGNet runs on c_0, and STVEN is updated
   (``--joint-train-rppgnet`` also updates rPPGNet). The fidelity term is ``-PSNR`` (or MSE): the released
   ``train_STVEN_rPPGNet`` *added* the PSNR to a minimised loss, which pushes the enhanced clip away from the
   original; rppgblocks subtracts it (see ``docs/howto/stven.rst``).
5. **Evaluation** on the held-out subjects, for each compression level: the same rPPGNet (same weights) on the
   compressed clips without enhancement and on the STVEN-enhanced clips, and on the original clips as a reference.
   Heart rates come from :func:`rppgblocks.evaluation.evaluate_hr` (rPPG-Toolbox's protocol: detrend, band-pass,
   FFT peak; ``--eval-window-s`` windows, or whole videos with ``none``) against the label PPG; MAE, RMSE and
   Pearson r per condition, and the PSNR of the compressed and enhanced frames against the originals.

Everything goes to ``<out-dir>/results.json`` (and the trained weights to ``<out-dir>/models.pt``).

Model sizes: the CPU defaults shrink both networks through their preset overrides (``create_model("stven",
channels=..., num_blocks=...)``, ``create_model("rppgnet", stem_channels=..., ...)``) and use 32 x 32 face crops;
the run prints the parameter counts next to the released ones. The numbers of such a small run on synthetic data
say whether the pipeline works, not how STVEN performs on real compressed videos: they are reported as measured,
whether enhancement helps or not.

On CUDA the forward passes run under automatic mixed precision (``--amp``, default on: bfloat16 where supported,
else float16 with a gradient scaler); on the CPU in float32.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor, nn

import rppgblocks
from rppgblocks.data import UBFCRPPG, available_codecs, compress_video
from rppgblocks.data.splits import subject_exclusive_split
from rppgblocks.data.synthetic import generate_ubfc_rppg
from rppgblocks.evaluation import HREvaluation, evaluate_hr, hr_metrics
from rppgblocks.losses import RPPGNetLoss, STVENLoss, STVENRPPGNetLoss, stven_cycle
from rppgblocks.models import STVEN, RPPGNet, create_model

#: Parameter counts of the released models (presets "stven" and "rppgnet" with no overrides).
RELEASED_PARAMS = {"stven": 37_326_784, "rppgnet": 550_331}

U8Frames = npt.NDArray[np.uint8]


def _default_cache() -> Path:
    base = os.environ.get("RPPGBLOCKS_CACHE") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rppgblocks"


@dataclass
class Config:
    """Every setting of a run; written to results.json."""

    # data
    synthetic_root: str = str(_default_cache() / "synthetic_ubfc_stven")
    out_dir: str = "runs/train_stven_rppgnet"
    subjects: int = 12
    duration_s: float = 24.0
    video_size: tuple[int, ...] = (160, 120)
    frame_size: int = 32
    test_fraction: float = 0.3
    levels: tuple[str, ...] = ("h264:40", "mpeg4:10", "h264:12")
    # models (CPU-sized; the released sizes are stven 64 128 512 / 4 blocks, rppgnet 16 32 64)
    stven_channels: tuple[int, ...] = (8, 16, 32)
    stven_blocks: int = 2
    rppgnet_channels: tuple[int, ...] = (8, 16, 32)
    # stage 1: STVEN, reconstruction + cycle losses
    stven_steps: int = 60
    stven_clip_length: int = 16
    stven_lr: float = 1e-3
    # stage 2: rPPGNet
    rppgnet_steps: int = 300
    rppgnet_clip_length: int = 64
    rppgnet_lr: float = 3e-3
    rppgnet_on_compressed: bool = False
    # stage 3: joint fine-tuning through the perceptual loss
    joint_steps: int = 60
    joint_clip_length: int = 32
    joint_lr: float = 1e-4
    joint_train_rppgnet: bool = False
    fidelity: str = "neg_psnr"
    # common
    batch_size: int = 4
    eval_chunk: int = 160
    eval_window_s: float | None = 8.0
    log_every: int = 20
    seed: int = 0
    device: str = "auto"
    amp: bool = True


_CHOICES = {"device": ("auto", "cpu", "cuda"), "fidelity": ("neg_psnr", "mse")}


def _optional_float(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def parse_args(argv: Sequence[str] | None = None) -> Config:
    """The configuration: the dataclass defaults, overridden by the flags given (one flag per field)."""
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    defaults = Config()
    for field in dataclasses.fields(Config):
        flag = "--" + field.name.replace("_", "-")
        value = getattr(defaults, field.name)
        shown = " ".join(map(str, value)) if isinstance(value, tuple) else value
        help_text = f"(default {shown})"
        if isinstance(value, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=help_text)
        elif isinstance(value, tuple):
            kind: Callable[[str], Any] = int if value and isinstance(value[0], int) else str
            parser.add_argument(flag, nargs="+", type=kind, help=help_text)
        elif field.name == "eval_window_s":
            parser.add_argument(flag, type=_optional_float, help=f"{help_text}; 'none' for whole videos")
        else:
            kind = {int: int, float: float}.get(type(value), str)
            parser.add_argument(flag, type=kind, choices=_CHOICES.get(field.name), help=help_text)
    config = Config()
    for key, value in vars(parser.parse_args(argv)).items():
        setattr(config, key, tuple(value) if isinstance(value, list) else value)
    check_config(config)
    return config


class Level(NamedTuple):
    """A compression level k >= 1: a codec and a target bit rate."""

    codec: str
    bitrate_kbps: float

    @property
    def name(self) -> str:
        return f"{self.codec}@{self.bitrate_kbps:g}kbps"


def parse_levels(specs: Sequence[str]) -> list[Level]:
    """``"codec:kbps"`` strings -> levels (k = 1, 2, ... in the given order)."""
    levels = []
    for spec in specs:
        codec, sep, rate = spec.partition(":")
        try:
            kbps = float(rate) if sep else float("nan")
        except ValueError:
            kbps = float("nan")
        if codec not in ("h264", "mpeg4") or not (math.isfinite(kbps) and kbps > 0):
            raise ValueError(f"levels: expected 'h264:KBPS' or 'mpeg4:KBPS' with KBPS > 0, got {spec!r}")
        levels.append(Level(codec, kbps))
    if not levels:
        raise ValueError("levels: give at least one compression level")
    if len(set(levels)) != len(levels):
        raise ValueError(f"levels: duplicate levels in {list(specs)}")
    return levels


def check_config(config: Config) -> None:
    """Reject settings the models or the data cannot take, naming the flag."""
    parse_levels(config.levels)
    if config.frame_size < 16 or config.frame_size % 16:
        raise ValueError(f"--frame-size: rPPGNet and STVEN need a multiple of 16, got {config.frame_size}")
    for name in ("stven_clip_length", "joint_clip_length", "eval_chunk"):
        value = getattr(config, name)
        if value < 2 or value % 2:
            raise ValueError(f"--{name.replace('_', '-')}: STVEN needs an even length >= 2, got {value}")
    if config.rppgnet_clip_length < 2:
        raise ValueError(f"--rppgnet-clip-length: expected >= 2, got {config.rppgnet_clip_length}")
    if len(config.stven_channels) != 3 or len(config.rppgnet_channels) != 3:
        raise ValueError("--stven-channels and --rppgnet-channels take three integers each")
    if len(config.video_size) != 2:
        raise ValueError(f"--video-size: expected WIDTH HEIGHT, got {config.video_size}")
    if config.subjects < 2:
        raise ValueError(f"--subjects: need at least 2 (train and test), got {config.subjects}")
    for name in ("stven_steps", "rppgnet_steps", "joint_steps", "batch_size", "log_every"):
        if getattr(config, name) < (1 if name in ("batch_size", "log_every") else 0):
            raise ValueError(f"--{name.replace('_', '-')}: out of range: {getattr(config, name)}")


# --------------------------------------------------------------------------------------------------- data


@dataclass
class VideoData:
    """One face video at every compression level, with its labels."""

    video_id: str
    subject: int
    fps: float
    bvp: npt.NDArray[np.float64]  # (T,) label PPG at the frames
    skin: npt.NDArray[np.float32]  # (T, H/2, W/2) skin probability labels, from the original frames
    levels: list[U8Frames]  # level k -> (T, H, W, 3) RGB uint8; level 0 = the original crop

    @property
    def n_frames(self) -> int:
        return len(self.bvp)


def skin_labels(frames: U8Frames) -> npt.NDArray[np.float32]:
    """Skin probability labels at half resolution: the Chai-Ngan YCbCr skin box, averaged over 2 x 2 pixels.

    Args:
        frames: ``(T, H, W, 3)`` RGB uint8, H and W even.

    Returns:
        ``(T, H/2, W/2)`` float32 in [0, 1].
    """
    rgb = frames.astype(np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    cb = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b
    mask = ((cb >= 77) & (cb <= 127) & (cr >= 133) & (cr <= 173)).astype(np.float32)
    t, h, w = mask.shape
    return mask.reshape(t, h // 2, 2, w // 2, 2).mean(axis=(2, 4))


def dataset_root(config: Config) -> Path:
    """A folder per set of generator parameters, so that changing them never collides with a cached dataset."""
    key = f"n{config.subjects}_d{config.duration_s:g}_{config.video_size[0]}x{config.video_size[1]}_s{config.seed}"
    return Path(config.synthetic_root) / key


def load_videos(config: Config, levels: list[Level]) -> tuple[list[VideoData], list[VideoData], dict[str, Any]]:
    """Generate (or reuse) the synthetic dataset, crop the faces, split subjects, compress every video."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    root = generate_ubfc_rppg(
        dataset_root(config),
        n_subjects=config.subjects,
        duration_s=config.duration_s,
        frame_size=(config.video_size[0], config.video_size[1]),
        seed=config.seed,
    )
    timings["generate"] = time.perf_counter() - start
    start = time.perf_counter()
    chunk = 16  # clips are concatenated back into whole videos; only the last < 16 frames are dropped
    size = config.frame_size
    data = UBFCRPPG(root, clip_length=chunk, frame_size=(size, size))
    frames: dict[str, list[Tensor]] = {v.video_id: [] for v in data.videos}
    bvps: dict[str, list[Tensor]] = {v.video_id: [] for v in data.videos}
    for index in range(len(data)):
        clip = data[index]
        frames[clip["video_id"]].append(clip["video"])
        bvps[clip["video_id"]].append(clip["bvp"])
    timings["face_crop"] = time.perf_counter() - start
    print(f"synthetic UBFC-rPPG-layout dataset at {root}: {len(data.videos)} videos, faces cropped to {size}x{size}")

    start = time.perf_counter()
    videos = []
    for info in data.videos:
        video = torch.cat(frames[info.video_id], dim=1)  # (3, T, H, W) in [0, 1], exactly k / 255
        original = (video.permute(1, 2, 3, 0) * 255.0).round().to(torch.uint8).numpy()
        compressed = [
            compress_video(original, codec=lv.codec, bitrate_kbps=lv.bitrate_kbps, fps=info.fps)  # type: ignore[arg-type]
            for lv in levels
        ]
        bvp = torch.cat(bvps[info.video_id]).double().numpy()
        videos.append(
            VideoData(info.video_id, info.subject, info.fps, bvp, skin_labels(original), [original, *compressed])
        )
    timings["compress"] = time.perf_counter() - start
    train_ids, test_ids = subject_exclusive_split(
        [v.subject for v in videos], test_fraction=config.test_fraction, seed=config.seed
    )
    train = [v for v in videos if v.subject in train_ids]
    test = [v for v in videos if v.subject in test_ids]
    print(
        f"train subjects {list(train_ids)}, test subjects {list(test_ids)}; each video compressed at "
        f"{', '.join(lv.name for lv in levels)} ({timings['compress']:.1f} s)"
    )
    return (
        train,
        test,
        {"root": str(root), "train_subjects": list(train_ids), "test_subjects": list(test_ids), "seconds": timings},
    )


def to_model(frames: U8Frames, device: torch.device) -> Tensor:
    """``(..., T, H, W, 3)`` uint8 -> ``(..., 3, T, H, W)`` float32 in [-1, 1] (STVEN's range)."""
    video = torch.from_numpy(frames).to(device)
    return video.movedim(-1, -4).float().div(127.5).sub(1.0)


class Batch(NamedTuple):
    original: Tensor  # (B, 3, T, H, W) in [-1, 1], level 0
    compressed: Tensor  # (B, 3, T, H, W) at `level`
    level: Tensor  # (B,) int64 in 1..K (0 where the sample was drawn at level 0)
    bvp: Tensor  # (B, T)
    skin: Tensor  # (B, T, H/2, W/2)


def sample_batch(
    videos: Sequence[VideoData],
    rng: np.random.Generator,
    batch_size: int,
    clip_length: int,
    device: torch.device,
    *,
    min_level: int = 1,
) -> Batch:
    """Random clips of random training videos, each at a random level in ``[min_level, K]``."""
    originals, compressed, levels, bvps, skins = [], [], [], [], []
    for _ in range(batch_size):
        video = videos[int(rng.integers(len(videos)))]
        length = min(clip_length, video.n_frames - video.n_frames % 2)
        start = int(rng.integers(video.n_frames - length + 1))
        level = int(rng.integers(min_level, len(video.levels)))
        window = slice(start, start + length)
        originals.append(video.levels[0][window])
        compressed.append(video.levels[level][window])
        levels.append(level)
        bvps.append(video.bvp[window])
        skins.append(video.skin[window])
    return Batch(
        to_model(np.stack(originals), device),
        to_model(np.stack(compressed), device),
        torch.tensor(levels, dtype=torch.long, device=device),
        torch.from_numpy(np.stack(bvps)).float().to(device),
        torch.from_numpy(np.stack(skins)).to(device),
    )


# --------------------------------------------------------------------------------------------------- training


def select_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda: CUDA is not available")
    return torch.device(name)


def autocast(device: torch.device, enabled: bool) -> tuple[Callable[[], contextlib.AbstractContextManager[Any]], Any]:
    """AMP on CUDA: bfloat16 where supported (no scaler), else float16 with a gradient scaler; nothing on the CPU."""
    if device.type != "cuda" or not enabled:
        return contextlib.nullcontext, None
    if torch.cuda.is_bf16_supported():
        return lambda: torch.autocast("cuda", dtype=torch.bfloat16), None
    scaler = torch.amp.GradScaler("cuda") if hasattr(torch.amp, "GradScaler") else torch.cuda.amp.GradScaler()
    return lambda: torch.autocast("cuda", dtype=torch.float16), scaler


def step(loss: Tensor, optimizer: torch.optim.Optimizer, scaler: Any) -> None:
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()


def psnr_db(estimate: Tensor, reference: Tensor) -> float:
    """PSNR of clips in [-1, 1], in dB for a peak of 1 on the [0, 1] scale (the 8-bit PSNR)."""
    return _psnr(float((estimate.float() - reference.float()).div(2.0).square().mean()))


def _psnr(mse: float) -> float:
    return math.inf if mse <= 0.0 else 10.0 * math.log10(1.0 / mse)


class Logger:
    """Running means of named values, printed and stored every ``every`` steps."""

    def __init__(self, stage: str, total: int, every: int) -> None:
        self.stage, self.total, self.every = stage, total, every
        self.sums: dict[str, float] = {}
        self.count = 0
        self.history: list[dict[str, float]] = []
        self.start = time.perf_counter()

    def add(self, step_index: int, **values: float) -> None:
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
        self.count += 1
        if step_index % self.every == 0 or step_index == self.total:
            means = {k: v / self.count for k, v in self.sums.items()}
            self.history.append({"step": step_index, **means, "seconds": time.perf_counter() - self.start})
            shown = ", ".join(f"{k} {v:.4g}" for k, v in means.items())
            print(
                f"  {self.stage} step {step_index:4d}/{self.total}: {shown} ({time.perf_counter() - self.start:.0f} s)"
            )
            sys.stdout.flush()
            self.sums, self.count = {}, 0


def train_stven(
    stven: STVEN, train: Sequence[VideoData], config: Config, device: torch.device, rng: np.random.Generator
) -> list[dict[str, float]]:
    """Stage 1: STVEN alone, with the paper's reconstruction + cycle losses (both directions)."""
    criterion = STVENLoss()
    optimizer = torch.optim.Adam(stven.parameters(), lr=config.stven_lr)
    cast, scaler = autocast(device, config.amp)
    log = Logger("stven", config.stven_steps, config.log_every)
    stven.train()
    for i in range(1, config.stven_steps + 1):
        batch = sample_batch(train, rng, config.batch_size, config.stven_clip_length, device)
        with cast():
            cycle = stven_cycle(stven, batch.original, batch.compressed, batch.level)
        result = criterion(cycle, batch.original, batch.compressed)
        step(result.total, optimizer, scaler)
        log.add(
            i,
            loss=float(result.total.detach()),
            psnr_compressed=psnr_db(batch.compressed, batch.original),
            psnr_restored=psnr_db(cycle.restored.detach(), batch.original),
        )
    return log.history


def train_rppgnet(
    rppgnet: RPPGNet, train: Sequence[VideoData], config: Config, device: torch.device, rng: np.random.Generator
) -> list[dict[str, float]]:
    """Stage 2: rPPGNet on the original clips (or on random levels with ``--rppgnet-on-compressed``)."""
    criterion = RPPGNetLoss()
    optimizer = torch.optim.Adam(rppgnet.parameters(), lr=config.rppgnet_lr)
    cast, scaler = autocast(device, config.amp)
    log = Logger("rppgnet", config.rppgnet_steps, config.log_every)
    rppgnet.train()
    min_level = 0 if config.rppgnet_on_compressed else 1
    for i in range(1, config.rppgnet_steps + 1):
        batch = sample_batch(train, rng, config.batch_size, config.rppgnet_clip_length, device, min_level=min_level)
        video = batch.compressed if config.rppgnet_on_compressed else batch.original
        with cast():
            output = rppgnet(video)
        result = criterion(output, batch.bvp, batch.skin)
        step(result.total, optimizer, scaler)
        log.add(i, loss=float(result.total.detach()), neg_pearson=float(result.losses["global"].detach()))
    return log.history


def train_joint(
    stven: STVEN,
    rppgnet: RPPGNet,
    train: Sequence[VideoData],
    config: Config,
    device: torch.device,
    rng: np.random.Generator,
) -> list[dict[str, float]]:
    """Stage 3: STVEN (and optionally rPPGNet) through the joint loss with the rPPG perceptual term."""
    reference = copy.deepcopy(rppgnet).eval().requires_grad_(False)  # pretrained rPPGNet on c_0, never updated
    criterion = STVENRPPGNetLoss(fidelity=config.fidelity)  # type: ignore[arg-type]
    params = list(stven.parameters())
    if config.joint_train_rppgnet:
        rppgnet.train()
        params += list(rppgnet.parameters())
    else:
        rppgnet.eval().requires_grad_(False)  # fixed, as in the released script: gradients reach STVEN through it
    optimizer = torch.optim.Adam(params, lr=config.joint_lr)
    cast, scaler = autocast(device, config.amp)
    log = Logger("joint", config.joint_steps, config.log_every)
    stven.train()
    for i in range(1, config.joint_steps + 1):
        batch = sample_batch(train, rng, config.batch_size, config.joint_clip_length, device)
        with cast():
            enhanced = stven(batch.compressed, 0)
            output = rppgnet(enhanced)
            with torch.no_grad():
                reference_output = reference(batch.original)
        result = criterion(output, reference_output, enhanced, batch.original, batch.bvp, batch.skin)
        step(result.total, optimizer, scaler)
        log.add(
            i,
            loss=float(result.total.detach()),
            rppgnet=float(result.terms["rppgnet"].detach()),
            perceptual=float(result.perceptual.detach()),
            psnr_enhanced=psnr_db(enhanced.detach(), batch.original),
        )
    rppgnet.requires_grad_(True)
    return log.history


# --------------------------------------------------------------------------------------------------- evaluation


def _chunks(n_frames: int, chunk: int) -> Iterator[slice]:
    """Consecutive slices of ``chunk`` frames, the last one shorter but even (STVEN needs even lengths)."""
    start = 0
    while n_frames - start >= 2:
        length = min(chunk, (n_frames - start) // 2 * 2)
        yield slice(start, start + length)
        start += length


@torch.no_grad()
def predict(
    rppgnet: RPPGNet,
    stven: STVEN | None,
    frames: U8Frames,
    reference: U8Frames,
    config: Config,
    device: torch.device,
) -> tuple[npt.NDArray[np.float64], float]:
    """rPPGNet's BVP for a whole video (optionally enhanced by STVEN first), and the input's PSNR vs ``reference``."""
    cast, _ = autocast(device, config.amp)
    signals, squared_error, count = [], 0.0, 0
    for window in _chunks(len(frames), config.eval_chunk):
        video = to_model(frames[None, window], device)
        with cast():
            if stven is not None:
                video = stven(video, 0)
            bvp = rppgnet(video).bvp
        signals.append(bvp.float().cpu().numpy()[0])
        target = to_model(reference[None, window], device)
        squared_error += float((video.float() - target).div(2.0).square().sum())
        count += target.numel()
    return np.concatenate(signals).astype(np.float64), _psnr(squared_error / count)


def evaluate(
    rppgnet: RPPGNet, stven: STVEN, test: Sequence[VideoData], levels: list[Level], config: Config, device: torch.device
) -> dict[str, Any]:
    """Every condition on the same test videos and the same rPPGNet: original, and per level compressed / enhanced."""
    rppgnet.eval()
    stven.eval()
    conditions: list[tuple[str, int, bool]] = [("original", 0, False), ("original+stven", 0, True)]
    for k, level in enumerate(levels, start=1):
        conditions += [(f"{level.name}", k, False), (f"{level.name}+stven", k, True)]
    results: dict[str, Any] = {}
    for name, k, enhance in conditions:
        predictions, labels, psnrs = {}, {}, []
        for video in test:
            bvp, psnr = predict(rppgnet, stven if enhance else None, video.levels[k], video.levels[0], config, device)
            predictions[video.video_id] = bvp
            labels[video.video_id] = video.bvp[: len(bvp)]
            psnrs.append(psnr)
        report = evaluate_hr(
            predictions,
            labels,
            fs={v.video_id: v.fps for v in test},
            label_type="Raw",
            window_s=config.eval_window_s,
        )
        results[name] = {
            "level": k,
            "codec": None if k == 0 else levels[k - 1].codec,
            "bitrate_kbps": None if k == 0 else levels[k - 1].bitrate_kbps,
            "stven": enhance,
            "psnr_db": float(np.mean(psnrs)),
            "metrics": report.metrics.as_dict(),
            "snr_db": report.snr_db,
            "pairs": [dataclasses.asdict(pair) for pair in report.pairs],
        }
    return results


def label_hr_mean(videos: Sequence[VideoData], config: Config) -> float:
    """The mean label HR of the training videos (same windows and processing as the evaluation)."""
    labels = {v.video_id: v.bvp for v in videos}
    report: HREvaluation = evaluate_hr(
        labels, labels, fs={v.video_id: v.fps for v in videos}, label_type="Raw", window_s=config.eval_window_s
    )
    return float(np.mean([pair.hr_label_bpm for pair in report.pairs]))


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return _json_safe(value.item())
    return value


def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def print_table(results: dict[str, Any]) -> None:
    """One row per condition: input PSNR against the original frames, and rPPGNet's HR errors."""
    print(f"\n{'condition':<22}{'PSNR dB':>8}{'MAE':>8}{'+- SE':>7}{'RMSE':>8}{'r':>8}")
    for name, row in results.items():
        m = row["metrics"]
        print(f"{name:<22}{row['psnr_db']:8.2f}{m['mae']:8.2f}{m['mae_se']:7.2f}{m['rmse']:8.2f}{m['pearson']:8.3f}")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the whole recipe; returns the summary that is also written to ``<out-dir>/results.json``."""
    config = parse_args(argv)
    levels = parse_levels(config.levels)
    missing = sorted({lv.codec for lv in levels} - set(available_codecs()))
    if missing:
        raise RuntimeError(f"--levels: codec(s) {missing} not available in this PyAV/FFmpeg build")
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    device = select_device(config.device)
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"rppgblocks {rppgblocks.__version__}, torch {torch.__version__}, device {device}, "
        f"{torch.get_num_threads()} CPU thread(s)"
    )

    train, test, data_info = load_videos(config, levels)
    stven = create_model(
        "stven", num_levels=len(levels) + 1, channels=tuple(config.stven_channels), num_blocks=config.stven_blocks
    ).to(device)
    stem, stage1, width = config.rppgnet_channels
    rppgnet = create_model("rppgnet", stem_channels=stem, stage1_channels=stage1, width=width).to(device)
    assert isinstance(stven, STVEN) and isinstance(rppgnet, RPPGNet)
    sizes = {"stven": _n_params(stven), "rppgnet": _n_params(rppgnet)}
    reduced = sizes != RELEASED_PARAMS
    print(
        f"STVEN {sizes['stven']:,} parameters (channels {tuple(config.stven_channels)}, {config.stven_blocks} "
        f"bottleneck blocks, {len(levels) + 1} levels); rPPGNet {sizes['rppgnet']:,} parameters (channels "
        f"{tuple(config.rppgnet_channels)})"
        + (
            f"\nNOTE: reduced model sizes (released: STVEN {RELEASED_PARAMS['stven']:,}, rPPGNet "
            f"{RELEASED_PARAMS['rppgnet']:,} parameters) and {config.frame_size}x{config.frame_size} crops, "
            "sized for a CPU run"
            if reduced
            else ""
        )
    )

    history: dict[str, list[dict[str, float]]] = {}
    seconds: dict[str, float] = dict(data_info.pop("seconds"))
    for stage, run in (
        ("stven", lambda: train_stven(stven, train, config, device, rng)),
        ("rppgnet", lambda: train_rppgnet(rppgnet, train, config, device, rng)),
        ("joint", lambda: train_joint(stven, rppgnet, train, config, device, rng)),
    ):
        start = time.perf_counter()
        print(f"stage {stage}:")
        history[stage] = run()
        seconds[f"train_{stage}"] = time.perf_counter() - start

    start = time.perf_counter()
    results = evaluate(rppgnet, stven, test, levels, config, device)
    mean_hr = label_hr_mean(train, config)
    labels = [pair["hr_label_bpm"] for pair in results["original"]["pairs"]]
    baseline = hr_metrics([mean_hr] * len(labels), labels).as_dict()
    seconds["evaluate"] = time.perf_counter() - start
    torch.save(
        {"stven": stven.state_dict(), "rppgnet": rppgnet.state_dict(), "config": dataclasses.asdict(config)},
        out_dir / "models.pt",
    )

    per_level = []
    for level in levels:
        plain, enhanced = results[level.name], results[f"{level.name}+stven"]
        per_level.append(
            {
                "level": level.name,
                "psnr_db_compressed": plain["psnr_db"],
                "psnr_db_enhanced": enhanced["psnr_db"],
                "mae_compressed": plain["metrics"]["mae"],
                "mae_enhanced": enhanced["metrics"]["mae"],
                "stven_lowers_mae": enhanced["metrics"]["mae"] < plain["metrics"]["mae"],
            }
        )
    seconds["total"] = time.perf_counter() - started
    summary = {
        "config": dataclasses.asdict(config),
        "rppgblocks_version": rppgblocks.__version__,
        "torch_version": torch.__version__,
        "device": str(device),
        "cpu_threads": torch.get_num_threads(),
        "data": {**data_info, "n_test_videos": len(test), "n_train_videos": len(train)},
        "model_parameters": sizes,
        "released_model_parameters": RELEASED_PARAMS,
        "reduced_model_sizes": reduced,
        "levels": [
            {"level": k, "codec": lv.codec, "bitrate_kbps": lv.bitrate_kbps, "name": lv.name}
            for k, lv in enumerate(levels, start=1)
        ],
        "n_pairs": int(results["original"]["metrics"]["n"]),
        "results": results,
        "comparison": per_level,
        "baseline_mean_train_hr_bpm": mean_hr,
        "baseline_metrics": baseline,
        "history": history,
        "seconds": seconds,
    }
    summary = _json_safe(summary)
    (out_dir / "results.json").write_text(json.dumps(summary, indent=2, allow_nan=False))

    n = summary["n_pairs"]
    window = "whole videos" if config.eval_window_s is None else f"{config.eval_window_s:g} s windows"
    print(
        f"\nHeld-out subjects {data_info['test_subjects']}: {len(test)} videos, {n} HR pairs ({window}); SYNTHETIC data"
    )
    print_table(results)
    constant = f"constant {mean_hr:.1f} bpm"
    print(f"{constant:<22}{'':>8}{baseline['mae']:8.2f}{baseline['mae_se']:7.2f}{baseline['rmse']:8.2f}{'':>8}")
    print("(HR in bpm; the same rPPGNet in every row; constant = the training videos' mean HR)")
    helped = [row["level"] for row in per_level if row["stven_lowers_mae"]]
    print(
        f"STVEN enhancement lowered the MAE at {len(helped)} of {len(levels)} compression levels"
        + (f" ({', '.join(helped)})" if helped else "")
        + "; with this few HR pairs, differences within the MAEs' standard errors are not evidence either way."
    )
    print(f"wrote {out_dir / 'results.json'} ({seconds['total']:.0f} s in total)")
    return summary


if __name__ == "__main__":
    main()
