r"""IIR filtering of a batch of signals: Butterworth band-pass design, ``lfilter`` and zero-phase ``filtfilt``.

rPPG-Toolbox band-passes every prediction and label with a 1st-order Butterworth filter applied forwards and
backwards (``scipy.signal.filtfilt``) before estimating the heart rate (rppgblocks spec ``datasets.md`` §4.5 step 3).
These functions reproduce scipy's results on batched torch tensors, on any device: to about 1e-14 for
rPPG-Toolbox's 1st-order band-pass and to the conditioning of the transfer-function form for higher orders
(like scipy, which recommends second-order sections there; a 4th-order band-pass at 0.1-0.3 Hz and 100 Hz already
has a pole outside the unit circle once its coefficients are rounded to float64, and is rejected as unstable).

Design: S. Butterworth, "On the theory of filter amplifiers", Wireless Engineer 7:536-541, 1930 (the analog
prototype); the low-pass to band-pass transform and the bilinear transform with frequency pre-warping are those of
A. V. Oppenheim, R. W. Schafer, *Discrete-Time Signal Processing*, 3rd ed., §7.1-7.2.

Filtering without a loop over samples. The filter :math:`H(z) = B(z) / A(z)` (normalised to :math:`a_0 = 1`, order
:math:`N`) in scipy's transposed direct form II with initial state :math:`s_0` (scipy's ``zi``) is linear, so over
:math:`T` samples

.. math::
    y_n = \sum_{k=0}^{n} h_k x_{n-k} + r_n, \qquad
    R(z) = \frac{\sum_{k=0}^{N-1} s_{0,k} z^{-k}}{A(z)},

a causal convolution with the impulse response :math:`h` plus the zero-input response :math:`r` of the initial
state (in this form the state enters :math:`A(z) Y(z)` as the polynomial :math:`\sum_k s_{0,k} z^{-k}`). Both are
computed once per call by sampling :math:`B/A` and :math:`1/A` on an :math:`M`-point FFT grid and transforming back;
:math:`M \ge 2T` exceeds the response's decay length (from the largest pole radius) by far enough that the time
aliasing is below :math:`10^{-32}`, so nothing is truncated within the signal. The convolution is done with FFTs:
:math:`O(T \log T)` per signal. Under ``torch.compile`` the coefficients' values cannot be read: the stability
check is skipped and :math:`M` is :math:`\max(2T, 2^{16})` rounded up to a power of two, which is enough for pole
radii below about 0.998 (signals up to :math:`2^{15}` samples; rPPG-Toolbox's filter has 0.74 at 30 fps and 0.99
at 1 kHz).
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import Tensor

from rppgblocks._checks import check_band, check_finite_positive, check_shape, is_compiling
from rppgblocks.errors import ShapeError
from rppgblocks.functional.heart_rate import DEFAULT_HR_BAND, next_power_of_two
from rppgblocks.layout import SIGNAL

__all__ = ["FilterCoefficients", "PadType", "bandpass", "butter_bandpass", "filtfilt", "lfilter", "lfilter_zi"]

PadType = Literal["odd", "even", "constant"]

#: Filter coefficients: a 1-D tensor or a sequence of floats.
FilterCoefficients = Tensor | Sequence[float]

#: The filter's response must decay by this factor (natural log) within the FFT grid: exp(-74) ~ 1e-32.
_DECAY_LOG = 74.0
#: The largest FFT grid used to sample a filter's frequency response, and the one used under torch.compile.
_MAX_GRID = 1 << 24
_COMPILE_GRID = 1 << 16


def _poly(roots: Sequence[complex]) -> list[complex]:
    """Coefficients (highest power first) of the monic polynomial with the given roots."""
    coefficients: list[complex] = [1.0 + 0.0j]
    for root in roots:
        coefficients = [*coefficients, 0.0j]
        for i in range(len(coefficients) - 1, 0, -1):
            coefficients[i] -= root * coefficients[i - 1]
    return coefficients


def _butter_bandpass_design_python(order: int, low: float, high: float, fs: float) -> tuple[list[float], list[float]]:
    """The design of :func:`butter_bandpass` in Python complex arithmetic."""
    warped = [4.0 * math.tan(math.pi * (2.0 * f / fs) / 2.0) for f in (low, high)]
    bandwidth = warped[1] - warped[0]
    centre_sq = warped[0] * warped[1]
    prototype = [-cmath.exp(1j * math.pi * (2 * m - order + 1) / (2 * order)) for m in range(order)]
    scaled = [p * bandwidth / 2.0 for p in prototype]
    offsets = [cmath.sqrt(q * q - centre_sq) for q in scaled]
    pairs = list(zip(scaled, offsets, strict=True))
    analog_poles = [q + d for q, d in pairs] + [q - d for q, d in pairs]
    digital_poles = [(4.0 + p) / (4.0 - p) for p in analog_poles]
    denominator_at_4 = complex(1.0)
    for p in analog_poles:
        denominator_at_4 *= 4.0 - p
    gain = (bandwidth**order * 4.0**order / denominator_at_4).real
    b = [gain * c.real for c in _poly([1.0 + 0.0j] * order + [-1.0 + 0.0j] * order)]
    a = [c.real for c in _poly(digital_poles)]
    return b, a


# Dynamo cannot trace ``cmath``; the design depends only on Python numbers, so it is a constant of the graph.
_butter_bandpass_design: Callable[[int, float, float, float], tuple[list[float], list[float]]] = (
    torch.compiler.assume_constant_result(_butter_bandpass_design_python)  # type: ignore[no-untyped-call]
)


def butter_bandpass(order: int, band: tuple[float, float], fs: float) -> tuple[Tensor, Tensor]:
    r"""Digital Butterworth band-pass filter coefficients ``(b, a)``, as ``scipy.signal.butter(..., "bandpass")``.

    The order-:math:`N` analog Butterworth low-pass prototype has no zeros and the poles
    :math:`p_m = -e^{j\pi(2m - N + 1)/(2N)}`, :math:`m = 0..N-1`. The band edges are pre-warped,
    :math:`\omega = 2 f_s' \tan(\pi f / f_s)` with :math:`f_s' = 2` (normalised), the prototype is mapped to a
    band-pass with bandwidth :math:`\Delta = \omega_{hi} - \omega_{lo}` and centre :math:`\omega_0 =
    \sqrt{\omega_{lo}\omega_{hi}}` (each pole :math:`q = p \Delta / 2` becomes :math:`q \pm \sqrt{q^2 - \omega_0^2}`;
    N zeros at 0; gain :math:`\Delta^N`), and the bilinear transform :math:`z = (2 f_s' + s)/(2 f_s' - s)` gives the
    digital filter (N zeros at +1, N at -1). The result equals ``scipy.signal.butter(order, [lo, hi],
    btype="bandpass", fs=fs)`` to rounding (about 1e-15).

    Args:
        order: The prototype's order N >= 1 (the band-pass filter has order 2N). rPPG-Toolbox uses 1.
        band: ``(low_hz, high_hz)`` pass band edges (-3 dB points), ``0 < low < high < fs / 2``.
        fs: The sampling rate in Hz.

    Returns:
        ``(b, a)``: numerator and denominator coefficients, each a float64 tensor of length 2N + 1, with
        ``a[0] == 1``.

    Raises:
        ValueError: If ``order`` is not a positive integer, ``fs`` is not positive or ``band`` is not inside
            ``(0, fs / 2)``.

    Shape:
        - b, a: :math:`(2N + 1,)`

    Examples:
        >>> b, a = butter_bandpass(1, (0.6, 3.3), fs=30.0)
        >>> b
        tensor([ 0.2251,  0.0000, -0.2251], dtype=torch.float64)
        >>> a
        tensor([ 1.0000, -1.4811,  0.5498], dtype=torch.float64)
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"order: expected an integer >= 1, got {order!r}")
    check_finite_positive(fs, "fs")
    low, high = check_band(band, fs=fs)
    if low <= 0 or high >= fs / 2:
        raise ValueError(f"band: expected 0 < low_hz < high_hz < fs/2 = {fs / 2} Hz, got {band!r}")
    b, a = _butter_bandpass_design(order, low, high, float(fs))
    return torch.tensor(b, dtype=torch.float64), torch.tensor(a, dtype=torch.float64)


