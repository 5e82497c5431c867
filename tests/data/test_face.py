from __future__ import annotations

import math
import pickle
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.data.face import (
    FaceBox,
    FaceDetector,
    FaceNotFoundError,
    HaarFaceDetector,
    crop_resize,
    detect_face_box,
)
from rppgblocks.errors import ShapeError

cv2 = pytest.importorskip("cv2")

GREY = 128  # the background of the cartoon face (tests/data/conftest.py)


@pytest.fixture(scope="module")
def haar() -> HaarFaceDetector:
    return HaarFaceDetector()


def _centre(box: np.ndarray) -> tuple[float, float]:
    x, y, w, h = (float(v) for v in box)
    return x + w / 2, y + h / 2


# ---------------------------------------------------------------------------------------------- HaarFaceDetector


class TestHaarFaceDetector:
    @given(
        scale=st.floats(0.5, 1.2),
        dx=st.integers(-60, 60),
        dy=st.integers(-20, 20),
    )
    def test_detects_cartoon_face(
        self, haar: HaarFaceDetector, scale: float, dx: int, dy: int, cartoon_face: Callable[..., np.ndarray]
    ) -> None:
        cx, cy = 160 + dx, 120 + dy
        boxes = haar(cartoon_face(cx=cx, cy=cy, scale=scale))
        assert boxes.dtype == np.int64
        assert boxes.shape == (1, 4)
        bx, by = _centre(boxes[0])
        # The box is centred on the face horizontally and around the eyes/nose vertically.
        assert abs(bx - cx) <= 5 + 5 * scale
        assert abs(by - cy) <= 5 + 15 * scale
        # Its side is of the order of the face width (110 px at scale 1).
        assert 0.8 * 110 * scale <= boxes[0, 2] <= 1.6 * 110 * scale

    def test_largest_first(self, haar: HaarFaceDetector, cartoon_face: Callable[..., np.ndarray]) -> None:
        big = cartoon_face(240, 400, cx=110, cy=120, scale=1.0)
        small = cartoon_face(240, 400, cx=310, cy=120, scale=0.6)
        frame = np.where((big != GREY).any(-1, keepdims=True), big, small)
        boxes = haar(frame)
        assert boxes.shape == (2, 4)
        areas = boxes[:, 2] * boxes[:, 3]
        assert areas[0] > areas[1]
        assert _centre(boxes[0])[0] < 200 < _centre(boxes[1])[0]

    @pytest.mark.parametrize("kind", ["grey", "noise", "gradient"])
    def test_no_face(self, haar: HaarFaceDetector, kind: str) -> None:
        rng = np.random.default_rng(0)
        frame = {
            "grey": np.full((240, 320, 3), GREY, np.uint8),
            "noise": rng.integers(0, 256, (240, 320, 3), dtype=np.uint8),
            "gradient": np.broadcast_to(np.linspace(0, 255, 320).astype(np.uint8)[None, :, None], (240, 320, 3)),
        }[kind]
        assert haar(np.ascontiguousarray(frame)).shape == (0, 4)

    def test_min_size_excludes_small_faces(self, cartoon_face: Callable[..., np.ndarray]) -> None:
        frame = cartoon_face(scale=0.5)  # a ~70 px box
        assert len(HaarFaceDetector(min_size=(40, 40))(frame)) == 1
        assert len(HaarFaceDetector(min_size=(120, 120))(frame)) == 0

    def test_is_a_face_detector_and_pickles(
        self, haar: HaarFaceDetector, cartoon_face: Callable[..., np.ndarray]
    ) -> None:
        assert isinstance(haar, FaceDetector)
        clone = pickle.loads(pickle.dumps(haar))
        assert repr(clone) == repr(haar)
        frame = cartoon_face()
        np.testing.assert_array_equal(clone(frame), haar(frame))

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"scale_factor": 1.0}, "scale_factor"),
            ({"min_neighbors": -1}, "min_neighbors"),
            ({"min_size": (0, 10)}, "min_size"),
            ({"min_size": 24}, "min_size"),
            ({"cascade": "no_such_cascade.xml"}, "cascade"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], match: str) -> None:
        with pytest.raises(ValueError, match=match):
            HaarFaceDetector(**kwargs)  # type: ignore[arg-type]

    def test_bad_frame(self, haar: HaarFaceDetector) -> None:
        with pytest.raises(ShapeError, match="frame"):
            haar(np.zeros((240, 320), np.uint8))
        with pytest.raises(ValueError, match="uint8"):
            haar(np.zeros((240, 320, 3), np.float32))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- FaceBox


