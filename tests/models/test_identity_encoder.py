from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import IdentityEncoder, ShapeError


@given(st.integers(1, 3), st.integers(32, 80), st.integers(1, 4), st.integers(2, 6))
def test_shapes(b: int, size: int, tap: int, classes: int) -> None:
    enc = IdentityEncoder(classes, widths=(4, 8, 8, 16), depths=(1, 1, 1, 1), tap_stage=tap).eval()
    out = enc(torch.randn(b, 3, size, size))
    assert out.logits.shape == (b, classes)
    assert out.feature_map.shape[:2] == (b, enc.feature_channels)
    stride = IdentityEncoder.stage_stride(tap)
    assert abs(out.feature_map.shape[-1] - size / stride) <= 1


def test_gradients_and_errors() -> None:
    enc = IdentityEncoder(3, widths=(4, 8), depths=(1, 1), tap_stage=1)
    image = torch.randn(2, 3, 32, 32, requires_grad=True)
    out = enc(image)
    (out.logits.sum() + out.feature_map.sum()).backward()
    for name, p in enc.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert image.grad is not None
    with pytest.raises(ShapeError, match=r"image: expected shape \(b 3 h w\), got \(2, 1, 32, 32\)"):
        enc(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match="tap_stage"):
        IdentityEncoder(3, tap_stage=5)
    with pytest.raises(ValueError, match="widths, depths"):
        IdentityEncoder(3, widths=(4, 8), depths=(1,))
