"""Write a synthetic dataset in exactly the on-disk layout of UBFC-rPPG (``datasets.md`` §2.1-§2.3, §2.6).

Both variants of the real dataset are available; ``root`` plays the part of the downloaded folder::

    root/
      DATASET_2/subject1/ subject3/ ...    the real subject numbers (1, 3, 4, 5, 8-18, 20, 22-27, 30-49)
        vid.avi            face video; the container says ``fps`` (30), the true mean rate is 29.3-29.6 fps
        ground_truth.txt   three MATLAB ``save -ascii`` rows of ``%16.7e`` values, one value per frame:
                           the PPG (about +-1), the oximeter HR in bpm and the frame times in seconds
      DATASET_1/5-gt/ 6-gt/ ... 12-gt/ after-exercise/
        vid.avi            (vid-007.avi in 7-gt and vid-12.avi in 12-gt, as in the real data) at 28.67 fps
        gtdump.xmp         headerless CSV at about 62 Hz: ``time_ms,hr_bpm,spo2_percent,ppg`` (integers)
      synthetic.json       the manifest: generator version, parameters, per-subject summaries

DATASET_2's time row is irregular as in the real files: frame spacings of about 12-41 ms, an occasional gap of about
1 s (frames the camera dropped; the video has no frame there), a first value above 0. Its PPG and HR rows are
sampled at those frame times: the PPG is twice :meth:`~rppgblocks.data.synthetic.Physiology.blood_volume`, the HR
row the oximeter's integer display (updated at 60 Hz) interpolated linearly, hence values such as 70.75.
DATASET_1's video frames are regular (frame ``k`` at ``k / fps`` s) and gtdump.xmp's times are on the same clock.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rppgblocks.data.synthetic import _writer
from rppgblocks.data.synthetic._writer import GENERATOR_VERSION
from rppgblocks.data.synthetic.appearance import Appearance
from rppgblocks.data.synthetic.physiology import Physiology
from rppgblocks.data.synthetic.render import render_session
from rppgblocks.data.synthetic.scene import Scene

__all__ = [
    "UBFC_RPPG_DATASET_1_FOLDERS",
    "UBFC_RPPG_SUBJECTS",
    "generate_ubfc_rppg",
]

#: The subject numbers of UBFC-rPPG DATASET_2, in order (folders ``subject<N>``, ``datasets.md`` §2.1).
UBFC_RPPG_SUBJECTS: tuple[int, ...] = (1, 3, 4, 5, *range(8, 19), 20, *range(22, 28), *range(30, 50))
#: The folders of UBFC-rPPG DATASET_1, in order (``datasets.md`` §2.2; the numbers between 7 and 12 are
#: assumed).
UBFC_RPPG_DATASET_1_FOLDERS: tuple[str, ...] = (*(f"{n}-gt" for n in range(5, 13)), "after-exercise")

_VARIANTS = ("DATASET_2", "DATASET_1")
_DATASET_1_FPS = 28.671786  # the container rate of DATASET_1's videos (datasets.md §2.2)
_DATASET_1_VIDEOS = {"7-gt": "vid-007.avi", "12-gt": "vid-12.avi"}  # the other folders hold vid.avi
_TRUE_RATE_RANGE = (29.3 / 30.0, 29.6 / 30.0)  # DATASET_2's measured rate over the nominal one (datasets.md §2.3)
_GAPS_PER_S = 1.0 / 45.0  # expected number of ~1 s gaps in DATASET_2's time row per second
_OXIMETER_HZ = 60.0  # the rate at which DATASET_2's oximeter updates its HR display
_GTDUMP_HZ = 62.1  # DATASET_1's oximeter rate (datasets.md §2.2)
_PPG_SCALE = 2.0  # DATASET_2's PPG row: about +-1
_WAVE_CENTRE, _WAVE_SCALE = 50.0, 45.0  # DATASET_1's integer pleth (about 0-100)
# Stream ids of the SeedSequence spawn keys (the first key names the dataset, so no stream is shared with VIPL-HR).
_UBFC = 11
_APPEARANCE, _PHYSIOLOGY, _SCENE, _CLOCK = 1, 2, 3, 4

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class _Subject:
    folder: str  # e.g. "DATASET_2/subject1"
    video: str
    appearance: Appearance
    attempts: int
    detected: bool | None
    physiology: Physiology
    scene: Scene
    frame_times: FloatArray  # seconds, exactly the time row (DATASET_2) or k / fps (DATASET_1)


def _validate(
    variant: Any,
    n_subjects: Any,
    duration_s: Any,
    fps: Any,
    frame_size: Any,
    hr_range_bpm: Any,
    pulse_amplitude: Any,
    seed: Any,
) -> dict[str, Any]:
    if not isinstance(variant, str) or variant not in _VARIANTS:
        raise ValueError(f"variant: expected 'DATASET_2' or 'DATASET_1', got {variant!r}")
    available = len(UBFC_RPPG_SUBJECTS) if variant == "DATASET_2" else len(UBFC_RPPG_DATASET_1_FOLDERS)
    if n_subjects is None:
        n_subjects = available
    default_fps = 30.0 if variant == "DATASET_2" else _DATASET_1_FPS
    return {
        "variant": variant,
        "n_subjects": _writer.integer(n_subjects, f"n_subjects ({variant} has {available})", 1, available),
        "duration_s": _writer.number(duration_s, "duration_s", 2.0, 600.0, "s"),
        "fps": default_fps if fps is None else _writer.number(fps, "fps", 5.0, 120.0, "Hz"),
        "frame_size": _writer.frame_size(frame_size),
        "hr_range_bpm": _writer.hr_range(hr_range_bpm),
        "pulse_amplitude": _writer.number(pulse_amplitude, "pulse_amplitude", 0.0, 0.2, "(relative change)"),
        "seed": _writer.integer(seed, "seed", 0, 2**63 - 1),
    }


def _dataset_2_times(rng: np.random.Generator, duration_s: float, fps: float) -> FloatArray:
    """Irregular frame times in seconds, on a millisecond grid: jittered spacings and rare gaps of about 1 s."""
    rate = fps * rng.uniform(*_TRUE_RATE_RANGE)
    n_frames = max(2, round(duration_s * rate))
    period_ms = 1000.0 / rate
    low, high = max(1, round(0.36 * period_ms)), round(1.21 * period_ms)  # 12 and 41 ms at 29.5 fps
    steps = np.clip(np.rint(rng.normal(period_ms, 0.12 * period_ms, n_frames - 1)), low, high).astype(np.int64)
    gaps = rng.random(n_frames - 1) < _GAPS_PER_S * period_ms / 1000.0
    steps[gaps] = rng.integers(970, 1031, int(gaps.sum()))
    first_ms = int(rng.integers(0, 1000))  # the first value is not necessarily 0 (datasets.md §2.1)
    stamps = first_ms + np.concatenate(([0], np.cumsum(steps)))
    return np.asarray(stamps / 1000.0, dtype=np.float64)


def _plan(params: dict[str, Any], *, stacklevel: int) -> list[_Subject]:
    seed, variant = params["seed"], params["variant"]
    key = (_UBFC, _VARIANTS.index(variant))
    size = (params["frame_size"][0], params["frame_size"][1])
    hr_range = (params["hr_range_bpm"][0], params["hr_range_bpm"][1])
    checker = _writer.face_checker(stacklevel)
    subjects: list[_Subject] = []
    for i in range(params["n_subjects"]):
        if variant == "DATASET_2":
            number = UBFC_RPPG_SUBJECTS[i]
            folder, video = f"subject{number}", "vid.avi"
            times = _dataset_2_times(_writer.rng(seed, *key, _CLOCK, number), params["duration_s"], params["fps"])
        else:
            number = i + 1
            folder = UBFC_RPPG_DATASET_1_FOLDERS[i]
            video = _DATASET_1_VIDEOS.get(folder, "vid.avi")
            times = np.arange(max(2, round(params["duration_s"] * params["fps"]))) / params["fps"]
        physiology = Physiology.sample(
            _writer.rng(seed, *key, _PHYSIOLOGY, number),
            hr_range_bpm=hr_range,
            after_exercise=folder == "after-exercise",
        )
        scene = Scene.sample(
            _writer.rng(seed, *key, _SCENE, number), "v1", "source1", pulse_amplitude=params["pulse_amplitude"]
        )
        appearance, attempts, detected = _writer.choose_appearance(
            lambda attempt: _writer.rng(seed, *key, _APPEARANCE, number, attempt),  # noqa: B023 (called at once)
            [(physiology, scene, float(times[0]))],
            size,
            checker,
            folder,
            stacklevel,
        )
        subjects.append(
            _Subject(f"{variant}/{folder}", video, appearance, attempts, detected, physiology, scene, times)
        )
    return subjects


def _matlab_row(values: npt.ArrayLike) -> str:
    """One row as MATLAB's ``save -ascii`` writes it: ``%16.7e`` per value (3 spaces before a positive one)."""
    return "".join(f"{float(x):16.7e}" for x in np.asarray(values, dtype=np.float64))


