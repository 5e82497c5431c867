"""Shared machinery of the clip datasets (:class:`~rppgblocks.data.VIPLHR`, UBFC-rPPG, PURE); private.

A clip dataset indexes a dataset tree, preprocesses each video once (chunked decode, face detection, crop and resize
to small ``uint8`` frames, optionally cached as ``.npy`` with a JSON manifest), aligns its labels to the frames, and
cuts fixed-length clips with a stride. The dataset-specific parts (indexing, label files, timing) live in the dataset
modules; this module holds what they share: argument checks, face tracking, preprocessing (in worker processes if
asked), the cache and its manifest, the ``on_error`` loop, the normalisations, the clip index and the item access.

A dataset's per-video loader is a generator: it reads and checks the labels, yields one :class:`FrameJob` (what to
decode and how to name it), receives the preprocessed :class:`Frames` back, aligns the labels and adds the video.
That split lets the expensive part (decode, detect, crop, cache) run in worker processes while the datasets keep
one straight-line loader each.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import tempfile
import warnings
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, get_args

import numpy as np
import numpy.typing as npt
import torch
from einops import rearrange
from torch.utils.data import Dataset

from rppgblocks._version import __version__
from rppgblocks.data.face import (
    FaceBox,
    FaceDetector,
    FaceNotFoundError,
    FaceTrackReport,
    HaarFaceDetector,
    NoFacePolicy,
    boxes_at_frames,
    crop_resize,
    enlarge_boxes,
    largest_box,
    median_box,
    resolve_face_track,
    spread_indices,
)
from rppgblocks.data.sample import ClipSample, Normalization
from rppgblocks.functional.normalization import (
    diff_normalize,
    diff_normalize_label,
    standardize,
    standardize_label,
)

OnError = Literal["raise", "skip"]

NORMALIZATIONS: tuple[str, ...] = get_args(Normalization)

CHUNK_SIZE = 32  # frames decoded at a time: 32 x 1920x1080 RGB = 190 MiB
#: 2: crops resized with OpenCV's INTER_AREA; 3: JSON manifest with the key, content hash, face report and
#: normalisation statistics; face tracking parameters in the key.
CACHE_VERSION = 3
_STATS_CHUNK = 64  # frames per chunk when computing the whole-video normalisation statistics
_DIFF_EPS = 1e-7  # rPPG-Toolbox's constant in the DiffNormalized denominator (on 0-255 intensities)

_E = TypeVar("_E")


class VideoRecord(Protocol):
    """What the item access needs from a dataset's per-video record."""

    @property
    def subject(self) -> int: ...

    @property
    def video_id(self) -> str: ...

    @property
    def fps(self) -> float: ...

    @property
    def n_clips(self) -> int: ...

    @property
    def face_report(self) -> FaceTrackReport | None: ...


@dataclass(frozen=True)
class Preprocessing:
    """The preprocessing settings shared by every video of a dataset (sent to the worker processes)."""

    frame_size: tuple[int, int]
    face_detector: FaceDetector | None
    box_scale: float
    detect_frames: int
    detect_every: int | None
    box_smoothing: int
    no_face: NoFacePolicy
    cache_dir: Path | None
    verify_cache: bool

    def key(self) -> dict[str, Any]:
        """The parameters that change the preprocessed frames (part of the cache key)."""
        return {
            "frame_size": list(self.frame_size),
            "face_detector": repr(self.face_detector),
            "box_scale": self.box_scale,
            "detect_frames": self.detect_frames,
            "detect_every": self.detect_every,
            "box_smoothing": self.box_smoothing,
            "no_face": self.no_face,
            "chunk_size": CHUNK_SIZE,
        }


@dataclass(frozen=True)
class FrameJob:
    """What to preprocess for one video: a picklable reader of its full-resolution chunks, and its names.

    ``reader()`` yields ``(t, h, w, 3)`` ``uint8`` RGB chunks from the first frame each time it is called (the
    dynamic face tracking reads the video twice); ``source_key`` identifies the source files in the cache key (path,
    size, modification time); ``source`` names them in errors.
    """

    prefix: str
    video_id: str
    source_key: dict[str, Any]
    reader: Callable[[], Iterable[npt.NDArray[np.uint8]]]
    source: str


@dataclass(frozen=True)
class Frames:
    """Preprocessed frames of one video, and where they came from.

    ``frames`` is ``None`` when they are in ``cache_file`` (memory-mapped on access); ``stats`` holds the
    whole-video normalisation statistics; ``cache_note`` says why an existing cache entry was rebuilt.
    """

    frames: npt.NDArray[np.uint8] | None
    n_frames: int
    frame_hw: tuple[int, int]
    face_box: FaceBox | None
    face_report: FaceTrackReport | None
    stats: dict[str, float]
    cache_file: Path | None = None
    cache_note: str | None = None


Loader = Callable[[_E], Generator[FrameJob, Frames, None]]


