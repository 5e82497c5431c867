from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import UncertaintyMultiTaskLoss
from rppgblocks.losses import uncertainty_weighted_term

losses = st.floats(1e-3, 1e3)


@given(losses)
def test_regression_minimiser_is_log_loss_with_closed_form_value(value: float) -> None:
    loss = torch.tensor(value, dtype=torch.float64)
    grid = torch.linspace(-15, 15, 300001, dtype=torch.float64)
    terms = uncertainty_weighted_term(loss, grid, kind="regression")
    assert float(grid[terms.argmin()]) == pytest.approx(math.log(value), abs=1e-3)
    s_star = torch.tensor(math.log(value), dtype=torch.float64, requires_grad=True)
    at_optimum = uncertainty_weighted_term(loss, s_star, kind="regression")
    (grad,) = torch.autograd.grad(at_optimum, s_star)
    assert abs(float(grad)) < 1e-9
    assert float(at_optimum.detach()) == pytest.approx(0.5 * (1 + math.log(value)), rel=1e-9, abs=1e-12)


@given(losses)
def test_classification_minimisers(value: float) -> None:
    """d/ds [w(s) L + s/2] = 0 gives s* = log(2L) for w = exp(-s) (Kendall) and 2 log L for w = exp(-s/2)."""
    loss = torch.tensor(value, dtype=torch.float64)
    grid = torch.linspace(-15, 15, 300001, dtype=torch.float64)
    kendall = uncertainty_weighted_term(loss, grid, kind="classification")
    assert float(grid[kendall.argmin()]) == pytest.approx(math.log(2 * value), abs=1e-3)
    literal = uncertainty_weighted_term(loss, grid, kind="classification", classification_form="rfacenet")
    assert float(grid[literal.argmin()]) == pytest.approx(2 * math.log(value), abs=1e-3)


@given(st.lists(st.floats(0.0, 1e6), min_size=1, max_size=4), st.floats(-30.0, 30.0))
def test_always_finite_for_nonnegative_losses(values: list[float], s0: float) -> None:
    tasks = {f"t{i}": ("regression" if i % 2 == 0 else "classification") for i in range(len(values))}
    criterion = UncertaintyMultiTaskLoss(tasks, init_log_variance=s0)  # type: ignore[arg-type]
    out = criterion({name: torch.tensor(v) for name, v in zip(tasks, values, strict=True)})
    assert torch.isfinite(out.total)
    out.total.backward()
    assert criterion.log_variances.grad is not None and torch.isfinite(criterion.log_variances.grad).all()


def test_total_is_the_sum_of_terms_and_logging_values() -> None:
    criterion = UncertaintyMultiTaskLoss(
        {"bvp": "regression", "hr": "regression", "identity": "classification"},
        init_log_variance={"hr": math.log(4.0)},
    )
    out = criterion({"bvp": torch.tensor(0.5), "hr": torch.tensor(4.0), "identity": torch.tensor(1.0)})
    torch.testing.assert_close(out.total, sum(out.terms.values()))
    assert out.terms["bvp"].item() == pytest.approx(0.25)
    assert out.terms["hr"].item() == pytest.approx(0.5 + 0.5 * math.log(4.0))
    assert out.weights["hr"].item() == pytest.approx(0.125)
    assert out.log_variances["identity"].item() == 0.0
    assert not out.weights["bvp"].requires_grad


def test_learning_balances_tasks_of_different_scales() -> None:
    """Gradient descent on s drives each weight to 1/(2 L_k): the effective weighted losses equalise."""
    criterion = UncertaintyMultiTaskLoss({"small": "regression", "large": "regression"})
    optimiser = torch.optim.Adam(criterion.parameters(), lr=0.05)
    fixed = {"small": torch.tensor(0.01), "large": torch.tensor(100.0)}
    for _ in range(2000):
        optimiser.zero_grad()
        criterion(fixed).total.backward()
        optimiser.step()
    torch.testing.assert_close(
        criterion.log_variances.detach(), torch.log(torch.tensor([0.01, 100.0])), atol=1e-2, rtol=0
    )


def test_errors() -> None:
    with pytest.raises(ValueError, match="tasks"):
        UncertaintyMultiTaskLoss({})
    with pytest.raises(ValueError, match=r"tasks\['a'\]"):
        UncertaintyMultiTaskLoss({"a": "ranking"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="init_log_variance"):
        UncertaintyMultiTaskLoss({"a": "regression"}, init_log_variance={"b": 1.0})
    criterion = UncertaintyMultiTaskLoss({"a": "regression", "b": "classification"})
    with pytest.raises(ValueError, match=r"missing \['b'\], unexpected \['c'\]"):
        criterion({"a": torch.tensor(1.0), "c": torch.tensor(1.0)})
    with pytest.raises(ValueError, match=r"losses\['a'\]: expected a scalar tensor, got \(3,\)"):
        criterion({"a": torch.ones(3), "b": torch.tensor(1.0)})
