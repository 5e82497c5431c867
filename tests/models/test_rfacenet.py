from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks import RFaceNet, ShapeError, UncertaintyMultiTaskLoss
from rppgblocks.functional import center_over_time, fft_heart_rate, neg_pearson_loss

SMALL = {
    "physnet_width": 8,
    "identity_widths": (8, 8, 16, 16),
    "identity_depths": (1, 1, 1, 1),
}


def _model(**overrides: object) -> RFaceNet:
    torch.manual_seed(0)
    kwargs: dict[str, object] = {"num_identities": 4, **SMALL, **overrides}
    return RFaceNet(**kwargs)  # type: ignore[arg-type]


def _calibrated(model: RFaceNet, frames: int = 8, size: int = 16) -> RFaceNet:
    """Fit BatchNorm running statistics to random clips, so that eval-mode outputs depend on the input."""
    model.train()
    with torch.no_grad():
        for _ in range(20):
            model(torch.rand(4, 3, frames, size, size))
    return model.eval()


@given(
    st.integers(1, 2),
    st.sampled_from([8, 16]),
    st.integers(16, 24),
    st.sampled_from([1, 2, 3, None]),
    st.sampled_from([None, 2.0]),
)
def test_output_shapes_for_random_valid_sizes(b: int, t: int, hw: int, stage: int | None, scale: float | None) -> None:
    model = _model(ctfc_stage=stage, tcu_scale_factor=scale).eval()
    out = model(torch.randn(b, 3, t, hw, hw))
    assert out.bvp.shape == (b, t)
    assert out.hr.shape == (b,)
    assert out.identity_logits.shape == (b, 4)


@pytest.mark.parametrize(
    "overrides",
    [{}, {"ctfc_stage": 1}, {"ctfc_stage": 2}, {"ctfc_mode": "id_only"}, {"tcu_scale_factor": None}],
)
def test_one_training_step_gives_every_parameter_a_finite_nonzero_gradient(overrides: dict[str, object]) -> None:
    model = _model(**overrides).train()
    criterion = UncertaintyMultiTaskLoss({"bvp": "regression", "hr": "regression", "identity": "classification"})
    video = torch.rand(2, 3, 16, 16, 16, requires_grad=True)
    target = torch.randn(2, 16)
    out = model(video)
    losses = {
        "bvp": neg_pearson_loss(out.bvp, target),
        "hr": ((out.hr - 75.0) / 60.0).square().mean(),
        "identity": torch.nn.functional.cross_entropy(out.identity_logits, torch.tensor([0, 3])),
    }
    criterion(losses).total.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        if name.startswith("ctfc.identity_conv.") and overrides.get("ctfc_mode") == "id_only":
            continue  # documented: Conv_i1 learns once the zero-initialised Conv_i2 has moved
        assert p.grad.abs().sum() > 0, name
    assert video.grad is not None and video.grad.abs().sum() > 0


def test_hr_is_the_fft_head_of_the_bvp_soft_in_training_and_hard_in_eval() -> None:
    model = _model(fs=25.0)
    video = torch.rand(2, 3, 16, 16, 16)
    model.eval()
    out = model(video)
    torch.testing.assert_close(out.hr, fft_heart_rate(out.bvp, 25.0, band=(0.5, 4.2)))
    model.train()
    out = model(video)
    assert out.hr.requires_grad
    out_fs = model.eval()(video, torch.tensor([20.0, 30.0]))
    torch.testing.assert_close(out_fs.hr, fft_heart_rate(out_fs.bvp, torch.tensor([20.0, 30.0]), band=(0.5, 4.2)))


def test_ctfc_ablations_and_input_normalisation() -> None:
    plain = _calibrated(_model(ctfc_stage=None))
    assert plain.ctfc is None
    video = torch.rand(2, 3, 8, 16, 16)
    torch.testing.assert_close(plain(video).bvp, plain.physnet(center_over_time(video)))
    assert not torch.allclose(plain(video).bvp, plain.physnet(video), atol=1e-3)
    raw = _calibrated(_model(ctfc_stage=None, bvp_input_norm="none"))
    torch.testing.assert_close(raw(video).bvp, raw.physnet(video))
    noise = _model(identity_source="noise")
    assert noise.ctfc is not None
    with torch.no_grad():  # a trained combiner: the identity path is no longer zero
        noise.ctfc.identity_conv.weight.normal_()
    noise = _calibrated(noise)
    a, b = noise(video).bvp, noise(video).bvp
    assert not torch.allclose(a, b)  # noise replaces the identity map at every call


def test_auto_identity_tap_stage_matches_m3_resolution() -> None:
    assert RFaceNet(3, tcu_scale_factor=2.0).identity_encoder.tap_stage == 3  # 144 / 16 = 9 = 72 / 8
    assert RFaceNet(3, tcu_scale_factor=None).identity_encoder.tap_stage == 2  # 128 / 8 = 16 = 128 / 8


def test_batch_consistency_in_eval_mode() -> None:
    model = _calibrated(_model())
    video = torch.rand(3, 3, 8, 16, 16)
    out = model(video)
    assert not torch.allclose(out.bvp[0], out.bvp[1], atol=1e-4)  # the output depends on the input
    parts = [model(video[i : i + 1]) for i in range(3)]
    torch.testing.assert_close(out.bvp, torch.cat([p.bvp for p in parts]))
    torch.testing.assert_close(out.identity_logits, torch.cat([p.identity_logits for p in parts]))


def test_errors() -> None:
    model = _model().eval()
    with pytest.raises(ShapeError, match=r"video: expected shape \(b c t h w\), got \(3, 8, 16, 16\)"):
        model(torch.zeros(3, 8, 16, 16))
    with pytest.raises(ValueError, match="ctfc_stage"):
        RFaceNet(3, ctfc_stage=4)
    with pytest.raises(ValueError, match="identity_source"):
        RFaceNet(3, identity_source="zeros")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hr_band"):
        RFaceNet(3, hr_band=(4.0, 0.5))
    with pytest.raises(ValueError, match="bvp_input_norm"):
        RFaceNet(3, bvp_input_norm="zscore")  # type: ignore[arg-type]
