r"""Render a synthetic face video whose skin carries a physically plausible blood volume pulse.

Skin pixels follow the skin reflection model of Wang et al. 2017 ("Algorithmic principles of remote PPG", IEEE
TBME 64(7), Eq. 1-4): :math:`C(t) = I(t)\,(u_c c_0 + u_s s(t) + u_p p(t))`, i.e. an illumination :math:`I(t)`
times a stationary skin colour, a specular term and a small pulsatile term along the blood volume pulse signature
:math:`u_p \propto (0.33, 0.77, 0.53)` (de Haan & van Leest 2014, "Improved motion robustness of remote-PPG by using
the blood volume pulse signature", Physiol. Meas. 35(9)). More blood absorbs more light, so a skin pixel gets
*darker* at systole: the camera's green trace is the inverted oximeter pleth. Eyes, brows, lips, hair, clothes and
background do not pulse.

The static scene (background, and the face, hair, neck and clothes layer with its shading, skin mask and specular
map) is drawn once per session at twice the resolution and averaged down (anti-aliasing). Every frame then moves
the face layer by the head pose at that frame time (bilinear resampling, vectorised over blocks of frames),
composites it over the background, applies the pulse, the illumination and the specular term, the mouth opening of
talking scenes, and camera shot and read noise before rounding to ``uint8``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from rppgblocks.data.synthetic.appearance import RGB, Appearance
from rppgblocks.data.synthetic.physiology import Physiology
from rppgblocks.data.synthetic.scene import Scene
from rppgblocks.data.video import _cv2

__all__ = ["PULSE_SIGNATURE", "RenderedSession", "render_session"]

FloatArray = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]

#: Normalised relative pulsatility of skin in R, G, B (de Haan & van Leest 2014, the signature Wang et al. 2017 use).
PULSE_SIGNATURE: tuple[float, float, float] = (0.33, 0.77, 0.53)

_EXPOSURE = 205.0  # grey level of a white albedo under the lab light, frontal
_SUPERSAMPLE = 2
_NOISE_BLOCK = 16  # frames per independent noise stream (so any prefix of frames renders identically)
_CHUNK_PIXELS = 1 << 19  # pixels per vectorised block of frames (a few MB per plane: stays in cache)
_HEAD_FRACTION = 0.3  # head half-height over the frame height at 1 m


class RenderedSession(NamedTuple):
    """A rendered video and what is known about each of its frames.

    Attributes:
        frames: ``(T, H, W, 3)`` ``uint8`` RGB frames.
        skin: ``(T, H, W)`` ``bool``, the pixels that are mostly skin (and so carry the pulse).
        face_boxes: ``(T, 4)`` float64 boxes ``(x, y, w, h)`` in pixels of the face (cheek to cheek, upper
            forehead to chin, following the head's translation and scale), the region a face detector frames.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> out = render_session(
        ...     Appearance.sample(rng), Physiology.sample(rng), Scene.sample(rng, "v1", "source1"), [0.0, 0.04]
        ... )
        >>> out.frames.shape, int(out.skin[0].sum()) > 1000, [round(float(v)) for v in out.face_boxes[0, 2:]]
        ((2, 120, 160, 3), True, [...])
    """

    frames: npt.NDArray[np.uint8]
    skin: npt.NDArray[np.bool_]
    face_boxes: FloatArray


def _smooth_step(distance_px: npt.NDArray[np.floating[Any]]) -> F32:
    """Coverage of a pixel at signed distance ``distance_px`` (negative inside) from an edge."""
    return np.asarray(np.clip(0.5 - distance_px, 0.0, 1.0), dtype=np.float32)


class _Painter:
    """Evaluates shapes in face units ``(u, v)`` on a window of a supersampled canvas.

    ``u`` is a row vector and ``v`` a column vector, so 1-D expressions stay cheap and only shapes that mix both
    cost a full window.
    """

    def __init__(
        self,
        shape: tuple[int, int],
        centre: tuple[float, float],
        half_axes: tuple[float, float],
        rows: slice = slice(None),
        cols: slice = slice(None),
    ) -> None:
        ss = _SUPERSAMPLE
        self.rows, self.cols = rows, cols
        ys = (np.arange(shape[0] * ss, dtype=np.float32)[rows] + 0.5) / ss - 0.5
        xs = (np.arange(shape[1] * ss, dtype=np.float32)[cols] + 0.5) / ss - 0.5
        self.shape, self.centre = shape, centre
        self.a, self.b = half_axes
        self.u = ((xs[None, :] - centre[0]) / self.a).astype(np.float32)
        self.v = ((ys[:, None] - centre[1]) / self.b).astype(np.float32)
        self.px_u = self.a * ss  # supersampled pixels per face unit, horizontally
        self.px_v = self.b * ss

    def window(self, u_range: tuple[float, float], v_range: tuple[float, float]) -> _Painter:
        """A painter restricted to the face-unit box ``u_range x v_range`` (clipped to the canvas)."""
        ss = _SUPERSAMPLE
        c0 = max(0, int((self.centre[0] + 0.5 + u_range[0] * self.a) * ss) - 2)
        c1 = min(self.shape[1] * ss, int((self.centre[0] + 0.5 + u_range[1] * self.a) * ss) + 3)
        r0 = max(0, int((self.centre[1] + 0.5 + v_range[0] * self.b) * ss) - 2)
        r1 = min(self.shape[0] * ss, int((self.centre[1] + 0.5 + v_range[1] * self.b) * ss) + 3)
        return _Painter(self.shape, self.centre, (self.a, self.b), slice(r0, max(r0, r1)), slice(c0, max(c0, c1)))

    def crop(self, values: F32, inner: _Painter) -> F32:
        """The part of ``values`` (an array over this window) that lies under the sub-window ``inner``."""
        full = np.broadcast_to(values, (self.v.shape[0], self.u.shape[1]))
        r0, c0 = (inner.rows.start or 0) - (self.rows.start or 0), (inner.cols.start or 0) - (self.cols.start or 0)
        return full[r0 : r0 + inner.v.shape[0], c0 : c0 + inner.u.shape[1]]

    def ellipse(self, cu: float, cv: float, ru: float, rv: float) -> F32:
        r = np.sqrt(((self.u - cu) / ru) ** 2 + ((self.v - cv) / rv) ** 2)
        return _smooth_step((r - 1.0) * min(ru * self.px_u, rv * self.px_v))

    def below(self, v_edge: F32 | float) -> F32:
        """Coverage of ``v > v_edge``."""
        return _smooth_step((v_edge - self.v) * self.px_v)

    def above(self, v_edge: F32 | float) -> F32:
        """Coverage of ``v < v_edge``."""
        return _smooth_step((self.v - v_edge) * self.px_v)

    def band_u(self, half_width: F32 | float, centre: float = 0.0) -> F32:
        """Coverage of ``|u - centre| < half_width``."""
        return _smooth_step((np.abs(self.u - centre) - half_width) * self.px_u)

    def band_v(self, line: F32 | float, half_width: F32 | float) -> F32:
        """Coverage of ``|v - line| < half_width``."""
        return _smooth_step((np.abs(self.v - line) - half_width) * self.px_v)

    def gauss(self, cu: float, cv: float, su: float, sv: float) -> F32:
        gu = np.exp(-0.5 * ((self.u - cu) / su) ** 2)
        gv = np.exp(-0.5 * ((self.v - cv) / sv) ** 2)
        return np.asarray(gv * gu, dtype=np.float32)  # separable: one full-window product


class _Canvas:
    """Straight colour, alpha and skin fraction of the face layer, painted front to back."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.colour = np.zeros((*shape, 3), dtype=np.float32)
        self.alpha = np.zeros(shape, dtype=np.float32)
        self.skin = np.zeros(shape, dtype=np.float32)

    def paint(self, where: _Painter, cov: F32, rgb: F32, is_skin: float) -> None:
        """Lay ``rgb`` (a colour, or an image over ``where``'s window) with coverage ``cov`` (over the window)."""
        cov = np.broadcast_to(cov, (where.v.shape[0], where.u.shape[1]))
        rows = np.flatnonzero(cov.any(axis=1))
        cols = np.flatnonzero(cov.any(axis=0))
        if rows.size == 0:
            return
        local = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        r0 = (where.rows.start or 0) + rows[0]
        c0 = (where.cols.start or 0) + cols[0]
        box = (slice(r0, r0 + rows[-1] + 1 - rows[0]), slice(c0, c0 + cols[-1] + 1 - cols[0]))
        c = cov[local]
        src = np.broadcast_to(rgb, (*cov.shape, 3))[local] if rgb.ndim == 3 else rgb
        self.colour[box] += (src - self.colour[box]) * c[..., None]
        self.alpha[box] += (1 - self.alpha[box]) * c
        self.skin[box] += (is_skin - self.skin[box]) * c


