"""Data: video I/O, face cropping, dataset loaders in their real on-disk layouts, splits, and synthetic data.

Loaders: :class:`VIPLHR`, :class:`UBFCRPPG` (DATASET_1 and DATASET_2) and :class:`PURE`.

Video decoding and face detection use OpenCV, from the ``video`` extra (``pip install "rppgblocks[video]"``); it is
imported only when a video is actually read or written. The synthetic generator lives in
:mod:`rppgblocks.data.synthetic`.
"""

from rppgblocks.data.compression import VideoCodec, available_codecs, compress_video
from rppgblocks.data.face import (
    DEFAULT_BOX_SCALE,
    FaceBox,
    FaceDetector,
    FaceNotFoundError,
    FaceTrackReport,
    HaarFaceDetector,
    NoFacePolicy,
    boxes_at_frames,
    crop_resize,
    detect_face_box,
    enlarge_boxes,
    resolve_face_track,
)
from rppgblocks.data.pure import PURE, PUREVideo, pure_sessions
from rppgblocks.data.sample import ClipSample, Normalization
from rppgblocks.data.splits import (
    PURE_PROTOCOLS,
    UBFC_RPPG_PROTOCOLS,
    VIPL_HR_FOLDS,
    fraction_split,
    read_vipl_fold_files,
    subject_exclusive_split,
    vipl_hr_fold_split,
)
from rppgblocks.data.ubfc_rppg import UBFC_RPPG_NOMINAL_FPS, UBFCRPPG, UBFCRPPGVideo, ubfc_rppg_subjects
from rppgblocks.data.video import Video, iter_video, read_video, write_video
from rppgblocks.data.vipl_hr import (
    HR_VALID_RANGE_BPM,
    VIPL_HR_ASSUMED_FPS,
    VIPL_HR_SOURCES,
    VIPLHR,
    VIPLHRVideo,
    align_series_to_frames,
    vipl_hr_subjects,
)

__all__ = [
    "DEFAULT_BOX_SCALE",
    "HR_VALID_RANGE_BPM",
    "PURE",
    "PURE_PROTOCOLS",
    "UBFCRPPG",
    "UBFC_RPPG_NOMINAL_FPS",
    "UBFC_RPPG_PROTOCOLS",
    "VIPLHR",
    "VIPL_HR_ASSUMED_FPS",
    "VIPL_HR_FOLDS",
    "VIPL_HR_SOURCES",
    "ClipSample",
    "FaceBox",
    "FaceDetector",
    "FaceNotFoundError",
    "FaceTrackReport",
    "HaarFaceDetector",
    "NoFacePolicy",
    "Normalization",
    "PUREVideo",
    "UBFCRPPGVideo",
    "VIPLHRVideo",
    "Video",
    "VideoCodec",
    "align_series_to_frames",
    "available_codecs",
    "boxes_at_frames",
    "compress_video",
    "crop_resize",
    "detect_face_box",
    "enlarge_boxes",
    "fraction_split",
    "iter_video",
    "pure_sessions",
    "read_video",
    "read_vipl_fold_files",
    "resolve_face_track",
    "subject_exclusive_split",
    "ubfc_rppg_subjects",
    "vipl_hr_fold_split",
    "vipl_hr_subjects",
    "write_video",
]