class ClipDataset(Dataset[ClipSample]):
    """Base of the clip datasets: preprocessing, cache, ``on_error`` loop, normalisation, clip index, item access.

    A subclass calls :meth:`_init_common` first, then :meth:`_load_entries` with its index and a per-entry loader
    generator (see the module docstring) that ends with :meth:`_add_video`.
    """

    root: Path
    videos: list[Any]
    skipped: list[tuple[Path, str]]
    subjects: list[int]

    def _init_common(
        self,
        *,
        clip_length: int,
        clip_stride: int | None,
        frame_size: tuple[int, int],
        face_detector: FaceDetector | Literal["haar"] | None,
        box_scale: float,
        detect_frames: int,
        cache_dir: str | os.PathLike[str] | None,
        on_error: OnError,
        progress: bool = False,
        detect_every: int | None = None,
        box_smoothing: int = 3,
        no_face: NoFacePolicy = "interpolate",
        video_normalization: Normalization | Sequence[Normalization] = "raw",
        label_normalization: Normalization = "raw",
        num_workers: int = 0,
        verify_cache: bool = False,
    ) -> None:
        for flag, flag_name in ((progress, "progress"), (verify_cache, "verify_cache")):
            if not isinstance(flag, bool):
                raise ValueError(f"{flag_name}: expected True or False, got {flag!r}")
        self.progress = progress
        self.clip_length = positive_int(clip_length, "clip_length")
        self.clip_stride = self.clip_length if clip_stride is None else positive_int(clip_stride, "clip_stride")
        if isinstance(face_detector, str) and face_detector == "haar":
            face_detector = HaarFaceDetector()
        elif face_detector is not None and (isinstance(face_detector, str) or not callable(face_detector)):
            raise ValueError(f"face_detector: expected a FaceDetector, 'haar' or None, got {face_detector!r}")
        if isinstance(box_scale, bool) or not isinstance(box_scale, (int, float)) or not 0 < box_scale < float("inf"):
            raise ValueError(f"box_scale: expected a finite number > 0, got {box_scale!r}")
        if detect_every is not None:
            detect_every = positive_int(detect_every, "detect_every")
        box_smoothing = positive_int(box_smoothing, "box_smoothing")
        if box_smoothing % 2 == 0:
            raise ValueError(f"box_smoothing: expected an odd number of detections (1 = none), got {box_smoothing}")
        if no_face not in get_args(NoFacePolicy):
            raise ValueError(f"no_face: expected one of {list(get_args(NoFacePolicy))}, got {no_face!r}")
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error: expected 'raise' or 'skip', got {on_error!r}")
        self.on_error: OnError = on_error
        self.video_normalization: tuple[Normalization, ...] = normalizations(video_normalization)
        self.label_normalization: Normalization = normalizations(label_normalization, "label_normalization", 1)[0]
        if "diff_normalized" in self.video_normalization and self.clip_length < 2:
            raise ValueError(f"clip_length: DiffNormalized clips need at least 2 frames, got {self.clip_length}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError(
                f"num_workers: expected an integer >= 0 (0: preprocess in this process), got {num_workers!r}"
            )
        self.num_workers = int(num_workers)
        self.settings = Preprocessing(
            frame_size=size_hw(frame_size, "frame_size"),
            face_detector=face_detector,
            box_scale=float(box_scale),
            detect_frames=positive_int(detect_frames, "detect_frames"),
            detect_every=detect_every,
            box_smoothing=box_smoothing,
            no_face=no_face,
            cache_dir=None if cache_dir is None else Path(cache_dir),
            verify_cache=verify_cache,
        )
        if self.num_workers and face_detector is not None:
            try:
                pickle.dumps(face_detector)
            except Exception as exc:
                raise ValueError(
                    f"face_detector: must be picklable to preprocess in worker processes (num_workers="
                    f"{self.num_workers}); {face_detector!r} is not ({type(exc).__name__}: {exc}). Use a module-level "
                    "class or function, or num_workers=0"
                ) from None
        self.videos = []
        self.skipped = []
        self._frames: list[npt.NDArray[np.uint8] | None] = []
        self._cache_files: list[Path | None] = []
        self._stats: list[dict[str, float]] = []
        self._bvp: list[npt.NDArray[np.float32]] = []
        self._hr: list[npt.NDArray[np.float32]] = []
        self._mmaps: dict[int, npt.NDArray[np.uint8]] = {}

    # The settings, under the names the datasets documented before they were grouped.
    @property
    def frame_size(self) -> tuple[int, int]:
        """The ``(height, width)`` of the preprocessed frames, in pixels."""
        return self.settings.frame_size

    @property
    def face_detector(self) -> FaceDetector | None:
        """The face detector, or ``None`` when the whole frame is used."""
        return self.settings.face_detector

    @property
    def cache_dir(self) -> Path | None:
        """The folder of the preprocessed-frame cache, or ``None``."""
        return self.settings.cache_dir

    # ------------------------------------------------------------------ loading

    def _load_entries(self, entries: Sequence[_E], load: Loader[_E], where: Callable[[_E], Path]) -> None:
        """Load every entry (``on_error`` applies), warn, and build the clip index.

        The warnings name the skipped videos, the rebuilt cache entries, the videos with missed faces and those
        too short for a clip.
        """
        name = type(self).__name__
        failures: dict[int, tuple[Path, str]] = {}
        pending: list[tuple[int, Generator[FrameJob, Frames, None], FrameJob]] = []
        for i, entry in enumerate(entries):
            loader = load(entry)
            try:
                pending.append((i, loader, next(loader)))
            except (OSError, ValueError) as exc:  # VideoDecodeError and FileNotFoundError are OSErrors
                failures[i] = self._fail(where(entry), exc)
        results = self._run_jobs([job for _, _, job in pending])
        notes: list[str] = []
        for (i, loader, job), result in zip(pending, results, strict=True):
            if isinstance(result, BaseException):
                loader.close()
                failures[i] = self._fail(where(entries[i]), result)
                continue
            if result.cache_note is not None:
                notes.append(f"  {result.cache_file}: {result.cache_note}")
            try:
                loader.send(result)
            except StopIteration:
                pass
            except (OSError, ValueError) as exc:
                failures[i] = self._fail(where(entries[i]), exc)
            else:  # pragma: no cover - every loader yields exactly one job
                raise RuntimeError(f"{name}: the loader of {job.source} yielded more than one job")
        self.skipped = [failures[i] for i in sorted(failures)]
        if notes:
            warnings.warn(
                f"{name}: ignoring {len(notes)} unreadable cache file(s) and recomputing them:\n" + "\n".join(notes),
                stacklevel=3,
            )
        if self.skipped:
            lines = "\n".join(f"  {path}: {reason}" for path, reason in self.skipped)
            warnings.warn(f"{name}: skipped {len(self.skipped)} video(s):\n{lines}", RuntimeWarning, stacklevel=3)
        missed = [(v.video_id, v.face_report) for v in self.videos if v.face_report and v.face_report.missed]
        if missed:
            lines = "\n".join(
                f"  {vid}: no face on {r.n_missed} of {r.n_detections} detection frames {list(r.missed)}"
                for vid, r in missed
            )
            warnings.warn(
                f"{name}: {len(missed)} video(s) have detection frames with no face; their boxes were filled with "
                f"no_face={self.settings.no_face!r} (see each video's face_report):\n{lines}",
                RuntimeWarning,
                stacklevel=3,
            )
        if short := [v.video_id for v in self.videos if v.n_clips == 0]:
            warnings.warn(
                f"{name}: {len(short)} video(s) shorter than clip_length={self.clip_length} frames give no clip: "
                f"{short}",
                stacklevel=3,
            )
        self.subjects = sorted({v.subject for v in self.videos})
        counts = np.array([v.n_clips for v in self.videos], dtype=np.int64)
        self._clip_video = np.repeat(np.arange(len(self.videos), dtype=np.int64), counts)
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
        self._clip_start = (np.arange(len(self._clip_video)) - np.repeat(offsets, counts)) * self.clip_stride

    def _fail(self, path: Path, exc: BaseException) -> tuple[Path, str]:
        """Raise ``exc`` (``on_error="raise"``), or return the ``(path, reason)`` that records the skip."""
        if self.on_error == "raise":
            raise exc
        return path, f"{type(exc).__name__}: {exc}"

    def _run_jobs(self, jobs: Sequence[FrameJob]) -> list[Frames | BaseException]:
        """Preprocess every job, in this process or in ``num_workers`` worker processes; results in job order.

        A data error (``OSError``, ``ValueError``) becomes the job's result with ``on_error="skip"`` and is raised at
        once, with the video's path, with ``on_error="raise"``; any other failure, and a worker process that dies,
        is always raised with the paths of the videos concerned.
        """
        results: list[Frames | BaseException | None] = [None] * len(jobs)
        progress = self._progress_bar(len(jobs))
        try:
            if self.num_workers == 0 or len(jobs) <= 1:
                for i, job in enumerate(jobs):
                    try:
                        results[i] = run_frame_job(job, self.settings)
                    except (OSError, ValueError) as exc:
                        results[i] = self._data_error(job, exc)
                    except Exception as exc:
                        raise RuntimeError(f"{job.source}: preprocessing failed: {type(exc).__name__}: {exc}") from exc
                    if progress is not None:
                        progress.update()
            else:
                self._run_in_workers(jobs, results, progress)
        finally:
            if progress is not None:
                progress.close()
        return [r for r in results if r is not None]

    def _run_in_workers(self, jobs: Sequence[FrameJob], results: list[Any], progress: Any) -> None:
        context = _worker_context()
        workers = min(self.num_workers, len(jobs))
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker) as pool:
            futures: dict[Future[Frames], int] = {
                pool.submit(run_frame_job, job, self.settings): i for i, job in enumerate(jobs)
            }
            try:
                for future in as_completed(futures):
                    i = futures[future]
                    try:
                        results[i] = future.result()
                    except BrokenProcessPool as exc:
                        unfinished = [jobs[j].source for f, j in futures.items() if not f.done() or j == i]
                        raise RuntimeError(
                            f"{type(self).__name__}: a preprocessing worker process died (killed, or out of memory?) "
                            f"while these videos were unfinished: {unfinished}"
                        ) from exc
                    except (OSError, ValueError) as exc:
                        results[i] = self._data_error(jobs[i], exc)
                    except Exception as exc:
                        raise RuntimeError(
                            f"{jobs[i].source}: preprocessing failed in a worker process: {type(exc).__name__}: {exc}"
                        ) from exc
                    if progress is not None:
                        progress.update()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def _data_error(self, job: FrameJob, exc: OSError | ValueError) -> BaseException:
        """The error, naming the video's path; raised at once with ``on_error="raise"``."""
        if job.source not in str(exc):
            named: BaseException = (OSError if isinstance(exc, OSError) else ValueError)(
                f"{job.source}: {type(exc).__name__}: {exc}"
            )
            named.__cause__ = exc
            exc = named  # type: ignore[assignment]
        if self.on_error == "raise":
            raise exc
        return exc

    def _progress_bar(self, total: int) -> Any:
        if not self.progress:
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            raise ImportError('progress=True needs tqdm: pip install tqdm (or "rppgblocks[examples]")') from None
        return tqdm(total=total, desc=f"{type(self).__name__}: preprocessing", unit="video")

    def _clip_count(self, n_frames: int) -> tuple[int, int]:
        """``(n_clips, n_dropped_frames)`` for a video of ``n_frames`` frames."""
        n_clips = 0 if n_frames < self.clip_length else (n_frames - self.clip_length) // self.clip_stride + 1
        covered = 0 if n_clips == 0 else (n_clips - 1) * self.clip_stride + self.clip_length
        return n_clips, n_frames - covered

    def _add_video(
        self,
        record: VideoRecord,
        loaded: Frames,
        bvp: npt.NDArray[np.float64],
        hr: npt.NDArray[np.float64],
    ) -> None:
        """Keep the video: its record, frames (or cache file), statistics, and labels (normalised as asked)."""
        self.videos.append(record)
        self._frames.append(loaded.frames if loaded.cache_file is None else None)
        self._cache_files.append(loaded.cache_file)
        self._stats.append(loaded.stats)
        self._bvp.append(normalize_label(bvp, self.label_normalization).astype(np.float32))
        self._hr.append(hr.astype(np.float32))

    # ------------------------------------------------------------------ access

    def __len__(self) -> int:
        return len(self._clip_video)

    def __getitem__(self, index: int) -> ClipSample:
        """Return clip ``index`` as a :class:`~rppgblocks.data.sample.ClipSample`.

        Args:
            index: The clip index, ``-len(self) <= index < len(self)``.

        Returns:
            The clip (normalised as ``video_normalization`` says), its BVP (normalised as ``label_normalization``
            says), mean reference HR (bpm), frame rate (Hz), subject, video id and first frame.

        Raises:
            IndexError: If ``index`` is out of range.
            TypeError: If ``index`` is not an integer.
        """
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an integer, got {type(index).__name__}")
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index: expected -{n} <= index < {n}, got {index}")
        index = int(index) % n
        v = int(self._clip_video[index])
        start = int(self._clip_start[index])
        stop = start + self.clip_length
        record = self.videos[v]
        frames = self._video_frames(v)
        # DiffNormalized frame t needs frame t + 1: read one more frame, except at the end of the video.
        extra = 1 if "diff_normalized" in self.video_normalization and stop < len(frames) else 0
        raw = torch.from_numpy(np.array(frames[start : stop + extra]))
        return {
            "video": normalize_clip(raw, self.video_normalization, self._stats[v], self.clip_length),
            "bvp": torch.from_numpy(self._bvp[v][start:stop].copy()),
            "hr": torch.tensor(float(self._hr[v][start:stop].mean()), dtype=torch.float32),
            "fs": torch.tensor(record.fps, dtype=torch.float32),
            "subject": record.subject,
            "video_id": record.video_id,
            "start": start,
        }

    def _video_frames(self, v: int) -> npt.NDArray[np.uint8]:
        frames, path = self._frames[v], self._cache_files[v]
        if frames is None and path is not None:
            if v not in self._mmaps:
                self._mmaps[v] = np.load(path, mmap_mode="r")
            frames = self._mmaps[v]
        if frames is None:  # pragma: no cover - every video has in-memory frames or a cache file
            raise RuntimeError(f"{type(self).__name__}: no frames stored for video {self.videos[v].video_id}")
        return frames

    def clip_indices(self, subjects: Iterable[int]) -> list[int]:
        """The indices of the clips of the given subjects (for :class:`torch.utils.data.Subset`).

        Args:
            subjects: Subject ids; ids absent from the dataset select nothing.

        Returns:
            The clip indices, ascending.

        Raises:
            ValueError: If a subject id is not a positive integer.

        Examples:
            See the dataset classes; typically ``Subset(data, data.clip_indices(test_ids))``.
        """
        wanted = np.array(sorted(subject_ids(subjects)), dtype=np.int64)
        video_subjects = np.array([v.subject for v in self.videos], dtype=np.int64)
        clip_subjects = video_subjects[self._clip_video] if len(self._clip_video) else self._clip_video
        return [int(i) for i in np.flatnonzero(np.isin(clip_subjects, wanted))]

    def clip_locations(self) -> list[tuple[str, int]]:
        """``(video_id, start)`` of every clip, in index order.

        Returns:
            One ``(video_id, first frame)`` pair per clip.

        Examples:
            See the dataset classes.
        """
        return [(self.videos[v].video_id, int(s)) for v, s in zip(self._clip_video, self._clip_start, strict=True)]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_mmaps"] = {}  # memory maps are reopened in each process
        return state

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(root={str(self.root)!r}, videos={len(self.videos)}, clips={len(self)}, "
            f"subjects={len(self.subjects)}, skipped={len(self.skipped)}, clip_length={self.clip_length}, "
            f"clip_stride={self.clip_stride}, frame_size={self.frame_size})"
        )


