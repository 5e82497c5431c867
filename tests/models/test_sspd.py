from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rppgblocks.errors import ShapeError
from rppgblocks.models._registry import create_model, list_models, model_info
from rppgblocks.models.sspd import (
    MIN_FRAME_SIZE,
    SSPD,
    S3MOutput,
    SeparableSelfSimilarityModel,
    SSPDOutput,
    SSPDPredictor,
    TemporalSimilarityBlock,
)

SMALL: dict[str, Any] = {
    "stem_channels": 2,
    "block_channels": (3, 4, 4),
    "embed_dim": 8,
    "predictor_channels": 4,
    "kernel_sizes": (3, 3),
}


def _calibrated(**kwargs: Any) -> SSPD:
    torch.manual_seed(0)
    net = SSPD(**{**SMALL, **kwargs}).train()
    with torch.no_grad():  # fit BatchNorm running statistics, so that eval outputs depend on the input
        for _ in range(3):
            net(torch.randn(2, 3, 6, MIN_FRAME_SIZE, MIN_FRAME_SIZE))
    return net.eval()


@pytest.fixture(scope="module")
def model() -> SSPD:
    return _calibrated()


def test_parameter_counts_match_the_spec() -> None:
    assert sum(p.numel() for p in SSPD().parameters()) == 2_954_143
    assert sum(p.numel() for p in SSPD(s3m=False).parameters()) == 786_079
    counts = [sum(p.numel() for p in b.parameters()) for b in SeparableSelfSimilarityModel().blocks]
    assert counts == [853_760, 722_688, 591_616]


@settings(max_examples=4)
@given(st.integers(1, 2), st.integers(5, 9), st.sampled_from([122, 128]), st.sampled_from([122, 131]))
def test_output_shapes(model: SSPD, b: int, t: int, h: int, w: int) -> None:
    out = model(torch.randn(b, 3, t, h, w))
    assert isinstance(out, SSPDOutput)
    assert out.bvp.shape == (b, t) and out.embedding.shape == (b, 8, t)
    assert [tuple(m.shape) for m in out.maps] == [(b, t - 2, t - 2), (b, t - 4, t - 4)]
    assert [tuple(w.shape) for w in out.waves] == [(b, t - 2), (b, t - 4)]
    torch.testing.assert_close(model.predict(torch.zeros(b, 3, t, h, w)), model(torch.zeros(b, 3, t, h, w)).bvp)


def test_maps_are_cosine_self_similarities(model: SSPD) -> None:
    out = model(torch.randn(2, 3, 7, 122, 122))
    for ssm in out.maps:
        assert torch.equal(ssm, ssm.mT)
        torch.testing.assert_close(ssm.diagonal(dim1=-2, dim2=-1), torch.ones(ssm.shape[:2]))


