"""Shared machinery of the clip datasets (:class:`~rppgblocks.data.VIPLHR`, UBFC-rPPG, PURE); private.

A clip dataset indexes a dataset tree, preprocesses each video once (chunked decode, face detection on the first
chunk, crop and resize to small ``uint8`` frames, optionally cached as ``.npy``), aligns its labels to the frames,
and cuts fixed-length clips with a stride. The dataset-specific parts (indexing, label files, timing) live in the
dataset modules; this module holds what they share: argument checks, preprocessing, the frame cache, the
``on_error`` loop, the clip index and the item access.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import torch
from einops import rearrange
from torch.utils.data import Dataset

from rppgblocks.data.face import FaceBox, FaceDetector, HaarFaceDetector, crop_resize, detect_face_box
from rppgblocks.data.sample import ClipSample

OnError = Literal["raise", "skip"]

CHUNK_SIZE = 32  # frames decoded at a time: 32 x 1920x1080 RGB = 190 MiB
CACHE_VERSION = 2  # 2: crops resized with OpenCV's INTER_AREA (was torch's area pooling)

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


@dataclass(frozen=True)
class Frames:
    """Preprocessed frames of one video, and where they came from."""

    frames: npt.NDArray[np.uint8]
    frame_hw: tuple[int, int]
    face_box: FaceBox | None


class ClipDataset(Dataset[ClipSample]):
    """Base of the clip datasets: preprocessing, cache, ``on_error`` loop, clip index and item access.

    A subclass calls :meth:`_init_common` first, then :meth:`_load_entries` with its index and a per-entry loader
    that calls :meth:`_load_frames` and :meth:`_add_video`.
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
    ) -> None:
        if not isinstance(progress, bool):
            raise ValueError(f"progress: expected True or False, got {progress!r}")
        self.progress = progress
        self.clip_length = positive_int(clip_length, "clip_length")
        self.clip_stride = self.clip_length if clip_stride is None else positive_int(clip_stride, "clip_stride")
        self.frame_size = size_hw(frame_size, "frame_size")
        if isinstance(face_detector, str) and face_detector == "haar":
            face_detector = HaarFaceDetector()
        elif face_detector is not None and (isinstance(face_detector, str) or not callable(face_detector)):
            raise ValueError(f"face_detector: expected a FaceDetector, 'haar' or None, got {face_detector!r}")
        self.face_detector: FaceDetector | None = face_detector
        if isinstance(box_scale, bool) or not isinstance(box_scale, (int, float)) or not 0 < box_scale < float("inf"):
            raise ValueError(f"box_scale: expected a finite number > 0, got {box_scale!r}")
        self.box_scale = float(box_scale)
        self.detect_frames = positive_int(detect_frames, "detect_frames")
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error: expected 'raise' or 'skip', got {on_error!r}")
        self.on_error: OnError = on_error
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.videos = []
        self.skipped = []
        self._frames: list[npt.NDArray[np.uint8] | None] = []
        self._cache_files: list[Path | None] = []
        self._bvp: list[npt.NDArray[np.float32]] = []
        self._hr: list[npt.NDArray[np.float32]] = []
        self._mmaps: dict[int, npt.NDArray[np.uint8]] = {}

    # ------------------------------------------------------------------ loading

    def _load_entries(self, entries: Sequence[_E], load: Callable[[_E], None], where: Callable[[_E], Path]) -> None:
        """Load every entry (``on_error`` applies), warn about skips and clip-less videos, build the clip index."""
        name = type(self).__name__
        iterable: Iterable[_E] = entries
        if self.progress:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                raise ImportError('progress=True needs tqdm: pip install tqdm (or "rppgblocks[examples]")') from None
            iterable = tqdm(entries, desc=f"{name}: preprocessing", unit="video")
        for entry in iterable:
            try:
                load(entry)
            except (OSError, ValueError) as exc:  # VideoDecodeError and FileNotFoundError are OSErrors
                if self.on_error == "raise":
                    raise
                self.skipped.append((where(entry), f"{type(exc).__name__}: {exc}"))
        if self.skipped:
            lines = "\n".join(f"  {path}: {reason}" for path, reason in self.skipped)
            warnings.warn(f"{name}: skipped {len(self.skipped)} video(s):\n{lines}", RuntimeWarning, stacklevel=3)
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

    def _load_frames(
        self,
        *,
        prefix: str,
        video_id: str,
        source_key: dict[str, Any],
        chunks: Callable[[], Iterable[npt.NDArray[np.uint8]]],
        source: str,
    ) -> tuple[Frames, Path | None]:
        """The preprocessed frames, from the cache when one matches, else decoded (and cached if ``cache_dir``).

        ``source_key`` identifies the source files (path, size, modification time) in the cache key; ``chunks``
        yields the full-resolution ``(t, h, w, 3)`` RGB chunks on demand; ``source`` names them in errors.
        """
        cache_file = None
        if self.cache_dir is not None:
            key = {
                "version": CACHE_VERSION,
                **source_key,
                "frame_size": list(self.frame_size),
                "face_detector": repr(self.face_detector),
                "box_scale": self.box_scale,
                "detect_frames": self.detect_frames,
                "chunk_size": CHUNK_SIZE,
            }
            digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
            cache_file = self.cache_dir / f"{prefix}-{video_id.replace('/', '_')}-{digest}.npy"
        loaded = None if cache_file is None else read_cache(cache_file, type(self).__name__)
        if loaded is None:
            loaded = preprocess_chunks(
                chunks(),
                self.face_detector,
                frame_size=self.frame_size,
                box_scale=self.box_scale,
                detect_frames=self.detect_frames,
                source=source,
            )
            if cache_file is not None:
                write_cache(cache_file, loaded)
        return loaded, cache_file

    def _clip_count(self, n_frames: int) -> tuple[int, int]:
        """``(n_clips, n_dropped_frames)`` for a video of ``n_frames`` frames."""
        n_clips = 0 if n_frames < self.clip_length else (n_frames - self.clip_length) // self.clip_stride + 1
        covered = 0 if n_clips == 0 else (n_clips - 1) * self.clip_stride + self.clip_length
        return n_clips, n_frames - covered

    def _add_video(
        self,
        record: VideoRecord,
        loaded: Frames,
        cache_file: Path | None,
        bvp: npt.NDArray[np.float32],
        hr: npt.NDArray[np.float32],
    ) -> None:
        self.videos.append(record)
        self._frames.append(None if cache_file is not None else loaded.frames)
        self._cache_files.append(cache_file)
        self._bvp.append(bvp)
        self._hr.append(hr)

    # ------------------------------------------------------------------ access

    def __len__(self) -> int:
        return len(self._clip_video)

    def __getitem__(self, index: int) -> ClipSample:
        """Return clip ``index`` as a :class:`~rppgblocks.data.sample.ClipSample`.

        Args:
            index: The clip index, ``-len(self) <= index < len(self)``.

        Returns:
            The clip, its BVP, mean reference HR (bpm), frame rate (Hz), subject, video id and first frame.

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
        frames = np.array(self._video_frames(v)[start:stop])
        video = rearrange(torch.from_numpy(frames), "t h w c -> c t h w").to(torch.float32).div_(255.0)
        return {
            "video": video,
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


# ---------------------------------------------------------------------- preprocessing


def preprocess_chunks(
    chunks: Iterable[npt.NDArray[np.uint8]],
    face_detector: FaceDetector | None,
    *,
    frame_size: tuple[int, int],
    box_scale: float,
    detect_frames: int,
    source: str,
) -> Frames:
    """Detect the face on the first chunk, crop every chunk with the enlarged box and resize it to ``frame_size``.

    Only one full-resolution chunk is alive at a time. Raises ``ValueError`` if ``chunks`` yields nothing.
    """
    resized: list[npt.NDArray[np.uint8]] = []
    box: FaceBox | None = None
    frame_hw = (0, 0)
    iterator: Iterator[npt.NDArray[np.uint8]] = iter(chunks)
    for chunk in iterator:
        if not resized:
            frame_hw = (int(chunk.shape[1]), int(chunk.shape[2]))
            if face_detector is not None:
                found = detect_face_box(chunk, face_detector, n_frames=detect_frames, source=source)
                box = found.enlarge(box_scale, frame_hw)
        elif (int(chunk.shape[1]), int(chunk.shape[2])) != frame_hw:
            raise ValueError(
                f"{source}: frame size changes from {frame_hw[0]}x{frame_hw[1]} to "
                f"{chunk.shape[1]}x{chunk.shape[2]} (height x width)"
            )
        resized.append(crop_resize(chunk, box, frame_size))
        del chunk  # free the full-resolution chunk before the next one is decoded
    if not resized:
        raise ValueError(f"{source}: no frames")
    return Frames(np.concatenate(resized), frame_hw, box)


def file_signature(path: Path) -> list[Any]:
    """``[resolved path, size, mtime_ns]``: what identifies a source file in a cache key."""
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]


# ---------------------------------------------------------------------- cache


def read_cache(path: Path, owner: str) -> Frames | None:
    """The cached frames at ``path``, or ``None`` when absent or unreadable (warned, then recomputed)."""
    meta_path = path.with_suffix(".json")
    if not (path.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
        frames = np.load(path, mmap_mode="r")
        if frames.dtype != np.uint8 or list(frames.shape) != meta["shape"]:
            raise ValueError(f"shape {frames.shape} or dtype {frames.dtype} does not match {meta_path}")
        box = None if meta["face_box"] is None else FaceBox(*(int(v) for v in meta["face_box"]))
        frame_hw = (int(meta["frame_hw"][0]), int(meta["frame_hw"][1]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        warnings.warn(f"{owner}: ignoring the unreadable cache file {path} ({exc}); recomputing it", stacklevel=5)
        return None
    return Frames(frames, frame_hw, box)


def write_cache(path: Path, data: Frames) -> None:
    """Write the frames, then the metadata that marks them complete, each atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "shape": list(data.frames.shape),
        "frame_hw": list(data.frame_hw),
        "face_box": None if data.face_box is None else list(data.face_box),
    }
    atomic_write(path, lambda f: np.save(f, data.frames, allow_pickle=False))
    atomic_write(path.with_suffix(".json"), lambda f: f.write(json.dumps(meta).encode()))


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
