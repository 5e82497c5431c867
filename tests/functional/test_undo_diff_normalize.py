from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import ShapeError
from rppgblocks.functional.detrend import detrend_smoothness_priors
from rppgblocks.functional.normalization import undo_diff_normalize
from rppgblocks.functional.pearson import pearson_correlation


def _diff_normalized_label(y: torch.Tensor) -> torch.Tensor:
    """rPPG-Toolbox's DiffNormalized label (spec datasets.md §4.3): diff, / std (ddof 0), append one 0."""
    d = y.diff(dim=-1)
    d = d / d.std(dim=-1, correction=0, keepdim=True)
    return torch.cat([d, torch.zeros_like(d[:, :1])], dim=-1)


def _bvp(n: int, fs: float, hr_bpm: float, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(n, dtype=torch.float64) / fs
    w = 2 * math.pi * hr_bpm / 60
    pulse = torch.sin(w * t) + 0.4 * torch.sin(2 * w * t + 1.0)
    drift = 0.5 * torch.randn(n, generator=gen, dtype=torch.float64).cumsum(0) / math.sqrt(n)  # baseline wander
    return (pulse + drift + 3.0)[None]


@given(n=st.integers(4, 400), seed=st.integers(0, 2**16))
def test_inverts_the_diff_normalized_label_up_to_offset_scale_and_one_sample_lead(n: int, seed: int) -> None:
    y = torch.randn(2, n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    d = _diff_normalized_label(y)
    sigma = y.diff(dim=-1).std(dim=-1, correction=0, keepdim=True)
    recovered = undo_diff_normalize(d)
    torch.testing.assert_close(recovered[:, :-1] * sigma + y[:, :1], y[:, 1:])
    torch.testing.assert_close(recovered[:, -1], recovered[:, -2])


@given(hr=st.floats(45.0, 180.0), seed=st.integers(0, 2**16))
def test_recovers_the_pulse_after_detrending(hr: float, seed: int) -> None:
    fs, n = 30.0, 900
    y = _bvp(n, fs, hr, seed)
    recovered = detrend_smoothness_priors(undo_diff_normalize(_diff_normalized_label(y)))
    original = detrend_smoothness_priors(y)
    # aligned: the inverse leads the original by one sample
    r = pearson_correlation(recovered[:, :-1], original[:, 1:])
    assert float(r[0]) > 0.999


def test_dtype_compile_export_and_errors() -> None:
    x = torch.randn(2, 50)
    assert undo_diff_normalize(x.half()).dtype == torch.float16
    torch.testing.assert_close(undo_diff_normalize(x.half()), x.half().float().cumsum(-1).half(), atol=0, rtol=0)
    module = _Undo()
    torch.testing.assert_close(torch.compile(module, fullgraph=True, backend="aot_eager")(x), module(x))
    torch.testing.assert_close(torch.export.export(module, (x,)).module()(x), module(x))
    small = torch.randn(2, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(undo_diff_normalize, (small,))
    with pytest.raises(ShapeError, match="signal"):
        undo_diff_normalize(torch.randn(2, 3, 4))


class _Undo(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return undo_diff_normalize(x)