def _oximeter_hr_row(physiology: Physiology, times: FloatArray) -> FloatArray:
    """The oximeter's integer HR display, updated at 60 Hz, linearly interpolated at ``times``."""
    grid = np.arange(math.floor(times[0] * _OXIMETER_HZ), math.ceil(times[-1] * _OXIMETER_HZ) + 1) / _OXIMETER_HZ
    display = np.rint(physiology.oximeter_hr_bpm(grid))
    return np.asarray(np.interp(times, grid, display), dtype=np.float64)


def _write_dataset_2_truth(path: Path, subject: _Subject) -> dict[str, Any]:
    times = subject.frame_times
    ppg = _PPG_SCALE * subject.physiology.blood_volume(times)
    hr = _oximeter_hr_row(subject.physiology, times)
    rows = [_matlab_row(ppg), _matlab_row(hr), _matlab_row(times)]
    path.write_text("\n".join(rows) + "\n", encoding="ascii")
    return {"n_ppg": int(times.size), "mean_hr_bpm": float(hr.mean())}


def _gtdump_times_ms(t_last_s: float) -> npt.NDArray[np.int64]:
    """DATASET_1's oximeter sample times in ms: about 62 Hz from one period after the first frame past the last."""
    period_ms = 1000.0 / _GTDUMP_HZ
    n = math.ceil(t_last_s * 1000.0 / period_ms) + 1
    return np.asarray(np.rint(np.arange(1, n + 1) * period_ms), dtype=np.int64)


