r"""LGI, Local Group Invariance, on spatial mean RGB traces.

Pilz, Zaunseder, Krajewski and Blazek, "Local group invariance for heart rate estimation from face videos in the
wild", IEEE/CVF Conference on Computer Vision and Pattern Recognition Workshops (CVPRW), 2018.

The paper asks for a feature of the RGB measurements that is invariant to the local group of transformations
that illumination changes and motion apply to them (in the skin reflection model, mostly a scaling of the colour
vector). It arrives at a projection: estimate the dominant direction :math:`u` of the measurements (the leading
eigenvector of their correlation matrix, i.e. the leading left singular vector of the RGB matrix), project the
measurements onto its orthogonal complement with :math:`P = I - u u^\top`, and read the pulse from the projected
green channel. Scaling the colour vector moves it along :math:`u` and is projected away; the pulse, which
changes the colour's direction, survives.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rppgblocks.classical._common import check_frames, check_rgb, green_orthogonal_to

__all__ = ["LGI", "lgi"]


def lgi(rgb: Tensor) -> Tensor:
    r"""Recover the pulse signal from RGB traces with LGI (Local Group Invariance).

    Pilz et al., CVPRW 2018. With :math:`X` the :math:`3 \times T` matrix of one RGB trace:

    1. :math:`R = X X^\top / T`, the (uncentred) correlation matrix of the measurements;
    2. :math:`u` = the eigenvector of :math:`R` with the largest eigenvalue (the leading left singular vector of
       :math:`X`, the dominant colour direction: the skin tone under the light);
    3. :math:`Y = (I - u u^\top) X`, the measurements projected onto the plane orthogonal to :math:`u`;
    4. the pulse is the green row of :math:`Y`, :math:`Y_2(t)`.

    The whole trace is one window. The output keeps the input's units and scale and, because :math:`u` is the
    dominant direction and not exactly the mean colour, may keep a small constant offset;
    :func:`~rppgblocks.functional.fft_heart_rate` removes the mean before its FFT. For skin-coloured traces a
    colour change along :math:`+u_p \propto (0.33, 0.77, 0.53)` (relative to the skin tone) gives a positive
    output, the sign convention of :mod:`rppgblocks.classical`: with :math:`u` the skin tone :math:`c_0`
    normalised, the green entry of the part of the pulse's colour change :math:`c_0 \circ u_p` orthogonal to
    :math:`u` is :math:`c_{0,g}\,(u_{p,g} - \sum_i c_{0,i}^2 u_{p,i} / \sum_i c_{0,i}^2)`, positive for any
    colour, since the green entry 0.77 is the largest of :math:`u_p`.

    Properties: differentiable with respect to ``rgb`` where the largest eigenvalue of :math:`R` is simple (always,
    for a skin trace); ``torch.compile(fullgraph=True)`` and ``torch.export``; CPU and CUDA.

    Args:
        rgb: RGB traces, ``(B, 3, T)`` (layout :data:`rppgblocks.layout.TRACE`), channels in R, G, B order.
            Any real dtype; computed in float32 (float64 for float64 input).

    Returns:
        The pulse signals, ``(B, T)``, float32 (float64 for float64 input), in the units of ``rgb``.

    Raises:
        TypeError: If ``rgb`` is not a real tensor.
        ShapeError: If ``rgb`` is not ``(B, 3, T)``.
        ValueError: If ``rgb`` has fewer than 2 frames.

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
        >>> bvp = lgi(rgb[None])
        >>> bvp.shape
        torch.Size([1, 300])
        >>> round(float(fft_heart_rate(bvp, fs)))
        72
    """
    dtype = check_rgb(rgb)
    check_frames(rgb, 2, "LGI", "a signal needs 2 frames")
    x = rgb.to(dtype)
    correlation = x @ x.transpose(-1, -2) / x.shape[-1]  # (B, 3, 3)
    _, eigenvectors = torch.linalg.eigh(correlation)  # eigenvalues in ascending order
    u = eigenvectors[..., -1]  # (B, 3), the dominant direction
    return green_orthogonal_to(x, u)


class LGI(nn.Module):
    """LGI (Local Group Invariance) as a module: RGB traces in, pulse signal out.

    Pilz et al., CVPRW 2018. A thin wrapper around :func:`lgi`; no parameters, no configuration.

    Shape:
        - Input: :math:`(B, 3, T)`, RGB traces
        - Output: :math:`(B, T)`, the pulse signals

    Examples:
        >>> LGI()(torch.rand(2, 3, 64) + 1).shape
        torch.Size([2, 64])
    """

    def forward(self, rgb: Tensor) -> Tensor:
        """Apply :func:`lgi` to ``rgb`` (``(B, 3, T)``), returning ``(B, T)``."""
        return lgi(rgb)