def _worker_context() -> multiprocessing.context.BaseContext:
    """Forkserver where the platform has it, else spawn; never fork (unsafe once torch's thread pools exist).

    The fork server imports this module once, before it forks the workers, so a pool starts in milliseconds instead
    of each worker importing torch (seconds).
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])  # no effect once this process's fork server runs
        return context
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def _init_worker() -> None:
    """One thread per worker process for OpenCV and torch: the processes are the parallelism (no oversubscription)."""
    torch.set_num_threads(1)
    try:
        import cv2
    except ImportError:  # pragma: no cover - the loaders decode with OpenCV
        return
    cv2.setNumThreads(1)


# ---------------------------------------------------------------------- normalisation


def normalizations(
    value: Any, name: str = "video_normalization", at_most: int | None = None
) -> tuple[Normalization, ...]:
    """One normalisation name or a sequence of them, checked; ``ValueError`` naming ``name`` otherwise."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items or (at_most is not None and len(items) > at_most):
        expected = "one of" if at_most == 1 else "one or a sequence of"
        raise ValueError(f"{name}: expected {expected} {list(NORMALIZATIONS)}, got {value!r}")
    for item in items:
        if item not in NORMALIZATIONS:
            raise ValueError(
                f"{name}: expected {list(NORMALIZATIONS)} (rPPG-Toolbox's Raw, Standardized, DiffNormalized), "
                f"got {item!r}"
            )
    return tuple(items)


