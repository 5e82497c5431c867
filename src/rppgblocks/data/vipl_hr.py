"""The VIPL-HR (V1) dataset as fixed-length face clips with per-frame BVP and heart rate.

Source: Niu, Han, Shan and Chen, "VIPL-HR: A Multi-modal Database for Pulse Estimation from Less-constrained Face
Video", ACCV 2018; on-disk layout, file contents and label alignment as specified in
``/work/shared/design/datasets.md`` §1 and §5, face crop as in §4.2 (see :mod:`rppgblocks.data.face`).

The time contract (§5.1). The frame times come from ``time.txt`` (milliseconds, one line per frame); without it
(``source2``) the video is taken to run at :data:`VIPL_HR_ASSUMED_FPS` = 30 fps from 0 ms. With ``t_first`` and
``t_last`` the first and last frame time, a ground-truth series of ``N`` samples (``wave.csv``, ``gt_HR.csv``) spans
the recording: sample ``i`` sits at ``t_first + i * (t_last - t_first) / (N - 1)``, and the series is interpolated
linearly onto every frame time (:func:`align_series_to_frames`). The frame rate is
``(n - 1) * 1000 / (t_last - t_first)`` Hz, never the container's (always 25 in VIPL-HR).
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Generator, Iterable, Sequence
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
    data_lines,
    file_signature,
    fmt,
    parse_number,
    subject_ids,
    warn_absent_subjects,
)
from rppgblocks.data.face import DEFAULT_BOX_SCALE, FaceBox, FaceDetector, FaceTrackReport, NoFacePolicy
from rppgblocks.data.sample import Normalization
from rppgblocks.data.video import iter_video

__all__ = [
    "HR_VALID_RANGE_BPM",
    "VIPLHR",
    "VIPL_HR_ASSUMED_FPS",
    "VIPL_HR_SOURCES",
    "VIPLHRVideo",
    "align_series_to_frames",
    "vipl_hr_subjects",
]

_log = logging.getLogger(__name__)

#: The frame rate assumed for a video without ``time.txt`` (VIPL-HR's ``source2``, the HUAWEI P9 phone), in Hz.
VIPL_HR_ASSUMED_FPS: float = 30.0

#: Heart rates outside this range (bpm) are oximeter fault codes (255, 0, ...) and are dropped before interpolation.
HR_VALID_RANGE_BPM: tuple[float, float] = (30.0, 250.0)

#: VIPL-HR's four cameras; ``source4`` is the RealSense near-infrared (NIR) stream, the others are RGB.
VIPL_HR_SOURCES: tuple[str, ...] = ("source1", "source2", "source3", "source4")

_NIR_SOURCES = frozenset({"source4"})
_SUBJECT_RE = re.compile(r"^p(\d+)$")
_SCENARIO_RE = re.compile(r"^v(\d+)(?:-(\d+))?$")
_SOURCE_RE = re.compile(r"^source([1-4])$")
_VIDEO_FILE, _WAVE_FILE, _HR_FILE, _TIME_FILE = "video.avi", "wave.csv", "gt_HR.csv", "time.txt"


@dataclass(frozen=True)
class VIPLHRVideo:
    """One VIPL-HR video as indexed and preprocessed by :class:`VIPLHR`.

    Attributes:
        subject: The subject id, the full integer of the ``p<N>`` folder (``p100`` -> 100).
        scenario: The scenario folder, e.g. ``"v1"`` or ``"v1-2"``.
        source: The camera folder, ``"source1"`` ... ``"source4"``.
        video_id: ``"p<N>/<scenario>/<source>"``, as the folders are named on disk.
        directory: The folder holding the video's files.
        video_path: ``video.avi``.
        wave_path: ``wave.csv`` (the BVP).
        hr_path: ``gt_HR.csv`` (the reference heart rate, one value per second).
        time_path: ``time.txt`` (per-frame timestamps in ms), or ``None`` where absent.
        fps: The frame rate in Hz, from ``time.txt``, or :data:`VIPL_HR_ASSUMED_FPS` without it.
        fps_assumed: ``True`` when ``fps`` is assumed (no ``time.txt``).
        n_frames: The number of decoded frames.
        frame_hw: The original frame size ``(height, width)`` in pixels.
        face_box: The enlarged crop box in original-frame pixels, or ``None`` when the whole frame is used or the
            face is tracked (``detect_every``).
        face_report: Where the face was searched and where it was not found
            (:class:`~rppgblocks.data.face.FaceTrackReport`), or ``None`` without a face detector.
        is_nir: ``True`` for the near-infrared camera (``source4``).
        n_clips: The number of clips cut from this video.
        n_dropped_frames: Frames after the last clip that no clip covers (the remainder).

    Examples:
        >>> import dataclasses
        >>> [field.name for field in dataclasses.fields(VIPLHRVideo)][:4]
        ['subject', 'scenario', 'source', 'video_id']
    """

    subject: int
    scenario: str
    source: str
    video_id: str
    directory: Path
    video_path: Path
    wave_path: Path
    hr_path: Path
    time_path: Path | None
    fps: float
    fps_assumed: bool
    n_frames: int
    frame_hw: tuple[int, int]
    face_box: FaceBox | None
    face_report: FaceTrackReport | None
    is_nir: bool
    n_clips: int
    n_dropped_frames: int


@dataclass(frozen=True)
class _Entry:
    subject: int
    scenario: str
    source: str
    video_id: str
    directory: Path


def align_series_to_frames(
    values: npt.ArrayLike,
    frame_times: npt.ArrayLike,
    *,
    valid: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """Interpolate a ground-truth series that spans the recording onto the frame times (VIPL-HR time contract).

    Source: ``datasets.md`` §1.3 and §5.1. The ``N`` samples are spread uniformly over the recording: sample ``i``
    sits at ``t_first + i * (t_last - t_first) / (N - 1)``, with ``t_first``/``t_last`` the first and last frame
    times; the series is then interpolated linearly at every frame time. Samples marked invalid (sensor faults) are
    left out of the interpolation but keep their time positions; a single sample gives a constant.

    Args:
        values: The series, ``(N,)``.
        frame_times: The per-frame times, ``(T,)``, non-decreasing, in any unit (VIPL-HR: milliseconds).
        valid: An optional ``(N,)`` boolean mask of the samples to use.

    Returns:
        The series at each frame time, ``(T,)`` float64.

    Raises:
        ValueError: If a series or the frame times are empty or not one-dimensional, ``valid`` has the wrong
            length, no sample is valid, or the frame times do not increase from the first to the last.

    Shape:
        - ``values``: :math:`(N,)`; ``frame_times``: :math:`(T,)`; output: :math:`(T,)`.

    Examples:
        >>> import numpy as np
        >>> align_series_to_frames([0.0, 10.0, 20.0], [0.0, 25.0, 50.0, 75.0, 100.0]).tolist()
        [0.0, 5.0, 10.0, 15.0, 20.0]
        >>> align_series_to_frames([70.0, 255.0, 80.0], [0.0, 50.0, 100.0], valid=[True, False, True]).tolist()
        [70.0, 75.0, 80.0]
    """
    series = np.asarray(values, dtype=np.float64)
    times = np.asarray(frame_times, dtype=np.float64)
    if series.ndim != 1 or series.size == 0:
        raise ValueError(f"values: expected a non-empty 1D series, got shape {series.shape}")
    if times.ndim != 1 or times.size == 0:
        raise ValueError(f"frame_times: expected a non-empty 1D array of times, got shape {times.shape}")
    n = series.size
    t_first, t_last = float(times[0]), float(times[-1])
    if n == 1:
        sample_times = np.array([t_first])
    elif not t_last > t_first:
        raise ValueError(f"frame_times: expected the last time to exceed the first, got {t_first} and {t_last}")
    else:
        sample_times = t_first + np.arange(n) * ((t_last - t_first) / (n - 1))
    if valid is not None:
        mask = np.asarray(valid, dtype=bool)
        if mask.shape != series.shape:
            raise ValueError(f"valid: expected a boolean mask of shape {series.shape}, got {mask.shape}")
        if not mask.any():
            raise ValueError("valid: no sample of the series is valid")
        series, sample_times = series[mask], sample_times[mask]
    return np.interp(times, sample_times, series)


class VIPLHR(ClipDataset):
    r"""VIPL-HR (V1) face clips with the per-frame BVP and the reference heart rate.

    Source: Niu et al., ACCV 2018 (VIPL-HR); layout, timing and label alignment from ``datasets.md`` §1 and §5
    (the time contract is in this module's docstring), face crop from §4.2.

    Construction indexes the tree (``p<N>/<scenario>/<source>/``), then decodes each selected video in chunks
    (never the whole full-resolution video at once), detects the face on frames of the first chunk, crops every
    frame with the enlarged box, resizes it to ``frame_size`` and keeps the small ``uint8`` frames; the labels are
    read and aligned to the frames. Clips are cut from each video with ``clip_stride`` frames between starts; the
    frames after the last whole clip are dropped and counted (:attr:`VIPLHRVideo.n_dropped_frames`).

    Memory: 128x128 RGB frames take 48 KiB each, so a 1000-frame video takes about 47 MiB. For more than a few
    hundred videos pass ``cache_dir``: each video's frames are then stored there as ``uint8`` ``.npy``, keyed by a
    hash of the video file's path, size and modification time and of the preprocessing parameters, next to a JSON
    manifest recording that key, the content's size and SHA-256, the face box or track report and the whole-video
    normalisation statistics. Both are written atomically (the manifest last, so an interrupted write is rebuilt);
    later constructions reuse valid entries, rebuild damaged or stale ones (with a warning), and memory-map the
    frames instead of holding them in RAM. ``num_workers`` preprocesses videos in parallel processes.

    Args:
        root: The VIPL-HR folder: either the folder holding the ``p<N>`` subject folders or its parent (e.g. the
            ``VIPL-HR`` folder holding ``data/p<N>``).
        clip_length: Frames per clip.
        clip_stride: Frames between consecutive clip starts; ``None`` = ``clip_length`` (non-overlapping).
        frame_size: The ``(height, width)`` of the resized face crop, in pixels.
        subjects: Subject ids to include (``None``: all).
        scenarios: Scenario names to include, e.g. ``("v1", "v1-2")`` (``None``: all).
        exclude_scenarios: Scenario names to leave out; the rFaceNet protocol excludes ``("v2", "v9")``.
        sources: Cameras to include. ``source4`` (near-infrared) is left out by default; its videos are flagged
            ``is_nir`` when included.
        face_detector: The :class:`~rppgblocks.data.face.FaceDetector` (``"haar"``: a default
            :class:`~rppgblocks.data.face.HaarFaceDetector`), or ``None`` to resize the whole frame.
        box_scale: The face box enlargement coefficient (rPPG-Toolbox: 1.5).
        detect_frames: The number of frames, spread over the first chunk, on which the face is detected.
        cache_dir: A folder for the preprocessed frames (created if needed), or ``None`` to keep them in memory.
        on_error: ``"raise"`` (default) stops at the first bad video; ``"skip"`` leaves it out, warns, and records
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
        videos: A :class:`VIPLHRVideo` per loaded video, in index order (subject, scenario, source).
        subjects: The sorted subject ids of the loaded videos.
        skipped: ``(path, reason)`` for each video left out with ``on_error="skip"``.

    Raises:
        FileNotFoundError: If ``root`` does not exist, or (with ``on_error="raise"``) a required file
            (``video.avi``, ``wave.csv``, ``gt_HR.csv``) is missing.
        ValueError: If an argument is invalid, ``root`` holds no ``p<N>`` folders, nothing matches the filters, or
            (with ``on_error="raise"``) a CSV is malformed, ``time.txt`` does not have one line per decoded frame,
            or no face is found (:class:`~rppgblocks.data.face.FaceNotFoundError`).
        VideoDecodeError: With ``on_error="raise"``, if a video cannot be decoded or is truncated.

    Shape:
        - ``video``: :math:`(C, T, H, W)` = ``(3, clip_length, *frame_size)``, float32 RGB in [0, 1].
        - ``bvp``: :math:`(T,)` float32; ``hr``, ``fs``: :math:`()` float32 (bpm, Hz).

    Examples:
        >>> import numpy as np, tempfile, os
        >>> from rppgblocks.data.video import write_video
        >>> root = tempfile.mkdtemp()
        >>> folder = os.path.join(root, "p7", "v1", "source1")
        >>> write_video(os.path.join(folder, "video.avi"), np.zeros((20, 24, 32, 3), np.uint8), fps=25.0)
        >>> with open(os.path.join(folder, "time.txt"), "w") as f:
        ...     _ = f.write("\n".join(str(40 * i) for i in range(20)))  # 25 fps
        >>> with open(os.path.join(folder, "wave.csv"), "w") as f:
        ...     _ = f.write("Wave\n" + "\n".join(str(i % 7) for i in range(46)))
        >>> with open(os.path.join(folder, "gt_HR.csv"), "w") as f:
        ...     _ = f.write("HR\n72\n255\n74\n")
        >>> data = VIPLHR(root, clip_length=8, frame_size=(16, 16), face_detector=None)
        >>> len(data), data.subjects, data.videos[0].fps
        (2, [7], 25.0)
        >>> clip = data[1]  # frames 8-15, at 320-600 ms
        >>> clip["video"].shape, clip["bvp"].shape, clip["video_id"], clip["start"]
        (torch.Size([3, 8, 16, 16]), torch.Size([8]), 'p7/v1/source1', 8)
        >>> round(float(clip["hr"]), 2) == round(72 + 2 * 460 / 760, 2)  # 72 -> 74 bpm over 0-760 ms; 255 dropped
        True
        >>> data.clip_locations(), data.clip_indices([7]), data.clip_indices([8])
        ([('p7/v1/source1', 0), ('p7/v1/source1', 8)], [0, 1], [])
        >>> record = data.videos[0]
        >>> record.n_frames, record.n_clips, record.n_dropped_frames, record.fps_assumed, record.is_nir
        (20, 2, 4, False, False)
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        clip_length: int = 160,
        clip_stride: int | None = None,
        frame_size: tuple[int, int] = (128, 128),
        subjects: Iterable[int] | None = None,
        scenarios: Iterable[str] | str | None = None,
        exclude_scenarios: Iterable[str] | str = (),
        sources: Iterable[str] | str = ("source1", "source2", "source3"),
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
        subject_set = None if subjects is None else subject_ids(subjects)
        scenario_set = None if scenarios is None else _names(scenarios, "scenarios", _SCENARIO_RE, "'v1' or 'v1-2'")
        excluded = _names(exclude_scenarios, "exclude_scenarios", _SCENARIO_RE, "'v1' or 'v1-2'")
        self.sources = tuple(sorted(_names(sources, "sources", _SOURCE_RE, "'source1' ... 'source4'")))
        if not self.sources:
            raise ValueError("sources: expected at least one of 'source1' ... 'source4', got none")

        self.root = Path(root)
        entries = _index_tree(self.root)
        warn_absent_subjects("VIPLHR", subject_set, {e.subject for e in entries}, self.root)
        entries = [
            e
            for e in entries
            if (subject_set is None or e.subject in subject_set)
            and (scenario_set is None or e.scenario in scenario_set)
            and e.scenario not in excluded
            and e.source in self.sources
        ]
        if not entries:
            raise ValueError(
                f"{self.root}: no VIPL-HR video matches subjects={fmt(subject_set)}, scenarios={fmt(scenario_set)}, "
                f"exclude_scenarios={sorted(excluded)}, sources={list(self.sources)}"
            )
        self.videos: list[VIPLHRVideo] = []
        self._load_entries(entries, self._load, lambda e: e.directory)

    # ------------------------------------------------------------------ loading

    def _load(self, entry: _Entry) -> Generator[FrameJob, Frames, None]:
        directory = entry.directory
        video_path, wave_path, hr_path = (directory / name for name in (_VIDEO_FILE, _WAVE_FILE, _HR_FILE))
        for path in (video_path, wave_path, hr_path):
            if not path.is_file():
                raise FileNotFoundError(f"{path}: required VIPL-HR file is missing")
        time_path = directory / _TIME_FILE if (directory / _TIME_FILE).is_file() else None
        if time_path is None and entry.source != "source2":
            warnings.warn(
                f"VIPLHR: {directory} has no {_TIME_FILE}; assuming {VIPL_HR_ASSUMED_FPS:g} fps", stacklevel=4
            )
        times = None if time_path is None else _read_times(time_path)
        wave = _read_series(wave_path, "Wave")
        hr_raw = _read_series(hr_path, "HR")
        low, high = HR_VALID_RANGE_BPM
        hr_valid = (hr_raw >= low) & (hr_raw <= high)
        if not hr_valid.any():
            raise ValueError(f"{hr_path}: no heart rate inside {low:g}-{high:g} bpm (all {hr_raw.size} are faults)")

        loaded = yield FrameJob(
            prefix="vipl_hr",
            video_id=entry.video_id,
            source_key={"video": file_signature(video_path)},
            reader=partial(iter_video, video_path, chunk_size=CHUNK_SIZE),
            source=str(video_path),
        )
        n_frames = loaded.n_frames
        if times is None:
            times = np.arange(n_frames, dtype=np.float64) * (1000.0 / VIPL_HR_ASSUMED_FPS)
        elif times.size != n_frames:
            raise ValueError(
                f"{time_path}: has {times.size} timestamps but {video_path} decodes to {n_frames} frames; "
                "expected one timestamp per frame"
            )
        if n_frames < 2 or not times[-1] > times[0]:
            raise ValueError(
                f"{time_path or video_path}: cannot derive a frame rate from {n_frames} frame(s) spanning "
                f"{times[0]:g}-{times[-1]:g} ms"
            )
        fps = VIPL_HR_ASSUMED_FPS if time_path is None else (n_frames - 1) * 1000.0 / float(times[-1] - times[0])
        bvp = align_series_to_frames(wave, times)
        hr = align_series_to_frames(hr_raw, times, valid=hr_valid)

        n_clips, n_dropped = self._clip_count(n_frames)
        self._add_video(
            VIPLHRVideo(
                subject=entry.subject,
                scenario=entry.scenario,
                source=entry.source,
                video_id=entry.video_id,
                directory=directory,
                video_path=video_path,
                wave_path=wave_path,
                hr_path=hr_path,
                time_path=time_path,
                fps=float(fps),
                fps_assumed=time_path is None,
                n_frames=n_frames,
                frame_hw=loaded.frame_hw,
                face_box=loaded.face_box,
                face_report=loaded.face_report,
                is_nir=entry.source in _NIR_SOURCES,
                n_clips=n_clips,
                n_dropped_frames=n_dropped,
            ),
            loaded,
            bvp,
            hr,
        )
        _log.debug("VIPLHR: loaded %s (%d frames, %.3f fps, %d clips)", entry.video_id, n_frames, fps, n_clips)


# ---------------------------------------------------------------------- indexing


def vipl_hr_subjects(root: str | os.PathLike[str]) -> list[int]:
    """The subject ids of a VIPL-HR folder, from its ``p<N>`` folder names, without decoding anything.

    Use it to split subjects (e.g. with :func:`~rppgblocks.data.splits.subject_exclusive_split`) before building
    the train and test :class:`VIPLHR` datasets, so that no video is preprocessed twice.

    Args:
        root: The VIPL-HR folder (holding ``p<N>`` folders, directly or one level down as in ``data/p<N>``).

    Returns:
        The sorted subject ids that have at least one ``<scenario>/<source>`` folder.

    Raises:
        FileNotFoundError: If ``root`` does not exist.
        ValueError: If ``root`` is not a VIPL-HR folder.

    Examples:
        >>> import tempfile, os
        >>> root = tempfile.mkdtemp()
        >>> for p in ("p1", "p100", "p12"):
        ...     os.makedirs(os.path.join(root, "data", p, "v1", "source1"))
        >>> vipl_hr_subjects(root)
        [1, 12, 100]
    """
    return sorted({entry.subject for entry in _index_tree(Path(root))})


def _index_tree(root: Path) -> list[_Entry]:
    if not root.exists():
        raise FileNotFoundError(f"root: VIPL-HR folder not found: {root}")
    if not root.is_dir():
        raise ValueError(f"root: expected the VIPL-HR folder, got a file: {root}")
    subject_dirs = _subject_dirs(root)
    if not subject_dirs:
        subject_dirs = [d for parent in _sorted_dirs(root) for d in _subject_dirs(parent)]
    if not subject_dirs:
        raise ValueError(
            f"root: {root} is not a VIPL-HR folder: no subject folders p<N> (p1 ... p107) directly inside it or "
            "one level down (e.g. data/p1)"
        )
    by_subject: dict[int, Path] = {}
    for d in subject_dirs:
        subject = int(d.name[1:])  # the full integer: p100 -> 100 (the name matched ^p(\d+)$)
        if subject in by_subject:
            raise ValueError(f"root: subject {subject} appears twice: {by_subject[subject]} and {d}")
        by_subject[subject] = d
    entries: list[_Entry] = []
    for subject in sorted(by_subject):
        subject_dir = by_subject[subject]
        scenario_dirs = [d for d in _sorted_dirs(subject_dir) if _SCENARIO_RE.match(d.name)]
        for scenario_dir in sorted(scenario_dirs, key=_scenario_key):
            source_dirs = sorted(d for d in _sorted_dirs(scenario_dir) if _SOURCE_RE.match(d.name))
            for source_dir in source_dirs:
                video_id = f"{subject_dir.name}/{scenario_dir.name}/{source_dir.name}"
                entries.append(_Entry(subject, scenario_dir.name, source_dir.name, video_id, source_dir))
    return entries


def _sorted_dirs(folder: Path) -> list[Path]:
    return sorted(d for d in folder.iterdir() if d.is_dir())


def _subject_dirs(folder: Path) -> list[Path]:
    return [d for d in _sorted_dirs(folder) if _SUBJECT_RE.match(d.name)]


def _scenario_key(d: Path) -> tuple[int, int]:
    major, _, minor = d.name[1:].partition("-")  # the name matched ^v(\d+)(-\d+)?$
    return int(major), int(minor or 0)


# ---------------------------------------------------------------------- files


def _read_series(path: Path, header: str) -> npt.NDArray[np.float64]:
    """A one-column VIPL-HR CSV: a header line, then one number per line."""
    lines = data_lines(path)
    if not lines:
        raise ValueError(f"{path}: empty file; expected a {header!r} header line and one value per line")
    lineno, first = lines[0]
    if first.strip('"').lower() != header.lower():
        raise ValueError(f"{path}:{lineno}: expected the header line {header!r}, got {first!r}")
    if len(lines) == 1:
        raise ValueError(f"{path}: no values after the {header!r} header")
    return np.array([parse_number(path, i, text) for i, text in lines[1:]], dtype=np.float64)


def _read_times(path: Path) -> npt.NDArray[np.float64]:
    """``time.txt``: one frame timestamp in milliseconds per line, non-decreasing."""
    lines = data_lines(path)
    if not lines:
        raise ValueError(f"{path}: empty file; expected one timestamp in ms per frame")
    times = np.array([parse_number(path, i, text) for i, text in lines], dtype=np.float64)
    if (decreasing := np.flatnonzero(np.diff(times) < 0)).size:
        lineno = lines[int(decreasing[0]) + 1][0]
        raise ValueError(
            f"{path}:{lineno}: timestamps must not decrease, got {times[decreasing[0]]:g} then "
            f"{times[decreasing[0] + 1]:g} ms"
        )
    return times


# ---------------------------------------------------------------------- validation


def _names(values: Iterable[str] | str, name: str, pattern: re.Pattern[str], example: str) -> set[str]:
    items: Sequence[Any] = [values] if isinstance(values, str) else list(values)
    for item in items:
        if not isinstance(item, str) or not pattern.match(item):
            raise ValueError(f"{name}: expected names like {example}, got {item!r}")
    return set(items)
