r"""OMIT, Orthogonal Matrix Image Transformation, on spatial mean RGB traces.

Álvarez Casado and Bordallo López, "Face2PPG: An unsupervised pipeline for blood volume pulse extraction from
faces", IEEE Journal of Biomedical and Health Informatics 27(11):5530-5541, 2023 (arXiv 2202.04101): the
RGB-to-rPPG transformation OMIT, one of the paper's three contributions.

OMIT follows the projection idea of LGI (Pilz et al., CVPRW 2018) with the singular value decomposition
replaced by a QR decomposition of the :math:`3 \times T` RGB matrix, which the authors found more robust to
compression artefacts: the first column of :math:`Q` spans the reference colour direction, the measurements are
projected onto its orthogonal complement, and the pulse is read from the projected green channel.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rppgblocks.classical._common import check_frames, check_rgb, green_orthogonal_to

__all__ = ["OMIT", "omit"]


def omit(rgb: Tensor) -> Tensor:
    r"""Recover the pulse signal from RGB traces with OMIT (Orthogonal Matrix Image Transformation).

    Álvarez Casado and Bordallo López, IEEE JBHI 27(11), 2023 (OMIT). With :math:`X` the :math:`3 \times T`
    matrix of one RGB trace:

    1. :math:`X = QR`, the (reduced) QR decomposition (``torch.linalg.qr``);
    2. :math:`q = Q_{:,1}`, the first column of :math:`Q`;
    3. :math:`Y = (I - q q^\top) X`, the measurements projected onto the plane orthogonal to :math:`q`;
    4. the pulse is the green row of :math:`Y`, :math:`Y_2(t)`.

    Because :math:`R` is upper triangular, :math:`q` is the first frame's colour normalised to unit length (up
    to sign, which :math:`q q^\top` ignores): OMIT projects out the colour of the first frame, which for a skin
    trace is the skin tone under the light, up to that frame's noise and pulse. Intensity changes (a scaling of
    the colour vector) are projected away; so, unlike LGI, the reference direction does not depend on the
    rest of the trace. The whole trace is one window; the output keeps the input's units and scale. For skin
    traces a colour change along :math:`+u_p \propto (0.33, 0.77, 0.53)` gives a positive output, the sign
    convention of :mod:`rppgblocks.classical` (see :func:`~rppgblocks.classical.lgi` for why).

    Properties: differentiable with respect to ``rgb`` (a first frame of all zeros has no direction and gives a
    NaN gradient); ``torch.compile(fullgraph=True)`` and ``torch.export``; CPU and CUDA.

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
        >>> bvp = omit(rgb[None])
        >>> bvp.shape
        torch.Size([1, 300])
        >>> round(float(fft_heart_rate(bvp, fs)))
        72
    """
    dtype = check_rgb(rgb)
    check_frames(rgb, 2, "OMIT", "a signal needs 2 frames")
    x = rgb.to(dtype)
    q_matrix, _ = torch.linalg.qr(x)  # (B, 3, min(3, T))
    q = q_matrix[..., 0]  # (B, 3)
    return green_orthogonal_to(x, q)


class OMIT(nn.Module):
    """OMIT (Orthogonal Matrix Image Transformation) as a module: RGB traces in, pulse signal out.

    Álvarez Casado and Bordallo López, IEEE JBHI 27(11), 2023. A thin wrapper around :func:`omit`; no parameters,
    no configuration.

    Shape:
        - Input: :math:`(B, 3, T)`, RGB traces
        - Output: :math:`(B, T)`, the pulse signals

    Examples:
        >>> OMIT()(torch.rand(2, 3, 64) + 1).shape
        torch.Size([2, 64])
    """

    def forward(self, rgb: Tensor) -> Tensor:
        """Apply :func:`omit` to ``rgb`` (``(B, 3, T)``), returning ``(B, T)``."""
        return omit(rgb)
