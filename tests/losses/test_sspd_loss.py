from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.errors import ShapeError
from rppgblocks.functional.self_similarity import self_similarity_map, self_similarity_wave
from rppgblocks.losses.sspd_loss import (
    SSPDLoss,
    band_ratio,
    normalized_spectrum,
    rpd_loss,
    self_similarity_regularizer,
    tspd_loss,
    wave_frequency_prior,
)
from rppgblocks.models.ema import EMATeacher
from rppgblocks.models.sspd import SSPD, SSPDOutput

SMALL = {"stem_channels": 2, "block_channels": (3, 4, 4), "embed_dim": 8, "predictor_channels": 4}


def _output(batch: int, frames: int, levels: tuple[int, ...], seed: int) -> SSPDOutput:
    """A synthetic SSPD output with real self-similarity maps and waves."""
    gen = torch.Generator().manual_seed(seed)
    maps = [self_similarity_map(torch.randn(batch, t, 5, generator=gen, dtype=torch.float64)) for t in levels]
    bvp = torch.randn(batch, frames, generator=gen, dtype=torch.float64)
    embedding = torch.randn(batch, 4, frames, generator=gen, dtype=torch.float64)
    return SSPDOutput(bvp, embedding, maps, [self_similarity_wave(m) for m in maps])


def _pulse(hz: float, frames: int = 300, fs: float = 30.0) -> torch.Tensor:
    return torch.sin(2 * torch.pi * hz * torch.arange(frames) / fs)


def test_normalized_spectrum_peaks_at_the_frequency_with_unit_maximum() -> None:
    spectrum = normalized_spectrum(torch.stack([_pulse(1.0), _pulse(2.5)]))
    assert spectrum.shape == (2, 150)
    assert spectrum.argmax(dim=-1).tolist() == [10, 25]
    torch.testing.assert_close(spectrum.amax(dim=-1), torch.ones(2))


@given(st.integers(10, 59), st.integers(61, 299), st.floats(0.1, 2.0))
def test_band_ratio_grows_with_out_of_band_energy(hr_bin: int, noise_bin: int, noise: float) -> None:
    # 600 samples at 30 fps: bin k is k / 20 Hz; the band [0.5, 3) Hz is bins 10..59
    pulse = _pulse(hr_bin / 20, 600)
    clean, noisy = band_ratio(pulse), band_ratio(pulse + noise * _pulse(noise_bin / 20, 600))
    assert 0 <= float(clean) < 1e-3
    assert float(noisy) > float(clean) + 0.05


def test_band_ratio_bins_follow_the_spec() -> None:
    spectrum = torch.zeros(150)
    spectrum[5:30] = 1.0  # exactly the bins floor(0.5 * 300 / 30) .. floor(3 * 300 / 30) - 1
    signal = torch.fft.irfft(torch.cat([spectrum, torch.zeros(1)]).to(torch.complex64), n=300)
    assert float(band_ratio(signal)) < 1e-5


def test_short_signals_keep_a_one_bin_band() -> None:
    signal = torch.randn(3, 8, dtype=torch.float64)
    spectrum = normalized_spectrum(signal)
    torch.testing.assert_close(band_ratio(signal), spectrum.sum(dim=-1) / spectrum[..., 0] - 1)


def test_perfect_agreement_gives_zero_distillation() -> None:
    out = _output(2, 20, (12, 8), 0)
    assert float(tspd_loss(out.maps, out.waves, out.maps, out.waves)) < 1e-4  # eps = 1e-7 in the Pearson terms
    # RPD of identical signals is the band-ratio prior alone
    torch.testing.assert_close(rpd_loss(out.bvp, 3 * out.bvp), band_ratio(out.bvp).mean(), rtol=0, atol=1e-5)


def test_regularizer_matches_its_formula_and_vanishes_on_toeplitz_maps() -> None:
    ssm = torch.randn(2, 7, 7, dtype=torch.float64)
    expected = torch.stack(
        [ssm.diagonal(offset=d, dim1=-2, dim2=-1).std(dim=-1) * (7 - d) / 20 for d in range(1, 6)], dim=-1
    ).mean()
    torch.testing.assert_close(self_similarity_regularizer([ssm]), expected)
    lags = torch.arange(9.0)
    toeplitz = torch.cos(lags[:, None] - lags[None, :]).expand(2, 9, 9)
    assert float(self_similarity_regularizer([toeplitz, toeplitz[:, :5, :5]])) < 1e-6


