"""Bland-Altman, scatter and BVP plots of rPPG estimates (matplotlib, from the ``plots`` extra).

Bland and Altman, "Statistical methods for assessing agreement between two methods of clinical measurement",
The Lancet 327(8476), 1986: differences against means, with the mean difference (bias) and the 95 % limits of
agreement, bias ± 1.96 SD of the differences (sample SD, ddof = 1).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import numpy as np

from rppgblocks._checks import check_finite_positive
from rppgblocks.evaluation.metrics import ArrayLike, _as_array

__all__ = ["bland_altman_plot", "bvp_plot", "scatter_plot"]


def _pyplot() -> ModuleType:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('Plots need matplotlib: pip install "rppgblocks[plots]"') from exc
    return plt


def _pairs(pred_bpm: ArrayLike, true_bpm: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    pred, true = _as_array(pred_bpm, "pred_bpm"), _as_array(true_bpm, "true_bpm")
    if pred.shape != true.shape or pred.size == 0:
        raise ValueError(f"pred_bpm, true_bpm: expected equal, non-zero lengths, got {pred.size} and {true.size}")
    return pred, true


def bland_altman_plot(
    pred_bpm: ArrayLike, true_bpm: ArrayLike, path: str | os.PathLike[str], *, title: str = "Bland-Altman"
) -> Path:
    """Save a Bland-Altman plot of predicted against ground-truth heart rates.

    x: the mean of the two measurements; y: prediction minus ground truth (bpm); lines at the bias and at the limits
    of agreement bias ± 1.96·SD (Bland & Altman 1986).

    Args:
        pred_bpm: Predicted heart rates in bpm, shape ``(n,)``.
        true_bpm: Ground-truth heart rates in bpm, shape ``(n,)``.
        path: The output file; its suffix picks the format (``.png``, ``.pdf``, ``.svg``).
        title: The plot's title.

    Returns:
        The path written.

    Raises:
        ValueError: If the inputs are not 1-D, differ in length, are empty or hold non-finite values.
        ImportError: If matplotlib is not installed.

    Shape:
        - pred_bpm, true_bpm: :math:`(n,)`

    Examples:
        >>> import tempfile, os
        >>> out = bland_altman_plot([70.0, 80.0, 95.0], [72.0, 79.0, 96.0], os.path.join(tempfile.mkdtemp(), "ba.png"))
        >>> out.suffix, out.stat().st_size > 0
        ('.png', True)
    """
    pred, true = _pairs(pred_bpm, true_bpm)
    plt = _pyplot()
    mean, diff = (pred + true) / 2, pred - true
    bias = float(diff.mean())
    sd = float(diff.std(ddof=1)) if diff.size > 1 else 0.0
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(mean, diff, s=14, alpha=0.8)
    ax.axhline(bias, color="k", lw=1, label=f"bias {bias:.2f} bpm")
    for limit in (bias - 1.96 * sd, bias + 1.96 * sd):
        ax.axhline(limit, color="k", lw=1, ls="--")
    ax.plot([], [], "k--", lw=1, label=f"limits of agreement ±{1.96 * sd:.2f} bpm")
    ax.set_xlabel("(predicted + ground truth) / 2 [bpm]")
    ax.set_ylabel("predicted − ground truth [bpm]")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, plt, path)


def scatter_plot(
    pred_bpm: ArrayLike, true_bpm: ArrayLike, path: str | os.PathLike[str], *, title: str = "Heart rate"
) -> Path:
    """Save a scatter plot of predicted against ground-truth heart rates with the identity line and Pearson r.

    Args:
        pred_bpm: Predicted heart rates in bpm, shape ``(n,)``.
        true_bpm: Ground-truth heart rates in bpm, shape ``(n,)``.
        path: The output file; its suffix picks the format.
        title: The plot's title.

    Returns:
        The path written.

    Raises:
        ValueError: If the inputs are not 1-D, differ in length, are empty or hold non-finite values.
        ImportError: If matplotlib is not installed.

    Shape:
        - pred_bpm, true_bpm: :math:`(n,)`

    Examples:
        >>> import tempfile, os
        >>> scatter_plot([70.0, 80.0, 95.0], [72.0, 79.0, 96.0], os.path.join(tempfile.mkdtemp(), "s.pdf")).suffix
        '.pdf'
    """
    pred, true = _pairs(pred_bpm, true_bpm)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(true, pred, s=14, alpha=0.8)
    low, high = float(min(pred.min(), true.min())) - 5, float(max(pred.max(), true.max())) + 5
    ax.plot([low, high], [low, high], "k--", lw=1)
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    if pred.size > 1 and pred.std() > 0 and true.std() > 0:
        r = float(np.corrcoef(pred, true)[0, 1])
        ax.text(0.05, 0.92, f"r = {r:.3f}, n = {pred.size}", transform=ax.transAxes)
    ax.set_xlabel("ground truth [bpm]")
    ax.set_ylabel("predicted [bpm]")
    ax.set_title(title)
    return _save(fig, plt, path)


def bvp_plot(
    pred: ArrayLike,
    label: ArrayLike,
    path: str | os.PathLike[str],
    *,
    fs: float = 30.0,
    title: str = "BVP",
    standardize: bool = True,
) -> Path:
    """Save a plot of a predicted BVP against the ground-truth BVP over time.

    Both signals are drawn against time in seconds; with ``standardize`` (default) each is z-scored first (population
    SD), so that signals of different units and scales (a network's output, a finger PPG) share one axis. The title
    gets their Pearson r.

    Args:
        pred: The predicted BVP, shape ``(T,)``.
        label: The ground-truth BVP, shape ``(T,)``.
        path: The output file; its suffix picks the format.
        fs: The sampling rate in Hz.
        title: The plot's title.
        standardize: Whether to z-score each signal before drawing.

    Returns:
        The path written.

    Raises:
        ValueError: If the signals are not 1-D, differ in length, are empty or hold non-finite values, or ``fs`` is
            not a positive finite number.
        ImportError: If matplotlib is not installed.

    Shape:
        - pred, label: :math:`(T,)`

    Examples:
        >>> import math, os, tempfile
        >>> wave = [math.sin(2 * math.pi * 1.2 * t / 30) for t in range(300)]
        >>> out = bvp_plot(wave, wave, os.path.join(tempfile.mkdtemp(), "bvp.png"), fs=30.0)
        >>> out.suffix, out.stat().st_size > 0
        ('.png', True)
    """
    check_finite_positive(fs, "fs")
    signal, truth = _as_array(pred, "pred"), _as_array(label, "label")
    if signal.shape != truth.shape or signal.size == 0:
        raise ValueError(f"pred, label: expected equal, non-zero lengths, got {signal.size} and {truth.size}")
    if standardize:
        signal = (signal - signal.mean()) / (signal.std() or 1.0)
        truth = (truth - truth.mean()) / (truth.std() or 1.0)
    plt = _pyplot()
    time_s = np.arange(signal.size) / fs
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(time_s, truth, color="k", lw=1, label="ground truth")
    ax.plot(time_s, signal, color="tab:red", lw=1, alpha=0.85, label="predicted")
    if signal.size > 1 and signal.std() > 0 and truth.std() > 0:
        title = f"{title} (r = {float(np.corrcoef(signal, truth)[0, 1]):.3f})"
    ax.set_xlabel("time [s]")
    ax.set_ylabel("BVP (z-score)" if standardize else "BVP")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper right")
    return _save(fig, plt, path)


def _save(fig: object, plt: ModuleType, path: str | os.PathLike[str]) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()  # type: ignore[attr-defined]
    fig.savefig(out)  # type: ignore[attr-defined]
    plt.close(fig)
    return out
