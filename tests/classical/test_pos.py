"""Tests for POS (Wang et al., IEEE TBME 64(7), 2017, Algorithm 1): rppgblocks.classical.pos."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rppgblocks.classical import DEFAULT_POS_WINDOW_S, POS, pos
from rppgblocks.errors import ShapeError
from rppgblocks.functional import fft_heart_rate

FAST = settings(max_examples=12, deadline=None, derandomize=True)

# The blood volume pulse direction in normalised RGB (Wang et al. 2017, Sec. II; de Haan and van Leest 2014).
PBV = np.array([0.33, 0.77, 0.53])


def skin_trace(
    seed: int,
    fs: float,
    hr_bpm: float,
    *,
    duration_s: float = 20.0,
    pulse: float = 0.01,
    specular: float = 0.005,
    intensity: float = 0.1,
    intensity_noise: float = 0.005,
    camera_noise: float = 0.001,
    flicker_hz: float | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """An RGB trace from the skin reflection model C(t) = I(t)·(u_c·c0 + u_s·s(t) + u_p·p(t)) + camera noise.

    - u_c·c0: a random skin colour (DC), in 0-1 units;
    - u_p·p(t): a sinusoidal pulse at ``hr_bpm`` whose relative amplitude per channel is ``pulse`` times the blood
      volume pulse direction PBV, i.e. the pulse lies along PBV in the normalised (skin-tone divided) colour space;
    - u_s·s(t): white specular noise along the light's colour (white light: (1, 1, 1)/√3);
    - I(t): 1 + a slow (0.05-0.3 Hz) illumination change of relative amplitude ``intensity`` (or an in-band flicker
      at ``flicker_hz``) + white intensity noise;
    - additive white camera noise per channel.

    Returns ``(rgb (3, T), p (T,))``.
    """
    rng = np.random.default_rng(seed)
    n = round(duration_s * fs)
    t = np.arange(n) / fs
    skin = np.array([0.75, 0.5, 0.4]) * rng.uniform(0.7, 1.3, size=3)
    p = np.sin(2 * np.pi * hr_bpm / 60 * t + rng.uniform(0, 2 * np.pi))
    s = specular * rng.standard_normal(n)
    light_hz = rng.uniform(0.05, 0.3) if flicker_hz is None else flicker_hz
    i = 1 + intensity * np.sin(2 * np.pi * light_hz * t + rng.uniform(0, 2 * np.pi))
    i = i + intensity_noise * rng.standard_normal(n)
    u_s = np.ones(3) / np.sqrt(3)
    c = i * (skin[:, None] + u_s[:, None] * s + pulse * (skin * PBV)[:, None] * p)
    c = c + camera_noise * rng.standard_normal((3, n))
    return c, p


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


def as_batch(rgb: npt.NDArray[np.float64], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.as_tensor(rgb, dtype=dtype)[None]


class TestPOS:
    @FAST
    @given(
        fs=st.floats(15.0, 60.0),
        hr_bpm=st.floats(45.0, 180.0),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_recovers_pulse_rate(self, fs: float, hr_bpm: float, seed: int) -> None:
        rgb, _ = skin_trace(seed, fs, hr_bpm)
        bvp = pos(as_batch(rgb), fs)
        estimate = float(fft_heart_rate(bvp, fs)[0])
        assert abs(estimate - hr_bpm) < 1.5

    @FAST
    @given(hr_bpm=st.floats(50.0, 150.0), seed=st.integers(0, 2**32 - 1))
    def test_cancels_in_band_intensity_flicker(self, hr_bpm: float, seed: int) -> None:
        # A light flicker 10x stronger than the pulse, inside the HR band, 30 bpm away from it: the green channel
        # alone reports the flicker; POS projects it out (it lies along the skin tone) and reports the pulse.
        fs = 30.0
        flicker_hz = (hr_bpm + 30.0) / 60.0
        rgb, _ = skin_trace(seed, fs, hr_bpm, intensity=0.1, flicker_hz=flicker_hz)
        green = as_batch(rgb)[:, 1]
        assert abs(float(fft_heart_rate(green, fs)[0]) - 60 * flicker_hz) < 1.5
        assert abs(float(fft_heart_rate(pos(as_batch(rgb), fs), fs)[0]) - hr_bpm) < 1.5

    def test_pure_intensity_change_gives_no_pulse(self) -> None:
        rgb, _ = skin_trace(
            0, 30.0, 72.0, pulse=0.0, specular=0.0, camera_noise=0.0, intensity=0.3, intensity_noise=0.05
        )
        out = pos(as_batch(rgb, torch.float64), 30.0)
        assert float(out.abs().max()) < 1e-9

    @FAST
    @given(seed=st.integers(0, 2**32 - 1), fs=st.floats(15.0, 60.0), hr_bpm=st.floats(45.0, 180.0))
    def test_sign_follows_the_pulse_direction(self, seed: int, fs: float, hr_bpm: float) -> None:
        # little broadband noise, so that the correlation measures the sign and not the noise
        rgb, p = skin_trace(seed, fs, hr_bpm, specular=0.001, intensity_noise=0.001, camera_noise=0.0005)
        out = pos(as_batch(rgb, torch.float64), fs)[0].numpy()
        assert np.corrcoef(out, p)[0, 1] > 0.7

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
        # a window covers exactly `window_length` frames: an impulse-free trace of exactly that length works, one
        # frame less does not
        pos(torch.rand(1, 3, 48) + 1, 30.0)
        with pytest.raises(ValueError, match="T=47"):
            pos(torch.rand(1, 3, 47) + 1, 30.0)

    @FAST
    @given(batch=st.integers(2, 4), n_frames=st.integers(32, 120), seed=st.integers(0, 2**32 - 1))
    def test_batch_consistency(self, batch: int, n_frames: int, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        rgb = 50 + 150 * torch.rand(batch, 3, 1, generator=gen) + torch.randn(batch, 3, n_frames, generator=gen)
        batched = pos(rgb, 20.0)
        single = torch.cat([pos(rgb[i : i + 1], 20.0) for i in range(batch)])
        torch.testing.assert_close(batched, single)

    def test_gradcheck(self) -> None:
        gen = torch.Generator().manual_seed(0)
        rgb = (1 + 0.1 * torch.rand(2, 3, 9, generator=gen, dtype=torch.float64)).requires_grad_()
        assert torch.autograd.gradcheck(lambda x: pos(x, 4.0, window_s=1.0), (rgb,))

    def test_gradient_is_finite_on_a_constant_trace(self) -> None:
        rgb = torch.full((1, 3, 40), 100.0, requires_grad=True)
        out = pos(rgb, 20.0)
        out.square().sum().backward()
        assert rgb.grad is not None
        assert bool(torch.isfinite(rgb.grad).all())

    @pytest.mark.parametrize("value", [0.0, 100.0])
    def test_constant_or_black_trace_gives_zeros(self, value: float) -> None:
        out = pos(torch.full((2, 3, 50), value), 20.0)
        assert bool(torch.isfinite(out).all())
        assert float(out.abs().max()) < 1e-5

    @pytest.mark.parametrize(
        ("dtype", "expected"),
        [
            (torch.float32, torch.float32),
            (torch.float64, torch.float64),
            (torch.float16, torch.float32),
            (torch.bfloat16, torch.float32),
            (torch.uint8, torch.float32),
        ],
    )
    def test_dtypes(self, dtype: torch.dtype, expected: torch.dtype) -> None:
        rgb, _ = skin_trace(1, 30.0, 72.0, duration_s=10.0)
        x = torch.as_tensor(rgb * 200).to(dtype)
        out = pos(x[None], 30.0)
        assert out.dtype == expected
        assert out.shape == (1, rgb.shape[1])
        torch.testing.assert_close(out, pos(x[None].double(), 30.0).to(expected), rtol=0, atol=1e-4)

    def test_non_contiguous_input(self) -> None:
        rgb = torch.rand(60, 3, 2) + 1  # (T, 3, B)
        view = rgb.permute(2, 1, 0)
        assert not view.is_contiguous()
        torch.testing.assert_close(pos(view, 20.0), pos(view.contiguous(), 20.0))

    def test_module_matches_function(self) -> None:
        rgb, _ = skin_trace(2, 25.0, 90.0, duration_s=8.0)
        x = torch.stack([as_batch(rgb)[0], as_batch(rgb)[0].flip(-1)])
        module = POS(25.0, window_s=1.2)
        torch.testing.assert_close(module(x), pos(x, 25.0, window_s=1.2), rtol=0, atol=0)
        assert repr(module) == "POS(fs=25.0, window_s=1.2, window_length=30)"
        assert list(module.parameters()) == []
        assert module.state_dict() == {}

    @pytest.mark.parametrize(
        ("shape", "match"),
        [
            ((3, 50), r"rgb: expected shape \(b c t\), got \(3, 50\)"),
            ((2, 4, 50), r"rgb: expected shape \(b 3 t\), got \(2, 4, 50\); expected c=3, got c=4"),
            ((1, 3, 50, 1), r"rgb: expected shape \(b c t\), got \(1, 3, 50, 1\)"),
        ],
    )
    def test_bad_shape(self, shape: tuple[int, ...], match: str) -> None:
        with pytest.raises(ShapeError, match=match):
            pos(torch.rand(shape), 20.0)

    def test_not_a_tensor(self) -> None:
        with pytest.raises(TypeError, match=r"rgb: expected a torch\.Tensor, got ndarray"):
            pos(np.ones((1, 3, 50)), 20.0)  # type: ignore[arg-type]

    @pytest.mark.parametrize("fs", [0.0, -30.0, float("nan"), float("inf"), True, "30"])
    def test_bad_fs(self, fs: object) -> None:
        with pytest.raises(ValueError, match=r"fs: expected a finite number > 0, got"):
            pos(torch.rand(1, 3, 50), fs)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"fs: expected a finite number > 0, got"):
            POS(fs)  # type: ignore[arg-type]

    @pytest.mark.parametrize("window_s", [0.0, -1.6, float("nan"), float("inf")])
    def test_bad_window(self, window_s: float) -> None:
        with pytest.raises(ValueError, match=r"window_s: expected a finite number > 0, got"):
            pos(torch.rand(1, 3, 50), 20.0, window_s=window_s)
        with pytest.raises(ValueError, match=r"window_s: expected a finite number > 0, got"):
            POS(20.0, window_s=window_s)

    def test_window_of_one_frame(self) -> None:
        with pytest.raises(ValueError, match=r"window_s: window_s=0.05 s at fs=20.0 Hz gives a window of 1 frame"):
            pos(torch.rand(1, 3, 50), 20.0, window_s=0.05)

    def test_too_short(self) -> None:
        with pytest.raises(
            ValueError, match=r"rgb: has T=20 frames, fewer than one POS window of 32 frames \(window_s=1.6 s at fs"
        ):
            pos(torch.rand(2, 3, 20), 20.0)

    @pytest.mark.slow
    def test_compiles_without_graph_breaks(self) -> None:
        compiled = torch.compile(lambda x: pos(x, 30.0), fullgraph=True, backend="aot_eager")
        rgb = torch.rand(2, 3, 100) + 1
        torch.testing.assert_close(compiled(rgb), pos(rgb, 30.0))

    @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
    def test_cuda_matches_cpu(self) -> None:
        rgb, _ = skin_trace(3, 30.0, 80.0, duration_s=10.0)
        x = as_batch(rgb, torch.float64)
        torch.testing.assert_close(pos(x.cuda(), 30.0).cpu(), pos(x, 30.0))
