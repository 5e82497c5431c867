r"""GREEN: the green channel of the spatial mean RGB trace as the pulse signal.

Verkruysse, Svaasand and Nelson, "Remote plethysmographic imaging using ambient light", Optics Express
16(26):21434-21445, 2008. They found that, of the three colour channels of a consumer camera, the green one
carries the strongest plethysmographic signal (in line with the strong absorption of green light by
(oxy)haemoglobin), and used the spatially averaged green values of a skin region as the pulse signal. The
method does nothing against intensity changes or motion, which appear in all channels alike: it is the baseline
that the other classical methods improve on.
"""

from __future__ import annotations

from torch import Tensor, nn

from rppgblocks.classical._common import GREEN_CHANNEL, check_frames, check_rgb, relative_change

__all__ = ["GREEN", "green"]


def green(rgb: Tensor) -> Tensor:
    r"""The pulse signal of the GREEN method: the green channel, divided by its mean, minus 1.

    Verkruysse et al., Optics Express 16(26), 2008 (the green channel of the spatially averaged skin pixels).

    :math:`g(t) = G(t) / \mu(G) - 1`, with :math:`\mu(G)` the mean of the green channel over the whole trace.
    **Normalisation**: the paper uses the raw green values; dividing by their mean (the temporal normalisation of
    Wang et al., "Algorithmic principles of remote PPG", IEEE TBME 64(7), 2017) makes the output a
    dimensionless relative change that does not depend on the video's brightness or scale (0-1 or 0-255).
    **Sign**: not inverted, so the output rises with the green intensity; a colour change along the blood volume
    pulse direction :math:`+u_p \propto (0.33, 0.77, 0.53)` gives a positive output, the sign convention of
    :mod:`rppgblocks.classical` (as :func:`~rppgblocks.classical.pos`). More blood absorbs more green light, so the
    output falls as the blood volume rises. No band-pass is applied (pass the output to
    :func:`~rppgblocks.functional.fft_heart_rate`, which searches a band, or filter it yourself).

    A zero mean is guarded by the machine epsilon, so a black trace gives zeros, not NaN.

    Properties: differentiable with respect to ``rgb``; ``torch.compile(fullgraph=True)`` and ``torch.export``;
    CPU and CUDA.

    Args:
        rgb: RGB traces, ``(B, 3, T)`` (layout :data:`rppgblocks.layout.TRACE`), channels in R, G, B order.
            Any real dtype; computed in float32 (float64 for float64 input).

    Returns:
        The pulse signals, ``(B, T)``, float32 (float64 for float64 input), relative change of the green channel.

    Raises:
        TypeError: If ``rgb`` is not a real tensor.
        ShapeError: If ``rgb`` is not ``(B, 3, T)``.
        ValueError: If ``rgb`` has fewer than 2 frames.

    Shape:
        - rgb: :math:`(B, 3, T)`
        - output: :math:`(B, T)`

    Examples:
        >>> import torch
        >>> rgb = torch.tensor([[[180.0, 180.0, 180.0], [99.0, 100.0, 101.0], [90.0, 90.0, 90.0]]])
        >>> green(rgb)
        tensor([[-0.0100,  0.0000,  0.0100]])
    """
    dtype = check_rgb(rgb)
    check_frames(rgb, 2, "GREEN", "a signal needs 2 frames")
    return relative_change(rgb[:, GREEN_CHANNEL].to(dtype))


class GREEN(nn.Module):
    """GREEN (the green channel) as a module: RGB traces in, pulse signal out.

    Verkruysse et al., Optics Express 16(26), 2008. A thin wrapper around :func:`green`; no parameters, no
    configuration.

    Shape:
        - Input: :math:`(B, 3, T)`, RGB traces
        - Output: :math:`(B, T)`, the pulse signals

    Examples:
        >>> import torch
        >>> GREEN()(torch.rand(2, 3, 64) + 1).shape
        torch.Size([2, 64])
    """

    def forward(self, rgb: Tensor) -> Tensor:
        """Apply :func:`green` to ``rgb`` (``(B, 3, T)``), returning ``(B, T)``."""
        return green(rgb)
