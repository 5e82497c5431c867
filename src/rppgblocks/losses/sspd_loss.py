r"""SSPD's hierarchical self-distillation losses: TSPD on the self-similarity pyramid, RPD on the prediction.

Source: Zhang et al., "Self-similarity prior distillation for unsupervised remote physiological measurement", IEEE
TMM 26 (2024), arXiv 2311.05100, Fig. 3; the terms, constants and weights of the released ``losses/SSPDLoss.py`` as
described in the rppgblocks spec ``architectures.md`` §5.4. Rewritten from that description.

The online (student) network sees the masked local view and the target (teacher, an EMA of the student) the global
view (:func:`~rppgblocks.functional.sspd_views.sspd_views`); every target output is detached. Notation:

- :math:`\mathrm{NP}(a, b) = \mathrm{mean}(1 - r)`, :math:`r` the Bessel-corrected Pearson correlation along the
  last axis with :math:`\epsilon = 10^{-7}` added to the product of standard deviations, clamped to [-1, 1];
- :math:`\hat S(x) = |\mathrm{FFT}(x)|` over the first :math:`\lfloor N/2 \rfloor` bins, divided by its maximum;
- :math:`\mathrm{BR}(x) = \sum_i \hat S_i / \sum_{l \le i < h} \hat S_i - 1 \ge 0` with :math:`l = \lfloor f_{lo}
  N / f_s \rfloor`, :math:`h = \lfloor f_{hi} N / f_s \rfloor` (0.5-3 Hz at 30 fps): the out-of-band share of the
  spectrum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rppgblocks._checks import check_band, check_finite_positive, check_shape, check_weight
from rppgblocks.errors import ShapeError
from rppgblocks.functional.self_similarity import self_similarity_diagonal_std
from rppgblocks.layout import SIGNAL
from rppgblocks.models.sspd import SSPDOutput

__all__ = [
    "SSPDLoss",
    "SSPDLossOutput",
    "band_ratio",
    "normalized_spectrum",
    "rpd_loss",
    "self_similarity_regularizer",
    "tspd_loss",
    "wave_frequency_prior",
]

_EPS = 1e-7
_DEFAULT_BAND = (0.5, 3.0)


def _float(x: Tensor) -> Tensor:
    """Compute in float32, or float64 for float64 input (safe under autocast)."""
    return x if x.dtype == torch.float64 else x.float()


def _safe_sqrt(x: Tensor) -> Tensor:
    """``sqrt(x)`` for ``x >= 0`` with a zero (not infinite) derivative at 0."""
    positive = x > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, x, torch.ones_like(x))), 0.0)


def _neg_pearson(x: Tensor, y: Tensor, eps: float = _EPS) -> Tensor:
    """NP: mean over every leading index of ``1 - r`` (Bessel-corrected Pearson along the last axis)."""
    x, y = _float(x), _float(y)
    n = x.shape[-1]
    xc = x - x.mean(dim=-1, keepdim=True)
    yc = y - y.mean(dim=-1, keepdim=True)
    cov = (xc * yc).sum(dim=-1) / (n - 1)
    std_x = _safe_sqrt(xc.square().sum(dim=-1) / (n - 1))
    std_y = _safe_sqrt(yc.square().sum(dim=-1) / (n - 1))
    r = (cov / (std_x * std_y + eps)).clamp(-1.0, 1.0)
    return (1.0 - r).mean()


def _check_pair(online: Tensor, target: Tensor, pattern: str, name: str) -> None:
    check_shape(online, pattern, f"online_{name}")
    check_shape(target, pattern, f"target_{name}")
    if online.shape != target.shape:
        raise ShapeError(f"target_{name}", tuple(online.shape), target.shape, f"must match online_{name}")
    if online.shape[-1] < 2:
        raise ShapeError(f"online_{name}", pattern, online.shape, "the Pearson term needs at least 2 samples")


def normalized_spectrum(x: Tensor) -> Tensor:
    r"""Amplitude spectrum scaled to a unit maximum, :math:`\hat S(x)` of SSPD's RPD (spec §5.4).

    :math:`\hat S(x) = |\mathrm{FFT}(x)|_{0..\lfloor N/2\rfloor-1} / \max(\max_i |\mathrm{FFT}(x)|_i, \epsilon)`:
    the magnitude (not power) of the first :math:`\lfloor N/2 \rfloor` bins (bin :math:`i` is :math:`i f_s / N` Hz),
    per signal. Computed in float32 (float64 for float64 input).

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        x: Signals ``(..., N)``, :math:`N \ge 2`.

    Returns:
        ``(..., N // 2)`` in [0, 1].

    Raises:
        ShapeError: If ``x`` has fewer than 2 samples along its last axis.

    Shape:
        - x: :math:`(*, N)`
        - output: :math:`(*, \lfloor N/2 \rfloor)`

    Examples:
        >>> import torch
        >>> t = torch.arange(300) / 30.0
        >>> spectrum = normalized_spectrum(torch.sin(2 * torch.pi * 1.2 * t)[None])
        >>> spectrum.shape, int(spectrum.argmax()), float(spectrum.max())  # 1.2 Hz = bin 1.2 * 300 / 30
        (torch.Size([1, 150]), 12, 1.0)
    """
    if not isinstance(x, Tensor) or x.dim() < 1 or x.shape[-1] < 2:
        raise ShapeError("x", "... n", getattr(x, "shape", ()), "expected at least 2 samples along the last axis")
    n = x.shape[-1]
    magnitude: Tensor = torch.fft.rfft(_float(x), dim=-1).abs()[..., : n // 2]
    return magnitude / magnitude.amax(dim=-1, keepdim=True).clamp_min(_EPS)


def band_ratio(x: Tensor, *, fs: float = 30.0, band: tuple[float, float] = _DEFAULT_BAND) -> Tensor:
    r"""SSPD's band ratio :math:`\mathrm{BR}(x)`: total over in-band spectrum, minus one (spec §5.4).

    :math:`\mathrm{BR}(x) = \sum_i \hat S_i / \sum_{l \le i < h} \hat S_i - 1` with :math:`\hat S` =
    :func:`normalized_spectrum`, :math:`l = \lfloor f_{lo} N / f_s\rfloor` and :math:`h = \lfloor f_{hi} N / f_s
    \rfloor` (SSPD: 0.5-3 Hz at 30 fps). Zero when the whole spectrum lies in the band; it grows with the
    out-of-band energy. Used on the online prediction (RPD) and as the frequency prior on the online waves. On a
    signal too short for the band to hold a frequency bin (fewer than about :math:`f_s / f_{hi}` samples, e.g. 10
    at 3 Hz and 30 fps), the band is widened to bin :math:`l` alone, so the ratio stays finite (SSPD's waves have
    282 or more samples, where this never happens).

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        x: Signals ``(..., N)``, sampled at ``fs``.
        fs: Sampling rate in Hz (30).
        band: The pass band ``(low_hz, high_hz)`` ((0.5, 3.0)).

    Returns:
        ``(...)``: one ratio :math:`\ge 0` per signal.

    Raises:
        ShapeError: If ``x`` has fewer than 2 samples.
        ValueError: If ``fs`` or ``band`` is invalid.

    Shape:
        - x: :math:`(*, N)`
        - output: :math:`(*)`

    Examples:
        >>> import torch
        >>> t = torch.arange(300) / 30.0
        >>> pulse, drift = torch.sin(2 * torch.pi * 1.2 * t), torch.sin(2 * torch.pi * 6.0 * t)
        >>> ratios = band_ratio(torch.stack([pulse, pulse + drift]))
        >>> bool(ratios[0] < 0.05), bool(ratios[1] > 0.5)
        (True, True)
    """
    check_finite_positive(fs, "fs")
    low, high = check_band(band, "band")
    spectrum = normalized_spectrum(x)
    n = x.shape[-1]
    lo = min(math.floor(low * n / fs), spectrum.shape[-1] - 1)
    hi = min(max(math.floor(high * n / fs), lo + 1), spectrum.shape[-1])  # at least one bin on short signals
    in_band = spectrum[..., lo:hi].sum(dim=-1)
    return spectrum.sum(dim=-1) / in_band.clamp_min(_EPS) - 1.0


def tspd_loss(
    online_maps: Sequence[Tensor],
    online_waves: Sequence[Tensor],
    target_maps: Sequence[Tensor],
    target_waves: Sequence[Tensor],
) -> Tensor:
    r"""TSPD: temporal self-similarity prior distillation over the S³M pyramid (spec §5.4).

    .. math::
        \sum_l \mathrm{MSE}(S^o_l, S^t_l) + \mathrm{MSE}(w^o_l, w^t_l) + \mathrm{NP}(S^o_l, S^t_l)
        + \mathrm{NP}(w^o_l, w^t_l)

    with the maps compared row by row in NP. The target maps and waves are detached. A float32 scalar (float64 for
    float64 input).

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        online_maps: Online self-similarity maps, one ``(B, T_l, T_l)`` per level.
        online_waves: Online self-similarity waves, one ``(B, T_l)`` per level.
        target_maps: Target maps, the same shapes.
        target_waves: Target waves, the same shapes.

    Returns:
        The loss, summed over levels.

    Raises:
        ValueError: If the sequences are empty or of different lengths.
        ShapeError: If a map or wave has the wrong shape or online and target shapes differ.

    Shape:
        - maps: :math:`(B, T_l, T_l)` per level; waves: :math:`(B, T_l)` per level
        - output: :math:`()`

    Examples:
        >>> import torch
        >>> maps, waves = [torch.rand(2, 6, 6)], [torch.rand(2, 6)]
        >>> float(tspd_loss(maps, waves, maps, waves))
        0.0
    """
    levels = len(online_maps)
    if levels == 0 or not levels == len(online_waves) == len(target_maps) == len(target_waves):
        raise ValueError(
            "tspd_loss: expected the same non-zero number of online/target maps and waves, got "
            f"{len(online_maps)}, {len(online_waves)}, {len(target_maps)}, {len(target_waves)}"
        )
    total = []
    for level in range(levels):
        so, wo = online_maps[level], online_waves[level]
        st, wt = target_maps[level].detach(), target_waves[level].detach()
        _check_pair(so, st, "b t s", f"maps[{level}]")
        _check_pair(wo, wt, SIGNAL, f"waves[{level}]")
        so, wo, st, wt = _float(so), _float(wo), _float(st), _float(wt)
        total.append(F.mse_loss(so, st) + F.mse_loss(wo, wt) + _neg_pearson(so, st) + _neg_pearson(wo, wt))
    return torch.stack(total).sum()


def rpd_loss(
    online_bvp: Tensor, target_bvp: Tensor, *, fs: float = 30.0, band: tuple[float, float] = _DEFAULT_BAND
) -> Tensor:
    r"""RPD: rPPG prediction distillation (spec §5.4).

    .. math::
        \mathrm{NP}(y^o, y^t) + \mathrm{NP}(\hat S(y^o), \hat S(y^t)) + \mathrm{mean}_b\, \mathrm{BR}(y^o)

    The target signal is detached. A float32 scalar (float64 for float64 input).

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        online_bvp: The online prediction ``(B, T)``.
        target_bvp: The target prediction ``(B, T)``.
        fs: Sampling rate in Hz (30).
        band: The heart-rate band of the band ratio ((0.5, 3.0) Hz).

    Returns:
        The loss.

    Raises:
        ShapeError: If the signals are not ``(B, T)`` of equal shape with :math:`T \ge 4`.
        ValueError: If ``fs`` or ``band`` is invalid.

    Shape:
        - online_bvp, target_bvp: :math:`(B, T)`
        - output: :math:`()`

    Examples:
        >>> import torch
        >>> t = torch.arange(300) / 30.0
        >>> pulse = torch.sin(2 * torch.pi * 1.2 * t)[None]
        >>> round(float(rpd_loss(pulse, 2 * pulse)), 2)  # the same pulse: only the small out-of-band leak is left
        0.01
    """
    _check_pair(online_bvp, target_bvp, SIGNAL, "bvp")
    if online_bvp.shape[-1] < 4:
        raise ShapeError("online_bvp", SIGNAL, online_bvp.shape, "the spectral term needs T >= 4")
    target_bvp = target_bvp.detach()
    return (
        _neg_pearson(online_bvp, target_bvp)
        + _neg_pearson(normalized_spectrum(online_bvp), normalized_spectrum(target_bvp))
        + band_ratio(online_bvp, fs=fs, band=band).mean()
    )


def self_similarity_regularizer(maps: Sequence[Tensor]) -> Tensor:
    r"""SSPD's regulariser on the online maps: their spread along each diagonal (spec §5.4).

    .. math::
        \mathrm{Reg} = \mathrm{mean}_l\; \mathrm{mean}_b\; \frac{1}{T_l - 2}\sum_{d=1}^{T_l-2}
        \mathrm{std}_i(S_{l, i, i+d}) \, \frac{T_l - d}{20}

    (:func:`~rppgblocks.functional.self_similarity.self_similarity_diagonal_std`): zero for a Toeplitz map, so it
    pushes the maps toward the period-consistent structure of a stationary pulse.

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        maps: Self-similarity maps, one ``(B, T_l, T_l)`` per level, :math:`T_l \ge 3`.

    Returns:
        A float32 scalar (float64 for float64 input).

    Raises:
        ValueError: If ``maps`` is empty.
        ShapeError: If a map is not ``(B, T, T)`` with :math:`T \ge 3`.

    Shape:
        - maps: :math:`(B, T_l, T_l)` per level
        - output: :math:`()`

    Examples:
        >>> import torch
        >>> lags = torch.arange(10.0)
        >>> toeplitz = torch.cos(lags[:, None] - lags[None, :])[None]
        >>> float(self_similarity_regularizer([toeplitz])) < 1e-6
        True
    """
    if len(maps) == 0:
        raise ValueError("maps: expected at least one self-similarity map")
    levels = []
    for ssm in maps:
        ssm = _float(ssm)
        frames = ssm.shape[-1]
        spread = self_similarity_diagonal_std(ssm)  # (B, T - 2), d = 1..T-2
        weight = (frames - torch.arange(1, frames - 1, device=ssm.device, dtype=ssm.dtype)) / 20.0
        levels.append((spread * weight).mean())
    return torch.stack(levels).mean()


def wave_frequency_prior(
    waves: Sequence[Tensor], *, fs: float = 30.0, band: tuple[float, float] = _DEFAULT_BAND
) -> Tensor:
    r"""SSPD's frequency prior on the online self-similarity waves: their mean band ratio (spec §5.4).

    :math:`\mathrm{mean}_l\, \mathrm{mean}_b\, \mathrm{BR}(w_l)` with :func:`band_ratio`; a wave's index is a lag in
    frames, so it is sampled at the video's frame rate.

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        waves: Self-similarity waves, one ``(B, T_l)`` per level.
        fs: Frame rate in Hz (30).
        band: The heart-rate band ((0.5, 3.0) Hz).

    Returns:
        A float32 scalar (float64 for float64 input).

    Raises:
        ValueError: If ``waves`` is empty, or ``fs`` or ``band`` is invalid.
        ShapeError: If a wave is not ``(B, T)``.

    Shape:
        - waves: :math:`(B, T_l)` per level
        - output: :math:`()`

    Examples:
        >>> import torch
        >>> lags = torch.arange(240) / 30.0
        >>> float(wave_frequency_prior([torch.cos(2 * torch.pi * 1.5 * lags)[None]])) < 0.05
        True
    """
    if len(waves) == 0:
        raise ValueError("waves: expected at least one self-similarity wave")
    levels = []
    for level, wave in enumerate(waves):
        check_shape(wave, SIGNAL, f"waves[{level}]")
        levels.append(band_ratio(wave, fs=fs, band=band).mean())
    return torch.stack(levels).mean()


class SSPDLossOutput(NamedTuple):
    """What :class:`SSPDLoss` returns.

    Attributes:
        total: The loss to minimise, the sum of ``terms`` (a float32 scalar, float64 for float64 inputs).
        terms: Each weighted term, keyed ``"rpd"``, ``"tspd"``, ``"regularizer"``, ``"frequency"``.
        losses: The same terms before weighting.
    """

    total: Tensor
    terms: dict[str, Tensor]
    losses: dict[str, Tensor]


class SSPDLoss(nn.Module):
    r"""SSPD's full training loss: hierarchical self-distillation plus the map and wave priors (spec §5.4).

    .. math::
        L = w_r\,\mathrm{RPD} + w_t \sum_l \mathrm{TSPD}_l + w_g\,\mathrm{mean}_l\,\mathrm{Reg}_l
          + w_f\,\mathrm{mean}_l\,\mathrm{BR}(w^o_l)

    with :math:`w_r = w_t = w_g = 0.5` and :math:`w_f = 0.2` (the released code): :func:`rpd_loss`,
    :func:`tspd_loss`, :func:`self_similarity_regularizer` and :func:`wave_frequency_prior`. The regulariser and the
    frequency prior act on the online outputs only; every target output is detached. Because :class:`SSPD` feeds its
    predictor through a stop-gradient, RPD trains only the predictor and the other terms only the backbone and S³M.
    Computed in float32 (float64 for float64 inputs), so it is safe under autocast.

    Args:
        rpd_weight: :math:`w_r`.
        tspd_weight: :math:`w_t`.
        regularizer_weight: :math:`w_g`.
        frequency_weight: :math:`w_f`.
        fs: Frame rate in Hz of the clips (30).
        band: Heart-rate band of the band ratios ((0.5, 3.0) Hz).

    Raises:
        ValueError: If a weight is negative or not finite, or ``fs`` or ``band`` is invalid; in ``forward``, if the
            outputs have no S³M maps.
        ShapeError: In ``forward``, if online and target shapes differ.

    Shape:
        - online, target: :class:`~rppgblocks.models.sspd.SSPDOutput` of the same clip size
        - Output: :class:`SSPDLossOutput` with a scalar ``total``

    Examples:
        >>> import torch
        >>> from rppgblocks.models.sspd import SSPD
        >>> student = SSPD(stem_channels=2, block_channels=(4, 4, 4), embed_dim=8, predictor_channels=4,
        ...                kernel_sizes=(3, 3))
        >>> online, target = student(torch.randn(2, 3, 16, 128, 128)), student(torch.randn(2, 3, 16, 128, 128))
        >>> result = SSPDLoss()(online, target)
        >>> result.total.backward()
        >>> sorted(result.terms)
        ['frequency', 'regularizer', 'rpd', 'tspd']
        >>> bool(torch.isclose(result.total, sum(result.terms.values())))
        True
    """

    def __init__(
        self,
        *,
        rpd_weight: float = 0.5,
        tspd_weight: float = 0.5,
        regularizer_weight: float = 0.5,
        frequency_weight: float = 0.2,
        fs: float = 30.0,
        band: tuple[float, float] = _DEFAULT_BAND,
    ) -> None:
        super().__init__()
        self.weights = {
            "rpd": check_weight(rpd_weight, "rpd_weight"),
            "tspd": check_weight(tspd_weight, "tspd_weight"),
            "regularizer": check_weight(regularizer_weight, "regularizer_weight"),
            "frequency": check_weight(frequency_weight, "frequency_weight"),
        }
        check_finite_positive(fs, "fs")
        self.fs = float(fs)
        self.band = check_band(band, "band")

    def forward(self, online: SSPDOutput, target: SSPDOutput) -> SSPDLossOutput:
        """Loss of the online (student) outputs against the target (teacher) outputs of the same clips."""
        if len(online.maps) == 0:
            raise ValueError("online: the outputs have no self-similarity maps; build SSPD with s3m=True")
        losses = {
            "rpd": rpd_loss(online.bvp, target.bvp, fs=self.fs, band=self.band),
            "tspd": tspd_loss(online.maps, online.waves, target.maps, target.waves),
            "regularizer": self_similarity_regularizer(online.maps),
            "frequency": wave_frequency_prior(online.waves, fs=self.fs, band=self.band),
        }
        terms = {name: self.weights[name] * value for name, value in losses.items()}
        total = torch.stack(list(terms.values())).sum()
        return SSPDLossOutput(total, terms, losses)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        weights = ", ".join(f"{name}_weight={value}" for name, value in self.weights.items())
        return f"{weights}, fs={self.fs}, band={self.band}"
