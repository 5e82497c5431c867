from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from rppgblocks.errors import ShapeError
from rppgblocks.layers.skin_segmentation import SkinSegmentationBranch

dims = st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 4), st.integers(1, 9), st.integers(1, 9))


def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def branch() -> SkinSegmentationBranch:
    torch.manual_seed(0)
    net = SkinSegmentationBranch(4, hidden_channels=(6, 3)).train()
    with torch.no_grad():  # fit the BatchNorm running statistics, so that eval outputs depend on the input
        for _ in range(10):
            net(torch.randn(4, 4, 3, 8, 8))
    return net.eval()


def test_parameter_count_matches_the_spec() -> None:
    net = SkinSegmentationBranch()
    assert (_n_params(net.main), _n_params(net.residual), _n_params(net.output)) == (5_832, 280, 73)
    assert _n_params(net) == 6_185


@given(dims)
def test_shapes_and_probabilities(branch: SkinSegmentationBranch, d: tuple[int, int, int, int, int]) -> None:
    b, _, t, h, w = d
    features = torch.randn(b, 4, t, h, w)
    logits = branch.logits(features)
    skin = branch(features)
    assert logits.shape == skin.shape == (b, t, h, w)
    torch.testing.assert_close(skin, torch.sigmoid(logits))
    assert ((skin >= 0) & (skin <= 1)).all()


@given(dims)
def test_frames_and_samples_are_segmented_independently(
    branch: SkinSegmentationBranch, d: tuple[int, int, int, int, int]
) -> None:
    """Every kernel is 1 x k x k: frame t's map depends on frame t alone (and each sample on itself, in eval mode)."""
    b, _, t, h, w = d
    features = torch.randn(b, 4, t, h, w)
    skin = branch(features)
    per_frame = torch.stack(
        [torch.cat([branch(features[i : i + 1, :, j : j + 1]) for j in range(t)], dim=1)[0] for i in range(b)]
    )
    torch.testing.assert_close(per_frame, skin)


def test_output_depends_on_the_input(branch: SkinSegmentationBranch) -> None:
    skin = branch(torch.randn(2, 4, 2, 6, 6))
    assert skin.std() > 1e-3


def test_gradients_reach_every_parameter_in_eval_mode(branch: SkinSegmentationBranch) -> None:
    net = SkinSegmentationBranch(4, hidden_channels=(6, 3))
    net.load_state_dict(branch.state_dict())
    net.eval()
    (net.logits(torch.randn(2, 4, 2, 6, 6)) * torch.randn(2, 2, 6, 6)).sum().backward()  # type: ignore[no-untyped-call]
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def test_compile_and_export_match_eager(branch: SkinSegmentationBranch) -> None:
    features = torch.randn(1, 4, 3, 8, 8)
    with torch.no_grad():
        eager = branch(features)
        compiled = torch.compile(branch, fullgraph=True, backend="aot_eager")(features)
        exported = torch.export.export(branch, (features,)).module()(features)
    torch.testing.assert_close(compiled, eager)
    torch.testing.assert_close(exported, eager)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_forward_is_finite(dtype: torch.dtype) -> None:
    net = SkinSegmentationBranch().eval().to(dtype)
    with torch.no_grad():
        skin = net(torch.randn(1, 32, 2, 8, 8, dtype=dtype))
    assert skin.dtype == dtype and torch.isfinite(skin).all()


def test_errors_name_argument_and_shapes() -> None:
    net = SkinSegmentationBranch()
    with pytest.raises(ShapeError, match=r"features: expected shape \(b 32 t h w\), got \(1, 16, 2, 8, 8\)"):
        net(torch.zeros(1, 16, 2, 8, 8))
    with pytest.raises(ShapeError, match=r"features: expected shape \(b c t h w\), got \(1, 32, 8, 8\)"):
        net.logits(torch.zeros(1, 32, 8, 8))
    with pytest.raises(ValueError, match="in_channels: expected a positive integer, got 0"):
        SkinSegmentationBranch(0)
    with pytest.raises(ValueError, match=r"hidden_channels: expected a pair of positive integers, got \(16,\)"):
        SkinSegmentationBranch(hidden_channels=(16,))  # type: ignore[arg-type]
