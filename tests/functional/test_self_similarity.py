from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.errors import ShapeError
from rppgblocks.functional.self_similarity import (
    self_similarity_diagonal_std,
    self_similarity_map,
    self_similarity_wave,
)

token_sizes = st.tuples(st.integers(1, 3), st.integers(1, 16), st.integers(1, 6))


def _periodic_tokens(period: int, frames: int, dim: int, seed: int) -> torch.Tensor:
    """Tokens ``(1, frames, dim)`` that repeat every ``period`` frames: a random linear image of a unit circle."""
    gen = torch.Generator().manual_seed(seed)
    phase = 2 * torch.pi * torch.arange(frames, dtype=torch.float64) / period
    circle = torch.stack([torch.cos(phase), torch.sin(phase)], dim=-1)
    mixing = torch.randn(2, dim, generator=gen, dtype=torch.float64)
    return (circle @ mixing)[None]


@given(token_sizes, st.sampled_from(["cosine", "dot"]))
def test_map_shape_and_exact_symmetry(size: tuple[int, int, int], similarity: str) -> None:
    tokens = torch.randn(*size)
    ssm = self_similarity_map(tokens, similarity=similarity)  # type: ignore[arg-type]
    assert ssm.shape == (size[0], size[1], size[1]) and ssm.dtype == tokens.dtype
    assert torch.equal(ssm, ssm.mT)


@given(token_sizes)
def test_cosine_map_has_unit_diagonal_and_lies_in_unit_interval(size: tuple[int, int, int]) -> None:
    tokens = torch.randn(*size) + 0.1  # no all-zero token
    ssm = self_similarity_map(tokens)
    torch.testing.assert_close(ssm.diagonal(dim1=-2, dim2=-1), torch.ones(size[0], size[1]))
    assert bool((ssm.abs() <= 1 + 1e-6).all())


def test_cosine_matches_pairwise_cosine_and_dot_matches_gram() -> None:
    tokens = torch.randn(2, 7, 5, dtype=torch.float64)
    expected = torch.nn.functional.cosine_similarity(tokens[:, :, None], tokens[:, None, :], dim=-1)
    torch.testing.assert_close(self_similarity_map(tokens), expected)
    torch.testing.assert_close(self_similarity_map(tokens, similarity="dot"), tokens @ tokens.mT)


def test_zero_token_gives_zero_row() -> None:
    tokens = torch.randn(1, 4, 3)
    tokens[0, 2] = 0.0
    ssm = self_similarity_map(tokens)
    assert torch.equal(ssm[0, 2], torch.zeros(4)) and torch.isfinite(ssm).all()


@given(token_sizes.filter(lambda s: s[1] >= 3))
def test_wave_and_diagonal_std_match_a_loop_oracle(size: tuple[int, int, int]) -> None:
    ssm = torch.randn(size[0], size[1], size[1], dtype=torch.float64)
    frames = size[1]
    wave = self_similarity_wave(ssm)
    spread = self_similarity_diagonal_std(ssm)
    assert wave.shape == (size[0], frames) and spread.shape == (size[0], frames - 2)
    for d in range(frames):
        diagonal = ssm.diagonal(offset=d, dim1=-2, dim2=-1)
        torch.testing.assert_close(wave[:, d], diagonal.mean(dim=-1))
        if 1 <= d <= frames - 2:
            torch.testing.assert_close(spread[:, d - 1], diagonal.std(dim=-1))


@given(st.integers(3, 12), st.integers(2, 8), st.integers(0, 1000))
def test_wave_of_a_periodic_sequence_peaks_at_its_period(period: int, dim: int, seed: int) -> None:
    frames = 4 * period
    wave = self_similarity_wave(self_similarity_map(_periodic_tokens(period, frames, dim, seed)))[0]
    window = wave[1 : period + period // 2 + 1]  # lags 1 .. 1.5 periods: one peak, at the period
    assert int(window.argmax()) + 1 == period
    torch.testing.assert_close(wave[period], wave.new_tensor(1.0))


@given(token_sizes.filter(lambda s: s[1] >= 3))
def test_batch_consistency(size: tuple[int, int, int]) -> None:
    tokens = torch.randn(*size)
    ssm = self_similarity_map(tokens)
    per_item = torch.cat([self_similarity_map(tokens[i : i + 1]) for i in range(size[0])])
    torch.testing.assert_close(ssm, per_item)
    torch.testing.assert_close(self_similarity_wave(ssm), torch.cat([self_similarity_wave(m[None]) for m in ssm]))
    torch.testing.assert_close(
        self_similarity_diagonal_std(ssm), torch.cat([self_similarity_diagonal_std(m[None]) for m in ssm])
    )


def test_gradcheck() -> None:
    tokens = torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: self_similarity_wave(self_similarity_map(z)), (tokens,))
    assert torch.autograd.gradcheck(lambda z: self_similarity_diagonal_std(self_similarity_map(z)), (tokens,))


def test_toeplitz_map_has_zero_not_nan_gradient() -> None:
    lags = torch.arange(6.0)
    toeplitz = torch.cos(lags[:, None] - lags[None, :])[None].requires_grad_(True)
    self_similarity_diagonal_std(toeplitz).sum().backward()
    assert toeplitz.grad is not None and torch.equal(toeplitz.grad, torch.zeros_like(toeplitz))


def test_compile_fullgraph_matches_eager() -> None:
    def fn(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ssm = self_similarity_map(z)
        return self_similarity_wave(ssm), self_similarity_diagonal_std(ssm)

    tokens = torch.randn(2, 9, 4)
    compiled = torch.compile(fn, fullgraph=True, backend="aot_eager")(tokens)
    for a, b in zip(fn(tokens), compiled, strict=True):
        torch.testing.assert_close(b, a)


def test_errors() -> None:
    with pytest.raises(ShapeError, match=r"tokens: expected shape \(b t d\), got \(4, 3\)"):
        self_similarity_map(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="similarity"):
        self_similarity_map(torch.zeros(1, 4, 3), similarity="l2")  # type: ignore[arg-type]
    with pytest.raises(ShapeError, match=r"ssm: expected shape \(b t t\), got \(1, 4, 5\); .*square"):
        self_similarity_wave(torch.zeros(1, 4, 5))
    with pytest.raises(ShapeError, match=r"ssm: expected shape \(b t s\), got \(4, 4\)"):
        self_similarity_wave(torch.zeros(4, 4))
    with pytest.raises(ShapeError, match="T >= 3"):
        self_similarity_diagonal_std(torch.zeros(1, 2, 2))
