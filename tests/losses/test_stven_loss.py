"""STVEN's reconstruction, cycle and joint STVEN + rPPGNet losses: zeros, signs, gradients, errors.

The STVEN modules are imported inside the tests (see ``tests/models/test_stven.py`` for why).
"""

from __future__ import annotations

import copy
import importlib
import itertools
from types import ModuleType

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.errors import ShapeError
from rppgblocks.models.rppgnet import RPPGNet, RPPGNetOutput

videos = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5))


def _losses() -> ModuleType:
    return importlib.import_module("rppgblocks.losses.stven_loss")


def _stven(**kwargs: object) -> torch.nn.Module:
    return importlib.import_module("rppgblocks.models.stven").STVEN(**kwargs)


@given(videos, st.floats(0.0, 2.0))
def test_reconstruction_and_cycle_losses_follow_their_formulas(size: tuple[int, ...], scale: float) -> None:
    m = _losses()
    original, compressed = torch.randn(*size), torch.randn(*size)
    assert float(m.stven_reconstruction_loss(original, compressed, original, compressed)) == 0.0
    assert float(m.stven_cycle_loss(compressed, original, original, compressed)) == 0.0
    noise_a, noise_b = scale * torch.randn(*size), scale * torch.randn(*size)
    rec = m.stven_reconstruction_loss(original + noise_a, compressed + noise_b, original, compressed)
    torch.testing.assert_close(rec, noise_a.square().mean() + noise_b.abs().mean())
    cyc = m.stven_cycle_loss(compressed + noise_a, original + noise_b, original, compressed)
    torch.testing.assert_close(cyc, noise_a.abs().mean() + noise_b.abs().mean())


def test_stven_cycle_runs_both_directions_and_both_cycles() -> None:
    m = _losses()
    torch.manual_seed(0)
    net = _stven(num_levels=3, channels=(4, 4, 4), num_blocks=1).eval()
    original, compressed = torch.rand(2, 3, 4, 8, 8), torch.rand(2, 3, 4, 8, 8)
    level = torch.tensor([1, 2])
    with torch.no_grad():
        cycle = m.stven_cycle(net, original, compressed, level)
        torch.testing.assert_close(cycle.restored, net(compressed, 0))
        torch.testing.assert_close(cycle.degraded, net(original, level))
        torch.testing.assert_close(cycle.restored_cycle, net(net(compressed, 0), level))
        torch.testing.assert_close(cycle.degraded_cycle, net(net(original, level), 0))


def test_stven_loss_is_zero_for_perfect_outputs_and_grows_with_the_error() -> None:
    m = _losses()
    original, compressed = torch.rand(2, 3, 4, 8, 8), torch.rand(2, 3, 4, 8, 8)
    criterion = m.STVENLoss(reconstruction_weight=2.0, cycle_weight=0.5)
    perfect = m.STVENCycle(original, compressed, compressed, original)
    assert float(criterion(perfect, original, compressed).total) == 0.0
    noise = [torch.randn_like(original) for _ in range(4)]
    totals = []
    for alpha in (1.0, 0.5, 0.1):
        result = criterion(
            m.STVENCycle(*(p + alpha * n for p, n in zip(perfect, noise, strict=True))), original, compressed
        )
        torch.testing.assert_close(result.total, sum(result.terms.values()))
        totals.append(float(result.total))
    assert totals[0] > totals[1] > totals[2] > 0


def test_stven_loss_trains_the_network() -> None:
    m = _losses()
    torch.manual_seed(0)
    net = _stven(num_levels=3, channels=(4, 4, 4), num_blocks=1)
    original = torch.rand(2, 3, 4, 8, 8) * 2 - 1
    compressed = original + 0.1 * torch.randn_like(original)
    result = m.STVENLoss()(m.stven_cycle(net, original, compressed, 2), original, compressed)
    result.total.backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


# -- joint STVEN + rPPGNet loss -------------------------------------------------------------------------------------


def _fake_output(b: int = 2, t: int = 16, seed: int = 0) -> RPPGNetOutput:
    g = torch.Generator().manual_seed(seed)
    skin = torch.rand(b, t, 8, 8, generator=g)
    return RPPGNetOutput(
        bvp=torch.randn(b, t, generator=g),
        bvp_mid=torch.randn(b, t, generator=g),
        bvp_parts=torch.randn(b, 4, t, generator=g),
        skin=skin,
        skin_logits=torch.logit(skin.clamp(1e-3, 1 - 1e-3)),
        stage1_features=torch.randn(b, 5, t, 8, 8, generator=g),
        stage2_features=torch.randn(b, 6, t, 4, 4, generator=g),
    )


def _towards(reference: RPPGNetOutput, other: RPPGNetOutput, alpha: float) -> RPPGNetOutput:
    """``reference + alpha * (other - reference)`` field by field (alpha = 0 is the reference)."""
    return RPPGNetOutput(*(r + alpha * (o - r) for r, o in zip(reference, other, strict=True)))


def test_perceptual_loss_is_zero_for_equal_outputs_and_decreases_towards_the_reference() -> None:
    m = _losses()
    criterion = m.STVENRPPGNetLoss()
    reference, far = _fake_output(seed=0), _fake_output(seed=1)
    terms = criterion.perceptual(reference, reference)
    assert sorted(terms) == sorted(
        ["perceptual_skin", "perceptual_stage1", "perceptual_stage2", "perceptual_bvp"]
        + [f"perceptual_part{i}" for i in range(1, 5)]
    )
    assert max(abs(float(v)) for v in terms.values()) < 1e-6
    previous = {name: float("inf") for name in terms}
    for alpha in (1.0, 0.6, 0.3, 0.1):
        current = {k: float(v) for k, v in criterion.perceptual(_towards(reference, far, alpha), reference).items()}
        for name, value in current.items():
            assert value < previous[name], (name, alpha)
        previous = current


