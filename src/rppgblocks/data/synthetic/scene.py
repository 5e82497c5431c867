"""Recording conditions of one synthetic session: scenario (v1-v9) and camera (source1-source4).

The scenarios and cameras are those of VIPL-HR (``datasets.md`` §1.1): v1 stable, v2 large head motion, v3 talking,
v4 bright light, v5 dark light, v6 farther away, v7 after exercise, v8/v9 hand-held phone (source2 only), stable and
with large motion; source1 a webcam, source2 a phone, source3 the RGB and source4 the near-infrared (NIR) stream of
a RealSense camera. Each effect is modest but real, so that models see the same kinds of nuisance as on the real
data.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = ["SCENARIOS", "SOURCES", "Scene"]

#: VIPL-HR scenario names and their meaning (``datasets.md`` §1.1).
SCENARIOS: MappingProxyType[str, str] = MappingProxyType(
    {
        "v1": "stable, lab light, 1 m",
        "v2": "large head motion",
        "v3": "talking",
        "v4": "bright light",
        "v5": "dark light",
        "v6": "stable at 1.5 m",
        "v7": "after exercise",
        "v8": "hand-held phone, stable (source2 only)",
        "v9": "hand-held phone, large motion (source2 only)",
    }
)

#: VIPL-HR camera names and their device (``datasets.md`` §1.1).
SOURCES: MappingProxyType[str, str] = MappingProxyType(
    {
        "source1": "Logitech C310 webcam, RGB",
        "source2": "HUAWEI P9 phone, RGB",
        "source3": "Intel RealSense F200, RGB",
        "source4": "Intel RealSense F200, NIR",
    }
)

# Per camera: framing (face scale, horizontal offset as a fraction of the width), white balance, read noise (grey
# levels) and pulse strength relative to the green channel of an RGB camera.
_CAMERAS: dict[str, dict[str, Any]] = {
    "source1": {"scale": 1.0, "offset": 0.0, "balance": (1.04, 1.0, 0.94), "read_noise": 1.6, "pulse": 1.0},
    "source2": {"scale": 1.1, "offset": 0.0, "balance": (0.98, 1.0, 1.05), "read_noise": 1.2, "pulse": 1.0},
    "source3": {"scale": 0.94, "offset": 0.05, "balance": (1.0, 1.0, 1.0), "read_noise": 2.0, "pulse": 1.0},
    "source4": {"scale": 0.94, "offset": 0.05, "balance": (1.0, 1.0, 1.0), "read_noise": 2.0, "pulse": 0.4},
}


@dataclass(frozen=True)
class Scene:
    """The conditions of one session (one video): scenario, camera, light, pose, motion and noise.

    Motion amplitudes are standard deviations; translations are in units of the face half-height. The motion
    trajectories and the camera noise are drawn at render time from ``seed``, so a scene is fully reproducible.

    Attributes:
        scenario: VIPL-HR scenario name, ``"v1"`` ... ``"v9"``.
        source: VIPL-HR camera name, ``"source1"`` ... ``"source4"``.
        face_scale: Face size relative to the 1 m framing of source1 (v6 is farther away, so smaller).
        face_x: Horizontal face centre, as a fraction of the frame width.
        face_y: Vertical face centre, as a fraction of the frame height.
        roll_deg: Static head roll of the session, degrees.
        light_level: Mean illumination (1 = lab light; v4 brighter, v5 darker).
        light_direction: ``(x, y)`` direction of the key light in the image plane (0, 0 = frontal).
        light_drift: Relative amplitude of the slow illumination change :math:`I(t)`.
        specular: Strength of the specular reflection.
        motion_shift: Head translation standard deviation, in face half-heights.
        motion_roll_deg: Head roll standard deviation, degrees.
        motion_scale: Relative head scale standard deviation (moving towards/away from the camera).
        motion_hz: Upper frequency of the head motion, Hz.
        camera_shake: Camera (hand-held phone) translation standard deviation, as a fraction of the frame height.
        talking: Whether the mouth moves (v3).
        nir: Whether the camera is near-infrared (source4): one grey channel, weaker pulse.
        white_balance: Per-channel RGB gains of the camera.
        read_noise: Camera read noise, grey levels (standard deviation).
        shot_gain: Shot-noise variance per grey level (variance = ``read_noise² + shot_gain * value``).
        pulse_amplitude: Relative peak-to-peak change of green skin pixels over a heart beat.
        seed: Seed of the motion trajectories and of the camera noise.

    Examples:
        >>> import numpy as np
        >>> scene = Scene.sample(np.random.default_rng(0), "v6", "source1")
        >>> scene.face_scale < 0.75, scene.nir
        (True, False)
    """

    scenario: str
    source: str
    face_scale: float
    face_x: float
    face_y: float
    roll_deg: float
    light_level: float
    light_direction: tuple[float, float]
    light_drift: float
    specular: float
    motion_shift: float
    motion_roll_deg: float
    motion_scale: float
    motion_hz: float
    camera_shake: float
    talking: bool
    nir: bool
    white_balance: tuple[float, float, float]
    read_noise: float
    shot_gain: float
    pulse_amplitude: float
    seed: int

    @classmethod
    def sample(
        cls,
        rng: np.random.Generator,
        scenario: str,
        source: str,
        *,
        pulse_amplitude: float = 0.01,
    ) -> Scene:
        """Draw the conditions of one session.

        Args:
            rng: The random generator.
            scenario: ``"v1"`` ... ``"v9"`` (:data:`SCENARIOS`).
            source: ``"source1"`` ... ``"source4"`` (:data:`SOURCES`); v8 and v9 need ``"source2"``.
            pulse_amplitude: Relative peak-to-peak change of green skin pixels over a heart beat for an RGB camera
                (the NIR camera gets 0.4 times this).

        Returns:
            A new :class:`Scene`.

        Raises:
            TypeError: If ``rng`` is not a :class:`numpy.random.Generator`.
            ValueError: If ``scenario`` or ``source`` is unknown, v8/v9 is asked with another camera than source2,
                or ``pulse_amplitude`` is not in [0, 0.2].

        Examples:
            >>> import numpy as np
            >>> Scene.sample(np.random.default_rng(0), "v4", "source4").nir
            True
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
        if scenario not in SCENARIOS:
            raise ValueError(f"scenario: expected one of {', '.join(SCENARIOS)}, got {scenario!r}")
        if source not in SOURCES:
            raise ValueError(f"source: expected one of {', '.join(SOURCES)}, got {source!r}")
        if scenario in ("v8", "v9") and source != "source2":
            raise ValueError(f"scenario: {scenario} (hand-held phone) exists only for source2, got source {source!r}")
        if not (isinstance(pulse_amplitude, (int, float)) and 0.0 <= pulse_amplitude <= 0.2):
            raise ValueError(f"pulse_amplitude: expected a relative change in [0, 0.2], got {pulse_amplitude!r}")
        camera = _CAMERAS[source]
        balance = np.asarray(camera["balance"]) * rng.uniform(0.98, 1.02, 3)
        light = {"v4": rng.uniform(1.2, 1.3), "v5": rng.uniform(0.58, 0.66)}.get(scenario, rng.uniform(0.95, 1.05))
        shift, roll, scale, motion_hz = 0.012, 0.3, 0.003, 0.4
        if scenario == "v2":
            shift, roll, scale, motion_hz = 0.12, 5.0, 0.03, 0.6
        elif scenario == "v3":
            shift, roll, scale, motion_hz = 0.03, 1.2, 0.006, 0.8
        elif scenario == "v9":
            shift, roll, scale, motion_hz = 0.09, 4.0, 0.025, 0.6
        shake = {"v8": 0.004, "v9": 0.02}.get(scenario, 0.0)
        read_noise = camera["read_noise"] * (1.6 if scenario == "v5" else 1.0)
        return cls(
            scenario=scenario,
            source=source,
            face_scale=float(camera["scale"] * (0.67 if scenario == "v6" else 1.0) * rng.uniform(0.97, 1.03)),
            face_x=float(0.5 + camera["offset"] + rng.uniform(-0.03, 0.03)),
            face_y=float(rng.uniform(0.45, 0.49)),
            roll_deg=float(rng.uniform(-3.0, 3.0)),
            light_level=float(light),
            light_direction=(float(rng.uniform(-0.45, 0.45)), float(rng.uniform(-0.35, -0.05))),
            light_drift=float(rng.uniform(0.005, 0.02)),
            specular=float(rng.uniform(0.03, 0.08) * (1.5 if scenario == "v4" else 1.0)),
            motion_shift=shift,
            motion_roll_deg=roll,
            motion_scale=scale,
            motion_hz=motion_hz,
            camera_shake=shake,
            talking=scenario == "v3",
            nir=source == "source4",
            white_balance=(float(balance[0]), float(balance[1]), float(balance[2])),
            read_noise=float(read_noise),
            shot_gain=0.02,
            pulse_amplitude=float(pulse_amplitude * camera["pulse"]),
            seed=int(rng.integers(2**31)),
        )

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"scenario: expected one of {', '.join(SCENARIOS)}, got {self.scenario!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source: expected one of {', '.join(SOURCES)}, got {self.source!r}")
        for name in ("face_scale", "light_level"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: expected a finite number > 0, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-serialisable dict (tuples become lists).

        Returns:
            ``{field name: value}``.

        Examples:
            >>> import numpy as np
            >>> Scene.sample(np.random.default_rng(0), "v1", "source1").to_dict()["scenario"]
            'v1'
        """
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}
