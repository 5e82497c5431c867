r"""SSPD's physical-prior embedded augmentation: Local-Global Augmentation (LGA) and Masked Difference Modeling (MDM).

Source: Zhang et al., "Self-similarity prior distillation for unsupervised remote physiological measurement", IEEE
TMM 26 (2024), arXiv 2311.05100, Fig. 3; rppgblocks spec ``architectures.md`` §5.1.

From one face clip of :math:`T + 1` frames, SSPD builds two views of the same :math:`T` raw frame differences
:math:`d_t = I_{t+1} - I_t`:

- the **online** (student) view: a random ``size`` x ``size`` crop (the *local* view; one offset per clip, shared
  by all frames) with independent random horizontal and vertical flips, then an MDM mask that keeps each pixel of
  each frame with probability ``keep_prob`` (0.7), the same for the three colour channels;
- the **target** (teacher) view: the whole frame resized bicubically to ``size`` x ``size`` (the *global* view) with
  its own random flips, not masked.

Crops, flips and the (linear) bicubic resize act on each frame alike, so they commute with the frame difference.
Every random choice is drawn from the ``generator`` argument (the global RNG when it is ``None``), per clip, without
a loop over the batch or over time.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor

from rppgblocks._checks import check_shape
from rppgblocks.errors import ShapeError
from rppgblocks.layout import VIDEO

__all__ = ["SSPDViews", "global_view", "local_view", "masked_difference_modeling", "sspd_views"]


class SSPDViews(NamedTuple):
    """The two views :func:`sspd_views` returns.

    Attributes:
        online: The student's input: masked local view of the frame differences, ``(B, C, T, size, size)``.
        target: The teacher's input: unmasked global view of the same differences, ``(B, C, T, size, size)``.
    """

    online: Tensor
    target: Tensor


def _check_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValueError(f"size: expected a positive integer, got {size!r}")


def _draw(shape: tuple[int, ...], high: int, device: torch.device, generator: torch.Generator | None) -> Tensor:
    """Uniform integers in ``[0, high)`` drawn on the generator's device, moved to ``device``."""
    where = generator.device if generator is not None else device
    return torch.randint(high, shape, generator=generator, device=where).to(device)


def _flip_index(length: int, flips: Tensor) -> Tensor:
    """Per-clip indices ``(B, length)``: ``0..length-1``, reversed where ``flips`` is true."""
    steps = torch.arange(length, device=flips.device)
    return torch.where(flips[:, None], length - 1 - steps, steps)


def local_view(video: Tensor, size: int, *, flip: bool = True, generator: torch.Generator | None = None) -> Tensor:
    r"""LGA's local view: a random ``size`` x ``size`` crop of each clip with random flips (SSPD, spec §5.1).

    Each clip gets one uniformly random offset (the same for all its frames) and, when ``flip`` is true, an
    independent random horizontal and vertical flip (probability 1/2 each). The crop and flips are one gather, with
    no loop over the batch.

    Autograd supported (the gradient flows to the cropped pixels).

    Args:
        video: Clips ``(B, C, T, H, W)`` with ``H, W >= size`` (raw frames or frame differences).
        size: Side of the square crop (128 in SSPD, from 151 x 151 faces).
        flip: Whether to flip at random (default); ``False`` gives a plain random crop.
        generator: Source of randomness (the global RNG when ``None``).

    Returns:
        The local view ``(B, C, T, size, size)``.

    Raises:
        ShapeError: If ``video`` is not 5-D or a frame is smaller than ``size``.
        ValueError: If ``size`` is not a positive integer.

    Shape:
        - video: :math:`(B, C, T, H, W)`
        - output: :math:`(B, C, T, s, s)`

    Examples:
        >>> import torch
        >>> clip = torch.rand(2, 3, 4, 10, 12)
        >>> view = local_view(clip, 8, generator=torch.Generator().manual_seed(0))
        >>> view.shape
        torch.Size([2, 3, 4, 8, 8])
        >>> corner = clip[..., :8, :8]
        >>> torch.equal(local_view(corner, 8, flip=False), corner)  # a full-size crop without flips is the identity
        True
    """
    _check_size(size)
    check_shape(video, VIDEO, "video")
    batch, _, _, height, width = video.shape
    if height < size or width < size:
        raise ShapeError("video", VIDEO, video.shape, f"frames of {height}x{width} are smaller than size={size}")
    device = video.device
    top = _draw((batch,), height - size + 1, device, generator)
    left = _draw((batch,), width - size + 1, device, generator)
    flips = _draw((2, batch), 2 if flip else 1, device, generator).bool()
    rows = top[:, None] + _flip_index(size, flips[0])  # (B, size)
    cols = left[:, None] + _flip_index(size, flips[1])
    clips = torch.arange(batch, device=device)
    crop = video[clips[:, None, None], :, :, rows[:, :, None], cols[:, None, :]]  # (B, size, size, C, T)
    return rearrange(crop, "b h w c t -> b c t h w")


