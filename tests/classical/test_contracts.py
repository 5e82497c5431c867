"""The contracts shared by the classical methods, written once and run for GREEN, ICA, CHROM, PBV, POS, LGI and OMIT.

``METHODS`` says what each method supports and how to call it. What is specific to one method (its paper's oracle,
its own behaviours and arguments) is in its own test file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import Tensor, nn

from rppgblocks.classical import CHROM, GREEN, ICA, LGI, OMIT, PBV, POS, chrom, green, ica, lgi, omit, pbv, pos
from rppgblocks.errors import ShapeError
from rppgblocks.functional import fft_heart_rate

#: The frame rate of the contract tests (the windowed methods need 48 frames at their default 1.6 s).
FS = 30.0

#: Little broadband noise, so that the sign test measures the sign and not the noise.
QUIET = {"specular": 0.001, "intensity_noise": 0.001, "camera_noise": 0.0005}


@dataclass(frozen=True)
class GradCheck:
    """``torch.autograd.gradcheck`` of ``fn`` on float64 traces ``(2, 3, n_frames)``."""

    fn: Callable[[Tensor], Tensor]
    n_frames: int
    fast_mode: bool = False


@dataclass(frozen=True)
class Method:
    """One classical method and what its contract tests need to know about it."""

    name: str
    #: The function at its defaults, called as ``fn(rgb, fs)`` (GREEN, LGI and OMIT ignore ``fs``).
    fn: Callable[[Tensor, float], Tensor]
    #: The module at ``fs`` (the one compiled and exported).
    module: Callable[[float], nn.Module]
    #: A module with non-default arguments (at fs=25), the function called with the same ones, the module's repr.
    configured: Callable[[], nn.Module]
    configured_fn: Callable[[Tensor], Tensor]
    configured_repr: str
    #: The fewest frames the method takes at ``FS``, and the error for one frame less.
    min_frames: int
    too_short: str
    takes_fs: bool = True
    #: Gradient check (None: not differentiable).
    gradcheck: GradCheck | None = None
    #: Whether the gradient on a constant or black trace is finite.
    finite_grad_on_constant: bool = True
    #: ``fn(k * rgb) = k**scale_power * fn(rgb)``: 0 for scale-invariant methods, 1 for those in the units of rgb.
    scale_power: int = 0
    #: skin_trace arguments of the sign test.
    sign_trace: dict[str, float] = field(default_factory=lambda: dict(QUIET))
    #: A pure intensity change (no pulse) gives at most this (None: not a property of the method), under this much
    #: camera noise.
    intensity_atol: float | None = None
    intensity_camera_noise: float = 0.0
    #: Whether the batch test may use white-noise traces (else skin traces).
    batch_on_noise: bool = True
    #: Closeness of each dtype's output to the float64 one (times the output's peak, if relative).
    dtype_atol: float = 1e-3
    dtype_atol_relative: bool = False
    #: Whether the dtype test uses the mixture of independent sources (else a skin trace), and the least correlation
    #: of the output with the mixture's pulse.
    dtype_on_mixture: bool = False
    dtype_pulse_corr: float | None = None
    #: torch.testing.assert_close tolerances (rtol, atol) of the compiled and exported modules against eager (None:
    #: its defaults).
    compile_tol: tuple[float, float] | None = None
    #: The TypeError for a complex (and, if rejects_bool, a bool) tensor.
    not_real: str = r"rgb: expected a real-valued tensor, got dtype"
    rejects_bool: bool = True


def fs_free(function: Callable[[Tensor], Tensor], module: Callable[[], nn.Module], **kwargs: Any) -> Method:
    """A method without arguments (GREEN, LGI, OMIT): named after its module, needing 2 frames."""
    name = function.__name__.upper()
    return Method(
        name=function.__name__,
        fn=lambda rgb, fs: function(rgb),
        module=lambda fs: module(),
        configured=module,
        configured_fn=function,
        configured_repr=f"{name}()",
        min_frames=2,
        too_short=rf"rgb: has T=1 frames, but {name} needs at least 2",
        takes_fs=False,
        gradcheck=GradCheck(function, 9),
        **kwargs,
    )


def too_short(method: str, kind: str) -> str:
    """The error of a windowed method at its default 1.6 s, given 47 frames at ``FS``."""
    return rf"rgb: has T=47 frames, fewer than one {method} {kind} of 48 frames \(window_s=1.6 s at fs=30.0 Hz\)"


METHODS = [
    fs_free(
        green,
        GREEN,
        dtype_atol=1e-6,
        # GREEN has no defence against intensity changes: test the sign without them
        sign_trace={"intensity": 0.0, "intensity_noise": 0.001, "specular": 0.001},
    ),
    Method(
        name="ica",
        fn=ica,
        # the iterations are unrolled, so a short run keeps compiling fast (test_ica.py compiles the default one)
        module=partial(ICA, n_iter=8),
        configured=partial(ICA, 25.0, band=(0.7, 4.0), n_iter=20),
        configured_fn=partial(ica, fs=25.0, band=(0.7, 4.0), n_iter=20),
        configured_repr="ICA(fs=25.0, band=(0.7, 4.0), n_iter=20)",
        min_frames=3,
        too_short=r"rgb: has T=2 frames, but ICA needs at least 3",
        gradcheck=None,  # not differentiable: the component is chosen by an argmax
        finite_grad_on_constant=False,
        # FastICA has no preferred unmixing of Gaussian noise (white noise, or a skin trace's non-pulse components),
        # so rounding would decide it
        batch_on_noise=False,
        dtype_on_mixture=True,
        dtype_pulse_corr=0.9,  # uint8 and half precision quantise the trace
        compile_tol=(1e-5, 1e-5),
    ),
    Method(
        name="chrom",
        fn=chrom,
        module=CHROM,
        configured=partial(CHROM, 25.0, window_s=1.2, band=(0.7, 4.0), order=2),
        configured_fn=partial(chrom, fs=25.0, window_s=1.2, band=(0.7, 4.0), order=2),
        configured_repr="CHROM(fs=25.0, window_s=1.2, window_length=30, band=(0.7, 4.0), order=2)",
        min_frames=48,
        too_short=too_short("CHROM", "interval"),
        gradcheck=GradCheck(partial(chrom, fs=15.0), 36, fast_mode=True),
        intensity_atol=1e-9,
        dtype_atol=1e-4,
        compile_tol=(1e-5, 1e-6),
    ),
    Method(
        name="pbv",
        fn=pbv,
        module=PBV,
        configured=partial(PBV, 25.0, window_s=1.2, signature=(0.3, 0.8, 0.5)),
        configured_fn=partial(pbv, fs=25.0, window_s=1.2, signature=(0.3, 0.8, 0.5)),
        configured_repr="PBV(fs=25.0, window_s=1.2, window_length=30, signature=(0.3, 0.8, 0.5))",
        min_frames=48,
        too_short=too_short("PBV", "interval"),
        gradcheck=GradCheck(partial(pbv, fs=5.0), 12),
        intensity_atol=1e-4,  # the intensity change itself is up to 0.5
        intensity_camera_noise=1e-6,
        # float32 solves of a covariance whose pulse share is ~1e-4 of its energy: compare relative to the signal
        dtype_atol=1e-3,
        dtype_atol_relative=True,
        compile_tol=(1e-5, 1e-6),
    ),
    Method(
        name="pos",
        fn=pos,
        module=POS,
        configured=partial(POS, 25.0, window_s=1.2),
        configured_fn=partial(pos, fs=25.0, window_s=1.2),
        configured_repr="POS(fs=25.0, window_s=1.2, window_length=30)",
        min_frames=48,
        too_short=too_short("POS", "window"),
        gradcheck=GradCheck(partial(pos, fs=4.0, window_s=1.0), 9),
        intensity_atol=1e-9,
        dtype_atol=1e-4,
    ),
    # LGI and OMIT project out one colour direction and keep the units of rgb; at a constant trace that direction
    # is not unique, and neither is its gradient
    fs_free(lgi, LGI, finite_grad_on_constant=False, scale_power=1, intensity_atol=1e-12),
    fs_free(omit, OMIT, finite_grad_on_constant=False, scale_power=1, intensity_atol=1e-12),
]


def methods(where: Callable[[Method], bool] = lambda m: True) -> pytest.MarkDecorator:
    """``pytest.mark.parametrize`` over the methods for which ``where`` holds, with their names as ids."""
    chosen = [m for m in METHODS if where(m)]
    return pytest.mark.parametrize("method", chosen, ids=[m.name for m in chosen])


def random_trace(gen: torch.Generator, batch: int, n_frames: int) -> Tensor:
    """A random positive colour per trace plus white noise, ``(batch, 3, n_frames)``."""
    return 50 + 150 * torch.rand(batch, 3, 1, generator=gen) + torch.randn(batch, 3, n_frames, generator=gen)


@methods()
@given(fs=st.floats(15.0, 60.0), hr_bpm=st.floats(45.0, 180.0), seed=st.integers(0, 2**32 - 1))
def test_recovers_pulse_rate(method: Method, skin_trace, fs: float, hr_bpm: float, seed: int) -> None:
    # the skin reflection model at a reasonable SNR, with a slow intensity change 10x stronger than the pulse
    rgb, _ = skin_trace(seed, fs, hr_bpm)
    bvp = method.fn(torch.as_tensor(rgb, dtype=torch.float32)[None], fs)
    assert abs(float(fft_heart_rate(bvp, fs)[0]) - hr_bpm) < 1.5


@methods()
@given(fs=st.floats(15.0, 60.0), hr_bpm=st.floats(45.0, 180.0), seed=st.integers(0, 2**32 - 1))
def test_sign_follows_the_pulse_direction(method: Method, skin_trace, fs: float, hr_bpm: float, seed: int) -> None:
    rgb, p = skin_trace(seed, fs, hr_bpm, **method.sign_trace)
    out = method.fn(torch.as_tensor(rgb)[None], fs)[0].numpy()
    assert np.corrcoef(out, p)[0, 1] > 0.7


@methods(lambda m: m.intensity_atol is not None)
@given(seed=st.integers(0, 2**32 - 1), intensity=st.floats(0.0, 0.5))
def test_pure_intensity_change_gives_no_pulse(method: Method, skin_trace, seed: int, intensity: float) -> None:
    # C(t) = I(t) c0 stays on the line of the skin tone c0, which the method removes
    rgb, _ = skin_trace(
        seed,
        FS,
        72.0,
        pulse=0.0,
        specular=0.0,
        camera_noise=method.intensity_camera_noise,
        intensity=intensity,
        intensity_noise=0.05,
    )
    out = method.fn(torch.as_tensor(rgb)[None], FS)
    assert float(out.abs().max()) < (method.intensity_atol or 0.0)


@methods()
@given(batch=st.integers(2, 4), extra_frames=st.integers(0, 148), seed=st.integers(0, 2**32 - 1))
def test_batch_consistency(method: Method, skin_trace, batch: int, extra_frames: int, seed: int) -> None:
    if method.batch_on_noise:
        rgb = random_trace(torch.Generator().manual_seed(seed), batch, method.min_frames + extra_frames)
    else:
        traces = [skin_trace(seed + i, FS, 60.0 + 20 * i, duration_s=10.0)[0] for i in range(batch)]
        rgb = torch.as_tensor(np.stack(traces))
    batched = method.fn(rgb, FS)
    torch.testing.assert_close(batched, torch.cat([method.fn(rgb[i : i + 1], FS) for i in range(batch)]))


@methods(lambda m: m.gradcheck is not None)
def test_gradcheck(method: Method) -> None:
    assert method.gradcheck is not None  # (the parametrization's filter)
    gen = torch.Generator().manual_seed(0)
    rgb = 1 + 0.1 * torch.rand(2, 3, method.gradcheck.n_frames, generator=gen, dtype=torch.float64)
    assert torch.autograd.gradcheck(method.gradcheck.fn, (rgb.requires_grad_(),), fast_mode=method.gradcheck.fast_mode)


@methods()
@pytest.mark.parametrize("value", [0.0, 100.0])
def test_constant_or_black_trace_gives_zeros(method: Method, value: float) -> None:
    rgb = torch.full((2, 3, 96), value, requires_grad=method.finite_grad_on_constant)
    out = method.fn(rgb, FS)
    assert bool(torch.isfinite(out).all())
    assert float(out.detach().abs().max()) < 1e-6 * max(1.0, value) ** method.scale_power
    if method.finite_grad_on_constant:
        out.square().sum().backward()
        assert rgb.grad is not None
        assert bool(torch.isfinite(rgb.grad).all())


@methods()
def test_scale(method: Method) -> None:
    # 0-1 or 0-255 videos give the same signal (or the same one in the units of rgb)
    gen = torch.Generator().manual_seed(0)
    rgb = 0.5 + 0.1 * torch.rand(2, 3, 100, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(method.fn(255 * rgb, FS), 255**method.scale_power * method.fn(rgb, FS))


@methods()
@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (torch.float32, torch.float32),
        (torch.float64, torch.float64),
        (torch.float16, torch.float32),
        (torch.bfloat16, torch.float32),
        (torch.uint8, torch.float32),
    ],
)
def test_dtypes(method: Method, skin_trace, mixture, dtype: torch.dtype, expected: torch.dtype) -> None:
    if method.dtype_on_mixture:
        rgb, pulse = mixture(1)
    else:
        rgb, pulse = skin_trace(1, FS, 72.0, duration_s=10.0)
        rgb = 200 * rgb
    x = torch.as_tensor(rgb).to(dtype)[None]
    out = method.fn(x, FS)
    assert out.dtype == expected
    assert out.shape == (1, rgb.shape[1])
    reference = method.fn(x.double(), FS)
    atol = method.dtype_atol * (float(reference.abs().max()) if method.dtype_atol_relative else 1.0)
    torch.testing.assert_close(out, reference.to(expected), rtol=0, atol=atol)
    if method.dtype_pulse_corr is not None:
        assert np.corrcoef(out[0].numpy(), pulse)[0, 1] > method.dtype_pulse_corr


@methods()
def test_non_contiguous_input(method: Method, skin_trace) -> None:
    traces = [skin_trace(4 + i, FS, 70.0 + 30 * i, duration_s=4.0)[0] for i in range(2)]
    rgb = torch.as_tensor(np.stack(traces)).permute(2, 1, 0).contiguous()  # (T, 3, B), float64
    view = rgb.permute(2, 1, 0)
    assert not view.is_contiguous()
    torch.testing.assert_close(method.fn(view, FS), method.fn(view.contiguous(), FS))


@methods()
def test_module_matches_function(method: Method, skin_trace) -> None:
    rgb, _ = skin_trace(2, 25.0, 90.0, duration_s=8.0)
    x = torch.as_tensor(rgb, dtype=torch.float32)[None].repeat(2, 1, 1)
    x[1] = x[1].flip(-1)
    module = method.configured()
    torch.testing.assert_close(module(x), method.configured_fn(x), rtol=0, atol=0)
    assert repr(module) == method.configured_repr
    assert list(module.parameters()) == []
    assert module.state_dict() == {}


@methods()
def test_compile_and_export_match_eager(method: Method) -> None:
    module = method.module(FS)
    rgb = torch.rand(2, 3, 120, generator=torch.Generator().manual_seed(0)) + 0.5
    eager = module(rgb)
    compiled = torch.compile(module, fullgraph=True, backend="aot_eager")(rgb)
    exported = torch.export.export(module, (rgb,)).module()(rgb)
    rtol, atol = method.compile_tol or (None, None)
    torch.testing.assert_close(compiled, eager, rtol=rtol, atol=atol)
    torch.testing.assert_close(exported, eager, rtol=rtol, atol=atol)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@methods()
def test_cuda_matches_cpu(method: Method, skin_trace) -> None:
    rgb, _ = skin_trace(3, FS, 80.0, duration_s=10.0)
    x = torch.as_tensor(rgb)[None]
    torch.testing.assert_close(method.fn(x.cuda(), FS).cpu(), method.fn(x, FS))


@methods()
@pytest.mark.parametrize(
    ("shape", "match"),
    [
        ((3, 50), r"rgb: expected shape \(b c t\), got \(3, 50\)"),
        ((2, 4, 50), r"rgb: expected shape \(b 3 t\), got \(2, 4, 50\); expected c=3, got c=4"),
        ((1, 3, 50, 1), r"rgb: expected shape \(b c t\), got \(1, 3, 50, 1\)"),
    ],
)
def test_bad_shape(method: Method, shape: tuple[int, ...], match: str) -> None:
    with pytest.raises(ShapeError, match=match):
        method.fn(torch.rand(shape), FS)


@methods()
@pytest.mark.parametrize(
    ("rgb", "match"),
    [
        (np.ones((1, 3, 50)), r"rgb: expected a torch\.Tensor, got ndarray"),
        ([[[1.0] * 50] * 3], r"rgb: expected a torch\.Tensor, got list"),
    ],
    ids=["ndarray", "list"],
)
def test_not_a_tensor(method: Method, rgb: object, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        method.fn(rgb, FS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "dtype"),
    [
        pytest.param(m, dtype, id=f"{m.name}-{str(dtype).removeprefix('torch.')}")
        for m in METHODS
        for dtype in [torch.complex64, torch.bool]
        if m.rejects_bool or dtype != torch.bool
    ],
)
def test_not_real(method: Method, dtype: torch.dtype) -> None:
    with pytest.raises(TypeError, match=f"{method.not_real} {re.escape(str(dtype))}$"):
        method.fn(torch.ones(1, 3, 60, dtype=dtype), FS)


@methods()
def test_too_few_frames(method: Method) -> None:
    rgb = torch.rand(2, 3, method.min_frames, generator=torch.Generator().manual_seed(0)) + 1
    assert method.fn(rgb, FS).shape == (2, method.min_frames)
    with pytest.raises(ValueError, match=method.too_short):
        method.fn(rgb[..., :-1], FS)


@methods(lambda m: m.takes_fs)
@pytest.mark.parametrize("fs", [0.0, -30.0, float("nan"), float("inf"), True, "30"])
def test_bad_fs(method: Method, fs: object) -> None:
    match = f"^fs: expected a finite number > 0, got {re.escape(repr(fs))}$"
    with pytest.raises(ValueError, match=match):
        method.fn(torch.rand(1, 3, 100) + 1, fs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=match):
        method.module(fs)  # type: ignore[arg-type]
