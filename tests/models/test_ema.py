from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from rppgblocks.models.ema import EMATeacher, cosine_ema_momentum, ema_update_


def _student(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2))


@given(st.floats(0.0, 1.0), st.integers(0, 1000))
def test_update_follows_the_formula_exactly(momentum: float, seed: int) -> None:
    student = _student(seed)
    teacher = EMATeacher(student, momentum=0.5)
    with torch.no_grad():
        for p in student.parameters():
            p.add_(torch.randn_like(p))
    student.train()(torch.randn(5, 3))  # change the BatchNorm running statistics
    before = {name: p.clone() for name, p in teacher.module.named_parameters()}
    teacher.update(student, momentum)
    for name, s in student.named_parameters():
        expected = before[name] * momentum + s.detach() * (1.0 - momentum)
        assert torch.equal(dict(teacher.module.named_parameters())[name], expected), name
    for (name, t), s in zip(teacher.module.named_buffers(), student.buffers(), strict=True):
        assert torch.equal(t, s), name


def test_default_momentum_endpoints_and_student_untouched() -> None:
    student = _student(0)
    teacher = EMATeacher(student, momentum=1.0)
    original = copy.deepcopy(student.state_dict())
    with torch.no_grad():
        for p in student.parameters():
            p.mul_(2.0)
    frozen = {k: v.clone() for k, v in teacher.module.state_dict().items()}
    teacher.update(student)  # momentum 1: parameters kept
    for name, p in teacher.module.named_parameters():
        assert torch.equal(p, frozen[name])
    teacher.update(student, 0.0)  # momentum 0: parameters copied
    for (name, p), s in zip(teacher.module.named_parameters(), student.parameters(), strict=True):
        assert torch.equal(p, s), name
    assert all(torch.equal(v, 2.0 * original[k]) for k, v in student.state_dict().items() if "weight" in k)


def test_teacher_has_no_gradients_and_detached_outputs() -> None:
    student = _student(1)
    teacher = EMATeacher(student)
    assert all(not p.requires_grad for p in teacher.parameters())
    assert all(p.requires_grad for p in student.parameters())
    x = torch.randn(4, 3, requires_grad=True)
    out = teacher(x)
    assert not out.requires_grad and out.grad_fn is None
    torch.testing.assert_close(out, student(x).detach())  # a copy, in the same (train) mode
    assert teacher.module is not student


def test_ema_update_function_and_batch_norm_mode() -> None:
    student, other = _student(2), _student(3)
    before = [p.clone() for p in other.parameters()]
    ema_update_(other, student, 0.25)
    for old, new, s in zip(before, other.parameters(), student.parameters(), strict=True):
        assert torch.equal(new, old * 0.25 + s * 0.75)
    assert all(p.requires_grad for p in other.parameters())  # the function leaves requires_grad alone
    teacher = EMATeacher(student).eval()
    assert not teacher.module.training and student.training


def test_cosine_schedule() -> None:
    values = [cosine_ema_momentum(s, 10) for s in range(12)]
    assert values[0] == pytest.approx(0.9) and values[10] == values[11] == 1.0
    assert values == sorted(values)
    assert cosine_ema_momentum(5, 10, start=0.5, end=0.7) == pytest.approx(0.6)


def test_errors() -> None:
    student = _student(0)
    with pytest.raises(ValueError, match=r"momentum: expected a number in \[0, 1\], got 1.5"):
        EMATeacher(student, momentum=1.5)
    with pytest.raises(ValueError, match="momentum"):
        ema_update_(copy.deepcopy(student), student, -0.1)
    with pytest.raises(ValueError, match=r"teacher: its parameters differ from the student's: missing"):
        ema_update_(nn.Linear(3, 4), student, 0.9)
    with pytest.raises(ValueError, match=r"teacher: parameter 'weight' has shape \(2, 3\), the student's \(4, 3\)"):
        ema_update_(nn.Linear(3, 2), nn.Linear(3, 4), 0.9)
    with pytest.raises(ValueError, match="total_steps"):
        cosine_ema_momentum(1, 0)
    with pytest.raises(ValueError, match="step"):
        cosine_ema_momentum(-1, 10)
