"""Face detection and face cropping for rPPG clips, following the rPPG-Toolbox convention.

The convention (``/work/shared/design/datasets.md`` §4.2, rPPG-Toolbox ``BaseLoader.face_detection`` and
``crop_face_resize``): detect the face with OpenCV's Haar cascade, keep the largest box, enlarge it by a coefficient
of 1.5 about its centre (truncating to whole pixels and clipping at the top-left frame border), crop every frame
with that one static box and resize the crop with area averaging (``cv2.INTER_AREA``).

Two deliberate departures from the toolbox: the cascade runs on a properly converted grayscale image (the toolbox
hands it the RGB frame, which OpenCV reads as BGR), and a video in which no face is found raises
:class:`FaceNotFoundError` instead of silently falling back to the whole frame.

Dynamic face tracking (the toolbox's ``DYNAMIC_DETECTION``) is split into pure steps: the detector runs every ``N``
frames; :func:`resolve_face_track` fills the detections with no face (``NoFacePolicy``: interpolate, previous box or
fail) and smooths the track; :func:`boxes_at_frames` interpolates it to every frame (the toolbox keeps each box
constant for ``N`` frames, see there why not); :func:`enlarge_boxes` enlarges all boxes as :meth:`FaceBox.enlarge`
does; :func:`crop_resize` crops each frame with its own box; a :class:`FaceTrackReport` records what was missed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol, TypeAlias, get_args, runtime_checkable

import numpy as np
import numpy.typing as npt

from rppgblocks.errors import ShapeError

__all__ = [
    "DEFAULT_BOX_SCALE",
    "FaceBox",
    "FaceDetector",
    "FaceNotFoundError",
    "FaceTrackReport",
    "HaarFaceDetector",
    "NoFacePolicy",
    "boxes_at_frames",
    "crop_resize",
    "detect_face_box",
    "enlarge_boxes",
    "resolve_face_track",
]

#: rPPG-Toolbox's ``LARGE_BOX_COEF``: the detected box is enlarged by this factor about its centre.
DEFAULT_BOX_SCALE: float = 1.5

#: What to do with a detection frame on which no face was found (:func:`resolve_face_track`): ``"interpolate"``
#: the box linearly between the nearest detections on either side, copy the ``"previous"`` box, or ``"fail"``
#: with a :class:`FaceNotFoundError` listing the missed frames.
NoFacePolicy: TypeAlias = Literal["interpolate", "previous", "fail"]

_NO_FACE_POLICIES: tuple[str, ...] = get_args(NoFacePolicy)


class FaceNotFoundError(ValueError):
    """No face was detected in any of the frames searched.

    Attributes:
        source: What was searched, e.g. a video path or ``"p1/v1/source2"``.
        frame_indices: The indices of the frames the detector ran on.

    Examples:
        >>> err = FaceNotFoundError("p1/v1/source1/video.avi", [0, 10, 20])
        >>> print(err)
        p1/v1/source1/video.avi: no face detected in frames [0, 10, 20]
        >>> isinstance(err, ValueError)
        True
    """

    def __init__(self, source: object, frame_indices: Sequence[int]) -> None:
        self.source = str(source)
        self.frame_indices = [int(i) for i in frame_indices]
        super().__init__(f"{self.source}: no face detected in frames {self.frame_indices}")

    def __reduce__(self) -> tuple[type[FaceNotFoundError], tuple[str, list[int]]]:
        return (type(self), (self.source, self.frame_indices))


@runtime_checkable
class FaceDetector(Protocol):
    """Anything that finds faces in one frame: a callable from an RGB frame to an array of boxes.

    The boxes are ``(x, y, w, h)`` in pixels (``x`` the column and ``y`` the row of the top-left corner), as an
    integer array of shape ``(N, 4)``; ``N = 0`` when there is no face. The most likely or largest face should
    come first, but :func:`detect_face_box` does not rely on the order (it keeps the largest box).

    When a detector is used by a caching dataset, its ``repr`` is part of the cache key, so it should describe the
    detector's configuration deterministically (as :class:`HaarFaceDetector`'s does).

    Shape:
        - Input: :math:`(H, W, 3)` ``uint8`` RGB.
        - Output: :math:`(N, 4)` integer ``(x, y, w, h)``.

    Examples:
        >>> import numpy as np
        >>> def centre_detector(frame):
        ...     h, w = frame.shape[:2]
        ...     return np.array([[w // 4, h // 4, w // 2, h // 2]])
        >>> isinstance(centre_detector, FaceDetector)
        True
        >>> centre_detector(np.zeros((40, 80, 3), dtype=np.uint8)).tolist()
        [[20, 10, 40, 20]]
    """

    def __call__(self, frame: npt.NDArray[np.uint8], /) -> npt.NDArray[np.integer[Any]]:
        """Return the ``(N, 4)`` boxes ``(x, y, w, h)`` found in one ``(H, W, 3)`` ``uint8`` RGB frame."""
        ...


class HaarFaceDetector:
    """OpenCV's frontal-face Haar cascade (rPPG-Toolbox backend ``"HC"``), boxes sorted largest first.

    Source: Viola and Jones, "Rapid object detection using a boosted cascade of simple features", CVPR 2001, as
    shipped with OpenCV (``cv2.data.haarcascades``, nothing is downloaded); the rPPG-Toolbox default face detector
    (``datasets.md`` §4.1-4.2). ``detectMultiScale`` runs on the grayscale frame.

    Args:
        scale_factor: The image pyramid's scale step (> 1; OpenCV default 1.1).
        min_neighbors: How many overlapping candidate detections a face needs (>= 0; OpenCV default 3).
        min_size: The smallest face searched, ``(w, h)`` in pixels; ``None`` for the cascade's own 24x24.
        cascade: The file name of a cascade inside ``cv2.data.haarcascades``, or a path to a cascade XML file.

    Raises:
        ValueError: If an argument is out of range or the cascade file cannot be loaded.
        ImportError: If OpenCV is not installed (``pip install "rppgblocks[video]"``).

    Shape:
        - Input: :math:`(H, W, 3)` ``uint8`` RGB.
        - Output: :math:`(N, 4)` ``int64`` boxes ``(x, y, w, h)`` in pixels, largest area first.

    Examples:
        >>> import numpy as np
        >>> detector = HaarFaceDetector(min_neighbors=5)
        >>> detector
        HaarFaceDetector(scale_factor=1.1, min_neighbors=5, min_size=None,
                         cascade='haarcascade_frontalface_default.xml')
        >>> detector(np.full((48, 64, 3), 128, dtype=np.uint8)).shape  # a blank frame has no face
        (0, 4)
    """

    def __init__(
        self,
        *,
        scale_factor: float = 1.1,
        min_neighbors: int = 3,
        min_size: tuple[int, int] | None = None,
        cascade: str = "haarcascade_frontalface_default.xml",
    ) -> None:
        if isinstance(scale_factor, bool) or not isinstance(scale_factor, (int, float)) or not scale_factor > 1:
            raise ValueError(f"scale_factor: expected a number > 1, got {scale_factor!r}")
        if isinstance(min_neighbors, bool) or not isinstance(min_neighbors, int) or min_neighbors < 0:
            raise ValueError(f"min_neighbors: expected an integer >= 0, got {min_neighbors!r}")
        if min_size is not None:
            if (
                not isinstance(min_size, (tuple, list))
                or len(min_size) != 2
                or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in min_size)
            ):
                raise ValueError(f"min_size: expected None or (w, h) positive integers in pixels, got {min_size!r}")
            min_size = (int(min_size[0]), int(min_size[1]))
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_size = min_size
        self.cascade = str(cascade)
        self._classifier = self._load()

    def _load(self) -> Any:
        from rppgblocks.data.video import _cv2

        cv2 = _cv2()
        path = self.cascade
        if not any(sep in path for sep in ("/", "\\")):
            path = str(cv2.data.haarcascades) + path
        classifier = cv2.CascadeClassifier(path)
        if classifier.empty():
            raise ValueError(f"cascade: OpenCV cannot load a Haar cascade from {path!r}")
        return classifier

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(scale_factor={self.scale_factor}, min_neighbors={self.min_neighbors}, "
            f"min_size={self.min_size}, cascade={self.cascade!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        # cv2.CascadeClassifier cannot be pickled (DataLoader workers, multiprocessing): reload it on unpickling.
        state = dict(self.__dict__)
        del state["_classifier"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._classifier = self._load()

    def __call__(self, frame: npt.NDArray[np.uint8], /) -> npt.NDArray[np.int64]:
        """Detect faces in one RGB frame.

        Args:
            frame: ``(H, W, 3)`` ``uint8`` RGB.

        Returns:
            ``(N, 4)`` ``int64`` boxes ``(x, y, w, h)`` in pixels, largest area first.

        Raises:
            ShapeError: If ``frame`` is not ``(H, W, 3)``.
            ValueError: If ``frame`` is not ``uint8``.
        """
        _check_frame(frame, "frame")
        from rppgblocks.data.video import _cv2

        cv2 = _cv2()
        gray = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
        kwargs: dict[str, Any] = {"scaleFactor": self.scale_factor, "minNeighbors": self.min_neighbors}
        if self.min_size is not None:
            kwargs["minSize"] = self.min_size
        found = self._classifier.detectMultiScale(gray, **kwargs)
        boxes = np.asarray(found, dtype=np.int64).reshape(-1, 4)
        order = np.argsort(-(boxes[:, 2] * boxes[:, 3]), kind="stable")
        return boxes[order]


class FaceBox(NamedTuple):
    """A face bounding box in pixels: ``x`` (column) and ``y`` (row) of the top-left corner, width and height.

    Examples:
        >>> box = FaceBox(100, 50, 80, 80)
        >>> box.enlarge(1.5, frame_hw=(240, 320))
        FaceBox(x=80, y=30, w=120, h=120)
    """

    x: int
    y: int
    w: int
    h: int

    def enlarge(
        self, scale: float = DEFAULT_BOX_SCALE, frame_hw: tuple[int, int] | None = None, *, square: bool = False
    ) -> FaceBox:
        """Enlarge the box about its centre, as rPPG-Toolbox does with ``LARGE_BOX_COEF``, and clip it to the frame.

        Source: rPPG-Toolbox ``BaseLoader.face_detection`` (``datasets.md`` §4.2). With coefficient ``c``:
        ``x' = max(0, x - (c - 1) / 2 * w)``, ``y' = max(0, y - (c - 1) / 2 * h)``, ``w' = c * w``,
        ``h' = c * h``, each truncated to a whole pixel. Like the toolbox, the corner is clipped at 0 without
        shrinking the size, so a box at the left or top border grows to the right or bottom. Then (which the
        toolbox leaves to array slicing) the box is clipped to the frame's right and bottom borders.

        Args:
            scale: The enlargement coefficient ``c`` (>= 1 enlarges, < 1 shrinks; > 0).
            frame_hw: The frame's ``(height, width)`` in pixels; the result is clipped to it. ``None``: no
                clipping at the right and bottom.
            square: First make the box a square of side ``max(w, h)`` about its centre (the toolbox's YOLO5Face
                backend does this). Clipping at the frame border can still make the result non-square.

        Returns:
            The enlarged, clipped box.

        Raises:
            ValueError: If ``scale`` is not a positive finite number, ``frame_hw`` is not two positive integers,
                the box has no positive size, or it lies entirely outside the frame.

        Examples:
            >>> FaceBox(10, 10, 40, 20).enlarge(1.5)
            FaceBox(x=0, y=5, w=60, h=30)
            >>> FaceBox(10, 10, 40, 20).enlarge(1.5, (40, 50))  # clipped to a 40x50 frame
            FaceBox(x=0, y=5, w=50, h=30)
            >>> FaceBox(20, 10, 40, 20).enlarge(1.0, square=True)
            FaceBox(x=20, y=0, w=40, h=40)
        """
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
            raise ValueError(f"scale: expected a finite number > 0, got {scale!r}")
        if self.w <= 0 or self.h <= 0:
            raise ValueError(f"box: expected a positive width and height in pixels, got {self}")
        x, y, w, h = (int(v) for v in enlarge_boxes([tuple(self)], scale, square=square)[0])
        box = FaceBox(x, y, w, h)
        return box if frame_hw is None else box.clip(frame_hw)

    def clip(self, frame_hw: tuple[int, int]) -> FaceBox:
        """Intersect the box with a frame of ``frame_hw = (height, width)`` pixels.

        Args:
            frame_hw: The frame's ``(height, width)`` in pixels.

        Returns:
            The part of the box inside the frame.

        Raises:
            ValueError: If ``frame_hw`` is not two positive integers or the box lies entirely outside the frame.

        Examples:
            >>> FaceBox(-10, 5, 40, 100).clip((50, 60))
            FaceBox(x=0, y=5, w=30, h=45)
        """
        height, width = _check_hw(frame_hw, "frame_hw")
        x0, y0 = max(0, self.x), max(0, self.y)
        x1, y1 = min(width, self.x + self.w), min(height, self.y + self.h)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"box: {self} lies outside the {height}x{width} (h x w) frame")
        return FaceBox(x0, y0, x1 - x0, y1 - y0)


def detect_face_box(
    frames: npt.NDArray[np.uint8] | Sequence[npt.NDArray[np.uint8]],
    detector: FaceDetector,
    *,
    n_frames: int = 5,
    source: str = "video",
) -> FaceBox:
    """Detect the face on a few frames spread over ``frames`` and return the median of the largest boxes.

    Source: rPPG-Toolbox's static face detection with ``USE_MEDIAN_FACE_BOX`` (``datasets.md`` §4.2), made robust
    to one missed or wrong frame: the detector runs on ``n_frames`` frames evenly spread from the first to the last
    given (the first always included); on each, the largest box is kept; the result is the per-coordinate median
    ``(x, y, w, h)`` over the frames where a face was found, rounded to whole pixels.

    Args:
        frames: ``(T, H, W, 3)`` ``uint8`` RGB frames (e.g. the first chunk of a video) or a sequence of
            ``(H, W, 3)`` frames.
        detector: A :class:`FaceDetector`, e.g. :class:`HaarFaceDetector`.
        n_frames: The number of frames to run the detector on (fewer if ``frames`` is shorter).
        source: A name for the frames (a video path or id) used in the error message.

    Returns:
        The median face box, in pixels, not enlarged (see :meth:`FaceBox.enlarge`).

    Raises:
        FaceNotFoundError: If no face is found on any of the frames searched (never a silent whole-frame box).
        ShapeError: If the frames are not ``(H, W, 3)``.
        ValueError: If ``frames`` is empty or not ``uint8``, or ``n_frames`` is not a positive integer.

    Shape:
        - ``frames``: :math:`(T, H, W, 3)`, ``uint8``, RGB.

    Examples:
        >>> import numpy as np
        >>> def fake_detector(frame):
        ...     return np.array([[10, 5, 20, 20]]) if frame.mean() > 0 else np.zeros((0, 4), dtype=int)
        >>> frames = np.ones((10, 48, 64, 3), dtype=np.uint8)
        >>> detect_face_box(frames, fake_detector)
        FaceBox(x=10, y=5, w=20, h=20)
        >>> detect_face_box(np.zeros_like(frames), fake_detector, n_frames=3, source="blank.avi")
        Traceback (most recent call last):
            ...
        rppgblocks.data.face.FaceNotFoundError: blank.avi: no face detected in frames [0, 4, 9]
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, int) or n_frames <= 0:
        raise ValueError(f"n_frames: expected a positive integer, got {n_frames!r}")
    total = len(frames)
    if total == 0:
        raise ValueError(f"frames: expected at least one frame of {source}, got none")
    indices = spread_indices(total, n_frames)
    for i in indices:
        _check_frame(frames[i], f"frames[{i}]")
    found = [box for box in (largest_box(detector, frames[i]) for i in indices) if box is not None]
    if not found:
        raise FaceNotFoundError(source, indices)
    return median_box(found)


def spread_indices(total: int, n: int) -> list[int]:
    """``min(n, total)`` frame indices spread evenly from the first to the last of ``total`` frames (private)."""
    return sorted({int(i) for i in np.linspace(0, total - 1, min(n, total)).round()})


def largest_box(detector: FaceDetector, frame: npt.NDArray[np.uint8]) -> FaceBox | None:
    """The largest box ``detector`` finds in ``frame``, or ``None`` (private)."""
    boxes = np.asarray(detector(frame)).reshape(-1, 4).astype(np.int64)
    if not len(boxes):
        return None
    x, y, w, h = (int(v) for v in boxes[np.argmax(boxes[:, 2] * boxes[:, 3])])
    return FaceBox(x, y, w, h)


def median_box(boxes: Sequence[FaceBox]) -> FaceBox:
    """The per-coordinate median of ``boxes``, rounded half up to whole pixels (private)."""
    median = np.median(np.array(boxes, dtype=np.float64), axis=0)
    x, y, w, h = (int(v) for v in np.floor(median + 0.5))
    return FaceBox(x, y, w, h)


def crop_resize(
    frames: npt.NDArray[np.uint8],
    box: FaceBox | tuple[int, int, int, int] | npt.NDArray[np.integer[Any]] | None,
    size: tuple[int, int] = (128, 128),
) -> npt.NDArray[np.uint8]:
    """Crop every frame with one box, or each frame with its own box, and resize the crops to ``size``.

    Source: rPPG-Toolbox ``crop_face_resize`` (``datasets.md`` §4.2), which resizes with ``cv2.INTER_AREA``. A
    shrink (output no larger than the crop in both axes) is OpenCV's ``INTER_AREA``, as the toolbox (each output
    pixel averages the input area it covers, with fractional weights at its edges); an enlargement is OpenCV's
    bilinear ``INTER_LINEAR``. Needs OpenCV (the ``video`` extra), like the decoding it follows.

    With a ``(T, 4)`` array of boxes (a face track, e.g. from :func:`enlarge_boxes`), frame ``t`` is cropped with
    row ``t``, each box clipped to the frame, and the shrink/enlarge rule is decided per frame from that frame's
    crop size; a track whose rows are all equal gives exactly the single-box result.

    Args:
        frames: ``(T, H, W, 3)`` ``uint8`` RGB frames.
        box: The crop ``(x, y, w, h)`` in pixels, clipped to the frame; ``None`` for the whole frame; or a
            ``(T, 4)`` integer array with one such box per frame.
        size: The output ``(height, width)`` in pixels.

    Returns:
        ``(T, size[0], size[1], 3)`` ``uint8`` RGB crops.

    Raises:
        ShapeError: If ``frames`` is not ``(T, H, W, 3)``, or an array ``box`` is neither ``(4,)`` nor ``(T, 4)``.
        ValueError: If ``frames`` is not ``uint8``, ``size`` is not two positive integers, a ``(T, 4)`` box array
            is not of an integer dtype, or a box lies outside the frame or has no positive size.
        ImportError: If OpenCV is not installed.

    Shape:
        - ``frames``: :math:`(T, H, W, 3)`.
        - ``box``: :math:`(4,)` or :math:`(T, 4)`, or ``None``.
        - Output: :math:`(T, h, w, 3)` with ``(h, w) = size``.

    Examples:
        >>> import numpy as np
        >>> frames = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
        >>> out = crop_resize(frames, FaceBox(0, 0, 4, 4), size=(2, 2))
        >>> out.shape, out.dtype
        ((2, 2, 2, 3), dtype('uint8'))
        >>> int(out[0, 0, 0, 0]) == round(frames[0, :2, :2, 0].mean())
        True
        >>> track = np.array([[0, 0, 2, 2], [2, 2, 2, 2]])  # one box per frame
        >>> out = crop_resize(frames, track, size=(2, 2))
        >>> bool((out[1] == frames[1, 2:, 2:]).all())
        True
    """
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ShapeError("frames", "t h w 3", getattr(frames, "shape", ()))
    if frames.dtype != np.uint8:
        raise ValueError(f"frames: expected dtype uint8, got {frames.dtype}")
    out_h, out_w = _check_hw(size, "size")
    n, height, width = frames.shape[:3]
    if height == 0 or width == 0:
        raise ShapeError("frames", "t h w 3", frames.shape, "expected a non-empty frame")
    if isinstance(box, np.ndarray) and box.ndim != 1:
        return _crop_resize_per_frame(frames, box, (out_h, out_w))
    if box is None:
        crop_box = FaceBox(0, 0, width, height)
    else:
        crop_box = FaceBox(*(int(v) for v in box))
        if crop_box.w <= 0 or crop_box.h <= 0:
            raise ValueError(f"box: expected a positive width and height in pixels, got {crop_box}")
        crop_box = crop_box.clip((height, width))
    out = np.empty((n, out_h, out_w, 3), dtype=np.uint8)
    if n == 0:
        return out
    crop = frames[:, crop_box.y : crop_box.y + crop_box.h, crop_box.x : crop_box.x + crop_box.w]
    shrink = out_h <= crop_box.h and out_w <= crop_box.w
    if (out_h, out_w) == (crop_box.h, crop_box.w):
        out[:] = crop
        return out
    from rppgblocks.data.video import _cv2

    cv2 = _cv2()
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    for i in range(n):  # one OpenCV call per frame: the resize of a 2-D image, 3x faster than torch's area pooling
        out[i] = cv2.resize(np.ascontiguousarray(crop[i]), (out_w, out_h), interpolation=interpolation)
    return out


def resolve_face_track(
    frame_indices: Sequence[int] | npt.NDArray[np.integer[Any]],
    boxes: Sequence[FaceBox | tuple[float, float, float, float] | None] | npt.NDArray[np.floating[Any]],
    *,
    policy: NoFacePolicy = "interpolate",
    smoothing: int = 1,
    source: str = "video",
) -> npt.NDArray[np.float64]:
    """Fill the detections with no face according to ``policy``, then smooth the face track.

    Dynamic face detection (rPPG-Toolbox ``DYNAMIC_DETECTION``, ``datasets.md`` §4.2) runs the detector on every
    ``N``-th frame; this turns its K results (the largest box per detection frame, or ``None``) into K boxes:

    1. Each missed detection is filled per ``policy``: ``"interpolate"``: each of the centre ``(cx, cy)`` and size
       ``(w, h)`` linearly interpolated over the frame index between the nearest detections with a face on either
       side, constant before the first and after the last one; ``"previous"``: the last box found before it (a
       leading miss takes the first box found); ``"fail"``: raise :class:`FaceNotFoundError` listing every missed
       frame. The toolbox silently uses the whole frame instead; here nothing is silent, and the caller records
       the misses in a :class:`FaceTrackReport`.
    2. Each of ``cx, cy, w, h`` is smoothed by a centred moving average over ``smoothing`` consecutive detections.
       Near the ends the window shrinks symmetrically (detection ``i`` averages ``i - r .. i + r`` with
       ``r = min((smoothing - 1) // 2, i, K - 1 - i)``), so the first and last boxes are kept as they are. A
       constant track stays constant and a track linear in the detection index (in the frame, when the detections
       are evenly spaced) stays exactly linear, up to float rounding, ends included. With ``smoothing = 1`` the
       boxes found are returned unchanged.

    The centre and size, not the corner, are the coordinates filled and smoothed, so a box growing about a fixed
    centre stays centred.

    Args:
        frame_indices: The K detection frames, strictly increasing non-negative integers.
        boxes: K entries, each an ``(x, y, w, h)`` box in pixels (a :class:`FaceBox` or a 4-tuple, ``w, h > 0``) or
            ``None`` when no face was found on that frame; or a ``(K, 4)`` float array with all-NaN rows for misses.
        policy: What to do with the detections with no face (see :data:`NoFacePolicy`).
        smoothing: The moving-average window, in detections: an odd positive integer (1: no smoothing).
        source: A name for the video (a path or id) used in the error message.

    Returns:
        The ``(K, 4)`` ``float64`` track ``(x, y, w, h)``, not enlarged (see :func:`enlarge_boxes`).

    Raises:
        FaceNotFoundError: If no detection found a face (whatever the policy), listing every detection frame; or,
            with ``policy="fail"``, if any detection found none, listing the missed frames.
        ShapeError: If ``frame_indices`` is not 1-D or an array ``boxes`` is not ``(K, 4)``.
        ValueError: If ``frame_indices`` is empty, not integers, negative or not strictly increasing; ``boxes`` has
            not K entries or has a malformed, non-finite or non-positive-size box; ``policy`` is unknown; or
            ``smoothing`` is not an odd positive integer.

    Shape:
        - ``frame_indices``: :math:`(K,)`.
        - ``boxes``: K entries, or :math:`(K, 4)`.
        - Output: :math:`(K, 4)`.

    Examples:
        >>> face, other = (100, 50, 80, 80), (110, 50, 80, 80)
        >>> resolve_face_track([0, 30, 60, 90], [face, None, other, None]).tolist()
        [[100.0, 50.0, 80.0, 80.0], [105.0, 50.0, 80.0, 80.0], [110.0, 50.0, 80.0, 80.0], [110.0, 50.0, 80.0, 80.0]]
        >>> resolve_face_track([0, 30, 60], [face, None, other], policy="previous")[1].tolist()
        [100.0, 50.0, 80.0, 80.0]
        >>> track = resolve_face_track([0, 30, 60], [(0, 0, 10, 10), (3, 0, 10, 10), (0, 0, 10, 10)], smoothing=3)
        >>> track[:, 0].tolist()  # the middle box is averaged with its neighbours; the ends are kept
        [0.0, 1.0, 0.0]
        >>> resolve_face_track([0, 30, 60], [face, None, None], policy="fail", source="a.avi")
        Traceback (most recent call last):
            ...
        rppgblocks.data.face.FaceNotFoundError: a.avi: no face detected in frames [30, 60]
    """
    indices = _check_indices(frame_indices, "frame_indices")
    if not isinstance(policy, str) or policy not in _NO_FACE_POLICIES:
        raise ValueError(f"policy: expected one of {list(_NO_FACE_POLICIES)}, got {policy!r}")
    if (
        isinstance(smoothing, bool)
        or not isinstance(smoothing, (int, np.integer))
        or smoothing < 1
        or smoothing % 2 != 1
    ):
        raise ValueError(f"smoothing: expected an odd positive integer (1: no smoothing), got {smoothing!r}")
    xywh = _box_array(boxes, len(indices), "boxes", allow_missing=True)
    found = ~np.isnan(xywh).any(axis=1)
    if not found.any():
        raise FaceNotFoundError(source, indices.tolist())
    if policy == "fail" and not found.all():
        raise FaceNotFoundError(source, indices[~found].tolist())
    track = _to_centre_size(xywh)
    if not found.all():
        if policy == "interpolate":
            for c in range(4):  # the four coordinates, each over the K detections
                track[~found, c] = np.interp(indices[~found], indices[found], track[found, c])
        else:  # "previous": the last found box at or before each detection; the first found one before it
            last = np.maximum.accumulate(np.where(found, np.arange(len(indices)), -1))
            last[last < 0] = int(np.argmax(found))
            track = track[last]
    if smoothing == 1:
        out = _to_corner_size(track)
        out[found] = xywh[found]  # exactly the boxes found, without the centre round trip's float rounding
        return out
    return _to_corner_size(_centred_moving_average(track, int(smoothing)))


def boxes_at_frames(
    frame_indices: Sequence[int] | npt.NDArray[np.integer[Any]],
    boxes: Sequence[FaceBox | tuple[float, float, float, float]] | npt.NDArray[np.floating[Any]],
    n_frames: int,
) -> npt.NDArray[np.float64]:
    """Interpolate a face track known at K detection frames to every frame ``0 .. n_frames - 1``.

    Each of the box centre ``(cx, cy)`` and size ``(w, h)`` is linearly interpolated over the frame index between
    consecutive detections, and held constant before the first and after the last detection.

    Why not rPPG-Toolbox's piecewise-constant box (``DYNAMIC_DETECTION`` keeps each detected box for the next ``N``
    frames): a box that jumps every ``N`` frames makes the crop's spatial mean step every ``N`` frames, a periodic
    component at ``fs / N`` Hz and its harmonics, e.g. 1 Hz = 60 bpm for ``N = fs``, inside the heart-rate band
    (0.7-3 Hz), where it biases the heart rate the signal is meant to measure. A box moving a little every frame
    spreads that change over the whole interval.

    Args:
        frame_indices: The K detection frames, strictly increasing non-negative integers below ``n_frames``.
        boxes: The ``(K, 4)`` track ``(x, y, w, h)`` in pixels (e.g. from :func:`resolve_face_track`), finite,
            ``w, h > 0``, or K :class:`FaceBox` / 4-tuples.
        n_frames: The number of frames in the video.

    Returns:
        The ``(n_frames, 4)`` ``float64`` boxes ``(x, y, w, h)``, one per frame, equal to ``boxes`` at the
        detection frames.

    Raises:
        ShapeError: If ``frame_indices`` is not 1-D or an array ``boxes`` is not ``(K, 4)``.
        ValueError: If ``frame_indices`` is empty, not integers, negative, not strictly increasing or not below
            ``n_frames``; ``boxes`` has not K entries or has a missing, non-finite or non-positive-size box; or
            ``n_frames`` is not a positive integer.

    Shape:
        - ``frame_indices``: :math:`(K,)`.
        - ``boxes``: :math:`(K, 4)`.
        - Output: :math:`(T, 4)` with ``T = n_frames``.

    Examples:
        >>> per_frame = boxes_at_frames([1, 5], [(0, 0, 10, 10), (4, 0, 10, 10)], n_frames=7)
        >>> per_frame.shape
        (7, 4)
        >>> per_frame[:, 0].tolist()
        [0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 4.0]
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames <= 0:
        raise ValueError(f"n_frames: expected a positive integer, got {n_frames!r}")
    indices = _check_indices(frame_indices, "frame_indices")
    if indices[-1] >= n_frames:
        raise ValueError(
            f"frame_indices: expected detection frames below n_frames = {n_frames}, got {int(indices[-1])}"
        )
    xywh = _box_array(boxes, len(indices), "boxes", allow_missing=False)
    track = _to_centre_size(xywh)
    frames = np.arange(int(n_frames))
    per_frame = np.stack([np.interp(frames, indices, track[:, c]) for c in range(4)], axis=1)
    out = _to_corner_size(per_frame)
    # exactly the track at the detection frames and beyond the ends, without the centre round trip's rounding
    out[indices] = xywh
    out[: indices[0]] = xywh[0]
    out[indices[-1] :] = xywh[-1]
    return out


def enlarge_boxes(
    boxes: npt.ArrayLike,
    scale: float = DEFAULT_BOX_SCALE,
    frame_hw: tuple[int, int] | None = None,
    *,
    square: bool = False,
) -> npt.NDArray[np.int64]:
    """Enlarge N boxes about their centres and clip them to the frame: :meth:`FaceBox.enlarge` for an array.

    The same arithmetic as :meth:`FaceBox.enlarge` (rPPG-Toolbox's ``LARGE_BOX_COEF`` rule), on float boxes:
    with coefficient ``c``, ``x' = floor(max(0, x - (c - 1) / 2 * w))``, ``y' = floor(max(0, y - (c - 1) / 2 * h))``,
    ``w' = max(1, floor(c * w))``, ``h' = max(1, floor(c * h))``, then the box is intersected with the frame. For
    integer boxes the result equals :meth:`FaceBox.enlarge` row by row.

    Args:
        boxes: ``(N, 4)`` boxes ``(x, y, w, h)`` in pixels, finite, ``w, h > 0`` (e.g. from :func:`boxes_at_frames`).
        scale: The enlargement coefficient ``c`` (>= 1 enlarges, < 1 shrinks; > 0).
        frame_hw: The frame's ``(height, width)`` in pixels; the boxes are clipped to it. ``None``: no clipping at
            the right and bottom.
        square: First make each box a square of side ``max(w, h)`` about its centre, as :meth:`FaceBox.enlarge`.

    Returns:
        The ``(N, 4)`` ``int64`` enlarged, clipped boxes, ready for :func:`crop_resize`.

    Raises:
        ShapeError: If ``boxes`` is not ``(N, 4)``.
        ValueError: If ``boxes`` is not numeric, a box is not finite or has no positive size, ``scale`` is not a
            positive finite number, ``frame_hw`` is not two positive integers, or a box lies entirely outside the
            frame (the message names the row).

    Shape:
        - ``boxes``: :math:`(N, 4)`.
        - Output: :math:`(N, 4)`.

    Examples:
        >>> import numpy as np
        >>> enlarge_boxes(np.array([[100.0, 50.0, 80.0, 80.0], [10.0, 10.0, 40.0, 20.0]]), frame_hw=(240, 320))
        array([[ 80,  30, 120, 120],
               [  0,   5,  60,  30]])
        >>> FaceBox(10, 10, 40, 20).enlarge(1.5, (240, 320))
        FaceBox(x=0, y=5, w=60, h=30)
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale: expected a finite number > 0, got {scale!r}")
    arr = np.asarray(boxes)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ShapeError("boxes", "n 4", arr.shape, "expected one (x, y, w, h) box per row")
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"boxes: expected a numeric array of (x, y, w, h) in pixels, got dtype {arr.dtype}")
    xywh = arr.astype(np.float64)
    _check_box_rows(xywh, "boxes")
    x, y, w, h = (xywh[:, c].copy() for c in range(4))
    if square:
        side = np.maximum(w, h)
        x, y = x + (w - side) / 2, y + (h - side) / 2
        w, h = side, side.copy()
    grow = (float(scale) - 1.0) / 2.0
    new_x = np.floor(np.maximum(0.0, x - grow * w))
    new_y = np.floor(np.maximum(0.0, y - grow * h))
    new_w = np.maximum(1.0, np.floor(float(scale) * w))
    new_h = np.maximum(1.0, np.floor(float(scale) * h))
    out = np.stack([new_x, new_y, new_w, new_h], axis=1).astype(np.int64)
    if frame_hw is None:
        return out
    height, width = _check_hw(frame_hw, "frame_hw")
    x0, y0 = out[:, 0], out[:, 1]  # >= 0 already
    x1, y1 = np.minimum(width, x0 + out[:, 2]), np.minimum(height, y0 + out[:, 3])
    bad = np.flatnonzero((x1 <= x0) | (y1 <= y0))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"boxes[{i}]: {arr[i].tolist()} enlarged to {out[i].tolist()} lies outside the {height}x{width} "
            "(h x w) frame"
        )
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)


