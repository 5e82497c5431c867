"""The named tensor layouts used throughout rppgblocks.

One layout per kind of tensor, written as an einops pattern. The same strings appear in docstrings, shape checks
and ``einops`` rearranges, so a layout is defined exactly once.

============ =============== ==================================================================
name         pattern         meaning
============ =============== ==================================================================
``VIDEO``    ``"b c t h w"`` batch, colour channels (RGB), frames, height, width (NCDHW)
``FEATURES`` ``"b c t h w"`` a 3D feature map: batch, feature channels, time, height, width
``IMAGE``    ``"b c h w"``   a 2D image or feature map (e.g. a temporally compressed clip)
``SIGNAL``   ``"b t"``       a batch of 1D signals over time (BVP, rPPG)
``TRACE``    ``"b c t"``     a batch of multi-channel traces (e.g. mean RGB per frame)
``FRAMES``   ``"t h w c"``   decoded video frames as stored on disk (channel last, RGB, uint8)
============ =============== ==================================================================

Examples:
    >>> from rppgblocks.layout import VIDEO, SIGNAL
    >>> VIDEO, SIGNAL
    ('b c t h w', 'b t')
"""

from __future__ import annotations

__all__ = ["FEATURES", "FRAMES", "IMAGE", "SIGNAL", "TRACE", "VIDEO"]

VIDEO = "b c t h w"
FEATURES = "b c t h w"
IMAGE = "b c h w"
SIGNAL = "b t"
TRACE = "b c t"
FRAMES = "t h w c"
