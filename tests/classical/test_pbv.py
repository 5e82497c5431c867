"""Tests for PBV (de Haan and van Leest, Physiol. Meas. 35(9), 2014): rppgblocks.classical.pbv.

The contracts shared by all classical methods are in test_contracts.py.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.classical import DEFAULT_PBV_SIGNATURE, DEFAULT_PBV_WINDOW_S, PBV, pbv


def pbv_reference(
    rgb: npt.NDArray[np.float64], fs: float, window_s: float, signature: tuple[float, float, float]
) -> npt.NDArray[np.float64]:
    """W_PBV = k P_bv^T Q^-1 per interval, W_PBV P_bv = 1, Hann overlap-add, as a loop (the test oracle)."""
    n_frames = rgb.shape[1]
    length = 2 * math.ceil(round(window_s * fs / 2, 9))
    hop = length // 2
    p_bv = np.asarray(signature)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)
    out = np.zeros(n_frames)
    for start in range(0, n_frames - length + 1, hop):
        c = rgb[:, start : start + length]
        cn = c / c.mean(axis=1, keepdims=True) - 1
        q = cn @ cn.T
        w = np.linalg.solve(q, p_bv)
        out[start : start + length] += (w @ cn) / (p_bv @ w) * hann
    return out


class TestPBV:
    @given(seed=st.integers(0, 2**32 - 1))
    def test_unit_gain_along_the_signature(self, seed: int) -> None:
        # W_PBV P_bv = 1: a pulse of relative amplitude p(t) along P_bv, under a light change 5x stronger, comes
        # out as p(t) (its relative change in each interval, Hann-tapered and overlap-added), amplitude included
        fs, n, length = 30.0, 300, 48
        t = np.arange(n) / fs
        p = 0.01 * np.sin(2 * np.pi * 1.3 * t)
        light = 1 + 0.05 * np.sin(2 * np.pi * 0.4 * t + 1.0)
        noise = 3e-4 * np.random.default_rng(seed).standard_normal((3, n))
        rgb = light * np.array([150.0, 100.0, 80.0])[:, None] * (1 + np.outer(DEFAULT_PBV_SIGNATURE, p) + noise)
        out = pbv(torch.as_tensor(rgb)[None], fs)[0].numpy()
        hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)
        expected = np.zeros(n)
        for start in range(0, n - length + 1, length // 2):
            window = 1 + p[start : start + length]
            expected[start : start + length] += (window / window.mean() - 1) * hann
        inner = slice(length // 2, n - length // 2)  # where two intervals overlap and the Hann windows sum to 1
        assert np.corrcoef(out[inner], expected[inner])[0, 1] > 0.95
        assert 0.9 < np.std(out[inner]) / np.std(expected[inner]) < 1.1

    @given(
        batch=st.integers(1, 3),
        n_frames=st.integers(8, 120),
        fs=st.floats(15.0, 60.0),
        window_s=st.floats(0.2, 2.0),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_matches_the_paper(self, batch: int, n_frames: int, fs: float, window_s: float, seed: int) -> None:
        length = 2 * math.ceil(round(window_s * fs / 2, 9))
        rng = np.random.default_rng(seed)
        rgb = rng.uniform(20, 230, size=(batch, 3, 1)) * (1 + 0.02 * rng.standard_normal((batch, 3, n_frames)))
        if length < 4 or length > n_frames:
            with pytest.raises(ValueError, match=r"window_s|rgb: has T="):
                pbv(torch.as_tensor(rgb), fs, window_s=window_s)
            return
        signature = (0.3, 0.8, 0.5)
        out = pbv(torch.as_tensor(rgb), fs, window_s=window_s, signature=signature).numpy()
        expected = np.stack([pbv_reference(r, fs, window_s, signature) for r in rgb])
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-9 * np.abs(expected).max())

    def test_interval_length(self) -> None:
        assert PBV(30.0).window_length == 48
        assert PBV(15.0, window_s=1.5).window_length == 24
        assert DEFAULT_PBV_WINDOW_S == 1.6
        assert DEFAULT_PBV_SIGNATURE == (0.33, 0.77, 0.53)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"window_s": float("inf")}, r"window_s: expected a finite number > 0, got inf"),
            ({"window_s": 0.05}, r"window_s: window_s=0.05 s at fs=30.0 Hz gives a window of 2 frames; PBV needs"),
            ({"signature": (0.0, 0.0, 0.0)}, r"signature: expected 3 finite numbers \(R, G, B\), not all 0"),
            ({"signature": (0.3, 0.8)}, r"signature: expected 3 finite numbers"),
            ({"signature": (0.3, float("nan"), 0.5)}, r"signature: expected 3 finite numbers"),
            ({"signature": "rgb"}, r"signature: expected 3 finite numbers"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], match: str) -> None:
        with pytest.raises(ValueError, match=match):
            pbv(torch.rand(1, 3, 100) + 1, 30.0, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=match):
            PBV(30.0, **kwargs)  # type: ignore[arg-type]
