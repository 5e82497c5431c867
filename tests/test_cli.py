"""Tests for the command line: rppgblocks.cli (``python -m rppgblocks estimate``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rppgblocks.cli import Estimate, estimate_video, main
from rppgblocks.data.video import write_video
from rppgblocks.functional import DEFAULT_HR_BAND

pytest.importorskip("cv2")

PBV = np.array([0.33, 0.77, 0.53])


def pulsing_video(
    path: Path, hr_bpm: float, *, fs: float = 30.0, duration_s: float = 10.0, size: int = 16, seed: int = 0
) -> Path:
    """A lossless (FFV1) video of skin-coloured pixels whose colour pulses at ``hr_bpm`` along the blood volume
    pulse direction, under a slow illumination drift, with per-pixel noise (which also dithers the uint8 steps)."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * fs)
    t = np.arange(n) / fs
    skin = np.array([170.0, 115.0, 95.0])
    pulse = np.sin(2 * np.pi * hr_bpm / 60 * t + rng.uniform(0, 2 * np.pi))
    light = 1 + 0.05 * np.sin(2 * np.pi * 0.1 * t)
    colour = light[:, None] * skin * (1 + 0.01 * pulse[:, None] * PBV)  # (T, 3)
    frames = colour[:, None, None, :] + rng.normal(0, 2.0, size=(n, size, size, 3))
    write_video(path, np.clip(np.rint(frames), 0, 255).astype(np.uint8), fs, codec="FFV1")
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[float, Path]:
    root = tmp_path_factory.mktemp("videos")
    return {hr: pulsing_video(root / f"pulse_{hr:g}.avi", hr, seed=i) for i, hr in enumerate((54.0, 84.0, 141.0))}


def parse_text_line(line: str) -> float:
    # "<path>: 84.1 bpm (pos, 30 fps, 300 frames)"
    return float(line.rsplit(": ", 1)[1].split(" bpm")[0])


