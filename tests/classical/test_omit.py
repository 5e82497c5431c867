"""Tests for OMIT (Álvarez Casado and Bordallo López, IEEE JBHI 2023): rppgblocks.classical.omit.

The contracts shared by all classical methods are in test_contracts.py.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.classical import omit


def omit_reference(rgb: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The green row of (I - q q^T) X, q the first column of Q in X = QR (numpy QR; the oracle)."""
    u = np.linalg.qr(rgb)[0][:, 0]
    projected = (np.eye(3) - np.outer(u, u)) @ rgb
    return projected[1]


class TestOMIT:
    @given(
        batch=st.integers(1, 3),
        n_frames=st.integers(2, 120),
        scale=st.sampled_from([1.0, 255.0]),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_matches_the_paper(self, batch: int, n_frames: int, scale: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        rgb = rng.uniform(0.1, 0.9, size=(batch, 3, 1)) * (1 + 0.05 * rng.standard_normal((batch, 3, n_frames)))
        rgb = scale * rgb
        out = omit(torch.as_tensor(rgb)).numpy()
        expected = np.stack([omit_reference(r) for r in rgb])
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-10 * scale)

    @given(n_frames=st.integers(2, 60), seed=st.integers(0, 2**32 - 1))
    def test_projects_out_the_first_frames_colour(self, n_frames: int, seed: int) -> None:
        # R is upper triangular, so Q's first column is the first frame's colour, normalised
        gen = torch.Generator().manual_seed(seed)
        rgb = 0.2 + torch.rand(2, 3, n_frames, generator=gen, dtype=torch.float64)
        q = rgb[..., 0] / rgb[..., 0].norm(dim=-1, keepdim=True)
        expected = rgb[:, 1] - q[:, 1, None] * torch.einsum("bc,bct->bt", q, rgb)
        torch.testing.assert_close(omit(rgb), expected)
        assert float(omit(rgb)[:, 0].abs().max()) < 1e-12  # the first frame itself projects to 0