_box = st.tuples(st.integers(0, 300), st.integers(0, 200), st.integers(1, 200), st.integers(1, 200))


class TestFaceBoxEnlarge:
    def test_worked_examples(self) -> None:
        # Interior: (c - 1) / 2 = 0.25 of the size moves the corner; the size grows by 1.5.
        assert FaceBox(100, 50, 80, 60).enlarge(1.5, (240, 320)) == FaceBox(80, 35, 120, 90)
        # Default coefficient is 1.5.
        assert FaceBox(100, 50, 80, 60).enlarge() == FaceBox(80, 35, 120, 90)
        # Toolbox rule at the top-left border: the corner is clipped to 0 but the size is kept.
        assert FaceBox(10, 10, 100, 100).enlarge(1.5, (480, 640)) == FaceBox(0, 0, 150, 150)
        # Clipped at the right and bottom borders.
        assert FaceBox(250, 200, 60, 40).enlarge(1.5, (230, 300)) == FaceBox(235, 190, 65, 40)
        # Truncation to whole pixels: 0.25 * 33 = 8.25 -> 41.75 -> 41; 1.5 * 33 = 49.5 -> 49.
        assert FaceBox(50, 50, 33, 33).enlarge(1.5) == FaceBox(41, 41, 49, 49)
        # Square: side max(w, h) about the centre, then enlarged.
        assert FaceBox(100, 100, 40, 20).enlarge(1.0, square=True) == FaceBox(100, 90, 40, 40)
        assert FaceBox(100, 100, 40, 20).enlarge(2.0, square=True) == FaceBox(80, 70, 80, 80)

    @given(box=_box, scale=st.floats(1.0, 3.0), frame=st.tuples(st.integers(1, 600), st.integers(1, 800)))
    def test_matches_toolbox_formula(
        self, box: tuple[int, int, int, int], scale: float, frame: tuple[int, int]
    ) -> None:
        x, y, w, h = box
        height, width = frame
        x0 = math.floor(max(0.0, x - (scale - 1) / 2 * w))
        y0 = math.floor(max(0.0, y - (scale - 1) / 2 * h))
        if x0 >= width or y0 >= height:
            with pytest.raises(ValueError, match="outside"):
                FaceBox(*box).enlarge(scale, frame)
            return
        out = FaceBox(*box).enlarge(scale, frame)
        assert (out.x, out.y) == (x0, y0)
        assert out.w == min(math.floor(scale * w), width - x0)
        assert out.h == min(math.floor(scale * h), height - y0)
        # Inside the frame, and containing the original box's part inside the frame.
        assert out.x >= 0
        assert out.x + out.w <= width
        assert out.y >= 0
        assert out.y + out.h <= height
        assert out.x <= x
        assert out.y <= y
        assert out.x + out.w >= min(x + w, width) - 1
        assert out.y + out.h >= min(y + h, height) - 1

    @given(box=_box, scale=st.floats(1.0, 3.0))
    def test_centre_kept_away_from_borders(self, box: tuple[int, int, int, int], scale: float) -> None:
        x, y, w, h = box
        x, y = x + 2 * w, y + 2 * h  # far from the top-left border, and no frame to clip to
        out = FaceBox(x, y, w, h).enlarge(scale)
        assert abs((out.x + out.w / 2) - (x + w / 2)) <= 1.0
        assert abs((out.y + out.h / 2) - (y + h / 2)) <= 1.0

    @pytest.mark.parametrize(
        ("box", "scale", "frame", "match"),
        [
            (FaceBox(0, 0, 10, 10), 0.0, None, "scale"),
            (FaceBox(0, 0, 10, 10), float("nan"), None, "scale"),
            (FaceBox(0, 0, 0, 10), 1.5, None, "width"),
            (FaceBox(0, 0, 10, 10), 1.5, (0, 10), "frame_hw"),
            (FaceBox(0, 0, 10, 10), 1.5, (10,), "frame_hw"),
            (FaceBox(50, 50, 10, 10), 1.0, (20, 20), "outside"),
        ],
    )
    def test_errors(self, box: FaceBox, scale: float, frame: tuple[int, ...] | None, match: str) -> None:
        with pytest.raises(ValueError, match=match):
            box.enlarge(scale, frame)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- detect_face_box


