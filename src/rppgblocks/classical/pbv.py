r"""PBV, the blood-volume-pulse signature method, on spatial mean RGB traces.

de Haan and van Leest, "Improved motion robustness of remote-PPG by using the blood volume pulse signature",
Physiological Measurement 35(9):1913-1926, 2014; re-derived in Wang, den Brinker, Stuijk and de Haan,
"Algorithmic principles of remote PPG", IEEE TBME 64(7):1479-1491, 2017.

The pulse changes the normalised skin colour along a known direction, the blood volume pulse signature
:math:`P_{bv}` (set by the absorption spectrum of blood, the skin and the camera's filters; about
:math:`(0.33, 0.77, 0.53)` for a standard RGB camera under white light, Wang et al. 2017, Sec. II). PBV looks
for the linear combination of the normalised colour channels whose correlation with each channel is proportional
to that signature: with :math:`C_n` the mean-centred normalised traces of an interval and
:math:`Q = C_n C_n^\top`, the weights are :math:`W_{PBV} = k\,P_{bv}^\top Q^{-1}` and the pulse
:math:`S = W_{PBV} C_n`. Distortions (intensity changes, specular reflections, motion) have other colour
directions; weighting with :math:`Q^{-1}` suppresses whatever carries the most energy outside :math:`P_{bv}`.
"""

from __future__ import annotations

import math

import torch
from einops import rearrange
from torch import Tensor, nn

from rppgblocks.classical._common import check_rgb, hann_overlap_add, hann_window_length, relative_change

__all__ = ["DEFAULT_PBV_SIGNATURE", "DEFAULT_PBV_WINDOW_S", "PBV", "pbv"]

#: Default PBV interval in seconds: 1.6 s, as CHROM and POS.
DEFAULT_PBV_WINDOW_S = 1.6

#: The normalised blood volume pulse signature :math:`P_{bv}` in (R, G, B) (Wang et al., IEEE TBME 64(7), 2017,
#: Sec. II), the relative pulse amplitudes of the three channels of a standard RGB camera under white light.
DEFAULT_PBV_SIGNATURE: tuple[float, float, float] = (0.33, 0.77, 0.53)

# The ridge added to Q, relative to its mean eigenvalue, in units of the dtype's machine epsilon: it keeps the solve
# finite when Q is singular (a constant interval, or only two independent colour signals) and is far below the
# pulse's share of Q otherwise.
_RIDGE_EPS = 10.0


def _check_signature(signature: tuple[float, float, float]) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in signature)
    except (TypeError, ValueError):
        raise ValueError(f"signature: expected 3 finite numbers (R, G, B), got {signature!r}") from None
    if len(values) != 3 or not all(math.isfinite(v) for v in values) or not any(v != 0 for v in values):
        raise ValueError(f"signature: expected 3 finite numbers (R, G, B), not all 0, got {signature!r}")
    return values[0], values[1], values[2]