def normalization_stats(frames: npt.NDArray[np.uint8]) -> dict[str, float]:
    """The whole-video statistics of the normalisations, over 0-255 intensities, in float64, chunk by chunk.

    ``mean`` and ``std``: of every value (rPPG-Toolbox's Standardized); ``diff_std``: of the ``T - 1`` frames of
    ``(x[t+1] - x[t]) / (x[t+1] + x[t] + 1e-7)`` (its DiffNormalized), 0 for a single frame.
    """
    n = frames.shape[0]

    def chunks(overlap: int) -> Iterator[npt.NDArray[np.float64]]:
        for s in range(0, max(n - overlap, 0), _STATS_CHUNK):
            yield np.asarray(frames[s : s + _STATS_CHUNK + overlap], dtype=np.float64)

    def diffs() -> Iterator[npt.NDArray[np.float64]]:
        for x in chunks(1):
            yield (x[1:] - x[:-1]) / (x[1:] + x[:-1] + _DIFF_EPS)

    def mean_std(parts: Callable[[], Iterator[npt.NDArray[np.float64]]]) -> tuple[float, float]:
        total, count = 0.0, 0
        for x in parts():
            total, count = total + float(x.sum()), count + x.size
        if count == 0:
            return 0.0, 0.0
        mean = total / count
        squares = sum(float(np.square(x - mean).sum()) for x in parts())
        return mean, float(np.sqrt(squares / count))

    mean, std = mean_std(lambda: chunks(0))
    _, diff_std = mean_std(diffs)
    return {"mean": mean, "std": std, "diff_std": diff_std}


