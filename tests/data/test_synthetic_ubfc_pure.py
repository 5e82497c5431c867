"""Tests of the synthetic UBFC-rPPG and PURE writers (rppgblocks.data.synthetic.ubfc_rppg, .pure).

The files are parsed with plain Python exactly as ``datasets.md`` §2 and §3 describe the real ones, and their
signals are compared with the generator's known physiology (recovered from the manifest).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rppgblocks.data.synthetic import (
    MANIFEST_NAME,
    PURE_TASKS,
    UBFC_RPPG_DATASET_1_FOLDERS,
    UBFC_RPPG_SUBJECTS,
    Appearance,
    Physiology,
    Scene,
    generate_pure,
    generate_ubfc_rppg,
    render_session,
)
from rppgblocks.data.synthetic.ubfc_rppg import _dataset_2_times
from rppgblocks.data.video import read_video

cv2 = pytest.importorskip("cv2")

SIZE = (160, 120)
UBFC2 = {"n_subjects": 2, "duration_s": 4.0, "frame_size": SIZE}
UBFC1 = {"variant": "DATASET_1", "duration_s": 2.0, "frame_size": SIZE}
PURE = {"n_subjects": 1, "tasks": (1, 3), "duration_s": 3.0, "frame_size": SIZE}
MATLAB_VALUE = re.compile(r"^ {2,3}-?\d\.\d{7}e[+-]\d{2,3}$")  # one %16.7e field
GTDUMP_ROW = re.compile(r"^\d+,\d+,\d+,\d+$")
PNG_NAME = re.compile(r"^Image(\d{19})\.png$")
VALUE_KEYS = {
    "barGraph": int,
    "beep": bool,
    "droppingo2Sat": bool,
    "o2saturation": int,
    "probeError": bool,
    "pulseRate": int,
    "searching": bool,
    "searchingToLong": bool,
    "signalStrength": int,
    "waveform": int,
}


def _rebuild(cls: Any, fields: dict[str, Any]) -> Any:
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def _manifest(root: Path) -> dict[str, Any]:
    return dict(json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8")))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


@pytest.fixture(scope="module")
def ubfc2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_ubfc_rppg(tmp_path_factory.mktemp("ubfc2") / "UBFC", **UBFC2)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ubfc1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_ubfc_rppg(tmp_path_factory.mktemp("ubfc1") / "UBFC", **UBFC1)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pure(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_pure(tmp_path_factory.mktemp("pure") / "PURE", **PURE)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------------
# UBFC-rPPG DATASET_2


def test_dataset_2_layout(ubfc2: Path) -> None:
    assert sorted(p.name for p in ubfc2.iterdir()) == ["DATASET_2", MANIFEST_NAME]
    assert sorted(p.name for p in (ubfc2 / "DATASET_2").iterdir()) == ["subject1", "subject3"]
    for subject in ("subject1", "subject3"):
        assert sorted(p.name for p in (ubfc2 / "DATASET_2" / subject).iterdir()) == ["ground_truth.txt", "vid.avi"]
    assert len(UBFC_RPPG_SUBJECTS) == 42 and 2 not in UBFC_RPPG_SUBJECTS and 21 not in UBFC_RPPG_SUBJECTS


def test_dataset_2_ground_truth_format(ubfc2: Path) -> None:
    for record in _manifest(ubfc2)["subjects"]:
        text = (ubfc2 / record["path"] / "ground_truth.txt").read_text(encoding="ascii")
        lines = text.split("\n")
        assert len(lines) == 4 and lines[3] == ""  # three rows, each ending in a newline
        for line in lines[:3]:
            assert len(line) == 16 * record["n_frames"]
            fields = [line[i : i + 16] for i in range(0, len(line), 16)]
            assert all(MATLAB_VALUE.match(field) for field in fields), fields[:3]
            assert all(field.startswith("   ") for field in fields if "-" not in field[:4])
        rows = np.loadtxt(ubfc2 / record["path"] / "ground_truth.txt")
        assert rows.shape == (3, record["n_frames"])
        first_row = [float(x) for x in text.split("\n")[0].split()]  # what rPPG-Toolbox reads
        np.testing.assert_array_equal(first_row, rows[0])


def test_dataset_2_times_are_irregular_seconds(ubfc2: Path) -> None:
    for record in _manifest(ubfc2)["subjects"]:
        times = np.loadtxt(ubfc2 / record["path"] / "ground_truth.txt")[2]
        steps = np.diff(times)
        assert 0.0 <= times[0] < 1.0 and np.all(steps > 0)
        np.testing.assert_allclose(times * 1000, np.rint(times * 1000), atol=1e-6)  # a millisecond grid
        regular = np.rint(steps[steps < 0.5] * 1000) / 1000
        assert regular.min() >= 0.012 and regular.max() <= 0.041
        assert 29.0 < 1.0 / np.median(regular) < 30.0
        assert times[0] == record["t_first_s"] and times[-1] == record["t_last_s"]


def test_dataset_2_clock_has_gaps_and_realistic_rate() -> None:
    times = _dataset_2_times(np.random.default_rng(0), 600.0, 30.0)
    steps = np.diff(times)
    gaps = steps[steps > 0.5]
    assert 3 <= gaps.size <= 30 and np.all((gaps > 0.96) & (gaps < 1.04))
    regular = np.rint(steps[steps < 0.5] * 1000) / 1000
    assert 29.3 <= 1.0 / regular.mean() <= 29.6 + 0.1
    assert regular.min() >= 0.012 and regular.max() <= 0.041


def test_dataset_2_signals_match_the_physiology(ubfc2: Path) -> None:
    for record in _manifest(ubfc2)["subjects"]:
        physiology = _rebuild(Physiology, record["physiology"])
        ppg, hr, times = np.loadtxt(ubfc2 / record["path"] / "ground_truth.txt")
        assert _corr(ppg, physiology.blood_volume(times)) > 0.99
        np.testing.assert_allclose(ppg, 2.0 * physiology.blood_volume(times), atol=1e-6)
        assert 0.8 < np.ptp(ppg) < 3.5  # about +-1
        assert np.max(np.abs(hr - physiology.oximeter_hr_bpm(times))) <= 1.0
        assert record["mean_hr_bpm"] == pytest.approx(hr.mean())


def test_dataset_2_video(ubfc2: Path) -> None:
    for record in _manifest(ubfc2)["subjects"]:
        video = read_video(ubfc2 / record["path"] / "vid.avi")
        assert video.frames.shape == (record["n_frames"], SIZE[1], SIZE[0], 3)
        assert video.fps == pytest.approx(30.0)
        assert record["face_detected"] is True


def test_dataset_2_video_holds_the_rendered_frames(ubfc2: Path) -> None:
    record = _manifest(ubfc2)["subjects"][0]
    times = np.loadtxt(ubfc2 / record["path"] / "ground_truth.txt")[2][:3]
    rendered = render_session(
        _rebuild(Appearance, record["appearance"]),
        _rebuild(Physiology, record["physiology"]),
        _rebuild(Scene, record["scene"]),
        times,
        frame_size=SIZE,
    )
    np.testing.assert_array_equal(read_video(ubfc2 / record["path"] / "vid.avi", max_frames=3).frames, rendered.frames)


def test_dataset_2_determinism(ubfc2: Path, tmp_path: Path) -> None:
    again = generate_ubfc_rppg(tmp_path / "again", **UBFC2)  # type: ignore[arg-type]
    other = generate_ubfc_rppg(tmp_path / "other", seed=1, **UBFC2)  # type: ignore[arg-type]
    for subject in ("subject1", "subject3"):
        name = f"DATASET_2/{subject}/ground_truth.txt"
        assert (again / name).read_bytes() == (ubfc2 / name).read_bytes()
        assert (other / name).read_bytes() != (ubfc2 / name).read_bytes()


def test_dataset_2_reuse_mismatch_and_overwrite(tmp_path: Path) -> None:
    small = {"n_subjects": 1, "duration_s": 2.0, "frame_size": SIZE}
    root = generate_ubfc_rppg(tmp_path / "ubfc", **small)  # type: ignore[arg-type]
    stamps = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    assert generate_ubfc_rppg(tmp_path / "ubfc", **small) == root  # type: ignore[arg-type]
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == stamps
    with pytest.raises(FileExistsError, match="overwrite=True"):
        generate_ubfc_rppg(root, variant="DATASET_1", **small)  # type: ignore[arg-type]
    (root / "DATASET_2" / "subject1" / "vid.avi").unlink()
    with pytest.raises(FileExistsError, match="incomplete"):
        generate_ubfc_rppg(root, **small)  # type: ignore[arg-type]
    generate_ubfc_rppg(root, variant="DATASET_1", overwrite=True, **small)  # type: ignore[arg-type]
    assert sorted(p.name for p in root.iterdir()) == ["DATASET_1", MANIFEST_NAME]
    assert _manifest(root)["parameters"]["variant"] == "DATASET_1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ubfc"]  # no temporaries left


# ----------------------------------------------------------------------------------------------------------------
# UBFC-rPPG DATASET_1


def test_dataset_1_layout(ubfc1: Path) -> None:
    folders = sorted(p.name for p in (ubfc1 / "DATASET_1").iterdir())
    assert folders == sorted(UBFC_RPPG_DATASET_1_FOLDERS) and "after-exercise" in folders and "5-gt" in folders
    videos = {folder: [p.name for p in (ubfc1 / "DATASET_1" / folder).glob("vid*.avi")] for folder in folders}
    assert videos["7-gt"] == ["vid-007.avi"] and videos["12-gt"] == ["vid-12.avi"] and videos["5-gt"] == ["vid.avi"]
    assert all(len(v) == 1 and (ubfc1 / "DATASET_1" / f / "gtdump.xmp").is_file() for f, v in videos.items())


def test_dataset_1_gtdump(ubfc1: Path) -> None:
    for record in _manifest(ubfc1)["subjects"]:
        path = ubfc1 / record["path"] / "gtdump.xmp"
        lines = path.read_text(encoding="ascii").splitlines()
        assert all(GTDUMP_ROW.match(line) for line in lines)  # no header, four integers
        with path.open(newline="") as f:
            rows = np.array([[int(x) for x in row] for row in csv.reader(f)])
        assert rows.shape == (record["n_gtdump"], 4)
        ms, hr, spo2, ppg = rows.T
        assert np.all(np.diff(ms) > 0) and 10 <= ms[0] <= 20
        assert 61.0 < 1000.0 / np.diff(ms).mean() < 63.0
        assert ms[-1] / 1000.0 >= record["t_last_s"]  # covers the video
        physiology = _rebuild(Physiology, record["physiology"])
        t = ms / 1000.0
        assert _corr(ppg, physiology.blood_volume(t)) > 0.99
        assert np.max(np.abs(hr - physiology.oximeter_hr_bpm(t))) <= 0.5 + 1e-9
        assert np.max(np.abs(spo2 - physiology.spo2(t))) <= 0.5 + 1e-9
        assert (physiology.recovery_bpm > 0) == record["path"].endswith("after-exercise")


def test_dataset_1_video(ubfc1: Path) -> None:
    for record in _manifest(ubfc1)["subjects"]:
        video = read_video(ubfc1 / record["path"] / record["video"])
        assert video.frames.shape == (record["n_frames"], SIZE[1], SIZE[0], 3) and record["n_frames"] == 57
        assert video.fps == pytest.approx(28.671786, abs=1e-3)
        assert record["true_fps"] == pytest.approx(28.671786)


# ----------------------------------------------------------------------------------------------------------------
# PURE


def _pure_labels(root: Path, name: str) -> dict[str, Any]:
    return dict(json.loads((root / name / f"{name}.json").read_text(encoding="utf-8")))


def test_pure_layout_and_png_names(pure: Path) -> None:
    assert sorted(p.name for p in pure.iterdir()) == ["01-01", "01-03", MANIFEST_NAME]
    for name in ("01-01", "01-03"):
        assert sorted(p.name for p in (pure / name).iterdir()) == [name, f"{name}.json"]
        pngs = sorted(p.name for p in (pure / name / name).iterdir())
        assert len(pngs) == 90 and all(PNG_NAME.match(n) for n in pngs)
        stamps = [int(PNG_NAME.match(n).group(1)) for n in pngs]  # type: ignore[union-attr]
        assert stamps == sorted(stamps)
        assert stamps == [entry["Timestamp"] for entry in _pure_labels(pure, name)["/Image"]]
    assert PURE_TASKS[3] == "slow translation"


def test_pure_json_keys_and_types(pure: Path) -> None:
    labels = _pure_labels(pure, "01-01")
    assert list(labels) == ["/FullPackage", "/Image"]
    for entry in labels["/FullPackage"]:
        assert list(entry) == ["Timestamp", "Value", "FrameID"] and entry["FrameID"] == ""
        assert type(entry["Timestamp"]) is int and len(str(entry["Timestamp"])) == 19
        assert list(entry["Value"]) == list(VALUE_KEYS)
        assert all(type(entry["Value"][key]) is kind for key, kind in VALUE_KEYS.items())
        assert 0 <= entry["Value"]["waveform"] <= 100 and 0 <= entry["Value"]["barGraph"] <= 15
    for entry in labels["/Image"]:
        assert entry == {"Timestamp": entry["Timestamp"], "Value": {}, "FrameID": "/CameraFrame"}
        assert type(entry["Timestamp"]) is int and len(str(entry["Timestamp"])) == 19


def test_pure_timestamps(pure: Path) -> None:
    for name in ("01-01", "01-03"):
        labels = _pure_labels(pure, name)
        images = np.array([e["Timestamp"] for e in labels["/Image"]], dtype=np.int64)
        packages = np.array([e["Timestamp"] for e in labels["/FullPackage"]], dtype=np.int64)
        for stamps, rate in ((images, 30.0), (packages, 60.0)):
            steps = np.diff(stamps)
            assert np.all(steps > 0) and np.all(stamps % 1000 == 0)
            assert abs(np.median(steps) / 1e9 - 1.0 / rate) < 1e-3
            assert np.ptp(steps) > 0  # the clocks jitter
        assert not np.isin(packages, images).any()
        assert abs(packages.size - 2 * images.size) <= 2
        assert images[0] < packages[0] < images[0] + 20_000_000 and packages[-1] > images[-1]


def test_pure_signals_match_the_physiology(pure: Path) -> None:
    for record in _manifest(pure)["sessions"]:
        labels = _pure_labels(pure, record["path"])
        physiology = _rebuild(Physiology, record["physiology"])
        t0 = labels["/Image"][0]["Timestamp"]
        t = np.array([(e["Timestamp"] - t0) / 1e9 for e in labels["/FullPackage"]])
        value = {key: np.array([e["Value"][key] for e in labels["/FullPackage"]]) for key in VALUE_KEYS}
        assert _corr(value["waveform"], physiology.blood_volume(t)) > 0.99
        assert np.max(np.abs(value["pulseRate"] - physiology.oximeter_hr_bpm(t))) <= 0.5 + 1e-9
        assert np.max(np.abs(value["o2saturation"] - physiology.spo2(t))) <= 0.5 + 1e-9
        np.testing.assert_array_equal(value["barGraph"], value["waveform"] // 8)


def test_pure_frames_are_lossless_renders(pure: Path) -> None:
    record = _manifest(pure)["sessions"][1]
    name = record["path"]
    stamps = [e["Timestamp"] for e in _pure_labels(pure, name)["/Image"]][:3]
    subject = _manifest(pure)["subjects"][name[:2]]
    rendered = render_session(
        _rebuild(Appearance, subject["appearance"]),
        _rebuild(Physiology, record["physiology"]),
        _rebuild(Scene, record["scene"]),
        (np.array(stamps) - stamps[0]) / 1e9,
        frame_size=SIZE,
    )
    for stamp, frame in zip(stamps, rendered.frames, strict=True):
        bgr = cv2.imread(str(pure / name / name / f"Image{stamp}.png"), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(bgr[..., ::-1], frame)
    assert record["task_name"] == "slow translation" and record["scene"]["motion_shift"] == pytest.approx(0.1)
    assert subject["face_detected"] is True


def test_pure_determinism_and_reuse(pure: Path, tmp_path: Path) -> None:
    again = generate_pure(tmp_path / "again", **PURE)  # type: ignore[arg-type]
    assert (again / "01-01" / "01-01.json").read_bytes() == (pure / "01-01" / "01-01.json").read_bytes()
    assert sorted(p.name for p in (again / "01-03" / "01-03").iterdir()) == sorted(
        p.name for p in (pure / "01-03" / "01-03").iterdir()
    )
    stamps = {p: p.stat().st_mtime_ns for p in again.rglob("*")}
    assert generate_pure(tmp_path / "again", **PURE) == again  # type: ignore[arg-type]
    assert {p: p.stat().st_mtime_ns for p in again.rglob("*")} == stamps
    next(iter((again / "01-03" / "01-03").iterdir())).unlink()
    with pytest.raises(FileExistsError, match="incomplete"):
        generate_pure(again, **PURE)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------------
# Bad arguments


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variant": "DATASET_3"}, "variant"),
        ({"n_subjects": 43}, "n_subjects"),
        ({"variant": "DATASET_1", "n_subjects": 10}, "n_subjects"),
        ({"n_subjects": 0}, "n_subjects"),
        ({"duration_s": 1.0}, "duration_s"),
        ({"fps": 0.0}, "fps"),
        ({"frame_size": (32, 24)}, "frame_size"),
        ({"frame_size": 640}, "frame_size"),
        ({"hr_range_bpm": (100.0, 60.0)}, "hr_range_bpm"),
        ({"pulse_amplitude": 0.5}, "pulse_amplitude"),
        ({"seed": -1}, "seed"),
        ({"codec": "MJPEG"}, "codec"),
        ({"quality": 0}, "quality"),
        ({"overwrite": "yes"}, "overwrite"),
    ],
)
def test_ubfc_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        generate_ubfc_rppg(tmp_path / "ubfc", **kwargs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_subjects": 11}, "n_subjects"),
        ({"tasks": (7,)}, "tasks"),
        ({"tasks": (1, 1)}, "tasks"),
        ({"tasks": ()}, "tasks"),
        ({"tasks": "01"}, "tasks"),
        ({"duration_s": 700.0}, "duration_s"),
        ({"frame_size": (640,)}, "frame_size"),
        ({"seed": 1.5}, "seed"),
        ({"overwrite": 1}, "overwrite"),
    ],
)
def test_pure_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        generate_pure(tmp_path / "pure", **kwargs)
    assert list(tmp_path.iterdir()) == []