def pbv(
    rgb: Tensor,
    fs: float,
    *,
    window_s: float = DEFAULT_PBV_WINDOW_S,
    signature: tuple[float, float, float] = DEFAULT_PBV_SIGNATURE,
) -> Tensor:
    r"""Recover the pulse signal from RGB traces with PBV (blood volume pulse signature).

    de Haan and van Leest, Physiol. Meas. 35(9), 2014 (the PBV method, :math:`W_{PBV} = k P_{bv}^\top Q^{-1}`,
    :math:`Q = C_n C_n^\top`, :math:`S = W_{PBV} C_n`); Wang et al., IEEE TBME 64(7), 2017. The trace is
    cut into intervals of :math:`l = 2\lceil \text{window\_s} \cdot f_s / 2\rceil` frames (even), hopped by
    :math:`l/2`; in each interval:

    1. normalisation: :math:`C_n = \mathrm{diag}(\mu(C))^{-1} C - 1`, each channel divided by its mean over the
       interval and centred;
    2. :math:`Q = C_n C_n^\top / l` and :math:`w = (Q + \lambda I)^{-1} P_{bv}`, with a ridge :math:`\lambda` of
       10 machine epsilons times the mean eigenvalue of :math:`Q` (numerical only: it keeps a singular
       :math:`Q`, e.g. a constant interval, finite);
    3. :math:`S = k\, w^\top C_n` with :math:`k = 1 / (P_{bv}^\top w)`, i.e. :math:`W_{PBV} P_{bv} = 1`;
    4. :math:`S` is multiplied by a periodic Hann window of length :math:`l` and overlap-added.

    The paper leaves :math:`k` as a normalisation scalar; the choice :math:`W_{PBV} P_{bv} = 1` here (unit gain
    along the signature: a colour change of relative amplitude :math:`p(t)` along :math:`P_{bv}` contributes
    exactly :math:`p(t)`) keeps the intervals on one scale before they are added, and makes the output positive
    for a colour change along :math:`+P_{bv}`, the sign convention of :mod:`rppgblocks.classical`. The intervals
    and the Hann overlap-add follow CHROM (de Haan and Jeanne 2013, the same group's framework); they are this
    implementation's choice, as is applying the method without a band-pass (the 2014 paper band-passes the
    normalised channels first).

    :math:`W_{PBV}` minimises the output energy subject to :math:`W_{PBV} P_{bv} = 1` (the minimum-variance
    weights of array processing). Like those, it partly cancels a pulse whose colour direction differs slightly
    from ``signature`` when that pulse carries most of the interval's energy and the noise is far weaker; with
    distortions stronger than the pulse, the usual case, the pulse passes with gain 1.

    All intervals of the whole batch are processed at once (``unfold``, one batched solve, one ``fold``); there is
    no loop over intervals or frames. The first and last :math:`l/2` frames taper towards 0 and the frames after
    the last whole interval (fewer than :math:`l/2`) are 0.

    Properties: differentiable with respect to ``rgb``; ``torch.compile(fullgraph=True)`` and ``torch.export``;
    CPU and CUDA.

    Args:
        rgb: RGB traces, ``(B, 3, T)`` (layout :data:`rppgblocks.layout.TRACE`), channels in R, G, B order,
            linear positive intensities (any scale). Any real dtype; computed in float32 (float64 for float64).
        fs: The frame rate in Hz.
        window_s: The interval length in seconds (default :data:`DEFAULT_PBV_WINDOW_S` = 1.6 s); rounded up to an
            even number of frames, at least 4.
        signature: The blood volume pulse signature :math:`P_{bv}` in (R, G, B) (default
            :data:`DEFAULT_PBV_SIGNATURE` = (0.33, 0.77, 0.53)); its scale scales the output inversely.

    Returns:
        The pulse signals, ``(B, T)``, float32 (float64 for float64 input), in units of relative colour change
        along ``signature``.

    Raises:
        TypeError: If ``rgb`` is not a real tensor.
        ShapeError: If ``rgb`` is not ``(B, 3, T)``.
        ValueError: If ``fs``, ``window_s`` or ``signature`` is invalid, the interval is shorter than 4 frames,
            or ``rgb`` has fewer frames than one interval.

    Shape:
        - rgb: :math:`(B, 3, T)`
        - output: :math:`(B, T)`

    Examples:
        >>> from rppgblocks.functional import fft_heart_rate
        >>> fs, t = 30.0, torch.arange(300) / 30.0
        >>> pulse = torch.sin(2 * torch.pi * 1.2 * t)  # 72 bpm
        >>> light = 1 + 0.05 * torch.sin(2 * torch.pi * 0.2 * t)  # slow intensity change
        >>> skin = torch.tensor([180.0, 120.0, 100.0])[:, None]
        >>> rgb = light * skin * (1 + 0.005 * torch.tensor([0.33, 0.77, 0.53])[:, None] * pulse)
        >>> rgb = rgb + 0.01 * torch.randn(3, 300, generator=torch.Generator().manual_seed(0))
        >>> bvp = pbv(rgb[None], fs)
        >>> bvp.shape
        torch.Size([1, 300])
        >>> round(float(fft_heart_rate(bvp, fs)))
        72
    """
    dtype = check_rgb(rgb)
    length = hann_window_length(fs, window_s, "PBV")
    p_bv = _check_signature(signature)
    batch, _, n_frames = rgb.shape
    if n_frames < length:
        raise ValueError(
            f"rgb: has T={n_frames} frames, fewer than one PBV interval of {length} frames "
            f"(window_s={window_s} s at fs={fs} Hz); give at least {length} frames or a shorter window_s"
        )
    hop = length // 2
    eps = torch.finfo(dtype).eps

    windows = rearrange(rgb.to(dtype).unfold(-1, length, hop), "b c w l -> b w c l")
    centred = relative_change(windows)  # (B, W, 3, l): C / mean(C) - 1
    q = torch.einsum("bwcl,bwdl->bwcd", centred, centred) / length  # (B, W, 3, 3)
    mean_eigenvalue = torch.diagonal(q, dim1=-2, dim2=-1).sum(-1) / 3  # (B, W)
    ridge = _RIDGE_EPS * eps * mean_eigenvalue + eps * eps
    eye = torch.eye(3, dtype=dtype, device=rgb.device)
    signature_t = torch.tensor(p_bv, dtype=dtype, device=rgb.device)
    rhs = signature_t.expand(batch, q.shape[1], 3).unsqueeze(-1)
    w = torch.linalg.solve(q + ridge[..., None, None] * eye, rhs).squeeze(-1)  # (B, W, 3) = Q^-1 P_bv
    k = 1.0 / (w @ signature_t)  # P_bv^T Q^-1 P_bv > 0 for a positive definite Q
    pulse = torch.einsum("bwc,bwcl->bwl", w, centred) * k[..., None]
    return hann_overlap_add(pulse, n_frames, hop)