def _coefficients(b: FilterCoefficients, a: FilterCoefficients, device: torch.device) -> tuple[Tensor, Tensor]:
    """``(b, a)`` as float64 tensors on ``device``, padded to one length and normalised to ``a[0] = 1``."""
    b_t = torch.as_tensor(b, dtype=torch.float64).to(device)
    a_t = torch.as_tensor(a, dtype=torch.float64).to(device)
    for name, value in (("b", b_t), ("a", a_t)):
        if value.dim() != 1 or value.shape[0] == 0:
            raise ShapeError(name, "n", value.shape, "expected a non-empty 1-D sequence of filter coefficients")
    if not is_compiling():
        if not bool(torch.isfinite(b_t).all() and torch.isfinite(a_t).all()):
            raise ValueError(f"b, a: expected finite filter coefficients, got b={b_t.tolist()}, a={a_t.tolist()}")
        if float(a_t[0]) == 0.0:
            raise ValueError(f"a: the leading denominator coefficient a[0] must be non-zero, got a={a_t.tolist()}")
    n = max(b_t.shape[0], a_t.shape[0])
    b_t = torch.nn.functional.pad(b_t, (0, n - b_t.shape[0]))
    a_t = torch.nn.functional.pad(a_t, (0, n - a_t.shape[0]))
    return b_t / a_t[0], a_t / a_t[0]


