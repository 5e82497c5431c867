"""The record every rppgblocks clip dataset yields."""

from __future__ import annotations

from typing import Literal, TypedDict

from torch import Tensor

__all__ = ["ClipSample", "Normalization"]

#: The normalisations a clip dataset applies per whole video (``video_normalization``, ``label_normalization``):
#: rPPG-Toolbox's ``DATA_TYPE`` / ``LABEL_TYPE`` ``"Raw"``, ``"Standardized"`` and ``"DiffNormalized"``.
Normalization = Literal["raw", "standardized", "diff_normalized"]


class ClipSample(TypedDict):
    """One training or evaluation clip, as yielded by the clip datasets (e.g. :class:`~rppgblocks.data.VIPLHR`).

    It is a plain ``dict`` at run time, so ``torch.utils.data.default_collate`` batches it: tensors gain a leading
    batch axis, ``subject`` and ``start`` become ``(B,)`` int64 tensors and ``video_id`` a list of strings.

    Keys:
        video: The clip, ``(C, T, H, W)`` float32: RGB in [0, 1] (C = 3) by default; with the dataset's
            ``video_normalization``, 3 channels per normalisation (Standardized, DiffNormalized), in order.
        bvp: The ground-truth blood volume pulse resampled onto the clip's frame times, ``(T,)`` float32
            (arbitrary units; the sign and scale of the dataset's sensor), or normalised as the dataset's
            ``label_normalization`` says.
        hr: The dataset's reference heart rate for the clip in bpm, ``()`` float32.
        fs: The clip's frame rate in Hz, ``()`` float32.
        subject: Integer subject id as named by the dataset (VIPL-HR ``p12`` -> 12).
        video_id: The video's id, unique within the dataset, e.g. ``"p12/v1/source2"``.
        start: Index of the clip's first frame within its video.

    Examples:
        >>> import torch
        >>> sample: ClipSample = {
        ...     "video": torch.zeros(3, 8, 4, 4), "bvp": torch.zeros(8), "hr": torch.tensor(72.0),
        ...     "fs": torch.tensor(30.0), "subject": 1, "video_id": "p1/v1/source1", "start": 0,
        ... }
        >>> sorted(sample)
        ['bvp', 'fs', 'hr', 'start', 'subject', 'video', 'video_id']
    """

    video: Tensor
    bvp: Tensor
    hr: Tensor
    fs: Tensor
    subject: int
    video_id: str
    start: int
