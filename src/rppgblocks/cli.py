"""The ``rppgblocks`` command line: ``python -m rppgblocks estimate VIDEO [VIDEO ...]``.

``estimate`` decodes each video (:func:`rppgblocks.data.video.read_video`, the ``video`` extra), takes the
spatial mean RGB of a region of interest in every frame (:func:`rppgblocks.functional.rgb_trace_from_video`: the
whole frame, or its skin-coloured pixels), recovers the pulse with a training-free method of
:mod:`rppgblocks.classical` (``green``, ``ica``, ``chrom``, ``pbv``, ``pos`` (default), ``lgi``, ``omit``), detrends
and band-passes it as rPPG-Toolbox's evaluation does, and prints the heart rate in bpm at the largest spectral peak
inside a band (:func:`rppgblocks.functional.fft_heart_rate`, rFaceNet arXiv 2403.09034 Eq. 3).

Methods and regions of interest are looked up in two read-only tables, so a new method (a trained model) or a
``--roi face`` option is one entry each; the command-line choices are taken from the tables.

Exit status: 0 if every video was estimated, 1 if any video failed (each failure is reported on stderr, and the
other videos are still processed), 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import torch
from einops import rearrange
from torch import Tensor

from rppgblocks._checks import check_band, check_finite_positive
from rppgblocks.classical._common import hann_window_length
from rppgblocks.classical.chrom import _validate as _validate_chrom
from rppgblocks.classical.chrom import chrom
from rppgblocks.classical.green import green
from rppgblocks.classical.ica import ica
from rppgblocks.classical.lgi import lgi
from rppgblocks.classical.omit import omit
from rppgblocks.classical.pbv import pbv
from rppgblocks.classical.pos import DEFAULT_POS_WINDOW_S, pos
from rppgblocks.classical.pos import _validate as _validate_pos
from rppgblocks.data.video import read_video
from rppgblocks.errors import VideoDecodeError
from rppgblocks.evaluation.evaluate import postprocess_bvp
from rppgblocks.functional.filters import bandpass_padding
from rppgblocks.functional.heart_rate import DEFAULT_HR_BAND, fft_heart_rate
from rppgblocks.functional.rgb_trace import rgb_trace_from_video, spatial_mean_rgb

__all__ = ["Estimate", "estimate_video", "main"]

PROG = "rppgblocks"


class _Method(NamedTuple):
    """A pulse-extraction method: ``run(rgb (B, 3, T), fs, window_s, band) -> (B, T)`` and the frames it needs.

    ``min_frames(fs, window_s, band)`` validates the method's settings (raising :class:`ValueError`) and returns
    the number of frames it needs; ``windowed`` says whether it uses ``window_s``.
    """

    run: Callable[[Tensor, float, float, tuple[float, float]], Tensor]
    min_frames: Callable[[float, float, tuple[float, float]], int]
    windowed: bool
    description: str


def _run_green(rgb: Tensor, fs: float, window_s: float, band: tuple[float, float]) -> Tensor:
    return green(rgb)


def _run_ica(rgb: Tensor, fs: float, window_s: float, band: tuple[float, float]) -> Tensor:
    return ica(rgb, fs, band=band)


def _run_chrom(rgb: Tensor, fs: float, window_s: float, band: tuple[float, float]) -> Tensor:
    return chrom(rgb, fs, window_s=window_s, band=band)


def _run_pbv(rgb: Tensor, fs: float, window_s: float, band: tuple[float, float]) -> Tensor:
    return pbv(rgb, fs, window_s=window_s)


def _run_pos(rgb: Tensor, fs: float, window_s: float, band: tuple[float, float]) -> Tensor:
    return pos(rgb, fs, window_s=window_s)


def _run_lgi(rgb: Tensor, fs: float, window_s: float, band: tuple[float, float]) -> Tensor:
    return lgi(rgb)


def _run_omit(rgb: Tensor, fs: float, window_s: float, band: tuple[float, float]) -> Tensor:
    return omit(rgb)


def _frames_chrom(fs: float, window_s: float, band: tuple[float, float]) -> int:
    return _validate_chrom(fs, window_s, band, 3)[0]


def _frames_pbv(fs: float, window_s: float, band: tuple[float, float]) -> int:
    return hann_window_length(fs, window_s, "PBV")


def _frames_pos(fs: float, window_s: float, band: tuple[float, float]) -> int:
    return _validate_pos(fs, window_s)


def _two_frames(fs: float, window_s: float, band: tuple[float, float]) -> int:
    return 2


def _three_frames(fs: float, window_s: float, band: tuple[float, float]) -> int:
    return 3


_METHODS: Mapping[str, _Method] = MappingProxyType(
    {
        "green": _Method(_run_green, _two_frames, False, "the green channel (Verkruysse et al., Optics Express 2008)"),
        "ica": _Method(_run_ica, _three_frames, False, "FastICA of the RGB traces (Poh et al., Optics Express 2010)"),
        "chrom": _Method(_run_chrom, _frames_chrom, True, "chrominance (de Haan and Jeanne, IEEE TBME 2013)"),
        "pbv": _Method(
            _run_pbv, _frames_pbv, True, "blood volume pulse signature (de Haan and van Leest, Physiol. Meas. 2014)"
        ),
        "pos": _Method(_run_pos, _frames_pos, True, "Plane-Orthogonal-to-Skin (Wang et al., IEEE TBME 2017)"),
        "lgi": _Method(_run_lgi, _two_frames, False, "local group invariance (Pilz et al., CVPRW 2018)"),
        "omit": _Method(
            _run_omit,
            _two_frames,
            False,
            "orthogonal matrix image transformation (Alvarez Casado and Bordallo Lopez, IEEE JBHI 2023)",
        ),
    }
)


def _whole_frame(video: Tensor) -> Tensor:
    return spatial_mean_rgb(video)


def _skin_pixels(video: Tensor) -> Tensor:
    return rgb_trace_from_video(video, skin_mask="ycrcb")


#: Regions of interest: ``video (1, 3, T, H, W) uint8 -> RGB trace (1, 3, T)``.
_ROIS: Mapping[str, Callable[[Tensor], Tensor]] = MappingProxyType({"full": _whole_frame, "skin": _skin_pixels})


@dataclass(frozen=True, eq=False)
class Estimate:
    """The heart rate estimated from one video, with what it was computed from.

    Attributes:
        path: The video file.
        hr_bpm: The estimated heart rate in beats per minute.
        fs: The frame rate used, in Hz (the container's, unless overridden).
        n_frames: The number of decoded frames.
        method: The pulse-extraction method, e.g. ``"pos"``.
        band: The heart-rate search band ``(low_hz, high_hz)`` in Hz.
        roi: The region of interest whose mean colour was used, e.g. ``"full"`` (the whole frame).
        window_s: The method's window length in seconds (as given; unused by the window-free methods ``green``,
            ``ica``, ``lgi`` and ``omit``).
        bvp: The recovered pulse signal, ``(T,)`` float32, arbitrary units (after the post-processing if
            ``postprocess``).
        postprocess: Whether the pulse signal was detrended and band-passed before the heart rate was taken.

    Examples:
        >>> est = Estimate("a.avi", 72.5, 30.0, 300, "pos", (0.6, 3.3), "full", 1.6, torch.zeros(300), True)
        >>> est.to_json()
        {'path': 'a.avi', 'hr_bpm': 72.5, 'fs': 30.0, 'n_frames': 300, 'method': 'pos', 'band': [0.6, 3.3]}
    """

    path: str
    hr_bpm: float
    fs: float
    n_frames: int
    method: str
    band: tuple[float, float]
    roi: str
    window_s: float
    bvp: Tensor
    postprocess: bool = True

    def to_json(self) -> dict[str, object]:
        """The fields printed by ``estimate --json``: path, hr_bpm, fs, n_frames, method, band."""
        return {
            "path": self.path,
            "hr_bpm": self.hr_bpm,
            "fs": self.fs,
            "n_frames": self.n_frames,
            "method": self.method,
            "band": list(self.band),
        }


def estimate_video(
    path: str | os.PathLike[str],
    *,
    method: str = "pos",
    band: tuple[float, float] = DEFAULT_HR_BAND,
    window_s: float = DEFAULT_POS_WINDOW_S,
    fs: float | None = None,
    roi: str = "full",
    postprocess: bool = True,
) -> Estimate:
    """Estimate the heart rate of the person in a video file, without training.

    The pipeline of ``rppgblocks estimate``: decode the video (:func:`rppgblocks.data.video.read_video`), average
    the region of interest of each frame into an RGB trace (:func:`rppgblocks.functional.rgb_trace_from_video`),
    recover the pulse with ``method`` (a function of :mod:`rppgblocks.classical`; default ``"pos"``:
    :func:`rppgblocks.classical.pos`, Wang et al., IEEE TBME 64(7), 2017, Algorithm 1), detrend and band-pass it
    (``postprocess``) and take the largest spectral peak in ``band``
    (:func:`rppgblocks.functional.fft_heart_rate`: Hann window, zero padding, parabolic refinement).

    Args:
        path: The video file (any container and codec OpenCV decodes).
        method: The pulse-extraction method: ``"green"``, ``"ica"``, ``"chrom"``, ``"pbv"``, ``"pos"`` (default),
            ``"lgi"`` or ``"omit"`` (the functions of the same name in :mod:`rppgblocks.classical`, with their
            defaults except ``window_s`` and ``band``).
        band: The heart-rate search band ``(low_hz, high_hz)`` in Hz. Default
            :data:`~rppgblocks.functional.DEFAULT_HR_BAND` = (0.6, 3.3) Hz, i.e. 36-198 bpm. ``ica`` also selects
            its component in it and ``chrom`` band-passes to it.
        window_s: The window length in seconds of the windowed methods ``pos``, ``chrom`` and ``pbv`` (default
            1.6 s); the others ignore it.
        fs: The frame rate in Hz; ``None`` (default) takes the rate stored in the container.
        roi: The region of interest: ``"full"`` (default, the whole frame) or ``"skin"`` (the pixels of each frame in
            the Chai-Ngan skin-colour box, :func:`rppgblocks.functional.rgb_trace_from_video`).
        postprocess: Whether to detrend the pulse signal by smoothness priors (lambda = 100,
            :func:`rppgblocks.functional.detrend_smoothness_priors`) and band-pass it to ``band`` (first-order
            zero-phase Butterworth, :func:`rppgblocks.functional.bandpass`) before taking its heart rate: the
            post-processing of rPPG-Toolbox's evaluation of every method (``datasets.md`` §4.5). Default ``True``.

    Returns:
        An :class:`Estimate`.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        VideoDecodeError: If the file cannot be decoded.
        ImportError: If OpenCV (the ``video`` extra) is not installed.
        ValueError: If ``method`` or ``roi`` is unknown, ``window_s``, ``fs`` or ``band`` is invalid (``band``
            above the Nyquist frequency included), the container has no valid frame rate and ``fs`` is not given,
            or the video is shorter than one window of the method. Messages about the video start with its path.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> from rppgblocks.data.video import write_video
        >>> fs, t = 30.0, np.arange(150) / 30.0
        >>> pulse = np.sin(2 * np.pi * 1.5 * t)  # 90 bpm
        >>> rgb = np.array([180.0, 120.0, 100.0]) * (1 + 0.02 * np.outer(pulse, [0.33, 0.77, 0.53]))
        >>> dither = np.random.default_rng(0).uniform(-0.5, 0.5, (150, 8, 8, 3))
        >>> frames = np.rint(rgb[:, None, None, :] + dither).astype(np.uint8)
        >>> path = os.path.join(tempfile.mkdtemp(), "pulse.avi")
        >>> write_video(path, frames, fs, codec="FFV1")
        >>> est = estimate_video(path)
        >>> round(est.hr_bpm), est.fs, est.n_frames, est.method, est.bvp.shape
        (90, 30.0, 150, 'pos', torch.Size([150]))
    """
    if method not in _METHODS:
        raise ValueError(f"method: expected one of {sorted(_METHODS)}, got {method!r}")
    if roi not in _ROIS:
        raise ValueError(f"roi: expected one of {sorted(_ROIS)}, got {roi!r}")
    spec = _METHODS[method]
    band = check_band(band)
    check_finite_positive(window_s, "window_s")
    if fs is not None:
        check_finite_positive(fs, "fs")
    video = read_video(path)
    n_frames = int(video.frames.shape[0])
    rate = float(video.fps if fs is None else fs)
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(
            f"{path}: the container reports no valid frame rate ({rate!r} Hz); pass fs (--fs on the command line)"
        )
    try:
        check_band(band, fs=rate)
        needed = spec.min_frames(rate, window_s, band)
        if postprocess:
            if band[0] <= 0:
                raise ValueError(f"band: the band-pass of the post-processing needs low_hz > 0, got {band}")
            needed = max(needed, bandpass_padding(1) + 1)  # postprocess_bvp's first-order band-pass
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    if n_frames < needed:
        what = f"one window of {window_s:g} s = {needed} frames" if spec.windowed else f"{needed} frames"
        raise ValueError(
            f"{path}: too short: {n_frames} frames at {rate:g} Hz ({n_frames / rate:.2f} s), but {method} needs "
            f"at least {what}"
        )
    clip = rearrange(torch.from_numpy(video.frames), "t h w c -> 1 c t h w")
    trace = _ROIS[roi](clip)
    bvp = spec.run(trace, rate, window_s, band)
    if postprocess:
        bvp = postprocess_bvp(bvp, rate, diff_normalized=False, band=band)
    hr = float(fft_heart_rate(bvp, rate, band=band)[0])
    return Estimate(
        path=str(path),
        hr_bpm=hr,
        fs=rate,
        n_frames=n_frames,
        method=method,
        band=band,
        roi=roi,
        window_s=float(window_s),
        bvp=bvp[0].float(),
        postprocess=postprocess,
    )


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


class _BandAction(argparse.Action):
    """Parse ``--band LOW_HZ HIGH_HZ`` and validate it, so that a bad band is a usage error of ``estimate``."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        try:
            band = check_band(tuple(values or ()), option_string or self.dest)  # type: ignore[arg-type]
        except ValueError as exc:
            parser.error(str(exc))
        setattr(namespace, self.dest, band)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="rppgblocks: remote photoplethysmography (heart rate from face video)."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    est = commands.add_parser(
        "estimate",
        help="estimate the heart rate of each video, without training",
        description=(
            "Estimate the heart rate (bpm) of each video: spatial mean RGB of the region of interest in each frame, "
            "then a training-free rPPG method, then the largest spectral peak in the band. "
            "Exit status: 0 if all videos succeed, 1 if any fails (reported on stderr), 2 for a bad command line."
        ),
    )
    est.add_argument("videos", nargs="+", metavar="VIDEO", help="video file(s) to process")
    est.add_argument(
        "--method",
        choices=sorted(_METHODS),
        default="pos",
        help="pulse-extraction method (default: pos): "
        + "; ".join(f"{name} = {spec.description}" for name, spec in _METHODS.items()),
    )
    est.add_argument(
        "--roi",
        choices=sorted(_ROIS),
        default="full",
        help="region of interest whose mean colour is used (default: full = the whole frame; skin = the pixels of "
        "skin colour, Chai-Ngan YCrCb box)",
    )
    est.add_argument(
        "--band",
        nargs=2,
        type=float,
        action=_BandAction,
        metavar=("LOW_HZ", "HIGH_HZ"),
        default=DEFAULT_HR_BAND,
        help=f"heart-rate search band in Hz (default: {DEFAULT_HR_BAND[0]} {DEFAULT_HR_BAND[1]}, i.e. "
        f"{60 * DEFAULT_HR_BAND[0]:g}-{60 * DEFAULT_HR_BAND[1]:g} bpm)",
    )
    est.add_argument(
        "--window-s",
        type=_positive_float,
        default=DEFAULT_POS_WINDOW_S,
        metavar="SECONDS",
        help=f"window length in seconds of the windowed methods chrom, pbv and pos (default: {DEFAULT_POS_WINDOW_S}); "
        "ignored by the others",
    )
    est.add_argument(
        "--fs",
        type=_positive_float,
        default=None,
        metavar="HZ",
        help="frame rate in Hz (default: the rate stored in the video container)",
    )
    est.add_argument(
        "--no-postprocess",
        dest="postprocess",
        action="store_false",
        help="take the heart rate of the method's raw output (default: detrend, lambda = 100, and band-pass it to "
        "the band first, as rPPG-Toolbox's evaluation does)",
    )
    est.add_argument(
        "--json", action="store_true", help="print one JSON object per video (path, hr_bpm, fs, n_frames, method, band)"
    )
    return parser


