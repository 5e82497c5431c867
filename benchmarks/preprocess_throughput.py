"""Preprocessing throughput and peak memory: rppgblocks' ``UBFCRPPG`` pipeline against a straightforward one.

The data is a synthetic UBFC-rPPG DATASET_2 set at 640x480 (``generate_ubfc_rppg``, reused when it exists).

- rppgblocks: ``UBFCRPPG(root, frame_size=(size, size), face_detector="haar", cache_dir=<fresh dir>)`` is built
  twice, cold (chunked decode, face detection on the first chunk, crop, resize to ``uint8``, ``.npy`` cache write)
  then warm (the cache, memory-mapped), and every clip is read once through a ``DataLoader`` (``num_workers=0``).
- baseline, written here for the benchmark the way it is usually written (rPPG-Toolbox style): each video decoded
  whole with ``cv2.VideoCapture`` into a list of RGB frames, the face detected on the first frame with OpenCV's Haar
  cascade (rppgblocks' ``HaarFaceDetector`` defaults: ``scaleFactor=1.1, minNeighbors=3``), the largest box
  enlarged by 1.5 as the toolbox does, every frame cropped and resized with ``cv2.INTER_AREA``, stacked into one
  ``float32`` array ``(T, H, W, 3)`` per video, all videos kept in a list.

Each side runs in its own subprocess (this script with the hidden ``--only`` flag); the peak memory is the
process's peak RSS at the end (``VmHWM``; ``getrusage``'s ``ru_maxrss`` is inherited from this driver over fork
and exec on Linux, so it cannot be used here) minus its RSS after the imports, so that torch's import does not count.
The script also checks that both sides give the same crops.

Usage: python benchmarks/preprocess_throughput.py [--subjects 4] [--duration-s 20] [--size 72] [--workdir DIR]
       [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import torch
from torch.utils.data import DataLoader

from rppgblocks.data.synthetic.ubfc_rppg import generate_ubfc_rppg
from rppgblocks.data.ubfc_rppg import UBFCRPPG

HAAR_FILE = "haarcascade_frontalface_default.xml"
HAAR_SCALE_FACTOR = 1.1  # rppgblocks.data.face.HaarFaceDetector defaults
HAAR_MIN_NEIGHBORS = 3
BOX_SCALE = 1.5  # rPPG-Toolbox LARGE_BOX_COEF
MIB = 1024.0 * 1024.0


# ---------------------------------------------------------------------- memory


def _proc_status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} (this benchmark needs Linux)")


def rss_kib() -> int:
    """The current resident set size of this process, in KiB."""
    return _proc_status_kib("VmRSS")


def peak_rss_kib() -> int:
    """The peak resident set size of this process's address space so far, in KiB (``VmHWM``).

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries that over fork and exec, so a child started by this
    driver (which has imported torch and generated the videos) would report the driver's peak when its own is lower.
    ``ru_maxrss`` is still recorded in the JSON.
    """
    return _proc_status_kib("VmHWM")


def ru_maxrss_kib() -> int:
    """``getrusage(RUSAGE_SELF).ru_maxrss`` (KiB on Linux; inherited over fork and exec)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# ---------------------------------------------------------------------- baseline


def baseline_video(
    path: Path, size: int, box: tuple[int, int, int, int] | None = None
) -> tuple[npt.NDArray[np.float32], tuple[int, int, int, int]]:
    """Decode a whole video, detect the face on the first frame, crop and resize every frame, stack as float32.

    With ``box`` given (already enlarged), no detection is run and that box is used (for the crop check).
    """
    capture = cv2.VideoCapture(str(path))
    frames = []
    ok, frame = capture.read()
    while ok:
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        ok, frame = capture.read()
    capture.release()
    if box is None:
        classifier = cv2.CascadeClassifier(cv2.data.haarcascades + HAAR_FILE)
        gray = cv2.cvtColor(frames[0], cv2.COLOR_RGB2GRAY)
        found = classifier.detectMultiScale(gray, scaleFactor=HAAR_SCALE_FACTOR, minNeighbors=HAAR_MIN_NEIGHBORS)
        if len(found) == 0:
            height, width = frames[0].shape[:2]
            box = (0, 0, width, height)  # the toolbox falls back to the whole frame
        else:
            x, y, w, h = (float(v) for v in max(found, key=lambda b: int(b[2]) * int(b[3])))
            x = max(0.0, x - (BOX_SCALE - 1.0) / 2.0 * w)
            y = max(0.0, y - (BOX_SCALE - 1.0) / 2.0 * h)
            box = (int(x), int(y), int(BOX_SCALE * w), int(BOX_SCALE * h))
    x, y, w, h = box
    resized = [cv2.resize(f[y : y + h, x : x + w], (size, size), interpolation=cv2.INTER_AREA) for f in frames]
    return np.stack(resized).astype(np.float32), box


