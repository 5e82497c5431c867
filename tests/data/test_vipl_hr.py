from __future__ import annotations

import os
import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Subset

import rppgblocks.data.vipl_hr as vipl_hr_module
from rppgblocks.data.face import FaceBox, FaceNotFoundError, HaarFaceDetector
from rppgblocks.data.video import iter_video, read_video, write_video
from rppgblocks.data.vipl_hr import (
    HR_VALID_RANGE_BPM,
    VIPL_HR_ASSUMED_FPS,
    VIPLHR,
    VIPLHRVideo,
    align_series_to_frames,
)
from rppgblocks.errors import VideoDecodeError

cv2 = pytest.importorskip("cv2")

H, W = 48, 64
N_FRAMES = 40
BVP_HZ = 1.2  # the sinusoid written into wave.csv


# ---------------------------------------------------------------------------------------------- tree writing


@dataclass
class Session:
    """What was written for one video, to compute expectations independently of the loader."""

    folder: Path
    frames: np.ndarray
    times_ms: np.ndarray | None  # None: no time.txt
    wave: np.ndarray
    hr: np.ndarray

    def frame_times(self) -> np.ndarray:
        if self.times_ms is not None:
            return self.times_ms.astype(np.float64)
        return np.arange(len(self.frames)) * 1000.0 / 30.0


def jittered_times(n: int, *, start: int, rng: np.random.Generator, period: float = 33.3) -> np.ndarray:
    return (start + np.round(np.arange(n) * period + rng.uniform(-8, 8, n))).astype(np.int64)


def contract_sinusoid(frame_times_ms: np.ndarray, n_samples: int, hz: float = BVP_HZ) -> np.ndarray:
    """sin(2 pi f t) sampled at the contract times t_first + i (t_last - t_first) / (N - 1)."""
    t = np.linspace(frame_times_ms[0], frame_times_ms[-1], n_samples) / 1000.0
    return np.sin(2 * np.pi * hz * t)