def _palette(nir: bool) -> Callable[[RGB], F32]:
    """Colour mapping: RGB albedo, or a grey near-infrared reflectance for the NIR camera."""

    def rgb(colour: RGB) -> F32:
        c = np.asarray(colour, dtype=np.float32)
        if not nir:
            return c
        grey = 0.6 * c[0] + 0.3 * c[1] + 0.1 * c[2]
        return np.full(3, 0.25 + 0.75 * grey, dtype=np.float32)  # NIR: more reflective, less contrast

    return rgb


def _face_layers(
    appearance: Appearance, scene: Scene, canvas_shape: tuple[int, int], centre: tuple[float, float], b: float
) -> tuple[F32, tuple[float, float]]:
    """The face layer ``(Hc, Wc, 6)``: premultiplied colour (3), alpha, skin fraction, premultiplied specular.

    Drawn back to front on a canvas supersampled twice and averaged down: shirt, neck, hair, ears, the shaded head,
    hair over the forehead, then the eyes, eyebrows, nostrils and lips.
    """
    ap = appearance
    a = b * ap.face_aspect
    full = _Painter(canvas_shape, centre, (a, b))
    canvas = _Canvas((full.v.shape[0], full.u.shape[1]))
    col = _palette(scene.nir)
    skin_c = col(ap.skin_rgb)
    if scene.nir:  # skin reflects NIR strongly whatever its melanin content
        skin_c = np.full(3, 0.62 + 0.1 * (1 - ap.skin_tone), dtype=np.float32)
    lx, ly = scene.light_direction
    light = np.array([lx, ly, 1.0], dtype=np.float32) / math.sqrt(lx * lx + ly * ly + 1.0)
    half = light + np.array([0.0, 0.0, 1.0], dtype=np.float32)
    half /= np.linalg.norm(half)

    def lambert(nu: F32, nv: F32, nz: F32) -> F32:
        norm = np.sqrt(nu * nu + nv * nv + nz * nz) + 1e-6
        diffuse = np.clip((nu * light[0] + nv * light[1] + nz * light[2]) / norm, 0.0, 1.0)
        return np.asarray(0.38 + 0.7 * diffuse, dtype=np.float32)

    # Shirt and shoulders.
    body = full.window((-3.0, 3.0), (1.1, 4.0))
    shirt_shade = (1.0 - 0.25 * np.clip(np.abs(body.u) / 2.5, 0, 1)).astype(np.float32)
    canvas.paint(body, body.ellipse(0.0, 2.45, 2.5, 1.2), col(ap.shirt_rgb) * shirt_shade[..., None], 0.0)
    # Neck: a lit cylinder, in the shadow of the chin at the top.
    neck_w = 0.5
    nk = full.window((-0.6, 0.6), (0.5, 4.0))
    nu_neck = np.clip(nk.u / (neck_w * 1.1), -1, 1)
    neck_shade = lambert(nu_neck, np.zeros_like(nu_neck), np.sqrt(1 - nu_neck**2)) * (
        1.0 - 0.45 * np.exp(-0.5 * ((nk.v - 1.05) / 0.18) ** 2)
    )
    canvas.paint(nk, nk.band_u(neck_w) * nk.below(0.55), skin_c * neck_shade[..., None], 1.0)
    # Hair behind the head.
    hair_c = col(ap.hair_rgb)
    hv = ap.hair_volume
    hp = full.window((-1.3, 1.3), (-1.3, 1.2))
    hu, hvv = hp.u / (hv * 1.02), (hp.v + 0.06) / hv
    hair_outline = hp.ellipse(0.0, -0.06, hv * 1.02, hv)
    hair_back = hair_outline * hp.above(ap.hair_length)
    hair_shade = lambert(hu, hvv, np.sqrt(np.clip(1 - hu**2 - hvv**2, 0, 1)))
    hair_rgb = hair_c * (0.45 + 0.45 * hair_shade[..., None])
    canvas.paint(hp, hair_back, hair_rgb, 0.0)
    # Ears (under long hair).
    for side in (-1.0, 1.0):
        ear = hp.ellipse(side * 0.98, 0.03, 0.13, 0.2) * (1.0 - hair_back * (ap.hair_length > 0.1))
        canvas.paint(hp, ear, skin_c * 0.8, 1.0)
    # Head: an ellipsoid narrowing towards the chin, lit by the key light.
    u, v = hp.u, hp.v
    jaw_w = 1.0 - ap.jaw * np.clip(v, 0, 1) ** 2
    r_head = np.sqrt((u / jaw_w) ** 2 + v**2)
    head = _smooth_step((r_head - 1.0) * min(hp.px_u, hp.px_v))
    nz = np.sqrt(np.clip(1 - r_head**2, 0, 1))
    shade = lambert(u / jaw_w, v * 0.85, nz * 1.1)
    ex, ey, ew, eo = ap.eye_spacing, ap.eye_height, ap.eye_width, ap.eye_open
    nl, nw, mh, mw = ap.nose_length, ap.nose_width, ap.mouth_height, ap.mouth_width
    side_dark = 1.0 if lx >= 0 else -1.0  # the nose casts its shadow away from the light
    for s in (-1.0, 1.0):
        shade *= 1.0 - 0.55 * hp.gauss(s * ex, ey - 0.04, ew * 1.4, eo * 2.3)  # eye sockets
        shade *= 1.0 + 0.08 * hp.gauss(s * 0.45, 0.22, 0.2, 0.14)  # cheekbones
    shade *= 1.0 - 0.22 * hp.gauss(-side_dark * nw * 0.9, (ey + nl) / 2 + 0.03, 0.05, (nl - ey) / 2.2)
    shade *= 1.0 + 0.12 * hp.gauss(0.0, (ey + nl) / 2, 0.035, (nl - ey) / 2)  # nose ridge
    shade *= 1.0 + 0.1 * hp.gauss(0.0, ey - 0.02, 0.06, 0.08)  # bridge of the nose
    shade *= 1.0 - 0.3 * hp.gauss(0.0, nl + 0.07, nw * 0.9, 0.025)  # under the nose
    shade *= 1.0 - 0.22 * hp.gauss(0.0, mh + ap.lip_thickness + 0.06, mw * 0.7, 0.03)  # under the lower lip
    canvas.paint(hp, head, skin_c * shade[..., None], 1.0)
    spec_map = np.clip((u / jaw_w * half[0] + v * 0.85 * half[1] + nz * 1.1 * half[2]) / 1.1, 0, 1) ** 24
    spec_map = (spec_map + 0.6 * hp.gauss(0.0, nl - 0.03, 0.04, 0.04)) * head
    # Hair over the forehead (above the hairline) and at the temples.
    # (Within the whole hair outline, so no skin shows through at the edge of the head under the hair.)
    hair_front = hair_outline * np.maximum(hp.above(ap.hairline + 0.42 * u**2), hp.above(-0.1) * (1 - hp.band_u(0.93)))
    canvas.paint(hp, hair_front, hair_rgb, 0.0)
    spec_map *= 1 - hair_front
    # Eyes: an almond opening, white sclera, iris, pupil, and a dark upper lid with lashes; then the eyebrow.
    lash_w = max(0.028, 1.1 / hp.px_v * _SUPERSAMPLE)
    for s in (-1.0, 1.0):
        cu = s * ex
        ep = hp.window((cu - 1.6 * ew, cu + 1.6 * ew), (ey - ap.brow_raise - 0.15, ey + 0.15))
        eu = ep.u
        eye_shade = hp.crop(shade, ep)
        lid = np.clip(1 - ((eu - cu) / ew) ** 2, 0, 1)
        top = ey - eo * lid
        bottom = ey + 0.75 * eo * lid
        opening = ep.below(top) * ep.above(bottom) * ep.band_u(ew, cu)
        canvas.paint(ep, opening, col((0.74, 0.7, 0.68)) * np.sqrt(eye_shade)[..., None], 0.0)
        r_iris = eo * 1.15
        iris = ep.ellipse(cu, ey + 0.1 * eo, r_iris * b / a, r_iris) * opening
        canvas.paint(ep, iris, col(ap.iris_rgb), 0.0)
        pupil = ep.ellipse(cu, ey + 0.1 * eo, 0.45 * r_iris * b / a, 0.45 * r_iris) * opening
        canvas.paint(ep, pupil, col((0.03, 0.03, 0.03)), 0.0)
        lashes = ep.below(top - lash_w) * ep.above(top + 0.35 * lash_w) * ep.band_u(ew * 1.08, cu)
        canvas.paint(ep, lashes, col((0.05, 0.04, 0.04)), 0.0)
        low_lid = ep.band_v(bottom, 0.3 * lash_w) * ep.band_u(ew * 0.9, cu)
        canvas.paint(ep, low_lid * 0.5, skin_c * 0.45, 0.0)
        bx = (eu - cu - s * 0.03) / (ew * 1.4)
        centre_line = ey - ap.brow_raise - ap.brow_arch * np.clip(1 - bx**2, 0, 1)
        thickness = np.maximum(ap.brow_thickness * (1.0 - 0.35 * np.clip(s * bx, 0, 1)), 0.55 / ep.px_v * _SUPERSAMPLE)
        brow = ep.band_v(centre_line, thickness) * ep.band_u(ew * 1.4, cu + s * 0.03)
        canvas.paint(ep, brow, col(ap.brow_rgb), 0.0)
    # Nostrils.
    for s in (-1.0, 1.0):
        npn = hp.window((s * nw * 0.5 - 0.06, s * nw * 0.5 + 0.06), (nl - 0.03, nl + 0.06))
        canvas.paint(npn, npn.ellipse(s * nw * 0.5, nl + 0.015, 0.04, 0.022) * 0.8, skin_c * 0.3, 0.0)
    # Lips and the mouth line.
    lp = hp.window((-mw - 0.05, mw + 0.05), (mh - ap.lip_thickness - 0.05, mh + ap.lip_thickness + 0.05))
    lip_shade = hp.crop(shade, lp)
    lip_h = ap.lip_thickness * np.sqrt(np.clip(1 - (lp.u / mw) ** 2, 0, 1))
    canvas.paint(lp, lp.band_v(mh, lip_h) * lp.band_u(mw), col(ap.lip_rgb) * lip_shade[..., None], 0.0)
    line_w = max(0.01, 0.5 / lp.px_v * _SUPERSAMPLE)
    canvas.paint(lp, lp.band_v(mh, line_w) * lp.band_u(mw * 0.98), col(ap.lip_rgb) * 0.3, 0.0)
    spec = np.zeros_like(canvas.alpha)
    spec[hp.rows, hp.cols] = scene.specular * spec_map
    spec *= canvas.skin * canvas.alpha
    stack = np.concatenate(
        [canvas.colour * canvas.alpha[..., None], canvas.alpha[..., None], canvas.skin[..., None], spec[..., None]],
        axis=-1,
    )
    h, w = canvas_shape
    cv2 = _cv2()
    small = cv2.resize(stack, (w, h), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small, dtype=np.float32), (a, b)


