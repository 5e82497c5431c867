"""Normalisations of video clips and pulse labels: DiffNormalized, Standardized and temporal centring.

DiffNormalized and Standardized follow rPPG-Toolbox's definitions (rppgblocks spec ``datasets.md`` §4.3), applied
per clip (video) or per signal (labels, :func:`diff_normalize_label` and :func:`standardize_label`);
:func:`undo_diff_normalize` is rPPG-Toolbox's inverse of DiffNormalized at evaluation (§4.5 step 1);
temporal centring is rppgblocks' input normalisation for BVP networks trained on raw RGB clips.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from rppgblocks._checks import check_shape
from rppgblocks.errors import ShapeError
from rppgblocks.layout import SIGNAL, VIDEO

__all__ = [
    "VideoNormalization",
    "center_over_time",
    "diff_normalize",
    "diff_normalize_label",
    "normalize_video",
    "standardize",
    "standardize_label",
    "undo_diff_normalize",
]

VideoNormalization = Literal["none", "temporal_center", "diff_normalized", "standardized"]

_DIMS = (1, 2, 3, 4)


def _std(x: Tensor) -> Tensor:
    """Per-sample population standard deviation over (C, T, H, W), shape (B, 1, 1, 1, 1), floored at eps."""
    return x.var(dim=_DIMS, keepdim=True, correction=0).sqrt().clamp_min(torch.finfo(x.dtype).eps)


def _given(value: float | Tensor, like: Tensor, name: str) -> Tensor:
    """A precomputed statistic as a tensor broadcastable to ``(B, 1, 1, 1, 1)``, checked to be finite."""
    stat = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if stat.numel() not in (1, like.shape[0]):
        raise ValueError(
            f"{name}: expected a number or one value per clip ({like.shape[0]}), got shape {tuple(stat.shape)}"
        )
    if not bool(torch.isfinite(stat).all()):
        raise ValueError(f"{name}: expected finite values, got {value!r}")
    return stat.reshape(-1, 1, 1, 1, 1)


def standardize(video: Tensor, *, mean: float | Tensor | None = None, std: float | Tensor | None = None) -> Tensor:
    r"""rPPG-Toolbox's "Standardized" transform per clip: :math:`(x - \mu) / \sigma` over all of C, T, H, W.

    rPPG-Toolbox standardises each whole video before cutting it into clips; pass that video's ``mean`` and ``std``
    to reproduce it on a clip (the clip datasets do, with ``video_normalization="standardized"``). A zero ``std``
    gives zeros (rPPG-Toolbox's NaN set to 0).

    Args:
        video: Clips ``(B, C, T, H, W)``, floating point.
        mean: The mean to subtract: a number or one per clip; ``None``: each clip's own.
        std: The standard deviation to divide by: a number or one per clip, >= 0; ``None``: each clip's own.

    Returns:
        The standardised clips, same shape and dtype.

    Raises:
        ShapeError: If ``video`` is not 5-D.
        ValueError: If ``mean`` or ``std`` is not finite, ``std`` is negative, or either has neither 1 nor B values.

    Shape:
        - video, output: :math:`(B, C, T, H, W)`

    Examples:
        >>> x = standardize(torch.rand(2, 3, 8, 4, 4))
        >>> round(float(x[0].mean()), 4), round(float(x[0].std(correction=0)), 4)
        (0.0, 1.0)
        >>> standardize(torch.full((1, 3, 2, 1, 1), 6.0), mean=4.0, std=2.0).flatten().tolist()
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    """
    check_shape(video, VIDEO, "video")
    centred = video - (video.mean(dim=_DIMS, keepdim=True) if mean is None else _given(mean, video, "mean"))
    return centred / (_std(centred) if std is None else _given_std(std, video))


def _given_std(std: float | Tensor, like: Tensor) -> Tensor:
    stat = _given(std, like, "std")
    if bool((stat < 0).any()):
        raise ValueError(f"std: expected a standard deviation >= 0, got {std!r}")
    return stat.clamp_min(torch.finfo(like.dtype).eps)


def diff_normalize(video: Tensor, *, eps: float = 1e-7, std: float | Tensor | None = None) -> Tensor:
    r"""rPPG-Toolbox's "DiffNormalized" transform per clip (rppgblocks spec ``datasets.md`` §4.3).

    :math:`d_t = (x_{t+1} - x_t) / (x_{t+1} + x_t + \epsilon)` elementwise for :math:`t = 0 .. T-2`, divided by the
    clip's standard deviation of :math:`d`; an all-zero frame is appended so the length stays T. rPPG-Toolbox
    computes the standard deviation over the whole video before cutting clips; over a clip it differs by a scale
    factor close to 1, which changes a trained network's output in eval mode (BatchNorm then uses its running
    statistics): for parity with rPPG-Toolbox checkpoints, pass the whole video's ``std`` (the clip datasets do,
    with ``video_normalization="diff_normalized"``), or normalise the whole video and then cut clips.

    Args:
        video: Clips ``(B, C, T, H, W)`` of non-negative intensities, T >= 2.
        eps: The constant in the denominator.
        std: The standard deviation of :math:`d` to divide by (a number or one per clip, >= 0; 0 gives zeros);
            ``None``: each clip's own.

    Returns:
        The DiffNormalized clips, same shape and dtype; the last frame is zero.

    Raises:
        ShapeError: If ``video`` is not 5-D or has fewer than 2 frames.
        ValueError: If ``std`` is not finite, is negative, or has neither 1 nor B values.

    Shape:
        - video, output: :math:`(B, C, T, H, W)`

    Examples:
        >>> clip = torch.ones(1, 3, 4, 2, 2) * torch.tensor([1.0, 2.0, 2.0, 4.0]).view(1, 1, 4, 1, 1)
        >>> diff_normalize(clip)[0, 0, :, 0, 0] / diff_normalize(clip)[0, 0, 0, 0, 0]
        tensor([1.0000, 0.0000, 1.0000, 0.0000])
        >>> diff_normalize(clip, std=1.0)[0, 0, :, 0, 0]  # (2 - 1) / (2 + 1), 0, (4 - 2) / (4 + 2), 0
        tensor([0.3333, 0.0000, 0.3333, 0.0000])
    """
    check_shape(video, VIDEO, "video")
    if video.shape[2] < 2:
        raise ShapeError("video", VIDEO, video.shape, "DiffNormalized needs T >= 2 frames")
    diff = (video[:, :, 1:] - video[:, :, :-1]) / (video[:, :, 1:] + video[:, :, :-1] + eps)
    diff = diff / (_std(diff) if std is None else _given_std(std, video))
    return torch.cat([diff, torch.zeros_like(diff[:, :, :1])], dim=2)


def _divide_by_std(x: Tensor) -> Tensor:
    """``x`` divided by its population standard deviation over T per signal; 0 where that deviation is 0."""
    std = x.var(dim=-1, keepdim=True, correction=0).sqrt()
    return torch.where(std > 0, x / torch.where(std > 0, std, torch.ones_like(std)), torch.zeros_like(x))


def _check_label(signal: Tensor, minimum: int, what: str) -> None:
    check_shape(signal, SIGNAL, "signal")
    if not signal.dtype.is_floating_point:
        raise TypeError(f"signal: expected a floating-point tensor, got dtype {signal.dtype}")
    if signal.shape[-1] < minimum:
        raise ShapeError("signal", SIGNAL, signal.shape, f"{what} needs T >= {minimum} samples")


def diff_normalize_label(signal: Tensor) -> Tensor:
    r"""rPPG-Toolbox's "DiffNormalized" transform of pulse labels (rppgblocks spec ``datasets.md`` §4.3).

    :math:`d_t = y_{t+1} - y_t` for :math:`t = 0 .. T-2`, divided by the population standard deviation of
    :math:`d`, with a 0 appended so the length stays T. A signal whose differences are all equal (a constant, a
    straight line, or T = 2) has no pulse and gives zeros (rPPG-Toolbox sets the NaN of a constant to 0, and
    gives infinities for a line). rPPG-Toolbox applies it to the whole label sequence of a video before cutting
    clips; do the same for parity. :func:`undo_diff_normalize` is the inverse used at evaluation.

    Args:
        signal: Pulse signals ``(B, T)``, floating point, T >= 2.

    Returns:
        The DiffNormalized signals, same shape and dtype; the last sample is 0.

    Raises:
        ShapeError: If ``signal`` is not ``(B, T)`` or T < 2.
        TypeError: If ``signal`` is not floating point.

    Shape:
        - signal, output: :math:`(B, T)`

    Examples:
        >>> d = diff_normalize_label(torch.tensor([[0.0, 1.0, 3.0, 2.0]]))  # differences 1, 2, -1
        >>> d
        tensor([[ 0.8018,  1.6036, -0.8018,  0.0000]])
        >>> undo_diff_normalize(d)  # the cumulative sum: the signal led by one sample, up to offset and scale
        tensor([[0.8018, 2.4054, 1.6036, 1.6036]])
    """
    _check_label(signal, 2, "DiffNormalized")
    diff = _divide_by_std(signal.diff(dim=-1))
    return torch.cat([diff, torch.zeros_like(diff[:, :1])], dim=-1)


def standardize_label(signal: Tensor) -> Tensor:
    r"""rPPG-Toolbox's "Standardized" transform of pulse labels: :math:`(y - \mu) / \sigma` per signal.

    :math:`\mu` and :math:`\sigma` (population) are taken over the signal's T samples; a constant signal gives
    zeros (rPPG-Toolbox's NaN set to 0). rppgblocks spec ``datasets.md`` §4.3.

    Args:
        signal: Pulse signals ``(B, T)``, floating point.

    Returns:
        The standardised signals, same shape and dtype.

    Raises:
        ShapeError: If ``signal`` is not ``(B, T)``.
        TypeError: If ``signal`` is not floating point.

    Shape:
        - signal, output: :math:`(B, T)`

    Examples:
        >>> standardize_label(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
        tensor([[-1.3416, -0.4472,  0.4472,  1.3416]])
    """
    _check_label(signal, 1, "Standardized")
    return _divide_by_std(signal - signal.mean(dim=-1, keepdim=True))


def center_over_time(video: Tensor) -> Tensor:
    r"""Temporal centring: subtract each pixel's mean over time, then divide by the clip's standard deviation.

    :math:`\tilde x_{c,t,h,w} = (x_{c,t,h,w} - \bar x_{c,h,w}) / \sigma`, with :math:`\bar x` the mean over the
    clip's frames and :math:`\sigma` the standard deviation of the centred clip. The static appearance (skin tone,
    background, facial features) is removed and the temporal variation, the blood volume pulse among it, is kept on
    a unit scale. A network then finds the pulse as a spatial-chromatic projection of its input, which it learns far
    faster than from raw frames (whose variation is dominated by appearance) or from DiffNormalized frames (whose
    variation is dominated by frame-to-frame sensor noise). rppgblocks' default input normalisation of the BVP
    branch of :class:`~rppgblocks.models.RFaceNet`.

    Args:
        video: Clips ``(B, C, T, H, W)``, floating point.

    Returns:
        The centred clips, same shape and dtype.

    Raises:
        ShapeError: If ``video`` is not 5-D.

    Shape:
        - video, output: :math:`(B, C, T, H, W)`

    Examples:
        >>> static = torch.rand(1, 3, 1, 4, 4).expand(1, 3, 8, 4, 4)
        >>> pulse = 0.01 * torch.sin(torch.arange(8.0)).view(1, 1, 8, 1, 1)
        >>> out = center_over_time(static + pulse)
        >>> bool(torch.allclose(out[0, 0, :, 0, 0], out[0, 2, :, 3, 3], atol=1e-4))  # appearance is gone
        True
    """
    check_shape(video, VIDEO, "video")
    centred = video - video.mean(dim=2, keepdim=True)
    return centred / _std(centred)


def normalize_video(video: Tensor, method: VideoNormalization) -> Tensor:
    """Apply the named clip normalisation: ``"none"``, ``"temporal_center"``, ``"diff_normalized"``, ``"standardized"``.

    Args:
        video: Clips ``(B, C, T, H, W)``.
        method: The normalisation (see :func:`center_over_time`, :func:`diff_normalize`, :func:`standardize`).

    Returns:
        The normalised clips (``video`` itself for ``"none"``).

    Raises:
        ValueError: If ``method`` is unknown.
        ShapeError: If ``video`` is not 5-D.

    Shape:
        - video, output: :math:`(B, C, T, H, W)`

    Examples:
        >>> normalize_video(torch.rand(1, 3, 4, 2, 2), "temporal_center").shape
        torch.Size([1, 3, 4, 2, 2])
    """
    if method == "none":
        check_shape(video, VIDEO, "video")
        return video
    if method == "temporal_center":
        return center_over_time(video)
    if method == "diff_normalized":
        return diff_normalize(video)
    if method == "standardized":
        return standardize(video)
    raise ValueError(f"method: expected 'none', 'temporal_center', 'diff_normalized' or 'standardized', got {method!r}")


def undo_diff_normalize(signal: Tensor) -> Tensor:
    r"""rPPG-Toolbox's inverse of DiffNormalized signals at evaluation: the cumulative sum over time.

    :math:`y_t = \sum_{s \le t} d_s` (rppgblocks spec ``datasets.md`` §4.5 step 1: ``np.cumsum`` of predictions and
    labels when the label type is DiffNormalized, before detrending). It recovers a signal only up to an offset
    (the lost first value), a scale (the division by the standard deviation) and a trend: errors of a predicted
    derivative accumulate into a random walk, which is why rPPG-Toolbox detrends next (see
    :func:`~rppgblocks.functional.detrend_smoothness_priors`). For a DiffNormalized label
    :math:`d_t = (x_{t+1} - x_t) / \sigma` (with the appended final zero) the result is
    :math:`y_t = (x_{t+1} - x_0) / \sigma` for :math:`t \le T - 2` and :math:`y_{T-1} = y_{T-2}`: the original,
    led by one sample.

    Computes in float32 for half-precision input (float64 for float64) and returns the input's dtype. Autograd,
    ``torch.compile`` and ``torch.export`` supported. Parameter-free.

    Args:
        signal: DiffNormalized signals (predicted or label derivatives), ``(B, T)``.

    Returns:
        The integrated signals, same shape and dtype.

    Raises:
        ShapeError: If ``signal`` is not ``(B, T)``.

    Shape:
        - signal, output: :math:`(B, T)`

    Examples:
        >>> x = torch.tensor([[1.0, 3.0, 2.0, 5.0]])
        >>> d = torch.cat([x.diff(dim=-1), torch.zeros(1, 1)], dim=-1)  # DiffNormalized up to the 1 / std
        >>> undo_diff_normalize(d)  # x[1:] - x[0], then the last value repeated
        tensor([[2., 1., 4., 4.]])
    """
    check_shape(signal, SIGNAL, "signal")
    work = signal if signal.dtype in (torch.float32, torch.float64) else signal.float()
    return work.cumsum(dim=-1).to(signal.dtype)
