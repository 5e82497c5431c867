from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import PhysNet, ShapeError

clips = st.tuples(st.integers(1, 2), st.sampled_from([4, 8, 12, 16]), st.integers(16, 24), st.integers(16, 24))


@pytest.fixture(scope="module")
def model() -> PhysNet:
    torch.manual_seed(0)
    net = PhysNet(width=8, stem_channels=4, stage1_mid_channels=8).train()
    with torch.no_grad():  # fit BatchNorm running statistics, so that eval outputs depend on the input
        for _ in range(20):
            net(torch.rand(4, 3, 8, 16, 16))
    return net.eval()


@given(clips)
def test_output_shape_for_random_valid_sizes(model: PhysNet, clip: tuple[int, int, int, int]) -> None:
    b, t, h, w = clip
    assert model(torch.randn(b, 3, t, h, w)).shape == (b, t)


@given(clips)
def test_stage_outputs_and_split_forward_agree(model: PhysNet, clip: tuple[int, int, int, int]) -> None:
    b, t, h, w = clip
    video = torch.randn(b, 3, t, h, w)
    bvp, stages = model.forward_intermediates(video)
    assert [tuple(m.shape[2:]) for m in stages] == [
        (t, h // 2, w // 2),
        (t // 2, h // 4, w // 4),
        (t // 4, h // 8, w // 8),
        (t // 4, h // 16, w // 16),
    ]
    torch.testing.assert_close(bvp, model(video))
    for k in (1, 2, 3, 4):
        m_k = model.forward_until(video, k)
        torch.testing.assert_close(m_k, stages[k - 1])
        torch.testing.assert_close(model.forward_from(m_k, k), bvp)


def test_default_parameter_count_matches_the_paper() -> None:
    assert sum(p.numel() for p in PhysNet().parameters()) == 768_577


def test_batch_consistency(model: PhysNet) -> None:
    video = torch.rand(3, 3, 8, 16, 16)
    out = model(video)
    assert not torch.allclose(out[0], out[1], atol=1e-4)  # the output depends on the input
    torch.testing.assert_close(out, torch.cat([model(video[i : i + 1]) for i in range(3)]))


def test_gradients_reach_every_parameter_and_the_input() -> None:
    torch.manual_seed(0)
    net = PhysNet(width=8, stem_channels=4, stage1_mid_channels=8).train()
    video = torch.randn(2, 3, 8, 16, 16, requires_grad=True)
    net(video).square().mean().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
    assert video.grad is not None and video.grad.abs().sum() > 0


def test_errors_name_argument_and_shapes(model: PhysNet) -> None:
    with pytest.raises(ShapeError, match=r"video: expected shape \(b c t h w\), got \(1, 3, 8, 16\)"):
        model(torch.zeros(1, 3, 8, 16))
    with pytest.raises(ShapeError, match=r"video: expected shape \(b 3 t h w\), got \(1, 4, 8, 16, 16\)"):
        model(torch.zeros(1, 4, 8, 16, 16))
    with pytest.raises(ShapeError, match=r"got \(1, 3, 6, 16, 16\); T=6 must be a positive multiple of 4"):
        model(torch.zeros(1, 3, 6, 16, 16))
    with pytest.raises(ShapeError, match=r"H, W must be >= 16, got 8x16"):
        model(torch.zeros(1, 3, 8, 8, 16))
    with pytest.raises(ValueError, match="stage"):
        model.forward_until(torch.zeros(1, 3, 8, 16, 16), 5)
    with pytest.raises(ValueError, match="width"):
        PhysNet(width=0)