def _background(appearance: Appearance, scene: Scene, canvas_shape: tuple[int, int]) -> F32:
    """The static background ``(Hc, Wc, 3)``: a vertical gradient with a low-frequency texture."""
    h, w = canvas_shape
    col = _palette(scene.nir)
    top, bottom = col(appearance.background_top), col(appearance.background_bottom)
    ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    image = top * (1 - ramp) + bottom * ramp
    tex_rng = np.random.default_rng(appearance.background_seed)
    coarse = tex_rng.normal(0.0, 1.0, (5, 7, 3)).astype(np.float32)
    if scene.nir:
        coarse[..., 1:] = coarse[..., :1]
    cv2 = _cv2()
    texture = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    image = image * (1.0 + appearance.background_texture * texture)
    xs = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :, None]
    image = image * (1.0 - 0.12 * xs * scene.light_direction[0])  # the key light falls off across the room
    return np.asarray(np.clip(image, 0.0, 0.95), dtype=np.float32)


def _trajectory(rng: np.random.Generator, t: FloatArray, std: float, max_hz: float, n: int = 4) -> FloatArray:
    """A smooth random motion with standard deviation ``std``, zero at ``t = 0``."""
    freqs = rng.uniform(0.03, max_hz, n)
    phases = rng.uniform(0, 2 * np.pi, n)
    amps = rng.uniform(0.5, 1.0, n)
    amps *= std * math.sqrt(2.0) / math.sqrt(float(np.sum(amps**2)))
    wave = np.sin(2 * np.pi * freqs[:, None] * t[None, :] + phases[:, None]) - np.sin(phases)[:, None]
    return np.asarray((amps[:, None] * wave).sum(axis=0), dtype=np.float64)