def _write_gtdump(path: Path, subject: _Subject) -> dict[str, Any]:
    ms = _gtdump_times_ms(float(subject.frame_times[-1]))
    t = ms / 1000.0
    hr = np.rint(subject.physiology.oximeter_hr_bpm(t)).astype(np.int64)
    spo2 = np.rint(subject.physiology.spo2(t)).astype(np.int64)
    ppg = np.clip(np.rint(_WAVE_CENTRE + _WAVE_SCALE * subject.physiology.blood_volume(t)), 0, 100).astype(np.int64)
    lines = [
        f"{a},{b},{c},{d}" for a, b, c, d in zip(ms.tolist(), hr.tolist(), spo2.tolist(), ppg.tolist(), strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return {"n_gtdump": int(ms.size), "mean_hr_bpm": float(hr.mean())}


def _write_subject(root: Path, subject: _Subject, params: dict[str, Any]) -> dict[str, Any]:
    from rppgblocks.data.video import write_video

    size = (params["frame_size"][0], params["frame_size"][1])
    rendered = render_session(
        subject.appearance, subject.physiology, subject.scene, subject.frame_times, frame_size=size
    )
    folder = root / subject.folder
    folder.mkdir(parents=True)
    write_video(
        folder / subject.video, rendered.frames, params["fps"], codec=params["codec"], quality=params["quality"]
    )
    if params["variant"] == "DATASET_2":
        labels = _write_dataset_2_truth(folder / "ground_truth.txt", subject)
    else:
        labels = _write_gtdump(folder / "gtdump.xmp", subject)
    times = subject.frame_times
    n_frames = int(times.size)
    return {
        "path": subject.folder,
        "video": subject.video,
        "labels": "ground_truth.txt" if params["variant"] == "DATASET_2" else "gtdump.xmp",
        "n_frames": n_frames,
        "container_fps": params["fps"],
        "true_fps": (n_frames - 1) / float(times[-1] - times[0]),
        "t_first_s": float(times[0]),
        "t_last_s": float(times[-1]),
        **labels,
        "appearance_attempts": subject.attempts,
        "face_detected": subject.detected,
        "face_box_first_frame": [round(float(x), 2) for x in rendered.face_boxes[0]],
        "appearance": subject.appearance.to_dict(),
        "physiology": subject.physiology.to_dict(),
        "scene": subject.scene.to_dict(),
    }


def _files_present(root: Path, manifest: dict[str, Any]) -> bool:
    subjects = manifest.get("subjects")
    if not isinstance(subjects, list):
        return False
    for subject in subjects:
        folder = root / str(subject.get("path", ""))
        if not all((folder / str(subject.get(name, ""))).is_file() for name in ("video", "labels")):
            return False
    return True


def generate_ubfc_rppg(
    root: str | os.PathLike[str],
    *,
    variant: str = "DATASET_2",
    n_subjects: int | None = None,
    duration_s: float = 60.0,
    fps: float | None = None,
    frame_size: tuple[int, int] = (640, 480),
    hr_range_bpm: tuple[float, float] = (55.0, 115.0),
    pulse_amplitude: float = 0.01,
    seed: int = 0,
    codec: str = "FFV1",
    quality: int = 95,
    overwrite: bool = False,
) -> Path:
    """Write a synthetic dataset in the on-disk layout of UBFC-rPPG (``datasets.md`` §2.1-§2.3).

    Subjects are drawn, rendered and written like those of :func:`~rppgblocks.data.synthetic.generate_vipl_hr`
    (a face checked with OpenCV's Haar cascade, a physiology, the recording conditions of a stable webcam session;
    ``after-exercise`` gets a post-exercise recovery); the layout and file formats are described in this module's
    docstring. The dataset is built in a hidden temporary sibling of ``root`` and renamed into place when complete;
    calling again with the same parameters returns at once (the manifest ``synthetic.json`` records them).

    Args:
        root: The dataset directory to create; it receives ``DATASET_2/`` or ``DATASET_1/`` and the manifest.
        variant: ``"DATASET_2"`` (the "realistic" benchmark) or ``"DATASET_1"`` (the "simple" one).
        n_subjects: Number of subjects, the first ones of :data:`UBFC_RPPG_SUBJECTS` (up to 42) or of
            :data:`UBFC_RPPG_DATASET_1_FOLDERS` (up to 9); ``None`` for all of them.
        duration_s: Nominal duration of each video in seconds (2-600); DATASET_2's gaps make some a little longer.
        fps: Frame rate written in the video containers, Hz (5-120); ``None`` for the real one: 30 for DATASET_2
            (whose true mean rate is 0.977-0.987 times it) and 28.671786 for DATASET_1 (the true rate).
        frame_size: ``(width, height)`` of the videos in pixels, at least (64, 48); the real videos are 640x480.
        hr_range_bpm: Range of the resting heart rate in bpm (40-180).
        pulse_amplitude: Relative peak-to-peak change of green skin pixels over a heart beat (0-0.2).
        seed: Seed of everything random (>= 0); the same seed gives identical files.
        codec: Video FourCC for :func:`~rppgblocks.data.video.write_video`: ``"FFV1"`` (default, lossless like
            the real uncompressed AVIs, which OpenCV cannot write) or ``"MJPG"``, ...
        quality: JPEG quality 1-100 for MJPG.
        overwrite: Replace an existing ``root`` that is not this exact dataset (**its contents are deleted**).

    Returns:
        ``root`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: If a parameter is out of range, or ``variant`` is unknown.
        FileExistsError: If ``root`` exists, is not empty and is not this dataset, and ``overwrite`` is false.
        OSError: If a file cannot be written.

    Examples:
        >>> import tempfile, os
        >>> root = os.path.join(tempfile.mkdtemp(), "ubfc")
        >>> root = generate_ubfc_rppg(root, n_subjects=2, duration_s=2.0, frame_size=(64, 48))
        >>> sorted(p.name for p in (root / "DATASET_2").iterdir())
        ['subject1', 'subject3']
        >>> rows = (root / "DATASET_2" / "subject3" / "ground_truth.txt").read_text().splitlines()
        >>> len(rows), rows[2][:16]
        (3, '   7.7100000e-01')
        >>> generate_ubfc_rppg(root, n_subjects=2, duration_s=2.0, frame_size=(64, 48)) == root  # cached
        True
    """
    params = _validate(variant, n_subjects, duration_s, fps, frame_size, hr_range_bpm, pulse_amplitude, seed)
    params["codec"], params["quality"] = _writer.codec_and_quality(codec, quality, overwrite)

    def write(tmp: Path) -> dict[str, Any]:
        subjects = _plan(params, stacklevel=5)  # counted from the warning's caller: ... build_dataset, us
        records = [_write_subject(tmp, subject, params) for subject in subjects]
        return {
            "generator": "rppgblocks.data.synthetic.generate_ubfc_rppg",
            "generator_version": GENERATOR_VERSION,
            **_writer.versions(),
            "layout": f"UBFC-rPPG {params['variant']} (datasets.md sections 2.1-2.3)",
            "parameters": params,
            "ppg": "DATASET_2: 2 * blood volume at the frame times; DATASET_1: 50 + 45 * blood volume, integers",
            "pulse_polarity": "skin darkens as blood volume (the PPG) rises",
            "subjects": records,
        }

    return _writer.build_dataset(root, params, overwrite, _files_present, write)
