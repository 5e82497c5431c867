"""rPPG-Toolbox PhysNet checkpoints: key conversion, direct loading, validation errors and parity with real weights."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import Tensor

from rppgblocks.models import PhysNet, RFaceNet
from rppgblocks.models.convert import (
    convert_rppg_toolbox_physnet,
    is_rppg_toolbox_physnet_state_dict,
    load_rppg_toolbox_physnet,
    to_rppg_toolbox_physnet,
)

SMALL = {"width": 8, "stem_channels": 4, "stage1_mid_channels": 8}
BN_SUFFIXES = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
PARITY_TOLERANCE = 1e-4  # max |ours - reference| / max |reference|


def toolbox_keys() -> list[str]:
    """The 79 keys of a toolbox PhysNet checkpoint, in order, written out from the checkpoint README's description."""
    keys = []
    for name in [f"ConvBlock{i}" for i in range(1, 10)] + ["upsample", "upsample2"]:
        keys += [f"{name}.0.weight", f"{name}.0.bias"] + [f"{name}.1.{s}" for s in BN_SUFFIXES]
    return [*keys, "ConvBlock10.weight", "ConvBlock10.bias"]


def randomized(model: PhysNet, seed: int = 0) -> PhysNet:
    """``model`` with random conv biases, BatchNorm statistics fitted on random clips, random BN affine parameters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, value in model.state_dict().items():
            if key.endswith("0.bias") or key == "head.bias":  # conv biases
                value.copy_(0.2 * torch.randn(value.shape, generator=generator))
        norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm3d)]
        for norm in norms:
            norm.momentum = 1.0  # running statistics := those of the next batch
        model.train()(torch.randn(4, 3, 8, 20, 20, generator=generator))
        for norm in norms:
            norm.momentum = 0.1
            norm.weight.copy_(0.5 + torch.rand(norm.weight.shape, generator=generator))
            norm.bias.copy_(0.2 * torch.randn(norm.bias.shape, generator=generator))
            if norm.num_batches_tracked is not None:
                norm.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=generator)))
    return model.eval()


def toolbox_reference_forward(state: dict[str, Tensor], video: Tensor) -> Tensor:
    """rPPG-Toolbox's PhysNet in eval mode, written from the layer table of spec architectures.md §1, on its keys."""

    def bn(x: Tensor, name: str) -> Tensor:
        return F.batch_norm(
            x,
            state[f"{name}.1.running_mean"],
            state[f"{name}.1.running_var"],
            state[f"{name}.1.weight"],
            state[f"{name}.1.bias"],
            training=False,
        )

    def conv_block(x: Tensor, name: str, padding: int | tuple[int, int, int] = 1) -> Tensor:
        return F.relu(bn(F.conv3d(x, state[f"{name}.0.weight"], state[f"{name}.0.bias"], padding=padding), name))

    def up_block(x: Tensor, name: str) -> Tensor:
        x = F.conv_transpose3d(
            x, state[f"{name}.0.weight"], state[f"{name}.0.bias"], stride=(2, 1, 1), padding=(1, 0, 0)
        )
        return F.elu(bn(x, name))

    frames = video.shape[2]
    x = F.max_pool3d(conv_block(video, "ConvBlock1", (0, 2, 2)), (1, 2, 2), (1, 2, 2))
    x = conv_block(conv_block(x, "ConvBlock2"), "ConvBlock3")
    x = F.max_pool3d(x, 2, 2)
    x = conv_block(conv_block(x, "ConvBlock4"), "ConvBlock5")
    x = F.max_pool3d(x, 2, 2)
    x = conv_block(conv_block(x, "ConvBlock6"), "ConvBlock7")
    x = F.max_pool3d(x, (1, 2, 2), (1, 2, 2))
    x = conv_block(conv_block(x, "ConvBlock8"), "ConvBlock9")
    x = up_block(up_block(x, "upsample"), "upsample2")
    x = F.adaptive_avg_pool3d(x, (frames, 1, 1))
    x = F.conv3d(x, state["ConvBlock10.weight"], state["ConvBlock10.bias"])
    return x.view(-1, frames)