def global_view(video: Tensor, size: int, *, flip: bool = True, generator: torch.Generator | None = None) -> Tensor:
    r"""LGA's global view: each whole frame resized bicubically to ``size`` x ``size``, with random flips (spec §5.1).

    Bicubic interpolation with ``align_corners=False`` and no antialiasing (SSPD resizes 151 x 151 faces to 128 x
    128). When ``flip`` is true each clip gets an independent random horizontal and vertical flip.

    Autograd supported.

    Args:
        video: Clips ``(B, C, T, H, W)`` (raw frames or frame differences).
        size: Side of the output frames (128 in SSPD).
        flip: Whether to flip at random (default).
        generator: Source of randomness (the global RNG when ``None``).

    Returns:
        The global view ``(B, C, T, size, size)``.

    Raises:
        ShapeError: If ``video`` is not 5-D.
        ValueError: If ``size`` is not a positive integer.

    Shape:
        - video: :math:`(B, C, T, H, W)`
        - output: :math:`(B, C, T, s, s)`

    Examples:
        >>> import torch
        >>> clip = torch.rand(2, 3, 4, 15, 15)
        >>> global_view(clip, 12, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([2, 3, 4, 12, 12])
        >>> const = torch.ones(1, 3, 2, 15, 15)
        >>> torch.allclose(global_view(const, 12), torch.ones(1, 3, 2, 12, 12))
        True
    """
    _check_size(size)
    check_shape(video, VIDEO, "video")
    batch, channels = video.shape[:2]
    frames = rearrange(video, "b c t h w -> b (c t) h w")
    frames = F.interpolate(frames, size=(size, size), mode="bicubic", align_corners=False)
    resized = rearrange(frames, "b (c t) h w -> b c t h w", c=channels)
    if not flip:
        return resized
    flips = _draw((2, batch), 2, video.device, generator).bool()
    rows = _flip_index(size, flips[0])  # (B, size)
    cols = _flip_index(size, flips[1])
    clips = torch.arange(batch, device=video.device)
    flipped = resized[clips[:, None, None], :, :, rows[:, :, None], cols[:, None, :]]
    return rearrange(flipped, "b h w c t -> b c t h w")