class PBV(nn.Module):
    """PBV (blood volume pulse signature) as a module: RGB traces in, pulse signal out.

    de Haan and van Leest, Physiol. Meas. 35(9), 2014. A thin wrapper that validates its configuration once and
    calls :func:`pbv`; it has no parameters.

    Args:
        fs: The frame rate in Hz.
        window_s: The interval length in seconds (default :data:`DEFAULT_PBV_WINDOW_S` = 1.6 s).
        signature: The blood volume pulse signature in (R, G, B) (default :data:`DEFAULT_PBV_SIGNATURE`).

    Raises:
        ValueError: If ``fs``, ``window_s`` or ``signature`` is invalid.

    Shape:
        - Input: :math:`(B, 3, T)`, RGB traces
        - Output: :math:`(B, T)`, the pulse signals

    Examples:
        >>> module = PBV(fs=30.0)
        >>> module
        PBV(fs=30.0, window_s=1.6, window_length=48, signature=(0.33, 0.77, 0.53))
        >>> module(torch.rand(2, 3, 64) + 1).shape
        torch.Size([2, 64])
    """

    def __init__(
        self,
        fs: float,
        *,
        window_s: float = DEFAULT_PBV_WINDOW_S,
        signature: tuple[float, float, float] = DEFAULT_PBV_SIGNATURE,
    ) -> None:
        super().__init__()
        self.window_length = hann_window_length(fs, window_s, "PBV")
        self.signature = _check_signature(signature)
        self.fs = float(fs)
        self.window_s = float(window_s)

    def forward(self, rgb: Tensor) -> Tensor:
        """Apply :func:`pbv` to ``rgb`` (``(B, 3, T)``), returning ``(B, T)``."""
        return pbv(rgb, self.fs, window_s=self.window_s, signature=self.signature)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return f"fs={self.fs}, window_s={self.window_s}, window_length={self.window_length}, signature={self.signature}"