@dataclass(frozen=True)
class FaceTrackReport:
    """What the face detection of one video found: the detection frames, those with no face, and the policy.

    Attached by the datasets to each video and stored in the cache manifest (:meth:`to_dict`), so that frames with
    no face are always reported, never silently replaced by the whole frame.

    Args:
        frame_indices: The frames the detector ran on, strictly increasing.
        missed: The detection frames on which no face was found, strictly increasing, a subset of
            ``frame_indices``; at least one detection found a face (else :class:`FaceNotFoundError` is raised).
        policy: How the missed detections were filled, a :data:`NoFacePolicy` (``"fail"`` only with no misses).
        every: The detection interval ``N`` in frames; ``None`` for static detection on the first chunk.

    Raises:
        ValueError: If a field is malformed or inconsistent with the others, naming it.

    Examples:
        >>> report = FaceTrackReport(frame_indices=(0, 30, 60, 89), missed=(30,), policy="interpolate", every=30)
        >>> report.n_detections, report.n_missed
        (4, 1)
        >>> report.to_dict()
        {'frame_indices': [0, 30, 60, 89], 'missed': [30], 'policy': 'interpolate', 'every': 30}
        >>> import json
        >>> FaceTrackReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
        True
    """

    frame_indices: tuple[int, ...]
    missed: tuple[int, ...]
    policy: str
    every: int | None

    def __post_init__(self) -> None:
        indices = tuple(int(i) for i in _check_indices(self.frame_indices, "frame_indices"))
        missed = tuple(int(i) for i in _check_indices(self.missed, "missed", allow_empty=True))
        if not set(missed) <= set(indices):
            extra = sorted(set(missed) - set(indices))
            raise ValueError(f"missed: expected a subset of frame_indices, got frames {extra} not among them")
        if len(missed) == len(indices):
            raise ValueError(f"missed: every detection frame missed the face ({list(missed)}): that is an error")
        if not isinstance(self.policy, str) or self.policy not in _NO_FACE_POLICIES:
            raise ValueError(f"policy: expected one of {list(_NO_FACE_POLICIES)}, got {self.policy!r}")
        if self.policy == "fail" and missed:
            raise ValueError(f"policy: 'fail' cannot have missed detections, got missed = {list(missed)}")
        every = self.every
        if every is not None:
            if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every <= 0:
                raise ValueError(f"every: expected None or a positive integer (frames), got {every!r}")
            every = int(every)
        object.__setattr__(self, "frame_indices", indices)
        object.__setattr__(self, "missed", missed)
        object.__setattr__(self, "every", every)

    @property
    def n_detections(self) -> int:
        """The number of frames the detector ran on."""
        return len(self.frame_indices)

    @property
    def n_missed(self) -> int:
        """The number of detection frames with no face."""
        return len(self.missed)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-compatible plain types (lists, str, int, None); :meth:`from_dict` reads it back.

        Returns:
            ``{"frame_indices": [...], "missed": [...], "policy": ..., "every": ...}``.

        Examples:
            >>> FaceTrackReport((0, 5), (), "previous", None).to_dict()
            {'frame_indices': [0, 5], 'missed': [], 'policy': 'previous', 'every': None}
        """
        return {
            "frame_indices": list(self.frame_indices),
            "missed": list(self.missed),
            "policy": self.policy,
            "every": self.every,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaceTrackReport:
        """Rebuild a report from :meth:`to_dict`'s output (e.g. read from a JSON cache manifest).

        Args:
            data: A mapping with exactly the keys ``frame_indices``, ``missed``, ``policy`` and ``every``.

        Returns:
            The report, validated as by the constructor.

        Raises:
            ValueError: If a key is missing or unknown, or a value is invalid.

        Examples:
            >>> FaceTrackReport.from_dict({"frame_indices": [0, 5], "missed": [5], "policy": "previous", "every": 5})
            FaceTrackReport(frame_indices=(0, 5), missed=(5,), policy='previous', every=5)
        """
        keys = ("frame_indices", "missed", "policy", "every")
        if not isinstance(data, Mapping):
            raise ValueError(f"data: expected a mapping with keys {list(keys)}, got {type(data).__name__}")
        missing = [k for k in keys if k not in data]
        unknown = sorted(str(k) for k in data if k not in keys)
        if missing or unknown:
            raise ValueError(f"data: expected the keys {list(keys)}, missing {missing}, unknown {unknown}")
        for key in ("frame_indices", "missed"):
            if not isinstance(data[key], (list, tuple)):
                raise ValueError(f"data[{key!r}]: expected a list of frame indices, got {data[key]!r}")
        return cls(tuple(data["frame_indices"]), tuple(data["missed"]), data["policy"], data["every"])


def _check_indices(values: Any, name: str, *, allow_empty: bool = False) -> npt.NDArray[np.int64]:
    """Strictly increasing non-negative integer frame indices, as a 1-D ``int64`` array."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ShapeError(name, "k", arr.shape, "expected a 1-D sequence of frame indices")
    if arr.size == 0:
        if allow_empty:
            return np.zeros(0, dtype=np.int64)
        raise ValueError(f"{name}: expected at least one frame index, got none")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected integer frame indices, got dtype {arr.dtype}: {arr.tolist()}")
    indices = arr.astype(np.int64)
    if indices[0] < 0:
        raise ValueError(f"{name}: expected non-negative frame indices, got {int(indices[0])}")
    step = np.flatnonzero(np.diff(indices) <= 0)
    if step.size:
        j = int(step[0])
        raise ValueError(
            f"{name}: expected strictly increasing frame indices, got {name}[{j}] = {int(indices[j])} then "
            f"{name}[{j + 1}] = {int(indices[j + 1])}"
        )
    return indices


