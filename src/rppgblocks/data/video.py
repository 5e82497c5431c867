"""Reading and writing video files (OpenCV backend, from the ``video`` extra).

Frames are returned in the on-disk layout :data:`rppgblocks.layout.FRAMES` = ``(T, H, W, 3)``, RGB, ``uint8``.
Decoding is outside what rppgblocks exists for, so it is delegated to OpenCV (``opencv-python-headless``), the
decoder the rPPG field uses; install it with ``pip install "rppgblocks[video]"``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from rppgblocks.errors import ShapeError, VideoDecodeError

__all__ = ["Video", "iter_video", "read_video", "write_video"]


def _cv2() -> ModuleType:
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'Reading and writing video needs OpenCV: pip install "rppgblocks[video]" (installs opencv-python-headless)'
        ) from exc
    return cv2


class Video(NamedTuple):
    """A decoded video.

    Attributes:
        frames: ``(T, H, W, 3)`` ``uint8`` RGB frames.
        fps: The frame rate in Hz stored in the container. Some datasets store a nominal rate here
            (VIPL-HR's AVIs all say 25); their loaders take the true rate from timestamps instead.

    Examples:
        >>> video = Video(np.zeros((10, 4, 6, 3), dtype=np.uint8), 30.0)
        >>> video.frames.shape, video.fps
        ((10, 4, 6, 3), 30.0)
    """

    frames: npt.NDArray[np.uint8]
    fps: float


def read_video(path: str | os.PathLike[str], *, max_frames: int | None = None, strict: bool = True) -> Video:
    """Decode a whole video file into RGB frames.

    Args:
        path: The video file.
        max_frames: Decode at most this many frames (all when ``None``).
        strict: If ``True`` (default), a file that decodes to fewer frames than its header declares is an error
            (a truncated or corrupt file); if ``False``, the frames that could be decoded are returned.

    Returns:
        A :class:`Video` with ``frames`` of shape ``(T, H, W, 3)``, ``uint8``, RGB order, and the container fps.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        VideoDecodeError: If the file cannot be opened, holds no decodable frame, or (with ``strict``) ends
            before the frame count in its header.
        ValueError: If ``max_frames`` is not a positive integer.

    Shape:
        - frames: :math:`(T, H, W, 3)`, ``uint8``, RGB

    Examples:
        >>> import numpy as np, tempfile, os
        >>> frames = np.zeros((4, 16, 24, 3), dtype=np.uint8)
        >>> path = os.path.join(tempfile.mkdtemp(), "clip.avi")
        >>> write_video(path, frames, fps=30.0)
        >>> video = read_video(path)
        >>> video.frames.shape, video.frames.dtype, video.fps
        ((4, 16, 24, 3), dtype('uint8'), 30.0)
    """
    if max_frames is not None and (not isinstance(max_frames, int) or max_frames <= 0):
        raise ValueError(f"max_frames: expected a positive integer or None, got {max_frames!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video file not found: {path}")
    cv2 = _cv2()
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise VideoDecodeError(path, "OpenCV cannot open the file")
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        frames: list[npt.NDArray[np.uint8]] = []
        while max_frames is None or len(frames) < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    if not frames:
        raise VideoDecodeError(path, "no frame could be decoded")
    wanted = declared if max_frames is None else min(declared, max_frames)
    if strict and declared > 0 and len(frames) < wanted:
        raise VideoDecodeError(
            path, f"decoded {len(frames)} frames but the header declares {declared} (truncated or corrupt file?)"
        )
    return Video(np.stack(frames), fps)


def iter_video(
    path: str | os.PathLike[str], *, chunk_size: int = 64, strict: bool = True
) -> Iterator[npt.NDArray[np.uint8]]:
    """Decode a video file chunk by chunk, so that a long high-resolution video never sits in memory whole.

    The arguments are checked and the file is looked up when this function is called; the file is opened and
    decoded lazily, as the returned iterator is consumed, and closed when it is exhausted or garbage-collected.

    Args:
        path: The video file.
        chunk_size: The number of frames per chunk; the last chunk may be shorter.
        strict: If ``True`` (default), a file that decodes to fewer frames than its header declares (a truncated or
            corrupt file) raises :class:`~rppgblocks.errors.VideoDecodeError` once the decodable frames have been
            yielded; if ``False``, iteration simply stops there.

    Returns:
        An iterator over ``(t, H, W, 3)`` ``uint8`` RGB chunks with ``1 <= t <= chunk_size``.

    Raises:
        FileNotFoundError: If ``path`` does not exist (raised by this call, before iteration).
        ValueError: If ``chunk_size`` is not a positive integer.
        VideoDecodeError: During iteration, if the file cannot be opened, holds no decodable frame, or (with
            ``strict``) ends before the frame count in its header.

    Shape:
        - Each chunk: :math:`(t, H, W, 3)`, ``uint8``, RGB (layout :data:`rppgblocks.layout.FRAMES`).

    Examples:
        >>> import numpy as np, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "clip.avi")
        >>> write_video(path, np.zeros((5, 16, 24, 3), dtype=np.uint8), fps=30.0)
        >>> [chunk.shape for chunk in iter_video(path, chunk_size=2)]
        [(2, 16, 24, 3), (2, 16, 24, 3), (1, 16, 24, 3)]
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
        raise ValueError(f"chunk_size: expected a positive integer, got {chunk_size!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video file not found: {path}")
    return _iter_video_chunks(path, chunk_size, strict)