class TestDetectFaceBox:
    def test_median_of_largest_boxes(self) -> None:
        per_frame = {
            0: [[10, 10, 40, 40], [0, 0, 5, 5]],  # the largest is kept, whatever the order
            1: [[0, 0, 5, 5], [12, 14, 44, 44]],
            2: [],  # a missed frame is ignored
            3: [[11, 12, 42, 42]],
            4: [[100, 100, 60, 60]],  # an outlier does not move the median of the rest much
        }
        calls: list[int] = []

        def detector(frame: np.ndarray) -> np.ndarray:
            index = int(frame[0, 0, 0])
            calls.append(index)
            return np.array(per_frame[index], dtype=np.int64).reshape(-1, 4)

        frames = np.stack([np.full((20, 30, 3), i, np.uint8) for i in range(5)])
        box = detect_face_box(frames, detector, n_frames=5)
        assert calls == [0, 1, 2, 3, 4]
        # medians of x: 10, 12, 11, 100 -> 11.5 -> 12; y: 10, 14, 12, 100 -> 13; w = h: 40, 44, 42, 60 -> 43
        assert box == FaceBox(12, 13, 43, 43)

    def test_frames_spread_first_and_last(self) -> None:
        seen: list[int] = []

        def detector(frame: np.ndarray) -> np.ndarray:
            seen.append(int(frame[0, 0, 0]))
            return np.array([[1, 2, 3, 4]])

        frames = np.stack([np.full((4, 4, 3), i, np.uint8) for i in range(100)])
        assert detect_face_box(frames, detector, n_frames=4) == FaceBox(1, 2, 3, 4)
        assert seen == [0, 33, 66, 99]
        seen.clear()
        detect_face_box(list(frames[:2]), detector, n_frames=5)  # a list of frames; fewer frames than n_frames
        assert seen == [0, 1]

    def test_cartoon_video(self, haar: HaarFaceDetector, cartoon_face: Callable[..., np.ndarray]) -> None:
        frames = np.stack([cartoon_face(cx=150 + 4 * i, cy=120) for i in range(6)])
        box = detect_face_box(frames, haar, n_frames=3)
        bx, by = _centre(np.array(box))
        assert abs(bx - 160) <= 8
        assert abs(by - 120) <= 12
        assert 90 <= box.w <= 170

    def test_no_face_raises(self, haar: HaarFaceDetector) -> None:
        frames = np.full((10, 240, 320, 3), GREY, np.uint8)
        with pytest.raises(FaceNotFoundError, match=r"clips/blank\.avi: no face detected in frames \[0, 3, 6, 9\]"):
            detect_face_box(frames, haar, n_frames=4, source="clips/blank.avi")

    def test_error_type_and_pickling(self) -> None:
        err = FaceNotFoundError("a.avi", [0, 5])
        assert isinstance(err, ValueError)
        clone = pickle.loads(pickle.dumps(err))
        assert str(clone) == str(err)
        assert clone.frame_indices == [0, 5]
        assert clone.source == "a.avi"

    def test_bad_input(self, haar: HaarFaceDetector) -> None:
        with pytest.raises(ValueError, match="at least one frame"):
            detect_face_box(np.zeros((0, 8, 8, 3), np.uint8), haar)
        with pytest.raises(ValueError, match="n_frames"):
            detect_face_box(np.zeros((2, 8, 8, 3), np.uint8), haar, n_frames=0)
        with pytest.raises(ShapeError, match="frames"):
            detect_face_box(np.zeros((2, 8, 8), np.uint8), haar)


# ---------------------------------------------------------------------------------------------- crop_resize


