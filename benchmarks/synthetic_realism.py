"""Realism check of the synthetic UBFC-rPPG sessions: do POS and a real-data-trained PhysNet read their pulse?

Usage::

    python benchmarks/synthetic_realism.py [--data-dir ../shared/data/real/physnet_checkpoint] [--subjects 8]
        [--duration-s 30] [--frame-size 320x240] [--cache-dir DIR] [--untrained-control] [--json OUT]

Steps (all on CPU, seeded, deterministic):

1. :func:`rppgblocks.data.synthetic.generate_ubfc_rppg` writes ``--subjects`` stable sessions in UBFC-rPPG's
   DATASET_2 layout (30 fps container, FFV1, ``--frame-size`` width x height) into ``--cache-dir`` (default: a folder
   under the system temp dir named after the parameters; a second run reuses it).
2. :class:`rppgblocks.data.UBFCRPPG` face-crops every video like rPPG-Toolbox (OpenCV Haar cascade, box enlarged
   1.5 times, static box, 72 x 72 area resize; frames cached as ``uint8``) and pairs the PPG row 1:1 with the frames.
   Each video is taken whole (one clip of all its frames).
3. Ground truth: the heart rate of the label PPG as rPPG-Toolbox's evaluation takes it (smoothness-priors detrend,
   1st-order Butterworth 0.6-3.3 Hz, periodogram peak at fs = 30 Hz;
   :func:`rppgblocks.evaluation.evaluate_hr`); the mean of the label file's HR row is printed beside it.
4. POS, two ways: ``rppgblocks.cli.estimate_video(vid.avi)`` (the whole frame, as ``rppgblocks estimate`` does), and
   :func:`rppgblocks.classical.pos` on the mean RGB trace of the 72 x 72 face crops
   (:func:`rppgblocks.functional.rgb_trace_from_video`) evaluated by ``evaluate_hr(label_type="Raw")`` against the
   raw PPG.
5. PhysNet: ``PURE_PhysNet_DiffNormalized.pth`` (rPPG-Toolbox's release, trained on PURE) loaded by
   :func:`rppgblocks.models.load_rppg_toolbox_physnet`, eval mode. As the toolbox preprocesses: face crops in 0-255
   RGB (the toolbox reads with cv2 and converts BGR to RGB), :func:`rppgblocks.functional.diff_normalize` over the
   whole video, non-overlapping 128-frame chunks (the remainder dropped), outputs concatenated per video; labels
   :func:`rppgblocks.functional.diff_normalize_label` of the PPG, cut to the same length;
   ``evaluate_hr(label_type="DiffNormalized", method="FFT")`` (whole video).
6. Controls: the same model on the same frames shuffled in time (seeded permutation per video, before
   DiffNormalized; the labels are unchanged), and with ``--untrained-control`` a randomly initialised PhysNet
   (``torch.manual_seed(0)``). Neither should read the pulse; their MAE says what "no pulse" looks like here.
7. Scale: the MAE of the constant prediction "mean ground-truth HR of the set".

Printed: per-video heart rates, then MAE / RMSE / Pearson r (and the PhysNet SNR) per method, and the time of each
stage. ``--json`` writes the same numbers. Exit 0 when everything ran (the numbers are a measurement, not a test),
1 if a step failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from einops import rearrange
from torch import Tensor

from rppgblocks.classical import pos
from rppgblocks.cli import estimate_video
from rppgblocks.data import UBFCRPPG
from rppgblocks.data.synthetic import generate_ubfc_rppg
from rppgblocks.evaluation import HREvaluation, evaluate_hr, hr_metrics
from rppgblocks.functional import diff_normalize, diff_normalize_label, rgb_trace_from_video
from rppgblocks.models import PhysNet, load_rppg_toolbox_physnet

CHECKPOINT = "PURE_PhysNet_DiffNormalized.pth"
CHUNK = 128  # the checkpoint's training clip length (README; rPPG-Toolbox PhysNet configs)
SIZE = (72, 72)
FS = 30.0  # rPPG-Toolbox evaluates every dataset at FS = 30
BATCH = 4  # clips per forward pass
SEED = 0


@dataclass
class Video:
    """One whole face-cropped video and its labels."""

    video_id: str
    path: Path
    fps: float
    faces: Tensor  # (3, T, 72, 72) float32 RGB in [0, 1]
    bvp: Tensor  # (T,) the label file's PPG row, one sample per frame
    hr_row_bpm: float  # mean of the label file's HR row


@dataclass
class Result:
    """Heart rates of one method: per video and summarised."""

    name: str
    short: str
    pred: dict[str, float]
    true: dict[str, float]
    snr_db: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        ids = list(self.true)
        m = hr_metrics([self.pred[i] for i in ids], [self.true[i] for i in ids])
        out = {"mae": m.mae, "mae_se": m.mae_se, "rmse": m.rmse, "pearson": m.pearson, "n": m.n}
        if self.snr_db is not None:
            out["snr_db"] = self.snr_db
        return out


def resolve_checkpoint(data_dir: Path) -> Path:
    for candidate in (data_dir, data_dir / "physnet_checkpoint"):
        if (candidate / CHECKPOINT).is_file():
            return candidate / CHECKPOINT
    raise FileNotFoundError(f"{data_dir}: no {CHECKPOINT} here or in physnet_checkpoint/")


def parse_size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def load_videos(root: Path, cache: Path) -> list[Video]:
    """Every video of the set, whole, face-cropped to 72 x 72 by the loader (frames cached in ``cache``)."""
    index = UBFCRPPG(root, clip_length=CHUNK, frame_size=SIZE, face_detector="haar", cache_dir=cache)
    videos = []
    for record in index.videos:
        whole = UBFCRPPG(
            root,
            subjects=[record.subject],
            clip_length=record.n_frames,
            frame_size=SIZE,
            face_detector="haar",
            cache_dir=cache,
        )
        sample = whole[0]
        hr_row = float(sample["hr"])  # the loader's clip "hr": mean of the HR row over the clip's frames
        videos.append(Video(record.video_id, record.video_path, record.fps, sample["video"], sample["bvp"], hr_row))
    return videos


def ground_truth(videos: list[Video]) -> dict[str, float]:
    """HR of each label PPG, the way rPPG-Toolbox's evaluation takes it (whole video, FFT, fs = 30)."""
    labels = {v.video_id: v.bvp for v in videos}
    report = evaluate_hr(labels, labels, fs=FS, label_type="Raw", method="FFT")
    return {p.video_id: p.hr_label_bpm for p in report.pairs}


