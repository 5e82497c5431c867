r"""Self-similarity maps and self-similarity waves of temporal feature sequences (SSPD's S³M).

Source: Zhang et al., "Self-similarity prior distillation for unsupervised remote physiological measurement", IEEE
TMM 26 (2024), arXiv 2311.05100, Fig. 2 (self-similarity waves) and Fig. 5 (Temporal Similarity block); rppgblocks
spec ``architectures.md`` §5.3 (map and wave) and §5.4 (the diagonal regulariser).

A sequence of feature vectors :math:`z_1, \dots, z_T` (one per frame) has the self-similarity map
:math:`S_{ij} = \mathrm{sim}(z_i, z_j)`. For a periodic signal the map is (close to) Toeplitz, and the mean of each
upper diagonal, the *self-similarity wave* :math:`w_d = \mathrm{mean}_i\, S_{i, i+d}`, behaves like an
autocorrelation: it peaks at lags that are multiples of the period.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from rppgblocks._checks import check_shape
from rppgblocks.errors import ShapeError

__all__ = [
    "Similarity",
    "self_similarity_diagonal_std",
    "self_similarity_map",
    "self_similarity_wave",
]

Similarity = Literal["cosine", "dot"]

#: Layout of a token sequence: batch, time, feature dimension.
_TOKENS = "b t d"
#: Layout of a self-similarity map: batch, time, time.
_MAP = "b t s"


def self_similarity_map(tokens: Tensor, *, similarity: Similarity = "cosine", eps: float = 1e-8) -> Tensor:
    r"""Pairwise similarity over time of a batch of feature sequences (SSPD's self-similarity map, spec §5.3).

    With ``similarity="cosine"`` (SSPD's choice) :math:`S_{ij} = \frac{z_i \cdot z_j}{\max(\lVert z_i\rVert,
    \epsilon)\max(\lVert z_j\rVert, \epsilon)}`; with ``"dot"`` :math:`S_{ij} = z_i \cdot z_j`. The map is made
    exactly symmetric (:math:`(S + S^\top)/2`, which only removes floating-point asymmetry of the matrix product).
    The cosine map lies in [-1, 1] with a unit diagonal, except that an all-zero token gives a zero row and column.

    Autograd, ``torch.compile`` and ``torch.export`` supported. One batched matrix product, no loop over time.

    Args:
        tokens: Feature sequences ``(B, T, D)``: one ``D``-dimensional vector per frame.
        similarity: ``"cosine"`` (default) or ``"dot"``.
        eps: Lower bound of each token's norm in the cosine similarity.

    Returns:
        The self-similarity maps ``(B, T, T)``, in the input's dtype.

    Raises:
        ShapeError: If ``tokens`` is not 3-D.
        ValueError: If ``similarity`` is unknown.

    Shape:
        - tokens: :math:`(B, T, D)`
        - output: :math:`(B, T, T)`

    Examples:
        >>> import torch
        >>> t = torch.arange(8.0)
        >>> tokens = torch.stack([torch.cos(t), torch.sin(t)], dim=-1)[None]  # a unit circle, one turn per 2π frames
        >>> ssm = self_similarity_map(tokens)
        >>> ssm.shape
        torch.Size([1, 8, 8])
        >>> torch.allclose(ssm, ssm.mT), torch.allclose(ssm.diagonal(dim1=-2, dim2=-1), torch.ones(8))
        (True, True)
        >>> round(float(ssm[0, 0, 3]), 4) == round(float(torch.cos(torch.tensor(3.0))), 4)
        True
    """
    check_shape(tokens, _TOKENS, "tokens")
    if similarity == "cosine":
        tokens = F.normalize(tokens, p=2.0, dim=-1, eps=eps)
    elif similarity != "dot":
        raise ValueError(f"similarity: expected 'cosine' or 'dot', got {similarity!r}")
    ssm = tokens @ tokens.mT
    return 0.5 * (ssm + ssm.mT)


def _diagonals(ssm: Tensor, name: str) -> tuple[Tensor, Tensor]:
    """Gather the upper diagonals: ``values[b, i, d] = ssm[b, i, i + d]`` and ``valid[i, d] = i + d < T``."""
    check_shape(ssm, _MAP, name)
    frames = ssm.shape[-1]
    if ssm.shape[-2] != frames:
        raise ShapeError(name, "b t t", ssm.shape, "a self-similarity map must be square")
    steps = torch.arange(frames, device=ssm.device)
    column = steps[:, None] + steps[None, :]  # (i, d) -> i + d
    valid = column < frames
    values = torch.gather(ssm, -1, column.clamp(max=frames - 1).expand(ssm.shape[0], frames, frames))
    return values, valid


def self_similarity_wave(ssm: Tensor) -> Tensor:
    r"""Self-similarity wave: the mean of each upper diagonal of a self-similarity map (SSPD, spec §5.3; SP Fig. 2).

    :math:`w_d = \frac{1}{T - d}\sum_{i=0}^{T-1-d} S_{i, i+d}` for :math:`d = 0, \dots, T-1`: an
    autocorrelation-like curve over the lag :math:`d` (in frames). :math:`w_0` is the mean of the diagonal (1 for a
    cosine map); for a periodic feature sequence of period :math:`P` frames the wave peaks at :math:`d = P`.

    Autograd, ``torch.compile`` and ``torch.export`` supported. One gather, no loop over time.

    Args:
        ssm: Self-similarity maps ``(B, T, T)``, e.g. from :func:`self_similarity_map`.

    Returns:
        The waves ``(B, T)``, in the input's dtype.

    Raises:
        ShapeError: If ``ssm`` is not ``(B, T, T)``.

    Shape:
        - ssm: :math:`(B, T, T)`
        - output: :math:`(B, T)`

    Examples:
        >>> import torch
        >>> t = torch.arange(40.0)
        >>> phase = 2 * torch.pi * t / 10  # period: 10 frames
        >>> tokens = torch.stack([torch.cos(phase), torch.sin(phase)], dim=-1)[None]
        >>> wave = self_similarity_wave(self_similarity_map(tokens))
        >>> wave.shape
        torch.Size([1, 40])
        >>> int(wave[0, 5:15].argmax()) + 5  # the peak after lag 0 is at the period
        10
    """
    values, valid = _diagonals(ssm, "ssm")
    counts = valid.sum(dim=0).to(ssm.dtype)  # T - d
    return (values * valid).sum(dim=-2) / counts


def self_similarity_diagonal_std(ssm: Tensor) -> Tensor:
    r"""Standard deviation along each upper diagonal of a self-similarity map (SSPD's map regulariser, spec §5.4).

    :math:`\sigma_d = \mathrm{std}_i\, S_{i, i+d}` (Bessel-corrected, over the :math:`T - d` entries of diagonal
    :math:`d`) for :math:`d = 1, \dots, T - 2` (diagonal :math:`T - 1` has a single entry). All zero exactly when the
    map is Toeplitz above its main diagonal, the structure of a stationary periodic sequence; SSPD's regulariser
    penalises it (:class:`~rppgblocks.losses.sspd_loss.SSPDLoss`).

    Autograd (a zero spread has a zero gradient, not NaN), ``torch.compile`` and ``torch.export`` supported. No loop
    over time.

    Args:
        ssm: Self-similarity maps ``(B, T, T)`` with :math:`T \ge 3`.

    Returns:
        ``(B, T - 2)``: entry ``d - 1`` is :math:`\sigma_d`.

    Raises:
        ShapeError: If ``ssm`` is not ``(B, T, T)`` with :math:`T \ge 3`.

    Shape:
        - ssm: :math:`(B, T, T)`
        - output: :math:`(B, T - 2)`

    Examples:
        >>> import torch
        >>> lags = torch.arange(6.0)
        >>> toeplitz = torch.cos(lags[:, None] - lags[None, :])[None]
        >>> float(self_similarity_diagonal_std(toeplitz).abs().max()) < 1e-6
        True
        >>> self_similarity_diagonal_std(torch.rand(2, 6, 6)).shape
        torch.Size([2, 4])
    """
    values, valid = _diagonals(ssm, "ssm")
    frames = ssm.shape[-1]
    if frames < 3:
        raise ShapeError("ssm", "b t t", ssm.shape, f"the diagonal spread needs T >= 3, got T={frames}")
    values, valid = values[..., 1 : frames - 1], valid[:, 1 : frames - 1]
    counts = valid.sum(dim=0).to(ssm.dtype)  # T - d, d = 1..T-2
    mean = (values * valid).sum(dim=-2) / counts
    variance = ((values - mean[:, None, :]) * valid).square().sum(dim=-2) / (counts - 1)
    positive = variance > 0  # sqrt has an infinite derivative at 0: give an exactly Toeplitz map a zero gradient
    return torch.where(positive, torch.sqrt(torch.where(positive, variance, torch.ones_like(variance))), 0.0)
