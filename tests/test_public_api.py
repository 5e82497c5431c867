"""Guards the public API surface: names can be added deliberately (update the lists), never lost silently."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import rppgblocks

EXPECTED = {
    "rppgblocks": [
        "CTFC",
        "CrossTaskFeatureCombiner",
        "FFTHeartRateHead",
        "IdentityEncoder",
        "NegPearsonLoss",
        "PhysNet",
        "RFaceNet",
        "RFaceNetOutput",
        "RPPGNet",
        "ShapeError",
        "TemporalCompressor",
        "UncertaintyLossOutput",
        "UncertaintyMultiTaskLoss",
        "VideoDecodeError",
        "__version__",
        "create_model",
        "list_models",
    ],
    "rppgblocks.functional": [
        "DEFAULT_HR_BAND",
        "DEFAULT_TOLERANCE_HZ",
        "FilterCoefficients",
        "SSPDViews",
        "Similarity",
        "bandpass",
        "butter_bandpass",
        "center_over_time",
        "detrend_smoothness_priors",
        "diff_normalize",
        "diff_normalize_label",
        "fft_heart_rate",
        "filtfilt",
        "find_local_maxima",
        "global_view",
        "lfilter",
        "lfilter_zi",
        "local_view",
        "masked_difference_modeling",
        "neg_pearson_loss",
        "next_power_of_two",
        "normalize_video",
        "peak_heart_rate",
        "pearson_correlation",
        "power_spectral_density",
        "rgb_trace_from_video",
        "self_similarity_diagonal_std",
        "self_similarity_map",
        "self_similarity_wave",
        "skin_attention",
        "skin_attention_weights",
        "sliding_window_heart_rate",
        "snr_db",
        "soft_fft_heart_rate",
        "spatial_mean_rgb",
        "spectral_quality_index",
        "spectral_snr_db",
        "split_quadrants",
        "sspd_views",
        "standardize",
        "standardize_label",
        "temporal_compress",
        "undo_diff_normalize",
    ],
    "rppgblocks.layers": [
        "CTFC",
        "CrossTaskFeatureCombiner",
        "STBlock",
        "SkinAttention",
        "SkinSegmentationBranch",
        "SpatioTemporalConv",
        "TemporalCompressor",
        "r2plus1d_mid_channels",
    ],
    "rppgblocks.heads": ["FFTHeartRateHead"],
    "rppgblocks.losses": [
        "NegPearsonLoss",
        "RPPGNetLoss",
        "RPPGNetLossOutput",
        "SSPDLoss",
        "SSPDLossOutput",
        "STVENCycle",
        "STVENLoss",
        "STVENLossOutput",
        "STVENRPPGNetLoss",
        "STVENRPPGNetLossOutput",
        "UncertaintyLossOutput",
        "UncertaintyMultiTaskLoss",
        "band_ratio",
        "normalized_spectrum",
        "rpd_loss",
        "self_similarity_regularizer",
        "stven_cycle",
        "stven_cycle_loss",
        "stven_reconstruction_loss",
        "tspd_loss",
        "uncertainty_weighted_term",
        "wave_frequency_prior",
    ],
    "rppgblocks.models": [
        "EMATeacher",
        "IdentityEncoder",
        "IdentityEncoderOutput",
        "MIN_FRAME_SIZE",
        "ModelInfo",
        "PhysNet",
        "RFACENET_HR_BAND",
        "RFaceNet",
        "RFaceNetOutput",
        "RPPGNet",
        "RPPGNetOutput",
        "S3MOutput",
        "SSPD",
        "SSPDBackbone",
        "SSPDOutput",
        "SSPDPredictor",
        "STVEN",
        "SeparableSelfSimilarityModel",
        "TemporalSimilarityBlock",
        "convert_rppg_toolbox_physnet",
        "cosine_ema_momentum",
        "create_model",
        "ema_update_",
        "is_rppg_toolbox_physnet_state_dict",
        "list_models",
        "load_rppg_toolbox_physnet",
        "model_info",
        "register_model",
        "stven_condition",
        "to_rppg_toolbox_physnet",
    ],
    "rppgblocks.classical": [
        "CHROM",
        "DEFAULT_CHROM_WINDOW_S",
        "DEFAULT_ICA_ITERATIONS",
        "DEFAULT_PBV_SIGNATURE",
        "DEFAULT_PBV_WINDOW_S",
        "DEFAULT_POS_WINDOW_S",
        "GREEN",
        "ICA",
        "LGI",
        "OMIT",
        "PBV",
        "POS",
        "chrom",
        "green",
        "ica",
        "lgi",
        "omit",
        "pbv",
        "pos",
    ],
    "rppgblocks.evaluation": [
        "HREvaluation",
        "HRMetrics",
        "HRPair",
        "bland_altman_plot",
        "bvp_plot",
        "evaluate_hr",
        "hr_metrics",
        "postprocess_bvp",
        "scatter_plot",
    ],
}


@pytest.mark.parametrize("module_name", sorted(EXPECTED))
def test_public_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(EXPECTED[module_name])
    for name in module.__all__:
        assert hasattr(module, name), name


def test_ctfc_is_the_combiner() -> None:
    assert rppgblocks.CTFC is rppgblocks.CrossTaskFeatureCombiner


def _public_objects() -> list[tuple[str, object]]:
    found = []
    for module_name in EXPECTED:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                found.append((f"{module_name}.{name}", obj))
    return found


@pytest.mark.parametrize(("qualname", "obj"), _public_objects(), ids=[q for q, _ in _public_objects()])
def test_every_public_symbol_has_a_doctested_example(qualname: str, obj: object) -> None:
    doc = inspect.getdoc(obj) or ""
    if not doc and inspect.isclass(obj):
        doc = ""
    assert ">>>" in doc or issubclass_namedtuple(obj), f"{qualname} has no doctest example"


def issubclass_namedtuple(obj: object) -> bool:
    """Output records (NamedTuples) are documented by the example of the function that returns them."""
    return inspect.isclass(obj) and issubclass(obj, tuple) and hasattr(obj, "_fields")


def test_docs_reference_every_public_symbol() -> None:
    docs = "\n".join(p.read_text() for p in (Path(__file__).parents[1] / "docs").rglob("*.rst"))
    documented = set(re.findall(r"rppgblocks(?:\.\w+)+", docs))
    missing = []
    for qualname, obj in _public_objects():
        module = getattr(obj, "__module__", "")
        short = qualname.rsplit(".", 1)[1]
        candidates = {qualname, f"{module}.{short}"} | {
            f"rppgblocks.{sub}.{short}" for sub in ("layers", "heads", "losses", "models", "functional", "evaluation")
        }
        if not candidates & documented:
            missing.append(qualname)
    assert not missing, f"not in the API docs: {missing}"
