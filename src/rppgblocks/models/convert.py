"""Checkpoint interoperability with rPPG-Toolbox's PhysNet (``PhysNet_padding_Encoder_Decoder_MAX``).

Source: rppgblocks spec ``architectures.md`` §1 (layer table; the toolbox's module names are the table's "Module"
column) and the key list of the released toolbox checkpoints (``ConvBlockN.0`` conv, ``ConvBlockN.1`` BatchNorm;
``upsample``/``upsample2`` = transposed conv, BatchNorm, ELU; ``ConvBlock10`` a bare 1x1x1 conv). The two networks
compute the same function; only the module names differ:

=================================  ================================
rPPG-Toolbox                       :class:`~rppgblocks.models.PhysNet`
=================================  ================================
``ConvBlock1``                     ``stem.0``
``ConvBlock2``, ``ConvBlock3``     ``stage1.0``, ``stage1.1``
``ConvBlock4``, ``ConvBlock5``     ``stage2.1``, ``stage2.2``
``ConvBlock6``, ``ConvBlock7``     ``stage3.1``, ``stage3.2``
``ConvBlock8``, ``ConvBlock9``     ``stage4.1``, ``stage4.2``
``upsample``, ``upsample2``        ``decoder.0``, ``decoder.1``
``ConvBlock10``                    ``head``
=================================  ================================

(index 0 of ``stage2``-``stage4`` is the max-pool, which has no weights.) The suffixes (``.0.weight``,
``.1.running_mean``, ...) are the same on both sides.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import IO, TYPE_CHECKING

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from rppgblocks.models.physnet import PhysNet

__all__ = [
    "convert_rppg_toolbox_physnet",
    "is_rppg_toolbox_physnet_state_dict",
    "load_rppg_toolbox_physnet",
    "to_rppg_toolbox_physnet",
]

#: rPPG-Toolbox module name -> rppgblocks PhysNet module path, in the order of the network.
_TOOLBOX_TO_OURS: tuple[tuple[str, str], ...] = (
    ("ConvBlock1", "stem.0"),
    ("ConvBlock2", "stage1.0"),
    ("ConvBlock3", "stage1.1"),
    ("ConvBlock4", "stage2.1"),
    ("ConvBlock5", "stage2.2"),
    ("ConvBlock6", "stage3.1"),
    ("ConvBlock7", "stage3.2"),
    ("ConvBlock8", "stage4.1"),
    ("ConvBlock9", "stage4.2"),
    ("upsample", "decoder.0"),
    ("upsample2", "decoder.1"),
    ("ConvBlock10", "head"),
)
_OURS_TO_TOOLBOX: tuple[tuple[str, str], ...] = tuple((ours, toolbox) for toolbox, ours in _TOOLBOX_TO_OURS)

#: The prefix that ``nn.DataParallel`` / ``DistributedDataParallel`` checkpoints put in front of every key.
_PARALLEL_PREFIX = "module."
_MAX_LISTED = 20


def _rename(key: str, table: Iterable[tuple[str, str]]) -> str | None:
    """``key`` with its module prefix replaced per ``table``, or ``None`` if no prefix matches."""
    for source, target in table:
        if key.startswith(source + "."):
            return target + key[len(source) :]
    return None


def _strip_parallel_prefix(state_dict: Mapping[str, object]) -> dict[str, object]:
    """Drop the ``module.`` prefix when every key carries it (an ``nn.DataParallel`` checkpoint)."""
    keys = list(state_dict)
    if keys and all(isinstance(k, str) and k.startswith(_PARALLEL_PREFIX) for k in keys):
        return {k[len(_PARALLEL_PREFIX) :]: v for k, v in state_dict.items()}
    return dict(state_dict)


def _expected_shapes(model: nn.Module | None) -> dict[str, tuple[int, ...]]:
    """Our state-dict keys and shapes: those of ``model``, or of the toolbox configuration (built on ``meta``)."""
    if model is None:
        from rppgblocks.models.physnet import PhysNet  # deferred: physnet.py imports this module

        with torch.device("meta"):
            model = PhysNet()
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    if len(items) > _MAX_LISTED:
        shown += f", ... ({len(items) - _MAX_LISTED} more)"
    return shown


def _convert(
    state_dict: Mapping[str, Tensor],
    *,
    table: tuple[tuple[str, str], ...],
    inverse: tuple[tuple[str, str], ...],
    expected: dict[str, tuple[int, ...]],
    name: str,
    what: str,
) -> dict[str, Tensor]:
    """Rename every key of ``state_dict`` per ``table``; check the result has exactly ``expected``'s keys and shapes.

    ``expected`` is keyed in the target naming; errors name keys in the source naming (``inverse`` maps back).
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"{name}: expected a state dict (a mapping of names to tensors), got {type(state_dict).__name__}"
        )
    source = _strip_parallel_prefix(state_dict)
    renamed: dict[str, Tensor] = {}
    seen: set[str] = set()
    unexpected: list[str] = []
    mismatched: list[str] = []
    for key, value in source.items():
        target = _rename(key, table) if isinstance(key, str) else None
        if target is None or target not in expected:
            unexpected.append(repr(key))
            continue
        seen.add(target)
        if not isinstance(value, Tensor):
            mismatched.append(f"{key!r}: expected a tensor, got {type(value).__name__}")
        elif tuple(value.shape) != expected[target]:
            mismatched.append(f"{key!r}: expected shape {expected[target]}, got {tuple(value.shape)}")
        else:
            renamed[target] = value
    missing = [repr(_rename(key, inverse) or key) for key in expected if key not in seen]
    if missing or unexpected or mismatched:
        problems = []
        if missing:
            problems.append(f"missing keys: {_listing(missing)}")
        if unexpected:
            problems.append(f"unexpected keys: {_listing(unexpected)}")
        if mismatched:
            problems.append(f"shape mismatches: {_listing(mismatched)}")
        raise ValueError(f"{name}: does not match {what}; " + "; ".join(problems))
    return {key: renamed[key] for key in expected}


