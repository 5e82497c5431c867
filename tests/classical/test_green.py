"""Tests for GREEN (Verkruysse et al., Optics Express 16(26), 2008): rppgblocks.classical.green.

The contracts shared by all classical methods are in test_contracts.py.
"""

from __future__ import annotations

import torch

from rppgblocks.classical import green


class TestGreen:
    def test_formula(self) -> None:
        gen = torch.Generator().manual_seed(0)
        rgb = 50 + 100 * torch.rand(3, 3, 40, generator=gen, dtype=torch.float64)
        expected = rgb[:, 1] / rgb[:, 1].mean(dim=-1, keepdim=True) - 1
        torch.testing.assert_close(green(rgb), expected, rtol=0, atol=1e-15)

    def test_only_green_matters(self) -> None:
        gen = torch.Generator().manual_seed(1)
        rgb = 1 + torch.rand(2, 3, 30, generator=gen)
        other = rgb.clone()
        other[:, [0, 2]] = torch.rand(2, 2, 30, generator=gen)
        torch.testing.assert_close(green(other), green(rgb), rtol=0, atol=0)
