from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import ShapeError
from rppgblocks.functional import center_over_time, diff_normalize, normalize_video, standardize

clips = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(2, 10), st.integers(1, 6), st.integers(1, 6))


def _clip(size: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    return torch.rand(*size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + 0.1


@given(clips, st.integers(0, 2**16))
def test_diff_normalize_matches_the_toolbox_definition(size: tuple[int, ...], seed: int) -> None:
    video = _clip(size, seed)
    out = diff_normalize(video).numpy()
    x = video.numpy()
    for b in range(x.shape[0]):
        d = (x[b, :, 1:] - x[b, :, :-1]) / (x[b, :, 1:] + x[b, :, :-1] + 1e-7)
        d = d / max(d.std(), np.finfo(np.float64).eps)
        expected = np.concatenate([d, np.zeros_like(d[:, :1])], axis=1)
        np.testing.assert_allclose(out[b], expected, rtol=1e-10, atol=1e-12)


@given(clips, st.integers(0, 2**16))
def test_standardize_zero_mean_unit_std_per_clip(size: tuple[int, ...], seed: int) -> None:
    out = standardize(_clip(size, seed))
    for sample in out:
        assert float(sample.mean()) == pytest.approx(0.0, abs=1e-9)
        if sample.numel() > 1:
            assert float(sample.std(correction=0)) == pytest.approx(1.0, abs=1e-6)


@given(clips, st.integers(0, 2**16), st.floats(0.1, 10.0), st.floats(-5.0, 5.0))
def test_center_over_time_removes_appearance_and_is_affine_invariant(
    size: tuple[int, ...], seed: int, gain: float, offset: float
) -> None:
    video = _clip(size, seed)
    out = center_over_time(video)
    torch.testing.assert_close(out.mean(dim=2), torch.zeros_like(out.mean(dim=2)), atol=1e-9, rtol=0)
    appearance = _clip((size[0], size[1], 1, size[3], size[4]), seed + 1)
    torch.testing.assert_close(center_over_time(gain * (video + appearance) + offset), out)


def test_batch_consistency_and_gradcheck() -> None:
    video = _clip((3, 3, 6, 4, 4)).requires_grad_()
    for fn in (center_over_time, diff_normalize, standardize):
        torch.testing.assert_close(fn(video), torch.cat([fn(video[i : i + 1]) for i in range(3)]))
        assert torch.autograd.gradcheck(fn, (_clip((1, 2, 4, 2, 3)).requires_grad_(),))


def test_dispatch_and_errors() -> None:
    video = _clip((1, 3, 4, 2, 2))
    torch.testing.assert_close(normalize_video(video, "diff_normalized"), diff_normalize(video))
    assert normalize_video(video, "none") is video
    with pytest.raises(ValueError, match="method"):
        normalize_video(video, "zscore")  # type: ignore[arg-type]
    with pytest.raises(ShapeError, match=r"video: expected shape \(b c t h w\), got \(3, 4, 2, 2\)"):
        center_over_time(video[0])
    with pytest.raises(ShapeError, match="T >= 2"):
        diff_normalize(video[:, :, :1])
