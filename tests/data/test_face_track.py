from __future__ import annotations

import itertools
import json
import typing

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rppgblocks.data.face import (
    FaceBox,
    FaceNotFoundError,
    FaceTrackReport,
    NoFacePolicy,
    boxes_at_frames,
    crop_resize,
    enlarge_boxes,
    resolve_face_track,
)
from rppgblocks.errors import ShapeError

POLICIES: tuple[NoFacePolicy, ...] = ("interpolate", "previous", "fail")


def _indices(k: int, rng: np.random.Generator) -> np.ndarray:
    """K strictly increasing non-negative frame indices with random gaps."""
    return np.cumsum(rng.integers(1, 40, size=k)) - 1


def _random_track(k: int, rng: np.random.Generator) -> np.ndarray:
    xy = rng.uniform(-20, 300, size=(k, 2))
    wh = rng.uniform(5, 150, size=(k, 2))
    return np.concatenate([xy, wh], axis=1)


def _centre_size(xywh: np.ndarray) -> np.ndarray:
    return np.concatenate([xywh[:, :2] + xywh[:, 2:] / 2, xywh[:, 2:]], axis=1)


_seed = st.integers(0, 2**32 - 1)


# ---------------------------------------------------------------------------------------------- NoFacePolicy


def test_no_face_policy_values() -> None:
    assert typing.get_args(NoFacePolicy) == POLICIES


# ---------------------------------------------------------------------------------------------- resolve_face_track


