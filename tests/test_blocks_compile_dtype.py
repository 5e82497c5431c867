"""Every public block: torch.compile(fullgraph=True) and torch.export equal eager; CPU/CUDA x float32/16/bf16."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from rppgblocks import (
    CTFC,
    FFTHeartRateHead,
    NegPearsonLoss,
    TemporalCompressor,
    UncertaintyMultiTaskLoss,
)
from rppgblocks.classical import POS


class _Normalize(nn.Module):
    """Wraps a clip normalisation so that it can be compiled and exported like a module."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        return self.fn(video)


class _Uncertainty(nn.Module):
    """UncertaintyMultiTaskLoss with tensor arguments (export takes tensors, not dicts of scalars)."""

    def __init__(self) -> None:
        super().__init__()
        self.loss = UncertaintyMultiTaskLoss({"bvp": "regression", "identity": "classification"})

    def forward(self, bvp: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
        return self.loss({"bvp": bvp, "identity": identity}).total


@dataclass
class Case:
    name: str
    make: Callable[[], nn.Module]
    inputs: Callable[[], tuple[torch.Tensor, ...]]


def _signals() -> tuple[torch.Tensor, ...]:
    t = torch.arange(160) / 30.0
    return (torch.stack([torch.sin(2 * torch.pi * f * t) for f in (1.1, 1.7)]) + 0.1 * torch.randn(2, 160),)


class _Quadrants(nn.Module):
    def forward(self, features: torch.Tensor) -> torch.Tensor:
        from rppgblocks.functional import split_quadrants

        return split_quadrants(features)


def _cases() -> list[Case]:
    from rppgblocks.functional import center_over_time, diff_normalize, standardize
    from rppgblocks.layers import SkinAttention, SkinSegmentationBranch, SpatioTemporalConv, STBlock

    return [
        Case("spatio_temporal_conv", lambda: SpatioTemporalConv(3, 4), lambda: (torch.rand(2, 3, 4, 6, 6),)),
        Case("st_block", lambda: STBlock(3, 4), lambda: (torch.rand(2, 3, 4, 6, 6),)),
        Case("skin_segmentation", lambda: SkinSegmentationBranch(8), lambda: (torch.rand(2, 8, 4, 6, 6),)),
        Case("skin_attention", SkinAttention, lambda: (torch.randn(2, 5, 4, 6, 6), torch.rand(2, 4, 6, 6))),
        Case("split_quadrants", _Quadrants, lambda: (torch.randn(2, 3, 4, 6, 6),)),
        Case("temporal_compressor", lambda: TemporalCompressor(2.0), lambda: (torch.rand(2, 3, 8, 9, 9),)),
        Case(
            "ctfc",
            lambda: CTFC(8, 4, learnable_weights=True),
            lambda: (torch.rand(2, 8, 3, 3), torch.rand(2, 4, 4, 6, 6)),
        ),
        Case("fft_hr_hard", lambda: FFTHeartRateHead(30.0), _signals),
        Case("fft_hr_soft", lambda: FFTHeartRateHead(30.0, soft=True), _signals),
        Case("neg_pearson", NegPearsonLoss, lambda: (torch.randn(2, 64), torch.randn(2, 64))),
        Case("uncertainty", _Uncertainty, lambda: (torch.tensor(0.7), torch.tensor(1.9))),
        Case("pos", lambda: POS(30.0), lambda: (torch.rand(2, 3, 90) + 0.5,)),
        Case("center_over_time", lambda: _Normalize(center_over_time), lambda: (torch.rand(2, 3, 8, 5, 5),)),
        Case("diff_normalize", lambda: _Normalize(diff_normalize), lambda: (torch.rand(2, 3, 8, 5, 5) + 0.1,)),
        Case("standardize", lambda: _Normalize(standardize), lambda: (torch.rand(2, 3, 8, 5, 5),)),
    ]


CASES = _cases()
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _with_ctfc_identity_path(module: nn.Module) -> nn.Module:
    """A trained-like CTFC: its zero-initialised identity convolution made non-zero, so both inputs matter."""
    if isinstance(module, CTFC):
        with torch.no_grad():
            module.identity_conv.weight.normal_()
    return module


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_compile_fullgraph_and_export_match_eager(case: Case) -> None:
    torch.manual_seed(0)
    module = _with_ctfc_identity_path(case.make()).eval()
    inputs = case.inputs()
    eager = module(*inputs)
    compiled = torch.compile(module, fullgraph=True, backend="aot_eager")(*inputs)
    exported = torch.export.export(module, inputs).module()(*inputs)
    torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(exported, eager, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CASES if c.name in ("ctfc", "fft_hr_soft", "pos")], ids=lambda c: c.name)
def test_inductor_matches_eager(case: Case) -> None:
    torch.manual_seed(0)
    module = _with_ctfc_identity_path(case.make()).eval()
    inputs = case.inputs()
    torch.testing.assert_close(torch.compile(module, fullgraph=True)(*inputs), module(*inputs), rtol=1e-4, atol=1e-5)


@torch.no_grad()
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_devices_and_dtypes(case: Case, dtype: torch.dtype, device: str) -> None:
    torch.manual_seed(0)
    module = _with_ctfc_identity_path(case.make()).eval()
    inputs = case.inputs()
    reference = module(*inputs).float()
    module = module.to(device=device, dtype=dtype)
    cast = tuple(x.to(device=device, dtype=dtype) if x.is_floating_point() else x.to(device) for x in inputs)
    out = module(*cast)
    assert out.device.type == device
    assert torch.isfinite(out).all()
    tolerance = {torch.float32: 1e-4, torch.float16: 3e-2, torch.bfloat16: 1e-1}[dtype]
    scale = reference.abs().max().clamp_min(1.0)
    if case.name.startswith("fft_hr"):
        tolerance = {torch.float32: 1e-3, torch.float16: 1.0, torch.bfloat16: 3.0}[dtype]  # bpm
        scale = torch.tensor(1.0)
    assert float((out.float().cpu() - reference).abs().max()) <= tolerance * float(scale)


@torch.no_grad()
@pytest.mark.parametrize("case", [c for c in CASES if c.name != "uncertainty"], ids=lambda c: c.name)
def test_batched_equals_per_sample_stacked(case: Case) -> None:
    torch.manual_seed(0)
    module = _with_ctfc_identity_path(case.make()).eval()
    inputs = case.inputs()
    if case.name == "neg_pearson":
        module = NegPearsonLoss("none")
    batched = module(*inputs)
    stacked = torch.cat([module(*(x[i : i + 1] for x in inputs)) for i in range(inputs[0].shape[0])])
    torch.testing.assert_close(batched, stacked)


def test_uncertainty_term_gradcheck() -> None:
    from rppgblocks.losses import uncertainty_weighted_term

    loss = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    s = torch.tensor(-0.3, dtype=torch.float64, requires_grad=True)
    for kind in ("regression", "classification"):
        assert torch.autograd.gradcheck(lambda a, b, k=kind: uncertainty_weighted_term(a, b, kind=k), (loss, s))