def test_batch_consistency(model: SSPD) -> None:
    video = torch.randn(3, 3, 6, 122, 122)
    out = model(video)
    assert not torch.allclose(out.bvp[0], out.bvp[1], atol=1e-4)  # the output depends on the input
    items = [model(video[i : i + 1]) for i in range(3)]
    for k, field in enumerate(out):
        if isinstance(field, list):
            for level, batched in enumerate(field):
                stacked = torch.cat([item[k][level] for item in items])
                torch.testing.assert_close(batched, stacked, rtol=1e-4, atol=1e-5)
        else:
            torch.testing.assert_close(field, torch.cat([item[k] for item in items]), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("attention", ["linear", "softmax"])
def test_every_parameter_gets_a_finite_gradient(attention: str) -> None:
    torch.manual_seed(0)
    net = SSPD(**SMALL, attention=attention).train()
    video = torch.randn(2, 3, 6, 122, 122, requires_grad=True)
    out = net(video)
    loss = out.bvp.square().mean() + sum(m.square().mean() for m in out.maps) + sum(w.mean() for w in out.waves)
    loss.backward()  # type: ignore[union-attr]
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
    assert video.grad is not None and torch.isfinite(video.grad).all()


def test_stop_gradient_separates_predictor_and_backbone() -> None:
    torch.manual_seed(0)
    net = SSPD(**SMALL).train()
    video = torch.randn(2, 3, 6, 122, 122)
    net(video).bvp.square().mean().backward()
    assert all(p.grad is None for p in net.backbone.parameters())
    assert all(p.grad is not None for p in net.predictor.parameters())
    net.zero_grad(set_to_none=True)
    sum(m.square().mean() for m in net(video).maps).backward()  # type: ignore[union-attr]
    assert all(p.grad is None for p in net.predictor.parameters())
    assert all(p.grad is not None for p in net.backbone.parameters())


def test_temporal_similarity_block_linear_attention_formula() -> None:
    torch.manual_seed(0)
    block = TemporalSimilarityBlock(4, kernel_size=3, heads=2)
    r = torch.randn(2, 4, 10, dtype=torch.float64)
    block = block.double()
    residual, z = block(r)
    tokens = block.norm(block.proj(r).mT)
    q, k, v = block.qkv(tokens).chunk(3, dim=-1)
    heads = []
    for h in range(2):
        sl = slice(2 * h, 2 * h + 2)
        heads.append((q[..., sl] @ k[..., sl].mT / tokens.shape[1]) @ v[..., sl])
    expected_z = torch.tanh(block.out(torch.cat(heads, dim=-1)))
    torch.testing.assert_close(z, expected_z)
    nearest = r[..., (torch.arange(8) * 10) // 8]
    torch.testing.assert_close(residual, nearest + expected_z.mT)


def test_s3m_returns_tokens_maps_and_waves() -> None:
    out = SeparableSelfSimilarityModel(8, kernel_sizes=(5, 3, 3), attention="softmax")(torch.randn(2, 8, 12))
    assert isinstance(out, S3MOutput)
    assert [t.shape[1] for t in out.tokens] == [8, 6, 4]
    assert [tuple(w.shape) for w in out.waves] == [(2, 8), (2, 6), (2, 4)]


def test_predictor_keeps_odd_lengths() -> None:
    assert SSPDPredictor(embed_dim=4, channels=2)(torch.randn(1, 4, 7, 8, 8)).shape == (1, 7)


def test_compile_fullgraph_and_export_match_eager(model: SSPD) -> None:
    video = torch.randn(1, 3, 6, 122, 122)
    with torch.no_grad():
        eager = model(video)
        compiled = torch.compile(model, fullgraph=True, backend="aot_eager")(video)
        exported = torch.export.export(model, (video,)).module()(video)
    assert isinstance(compiled, SSPDOutput)
    flat = [eager.bvp, eager.embedding, *eager.maps, *eager.waves]
    for other in (compiled, exported):
        for a, b in zip(flat, [other.bvp, other.embedding, *other.maps, *other.waves], strict=True):
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)


def test_registry_preset() -> None:
    assert "sspd" in list_models("sspd*")
    info = model_info("sspd")
    assert info.input_size == (3, 300, 128, 128) and info.fs == 30.0
    net = create_model("sspd", **SMALL)
    assert isinstance(net, SSPD) and net.embed_dim == 8
    assert create_model("sspd", s3m=False, **SMALL).s3m is None  # type: ignore[union-attr]


def test_errors_name_argument_and_shapes(model: SSPD) -> None:
    with pytest.raises(ShapeError, match=r"video: expected shape \(b c t h w\), got \(1, 3, 6, 122\)"):
        model(torch.zeros(1, 3, 6, 122))
    with pytest.raises(ShapeError, match=r"video: expected shape \(b 3 t h w\), got \(1, 4, 6, 122, 122\)"):
        model(torch.zeros(1, 4, 6, 122, 122))
    with pytest.raises(ShapeError, match=r"H, W must be >= 122 \(no spatial padding\), got 121x128"):
        model(torch.zeros(1, 3, 6, 121, 128))
    with pytest.raises(ShapeError, match=r"T=4 is shorter than 5 frames"):
        model(torch.zeros(1, 3, 4, 122, 122))
    with pytest.raises(ShapeError, match=r"embedding: .*T=4 is shorter than 5"):
        model.s3m(torch.zeros(1, 8, 4))  # type: ignore[misc]
    with pytest.raises(ShapeError, match=r"features: .*h, w must be >= 8, got 7x8"):
        model.predictor(torch.zeros(1, 8, 4, 7, 8))
    with pytest.raises(ValueError, match="heads: expected a divisor of dim=8"):
        TemporalSimilarityBlock(8, kernel_size=3, heads=3)
    with pytest.raises(ValueError, match="attention"):
        SSPD(attention="additive")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="block_channels"):
        SSPD(block_channels=(4, 4))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="embed_dim"):
        SSPD(embed_dim=0)


@pytest.mark.parametrize("kernel", [(1, 2, 2), (2, 2, 2), (3, 1, 2)])
def test_reshape_average_pool_equals_avg_pool3d(kernel: tuple[int, int, int]) -> None:
    from rppgblocks.models.sspd import _AvgPool3d

    x = torch.randn(2, 3, 9, 13, 15)
    torch.testing.assert_close(_AvgPool3d(kernel)(x), torch.nn.AvgPool3d(kernel)(x))
    assert torch.isfinite(_AvgPool3d(kernel)(x.bfloat16())).all()  # no CPU avg_pool3d kernel for bfloat16
