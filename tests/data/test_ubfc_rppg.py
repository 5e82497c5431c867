from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

import rppgblocks.data.ubfc_rppg as ubfc_module
from rppgblocks.data.face import FaceBox
from rppgblocks.data.ubfc_rppg import UBFCRPPG, UBFCRPPGVideo, ubfc_rppg_subjects
from rppgblocks.data.video import write_video
from rppgblocks.errors import VideoDecodeError

cv2 = pytest.importorskip("cv2")

H, W = 24, 32
FPS = 30.0
OPTIONS: dict[str, object] = {"clip_length": 16, "clip_stride": 8, "frame_size": (H, W), "face_detector": None}


def coloured_frames(n: int, seed: int) -> np.ndarray:
    """Flat frames, one distinct colour per frame (exact under FFV1 and under any resize)."""
    colours = np.random.default_rng(seed).integers(0, 256, (n, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.broadcast_to(colours[:, None, None, :], (n, H, W, 3)))


@dataclass
class Written:
    folder: Path
    frames: np.ndarray
    ppg: np.ndarray
    hr: np.ndarray
    times: np.ndarray  # DATASET_2: s, one per frame; DATASET_1: ms, oximeter samples


def write_d2(folder: Path, *, seed: int, n_frames: int = 40, n_label: int | None = None, hr_fault: bool = False):
    """``subject<N>/vid.avi`` + ``ground_truth.txt``: PPG, HR, irregular seconds, one per frame, ``%16.7e``."""
    rng = np.random.default_rng(seed)
    frames = coloured_frames(n_frames, seed)
    write_video(folder / "vid.avi", frames, fps=FPS, codec="FFV1")
    n = n_frames if n_label is None else n_label
    times = 59.585 + np.cumsum(rng.uniform(0.012, 0.041, n))
    times[n // 2 :] += 1.0  # one of the ~1 s gaps of the real files
    ppg = np.sin(2 * np.pi * 1.2 * times) + rng.normal(0, 0.05, n)
    hr = 70.0 + np.round(np.arange(n) / 4) * 0.25
    if hr_fault:
        hr[5] = 255.0
    (folder / "ground_truth.txt").write_text(
        "\n".join("".join(f"{v:16.7e}" for v in row) for row in (ppg, hr, times)) + "\n"
    )
    return Written(folder, frames, ppg, hr, times)


def write_d1(folder: Path, *, seed: int, n_frames: int = 40, video: str = "vid.avi", duration_ms: float | None = None):
    """``<N>-gt/vid*.avi`` + ``gtdump.xmp``: CSV rows ``ms,hr,spo2,ppg`` at ~62 Hz covering the video."""
    frames = coloured_frames(n_frames, seed)
    write_video(folder / video, frames, fps=FPS, codec="FFV1")
    end = n_frames * 1000 / FPS + 20 if duration_ms is None else duration_ms
    times = np.arange(16.0, end, 1000 / 62.1).round()
    ppg = np.round(50 + 40 * np.sin(2 * np.pi * 1.2 * times / 1000))
    hr = np.round(72 + 5 * np.sin(times / 700))
    lines = [f"{int(t)},{int(h)},97,{int(p)}" for t, h, p in zip(times, hr, ppg, strict=True)]
    (folder / "gtdump.xmp").write_text("\n".join(lines) + "\n")
    return Written(folder, frames, ppg, hr, times)


def frames_of(data: UBFCRPPG, index: int) -> np.ndarray:
    video = data[index]["video"]
    return (video.permute(1, 2, 3, 0).numpy() * 255).round().astype(np.uint8)


# ---------------------------------------------------------------------------------------------- DATASET_2


class TestDataset2:
    def test_frames_fps_clips_labels(self, tmp_path: Path) -> None:
        w1 = write_d2(tmp_path / "subject1", seed=1, hr_fault=True)
        w10 = write_d2(tmp_path / "subject10", seed=10, n_frames=30)
        data = UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]
        assert data.subjects == [1, 10]
        assert [v.video_id for v in data.videos] == ["subject1", "subject10"]  # numeric, not lexicographic
        v1 = data.videos[0]
        assert isinstance(v1, UBFCRPPGVideo)
        assert (v1.variant, v1.fps, v1.fps_source, v1.n_frames, v1.frame_hw) == (
            "dataset_2",
            FPS,
            "container",
            40,
            (H, W),
        )
        assert (v1.n_clips, v1.n_dropped_frames) == (4, 0)
        assert (data.videos[1].n_clips, data.videos[1].n_dropped_frames) == (2, 6)
        assert len(data) == 6
        assert data.clip_locations()[:4] == [("subject1", s) for s in (0, 8, 16, 24)]
        assert data.clip_indices([10]) == [4, 5]
        clip = data[2]
        assert clip["video"].shape == (3, 16, H, W) and clip["video"].dtype == torch.float32
        np.testing.assert_array_equal(frames_of(data, 2), w1.frames[16:32])
        np.testing.assert_array_equal(frames_of(data, 5), w10.frames[8:24])
        # One label sample per frame: the labels interpolated at the frames' own timestamps.
        expected = np.interp(w1.times[16:32], w1.times, w1.ppg)
        np.testing.assert_allclose(clip["bvp"].numpy(), expected, atol=1e-6)
        assert float(clip["fs"]) == FPS and clip["subject"] == 1 and clip["start"] == 16
        assert float(clip["hr"]) == pytest.approx(w1.hr[16:32].mean(), abs=1e-4)
        # The 255 fault at frame 5 is replaced by its neighbours' interpolation.
        hr0 = w1.hr[:16].copy()
        hr0[5] = (hr0[4] + hr0[6]) / 2
        assert float(data[0]["hr"]) == pytest.approx(hr0.mean(), abs=1e-4)

    def test_parent_folder_subjects_filter_and_listing(self, tmp_path: Path) -> None:
        for n in (3, 1, 12):
            (tmp_path / "DATASET_2" / f"subject{n}").mkdir(parents=True)
        write_d2(tmp_path / "DATASET_2" / "subject3", seed=3)
        assert ubfc_rppg_subjects(tmp_path) == [1, 3, 12]
        data = UBFCRPPG(tmp_path, subjects=[3], **OPTIONS)  # type: ignore[arg-type]
        assert data.subjects == [3] and len(data) == 4
        with pytest.warns(UserWarning, match=r"subjects \[99\] requested but not found"):
            UBFCRPPG(tmp_path, subjects=[3, 99], **OPTIONS)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="subjects"):
            UBFCRPPG(tmp_path, subjects=["subject3"], **OPTIONS)  # type: ignore[arg-type]

    def test_fps_fallback_from_timestamps(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        w = write_d2(tmp_path / "subject1", seed=1)
        monkeypatch.setattr(ubfc_module, "_container_fps", lambda path: 0.0)
        with pytest.warns(UserWarning, match="stores no frame rate"):
            data = UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]
        assert data.videos[0].fps_source == "timestamps"
        assert data.videos[0].fps == pytest.approx(39 / (w.times[-1] - w.times[0]))

    def test_label_length_must_match(self, tmp_path: Path) -> None:
        write_d2(tmp_path / "subject1", seed=1, n_label=35)
        write_d2(tmp_path / "subject2", seed=2, n_label=45)
        write_d2(tmp_path / "subject3", seed=3)
        with pytest.raises(ValueError, match=r"subject1/ground_truth\.txt: the label \(35 samples\) is shorter"):
            UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]
        with pytest.warns(RuntimeWarning, match="skipped 2 video"):
            data = UBFCRPPG(tmp_path, on_error="skip", **OPTIONS)  # type: ignore[arg-type]
        assert data.subjects == [3]
        assert [p.name for p, _ in data.skipped] == ["subject1", "subject2"]
        assert "longer" in data.skipped[1][1]

    @pytest.mark.parametrize(
        ("content", "match"),
        [
            ("1 2 3\n70 70 70\n", "expected 3 non-empty lines"),
            ("1 2 x\n70 70 70\n0.1 0.2 0.3\n", r"ground_truth\.txt:1: expected whitespace-separated numbers, got 'x'"),
            ("1 2 nan\n70 70 70\n0.1 0.2 0.3\n", "finite"),
            ("1 2\n70 70 70\n0.1 0.2 0.3\n", "same length, got 2, 3 and 3"),
            ("1 2 3\n70 70 70\n0.1 0.3 0.2\n", r"ground_truth\.txt:3: timestamps must increase"),
            ("", "expected 3 non-empty lines"),
        ],
    )
    def test_malformed_ground_truth(self, tmp_path: Path, content: str, match: str) -> None:
        write_d2(tmp_path / "subject1", seed=1)
        (tmp_path / "subject1" / "ground_truth.txt").write_text(content)
        with pytest.raises(ValueError, match=match):
            UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- DATASET_1