def run_pos_file(videos: list[Video], truth: dict[str, float]) -> Result:
    pred = {v.video_id: estimate_video(v.path).hr_bpm for v in videos}
    return Result("POS, whole frame (estimate_video)", "POS file", pred, truth)


def run_pos_face(videos: list[Video], truth: dict[str, float]) -> Result:
    preds, labels = {}, {}
    for v in videos:
        trace = rgb_trace_from_video(v.faces[None].double())  # (1, 3, T)
        preds[v.video_id] = pos(trace, FS)[0]
        labels[v.video_id] = v.bvp.double()
    report = evaluate_hr(preds, labels, fs=FS, label_type="Raw", method="FFT")
    pred = {p.video_id: p.hr_pred_bpm for p in report.pairs}
    return Result("POS, 72x72 face crop", "POS face", pred, truth, report.snr_db, own_label(report))


def physnet_inputs(faces: Tensor, shuffle: torch.Generator | None = None) -> Tensor:
    """(3, T, H, W) [0, 1] RGB -> (n_chunks, 3, 128, H, W) DiffNormalized over the whole video, as the toolbox."""
    x = faces[None] * 255.0  # the toolbox's frames are 0-255 float, RGB
    if shuffle is not None:
        x = x[:, :, torch.randperm(x.shape[2], generator=shuffle)]
    x = diff_normalize(x)
    n_chunks = x.shape[2] // CHUNK
    return rearrange(x[:, :, : n_chunks * CHUNK], "1 c (n t) h w -> n c t h w", t=CHUNK)


def run_physnet(
    name: str, short: str, model: torch.nn.Module, videos: list[Video], truth: dict[str, float], shuffle: bool
) -> Result:
    generator = torch.Generator().manual_seed(SEED) if shuffle else None
    preds, labels = {}, {}
    with torch.no_grad():
        for v in videos:
            clips = physnet_inputs(v.faces, generator)
            out = torch.cat([model(clips[i : i + BATCH]) for i in range(0, clips.shape[0], BATCH)])
            preds[v.video_id] = out.reshape(-1).double()
            label = diff_normalize_label(v.bvp[None].double())[0]
            labels[v.video_id] = label[: preds[v.video_id].numel()]
    report = evaluate_hr(preds, labels, fs=FS, label_type="DiffNormalized", method="FFT")
    pred = {p.video_id: p.hr_pred_bpm for p in report.pairs}
    extra = own_label(report) | {"n_frames_used": {k: t.numel() for k, t in preds.items()}}
    return Result(name, short, pred, truth, report.snr_db, extra)


def own_label(report: HREvaluation) -> dict[str, Any]:
    """rPPG-Toolbox's own numbers: against the HR of the label exactly as evaluated (e.g. cut to whole chunks)."""
    return {
        "label_bpm": {p.video_id: p.hr_label_bpm for p in report.pairs},
        "mae_vs_own_label": report.metrics.mae,
        "rmse_vs_own_label": report.metrics.rmse,
        "pearson_vs_own_label": report.metrics.pearson,
    }


def baseline(truth: dict[str, float]) -> Result:
    mean = float(np.mean(list(truth.values())))
    return Result(f"constant {mean:.1f} bpm (mean GT HR)", "constant", dict.fromkeys(truth, mean), truth)