@pytest.fixture(scope="module")
def small() -> PhysNet:
    torch.manual_seed(0)
    return randomized(PhysNet(**SMALL))


@pytest.fixture(scope="module")
def video() -> Tensor:
    return torch.randn(2, 3, 8, 20, 18, generator=torch.Generator().manual_seed(1))


def test_toolbox_names_and_order_match_the_released_checkpoints() -> None:
    toolbox = to_rppg_toolbox_physnet(PhysNet().state_dict())
    assert list(toolbox) == toolbox_keys()
    assert toolbox["ConvBlock1.0.weight"].shape == (16, 3, 1, 5, 5)
    assert toolbox["ConvBlock2.0.weight"].shape == (32, 16, 3, 3, 3)
    assert toolbox["upsample2.0.weight"].shape == (64, 64, 4, 1, 1)
    assert toolbox["ConvBlock10.weight"].shape == (1, 64, 1, 1, 1)


def test_our_physnet_computes_the_toolbox_network(small: PhysNet, video: Tensor) -> None:
    toolbox = to_rppg_toolbox_physnet(small.state_dict(), model=small)
    reference = toolbox_reference_forward(toolbox, video)
    with torch.no_grad():
        ours = small(video)
    torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(ours[0], ours[1], atol=1e-2)  # the output depends on the input
    shuffled = dict(toolbox)  # a wrong mapping (two same-shaped blocks swapped) would be caught
    shuffled["ConvBlock4.0.weight"], shuffled["ConvBlock5.0.weight"] = (
        toolbox["ConvBlock5.0.weight"],
        toolbox["ConvBlock4.0.weight"],
    )
    assert not torch.allclose(toolbox_reference_forward(shuffled, video), reference, rtol=1e-3, atol=1e-4)


def test_round_trip_through_toolbox_keys(small: PhysNet, video: Tensor) -> None:
    state = small.state_dict()
    toolbox = to_rppg_toolbox_physnet(state, model=small)
    assert is_rppg_toolbox_physnet_state_dict(toolbox) and not is_rppg_toolbox_physnet_state_dict(state)
    back = convert_rppg_toolbox_physnet(toolbox, model=small)
    assert list(back) == list(state)
    assert all(back[k] is state[k] for k in state)  # renamed, not copied
    fresh = PhysNet(**SMALL).eval()
    with torch.no_grad():
        assert not torch.allclose(fresh(video), small(video), atol=1e-3)
        fresh.load_state_dict(toolbox)  # directly, in toolbox naming
        torch.testing.assert_close(fresh(video), small(video), rtol=0, atol=0)
    for key, value in fresh.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)


def test_data_parallel_prefix_is_accepted(small: PhysNet, video: Tensor) -> None:
    toolbox = to_rppg_toolbox_physnet(small.state_dict(), model=small)
    parallel = {f"module.{k}": v for k, v in toolbox.items()}
    assert is_rppg_toolbox_physnet_state_dict(parallel)
    assert list(convert_rppg_toolbox_physnet(parallel, model=small)) == list(small.state_dict())
    fresh = PhysNet(**SMALL).eval()
    fresh.load_state_dict(parallel)
    with torch.no_grad():
        torch.testing.assert_close(fresh(video), small(video), rtol=0, atol=0)
    ours_parallel = {f"module.{k}": v for k, v in small.state_dict().items()}
    assert list(to_rppg_toolbox_physnet(ours_parallel, model=small)) == list(toolbox)


@given(st.sampled_from(toolbox_keys()))
def test_missing_key_is_named(key: str) -> None:
    toolbox = to_rppg_toolbox_physnet(PhysNet().state_dict())
    del toolbox[key]
    with pytest.raises(ValueError, match=rf"^state_dict: .*; missing keys: '{key}'$"):
        convert_rppg_toolbox_physnet(toolbox)
    with pytest.raises(ValueError, match=f"missing keys: '{key}'"):
        PhysNet().load_state_dict(toolbox)


