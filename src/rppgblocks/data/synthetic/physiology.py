r"""Synthetic cardiac and respiratory signals of one recording session.

The pulse is a periodic PPG template evaluated at the instantaneous cardiac phase
:math:`\varphi(t) = \varphi_0 + 2\pi \int_0^t f(\tau)\,d\tau`, where the heart rate :math:`f(t)` combines a
mean rate, a slow drift, an optional post-exercise recovery and respiratory sinus arrhythmia (RSA). The template
has a steep systolic upstroke, a dicrotic notch and a diastolic wave (two skewed Gaussians per cycle, the usual
two-wave decomposition of the PPG, e.g. Elgendi 2012, "On the analysis of fingertip photoplethysmogram signals",
Curr. Cardiol. Rev. 8(1)). Respiration modulates the baseline and the amplitude of the pulse.

Ground truth follows the VIPL-HR conventions of ``datasets.md`` §1.2-§1.3: the BVP at 60 Hz and the HR and SpO2 at
1 Hz, each series spread uniformly between the first and the last frame time (:func:`contract_times`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "BVP_RATE_HZ",
    "GroundTruth",
    "Physiology",
    "contract_times",
    "ground_truth",
]

FloatArray = npt.NDArray[np.float64]

#: Sampling rate of the synthetic pulse oximeter waveform (``wave.csv``), Hz (``datasets.md`` §1.2).
BVP_RATE_HZ = 60.0

_PHASE_GRID_HZ = 250.0  # integration grid of the instantaneous frequency
_OXIMETER_WINDOW_S = 4.0  # the oximeter's HR is the mean rate over its last few seconds
_MIN_HR_HZ, _MAX_HR_HZ = 40.0 / 60.0, 180.0 / 60.0


def _as_times(t: npt.ArrayLike, name: str = "t") -> FloatArray:
    times = np.asarray(t, dtype=np.float64)
    if times.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of times in seconds, got shape {times.shape}")
    if times.size and (not np.all(np.isfinite(times)) or times.min() < 0):
        raise ValueError(f"{name}: expected finite times >= 0 s, got min {times.min()!r}")
    return times


def contract_times(t_first: float, t_last: float, n: int) -> FloatArray:
    """The times in seconds of ``n`` ground-truth samples spread uniformly from the first to the last frame.

    This is the synthetic VIPL-HR time contract: sample ``i`` of a series of ``n`` sits at
    ``t_first + i * (t_last - t_first) / (n - 1)`` (``datasets.md`` §1.3: wave, HR and video start and end
    together).

    Args:
        t_first: Time of the first video frame, seconds.
        t_last: Time of the last video frame, seconds (> ``t_first``).
        n: Number of samples (>= 2).

    Returns:
        ``(n,)`` float64 times in seconds.

    Raises:
        ValueError: If ``n < 2`` or ``t_last <= t_first``.

    Examples:
        >>> contract_times(0.0, 2.0, 3).tolist()
        [0.0, 1.0, 2.0]
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: expected an integer >= 2, got {n!r}")
    if not (math.isfinite(t_first) and math.isfinite(t_last) and t_last > t_first):
        raise ValueError(f"t_last: expected a finite time > t_first={t_first!r} s, got {t_last!r}")
    return np.asarray(t_first + np.arange(n) * ((t_last - t_first) / (n - 1)), dtype=np.float64)


