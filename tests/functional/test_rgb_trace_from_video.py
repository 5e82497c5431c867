"""Tests for rppgblocks.functional.rgb_trace.rgb_trace_from_video (whole frame or YCrCb skin-colour mask)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.errors import ShapeError
from rppgblocks.functional.rgb_trace import rgb_trace_from_video, spatial_mean_rgb

shapes = st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(2, 9), st.integers(2, 9))


def opencv_chroma(video: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Cb, Cr) in 0-255 units with OpenCV's RGB -> YCrCb (BT.601 full range), an independent oracle: (B, T, H, W)."""
    cv2 = pytest.importorskip("cv2")
    channels_last = np.moveaxis(video, 1, -1)
    pixels = (channels_last.reshape(-1, 1, 3) / 255.0).astype(np.float32)
    # OpenCV's float images are 0-1 with chroma offset 0.5; 8-bit chroma has offset 128
    ycrcb = cv2.cvtColor(pixels, cv2.COLOR_RGB2YCrCb).reshape(channels_last.shape)
    return (ycrcb[..., 2] - 0.5) * 255.0 + 128.0, (ycrcb[..., 1] - 0.5) * 255.0 + 128.0


def skin_box(cb: np.ndarray, cr: np.ndarray) -> np.ndarray:
    return (cb >= 77) & (cb <= 127) & (cr >= 133) & (cr <= 173)


class TestRGBTraceFromVideo:
    @given(shape=shapes, seed=st.integers(0, 2**32 - 1))
    def test_whole_frame_is_spatial_mean(self, shape: tuple[int, int, int, int], seed: int) -> None:
        batch, frames, height, width = shape
        video = torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (batch, 3, frames, height, width)))
        torch.testing.assert_close(rgb_trace_from_video(video.to(torch.uint8)), spatial_mean_rgb(video.to(torch.uint8)))

    @given(shape=shapes, seed=st.integers(0, 2**32 - 1))
    def test_tensor_mask_is_the_masked_mean(self, shape: tuple[int, int, int, int], seed: int) -> None:
        batch, frames, height, width = shape
        rng = np.random.default_rng(seed)
        video = torch.from_numpy(rng.uniform(0, 1, (batch, 3, frames, height, width)))
        mask = torch.from_numpy(rng.uniform(0, 1, (batch, frames, height, width)) < 0.5)
        mask[..., 0, 0] = True  # at least one pixel per frame
        weights = mask.to(torch.float64)[:, None]
        expected = (video * weights).sum((-2, -1)) / weights.sum((-2, -1))
        torch.testing.assert_close(rgb_trace_from_video(video, skin_mask=mask), expected)

    @given(shape=shapes, seed=st.integers(0, 2**32 - 1))
    def test_skin_mask_matches_opencv_ycrcb(self, shape: tuple[int, int, int, int], seed: int) -> None:
        batch, frames, height, width = shape
        rng = np.random.default_rng(seed)
        video = rng.integers(0, 256, (batch, 3, frames, height, width)).astype(np.uint8)
        skin = rng.uniform(0.8, 1.2, (batch, 3, frames, height, width)) * np.array([190, 140, 115])[:, None, None, None]
        use_skin = rng.uniform(size=(batch, 1, frames, height, width)) < 0.5
        video = np.where(use_skin, np.clip(skin, 0, 255).astype(np.uint8), video)
        video[:, :, :, 0, 0] = np.array([200, 150, 120])[:, None]  # every frame has a pixel well inside the box
        # OpenCV rounds the BT.601 coefficients to 3 digits: make pixels within 0.5 of a box edge pure blue
        cb, cr = opencv_chroma(video)
        edges = [(cb, 77), (cb, 127), (cr, 133), (cr, 173)]
        near = np.any([np.abs(chroma - edge) < 0.5 for chroma, edge in edges], axis=0)
        video = np.where(near[:, None], np.array([0, 0, 255], dtype=np.uint8)[:, None, None, None], video)
        mask = skin_box(*opencv_chroma(video))
        assert mask.any(axis=(-2, -1)).all()
        expected = (video * mask[:, None]).sum(axis=(-2, -1)) / mask[:, None].sum(axis=(-2, -1))
        out = rgb_trace_from_video(torch.from_numpy(video), skin_mask="ycrcb")
        assert out.dtype == torch.float32
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)

    def test_value_range(self) -> None:
        gen = torch.Generator().manual_seed(0)
        video = torch.randint(0, 256, (2, 3, 3, 8, 8), generator=gen, dtype=torch.uint8)
        video[:, :, :, :4] = torch.tensor([200, 150, 120], dtype=torch.uint8)[:, None, None, None]  # skin rows
        reference = rgb_trace_from_video(video, skin_mask="ycrcb")
        unit = video.double() / 255
        torch.testing.assert_close(rgb_trace_from_video(unit, skin_mask="ycrcb") * 255, reference.double())
        scaled = video.double()
        torch.testing.assert_close(rgb_trace_from_video(scaled, skin_mask="ycrcb", max_value=255.0), reference.double())

    def test_no_skin_in_a_frame_raises(self) -> None:
        video = torch.zeros(1, 3, 3, 4, 4, dtype=torch.uint8)
        video[:, :, :2] = torch.tensor([200, 150, 120], dtype=torch.uint8)[:, None, None, None]
        with pytest.raises(ValueError, match=r"skin_mask: the 'ycrcb' skin-colour mask selects no pixel in 1 frame"):
            rgb_trace_from_video(video, skin_mask="ycrcb")

    def test_compile_and_export_match_eager(self) -> None:
        class Trace(torch.nn.Module):
            def forward(self, video: torch.Tensor) -> torch.Tensor:
                return rgb_trace_from_video(video, skin_mask="ycrcb")

        video = torch.rand(2, 3, 4, 6, 6) * 0.3 + torch.tensor([0.75, 0.55, 0.45])[:, None, None, None]
        eager = Trace()(video)
        compiled = torch.compile(Trace(), fullgraph=True, backend="aot_eager")(video)
        exported = torch.export.export(Trace(), (video,)).module()(video)
        torch.testing.assert_close(compiled, eager)
        torch.testing.assert_close(exported, eager)

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"skin_mask": "hsv"}, ValueError, r"skin_mask: expected None or 'ycrcb', got 'hsv'"),
            ({"skin_mask": "ycrcb", "max_value": 0.0}, ValueError, r"max_value: expected a finite number > 0, got 0.0"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], error: type[Exception], match: str) -> None:
        with pytest.raises(error, match=match):
            rgb_trace_from_video(torch.rand(1, 3, 2, 4, 4), **kwargs)  # type: ignore[arg-type]

    def test_bad_video(self) -> None:
        with pytest.raises(ShapeError, match=r"video: expected shape \(b 3 t h w\), got \(1, 4, 2, 4, 4\)"):
            rgb_trace_from_video(torch.rand(1, 4, 2, 4, 4), skin_mask="ycrcb")
        with pytest.raises(TypeError, match=r"video: expected a torch\.Tensor, got ndarray"):
            rgb_trace_from_video(np.zeros((1, 3, 2, 4, 4)))  # type: ignore[arg-type]
