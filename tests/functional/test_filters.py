from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import ShapeError
from rppgblocks.functional.filters import bandpass, butter_bandpass, filtfilt, lfilter, lfilter_zi

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]

# (band_hz, fs): rPPG-Toolbox's current and former bands at 30 fps, POS pseudo-labels', a 25 fps video, a 1 kHz PPG.
DESIGNS = [((0.6, 3.3), 30.0), ((0.75, 2.5), 30.0), ((0.7, 3.0), 30.0), ((0.5, 4.0), 25.0), ((0.6, 3.3), 1000.0)]


def _random_stable_filter(seed: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """A random real filter with poles of radius <= 0.95 and random zeros."""
    rng = np.random.default_rng(seed)
    n_pairs, single = divmod(order, 2)
    radius = rng.uniform(0.1, 0.95, n_pairs)
    angle = rng.uniform(0.05, np.pi - 0.05, n_pairs)
    poles = np.concatenate([radius * np.exp(1j * angle), radius * np.exp(-1j * angle), rng.uniform(-0.9, 0.9, single)])
    a = np.real(np.poly(poles))
    b = rng.standard_normal(rng.integers(1, order + 2))
    return b, a


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize(("band", "fs"), DESIGNS)
def test_butter_bandpass_equals_scipy(order: int, band: tuple[float, float], fs: float) -> None:
    b, a = butter_bandpass(order, band, fs)
    b_ref, a_ref = scipy.signal.butter(order, list(band), btype="bandpass", fs=fs)
    assert b.dtype == a.dtype == torch.float64
    np.testing.assert_allclose(b.numpy(), b_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(a.numpy(), a_ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize(("band", "fs"), DESIGNS[:4])
def test_lfilter_and_filtfilt_equal_scipy_on_random_signals(order: int, band: tuple[float, float], fs: float) -> None:
    rng = np.random.default_rng(order)
    x = rng.standard_normal((4, 400)) + np.linspace(0, 5, 400)  # noise on a drift
    b, a = butter_bandpass(order, band, fs)
    b_np, a_np = b.numpy(), a.numpy()
    zi = rng.standard_normal((4, 2 * order))
    np.testing.assert_allclose(
        lfilter(b, a, torch.from_numpy(x)).numpy(), scipy.signal.lfilter(b_np, a_np, x), atol=1e-9
    )
    ours = lfilter(b, a, torch.from_numpy(x), zi=torch.from_numpy(zi)).numpy()
    expected = scipy.signal.lfilter(b_np, a_np, x, zi=zi)[0]
    # A random state excites the sharp all-pole part 1/A: outputs reach ~20, and both results carry its rounding.
    np.testing.assert_allclose(ours, expected, atol=1e-9 * max(1.0, np.abs(expected).max()))
    np.testing.assert_allclose(
        filtfilt(b, a, torch.from_numpy(x)).numpy(), scipy.signal.filtfilt(b_np, a_np, x), atol=1e-9
    )


@given(seed=st.integers(0, 2**16), order=st.integers(1, 6), n=st.integers(1, 300), shared_state=st.booleans())
def test_lfilter_equals_scipy_for_any_stable_filter(seed: int, order: int, n: int, shared_state: bool) -> None:
    b, a = _random_stable_filter(seed, order)
    a = a * 1.7  # a[0] != 1 is normalised
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((3, n))
    n_state = max(len(a), len(b)) - 1
    zi = rng.standard_normal(n_state) if shared_state else rng.standard_normal((3, n_state))
    expected = scipy.signal.lfilter(b, a, x, zi=np.broadcast_to(zi, (3, n_state)))[0]
    ours = lfilter(torch.from_numpy(b), a.tolist(), torch.from_numpy(x), zi=torch.from_numpy(zi))
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-9, rtol=1e-9)
    np.testing.assert_allclose(lfilter_zi(b, a).numpy(), scipy.signal.lfilter_zi(b, a), atol=1e-10, rtol=1e-10)


@given(
    seed=st.integers(0, 2**16),
    order=st.integers(1, 4),
    padtype=st.sampled_from(["odd", "even", "constant", None]),
    padlen=st.one_of(st.none(), st.integers(0, 40)),
    n=st.integers(45, 200),
)
def test_filtfilt_equals_scipy_for_every_padding(
    seed: int, order: int, padtype: str | None, padlen: int | None, n: int
) -> None:
    b, a = _random_stable_filter(seed, order)
    x = np.random.default_rng(seed).standard_normal((2, n))
    expected = scipy.signal.filtfilt(b, a, x, padtype=padtype, padlen=padlen)
    ours = filtfilt(b.tolist(), torch.from_numpy(a), torch.from_numpy(x), padtype=padtype, padlen=padlen)  # type: ignore[arg-type]
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-9, rtol=1e-9)


def test_fir_and_pure_gain_filters() -> None:
    x = torch.randn(2, 50, dtype=torch.float64)
    np.testing.assert_allclose(lfilter([2.0], [4.0], x).numpy(), 0.5 * x.numpy(), atol=1e-14)
    b = [0.25, 0.5, 0.25]
    np.testing.assert_allclose(lfilter(b, [1.0], x).numpy(), scipy.signal.lfilter(b, [1.0], x.numpy()), atol=1e-12)
    np.testing.assert_allclose(filtfilt(b, [1.0], x).numpy(), scipy.signal.filtfilt(b, [1.0], x.numpy()), atol=1e-12)


def test_bandpass_is_the_toolbox_post_processing_filter() -> None:
    """rPPG-Toolbox: butter(1, [0.6 / fs * 2, 3.3 / fs * 2], btype='bandpass') then filtfilt on float64."""
    fs = 30.0
    x = np.random.default_rng(0).standard_normal((3, 300)).cumsum(axis=1)
    b_ref, a_ref = scipy.signal.butter(1, [0.6 / fs * 2, 3.3 / fs * 2], btype="bandpass")
    expected = scipy.signal.filtfilt(b_ref, a_ref, x)
    np.testing.assert_allclose(bandpass(torch.from_numpy(x), fs).numpy(), expected, atol=1e-10)


def test_bandpass_passes_the_band_and_removes_the_rest() -> None:
    fs = 30.0
    t = torch.arange(1200, dtype=torch.float64) / fs
    middle = slice(300, 900)

    def gain(f: float) -> float:
        out = bandpass(torch.sin(2 * torch.pi * f * t)[None], fs)
        return float(out[0, middle].abs().max())

    # filtfilt squares the Butterworth magnitude: 1 at the centre sqrt(0.6 * 3.3), 1/2 at the edges.
    assert gain(float(np.sqrt(0.6 * 3.3))) == pytest.approx(1.0, abs=0.01)
    assert gain(0.6) == pytest.approx(0.5, abs=0.02)
    assert gain(3.3) == pytest.approx(0.5, abs=0.02)
    assert gain(0.05) < 0.01
    assert gain(12.0) < 0.1


def test_float32_and_half_inputs_keep_their_dtype() -> None:
    x = torch.randn(2, 200, dtype=torch.float64)
    reference = bandpass(x, 30.0)
    for dtype, tol in ((torch.float32, 1e-5), (torch.float16, 5e-3), (torch.bfloat16, 3e-2)):
        out = bandpass(x.to(dtype), 30.0)
        assert out.dtype == dtype
        torch.testing.assert_close(out.double(), bandpass(x.to(dtype).double(), 30.0), atol=tol, rtol=0)
    assert bandpass(x.float(), 30.0).sub(reference).abs().max() < 1e-5


def test_batch_consistency_and_gradcheck() -> None:
    x = torch.randn(4, 64, dtype=torch.float64)
    b, a = butter_bandpass(2, (1.0, 4.0), 30.0)
    torch.testing.assert_close(filtfilt(b, a, x), torch.cat([filtfilt(b, a, x[i : i + 1]) for i in range(4)]))
    small = torch.randn(2, 24, dtype=torch.float64, requires_grad=True)
    zi = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda s: filtfilt(b, a, s), (small,))
    assert torch.autograd.gradcheck(lambda s, z: lfilter(b, a, s, zi=z), (small, zi))