def _box_array(boxes: Any, k: int, name: str, *, allow_missing: bool) -> npt.NDArray[np.float64]:
    """K boxes (entries or a ``(K, 4)`` array) as a ``(K, 4)`` ``float64`` array, NaN rows for ``None``."""
    if isinstance(boxes, np.ndarray) and boxes.dtype.kind != "O":
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ShapeError(name, (k, 4), boxes.shape, "expected one (x, y, w, h) box per detection frame")
        if boxes.dtype.kind not in "iuf":
            raise ValueError(f"{name}: expected a numeric array of (x, y, w, h) in pixels, got dtype {boxes.dtype}")
        xywh = boxes.astype(np.float64)
    else:
        if isinstance(boxes, (str, bytes)) or not isinstance(boxes, (Sequence, np.ndarray)):
            raise ValueError(f"{name}: expected a sequence of (x, y, w, h) boxes or None, got {type(boxes).__name__}")
        xywh = np.full((len(boxes), 4), np.nan)
        for i, box in enumerate(boxes):  # parsing K Python entries (one per detection, not per frame)
            if box is None:
                continue
            try:
                row = np.asarray(box, dtype=np.float64)
            except (TypeError, ValueError):
                row = np.zeros(0)
            if row.shape != (4,):
                raise ValueError(f"{name}[{i}]: expected None or a box (x, y, w, h) in pixels, got {box!r}")
            xywh[i] = row
    if len(xywh) != k:
        raise ValueError(f"{name}: expected {k} boxes, one per entry of frame_indices, got {len(xywh)}")
    missing = np.isnan(xywh)
    partial = np.flatnonzero(missing.any(axis=1) & ~missing.all(axis=1))
    if partial.size:
        i = int(partial[0])
        raise ValueError(f"{name}[{i}]: expected a box with no NaN or an all-NaN row (no face), got {xywh[i].tolist()}")
    absent = missing.all(axis=1)
    if not allow_missing and absent.any():
        i = int(np.argmax(absent))
        raise ValueError(f"{name}[{i}]: expected a box, got none (fill the misses with resolve_face_track first)")
    _check_box_rows(xywh[~absent], name, rows=np.flatnonzero(~absent))
    return xywh