class TestDataset1:
    def test_interpolated_onto_frame_times(self, tmp_path: Path) -> None:
        w = write_d1(tmp_path / "5-gt", seed=5, video="vid-005.avi")
        data = UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]
        record = data.videos[0]
        assert (record.subject, record.video_id, record.variant, record.fps) == (5, "5-gt", "dataset_1", FPS)
        assert record.video_path.name == "vid-005.avi" and record.label_path.name == "gtdump.xmp"
        frame_ms = np.arange(40) * 1000 / FPS
        clip = data[1]
        np.testing.assert_allclose(clip["bvp"].numpy(), np.interp(frame_ms, w.times, w.ppg)[8:24], rtol=1e-6)
        assert float(clip["hr"]) == pytest.approx(np.interp(frame_ms, w.times, w.hr)[8:24].mean(), rel=1e-5)
        np.testing.assert_array_equal(frames_of(data, 1), w.frames[8:24])

    def test_mixed_auto_and_explicit_variant(self, tmp_path: Path) -> None:
        write_d1(tmp_path / "5-gt", seed=5)
        write_d2(tmp_path / "subject1", seed=1)
        (tmp_path / "after-exercise").mkdir()
        with pytest.warns(UserWarning, match="after-exercise names no subject"):
            data = UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]
        assert [(v.subject, v.variant) for v in data.videos] == [(1, "dataset_2"), (5, "dataset_1")]
        with (
            pytest.warns(UserWarning, match="after-exercise"),
            pytest.raises(FileNotFoundError, match=r"5-gt/ground_truth\.txt"),
        ):
            UBFCRPPG(tmp_path, variant="dataset_2", **OPTIONS)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="variant"):
            UBFCRPPG(tmp_path, variant="DATASET_3", **OPTIONS)  # type: ignore[arg-type]

    def test_label_shorter_than_video(self, tmp_path: Path) -> None:
        write_d1(tmp_path / "5-gt", seed=5, duration_ms=900.0)  # the video runs 1300 ms
        with pytest.raises(
            ValueError, match=r"gtdump\.xmp: the label runs from 16 to \d+ ms .* must cover every frame"
        ):
            UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("content", "match"),
        [
            ("16,72,97\n", r"gtdump\.xmp:1: expected 4 comma-separated values"),
            ("16,72,97,50\n32,x,97,50\n", r"gtdump\.xmp:2: expected numbers"),
            ("16,72,97,50\n16,72,97,50\n", r"gtdump\.xmp:2: times must increase"),
            ("\n", "empty file"),
        ],
    )
    def test_malformed_gtdump(self, tmp_path: Path, content: str, match: str) -> None:
        write_d1(tmp_path / "5-gt", seed=5)
        (tmp_path / "5-gt" / "gtdump.xmp").write_text(content)
        with pytest.raises(ValueError, match=match):
            UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- shared