def is_rppg_toolbox_physnet_state_dict(state_dict: Mapping[str, object]) -> bool:
    """Whether ``state_dict`` uses rPPG-Toolbox's PhysNet key names (it has a ``ConvBlock1.`` key).

    A ``module.`` prefix (``nn.DataParallel`` checkpoints) is allowed. Only the names are looked at; use
    :func:`convert_rppg_toolbox_physnet` to validate the whole dictionary.

    Source: rPPG-Toolbox's PhysNet module names, spec ``architectures.md`` §1.

    Args:
        state_dict: Any mapping, typically a loaded checkpoint.

    Returns:
        ``True`` if a key starts with ``ConvBlock1.`` or ``module.ConvBlock1.``.

    Examples:
        >>> import torch
        >>> is_rppg_toolbox_physnet_state_dict({"ConvBlock1.0.weight": torch.zeros(16, 3, 1, 5, 5)})
        True
        >>> is_rppg_toolbox_physnet_state_dict({"stem.0.0.weight": torch.zeros(16, 3, 1, 5, 5)})
        False
    """
    return any(
        isinstance(key, str) and key.startswith(("ConvBlock1.", _PARALLEL_PREFIX + "ConvBlock1.")) for key in state_dict
    )


def convert_rppg_toolbox_physnet(
    state_dict: Mapping[str, Tensor], *, model: nn.Module | None = None
) -> dict[str, Tensor]:
    """Rename an rPPG-Toolbox PhysNet state dict to :class:`~rppgblocks.models.PhysNet`'s keys, checking it fully.

    Keys are mapped module by module (``ConvBlock1`` -> ``stem.0``, ..., ``upsample2`` -> ``decoder.1``,
    ``ConvBlock10`` -> ``head``; table in this module's docstring, from spec ``architectures.md`` §1). A ``module.``
    prefix on every key (``nn.DataParallel`` checkpoints) is dropped first. The result must have exactly the keys of
    ``model.state_dict()`` with the same shapes; otherwise one error lists every missing key, every unexpected key and
    every shape mismatch (all in the toolbox's names). The tensors are not copied.

    Args:
        state_dict: The toolbox checkpoint's state dict (``ConvBlock1.0.weight``, ..., ``ConvBlock10.bias``; 79
            entries for the released checkpoints).
        model: The PhysNet the result is meant for; its keys and shapes are the expected ones. Default: the
            toolbox's configuration, ``PhysNet()`` (3 input channels, widths 16, 32, 64).

    Returns:
        A new ``dict`` in rppgblocks' naming and module order, ready for ``PhysNet.load_state_dict``.

    Raises:
        TypeError: If ``state_dict`` is not a mapping.
        ValueError: If keys are missing or left over, a value is not a tensor, or a shape differs; the message names
            ``state_dict`` and lists each problem.

    Examples:
        >>> from rppgblocks.models import PhysNet
        >>> ours = PhysNet().state_dict()
        >>> toolbox = to_rppg_toolbox_physnet(ours)
        >>> list(toolbox)[:2], list(toolbox)[-1]
        (['ConvBlock1.0.weight', 'ConvBlock1.0.bias'], 'ConvBlock10.bias')
        >>> back = convert_rppg_toolbox_physnet({"module." + k: v for k, v in toolbox.items()})
        >>> list(back) == list(ours)
        True
        >>> del toolbox["upsample.1.running_var"]
        >>> convert_rppg_toolbox_physnet(toolbox)
        Traceback (most recent call last):
        ...
        ValueError: state_dict: does not match PhysNet in rPPG-Toolbox's ...; missing keys: 'upsample.1.running_var'
    """
    return _convert(
        state_dict,
        table=_TOOLBOX_TO_OURS,
        inverse=_OURS_TO_TOOLBOX,
        expected=_expected_shapes(model),
        name="state_dict",
        what="PhysNet in rPPG-Toolbox's key naming",
    )


