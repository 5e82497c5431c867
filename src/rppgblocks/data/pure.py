"""The PURE dataset as face clips with per-frame BVP and heart rate.

Source: Stricker, Müller and Gross, "Non-contact video-based pulse rate measurement on a mobile service robot",
IEEE RO-MAN 2014; on-disk layout, JSON contents and label alignment as specified in
``/work/shared/design/datasets.md`` §3 and §5.4, face crop as in §4.2 (see :mod:`rppgblocks.data.face`).

The time contract. A session ``SS-TT`` (subject ``SS``, task ``TT``) is a folder of lossless PNG frames
``Image<ns>.png`` named by their unix timestamp in nanoseconds, sorted by that integer, plus ``SS-TT.json`` whose
``"/FullPackage"`` entries hold the oximeter samples (``Timestamp`` in ns, ``Value.waveform``, ``Value.pulseRate``).
The frame rate is ``(n - 1) * 1e9 / (t_last - t_first)`` Hz from the frame timestamps. The labels are aligned by
``label_alignment``:

- ``"timestamps"`` (default): the waveform and pulse rate are interpolated linearly from the oximeter timestamps
  onto the frame timestamps. The oximeter samples must cover every frame within one frame period at either end
  (where the label holds its first or last value); a label that ends earlier is an error.
- ``"index_stretch"``: rPPG-Toolbox's ``resample_ppg``, an index-based linear stretch of the series to the number
  of frames that ignores the timestamps (both streams are assumed to start and end together).

Pulse rates outside :data:`~rppgblocks.data.vipl_hr.HR_VALID_RANGE_BPM` (oximeter faults) are left out and the
remaining ones interpolated over them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import warnings
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from rppgblocks.data._clips import (
    CHUNK_SIZE,
    ClipDataset,
    FrameJob,
    Frames,
    OnError,
    check_coverage,
    fmt,
    index_stretch,
    interp_valid,
    subject_ids,
    warn_absent_subjects,
)
from rppgblocks.data.face import DEFAULT_BOX_SCALE, FaceBox, FaceDetector, FaceTrackReport, NoFacePolicy
from rppgblocks.data.sample import Normalization
from rppgblocks.data.video import _cv2
from rppgblocks.data.vipl_hr import HR_VALID_RANGE_BPM
from rppgblocks.errors import VideoDecodeError

__all__ = ["PURE", "PUREVideo", "pure_sessions"]

_log = logging.getLogger(__name__)

LabelAlignment = Literal["timestamps", "index_stretch"]

_SESSION_RE = re.compile(r"^(\d{2})-(\d{2})$")
_IMAGE_RE = re.compile(r"^Image(\d+)\.png$")


@dataclass(frozen=True)
class PUREVideo:
    """One PURE session as indexed and preprocessed by :class:`PURE`.

    Attributes:
        subject: The subject id, ``SS`` of the ``SS-TT`` folder (``"06-02"`` -> 6).
        task: The task id, ``TT`` (1 steady, 2 talking, 3 slow and 4 fast translation, 5 small and 6 medium rotation).
        video_id: The session name ``"SS-TT"``.
        directory: The session folder ``SS-TT``.
        frames_dir: The folder of PNG frames, ``SS-TT/SS-TT``.
        json_path: ``SS-TT/SS-TT.json``.
        fps: The frame rate in Hz, from the frame timestamps.
        label_alignment: How the labels were aligned (``"timestamps"`` or ``"index_stretch"``).
        n_frames: The number of frames.
        frame_hw: The original frame size ``(height, width)`` in pixels.
        face_box: The enlarged crop box in original-frame pixels, or ``None`` when the whole frame is used or the
            face is tracked (``detect_every``).
        face_report: Where the face was searched and where it was not found
            (:class:`~rppgblocks.data.face.FaceTrackReport`), or ``None`` without a face detector.
        n_clips: The number of clips cut from this session.
        n_dropped_frames: Frames after the last clip that no clip covers (the remainder).

    Examples:
        >>> import dataclasses
        >>> [field.name for field in dataclasses.fields(PUREVideo)][:3]
        ['subject', 'task', 'video_id']
    """

    subject: int
    task: int
    video_id: str
    directory: Path
    frames_dir: Path
    json_path: Path
    fps: float
    label_alignment: LabelAlignment
    n_frames: int
    frame_hw: tuple[int, int]
    face_box: FaceBox | None
    face_report: FaceTrackReport | None
    n_clips: int
    n_dropped_frames: int


@dataclass(frozen=True)
class _Entry:
    subject: int
    task: int
    video_id: str
    directory: Path


class PURE(ClipDataset):
    r"""PURE face clips with the per-frame BVP and the reference pulse rate.

    Source: Stricker et al., RO-MAN 2014 (PURE); layout, timing and label alignment from ``datasets.md`` §3 and
    §5.4 (the time contract is in this module's docstring), face crop from §4.2.

    Construction indexes the ``SS-TT`` session folders (a missing session, such as 06-02 in some copies, is simply
    absent), then reads each selected session's PNGs with OpenCV a chunk at a time (never all full-resolution
    frames at once), detects the face on frames of the first chunk, crops every frame with the enlarged box,
    resizes it to ``frame_size`` and keeps the small ``uint8`` frames (or caches them, see ``cache_dir``); the labels
    are read from the JSON and aligned to the frames. Clips are cut with ``clip_stride`` frames between starts; the
    frames after the last whole clip are dropped and counted (:attr:`PUREVideo.n_dropped_frames`). Each clip's ``hr``
    is the mean of the aligned ``pulseRate`` over the clip's frames.

    The ``"/Image"`` list of the JSON is checked against the PNG files: the frames are the PNGs on disk, and a
    disagreement is reported with a warning.

    Args:
        root: The PURE folder holding the ``SS-TT`` session folders, or its parent.
        clip_length: Frames per clip.
        clip_stride: Frames between consecutive clip starts; ``None`` = ``clip_length`` (non-overlapping).
        frame_size: The ``(height, width)`` of the resized face crop, in pixels.
        subjects: Subject ids to include, 1-10 (``None``: all).
        tasks: Task ids to include, 1-6 (``None``: all).
        label_alignment: ``"timestamps"`` (default) or rPPG-Toolbox's ``"index_stretch"`` (module docstring).
        face_detector: The :class:`~rppgblocks.data.face.FaceDetector` (``"haar"``: a default
            :class:`~rppgblocks.data.face.HaarFaceDetector`), or ``None`` to resize the whole frame.
        box_scale: The face box enlargement coefficient (rPPG-Toolbox: 1.5).
        detect_frames: The number of frames, spread over the first chunk, on which the face is detected.
        cache_dir: A folder for the preprocessed ``uint8`` frames (created if needed), or ``None`` to keep them in
            memory. Each entry is keyed by the PNG files' names, sizes and modification times and the preprocessing
            parameters, with a JSON manifest of that key, the content's SHA-256, the face report and the
            normalisation statistics; written atomically, reused when valid, rebuilt when damaged or stale, and
            memory-mapped.
        on_error: ``"raise"`` (default) stops at the first bad session; ``"skip"`` leaves it out, warns, and records
            it in :attr:`skipped`.
        progress: Show a progress bar over the videos while they are preprocessed (needs ``tqdm``, from the
            ``examples`` extra).
        detect_every: Detect the face on every ``detect_every``-th frame (and the last), fill and smooth that track
            and crop each frame with its own interpolated box (:func:`~rppgblocks.data.face.resolve_face_track`);
            the video is decoded twice. ``None`` (default, rPPG-Toolbox's): one static box from the first chunk.
        box_smoothing: With ``detect_every``, the odd number of consecutive detections averaged (1: none).
        no_face: What a detection frame with no face gets: ``"interpolate"`` (from the detections on either side),
            ``"previous"`` (the last box found) or ``"fail"`` (a :class:`~rppgblocks.data.face.FaceNotFoundError`).
            Every miss is recorded in the video's ``face_report`` and warned about; a video with no face on any
            detection frame always fails (never a silent whole-frame crop).
        video_normalization: ``"raw"`` (RGB in [0, 1]), ``"standardized"`` or ``"diff_normalized"``
            (rPPG-Toolbox's ``DATA_TYPE`` Raw, Standardized, DiffNormalized), or a sequence of them whose 3-channel
            results are concatenated (``("diff_normalized", "standardized")`` gives 6 channels, as DeepPhys). As in
            rPPG-Toolbox, the statistics are the whole video's, not the clip's: they are computed once per video
            (recorded in the cache manifest) and applied when a clip is read, so one cache serves every choice.
        label_normalization: ``"raw"``, ``"standardized"`` or ``"diff_normalized"`` (rPPG-Toolbox's
            ``LABEL_TYPE``), applied to each whole video's BVP before it is cut into clips.
        num_workers: Worker processes preprocessing videos in parallel (0: in this process). The results, their
            order and the cache are the same; a failure in a worker is raised with the video's path. Workers are
            spawned: guard the script with ``if __name__ == "__main__":``.
        verify_cache: Check each reused cache entry's SHA-256 against its manifest (reads every byte) instead of
            its size, shape and dtype only; a mismatch is warned about and the entry rebuilt.

    Attributes:
        videos: A :class:`PUREVideo` per loaded session, in (subject, task) order.
        subjects: The sorted subject ids of the loaded sessions.
        skipped: ``(path, reason)`` for each session left out with ``on_error="skip"``.

    Raises:
        FileNotFoundError: If ``root`` does not exist, or (with ``on_error="raise"``) a session has no JSON file or
            no frames folder.
        ValueError: If an argument is invalid, ``root`` holds no ``SS-TT`` folders, nothing matches the filters, or
            (with ``on_error="raise"``) the JSON is malformed, the frames are too few, the oximeter samples do not
            cover the frames, or no face is found.
        VideoDecodeError: With ``on_error="raise"``, if a PNG cannot be read.

    Shape:
        - ``video``: :math:`(C, T, H, W)` = ``(3, clip_length, *frame_size)``, float32 RGB in [0, 1].
        - ``bvp``: :math:`(T,)` float32; ``hr``, ``fs``: :math:`()` float32 (bpm, Hz).

    Examples:
        >>> import numpy as np, tempfile, os, json, cv2
        >>> root = tempfile.mkdtemp()
        >>> os.makedirs(os.path.join(root, "01-02", "01-02"))
        >>> t0 = 1392643993642815000
        >>> image_ns = [t0 + i * 33_333_333 for i in range(20)]  # 30 fps
        >>> for t in image_ns:
        ...     _ = cv2.imwrite(os.path.join(root, "01-02", "01-02", f"Image{t}.png"), np.zeros((24, 32, 3), np.uint8))
        >>> packages = [
        ...     {"Timestamp": t0 + i * 16_666_667, "Value": {"waveform": i, "pulseRate": 70}} for i in range(40)
        ... ]
        >>> with open(os.path.join(root, "01-02", "01-02.json"), "w") as f:
        ...     json.dump({"/FullPackage": packages, "/Image": [{"Timestamp": t} for t in image_ns]}, f)
        >>> data = PURE(root, clip_length=8, frame_size=(16, 16), face_detector=None)
        >>> len(data), data.subjects, round(data.videos[0].fps, 3), data.videos[0].task
        (2, [1], 30.0, 2)
        >>> clip = data[1]  # frames 8-15: the waveform (one sample per 16.7 ms) is 2 x the frame index
        >>> clip["video_id"], clip["start"], clip["bvp"].round().tolist()[:3], float(clip["hr"])
        ('01-02', 8, [16.0, 18.0, 20.0], 70.0)
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        clip_length: int = 160,
        clip_stride: int | None = None,
        frame_size: tuple[int, int] = (128, 128),
        subjects: Iterable[int] | None = None,
        tasks: Iterable[int] | None = None,
        label_alignment: LabelAlignment = "timestamps",
        face_detector: FaceDetector | Literal["haar"] | None = "haar",
        box_scale: float = DEFAULT_BOX_SCALE,
        detect_frames: int = 5,
        cache_dir: str | os.PathLike[str] | None = None,
        on_error: OnError = "raise",
        progress: bool = False,
        detect_every: int | None = None,
        box_smoothing: int = 3,
        no_face: NoFacePolicy = "interpolate",
        video_normalization: Normalization | Sequence[Normalization] = "raw",
        label_normalization: Normalization = "raw",
        num_workers: int = 0,
        verify_cache: bool = False,
    ) -> None:
        self._init_common(
            clip_length=clip_length,
            clip_stride=clip_stride,
            frame_size=frame_size,
            face_detector=face_detector,
            box_scale=box_scale,
            detect_frames=detect_frames,
            cache_dir=cache_dir,
            on_error=on_error,
            progress=progress,
            detect_every=detect_every,
            box_smoothing=box_smoothing,
            no_face=no_face,
            video_normalization=video_normalization,
            label_normalization=label_normalization,
            num_workers=num_workers,
            verify_cache=verify_cache,
        )
        if label_alignment not in ("timestamps", "index_stretch"):
            raise ValueError(f"label_alignment: expected 'timestamps' or 'index_stretch', got {label_alignment!r}")
        self.label_alignment: LabelAlignment = label_alignment
        subject_set = None if subjects is None else subject_ids(subjects, "'06-02' -> 6")
        if isinstance(tasks, (str, bytes)):
            raise ValueError(f"tasks: expected integer task ids 1-6, got {tasks!r}")
        task_set = None if tasks is None else set(tasks)
        if task_set is not None and (bad := [t for t in task_set if isinstance(t, bool) or t not in range(1, 7)]):
            raise ValueError(f"tasks: expected integer task ids 1-6, got {bad[0]!r}")
        self.root = Path(root)
        entries = _index_tree(self.root)
        warn_absent_subjects("PURE", subject_set, {e.subject for e in entries}, self.root)
        entries = [
            e
            for e in entries
            if (subject_set is None or e.subject in subject_set) and (task_set is None or e.task in task_set)
        ]
        if not entries:
            raise ValueError(f"{self.root}: no PURE session matches subjects={fmt(subject_set)}, tasks={fmt(task_set)}")
        self.videos: list[PUREVideo] = []
        self._load_entries(entries, self._load, lambda e: e.directory)

    def _load(self, entry: _Entry) -> Generator[FrameJob, Frames, None]:
        directory = entry.directory
        json_path = directory / f"{entry.video_id}.json"
        frames_dir = directory / entry.video_id
        if not json_path.is_file():
            raise FileNotFoundError(f"{json_path}: required PURE JSON file is missing")
        if not frames_dir.is_dir():
            raise FileNotFoundError(f"{frames_dir}: required PURE frames folder is missing")
        pkg_ns, waveform, pulse, image_ns = _read_json(json_path)
        paths, frame_ns = _list_frames(frames_dir)
        if frame_ns.size < 2:
            raise ValueError(f"{frames_dir}: expected at least 2 Image<ns>.png frames, found {frame_ns.size}")
        if image_ns.size != frame_ns.size or not np.array_equal(np.sort(image_ns), frame_ns):
            warnings.warn(
                f"PURE: {json_path} lists {image_ns.size} /Image timestamps but {frames_dir} holds {frame_ns.size} "
                "frames with other timestamps; using the frames on disk",
                stacklevel=4,
            )
        listing = hashlib.sha256(
            json.dumps([[p.name, s.st_size, s.st_mtime_ns] for p in paths for s in (p.stat(),)]).encode()
        ).hexdigest()
        loaded = yield FrameJob(
            prefix="pure",
            video_id=entry.video_id,
            source_key={"frames": [str(frames_dir.resolve()), len(paths), listing]},
            reader=partial(_iter_png_chunks, paths, CHUNK_SIZE),
            source=str(frames_dir),
        )
        n_frames = loaded.n_frames
        rel_frames = (frame_ns - frame_ns[0]).astype(np.float64)  # ns since the first frame (exact in int64)
        fps = (n_frames - 1) * 1e9 / float(rel_frames[-1])
        low, high = HR_VALID_RANGE_BPM
        valid = (pulse >= low) & (pulse <= high)
        if self.label_alignment == "timestamps":
            rel_pkg = (pkg_ns - frame_ns[0]).astype(np.float64)
            check_coverage(json_path, rel_pkg / 1e6, rel_frames / 1e6, 1000.0 / fps, "ms after the first frame")
            bvp = np.interp(rel_frames, rel_pkg, waveform)
            hr = interp_valid(json_path, rel_frames, rel_pkg, pulse, valid, "pulseRate (30-250 bpm)")
        else:
            bvp = index_stretch(waveform, n_frames)
            n = pulse.size
            at, positions = np.linspace(1, n, n_frames), np.linspace(1, n, n)
            hr = interp_valid(json_path, at, positions, pulse, valid, "pulseRate (30-250 bpm)")

        n_clips, n_dropped = self._clip_count(n_frames)
        self._add_video(
            PUREVideo(
                subject=entry.subject,
                task=entry.task,
                video_id=entry.video_id,
                directory=directory,
                frames_dir=frames_dir,
                json_path=json_path,
                fps=float(fps),
                label_alignment=self.label_alignment,
                n_frames=n_frames,
                frame_hw=loaded.frame_hw,
                face_box=loaded.face_box,
                face_report=loaded.face_report,
                n_clips=n_clips,
                n_dropped_frames=n_dropped,
            ),
            loaded,
            bvp,
            hr,
        )
        _log.debug("PURE: loaded %s (%d frames, %.3f fps, %d clips)", entry.video_id, n_frames, fps, n_clips)


# ---------------------------------------------------------------------- indexing


def pure_sessions(root: str | os.PathLike[str]) -> list[str]:
    """The session ids ``"SS-TT"`` of a PURE folder, from its folder names, without reading anything.

    The subject of a session is ``int(session[:2])``; use it to split subjects before building the train and test
    :class:`PURE` datasets (e.g. rPPG-Toolbox's cross-dataset split trains on subjects 1-8).

    Args:
        root: The PURE folder (holding ``SS-TT`` folders, directly or one level down).

    Returns:
        The sorted session ids.

    Raises:
        FileNotFoundError: If ``root`` does not exist.
        ValueError: If ``root`` is not a PURE folder.

    Examples:
        >>> import tempfile, os
        >>> root = tempfile.mkdtemp()
        >>> for name in ("02-01", "01-02", "01-01"):
        ...     os.makedirs(os.path.join(root, "PURE", name))
        >>> sessions = pure_sessions(root)
        >>> sessions, sorted({int(s[:2]) for s in sessions})
        (['01-01', '01-02', '02-01'], [1, 2])
    """
    return [entry.video_id for entry in _index_tree(Path(root))]


def _session_dirs(folder: Path) -> list[Path]:
    return sorted(d for d in folder.iterdir() if d.is_dir() and _SESSION_RE.match(d.name))


def _index_tree(root: Path) -> list[_Entry]:
    if not root.exists():
        raise FileNotFoundError(f"root: PURE folder not found: {root}")
    if not root.is_dir():
        raise ValueError(f"root: expected the PURE folder, got a file: {root}")
    dirs = _session_dirs(root)
    if not dirs:
        dirs = [d for parent in sorted(c for c in root.iterdir() if c.is_dir()) for d in _session_dirs(parent)]
    if not dirs:
        raise ValueError(
            f"root: {root} is not a PURE folder: no SS-TT session folders (01-01 ... 10-06) directly inside it or "
            "one level down"
        )
    seen: dict[str, Path] = {}
    entries = []
    for d in dirs:
        if d.name in seen:
            raise ValueError(f"root: session {d.name} appears twice: {seen[d.name]} and {d}")
        seen[d.name] = d
        subject, task = (int(g) for g in _SESSION_RE.match(d.name).groups())  # type: ignore[union-attr]
        if subject == 0:
            raise ValueError(f"root: {d}: subject ids start at 01")
        entries.append(_Entry(subject, task, d.name, d))
    return sorted(entries, key=lambda e: (e.subject, e.task))


def _list_frames(frames_dir: Path) -> tuple[list[Path], npt.NDArray[np.int64]]:
    """The ``Image<ns>.png`` files sorted by their integer timestamp, and the timestamps."""
    found = []
    for p in frames_dir.iterdir():
        if match := _IMAGE_RE.match(p.name):
            found.append((int(match.group(1)), p))
    found.sort()
    stamps = np.array([t for t, _ in found], dtype=np.int64)
    if (dup := np.flatnonzero(np.diff(stamps) <= 0)).size:
        raise ValueError(f"{frames_dir}: two frames share the timestamp {stamps[dup[0]]}")
    return [p for _, p in found], stamps


def _iter_png_chunks(paths: list[Path], chunk_size: int) -> Iterator[npt.NDArray[np.uint8]]:
    """Read the PNGs as ``(t, h, w, 3)`` RGB chunks of at most ``chunk_size`` frames."""
    cv2 = _cv2()
    for start in range(0, len(paths), chunk_size):
        frames: list[npt.NDArray[np.uint8]] = []
        for path in paths[start : start + chunk_size]:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise VideoDecodeError(path, "OpenCV cannot read the image")
            if frames and image.shape != frames[0].shape:
                raise VideoDecodeError(path, f"frame has shape {image.shape}, not {frames[0].shape}")
            frames.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        yield np.stack(frames)


def _read_json(
    path: Path,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """``(package times ns, waveform, pulseRate, image times ns)`` from a PURE session JSON."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object with '/FullPackage' and '/Image', got {type(data).__name__}")
    for key in ("/FullPackage", "/Image"):
        if not isinstance(data.get(key), list) or not data[key]:
            raise ValueError(f"{path}: expected a non-empty list under {key!r}, got {_describe(data.get(key))}")
    n = len(data["/FullPackage"])
    pkg_ns = np.empty(n, dtype=np.int64)
    waveform, pulse = np.empty(n, dtype=np.float64), np.empty(n, dtype=np.float64)
    for i, item in enumerate(data["/FullPackage"]):
        where = f"{path}: /FullPackage[{i}]"
        value = item.get("Value") if isinstance(item, dict) else None
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object with 'Timestamp' and 'Value', got {_describe(item)}")
        pkg_ns[i] = _timestamp(where, item.get("Timestamp"))
        waveform[i] = _number(where, value, "waveform")
        pulse[i] = _number(where, value, "pulseRate")
    image_ns = np.array(
        [
            _timestamp(f"{path}: /Image[{i}]", item.get("Timestamp") if isinstance(item, dict) else None)
            for i, item in enumerate(data["/Image"])
        ],
        dtype=np.int64,
    )
    if (bad := np.flatnonzero(np.diff(pkg_ns) <= 0)).size:
        i = int(bad[0])
        raise ValueError(f"{path}: /FullPackage timestamps must increase, got {pkg_ns[i]} then {pkg_ns[i + 1]}")
    return pkg_ns, waveform, pulse, image_ns


def _timestamp(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}: expected 'Timestamp' as a non-negative integer in ns, got {value!r}")
    return value


def _number(where: str, value: dict[str, Any], key: str) -> float:
    x = value.get(key)
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not np.isfinite(x):
        raise ValueError(f"{where}: expected a finite number under Value.{key}, got {x!r}")
    return float(x)


def _describe(value: Any) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {str(value)[:40]!r}"
