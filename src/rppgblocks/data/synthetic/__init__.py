"""Synthetic VIPL-HR, UBFC-rPPG and PURE: face videos with a known blood volume pulse, in the real on-disk layouts.

Rendering is pure numpy (:func:`render_session`); :func:`generate_vipl_hr`, :func:`generate_ubfc_rppg` and
:func:`generate_pure` write datasets that the tooling of rppgblocks reads like the licensed ones (``datasets.md``
§1.1-§1.2, §2.1-§2.3, §3.1-§3.2).

Examples:
    >>> import tempfile, os
    >>> from rppgblocks.data.synthetic import generate_vipl_hr
    >>> root = generate_vipl_hr(os.path.join(tempfile.mkdtemp(), "vipl"), n_subjects=5, duration_s=2.0)
    >>> (root / "data" / "p5" / "v1" / "source1" / "gt_HR.csv").read_text().splitlines()[0]
    'HR'
"""

from __future__ import annotations

from rppgblocks.data.synthetic.appearance import SKIN_TONE_ANCHORS, Appearance
from rppgblocks.data.synthetic.physiology import BVP_RATE_HZ, GroundTruth, Physiology, contract_times, ground_truth
from rppgblocks.data.synthetic.pure import PURE_CAMERA_HZ, PURE_OXIMETER_HZ, PURE_TASKS, generate_pure
from rppgblocks.data.synthetic.render import PULSE_SIGNATURE, RenderedSession, render_session
from rppgblocks.data.synthetic.scene import SCENARIOS, SOURCES, Scene
from rppgblocks.data.synthetic.ubfc_rppg import UBFC_RPPG_DATASET_1_FOLDERS, UBFC_RPPG_SUBJECTS, generate_ubfc_rppg
from rppgblocks.data.synthetic.vipl_hr import (
    CONTAINER_FPS,
    GENERATOR_VERSION,
    MANIFEST_NAME,
    SOURCE2_FPS,
    SessionPlan,
    SubjectPlan,
    VIPLHRPlan,
    generate_vipl_hr,
    plan_vipl_hr,
)

__all__ = [
    "BVP_RATE_HZ",
    "CONTAINER_FPS",
    "GENERATOR_VERSION",
    "MANIFEST_NAME",
    "PULSE_SIGNATURE",
    "PURE_CAMERA_HZ",
    "PURE_OXIMETER_HZ",
    "PURE_TASKS",
    "SCENARIOS",
    "SKIN_TONE_ANCHORS",
    "SOURCE2_FPS",
    "SOURCES",
    "UBFC_RPPG_DATASET_1_FOLDERS",
    "UBFC_RPPG_SUBJECTS",
    "Appearance",
    "GroundTruth",
    "Physiology",
    "RenderedSession",
    "Scene",
    "SessionPlan",
    "SubjectPlan",
    "VIPLHRPlan",
    "contract_times",
    "generate_pure",
    "generate_ubfc_rppg",
    "generate_vipl_hr",
    "ground_truth",
    "plan_vipl_hr",
    "render_session",
]
