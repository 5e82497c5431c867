r"""An exponential-moving-average (EMA) teacher for self-distillation, and its update rule.

Source: the mean-teacher / BYOL target network as SSPD uses it (Zhang et al., IEEE TMM 2024, arXiv 2311.05100,
Fig. 3; rppgblocks spec ``architectures.md`` §5.5): after every optimisation step
:math:`\theta_t \leftarrow m\,\theta_t + (1 - m)\,\theta_s`, with :math:`m` on a cosine schedule from 0.9 to 1.
Generic: nothing here is specific to SSPD.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

__all__ = ["EMATeacher", "cosine_ema_momentum", "ema_update_"]


def _check_momentum(momentum: float) -> float:
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum: expected a number in [0, 1], got {momentum!r}")
    return float(momentum)


@torch.no_grad()
def ema_update_(teacher: nn.Module, student: nn.Module, momentum: float) -> None:
    r"""Move ``teacher``'s parameters toward ``student``'s in place and copy its buffers.

    For every floating-point parameter :math:`\theta_t \leftarrow m\,\theta_t + (1 - m)\,\theta_s` (computed as
    ``theta_t * m + theta_s * (1 - m)``); every buffer (e.g. BatchNorm running statistics) and every
    non-floating-point parameter is copied from the student. ``momentum=1`` keeps the parameters, ``0`` copies them.
    The two modules must have the same parameter and buffer names and shapes (e.g. the teacher a ``deepcopy`` of the
    student). No gradient is recorded.

    Args:
        teacher: The module updated in place.
        student: The module it follows.
        momentum: :math:`m \in [0, 1]`.

    Raises:
        ValueError: If ``momentum`` is outside [0, 1] or the modules' parameters or buffers differ in name or shape.

    Examples:
        >>> import torch
        >>> student, teacher = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
        >>> with torch.no_grad():
        ...     _ = student.weight.fill_(1.0), teacher.weight.fill_(0.0)
        >>> ema_update_(teacher, student, momentum=0.9)
        >>> teacher.weight
        Parameter containing:
        tensor([[0.1000, 0.1000]], requires_grad=True)
    """
    m = _check_momentum(momentum)
    for kind, t_items, s_items in (
        ("parameters", dict(teacher.named_parameters()), dict(student.named_parameters())),
        ("buffers", dict(teacher.named_buffers()), dict(student.named_buffers())),
    ):
        if t_items.keys() != s_items.keys():
            missing, extra = sorted(s_items.keys() - t_items.keys()), sorted(t_items.keys() - s_items.keys())
            raise ValueError(f"teacher: its {kind} differ from the student's: missing {missing}, unexpected {extra}")
        for name, t in t_items.items():
            s = s_items[name]
            if t.shape != s.shape:
                raise ValueError(
                    f"teacher: {kind[:-1]} {name!r} has shape {tuple(t.shape)}, the student's {tuple(s.shape)}"
                )
            if kind == "parameters" and t.is_floating_point():
                t.copy_(t * m + s.detach().to(t.dtype) * (1.0 - m))
            else:
                t.copy_(s.detach())


def cosine_ema_momentum(step: int, total_steps: int, *, start: float = 0.9, end: float = 1.0) -> float:
    r"""The EMA momentum at ``step`` of a cosine schedule from ``start`` to ``end`` (SSPD: 0.9 to 1; spec §5.5).

    :math:`m(s) = e - (e - b)\,\frac{1 + \cos(\pi \min(s, S) / S)}{2}`: :math:`b` at step 0, :math:`e` from step
    :math:`S` on (the BYOL schedule).

    Args:
        step: The current step, :math:`s \ge 0`.
        total_steps: The schedule's length :math:`S > 0`.
        start: :math:`b \in [0, 1]`.
        end: :math:`e \in [0, 1]`.

    Returns:
        The momentum :math:`m(s)`.

    Raises:
        ValueError: If ``step`` is negative, ``total_steps`` is not positive, or ``start``/``end`` is outside [0, 1].

    Examples:
        >>> cosine_ema_momentum(0, 100), cosine_ema_momentum(50, 100), cosine_ema_momentum(100, 100)
        (0.9, 0.95, 1.0)
    """
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step: expected an integer >= 0, got {step!r}")
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps <= 0:
        raise ValueError(f"total_steps: expected a positive integer, got {total_steps!r}")
    start, end = _check_momentum(start), _check_momentum(end)
    progress = min(step, total_steps) / total_steps
    return end - (end - start) * (1.0 + math.cos(math.pi * progress)) / 2.0


class EMATeacher(nn.Module):
    r"""A teacher network that follows a student by an exponential moving average of its parameters.

    Holds a ``deepcopy`` of the student (``module``) whose parameters never require gradients; :meth:`update` applies
    :func:`ema_update_` (:math:`\theta_t \leftarrow m\,\theta_t + (1 - m)\,\theta_s`, buffers copied), and
    ``forward`` runs the copy under :func:`torch.no_grad`, so its outputs are detached targets. The teacher's
    train/eval mode is its own (SSPD keeps it in train mode, so its BatchNorm uses batch statistics; spec §5.5).

    Args:
        student: The network to follow; it is copied, not shared.
        momentum: The default :math:`m \in [0, 1]` of :meth:`update`.

    Raises:
        ValueError: If ``momentum`` is outside [0, 1].

    Shape:
        - Input and output: those of ``student``

    Examples:
        >>> import torch
        >>> student = torch.nn.Linear(4, 2)
        >>> teacher = EMATeacher(student, momentum=0.99)
        >>> teacher(torch.randn(3, 4)).requires_grad
        False
        >>> with torch.no_grad():
        ...     _ = student.bias.add_(1.0)
        >>> before = teacher.module.bias.clone()
        >>> teacher.update(student)
        >>> torch.allclose(teacher.module.bias, before + 0.01)
        True
    """

    def __init__(self, student: nn.Module, *, momentum: float = 0.99) -> None:
        super().__init__()
        self.momentum = _check_momentum(momentum)
        self.module = copy.deepcopy(student)
        self.module.requires_grad_(False)

    def update(self, student: nn.Module, momentum: float | None = None) -> None:
        """Move the teacher toward ``student`` with ``momentum`` (default: the constructor's)."""
        ema_update_(self.module, student, self.momentum if momentum is None else momentum)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Run the teacher without recording gradients; the arguments are those of the student's ``forward``."""
        with torch.no_grad():
            return self.module(*args, **kwargs)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return f"momentum={self.momentum}"
