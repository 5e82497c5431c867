"""The shared clip pipeline: per-video normalisation, face tracking, the cache manifest and worker processes.

Checked through :class:`~rppgblocks.data.UBFCRPPG` (DATASET_2 layout, written here with a lossless codec), whose
loader, like VIPL-HR's and PURE's, yields its frames job to the shared pipeline in ``rppgblocks.data._clips``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from rppgblocks.data import UBFCRPPG, FaceNotFoundError
from rppgblocks.data import ubfc_rppg as ubfc_module
from rppgblocks.data._clips import file_sha256
from rppgblocks.data.synthetic import generate_ubfc_rppg
from rppgblocks.data.video import write_video

pytest.importorskip("cv2")

H, W, N, FPS, SQUARE = 96, 128, 40, 30.0, 24


def square_x(t: np.ndarray | int) -> np.ndarray:
    """The left edge of the white square in frame ``t``: it moves 2 px per frame."""
    return 10 + 2 * np.asarray(t)


def write_subject(root: Path, subject: int, *, seed: int, blank: tuple[int, ...] = (), n: int = N) -> np.ndarray:
    """``subject<N>/vid.avi`` (FFV1, lossless) and ``ground_truth.txt``; returns the written frames.

    The frames are a textured background with a pulsing brightness and a white square moving right; the frames in
    ``blank`` have no square.
    """
    rng = np.random.default_rng(seed)
    base = rng.integers(30, 150, (H, W, 3)).astype(np.float64)
    t = np.arange(n)
    pulse = 1 + 0.05 * np.sin(2 * np.pi * 1.2 * t / FPS)
    frames = np.clip(base[None] * pulse[:, None, None, None] + rng.normal(0, 2, (n, H, W, 3)), 0, 190)
    frames = frames.astype(np.uint8)
    for i in range(n):
        if i not in blank:
            x = int(square_x(i))
            frames[i, 30 : 30 + SQUARE, x : x + SQUARE] = 255
    folder = root / f"subject{subject}"
    write_video(folder / "vid.avi", frames, fps=FPS, codec="FFV1")
    ppg = np.sin(2 * np.pi * 1.2 * t / FPS) + 0.3 * np.sin(2 * np.pi * 0.25 * t / FPS) + rng.normal(0, 0.05, n)
    rows = (ppg, np.full(n, 72.0), t / FPS)
    (folder / "ground_truth.txt").write_text("\n".join("".join(f"{v:16.7e}" for v in row) for row in rows) + "\n")
    return frames


class SquareDetector:
    """Finds the white square (every channel above 230): a detector whose answer is known exactly."""

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        ys, xs = np.nonzero((frame > 230).all(axis=-1))
        if not len(xs):
            return np.zeros((0, 4), dtype=np.int64)
        return np.array([[xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]])

    def __repr__(self) -> str:
        return "SquareDetector()"


RAW = {"clip_length": 16, "clip_stride": 8, "frame_size": (H, W), "face_detector": None}


def written_label(root: Path, subject: int) -> np.ndarray:
    return np.loadtxt(root / f"subject{subject}" / "ground_truth.txt")[0]


# ---------------------------------------------------------------------------------------------- normalisation


class TestNormalization:
    """rPPG-Toolbox normalises each whole video, then cuts it into clips; the datasets must give the same clips."""

    @pytest.fixture
    def root(self, tmp_path: Path) -> tuple[Path, np.ndarray]:
        frames = write_subject(tmp_path / "data", 1, seed=1)
        return tmp_path / "data", frames

    @staticmethod
    def clips_of(data: UBFCRPPG) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.stack([data[i]["video"] for i in range(len(data))]), torch.stack(
            [data[i]["bvp"] for i in range(len(data))]
        )

    def test_video_equals_whole_video_normalisation_then_clips(self, root: tuple[Path, np.ndarray]) -> None:
        folder, frames = root
        x = frames.astype(np.float64)  # (T, H, W, 3), 0-255, as rPPG-Toolbox's float frames
        d = (x[1:] - x[:-1]) / (x[1:] + x[:-1] + 1e-7)
        diff = np.concatenate([d / d.std(), np.zeros_like(x[:1])])
        standardized = (x - x.mean()) / x.std()
        for method, whole in (("diff_normalized", diff), ("standardized", standardized), ("raw", x / 255)):
            data = UBFCRPPG(folder, video_normalization=method, **RAW)  # type: ignore[arg-type]
            video, _ = self.clips_of(data)
            for k, (_, start) in enumerate(data.clip_locations()):
                expected = torch.from_numpy(whole[start : start + 16]).permute(3, 0, 1, 2).float()
                torch.testing.assert_close(video[k], expected, atol=2e-5, rtol=1e-5, msg=f"{method}, clip {k}")
        # The last clip ends at the last frame: DiffNormalized's padding frame is zero, as rPPG-Toolbox's.
        assert data.clip_locations()[-1][1] + 16 == N

    def test_a_clip_differs_from_per_clip_normalisation(self, root: tuple[Path, np.ndarray]) -> None:
        data = UBFCRPPG(root[0], video_normalization="diff_normalized", **RAW)  # type: ignore[arg-type]
        raw = UBFCRPPG(root[0], **RAW)  # type: ignore[arg-type]
        from rppgblocks.functional import diff_normalize

        per_clip = diff_normalize(raw[1]["video"][None] * 255)[0]
        assert not torch.allclose(per_clip[:, :-1], data[1]["video"][:, :-1], atol=1e-3)

    def test_channels_concatenate_in_order(self, root: tuple[Path, np.ndarray]) -> None:
        both = UBFCRPPG(root[0], video_normalization=("diff_normalized", "raw"), **RAW)  # type: ignore[arg-type]
        diff = UBFCRPPG(root[0], video_normalization="diff_normalized", **RAW)  # type: ignore[arg-type]
        raw = UBFCRPPG(root[0], **RAW)  # type: ignore[arg-type]
        clip = both[2]["video"]
        assert clip.shape == (6, 16, H, W)
        torch.testing.assert_close(clip[:3], diff[2]["video"])
        torch.testing.assert_close(clip[3:], raw[2]["video"])

    @pytest.mark.parametrize("method", ["diff_normalized", "standardized"])
    def test_label_equals_whole_label_normalisation_then_clips(
        self, root: tuple[Path, np.ndarray], method: str
    ) -> None:
        data = UBFCRPPG(root[0], label_normalization=method, **RAW)  # type: ignore[arg-type]
        y = written_label(root[0], 1)
        if method == "diff_normalized":
            dy = np.diff(y)
            whole = np.concatenate([dy / dy.std(), [0.0]])
        else:
            whole = (y - y.mean()) / y.std()
        _, bvp = self.clips_of(data)
        for k, (_, start) in enumerate(data.clip_locations()):
            np.testing.assert_allclose(bvp[k].numpy(), whole[start : start + 16], rtol=1e-5, atol=1e-5)

    def test_one_cache_serves_every_normalisation(
        self, root: tuple[Path, np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        cache = tmp_path / "cache"
        UBFCRPPG(root[0], cache_dir=cache, **RAW)  # type: ignore[arg-type]
        in_memory = UBFCRPPG(root[0], video_normalization="standardized", **RAW)  # type: ignore[arg-type]

        def no_decoding(*args: object, **kwargs: object) -> None:
            raise AssertionError("decoded again")

        monkeypatch.setattr(ubfc_module, "iter_video", no_decoding)
        cached = UBFCRPPG(root[0], cache_dir=cache, video_normalization="standardized", **RAW)  # type: ignore[arg-type]
        torch.testing.assert_close(cached[3]["video"], in_memory[3]["video"])
        (manifest,) = cache.glob("*.json")
        stats = json.loads(manifest.read_text())["normalization_stats"]
        x = root[1].astype(np.float64)
        np.testing.assert_allclose([stats["mean"], stats["std"]], [x.mean(), x.std()], rtol=1e-12)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"video_normalization": "DiffNormalized"}, "video_normalization"),
            ({"video_normalization": ()}, "video_normalization"),
            ({"label_normalization": ("raw", "raw")}, "label_normalization"),
            ({"video_normalization": "diff_normalized", "clip_length": 1}, "clip_length"),
        ],
    )
    def test_bad_arguments(self, root: tuple[Path, np.ndarray], kwargs: dict[str, object], match: str) -> None:
        with pytest.raises(ValueError, match=match):
            UBFCRPPG(root[0], **{**RAW, **kwargs})  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- face tracking


TRACK = {"clip_length": 8, "frame_size": (SQUARE, SQUARE), "face_detector": SquareDetector(), "box_scale": 1.0}


def crop_whiteness(data: UBFCRPPG) -> np.ndarray:
    """The mean of every crop, frame by frame (1.0: the crop is all square)."""
    frames = np.concatenate([data[i]["video"].mean(dim=(0, 2, 3)).numpy() for i in range(len(data))])
    return frames


class TestFaceTracking:
    def test_tracked_box_follows_the_face_static_box_does_not(self, tmp_path: Path) -> None:
        write_subject(tmp_path / "data", 1, seed=2)
        tracked = UBFCRPPG(tmp_path / "data", detect_every=5, box_smoothing=1, **TRACK)  # type: ignore[arg-type]
        static = UBFCRPPG(tmp_path / "data", **TRACK)  # type: ignore[arg-type]
        assert crop_whiteness(tracked).min() > 0.99  # linear motion: the interpolated box is exact
        assert crop_whiteness(static)[-8:].max() < 0.5  # the square has left the first chunk's box
        report = tracked.videos[0].face_report
        assert report is not None and report.every == 5 and report.missed == ()
        assert report.frame_indices == (0, 5, 10, 15, 20, 25, 30, 35, 39)  # crosses the 32-frame chunk boundary
        assert tracked.videos[0].face_box is None and static.videos[0].face_box is not None

    def test_smoothing_keeps_a_linear_track(self, tmp_path: Path) -> None:
        write_subject(tmp_path / "data", 1, seed=2)
        data = UBFCRPPG(tmp_path / "data", detect_every=4, box_smoothing=3, **TRACK)  # type: ignore[arg-type]
        assert crop_whiteness(data)[4:-4].min() > 0.95

    @pytest.mark.parametrize("policy", ["interpolate", "previous"])
    def test_missed_detections_are_filled_and_reported(self, tmp_path: Path, policy: str) -> None:
        write_subject(tmp_path / "data", 1, seed=3, blank=(10, 20))
        with pytest.warns(RuntimeWarning, match=r"subject1: no face on 2 of 9 detection frames \[10, 20\]"):
            data = UBFCRPPG(tmp_path / "data", detect_every=5, box_smoothing=1, no_face=policy, **TRACK)  # type: ignore[arg-type]
        report = data.videos[0].face_report
        assert report is not None and report.missed == (10, 20) and report.policy == policy
        whiteness = crop_whiteness(data)
        if policy == "interpolate":  # the filled boxes are where the square would be: frames 6-24 stay covered
            assert np.delete(whiteness, [10, 20])[:25].min() > 0.99
        else:  # the previous box lags behind the moving square
            assert whiteness[9] < 0.99

    def test_fail_policy_raises_with_the_video_and_frames(self, tmp_path: Path) -> None:
        write_subject(tmp_path / "data", 1, seed=3, blank=(10,))
        with pytest.raises(FaceNotFoundError, match=r"vid\.avi: no face detected in frames \[10\]"):
            UBFCRPPG(tmp_path / "data", detect_every=5, no_face="fail", **TRACK)  # type: ignore[arg-type]

    def test_static_detection_reports_misses_too(self, tmp_path: Path) -> None:
        write_subject(tmp_path / "data", 1, seed=3, blank=(0,))
        with pytest.warns(RuntimeWarning, match="no face on 1 of 5"):
            data = UBFCRPPG(tmp_path / "data", **TRACK)  # type: ignore[arg-type]
        report = data.videos[0].face_report
        assert report is not None and report.every is None and report.missed == (0,)
        with pytest.raises(FaceNotFoundError, match=r"frames \[0\]"):
            UBFCRPPG(tmp_path / "data", no_face="fail", **TRACK)  # type: ignore[arg-type]

    def test_no_face_anywhere_always_fails(self, tmp_path: Path) -> None:
        write_subject(tmp_path / "data", 1, seed=3, blank=tuple(range(N)))
        for policy in ("interpolate", "previous"):
            with pytest.raises(FaceNotFoundError):
                UBFCRPPG(tmp_path / "data", detect_every=5, no_face=policy, **TRACK)  # type: ignore[arg-type]
        with pytest.warns(RuntimeWarning, match="skipped 1 video"):
            data = UBFCRPPG(tmp_path / "data", detect_every=5, on_error="skip", **TRACK)  # type: ignore[arg-type]
        assert len(data.videos) == 0 and "FaceNotFoundError" in data.skipped[0][1]

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"detect_every": 0}, "detect_every"),
            ({"box_smoothing": 2}, "box_smoothing"),
            ({"no_face": "skip"}, "no_face"),
        ],
    )
    def test_bad_arguments(self, tmp_path: Path, kwargs: dict[str, object], match: str) -> None:
        write_subject(tmp_path / "data", 1, seed=3)
        with pytest.raises(ValueError, match=match):
            UBFCRPPG(tmp_path / "data", **{**TRACK, **kwargs})  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- cache manifest


class TestCacheManifest:
    @pytest.fixture
    def cached(self, tmp_path: Path) -> tuple[Path, Path, UBFCRPPG]:
        write_subject(tmp_path / "data", 1, seed=4)
        cache = tmp_path / "cache"
        data = UBFCRPPG(tmp_path / "data", cache_dir=cache, **RAW)  # type: ignore[arg-type]
        return tmp_path / "data", cache, data

    def test_manifest_records_sources_parameters_and_hash(self, cached: tuple[Path, Path, UBFCRPPG]) -> None:
        folder, cache, _ = cached
        (npy,) = cache.glob("*.npy")
        manifest = json.loads(npy.with_suffix(".json").read_text())
        video = folder / "subject1" / "vid.avi"
        assert manifest["key"]["source"]["video"] == [
            str(video.resolve()),
            video.stat().st_size,
            video.stat().st_mtime_ns,
        ]
        assert manifest["key"]["params"]["frame_size"] == [H, W]
        assert manifest["key"]["params"]["face_detector"] == "None"
        assert manifest["sha256"] == file_sha256(npy) and manifest["bytes"] == npy.stat().st_size
        assert manifest["shape"] == [N, H, W, 3] and manifest["dtype"] == "uint8"

    def test_verify_cache_detects_changed_content(self, cached: tuple[Path, Path, UBFCRPPG]) -> None:
        folder, cache, first = cached
        before = first[len(first) - 1]["video"].clone()  # `first` memory-maps the same file
        (npy,) = cache.glob("*.npy")
        content = bytearray(npy.read_bytes())
        content[-1] ^= 0xFF  # same size, shape and dtype: only the hash tells
        npy.write_bytes(bytes(content))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            unverified = UBFCRPPG(folder, cache_dir=cache, **RAW)  # type: ignore[arg-type]
        assert not torch.equal(unverified[len(unverified) - 1]["video"], before)
        with pytest.warns(UserWarning, match="content hash"):
            verified = UBFCRPPG(folder, cache_dir=cache, verify_cache=True, **RAW)  # type: ignore[arg-type]
        torch.testing.assert_close(verified[len(verified) - 1]["video"], before)
        assert json.loads(npy.with_suffix(".json").read_text())["sha256"] == file_sha256(npy)  # rebuilt

    @pytest.mark.parametrize("damage", ["no manifest", "another key", "truncated"])
    def test_stale_or_damaged_entries_are_rebuilt(self, cached: tuple[Path, Path, UBFCRPPG], damage: str) -> None:
        folder, cache, first = cached
        (npy,) = cache.glob("*.npy")
        manifest_path = npy.with_suffix(".json")
        if damage == "no manifest":  # a write interrupted between the frames and the manifest
            manifest_path.unlink()
        elif damage == "another key":
            manifest = json.loads(manifest_path.read_text())
            manifest["key"]["params"]["box_scale"] = 9.0
            manifest_path.write_text(json.dumps(manifest))
        else:
            npy.write_bytes(npy.read_bytes()[:200])
        with pytest.warns(UserWarning, match="recomputing"):
            again = UBFCRPPG(folder, cache_dir=cache, **RAW)  # type: ignore[arg-type]
        torch.testing.assert_close(again[2]["video"], first[2]["video"])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            UBFCRPPG(folder, cache_dir=cache, **RAW)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- workers


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three synthetic UBFC-rPPG subjects with faces the Haar cascade finds."""
    root = tmp_path_factory.mktemp("ubfc") / "UBFC"
    return generate_ubfc_rppg(root, n_subjects=3, duration_s=3.0, frame_size=(96, 72), seed=5)


