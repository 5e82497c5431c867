from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import ShapeError, TemporalCompressor
from rppgblocks.functional import temporal_compress

sizes = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 12), st.integers(2, 12), st.integers(2, 12))


@given(sizes, st.sampled_from([None, 0.5, 1.0, 2.0, 3.0]))
def test_shape_and_mean(size: tuple[int, ...], scale: float | None) -> None:
    b, c, t, h, w = size
    video = torch.randn(b, c, t, h, w)
    out = TemporalCompressor(scale)(video)
    factor = 1.0 if scale is None else scale
    assert out.shape == (b, c, int(h * factor), int(w * factor))
    if scale is None:
        torch.testing.assert_close(out, video.mean(dim=2))


@given(sizes)
def test_time_constant_clip_compresses_to_its_frame(size: tuple[int, ...]) -> None:
    b, c, t, h, w = size
    frame = torch.randn(b, c, 1, h, w)
    out = TemporalCompressor()(frame.expand(b, c, t, h, w))
    torch.testing.assert_close(out, frame[:, :, 0])


@given(sizes, st.sampled_from([None, 2.0]), st.sampled_from([(-1,), (-2,), (-2, -1)]))
def test_commutes_with_spatial_flips(size: tuple[int, ...], scale: float | None, dims: tuple[int, ...]) -> None:
    video = torch.randn(*size)
    tcu = TemporalCompressor(scale)
    torch.testing.assert_close(tcu(video.flip(dims)), tcu(video).flip(dims))


def test_gradient_reaches_input() -> None:
    video = torch.randn(2, 3, 4, 5, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: temporal_compress(v, scale_factor=2.0), (video,))


def test_errors() -> None:
    with pytest.raises(ShapeError, match=r"video: expected shape \(b c t h w\), got \(2, 3, 4, 5\)"):
        TemporalCompressor()(torch.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="scale_factor"):
        TemporalCompressor(0.0)
    with pytest.raises(ValueError, match="mode"):
        TemporalCompressor(2.0, mode="linear")  # type: ignore[arg-type]
