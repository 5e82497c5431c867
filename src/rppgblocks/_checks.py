"""Input validation shared by every public function (private).

Shape checks read only ``tensor.shape`` and so are safe under ``torch.compile``; checks that read tensor *values*
must be guarded with :func:`is_compiling`.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from rppgblocks.errors import ShapeError

__all__ = [
    "check_band",
    "check_finite_positive",
    "check_shape",
    "check_tensor",
    "is_compiling",
]


def is_compiling() -> bool:
    """True while ``torch.compile`` or ``torch.export`` traces the caller."""
    compiler = getattr(torch, "compiler", None)
    if compiler is not None and hasattr(compiler, "is_compiling"):
        return bool(compiler.is_compiling())
    return False  # pragma: no cover - torch < 2.3


def check_tensor(x: Any, name: str) -> None:
    """Raise :class:`TypeError` unless ``x`` is a tensor."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")


def check_shape(x: Any, pattern: str, name: str, **sizes: int) -> None:
    """Check that ``x`` is a tensor with one dimension per letter of ``pattern``.

    Args:
        x: The tensor to check.
        pattern: An einops-style layout such as ``"b c t h w"``.
        name: The argument's name, used in the error message.
        **sizes: Required sizes of named dimensions, e.g. ``c=3``.

    Raises:
        TypeError: If ``x`` is not a tensor.
        ShapeError: If the number of dimensions or a required size differs.
    """
    check_tensor(x, name)
    axes = pattern.split()
    if x.dim() != len(axes):
        raise ShapeError(name, pattern, x.shape, f"expected {len(axes)} dims, got {x.dim()}")
    for axis, size in sizes.items():
        actual = x.shape[axes.index(axis)]
        if actual != size:
            wanted = " ".join(str(size) if a == axis else a for a in axes)
            raise ShapeError(name, wanted, x.shape, f"expected {axis}={size}, got {axis}={actual}")


def check_finite_positive(value: float, name: str) -> None:
    """Raise :class:`ValueError` unless ``value`` is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a finite number > 0, got {value!r}")


def check_weight(value: float, name: str) -> float:
    """``value`` as a float if it is a finite number >= 0 (a loss weight), else a :class:`ValueError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return float(value)


def check_band(band: tuple[float, float], name: str = "band", fs: float | None = None) -> tuple[float, float]:
    """Validate a frequency band ``(low_hz, high_hz)`` and return it as floats.

    Raises:
        ValueError: If the band is not two finite numbers with ``0 <= low < high`` (and ``high <= fs / 2`` when
            ``fs`` is given).
    """
    try:
        low, high = (float(b) for b in band)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected (low_hz, high_hz), got {band!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and 0 <= low < high):
        raise ValueError(f"{name}: expected 0 <= low_hz < high_hz, got {band!r}")
    if fs is not None and high > fs / 2:
        raise ValueError(f"{name}: high_hz={high} is above the Nyquist frequency fs/2={fs / 2} Hz")
    return low, high
