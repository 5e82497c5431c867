"""Heart-rate evaluation of predicted pulse signals against ground-truth labels, in rPPG-Toolbox's conventions.

One entry point, :func:`evaluate_hr`: per-video (or per-window) predicted and label signals go through the
toolbox's post-processing (:func:`postprocess_bvp`: cumulative sum for DiffNormalized signals, smoothness-priors
detrending with λ = 100, first-order zero-phase Butterworth band-pass), then the heart rate of each is taken by the
FFT rule (periodogram with next-power-of-two length, peak in the band) or by peak detection, the SNR of the
prediction is taken against the label's HR, and the pairs are summarised by :func:`~rppgblocks.evaluation.hr_metrics`.
Source: rppgblocks spec ``datasets.md`` §4.5-§4.6 (rPPG-Toolbox ``evaluation/post_process.py`` and ``metrics.py``,
re-derived, not copied).
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from rppgblocks._checks import check_band, check_finite_positive
from rppgblocks.evaluation.metrics import HRMetrics, hr_metrics
from rppgblocks.functional.detrend import detrend_smoothness_priors
from rppgblocks.functional.filters import bandpass, bandpass_padding
from rppgblocks.functional.heart_rate import DEFAULT_HR_BAND, fft_heart_rate, next_power_of_two
from rppgblocks.functional.normalization import undo_diff_normalize
from rppgblocks.functional.peaks import peak_heart_rate
from rppgblocks.functional.snr import snr_db

__all__ = ["HREvaluation", "HRMethod", "HRPair", "LabelType", "evaluate_hr", "postprocess_bvp"]

LabelType = Literal["DiffNormalized", "Standardized", "Raw"]
HRMethod = Literal["FFT", "peak"]

#: rPPG-Toolbox skips evaluation windows shorter than this many samples.
MIN_WINDOW_SAMPLES = 9


def postprocess_bvp(
    signal: Tensor,
    fs: float,
    *,
    diff_normalized: bool,
    band: tuple[float, float] = DEFAULT_HR_BAND,
    detrend_lambda: float = 100.0,
    filter_order: int = 1,
) -> Tensor:
    r"""rPPG-Toolbox's post-processing of a pulse signal before its heart rate is taken.

    1. If the signal is DiffNormalized (a normalised first difference), undo the difference by a cumulative sum
       (:func:`~rppgblocks.functional.undo_diff_normalize`);
    2. detrend by smoothness priors with :math:`\lambda` = ``detrend_lambda``
       (:func:`~rppgblocks.functional.detrend_smoothness_priors`; Tarvainen et al. 2002);
    3. band-pass with a zero-phase Butterworth filter of order ``filter_order`` over ``band``
       (:func:`~rppgblocks.functional.bandpass`).

    Args:
        signal: Signals ``(B, T)``, float32 or float64.
        fs: Sampling rate in Hz.
        diff_normalized: Whether the signals are DiffNormalized (then step 1 applies).
        band: ``(low_hz, high_hz)`` of the band-pass. Default (0.6, 3.3) Hz, rPPG-Toolbox's since 2025; its
            published tables used (0.75, 2.5) Hz.
        detrend_lambda: The smoothness-priors :math:`\lambda` (rPPG-Toolbox: 100).
        filter_order: The Butterworth order (rPPG-Toolbox: 1).

    Returns:
        The processed signals ``(B, T)``, float64.

    Raises:
        ShapeError: If ``signal`` is not ``(B, T)``.
        ValueError: If ``fs``, ``band``, ``detrend_lambda`` or ``filter_order`` is invalid.

    Shape:
        - signal, output: :math:`(B, T)`

    Examples:
        >>> t = torch.arange(600, dtype=torch.float64) / 30.0
        >>> drifting = torch.sin(2 * torch.pi * 1.2 * t) + 0.5 * t  # 72 bpm on a linear drift
        >>> clean = postprocess_bvp(drifting[None], 30.0, diff_normalized=False)
        >>> round(float(fft_heart_rate(clean, 30.0)), 1)
        72.0
    """
    check_finite_positive(fs, "fs")
    band = check_band(band, fs=fs)
    x = signal.to(torch.float64)
    if diff_normalized:
        x = undo_diff_normalize(x)
    x = detrend_smoothness_priors(x, lam=detrend_lambda)
    return bandpass(x, fs, band=band, order=filter_order)


@dataclass(frozen=True)
class HRPair:
    """One evaluated video or window.

    Attributes:
        video_id: The video's id.
        window: The window's index in its video (0 for whole-video evaluation).
        start: The window's first sample.
        n_samples: The window's length in samples.
        hr_pred_bpm: The heart rate of the prediction, bpm.
        hr_label_bpm: The heart rate of the label, bpm.
        snr_db: The SNR of the processed prediction around the label's heart rate and its first harmonic, dB.

    Examples:
        >>> HRPair("subject1", 0, 0, 900, 72.1, 71.8, 4.2).hr_pred_bpm
        72.1
    """

    video_id: str
    window: int
    start: int
    n_samples: int
    hr_pred_bpm: float
    hr_label_bpm: float
    snr_db: float


@dataclass(frozen=True)
class HREvaluation:
    r"""The result of :func:`evaluate_hr`.

    Attributes:
        pairs: One :class:`HRPair` per evaluated video or window, in input order.
        metrics: MAE, RMSE, MAPE, Pearson r and SD over the pairs, with standard errors.
        snr_db: Mean SNR of the predictions in dB; ``snr_db_se`` its standard error (population SD / sqrt(n)).
        settings: The evaluation settings (method, band, label type, window, fs, detrending, filter).
        skipped: ``(video_id, start, n_samples, reason)`` of each window or video left out: shorter than 9 samples
            (rPPG-Toolbox's rule), or not longer than the band-pass's padding, ``3 * (2 * filter_order + 1)``
            samples (9 for the default order 1, where the toolbox would fail).

    Examples:
        >>> t = torch.arange(900) / 30.0
        >>> label = {"a": torch.sin(2 * torch.pi * 1.2 * t), "b": torch.sin(2 * torch.pi * 1.5 * t)}
        >>> report = evaluate_hr(label, label, label_type="Raw")
        >>> report.metrics.mae, len(report.pairs)
        (0.0, 2)
    """

    pairs: tuple[HRPair, ...]
    metrics: HRMetrics
    snr_db: float
    snr_db_se: float
    settings: dict[str, object]
    skipped: tuple[tuple[str, int, int, str], ...] = field(default=())

    @property
    def hr_pred_bpm(self) -> npt.NDArray[np.float64]:
        """The predicted heart rates of all pairs, bpm."""
        return np.array([p.hr_pred_bpm for p in self.pairs])

    @property
    def hr_label_bpm(self) -> npt.NDArray[np.float64]:
        """The label heart rates of all pairs, bpm."""
        return np.array([p.hr_label_bpm for p in self.pairs])

    def as_dict(self) -> dict[str, object]:
        """Everything as plain Python values (JSON-serialisable except for NaN)."""
        return {
            "settings": dict(self.settings),
            "metrics": self.metrics.as_dict(),
            "snr_db": self.snr_db,
            "snr_db_se": self.snr_db_se,
            "pairs": [asdict(p) for p in self.pairs],
            "skipped": [list(s) for s in self.skipped],
        }

    def report(self) -> str:
        """A text report in rPPG-Toolbox's style: one line per metric, value ± standard error."""
        method = str(self.settings["method"])
        m = self.metrics
        window_s = self.settings["window_s"]
        unit = f"windows of {window_s} s" if window_s else "videos"
        lines = [
            f"{method} MAE (bpm):   {m.mae:.4f} +/- {m.mae_se:.4f}",
            f"{method} RMSE (bpm):  {m.rmse:.4f} +/- {m.rmse_se:.4f}",
            f"{method} MAPE (%):    {m.mape:.4f} +/- {m.mape_se:.4f}",
            f"{method} Pearson r:   {m.pearson:.4f} +/- {m.pearson_se:.4f}",
            f"{method} SD (bpm):    {m.sd:.4f} +/- {m.sd_se:.4f}",
            f"{method} SNR (dB):    {self.snr_db:.4f} +/- {self.snr_db_se:.4f}",
            f"n = {m.n} ({unit})",
        ]
        return "\n".join(lines)

    def save_plots(self, directory: str | os.PathLike[str], *, prefix: str = "") -> list[Path]:
        """Save a Bland-Altman and a scatter plot (PNG) of the pairs into ``directory``; return their paths.

        Raises:
            ImportError: If matplotlib is not installed.
        """
        from rppgblocks.evaluation.plots import bland_altman_plot, scatter_plot

        out = Path(directory)
        title = f"{self.settings['method']} HR, band {self.settings['band']} Hz"
        return [
            bland_altman_plot(self.hr_pred_bpm, self.hr_label_bpm, out / f"{prefix}bland_altman.png", title=title),
            scatter_plot(self.hr_pred_bpm, self.hr_label_bpm, out / f"{prefix}scatter.png", title=title),
        ]


def _as_signal(value: object, name: str) -> Tensor:
    tensor = value if isinstance(value, Tensor) else torch.as_tensor(np.asarray(value))
    tensor = tensor.detach().to("cpu", torch.float64).reshape(-1) if tensor.dim() <= 1 else tensor
    if tensor.dim() != 1:
        raise ValueError(f"{name}: expected a 1-D signal, got shape {tuple(tensor.shape)}")
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name}: the signal holds non-finite values")
    return tensor


