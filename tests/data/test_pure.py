from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import rppgblocks.data.pure as pure_module
from rppgblocks.data.face import FaceBox
from rppgblocks.data.pure import PURE, PUREVideo, pure_sessions
from rppgblocks.errors import VideoDecodeError

cv2 = pytest.importorskip("cv2")

H, W = 24, 32
T0 = 1392643993642815000  # a real PURE stamp (ns)
OPTIONS: dict[str, Any] = {"clip_length": 16, "clip_stride": 8, "frame_size": (H, W), "face_detector": None}


@dataclass
class Written:
    folder: Path
    frames: np.ndarray
    image_ns: np.ndarray
    pkg_ns: np.ndarray
    waveform: np.ndarray
    pulse: np.ndarray

    def json_path(self) -> Path:
        return self.folder / f"{self.folder.name}.json"


def write_pure(
    root: Path,
    session: str,
    *,
    seed: int,
    n_frames: int = 40,
    pkg_span: float = 1.0,
    pulse_fault: bool = False,
    image_list: list[int] | None = None,
) -> Written:
    """``SS-TT/SS-TT.json`` (about 2N FullPackage at ~16.7 ms, N Image at ~33.3 ms) + ``SS-TT/SS-TT/Image<ns>.png``."""
    rng = np.random.default_rng(seed)
    folder = root / session
    (folder / session).mkdir(parents=True)
    colours = rng.integers(0, 256, (n_frames, 3), dtype=np.uint8)
    frames = np.ascontiguousarray(np.broadcast_to(colours[:, None, None, :], (n_frames, H, W, 3)))
    image_ns = T0 + np.cumsum(np.r_[0, rng.integers(30_000_000, 36_000_000, n_frames - 1)]).astype(np.int64)
    for t, frame in zip(image_ns, frames, strict=True):
        cv2.imwrite(str(folder / session / f"Image{t}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    span = float(image_ns[-1] - image_ns[0]) * pkg_span
    n_pkg = int(span / 16_666_667) + 4
    pkg_ns = (T0 - 5_000_000 + np.arange(n_pkg) * 16_666_667 + rng.integers(-1_000_000, 1_000_000, n_pkg)).astype(
        np.int64
    )
    waveform = np.round(50 + 40 * np.sin(2 * np.pi * 1.2 * (pkg_ns - T0) / 1e9)).astype(np.int64)
    pulse = (80 + np.arange(n_pkg) // 10).astype(np.int64)
    if pulse_fault:
        pulse[3] = 0
    packages = [
        {
            "Timestamp": int(t),
            "Value": {"waveform": int(w), "pulseRate": int(p), "o2saturation": 97, "probeError": False},
            "FrameID": "",
        }
        for t, w, p in zip(pkg_ns, waveform, pulse, strict=True)
    ]
    images = [int(t) for t in image_ns] if image_list is None else image_list
    doc = {
        "/FullPackage": packages,
        "/Image": [{"Timestamp": t, "Value": {}, "FrameID": "/CameraFrame"} for t in images],
    }
    (folder / f"{session}.json").write_text(json.dumps(doc))
    return Written(folder, frames, image_ns, pkg_ns, waveform.astype(float), pulse.astype(float))


def frames_of(data: PURE, index: int) -> np.ndarray:
    return (data[index]["video"].permute(1, 2, 3, 0).numpy() * 255).round().astype(np.uint8)


class TestLoading:
    def test_frames_fps_clips_timestamp_alignment(self, tmp_path: Path) -> None:
        w1 = write_pure(tmp_path, "01-01", seed=1, pulse_fault=True)
        w2 = write_pure(tmp_path, "02-03", seed=2, n_frames=30)
        data = PURE(tmp_path, **OPTIONS)
        assert data.subjects == [1, 2]
        assert [(v.video_id, v.subject, v.task) for v in data.videos] == [("01-01", 1, 1), ("02-03", 2, 3)]
        record = data.videos[0]
        assert isinstance(record, PUREVideo)
        assert record.fps == pytest.approx(39e9 / (w1.image_ns[-1] - w1.image_ns[0]))
        assert (record.n_frames, record.frame_hw, record.n_clips, record.n_dropped_frames) == (40, (H, W), 4, 0)
        assert (data.videos[1].n_clips, data.videos[1].n_dropped_frames) == (2, 6)
        assert len(data) == 6 and data.clip_indices([2]) == [4, 5]
        assert data.clip_locations()[4:] == [("02-03", 0), ("02-03", 8)]
        np.testing.assert_array_equal(frames_of(data, 1), w1.frames[8:24])
        np.testing.assert_array_equal(frames_of(data, 5), w2.frames[8:24])
        clip = data[1]
        assert clip["video_id"] == "01-01" and clip["start"] == 8 and clip["subject"] == 1
        assert float(clip["fs"]) == pytest.approx(record.fps, rel=1e-6)
        t_frames = (w1.image_ns - T0).astype(float)
        t_pkg = (w1.pkg_ns - T0).astype(float)
        np.testing.assert_allclose(clip["bvp"].numpy(), np.interp(t_frames, t_pkg, w1.waveform)[8:24], rtol=1e-6)
        ok = w1.pulse > 0
        expected_hr = np.interp(t_frames, t_pkg[ok], w1.pulse[ok])
        assert float(data[0]["hr"]) == pytest.approx(expected_hr[:16].mean(), rel=1e-6)

    def test_index_stretch(self, tmp_path: Path) -> None:
        w = write_pure(tmp_path, "01-01", seed=1)
        data = PURE(tmp_path, label_alignment="index_stretch", **OPTIONS)
        assert data.videos[0].label_alignment == "index_stretch"
        n = w.waveform.size
        stretched = np.interp(np.linspace(1, n, 40), np.linspace(1, n, n), w.waveform)
        np.testing.assert_allclose(data[2]["bvp"].numpy(), stretched[16:32], rtol=1e-6)
        assert float(data[2]["hr"]) == pytest.approx(
            np.interp(np.linspace(1, n, 40), np.linspace(1, n, n), w.pulse)[16:32].mean(), rel=1e-6
        )
        with pytest.raises(ValueError, match="label_alignment"):
            PURE(tmp_path, label_alignment="nearest", **OPTIONS)

    def test_filters_parent_folder_and_sessions(self, tmp_path: Path) -> None:
        root = tmp_path / "PURE"
        write_pure(root, "01-01", seed=1)
        write_pure(root, "01-02", seed=2)
        write_pure(root, "03-02", seed=3)  # 02-xx and 01-03.. absent, as 06-02 is in some copies
        assert pure_sessions(tmp_path) == ["01-01", "01-02", "03-02"]
        data = PURE(tmp_path, tasks=[2], **OPTIONS)
        assert [v.video_id for v in data.videos] == ["01-02", "03-02"]
        data = PURE(root, subjects=[3], **OPTIONS)
        assert [v.video_id for v in data.videos] == ["03-02"]
        with pytest.warns(UserWarning, match=r"subjects \[2\] requested"), pytest.raises(ValueError, match="no PURE"):
            PURE(root, subjects=[2], **OPTIONS)
        with pytest.raises(ValueError, match="tasks"):
            PURE(root, tasks=[7], **OPTIONS)

    def test_image_list_mismatch_warns(self, tmp_path: Path) -> None:
        write_pure(tmp_path, "01-01", seed=1, image_list=[T0, T0 + 1])
        with pytest.warns(UserWarning, match="lists 2 /Image timestamps but .* holds 40 frames"):
            data = PURE(tmp_path, **OPTIONS)
        assert data.videos[0].n_frames == 40

    def test_png_chunks_stream(self, tmp_path: Path) -> None:
        w = write_pure(tmp_path, "01-01", seed=1, n_frames=10)
        paths, stamps = pure_module._list_frames(tmp_path / "01-01" / "01-01")
        np.testing.assert_array_equal(stamps, w.image_ns)
        chunks = list(pure_module._iter_png_chunks(paths, 4))
        assert [len(c) for c in chunks] == [4, 4, 2]
        np.testing.assert_array_equal(np.concatenate(chunks), w.frames)

    def test_face_detector_stub(self, tmp_path: Path) -> None:
        folder = tmp_path / "01-01" / "01-01"
        w = write_pure(tmp_path, "01-01", seed=1, n_frames=20)
        frame = np.zeros((60, 80, 3), np.uint8)
        frame[20:40, 30:50] = 255
        for t in w.image_ns:
            cv2.imwrite(str(folder / f"Image{t}.png"), frame)

        class Stub:
            def __call__(self, frame: np.ndarray) -> np.ndarray:
                return np.array([[30, 20, 20, 20]])

            def __repr__(self) -> str:
                return "Stub()"

        data = PURE(tmp_path, clip_length=20, frame_size=(10, 10), face_detector=Stub(), box_scale=1.0)
        assert data.videos[0].face_box == FaceBox(30, 20, 20, 20) and data.videos[0].frame_hw == (60, 80)
        assert torch.all(data[0]["video"] == 1.0)


class TestCache:
    def test_reuse_and_invalidation(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        w = write_pure(tmp_path / "data", "01-01", seed=1)
        cache = tmp_path / "cache"
        first = PURE(tmp_path / "data", cache_dir=cache, **OPTIONS)
        assert len(list(cache.glob("pure-01-01-*.npy"))) == 1
        real = pure_module._iter_png_chunks

        def no_reading(*args: object, **kwargs: object) -> None:
            raise AssertionError("read again")

        monkeypatch.setattr(pure_module, "_iter_png_chunks", no_reading)
        second = PURE(tmp_path / "data", cache_dir=cache, **OPTIONS)
        torch.testing.assert_close(second[2]["video"], first[2]["video"])
        np.testing.assert_array_equal(frames_of(second, 2), w.frames[16:32])
        png = tmp_path / "data" / "01-01" / "01-01" / f"Image{w.image_ns[3]}.png"
        os.utime(png, ns=(png.stat().st_atime_ns, png.stat().st_mtime_ns + 10**9))
        with pytest.raises(RuntimeError, match="read again"):
            PURE(tmp_path / "data", cache_dir=cache, **OPTIONS)
        monkeypatch.setattr(pure_module, "_iter_png_chunks", real)
        PURE(tmp_path / "data", cache_dir=cache, **OPTIONS)
        assert len(list(cache.glob("*.npy"))) == 2


class TestBadInput:
    def test_not_a_dataset(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError, match="PURE folder not found"):
            PURE(tmp_path / "nope", **OPTIONS)
        (tmp_path / "1-1").mkdir()
        with pytest.raises(ValueError, match="is not a PURE folder"):
            pure_sessions(tmp_path)

    def test_missing_files_and_skip(self, tmp_path: Path) -> None:
        write_pure(tmp_path, "01-01", seed=1)
        write_pure(tmp_path, "01-02", seed=2)
        write_pure(tmp_path, "01-03", seed=3)
        (tmp_path / "01-01" / "01-01.json").unlink()
        for png in (tmp_path / "01-02" / "01-02").iterdir():
            png.unlink()
        (tmp_path / "01-02" / "01-02").rmdir()
        with pytest.raises(FileNotFoundError, match=r"01-01/01-01\.json: required PURE JSON file is missing"):
            PURE(tmp_path, **OPTIONS)
        with pytest.warns(RuntimeWarning, match=r"(?s)skipped 2 video.*JSON.*frames folder"):
            data = PURE(tmp_path, on_error="skip", **OPTIONS)
        assert [v.video_id for v in data.videos] == ["01-03"]
        assert [p.name for p, _ in data.skipped] == ["01-01", "01-02"]

    def test_unreadable_png(self, tmp_path: Path) -> None:
        w = write_pure(tmp_path, "01-01", seed=1)
        (tmp_path / "01-01" / "01-01" / f"Image{w.image_ns[20]}.png").write_bytes(b"not a png")
        with pytest.raises(VideoDecodeError, match="OpenCV cannot read the image"):
            PURE(tmp_path, **OPTIONS)

    def test_too_few_frames(self, tmp_path: Path) -> None:
        write_pure(tmp_path, "01-01", seed=1, n_frames=1)
        with pytest.raises(ValueError, match=r"expected at least 2 Image<ns>\.png frames, found 1"):
            PURE(tmp_path, **OPTIONS)

    def test_label_shorter_than_video(self, tmp_path: Path) -> None:
        write_pure(tmp_path, "01-01", seed=1, pkg_span=0.7)
        with pytest.raises(ValueError, match=r"01-01\.json: the label runs from .* must cover every frame"):
            PURE(tmp_path, **OPTIONS)
        with pytest.warns(RuntimeWarning, match="skipped 1 video"):
            data = PURE(tmp_path, on_error="skip", **{**OPTIONS, "clip_length": 8})
        assert data.skipped[0][0] == tmp_path / "01-01"
        # The toolbox's index stretch ignores the timestamps, so the same files load.
        assert PURE(tmp_path, label_alignment="index_stretch", **OPTIONS).videos[0].n_frames == 40

    @pytest.mark.parametrize(
        ("edit", "match"),
        [
            (lambda d: "{not json", "not valid JSON"),
            (lambda d: [], "expected a JSON object"),
            (lambda d: {"/Image": d["/Image"]}, "non-empty list under '/FullPackage', got nothing"),
            (lambda d: {**d, "/Image": []}, "non-empty list under '/Image'"),
            (lambda d: {**d, "/FullPackage": [{"Timestamp": 1}]}, r"/FullPackage\[0\]: expected an object"),
            (
                lambda d: {**d, "/FullPackage": [{"Timestamp": "1", "Value": {"waveform": 1, "pulseRate": 70}}]},
                "non-negative integer in ns, got '1'",
            ),
            (lambda d: {**d, "/FullPackage": [{"Timestamp": 1, "Value": {"pulseRate": 70}}]}, "Value.waveform"),
            (
                lambda d: {**d, "/FullPackage": [d["/FullPackage"][1], d["/FullPackage"][0], *d["/FullPackage"][2:]]},
                "timestamps must increase",
            ),
            (lambda d: {**d, "/Image": [{"Value": {}}]}, r"/Image\[0\]: expected 'Timestamp'"),
        ],
    )
    def test_malformed_json(self, tmp_path: Path, edit: Any, match: str) -> None:
        w = write_pure(tmp_path, "01-01", seed=1)
        doc = edit(json.loads(w.json_path().read_text()))
        w.json_path().write_text(doc if isinstance(doc, str) else json.dumps(doc))
        with pytest.raises(ValueError, match=match):
            PURE(tmp_path, **OPTIONS)
