"""Tests for POS (Wang et al., IEEE TBME 64(7), 2017, Algorithm 1): rppgblocks.classical.pos.

The contracts shared by all classical methods are in test_contracts.py.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rppgblocks.classical import DEFAULT_POS_WINDOW_S, POS, pos
from rppgblocks.functional import fft_heart_rate

FAST = settings(max_examples=12, deadline=None, derandomize=True)


def pos_reference(rgb: npt.NDArray[np.float64], fs: float, window_s: float) -> npt.NDArray[np.float64]:
    """Algorithm 1 of the paper, written as a loop over windows with numpy (the test oracle)."""
    n_frames = rgb.shape[1]
    length = math.ceil(round(window_s * fs, 9))
    projection = np.array([[0.0, 1.0, -1.0], [-2.0, 1.0, 1.0]])
    out = np.zeros(n_frames)
    for end in range(length, n_frames + 1):
        start = end - length
        c = rgb[:, start:end]
        cn = c / c.mean(axis=1, keepdims=True)
        s = projection @ cn
        h = s[0] + (s[0].std(ddof=1) / s[1].std(ddof=1)) * s[1]
        out[start:end] += h - h.mean()
    return out


class TestPOS:
    @FAST
    @given(hr_bpm=st.floats(50.0, 150.0), seed=st.integers(0, 2**32 - 1))
    def test_cancels_in_band_intensity_flicker(self, skin_trace, hr_bpm: float, seed: int) -> None:
        # A light flicker 10x stronger than the pulse, inside the HR band, 30 bpm away from it: the green channel
        # alone reports the flicker; POS projects it out (it lies along the skin tone) and reports the pulse.
        fs = 30.0
        flicker_hz = (hr_bpm + 30.0) / 60.0
        rgb, _ = skin_trace(seed, fs, hr_bpm, intensity=0.1, flicker_hz=flicker_hz)
        x = torch.as_tensor(rgb, dtype=torch.float32)[None]
        assert abs(float(fft_heart_rate(x[:, 1], fs)[0]) - 60 * flicker_hz) < 1.5
        assert abs(float(fft_heart_rate(pos(x, fs), fs)[0]) - hr_bpm) < 1.5

    @FAST
    @given(
        batch=st.integers(1, 3),
        n_frames=st.integers(4, 90),
        fs=st.floats(5.0, 60.0),
        window_s=st.floats(0.2, 2.0),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_matches_algorithm_1(self, batch: int, n_frames: int, fs: float, window_s: float, seed: int) -> None:
        length = math.ceil(round(window_s * fs, 9))
        if not 2 <= length <= n_frames:
            with pytest.raises(ValueError, match="window"):
                pos(torch.rand(batch, 3, n_frames, dtype=torch.float64) + 0.5, fs, window_s=window_s)
            return
        rng = np.random.default_rng(seed)
        rgb = rng.uniform(20, 230, size=(batch, 3, 1)) * (1 + 0.02 * rng.standard_normal((batch, 3, n_frames)))
        out = pos(torch.as_tensor(rgb), fs, window_s=window_s).numpy()
        expected = np.stack([pos_reference(r, fs, window_s) for r in rgb])
        np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-12)

    def test_window_length_is_ceil_of_seconds_times_fs(self) -> None:
        # 1.6 s at 30 Hz is 48 frames (1.6 * 30 = 48.000000000000007 in floating point); at 20 Hz the paper's 32.
        assert POS(30.0).window_length == 48
        assert POS(20.0).window_length == 32
        assert POS(25.0).window_length == 40
        assert POS(29.97).window_length == 48  # 47.952 -> 48
        assert DEFAULT_POS_WINDOW_S == 1.6
        # (that a window covers exactly `window_length` frames is test_contracts.py's test_too_few_frames)

    @pytest.mark.parametrize("window_s", [0.0, -1.6, float("nan"), float("inf")])
    def test_bad_window(self, window_s: float) -> None:
        with pytest.raises(ValueError, match=r"window_s: expected a finite number > 0, got"):
            pos(torch.rand(1, 3, 50), 20.0, window_s=window_s)
        with pytest.raises(ValueError, match=r"window_s: expected a finite number > 0, got"):
            POS(20.0, window_s=window_s)

    def test_window_of_one_frame(self) -> None:
        with pytest.raises(ValueError, match=r"window_s: window_s=0.05 s at fs=20.0 Hz gives a window of 1 frame"):
            pos(torch.rand(1, 3, 50), 20.0, window_s=0.05)
