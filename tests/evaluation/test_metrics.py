from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.evaluation import hr_metrics

rates = st.lists(st.floats(40.0, 180.0), min_size=3, max_size=30)


@given(rates, st.integers(0, 2**16))
def test_metrics_equal_their_definitions(true: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    gt = np.array(true)
    pred = gt + rng.normal(0, 5, size=gt.shape)
    m = hr_metrics(pred, gt)
    e = pred - gt
    assert m.n == len(gt)
    assert m.mae == pytest.approx(np.mean(np.abs(e)))
    assert m.rmse == pytest.approx(math.sqrt(np.mean(e**2)))
    assert m.mape == pytest.approx(100 * np.mean(np.abs(e) / gt))
    assert m.sd == pytest.approx(np.std(e))
    assert m.mae_se == pytest.approx(np.std(np.abs(e)) / math.sqrt(len(gt)))
    assert m.rmse**2 == pytest.approx(np.mean(e) ** 2 + m.sd**2)  # RMSE² = bias² + SD²
    if np.std(gt) > 0:
        assert m.pearson == pytest.approx(np.corrcoef(pred, gt)[0, 1])


def test_tensor_input_and_perfect_prediction() -> None:
    gt = torch.tensor([60.0, 75.0, 90.0, 120.0])
    m = hr_metrics(gt, gt)
    assert m.mae == 0 and m.rmse == 0 and m.pearson == pytest.approx(1.0)
    assert set(m.as_dict()) >= {"mae", "rmse", "pearson", "mape", "sd", "n"}
    assert "MAE 0.00" in str(m)


def test_errors() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        hr_metrics([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="true_bpm"):
        hr_metrics([60.0], [0.0])
    with pytest.raises(ValueError, match="pred_bpm"):
        hr_metrics([], [])
    with pytest.raises(ValueError, match="non-finite"):
        hr_metrics([float("nan")], [60.0])
    with pytest.raises(ValueError, match="1-D"):
        hr_metrics([[60.0]], [[60.0]])