class _Motion(NamedTuple):
    dx: FloatArray  # head translation, pixels
    dy: FloatArray
    roll: FloatArray  # radians
    scale: FloatArray
    cam_x: FloatArray  # camera shake, pixels
    cam_y: FloatArray
    light: FloatArray  # illumination I(t) on the face
    light_bg: FloatArray  # illumination on the background
    specular: FloatArray  # specular strength s(t)
    mouth: FloatArray  # mouth opening in [0, 1]


def _motion(scene: Scene, t: FloatArray, b: float, a: float, height: int) -> _Motion:
    rng = np.random.default_rng(scene.seed)
    dx = _trajectory(rng, t, scene.motion_shift * b, scene.motion_hz)
    dy = _trajectory(rng, t, 0.6 * scene.motion_shift * b, scene.motion_hz)
    roll = np.deg2rad(scene.roll_deg + _trajectory(rng, t, scene.motion_roll_deg, scene.motion_hz))
    scale = 1.0 + _trajectory(rng, t, scene.motion_scale, 0.5 * scene.motion_hz)
    cam_x = _trajectory(rng, t, scene.camera_shake * height, 1.5)
    cam_y = _trajectory(rng, t, scene.camera_shake * height, 1.5)
    drift = 1.0 + _trajectory(rng, t, scene.light_drift, 0.08, n=2)
    lx, ly = scene.light_direction
    # Moving across the light field changes the shading of the face (a motion artefact of real recordings).
    light = scene.light_level * drift * (1.0 + 0.15 * (lx * dx / a + ly * dy / b) + 0.2 * (scale - 1.0))
    specular = 1.0 + 2.0 * np.abs(roll - np.deg2rad(scene.roll_deg)) + 3.0 * np.abs(dx / a)
    if scene.talking:
        syllable_hz = rng.uniform(3.0, 5.0)
        chatter = 0.5 + 0.5 * np.sin(2 * np.pi * syllable_hz * t + 0.6 * np.sin(2 * np.pi * 0.7 * t))
        phrase = np.clip(2.0 * np.sin(2 * np.pi * rng.uniform(0.1, 0.2) * t + rng.uniform(0.5, 1.5)) + 1.0, 0, 1)
        mouth = chatter * phrase
    else:
        mouth = np.zeros_like(t)
    return _Motion(dx, dy, roll, scale, cam_x, cam_y, light, scene.light_level * drift, specular, mouth)