def _estimate_command(args: argparse.Namespace) -> int:
    band = check_band(args.band)
    failures = 0
    for path in args.videos:
        try:
            est = estimate_video(
                path,
                method=args.method,
                band=band,
                window_s=args.window_s,
                fs=args.fs,
                roi=args.roi,
                postprocess=args.postprocess,
            )
        except (FileNotFoundError, VideoDecodeError, ValueError, ImportError, OSError) as exc:
            failures += 1
            print(f"{PROG} estimate: error: {exc}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(est.to_json()), flush=True)
        else:
            print(f"{est.path}: {est.hr_bpm:.1f} bpm ({est.method}, {est.fs:g} fps, {est.n_frames} frames)", flush=True)
    if failures and len(args.videos) > 1:
        print(f"{PROG} estimate: {failures} of {len(args.videos)} video(s) failed", file=sys.stderr)
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rppgblocks`` command line and return its exit status.

    ``rppgblocks estimate VIDEO [VIDEO ...] [--method {green,ica,chrom,pbv,pos,lgi,omit}] [--roi {full,skin}]
    [--band LOW_HZ HIGH_HZ] [--window-s 1.6] [--fs HZ] [--no-postprocess] [--json]`` prints, per video, the heart
    rate in bpm from :func:`estimate_video` (band default :data:`~rppgblocks.functional.DEFAULT_HR_BAND` =
    (0.6, 3.3) Hz). A video that cannot be estimated (missing, undecodable, too short for the window) is reported
    on stderr without a traceback, and the others are still processed.

    Args:
        argv: The arguments without the program name; ``None`` (default) reads ``sys.argv[1:]``.

    Returns:
        The exit status: 0 if every video was estimated, 1 if any failed, 2 for a bad command line (argparse's
        message and usage on stderr), 0 for ``--help``.

    Raises:
        Exception: Only an unexpected internal error (a bug) propagates, with its traceback; user errors are
            reported on stderr and give a non-zero status instead.

    Examples:
        >>> import contextlib, io
        >>> err = io.StringIO()
        >>> with contextlib.redirect_stderr(err):
        ...     status = main(["estimate", "no_such_video.avi"])
        >>> status
        1
        >>> print(err.getvalue().splitlines()[0])
        rppgblocks estimate: error: video file not found: no_such_video.avi
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits for --help and on bad arguments
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    if args.command == "estimate":
        try:
            return _estimate_command(args)
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=sys.stderr)
            return 130
    parser.print_usage(sys.stderr)  # pragma: no cover - argparse rejects unknown commands first
    return 2