def _check_box_rows(xywh: npt.NDArray[np.float64], name: str, rows: npt.NDArray[np.intp] | None = None) -> None:
    """Each box finite with a positive size; the error names the row (``rows`` maps to the caller's numbering)."""
    bad = np.flatnonzero(~np.isfinite(xywh).all(axis=1))
    what = "a finite box"
    if not bad.size:
        bad = np.flatnonzero((xywh[:, 2] <= 0) | (xywh[:, 3] <= 0))
        what = "a positive width and height in pixels"
    if bad.size:
        i = int(bad[0])
        row = i if rows is None else int(rows[i])
        raise ValueError(f"{name}[{row}]: expected {what}, got (x, y, w, h) = {xywh[i].tolist()}")


def _to_centre_size(xywh: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``(x, y, w, h)`` to ``(cx, cy, w, h)``, row-wise."""
    out: npt.NDArray[np.float64] = xywh.copy()
    out[:, :2] += xywh[:, 2:] / 2
    return out


def _to_corner_size(track: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``(cx, cy, w, h)`` to ``(x, y, w, h)``, row-wise."""
    out: npt.NDArray[np.float64] = track.copy()
    out[:, :2] -= track[:, 2:] / 2
    return out


def _centred_moving_average(values: npt.NDArray[np.float64], window: int) -> npt.NDArray[np.float64]:
    """Centred moving average along axis 0 with a window shrinking symmetrically at the ends (odd ``window``).

    Row ``i`` becomes the mean of rows ``i - r_i .. i + r_i`` with ``r_i = min(window // 2, i, K - 1 - i)``. It is
    computed as ``values[i]`` plus the mean deviation from it, so a constant stays exactly constant.
    """
    k = len(values)
    position = np.arange(k)
    radius = np.minimum(np.minimum(position, k - 1 - position), window // 2)
    deviation = np.zeros_like(values)
    for d in range(1, window // 2 + 1):  # over the window's offsets, not over the frames
        rows = np.flatnonzero(radius >= d)
        deviation[rows] += (values[rows + d] - values[rows]) + (values[rows - d] - values[rows])
    smoothed: npt.NDArray[np.float64] = values + deviation / (2 * radius + 1)[:, None]
    return smoothed


def _crop_resize_per_frame(
    frames: npt.NDArray[np.uint8], boxes: npt.NDArray[Any], size: tuple[int, int]
) -> npt.NDArray[np.uint8]:
    """:func:`crop_resize` with one box per frame: ``boxes`` is checked to be ``(T, 4)`` integers."""
    n, height, width = frames.shape[:3]
    out_h, out_w = size
    if boxes.ndim != 2 or boxes.shape != (n, 4):
        raise ShapeError("box", (n, 4), boxes.shape, "expected one (x, y, w, h) box per frame")
    if boxes.dtype.kind not in "iu":
        raise ValueError(f"box: expected a (T, 4) array of integer pixels (see enlarge_boxes), got dtype {boxes.dtype}")
    x, y, w, h = boxes.astype(np.int64).T
    bad = np.flatnonzero((w <= 0) | (h <= 0))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"box[{i}]: expected a positive width and height in pixels, got {boxes[i].tolist()}")
    x0, y0 = np.maximum(x, 0), np.maximum(y, 0)
    x1, y1 = np.minimum(x + w, width), np.minimum(y + h, height)
    bad = np.flatnonzero((x1 <= x0) | (y1 <= y0))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"box[{i}]: {boxes[i].tolist()} lies outside the {height}x{width} (h x w) frame")
    out = np.empty((n, out_h, out_w, 3), dtype=np.uint8)
    crop_h, crop_w = y1 - y0, x1 - x0
    resize = (crop_h != out_h) | (crop_w != out_w)
    shrink = (out_h <= crop_h) & (out_w <= crop_w)
    cv2: Any = None
    if resize.any():
        from rppgblocks.data.video import _cv2

        cv2 = _cv2()
    for i in range(n):  # one OpenCV call per frame, as for a single box; the rule is decided per frame
        crop = frames[i, y0[i] : y1[i], x0[i] : x1[i]]
        if not resize[i]:
            out[i] = crop
        else:
            interpolation = cv2.INTER_AREA if shrink[i] else cv2.INTER_LINEAR
            out[i] = cv2.resize(np.ascontiguousarray(crop), (out_w, out_h), interpolation=interpolation)
    return out


def _check_frame(frame: Any, name: str) -> None:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[-1] != 3:
        raise ShapeError(name, "h w 3", getattr(frame, "shape", ()))
    if frame.dtype != np.uint8:
        raise ValueError(f"{name}: expected dtype uint8, got {frame.dtype}")


def _check_hw(hw: Any, name: str) -> tuple[int, int]:
    if (
        not isinstance(hw, (tuple, list))
        or len(hw) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in hw)
    ):
        raise ValueError(f"{name}: expected (height, width) as two positive integers in pixels, got {hw!r}")
    return int(hw[0]), int(hw[1])