class TestBadInput:
    def test_not_a_dataset(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError, match="UBFC-rPPG folder not found"):
            UBFCRPPG(tmp_path / "nope", **OPTIONS)  # type: ignore[arg-type]
        (tmp_path / "videos").mkdir()
        with pytest.raises(ValueError, match="is not a UBFC-rPPG folder"):
            UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]
        (tmp_path / "file.txt").write_text("x")
        with pytest.raises(ValueError, match="got a file"):
            ubfc_rppg_subjects(tmp_path / "file.txt")
        (tmp_path / "DATASET_1" / "5-gt").mkdir(parents=True)
        (tmp_path / "DATASET_2" / "subject1").mkdir(parents=True)
        with pytest.raises(ValueError, match="several UBFC-rPPG folders"):
            UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]

    def test_missing_files(self, tmp_path: Path) -> None:
        write_d2(tmp_path / "subject1", seed=1)
        write_d2(tmp_path / "subject2", seed=2)
        write_d2(tmp_path / "subject3", seed=3)
        (tmp_path / "subject1" / "vid.avi").unlink()
        (tmp_path / "subject2" / "ground_truth.txt").unlink()
        with pytest.raises(FileNotFoundError, match=r"subject1: required UBFC-rPPG video vid\*\.avi is missing"):
            UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]
        with pytest.warns(RuntimeWarning, match=r"(?s)skipped 2 video.*vid\*\.avi.*no UBFC-rPPG label file"):
            data = UBFCRPPG(tmp_path, on_error="skip", **OPTIONS)  # type: ignore[arg-type]
        assert data.subjects == [3]
        assert all(reason.startswith("FileNotFoundError") for _, reason in data.skipped)

    def test_truncated_video(self, tmp_path: Path) -> None:
        write_d2(tmp_path / "subject1", seed=1)
        write_d2(tmp_path / "subject2", seed=2)
        video = tmp_path / "subject1" / "vid.avi"
        video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
        with pytest.raises(VideoDecodeError, match=r"subject1/vid\.avi"):
            UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]
        with pytest.warns(RuntimeWarning, match="skipped 1 video"):
            data = UBFCRPPG(tmp_path, on_error="skip", **OPTIONS)  # type: ignore[arg-type]
        assert data.subjects == [2] and data.skipped[0][1].startswith("VideoDecodeError")

    def test_face_detector_stub(self, tmp_path: Path) -> None:
        frames = np.zeros((20, 60, 80, 3), np.uint8)
        frames[:, 20:40, 30:50] = 255
        folder = tmp_path / "subject1"
        write_video(folder / "vid.avi", frames, fps=FPS, codec="FFV1")
        rows = (np.zeros(20), np.full(20, 72.0), np.arange(20) / FPS)
        (folder / "ground_truth.txt").write_text("\n".join(" ".join(f"{v:16.7e}" for v in r) for r in rows))

        class Stub:
            calls = 0

            def __call__(self, frame: np.ndarray) -> np.ndarray:
                Stub.calls += 1
                return np.array([[30, 20, 20, 20]])

            def __repr__(self) -> str:
                return "Stub()"

        data = UBFCRPPG(tmp_path, clip_length=20, frame_size=(10, 10), face_detector=Stub(), box_scale=1.0)
        assert data.videos[0].face_box == FaceBox(30, 20, 20, 20)
        assert torch.all(data[0]["video"] == 1.0)
        assert 0 < Stub.calls <= 5