class _Warp:
    """Bilinear resampling of canvas planes at the coordinates ``qx, qy (N, H, W)`` of a block of frames.

    The maps of all frames are stacked along the rows and converted once to OpenCV's fixed-point format, so each
    plane is one ``remap`` call for the whole block.
    """

    def __init__(self, qx: F32, qy: F32) -> None:
        cv2 = _cv2()
        self.shape = qx.shape
        n, height, width = qx.shape
        self.maps = cv2.convertMaps(qx.reshape(n * height, width), qy.reshape(n * height, width), cv2.CV_16SC2)

    def __call__(self, plane: F32) -> F32:
        cv2 = _cv2()
        out = cv2.remap(plane, self.maps[0], self.maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return np.asarray(out, dtype=np.float32).reshape(self.shape)


def _gaussian_table() -> F32:
    """Standard normal quantiles at the 256 byte values, rescaled to unit variance (inverse-CDF sampling)."""
    from scipy.special import ndtri

    table = ndtri((np.arange(256) + 0.5) / 256.0)
    return np.asarray(table / table.std(), dtype=np.float32)


def _noise(seed: int, first: int, count: int, channels: int, size: tuple[int, int], table: F32) -> F32:
    """Zero-mean, unit-variance camera noise ``(count, channels, H, W)`` of frames ``first .. first + count - 1``.

    Frame ``i``'s noise depends only on ``seed`` and ``i`` (each block of 16 frames has its own stream), whatever
    frames are rendered together. Each value is one random byte mapped through the Gaussian quantile ``table``
    (a 256-level Gaussian, truncated at 2.7 sigma): indistinguishable after ``uint8`` rounding, and much faster to
    draw than ``standard_normal``.
    """
    blocks = range(first // _NOISE_BLOCK, (first + count - 1) // _NOISE_BLOCK + 1)
    per_block = _NOISE_BLOCK * channels * size[0] * size[1]
    raw = b"".join(np.random.default_rng(np.random.SeedSequence([seed, block])).bytes(per_block) for block in blocks)
    codes = np.frombuffer(raw, np.uint8).reshape(len(blocks) * _NOISE_BLOCK, channels, *size)
    start = first - blocks[0] * _NOISE_BLOCK
    return table.take(codes[start : start + count])


#: The face box in face units (left, top, right, bottom): cheek to cheek, upper forehead to chin.
_FACE_BOX = (-1.0, -0.75, 1.0, 1.0)


def render_session(
    appearance: Appearance,
    physiology: Physiology,
    scene: Scene,
    frame_times: npt.ArrayLike,
    *,
    frame_size: tuple[int, int] = (160, 120),
) -> RenderedSession:
    r"""Render the frames of one session at the given frame times.

    Skin pixel colour follows Wang et al. 2017 (Eq. 1-4): :math:`I(t) (u_c c_0 (1 - a\,\hat u_p\,p(t)) +
    u_s s(t))`, with :math:`p` the :meth:`Physiology.blood_volume` (so skin darkens as blood volume rises),
    :math:`\hat u_p` :data:`PULSE_SIGNATURE` scaled to 1 in green and :math:`a` the scene's ``pulse_amplitude``.
    Frame ``i``'s camera noise depends only on ``scene.seed`` and ``i``, so rendering a prefix of ``frame_times``
    reproduces the first frames of the full video exactly.

    Args:
        appearance: The subject.
        physiology: The take's physiology (time 0 = start of the take).
        scene: The session's conditions.
        frame_times: ``(T,)`` capture time of each frame in seconds (>= 0, non-decreasing).
        frame_size: ``(width, height)`` of the frames in pixels, at least (32, 24).

    Returns:
        A :class:`RenderedSession` with ``(T, H, W, 3)`` ``uint8`` RGB frames, the skin masks and the face boxes.

    Raises:
        ValueError: If ``frame_times`` is not a non-empty 1-D array of finite, non-decreasing times >= 0, or
            ``frame_size`` is not two integers >= (32, 24).

    Shape:
        - frame_times: :math:`(T,)`
        - frames: :math:`(T, H, W, 3)`; skin: :math:`(T, H, W)`; face_boxes: :math:`(T, 4)`

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> app, phys = Appearance.sample(rng), Physiology.sample(rng)
        >>> scene = Scene.sample(rng, "v1", "source1")
        >>> out = render_session(app, phys, scene, np.arange(4) / 30.0, frame_size=(64, 48))
        >>> out.frames.shape, out.frames.dtype, out.skin.shape, out.face_boxes.shape
        ((4, 48, 64, 3), dtype('uint8'), (4, 48, 64), (4, 4))
    """
    times = np.asarray(frame_times, dtype=np.float64)
    if times.ndim != 1 or times.size == 0:
        raise ValueError(f"frame_times: expected a non-empty 1-D array of seconds, got shape {times.shape}")
    if not np.all(np.isfinite(times)) or times.min() < 0 or np.any(np.diff(times) < 0):
        raise ValueError("frame_times: expected finite, non-decreasing times >= 0 s")
    try:
        width, height = (int(x) for x in frame_size)
    except (TypeError, ValueError):
        raise ValueError(f"frame_size: expected (width, height) in pixels, got {frame_size!r}") from None
    if width < 32 or height < 24 or (width, height) != tuple(frame_size):
        raise ValueError(f"frame_size: expected two integers >= (32, 24), got {frame_size!r}")

    margin = math.ceil(0.3 * max(width, height))
    canvas_shape = (height + 2 * margin, width + 2 * margin)
    b = _HEAD_FRACTION * height * appearance.head_size * scene.face_scale
    frame_centre = (scene.face_x * width - 0.5, scene.face_y * height - 0.5)
    canvas_centre = (frame_centre[0] + margin, frame_centre[1] + margin)
    face, (a, b) = _face_layers(appearance, scene, canvas_shape, canvas_centre, b)
    background = _background(appearance, scene, canvas_shape)
    motion = _motion(scene, times, b, a, height)

    # Inverse affine of each frame: frame pixel p -> face canvas q = M (p - e - d - c_f) + c_c.
    cos, sin = np.cos(motion.roll) / motion.scale, np.sin(motion.roll) / motion.scale
    off_x = motion.cam_x + motion.dx + frame_centre[0]
    off_y = motion.cam_y + motion.dy + frame_centre[1]

    signature = np.ones(3) if scene.nir else np.asarray(PULSE_SIGNATURE) / PULSE_SIGNATURE[1]
    pulse = scene.pulse_amplitude * physiology.blood_volume(times)  # relative change in green
    balance = np.ones(3) if scene.nir else np.asarray(scene.white_balance)
    # Centre-weighted auto exposure, partial and bounded: darker skin gets more gain, and more amplified read noise.
    skin_luma = float(np.dot(np.asarray(appearance.skin_rgb), (0.299, 0.587, 0.114)))
    auto_gain = float(np.clip(math.sqrt(0.55 / max(skin_luma, 1e-3)), 0.85, 1.4)) if not scene.nir else 1.0
    gain = (_EXPOSURE * auto_gain * balance).astype(np.float32)
    read_noise = scene.read_noise * auto_gain
    mouth_colour = np.full(3, 0.15) if scene.nir else np.array([0.24, 0.08, 0.08])

    # Per-frame, per-channel factors of C(t) = gain * [I(t) (A (1 + s~ r(t)) + S s(t)) + I_bg(t) B (1 - alpha)].
    k_face = (gain[None, :] * motion.light[:, None]).astype(np.float32)  # (T, 3)
    k_pulse = (k_face * (-pulse[:, None] * signature[None, :])).astype(np.float32)
    k_spec = (gain[None, :] * (motion.light * motion.specular)[:, None]).astype(np.float32)
    k_bg = (gain[None, :] * motion.light_bg[:, None]).astype(np.float32)

    n_frames = times.size
    frames = np.empty((n_frames, height, width, 3), dtype=np.uint8)
    skin_out = np.empty((n_frames, height, width), dtype=bool)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    face_planes = [np.ascontiguousarray(face[..., i]) for i in range(face.shape[-1])]
    bg_planes = [np.ascontiguousarray(background[..., i]) for i in range(3)]
    static_bg = [plane[margin : margin + height, margin : margin + width] for plane in bg_planes]
    chunk = max(_NOISE_BLOCK, (_CHUNK_PIXELS // (height * width)) // _NOISE_BLOCK * _NOISE_BLOCK)
    table = _gaussian_table()
    for start in range(0, n_frames, chunk):
        sl = slice(start, min(start + chunk, n_frames))
        n = sl.stop - start

        def per_frame(values: npt.NDArray[np.floating], channel: int, sl: slice = sl) -> F32:
            """Column ``channel`` of ``(T, 3)`` factors for this block, as ``(n, 1, 1)`` float32."""
            return np.ascontiguousarray(values[sl, channel, None, None], dtype=np.float32)

        px = xs[None] - off_x[sl, None, None].astype(np.float32)
        py = ys[None] - off_y[sl, None, None].astype(np.float32)
        c = cos[sl, None, None].astype(np.float32)
        s = sin[sl, None, None].astype(np.float32)
        warp = _Warp(c * px + s * py + np.float32(canvas_centre[0]), -s * px + c * py + np.float32(canvas_centre[1]))
        del px, py
        alpha, skin_frac, spec = (warp(face_planes[i]) for i in (3, 4, 5))
        transparent = 1.0 - alpha
        if scene.camera_shake > 0:
            shake = _Warp(
                xs[None] - motion.cam_x[sl, None, None].astype(np.float32) + margin,
                ys[None] - motion.cam_y[sl, None, None].astype(np.float32) + margin,
            )
            behind = [shake(plane) for plane in bg_planes]
        else:
            behind = [np.broadcast_to(plane, (n, height, width)) for plane in static_bg]
        is_skin = (skin_frac * alpha) > 0.5
        if scene.talking:
            # The open mouth: a dark ellipse between the lips, following the head.
            mcx = off_x[sl] + motion.scale[sl] * (-np.sin(motion.roll[sl]) * appearance.mouth_height * b)
            mcy = off_y[sl] + motion.scale[sl] * (np.cos(motion.roll[sl]) * appearance.mouth_height * b)
            du = xs[None] - mcx[:, None, None].astype(np.float32)
            dv = ys[None] - mcy[:, None, None].astype(np.float32)
            ru = (0.8 * appearance.mouth_width * a * motion.scale[sl])[:, None, None]
            rv = (np.maximum(motion.mouth[sl], 1e-3) * 0.1 * b * motion.scale[sl])[:, None, None]
            rc, rs = np.cos(motion.roll[sl])[:, None, None], np.sin(motion.roll[sl])[:, None, None]
            r = np.sqrt(((rc * du + rs * dv) / ru) ** 2 + ((-rs * du + rc * dv) / rv) ** 2)
            mouth = _smooth_step(((r - 1.0) * np.minimum(ru, rv)).astype(np.float32))
            mouth *= (motion.mouth[sl] > 0.02)[:, None, None]
            is_skin &= mouth < 0.5
        noise = _noise(scene.seed, start, n, 1 if scene.nir else 3, (height, width), table)
        image = np.empty((n, height, width), dtype=np.float32)
        scratch = np.empty_like(image)
        for ch in range(3):
            premult = warp(face_planes[ch])
            np.multiply(premult, per_frame(k_face, ch), out=image)
            premult *= skin_frac
            premult *= per_frame(k_pulse, ch)
            image += premult
            np.multiply(spec, per_frame(k_spec, ch), out=scratch)
            image += scratch
            np.multiply(behind[ch], transparent, out=scratch)
            scratch *= per_frame(k_bg, ch)
            image += scratch
            if scene.talking:
                np.subtract(per_frame(k_face * mouth_colour[None, :], ch), image, out=scratch)
                scratch *= mouth
                image += scratch
            # Camera noise: shot noise (variance proportional to the signal) plus read noise.
            np.maximum(image, 0.0, out=scratch)
            scratch *= np.float32(scene.shot_gain)
            scratch += np.float32(read_noise**2)
            np.sqrt(scratch, out=scratch)
            scratch *= noise[:, 0 if scene.nir else ch]
            image += scratch
            np.rint(image, out=image)
            np.clip(image, 0, 255, out=image)
            frames[sl, :, :, ch] = image
        skin_out[sl] = is_skin

    # Face boxes: the face-unit box moved with the head (translation and scale; a detector's box stays upright).
    left, top, right, bottom = _FACE_BOX
    box_cu, box_cv = 0.5 * (left + right) * a, 0.5 * (top + bottom) * b
    rc, rs = np.cos(motion.roll), np.sin(motion.roll)
    centre_x = off_x + motion.scale * (rc * box_cu - rs * box_cv) + 0.5
    centre_y = off_y + motion.scale * (rs * box_cu + rc * box_cv) + 0.5
    box_w, box_h = (right - left) * a * motion.scale, (bottom - top) * b * motion.scale
    boxes = np.stack([centre_x - box_w / 2, centre_y - box_h / 2, box_w, box_h], axis=-1)
    return RenderedSession(frames=frames, skin=skin_out, face_boxes=boxes)