def normalize_clip(
    raw: torch.Tensor, methods: Sequence[Normalization], stats: dict[str, float], length: int
) -> torch.Tensor:
    """``(t, h, w, 3)`` ``uint8`` frames (``t`` = ``length`` or ``length + 1``) -> the ``(C, length, h, w)`` clip.

    Each method gives 3 channels, concatenated in order: ``raw`` is RGB in [0, 1]; ``standardized`` and
    ``diff_normalized`` use the whole video's statistics, as rPPG-Toolbox normalises each video before cutting
    clips (a frame past the clip, when there is one, completes DiffNormalized's last frame).
    """
    video = rearrange(raw, "t h w c -> 1 c t h w").to(torch.float32)
    parts = []
    for method in methods:
        if method == "raw":
            parts.append(video[:, :, :length] / 255.0)
        elif method == "standardized":
            parts.append(standardize(video[:, :, :length], mean=stats["mean"], std=stats["std"]))
        else:
            parts.append(diff_normalize(video, eps=_DIFF_EPS, std=stats["diff_std"])[:, :, :length])
    return torch.cat(parts, dim=1)[0]


def normalize_label(bvp: npt.NDArray[np.float64], method: Normalization) -> npt.NDArray[np.float64]:
    """The whole video's label, normalised (rPPG-Toolbox's ``LABEL_TYPE``)."""
    if method == "raw" or bvp.size < 2:
        return bvp
    signal = torch.from_numpy(np.ascontiguousarray(bvp, dtype=np.float64))[None]
    out = diff_normalize_label(signal) if method == "diff_normalized" else standardize_label(signal)
    return out[0].numpy()