def test_wave_frequency_prior_prefers_heart_rate_periods() -> None:
    lags = torch.arange(120.0)
    in_band = torch.cos(2 * torch.pi * lags / 20)[None]  # a 20-frame period: 1.5 Hz at 30 fps
    out_of_band = torch.cos(2 * torch.pi * lags / 4)[None]  # 7.5 Hz
    assert float(wave_frequency_prior([in_band])) < float(wave_frequency_prior([out_of_band]))


@given(st.integers(2, 4), st.integers(0, 1000))
def test_batch_consistency(batch: int, seed: int) -> None:
    online, target = _output(batch, 24, (10, 6), seed), _output(batch, 24, (10, 6), seed + 1)
    criterion = SSPDLoss()
    batched = criterion(online, target)

    def item(out: SSPDOutput, i: int) -> SSPDOutput:
        return SSPDOutput(
            out.bvp[i : i + 1],
            out.embedding[i : i + 1],
            [m[i : i + 1] for m in out.maps],
            [w[i : i + 1] for w in out.waves],
        )

    per_item = [criterion(item(online, i), item(target, i)) for i in range(batch)]
    torch.testing.assert_close(batched.total, torch.stack([r.total for r in per_item]).mean())
    for name in batched.losses:
        torch.testing.assert_close(batched.losses[name], torch.stack([r.losses[name] for r in per_item]).mean())


def test_total_is_the_weighted_sum() -> None:
    online, target = _output(2, 24, (10, 6), 0), _output(2, 24, (10, 6), 1)
    result = SSPDLoss(rpd_weight=1.0, tspd_weight=2.0, regularizer_weight=0.0, frequency_weight=0.5)(online, target)
    expected = result.losses["rpd"] + 2.0 * result.losses["tspd"] + 0.5 * result.losses["frequency"]
    torch.testing.assert_close(result.total, expected)
    torch.testing.assert_close(result.losses["tspd"], tspd_loss(online.maps, online.waves, target.maps, target.waves))
    assert result.total.dtype == torch.float64


def test_training_step_gradients_reach_every_student_parameter_and_no_teacher_one() -> None:
    torch.manual_seed(0)
    student = SSPD(**SMALL, kernel_sizes=(3, 3)).train()
    teacher = EMATeacher(student)
    video = torch.randn(2, 3, 12, 122, 122)
    result = SSPDLoss()(student(video + 0.1 * torch.randn_like(video)), teacher(video))
    assert torch.isfinite(result.total)
    result.total.backward()
    for name, p in student.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
    assert all(p.grad is None for p in teacher.parameters())


def test_target_is_detached() -> None:
    online, target = _output(2, 24, (10,), 0), _output(2, 24, (10,), 1)
    leaves = [
        target.bvp.requires_grad_(True),
        target.maps[0].requires_grad_(True),
        target.waves[0].requires_grad_(True),
    ]
    SSPDLoss()(online._replace(bvp=online.bvp.requires_grad_(True)), target).total.backward()
    assert all(leaf.grad is None for leaf in leaves)


def test_compile_fullgraph_matches_eager() -> None:
    online, target = _output(2, 24, (10, 6), 0), _output(2, 24, (10, 6), 1)
    criterion = SSPDLoss()

    def fn(a: SSPDOutput, b: SSPDOutput) -> torch.Tensor:
        return criterion(a, b).total

    compiled = torch.compile(fn, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(online, target), fn(online, target))


def test_errors() -> None:
    out = _output(2, 24, (10, 6), 0)
    with pytest.raises(ShapeError, match=r"target_bvp: expected shape \(2, 24\), got \(2, 20\)"):
        rpd_loss(out.bvp, out.bvp[:, :20])
    with pytest.raises(ShapeError, match=r"target_maps\[1\]: expected shape \(2, 6, 6\), got \(2, 10, 10\)"):
        tspd_loss(out.maps, out.waves, [out.maps[0], out.maps[0]], out.waves)
    with pytest.raises(ValueError, match="same non-zero number"):
        tspd_loss(out.maps, out.waves, out.maps[:1], out.waves)
    with pytest.raises(ValueError, match="no self-similarity maps"):
        SSPDLoss()(out._replace(maps=[], waves=[]), out)
    with pytest.raises(ValueError, match="rpd_weight: expected a finite number >= 0"):
        SSPDLoss(rpd_weight=-1.0)
    with pytest.raises(ValueError, match="band"):
        SSPDLoss(band=(3.0, 0.5))
    with pytest.raises(ValueError, match="maps: expected at least one"):
        self_similarity_regularizer([])
    with pytest.raises(ShapeError, match="at least 2 samples"):
        normalized_spectrum(torch.zeros(3, 1))