def _iter_video_chunks(path: Path, chunk_size: int, strict: bool) -> Iterator[npt.NDArray[np.uint8]]:
    cv2 = _cv2()
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise VideoDecodeError(path, "OpenCV cannot open the file")
        declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        n_decoded = 0
        chunk: npt.NDArray[np.uint8] | None = None
        filled = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if chunk is None:  # a fresh buffer per chunk: the caller may keep the chunks it was given
                chunk = np.empty((chunk_size, *frame.shape), dtype=np.uint8)
            if frame.shape != chunk.shape[1:]:
                raise VideoDecodeError(
                    path, f"frame {n_decoded + filled} has shape {frame.shape}, not {chunk.shape[1:]}"
                )
            cv2.cvtColor(frame, cv2.COLOR_BGR2RGB, dst=chunk[filled])
            filled += 1
            if filled == chunk_size:
                n_decoded += filled
                yield chunk
                chunk, filled = None, 0
        if chunk is not None and filled:
            n_decoded += filled
            yield chunk[:filled]
    finally:
        capture.release()
    if n_decoded == 0:
        raise VideoDecodeError(path, "no frame could be decoded")
    if strict and declared > 0 and n_decoded < declared:
        raise VideoDecodeError(
            path, f"decoded {n_decoded} frames but the header declares {declared} (truncated or corrupt file?)"
        )


def write_video(
    path: str | os.PathLike[str],
    frames: npt.NDArray[np.uint8],
    fps: float,
    *,
    codec: str = "MJPG",
    quality: int = 95,
) -> None:
    """Encode RGB frames into a video file, atomically (a partial file never appears at ``path``).

    Args:
        path: The output file; its suffix selects the container (``.avi`` for the field's datasets).
        frames: ``(T, H, W, 3)`` ``uint8`` RGB frames.
        fps: The frame rate written into the container, in Hz.
        codec: A FourCC understood by OpenCV's FFmpeg backend: ``"MJPG"`` (default; motion JPEG, lossy),
            ``"FFV1"`` (lossless), ``"XVID"``/``"DIVX"``/``"mp4v"`` (MPEG-4 Part 2).
        quality: JPEG quality 1-100 for ``"MJPG"`` (ignored by other codecs).

    Raises:
        ShapeError: If ``frames`` is not ``(T, H, W, 3)``.
        ValueError: If ``frames`` is not ``uint8``, ``fps`` is not positive or ``quality`` is out of range.
        OSError: If OpenCV cannot create the file with this codec.

    Shape:
        - frames: :math:`(T, H, W, 3)`, ``uint8``, RGB

    Examples:
        >>> import numpy as np, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "noise.avi")
        >>> write_video(path, np.full((3, 8, 8, 3), 128, dtype=np.uint8), fps=25.0, codec="FFV1")
        >>> read_video(path).frames[0, 0, 0].tolist()
        [128, 128, 128]
    """
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ShapeError("frames", "t h w 3", getattr(frames, "shape", ()))
    if frames.dtype != np.uint8:
        raise ValueError(f"frames: expected dtype uint8, got {frames.dtype}")
    if not fps > 0:
        raise ValueError(f"fps: expected a positive frame rate, got {fps!r}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality: expected 1..100, got {quality!r}")
    if len(codec) != 4:
        raise ValueError(f"codec: expected a four-character code such as 'MJPG', got {codec!r}")
    cv2 = _cv2()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames.shape[1:3]
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    writer = cv2.VideoWriter(tmp_name, cv2.VideoWriter_fourcc(*codec), float(fps), (int(width), int(height)))
    try:
        if not writer.isOpened():
            raise OSError(f"{path}: OpenCV cannot write codec {codec!r} into a {path.suffix!r} container")
        if codec == "MJPG":
            writer.set(cv2.VIDEOWRITER_PROP_QUALITY, float(quality))
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    except BaseException:
        writer.release()
        Path(tmp_name).unlink(missing_ok=True)
        raise
    writer.release()
    os.replace(tmp_name, path)