def _state_matrix(a: Tensor) -> Tensor:
    """The transition matrix A of the transposed direct form II (normalised ``a``), ``(N, N)``."""
    order = a.shape[0] - 1
    shift = torch.diag(torch.ones(order - 1, dtype=a.dtype, device=a.device), 1)
    first_column = torch.nn.functional.pad(-a[1:, None], (0, order - 1))
    return shift + first_column


def _grid_size(a: Tensor, n_samples: int) -> int:
    """FFT length M for the frequency sampling of the filter: >= 2T and long enough for the response to decay."""
    base = next_power_of_two(2 * n_samples)
    if is_compiling():
        return max(base, _COMPILE_GRID)
    if a.shape[0] < 2:
        return base
    radius = float(torch.linalg.eigvals(_state_matrix(a).detach().cpu()).abs().max())
    if radius >= 1.0:
        raise ValueError(
            f"a: the filter is unstable (a pole of magnitude {radius:.12g} lies on or outside the unit circle, so "
            f"its impulse response does not decay); got a={a.tolist()}"
        )
    decay = math.ceil(_DECAY_LOG / -math.log(radius)) if radius > 0 else 0
    grid = next_power_of_two(max(2 * n_samples, n_samples + decay))
    if grid > _MAX_GRID:
        raise ValueError(
            f"a: the filter's impulse response decays too slowly (pole magnitude {radius:.12g}); it would need an "
            f"FFT of {grid} > {_MAX_GRID} points. Design it at a lower sampling rate or with a wider band"
        )
    return grid


def _frequency_response(b: Tensor, a: Tensor, n_samples: int) -> tuple[Tensor, Tensor, int]:
    r"""The first T samples of the impulse response and :math:`1 / A` on an M-point grid (float64/complex128).

    :math:`h = \mathrm{IDFT}_M(B_M / A_M)` equals the impulse response up to time aliasing
    :math:`\sum_{j \ge 1} h_{n + jM}`, which is below :math:`10^{-32}` of its scale because M exceeds T plus the
    response's decay length.
    """
    grid = _grid_size(a, n_samples)
    inverse_denominator = 1.0 / torch.fft.rfft(a, n=grid)
    impulse: Tensor = torch.fft.irfft(torch.fft.rfft(b, n=grid) * inverse_denominator, n=grid)
    return impulse[:n_samples], inverse_denominator, grid


def _zero_input_response(state: Tensor, inverse_denominator: Tensor, grid: int, n_samples: int) -> Tensor:
    r"""Output of the filter from the initial state ``state`` with zero input: :math:`Z(z) / A(z)`.

    In transposed direct form II the state :math:`s_0` contributes :math:`\sum_k s_{0,k} z^{-k}` to
    :math:`A(z) Y(z)`, so its response is that polynomial filtered by :math:`1 / A(z)`.
    """
    response: Tensor = torch.fft.irfft(torch.fft.rfft(state, n=grid, dim=-1) * inverse_denominator, n=grid, dim=-1)
    return response[..., :n_samples]


