"""Tests for LGI (Pilz et al., CVPRW 2018): rppgblocks.classical.lgi.

The contracts shared by all classical methods are in test_contracts.py.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.classical import lgi


def lgi_reference(rgb: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The green row of (I - u u^T) X, u the leading left singular vector of X (numpy SVD; the oracle)."""
    u = np.linalg.svd(rgb, full_matrices=False)[0][:, 0]
    projected = (np.eye(3) - np.outer(u, u)) @ rgb
    return projected[1]


class TestLGI:
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
        out = lgi(torch.as_tensor(rgb)).numpy()
        expected = np.stack([lgi_reference(r) for r in rgb])
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-10 * scale)

    @given(n_frames=st.integers(2, 60), seed=st.integers(0, 2**32 - 1))
    def test_equivariant_to_reordering_frames(self, n_frames: int, seed: int) -> None:
        # the dominant direction depends on the set of frames, not on their order
        gen = torch.Generator().manual_seed(seed)
        rgb = 0.2 + torch.rand(2, 3, n_frames, generator=gen, dtype=torch.float64)
        order = torch.randperm(n_frames, generator=gen)
        torch.testing.assert_close(lgi(rgb[..., order]), lgi(rgb)[..., order])
