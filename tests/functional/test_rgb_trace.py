"""Tests for rppgblocks.functional.rgb_trace.spatial_mean_rgb."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rppgblocks.errors import ShapeError
from rppgblocks.functional.rgb_trace import spatial_mean_rgb

FAST = settings(max_examples=15, deadline=None, derandomize=True)

shapes = st.tuples(st.integers(1, 3), st.integers(1, 6), st.integers(1, 7), st.integers(1, 7))


class TestSpatialMeanRGB:
    @FAST
    @given(shape=shapes, seed=st.integers(0, 2**32 - 1))
    def test_equals_numpy_mean_uint8(self, shape: tuple[int, int, int, int], seed: int) -> None:
        batch, frames, height, width = shape
        rng = np.random.default_rng(seed)
        video = rng.integers(0, 256, size=(batch, 3, frames, height, width), dtype=np.uint8)
        out = spatial_mean_rgb(torch.from_numpy(video))
        assert out.dtype == torch.float32
        assert out.shape == (batch, 3, frames)
        np.testing.assert_allclose(out.numpy(), video.astype(np.float64).mean(axis=(-2, -1)), rtol=1e-6)

    @FAST
    @given(shape=shapes, seed=st.integers(0, 2**32 - 1))
    def test_bool_mask_selects_pixels(self, shape: tuple[int, int, int, int], seed: int) -> None:
        batch, frames, height, width = shape
        rng = np.random.default_rng(seed)
        video = rng.uniform(0, 1, size=(batch, 3, frames, height, width))
        mask = rng.uniform(size=(batch, frames, height, width)) < 0.6
        mask[..., 0, 0] = True  # no empty frame
        out = spatial_mean_rgb(torch.from_numpy(video), torch.from_numpy(mask))
        assert out.dtype == torch.float64
        expected = np.empty((batch, 3, frames))
        for b in range(batch):
            for t in range(frames):
                expected[b, :, t] = video[b, :, t][:, mask[b, t]].mean(axis=-1)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
        # the same mask with a channel axis of 1 gives the same result
        out5 = spatial_mean_rgb(torch.from_numpy(video), torch.from_numpy(mask)[:, None])
        torch.testing.assert_close(out5, out, rtol=0, atol=0)

    @FAST
    @given(shape=shapes, seed=st.integers(0, 2**32 - 1))
    def test_float_mask_weights_pixels(self, shape: tuple[int, int, int, int], seed: int) -> None:
        batch, frames, height, width = shape
        rng = np.random.default_rng(seed)
        video = rng.uniform(0, 255, size=(batch, 3, frames, height, width))
        weights = rng.uniform(0.01, 1, size=(batch, frames, height, width))
        out = spatial_mean_rgb(torch.from_numpy(video), torch.from_numpy(weights))
        expected = np.average(
            video.reshape(batch, 3, frames, -1),
            axis=-1,
            weights=np.broadcast_to(weights.reshape(batch, 1, frames, -1), (batch, 3, frames, height * width)),
        )
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)

    @FAST
    @given(shape=shapes, seed=st.integers(0, 2**32 - 1))
    def test_static_mask_equals_repeated_mask(self, shape: tuple[int, int, int, int], seed: int) -> None:
        batch, frames, height, width = shape
        gen = torch.Generator().manual_seed(seed)
        video = torch.rand(batch, 3, frames, height, width, generator=gen)
        mask = torch.rand(batch, height, width, generator=gen) < 0.5
        mask[:, 0, 0] = True
        repeated = mask[:, None].expand(batch, frames, height, width)
        torch.testing.assert_close(spatial_mean_rgb(video, mask), spatial_mean_rgb(video, repeated))

    def test_full_mask_equals_no_mask(self) -> None:
        video = torch.rand(2, 3, 4, 5, 6)
        torch.testing.assert_close(
            spatial_mean_rgb(video, torch.ones(2, 4, 5, 6, dtype=torch.bool)), spatial_mean_rgb(video)
        )
        torch.testing.assert_close(spatial_mean_rgb(video, torch.full((2, 5, 6), 0.3)), spatial_mean_rgb(video))

    def test_masked_pixels_do_not_matter(self) -> None:
        video = torch.rand(1, 3, 2, 4, 4)
        mask = torch.zeros(1, 2, 4, 4, dtype=torch.bool)
        mask[..., :2, :] = True
        changed = video.clone()
        changed[..., 2:, :] = 1e6
        torch.testing.assert_close(spatial_mean_rgb(changed, mask), spatial_mean_rgb(video, mask))

    def test_uint8_sum_does_not_overflow(self) -> None:
        video = torch.full((1, 3, 2, 64, 64), 255, dtype=torch.uint8)
        torch.testing.assert_close(spatial_mean_rgb(video), torch.full((1, 3, 2), 255.0))
        mask = torch.ones(1, 2, 64, 64, dtype=torch.bool)
        torch.testing.assert_close(spatial_mean_rgb(video, mask), torch.full((1, 3, 2), 255.0))

    @pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.int16])
    def test_accumulates_in_float32(self, dtype: torch.dtype) -> None:
        video = torch.full((1, 3, 1, 128, 128), 100, dtype=dtype)
        out = spatial_mean_rgb(video)
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, torch.full((1, 3, 1), 100.0))

    def test_empty_frame_mask_raises(self) -> None:
        video = torch.rand(2, 3, 3, 4, 4)
        mask = torch.ones(2, 3, 4, 4, dtype=torch.bool)
        mask[1, 2] = False
        with pytest.raises(ValueError, match=r"mask: selects no pixel in 1 frame\(s\): \(batch 1, frame 2\)"):
            spatial_mean_rgb(video, mask)
        with pytest.raises(ValueError, match=r"mask: selects no pixel in 2 static mask\(s\): batch 0, batch 1"):
            spatial_mean_rgb(video, torch.zeros(2, 4, 4))

    def test_many_empty_frames_are_counted(self) -> None:
        with pytest.raises(ValueError, match=r"in 8 frame\(s\): .* and 3 more"):
            spatial_mean_rgb(torch.rand(1, 3, 8, 2, 2), torch.zeros(1, 8, 2, 2, dtype=torch.bool))

    def test_negative_weight_raises(self) -> None:
        mask = torch.ones(1, 2, 3, 3)
        mask[0, 1, 1, 1] = -0.5
        with pytest.raises(ValueError, match=r"mask: expected weights >= 0, got a minimum of -0.5"):
            spatial_mean_rgb(torch.rand(1, 3, 2, 3, 3), mask)

    @pytest.mark.parametrize(
        ("shape", "match"),
        [
            ((3, 2, 4, 4), r"video: expected shape \(b c t h w\), got \(3, 2, 4, 4\)"),
            ((1, 4, 2, 4, 4), r"video: expected shape \(b 3 t h w\), got \(1, 4, 2, 4, 4\); expected c=3, got c=4"),
        ],
    )
    def test_bad_video_shape(self, shape: tuple[int, ...], match: str) -> None:
        with pytest.raises(ShapeError, match=match):
            spatial_mean_rgb(torch.rand(shape))

    @pytest.mark.parametrize(
        ("shape", "match"),
        [
            ((2, 3, 4), r"mask: expected shape \(2, 4, 4\), got \(2, 3, 4\); does not match video of shape"),
            ((2, 2, 4, 4), r"mask: expected shape \(2, 3, 4, 4\), got \(2, 2, 4, 4\)"),
            ((2, 3, 3, 4, 4), r"mask: expected shape \(2, 1, 3, 4, 4\), got \(2, 3, 3, 4, 4\)"),
            ((1, 3, 4, 4), r"mask: expected shape \(2, 3, 4, 4\), got \(1, 3, 4, 4\)"),
            ((4, 4), r"mask: expected shape \(b t h w\), got \(4, 4\); expected \(B, T, H, W\), \(B, 1, T, H, W\)"),
        ],
    )
    def test_bad_mask_shape(self, shape: tuple[int, ...], match: str) -> None:
        with pytest.raises(ShapeError, match=match):
            spatial_mean_rgb(torch.rand(2, 3, 3, 4, 4), torch.ones(shape, dtype=torch.bool))

    def test_bad_mask_dtype(self) -> None:
        with pytest.raises(TypeError, match=r"mask: expected a bool or floating-point tensor, got dtype torch.int64"):
            spatial_mean_rgb(torch.rand(1, 3, 2, 4, 4), torch.ones(1, 2, 4, 4, dtype=torch.long))
        with pytest.raises(TypeError, match=r"mask: expected a torch.Tensor, got ndarray"):
            spatial_mean_rgb(torch.rand(1, 3, 2, 4, 4), np.ones((1, 2, 4, 4)))  # type: ignore[arg-type]

    def test_gradcheck(self) -> None:
        gen = torch.Generator().manual_seed(0)
        video = torch.rand(1, 3, 2, 3, 3, generator=gen, dtype=torch.float64, requires_grad=True)
        weights = (0.1 + torch.rand(1, 2, 3, 3, generator=gen, dtype=torch.float64)).requires_grad_()
        assert torch.autograd.gradcheck(spatial_mean_rgb, (video, weights))
        assert torch.autograd.gradcheck(spatial_mean_rgb, (video,))

    def test_batch_consistency(self) -> None:
        video = torch.rand(3, 3, 4, 5, 5)
        mask = torch.rand(3, 4, 5, 5) < 0.7
        mask[..., 0, 0] = True
        batched = spatial_mean_rgb(video, mask)
        single = torch.cat([spatial_mean_rgb(video[i : i + 1], mask[i : i + 1]) for i in range(3)])
        torch.testing.assert_close(batched, single)

    @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
    def test_cuda_matches_cpu(self) -> None:
        video = torch.randint(0, 256, (2, 3, 4, 8, 8), dtype=torch.uint8)
        mask = torch.rand(2, 4, 8, 8) < 0.5
        mask[..., 0, 0] = True
        torch.testing.assert_close(spatial_mean_rgb(video.cuda(), mask.cuda()).cpu(), spatial_mean_rgb(video, mask))
