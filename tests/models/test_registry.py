"""Every registered preset: construction, forward, one training step, torch.compile and torch.export (timm-style)."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from rppgblocks.models import create_model, list_models, model_info

SMALL_INPUT = (1, 3, 8, 32, 32)
CONVS = (nn.Conv2d, nn.Conv3d, nn.ConvTranspose3d)
VIDEO_TO_VIDEO = {"stven"}
# SSPD has no spatial padding: its frames must be at least MIN_FRAME_SIZE (122) pixels, and its S3M needs 19 frames.
SMALL_INPUTS = {"sspd": (1, 3, 24, 128, 128)}


# STVEN's preset has 37 M parameters: the small-input tests build it narrower (same code, 1/8 of the width).
SMALL_OVERRIDES: dict[str, dict[str, object]] = {"stven": {"channels": (8, 16, 64)}}


def _small_input(name: str) -> tuple[int, int, int, int, int]:
    return SMALL_INPUTS.get(name, SMALL_INPUT)


def _small_model(name: str) -> nn.Module:
    return create_model(name, **SMALL_OVERRIDES.get(name, {}))


def _outputs(out: object) -> list[torch.Tensor]:
    """The tensors of a model output (a tensor, or a NamedTuple of tensors and lists of tensors), in order."""
    if isinstance(out, torch.Tensor):
        return [out]
    assert isinstance(out, (tuple, list))
    return [t for item in out for t in _outputs(item)]


def _calibrated(model: nn.Module, name: str) -> nn.Module:
    """Fit BatchNorm running statistics on random clips so that eval outputs depend on the input."""
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(2, *_small_input(name)[1:]))
    return model.eval()


def test_required_presets_exist() -> None:
    assert {"physnet", "rfacenet", "rfacenet_vipl"} <= set(list_models())
    assert list_models("rfacenet*") == ["rfacenet", "rfacenet_vipl"]
    assert model_info("rfacenet").input_size == (3, 128, 72, 72)
    assert model_info("rfacenet_vipl").input_size == (3, 64, 128, 128)


def test_unknown_name_lists_close_matches() -> None:
    with pytest.raises(ValueError, match=r"unknown model preset 'physnett'; did you mean 'physnet'"):
        create_model("physnett")
    with pytest.raises(ValueError, match=r"Known presets: \["):
        create_model("resnet50")


def test_overrides_reach_the_constructor() -> None:
    model = create_model("rfacenet", num_identities=3, ctfc_stage=2)
    assert model.num_identities == 3
    assert model.ctfc_stage == 2
    with pytest.raises(TypeError):
        create_model("physnet", no_such_argument=1)


@pytest.mark.parametrize("name", list_models())
def test_forward_at_the_preset_input_size_is_finite(name: str) -> None:
    info = model_info(name)
    c, t, h, w = info.input_size
    model = create_model(name).eval()
    if t * h * w > 64 * 72 * 72:  # keep CPU time bounded: full size in space, fewer frames
        t = max(16, getattr(model, "min_frames", 0))
    with torch.no_grad():
        out = _outputs(model(torch.rand(1, c, t, h, w)))
    assert all(torch.isfinite(o).all() for o in out)
    # rPPG estimators give the BVP (1, T); a video-to-video preset (STVEN) gives a clip of the input's shape.
    assert out[0].shape == ((1, c, t, h, w) if name in VIDEO_TO_VIDEO else (1, t))


def _biases_cancelled_by_batchnorm(model: nn.Module, video: torch.Tensor) -> set[str]:
    """Names of convolution biases whose output goes straight into a BatchNorm in training mode.

    BatchNorm subtracts the per-channel batch mean, so such a bias cancels out exactly and its gradient is zero
    analytically (it is kept for checkpoint compatibility: rPPG-Toolbox's PhysNet has these biases). Found from the
    order in which modules run, so the test follows the real data flow.
    """
    order: list[nn.Module] = []
    handles = [
        m.register_forward_hook(lambda mod, *_: order.append(mod))
        for m in model.modules()
        if isinstance(m, (*CONVS, nn.BatchNorm3d, nn.BatchNorm2d))
    ]
    with torch.no_grad():
        model(video)
    for handle in handles:
        handle.remove()
    names = {id(m): n for n, m in model.named_modules()}
    cancelled = set()
    for current, following in itertools.pairwise(order):
        is_conv = isinstance(current, CONVS) and current.bias is not None
        if is_conv and isinstance(following, (nn.BatchNorm3d, nn.BatchNorm2d)):
            cancelled.add(f"{names[id(current)]}.bias")
    return cancelled


@pytest.mark.parametrize("name", list_models())
def test_one_training_step_reaches_every_parameter(name: str) -> None:
    torch.manual_seed(0)
    model = _small_model(name).double().train()
    video = torch.rand(2, *_small_input(name)[1:], dtype=torch.float64)
    cancelled = _biases_cancelled_by_batchnorm(model, video)
    out = _outputs(model(video))
    loss = sum((o * torch.randn_like(o)).sum() for o in out if o.is_floating_point())
    loss.backward()  # type: ignore[union-attr]
    for param_name, p in model.named_parameters():
        assert p.grad is not None, param_name
        assert torch.isfinite(p.grad).all(), param_name
        size = float(p.grad.abs().max())
        if param_name in cancelled:
            assert size < 1e-10, f"{param_name}: a bias before BatchNorm should get no gradient, got {size}"
        else:
            assert size > 1e-8, f"{param_name}: no gradient ({size})"


@pytest.mark.parametrize("name", list_models())
def test_compile_fullgraph_and_export_match_eager(name: str) -> None:
    torch.manual_seed(0)
    model = _calibrated(_small_model(name), name)
    video = torch.rand(*_small_input(name))
    with torch.no_grad():
        eager = _outputs(model(video))
        compiled = _outputs(torch.compile(model, fullgraph=True, backend="aot_eager")(video))
        exported = _outputs(torch.export.export(model, (video,)).module()(video))
    for a, b, c in zip(eager, compiled, exported, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(c, a, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_forward_is_finite_and_close(name: str, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = _calibrated(_small_model(name), name)
    video = torch.rand(*_small_input(name))
    with torch.no_grad():
        reference = _outputs(model(video))[0]
        low = _outputs(model.to(dtype)(video.to(dtype)))[0]
    assert torch.isfinite(low).all()
    correlation = torch.corrcoef(torch.stack([reference.flatten(), low.float().flatten()]))[0, 1]
    assert correlation > 0.9