def masked_difference_modeling(
    differences: Tensor, keep_prob: float = 0.7, *, generator: torch.Generator | None = None
) -> Tensor:
    r"""MDM: zero each pixel of each frame with probability ``1 - keep_prob``, alike in every channel (spec §5.1).

    :math:`\tilde d_{b,c,t,h,w} = m_{b,t,h,w}\, d_{b,c,t,h,w}` with :math:`m \sim \mathrm{Bernoulli}(p)`
    independently per clip, frame and pixel, shared by the colour channels; kept values are *not* rescaled by
    :math:`1/p` (as in SSPD's code).

    Autograd supported (the gradient is the mask).

    Args:
        differences: Frame differences ``(B, C, T, H, W)`` (any clip works).
        keep_prob: Probability :math:`p \in (0, 1]` of keeping a pixel (SSPD: 0.7).
        generator: Source of randomness (the global RNG when ``None``).

    Returns:
        The masked clip, same shape and dtype as ``differences``.

    Raises:
        ShapeError: If ``differences`` is not 5-D.
        ValueError: If ``keep_prob`` is not in (0, 1].

    Shape:
        - differences: :math:`(B, C, T, H, W)`
        - output: :math:`(B, C, T, H, W)`

    Examples:
        >>> import torch
        >>> d = torch.ones(2, 3, 8, 16, 16)
        >>> masked = masked_difference_modeling(d, 0.7, generator=torch.Generator().manual_seed(0))
        >>> round(float(masked.mean()), 1)
        0.7
        >>> torch.equal(masked[:, 0], masked[:, 1])  # the same mask for every channel
        True
    """
    check_shape(differences, VIDEO, "differences")
    if isinstance(keep_prob, bool) or not isinstance(keep_prob, (int, float)) or not 0 < keep_prob <= 1:
        raise ValueError(f"keep_prob: expected a number in (0, 1], got {keep_prob!r}")
    batch, _, frames, height, width = differences.shape
    where = generator.device if generator is not None else differences.device
    draws = torch.rand((batch, 1, frames, height, width), generator=generator, device=where)
    mask = (draws < keep_prob).to(device=differences.device, dtype=differences.dtype)
    return differences * mask


def sspd_views(
    clip: Tensor,
    *,
    size: int = 128,
    keep_prob: float = 0.7,
    flip: bool = True,
    generator: torch.Generator | None = None,
) -> SSPDViews:
    r"""SSPD's two training views of a clip: masked local (online) and unmasked global (target) (spec §5.1).

    Takes :math:`T + 1` frames and returns two views of the same :math:`T` raw (unnormalised) frame differences
    :math:`d_t = I_{t+1} - I_t`: ``online`` = :func:`masked_difference_modeling` of :func:`local_view`, ``target`` =
    :func:`global_view`. The local crop's offset is drawn uniformly per clip (the intended behaviour; the released
    code always crops the top-left corner, spec §5.1).

    Args:
        clip: Face clips ``(B, C, T + 1, H, W)``, ``H, W >= size`` (SSPD: 301 frames of 151 x 151).
        size: Side of both views (128).
        keep_prob: MDM's keep probability (0.7).
        flip: Whether both views are flipped at random (independently).
        generator: Source of randomness (the global RNG when ``None``).

    Returns:
        :class:`SSPDViews` ``(online, target)``, each ``(B, C, T, size, size)``, in the clip's floating dtype.

    Raises:
        ShapeError: If ``clip`` is not 5-D, has fewer than 2 frames, or frames smaller than ``size``.
        ValueError: If ``size`` or ``keep_prob`` is invalid.

    Shape:
        - clip: :math:`(B, C, T + 1, H, W)`
        - online, target: :math:`(B, C, T, s, s)`

    Examples:
        >>> import torch
        >>> views = sspd_views(torch.rand(2, 3, 9, 20, 20), size=16, generator=torch.Generator().manual_seed(0))
        >>> views.online.shape, views.target.shape
        (torch.Size([2, 3, 8, 16, 16]), torch.Size([2, 3, 8, 16, 16]))
    """
    check_shape(clip, VIDEO, "clip")
    if clip.shape[2] < 2:
        raise ShapeError("clip", VIDEO, clip.shape, f"frame differences need T >= 2 frames, got T={clip.shape[2]}")
    if not clip.is_floating_point():
        clip = clip.float()
    differences = clip.diff(dim=2)
    online = masked_difference_modeling(
        local_view(differences, size, flip=flip, generator=generator), keep_prob, generator=generator
    )
    target = global_view(differences, size, flip=flip, generator=generator)
    return SSPDViews(online, target)
