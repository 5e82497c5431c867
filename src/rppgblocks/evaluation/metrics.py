r"""Heart-rate error metrics in the field's conventions.

Definitions follow rPPG-Toolbox's ``evaluation/metrics.py`` (rppgblocks spec ``datasets.md`` §4.6): over n videos
(or windows) with errors :math:`e = \mathrm{HR}_{pred} - \mathrm{HR}_{gt}` in bpm, every standard deviation is the
population one (ddof = 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
import torch

__all__ = ["HRMetrics", "hr_metrics"]

ArrayLike = Sequence[float] | npt.NDArray[np.floating] | torch.Tensor


@dataclass(frozen=True)
class HRMetrics:
    """Heart-rate errors over n paired estimates (bpm unless stated).

    Attributes:
        n: Number of pairs.
        mae: Mean absolute error; ``mae_se`` = ``std(abs(e)) / sqrt(n)``.
        rmse: Root mean squared error; ``rmse_se`` = ``sqrt(std(e**2) / sqrt(n))``, rPPG-Toolbox's (unusual) form.
        mape: Mean absolute percentage error in %; ``mape_se`` = ``100 * std(abs(e) / HR_gt) / sqrt(n)``.
        pearson: Pearson r between predictions and ground truth (NaN if either is constant or n < 2);
            ``pearson_se`` = ``sqrt((1 - r**2) / (n - 2))`` (NaN for n < 3).
        sd: Standard deviation of the errors e; ``sd_se`` = ``sd / sqrt(2 (n - 1))``, the large-sample standard
            error of a standard deviation under normally distributed errors (NaN for n < 2). rPPG-Toolbox reports
            no SD; this is the usual approximation (e.g. Ahn and Fessler, "Standard errors of mean, variance, and
            standard deviation estimators", 2003).

    Examples:
        >>> metrics = hr_metrics([70.0, 80.0, 90.0, 100.0], [72.0, 80.0, 88.0, 101.0])
        >>> metrics.mae, metrics.n
        (1.25, 4)
        >>> print(metrics)  # doctest: +NORMALIZE_WHITESPACE
        MAE 1.25 ± 0.41 bpm, RMSE 1.50 ± 0.94 bpm, MAPE 1.51 ± 0.54 %, Pearson r 0.992 ± 0.090,
        SD 1.48 ± 0.60 bpm (n = 4)
    """

    n: int
    mae: float
    mae_se: float
    rmse: float
    rmse_se: float
    mape: float
    mape_se: float
    pearson: float
    pearson_se: float
    sd: float
    sd_se: float

    def as_dict(self) -> dict[str, float]:
        """The metrics as a plain ``dict`` (JSON-serialisable)."""
        return {k: float(v) for k, v in asdict(self).items()}

    def __str__(self) -> str:
        return (
            f"MAE {self.mae:.2f} ± {self.mae_se:.2f} bpm, RMSE {self.rmse:.2f} ± {self.rmse_se:.2f} bpm, "
            f"MAPE {self.mape:.2f} ± {self.mape_se:.2f} %, Pearson r {self.pearson:.3f} ± {self.pearson_se:.3f}, "
            f"SD {self.sd:.2f} ± {self.sd_se:.2f} bpm "
            f"(n = {self.n})"
        )


def _as_array(values: ArrayLike, name: str) -> npt.NDArray[np.float64]:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().double().numpy()
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence of heart rates, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite heart rates, got {int(np.sum(~np.isfinite(array)))} non-finite")
    return array


def hr_metrics(pred_bpm: ArrayLike, true_bpm: ArrayLike) -> HRMetrics:
    """MAE, RMSE, MAPE, Pearson r and SD of heart-rate estimates, with rPPG-Toolbox's standard errors.

    Args:
        pred_bpm: Estimated heart rates in bpm, one per video or window, shape ``(n,)``.
        true_bpm: Ground-truth heart rates in bpm, shape ``(n,)``, all > 0.

    Returns:
        An :class:`HRMetrics`.

    Raises:
        ValueError: If the inputs are not 1-D, differ in length, are empty, hold non-finite values, or a ground
            truth is not positive.

    Shape:
        - pred_bpm, true_bpm: :math:`(n,)` (sequences, numpy arrays or tensors)

    Examples:
        >>> m = hr_metrics([70.0, 82.0, 95.0], [72.0, 80.0, 95.0])
        >>> round(m.mae, 3), round(m.rmse, 3), m.n
        (1.333, 1.633, 3)
    """
    pred = _as_array(pred_bpm, "pred_bpm")
    true = _as_array(true_bpm, "true_bpm")
    if pred.shape != true.shape:
        raise ValueError(f"pred_bpm, true_bpm: expected equal lengths, got {pred.shape[0]} and {true.shape[0]}")
    n = int(pred.shape[0])
    if n == 0:
        raise ValueError("pred_bpm: expected at least one heart rate, got none")
    if np.any(true <= 0):
        raise ValueError("true_bpm: expected heart rates > 0 bpm")
    error = pred - true
    abs_error = np.abs(error)
    sqrt_n = math.sqrt(n)
    if n >= 2 and np.std(pred) > 0 and np.std(true) > 0:
        r = float(np.corrcoef(pred, true)[0, 1])
    else:
        r = float("nan")
    r_se = math.sqrt((1 - r**2) / (n - 2)) if n >= 3 and math.isfinite(r) else float("nan")
    relative = abs_error / true
    return HRMetrics(
        n=n,
        mae=float(abs_error.mean()),
        mae_se=float(abs_error.std() / sqrt_n),
        rmse=float(math.sqrt(np.mean(error**2))),
        rmse_se=float(math.sqrt(np.std(error**2) / sqrt_n)),
        mape=float(100 * relative.mean()),
        mape_se=float(100 * relative.std() / sqrt_n),
        pearson=r,
        pearson_se=r_se,
        sd=float(error.std()),
        sd_se=float(error.std() / math.sqrt(2 * (n - 1))) if n >= 2 else float("nan"),
    )
