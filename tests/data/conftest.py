"""Fixtures shared by the data tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

GREY = 128


def draw_cartoon_face(
    height: int = 240, width: int = 320, *, cx: int | None = None, cy: int | None = None, scale: float = 1.0
) -> np.ndarray:
    """An RGB uint8 cartoon face on grey: hair, skin ellipse, eyes with iris, brows, shaded nose, red mouth.

    At scale 1 the skin ellipse is 110 x 150 pixels, centred on (cx, cy).
    """
    img = np.full((height, width, 3), GREY, np.uint8)
    cx = width // 2 if cx is None else cx
    cy = height // 2 if cy is None else cy

    def p(v: float) -> int:
        return round(v * scale)

    hair, brow, iris = (40, 30, 20), (30, 20, 10), (40, 30, 20)
    cv2.ellipse(img, (cx, cy - p(20)), (p(60), p(70)), 0, 180, 360, hair, -1)
    cv2.ellipse(img, (cx, cy), (p(55), p(75)), 0, 0, 360, (220, 170, 140), -1)
    cv2.ellipse(img, (cx, cy - p(55)), (p(52), p(25)), 0, 180, 360, hair, -1)
    for dx in (-22, 22):
        ex, ey = cx + p(dx), cy - p(12)
        cv2.ellipse(img, (ex, ey), (p(11), p(6)), 0, 0, 360, (255, 255, 255), -1)
        cv2.circle(img, (ex, ey), p(5), iris, -1)
        cv2.line(img, (ex - p(12), ey - p(12)), (ex + p(12), ey - p(12)), brow, max(1, p(4)))
    nose = np.array([[cx, cy - p(8)], [cx - p(8), cy + p(18)], [cx + p(8), cy + p(18)]], np.int32)
    cv2.fillPoly(img, [nose], (190, 140, 115))
    for dx in (-4, 4):
        cv2.circle(img, (cx + p(dx), cy + p(18)), max(1, p(2)), (90, 60, 50), -1)
    cv2.ellipse(img, (cx, cy + p(38)), (p(20), p(7)), 0, 0, 360, (170, 40, 50), -1)
    return img


@pytest.fixture(scope="session")
def cartoon_face() -> Callable[..., np.ndarray]:
    """``cartoon_face(height=240, width=320, *, cx=None, cy=None, scale=1.0)``: a face the Haar cascade detects."""
    return draw_cartoon_face