def to_rppg_toolbox_physnet(state_dict: Mapping[str, Tensor], *, model: nn.Module | None = None) -> dict[str, Tensor]:
    """Rename a :class:`~rppgblocks.models.PhysNet` state dict to rPPG-Toolbox's keys (inverse of the converter).

    The inverse of :func:`convert_rppg_toolbox_physnet`, with the same checks in rppgblocks' names: the input must have
    exactly the keys and shapes of ``model.state_dict()`` (a ``module.`` prefix on every key is dropped). The result
    loads into rPPG-Toolbox's ``PhysNet_padding_Encoder_Decoder_MAX`` (spec ``architectures.md`` §1). The tensors are
    not copied.

    Args:
        state_dict: A PhysNet state dict (``stem.0.0.weight``, ..., ``head.bias``).
        model: The PhysNet whose keys and shapes are expected. Default: ``PhysNet()``, the toolbox's configuration.

    Returns:
        A new ``dict`` in the toolbox's naming and module order (``ConvBlock1`` ... ``ConvBlock9``, ``upsample``,
        ``upsample2``, ``ConvBlock10``).

    Raises:
        TypeError: If ``state_dict`` is not a mapping.
        ValueError: If keys are missing or left over, a value is not a tensor, or a shape differs; the message names
            ``state_dict`` and lists each problem.

    Examples:
        >>> from rppgblocks.models import PhysNet
        >>> toolbox = to_rppg_toolbox_physnet(PhysNet().state_dict())
        >>> len(toolbox), toolbox["ConvBlock10.weight"].shape
        (79, torch.Size([1, 64, 1, 1, 1]))
    """
    return _convert(
        state_dict,
        table=_OURS_TO_TOOLBOX,
        inverse=_TOOLBOX_TO_OURS,
        expected={_rename(key, _OURS_TO_TOOLBOX) or key: shape for key, shape in _expected_shapes(model).items()},
        name="state_dict",
        what="PhysNet in rppgblocks' key naming",
    )


def _infer_config(state_dict: Mapping[str, object]) -> dict[str, int]:
    """PhysNet constructor arguments read off a toolbox state dict's conv weights (empty where a key is absent)."""
    source = _strip_parallel_prefix(state_dict)
    config: dict[str, int] = {}
    for key, dim, argument in (
        ("ConvBlock1.0.weight", 1, "in_channels"),
        ("ConvBlock1.0.weight", 0, "stem_channels"),
        ("ConvBlock2.0.weight", 0, "stage1_mid_channels"),
        ("ConvBlock3.0.weight", 0, "width"),
    ):
        value = source.get(key)
        if isinstance(value, Tensor) and value.dim() == 5:
            config[argument] = int(value.shape[dim])
    return config


def load_rppg_toolbox_physnet(
    path_or_state_dict: str | os.PathLike[str] | IO[bytes] | Mapping[str, Tensor],
    *,
    map_location: str | torch.device = "cpu",
) -> PhysNet:
    r"""Build a :class:`~rppgblocks.models.PhysNet` from an rPPG-Toolbox PhysNet checkpoint, in eval mode.

    The file is read with ``torch.load(..., weights_only=True)`` (no arbitrary code runs), the channel counts are read
    off the conv weights (the released checkpoints give the default ``PhysNet()``), and the weights are converted and
    checked by :func:`convert_rppg_toolbox_physnet`. The model then computes the toolbox network's output, the BVP
    ``(B, T)`` (its first return value), for DiffNormalized 72x72 clips at 30 fps when the checkpoint was trained so
    (spec ``architectures.md`` §1).

    Args:
        path_or_state_dict: A checkpoint file (path or binary file object) holding a plain state dict, as
            rPPG-Toolbox saves it, or an already loaded state dict. A ``module.`` prefix on every key is accepted.
        map_location: Where ``torch.load`` puts the tensors (ignored for a state dict).

    Returns:
        The PhysNet with the checkpoint's weights and BatchNorm statistics, in eval mode.

    Raises:
        ValueError: If the file does not hold a state dict, or the state dict does not match PhysNet (missing or
            unexpected keys, wrong shapes; see :func:`convert_rppg_toolbox_physnet`).

    Shape:
        - the model's input: :math:`(B, C, T, H, W)`, :math:`T \bmod 4 = 0`; output: :math:`(B, T)`

    Examples:
        >>> import io
        >>> import torch
        >>> from rppgblocks.models import PhysNet
        >>> buffer = io.BytesIO()
        >>> torch.save(to_rppg_toolbox_physnet(PhysNet().state_dict()), buffer)
        >>> _ = buffer.seek(0)
        >>> model = load_rppg_toolbox_physnet(buffer)
        >>> model.training, model(torch.rand(1, 3, 8, 16, 16)).shape
        (False, torch.Size([1, 8]))
    """
    from rppgblocks.models.physnet import PhysNet  # deferred: physnet.py imports this module

    if isinstance(path_or_state_dict, Mapping):
        state_dict: Mapping[str, Tensor] = path_or_state_dict
    else:
        loaded = torch.load(path_or_state_dict, map_location=map_location, weights_only=True)
        if not isinstance(loaded, Mapping):
            raise ValueError(
                f"path_or_state_dict: expected a checkpoint holding a state dict, got a {type(loaded).__name__}"
            )
        state_dict = loaded
    model = PhysNet(**_infer_config(state_dict))
    model.load_state_dict(convert_rppg_toolbox_physnet(state_dict, model=model))
    return model.eval()
