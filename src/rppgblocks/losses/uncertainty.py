r"""Homoscedastic-uncertainty weighting of several task losses (Kendall, Gal and Cipolla, CVPR 2018).

Each task :math:`k` gets a learned log variance :math:`s_k = \log \sigma_k^2`. rFaceNet (arXiv 2403.09034, §3.4,
Eq. 4) uses it for its BVP, HR (regression) and identity (classification) tasks; rppgblocks follows the spec's
resolutions (``architectures.md`` §2.5, §2.8 items 5-8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple

import torch
from torch import Tensor, nn

__all__ = [
    "ClassificationForm",
    "TaskKind",
    "UncertaintyLossOutput",
    "UncertaintyMultiTaskLoss",
    "uncertainty_weighted_term",
]

TaskKind = Literal["regression", "classification"]
ClassificationForm = Literal["kendall", "rfacenet"]


def uncertainty_weighted_term(
    loss: Tensor,
    log_variance: Tensor,
    *,
    kind: TaskKind,
    classification_form: ClassificationForm = "kendall",
) -> Tensor:
    r"""One task's term of the uncertainty-weighted loss.

    With :math:`s = \log\sigma^2` and task loss :math:`L`:

    - regression (Kendall et al. 2018, Eq. 7): :math:`\tfrac12 e^{-s} L + \tfrac12 s`;
    - classification, ``"kendall"`` (Eq. 10, :math:`1/\sigma^2`): :math:`e^{-s} L + \tfrac12 s`;
    - classification, ``"rfacenet"`` (rFaceNet Eq. 4 taken literally, :math:`1/\sigma`):
      :math:`e^{-s/2} L + \tfrac12 s`.

    For a regression task the minimiser over :math:`s` is :math:`s^* = \log L`, where the term equals
    :math:`\tfrac12(1 + \log L)`.

    Args:
        loss: The task's loss, a scalar tensor (>= 0).
        log_variance: The task's log variance :math:`s`, a scalar tensor.
        kind: ``"regression"`` or ``"classification"``.
        classification_form: ``"kendall"`` (default) or ``"rfacenet"``.

    Returns:
        The weighted term, a scalar tensor (float32 or wider).

    Raises:
        ValueError: If ``kind`` or ``classification_form`` is unknown.

    Shape:
        - loss, log_variance, output: :math:`()` (or any broadcastable shapes, elementwise)

    Examples:
        >>> term = uncertainty_weighted_term(torch.tensor(4.0), torch.log(torch.tensor(4.0)), kind="regression")
        >>> round(float(term), 4)  # 0.5 * (1 + log 4)
        1.1931
    """
    s = log_variance.float() if log_variance.dtype in (torch.float16, torch.bfloat16) else log_variance
    value = loss.float() if loss.dtype in (torch.float16, torch.bfloat16) else loss
    return _loss_weight(s, kind, classification_form) * value + 0.5 * s


def _loss_weight(log_variance: Tensor, kind: TaskKind, classification_form: ClassificationForm) -> Tensor:
    """The factor in front of a task's loss: 1/(2 sigma^2), 1/sigma^2 or 1/sigma."""
    if kind == "regression":
        return 0.5 * torch.exp(-log_variance)
    if kind != "classification":
        raise ValueError(f"kind: expected 'regression' or 'classification', got {kind!r}")
    if classification_form == "kendall":
        return torch.exp(-log_variance)
    if classification_form == "rfacenet":
        return torch.exp(-0.5 * log_variance)
    raise ValueError(f"classification_form: expected 'kendall' or 'rfacenet', got {classification_form!r}")


class UncertaintyLossOutput(NamedTuple):
    r"""What :class:`UncertaintyMultiTaskLoss` returns.

    Attributes:
        total: The loss to minimise, a scalar.
        terms: Each task's weighted term (part of ``total``), for logging.
        weights: Each task's effective weight on its loss (:math:`\tfrac12 e^{-s}` for regression), detached.
        log_variances: Each task's current :math:`s = \log\sigma^2`, detached.

    Examples:
        >>> criterion = UncertaintyMultiTaskLoss({"bvp": "regression"}, init_log_variance=0.0)
        >>> out = criterion({"bvp": torch.tensor(2.0)})
        >>> float(out.total.detach()), float(out.weights["bvp"]), float(out.log_variances["bvp"])
        (1.0, 0.5, 0.0)
    """

    total: Tensor
    terms: dict[str, Tensor]
    weights: dict[str, Tensor]
    log_variances: dict[str, Tensor]