def test_errors() -> None:
    x = torch.randn(2, 100)
    with pytest.raises(ValueError, match="unstable"):
        lfilter([1.0], [1.0, -2.5, 1.0], x)  # poles 2 and 0.5
    with pytest.raises(ValueError, match="unstable"):
        filtfilt([1.0], [1.0, -1.0], x)  # an integrator: a pole on the unit circle
    with pytest.raises(ValueError, match="unstable"):  # scipy's own design: a pole at ~1.01 once rounded
        filtfilt(*scipy.signal.butter(4, [0.1, 0.3], btype="bandpass", fs=100.0), x)
    with pytest.raises(ValueError, match=r"a\[0\]"):
        lfilter([1.0], [0.0, 1.0], x)
    with pytest.raises(ShapeError, match="padlen=9"):
        bandpass(torch.randn(2, 9), 30.0)
    with pytest.raises(ValueError, match="padtype"):
        filtfilt([1.0], [1.0], x, padtype="reflect")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="padlen"):
        filtfilt([1.0], [1.0], x, padlen=-1)
    with pytest.raises(ShapeError, match="zi"):
        lfilter([1.0, 0.5], [1.0, -0.5], x, zi=torch.zeros(3))
    with pytest.raises(ShapeError, match="b"):
        lfilter(torch.ones(2, 2), [1.0], x)
    with pytest.raises(ShapeError, match="x"):
        lfilter([1.0], [1.0], torch.randn(100))
    with pytest.raises(ValueError, match="pole at z = 1"):
        lfilter_zi([1.0], [1.0, -1.0])
    with pytest.raises(ValueError, match="order"):
        butter_bandpass(0, (0.6, 3.3), 30.0)
    with pytest.raises(ValueError, match="band"):
        butter_bandpass(1, (0.6, 15.0), 30.0)
    with pytest.raises(ValueError, match="band"):
        butter_bandpass(1, (0.0, 3.3), 30.0)
    with pytest.raises(ValueError, match="fs"):
        bandpass(x, -30.0)


class _Bandpass(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return bandpass(x, 30.0)


class _Lfilter(torch.nn.Module):
    def forward(self, x: torch.Tensor, b: torch.Tensor, a: torch.Tensor, zi: torch.Tensor) -> torch.Tensor:
        return lfilter(b, a, x, zi=zi)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_compile_and_export_equal_eager(dtype: torch.dtype) -> None:
    x = torch.randn(3, 120).to(dtype)
    module = _Bandpass()
    eager = module(x)
    compiled = torch.compile(module, fullgraph=True, backend="aot_eager")(x)
    torch.testing.assert_close(compiled, eager)
    torch.testing.assert_close(torch.export.export(module, (x,)).module()(x), eager)
    b, a = butter_bandpass(1, (0.6, 3.3), 30.0)
    args = (x, b, a, torch.randn(3, 2))
    torch.testing.assert_close(torch.compile(_Lfilter(), fullgraph=True, backend="aot_eager")(*args), _Lfilter()(*args))


@pytest.mark.parametrize("device", DEVICES)
def test_devices(device: str) -> None:
    x = torch.randn(2, 300, dtype=torch.float64)
    out = bandpass(x.to(device), 30.0)
    assert out.device.type == device
    torch.testing.assert_close(out.cpu(), bandpass(x, 30.0))
