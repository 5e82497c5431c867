"""What every synthetic dataset writer shares: argument checks, random streams, the face check and the atomic build.

A writer (``vipl_hr.py``, ``ubfc_rppg.py``, ``pure.py``) plans its subjects and sessions with the same
:class:`~rppgblocks.data.synthetic.Appearance`, :class:`~rppgblocks.data.synthetic.Physiology` and
:class:`~rppgblocks.data.synthetic.Scene`, renders them with :func:`~rppgblocks.data.synthetic.render_session` and
writes the files of its layout; :func:`build_dataset` builds the result in a hidden temporary sibling of ``root``,
writes the manifest last and renames it into place, or returns at once if ``root`` already holds it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rppgblocks.data.synthetic.appearance import Appearance
from rppgblocks.data.synthetic.physiology import Physiology
from rppgblocks.data.synthetic.render import render_session
from rppgblocks.data.synthetic.scene import Scene
from rppgblocks.data.video import _cv2

#: Version of the generator; a dataset written by another version is not reused as a cache.
GENERATOR_VERSION = "1"
#: Name of the manifest at the dataset root; it is written last, so its presence marks a complete dataset.
MANIFEST_NAME = "synthetic.json"

MAX_APPEARANCE_ATTEMPTS = 6
_HAAR_FILE = "haarcascade_frontalface_default.xml"

FloatArray = npt.NDArray[np.float64]


def rng(seed: int, *key: int) -> np.random.Generator:
    """An independent random stream of ``seed`` named by ``key`` (a SeedSequence spawn key)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def names(value: Any, name: str, allowed: Sequence[str]) -> tuple[str, ...]:
    """Check a non-empty sequence of distinct names from ``allowed`` (a single string counts as one name)."""
    items = (value,) if isinstance(value, str) else value
    try:
        items = tuple(items)
    except TypeError:
        raise ValueError(f"{name}: expected a sequence of names from {', '.join(allowed)}, got {value!r}") from None
    if not items:
        raise ValueError(f"{name}: expected at least one name from {', '.join(allowed)}, got {value!r}")
    for item in items:
        if not isinstance(item, str) or item not in allowed:
            raise ValueError(f"{name}: expected names from {', '.join(allowed)}, got {item!r}")
    if len(set(items)) != len(items):
        raise ValueError(f"{name}: expected distinct names, got {value!r}")
    return items


def number(value: Any, name: str, low: float, high: float, unit: str) -> float:
    """Check a finite real number in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name}: expected a number in [{low}, {high}] {unit}, got {value!r}")
    result = float(value)
    if not (math.isfinite(result) and low <= result <= high):
        raise ValueError(f"{name}: expected a number in [{low}, {high}] {unit}, got {value!r}")
    return result


def integer(value: Any, name: str, low: int, high: int) -> int:
    """Check an integer (not a bool) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name}: expected an integer in [{low}, {high}], got {value!r}")
    return int(value)


def frame_size(value: Any) -> list[int]:
    """Check ``(width, height)`` in pixels, at least (64, 48)."""
    if not (isinstance(value, Sequence) and len(value) == 2):
        raise ValueError(f"frame_size: expected (width, height) in pixels, got {value!r}")
    return [integer(value[0], "frame_size[0] (width)", 64, 4096), integer(value[1], "frame_size[1] (height)", 48, 4096)]


def hr_range(value: Any) -> list[float]:
    """Check ``(low_bpm, high_bpm)`` within 40-180 bpm."""
    if not (isinstance(value, Sequence) and len(value) == 2):
        raise ValueError(f"hr_range_bpm: expected (low_bpm, high_bpm), got {value!r}")
    low = number(value[0], "hr_range_bpm[0]", 40.0, 180.0, "bpm")
    return [low, number(value[1], "hr_range_bpm[1]", low, 180.0, "bpm")]


def codec_and_quality(codec: Any, quality: Any, overwrite: Any) -> tuple[str, int]:
    """Check the video FourCC, the JPEG quality and the ``overwrite`` flag."""
    if not isinstance(codec, str) or len(codec) != 4:
        raise ValueError(f"codec: expected a four-character code such as 'MJPG' or 'FFV1', got {codec!r}")
    checked_quality = integer(quality, "quality", 1, 100)
    if not isinstance(overwrite, bool):
        raise ValueError(f"overwrite: expected True or False, got {overwrite!r}")
    return codec, checked_quality


class FaceChecker:
    """OpenCV's frontal-face Haar cascade with ``detectMultiScale`` defaults (what the face crops use)."""

    def __init__(self) -> None:
        cv2 = _cv2()
        self._cv2 = cv2
        data = getattr(cv2, "data", None)
        path = os.path.join(data.haarcascades, _HAAR_FILE) if data is not None else ""
        self.cascade = cv2.CascadeClassifier(path) if path and os.path.isfile(path) else None

    @property
    def available(self) -> bool:
        return self.cascade is not None and not self.cascade.empty()

    def found(self, frame: npt.NDArray[np.uint8], box: FloatArray) -> bool:
        """Whether the cascade finds exactly one face, overlapping ``box`` (x, y, w, h) with IoU > 0.5."""
        assert self.cascade is not None
        grey = self._cv2.cvtColor(frame, self._cv2.COLOR_RGB2GRAY)
        boxes = self.cascade.detectMultiScale(grey)
        return len(boxes) == 1 and box_iou(boxes[0], box) > 0.5


