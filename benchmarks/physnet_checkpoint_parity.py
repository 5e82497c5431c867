"""Parity of rppgblocks' PhysNet with rPPG-Toolbox's on the released PURE checkpoint (errors and timing).

Usage::

    python benchmarks/physnet_checkpoint_parity.py /work/shared/data/real/physnet_checkpoint [--repeats 3]

DATA_DIR holds ``PURE_PhysNet_DiffNormalized.pth`` (rPPG-Toolbox's released PhysNet weights, a plain state dict in
the toolbox's key naming) and ``reference_io.npz`` (``input_float16`` (2, 3, 128, 72, 72), cast to float32 here, and
``bvp`` (2, 128): the original network's output for it, eval mode, CPU, float32); the folder above it is accepted too.
See the README.md beside the files.

Three outputs are checked, both in eval mode on the same input:

- ``PhysNet``: :func:`rppgblocks.models.convert.load_rppg_toolbox_physnet` on the checkpoint file;
- ``RFaceNet.physnet``: the BVP branch of ``RFaceNet(num_identities=8, bvp_input_norm="none")``, loaded with
  ``model.physnet.load_state_dict(toolbox_state_dict)`` (the toolbox keys are converted on the fly);
- ``RFaceNet(video).bvp``: the same whole model (identity branch + CTFC after stage 3), whose CTFC starts as the
  identity map, so that untrained it reproduces the toolbox BVP too (its forward time includes the identity branch).

Printed per path: the max absolute error, the max absolute reference value, the relative error = max |ours - ref| /
max |ref| (the metric the parity test bounds by 1e-4), the worst per-sample Pearson r, the FFT heart rates of ours and
of the reference (the input is noise, so only their agreement matters) and the median forward time of a (2, 3, 128,
72, 72) batch over ``--repeats`` runs (torch.no_grad, float32, this machine's CPU threads). Exit status 1 if a relative
error exceeds the tolerance.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from rppgblocks.functional import fft_heart_rate, pearson_correlation
from rppgblocks.models import RFaceNet
from rppgblocks.models.convert import load_rppg_toolbox_physnet

CHECKPOINT = "PURE_PhysNet_DiffNormalized.pth"
REFERENCE = "reference_io.npz"
FS = 30.0
TOLERANCE = 1e-4


def resolve(data_dir: Path) -> Path:
    for candidate in (data_dir, data_dir / "physnet_checkpoint"):
        if (candidate / CHECKPOINT).exists() and (candidate / REFERENCE).exists():
            return candidate
    raise SystemExit(f"error: {data_dir}: no {CHECKPOINT} and {REFERENCE} here or in physnet_checkpoint/")


def timed(forward: Callable[[], Tensor], repeats: int) -> tuple[Tensor, float]:
    times = []
    out = torch.empty(0)
    for _ in range(repeats):
        start = time.perf_counter()
        with torch.no_grad():
            out = forward()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times)


def report(label: str, ours: Tensor, reference: Tensor, seconds: float) -> float:
    abs_err = float((ours - reference).abs().max())
    scale = float(reference.abs().max())
    rel_err = abs_err / scale
    r_min = float(pearson_correlation(ours.double(), reference.double()).min())
    hr_ours = [round(v, 2) for v in fft_heart_rate(ours, FS).tolist()]
    hr_ref = [round(v, 2) for v in fft_heart_rate(reference, FS).tolist()]
    print(f"{label}:")
    print(f"  max abs error      {abs_err:.3e}   (max |reference| = {scale:.4f})")
    print(f"  relative error     {rel_err:.3e}   (max abs error / max |reference|; tolerance {TOLERANCE:g})")
    print(f"  min Pearson r      {r_min:.8f}")
    print(f"  HR ours / ref bpm  {hr_ours} / {hr_ref}")
    print(f"  forward (median)   {seconds * 1000:.0f} ms per batch of {ours.shape[0]} clips")
    return rel_err


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("data_dir", type=Path, help="the physnet_checkpoint folder (or the folder above it)")
    parser.add_argument("--repeats", type=int, default=3, help="timed forward passes per model (median reported)")
    args = parser.parse_args(argv)
    directory = resolve(args.data_dir)

    with np.load(directory / REFERENCE) as data:
        video = torch.from_numpy(data["input_float16"]).float()
        reference = torch.from_numpy(data["bvp"])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; input {tuple(video.shape)} float32")

    start = time.perf_counter()
    physnet = load_rppg_toolbox_physnet(directory / CHECKPOINT)
    load_s = time.perf_counter() - start
    print(f"load_rppg_toolbox_physnet: {load_s * 1000:.0f} ms")
    ours, seconds = timed(lambda: physnet(video), args.repeats)
    errors = [report("PhysNet", ours, reference, seconds)]

    state = torch.load(directory / CHECKPOINT, map_location="cpu", weights_only=True)
    rfacenet = RFaceNet(num_identities=8, bvp_input_norm="none").eval()
    rfacenet.physnet.load_state_dict(state)
    ours, seconds = timed(lambda: rfacenet.physnet(video), args.repeats)
    errors.append(report("RFaceNet.physnet (BVP branch)", ours, reference, seconds))
    ours, seconds = timed(lambda: rfacenet(video).bvp, args.repeats)
    errors.append(
        report("RFaceNet(video).bvp (whole model, CTFC at its identity initialisation)", ours, reference, seconds)
    )

    passed = max(errors) <= TOLERANCE
    print("parity: " + ("PASS" if passed else "FAIL"))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