FACES = {"clip_length": 30, "frame_size": (16, 16)}


class TestWorkers:
    def test_same_result_as_one_process(self, faces: Path, tmp_path: Path) -> None:
        one = UBFCRPPG(faces, cache_dir=tmp_path / "a", **FACES)  # type: ignore[arg-type]
        two = UBFCRPPG(faces, cache_dir=tmp_path / "b", num_workers=2, **FACES)  # type: ignore[arg-type]
        assert len(one.videos) == 3 and [v.video_id for v in two.videos] == [v.video_id for v in one.videos]
        assert [v.face_box for v in two.videos] == [v.face_box for v in one.videos]
        for i in range(len(one)):
            torch.testing.assert_close(two[i]["video"], one[i]["video"], rtol=0, atol=0)
        hashes = {p.name: file_sha256(p) for p in (tmp_path / "a").glob("*.npy")}
        assert hashes == {p.name: file_sha256(p) for p in (tmp_path / "b").glob("*.npy")}
        in_memory = UBFCRPPG(faces, num_workers=2, **FACES)  # type: ignore[arg-type]
        torch.testing.assert_close(in_memory[len(one) - 1]["video"], one[len(one) - 1]["video"], rtol=0, atol=0)

    def test_a_failure_in_a_worker_names_the_video(self, faces: Path, tmp_path: Path) -> None:
        import shutil

        root = tmp_path / "copy"
        shutil.copytree(faces, root)
        (bad,) = root.glob("**/subject3/vid.avi")
        bad.write_bytes(bad.read_bytes()[:3000])  # truncated: the header survives, the frames do not
        with pytest.raises((OSError, ValueError), match=str(bad)):
            UBFCRPPG(root, num_workers=2, **FACES)  # type: ignore[arg-type]
        with pytest.warns(RuntimeWarning, match="skipped 1 video"):
            data = UBFCRPPG(root, num_workers=2, on_error="skip", **FACES)  # type: ignore[arg-type]
        assert [p for p, _ in data.skipped] == [bad.parent] and len(data.videos) == 2

    def test_an_unpicklable_detector_is_refused(self, faces: Path) -> None:
        with pytest.raises(ValueError, match="face_detector: must be picklable"):
            UBFCRPPG(faces, num_workers=2, face_detector=lambda frame: np.zeros((0, 4)), **FACES)  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [-1, 1.5, True])
    def test_bad_num_workers(self, faces: Path, value: object) -> None:
        with pytest.raises(ValueError, match="num_workers"):
            UBFCRPPG(faces, num_workers=value, **FACES)  # type: ignore[arg-type]
