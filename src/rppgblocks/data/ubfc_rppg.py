"""The UBFC-rPPG dataset (DATASET_1 "simple" and DATASET_2 "realistic") as face clips with per-frame BVP and HR.

Source: Bobbia, Macwan, Benezeth, Mansouri and Dubois, "Unsupervised skin tissue segmentation for remote
photoplethysmography", Pattern Recognition Letters 2019; on-disk layout, file contents and label alignment as
specified in ``/work/shared/design/datasets.md`` §2 and §5.3, face crop as in §4.2 (see :mod:`rppgblocks.data.face`).

The time contract. Frame ``i`` of a video is at ``i / fps`` seconds, with ``fps`` the rate stored in the video
container (see :class:`UBFCRPPG` for the fallback when the container has none).

- DATASET_2 (``subject<N>/vid.avi`` + ``ground_truth.txt``): the file's three rows (PPG, HR in bpm, timestamps in
  seconds) hold **one sample per video frame**, so the labels are paired with the frames one to one (as
  rPPG-Toolbox does), which is the same as interpolating them at the frame timestamps of the third row. The row
  length must equal the number of decoded frames; anything else is an error (no silent truncation or stretch).
- DATASET_1 (``<N>-gt/vid*.avi`` + ``gtdump.xmp``): the oximeter rows (``ms, HR, SpO2, PPG``, about 62 Hz) are
  interpolated linearly from their own timestamps onto the frame times ``1000 i / fps`` ms. The rows must cover
  every frame within one frame period at either end (where the label holds its first or last value); a label that
  ends earlier is an error.

In both, heart rates outside :data:`~rppgblocks.data.vipl_hr.HR_VALID_RANGE_BPM` (oximeter fault codes) are left
out and the remaining ones interpolated over them.
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
from typing import Literal

import numpy as np
import numpy.typing as npt

from rppgblocks.data._clips import (
    CHUNK_SIZE,
    ClipDataset,
    FrameJob,
    Frames,
    OnError,
    check_coverage,
    data_lines,
    file_signature,
    fmt,
    interp_valid,
    parse_number,
    subject_ids,
    warn_absent_subjects,
)
from rppgblocks.data.face import DEFAULT_BOX_SCALE, FaceBox, FaceDetector, FaceTrackReport, NoFacePolicy
from rppgblocks.data.sample import Normalization
from rppgblocks.data.video import _cv2, iter_video
from rppgblocks.data.vipl_hr import HR_VALID_RANGE_BPM

__all__ = ["UBFCRPPG", "UBFC_RPPG_NOMINAL_FPS", "UBFCRPPGVideo", "ubfc_rppg_subjects"]

_log = logging.getLogger(__name__)

#: The frame rate used when a DATASET_1 video's container stores none (the camera's nominal 30 fps), in Hz.
UBFC_RPPG_NOMINAL_FPS: float = 30.0

Variant = Literal["dataset_1", "dataset_2"]

_D2_RE = re.compile(r"^subject(\d+)$")
_D1_RE = re.compile(r"^(\d+)-gt$")
_D2_LABEL, _D1_LABEL = "ground_truth.txt", "gtdump.xmp"
_LABEL_FILE: dict[Variant, str] = {"dataset_2": _D2_LABEL, "dataset_1": _D1_LABEL}


@dataclass(frozen=True)
class UBFCRPPGVideo:
    """One UBFC-rPPG video as indexed and preprocessed by :class:`UBFCRPPG`.

    Attributes:
        subject: The subject id: ``N`` of the ``subject<N>`` (DATASET_2) or ``<N>-gt`` (DATASET_1) folder.
        video_id: The folder name, e.g. ``"subject1"`` or ``"5-gt"``.
        variant: ``"dataset_2"`` (``ground_truth.txt``) or ``"dataset_1"`` (``gtdump.xmp``).
        directory: The folder holding the video's files.
        video_path: The ``vid*.avi`` file.
        label_path: ``ground_truth.txt`` or ``gtdump.xmp``.
        fps: The frame rate in Hz.
        fps_source: Where ``fps`` comes from: ``"container"``, ``"timestamps"`` (DATASET_2 fallback: ``(n - 1) /
            (t_last - t_first)`` from the time row) or ``"nominal"`` (DATASET_1 fallback,
            :data:`UBFC_RPPG_NOMINAL_FPS`).
        n_frames: The number of decoded frames.
        frame_hw: The original frame size ``(height, width)`` in pixels.
        face_box: The enlarged crop box in original-frame pixels, or ``None`` when the whole frame is used or the
            face is tracked (``detect_every``).
        face_report: Where the face was searched and where it was not found
            (:class:`~rppgblocks.data.face.FaceTrackReport`), or ``None`` without a face detector.
        n_clips: The number of clips cut from this video.
        n_dropped_frames: Frames after the last clip that no clip covers (the remainder).

    Examples:
        >>> import dataclasses
        >>> [field.name for field in dataclasses.fields(UBFCRPPGVideo)][:3]
        ['subject', 'video_id', 'variant']
    """

    subject: int
    video_id: str
    variant: Variant
    directory: Path
    video_path: Path
    label_path: Path
    fps: float
    fps_source: Literal["container", "timestamps", "nominal"]
    n_frames: int
    frame_hw: tuple[int, int]
    face_box: FaceBox | None
    face_report: FaceTrackReport | None
    n_clips: int
    n_dropped_frames: int


@dataclass(frozen=True)
class _Entry:
    subject: int
    video_id: str
    directory: Path


class UBFCRPPG(ClipDataset):
    r"""UBFC-rPPG face clips with the per-frame BVP and the reference heart rate.

    Source: Bobbia et al., PRL 2019 (UBFC-rPPG); layout, timing and label alignment from ``datasets.md`` §2 and
    §5.3 (the time contract is in this module's docstring), face crop from §4.2.

    Construction indexes the subject folders (sorted numerically), then decodes each selected video in chunks,
    detects the face on frames of the first chunk, crops every frame with the enlarged box, resizes it to
    ``frame_size`` and keeps the small ``uint8`` frames (or caches them, see ``cache_dir``); the labels are read and
    aligned to the frames. Clips are cut with ``clip_stride`` frames between starts; the frames after the last whole
    clip are dropped and counted (:attr:`UBFCRPPGVideo.n_dropped_frames`). Each clip's ``hr`` is the mean of the
    label file's heart-rate series over the clip's frames (the evaluation protocols derive HR from the BVP instead).

    The frame rate is the one stored in the video container; where the container has none (0 or not finite),
    DATASET_2 takes it from the time row and DATASET_1 assumes :data:`UBFC_RPPG_NOMINAL_FPS`, with a warning
    (:attr:`UBFCRPPGVideo.fps_source` tells which).

    DATASET_1's ``after-exercise`` folder names no subject, so it is not indexed (a warning says so). Its
    ``7-gt`` and ``12-gt`` videos are reportedly byte-identical; both are loaded.

    Args:
        root: The folder holding the ``subject<N>`` (DATASET_2) and/or ``<N>-gt`` (DATASET_1) folders, or a parent
            with exactly one such folder (e.g. ``UBFC/DATASET_2``).
        clip_length: Frames per clip.
        clip_stride: Frames between consecutive clip starts; ``None`` = ``clip_length`` (non-overlapping).
        frame_size: The ``(height, width)`` of the resized face crop, in pixels.
        subjects: Subject ids to include (``None``: all).
        variant: ``"auto"`` (default) detects each folder's variant from its label file (``ground_truth.txt``:
            DATASET_2, ``gtdump.xmp``: DATASET_1); ``"dataset_1"`` or ``"dataset_2"`` requires that label file.
        face_detector: The :class:`~rppgblocks.data.face.FaceDetector` (``"haar"``: a default
            :class:`~rppgblocks.data.face.HaarFaceDetector`), or ``None`` to resize the whole frame.
        box_scale: The face box enlargement coefficient (rPPG-Toolbox: 1.5).
        detect_frames: The number of frames, spread over the first chunk, on which the face is detected.
        cache_dir: A folder for the preprocessed ``uint8`` frames (created if needed), or ``None`` to keep them in
            memory. Each entry is keyed by the video file's path, size and modification time and the preprocessing
            parameters, with a JSON manifest of that key, the content's SHA-256, the face report and the
            normalisation statistics; written atomically, reused when valid, rebuilt when damaged or stale, and
            memory-mapped.
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
        videos: A :class:`UBFCRPPGVideo` per loaded video, in subject order.
        subjects: The sorted subject ids of the loaded videos.
        skipped: ``(path, reason)`` for each video left out with ``on_error="skip"``.

    Raises:
        FileNotFoundError: If ``root`` does not exist, or (with ``on_error="raise"``) a folder has no ``vid*.avi``
            or no label file.
        ValueError: If an argument is invalid, ``root`` is not a UBFC-rPPG folder, nothing matches ``subjects``, or
            (with ``on_error="raise"``) a label file is malformed, its length does not match the video
            (DATASET_2) or it does not cover the video (DATASET_1), or no face is found.
        VideoDecodeError: With ``on_error="raise"``, if a video cannot be decoded or is truncated.

    Shape:
        - ``video``: :math:`(C, T, H, W)` = ``(3, clip_length, *frame_size)``, float32 RGB in [0, 1].
        - ``bvp``: :math:`(T,)` float32; ``hr``, ``fs``: :math:`()` float32 (bpm, Hz).

    Examples:
        >>> import numpy as np, tempfile, os
        >>> from rppgblocks.data.video import write_video
        >>> root = tempfile.mkdtemp()
        >>> folder = os.path.join(root, "subject3")
        >>> write_video(os.path.join(folder, "vid.avi"), np.zeros((20, 24, 32, 3), np.uint8), fps=30.0, codec="FFV1")
        >>> rows = [np.sin(np.arange(20) / 3), np.full(20, 72.0), 5.0 + np.arange(20) / 30]  # PPG, HR, seconds
        >>> with open(os.path.join(folder, "ground_truth.txt"), "w") as f:
        ...     _ = f.write("\n".join("".join(f"{v:16.7e}" for v in row) for row in rows))
        >>> data = UBFCRPPG(root, clip_length=8, frame_size=(16, 16), face_detector=None)
        >>> len(data), data.subjects, data.videos[0].fps, data.videos[0].variant
        (2, [3], 30.0, 'dataset_2')
        >>> clip = data[1]
        >>> clip["video"].shape, clip["video_id"], clip["start"], float(clip["hr"])
        (torch.Size([3, 8, 16, 16]), 'subject3', 8, 72.0)
        >>> bool(np.allclose(clip["bvp"].numpy(), np.sin(np.arange(8, 16) / 3), atol=1e-6))
        True
        >>> data.clip_locations(), data.clip_indices([3])
        ([('subject3', 0), ('subject3', 8)], [0, 1])
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        clip_length: int = 160,
        clip_stride: int | None = None,
        frame_size: tuple[int, int] = (128, 128),
        subjects: Iterable[int] | None = None,
        variant: Literal["auto", "dataset_1", "dataset_2"] = "auto",
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
        if variant not in ("auto", "dataset_1", "dataset_2"):
            raise ValueError(f"variant: expected 'auto', 'dataset_1' or 'dataset_2', got {variant!r}")
        self.variant = variant
        subject_set = None if subjects is None else subject_ids(subjects, "subject12 -> 12")
        self.root = Path(root)
        entries = _index_tree(self.root)
        warn_absent_subjects("UBFCRPPG", subject_set, {e.subject for e in entries}, self.root)
        entries = [e for e in entries if subject_set is None or e.subject in subject_set]
        if not entries:
            raise ValueError(f"{self.root}: no UBFC-rPPG video matches subjects={fmt(subject_set)}")
        self.videos: list[UBFCRPPGVideo] = []
        self._load_entries(entries, self._load, lambda e: e.directory)

    def _load(self, entry: _Entry) -> Generator[FrameJob, Frames, None]:
        directory = entry.directory
        variant = _detect_variant(directory) if self.variant == "auto" else self.variant
        label_path = directory / _LABEL_FILE[variant]
        if not label_path.is_file():
            raise FileNotFoundError(f"{label_path}: required UBFC-rPPG {variant} label file is missing")
        video_path = _find_video(directory)
        if variant == "dataset_2":
            ppg, hr_raw, times_s = _read_ground_truth(label_path)
        else:
            times_ms, hr_raw, ppg = _read_gtdump(label_path)

        loaded = yield FrameJob(
            prefix="ubfc_rppg",
            video_id=entry.video_id,
            source_key={"video": file_signature(video_path)},
            reader=partial(iter_video, video_path, chunk_size=CHUNK_SIZE),
            source=str(video_path),
        )
        n_frames = loaded.n_frames
        fps = _container_fps(video_path)
        fps_source: Literal["container", "timestamps", "nominal"] = "container"
        low, high = HR_VALID_RANGE_BPM
        hr_valid = (hr_raw >= low) & (hr_raw <= high)
        if variant == "dataset_2":
            if ppg.size != n_frames:
                relation = "shorter" if ppg.size < n_frames else "longer"
                raise ValueError(
                    f"{label_path}: the label ({ppg.size} samples) is {relation} than the video {video_path} "
                    f"({n_frames} frames); DATASET_2 pairs one label sample with each frame"
                )
            if not (np.isfinite(fps) and fps > 0):
                fps, fps_source = _timestamp_fps(label_path, times_s), "timestamps"
            index = np.arange(n_frames, dtype=np.float64)
            bvp = ppg
            hr = interp_valid(label_path, index, index, hr_raw, hr_valid, "heart rate (30-250 bpm)")
        else:
            if not (np.isfinite(fps) and fps > 0):
                fps, fps_source = UBFC_RPPG_NOMINAL_FPS, "nominal"
            frame_ms = np.arange(n_frames, dtype=np.float64) * (1000.0 / fps)
            check_coverage(label_path, times_ms, frame_ms, 1000.0 / fps, "ms")
            bvp = np.interp(frame_ms, times_ms, ppg)
            hr = interp_valid(label_path, frame_ms, times_ms, hr_raw, hr_valid, "heart rate (30-250 bpm)")
        if fps_source != "container":
            warnings.warn(
                f"UBFCRPPG: {video_path} stores no frame rate; using {fps:.3f} fps from the {fps_source}",
                stacklevel=4,
            )

        n_clips, n_dropped = self._clip_count(n_frames)
        self._add_video(
            UBFCRPPGVideo(
                subject=entry.subject,
                video_id=entry.video_id,
                variant=variant,
                directory=directory,
                video_path=video_path,
                label_path=label_path,
                fps=float(fps),
                fps_source=fps_source,
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
        _log.debug("UBFCRPPG: loaded %s (%d frames, %.3f fps, %d clips)", entry.video_id, n_frames, fps, n_clips)


# ---------------------------------------------------------------------- indexing


def ubfc_rppg_subjects(root: str | os.PathLike[str]) -> list[int]:
    """The subject ids of a UBFC-rPPG folder, from its folder names, without decoding anything.

    Use it to split subjects (e.g. the common "first 30 train / last 12 test" DATASET_2 protocol, numerically
    sorted) before building the train and test :class:`UBFCRPPG` datasets.

    Args:
        root: The UBFC-rPPG folder (holding ``subject<N>`` or ``<N>-gt`` folders, directly or one level down).

    Returns:
        The sorted subject ids.

    Raises:
        FileNotFoundError: If ``root`` does not exist.
        ValueError: If ``root`` is not a UBFC-rPPG folder, or a subject id appears twice.

    Examples:
        >>> import tempfile, os
        >>> root = tempfile.mkdtemp()
        >>> for name in ("subject1", "subject10", "subject3"):
        ...     os.makedirs(os.path.join(root, "DATASET_2", name))
        >>> ubfc_rppg_subjects(root)
        [1, 3, 10]
    """
    return [entry.subject for entry in _index_tree(Path(root))]


def _subject_folders(folder: Path) -> list[tuple[int, Path]]:
    found = []
    for d in sorted(d for d in folder.iterdir() if d.is_dir()):
        if match := _D2_RE.match(d.name) or _D1_RE.match(d.name):
            found.append((int(match.group(1)), d))
    return found


def _index_tree(root: Path) -> list[_Entry]:
    if not root.exists():
        raise FileNotFoundError(f"root: UBFC-rPPG folder not found: {root}")
    if not root.is_dir():
        raise ValueError(f"root: expected the UBFC-rPPG folder, got a file: {root}")
    found, base = _subject_folders(root), root
    if not found:
        candidates = [(d, f) for d in sorted(c for c in root.iterdir() if c.is_dir()) if (f := _subject_folders(d))]
        if len(candidates) > 1:
            names = [str(d) for d, _ in candidates]
            raise ValueError(f"root: {root} holds several UBFC-rPPG folders {names}; pass one of them as root")
        if candidates:
            base, found = candidates[0]
    if not found:
        raise ValueError(
            f"root: {root} is not a UBFC-rPPG folder: no subject<N> (DATASET_2) or <N>-gt (DATASET_1) folders "
            "directly inside it or one level down (e.g. DATASET_2/subject1)"
        )
    if (base / "after-exercise").is_dir():
        warnings.warn(
            f"UBFCRPPG: {base / 'after-exercise'} names no subject and is not indexed", UserWarning, stacklevel=3
        )
    by_subject: dict[int, Path] = {}
    for subject, d in found:
        if subject in by_subject:
            raise ValueError(f"root: subject {subject} appears twice: {by_subject[subject]} and {d}")
        by_subject[subject] = d
    return [_Entry(s, by_subject[s].name, by_subject[s]) for s in sorted(by_subject)]


def _detect_variant(directory: Path) -> Variant:
    has_d2, has_d1 = (directory / _D2_LABEL).is_file(), (directory / _D1_LABEL).is_file()
    if has_d2 and has_d1:
        raise ValueError(f"{directory}: holds both {_D2_LABEL} and {_D1_LABEL}; pass variant= to choose one")
    if not (has_d2 or has_d1):
        raise FileNotFoundError(
            f"{directory}: no UBFC-rPPG label file ({_D2_LABEL} for DATASET_2 or {_D1_LABEL} for DATASET_1)"
        )
    return "dataset_2" if has_d2 else "dataset_1"


def _find_video(directory: Path) -> Path:
    videos = sorted(p for p in directory.glob("vid*.avi") if p.is_file())
    if not videos:
        raise FileNotFoundError(f"{directory}: required UBFC-rPPG video vid*.avi is missing")
    if len(videos) > 1:
        raise ValueError(f"{directory}: expected one vid*.avi video, found {[p.name for p in videos]}")
    return videos[0]


def _container_fps(path: Path) -> float:
    cv2 = _cv2()
    capture = cv2.VideoCapture(str(path))
    try:
        return float(capture.get(cv2.CAP_PROP_FPS)) if capture.isOpened() else 0.0
    finally:
        capture.release()


def _timestamp_fps(path: Path, times_s: npt.NDArray[np.float64]) -> float:
    span = float(times_s[-1] - times_s[0])
    if times_s.size < 2 or not span > 0:
        raise ValueError(f"{path}: cannot derive a frame rate from {times_s.size} timestamp(s) spanning {span:g} s")
    return (times_s.size - 1) / span


# ---------------------------------------------------------------------- label files


def _parse_row(path: Path, lineno: int, text: str) -> npt.NDArray[np.float64]:
    tokens = text.split()
    try:
        row = np.asarray(tokens, dtype=np.float64)
    except ValueError:
        for token in tokens:
            parse_number(path, lineno, token, "whitespace-separated numbers")
        raise  # pragma: no cover - parse_number raised for the bad token
    if not np.isfinite(row).all():
        bad = tokens[int(np.flatnonzero(~np.isfinite(row))[0])]
        raise ValueError(f"{path}:{lineno}: expected finite numbers, got {bad!r}")
    return row


def _read_ground_truth(
    path: Path,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """DATASET_2's ``ground_truth.txt``: three rows (PPG, HR in bpm, timestamps in s) of equal length."""
    lines = data_lines(path)
    if len(lines) != 3:
        raise ValueError(f"{path}: expected 3 non-empty lines (PPG, HR in bpm, timestamps in s), got {len(lines)}")
    ppg, hr, times = (_parse_row(path, lineno, text) for lineno, text in lines)
    if not ppg.size == hr.size == times.size:
        raise ValueError(
            f"{path}: the PPG, HR and time rows must have the same length, got {ppg.size}, {hr.size} and {times.size}"
        )
    if (bad := np.flatnonzero(np.diff(times) <= 0)).size:
        i = int(bad[0])
        raise ValueError(
            f"{path}:{lines[2][0]}: timestamps must increase, got {times[i]:g} then {times[i + 1]:g} s "
            f"(values {i + 1} and {i + 2})"
        )
    return ppg, hr, times


def _read_gtdump(
    path: Path,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """DATASET_1's ``gtdump.xmp``: CSV rows ``time_ms, HR, SpO2, PPG``; returns (times in ms, HR, PPG)."""
    lines = data_lines(path)
    if not lines:
        raise ValueError(f"{path}: empty file; expected CSV rows 'time_ms,hr,spo2,ppg'")
    rows = np.empty((len(lines), 4), dtype=np.float64)
    for k, (lineno, text) in enumerate(lines):
        fields = text.split(",")
        if len(fields) != 4:
            raise ValueError(f"{path}:{lineno}: expected 4 comma-separated values (time_ms,hr,spo2,ppg), got {text!r}")
        rows[k] = [parse_number(path, lineno, f.strip(), "numbers 'time_ms,hr,spo2,ppg'") for f in fields]
    times = rows[:, 0]
    if (bad := np.flatnonzero(np.diff(times) <= 0)).size:
        lineno = lines[int(bad[0]) + 1][0]
        raise ValueError(f"{path}:{lineno}: times must increase, got {times[bad[0]]:g} then {times[bad[0] + 1]:g} ms")
    return times, rows[:, 1], rows[:, 3]
