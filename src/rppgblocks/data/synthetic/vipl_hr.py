"""Write a synthetic dataset in exactly the on-disk layout of VIPL-HR (``datasets.md`` §1.1, §1.2 and §1.5).

Everything in rppgblocks that reads VIPL-HR (loaders, face crops, training and evaluation scripts) can then run
without the licensed data::

    root/
      data/p{id}/v{k}/source{s}/
        video.avi      face video; the container says 25 fps whatever the true rate, as in the real data
        time.txt       one integer timestamp in ms per frame (absent for source2, whose rate is exactly 30 fps)
        wave.csv       "Wave", then one integer per line: the oximeter pleth at 60 Hz
        gt_HR.csv      "HR", then one integer bpm per elapsed second
        gt_SpO2.csv    "SpO2", then one integer % per elapsed second
      fold/fold1.mat ... fold5.mat   variable fold{i}: a 1xN array of subject ids (a 5-fold partition)
      synthetic.json   the manifest: generator version, parameters, per-subject and per-session summaries

The time contract (``datasets.md`` §1.3): with ``t_first`` and ``t_last`` the first and last frame times (from
time.txt, or ``i / 30`` s for source2) and a ground-truth series of ``N`` samples, sample ``i`` is at
``t_first + i (t_last - t_first) / (N - 1)``; wave.csv has ``round((t_last - t_first) * 60) + 1`` samples and
gt_HR.csv and gt_SpO2.csv ``floor(t_last - t_first) + 1`` rows.

As in the real data, sources 1, 3 and 4 of a scenario are one take filmed simultaneously (one clock, identical
ground-truth files) while source2 is a separate take with its own physiology; v8 and v9 exist only for source2.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rppgblocks.data.synthetic import _writer
from rppgblocks.data.synthetic._writer import GENERATOR_VERSION, MANIFEST_NAME
from rppgblocks.data.synthetic.appearance import Appearance
from rppgblocks.data.synthetic.physiology import Physiology, ground_truth
from rppgblocks.data.synthetic.render import render_session
from rppgblocks.data.synthetic.scene import SCENARIOS, SOURCES, Scene

__all__ = [
    "CONTAINER_FPS",
    "GENERATOR_VERSION",
    "MANIFEST_NAME",
    "SOURCE2_FPS",
    "SessionPlan",
    "SubjectPlan",
    "VIPLHRPlan",
    "generate_vipl_hr",
    "plan_vipl_hr",
]

#: Frame rate stored in every video container, Hz (all real VIPL-HR AVIs say 25, ``datasets.md`` §1.2).
CONTAINER_FPS = 25.0
#: True frame rate of source2 (no time.txt; loaders assume 30 Hz, ``datasets.md`` §1.2).
SOURCE2_FPS = 30.0

_WAVE_CENTRE, _WAVE_SCALE = 50.0, 45.0  # CONTEC-like pleth scale (integers of about 0-100)
_N_FOLDS = 5
# Stream ids of the SeedSequence spawn keys: each random choice has its own stream, so adding a subject, scenario
# or source never changes the others.
_APPEARANCE, _PHYSIOLOGY, _SCENE, _CLOCK, _FOLDS = 1, 2, 3, 4, 5

_rng = _writer.rng

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class SessionPlan:
    """Everything that defines one synthetic video (one ``p{id}/v{k}/source{s}`` folder).

    Attributes:
        subject_id: The subject number (folder ``p{subject_id}``).
        scenario: ``"v1"`` ... ``"v9"``.
        source: ``"source1"`` ... ``"source4"``.
        take: 0 for the simultaneous take of sources 1, 3 and 4; 1 for the separate source2 take.
        appearance: The subject's appearance.
        physiology: The take's physiology.
        scene: The session's recording conditions.
        frame_times: ``(T,)`` true capture times of the frames in seconds (exactly time.txt / 1000 when present).
        timestamps_ms: ``(T,)`` integer time.txt content in ms, or ``None`` for source2 (no time.txt).

    Examples:
        >>> session = plan_vipl_hr(n_subjects=5, sources=("source2",), duration_s=2.0, check_faces=False).sessions[0]
        >>> session.relpath, session.frame_times.size, session.timestamps_ms is None
        ('data/p1/v1/source2', 60, True)
    """

    subject_id: int
    scenario: str
    source: str
    take: int
    appearance: Appearance
    physiology: Physiology
    scene: Scene
    frame_times: FloatArray
    timestamps_ms: IntArray | None

    @property
    def relpath(self) -> str:
        """The session folder relative to the dataset root, e.g. ``"data/p1/v1/source1"``.

        Examples:
            >>> plan_vipl_hr(n_subjects=5, duration_s=2.0, check_faces=False).sessions[-1].relpath
            'data/p5/v1/source1'
        """
        return f"data/p{self.subject_id}/{self.scenario}/{self.source}"


@dataclass(frozen=True)
class SubjectPlan:
    """One subject and how its appearance was chosen.

    Attributes:
        subject_id: The subject number.
        appearance: The appearance used for all its sessions.
        attempts: How many appearances were drawn until OpenCV's Haar cascade found the face on the first frame of
            every session (1 = the first draw; the manifest records it).
        detected: Whether the face was found on every session's first frame (``None`` if detection was skipped).

    Examples:
        >>> subject = plan_vipl_hr(n_subjects=5, duration_s=2.0).subjects[0]
        >>> subject.subject_id, subject.attempts >= 1, subject.detected
        (1, True, True)
    """

    subject_id: int
    appearance: Appearance
    attempts: int
    detected: bool | None


@dataclass(frozen=True, eq=False)
class VIPLHRPlan:
    """The full description of a synthetic VIPL-HR dataset, before anything is written.

    Attributes:
        subjects: One :class:`SubjectPlan` per subject, ``p1`` first.
        sessions: One :class:`SessionPlan` per video, in writing order.
        folds: Five tuples of subject ids partitioning the subjects (``fold1`` ... ``fold5``).

    Examples:
        >>> plan = plan_vipl_hr(n_subjects=7, scenarios=("v1", "v2"), duration_s=2.0, check_faces=False)
        >>> len(plan.subjects), len(plan.sessions), sorted(len(fold) for fold in plan.folds)
        (7, 14, [1, 1, 1, 2, 2])
    """

    subjects: tuple[SubjectPlan, ...]
    sessions: tuple[SessionPlan, ...]
    folds: tuple[tuple[int, ...], ...]


def _validate(
    n_subjects: Any,
    scenarios: Any,
    sources: Any,
    duration_s: Any,
    fps: Any,
    frame_size: Any,
    hr_range_bpm: Any,
    pulse_amplitude: Any,
    seed: Any,
) -> dict[str, Any]:
    """Check every generation parameter; return them normalised (the manifest's ``parameters``)."""
    scenario_names = _writer.names(scenarios, "scenarios", tuple(SCENARIOS))
    source_names = _writer.names(sources, "sources", tuple(SOURCES))
    phone_only = [s for s in scenario_names if s in ("v8", "v9")]
    if phone_only and "source2" not in source_names:
        raise ValueError(
            f"scenarios: {', '.join(phone_only)} (hand-held phone) exist only for source2 in VIPL-HR; "
            f"add 'source2' to sources, got sources={source_names!r}"
        )
    size = _writer.frame_size(frame_size)
    hr_range = _writer.hr_range(hr_range_bpm)
    return {
        "n_subjects": _writer.integer(n_subjects, "n_subjects", 1, 999),
        "scenarios": list(scenario_names),
        "sources": list(source_names),
        "duration_s": _writer.number(duration_s, "duration_s", 2.0, 600.0, "s"),
        "fps": _writer.number(fps, "fps", 5.0, 120.0, "Hz"),
        "frame_size": size,
        "hr_range_bpm": hr_range,
        "pulse_amplitude": _writer.number(pulse_amplitude, "pulse_amplitude", 0.0, 0.2, "(relative change)"),
        "seed": _writer.integer(seed, "seed", 0, 2**63 - 1),
    }


def _timestamps_ms(rng: np.random.Generator, duration_s: float, fps: float) -> IntArray:
    """Integer millisecond capture times with a little jitter, starting at 0, strictly increasing."""
    n_frames = max(2, round(duration_s * fps))
    period_ms = 1000.0 / fps
    jitter = np.clip(rng.normal(0.0, min(1.5, 0.1 * period_ms), n_frames), -0.25 * period_ms, 0.25 * period_ms)
    times = np.arange(n_frames) * period_ms + jitter
    times[0] = 0.0
    stamps = np.rint(times).astype(np.int64)
    index = np.arange(n_frames, dtype=np.int64)
    return np.asarray(np.maximum.accumulate(stamps - index) + index, dtype=np.int64)  # strictly increasing


def plan_vipl_hr(
    *,
    n_subjects: int = 12,
    scenarios: Sequence[str] = ("v1",),
    sources: Sequence[str] = ("source1",),
    duration_s: float = 20.0,
    fps: float = 30.0,
    frame_size: tuple[int, int] = (160, 120),
    hr_range_bpm: tuple[float, float] = (55.0, 115.0),
    pulse_amplitude: float = 0.01,
    seed: int = 0,
    check_faces: bool = True,
) -> VIPLHRPlan:
    """Draw every subject, take and session of a synthetic VIPL-HR dataset without writing anything.

    :func:`generate_vipl_hr` renders and writes exactly this plan, so a plan can re-render any video (or just its
    first frames) of a written dataset. With ``check_faces``, each subject's first frame of every session is
    rendered and searched with OpenCV's Haar cascade; a subject whose face is not found exactly once (IoU > 0.5
    with the rendered face box) gets a new appearance, up to 6 draws (``SubjectPlan.attempts``). If OpenCV has
    no Haar cascade files, detection is skipped with a warning.

    Args:
        n_subjects: Number of subjects, ``p1`` ... ``p{n}`` (1-999).
        scenarios: Scenario names among ``v1`` ... ``v9`` (:data:`~rppgblocks.data.synthetic.SCENARIOS`); v8 and
            v9 need ``source2`` among ``sources`` and are only recorded by it.
        sources: Camera names among ``source1`` ... ``source4`` (:data:`~rppgblocks.data.synthetic.SOURCES`).
        duration_s: Nominal duration of each video in seconds (2-600).
        fps: True frame rate in Hz of the time-stamped cameras (source1, 3, 4); source2 is always 30 Hz.
        frame_size: ``(width, height)`` of the videos in pixels, at least (64, 48).
        hr_range_bpm: Range of the resting heart rate in bpm, within 40-180 (v7 adds a post-exercise excess).
        pulse_amplitude: Relative peak-to-peak change of green skin pixels over a heart beat (0-0.2).
        seed: Seed of everything random (>= 0).
        check_faces: Check Haar detectability and redraw undetectable subjects.

    Returns:
        A :class:`VIPLHRPlan`.

    Raises:
        ValueError: If a parameter is out of range or a name is unknown, or v8/v9 is asked without source2.

    Examples:
        >>> plan = plan_vipl_hr(n_subjects=5, duration_s=2.0, check_faces=False)
        >>> [s.relpath for s in plan.sessions][:2]
        ['data/p1/v1/source1', 'data/p2/v1/source1']
        >>> len(plan.folds), sorted(sum(plan.folds, ()))
        (5, [1, 2, 3, 4, 5])
    """
    params = _validate(n_subjects, scenarios, sources, duration_s, fps, frame_size, hr_range_bpm, pulse_amplitude, seed)
    return _plan(params, check_faces=check_faces)


def _plan(params: dict[str, Any], *, check_faces: bool, stacklevel: int = 3) -> VIPLHRPlan:
    seed = params["seed"]
    width, height = params["frame_size"]
    hr_range = (params["hr_range_bpm"][0], params["hr_range_bpm"][1])
    checker = _writer.face_checker(stacklevel) if check_faces else None
    subjects: list[SubjectPlan] = []
    sessions: list[SessionPlan] = []
    for subject_id in range(1, params["n_subjects"] + 1):
        layout: list[tuple[str, str, int]] = []
        for scenario in params["scenarios"]:
            for source in params["sources"]:
                if scenario in ("v8", "v9") and source != "source2":
                    continue  # the phone scenarios exist only for the phone, as in the real data
                layout.append((scenario, source, 1 if source == "source2" else 0))
        takes: dict[tuple[str, int], tuple[Physiology, FloatArray, IntArray | None]] = {}
        for scenario, _, take in layout:
            if (scenario, take) in takes:
                continue
            v = int(scenario[1:])
            physiology = Physiology.sample(
                _rng(seed, _PHYSIOLOGY, subject_id, v, take), hr_range_bpm=hr_range, after_exercise=scenario == "v7"
            )
            if take == 1:
                n_frames = max(2, round(params["duration_s"] * SOURCE2_FPS))
                takes[(scenario, take)] = (physiology, np.arange(n_frames) / SOURCE2_FPS, None)
            else:
                stamps = _timestamps_ms(_rng(seed, _CLOCK, subject_id, v), params["duration_s"], params["fps"])
                takes[(scenario, take)] = (physiology, stamps / 1000.0, stamps)
        scenes = {
            (scenario, source): Scene.sample(
                _rng(seed, _SCENE, subject_id, int(scenario[1:]), int(source[-1])),
                scenario,
                source,
                pulse_amplitude=params["pulse_amplitude"],
            )
            for scenario, source, _ in layout
        }
        appearance, attempts, detected = _writer.choose_appearance(
            lambda attempt: _rng(seed, _APPEARANCE, subject_id, attempt),  # noqa: B023 (called at once)
            [(takes[(sc, tk)][0], scenes[(sc, src)], float(takes[(sc, tk)][1][0])) for sc, src, tk in layout],
            (width, height),
            checker,
            f"p{subject_id}",
            stacklevel,
        )
        subjects.append(SubjectPlan(subject_id, appearance, attempts, detected))
        for scenario, source, take in layout:
            physiology, times, time_ms = takes[(scenario, take)]
            sessions.append(
                SessionPlan(
                    subject_id=subject_id,
                    scenario=scenario,
                    source=source,
                    take=take,
                    appearance=appearance,
                    physiology=physiology,
                    scene=scenes[(scenario, source)],
                    frame_times=times,
                    timestamps_ms=time_ms,
                )
            )
    order = _rng(seed, _FOLDS).permutation(np.arange(1, params["n_subjects"] + 1))
    folds = tuple(tuple(sorted(int(i) for i in part)) for part in np.array_split(order, _N_FOLDS))
    sessions.sort(key=lambda s: (int(s.scenario[1:]), s.source, s.subject_id))
    return VIPLHRPlan(subjects=tuple(subjects), sessions=tuple(sessions), folds=folds)


def _write_column(path: Path, header: str | None, values: npt.NDArray[np.int64]) -> None:
    lines = ([header] if header is not None else []) + [str(int(x)) for x in values]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def _write_session(
    folder: Path, plan: SessionPlan, frame_size: tuple[int, int], codec: str, quality: int
) -> dict[str, Any]:
    from rppgblocks.data.video import write_video

    rendered = render_session(plan.appearance, plan.physiology, plan.scene, plan.frame_times, frame_size=frame_size)
    folder.mkdir(parents=True)
    write_video(folder / "video.avi", rendered.frames, CONTAINER_FPS, codec=codec, quality=quality)
    t_first, t_last = float(plan.frame_times[0]), float(plan.frame_times[-1])
    truth = ground_truth(plan.physiology, t_first, t_last)
    wave = np.clip(np.rint(_WAVE_CENTRE + _WAVE_SCALE * truth.bvp), 0, 100).astype(np.int64)
    hr = np.rint(truth.hr_bpm).astype(np.int64)
    spo2 = np.rint(truth.spo2).astype(np.int64)
    _write_column(folder / "wave.csv", "Wave", wave)
    _write_column(folder / "gt_HR.csv", "HR", hr)
    _write_column(folder / "gt_SpO2.csv", "SpO2", spo2)
    if plan.timestamps_ms is not None:
        _write_column(folder / "time.txt", None, plan.timestamps_ms)
    n_frames = int(plan.frame_times.size)
    return {
        "path": plan.relpath,
        "subject": plan.subject_id,
        "scenario": plan.scenario,
        "source": plan.source,
        "take": plan.take,
        "n_frames": n_frames,
        "true_fps": (n_frames - 1) / (t_last - t_first),
        "t_first_s": t_first,
        "t_last_s": t_last,
        "time_txt": plan.timestamps_ms is not None,
        "n_wave": int(wave.size),
        "n_hr": int(hr.size),
        "mean_hr_bpm": float(truth.hr_bpm.mean()),
        "mean_spo2": float(truth.spo2.mean()),
        "resp_rate_hz": plan.physiology.resp_rate_hz,
        "face_box_first_frame": [round(float(x), 2) for x in rendered.face_boxes[0]],
        "physiology": plan.physiology.to_dict(),
        "scene": plan.scene.to_dict(),
    }


def _write_folds(folder: Path, folds: tuple[tuple[int, ...], ...]) -> None:
    import io

    import scipy.io

    folder.mkdir(parents=True)
    for i, ids in enumerate(folds, start=1):
        # MATLAB's default numeric class is double; an empty fold is a 1x0 array.
        buffer = io.BytesIO()
        scipy.io.savemat(buffer, {f"fold{i}": np.asarray(ids, dtype=np.float64).reshape(1, -1)})
        content = bytearray(buffer.getvalue())
        # The 116-byte descriptive text of a MAT 5 header holds the creation time; make the file reproducible.
        content[:116] = b"MATLAB 5.0 MAT-file, written by rppgblocks.data.synthetic".ljust(116, b" ")
        (folder / f"fold{i}.mat").write_bytes(bytes(content))


def _files_present(root: Path, manifest: dict[str, Any]) -> bool:
    sessions = manifest.get("sessions")
    if not isinstance(sessions, list):
        return False
    needed = ["video.avi", "wave.csv", "gt_HR.csv", "gt_SpO2.csv"]
    for session in sessions:
        folder = root / str(session.get("path", ""))
        files = [*needed, "time.txt"] if session.get("time_txt") else needed
        if not all((folder / name).is_file() for name in files):
            return False
    return all((root / "fold" / f"fold{i}.mat").is_file() for i in range(1, _N_FOLDS + 1))


def generate_vipl_hr(
    root: str | os.PathLike[str],
    *,
    n_subjects: int = 12,
    scenarios: Sequence[str] = ("v1",),
    sources: Sequence[str] = ("source1",),
    duration_s: float = 20.0,
    fps: float = 30.0,
    frame_size: tuple[int, int] = (160, 120),
    hr_range_bpm: tuple[float, float] = (55.0, 115.0),
    pulse_amplitude: float = 0.01,
    seed: int = 0,
    codec: str = "MJPG",
    quality: int = 95,
    overwrite: bool = False,
) -> Path:
    """Write a synthetic dataset in the on-disk layout of VIPL-HR (``datasets.md`` §1.1-§1.2, §1.5).

    Each subject has a fixed random face (:class:`~rppgblocks.data.synthetic.Appearance`), each take its own
    physiology (:class:`~rppgblocks.data.synthetic.Physiology`), each video its own recording conditions
    (:class:`~rppgblocks.data.synthetic.Scene`); videos are rendered by
    :func:`~rppgblocks.data.synthetic.render_session` and written with
    :func:`~rppgblocks.data.video.write_video`. The layout, file formats and time contract are described in
    this module's docstring; the subjects are split into five folds at random.

    The dataset is built in a hidden temporary sibling of ``root`` and renamed into place when complete, so an
    interrupted run never leaves a dataset that looks complete. Calling again with the same parameters returns
    at once (the manifest ``synthetic.json`` records them).

    Args:
        root: The dataset directory to create (its parent is created if needed).
        n_subjects: Number of subjects ``p1`` ... ``p{n}`` (1-999; with fewer than 5, some folds are empty).
        scenarios: Scenario names among ``v1`` ... ``v9``; v8 and v9 need ``source2`` and exist only for it.
        sources: Camera names among ``source1`` ... ``source4`` (source4 is near-infrared: three equal channels,
            a weaker pulse).
        duration_s: Nominal duration of each video in seconds (2-600).
        fps: True frame rate in Hz of the time-stamped cameras (5-120); source2 is always exactly 30 Hz.
        frame_size: ``(width, height)`` of the videos in pixels, at least (64, 48); the faces are found by
            OpenCV's Haar cascade from about 120 pixels of height.
        hr_range_bpm: Range of the resting heart rate in bpm (40-180); v7 (after exercise) adds 10-25 bpm.
        pulse_amplitude: Relative peak-to-peak change of green skin pixels over a heart beat (0-0.2; about 0.01
            in real webcam video).
        seed: Seed of everything random (>= 0); the same seed gives identical files.
        codec: Video FourCC for :func:`~rppgblocks.data.video.write_video`: ``"MJPG"`` (default) or ``"FFV1"``
            (lossless), ...
        quality: JPEG quality 1-100 for MJPG.
        overwrite: Replace an existing ``root`` that is not this exact dataset (another synthetic dataset, an
            incomplete one, or any other non-empty directory or file; **its contents are deleted**).

    Returns:
        ``root`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: If a parameter is out of range or a name is unknown, or v8/v9 is asked without source2.
        FileExistsError: If ``root`` exists, is not empty and is not this dataset, and ``overwrite`` is false.
        OSError: If a file cannot be written.

    Examples:
        >>> import tempfile, os
        >>> root = generate_vipl_hr(os.path.join(tempfile.mkdtemp(), "vipl"), n_subjects=5, duration_s=2.0)
        >>> sorted(p.name for p in (root / "data" / "p1" / "v1" / "source1").iterdir())
        ['gt_HR.csv', 'gt_SpO2.csv', 'time.txt', 'video.avi', 'wave.csv']
        >>> generate_vipl_hr(root, n_subjects=5, duration_s=2.0) == root  # cached
        True
    """
    params = _validate(n_subjects, scenarios, sources, duration_s, fps, frame_size, hr_range_bpm, pulse_amplitude, seed)
    params["codec"], params["quality"] = _writer.codec_and_quality(codec, quality, overwrite)

    def write(tmp: Path) -> dict[str, Any]:
        plan = _plan({k: params[k] for k in params if k not in ("codec", "quality")}, check_faces=True, stacklevel=5)
        size = (params["frame_size"][0], params["frame_size"][1])
        records = [_write_session(tmp / s.relpath, s, size, codec, params["quality"]) for s in plan.sessions]
        _write_folds(tmp / "fold", plan.folds)
        return _manifest(params, plan, records)

    return _writer.build_dataset(root, params, overwrite, _files_present, write)


def _manifest(params: dict[str, Any], plan: VIPLHRPlan, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "generator": "rppgblocks.data.synthetic.generate_vipl_hr",
        "generator_version": GENERATOR_VERSION,
        **_writer.versions(),  # OpenCV's Haar cascade decides the rare appearance redraws
        "layout": "VIPL-HR (datasets.md sections 1.1-1.2)",
        "parameters": params,
        "container_fps": CONTAINER_FPS,
        "time_contract": "sample i of N at t_first + i * (t_last - t_first) / (N - 1)",
        "wave_rate_hz": 60.0,
        "pulse_polarity": "skin darkens as blood volume (wave.csv) rises",
        "folds": {f"fold{i}": list(ids) for i, ids in enumerate(plan.folds, start=1)},
        "subjects": {
            f"p{s.subject_id}": {
                "appearance_attempts": s.attempts,
                "face_detected": s.detected,
                "appearance": s.appearance.to_dict(),
            }
            for s in plan.subjects
        },
        "sessions": records,
    }
