"""Inference cost of the registry models side by side: parameters, FLOPs and CPU latency per 10 s clip.

Each model is built from its registry preset (``create_model(name)``; SSPD as ``create_model("sspd", s3m=False)``,
its inference network: the S³M is used only in training) and fed one clip of batch 1 at the preset's own spatial
size (``model_info(name).input_size``) with ``T = 10 s x fs`` frames (300 at 30 Hz), or the nearest length the model
accepts. The inputs are random clips in each preset's input form (values do not change the cost).

- parameters: trainable parameters of the network that runs (``requires_grad``);
- FLOPs: one forward pass in eval mode under ``torch.no_grad()``, counted with
  ``torch.utils.flop_counter.FlopCounterMode`` (a multiply-add counts as 2 FLOPs; only matmul, convolution and
  attention ops are counted, so normalisation, pooling, activations and FFTs are not);
- CPU latency: eval mode, ``torch.inference_mode()``, float32, ``torch.set_num_threads(os.cpu_count())``, one
  warm-up run then the median of ``--repeats`` timed runs, in ms per 10 s clip; the real-time factor is
  10 s / latency (above 1: faster than real time).

Usage: python benchmarks/inference_cost.py [--models sspd physnet rfacenet rppgnet] [--repeats 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from rppgblocks.models import create_model, model_info
from rppgblocks.models.sspd import SSPD

CLIP_S = 10.0
DEFAULT_MODELS = ("sspd", "physnet", "rfacenet", "rfacenet_vipl", "rppgnet")
#: Frame-count multiple each model needs (PhysNet and rFaceNet pool time by 4).
T_MULTIPLE = {"physnet": 4, "rfacenet": 4, "rfacenet_vipl": 4}


@dataclass
class Cost:
    model: str
    input_shape: list[int]
    frames_note: str
    params: int
    gflops: float
    latency_ms: float
    latencies_ms: list[float]
    realtime_factor: float
    threads: int


def _build(name: str) -> tuple[nn.Module, Callable[[Tensor], Any]]:
    """The inference network of preset ``name`` and the call that runs its inference path."""
    if name == "sspd":
        sspd = create_model("sspd", s3m=False)
        assert isinstance(sspd, SSPD)
        return sspd, sspd.predict  # backbone + predictor only
    model = create_model(name)
    return model, model


def _frames(name: str, fs: float) -> tuple[int, str]:
    wanted = round(CLIP_S * fs)
    multiple = T_MULTIPLE.get(name, 1)
    frames = max(multiple, multiple * round(wanted / multiple))
    note = f"{frames}" if frames == wanted else f"{frames} (nearest multiple of {multiple} to {wanted})"
    return frames, note


def _make_input(name: str, shape: tuple[int, ...]) -> Tensor:
    generator = torch.Generator().manual_seed(0)
    if name == "sspd":  # raw frame differences of 0-255 frames
        b, c, t, h, w = shape
        frames = 255.0 * torch.rand(b, c, t + 1, h, w, generator=generator)
        return frames[:, :, 1:] - frames[:, :, :-1]
    return torch.rand(shape, generator=generator)  # RGB in [0, 1]


def _outputs(result: Any) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [t for item in result for t in _outputs(item)]
    return []


def _check_finite(name: str, result: Any) -> None:
    for tensor in _outputs(result):
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise RuntimeError(f"{name}: non-finite output of shape {tuple(tensor.shape)}")


def measure(name: str, repeats: int, threads: int) -> Cost:
    info = model_info(name)
    channels, _, height, width = info.input_size
    frames, note = _frames(name, info.fs)
    shape = (1, channels, frames, height, width)
    model, run = _build(name)
    model = model.eval().float()
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    video = _make_input(name, shape)

    with torch.no_grad():
        counter = FlopCounterMode(display=False)
        with counter:
            result = run(video)
    _check_finite(name, result)
    flops = counter.get_total_flops()

    times = []
    with torch.inference_mode():
        _check_finite(name, run(video))  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            result = run(video)
            times.append(1000.0 * (time.perf_counter() - start))
        _check_finite(name, result)
    latency = statistics.median(times)
    clip_ms = 1000.0 * frames / info.fs
    return Cost(
        model=name,
        input_shape=list(shape),
        frames_note=note,
        params=params,
        gflops=flops / 1e9,
        latency_ms=latency,
        latencies_ms=times,
        realtime_factor=clip_ms / latency if latency > 0 else math.inf,
        threads=threads,
    )


def _table(costs: list[Cost]) -> str:
    header = ("model", "input (B, C, T, H, W)", "T", "params", "GFLOPs", "latency (ms)", "real-time x")
    rows = [
        (
            c.model,
            "(" + ", ".join(map(str, c.input_shape)) + ")",
            c.frames_note,
            f"{c.params:,}",
            f"{c.gflops:.1f}",
            f"{c.latency_ms:.0f}",
            f"{c.realtime_factor:.1f}",
        )
        for c in costs
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), help="registry presets to measure")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per model (median reported)")
    parser.add_argument("--json", type=Path, default=None, help="write the numbers to this JSON file")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, float32, batch 1, torch.get_num_threads() = {torch.get_num_threads()}")
    print(f"latency: 1 warm-up + median of {args.repeats} runs per {CLIP_S:g} s clip")

    costs = []
    for name in args.models:
        cost = measure(name, args.repeats, threads)
        print(
            f"  {name}: {cost.params:,} params, {cost.gflops:.2f} GFLOPs, "
            f"runs {', '.join(f'{t:.0f}' for t in cost.latencies_ms)} ms",
            flush=True,
        )
        costs.append(cost)
    print()
    print(_table(costs))
    print("FLOPs: FlopCounterMode, a multiply-add = 2 FLOPs, matmul/conv ops only.")

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "torch": torch.__version__,
            "threads": threads,
            "repeats": args.repeats,
            "clip_s": CLIP_S,
            "models": [asdict(c) for c in costs],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