def coloured_frames(n: int, seed: int, h: int = H, w: int = W) -> np.ndarray:
    """Flat frames, one distinct colour per frame (exact under the lossless FFV1 codec)."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, (n, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.broadcast_to(colours[:, None, None, :], (n, h, w, 3)))


def write_session(
    folder: Path,
    *,
    seed: int,
    frames: np.ndarray | None = None,
    with_time: bool = True,
    time_start: int = 0,
    n_wave: int = 100,
    hr: list[float] | None = None,
    codec: str = "FFV1",
) -> Session:
    rng = np.random.default_rng(seed)
    frames = coloured_frames(N_FRAMES, seed) if frames is None else frames
    folder.mkdir(parents=True, exist_ok=True)
    write_video(folder / "video.avi", frames, fps=25.0, codec=codec)  # VIPL-HR containers all say 25 fps
    times = jittered_times(len(frames), start=time_start, rng=rng) if with_time else None
    if times is not None:
        (folder / "time.txt").write_text("\n".join(str(t) for t in times) + "\n")
    session = Session(folder, frames, times, np.zeros(0), np.asarray(hr or [72.0, 74.0], dtype=np.float64))
    session.wave = np.round(contract_sinusoid(session.frame_times(), n_wave), 6)
    (folder / "wave.csv").write_text("Wave\n" + "\n".join(f"{v:.6f}" for v in session.wave) + "\n")
    (folder / "gt_HR.csv").write_text("HR\n" + "\n".join(f"{v:g}" for v in session.hr) + "\n")
    (folder / "gt_SpO2.csv").write_text("SpO2\n97\n98\n")
    return session


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, Session]]:
    """VIPL-HR/data/p*/...: p1 (v1 with source1/2/4, v1-2, v2), p12 (v1), p100 (v1, v9), a fold folder."""
    data = tmp_path / "VIPL-HR" / "data"
    sessions = {
        "p1/v1/source1": write_session(data / "p1/v1/source1", seed=1, time_start=1234, hr=[70, 255, 80, 0, 90]),
        "p1/v1/source2": write_session(data / "p1/v1/source2", seed=2, with_time=False),
        "p1/v1/source4": write_session(data / "p1/v1/source4", seed=3),
        "p1/v1-2/source1": write_session(data / "p1/v1-2/source1", seed=4),
        "p1/v2/source3": write_session(data / "p1/v2/source3", seed=5),
        "p12/v1/source3": write_session(data / "p12/v1/source3", seed=6),
        "p100/v1/source1": write_session(data / "p100/v1/source1", seed=7),
        "p100/v9/source2": write_session(data / "p100/v9/source2", seed=8, with_time=False),
    }
    (tmp_path / "VIPL-HR" / "fold").mkdir()
    (data / "Missing_data.txt").write_text("p1 v3 source1\n")
    return tmp_path / "VIPL-HR", sessions


def load(root: Path, **kwargs: object) -> VIPLHR:
    options: dict[str, object] = {"clip_length": 16, "frame_size": (H, W), "face_detector": None}
    options.update(kwargs)
    return VIPLHR(root, **options)  # type: ignore[arg-type]


DEFAULT_IDS = [
    "p1/v1/source1",
    "p1/v1/source2",
    "p1/v1-2/source1",
    "p1/v2/source3",
    "p12/v1/source3",
    "p100/v1/source1",
    "p100/v9/source2",
]


# ---------------------------------------------------------------------------------------------- indexing


class TestIndexing:
    def test_default_index(self, tree: tuple[Path, dict[str, Session]]) -> None:
        root, _ = tree
        data = load(root)
        assert [v.video_id for v in data.videos] == DEFAULT_IDS  # numeric order, v1 < v1-2 < v2, no source4
        assert data.subjects == [1, 12, 100]  # p100 is 100, not 10
        assert all(isinstance(v, VIPLHRVideo) for v in data.videos)
        assert not any(v.is_nir for v in data.videos)
        assert data.skipped == []
        record = data.videos[0]
        assert (record.subject, record.scenario, record.source) == (1, "v1", "source1")
        assert record.video_path == root / "data/p1/v1/source1/video.avi"
        assert record.time_path == root / "data/p1/v1/source1/time.txt"
        assert record.frame_hw == (H, W)
        assert record.face_box is None

    def test_depth_one_and_two_agree(self, tree: tuple[Path, dict[str, Session]]) -> None:
        root, _ = tree
        a, b = load(root), load(root / "data")
        assert [v.video_id for v in a.videos] == [v.video_id for v in b.videos]
        torch.testing.assert_close(a[3]["video"], b[3]["video"])

    def test_nir_source_flagged_when_requested(self, tree: tuple[Path, dict[str, Session]]) -> None:
        root, _ = tree
        data = load(root, sources=("source1", "source4"))
        assert [(v.video_id, v.is_nir) for v in data.videos] == [
            ("p1/v1/source1", False),
            ("p1/v1/source4", True),
            ("p1/v1-2/source1", False),
            ("p100/v1/source1", False),
        ]

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"subjects": [100]}, ["p100/v1/source1", "p100/v9/source2"]),
            ({"subjects": {1, 12}, "scenarios": ["v1"]}, ["p1/v1/source1", "p1/v1/source2", "p12/v1/source3"]),
            ({"scenarios": "v1-2"}, ["p1/v1-2/source1"]),
            ({"exclude_scenarios": ("v2", "v9")}, [i for i in DEFAULT_IDS if "/v2/" not in i and "/v9/" not in i]),
            ({"sources": "source2"}, ["p1/v1/source2", "p100/v9/source2"]),
        ],
    )
    def test_filters(
        self, tree: tuple[Path, dict[str, Session]], kwargs: dict[str, object], expected: list[str]
    ) -> None:
        root, _ = tree
        assert [v.video_id for v in load(root, **kwargs).videos] == expected

    def test_unknown_subject_warns(self, tree: tuple[Path, dict[str, Session]]) -> None:
        root, _ = tree
        with pytest.warns(UserWarning, match=r"subjects \[10\] requested but not found"):
            data = load(root, subjects=[10, 12])
        assert data.subjects == [12]
        with pytest.warns(UserWarning, match="not found"), pytest.raises(ValueError, match="no VIPL-HR video matches"):
            load(root, subjects=[10])

    def test_duplicate_subject_across_parents(self, tmp_path: Path) -> None:
        write_session(tmp_path / "p1-5" / "p1" / "v1" / "source1", seed=0)
        write_session(tmp_path / "copy" / "p1" / "v1" / "source1", seed=0)
        with pytest.raises(ValueError, match="subject 1 appears twice"):
            load(tmp_path)

    def test_zip_folders_at_depth_two(self, tmp_path: Path) -> None:
        write_session(tmp_path / "p1-5" / "p2" / "v1" / "source1", seed=0)
        write_session(tmp_path / "p101-107" / "p107" / "v3" / "source3", seed=1)
        data = load(tmp_path)
        assert [v.video_id for v in data.videos] == ["p2/v1/source1", "p107/v3/source3"]


# ---------------------------------------------------------------------------------------------- timing and labels


class TestTimingAndLabels:
    def test_fps_from_time_txt(self, tree: tuple[Path, dict[str, Session]]) -> None:
        root, sessions = tree
        data = load(root)
        for record in data.videos:
            times = sessions[record.video_id].times_ms
            if times is None:
                assert record.fps == VIPL_HR_ASSUMED_FPS
                assert record.fps_assumed
                assert record.time_path is None
            else:
                expected = (len(times) - 1) * 1000.0 / (times[-1] - times[0])
                assert record.fps == pytest.approx(expected, rel=1e-12)
                assert 25.0 < record.fps < 35.0  # ~30 fps, not the container's 25
                assert not record.fps_assumed
            assert record.n_frames == N_FRAMES

    def test_fs_in_samples(self, tree: tuple[Path, dict[str, Session]]) -> None:
        root, _ = tree
        data = load(root)
        for i in range(len(data)):
            sample = data[i]
            record = next(v for v in data.videos if v.video_id == sample["video_id"])
            assert float(sample["fs"]) == pytest.approx(record.fps, rel=1e-6)

    @pytest.mark.parametrize("video_id", ["p1/v1/source1", "p1/v1/source2"])
    def test_bvp_follows_the_time_contract(self, tree: tuple[Path, dict[str, Session]], video_id: str) -> None:
        root, sessions = tree
        session = sessions[video_id]
        data = load(root, clip_length=N_FRAMES, subjects=[1], scenarios=["v1"])
        index = [v.video_id for v in data.videos].index(video_id)
        sample = data[index]
        assert sample["start"] == 0
        bvp = sample["bvp"].numpy()
        expected = np.sin(2 * np.pi * BVP_HZ * session.frame_times() / 1000.0)  # the sinusoid at each frame time
        np.testing.assert_allclose(bvp, expected, atol=6e-3)
        if session.times_ms is not None:
            # An index-based stretch (ignoring the jittered timestamps) would be measurably wrong.
            by_index = np.interp(
                np.linspace(0, len(session.wave) - 1, N_FRAMES), np.arange(len(session.wave)), session.wave
            )
            assert np.abs(by_index - expected).max() > 5 * np.abs(bvp - expected).max()

    def test_hr_faults_removed(self, tree: tuple[Path, dict[str, Session]]) -> None:
        root, sessions = tree
        session = sessions["p1/v1/source1"]  # HR 70, 255, 80, 0, 90
        data = load(root, subjects=[1], scenarios=["v1"], sources=["source1"], clip_length=10)
        t = session.frame_times()
        sample_t = np.linspace(t[0], t[-1], 5)
        keep = np.array([True, False, True, False, True])
        per_frame = np.interp(t, sample_t[keep], session.hr[keep])
        for i in range(len(data)):
            sample = data[i]
            start = sample["start"]
            assert float(sample["hr"]) == pytest.approx(per_frame[start : start + 10].mean(), abs=1e-4)
            assert 70.0 <= float(sample["hr"]) <= 90.0
        assert HR_VALID_RANGE_BPM == (30.0, 250.0)

    def test_all_hr_faults_is_an_error(self, tmp_path: Path) -> None:
        write_session(tmp_path / "p1/v1/source1", seed=0, hr=[255, 0, 255])
        with pytest.raises(ValueError, match=r"gt_HR\.csv: no heart rate inside 30-250 bpm"):
            load(tmp_path)

    def test_align_series_to_frames(self) -> None:
        frame_times = np.array([100.0, 130.0, 170.0, 200.0, 230.0])
        values = np.array([0.0, 1.0, 4.0])  # at 100, 165, 230 ms
        expected = np.interp(frame_times, [100.0, 165.0, 230.0], values)
        np.testing.assert_allclose(align_series_to_frames(values, frame_times), expected)
        assert align_series_to_frames([5.0], frame_times).tolist() == [5.0] * 5
        np.testing.assert_allclose(
            align_series_to_frames([0.0, 99.0, 4.0], frame_times, valid=[True, False, True]),
            np.interp(frame_times, [100.0, 230.0], [0.0, 4.0]),
        )
        with pytest.raises(ValueError, match="no sample"):
            align_series_to_frames([1.0, 2.0], frame_times, valid=[False, False])
        with pytest.raises(ValueError, match="valid"):
            align_series_to_frames([1.0, 2.0], frame_times, valid=[True])
        with pytest.raises(ValueError, match="last time to exceed"):
            align_series_to_frames([1.0, 2.0], [5.0, 5.0])
        with pytest.raises(ValueError, match="values"):
            align_series_to_frames([], frame_times)


# ---------------------------------------------------------------------------------------------- clips and samples


class TestClips:
    @pytest.mark.parametrize(
        ("clip_length", "clip_stride", "n_clips", "dropped"),
        [(16, None, 2, 8), (16, 8, 4, 0), (10, None, 4, 0), (40, None, 1, 0), (15, 5, 6, 0), (17, 6, 4, 5)],
    )
    def test_counts(
        self,
        tree: tuple[Path, dict[str, Session]],
        clip_length: int,
        clip_stride: int | None,
        n_clips: int,
        dropped: int,
    ) -> None:
        root, _ = tree
        data = load(root, clip_length=clip_length, clip_stride=clip_stride)
        assert all(v.n_clips == n_clips and v.n_dropped_frames == dropped for v in data.videos)
        assert len(data) == n_clips * len(data.videos)
        stride = clip_length if clip_stride is None else clip_stride
        starts = [data[i]["start"] for i in range(n_clips)]
        assert starts == [k * stride for k in range(n_clips)]
        assert data.clip_locations()[:n_clips] == [("p1/v1/source1", s) for s in starts]

    def test_too_short_videos_warn(self, tree: tuple[Path, dict[str, Session]]) -> None:
        root, _ = tree
        with pytest.warns(UserWarning, match="shorter than clip_length=41"):
            data = load(root, clip_length=41)
        assert len(data) == 0
        assert all(v.n_clips == 0 and v.n_dropped_frames == N_FRAMES for v in data.videos)

    def test_sample_contents(self, tree: tuple[Path, dict[str, Session]]) -> None:
        root, sessions = tree
        data = load(root)
        for index in (0, 1, len(data) - 1, -1):
            sample = data[index]
            assert set(sample) == {"video", "bvp", "hr", "fs", "subject", "video_id", "start"}
            video = sample["video"]
            assert video.shape == (3, 16, H, W)
            assert video.dtype == torch.float32
            assert sample["bvp"].shape == (16,)
            assert sample["bvp"].dtype == torch.float32
            assert sample["hr"].shape == ()
            assert sample["hr"].dtype == torch.float32
            assert sample["fs"].shape == ()
            assert sample["fs"].dtype == torch.float32
            assert isinstance(sample["subject"], int)
            assert isinstance(sample["start"], int)
            # The pixels are the written frames (lossless codec, whole frame, no resize), RGB in [0, 1].
            start = sample["start"]
            frames = sessions[sample["video_id"]].frames[start : start + 16]
            expected = torch.from_numpy(frames).permute(3, 0, 1, 2).float() / 255.0
            torch.testing.assert_close(video, expected)
        assert data[-1]["video_id"] == "p100/v9/source2"
        assert data[-1]["subject"] == 100

    def test_index_errors(self, tree: tuple[Path, dict[str, Session]]) -> None:
        root, _ = tree
        data = load(root)
        with pytest.raises(IndexError, match="index"):
            data[len(data)]
        with pytest.raises(TypeError, match="index"):
            data["0"]  # type: ignore[index]

    def test_resize_and_collate(self, tree: tuple[Path, dict[str, Session]]) -> None:
        root, _ = tree
        data = load(root, frame_size=(8, 12))
        batch = next(iter(DataLoader(data, batch_size=4)))
        assert batch["video"].shape == (4, 3, 16, 8, 12)
        assert batch["bvp"].shape == (4, 16)
        assert batch["subject"].tolist() == [1, 1, 1, 1]
        assert batch["video_id"] == ["p1/v1/source1"] * 2 + ["p1/v1/source2"] * 2
        # The resize of a flat frame is the same flat colour.
        assert torch.all(batch["video"].amax(dim=(-1, -2)) == batch["video"].amin(dim=(-1, -2)))

    def test_clip_indices_by_subject(self, tree: tuple[Path, dict[str, Session]]) -> None:
        root, _ = tree
        data = load(root)
        by_subject = {s: data.clip_indices([s]) for s in data.subjects}
        assert sorted(i for ids in by_subject.values() for i in ids) == list(range(len(data)))
        for subject, ids in by_subject.items():
            assert ids
            assert all(data[i]["subject"] == subject for i in ids)
        assert data.clip_indices([12, 100]) == sorted(by_subject[12] + by_subject[100])
        assert data.clip_indices([55]) == []
        assert len(Subset(data, data.clip_indices([100]))) == 4
        with pytest.raises(ValueError, match="subjects"):
            data.clip_indices(["p1"])  # type: ignore[list-item]

    def test_pickles(self, tree: tuple[Path, dict[str, Session]], tmp_path: Path) -> None:
        root, _ = tree
        data = load(root, cache_dir=tmp_path / "cache")
        first = data[5]
        clone = pickle.loads(pickle.dumps(data))
        torch.testing.assert_close(clone[5]["video"], first["video"])
        assert "VIPLHR(" in repr(data)
        assert "videos=7" in repr(data)


# ---------------------------------------------------------------------------------------------- face cropping


class TestFaceCrop:
    def test_haar_crop(self, tmp_path: Path, cartoon_face: Callable[..., np.ndarray]) -> None:
        frames = np.stack([cartoon_face(120, 160, cx=60 + i % 2, cy=60, scale=0.5) for i in range(20)])
        write_session(tmp_path / "p3/v1/source1", seed=0, frames=frames, codec="MJPG")
        data = VIPLHR(tmp_path, clip_length=20, frame_size=(32, 32))
        record = data.videos[0]
        assert record.face_box is not None
        x, y, w, h = record.face_box
        # The enlarged box (~1.5 x a ~70 px detection) is centred on the face at (60, 60), off the frame centre.
        assert abs(x + w / 2 - 60) <= 6
        assert abs(y + h / 2 - 60) <= 10
        assert 80 <= w <= 130
        crop = data[0]["video"]
        assert crop.shape == (3, 20, 32, 32)
        # Mostly face: the central pixel is skin-coloured (R > G > B).
        r, g, b = (float(c) for c in crop[:, 0, 16, 16])
        assert r > g > b

    def test_custom_detector_box_and_scale(self, tmp_path: Path) -> None:
        frames = np.zeros((20, 60, 80, 3), np.uint8)
        frames[:, 20:40, 30:50] = 255
        write_session(tmp_path / "p3/v1/source1", seed=0, frames=frames)

        def detector(frame: np.ndarray) -> np.ndarray:
            return np.array([[30, 20, 20, 20]])

        data = VIPLHR(tmp_path, clip_length=20, frame_size=(10, 10), face_detector=detector, box_scale=1.0)
        assert data.videos[0].face_box == FaceBox(30, 20, 20, 20)
        assert torch.all(data[0]["video"] == 1.0)  # the white square only
        data = VIPLHR(tmp_path, clip_length=20, frame_size=(10, 10), face_detector=detector, box_scale=2.0)
        assert data.videos[0].face_box == FaceBox(20, 10, 40, 40)
        assert 0.2 < float(data[0]["video"].mean()) < 0.3  # a quarter of the box is white

    def test_no_face(self, tmp_path: Path, cartoon_face: Callable[..., np.ndarray]) -> None:
        write_session(tmp_path / "p3/v1/source1", seed=0, frames=np.full((20, 96, 128, 3), 128, np.uint8))
        write_session(
            tmp_path / "p4/v1/source1", seed=1, frames=np.stack([cartoon_face(120, 160, cx=80, cy=60, scale=0.5)] * 20)
        )
        with pytest.raises(FaceNotFoundError, match=r"p3/v1/source1/video\.avi: no face detected"):
            VIPLHR(tmp_path, clip_length=20)
        with pytest.warns(RuntimeWarning, match=r"skipped 1 video"):
            data = VIPLHR(tmp_path, clip_length=20, on_error="skip", face_detector=HaarFaceDetector(min_neighbors=3))
        assert [v.video_id for v in data.videos] == ["p4/v1/source1"]
        assert data.skipped[0][0] == tmp_path / "p3/v1/source1"
        assert "FaceNotFoundError" in data.skipped[0][1]


# ---------------------------------------------------------------------------------------------- cache


class TestCache:
    def test_reuse_without_decoding(
        self, tree: tuple[Path, dict[str, Session]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        root, _ = tree
        cache = tmp_path / "cache"
        first = load(root, cache_dir=cache, frame_size=(8, 8))
        assert len(list(cache.glob("*.npy"))) == len(first.videos)
        assert len(list(cache.glob("*.json"))) == len(first.videos)
        assert not list(cache.glob(".tmp-*"))

        def no_decoding(*args: object, **kwargs: object) -> None:
            raise AssertionError("the video was decoded again")

        monkeypatch.setattr(vipl_hr_module, "iter_video", no_decoding)
        second = load(root, cache_dir=cache, frame_size=(8, 8))
        assert second.videos == first.videos
        for i in (0, 7, len(first) - 1):
            a, b = first[i], second[i]
            for key in ("video", "bvp", "hr", "fs"):
                torch.testing.assert_close(a[key], b[key])  # type: ignore[literal-required]
        # Other parameters, or a changed video file, mean another cache entry, so the video is decoded.
        with pytest.raises(RuntimeError, match="decoded again"):
            load(root, cache_dir=cache, frame_size=(8, 9))
        video = root / "data/p1/v1/source1/video.avi"
        stat = video.stat()
        os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        with pytest.raises(RuntimeError, match="decoded again"):
            load(root, cache_dir=cache, frame_size=(8, 8))

    def test_corrupt_cache_is_recomputed(self, tree: tuple[Path, dict[str, Session]], tmp_path: Path) -> None:
        root, _ = tree
        cache = tmp_path / "cache"
        first = load(root, cache_dir=cache, subjects=[12])
        (npy,) = cache.glob("*.npy")
        npy.write_bytes(npy.read_bytes()[:100])
        with pytest.warns(UserWarning, match="unreadable cache file"):
            second = load(root, cache_dir=cache, subjects=[12])
        torch.testing.assert_close(second[1]["video"], first[1]["video"])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            load(root, cache_dir=cache, subjects=[12])  # rewritten: no warning any more


# ---------------------------------------------------------------------------------------------- errors


class TestErrors:
    def test_missing_root(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError, match="VIPL-HR folder not found"):
            load(tmp_path / "nowhere")

    def test_not_a_dataset(self, tmp_path: Path) -> None:
        (tmp_path / "videos" / "subject1").mkdir(parents=True)
        (tmp_path / "p1.txt").write_text("not a folder")
        with pytest.raises(ValueError, match="is not a VIPL-HR folder"):
            load(tmp_path)

    def test_missing_wave(self, tmp_path: Path) -> None:
        write_session(tmp_path / "p1/v1/source1", seed=0)
        write_session(tmp_path / "p2/v1/source1", seed=1)
        (tmp_path / "p1/v1/source1/wave.csv").unlink()
        with pytest.raises(FileNotFoundError, match=r"p1/v1/source1/wave\.csv"):
            load(tmp_path)
        with pytest.warns(RuntimeWarning, match=r"(?s)skipped 1 video.*wave\.csv"):
            data = load(tmp_path, on_error="skip")
        assert data.subjects == [2]
        assert data.skipped == [(tmp_path / "p1/v1/source1", data.skipped[0][1])]
        assert "FileNotFoundError" in data.skipped[0][1]

    @pytest.mark.parametrize(
        ("file", "content", "match"),
        [
            ("wave.csv", "Wave\n1\n2\nabc\n4\n", r"wave\.csv:4: expected one number per line, got 'abc'"),
            ("wave.csv", "1\n2\n3\n", r"wave\.csv:1: expected the header line 'Wave', got '1'"),
            ("wave.csv", "Wave\n", r"wave\.csv: no values after the 'Wave' header"),
            ("wave.csv", "", r"wave\.csv: empty file"),
            ("gt_HR.csv", "HR\n70\n80,81\n", r"gt_HR\.csv:3: expected one number per line, got '80,81'"),
            ("gt_HR.csv", "HR\n70\nnan\n", r"gt_HR\.csv:3: expected a finite number"),
            ("time.txt", "0\n33\n20\n", r"time\.txt:3: timestamps must not decrease"),
        ],
    )
    def test_malformed_files(self, tmp_path: Path, file: str, content: str, match: str) -> None:
        write_session(tmp_path / "p1/v1/source1", seed=0)
        (tmp_path / "p1/v1/source1" / file).write_text(content)
        with pytest.raises(ValueError, match=match):
            load(tmp_path)

    def test_time_length_mismatch(self, tmp_path: Path) -> None:
        session = write_session(tmp_path / "p1/v1/source1", seed=0)
        write_session(tmp_path / "p2/v1/source1", seed=1)
        assert session.times_ms is not None
        (session.folder / "time.txt").write_text("\n".join(str(t) for t in session.times_ms[:-1]))
        match = r"time\.txt: has 39 timestamps but .*video\.avi decodes to 40 frames"
        with pytest.raises(ValueError, match=match):
            load(tmp_path)
        with pytest.warns(RuntimeWarning, match=match):
            data = load(tmp_path, on_error="skip")
        assert [v.video_id for v in data.videos] == ["p2/v1/source1"]
        assert len(data.skipped) == 1

    def test_truncated_video(self, tmp_path: Path) -> None:
        write_session(tmp_path / "p1/v1/source1", seed=0)
        write_session(tmp_path / "p2/v1/source1", seed=1)
        video = tmp_path / "p1/v1/source1/video.avi"
        video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
        with pytest.raises(VideoDecodeError, match=r"p1/v1/source1/video\.avi: cannot decode video"):
            load(tmp_path)
        with pytest.warns(RuntimeWarning, match="skipped 1 video"):
            data = load(tmp_path, on_error="skip")
        assert data.subjects == [2]
        path, reason = data.skipped[0]
        assert path == tmp_path / "p1/v1/source1"
        assert reason.startswith("VideoDecodeError")

    def test_missing_time_txt_outside_source2_warns(self, tmp_path: Path) -> None:
        write_session(tmp_path / "p1/v1/source3", seed=0, with_time=False)
        with pytest.warns(UserWarning, match=r"no time\.txt; assuming 30 fps"):
            data = load(tmp_path)
        assert data.videos[0].fps_assumed

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"clip_length": 0}, "clip_length"),
            ({"clip_stride": -1}, "clip_stride"),
            ({"frame_size": (0, 8)}, "frame_size"),
            ({"frame_size": 8}, "frame_size"),
            ({"subjects": ["p1"]}, "subjects"),
            ({"subjects": "1"}, "subjects"),
            ({"scenarios": ["x1"]}, "scenarios"),
            ({"exclude_scenarios": [2]}, "exclude_scenarios"),
            ({"sources": ["source5"]}, "sources"),
            ({"sources": []}, "sources"),
            ({"box_scale": 0.0}, "box_scale"),
            ({"detect_frames": 0}, "detect_frames"),
            ({"on_error": "ignore"}, "on_error"),
            ({"face_detector": "yolo"}, "face_detector"),
        ],
    )
    def test_bad_arguments(self, tree: tuple[Path, dict[str, Session]], kwargs: dict[str, object], match: str) -> None:
        root, _ = tree
        with pytest.raises(ValueError, match=match):
            load(root, **kwargs)


# ---------------------------------------------------------------------------------------------- iter_video


class TestIterVideo:
    def test_chunks_equal_read_video(self, tmp_path: Path) -> None:
        frames = coloured_frames(23, seed=3)
        path = tmp_path / "clip.avi"
        write_video(path, frames, fps=25.0, codec="FFV1")
        chunks = list(iter_video(path, chunk_size=10))
        assert [c.shape for c in chunks] == [(10, H, W, 3), (10, H, W, 3), (3, H, W, 3)]
        assert all(c.dtype == np.uint8 for c in chunks)
        np.testing.assert_array_equal(np.concatenate(chunks), frames)
        np.testing.assert_array_equal(np.concatenate(chunks), read_video(path).frames)

    def test_truncated(self, tmp_path: Path) -> None:
        path = tmp_path / "clip.avi"
        write_video(path, coloured_frames(40, seed=4), fps=25.0, codec="FFV1")
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        got: list[np.ndarray] = []
        with pytest.raises(VideoDecodeError, match=r"decoded \d+ frames but the header declares 40"):
            got.extend(iter_video(path, chunk_size=8))
        assert 0 < sum(len(c) for c in got) < 40  # the decodable frames come first
        assert 0 < sum(len(c) for c in iter_video(path, chunk_size=8, strict=False)) < 40

    def test_errors(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError, match="video file not found"):
            iter_video(tmp_path / "missing.avi")  # raised by the call, before iteration
        path = tmp_path / "clip.avi"
        write_video(path, coloured_frames(2, seed=5), fps=25.0)
        with pytest.raises(ValueError, match="chunk_size"):
            iter_video(path, chunk_size=0)
        (tmp_path / "garbage.avi").write_bytes(b"\x00" * 1000)
        with pytest.raises(VideoDecodeError, match="garbage"):
            list(iter_video(tmp_path / "garbage.avi"))
