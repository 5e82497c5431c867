"""Write a synthetic dataset in exactly the on-disk layout of PURE (``datasets.md`` §3.1-§3.2, §3.5).

``root`` plays the part of the real ``PURE/`` folder::

    root/
      01-01/                   subject 01-10, task 01-06 (steady, talking, slow and fast translation, small and
        01-01.json             medium rotation)
        01-01/Image1392643993642815000.png ...   lossless frames named by their unix-ns capture time (19 digits)
      synthetic.json           the manifest: generator version, parameters, per-session summaries

The JSON holds the two streams of the real files, timestamps in unix nanoseconds (on a microsecond grid)::

    {"/FullPackage": [{"Timestamp": ..., "Value": {"barGraph": 6, "beep": false, "droppingo2Sat": false,
                                                   "o2saturation": 97, "probeError": false, "pulseRate": 83,
                                                   "searching": false, "searchingToLong": false,
                                                   "signalStrength": 5, "waveform": 48}, "FrameID": ""}, ...],
     "/Image": [{"Timestamp": ..., "Value": {}, "FrameID": "/CameraFrame"}, ...]}

The camera runs at 30 Hz and the pulse oximeter at 60 Hz, each with its own clock jitter; the oximeter starts a few
ms after the first frame and ends a few ms after the last, and no oximeter timestamp equals an image timestamp.
``waveform`` is ``50 + 45`` times :meth:`~rppgblocks.data.synthetic.Physiology.blood_volume` (integers, about
0-100), ``pulseRate`` and ``o2saturation`` the rounded oximeter HR and SpO2, ``barGraph`` the pulse intensity bar
(``waveform // 8``). Physiology time 0 is the first frame.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from rppgblocks.data.synthetic import _writer
from rppgblocks.data.synthetic._writer import GENERATOR_VERSION
from rppgblocks.data.synthetic.appearance import Appearance
from rppgblocks.data.synthetic.physiology import Physiology
from rppgblocks.data.synthetic.render import render_session
from rppgblocks.data.synthetic.scene import Scene
from rppgblocks.data.video import _cv2

__all__ = ["PURE_CAMERA_HZ", "PURE_OXIMETER_HZ", "PURE_TASKS", "generate_pure"]

#: The six PURE tasks by number (``datasets.md`` §3.1).
PURE_TASKS: MappingProxyType[int, str] = MappingProxyType(
    {
        1: "steady",
        2: "talking",
        3: "slow translation",
        4: "fast translation",
        5: "small rotation",
        6: "medium rotation",
    }
)
#: Nominal frame rate of the PURE camera, Hz.
PURE_CAMERA_HZ = 30.0
#: Nominal sampling rate of the PURE pulse oximeter (``/FullPackage``), Hz.
PURE_OXIMETER_HZ = 60.0

_EPOCH_NS = 1_392_643_000_000_000_000  # February 2014, when PURE was recorded (19-digit unix ns)
_SESSION_SPACING_NS = 600_000_000_000  # 10 min between the starts of consecutive sessions
_CAMERA_JITTER_US, _OXIMETER_JITTER_US = 400.0, 800.0  # clock jitter (standard deviations)
_WAVE_CENTRE, _WAVE_SCALE = 50.0, 45.0
# Per task: the VIPL-HR-like scenario of the scene, then the head motion (shift in face half-heights, roll in
# degrees, upper frequency in Hz) that replaces the scenario's, or None to keep it. Translation speeds follow the
# PURE paper (about 7 % of the face height per second, twice that for task 4); the rotations (20 and 35 degrees) are
# rendered in the image plane (roll).
_TASK_SCENES: dict[int, tuple[str, tuple[float, float, float] | None]] = {
    1: ("v1", None),
    2: ("v3", None),
    3: ("v1", (0.1, 0.3, 0.3)),
    4: ("v1", (0.2, 0.3, 0.3)),
    5: ("v1", (0.012, 7.0, 0.3)),
    6: ("v1", (0.012, 12.0, 0.3)),
}
_PURE = 12  # first key of every SeedSequence stream: no stream is shared with another dataset
_APPEARANCE, _PHYSIOLOGY, _SCENE, _CLOCK = 1, 2, 3, 4

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class _Session:
    name: str  # "SS-TT"
    subject: int
    task: int
    appearance: Appearance
    physiology: Physiology
    scene: Scene
    image_ns: IntArray
    oximeter_ns: IntArray


def _tasks(value: Any) -> tuple[int, ...]:
    items = (value,) if isinstance(value, (int, np.integer)) else value
    try:
        items = tuple(items)
    except TypeError:
        raise ValueError(f"tasks: expected a sequence of task numbers 1-6, got {value!r}") from None
    if not items:
        raise ValueError(f"tasks: expected at least one task number 1-6, got {value!r}")
    checked = tuple(_writer.integer(item, "tasks", 1, 6) for item in items)
    if len(set(checked)) != len(checked):
        raise ValueError(f"tasks: expected distinct task numbers, got {value!r}")
    return checked


def _stamps(rng: np.random.Generator, start_ns: int, n: int, rate_hz: float, jitter_us: float) -> IntArray:
    """``n`` strictly increasing unix-ns stamps on a microsecond grid, ``1 / rate_hz`` apart with clock jitter."""
    period_us = 1e6 / rate_hz
    jitter = np.clip(rng.normal(0.0, jitter_us, n), -0.25 * period_us, 0.25 * period_us)
    jitter[0] = 0.0
    us = np.rint(np.arange(n) * period_us + jitter).astype(np.int64)
    index = np.arange(n, dtype=np.int64)
    us = np.maximum.accumulate(us - index) + index
    return np.asarray(start_ns + 1000 * us, dtype=np.int64)


def _clocks(rng: np.random.Generator, subject: int, task: int, duration_s: float) -> tuple[IntArray, IntArray]:
    slot = (subject - 1) * len(PURE_TASKS) + task - 1
    start_ns = _EPOCH_NS + slot * _SESSION_SPACING_NS + 1000 * int(rng.integers(0, 60_000_000))
    n_frames = max(2, round(duration_s * PURE_CAMERA_HZ))
    images = _stamps(rng, start_ns, n_frames, PURE_CAMERA_HZ, _CAMERA_JITTER_US)
    first = int(images[0]) + 1000 * int(rng.integers(500, 16_000))  # a few ms after the first frame
    last = int(images[-1]) + 1000 * int(rng.integers(500, 16_000))  # ... and after the last
    n_oximeter = round((last - first) * 1e-9 * PURE_OXIMETER_HZ) + 1
    oximeter = _stamps(rng, first, n_oximeter, PURE_OXIMETER_HZ, _OXIMETER_JITTER_US)
    while np.isin(oximeter, images).any():  # the streams never share a timestamp (datasets.md §3.2)
        oximeter[np.isin(oximeter, images)] += 1000
    return images, oximeter


def _validate(
    n_subjects: Any,
    tasks: Any,
    duration_s: Any,
    frame_size: Any,
    hr_range_bpm: Any,
    pulse_amplitude: Any,
    seed: Any,
) -> dict[str, Any]:
    return {
        "n_subjects": _writer.integer(n_subjects, "n_subjects (PURE has 10)", 1, 10),
        "tasks": list(_tasks(tasks)),
        "duration_s": _writer.number(duration_s, "duration_s", 2.0, 600.0, "s"),
        "frame_size": _writer.frame_size(frame_size),
        "hr_range_bpm": _writer.hr_range(hr_range_bpm),
        "pulse_amplitude": _writer.number(pulse_amplitude, "pulse_amplitude", 0.0, 0.2, "(relative change)"),
        "seed": _writer.integer(seed, "seed", 0, 2**63 - 1),
    }


def _scene(rng: np.random.Generator, task: int, pulse_amplitude: float) -> Scene:
    scenario, motion = _TASK_SCENES[task]
    scene = Scene.sample(rng, scenario, "source1", pulse_amplitude=pulse_amplitude)
    if motion is None:
        return scene
    shift, roll, hz = motion
    return dataclasses.replace(scene, motion_shift=shift, motion_roll_deg=roll, motion_hz=hz)


def _plan(params: dict[str, Any], stacklevel: int) -> tuple[list[_Session], dict[str, dict[str, Any]]]:
    seed = params["seed"]
    size = (params["frame_size"][0], params["frame_size"][1])
    hr_range = (params["hr_range_bpm"][0], params["hr_range_bpm"][1])
    checker = _writer.face_checker(stacklevel)
    sessions: list[_Session] = []
    subjects: dict[str, dict[str, Any]] = {}
    for subject in range(1, params["n_subjects"] + 1):
        drawn = []
        for task in params["tasks"]:
            physiology = Physiology.sample(_writer.rng(seed, _PURE, _PHYSIOLOGY, subject, task), hr_range_bpm=hr_range)
            scene = _scene(_writer.rng(seed, _PURE, _SCENE, subject, task), task, params["pulse_amplitude"])
            images, oximeter = _clocks(
                _writer.rng(seed, _PURE, _CLOCK, subject, task), subject, task, params["duration_s"]
            )
            drawn.append((task, physiology, scene, images, oximeter))
        appearance, attempts, detected = _writer.choose_appearance(
            lambda attempt: _writer.rng(seed, _PURE, _APPEARANCE, subject, attempt),  # noqa: B023 (called at once)
            [(physiology, scene, 0.0) for _, physiology, scene, _, _ in drawn],
            size,
            checker,
            f"subject {subject:02d}",
            stacklevel,
        )
        subjects[f"{subject:02d}"] = {
            "appearance_attempts": attempts,
            "face_detected": detected,
            "appearance": appearance.to_dict(),
        }
        for task, physiology, scene, images, oximeter in drawn:
            name = f"{subject:02d}-{task:02d}"
            sessions.append(_Session(name, subject, task, appearance, physiology, scene, images, oximeter))
    return sessions, subjects


def _json_text(session: _Session, signal_strength: int) -> tuple[str, dict[str, Any]]:
    origin = int(session.image_ns[0])
    t = (session.oximeter_ns - origin) / 1e9
    waveform = np.clip(np.rint(_WAVE_CENTRE + _WAVE_SCALE * session.physiology.blood_volume(t)), 0, 100)
    pulse_rate = np.rint(session.physiology.oximeter_hr_bpm(t))
    spo2 = np.rint(session.physiology.spo2(t))
    packages = [
        {
            "Timestamp": stamp,
            "Value": {
                "barGraph": wave // 8,
                "beep": False,
                "droppingo2Sat": False,
                "o2saturation": o2,
                "probeError": False,
                "pulseRate": rate,
                "searching": False,
                "searchingToLong": False,
                "signalStrength": signal_strength,
                "waveform": wave,
            },
            "FrameID": "",
        }
        for stamp, wave, rate, o2 in zip(
            session.oximeter_ns.tolist(),
            waveform.astype(np.int64).tolist(),
            pulse_rate.astype(np.int64).tolist(),
            spo2.astype(np.int64).tolist(),
            strict=True,
        )
    ]
    images = [{"Timestamp": stamp, "Value": {}, "FrameID": "/CameraFrame"} for stamp in session.image_ns.tolist()]
    summary = {"mean_hr_bpm": float(pulse_rate.mean()), "mean_spo2": float(spo2.mean())}
    return json.dumps({"/FullPackage": packages, "/Image": images}), summary


def _write_session(root: Path, session: _Session, size: tuple[int, int]) -> dict[str, Any]:
    cv2 = _cv2()
    origin = int(session.image_ns[0])
    times = (session.image_ns - origin) / 1e9
    rendered = render_session(session.appearance, session.physiology, session.scene, times, frame_size=size)
    frames_dir = root / session.name / session.name
    frames_dir.mkdir(parents=True)
    for stamp, frame in zip(session.image_ns.tolist(), rendered.frames, strict=True):
        path = frames_dir / f"Image{stamp}.png"
        if not cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)):
            raise OSError(f"{path}: OpenCV cannot write the PNG")
    signal_strength = 4 + session.scene.seed % 3  # 4-6, fixed per session
    text, summary = _json_text(session, signal_strength)
    (root / session.name / f"{session.name}.json").write_text(text, encoding="ascii")
    span_s = (int(session.image_ns[-1]) - origin) / 1e9
    oximeter_span_s = (int(session.oximeter_ns[-1]) - int(session.oximeter_ns[0])) / 1e9
    return {
        "path": session.name,
        "subject": session.subject,
        "task": session.task,
        "task_name": PURE_TASKS[session.task],
        "n_frames": int(session.image_ns.size),
        "n_oximeter": int(session.oximeter_ns.size),
        "first_image_ns": origin,
        "camera_rate_hz": (session.image_ns.size - 1) / span_s,
        "oximeter_rate_hz": (session.oximeter_ns.size - 1) / oximeter_span_s,
        **summary,
        "face_box_first_frame": [round(float(x), 2) for x in rendered.face_boxes[0]],
        "physiology": session.physiology.to_dict(),
        "scene": session.scene.to_dict(),
    }


def _files_present(root: Path, manifest: dict[str, Any]) -> bool:
    sessions = manifest.get("sessions")
    if not isinstance(sessions, list):
        return False
    for session in sessions:
        name = str(session.get("path", ""))
        if not name or not (root / name / f"{name}.json").is_file():
            return False
        if sum(1 for _ in (root / name / name).glob("Image*.png")) != session.get("n_frames"):
            return False
    return True


def generate_pure(
    root: str | os.PathLike[str],
    *,
    n_subjects: int = 10,
    tasks: Sequence[int] = (1, 2, 3, 4, 5, 6),
    duration_s: float = 60.0,
    frame_size: tuple[int, int] = (640, 480),
    hr_range_bpm: tuple[float, float] = (55.0, 115.0),
    pulse_amplitude: float = 0.01,
    seed: int = 0,
    overwrite: bool = False,
) -> Path:
    """Write a synthetic dataset in the on-disk layout of PURE (``datasets.md`` §3.1-§3.2).

    Subjects are drawn and rendered like those of :func:`~rppgblocks.data.synthetic.generate_vipl_hr` (one face per
    subject, checked with OpenCV's Haar cascade; one physiology and one set of recording conditions per session,
    with the head motion of the task); the layout and file formats are described in this module's docstring. The
    dataset is built in a hidden temporary sibling of ``root`` and renamed into place when complete; calling again
    with the same parameters returns at once (the manifest ``synthetic.json`` records them).

    Args:
        root: The dataset directory to create (the real ``PURE/`` folder).
        n_subjects: Number of subjects ``01`` ... (1-10).
        tasks: Task numbers among 1-6 (:data:`PURE_TASKS`).
        duration_s: Duration of each session in seconds (2-600): ``round(30 * duration_s)`` frames.
        frame_size: ``(width, height)`` of the frames in pixels, at least (64, 48); the real frames are 640x480.
        hr_range_bpm: Range of the resting heart rate in bpm (40-180).
        pulse_amplitude: Relative peak-to-peak change of green skin pixels over a heart beat (0-0.2).
        seed: Seed of everything random (>= 0); the same seed gives identical files.
        overwrite: Replace an existing ``root`` that is not this exact dataset (**its contents are deleted**).

    Returns:
        ``root`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: If a parameter is out of range or a task number is unknown.
        FileExistsError: If ``root`` exists, is not empty and is not this dataset, and ``overwrite`` is false.
        OSError: If a file cannot be written.

    Examples:
        >>> import json, tempfile, os
        >>> root = os.path.join(tempfile.mkdtemp(), "PURE")
        >>> root = generate_pure(root, n_subjects=1, tasks=(1, 2), duration_s=2.0, frame_size=(64, 48))
        >>> sorted(p.name for p in root.iterdir())
        ['01-01', '01-02', 'synthetic.json']
        >>> labels = json.loads((root / "01-02" / "01-02.json").read_text())
        >>> len(labels["/Image"]), len(labels["/FullPackage"]), sorted(labels["/FullPackage"][0]["Value"])[:3]
        (60, 119, ['barGraph', 'beep', 'droppingo2Sat'])
        >>> len(list((root / "01-02" / "01-02").glob("Image*.png")))
        60
    """
    params = _validate(n_subjects, tasks, duration_s, frame_size, hr_range_bpm, pulse_amplitude, seed)
    if not isinstance(overwrite, bool):
        raise ValueError(f"overwrite: expected True or False, got {overwrite!r}")

    def write(tmp: Path) -> dict[str, Any]:
        sessions, subjects = _plan(params, stacklevel=5)  # counted from the warning: ..., build_dataset, us
        size = (params["frame_size"][0], params["frame_size"][1])
        records = [_write_session(tmp, session, size) for session in sessions]
        return {
            "generator": "rppgblocks.data.synthetic.generate_pure",
            "generator_version": GENERATOR_VERSION,
            **_writer.versions(),
            "layout": "PURE (datasets.md sections 3.1-3.2)",
            "parameters": params,
            "camera_hz": PURE_CAMERA_HZ,
            "oximeter_hz": PURE_OXIMETER_HZ,
            "physiology_time_zero": "the first frame's timestamp",
            "pulse_polarity": "skin darkens as blood volume (the waveform) rises",
            "subjects": subjects,
            "sessions": records,
        }

    return _writer.build_dataset(root, params, overwrite, _files_present, write)