class TestCache:
    def test_reuse_and_invalidation(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        w = write_d2(tmp_path / "data" / "subject1", seed=1)
        cache = tmp_path / "cache"
        first = UBFCRPPG(tmp_path / "data", cache_dir=cache, **OPTIONS)  # type: ignore[arg-type]
        assert len(list(cache.glob("ubfc_rppg-subject1-*.npy"))) == 1
        real_iter_video = ubfc_module.iter_video

        def no_decoding(*args: object, **kwargs: object) -> None:
            raise AssertionError("decoded again")

        monkeypatch.setattr(ubfc_module, "iter_video", no_decoding)
        second = UBFCRPPG(tmp_path / "data", cache_dir=cache, **OPTIONS)  # type: ignore[arg-type]
        assert len(second) == len(first)
        torch.testing.assert_close(second[3]["video"], first[3]["video"])
        np.testing.assert_array_equal(frames_of(second, 3), w.frames[24:40])
        restored = pickle.loads(pickle.dumps(second))  # memory maps are reopened after pickling
        torch.testing.assert_close(restored[1]["video"], first[1]["video"])
        # A modified video is a new cache entry: decoded again.
        video = tmp_path / "data" / "subject1" / "vid.avi"
        os.utime(video, ns=(video.stat().st_atime_ns, video.stat().st_mtime_ns + 10**9))
        with pytest.raises(RuntimeError, match="decoded again"):
            UBFCRPPG(tmp_path / "data", cache_dir=cache, **OPTIONS)  # type: ignore[arg-type]
        monkeypatch.setattr(ubfc_module, "iter_video", real_iter_video)
        UBFCRPPG(tmp_path / "data", cache_dir=cache, **OPTIONS)  # type: ignore[arg-type]
        assert len(list(cache.glob("*.npy"))) == 2


class TestProgress:
    def test_progress_bar_counts_every_video_and_changes_nothing(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        pytest.importorskip("tqdm")
        write_d2(tmp_path / "subject1", seed=1)
        write_d2(tmp_path / "subject3", seed=3)
        quiet = UBFCRPPG(tmp_path, **OPTIONS)  # type: ignore[arg-type]
        shown = UBFCRPPG(tmp_path, progress=True, **OPTIONS)  # type: ignore[arg-type]
        err = capsys.readouterr().err
        assert "UBFCRPPG: preprocessing" in err and "2/2" in err
        assert len(shown) == len(quiet)
        np.testing.assert_array_equal(frames_of(shown, 0), frames_of(quiet, 0))

    def test_bad_progress(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="progress: expected True or False"):
            UBFCRPPG(tmp_path, progress="yes", **OPTIONS)  # type: ignore[arg-type]
