"""Exceptions raised by rppgblocks.

Every error about user input is a :class:`ValueError` (or a subclass), so ``except ValueError`` catches it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ShapeError", "VideoDecodeError"]


class ShapeError(ValueError):
    """A tensor argument has the wrong number of dimensions or a wrong size.

    Attributes:
        name: The argument's name, e.g. ``"video"``.
        expected: The expected layout or shape, e.g. ``"b c t h w"`` or ``(2, 3)``.
        actual: The actual shape.

    Examples:
        >>> err = ShapeError("video", "b c t h w", (2, 3, 4))
        >>> print(err)
        video: expected shape (b c t h w), got (2, 3, 4)
        >>> isinstance(err, ValueError)
        True
    """

    def __init__(self, name: str, expected: str | Sequence[int], actual: Sequence[int], detail: str = "") -> None:
        self.name = name
        self.expected = expected if isinstance(expected, str) else tuple(expected)
        self.actual = tuple(int(a) for a in actual)
        exp = self.expected if isinstance(self.expected, str) else ", ".join(str(e) for e in self.expected)
        message = f"{name}: expected shape ({exp}), got {self.actual}"
        if detail:
            message += f"; {detail}"
        super().__init__(message)

    def __reduce__(self) -> tuple[type[ShapeError], tuple[str, str | tuple[int, ...], tuple[int, ...]]]:
        return (type(self), (self.name, self.expected, self.actual))


class VideoDecodeError(OSError):
    """A video file exists but cannot be decoded (corrupt, truncated, or an unsupported codec).

    Examples:
        >>> err = VideoDecodeError("clips/a.avi", "no frame could be decoded")
        >>> print(err)
        clips/a.avi: cannot decode video: no frame could be decoded
    """

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: cannot decode video: {reason}")

    def __reduce__(self) -> tuple[type[VideoDecodeError], tuple[str, str]]:
        return (type(self), (self.path, self.reason))
