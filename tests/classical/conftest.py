"""Synthetic RGB traces (the skin reflection model; a mixture of independent sources) for the classical methods."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

# The blood volume pulse direction in normalised RGB (Wang et al. 2017, Sec. II; de Haan and van Leest 2014).
PBV = np.array([0.33, 0.77, 0.53])

SkinTrace = Callable[..., tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]


def make_skin_trace(
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
      volume pulse direction PBV (the pulse lies along PBV in the skin-tone-normalised colour space);
    - u_s·s(t): white specular noise along the light's colour (white light: (1, 1, 1)/√3);
    - I(t): 1 + a slow (0.05-0.3 Hz) illumination change of relative amplitude ``intensity`` (or a flicker at
      ``flicker_hz``) + white intensity noise;
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


def make_mixture(seed: int, fs: float = 30.0, n: int = 600) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Three independent non-Gaussian sources mixed by a random matrix, plus a DC colour; returns (rgb, pulse).

    The sources: a sinusoidal pulse in the heart-rate band, which raises all three channels; a slow square wave;
    uniform white noise. ICA separates them (the skin reflection model's noise is Gaussian, so not separable).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    pulse = np.sin(2 * np.pi * rng.uniform(1.0, 2.5) * t + rng.uniform(0, 2 * np.pi))  # in the HR band
    square = np.sign(np.sin(2 * np.pi * 0.15 * t + rng.uniform(0, 2 * np.pi)))  # slow, harmonics weaker
    uniform = rng.uniform(-1, 1, n)  # broadband
    sources = np.stack([pulse, square, uniform])
    mixing = rng.uniform(0.2, 1.0, size=(3, 3)) * rng.choice([-1.0, 1.0], size=(3, 3))
    mixing[:, 0] = np.abs(mixing[:, 0])  # the pulse raises all three channels (positive in green)
    rgb = np.array([[150.0], [100.0], [80.0]]) + mixing @ sources
    return rgb, pulse


@pytest.fixture(scope="session")
def mixture() -> Callable[..., tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """:func:`make_mixture` (session-scoped, so that hypothesis tests may use it)."""
    return make_mixture


@pytest.fixture(scope="session")
def skin_trace() -> SkinTrace:
    """:func:`make_skin_trace` (session-scoped, so that hypothesis tests may use it)."""
    return make_skin_trace
