"""Compression augmentation: real MPEG-4 / H.264 round trips through PyAV (FFmpeg)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.errors import ShapeError

av = pytest.importorskip("av")

from rppgblocks.data.compression import available_codecs, compress_video  # noqa: E402

CODECS = ["h264", "mpeg4"]


def _clip(t: int = 16, h: int = 48, w: int = 48) -> np.ndarray:
    """A smooth, moving RGB pattern (uint8, (T, H, W, 3))."""
    tt, yy, xx = np.meshgrid(np.arange(t), np.arange(h), np.arange(w), indexing="ij")
    r = 128 + 70 * np.sin(xx / 4 + tt / 2) * np.cos(yy / 6)
    g = 110 + 50 * np.sin((xx + yy) / 5 - tt / 3)
    b = 90 + 40 * np.cos(yy / 3 + tt / 4)
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


def _yuv420_floor(frames: np.ndarray) -> float:
    """The error of the RGB -> YUV 4:2:0 -> RGB conversion alone (no codec)."""
    back = [
        av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv420p").to_ndarray(format="rgb24")
        for f in frames
    ]
    return _mae(np.stack(back), frames)


def test_both_codecs_are_available_with_the_pypi_wheels() -> None:
    assert set(available_codecs()) == {"h264", "mpeg4"}


@pytest.mark.parametrize(("codec", "bitrates"), [("h264", (30, 100, 1000)), ("mpeg4", (10, 30, 1000))])
def test_lower_bit_rate_gives_larger_error(codec: str, bitrates: tuple[int, ...]) -> None:
    clip = _clip()
    errors = [_mae(compress_video(clip, codec=codec, bitrate_kbps=k), clip) for k in bitrates]
    assert errors[0] > errors[1] > errors[2], errors
    assert errors[0] > 1.5 * _yuv420_floor(clip)  # real artefacts, well above the colour conversion's rounding


@pytest.mark.parametrize("codec", CODECS)
def test_very_high_bit_rate_is_close_to_the_input(codec: str) -> None:
    clip = _clip()
    out = compress_video(clip, codec=codec, bitrate_kbps=50_000)
    floor = _yuv420_floor(clip)
    assert _mae(out, clip) < 1.2 * floor + 0.5  # nothing beyond 4:2:0 chroma subsampling
    assert _mae(out, clip) < 6.0  # out of 255


@pytest.mark.parametrize("codec", CODECS)
def test_deterministic(codec: str) -> None:
    clip = _clip(8, 32, 32)
    assert np.array_equal(
        compress_video(clip, codec=codec, bitrate_kbps=80), compress_video(clip, codec=codec, bitrate_kbps=80)
    )


@given(st.integers(1, 4), st.integers(1, 19), st.integers(1, 19), st.sampled_from(CODECS))
def test_uint8_frames_keep_shape_dtype_and_type(t: int, h: int, w: int, codec: str) -> None:
    frames = np.random.default_rng(t * 400 + h * 20 + w).integers(0, 256, (t, h, w, 3)).astype(np.uint8)
    out = compress_video(frames, codec=codec, bitrate_kbps=300)
    assert isinstance(out, np.ndarray) and out.shape == frames.shape and out.dtype == np.uint8
    tensor_out = compress_video(torch.from_numpy(frames), codec=codec, bitrate_kbps=300)
    assert isinstance(tensor_out, torch.Tensor) and tensor_out.dtype == torch.uint8
    assert np.array_equal(tensor_out.numpy(), out)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_float_clips_keep_shape_dtype_and_range(dtype: torch.dtype) -> None:
    frames = _clip(8, 16, 20)
    video = torch.from_numpy(frames).permute(3, 0, 1, 2).to(dtype) / 255 * 2 - 1  # (C, T, H, W) in [-1, 1]
    out = compress_video(video, codec="h264", bitrate_kbps=400, value_range=(-1.0, 1.0))
    assert out.shape == video.shape and out.dtype == dtype
    assert out.min() >= -1 and out.max() <= 1
    expected = compress_video(frames, codec="h264", bitrate_kbps=400)  # the same bytes through the uint8 path
    torch.testing.assert_close(out, torch.from_numpy(expected).permute(3, 0, 1, 2).to(dtype) / 255 * 2 - 1)
    batch = torch.stack([video, video.flip(-1)])
    out_batch = compress_video(batch, codec="mpeg4", bitrate_kbps=400, value_range=(-1.0, 1.0))
    assert out_batch.shape == batch.shape
    torch.testing.assert_close(
        out_batch[1], compress_video(batch[1], codec="mpeg4", bitrate_kbps=400, value_range=(-1.0, 1.0))
    )


def test_leaves_no_files_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = set(os.listdir(tempfile.gettempdir()))
    compress_video(_clip(4, 16, 16), codec="h264", bitrate_kbps=100)
    compress_video(_clip(4, 16, 16), codec="mpeg4", bitrate_kbps=100)
    assert list(tmp_path.iterdir()) == []
    assert set(os.listdir(tempfile.gettempdir())) <= before


def test_missing_h264_encoder_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(av, "codecs_available", set(av.codecs_available) - {"libx264", "libopenh264"})
    assert available_codecs() == ("mpeg4",)
    with pytest.raises(RuntimeError, match=r"codec: 'h264' \(H.264/AVC\) is not available .*no libx264/libopenh264"):
        compress_video(_clip(2, 8, 8), codec="h264", bitrate_kbps=100)


def test_errors() -> None:
    clip = _clip(2, 8, 8)
    with pytest.raises(ValueError, match="codec: expected 'mpeg4' or 'h264', got 'hevc'"):
        compress_video(clip, codec="hevc", bitrate_kbps=100)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="bitrate_kbps: expected a finite number > 0, got 0"):
        compress_video(clip, bitrate_kbps=0)
    with pytest.raises(ValueError, match="fps"):
        compress_video(clip, bitrate_kbps=100, fps=float("inf"))
    with pytest.raises(ValueError, match="value_range: expected finite low < high"):
        compress_video(torch.zeros(3, 2, 8, 8), bitrate_kbps=100, value_range=(1.0, 0.0))
    with pytest.raises(ShapeError, match=r"clip: expected shape \(t h w 3\), got \(2, 8, 8\)"):
        compress_video(clip[..., 0], bitrate_kbps=100)
    with pytest.raises(TypeError, match="clip: a NumPy clip must be uint8"):
        compress_video(clip.astype(np.float32), bitrate_kbps=100)
    with pytest.raises(ShapeError, match=r"clip: expected shape \(\[b\] 3 t h w\), got \(2, 8, 8, 3\)"):
        compress_video(torch.from_numpy(clip).float(), bitrate_kbps=100)
    with pytest.raises(TypeError, match=r"clip: expected a NumPy array or a torch\.Tensor, got list"):
        compress_video([1, 2, 3], bitrate_kbps=100)  # type: ignore[call-overload]
