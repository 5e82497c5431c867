r"""Compression augmentation with real codec artefacts: encode a clip with MPEG-4 Part 2 or H.264, decode it back.

Source: Yu, Peng, Zhao, "Remote Heart Rate Measurement from Highly Compressed Facial Videos: an End-to-end Deep
Learning Solution with Video Enhancement", ICCV 2019 (arXiv 1907.11921), §4 (the clips are compressed with x264
(AVC), x265 (HEVC) and MPEG-4 at several bit rates); rppgblocks spec ``architectures.md`` §4 and §6. The compressed
clips :math:`c_k` that STVEN learns to restore (:class:`~rppgblocks.models.stven.STVEN`) are made with
:func:`compress_video`.

Encoding and decoding are delegated to FFmpeg through PyAV (``av``, whose wheels bundle FFmpeg with ``libx264``),
entirely in memory (no container and no file). Install it with ``pip install "rppgblocks[video]"``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from types import ModuleType
from typing import Literal, overload

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from rppgblocks.errors import ShapeError

__all__ = ["VideoCodec", "available_codecs", "compress_video"]

VideoCodec = Literal["mpeg4", "h264"]

#: FFmpeg encoders (in order of preference) and the decoder of each codec.
_ENCODERS: dict[str, tuple[str, ...]] = {"mpeg4": ("mpeg4",), "h264": ("libx264", "libopenh264")}
_DECODERS: dict[str, str] = {"mpeg4": "mpeg4", "h264": "h264"}
_CODEC_NAMES: dict[str, str] = {"mpeg4": "MPEG-4 Part 2", "h264": "H.264/AVC"}


def _av() -> ModuleType:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'Compression augmentation needs PyAV: pip install "rppgblocks[video]" (installs av, which bundles FFmpeg)'
        ) from exc
    return av


def available_codecs() -> tuple[VideoCodec, ...]:
    """The codecs :func:`compress_video` can use with the installed PyAV/FFmpeg build (encoder and decoder found).

    Returns:
        A subset of ``("mpeg4", "h264")``.

    Raises:
        ImportError: If PyAV is not installed.

    Examples:
        >>> set(available_codecs()) <= {"mpeg4", "h264"}
        True
    """
    present = _av().codecs_available
    codecs: tuple[VideoCodec, ...] = ("mpeg4", "h264")
    return tuple(c for c in codecs if _DECODERS[c] in present and any(e in present for e in _ENCODERS[c]))


def _encoder_name(codec: str) -> str:
    if codec not in _ENCODERS:
        raise ValueError(f"codec: expected 'mpeg4' or 'h264', got {codec!r}")
    present = _av().codecs_available
    encoder = next((e for e in _ENCODERS[codec] if e in present), None)
    if encoder is None or _DECODERS[codec] not in present:
        missing = "/".join(_ENCODERS[codec]) if encoder is None else f"the {_DECODERS[codec]} decoder"
        raise RuntimeError(
            f"codec: {codec!r} ({_CODEC_NAMES[codec]}) is not available in this PyAV/FFmpeg build (no {missing}); "
            f"available: {list(available_codecs())}. The PyAV wheels from PyPI include libx264."
        )
    return encoder


def _roundtrip(
    frames: npt.NDArray[np.uint8], encoder: str, decoder: str, bitrate_kbps: float, fps: float
) -> npt.NDArray[np.uint8]:
    """Encode ``(T, H, W, 3)`` RGB frames (even H, W) and decode them back, in memory."""
    av = _av()
    rate = Fraction(fps).limit_denominator(1_000_000)
    enc = av.CodecContext.create(encoder, "w")
    enc.width, enc.height = frames.shape[2], frames.shape[1]
    enc.pix_fmt = "yuv420p"
    enc.bit_rate = max(1, round(bitrate_kbps * 1000))
    enc.framerate = rate
    enc.time_base = 1 / rate
    enc.thread_count = 1  # one thread: the same bytes on every run
    if encoder == "libx264":
        enc.options = {"preset": "medium"}
    enc.open()
    packets = []
    for index, rgb in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(format="yuv420p")
        frame.pts = index
        packets.extend(enc.encode(frame))
    packets.extend(enc.encode(None))
    dec = av.CodecContext.create(decoder, "r")
    dec.thread_count = 1
    decoded = [f.to_ndarray(format="rgb24") for packet in packets for f in dec.decode(packet)]
    decoded.extend(f.to_ndarray(format="rgb24") for f in dec.decode(None))
    if len(decoded) != len(frames):  # pragma: no cover - an FFmpeg fault
        raise RuntimeError(f"{encoder}: decoded {len(decoded)} frames from {len(frames)} encoded frames")
    return np.stack(decoded).astype(np.uint8, copy=False)


def _compress_frames(
    frames: npt.NDArray[np.uint8], codec: str, bitrate_kbps: float, fps: float
) -> npt.NDArray[np.uint8]:
    """Pad ``(T, H, W, 3)`` frames to even H, W (edge replicate; 4:2:0 needs it), round-trip, crop back."""
    encoder = _encoder_name(codec)
    _, h, w, _ = frames.shape
    padded = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return _roundtrip(padded, encoder, _DECODERS[codec], bitrate_kbps, fps)[:, :h, :w]


def _check_frames_shape(shape: tuple[int, ...], name: str) -> None:
    if len(shape) != 4 or shape[-1] != 3:
        raise ShapeError(name, "t h w 3", shape, "uint8 frames must be (T, H, W, 3) RGB")
    if min(shape[:3]) < 1:
        raise ShapeError(name, "t h w 3", shape, "T, H and W must be positive")


@overload
def compress_video(
    clip: npt.NDArray[np.uint8],
    *,
    codec: VideoCodec = ...,
    bitrate_kbps: float,
    fps: float = ...,
    value_range: tuple[float, float] = ...,
) -> npt.NDArray[np.uint8]: ...


@overload
def compress_video(
    clip: Tensor,
    *,
    codec: VideoCodec = ...,
    bitrate_kbps: float,
    fps: float = ...,
    value_range: tuple[float, float] = ...,
) -> Tensor: ...


def compress_video(
    clip: npt.NDArray[np.uint8] | Tensor,
    *,
    codec: VideoCodec = "h264",
    bitrate_kbps: float,
    fps: float = 30.0,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> npt.NDArray[np.uint8] | Tensor:
    r"""Compress a clip with a real video codec at a target bit rate and decode it back (ICCV 2019 STVEN, §4).

    The clip goes through FFmpeg's encoder (``mpeg4`` for MPEG-4 Part 2; ``libx264``, else ``libopenh264``, for
    H.264) in 4:2:0 YUV at ``bitrate_kbps`` (the encoder's average-bit-rate control), then through the decoder, so
    the result has the codec's real artefacts: blocking, ringing, blur, chroma subsampling and temporal (motion
    compensation) errors, which grow as the bit rate falls. The bit rate per frame is ``bitrate_kbps / fps``, so
    ``fps`` matters. Encoding runs in memory, single-threaded, with fixed settings: the same input gives the same
    output. Odd heights and widths are padded (edge values) to even for the encoder and cropped back.

    Notes: even a very high bit rate does not return the exact input (the RGB -> YUV 4:2:0 -> RGB conversion, BT.601
    limited range, loses chroma detail and rounds); MPEG-4 Part 2's rate control cannot go below its coarsest
    quantiser, so on small clips it may overshoot very low targets (H.264's meets them). Not differentiable: a
    floating output is a new tensor without gradient history.

    Args:
        clip: One of: a NumPy ``uint8`` array or a ``uint8`` tensor ``(T, H, W, 3)`` of RGB frames (the on-disk
            layout :data:`rppgblocks.layout.FRAMES`); a floating tensor ``(C, T, H, W)`` with :math:`C = 3`, or a
            batch of them ``(B, C, T, H, W)`` (each clip compressed on its own).
        codec: ``"h264"`` (default) or ``"mpeg4"``.
        bitrate_kbps: The target bit rate in kbit/s, e.g. 1000 (mild) or 50 (heavy for 128 x 128 at 30 fps).
        fps: The clip's frame rate in Hz (the encoder's time base).
        value_range: For floating clips, the values that map to 0 and 255 (``(0, 1)`` default; ``(-1, 1)`` for
            STVEN's range); values outside are clipped. The output is in the same range.

    Returns:
        The decoded clip, with the input's shape, dtype and type (NumPy array or tensor, on the input's device).

    Raises:
        ShapeError: If ``clip`` does not have one of the shapes above (or an empty axis).
        TypeError: If ``clip`` is neither a NumPy array nor a tensor, or its dtype is not ``uint8`` / floating
            as required by its layout.
        ValueError: If ``codec`` is unknown, or ``bitrate_kbps``, ``fps`` or ``value_range`` is invalid.
        RuntimeError: If the codec's encoder or decoder is missing from the installed FFmpeg build (the message
            names the codec).
        ImportError: If PyAV is not installed.

    Shape:
        - clip: :math:`(T, H, W, 3)` ``uint8``; or :math:`(C, T, H, W)` or :math:`(B, C, T, H, W)` floating,
          :math:`C = 3`
        - Output: the same

    Examples:
        >>> import numpy as np
        >>> frames = np.tile(np.linspace(0, 255, 32, dtype=np.uint8)[None, None, :, None], (8, 32, 1, 3))
        >>> out = compress_video(frames, codec="h264", bitrate_kbps=500)
        >>> out.shape, out.dtype
        ((8, 32, 32, 3), dtype('uint8'))
        >>> video = torch.rand(2, 3, 8, 16, 16) * 2 - 1  # a batch in STVEN's [-1, 1]
        >>> compress_video(video, codec="mpeg4", bitrate_kbps=200, value_range=(-1.0, 1.0)).shape
        torch.Size([2, 3, 8, 16, 16])
    """
    if codec not in _ENCODERS:
        raise ValueError(f"codec: expected 'mpeg4' or 'h264', got {codec!r}")
    for value, name in ((bitrate_kbps, "bitrate_kbps"), (fps, "fps")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name}: expected a finite number > 0, got {value!r}")
    low, high = _value_range(value_range)

    if isinstance(clip, np.ndarray):
        if clip.dtype != np.uint8:
            raise TypeError(f"clip: a NumPy clip must be uint8 (T, H, W, 3) RGB frames, got dtype {clip.dtype}")
        _check_frames_shape(clip.shape, "clip")
        return _compress_frames(clip, codec, bitrate_kbps, fps)
    if not isinstance(clip, Tensor):
        raise TypeError(f"clip: expected a NumPy array or a torch.Tensor, got {type(clip).__name__}")
    if clip.dtype == torch.uint8:
        _check_frames_shape(tuple(clip.shape), "clip")
        out = _compress_frames(clip.detach().cpu().numpy(), codec, bitrate_kbps, fps)
        return torch.from_numpy(out).to(clip.device)
    if not clip.is_floating_point():
        raise TypeError(f"clip: a tensor clip must be uint8 (T, H, W, 3) or floating (C, T, H, W), got {clip.dtype}")
    if clip.dim() not in (4, 5) or clip.shape[-4] != 3 or min(clip.shape) < 1:
        raise ShapeError(
            "clip", "[b] 3 t h w", clip.shape, "floating clips must be (C, T, H, W) or (B, C, T, H, W), C=3, non-empty"
        )
    batch = clip.detach().reshape(-1, *clip.shape[-4:]).cpu().to(torch.float64)
    scaled = ((batch - low) * (255.0 / (high - low))).round().clamp(0, 255).to(torch.uint8)
    frames = scaled.permute(0, 2, 3, 4, 1).numpy()  # (N, T, H, W, C)
    decoded = np.stack([_compress_frames(f, codec, bitrate_kbps, fps) for f in frames])
    restored = torch.from_numpy(decoded).permute(0, 4, 1, 2, 3).to(torch.float64) * ((high - low) / 255.0) + low
    return restored.reshape(clip.shape).to(device=clip.device, dtype=clip.dtype)


def _value_range(value_range: tuple[float, float]) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"value_range: expected (low, high), got {value_range!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"value_range: expected finite low < high, got {value_range!r}")
    return low, high