def test_extra_key_and_wrong_shape_are_named() -> None:
    toolbox = to_rppg_toolbox_physnet(PhysNet().state_dict())
    with pytest.raises(ValueError, match=r"^state_dict: .*; unexpected keys: 'ConvBlock11.weight', 'upsample.2.x'$"):
        convert_rppg_toolbox_physnet({**toolbox, "ConvBlock11.weight": torch.zeros(1), "upsample.2.x": torch.zeros(1)})
    bad = {**toolbox, "ConvBlock3.0.weight": torch.zeros(64, 32, 3, 3, 1)}
    with pytest.raises(
        ValueError, match=r"mismatches: 'ConvBlock3.0.weight': expected shape \(64, 32, 3, 3, 3\), got \("
    ):
        convert_rppg_toolbox_physnet(bad)
    with pytest.raises(ValueError, match=r"'ConvBlock10.bias': expected a tensor, got float"):
        convert_rppg_toolbox_physnet({**toolbox, "ConvBlock10.bias": 0.5})  # type: ignore[dict-item]
    del bad["ConvBlock1.0.bias"]
    bad["extra"] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"missing keys: 'ConvBlock1.0.bias'; unexpected keys: 'extra'; shape mism"):
        PhysNet().load_state_dict(bad, strict=False)  # a toolbox state dict is always checked whole
    mixed = {("module." + k if k.startswith("ConvBlock1.") else k): v for k, v in toolbox.items()}
    with pytest.raises(ValueError, match=r"missing keys: 'ConvBlock1.0.weight'.*unexpected keys: 'module.ConvBlock1"):
        convert_rppg_toolbox_physnet(mixed)
    with pytest.raises(TypeError, match="state_dict: expected a state dict"):
        convert_rppg_toolbox_physnet([("ConvBlock1.0.weight", torch.zeros(1))])  # type: ignore[arg-type]


def test_inverse_checks_our_names() -> None:
    state = PhysNet().state_dict()
    del state["decoder.1.1.running_var"]
    with pytest.raises(ValueError, match=r"^state_dict: .*rppgblocks.*; missing keys: 'decoder.1.1.running_var'$"):
        to_rppg_toolbox_physnet(state)
    with pytest.raises(ValueError, match=r"unexpected keys: 'ConvBlock1.0.weight'"):
        to_rppg_toolbox_physnet({**PhysNet().state_dict(), "ConvBlock1.0.weight": torch.zeros(1)})