class TestEstimateCommand:
    @pytest.mark.parametrize("hr_bpm", [54.0, 84.0, 141.0])
    def test_prints_the_pulse_rate(
        self, videos: dict[float, Path], hr_bpm: float, capsys: pytest.CaptureFixture[str]
    ) -> None:
        status = main(["estimate", str(videos[hr_bpm])])
        out, err = capsys.readouterr()
        assert status == 0, err
        assert err == ""
        (line,) = out.splitlines()
        assert line.startswith(f"{videos[hr_bpm]}: ")
        assert abs(parse_text_line(line) - hr_bpm) < 2.0
        assert line.endswith("bpm (pos, 30 fps, 300 frames)")

    def test_json_output_parses(self, videos: dict[float, Path], capsys: pytest.CaptureFixture[str]) -> None:
        paths = [str(videos[hr]) for hr in (54.0, 84.0, 141.0)]
        status = main(["estimate", *paths, "--json"])
        out, _ = capsys.readouterr()
        assert status == 0
        records = [json.loads(line) for line in out.splitlines()]
        assert [r["path"] for r in records] == paths
        for record, hr in zip(records, (54.0, 84.0, 141.0), strict=True):
            assert set(record) == {"path", "hr_bpm", "fs", "n_frames", "method", "band"}
            assert abs(record["hr_bpm"] - hr) < 2.0
            assert record["fs"] == 30.0
            assert record["n_frames"] == 300
            assert record["method"] == "pos"
            assert record["band"] == list(DEFAULT_HR_BAND)

    def test_band_limits_the_search(self, videos: dict[float, Path], capsys: pytest.CaptureFixture[str]) -> None:
        # with a band that excludes the pulse (141 bpm = 2.35 Hz), the peak must lie inside the band
        status = main(["estimate", str(videos[141.0]), "--json", "--band", "0.7", "1.5"])
        record = json.loads(capsys.readouterr().out)
        assert status == 0
        assert record["band"] == [0.7, 1.5]
        assert 42.0 <= record["hr_bpm"] <= 90.0

    def test_fs_override_scales_the_rate(self, videos: dict[float, Path], capsys: pytest.CaptureFixture[str]) -> None:
        # the same frames declared at 20 fps instead of 30: every frequency scales by 2/3
        status = main(["estimate", str(videos[84.0]), "--json", "--fs", "20"])
        record = json.loads(capsys.readouterr().out)
        assert status == 0
        assert record["fs"] == 20.0
        assert abs(record["hr_bpm"] - 84.0 * 2 / 3) < 2.0

    def test_missing_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        missing = tmp_path / "missing.avi"
        status = main(["estimate", str(missing)])
        out, err = capsys.readouterr()
        assert status == 1
        assert out == ""
        assert err == f"rppgblocks estimate: error: video file not found: {missing}\n"

    def test_undecodable_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        garbage = tmp_path / "garbage.avi"
        garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
        status = main(["estimate", str(garbage)])
        err = capsys.readouterr().err
        assert status == 1
        assert err.startswith(f"rppgblocks estimate: error: {garbage}: cannot decode video")
        assert "Traceback" not in err

    def test_too_short_for_the_window(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        short = pulsing_video(tmp_path / "short.avi", 72.0, duration_s=1.0)  # 30 frames < 48
        status = main(["estimate", str(short)])
        err = capsys.readouterr().err
        assert status == 1
        assert f"{short}: too short: 30 frames at 30 Hz (1.00 s), but pos needs at least one window of 1.6 s" in err
        assert "48 frames" in err
        # a shorter window makes it long enough
        assert main(["estimate", str(short), "--window-s", "0.8"]) == 0

    def test_band_above_nyquist(self, videos: dict[float, Path], capsys: pytest.CaptureFixture[str]) -> None:
        status = main(["estimate", str(videos[84.0]), "--band", "0.6", "20"])
        err = capsys.readouterr().err
        assert status == 1
        assert "above the Nyquist frequency fs/2=15.0 Hz" in err

    def test_failures_do_not_stop_the_other_videos(
        self, videos: dict[float, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        missing = tmp_path / "missing.avi"
        status = main(["estimate", str(missing), str(videos[84.0]), "--json"])
        out, err = capsys.readouterr()
        assert status == 1
        assert json.loads(out)["path"] == str(videos[84.0])
        assert "video file not found" in err
        assert "1 of 2 video(s) failed" in err

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["estimate", "x.avi", "--band", "3", "1"], "--band: expected 0 <= low_hz < high_hz, got (3.0, 1.0)"),
            (["estimate", "x.avi", "--window-s", "0"], "argument --window-s: expected a finite number > 0, got '0'"),
            (["estimate", "x.avi", "--fs", "nan"], "argument --fs: expected a finite number > 0, got 'nan'"),
            (["estimate", "x.avi", "--method", "nope"], "argument --method: invalid choice: 'nope'"),
            (["estimate"], "the following arguments are required: VIDEO"),
            ([], "the following arguments are required: COMMAND"),
        ],
    )
    def test_bad_command_line(self, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("usage: rppgblocks")
        assert message in err

    def test_help(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["estimate", "--help"]) == 0
        out = capsys.readouterr().out
        assert "--band LOW_HZ HIGH_HZ" in out
        assert "0.6 3.3" in out

    def test_module_entry_point(self, tmp_path: Path) -> None:
        missing = tmp_path / "missing.avi"
        done = subprocess.run(
            [sys.executable, "-m", "rppgblocks", "estimate", str(missing)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 1
        assert done.stdout == ""
        assert "video file not found" in done.stderr
        assert "Traceback" not in done.stderr


class TestEstimateVideo:
    def test_returns_the_signal_and_settings(self, videos: dict[float, Path]) -> None:
        est = estimate_video(videos[54.0], window_s=2.0)
        assert isinstance(est, Estimate)
        assert abs(est.hr_bpm - 54.0) < 2.0
        assert est.bvp.shape == (300,)
        assert (est.fs, est.n_frames, est.method, est.roi, est.window_s) == (30.0, 300, "pos", "full", 2.0)
        assert est.band == DEFAULT_HR_BAND
        assert est.to_json()["path"] == str(videos[54.0])

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"method": "nope"}, r"method: expected one of \['chrom', 'green', 'ica', 'lgi', 'omit', 'pbv', 'pos'\]"),
            ({"roi": "face"}, r"roi: expected one of \['full', 'skin'\], got 'face'"),
            ({"band": (0.0, 3.0)}, r"band: the band-pass of the post-processing needs low_hz > 0"),
            ({"band": (2.0, 1.0)}, r"band: expected 0 <= low_hz < high_hz"),
            ({"window_s": -1.0}, r"window_s: expected a finite number > 0, got -1.0"),
            ({"window_s": 0.01}, r"pulse_84.avi: window_s: window_s=0.01 s at fs=30.0 Hz gives a window of 1 frame"),
            ({"fs": 0.0}, r"fs: expected a finite number > 0, got 0.0"),
        ],
    )
    def test_bad_arguments(self, videos: dict[float, Path], kwargs: dict[str, object], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            estimate_video(videos[84.0], **kwargs)  # type: ignore[arg-type]
