"""STVEN (ICCV 2019): shapes, conditioning, batch consistency, gradients, compile/export, errors, preset.

``rppgblocks.models.stven`` is imported inside the tests, not at collection time, so that its registry preset does
not appear in other modules' ``list_models()`` parametrisations until ``rppgblocks.models`` imports it itself.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from rppgblocks.errors import ShapeError

SMALL: dict[str, Any] = {"num_levels": 3, "channels": (4, 6, 8), "num_blocks": 2}
clips = st.tuples(
    st.integers(1, 2), st.sampled_from([2, 4, 6]), st.sampled_from([4, 8, 12, 16]), st.sampled_from([4, 8, 12])
)


def _stven() -> ModuleType:
    return importlib.import_module("rppgblocks.models.stven")


def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _calibrate(net: nn.Module, size: tuple[int, ...] = (4, 3, 4, 16, 16), steps: int = 3) -> nn.Module:
    """Fit the norms' running statistics (cumulative averages) on random clips; return the model in eval mode.

    Without this, eval-mode outputs at initialisation are the input plus a residual of about 1e-6.
    """
    norms = [m for m in net.modules() if isinstance(m, (nn.BatchNorm3d, nn.InstanceNorm3d))]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    net.train()
    with torch.no_grad():
        for step in range(steps):
            net(torch.rand(*size) * 2 - 1, step % net.num_levels)
    for norm in norms:
        norm.momentum = 0.1
    return net.eval()


@pytest.fixture(scope="module")
def model() -> nn.Module:
    torch.manual_seed(0)
    return _calibrate(_stven().STVEN(**SMALL))


def test_parameter_count_matches_the_spec() -> None:
    net = _stven().STVEN()
    assert _n_params(net.encoder) + _n_params(net.bottleneck) == 32_991_616
    assert _n_params(net.bottleneck) == 4 * 7_081_856 == 28_327_424
    assert [m.mid_channels for m in net.bottleneck] == [1152] * 4
    assert _n_params(net.decoder.up1) == 4_194_560
    assert _n_params(net.decoder.up2) == 131_200
    assert _n_params(net.decoder.head) == 9_408
    assert _n_params(net) == 37_326_784
    assert net.encoder.stem[0].in_channels == 8  # RGB + the 5-slot one-hot code
    norms = [m for m in net.modules() if isinstance(m, nn.InstanceNorm3d)]
    assert len(norms) == 5 and all(n.affine and n.track_running_stats for n in norms)
    convs = [
        m for m in (*net.encoder.modules(), *net.decoder.modules()) if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d))
    ]
    assert len(convs) == 6 and all(c.bias is None for c in convs)


def test_preset_is_registered() -> None:
    from rppgblocks.models import create_model, model_info

    _stven()
    info = model_info("stven")
    assert info.input_size == (3, 64, 128, 128)
    net = create_model("stven", channels=(4, 4, 4), num_levels=2)
    assert isinstance(net, _stven().STVEN) and net.num_levels == 2


@given(clips, st.integers(0, 2))
def test_output_has_the_input_shape(model: nn.Module, clip: tuple[int, int, int, int], level: int) -> None:
    b, t, h, w = clip
    with torch.no_grad():
        out = model(torch.rand(b, 3, t, h, w) * 2 - 1, level)
    assert out.shape == (b, 3, t, h, w)
    assert torch.isfinite(out).all()


@given(st.integers(1, 3), st.integers(0, 2))
def test_int_tensor_and_one_hot_levels_agree(model: nn.Module, batch: int, level: int) -> None:
    video = torch.rand(batch, 3, 4, 8, 8)
    one_hot = torch.zeros(batch, 3)
    one_hot[:, level] = 1.0
    with torch.no_grad():
        a = model(video, level)
        b = model(video, torch.full((batch,), level))
        c = model(video, one_hot)
    torch.testing.assert_close(b, a)
    torch.testing.assert_close(c, a)


def test_condition_tiles_the_one_hot_code(model: nn.Module) -> None:
    video = torch.rand(2, 3, 4, 8, 12)
    x = model.condition(video, torch.tensor([2, 0]))
    assert x.shape == (2, 6, 4, 8, 12)
    assert torch.equal(x[:, :3], video)
    expected = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])[:, :, None, None, None].expand(2, 3, 4, 8, 12)
    assert torch.equal(x[:, 3:], expected)


def test_the_level_changes_the_output_and_the_default_is_level_zero(model: nn.Module) -> None:
    video = torch.rand(1, 3, 4, 8, 8)
    with torch.no_grad():
        outs = [model(video, k) for k in range(3)]
        default = model(video)
    assert torch.equal(default, outs[0])
    # the code is constant over (T, H, W); per-instance norms (training mode) see it through the convs' zero padding
    fresh = _stven().STVEN(**SMALL).train()
    with torch.no_grad():
        outs = [fresh(video, k) for k in range(3)]
    assert (outs[0] - outs[1]).abs().max() > 1e-2
    assert (outs[1] - outs[2]).abs().max() > 1e-2


def test_global_residual_output_is_the_input_when_the_head_is_zero() -> None:
    net = _stven().STVEN(**SMALL).eval()
    with torch.no_grad():
        net.decoder.head[0].weight.zero_()
        video = torch.randn(2, 3, 4, 8, 8)
        torch.testing.assert_close(net(video, 1), video)


@given(st.lists(st.integers(0, 2), min_size=3, max_size=3))
def test_batched_equals_per_sample_in_eval_mode(model: nn.Module, levels: list[int]) -> None:
    torch.manual_seed(1)
    video = torch.rand(3, 3, 4, 8, 8) * torch.tensor([0.2, 1.0, 3.0]).reshape(3, 1, 1, 1, 1)
    level = torch.tensor(levels)
    with torch.no_grad():
        batched = model(video, level)
        single = torch.cat([model(video[i : i + 1], levels[i]) for i in range(3)])
    torch.testing.assert_close(batched, single, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("train", [True, False])
def test_every_parameter_gets_a_finite_gradient(train: bool) -> None:
    """All gradients finite and non-zero, except (training mode) the bottleneck's spatial-conv biases, which the
    BatchNorm right after them cancels exactly."""
    torch.manual_seed(0)
    net = _stven().STVEN(**SMALL).double().train(train)
    video = torch.rand(2, 3, 4, 8, 8, dtype=torch.float64)
    out = net(video, torch.tensor([1, 2]))
    (out * torch.randn_like(out)).sum().backward()
    cancelled = {f"bottleneck.{i}.spatial_conv.bias" for i in range(SMALL["num_blocks"])} if train else set()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        size = float(p.grad.abs().max())
        assert (size < 1e-10) if name in cancelled else (size > 1e-8), (name, size)


def test_gradcheck_through_the_input() -> None:
    torch.manual_seed(0)
    net = _stven().STVEN(num_levels=2, channels=(2, 2, 2), num_blocks=1).double().eval()
    video = torch.rand(1, 3, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: net(v, 1), (video,), fast_mode=True)


def test_compile_fullgraph_and_export_match_eager() -> None:
    torch.manual_seed(0)
    net = _calibrate(_stven().STVEN(**SMALL))
    video, level = torch.rand(2, 3, 4, 16, 16), torch.tensor([1, 2])
    with torch.no_grad():
        eager = net(video, level)
        compiled = torch.compile(net, fullgraph=True, backend="aot_eager")(video, level)
        exported = torch.export.export(net, (video, level)).module()(video, level)
    torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(exported, eager, rtol=1e-4, atol=1e-5)


def test_errors_name_argument_and_shapes(model: nn.Module) -> None:
    stven = _stven()
    with pytest.raises(ShapeError, match=r"video: expected shape \(b c t h w\), got \(1, 3, 4, 8\)"):
        model(torch.zeros(1, 3, 4, 8))
    with pytest.raises(ShapeError, match=r"video: expected shape \(b 3 t h w\), got \(1, 1, 4, 8, 8\)"):
        model(torch.zeros(1, 1, 4, 8, 8))
    with pytest.raises(ShapeError, match=r"got \(1, 3, 3, 8, 8\); .*T must be even .*got T=3, H=8, W=8"):
        model(torch.zeros(1, 3, 3, 8, 8))
    with pytest.raises(ShapeError, match=r"got T=4, H=6, W=8"):
        model(torch.zeros(1, 3, 4, 6, 8))
    with pytest.raises(ShapeError, match=r"got T=0, H=8, W=8"):
        model(torch.zeros(1, 3, 0, 8, 8))
    with pytest.raises(ValueError, match=r"level: expected an integer in \[0, 3\), got 3"):
        model(torch.zeros(1, 3, 4, 8, 8), 3)
    with pytest.raises(ValueError, match=r"level: expected integers in \[0, 3\), got values in \[-1, 1\]"):
        model(torch.zeros(2, 3, 4, 8, 8), torch.tensor([1, -1]))
    with pytest.raises(ShapeError, match=r"level: expected shape \(2\), got \(3,\); batch size"):
        model(torch.zeros(2, 3, 4, 8, 8), torch.tensor([0, 1, 2]))
    with pytest.raises(ShapeError, match=r"level: expected shape \(b 3\), got \(2, 5\)"):
        model(torch.zeros(2, 3, 4, 8, 8), torch.zeros(2, 5))
    with pytest.raises(TypeError, match=r"level: expected an int or a torch\.Tensor, got bool"):
        model(torch.zeros(1, 3, 4, 8, 8), True)
    with pytest.raises(ValueError, match="channels: expected a positive integer, got 0"):
        stven.STVEN(channels=(4, 0, 4))
    with pytest.raises(ValueError, match="channels: expected a tuple of three"):
        stven.STVEN(channels=(4, 4))
    with pytest.raises(ValueError, match="num_levels: expected a positive integer"):
        stven.STVEN(num_levels=0)