def _causal_convolution(kernel_spectrum: Tensor, x: Tensor, n_fft: int) -> Tensor:
    out: Tensor = torch.fft.irfft(torch.fft.rfft(x, n=n_fft, dim=-1) * kernel_spectrum, n=n_fft, dim=-1)
    return out[..., : x.shape[-1]]


def _working_dtype(x: Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def _steady_state(b: Tensor, a: Tensor) -> Tensor:
    """``lfilter_zi`` of normalised, equal-length float64 coefficients."""
    order = a.shape[0] - 1
    if not is_compiling() and order > 0 and abs(float(a.sum())) <= 1e-14 * float(a.abs().sum()):
        raise ValueError(f"a: the filter has a pole at z = 1, so it has no steady state; got a={a.tolist()}")
    system = torch.eye(order, dtype=a.dtype, device=a.device) - _state_matrix(a)
    state: Tensor = torch.linalg.solve(system, b[1:] - a[1:] * b[0])
    return state


def lfilter_zi(b: FilterCoefficients, a: FilterCoefficients) -> Tensor:
    r"""Steady-state initial conditions of :func:`lfilter` for a unit step, as ``scipy.signal.lfilter_zi``.

    Solves :math:`(I - A)\, z = B` (the transposed-direct-form-II state that a constant input of 1 keeps constant;
    see the module notes for A and B). :func:`filtfilt` scales it by the first sample to start without a transient.

    Args:
        b: Numerator coefficients (a 1-D tensor or sequence).
        a: Denominator coefficients, ``a[0] != 0``.

    Returns:
        The initial state, float64, of length ``max(len(a), len(b)) - 1``.

    Raises:
        ValueError: If ``a[0] == 0`` or the filter has a pole at z = 1 (no steady state).

    Shape:
        - output: :math:`(N,)`

    Examples:
        >>> lfilter_zi([0.5, 0.5], [1.0, -0.2])  # steady output 1 / 0.8 = 0.5 * 1 + 0.75
        tensor([0.7500], dtype=torch.float64)
    """
    b_t, a_t = _coefficients(b, a, torch.device("cpu"))
    return _steady_state(b_t, a_t)


def lfilter(b: FilterCoefficients, a: FilterCoefficients, x: Tensor, zi: Tensor | None = None) -> Tensor:
    r"""Filter each signal with the IIR filter :math:`b(z)/a(z)`, as ``scipy.signal.lfilter(b, a, x, zi=zi)[0]``.

    :math:`a_0 y_n = \sum_k b_k x_{n-k} - \sum_{k \ge 1} a_k y_{n-k}`, in transposed direct form II with initial
    state ``zi``, computed without a loop over samples as an FFT convolution with the impulse response plus the
    initial state's zero-input response (see the module notes). It agrees with scipy's recursion to rounding: about
    1e-15 for rPPG-Toolbox's 1st-order band-pass, and within the conditioning of the transfer-function form for
    sharper filters. Only strictly stable filters are accepted (all poles inside the unit circle); unlike scipy, the
    final state is not returned.

    Computes in float64 for float64 input and float32 otherwise (the filter's responses are designed in float64),
    and returns the input's dtype. Autograd (with respect to ``x`` and ``zi``), ``torch.compile`` and
    ``torch.export`` supported; the stability check reads the coefficients' values and is skipped while compiling.

    Args:
        b: Numerator coefficients (a 1-D tensor or sequence of floats).
        a: Denominator coefficients, ``a[0] != 0``.
        x: The signals, ``(B, T)``.
        zi: Initial state (scipy's ``zi``), ``(N,)`` for all signals or ``(B, N)`` per signal, with
            ``N = max(len(a), len(b)) - 1``; ``None`` for a zero state.

    Returns:
        The filtered signals, same shape and dtype as ``x``.

    Raises:
        ShapeError: If ``x`` is not ``(B, T)``, ``zi`` has the wrong shape, or ``b``/``a`` is not 1-D.
        ValueError: If ``a[0] == 0``, a coefficient is not finite, or the filter is not strictly stable (a pole on or
            outside the unit circle) or decays too slowly (a sampled response longer than 2^24 points).

    Shape:
        - x, output: :math:`(B, T)`
        - zi: :math:`(N,)` or :math:`(B, N)`

    Examples:
        >>> lfilter([1.0], [1.0, -0.5], torch.tensor([[1.0, 0.0, 0.0, 0.0]]))  # impulse response 0.5**n
        tensor([[1.0000, 0.5000, 0.2500, 0.1250]])
    """
    check_shape(x, SIGNAL, "x")
    b_t, a_t = _coefficients(b, a, x.device)
    batch, n_samples = x.shape
    order = a_t.shape[0] - 1
    dtype = _working_dtype(x)
    impulse, inverse_denominator, grid = _frequency_response(b_t, a_t, n_samples)
    n_fft = next_power_of_two(2 * n_samples - 1)
    y = _causal_convolution(torch.fft.rfft(impulse.to(dtype), n=n_fft), x.to(dtype), n_fft)
    if zi is not None:
        shared = zi.dim() == 1 and zi.shape[0] == order
        if not shared and not (zi.dim() == 2 and tuple(zi.shape) == (batch, order)):
            raise ShapeError("zi", f"({order},) or ({batch}, {order})", zi.shape, "one value per filter state")
        state = zi.to(device=x.device, dtype=torch.float64)
        y = y + _zero_input_response(state, inverse_denominator, grid, n_samples).to(dtype)
    return y.to(x.dtype)


def _extend(x: Tensor, edge: int, padtype: PadType) -> Tensor:
    if edge == 0:
        return x
    first, last = x[:, :1], x[:, -1:]
    if padtype == "constant":
        return torch.cat([first.expand(-1, edge), x, last.expand(-1, edge)], dim=-1)
    left = x[:, 1 : edge + 1].flip(-1)
    right = x[:, -edge - 1 : -1].flip(-1)
    if padtype == "odd":
        left, right = 2 * first - left, 2 * last - right
    return torch.cat([left, x, right], dim=-1)


def filtfilt(
    b: FilterCoefficients,
    a: FilterCoefficients,
    x: Tensor,
    padtype: PadType | None = "odd",
    padlen: int | None = None,
) -> Tensor:
    r"""Zero-phase filtering: :func:`lfilter` forwards, then backwards, as ``scipy.signal.filtfilt`` (``method="pad"``).

    Each signal is extended by ``padlen`` samples at both ends (``"odd"``: point reflection about the end sample;
    ``"even"``: mirror reflection; ``"constant"``: the end sample repeated; ``None``: no extension), filtered
    forwards with the initial state ``lfilter_zi(b, a) * first sample``, reversed, filtered again with
    ``lfilter_zi(b, a) * first sample of the reversed output``, reversed back, and the extension is cut off. The
    magnitude response is :math:`|H|^2` and the phase is zero. Agrees with scipy as :func:`lfilter` does.

    Computes in float64 for float64 input and float32 otherwise, and returns the input's dtype. Autograd (with
    respect to ``x``), ``torch.compile`` and ``torch.export`` supported.

    Args:
        b: Numerator coefficients.
        a: Denominator coefficients, ``a[0] != 0``.
        x: The signals, ``(B, T)``.
        padtype: ``"odd"`` (default, as scipy), ``"even"``, ``"constant"`` or ``None``.
        padlen: Extension length; default ``3 * max(len(a), len(b))`` as scipy. Must be < T.

    Returns:
        The filtered signals, same shape and dtype as ``x``.

    Raises:
        ShapeError: If ``x`` is not ``(B, T)`` or T <= ``padlen``.
        ValueError: If ``padtype`` or ``padlen`` is invalid, ``a[0] == 0``, or the filter is not strictly stable (see
            :func:`lfilter`).

    Shape:
        - x, output: :math:`(B, T)`

    Examples:
        >>> b, a = butter_bandpass(1, (0.6, 3.3), fs=30.0)
        >>> t = torch.arange(300, dtype=torch.float64) / 30.0
        >>> pulse, noise = torch.sin(2 * torch.pi * 1.5 * t), torch.sin(2 * torch.pi * 12.0 * t)
        >>> out = filtfilt(b, a, (pulse + noise)[None])  # 1.5 Hz passes, 12 Hz is removed, no phase shift
        >>> bool((out[0, 30:-30] - pulse[30:-30]).abs().max() < 0.02)  # away from the ends
        True
    """
    check_shape(x, SIGNAL, "x")
    if padtype not in ("odd", "even", "constant", None):
        raise ValueError(f"padtype: expected 'odd', 'even', 'constant' or None, got {padtype!r}")
    b_t, a_t = _coefficients(b, a, x.device)
    n_taps = max(torch.as_tensor(b).shape[-1], torch.as_tensor(a).shape[-1])
    if padtype is None:
        edge = 0
    elif padlen is None:
        edge = 3 * n_taps
    elif isinstance(padlen, bool) or not isinstance(padlen, int) or padlen < 0:
        raise ValueError(f"padlen: expected an integer >= 0 or None, got {padlen!r}")
    else:
        edge = padlen
    n_samples = x.shape[-1]
    if n_samples <= edge:
        raise ShapeError("x", SIGNAL, x.shape, f"filtfilt needs more than padlen={edge} samples")
    dtype = _working_dtype(x)
    extended = _extend(x.to(dtype), edge, padtype or "odd")
    n_ext = extended.shape[-1]
    impulse, inverse_denominator, grid = _frequency_response(b_t, a_t, n_ext)
    # The response to the state lfilter_zi(b, a); filtfilt starts each pass from it times the first sample.
    settle = _zero_input_response(_steady_state(b_t, a_t), inverse_denominator, grid, n_ext).to(dtype)
    n_fft = next_power_of_two(2 * n_ext - 1)
    kernel = torch.fft.rfft(impulse.to(dtype), n=n_fft)
    forward = _causal_convolution(kernel, extended, n_fft) + extended[:, :1] * settle
    reversed_forward = forward.flip(-1)
    backward = _causal_convolution(kernel, reversed_forward, n_fft) + reversed_forward[:, :1] * settle
    return backward.flip(-1)[:, edge : n_ext - edge].to(x.dtype)


def bandpass_padding(order: int) -> int:
    """The samples :func:`bandpass` adds at each end (filtfilt's default ``3 * max(len(a), len(b))``).

    A Butterworth band-pass of prototype order ``order`` has ``2 * order + 1`` coefficients, so the padding is
    ``3 * (2 * order + 1)``; :func:`bandpass` needs signals longer than it.

    Examples:
        >>> bandpass_padding(1), bandpass_padding(3)
        (9, 21)
    """
    return 3 * (2 * order + 1)


def bandpass(
    signal: Tensor,
    fs: float,
    *,
    band: tuple[float, float] = DEFAULT_HR_BAND,
    order: int = 1,
) -> Tensor:
    r"""rPPG-Toolbox's post-processing band-pass: a Butterworth band-pass applied with :func:`filtfilt`.

    ``filtfilt(*butter_bandpass(order, band, fs), signal)`` (rppgblocks spec ``datasets.md`` §4.5 step 3:
    1st order, 0.6-3.3 Hz since rPPG-Toolbox commit 09945e1, 0.75-2.5 Hz before). Zero phase; the pass band's
    edges are attenuated by 6 dB (-3 dB each way).

    Autograd (with respect to ``signal``), ``torch.compile`` and ``torch.export`` supported.

    Args:
        signal: The signals, ``(B, T)``, T > ``3 * (2 * order + 1)``.
        fs: The sampling rate in Hz.
        band: ``(low_hz, high_hz)``, ``0 < low < high < fs / 2``. Default :data:`DEFAULT_HR_BAND` = (0.6, 3.3).
        order: The Butterworth prototype's order (default 1, as rPPG-Toolbox).

    Returns:
        The filtered signals, same shape and dtype as ``signal``.

    Raises:
        ShapeError: If ``signal`` is not ``(B, T)`` or is too short for the padding.
        ValueError: If ``fs``, ``band`` or ``order`` is invalid.

    Shape:
        - signal, output: :math:`(B, T)`

    Examples:
        >>> t = torch.arange(600) / 30.0
        >>> x = torch.sin(2 * torch.pi * 1.2 * t) + torch.sin(2 * torch.pi * 10.0 * t)  # pulse + 10 Hz noise
        >>> out = bandpass(x[None], 30.0)
        >>> bool((out[0, 100:500] - torch.sin(2 * torch.pi * 1.2 * t[100:500])).abs().max() < 0.15)
        True
    """
    check_shape(signal, SIGNAL, "signal")
    b, a = butter_bandpass(order, band, fs)
    return filtfilt(b, a, signal)
