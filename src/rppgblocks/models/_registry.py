"""The registry of named model presets: ``create_model``, ``list_models``, ``model_info``, ``register_model``.

The registry is the only module-level mutable state in rppgblocks; it is filled when the model modules are imported
(at ``import rppgblocks``) and holds named presets only; building blocks stay plain classes.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from torch import nn

__all__ = ["ModelInfo", "create_model", "list_models", "model_info", "register_model"]

ModelFactory = Callable[..., nn.Module]
F = TypeVar("F", bound=ModelFactory)


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about a preset.

    Attributes:
        name: The preset's name, e.g. ``"rfacenet"``.
        factory: The function building it; keyword overrides are passed to it.
        input_size: The clip size ``(C, T, H, W)`` the preset is configured for.
        input_normalization: What the preset expects as input, e.g. ``"raw RGB in [0, 1]"`` or ``"DiffNormalized"``.
        fs: The frame rate in Hz the preset assumes.
        paper: The source (paper and section).
        description: One line on what the preset is.

    Examples:
        >>> from rppgblocks.models import model_info
        >>> info = model_info("physnet")
        >>> info.input_size, info.fs
        ((3, 128, 72, 72), 30.0)
    """

    name: str
    factory: ModelFactory
    input_size: tuple[int, int, int, int]
    input_normalization: str
    fs: float
    paper: str
    description: str


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(
    *,
    input_size: tuple[int, int, int, int],
    input_normalization: str,
    paper: str,
    fs: float = 30.0,
) -> Callable[[F], F]:
    """Decorator registering a preset factory under its function name.

    Args:
        input_size: The clip size ``(C, T, H, W)`` the preset is configured for.
        input_normalization: What the preset expects as input.
        paper: The source (paper and section).
        fs: The frame rate in Hz the preset assumes.

    Returns:
        The decorator; it returns the factory unchanged.

    Raises:
        ValueError: If a preset of that name is already registered.

    Examples:
        >>> from rppgblocks.models import list_models
        >>> "physnet" in list_models()
        True
    """

    def decorator(factory: F) -> F:
        name = factory.__name__
        if name in _REGISTRY:
            raise ValueError(f"register_model: a model preset named {name!r} is already registered")
        doc = (factory.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = ModelInfo(name, factory, input_size, input_normalization, fs, paper, doc[0] if doc else "")
        return factory

    return decorator


def list_models(pattern: str = "*") -> list[str]:
    """The names of the registered presets matching a shell-style ``pattern`` (``fnmatch``), sorted.

    Args:
        pattern: e.g. ``"*"`` (all, default) or ``"rfacenet*"``.

    Returns:
        The matching preset names.

    Examples:
        >>> from rppgblocks.models import list_models
        >>> list_models("rfacenet*")
        ['rfacenet', 'rfacenet_vipl']
    """
    return sorted(name for name in _REGISTRY if fnmatch.fnmatchcase(name, pattern))


def model_info(name: str) -> ModelInfo:
    """The :class:`ModelInfo` of preset ``name``.

    Raises:
        ValueError: If no preset has that name; the message lists close matches.

    Examples:
        >>> from rppgblocks.models import model_info
        >>> model_info("rfacenet_vipl").input_size
        (3, 64, 128, 128)
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"name: unknown model preset {name!r}{hint} Known presets: {list_models()}") from None


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build the model preset ``name``, with constructor arguments overridden by ``overrides``.

    Args:
        name: A name from :func:`list_models`, e.g. ``"physnet"``, ``"rfacenet"``, ``"rfacenet_vipl"``,
            ``"rppgnet"``.
        **overrides: Keyword arguments of the model's constructor that replace the preset's values.

    Returns:
        The model, in training mode, on the CPU, in float32.

    Raises:
        ValueError: If ``name`` is unknown (the message lists close matches).
        TypeError: If an override is not an argument of the model.

    Examples:
        >>> from rppgblocks.models import create_model
        >>> model = create_model("rfacenet", num_identities=10)
        >>> type(model).__name__, model.num_identities
        ('RFaceNet', 10)
        >>> create_model("rfacenett")
        Traceback (most recent call last):
        ...
        ValueError: name: unknown model preset 'rfacenett'; did you mean 'rfacenet', ...
    """
    return model_info(name).factory(**overrides)
