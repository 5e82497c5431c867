"""The look of one synthetic subject: face shape, skin, hair, eyes, brows, nose, mouth, clothes and background.

An :class:`Appearance` is fixed per subject, so every session of a subject shows the same person; only session
effects (lighting, pose, camera) change between sessions (``datasets.md`` §1.1: one subject, many scenarios).
Geometry is in *face units*: ``u`` runs from -1 (left edge of the head) to +1 (right edge) and ``v`` from -1 (top of
the skull) to +1 (chin), so the same appearance renders at any frame size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SKIN_TONE_ANCHORS", "Appearance"]

RGB = tuple[float, float, float]

#: Skin albedo anchors (display RGB in [0, 1]) from very light (tone 0) to very dark (tone 1), interpolated by
#: :meth:`Appearance.sample`; roughly Fitzpatrick types I to VI under white light.
SKIN_TONE_ANCHORS: tuple[RGB, ...] = (
    (0.95, 0.80, 0.71),
    (0.87, 0.68, 0.56),
    (0.76, 0.55, 0.42),
    (0.62, 0.42, 0.30),
    (0.47, 0.31, 0.22),
    (0.34, 0.22, 0.16),
)

_HAIR_COLOURS: tuple[RGB, ...] = (
    (0.06, 0.05, 0.05),  # black
    (0.17, 0.11, 0.07),  # dark brown
    (0.32, 0.21, 0.12),  # brown
    (0.55, 0.40, 0.22),  # dark blond
    (0.78, 0.63, 0.38),  # blond
    (0.52, 0.22, 0.10),  # red
    (0.55, 0.54, 0.53),  # grey
)

_IRIS_COLOURS: tuple[RGB, ...] = (
    (0.18, 0.10, 0.06),  # dark brown
    (0.33, 0.20, 0.10),  # brown
    (0.36, 0.34, 0.18),  # hazel
    (0.22, 0.36, 0.26),  # green
    (0.25, 0.38, 0.55),  # blue
    (0.38, 0.42, 0.46),  # grey
)


def _skin_rgb(tone: float) -> RGB:
    anchors = np.asarray(SKIN_TONE_ANCHORS)
    pos = np.clip(tone, 0.0, 1.0) * (len(anchors) - 1)
    low = int(min(np.floor(pos), len(anchors) - 2))
    frac = pos - low
    rgb = anchors[low] * (1 - frac) + anchors[low + 1] * frac
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def _luma(rgb: RGB | np.ndarray) -> float:
    c = np.asarray(rgb, dtype=np.float64)
    return float(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])


def _jitter(rgb: RGB | np.ndarray, rng: np.random.Generator, scale: float) -> RGB:
    out = np.clip(np.asarray(rgb) * (1.0 + rng.normal(0.0, scale, 3)), 0.0, 1.0)
    return (float(out[0]), float(out[1]), float(out[2]))


@dataclass(frozen=True)
class Appearance:
    """The fixed appearance of one synthetic subject.

    Lengths are in face units (the head ellipse spans ``u`` in [-1, 1] and ``v`` in [-1, 1], ``v`` pointing down);
    colours are display RGB albedos in [0, 1] (multiplied by the scene light when rendered).

    Attributes:
        head_size: Head height relative to the population mean (1.0).
        face_aspect: Head half-width over half-height.
        jaw: How much the lower face narrows towards the chin (0 = plain ellipse).
        skin_tone: 0 (very light) to 1 (very dark); see :data:`SKIN_TONE_ANCHORS`.
        skin_rgb: Skin albedo.
        hair_rgb: Hair albedo.
        hairline: ``v`` of the hairline at the centre of the forehead.
        hair_volume: Outer hair outline relative to the head ellipse (> 1).
        hair_length: ``v`` down to which the hair reaches beside the face.
        eye_spacing: ``|u|`` of each eye centre.
        eye_height: ``v`` of the eye centres.
        eye_width: Half-width of an eye opening, in ``u``.
        eye_open: Half-height of an eye opening, in ``v``.
        iris_rgb: Iris colour.
        brow_thickness: Eyebrow half-thickness, in ``v``.
        brow_raise: Distance from the eye centre up to the eyebrow centre line, in ``v``.
        brow_arch: Height of the eyebrow arch, in ``v``.
        brow_rgb: Eyebrow colour.
        nose_length: ``v`` of the nose tip.
        nose_width: Half-width of the nose base, in ``u``.
        mouth_height: ``v`` of the mouth line.
        mouth_width: Half-width of the mouth, in ``u``.
        lip_thickness: Half-height of the lips, in ``v``.
        lip_rgb: Lip colour.
        shirt_rgb: Clothing colour.
        background_top: Background colour at the top of the frame.
        background_bottom: Background colour at the bottom of the frame.
        background_texture: Strength of the low-frequency background texture (0 = smooth gradient).
        background_seed: Seed of the background texture pattern.

    Examples:
        >>> import numpy as np
        >>> a = Appearance.sample(np.random.default_rng(0))
        >>> a == Appearance.sample(np.random.default_rng(0)), 0.0 <= a.skin_tone <= 1.0
        (True, True)
    """

    head_size: float
    face_aspect: float
    jaw: float
    skin_tone: float
    skin_rgb: RGB
    hair_rgb: RGB
    hairline: float
    hair_volume: float
    hair_length: float
    eye_spacing: float
    eye_height: float
    eye_width: float
    eye_open: float
    iris_rgb: RGB
    brow_thickness: float
    brow_raise: float
    brow_arch: float
    brow_rgb: RGB
    nose_length: float
    nose_width: float
    mouth_height: float
    mouth_width: float
    lip_thickness: float
    lip_rgb: RGB
    shirt_rgb: RGB
    background_top: RGB
    background_bottom: RGB
    background_texture: float
    background_seed: int

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Appearance:
        """Draw a random subject.

        Skin tones are drawn uniformly over the whole light-to-dark range; the other traits independently within
        human proportions (eyes at mid-head, mouth at about 0.6 of the lower half, and so on).

        Args:
            rng: The random generator (the only source of randomness).

        Returns:
            A new :class:`Appearance`.

        Raises:
            TypeError: If ``rng`` is not a :class:`numpy.random.Generator`.

        Examples:
            >>> import numpy as np
            >>> rng = np.random.default_rng(1)
            >>> a, b = Appearance.sample(rng), Appearance.sample(rng)
            >>> a != b
            True
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
        tone = float(rng.uniform(0.0, 1.0))
        skin = _jitter(np.asarray(_skin_rgb(tone)) * rng.normal(1.0, 0.04), rng, 0.015)
        hair_idx = int(rng.integers(len(_HAIR_COLOURS)))
        if tone > 0.55 and hair_idx in (3, 4, 5, 6):  # light or grey hair is rarer with dark skin
            hair_idx = int(rng.integers(3)) if rng.random() < 0.85 else hair_idx
        hair = _jitter(_HAIR_COLOURS[hair_idx], rng, 0.08)
        # Eyebrows are darker than the skin around them (light or grey hair keeps darker brows).
        brow_rgb = np.asarray(hair) * 0.7
        ceiling = 0.45 * _luma(skin)
        brow = _jitter(brow_rgb * min(1.0, ceiling / max(_luma(brow_rgb), 1e-3)), rng, 0.05)
        iris_idx = int(rng.integers(len(_IRIS_COLOURS))) if tone < 0.4 else int(rng.integers(3))
        lip = _jitter(np.asarray(skin) * np.array([0.88, 0.62, 0.62]), rng, 0.05)
        shirt = tuple(float(c) for c in rng.uniform(0.08, 0.9, 3))
        bg_base = rng.uniform(0.25, 0.8, 3)
        bg_top = np.clip(bg_base * rng.uniform(0.9, 1.15), 0.0, 1.0)
        bg_bottom = np.clip(bg_base * rng.uniform(0.7, 0.95) + rng.normal(0.0, 0.05, 3), 0.0, 1.0)
        return cls(
            head_size=float(rng.uniform(0.93, 1.07)),
            face_aspect=float(rng.uniform(0.76, 0.86)),
            jaw=float(rng.uniform(0.05, 0.22)),
            skin_tone=tone,
            skin_rgb=skin,
            hair_rgb=hair,
            hairline=float(rng.uniform(-0.68, -0.52)),
            hair_volume=float(rng.uniform(1.04, 1.16)),
            hair_length=float(rng.choice([rng.uniform(-0.25, 0.05), rng.uniform(0.3, 0.9)])),
            eye_spacing=float(rng.uniform(0.35, 0.42)),
            eye_height=float(rng.uniform(-0.14, -0.06)),
            eye_width=float(rng.uniform(0.15, 0.19)),
            eye_open=float(rng.uniform(0.055, 0.075)),
            iris_rgb=_jitter(_IRIS_COLOURS[iris_idx], rng, 0.05),
            brow_thickness=float(rng.uniform(0.028, 0.045)),
            brow_raise=float(rng.uniform(0.14, 0.19)),
            brow_arch=float(rng.uniform(0.0, 0.05)),
            brow_rgb=brow,
            nose_length=float(rng.uniform(0.28, 0.36)),
            nose_width=float(rng.uniform(0.11, 0.16)),
            mouth_height=float(rng.uniform(0.55, 0.63)),
            mouth_width=float(rng.uniform(0.21, 0.29)),
            lip_thickness=float(rng.uniform(0.035, 0.055)),
            lip_rgb=lip,
            shirt_rgb=(shirt[0], shirt[1], shirt[2]),
            background_top=(float(bg_top[0]), float(bg_top[1]), float(bg_top[2])),
            background_bottom=(float(bg_bottom[0]), float(bg_bottom[1]), float(bg_bottom[2])),
            background_texture=float(rng.uniform(0.0, 0.12)),
            background_seed=int(rng.integers(2**31)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-serialisable dict (tuples become lists).

        Returns:
            ``{field name: value}``.

        Examples:
            >>> import numpy as np
            >>> d = Appearance.sample(np.random.default_rng(0)).to_dict()
            >>> isinstance(d["skin_rgb"], list), "hairline" in d
            (True, True)
        """
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}
