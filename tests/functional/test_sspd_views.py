from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.errors import ShapeError
from rppgblocks.functional.sspd_views import (
    SSPDViews,
    global_view,
    local_view,
    masked_difference_modeling,
    sspd_views,
)

clips = st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 4), st.integers(3, 9), st.integers(3, 9))


def _coordinates(b: int, c: int, t: int, h: int, w: int) -> torch.Tensor:
    """A clip whose every value encodes its (clip, channel, frame, row, column), so a view can be decoded."""
    grid = torch.meshgrid(*(torch.arange(n, dtype=torch.float64) for n in (b, c, t, h, w)), indexing="ij")
    return sum(g * 10.0**k for g, k in zip(grid, (8, 6, 4, 2, 0), strict=True))  # type: ignore[return-value]


def _views_of(clip: torch.Tensor, size: int) -> list[torch.Tensor]:
    """Every ``size`` x ``size`` crop of ``clip`` ``(C, T, H, W)`` under each of the four flips."""
    h, w = clip.shape[-2:]
    crops = [clip[..., y : y + size, x : x + size] for y in range(h - size + 1) for x in range(w - size + 1)]
    return [crop.flip(dims) if dims else crop for crop in crops for dims in ((), (-2,), (-1,), (-2, -1))]


@given(clips, st.integers(1, 3), st.booleans(), st.integers(0, 10_000))
def test_local_view_is_a_flipped_crop_of_each_clip(size5: tuple[int, ...], margin: int, flip: bool, seed: int) -> None:
    b, c, t, h, w = size5
    size = max(1, min(h, w) - margin)
    video = _coordinates(b, c, t, h, w)
    view = local_view(video, size, flip=flip, generator=torch.Generator().manual_seed(seed))
    assert view.shape == (b, c, t, size, size)
    for i in range(b):  # batch consistency: item i is a view of clip i alone
        candidates = _views_of(video[i], size) if flip else _views_of(video[i], size)[::4]
        assert any(torch.equal(view[i], v) for v in candidates)


def test_local_view_draws_every_offset_and_flip_per_clip() -> None:
    video = _coordinates(256, 1, 2, 5, 5)
    view = local_view(video, 3, generator=torch.Generator().manual_seed(0))
    frame = view[:, 0, 0] - video[:, 0, 0, :1, :1]  # 100 * row + column of each pixel taken
    flip_v, flip_h = frame[:, 1, 0] < frame[:, 0, 0], frame[:, 0, 1] < frame[:, 0, 0]
    top = frame[:, 0, 0] // 100 - 2 * flip_v
    left = frame[:, 0, 0] % 100 - 2 * flip_h
    draws = set(zip(top.tolist(), left.tolist(), flip_v.tolist(), flip_h.tolist(), strict=True))
    assert len(draws) == 3 * 3 * 2 * 2  # every offset with every flip
    assert bool((view[:, 0, 0] == view[:, 0, 1] - 1e4).all())  # the same crop and flip for every frame


@given(clips, st.integers(1, 12), st.integers(0, 10_000))
def test_global_view_is_a_flipped_bicubic_resize(size5: tuple[int, ...], size: int, seed: int) -> None:
    b, c, t, h, w = size5
    video = torch.randn(b, c, t, h, w, dtype=torch.float64)
    resized = torch.stack(
        [F.interpolate(video[:, :, k], size=(size, size), mode="bicubic", align_corners=False) for k in range(t)], 2
    )
    torch.testing.assert_close(global_view(video, size, flip=False), resized)
    view = global_view(video, size, generator=torch.Generator().manual_seed(seed))
    for i in range(b):  # batch consistency: item i is a flip of clip i's resize
        assert any(torch.equal(view[i], resized[i].flip(d) if d else resized[i]) for d in ((), (-2,), (-1,), (-2, -1)))


@given(clips, st.sampled_from([0.3, 0.7, 1.0]), st.integers(0, 10_000))
def test_mdm_keeps_or_zeros_each_pixel_alike_in_every_channel(size5: tuple[int, ...], keep: float, seed: int) -> None:
    d = torch.rand(*size5) + 1.0
    masked = masked_difference_modeling(d, keep, generator=torch.Generator().manual_seed(seed))
    kept = masked != 0
    assert torch.equal(masked[kept], d[kept])
    assert torch.equal(kept, kept[:, :1].expand_as(kept))
    if keep == 1.0:
        assert torch.equal(masked, d)


def test_mdm_keep_fraction() -> None:
    masked = masked_difference_modeling(torch.ones(4, 3, 16, 32, 32), 0.7, generator=torch.Generator().manual_seed(1))
    assert abs(float(masked.mean()) - 0.7) < 0.01


def test_sspd_views_shapes_determinism_and_no_global_rng() -> None:
    clip = torch.randint(0, 256, (2, 3, 9, 20, 20), dtype=torch.uint8)
    state = torch.random.get_rng_state()
    first = sspd_views(clip, size=16, generator=torch.Generator().manual_seed(3))
    second = sspd_views(clip, size=16, generator=torch.Generator().manual_seed(3))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert isinstance(first, SSPDViews)
    assert first.online.shape == first.target.shape == (2, 3, 8, 16, 16)
    assert first.online.dtype == torch.float32
    assert torch.equal(first.online, second.online) and torch.equal(first.target, second.target)
    differences = clip.float().diff(dim=2)
    unflipped = sspd_views(clip, size=16, flip=False, keep_prob=1.0, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(unflipped.target, global_view(differences, 16, flip=False))
    assert any(
        torch.equal(unflipped.online[0], v) for v in _views_of(differences[0], 16)[::4]
    )  # online = an unmasked crop of the differences here


def test_gradients_reach_the_clip() -> None:
    clip = torch.randn(2, 3, 5, 12, 12, requires_grad=True)
    views = sspd_views(clip, size=10, generator=torch.Generator().manual_seed(0))
    (views.online.square().sum() + views.target.square().sum()).backward()
    assert clip.grad is not None and torch.isfinite(clip.grad).all() and clip.grad.abs().sum() > 0


def test_errors() -> None:
    with pytest.raises(ShapeError, match=r"video: expected shape \(b c t h w\), got \(3, 4, 8, 8\)"):
        local_view(torch.zeros(3, 4, 8, 8), 4)
    with pytest.raises(ShapeError, match=r"got \(1, 3, 4, 8, 6\); frames of 8x6 are smaller than size=7"):
        local_view(torch.zeros(1, 3, 4, 8, 6), 7)
    with pytest.raises(ValueError, match="size: expected a positive integer, got 0"):
        global_view(torch.zeros(1, 3, 4, 8, 8), 0)
    with pytest.raises(ValueError, match=r"keep_prob: expected a number in \(0, 1\], got 0.0"):
        masked_difference_modeling(torch.zeros(1, 3, 4, 8, 8), 0.0)
    with pytest.raises(ShapeError, match=r"differences: expected shape \(b c t h w\)"):
        masked_difference_modeling(torch.zeros(3, 4, 8, 8))
    with pytest.raises(ShapeError, match=r"clip: .*frame differences need T >= 2 frames, got T=1"):
        sspd_views(torch.zeros(1, 3, 1, 8, 8), size=4)