def _smooth_frames(t: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    frames = []
    for _ in range(t):
        fy, fx, phase = rng.uniform(0.01, 0.08), rng.uniform(0.01, 0.08), rng.uniform(0, 6.3, 3)
        chans = [127 + 100 * np.sin(fy * yy + fx * xx + p) for p in phase]
        frames.append(np.stack(chans, axis=-1))
    return np.clip(np.round(np.stack(frames)), 0, 255).astype(np.uint8)


class TestCropResize:
    def test_shape_dtype_and_crop_region(self) -> None:
        frames = np.zeros((3, 60, 80, 3), np.uint8)
        frames[:, 10:30, 20:60] = 200  # the box region is bright, the rest dark
        out = crop_resize(frames, FaceBox(20, 10, 40, 20), size=(8, 16))
        assert out.shape == (3, 8, 16, 3)
        assert out.dtype == np.uint8
        assert (out == 200).all()

    def test_whole_frame_identity(self) -> None:
        frames = _smooth_frames(2, 24, 32)
        np.testing.assert_array_equal(crop_resize(frames, None, size=(24, 32)), frames)

    @given(
        t=st.integers(1, 4),
        factor=st.sampled_from([(1, 1), (2, 2), (2, 3), (4, 2)]),
        out_hw=st.tuples(st.integers(1, 12), st.integers(1, 12)),
        seed=st.integers(0, 100),
    )
    def test_integer_shrink_is_block_mean(
        self, t: int, factor: tuple[int, int], out_hw: tuple[int, int], seed: int
    ) -> None:
        fy, fx = factor
        oh, ow = out_hw
        frames = np.random.default_rng(seed).integers(0, 256, (t, oh * fy + 5, ow * fx + 7, 3), dtype=np.uint8)
        box = FaceBox(3, 2, ow * fx, oh * fy)
        out = crop_resize(frames, box, size=(oh, ow))
        crop = frames[:, 2 : 2 + oh * fy, 3 : 3 + ow * fx].astype(np.float64)
        expected = crop.reshape(t, oh, fy, ow, fx, 3).mean(axis=(2, 4))
        assert np.abs(out.astype(np.float64) - expected).max() <= 0.5 + 1e-6
        # and it matches OpenCV's INTER_AREA, frame by frame
        for i in range(t):
            ref = cv2.resize(
                np.ascontiguousarray(frames[i, 2 : 2 + oh * fy, 3 : 3 + ow * fx]),
                (ow, oh),
                interpolation=cv2.INTER_AREA,
            )
            assert np.abs(out[i].astype(int) - ref.astype(int)).max() <= 1

    def test_equals_inter_area_for_fractional_shrink(self) -> None:
        frames = _smooth_frames(3, 150, 170)
        box = FaceBox(7, 5, 137, 121)
        out = crop_resize(frames, box, size=(64, 48))
        for i in range(3):  # rPPG-Toolbox's resize, exactly
            crop = np.ascontiguousarray(frames[i, 5:126, 7:144])
            np.testing.assert_array_equal(out[i], cv2.resize(crop, (48, 64), interpolation=cv2.INTER_AREA))

    def test_enlargement_is_bilinear(self) -> None:
        frames = _smooth_frames(2, 20, 30)
        out = crop_resize(frames, FaceBox(0, 0, 30, 20), size=(50, 70))
        for i in range(2):
            ref = cv2.resize(frames[i], (70, 50), interpolation=cv2.INTER_LINEAR)
            assert np.abs(out[i].astype(int) - ref.astype(int)).max() <= 1

    @given(t=st.integers(1, 70))
    def test_frames_independent_of_batching(self, t: int) -> None:
        frames = _smooth_frames(t, 30, 40, seed=t)
        box = FaceBox(4, 3, 27, 22)
        batched = crop_resize(frames, box, size=(9, 11))
        single = np.concatenate([crop_resize(frames[i : i + 1], box, size=(9, 11)) for i in range(t)])
        np.testing.assert_array_equal(batched, single)

    def test_box_clipped_to_frame(self) -> None:
        frames = _smooth_frames(2, 20, 30)
        np.testing.assert_array_equal(
            crop_resize(frames, FaceBox(20, 10, 50, 50), size=(10, 10)), frames[:, 10:20, 20:30]
        )

    def test_empty_video(self) -> None:
        assert crop_resize(np.zeros((0, 8, 8, 3), np.uint8), None, size=(4, 4)).shape == (0, 4, 4, 3)

    @pytest.mark.parametrize(
        ("frames", "box", "size", "error", "match"),
        [
            (np.zeros((8, 8, 3), np.uint8), None, (4, 4), ShapeError, "frames"),
            (np.zeros((2, 8, 8, 4), np.uint8), None, (4, 4), ShapeError, "frames"),
            (np.zeros((2, 8, 8, 3), np.float32), None, (4, 4), ValueError, "uint8"),
            (np.zeros((2, 8, 8, 3), np.uint8), None, (0, 4), ValueError, "size"),
            (np.zeros((2, 8, 8, 3), np.uint8), None, (4.0, 4), ValueError, "size"),
            (np.zeros((2, 8, 8, 3), np.uint8), FaceBox(10, 10, 4, 4), (4, 4), ValueError, "outside"),
            (np.zeros((2, 8, 8, 3), np.uint8), FaceBox(1, 1, 0, 4), (4, 4), ValueError, "width"),
        ],
    )
    def test_errors(
        self, frames: np.ndarray, box: FaceBox | None, size: tuple[int, int], error: type[Exception], match: str
    ) -> None:
        with pytest.raises(error, match=match):
            crop_resize(frames, box, size=size)