def test_our_own_state_dicts_load_as_before(small: PhysNet, video: Tensor) -> None:
    fresh = PhysNet(**SMALL).eval()
    fresh.load_state_dict(small.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(fresh(video), small(video), rtol=0, atol=0)
    partial = {k: v for k, v in small.state_dict().items() if not k.startswith("head.")}
    assert fresh.load_state_dict(partial, strict=False).missing_keys == ["head.weight", "head.bias"]


def test_load_from_file_infers_the_configuration(small: PhysNet, video: Tensor, tmp_path: Path) -> None:
    path = tmp_path / "toolbox_physnet.pth"
    torch.save(to_rppg_toolbox_physnet(small.state_dict(), model=small), path)
    for source in (path, str(path), torch.load(path, weights_only=True)):
        model = load_rppg_toolbox_physnet(source)
        assert not model.training and model.width == SMALL["width"]
        with torch.no_grad():
            torch.testing.assert_close(model(video), small(video), rtol=0, atol=0)
    torch.save([1, 2], tmp_path / "list.pth")
    with pytest.raises(ValueError, match="path_or_state_dict: expected a checkpoint holding a state dict, got a list"):
        load_rppg_toolbox_physnet(tmp_path / "list.pth")


def test_rfacenet_bvp_branch_loads_toolbox_weights(video: Tensor) -> None:
    torch.manual_seed(0)
    donor = randomized(PhysNet(width=8))
    toolbox = to_rppg_toolbox_physnet(donor.state_dict(), model=donor)
    model = RFaceNet(
        num_identities=3, physnet_width=8, bvp_input_norm="none", ctfc_stage=None, identity_widths=(8, 8, 8, 8)
    ).eval()
    model.physnet.load_state_dict(toolbox)
    with torch.no_grad():
        expected = donor(video)
        torch.testing.assert_close(model.physnet(video), expected, rtol=0, atol=0)
        torch.testing.assert_close(model(video).bvp, expected, rtol=0, atol=0)
    # a full rFaceNet state dict whose BVP branch is in toolbox naming (physnet.ConvBlock1..., physnet.module.*)
    other = RFaceNet(
        num_identities=3, physnet_width=8, bvp_input_norm="none", ctfc_stage=None, identity_widths=(8, 8, 8, 8)
    ).eval()
    rest = {k: v for k, v in model.state_dict().items() if not k.startswith("physnet.")}
    other.load_state_dict({**rest, **{f"physnet.module.{k}": v for k, v in toolbox.items()}})
    with torch.no_grad():
        torch.testing.assert_close(other(video).bvp, expected, rtol=0, atol=0)
    del toolbox["ConvBlock7.1.weight"]
    message = r"^state_dict \(keys under 'physnet.'\): .*missing keys: 'ConvBlock7.1.weight'$"
    with pytest.raises(ValueError, match=message):
        other.load_state_dict({**rest, **{f"physnet.{k}": v for k, v in toolbox.items()}})


def test_loaded_model_exports_and_compiles(small: PhysNet, video: Tensor) -> None:
    model = load_rppg_toolbox_physnet(to_rppg_toolbox_physnet(small.state_dict(), model=small))
    with torch.no_grad():
        expected = model(video)
        exported = torch.export.export(model, (video,))
        torch.testing.assert_close(exported.module()(video), expected)
        compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
        torch.testing.assert_close(compiled(video), expected)


# --- the released checkpoint (runs only where the data is) ---------------------------------------------------------


def _checkpoint_dir() -> Path:
    root = os.environ.get("RPPGBLOCKS_REAL_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
    return base / "physnet_checkpoint"


@pytest.fixture(scope="module")
def released() -> tuple[Path, Tensor, Tensor]:
    directory = _checkpoint_dir()
    checkpoint, reference = directory / "PURE_PhysNet_DiffNormalized.pth", directory / "reference_io.npz"
    if not (checkpoint.exists() and reference.exists()):
        pytest.skip(f"rPPG-Toolbox PhysNet checkpoint not found in {directory} (set RPPGBLOCKS_REAL_DATA)")
    with np.load(reference) as data:
        video = torch.from_numpy(data["input_float16"]).float()
        bvp = torch.from_numpy(data["bvp"])
    return checkpoint, video, bvp


def relative_max_error(ours: Tensor, reference: Tensor) -> float:
    """max |ours - reference| / max |reference|, over the whole batch."""
    return float((ours - reference).abs().max() / reference.abs().max())


def test_released_checkpoint_reproduces_toolbox_bvp(released: tuple[Path, Tensor, Tensor]) -> None:
    path, video, bvp = released
    model = load_rppg_toolbox_physnet(path)
    with torch.no_grad():
        ours = model(video)
    assert ours.shape == bvp.shape == (2, 128)
    assert relative_max_error(ours, bvp) <= PARITY_TOLERANCE
    assert relative_max_error(PhysNet().eval()(video).detach(), bvp) > 0.1  # the weights matter


def test_released_checkpoint_in_rfacenet_bvp_branch(released: tuple[Path, Tensor, Tensor]) -> None:
    path, video, bvp = released
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = RFaceNet(num_identities=8, bvp_input_norm="none").eval()
    model.physnet.load_state_dict(state)
    with torch.no_grad():
        assert relative_max_error(model.physnet(video), bvp) <= PARITY_TOLERANCE
        # the whole model too: its CTFC (after stage 3) starts as the identity map, so until it is trained the BVP
        # output is the toolbox network's
        assert relative_max_error(model(video).bvp, bvp) <= PARITY_TOLERANCE