@dataclass(frozen=True)
class Physiology:
    """The physiology of one recording (take): heart rate, respiration, pulse shape and SpO2.

    Time ``t`` is in seconds from the start of the take (``t >= 0``).

    Attributes:
        mean_hr_bpm: Resting heart rate, bpm.
        recovery_bpm: Extra heart rate at ``t = 0`` that decays exponentially (post-exercise recovery), bpm.
        recovery_tau_s: Time constant of that decay, seconds.
        drift_bpm: Amplitudes of the slow heart-rate drift components, bpm.
        drift_hz: Frequencies of those components, Hz (tens of seconds per cycle).
        drift_phase: Phases of those components, radians.
        resp_rate_hz: Respiration rate, Hz.
        resp_phase: Respiration phase at ``t = 0``, radians.
        rsa_depth: Respiratory sinus arrhythmia: relative heart-rate modulation at the respiration rate.
        baseline_mod: Respiratory baseline wander of the pulse, in units of the pulse's peak-to-peak.
        amplitude_mod: Respiratory modulation depth of the pulse amplitude (relative).
        cardiac_phase: Cardiac phase at ``t = 0``, radians.
        systole_at: Position of the systolic peak within the cycle (fraction of a beat).
        systole_rise: Width of the systolic upstroke (fraction of a beat).
        systole_fall: Width of the systolic downstroke (fraction of a beat).
        diastole_at: Position of the diastolic (reflected) wave (fraction of a beat).
        diastole_width: Width of the diastolic wave (fraction of a beat).
        diastole_ratio: Diastolic over systolic wave amplitude.
        spo2_mean: Mean oxygen saturation, %.
        spo2_drift: Amplitude of its slow drift, %.
        spo2_hz: Frequency of that drift, Hz.
        spo2_phase: Phase of that drift, radians.

    Examples:
        >>> import numpy as np
        >>> phys = Physiology.sample(np.random.default_rng(0), hr_range_bpm=(60.0, 60.0))
        >>> bool(abs(60 * phys.heart_rate_hz(np.linspace(0, 30, 301)).mean() - 60) < 3)
        True
    """

    mean_hr_bpm: float
    recovery_bpm: float
    recovery_tau_s: float
    drift_bpm: tuple[float, ...]
    drift_hz: tuple[float, ...]
    drift_phase: tuple[float, ...]
    resp_rate_hz: float
    resp_phase: float
    rsa_depth: float
    baseline_mod: float
    amplitude_mod: float
    cardiac_phase: float
    systole_at: float
    systole_rise: float
    systole_fall: float
    diastole_at: float
    diastole_width: float
    diastole_ratio: float
    spo2_mean: float
    spo2_drift: float
    spo2_hz: float
    spo2_phase: float

    @classmethod
    def sample(
        cls,
        rng: np.random.Generator,
        *,
        hr_range_bpm: tuple[float, float] = (55.0, 115.0),
        after_exercise: bool = False,
    ) -> Physiology:
        """Draw the physiology of one take.

        The resting HR is uniform in ``hr_range_bpm``; the drift moves it by a few bpm over tens of seconds; RSA
        modulates it by 2-5 % at a respiration rate of 0.15-0.35 Hz; SpO2 is 95-99 %. ``after_exercise`` (VIPL-HR
        scenario v7, ``datasets.md`` §1.1) adds 10-25 bpm that decay with a 30-90 s time constant and a faster,
        deeper breathing.

        Args:
            rng: The random generator.
            hr_range_bpm: ``(low, high)`` range of the resting heart rate in bpm, within 40-180.
            after_exercise: Sample a post-exercise recovery.

        Returns:
            A new :class:`Physiology`.

        Raises:
            TypeError: If ``rng`` is not a :class:`numpy.random.Generator`.
            ValueError: If ``hr_range_bpm`` is not ``(low, high)`` with ``40 <= low <= high <= 180``.

        Examples:
            >>> import numpy as np
            >>> p = Physiology.sample(np.random.default_rng(0), after_exercise=True)
            >>> p.recovery_bpm >= 10.0, 0.15 <= p.resp_rate_hz <= 0.4
            (True, True)
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
        low, high = _check_hr_range(hr_range_bpm)
        n_drift = 3
        return cls(
            mean_hr_bpm=float(rng.uniform(low, high)),
            recovery_bpm=float(rng.uniform(10.0, 25.0)) if after_exercise else 0.0,
            recovery_tau_s=float(rng.uniform(30.0, 90.0)),
            drift_bpm=tuple(float(x) for x in rng.uniform(0.5, 1.8, n_drift)),
            drift_hz=tuple(float(x) for x in rng.uniform(0.008, 0.05, n_drift)),
            drift_phase=tuple(float(x) for x in rng.uniform(0, 2 * np.pi, n_drift)),
            resp_rate_hz=float(rng.uniform(0.25, 0.4) if after_exercise else rng.uniform(0.15, 0.35)),
            resp_phase=float(rng.uniform(0, 2 * np.pi)),
            rsa_depth=float(rng.uniform(0.02, 0.05)),
            baseline_mod=float(rng.uniform(0.05, 0.2)),
            amplitude_mod=float(rng.uniform(0.05, 0.2)),
            cardiac_phase=float(rng.uniform(0, 2 * np.pi)),
            systole_at=float(rng.uniform(0.17, 0.24)),
            systole_rise=float(rng.uniform(0.045, 0.07)),
            systole_fall=float(rng.uniform(0.07, 0.1)),
            diastole_at=float(rng.uniform(0.43, 0.52)),
            diastole_width=float(rng.uniform(0.06, 0.09)),
            diastole_ratio=float(rng.uniform(0.3, 0.6)),
            spo2_mean=float(rng.uniform(95.5, 98.5)),
            spo2_drift=float(rng.uniform(0.0, 0.6)),
            spo2_hz=float(rng.uniform(0.01, 0.04)),
            spo2_phase=float(rng.uniform(0, 2 * np.pi)),
        )

    def heart_rate_hz(self, t: npt.ArrayLike) -> FloatArray:
        """Instantaneous heart rate :math:`f(t)` in Hz (with RSA), clipped to 40-180 bpm.

        Args:
            t: Times in seconds, ``(N,)``, >= 0.

        Returns:
            ``(N,)`` float64 frequencies in Hz.

        Raises:
            ValueError: If ``t`` is not a 1-D array of finite times >= 0.

        Examples:
            >>> import numpy as np
            >>> p = Physiology.sample(np.random.default_rng(0))
            >>> p.heart_rate_hz([0.0, 1.0]).shape
            (2,)
        """
        times = _as_times(t)
        bpm = self.mean_hr_bpm + self.recovery_bpm * np.exp(-times / self.recovery_tau_s)
        for amp, freq, phase in zip(self.drift_bpm, self.drift_hz, self.drift_phase, strict=True):
            bpm = bpm + amp * np.sin(2 * np.pi * freq * times + phase)
        bpm = bpm * (1.0 + self.rsa_depth * np.sin(2 * np.pi * self.resp_rate_hz * times + self.resp_phase))
        return np.asarray(np.clip(bpm / 60.0, _MIN_HR_HZ, _MAX_HR_HZ), dtype=np.float64)

    def cardiac_phase_at(self, t: npt.ArrayLike) -> FloatArray:
        r"""Instantaneous cardiac phase :math:`\varphi_0 + 2\pi\int_0^t f(\tau)d\tau` in radians (unwrapped).

        Integrated with the trapezoidal rule on a 250 Hz grid and linearly interpolated.

        Args:
            t: Times in seconds, ``(N,)``, >= 0.

        Returns:
            ``(N,)`` float64 phases in radians; ``phase / 2π`` counts the beats since ``t = 0``.

        Raises:
            ValueError: If ``t`` is not a 1-D array of finite times >= 0.

        Examples:
            >>> import numpy as np
            >>> p = Physiology.sample(np.random.default_rng(0), hr_range_bpm=(60.0, 60.0))
            >>> beats = (p.cardiac_phase_at([20.0]) - p.cardiac_phase_at([0.0])) / (2 * np.pi)
            >>> bool(18 < beats[0] < 22)
            True
        """
        times = _as_times(t)
        if times.size == 0:
            return np.zeros(0)
        n_grid = int(np.ceil(times.max() * _PHASE_GRID_HZ)) + 2
        grid = np.arange(n_grid) / _PHASE_GRID_HZ
        freq = self.heart_rate_hz(grid)
        steps = 0.5 * (freq[1:] + freq[:-1]) / _PHASE_GRID_HZ
        cycles = np.concatenate(([0.0], np.cumsum(steps)))
        return np.asarray(self.cardiac_phase + 2 * np.pi * np.interp(times, grid, cycles), dtype=np.float64)

    def pulse_shape(self, phase: npt.ArrayLike) -> FloatArray:
        """The PPG template over one beat, periodic in ``phase`` (radians), scaled to [0, 1].

        A skewed Gaussian systolic wave followed by a smaller diastolic wave; the dip between them is the dicrotic
        notch.

        Args:
            phase: Cardiac phases in radians, any shape.

        Returns:
            Template values in [0, 1], the shape of ``phase``.

        Examples:
            >>> import numpy as np
            >>> p = Physiology.sample(np.random.default_rng(0))
            >>> y = p.pulse_shape(np.linspace(0, 2 * np.pi, 200))
            >>> float(y.min()) >= 0.0, float(y.max()) <= 1.0
            (True, True)
        """
        x = np.mod(np.asarray(phase, dtype=np.float64) / (2 * np.pi), 1.0)
        raw = self._raw_shape(x)
        grid = self._raw_shape(np.linspace(0.0, 1.0, 512, endpoint=False))
        low, high = grid.min(), grid.max()
        return np.asarray(np.clip((raw - low) / (high - low), 0.0, 1.0), dtype=np.float64)

    def _raw_shape(self, x: FloatArray) -> FloatArray:
        total = np.zeros_like(x)
        for shift in (-1.0, 0.0, 1.0):  # periodic wrap of each wave
            d = x + shift - self.systole_at
            width = np.where(d < 0, self.systole_rise, self.systole_fall)
            total += np.exp(-0.5 * (d / width) ** 2)
            d = x + shift - self.diastole_at
            total += self.diastole_ratio * np.exp(-0.5 * (d / self.diastole_width) ** 2)
        return total

    def blood_volume(self, t: npt.ArrayLike) -> FloatArray:
        """The normalised blood volume pulse (BVP) at times ``t``: about zero-mean, pulsatile peak-to-peak about 1.

        ``(1 + m_a sin ψ(t)) (s(φ(t)) - 1/2) + m_b sin(ψ(t) + π/3)`` with ``s`` the :meth:`pulse_shape`, ``φ`` the
        cardiac phase and ``ψ`` the respiratory phase. It rises with the blood volume (systole up), like an
        oximeter's pleth.

        Args:
            t: Times in seconds, ``(N,)``, >= 0.

        Returns:
            ``(N,)`` float64 BVP values (dimensionless).

        Raises:
            ValueError: If ``t`` is not a 1-D array of finite times >= 0.

        Examples:
            >>> import numpy as np
            >>> p = Physiology.sample(np.random.default_rng(0))
            >>> bvp = p.blood_volume(np.arange(600) / 60.0)
            >>> bool(0.8 < np.ptp(bvp) < 1.6)
            True
        """
        times = _as_times(t)
        resp = 2 * np.pi * self.resp_rate_hz * times + self.resp_phase
        shape = self.pulse_shape(self.cardiac_phase_at(times))
        envelope = 1.0 + self.amplitude_mod * np.sin(resp)
        return np.asarray(envelope * (shape - 0.5) + self.baseline_mod * np.sin(resp + np.pi / 3), dtype=np.float64)

    def oximeter_hr_bpm(self, t: npt.ArrayLike) -> FloatArray:
        """The heart rate a pulse oximeter would display at times ``t``, bpm (not rounded).

        The number of beats over the preceding 4 s (over ``[0, max(t, 1)]`` near the start) divided by the window:
        RSA is averaged out, the drift is kept.

        Args:
            t: Times in seconds, ``(N,)``, >= 0.

        Returns:
            ``(N,)`` float64 heart rates in bpm.

        Raises:
            ValueError: If ``t`` is not a 1-D array of finite times >= 0.

        Examples:
            >>> import numpy as np
            >>> p = Physiology.sample(np.random.default_rng(0), hr_range_bpm=(72.0, 72.0))
            >>> bool(np.all(np.abs(p.oximeter_hr_bpm([5.0, 10.0]) - 72) < 6))
            True
        """
        times = _as_times(t)
        start = np.maximum(times - _OXIMETER_WINDOW_S, 0.0)
        end = np.maximum(times, start + 1.0)
        both = self.cardiac_phase_at(np.concatenate((start, end)))
        beats = (both[times.size :] - both[: times.size]) / (2 * np.pi)
        return np.asarray(60.0 * beats / (end - start), dtype=np.float64)

    def spo2(self, t: npt.ArrayLike) -> FloatArray:
        """Oxygen saturation at times ``t``, % (not rounded), within [90, 100].

        Args:
            t: Times in seconds, ``(N,)``, >= 0.

        Returns:
            ``(N,)`` float64 SpO2 values in %.

        Raises:
            ValueError: If ``t`` is not a 1-D array of finite times >= 0.

        Examples:
            >>> import numpy as np
            >>> p = Physiology.sample(np.random.default_rng(0))
            >>> bool(np.all((p.spo2(np.arange(30.0)) >= 95) & (p.spo2(np.arange(30.0)) <= 99)))
            True
        """
        times = _as_times(t)
        value = self.spo2_mean + self.spo2_drift * np.sin(2 * np.pi * self.spo2_hz * times + self.spo2_phase)
        return np.asarray(np.clip(value, 90.0, 100.0), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-serialisable dict (tuples become lists).

        Returns:
            ``{field name: value}``.

        Examples:
            >>> import numpy as np
            >>> Physiology.sample(np.random.default_rng(0)).to_dict()["drift_hz"].__class__.__name__
            'list'
        """
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def _check_hr_range(hr_range_bpm: Any) -> tuple[float, float]:
    try:
        low, high = (float(x) for x in hr_range_bpm)
    except (TypeError, ValueError):
        raise ValueError(f"hr_range_bpm: expected (low_bpm, high_bpm), got {hr_range_bpm!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and 40.0 <= low <= high <= 180.0):
        raise ValueError(f"hr_range_bpm: expected 40 <= low <= high <= 180 bpm, got {hr_range_bpm!r}")
    return low, high


class GroundTruth(NamedTuple):
    """The reference signals of one video, on the VIPL-HR time contract (:func:`contract_times`).

    Attributes:
        bvp_times: ``(N_bvp,)`` sample times in seconds (60 Hz).
        bvp: ``(N_bvp,)`` normalised blood volume pulse (:meth:`Physiology.blood_volume`).
        hr_times: ``(N_hr,)`` sample times in seconds (1 Hz).
        hr_bpm: ``(N_hr,)`` oximeter heart rate in bpm.
        spo2_times: ``(N_hr,)`` sample times in seconds (1 Hz).
        spo2: ``(N_hr,)`` SpO2 in %.

    Examples:
        >>> import numpy as np
        >>> gt = ground_truth(Physiology.sample(np.random.default_rng(0)), 0.0, 2.0)
        >>> gt.bvp_times[[0, -1]].tolist(), gt.hr_times.tolist()
        ([0.0, 2.0], [0.0, 1.0, 2.0])
    """

    bvp_times: FloatArray
    bvp: FloatArray
    hr_times: FloatArray
    hr_bpm: FloatArray
    spo2_times: FloatArray
    spo2: FloatArray


def ground_truth(physiology: Physiology, t_first: float, t_last: float) -> GroundTruth:
    """The ground truth of a video whose first and last frames are at ``t_first`` and ``t_last``.

    VIPL-HR conventions (``datasets.md`` §1.2): ``N_bvp = round((t_last - t_first) * 60) + 1`` samples of BVP and
    ``N_hr = floor(t_last - t_first) + 1`` samples of HR and SpO2, each on :func:`contract_times`.

    Args:
        physiology: The take's physiology.
        t_first: First frame time, seconds (>= 0).
        t_last: Last frame time, seconds (>= ``t_first + 1``).

    Returns:
        A :class:`GroundTruth`.

    Raises:
        ValueError: If the times are not finite, negative, or less than 1 s apart.

    Examples:
        >>> import numpy as np
        >>> gt = ground_truth(Physiology.sample(np.random.default_rng(0)), 0.0, 9.97)
        >>> gt.bvp.shape, gt.hr_bpm.shape
        ((599,), (10,))
    """
    if not (math.isfinite(t_first) and math.isfinite(t_last) and t_first >= 0.0 and t_last - t_first >= 1.0):
        raise ValueError(
            f"t_first, t_last: expected finite times with 0 <= t_first and t_last - t_first >= 1 s, "
            f"got {t_first!r}, {t_last!r}"
        )
    span = t_last - t_first
    bvp_times = contract_times(t_first, t_last, round(span * BVP_RATE_HZ) + 1)
    hr_times = contract_times(t_first, t_last, math.floor(span) + 1)
    return GroundTruth(
        bvp_times=bvp_times,
        bvp=physiology.blood_volume(bvp_times),
        hr_times=hr_times,
        hr_bpm=physiology.oximeter_hr_bpm(hr_times),
        spo2_times=hr_times.copy(),
        spo2=physiology.spo2(hr_times),
    )