# ---------------------------------------------------------------------- preprocessing


def run_frame_job(job: FrameJob, settings: Preprocessing) -> Frames:
    """Preprocess one video: from its cache entry when a valid one exists, else decoded (and cached).

    Runs in the dataset's process or in a worker process; with a cache the frames stay on disk (``frames`` is
    ``None``) so that only the small record travels back.
    """
    cache_file, key, note = None, None, None
    if settings.cache_dir is not None:
        key = {
            "format": "rppgblocks-frames",
            "version": CACHE_VERSION,
            "video_id": job.video_id,
            "source": job.source_key,
            "params": settings.key(),
        }
        key = json.loads(json.dumps(key, sort_keys=True))
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
        cache_file = settings.cache_dir / f"{job.prefix}-{job.video_id.replace('/', '_')}-{digest}.npy"
        cached, note = read_cache(cache_file, key, verify=settings.verify_cache)
        if cached is not None:
            return cached
    frames, frame_hw, box, report = preprocess_video(job.reader, settings, job.source)
    loaded = Frames(frames, int(frames.shape[0]), frame_hw, box, report, normalization_stats(frames))
    if cache_file is None or key is None:
        return loaded
    write_cache(cache_file, key, loaded)
    return replace(loaded, frames=None, cache_file=cache_file, cache_note=note)


def preprocess_video(
    reader: Callable[[], Iterable[npt.NDArray[np.uint8]]], settings: Preprocessing, source: str
) -> tuple[npt.NDArray[np.uint8], tuple[int, int], FaceBox | None, FaceTrackReport | None]:
    """Decode, detect, crop and resize one video; ``(frames, frame_hw, static box, face report)``.

    Without a detector the whole frame is resized. With ``detect_every=None`` the face is detected on
    ``detect_frames`` frames spread over the first chunk and one box (their median) crops every frame, in one pass
    (rPPG-Toolbox's default). With ``detect_every=N`` a first pass detects on every N-th frame and the last one,
    fills and smooths that track (:func:`~rppgblocks.data.face.resolve_face_track`), and a second pass crops each
    frame with its interpolated box. Only one full-resolution chunk is alive at a time.
    """
    if settings.face_detector is not None and settings.detect_every is not None:
        return _preprocess_tracked(reader, settings, settings.face_detector, settings.detect_every, source)
    resized: list[npt.NDArray[np.uint8]] = []
    box: FaceBox | None = None
    report: FaceTrackReport | None = None
    frame_hw = (0, 0)
    for chunk in reader():
        if not resized:
            frame_hw = (int(chunk.shape[1]), int(chunk.shape[2]))
            if settings.face_detector is not None:
                box, report = _static_box(chunk, settings, settings.face_detector, source)
        else:
            _check_frame_size(chunk, frame_hw, source)
        resized.append(crop_resize(chunk, box, settings.frame_size))
        del chunk  # free the full-resolution chunk before the next one is decoded
    if not resized:
        raise ValueError(f"{source}: no frames")
    return np.concatenate(resized), frame_hw, box, report


def _static_box(
    chunk: npt.NDArray[np.uint8], settings: Preprocessing, detector: FaceDetector, source: str
) -> tuple[FaceBox, FaceTrackReport]:
    """The median of the largest boxes on ``detect_frames`` frames spread over the first chunk, enlarged."""
    indices = spread_indices(len(chunk), settings.detect_frames)
    found = [largest_box(detector, chunk[i]) for i in indices]
    missed = tuple(i for i, b in zip(indices, found, strict=True) if b is None)
    hits = [b for b in found if b is not None]
    if not hits:
        raise FaceNotFoundError(source, indices)
    if missed and settings.no_face == "fail":
        raise FaceNotFoundError(source, missed)
    frame_hw = (int(chunk.shape[1]), int(chunk.shape[2]))
    box = median_box(hits).enlarge(settings.box_scale, frame_hw)
    return box, FaceTrackReport(tuple(indices), missed, settings.no_face, None)


