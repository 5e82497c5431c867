from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from rppgblocks.errors import ShapeError
from rppgblocks.functional.partition import split_quadrants
from rppgblocks.losses.rppgnet_loss import RPPGNetLoss
from rppgblocks.models import create_model, model_info
from rppgblocks.models.rppgnet import RPPGNet, RPPGNetOutput

SMALL = {"stem_channels": 4, "stage1_channels": 6, "width": 8, "skin_hidden_channels": (4, 3)}
# floor(n / 8) positive and even: 16..23 and 32..39
sides = st.integers(16, 39).filter(lambda n: (n // 8) % 2 == 0)
clips = st.tuples(st.integers(1, 2), st.integers(1, 6), sides, sides)


def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _calibrate(model: RPPGNet, size: tuple[int, ...] = (4, 3, 4, 32, 32), steps: int = 3) -> RPPGNet:
    """Fit the BatchNorm running statistics (cumulative averages) on random clips; return the model in eval mode.

    Without this, eval-mode outputs at initialisation barely depend on the input.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm3d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(torch.rand(*size, dtype=next(model.parameters()).dtype))
    for norm in norms:
        norm.momentum = 0.1
    return model.eval()


@pytest.fixture(scope="module")
def model() -> RPPGNet:
    torch.manual_seed(0)
    return _calibrate(RPPGNet(**SMALL))  # type: ignore[arg-type]


def test_parameter_count_matches_the_spec_with_four_distinct_part_heads() -> None:
    net = RPPGNet()
    blocks = [_n_params(b) for stage in (net.stage1, net.stage2, net.stage3) for b in stage if _n_params(b)]
    assert _n_params(net.stem) == 1_248
    assert blocks == [13_947, 27_960, 55_737, 111_216, 111_216, 111_216, 111_216]
    assert _n_params(net.skin_branch) == 6_185
    assert [_n_params(h) for h in (net.mid_head, net.global_head, net.part_heads)] == [65, 65, 4 * 65]
    # the released model: 550,779 parameters, 513 of them unused; ours adds a distinct head for quadrant 1
    assert _n_params(net) == 550_779 - 513 + 65 == 550_331


def test_preset_is_registered() -> None:
    info = model_info("rppgnet")
    assert info.input_size == (3, 64, 128, 128)
    net = create_model("rppgnet", width=16)
    assert isinstance(net, RPPGNet) and net.width == 16


@given(clips)
def test_output_shapes_for_random_valid_sizes(model: RPPGNet, clip: tuple[int, int, int, int]) -> None:
    b, t, h, w = clip
    with torch.no_grad():
        out = model(torch.rand(b, 3, t, h, w))
    assert isinstance(out, RPPGNetOutput)
    assert out.bvp.shape == out.bvp_mid.shape == (b, t)
    assert out.bvp_parts.shape == (b, 4, t)
    assert out.skin.shape == out.skin_logits.shape == (b, t, h // 2, w // 2)
    assert out.stage1_features.shape == (b, 6, t, h // 2, w // 2)
    assert out.stage2_features.shape == (b, 8, t, h // 4, w // 4)
    torch.testing.assert_close(out.skin, torch.sigmoid(out.skin_logits))
    assert all(torch.isfinite(o).all() for o in out)


def test_batched_equals_per_sample_in_eval_mode(model: RPPGNet) -> None:
    video = torch.rand(3, 3, 5, 32, 20) * torch.tensor([0.2, 1.0, 3.0]).reshape(3, 1, 1, 1, 1)
    with torch.no_grad():
        batched = model(video)
        single = [model(video[i : i + 1]) for i in range(3)]
    assert (batched.bvp[0] - batched.bvp[1]).abs().max() > 1e-2  # the output depends on the input
    for name, value in batched._asdict().items():
        expected = torch.cat([getattr(s, name) for s in single])
        torch.testing.assert_close(value, expected, rtol=1e-4, atol=1e-5, msg=name)


def test_heads_read_the_attended_maps_and_their_quadrants(model: RPPGNet) -> None:
    """bvp/bvp_mid/parts = 1x1 heads on the spatial sums of the attended maps (parts: of each quadrant, in order)."""
    attended: list[torch.Tensor] = []
    handle = model.attention.register_forward_hook(lambda _m, _i, out: attended.append(out))
    try:
        with torch.no_grad():
            out = model(torch.rand(2, 3, 4, 32, 32))
    finally:
        handle.remove()
    mid_map, final_map = attended
    assert model.global_head.bias is not None and model.mid_head.bias is not None
    assert model.part_heads.bias is not None
    assert mid_map.shape[-2:] == (8, 8) and final_map.shape[-2:] == (4, 4)

    def head(weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("c,bct->bt", weight.flatten(), x.sum(dim=(-2, -1))) + bias

    torch.testing.assert_close(out.bvp, head(model.global_head.weight, model.global_head.bias, final_map))
    torch.testing.assert_close(out.bvp_mid, head(model.mid_head.weight, model.mid_head.bias, mid_map))
    weights = model.part_heads.weight.reshape(4, -1)
    slices = [
        (slice(0, 2), slice(0, 2)),
        (slice(2, 4), slice(0, 2)),
        (slice(0, 2), slice(2, 4)),
        (slice(2, 4), slice(2, 4)),
    ]
    for q, (rows, cols) in enumerate(slices):
        expected = head(weights[q], model.part_heads.bias[q], final_map[..., rows, cols])
        torch.testing.assert_close(out.bvp_parts[:, q], expected)


def test_one_training_step_with_the_loss_reaches_every_parameter() -> None:
    """Every gradient is finite; all are non-zero except those that are analytically zero in training mode.

    Zero by construction: the bias of every conv followed by a BatchNorm (training-mode BN subtracts the batch mean,
    so a per-channel constant has no effect) and the biases of the three signal heads (the negative Pearson loss
    ignores a constant offset). In eval mode (running statistics) the former do get a gradient.
    """
    torch.manual_seed(0)
    net = RPPGNet(**SMALL).double().train()  # type: ignore[arg-type]
    criterion = RPPGNetLoss()
    video = torch.rand(2, 3, 6, 32, 32, dtype=torch.float64)
    target = torch.randn(2, 6, dtype=torch.float64)
    labels = (torch.rand(2, 6, 16, 16) > 0.5).double()
    criterion(net(video), target, labels).total.backward()
    zero = {f"{n}.bias" for n, m in net.named_modules() if isinstance(m, nn.Conv3d) and n != "skin_branch.output"}
    assert len(zero) == 1 + 2 * 7 + 3 + 3  # stem, 7 ST blocks, 3 skin-branch convs before BN, 3 heads
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        if name in zero:
            assert p.grad.abs().max() < 1e-10, name
        else:
            assert p.grad.abs().max() > 1e-6, name

    _calibrate(net, (2, 3, 6, 32, 32))  # eval mode: BN uses (fitted) running statistics
    net.zero_grad()
    criterion(net(video), target, labels).total.backward()
    heads = {"mid_head.bias", "global_head.bias", "part_heads.bias"}
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert (p.grad.abs().max() < 1e-10) if name in heads else (p.grad.abs().max() > 1e-8), name


def test_compile_fullgraph_and_export_match_eager() -> None:
    torch.manual_seed(0)
    net = _calibrate(RPPGNet(), (2, 3, 8, 32, 32))
    video = torch.rand(1, 3, 8, 32, 32)
    with torch.no_grad():
        eager = net(video)
        compiled = torch.compile(net, fullgraph=True, backend="aot_eager")(video)
        exported = torch.export.export(net, (video,)).module()(video)
    assert isinstance(compiled, RPPGNetOutput)
    for a, b, c in zip(eager, compiled, exported, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(c, a, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_forward_is_finite_and_close(model: RPPGNet, dtype: torch.dtype) -> None:
    video = torch.rand(2, 3, 8, 32, 32)
    low_model = RPPGNet(**SMALL).eval()  # type: ignore[arg-type]
    low_model.load_state_dict(model.state_dict())
    with torch.no_grad():
        reference = model(video)
        low = low_model.to(dtype)(video.to(dtype))
    assert all(o.dtype == dtype and torch.isfinite(o).all() for o in low)
    for name in ("bvp", "bvp_mid", "bvp_parts"):
        pair = torch.stack([getattr(reference, name).flatten(), getattr(low, name).float().flatten()])
        assert torch.corrcoef(pair)[0, 1] > 0.95, name


def test_errors_name_argument_and_shapes(model: RPPGNet) -> None:
    with pytest.raises(ShapeError, match=r"video: expected shape \(b c t h w\), got \(1, 3, 8, 32\)"):
        model(torch.zeros(1, 3, 8, 32))
    with pytest.raises(ShapeError, match=r"video: expected shape \(b 3 t h w\), got \(1, 1, 8, 32, 32\)"):
        model(torch.zeros(1, 1, 8, 32, 32))
    with pytest.raises(ShapeError, match=r"got \(1, 3, 8, 24, 32\); .*even .*got H=24, W=32"):
        model(torch.zeros(1, 3, 8, 24, 32))
    with pytest.raises(ShapeError, match=r"got \(1, 3, 8, 16, 8\); .*got H=16, W=8"):
        model(torch.zeros(1, 3, 8, 16, 8))
    with pytest.raises(ShapeError, match=r"got \(1, 3, 0, 16, 16\); T must be >= 1"):
        model(torch.zeros(1, 3, 0, 16, 16))
    with pytest.raises(ValueError, match="width: expected a positive integer, got 0"):
        RPPGNet(width=0)


# -- the partition constraint's quadrant split -------------------------------------------------------------------


@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4))
def test_split_quadrants_in_the_released_order(b: int, c: int, t: int, h2: int, w2: int) -> None:
    x = torch.randn(b, c, t, 2 * h2, 2 * w2)
    q = split_quadrants(x)
    assert q.shape == (b, 4, c, t, h2, w2)
    top, bottom, left, right = slice(0, h2), slice(h2, None), slice(0, w2), slice(w2, None)
    for i, (rows, cols) in enumerate([(top, left), (bottom, left), (top, right), (bottom, right)]):
        assert torch.equal(q[:, i], x[..., rows, cols])
    # a permutation of the entries: nothing lost or repeated
    assert torch.equal(torch.sort(q.flatten()).values, torch.sort(x.flatten()).values)


def test_split_quadrants_gradcheck_and_compile() -> None:
    x = torch.randn(1, 2, 2, 4, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(split_quadrants, (x,))
    compiled = torch.compile(split_quadrants, fullgraph=True, backend="aot_eager")
    assert torch.equal(compiled(x.detach()), split_quadrants(x.detach()))


def test_split_quadrants_errors() -> None:
    with pytest.raises(ShapeError, match=r"features: .*got \(1, 2, 3, 5, 4\); h and w must be positive and even"):
        split_quadrants(torch.zeros(1, 2, 3, 5, 4))
    with pytest.raises(ShapeError, match=r"features: expected shape \(b c t h w\), got \(2, 3, 4, 4\)"):
        split_quadrants(torch.zeros(2, 3, 4, 4))