class UncertaintyMultiTaskLoss(nn.Module):
    r"""Combine task losses with learned homoscedastic uncertainty (Kendall et al., CVPR 2018; rFaceNet Eq. 4).

    .. math::
        L = \sum_{k \in \text{regr}} \left(\tfrac12 e^{-s_k} L_k + \tfrac12 s_k\right)
          + \sum_{k \in \text{cls}} \left(e^{-s_k} L_k + \tfrac12 s_k\right)

    with one learned scalar :math:`s_k = \log\sigma_k^2` per task in the parameter ``log_variances`` (learning
    :math:`\log\sigma^2` rather than :math:`\sigma` keeps it unconstrained and avoids division by zero).
    ``classification_form="rfacenet"`` uses rFaceNet's literal :math:`1/\sigma` weight instead
    (see :func:`uncertainty_weighted_term`).

    Keep ``log_variances`` out of weight decay (give them their own optimiser parameter group). Their starting value
    matters only through the scale of each :math:`L_k` (spec §2.5): state losses in units of order 1 (e.g. HR in Hz
    rather than bpm) or set ``init_log_variance`` to :math:`\log L_k` at the start.

    Args:
        tasks: Task names mapped to ``"regression"`` or ``"classification"``, e.g.
            ``{"bvp": "regression", "hr": "regression", "identity": "classification"}``. The order is kept.
        classification_form: ``"kendall"`` (default) or ``"rfacenet"``.
        init_log_variance: Initial :math:`s_k`: one float for all tasks or a mapping per task (default 0, i.e.
            :math:`\sigma = 1`).

    Raises:
        ValueError: If ``tasks`` is empty or names an unknown kind, or ``init_log_variance`` names an unknown task;
            in ``forward``, if the losses' names differ from the tasks' or a loss is not a scalar.

    Shape:
        - losses: a mapping of scalar tensors, one per task
        - Output: :class:`UncertaintyLossOutput` with a scalar ``total``

    Examples:
        >>> import torch
        >>> criterion = UncertaintyMultiTaskLoss({"bvp": "regression", "identity": "classification"})
        >>> out = criterion({"bvp": torch.tensor(0.8), "identity": torch.tensor(2.3)})
        >>> round(float(out.total.detach()), 4)  # 0.5 * 0.8 + 2.3 at s = 0
        2.7
        >>> sorted(out.terms)
        ['bvp', 'identity']
    """

    def __init__(
        self,
        tasks: Mapping[str, TaskKind],
        *,
        classification_form: ClassificationForm = "kendall",
        init_log_variance: float | Mapping[str, float] = 0.0,
    ) -> None:
        super().__init__()
        if not tasks:
            raise ValueError("tasks: expected at least one task, got an empty mapping")
        for name, kind in tasks.items():
            if kind not in ("regression", "classification"):
                raise ValueError(f"tasks[{name!r}]: expected 'regression' or 'classification', got {kind!r}")
        if classification_form not in ("kendall", "rfacenet"):
            raise ValueError(f"classification_form: expected 'kendall' or 'rfacenet', got {classification_form!r}")
        self.task_names: tuple[str, ...] = tuple(tasks)
        self.task_kinds: tuple[TaskKind, ...] = tuple(tasks.values())
        self.classification_form: ClassificationForm = classification_form
        if isinstance(init_log_variance, Mapping):
            unknown = sorted(set(init_log_variance) - set(self.task_names))
            if unknown:
                raise ValueError(f"init_log_variance: unknown task(s) {unknown}; tasks are {list(self.task_names)}")
            init = [float(init_log_variance.get(name, 0.0)) for name in self.task_names]
        else:
            init = [float(init_log_variance)] * len(self.task_names)
        self.log_variances = nn.Parameter(torch.tensor(init, dtype=torch.float32))

    def forward(self, losses: Mapping[str, Tensor]) -> UncertaintyLossOutput:
        """Weight ``losses`` (one scalar per task) into the total loss."""
        if set(losses) != set(self.task_names):
            missing = sorted(set(self.task_names) - set(losses))
            extra = sorted(set(losses) - set(self.task_names))
            raise ValueError(
                f"losses: expected exactly the tasks {list(self.task_names)}; missing {missing}, unexpected {extra}"
            )
        terms: dict[str, Tensor] = {}
        weights: dict[str, Tensor] = {}
        log_variances: dict[str, Tensor] = {}
        for index, (name, kind) in enumerate(zip(self.task_names, self.task_kinds, strict=True)):
            loss = losses[name]
            if not isinstance(loss, Tensor) or loss.dim() != 0:
                shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
                raise ValueError(f"losses[{name!r}]: expected a scalar tensor, got {shape}")
            s = self.log_variances[index]
            terms[name] = uncertainty_weighted_term(loss, s, kind=kind, classification_form=self.classification_form)
            weights[name] = _loss_weight(s, kind, self.classification_form).detach()
            log_variances[name] = s.detach()
        total = torch.stack(list(terms.values())).sum()
        return UncertaintyLossOutput(total, terms, weights, log_variances)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        tasks = ", ".join(f"{n}={k}" for n, k in zip(self.task_names, self.task_kinds, strict=True))
        return f"tasks=({tasks}), classification_form={self.classification_form!r}"