def run_baseline(root: Path, size: int, save_first: Path) -> dict[str, Any]:
    videos = sorted(root.glob("subject*/vid.avi"), key=lambda p: int(p.parent.name.removeprefix("subject")))
    start = time.perf_counter()
    outputs: list[npt.NDArray[np.float32]] = []
    boxes = []
    for path in videos:
        array, box = baseline_video(path, size)
        outputs.append(array)
        boxes.append(list(box))
    seconds = time.perf_counter() - start
    np.save(save_first, outputs[0])
    return {
        "seconds": seconds,
        "n_videos": len(outputs),
        "n_frames": int(sum(len(a) for a in outputs)),
        "output_bytes": int(sum(a.nbytes for a in outputs)),
        "boxes": boxes,
    }


# ---------------------------------------------------------------------- rppgblocks


def run_rppgblocks(root: Path, size: int, clip_length: int, cache_dir: Path, workers: int) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "clip_length": clip_length,
        "frame_size": (size, size),
        "face_detector": "haar",
        "cache_dir": cache_dir,
    }
    start, cpu_start = time.perf_counter(), time.process_time()
    cold = UBFCRPPG(root, **kwargs)
    cold_seconds = time.perf_counter() - start
    cold_cores_busy = (time.process_time() - cpu_start) / cold_seconds  # CPU seconds per second: cores in use
    cold_peak = peak_rss_kib()
    n_frames = int(sum(v.n_frames for v in cold.videos))
    boxes = [None if v.face_box is None else list(v.face_box) for v in cold.videos]
    del cold

    start = time.perf_counter()
    warm = UBFCRPPG(root, **kwargs)
    warm_seconds = time.perf_counter() - start

    loader = DataLoader(warm, batch_size=4, num_workers=0)
    start = time.perf_counter()
    n_clip_frames = 0
    checksum = 0.0
    for batch in loader:
        video = batch["video"]
        n_clip_frames += int(video.shape[0] * video.shape[2])
        checksum += float(video[:, 1, :, 0, 0].sum())  # touch the batch
    iter_seconds = time.perf_counter() - start

    cache_files = sorted(cache_dir.glob("*.npy"))
    workers_seconds = float("nan")
    if workers > 0:  # a cold build again, in worker processes, into a fresh cache; it must give the same files
        workers_cache = cache_dir.with_name(cache_dir.name + "-workers")
        start = time.perf_counter()
        UBFCRPPG(root, **{**kwargs, "cache_dir": workers_cache, "num_workers": workers})
        workers_seconds = time.perf_counter() - start
        for path in cache_files:
            if not np.array_equal(np.load(path), np.load(workers_cache / path.name)):
                raise RuntimeError(f"{path.name}: the worker processes' frames differ from the single process's")
        shutil.rmtree(workers_cache, ignore_errors=True)
    return {
        "cold_cores_busy": cold_cores_busy,
        "cpu_count": os.cpu_count(),
        "workers": workers,
        "workers_seconds": workers_seconds,
        "cold_seconds": cold_seconds,
        "warm_seconds": warm_seconds,
        "iter_seconds": iter_seconds,
        "n_videos": len(warm.videos),
        "n_frames": n_frames,
        "n_clips": len(warm),
        "n_clip_frames": n_clip_frames,
        "cold_peak_kib": cold_peak,
        "output_bytes": int(sum(np.load(p, mmap_mode="r").nbytes for p in cache_files)),
        "cache_file_bytes": int(sum(p.stat().st_size for p in cache_files)),
        "boxes": boxes,
        "checksum": checksum,
    }


# ---------------------------------------------------------------------- driver


def child(args: argparse.Namespace) -> None:
    """One side in this (fresh) process; writes its numbers as JSON to ``args.result``."""
    imports_rss, imports_peak, imports_ru_maxrss = rss_kib(), peak_rss_kib(), ru_maxrss_kib()
    root = Path(args.root)
    workdir = Path(args.workdir)
    if args.only == "rppgblocks":
        result = run_rppgblocks(root, args.size, args.clip_length, Path(args.cache_dir), args.workers)
    else:
        result = run_baseline(root, args.size, workdir / "baseline_first_video.npy")
    result.update(
        imports_rss_kib=imports_rss,
        imports_peak_kib=imports_peak,
        end_peak_kib=peak_rss_kib(),
        ru_maxrss_after_imports_kib=imports_ru_maxrss,
        ru_maxrss_end_kib=ru_maxrss_kib(),
        torch_threads=torch.get_num_threads(),
        cv2_threads=cv2.getNumThreads(),
    )
    Path(args.result).write_text(json.dumps(result))