def box_iou(first: npt.ArrayLike, second: npt.ArrayLike) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes in pixels."""
    ax, ay, aw, ah = (float(x) for x in np.asarray(first, dtype=np.float64))
    bx, by, bw, bh = (float(x) for x in np.asarray(second, dtype=np.float64))
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def face_checker(stacklevel: int) -> FaceChecker | None:
    """The Haar checker, or ``None`` with a warning if OpenCV has no cascade files."""
    checker = FaceChecker()
    if not checker.available:
        warnings.warn(
            "OpenCV has no Haar cascade files (cv2.data.haarcascades); synthetic faces are not checked for "
            "detectability",
            RuntimeWarning,
            stacklevel=stacklevel + 1,
        )
        return None
    return checker


def choose_appearance(
    draw: Callable[[int], np.random.Generator],
    firsts: Sequence[tuple[Physiology, Scene, float]],
    size: tuple[int, int],
    checker: FaceChecker | None,
    label: str,
    stacklevel: int,
) -> tuple[Appearance, int, bool | None]:
    """Draw appearances from ``draw(attempt)`` until the cascade finds the face on every session's first frame.

    Args:
        draw: The random stream of attempt ``0, 1, ...``.
        firsts: ``(physiology, scene, first frame time)`` of each of the subject's sessions.
        size: ``(width, height)`` of the frames.
        checker: The Haar checker, or ``None`` to take the first draw.
        label: The subject's name, for the warning.
        stacklevel: Of the warning, counted from the caller.

    Returns:
        ``(appearance, attempts, detected)``; ``detected`` is ``None`` without a checker.
    """
    attempts, detected = 0, None
    while True:
        appearance = Appearance.sample(draw(attempts))
        attempts += 1
        if checker is None:
            break
        detected = all(
            checker.found(first.frames[0], first.face_boxes[0])
            for first in (
                render_session(appearance, physiology, scene, np.array([t0]), frame_size=size)
                for physiology, scene, t0 in firsts
            )
        )
        if detected or attempts >= MAX_APPEARANCE_ATTEMPTS:
            break
    if detected is False:
        warnings.warn(
            f"{label}: OpenCV's Haar cascade does not find the synthetic face on the first frame of every "
            f"session after {attempts} appearances (frame_size={size[0]}x{size[1]} may be too small); "
            "recorded in the manifest",
            RuntimeWarning,
            stacklevel=stacklevel + 1,
        )
    return appearance, attempts, detected


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest at ``root``, or ``None`` if absent or unreadable."""
    try:
        manifest = json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def build_dataset(
    root: str | os.PathLike[str],
    params: dict[str, Any],
    overwrite: bool,
    files_present: Callable[[Path, dict[str, Any]], bool],
    write: Callable[[Path], dict[str, Any]],
) -> Path:
    """Write a dataset at ``root`` atomically, or reuse it if its manifest matches ``params``.

    Args:
        root: The dataset directory.
        params: The normalised parameters (the manifest's ``parameters``).
        overwrite: Replace an existing ``root`` that is not this dataset.
        files_present: ``(root, manifest) -> bool``: whether every file the manifest lists exists.
        write: Writes the dataset into the given empty directory and returns its manifest, which must hold
            ``"generator_version": GENERATOR_VERSION`` and ``"parameters": params``.

    Returns:
        ``root`` as a :class:`~pathlib.Path`.

    Raises:
        FileExistsError: If ``root`` exists, is not empty and is not this dataset, and ``overwrite`` is false.
    """

    def complete(manifest: dict[str, Any]) -> bool:
        if manifest.get("generator_version") != GENERATOR_VERSION or manifest.get("parameters") != params:
            return False
        return files_present(path, manifest)

    path = Path(root)
    existing: str | None = None  # what must be moved away before the new dataset takes its place
    if path.is_dir():
        manifest = read_manifest(path)
        if manifest is not None and complete(manifest):
            return path
        if any(path.iterdir()) and not overwrite:
            what = "a different or incomplete synthetic dataset" if manifest is not None else "a non-empty directory"
            raise FileExistsError(
                f"{path}: exists and holds {what} that does not match these parameters; "
                "pass overwrite=True to replace it (its contents will be deleted) or choose another root"
            )
        existing = "dir"
    elif path.exists() or path.is_symlink():
        if not overwrite:
            raise FileExistsError(f"{path}: exists and is not a directory; pass overwrite=True to replace it")
        existing = "file"

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        manifest = write(tmp)
        (tmp / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        move_into_place(tmp, path, existing)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and path.is_dir():  # a concurrent call may have written the same dataset
            manifest = read_manifest(path)
            if manifest is not None and complete(manifest):
                return path
        raise
    return path


def move_into_place(tmp: Path, root: Path, existing: str | None) -> None:
    """Rename the finished dataset ``tmp`` to ``root``, replacing what ``root`` held."""
    old: Path | None = None
    if existing is not None:
        old = root.parent / f".{root.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(root, old)
    try:
        os.replace(tmp, root)
    except OSError:
        if old is not None and not root.exists():
            os.replace(old, root)  # put the previous content back
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def versions() -> dict[str, str]:
    """The versions recorded in a manifest (OpenCV's Haar cascade decides the rare appearance redraws)."""
    from rppgblocks import __version__

    return {"rppgblocks_version": __version__, "opencv_version": str(_cv2().__version__)}