def _windows(n: int, size: int | None) -> list[tuple[int, int]]:
    if size is None:
        return [(0, n)]
    return [(start, min(size, n - start)) for start in range(0, n, size)]


def evaluate_hr(
    predictions: Mapping[str, Tensor | npt.ArrayLike],
    labels: Mapping[str, Tensor | npt.ArrayLike],
    *,
    fs: float | Mapping[str, float] = 30.0,
    label_type: LabelType = "DiffNormalized",
    method: HRMethod = "FFT",
    band: tuple[float, float] = DEFAULT_HR_BAND,
    window_s: float | None = None,
    detrend_lambda: float = 100.0,
    filter_order: int = 1,
) -> HREvaluation:
    r"""Evaluate predicted pulse signals against labels, per video or per window, as rPPG-Toolbox does.

    For every video (``predictions`` and ``labels`` map the same video ids to 1-D signals of equal length, e.g. the
    concatenated chunks of each video in order), and for every non-overlapping window of ``window_s`` seconds if
    given (windows under 9 samples are skipped and reported, as the toolbox skips them; so are windows too short
    for the zero-phase band-pass, at most ``3 * (2 * filter_order + 1)`` samples, on which the toolbox's ``filtfilt``
    would fail):

    1. both signals are post-processed by :func:`postprocess_bvp` (cumsum if ``label_type`` is
       ``"DiffNormalized"``, detrending, band-pass over ``band``);
    2. each heart rate is taken by ``method``: ``"FFT"`` = the periodogram peak in ``band`` with next-power-of-two
       length and no window (:func:`~rppgblocks.functional.fft_heart_rate` in its toolbox mode), ``"peak"`` = 60 /
       mean peak-to-peak interval (:func:`~rppgblocks.functional.peak_heart_rate`);
    3. the SNR of the processed prediction is taken around the label's heart rate
       (:func:`~rppgblocks.functional.snr_db`);
    4. the pairs are summarised by :func:`~rppgblocks.evaluation.hr_metrics` (MAE, RMSE, MAPE, Pearson r, SD with
       standard errors) and the mean SNR with its standard error.

    Signals of equal length are processed together as one batch.

    Args:
        predictions: Video id -> predicted pulse signal, ``(T,)``.
        labels: Video id -> ground-truth pulse signal, ``(T,)``, the same ids.
        fs: Sampling rate in Hz, one for all videos or a mapping per video id (rPPG-Toolbox: 30).
        label_type: ``"DiffNormalized"`` (default; signals are normalised first differences, summed back first),
            ``"Standardized"`` or ``"Raw"``. Applies to both signals, as in the toolbox.
        method: ``"FFT"`` (default) or ``"peak"``.
        band: ``(low_hz, high_hz)`` for the band-pass, the FFT peak search and the SNR. Default (0.6, 3.3) Hz,
            rPPG-Toolbox's current setting; its published tables (before 2025) used (0.75, 2.5) Hz.
        window_s: Window length in seconds, or ``None`` (default) for whole-video evaluation.
        detrend_lambda: The smoothness-priors λ (100).
        filter_order: The Butterworth order (1).

    Returns:
        An :class:`HREvaluation`.

    Raises:
        ValueError: If the video ids differ, a signal is not 1-D or not finite, a pair differs in length, an
            argument is invalid, or nothing is left to evaluate.

    Shape:
        - each prediction and label: :math:`(T_v,)`, any length per video

    Examples:
        >>> t = torch.arange(1800) / 30.0
        >>> labels = {f"v{i}": torch.sin(2 * torch.pi * f * t) for i, f in enumerate([1.0, 1.3, 1.9])}
        >>> preds = {k: v + 0.3 * torch.randn(v.shape, generator=torch.Generator().manual_seed(0))
        ...          for k, v in labels.items()}
        >>> report = evaluate_hr(preds, labels, label_type="Raw")
        >>> report.metrics.mae < 1.0, [round(p.hr_label_bpm) for p in report.pairs]
        (True, [60, 78, 114])
    """
    if set(predictions) != set(labels):
        missing, extra = sorted(set(labels) - set(predictions)), sorted(set(predictions) - set(labels))
        raise ValueError(f"predictions: video ids differ from the labels'; missing {missing}, extra {extra}")
    if label_type not in ("DiffNormalized", "Standardized", "Raw"):
        raise ValueError(f"label_type: expected 'DiffNormalized', 'Standardized' or 'Raw', got {label_type!r}")
    if method not in ("FFT", "peak"):
        raise ValueError(f"method: expected 'FFT' or 'peak', got {method!r}")
    if window_s is not None:
        check_finite_positive(window_s, "window_s")
    rates = {video: float(fs[video] if isinstance(fs, Mapping) else fs) for video in predictions}
    for video, rate in rates.items():
        check_finite_positive(rate, f"fs[{video!r}]")
        check_band(band, fs=rate)

    if isinstance(filter_order, bool) or not isinstance(filter_order, int) or filter_order < 1:
        raise ValueError(f"filter_order: expected an integer >= 1, got {filter_order!r}")
    # filtfilt's odd extension (3 x the number of coefficients of the band-pass) must be shorter than the signal
    filter_padding = bandpass_padding(filter_order)
    # cut every video into its windows and group the windows by (length, fs) so that each group is one batch
    groups: dict[tuple[int, float], list[tuple[str, int, int, Tensor, Tensor]]] = defaultdict(list)
    skipped: list[tuple[str, int, int, str]] = []
    order: list[tuple[str, int]] = []
    for video in predictions:
        pred = _as_signal(predictions[video], f"predictions[{video!r}]")
        label = _as_signal(labels[video], f"labels[{video!r}]")
        if pred.shape != label.shape:
            raise ValueError(
                f"predictions[{video!r}]: expected the label's length {label.shape[0]}, got {pred.shape[0]}"
            )
        size = None if window_s is None else max(1, round(window_s * rates[video]))
        for index, (start, length) in enumerate(_windows(pred.shape[0], size)):
            if length < MIN_WINDOW_SAMPLES:
                skipped.append((video, start, length, f"shorter than {MIN_WINDOW_SAMPLES} samples"))
                continue
            if length <= filter_padding:
                skipped.append(
                    (video, start, length, f"too short for the band-pass (needs more than {filter_padding} samples)")
                )
                continue
            groups[(length, rates[video])].append(
                (video, index, start, pred[start : start + length], label[start : start + length])
            )
            order.append((video, index))
    if not order:
        raise ValueError(
            "predictions: nothing to evaluate (no video, or every window too short; see the skipped windows: "
            f"{skipped[:5]})"
        )

    diff = label_type == "DiffNormalized"
    results: dict[tuple[str, int], HRPair] = {}
    for (length, rate), items in groups.items():
        pred = torch.stack([item[3] for item in items])
        label = torch.stack([item[4] for item in items])
        processed = postprocess_bvp(
            torch.cat([pred, label]),
            rate,
            diff_normalized=diff,
            band=band,
            detrend_lambda=detrend_lambda,
            filter_order=filter_order,
        )
        pred_p = processed[: len(items)]
        if method == "FFT":
            nfft = next_power_of_two(length)
            hr = fft_heart_rate(processed, rate, band=band, nfft=nfft, window="boxcar", refine="none", detrend=False)
        else:
            hr = peak_heart_rate(processed, rate)
        hr_pred, hr_label = hr[: len(items)], hr[len(items) :]
        snr = snr_db(pred_p, hr_label.nan_to_num(nan=60.0), rate, band=band)  # NaN HR (too few peaks): raised below
        for i, (video, index, start, *_rest) in enumerate(items):
            results[(video, index)] = HRPair(
                video, index, start, length, float(hr_pred[i]), float(hr_label[i]), float(snr[i])
            )
    pairs = tuple(results[key] for key in order)
    bad = [p for p in pairs if not (math.isfinite(p.hr_pred_bpm) and math.isfinite(p.hr_label_bpm))]
    if bad:
        raise ValueError(
            f"predictions: no heart rate for {[(p.video_id, p.window) for p in bad]} (too few peaks for "
            "peak detection?); use method='FFT' or longer windows"
        )
    snrs = np.array([p.snr_db for p in pairs])
    settings: dict[str, object] = {
        "method": method,
        "band": tuple(band),
        "label_type": label_type,
        "window_s": window_s,
        "fs": dict(rates),
        "detrend_lambda": detrend_lambda,
        "filter_order": filter_order,
    }
    return HREvaluation(
        pairs=pairs,
        metrics=hr_metrics([p.hr_pred_bpm for p in pairs], [p.hr_label_bpm for p in pairs]),
        snr_db=float(snrs.mean()),
        snr_db_se=float(snrs.std() / math.sqrt(len(snrs))),
        settings=settings,
        skipped=tuple(skipped),
    )