class TestResolveFaceTrack:
    @given(k=st.integers(1, 30), seed=_seed, policy=st.sampled_from(POLICIES))
    def test_no_misses_is_identity(self, k: int, seed: int, policy: NoFacePolicy) -> None:
        rng = np.random.default_rng(seed)
        indices, track = _indices(k, rng), _random_track(k, rng)
        out = resolve_face_track(indices, track, policy=policy)
        assert out.dtype == np.float64
        assert out.shape == (k, 4)
        np.testing.assert_array_equal(out, track)
        # the same from a list of tuples and of FaceBoxes
        np.testing.assert_array_equal(resolve_face_track(indices.tolist(), [tuple(r) for r in track]), track)
        ints = np.round(track).astype(int)
        ints[:, 2:] = np.maximum(ints[:, 2:], 1)
        boxes = [FaceBox(*(int(v) for v in r)) for r in ints]
        np.testing.assert_array_equal(resolve_face_track(indices, boxes), ints)

    @given(
        k=st.integers(1, 30),
        smoothing=st.sampled_from([1, 3, 5, 7, 9, 31]),
        box=st.tuples(st.floats(-50, 500), st.floats(-50, 500), st.floats(0.5, 300), st.floats(0.5, 300)),
        seed=_seed,
    )
    def test_constant_track_stays_constant(
        self, k: int, smoothing: int, box: tuple[float, float, float, float], seed: int
    ) -> None:
        rng = np.random.default_rng(seed)
        indices = _indices(k, rng)
        entries: list[tuple[float, float, float, float] | None] = [box] * k
        # misses anywhere but one entry: whatever the policy fills them with, the track is constant
        for i in rng.choice(k, size=rng.integers(0, k), replace=False):
            entries[i] = None
        for policy in ("interpolate", "previous"):
            out = resolve_face_track(indices, entries, policy=policy, smoothing=smoothing)
            np.testing.assert_allclose(out, np.tile(box, (k, 1)), rtol=1e-12, atol=1e-9)

    @given(k=st.integers(2, 30), smoothing=st.sampled_from([3, 5, 7, 11]), seed=_seed)
    def test_linear_track_stays_linear(self, k: int, smoothing: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        every = int(rng.integers(1, 60))
        indices = np.arange(k) * every + int(rng.integers(0, 100))  # evenly spaced detections
        start, slope = _random_track(1, rng)[0], rng.uniform(-2, 2, size=4)
        slope[2:] = np.abs(slope[2:])  # growing boxes
        track = start + np.outer(indices - indices[0], slope) / every
        out = resolve_face_track(indices, track, smoothing=smoothing)
        # linear everywhere: the window shrinks symmetrically at the ends
        np.testing.assert_allclose(out, track, rtol=1e-9, atol=1e-9)

    def test_growing_box_stays_centred(self) -> None:
        # a box growing about a fixed centre (50, 40), with a miss and with smoothing
        sides = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
        track = np.stack([50 - sides / 2, 40 - sides / 2, sides, sides], axis=1)
        entries: list[tuple[float, float, float, float] | None] = [(x, y, w, h) for x, y, w, h in track.tolist()]
        entries[2] = None
        for smoothing in (1, 3, 5):
            out = resolve_face_track([0, 10, 20, 30, 40], entries, smoothing=smoothing)
            np.testing.assert_allclose(out[:, 0] + out[:, 2] / 2, 50.0)
            np.testing.assert_allclose(out[:, 1] + out[:, 3] / 2, 40.0)
        np.testing.assert_allclose(resolve_face_track([0, 10, 20, 30, 40], entries), track)

    def test_smoothing_edges_and_window(self) -> None:
        x = np.array([0.0, 6.0, 0.0, 6.0, 0.0, 6.0, 30.0])
        track = np.stack([x, np.zeros(7), np.full(7, 10.0), np.full(7, 10.0)], axis=1)
        out = resolve_face_track(np.arange(7), track, smoothing=5)
        # r = min(2, i, 6 - i): windows [0], [0..2], [0..4], [1..5], [2..6], [4..6], [6]
        expected = [0.0, 2.0, 12 / 5, 18 / 5, 42 / 5, 12.0, 30.0]
        np.testing.assert_allclose(out[:, 0], expected)
        np.testing.assert_allclose(out[:, 1:], track[:, 1:])

    @given(k=st.integers(2, 25), seed=_seed, smoothing=st.sampled_from([1, 3]))
    def test_interpolate_fills_gaps_linearly(self, k: int, seed: int, smoothing: int) -> None:
        rng = np.random.default_rng(seed)
        indices, track = _indices(k, rng), _random_track(k, rng)
        found = rng.random(k) < 0.5
        found[rng.integers(k)] = True
        entries = [tuple(r) if f else None for r, f in zip(track, found, strict=True)]
        out = resolve_face_track(indices, entries, policy="interpolate")
        # the test's own oracle: np.interp on the centre and size over the frame index
        cs = _centre_size(track)
        filled = np.stack([np.interp(indices, indices[found], cs[found, c]) for c in range(4)], axis=1)
        expected = np.concatenate([filled[:, :2] - filled[:, 2:] / 2, filled[:, 2:]], axis=1)
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-9)
        np.testing.assert_array_equal(out[found], track[found])
        # a NaN-row array gives the same
        nan_track = np.where(found[:, None], track, np.nan)
        np.testing.assert_array_equal(resolve_face_track(indices, nan_track), out)
        # and smoothing acts on the filled track
        smoothed = resolve_face_track(indices, nan_track, smoothing=smoothing)
        np.testing.assert_allclose(smoothed, resolve_face_track(indices, out, smoothing=smoothing), atol=1e-9)

    def test_interpolate_worked_example(self) -> None:
        entries = [None, (0, 0, 10, 20), None, None, (30, 0, 40, 20), None]
        out = resolve_face_track([0, 10, 20, 40, 50, 60], entries)
        # centre x: 5 at frame 10, 50 at frame 50: 16.25 at 20, 38.75 at 40; w: 10 -> 40: 17.5, 32.5
        np.testing.assert_allclose(out[:, 0] + out[:, 2] / 2, [5, 5, 16.25, 38.75, 50, 50])
        np.testing.assert_allclose(out[:, 2], [10, 10, 17.5, 32.5, 40, 40])

    @given(k=st.integers(1, 25), seed=_seed)
    def test_previous_copies_previous_box(self, k: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        indices, track = _indices(k, rng), _random_track(k, rng)
        found = rng.random(k) < 0.5
        found[rng.integers(k)] = True
        entries = [tuple(r) if f else None for r, f in zip(track, found, strict=True)]
        out = resolve_face_track(indices, entries, policy="previous")
        first = int(np.argmax(found))
        for i in range(k):
            source = max((j for j in range(i + 1) if found[j]), default=first)
            np.testing.assert_allclose(out[i], track[source], rtol=1e-12, atol=1e-9)

    def test_fail_lists_exactly_the_missed_frames(self) -> None:
        entries = [(0, 0, 10, 10), None, (1, 1, 10, 10), None, None]
        with pytest.raises(FaceNotFoundError) as info:
            resolve_face_track([3, 8, 13, 18, 21], entries, policy="fail", source="p1/v1")
        assert info.value.frame_indices == [8, 18, 21]
        assert info.value.source == "p1/v1"
        assert "p1/v1: no face detected in frames [8, 18, 21]" in str(info.value)
        # no miss: fail is the identity
        np.testing.assert_array_equal(
            resolve_face_track([0, 5], [(0, 0, 10, 10), (1, 1, 10, 10)], policy="fail"),
            [[0, 0, 10, 10], [1, 1, 10, 10]],
        )

    @pytest.mark.parametrize("policy", POLICIES)
    @pytest.mark.parametrize("as_array", [False, True])
    def test_all_missed_raises_for_every_policy(self, policy: NoFacePolicy, as_array: bool) -> None:
        boxes = np.full((3, 4), np.nan) if as_array else [None, None, None]
        with pytest.raises(FaceNotFoundError) as info:
            resolve_face_track([0, 30, 59], boxes, policy=policy, smoothing=3, source="blank.avi")
        assert info.value.frame_indices == [0, 30, 59]
        assert info.value.source == "blank.avi"

    @pytest.mark.parametrize(
        ("indices", "boxes", "kwargs", "error", "match"),
        [
            ([0, 10], [(0, 0, 5, 5)], {}, ValueError, r"boxes: expected 2 boxes"),
            ([0, 10], np.ones((3, 4)), {}, ValueError, r"boxes: expected 2 boxes"),
            ([0], np.ones((1, 3)), {}, ShapeError, "boxes"),
            ([], [], {}, ValueError, "frame_indices: expected at least one"),
            ([[0, 1]], [(0, 0, 5, 5)], {}, ShapeError, "frame_indices"),
            ([0, 10, 10], [None, (0, 0, 5, 5), None], {}, ValueError, r"strictly increasing.*\[1\] = 10 then"),
            ([5, 3], [None, (0, 0, 5, 5)], {}, ValueError, "strictly increasing"),
            ([-1, 3], [None, (0, 0, 5, 5)], {}, ValueError, "non-negative"),
            ([0.0, 3.0], [None, (0, 0, 5, 5)], {}, ValueError, "integer"),
            ([0], [(0, 0, 5, 5)], {"policy": "nearest"}, ValueError, r"policy: expected one of .*'nearest'"),
            ([0], [(0, 0, 5, 5)], {"smoothing": 2}, ValueError, "smoothing: expected an odd positive integer"),
            ([0], [(0, 0, 5, 5)], {"smoothing": 0}, ValueError, "smoothing"),
            ([0], [(0, 0, 5, 5)], {"smoothing": 3.0}, ValueError, "smoothing"),
            ([0], [(0, 0, 5, 5)], {"smoothing": True}, ValueError, "smoothing"),
            ([0, 1], [(0, 0, 5, 5), (0, 0, 5)], {}, ValueError, r"boxes\[1\]: expected None or a box"),
            ([0, 1], [(0, 0, 5, 5), (0, 0, 0, 5)], {}, ValueError, r"boxes\[1\]: expected a positive width"),
            ([0, 1], [(0, 0, 5, 5), (0, np.inf, 5, 5)], {}, ValueError, r"boxes\[1\]: expected a finite box"),
            ([0, 1], np.array([[0, 0, 5, 5], [0, np.nan, 5, 5]]), {}, ValueError, r"boxes\[1\].*all-NaN"),
            ([0, 1], "ab", {}, ValueError, "boxes: expected a sequence"),
        ],
    )
    def test_errors(
        self, indices: object, boxes: object, kwargs: dict[str, object], error: type[Exception], match: str
    ) -> None:
        with pytest.raises(error, match=match):
            resolve_face_track(indices, boxes, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- boxes_at_frames


class TestBoxesAtFrames:
    @given(k=st.integers(1, 12), seed=_seed, tail=st.integers(0, 20))
    def test_equals_track_at_detections_and_monotone_between(self, k: int, seed: int, tail: int) -> None:
        rng = np.random.default_rng(seed)
        indices, track = _indices(k, rng), _random_track(k, rng)
        n_frames = int(indices[-1]) + 1 + tail
        out = boxes_at_frames(indices, track, n_frames)
        assert out.shape == (n_frames, 4)
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out[indices], track)
        # constant before the first and after the last detection
        np.testing.assert_array_equal(out[: indices[0] + 1], np.tile(track[0], (indices[0] + 1, 1)))
        np.testing.assert_array_equal(out[indices[-1] :], np.tile(track[-1], (n_frames - indices[-1], 1)))
        for a, b in itertools.pairwise(indices):
            segment = out[a : b + 1]
            steps = np.diff(segment, axis=0)
            rising = track[np.searchsorted(indices, b)] >= track[np.searchsorted(indices, a)]
            tol = 1e-9
            assert np.all(np.where(rising, steps >= -tol, steps <= tol))
            # linear in the frame: equal steps
            np.testing.assert_allclose(steps, np.broadcast_to(steps.mean(axis=0), steps.shape), atol=1e-9)

    def test_centre_and_size_interpolated(self) -> None:
        out = boxes_at_frames([0, 4], [(45, 45, 10, 10), (30, 30, 40, 40)], n_frames=5)
        np.testing.assert_allclose(out[:, 0] + out[:, 2] / 2, 50.0)
        np.testing.assert_allclose(out[:, 2], [10, 17.5, 25, 32.5, 40])

    def test_single_detection_is_constant(self) -> None:
        out = boxes_at_frames(np.array([3]), np.array([[1.5, 2.0, 3.0, 4.0]]), n_frames=6)
        np.testing.assert_array_equal(out, np.tile([1.5, 2.0, 3.0, 4.0], (6, 1)))

    @pytest.mark.parametrize(
        ("indices", "boxes", "n_frames", "error", "match"),
        [
            ([0, 5], [(0, 0, 5, 5)], 10, ValueError, "boxes: expected 2 boxes"),
            ([0, 10], [(0, 0, 5, 5), (0, 0, 5, 5)], 10, ValueError, "below n_frames = 10, got 10"),
            ([4, 2], [(0, 0, 5, 5), (0, 0, 5, 5)], 10, ValueError, "strictly increasing"),
            ([0, 5], [(0, 0, 5, 5), None], 10, ValueError, r"boxes\[1\]: expected a box, got none"),
            ([0, 5], np.array([[0, 0, 5, 5], [np.nan] * 4]), 10, ValueError, r"boxes\[1\]"),
            ([0, 5], np.ones((2, 5)), 10, ShapeError, "boxes"),
            ([0], [(0, 0, 5, 5)], 0, ValueError, "n_frames"),
            ([0], [(0, 0, 5, 5)], 2.0, ValueError, "n_frames"),
        ],
    )
    def test_errors(self, indices: object, boxes: object, n_frames: object, error: type[Exception], match: str) -> None:
        with pytest.raises(error, match=match):
            boxes_at_frames(indices, boxes, n_frames)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- enlarge_boxes


_int_boxes = hnp.arrays(
    np.int64,
    st.tuples(st.integers(0, 8), st.just(4)),
    elements=st.integers(0, 300),
).map(lambda a: np.concatenate([a[:, :2] - 20, np.maximum(a[:, 2:], 1)], axis=1))


class TestEnlargeBoxes:
    @given(
        boxes=_int_boxes,
        scale=st.one_of(st.floats(0.3, 3.0), st.sampled_from([1.0, 1.5, 2.0])),
        frame=st.one_of(st.none(), st.tuples(st.integers(1, 600), st.integers(1, 800))),
        square=st.booleans(),
    )
    def test_equals_facebox_enlarge_row_by_row(
        self, boxes: np.ndarray, scale: float, frame: tuple[int, int] | None, square: bool
    ) -> None:
        expected: list[FaceBox] = []
        outside = None
        for i, row in enumerate(boxes):
            try:
                expected.append(FaceBox(*(int(v) for v in row)).enlarge(scale, frame, square=square))
            except ValueError:
                outside = i
                break
        if outside is not None:
            with pytest.raises(ValueError, match=rf"boxes\[{outside}\]: .* lies outside"):
                enlarge_boxes(boxes, scale, frame, square=square)
            return
        out = enlarge_boxes(boxes, scale, frame, square=square)
        assert out.dtype == np.int64
        assert out.shape == (len(boxes), 4)
        assert [FaceBox(*(int(v) for v in r)) for r in out] == expected
        # the same from a float array
        np.testing.assert_array_equal(enlarge_boxes(boxes.astype(np.float64), scale, frame, square=square), out)

    def test_default_scale_and_float_boxes(self) -> None:
        out = enlarge_boxes(np.array([[100.4, 50.9, 80.2, 79.9]]), frame_hw=(240, 320))
        # x' = floor(100.4 - 0.25 * 80.2) = 80, y' = floor(50.9 - 0.25 * 79.9) = 30,
        # w' = floor(120.3) = 120, h' = floor(119.85) = 119
        np.testing.assert_array_equal(out, [[80, 30, 120, 119]])
        assert enlarge_boxes(np.zeros((0, 4))).shape == (0, 4)

    @pytest.mark.parametrize(
        ("boxes", "kwargs", "error", "match"),
        [
            (np.ones((4,)), {}, ShapeError, "boxes"),
            (np.ones((2, 3)), {}, ShapeError, "boxes"),
            (np.array([["a", "b", "c", "d"]]), {}, ValueError, "numeric"),
            (np.array([[0, 0, 5, 5], [0, 0, 5, -1]]), {}, ValueError, r"boxes\[1\]: expected a positive width"),
            (np.array([[0, 0, 5, 5], [0, np.nan, 5, 5]]), {}, ValueError, r"boxes\[1\]: expected a finite box"),
            (np.ones((1, 4)), {"scale": 0.0}, ValueError, "scale"),
            (np.ones((1, 4)), {"scale": float("inf")}, ValueError, "scale"),
            (np.ones((1, 4)), {"frame_hw": (0, 5)}, ValueError, "frame_hw"),
            (np.array([[0, 0, 5, 5], [50, 0, 5, 5]]), {"frame_hw": (20, 20)}, ValueError, r"boxes\[1\].*outside"),
        ],
    )
    def test_errors(self, boxes: np.ndarray, kwargs: dict[str, object], error: type[Exception], match: str) -> None:
        with pytest.raises(error, match=match):
            enlarge_boxes(boxes, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- crop_resize per frame


def _random_frames(t: int, h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


_frame_box = st.tuples(st.integers(-10, 45), st.integers(-10, 35), st.integers(1, 60), st.integers(1, 50))


class TestCropResizePerFrame:
    @given(
        t=st.integers(1, 5),
        box=_frame_box,
        size=st.sampled_from([(8, 8), (12, 20), (40, 30), (60, 70)]),
        seed=st.integers(0, 100),
    )
    def test_equal_rows_equal_single_box(
        self, t: int, box: tuple[int, int, int, int], size: tuple[int, int], seed: int
    ) -> None:
        frames = _random_frames(t, 40, 50, seed)
        try:
            single = crop_resize(frames, FaceBox(*box), size=size)
        except ValueError:
            with pytest.raises(ValueError, match="outside"):
                crop_resize(frames, np.tile(box, (t, 1)), size=size)
            return
        np.testing.assert_array_equal(crop_resize(frames, np.tile(box, (t, 1)), size=size), single)

    @given(
        boxes=st.lists(_frame_box, min_size=1, max_size=6),
        size=st.sampled_from([(8, 8), (12, 20), (30, 25), (60, 70)]),
        seed=st.integers(0, 100),
    )
    def test_each_frame_cropped_with_its_own_box(
        self, boxes: list[tuple[int, int, int, int]], size: tuple[int, int], seed: int
    ) -> None:
        t = len(boxes)
        frames = _random_frames(t, 40, 50, seed)
        track = np.array(boxes, dtype=np.int32)
        try:
            singles = [crop_resize(frames[i : i + 1], FaceBox(*boxes[i]), size=size) for i in range(t)]
        except ValueError:
            with pytest.raises(ValueError, match=r"box\[\d+\]: .* lies outside"):
                crop_resize(frames, track, size=size)
            return
        out = crop_resize(frames, track, size=size)
        assert out.shape == (t, *size, 3)
        np.testing.assert_array_equal(out, np.concatenate(singles))

    def test_empty_video(self) -> None:
        out = crop_resize(np.zeros((0, 8, 8, 3), np.uint8), np.zeros((0, 4), np.int64), size=(4, 4))
        assert out.shape == (0, 4, 4, 3)

    def test_moving_crop_region(self) -> None:
        frames = np.zeros((3, 20, 30, 3), np.uint8)
        track = np.array([[0, 0, 4, 4], [10, 5, 4, 4], [26, 16, 4, 4]])
        for i, (x, y, w, h) in enumerate(track):
            frames[i, y : y + h, x : x + w] = 50 + i
        out = crop_resize(frames, track, size=(2, 2))
        for i in range(3):
            assert (out[i] == 50 + i).all()

    @pytest.mark.parametrize(
        ("box", "error", "match"),
        [
            (np.zeros((2, 4), np.int64), ShapeError, r"box: expected shape \(3, 4\), got \(2, 4\)"),
            (np.zeros((3, 5), np.int64), ShapeError, r"box: expected shape \(3, 4\)"),
            (np.zeros((3, 4, 1), np.int64), ShapeError, "box"),
            (np.ones((3, 4)), ValueError, "integer"),
            (np.array([[0, 0, 4, 4], [0, 0, 0, 4], [0, 0, 4, 4]]), ValueError, r"box\[1\]: expected a positive"),
            (np.array([[0, 0, 4, 4], [0, 0, 4, 4], [9, 0, 4, 4]]), ValueError, r"box\[2\]: .* lies outside"),
        ],
    )
    def test_errors(self, box: np.ndarray, error: type[Exception], match: str) -> None:
        with pytest.raises(error, match=match):
            crop_resize(np.zeros((3, 8, 8, 3), np.uint8), box, size=(4, 4))


# ---------------------------------------------------------------------------------------------- FaceTrackReport


class TestFaceTrackReport:
    @given(
        indices=st.lists(st.integers(0, 10_000), min_size=1, max_size=20, unique=True).map(sorted),
        data=st.data(),
        every=st.one_of(st.none(), st.integers(1, 300)),
    )
    def test_json_round_trip(self, indices: list[int], data: st.DataObject, every: int | None) -> None:
        missed = sorted(data.draw(st.sets(st.sampled_from(indices), max_size=len(indices) - 1)))
        policy = data.draw(st.sampled_from(["interpolate", "previous"] if missed else list(POLICIES)))
        report = FaceTrackReport(tuple(indices), tuple(missed), policy, every)
        assert report.n_detections == len(indices)
        assert report.n_missed == len(missed)
        text = json.dumps(report.to_dict())
        clone = FaceTrackReport.from_dict(json.loads(text))
        assert clone == report
        assert hash(clone) == hash(report)

    def test_normalises_to_python_ints(self) -> None:
        report = FaceTrackReport(np.array([0, 30]), [np.int64(30)], "previous", np.int64(30))  # type: ignore[arg-type]
        assert report.frame_indices == (0, 30)
        assert report.missed == (30,)
        assert type(report.frame_indices[0]) is int
        assert type(report.every) is int
        json.dumps(report.to_dict())

    def test_frozen(self) -> None:
        report = FaceTrackReport((0,), (), "interpolate", None)
        with pytest.raises(AttributeError):
            report.policy = "fail"  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("args", "match"),
        [
            (((), (), "interpolate", 5), "frame_indices: expected at least one"),
            (((0, 0), (), "interpolate", 5), "frame_indices: expected strictly increasing"),
            (((0, 5), (3,), "interpolate", 5), r"missed: expected a subset .*\[3\]"),
            (((0, 5), (5, 0), "interpolate", 5), "missed: expected strictly increasing"),
            (((0, 5), (0, 5), "interpolate", 5), "every detection frame missed"),
            (((0, 5), (5,), "nearest", 5), "policy"),
            (((0, 5), (5,), "fail", 5), "policy: 'fail'"),
            (((0, 5), (), "fail", 0), "every"),
            (((0, 5), (), "fail", True), "every"),
        ],
    )
    def test_errors(self, args: tuple[object, ...], match: str) -> None:
        with pytest.raises(ValueError, match=match):
            FaceTrackReport(*args)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("data", "match"),
        [
            ({"frame_indices": [0], "missed": [], "policy": "previous"}, r"missing \['every'\]"),
            ({"frame_indices": [0], "missed": [], "policy": "previous", "every": 1, "x": 0}, r"unknown \['x'\]"),
            ({"frame_indices": 0, "missed": [], "policy": "previous", "every": 1}, "frame_indices"),
            ([("frame_indices", [0])], "mapping"),
        ],
    )
    def test_from_dict_errors(self, data: object, match: str) -> None:
        with pytest.raises(ValueError, match=match):
            FaceTrackReport.from_dict(data)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- the whole chain


def test_track_chain_crops_a_moving_face() -> None:
    """Detections every 10 frames with a miss, resolved, interpolated, enlarged, cropped: the face stays centred."""
    n_frames, height, width = 41, 60, 80
    centres = np.stack([20 + np.arange(n_frames), np.full(n_frames, 30.0)], axis=1)  # moves right 1 px / frame
    frames = np.zeros((n_frames, height, width, 3), np.uint8)
    yy, xx = np.mgrid[0:height, 0:width]
    for i, (cx, cy) in enumerate(centres):
        frames[i][(np.abs(xx + 0.5 - cx) <= 5) & (np.abs(yy + 0.5 - cy) <= 5)] = 200
    detections = np.arange(0, n_frames, 10)
    boxes: list[tuple[float, float, float, float] | None] = [(cx - 6, cy - 6, 12, 12) for cx, cy in centres[detections]]
    boxes[2] = None  # frame 20 missed
    track = resolve_face_track(detections, boxes, policy="interpolate", smoothing=3)
    per_frame = enlarge_boxes(boxes_at_frames(detections, track, n_frames), 1.5, (height, width))
    crops = crop_resize(frames, per_frame, size=(18, 18))
    # the bright square sits in the middle of every crop
    assert (crops[:, 8:10, 8:10] == 200).all()
    report = FaceTrackReport(tuple(detections.tolist()), (20,), "interpolate", 10)
    assert report.n_missed == 1
