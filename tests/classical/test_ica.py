"""Tests for ICA (Poh et al., Optics Express 18(10), 2010; FastICA): rppgblocks.classical.ica.

The contracts shared by all classical methods are in test_contracts.py; ``mixture`` is in conftest.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.classical import DEFAULT_ICA_ITERATIONS, ICA, ica


class TestICA:
    @given(seed=st.integers(0, 2**32 - 1))
    def test_separates_independent_sources(self, mixture, seed: int) -> None:
        rgb, pulse = mixture(seed)
        out = ica(torch.as_tensor(rgb)[None], 30.0)[0].numpy()
        assert np.corrcoef(out, pulse)[0, 1] > 0.99  # the in-band source, with the sign of its green mixing
        assert abs(out.mean()) < 1e-9
        assert abs(out.std() - 1) < 1e-6

    def test_deterministic(self, skin_trace) -> None:
        rgb, _ = skin_trace(3, 30.0, 80.0)
        x = torch.as_tensor(rgb, dtype=torch.float32)[None]
        torch.testing.assert_close(ica(x, 30.0), ica(x, 30.0), rtol=0, atol=0)
        assert DEFAULT_ICA_ITERATIONS == 64

    def test_only_the_band_decides_the_component(self, mixture) -> None:
        rgb, pulse = mixture(0)
        x = torch.as_tensor(rgb)[None]
        # with a band around the square wave's fundamental instead, the pulse is no longer chosen
        out = ica(x, 30.0, band=(0.1, 0.2))[0].numpy()
        assert abs(np.corrcoef(out, pulse)[0, 1]) < 0.2

    @pytest.mark.slow
    def test_compile_and_export_match_eager_default_iterations(self, mixture) -> None:
        # test_contracts.py compiles a short run; the default one unrolls 64 iterations
        module = ICA(30.0)
        rgb = torch.as_tensor(mixture(4)[0], dtype=torch.float32)[None]
        eager = module(rgb)
        compiled = torch.compile(module, fullgraph=True, backend="aot_eager")(rgb)
        exported = torch.export.export(module, (rgb,)).module()(rgb)
        torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(exported, eager, rtol=1e-5, atol=1e-5)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"band": (3.0, 1.0)}, r"band: expected 0 <= low_hz < high_hz"),
            ({"band": "0.6-3.3"}, r"band: expected \(low_hz, high_hz\)"),
            ({"n_iter": 0}, r"n_iter: expected an integer >= 1, got 0"),
            ({"n_iter": True}, r"n_iter: expected an integer >= 1, got True"),
            ({"n_iter": 10.0}, r"n_iter: expected an integer >= 1, got 10.0"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], match: str) -> None:
        with pytest.raises(ValueError, match=match):
            ica(torch.rand(1, 3, 100) + 1, 30.0, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=match):
            ICA(30.0, **kwargs)  # type: ignore[arg-type]

    def test_band_without_bins(self) -> None:
        with pytest.raises(ValueError, match=r"band: \(20.0, 21.0\) Hz holds no frequency bin at fs=30.0 Hz"):
            ica(torch.rand(1, 3, 100) + 1, 30.0, band=(20.0, 21.0))