def _preprocess_tracked(
    reader: Callable[[], Iterable[npt.NDArray[np.uint8]]],
    settings: Preprocessing,
    detector: FaceDetector,
    every: int,
    source: str,
) -> tuple[npt.NDArray[np.uint8], tuple[int, int], None, FaceTrackReport]:
    indices: list[int] = []
    found: list[FaceBox | None] = []
    n, frame_hw = 0, (0, 0)
    last: npt.NDArray[np.uint8] | None = None
    for chunk in reader():  # pass 1: detect on every `every`-th frame (and keep the last frame)
        if n == 0:
            frame_hw = (int(chunk.shape[1]), int(chunk.shape[2]))
        else:
            _check_frame_size(chunk, frame_hw, source)
        for i in range(-(-n // every) * every, n + len(chunk), every):
            indices.append(i)
            found.append(largest_box(detector, chunk[i - n]))
        n += len(chunk)
        if len(chunk):
            last = np.array(chunk[-1])
        del chunk
    if n == 0 or last is None:
        raise ValueError(f"{source}: no frames")
    if indices[-1] != n - 1:
        indices.append(n - 1)
        found.append(largest_box(detector, last))
    track = resolve_face_track(indices, found, policy=settings.no_face, smoothing=settings.box_smoothing, source=source)
    boxes = enlarge_boxes(boxes_at_frames(indices, track, n), settings.box_scale, frame_hw)
    resized: list[npt.NDArray[np.uint8]] = []
    m = 0
    for chunk in reader():  # pass 2: crop every frame with its own box
        if m + len(chunk) > n:
            break
        resized.append(crop_resize(chunk, boxes[m : m + len(chunk)], settings.frame_size))
        m += len(chunk)
        del chunk
    if m != n:
        raise ValueError(f"{source}: decoded {n} frames on the first pass but {m} on the second")
    missed = tuple(i for i, b in zip(indices, found, strict=True) if b is None)
    return np.concatenate(resized), frame_hw, None, FaceTrackReport(tuple(indices), missed, settings.no_face, every)


def _check_frame_size(chunk: npt.NDArray[np.uint8], frame_hw: tuple[int, int], source: str) -> None:
    if (int(chunk.shape[1]), int(chunk.shape[2])) != frame_hw:
        raise ValueError(
            f"{source}: frame size changes from {frame_hw[0]}x{frame_hw[1]} to "
            f"{chunk.shape[1]}x{chunk.shape[2]} (height x width)"
        )


def file_signature(path: Path) -> list[Any]:
    """``[resolved path, size, mtime_ns]``: what identifies a source file in a cache key."""
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]


# ---------------------------------------------------------------------- cache


def read_cache(path: Path, key: dict[str, Any], *, verify: bool = False) -> tuple[Frames | None, str | None]:
    """The cache entry at ``path`` and ``None``, or ``None`` and why it cannot be used (``None`` when absent).

    The manifest must carry the same key; the ``.npy`` must have the recorded size, shape and dtype, and, with
    ``verify``, the recorded SHA-256 of its bytes. A ``.npy`` without a manifest is an interrupted write: rebuilt.
    """
    manifest_path = path.with_suffix(".json")
    if not manifest_path.is_file():
        return None, None if not path.is_file() else "no manifest (an interrupted write)"
    try:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("key") != key:
            raise ValueError(f"the manifest {manifest_path} records another key")
        if path.stat().st_size != manifest["bytes"]:
            raise ValueError(f"{path.stat().st_size} bytes, the manifest records {manifest['bytes']}")
        if verify and (digest := file_sha256(path)) != manifest["sha256"]:
            raise ValueError(f"content hash {digest[:12]}... differs from the manifest's {manifest['sha256'][:12]}...")
        frames = np.load(path, mmap_mode="r")
        if frames.dtype != np.uint8 or list(frames.shape) != manifest["shape"]:
            raise ValueError(f"shape {frames.shape} or dtype {frames.dtype} does not match {manifest_path}")
        box = None if manifest["face_box"] is None else FaceBox(*(int(v) for v in manifest["face_box"]))
        report = None if manifest["face_report"] is None else FaceTrackReport.from_dict(manifest["face_report"])
        loaded = Frames(
            frames=None,
            n_frames=int(frames.shape[0]),
            frame_hw=(int(manifest["frame_hw"][0]), int(manifest["frame_hw"][1])),
            face_box=box,
            face_report=report,
            stats={k: float(v) for k, v in manifest["normalization_stats"].items()},
            cache_file=path,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return None, f"unreadable cache file ({exc})"
    return loaded, None


def write_cache(path: Path, key: dict[str, Any], data: Frames) -> None:
    """Write the frames, then the manifest that marks them complete, each atomically (temp file + rename).

    The manifest records the key (source files and parameters), the content's size and SHA-256, the shape and
    dtype, the face box or track report, the normalisation statistics, the library version and the time.
    """
    if data.frames is None:  # pragma: no cover - only freshly preprocessed frames are written
        raise RuntimeError(f"{path}: no frames to cache")
    frames = data.frames
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: np.save(f, frames, allow_pickle=False))
    manifest = {
        "key": key,
        "shape": list(frames.shape),
        "dtype": str(frames.dtype),
        "bytes": path.stat().st_size,
        "sha256": file_sha256(path),
        "frame_hw": list(data.frame_hw),
        "face_box": None if data.face_box is None else list(data.face_box),
        "face_report": None if data.face_report is None else data.face_report.to_dict(),
        "normalization_stats": data.stats,
        "rppgblocks_version": __version__,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write(path.with_suffix(".json"), lambda f: f.write(json.dumps(manifest, indent=1).encode()))


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read 4 MiB at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: Path, write: Any) -> None:
    """Call ``write(binary_file)`` on a temporary file next to ``path``, then rename it to ``path``."""
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------- text files


def data_lines(path: Path) -> list[tuple[int, str]]:
    """The non-blank lines of a text file, stripped, with their 1-based line numbers."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a text file ({exc})") from None
    return [(i, line.strip()) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]


def parse_number(path: Path, lineno: int, text: str, what: str = "one number per line") -> float:
    """A finite float, or a ``ValueError`` naming the file and line."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{path}:{lineno}: expected {what}, got {text!r}") from None
    if not np.isfinite(value):
        raise ValueError(f"{path}:{lineno}: expected a finite number, got {text!r}")
    return value