def spawn(only: str, args: argparse.Namespace, root: Path, workdir: Path, cache_dir: Path) -> dict[str, Any]:
    result = workdir / f"result-{only}.json"
    result.unlink(missing_ok=True)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--only",
        only,
        "--root",
        str(root),
        "--workdir",
        str(workdir),
        "--cache-dir",
        str(cache_dir),
        "--result",
        str(result),
        "--size",
        str(args.size),
        "--clip-length",
        str(args.clip_length),
        "--workers",
        str(args.workers),
    ]
    subprocess.run(command, check=True)
    out: dict[str, Any] = json.loads(result.read_text())
    return out


def crop_check(root: Path, workdir: Path, cache_dir: Path, rpp: dict[str, Any], size: int) -> dict[str, Any]:
    """Compare the first video's crops: baseline vs rppgblocks, and baseline with rppgblocks' box (resize only)."""
    first_video = sorted(root.glob("subject*/vid.avi"), key=lambda p: int(p.parent.name.removeprefix("subject")))[0]
    [cache_file] = cache_dir.glob(f"ubfc_rppg-{first_video.parent.name}-*.npy")
    ours = np.load(cache_file).astype(np.float32)  # uint8 RGB -> float32 in 0-255
    base = np.load(workdir / "baseline_first_video.npy")  # float32 RGB in 0-255
    box = rpp["boxes"][0]
    same_box, _ = baseline_video(first_video, size, box=tuple(box))
    return {
        "video": first_video.parent.name,
        "shape_rppgblocks": list(ours.shape),
        "shape_baseline": list(base.shape),
        "mad_0_255": float(np.abs(ours - base).mean()),
        "max_abs_0_255": float(np.abs(ours - base).max()),
        "mad_same_box_0_255": float(np.abs(ours - same_box).mean()),
        "max_abs_same_box_0_255": float(np.abs(ours - same_box).max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=4, help="number of synthetic subjects")
    parser.add_argument("--duration-s", type=float, default=20.0, help="seconds per video (30 fps)")
    parser.add_argument("--size", type=int, default=72, help="output crop side in pixels")
    parser.add_argument("--clip-length", type=int, default=160, help="frames per clip (rppgblocks iteration)")
    parser.add_argument("--codec", default="MJPG", help="video codec of the synthetic set (MJPG or FFV1)")
    parser.add_argument(
        "--workdir",
        default=str(Path(tempfile.gettempdir()) / "rppgblocks-preprocess-bench"),
        help="folder for the synthetic data set (reused) and the scratch files",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="also time a cold build with this many worker processes (0: skip)"
    )
    parser.add_argument("--json", default=None, help="write the numbers to this JSON file")
    hidden = argparse.SUPPRESS
    parser.add_argument("--only", choices=["rppgblocks", "baseline"], default=None, help=hidden)
    parser.add_argument("--root", default=None, help=hidden)
    parser.add_argument("--cache-dir", default=None, help=hidden)
    parser.add_argument("--result", default=None, help=hidden)
    args = parser.parse_args()
    if args.only is not None:
        child(args)
        return

    total_start = time.perf_counter()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    name = f"ubfc_640x480_{args.subjects}x{args.duration_s:g}s_{args.codec}"
    start = time.perf_counter()
    dataset = generate_ubfc_rppg(
        workdir / name,
        n_subjects=args.subjects,
        duration_s=args.duration_s,
        frame_size=(640, 480),
        seed=0,
        codec=args.codec,
    )
    generate_seconds = time.perf_counter() - start
    root = dataset / "DATASET_2"
    print(
        f"data: {root} ({args.subjects} subjects x {args.duration_s:g} s, 640x480 {args.codec}), "
        f"ready in {generate_seconds:.1f} s"
    )

    cache_dir = Path(tempfile.mkdtemp(prefix="cache-", dir=workdir))
    try:
        base = spawn("baseline", args, root, workdir, cache_dir)
        rpp = spawn("rppgblocks", args, root, workdir, cache_dir)
        check = crop_check(root, workdir, cache_dir, rpp, args.size)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
        (workdir / "baseline_first_video.npy").unlink(missing_ok=True)

    if base["n_frames"] != rpp["n_frames"]:
        raise RuntimeError(f"frame counts differ: baseline {base['n_frames']}, rppgblocks {rpp['n_frames']}")
    n = rpp["n_frames"]
    base_mib = (base["end_peak_kib"] - base["imports_rss_kib"]) / 1024.0
    cold_mib = (rpp["cold_peak_kib"] - rpp["imports_rss_kib"]) / 1024.0
    end_mib = (rpp["end_peak_kib"] - rpp["imports_rss_kib"]) / 1024.0
    rows = [
        ("baseline (decode all, float32)", n / base["seconds"], base["seconds"], base_mib, base["output_bytes"]),
        ("rppgblocks cold (decode+cache)", n / rpp["cold_seconds"], rpp["cold_seconds"], cold_mib, rpp["output_bytes"]),
        (
            f"rppgblocks cold, {rpp['workers']} worker processes",
            n / rpp["workers_seconds"],
            rpp["workers_seconds"],
            float("nan"),
            rpp["output_bytes"],
        ),
        ("rppgblocks warm (cache mmap)", n / rpp["warm_seconds"], rpp["warm_seconds"], end_mib, rpp["output_bytes"]),
        (
            "rppgblocks clip iteration",
            rpp["n_clip_frames"] / rpp["iter_seconds"],
            rpp["iter_seconds"],
            end_mib,
            rpp["output_bytes"],
        ),
    ]
    print(
        f"\n{n} frames in {rpp['n_videos']} videos, crops {args.size}x{args.size}; "
        f"torch threads {rpp['torch_threads']}, cv2 threads {rpp['cv2_threads']}; the one-process cold build keeps "
        f"{rpp['cold_cores_busy']:.2f} of {rpp['cpu_count']} cores busy; "
        f"RSS after imports: baseline {base['imports_rss_kib'] / 1024:.0f} MiB, "
        f"rppgblocks {rpp['imports_rss_kib'] / 1024:.0f} MiB"
    )
    print(f"{'pipeline':<34} {'frames/s':>10} {'seconds':>9} {'peak RSS above imports (MiB)':>29} {'output (MiB)':>13}")
    for label, fps, seconds, mib, nbytes in rows:
        print(f"{label:<34} {fps:>10.1f} {seconds:>9.2f} {mib:>29.1f} {nbytes / MIB:>13.1f}")
    print(
        "(the warm and iteration rows share the rppgblocks process's peak at its end; "
        "the iteration row counts clip frames read; the workers' memory is in their own processes)"
    )
    ratios = {
        "cold_speedup_vs_baseline": base["seconds"] / rpp["cold_seconds"],
        "warm_speedup_vs_baseline": base["seconds"] / rpp["warm_seconds"],
        "workers_speedup_vs_one_process": rpp["cold_seconds"] / rpp["workers_seconds"],
        "peak_memory_ratio_baseline_over_cold": base_mib / cold_mib if cold_mib > 0 else float("inf"),
        "output_bytes_ratio_baseline_over_rppgblocks": base["output_bytes"] / rpp["output_bytes"],
    }
    print("ratios: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    print(
        f"crop check ({check['video']}): boxes baseline {base['boxes'][0]} vs rppgblocks {rpp['boxes'][0]}; "
        f"mean |diff| {check['mad_0_255']:.2f} (max {check['max_abs_0_255']:.0f}) in 0-255 units; with "
        f"rppgblocks' box {check['mad_same_box_0_255']:.2f} (max {check['max_abs_same_box_0_255']:.0f})"
    )
    total_seconds = time.perf_counter() - total_start
    print(f"total {total_seconds:.1f} s (data {generate_seconds:.1f} s)")
    if args.json:
        report = {
            "parameters": {k: v for k, v in vars(args).items() if k not in ("only", "root", "cache_dir", "result")},
            "n_frames": n,
            "baseline": base,
            "rppgblocks": rpp,
            "frames_per_s": {
                "baseline": n / base["seconds"],
                "rppgblocks_cold": n / rpp["cold_seconds"],
                "rppgblocks_cold_workers": n / rpp["workers_seconds"],
                "rppgblocks_warm": n / rpp["warm_seconds"],
                "rppgblocks_clip_iteration": rpp["n_clip_frames"] / rpp["iter_seconds"],
            },
            "peak_rss_above_imports_mib": {
                "baseline": base_mib,
                "rppgblocks_cold": cold_mib,
                "rppgblocks_end": end_mib,
            },
            "output_bytes": {"baseline": base["output_bytes"], "rppgblocks": rpp["output_bytes"]},
            "ratios": ratios,
            "crop_check": check,
            "generate_seconds": generate_seconds,
            "total_seconds": total_seconds,
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