def report(videos: list[Video], truth: dict[str, float], results: list[Result], timings: dict[str, float]) -> None:
    names = [r.name for r in results]
    short = [r.short for r in results]
    print("\nPer-video heart rate, bpm (GT = FFT HR of the label PPG at fs = 30; HR row = mean of the file's HR row)")
    header = f"{'video':<10} {'frames':>6} {'GT':>7} {'HR row':>7} " + " ".join(f"{s:>9}" for s in short)
    print(header)
    for v in videos:
        cells = " ".join(f"{r.pred[v.video_id]:9.1f}" for r in results)
        print(f"{v.video_id:<10} {v.faces.shape[1]:>6} {truth[v.video_id]:7.1f} {v.hr_row_bpm:7.1f} {cells}")
    print("\nSummary over videos")
    print(f"{'method':<44} {'MAE':>6} {'+-SE':>5} {'RMSE':>6} {'r':>6} {'SNR dB':>7} {'MAE(TB)':>7}")
    for name, r in zip(names, results, strict=True):
        s = r.summary()
        snr = f"{s['snr_db']:7.2f}" if "snr_db" in s else f"{'':>7}"
        own = f"{r.extra['mae_vs_own_label']:7.2f}" if "mae_vs_own_label" in r.extra else f"{'':>7}"
        print(f"{name:<44} {s['mae']:6.2f} {s['mae_se']:5.2f} {s['rmse']:6.2f} {s['pearson']:6.3f} {snr} {own}")
    print(
        "MAE etc. against GT; MAE(TB) = rPPG-Toolbox's own MAE, against the HR of the label as evaluate_hr saw it "
        "(for PhysNet cut to whole 128-frame chunks)."
    )
    print("\nTimes, s: " + ", ".join(f"{k} {t:.1f}" for k, t in timings.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/real/physnet_checkpoint"))
    parser.add_argument("--subjects", type=int, default=8)
    parser.add_argument("--duration-s", type=float, default=30.0)
    parser.add_argument("--frame-size", type=parse_size, default=(320, 240), help="WIDTHxHEIGHT (default 320x240)")
    parser.add_argument("--seed", type=int, default=SEED, help="generator seed (default 0)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where the synthetic set and crops are kept")
    parser.add_argument("--untrained-control", action="store_true", help="also run a randomly initialised PhysNet")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.manual_seed(SEED)
    timings: dict[str, float] = {}
    try:
        checkpoint = resolve_checkpoint(args.data_dir)
        width, height = args.frame_size
        name = f"ubfc_n{args.subjects}_d{args.duration_s:g}_{width}x{height}_seed{args.seed}"
        cache = args.cache_dir or Path(tempfile.gettempdir()) / "rppgblocks_synthetic_realism"
        start = time.perf_counter()
        root = generate_ubfc_rppg(
            cache / name,
            n_subjects=args.subjects,
            duration_s=args.duration_s,
            frame_size=(width, height),
            seed=args.seed,
        )
        timings["generate"] = time.perf_counter() - start
        print(f"synthetic set: {root} ({args.subjects} subjects x {args.duration_s:g} s, {width}x{height}, 30 fps)")

        start = time.perf_counter()
        videos = load_videos(root / "DATASET_2", cache / f"{name}_crops")
        truth = ground_truth(videos)
        timings["face crop"] = time.perf_counter() - start

        start = time.perf_counter()
        results = [run_pos_file(videos, truth)]
        results.append(run_pos_face(videos, truth))
        timings["POS"] = time.perf_counter() - start

        model = load_rppg_toolbox_physnet(checkpoint)
        start = time.perf_counter()
        results.append(run_physnet("PhysNet PURE checkpoint", "PhysNet", model, videos, truth, shuffle=False))
        timings["PhysNet"] = time.perf_counter() - start
        start = time.perf_counter()
        results.append(
            run_physnet("control: PhysNet, frames shuffled in time", "shuffled", model, videos, truth, shuffle=True)
        )
        timings["shuffled"] = time.perf_counter() - start
        if args.untrained_control:
            torch.manual_seed(SEED)
            start = time.perf_counter()
            results.append(
                run_physnet("control: untrained PhysNet", "untrained", PhysNet().eval(), videos, truth, shuffle=False)
            )
            timings["untrained"] = time.perf_counter() - start
        results.append(baseline(truth))
    except Exception:
        traceback.print_exc()
        return 1

    report(videos, truth, results, timings)
    if args.json is not None:
        payload = {
            "parameters": {
                "subjects": args.subjects,
                "duration_s": args.duration_s,
                "frame_size": [width, height],
                "seed": args.seed,
                "checkpoint": str(checkpoint),
                "chunk": CHUNK,
                "fs": FS,
            },
            "ground_truth_bpm": truth,
            "hr_row_mean_bpm": {v.video_id: v.hr_row_bpm for v in videos},
            "methods": {r.name: {"pred_bpm": r.pred, **r.summary(), **r.extra} for r in results},
            "timings_s": timings,
        }
        args.json.write_text(json.dumps(payload, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