def test_perceptual_weights_and_the_mid_signal_is_excluded() -> None:
    m = _losses()
    reference, other = _fake_output(seed=0), _fake_output(seed=1)
    mixed = reference._replace(bvp_mid=other.bvp_mid, skin=other.skin)
    terms = m.STVENRPPGNetLoss(skin_weight=0.1).perceptual(mixed, reference)
    torch.testing.assert_close(terms["perceptual_skin"], 0.1 * F.mse_loss(other.skin, reference.skin))
    assert all(float(v) < 1e-6 for k, v in terms.items() if k != "perceptual_skin")


def test_reference_output_is_a_constant_target() -> None:
    m = _losses()
    reference = RPPGNetOutput(*(t.clone().requires_grad_(True) for t in _fake_output(seed=0)))
    enhanced = RPPGNetOutput(*(t.clone().requires_grad_(True) for t in _fake_output(seed=1)))
    sum(m.STVENRPPGNetLoss().perceptual(enhanced, reference).values()).backward()
    assert all(t.grad is None for t in reference)
    assert enhanced.bvp.grad is not None and enhanced.bvp.grad.abs().max() > 0


@pytest.mark.parametrize("fidelity", ["neg_psnr", "mse"])
def test_stven_term_decreases_as_the_enhanced_clip_approaches_the_original(fidelity: str) -> None:
    """The sign fix: the released scripts' +PSNR term would *increase* here."""
    m = _losses()
    criterion = m.STVENRPPGNetLoss(fidelity=fidelity)
    original = torch.rand(2, 3, 4, 8, 8)
    noise = torch.randn_like(original)
    values, released = [], []
    for alpha in (0.5, 0.2, 0.05, 0.01, 0.0):
        enhanced = original + alpha * noise
        values.append(float(criterion.fidelity_loss(enhanced, original)))
        mse = (enhanced - original).square().mean()
        released.append(float(100 * (enhanced - original).abs().mean() + 10 * torch.log10(1 / (mse + 1e-7))))
    assert all(a > b for a, b in itertools.pairwise(values))
    assert released[-1] > released[-2]  # the released sign rewards moving away from the original near the optimum
    expected_min = -70.0 if fidelity == "neg_psnr" else 0.0
    assert values[-1] == pytest.approx(expected_min, abs=1e-4)


def test_joint_loss_with_real_networks_reaches_stven_and_not_the_reference() -> None:
    m = _losses()
    torch.manual_seed(0)
    stven = _stven(num_levels=3, channels=(4, 4, 4), num_blocks=1)
    rppgnet = RPPGNet(stem_channels=4, stage1_channels=6, width=8, skin_hidden_channels=(4, 3))
    reference = copy.deepcopy(rppgnet).eval().requires_grad_(False)
    original = torch.rand(2, 3, 4, 32, 32)
    compressed = original + 0.05 * torch.randn_like(original)
    enhanced = stven(compressed, 0)
    with torch.no_grad():
        reference_output = reference(original)
    target, skin = torch.randn(2, 4), torch.randint(0, 2, (2, 4, 16, 16)).float()
    criterion = m.STVENRPPGNetLoss()
    result = criterion(rppgnet(enhanced), reference_output, enhanced, original, target, skin)
    torch.testing.assert_close(result.total, sum(result.terms.values()))
    torch.testing.assert_close(result.perceptual, sum(v for k, v in result.terms.items() if k.startswith("perc")))
    torch.testing.assert_close(result.terms["rppgnet"], result.rppgnet.total)
    torch.testing.assert_close(result.terms["stven"], 1e-4 * criterion.fidelity_loss(enhanced, original))
    result.total.backward()
    for name, p in stven.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert all(p.grad is None for p in reference.parameters())


def test_errors() -> None:
    m = _losses()
    with pytest.raises(ValueError, match="cycle_weight: expected a finite number >= 0, got -1"):
        m.STVENLoss(cycle_weight=-1)
    with pytest.raises(ValueError, match="fidelity: expected 'neg_psnr' or 'mse', got 'psnr'"):
        m.STVENRPPGNetLoss(fidelity="psnr")
    with pytest.raises(ValueError, match="stven_weight"):
        m.STVENRPPGNetLoss(stven_weight=float("nan"))
    a, b = torch.zeros(1, 3, 2, 4, 4), torch.zeros(1, 3, 2, 4, 6)
    with pytest.raises(ShapeError, match=r"compressed: expected shape \(1, 3, 2, 4, 4\), got \(1, 3, 2, 4, 6\)"):
        m.stven_reconstruction_loss(a, a, a, b)
    with pytest.raises(ShapeError, match=r"original: expected shape \(b c t h w\), got \(3, 2, 4, 4\)"):
        m.stven_cycle_loss(a, a, a[0], a)
    small = _fake_output(t=8)
    with pytest.raises(ShapeError, match=r"reference_output.bvp: expected shape \(2, 16\), got \(2, 8\)"):
        m.STVENRPPGNetLoss().perceptual(_fake_output(), small)
