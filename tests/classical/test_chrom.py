"""Tests for CHROM (de Haan and Jeanne, IEEE TBME 60(10), 2013): rppgblocks.classical.chrom.

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
from scipy import signal as sps

from rppgblocks.classical import CHROM, DEFAULT_CHROM_WINDOW_S, chrom
from rppgblocks.functional import DEFAULT_HR_BAND


def chrom_reference(
    rgb: npt.NDArray[np.float64], fs: float, window_s: float, band: tuple[float, float], order: int
) -> npt.NDArray[np.float64]:
    """The paper's algorithm as a loop over Hann-windowed intervals, with scipy's filtfilt (the test oracle)."""
    n_frames = rgb.shape[1]
    length = 2 * math.ceil(round(window_s * fs / 2, 9))
    hop = length // 2
    b, a = sps.butter(order, band, btype="bandpass", fs=fs)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)  # periodic Hann
    out = np.zeros(n_frames)
    for start in range(0, n_frames - length + 1, hop):
        c = rgb[:, start : start + length]
        cn = c / c.mean(axis=1, keepdims=True)
        x = 3 * cn[0] - 2 * cn[1]
        y = 1.5 * cn[0] + cn[1] - 1.5 * cn[2]
        xf, yf = sps.filtfilt(b, a, x), sps.filtfilt(b, a, y)
        s = xf - (xf.std() / yf.std()) * yf  # the paper's S
        out[start : start + length] += -s * hann  # rppgblocks returns -S (positive along +u_p)
    return out


class TestCHROM:
    @given(
        batch=st.integers(1, 3),
        n_frames=st.integers(24, 150),
        fs=st.floats(15.0, 60.0),
        window_s=st.floats(0.5, 2.5),
        order=st.integers(1, 3),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_matches_the_paper(
        self, batch: int, n_frames: int, fs: float, window_s: float, order: int, seed: int
    ) -> None:
        length = 2 * math.ceil(round(window_s * fs / 2, 9))
        rng = np.random.default_rng(seed)
        rgb = rng.uniform(20, 230, size=(batch, 3, 1)) * (1 + 0.02 * rng.standard_normal((batch, 3, n_frames)))
        if length <= 3 * (2 * order + 1) or length > n_frames:
            with pytest.raises(ValueError, match=r"window_s|rgb: has T="):
                chrom(torch.as_tensor(rgb), fs, window_s=window_s, order=order)
            return
        out = chrom(torch.as_tensor(rgb), fs, window_s=window_s, order=order).numpy()
        expected = np.stack([chrom_reference(r, fs, window_s, DEFAULT_HR_BAND, order) for r in rgb])
        np.testing.assert_allclose(out, expected, rtol=1e-7, atol=1e-9 * np.abs(expected).max())

    def test_interval_is_an_even_number_of_frames(self) -> None:
        assert CHROM(30.0).window_length == 48
        assert CHROM(25.0).window_length == 40
        assert CHROM(15.0).window_length == 24
        assert CHROM(29.97).window_length == 48  # 47.952 -> 48
        assert CHROM(15.0, window_s=1.5).window_length == 24  # 22.5 -> 23 -> 24
        assert DEFAULT_CHROM_WINDOW_S == 1.6
        # intervals of 48 frames hopped by 24: 72 frames hold intervals 0-47 and 24-71; 71 frames only the first,
        # and the frames after the last whole interval are 0
        gen = torch.Generator().manual_seed(0)
        rgb = 1 + torch.rand(1, 3, 72, generator=gen)
        assert float(chrom(rgb, 30.0)[0, 48:].abs().min()) > 0
        assert float(chrom(rgb[..., :71], 30.0)[0, 48:].abs().max()) == 0.0

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"window_s": -1.0}, r"window_s: expected a finite number > 0, got -1.0"),
            ({"window_s": 0.5}, r"window_s: window_s=0.5 s at fs=30.0 Hz gives an interval of 16 frames, too short"),
            ({"band": (3.0, 1.0)}, r"band: expected 0 <= low_hz < high_hz"),
            ({"band": (0.0, 3.0)}, r"band: expected 0 < low_hz < high_hz < fs/2 = 15 Hz"),
            ({"band": (0.6, 20.0)}, r"band: high_hz=20.0 is above the Nyquist frequency"),
            ({"order": 0}, r"order: expected an integer >= 1, got 0"),
            ({"order": 2.0}, r"order: expected an integer >= 1, got 2.0"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], match: str) -> None:
        with pytest.raises(ValueError, match=match):
            chrom(torch.rand(1, 3, 100) + 1, 30.0, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=match):
            CHROM(30.0, **kwargs)  # type: ignore[arg-type]