# ---------------------------------------------------------------------- validation


def positive_int(value: Any, name: str) -> int:
    """``value`` as an ``int`` if it is a positive integer, else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def size_hw(value: Any, name: str) -> tuple[int, int]:
    """A ``(height, width)`` pair of positive integers."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name}: expected (height, width) in pixels, got {value!r}")
    return positive_int(value[0], name), positive_int(value[1], name)


def subject_ids(subjects: Iterable[int], example: str = "p12 -> 12") -> set[int]:
    """A set of positive integer subject ids, or a ``ValueError``."""
    if isinstance(subjects, (str, bytes)):
        raise ValueError(f"subjects: expected integer subject ids such as [1, 100], got {subjects!r}")
    ids = set()
    for s in subjects:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s <= 0:
            raise ValueError(f"subjects: expected positive integer subject ids ({example}), got {s!r}")
        ids.add(int(s))
    return ids


def fmt(values: set[Any] | None) -> str:
    """``"all"`` for ``None``, else the sorted values."""
    return "all" if values is None else str(sorted(values))


def warn_absent_subjects(owner: str, requested: set[int] | None, present: set[int], root: Path) -> None:
    """Warn about requested subject ids that the tree does not hold."""
    if requested is not None and (absent := sorted(requested - present)):
        warnings.warn(f"{owner}: subjects {absent} requested but not found under {root}", stacklevel=3)


# ---------------------------------------------------------------------- labels


def check_coverage(
    path: Path, sample_times: npt.NDArray[Any], frame_times: npt.NDArray[Any], tol: float, unit: str
) -> None:
    """Raise a ``ValueError`` naming ``path`` if the samples do not span the frames (within ``tol``)."""
    first, last = float(sample_times[0]), float(sample_times[-1])
    f_first, f_last = float(frame_times[0]), float(frame_times[-1])
    if first > f_first + tol or last < f_last - tol:
        raise ValueError(
            f"{path}: the label runs from {first:g} to {last:g} {unit} but the frames from {f_first:g} to "
            f"{f_last:g} {unit}; the label must cover every frame (within one frame period, {tol:g} {unit})"
        )


def interp_valid(
    path: Path,
    at: npt.NDArray[np.float64],
    positions: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    valid: npt.NDArray[np.bool_] | None = None,
    what: str = "value",
) -> npt.NDArray[np.float64]:
    """``np.interp(at, positions, values)`` over the ``valid`` samples only; ``ValueError`` if none is valid."""
    if valid is not None:
        if not valid.any():
            raise ValueError(f"{path}: no valid {what} (all {values.size} samples are out of range)")
        positions, values = positions[valid], values[valid]
    return np.interp(at, positions, values)


def index_stretch(values: npt.NDArray[np.float64], length: int) -> npt.NDArray[np.float64]:
    """rPPG-Toolbox's ``resample_ppg``: an index-based linear stretch of ``values`` to ``length`` samples."""
    n = values.size
    return np.interp(np.linspace(1, n, length), np.linspace(1, n, n), values)
