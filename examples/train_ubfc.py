"""Train rFaceNet on UBFC-rPPG and test it on PURE (the rFaceNet paper's Table 2, UBFC-rPPG -> PURE).

Usage::

    python examples/train_ubfc.py                          # synthetic UBFC-rPPG and PURE layouts, CPU-sized
    python examples/train_ubfc.py --data-root /data/UBFC-rPPG --test-root /data/PURE   # real data, paper settings
    torchrun --nproc-per-node 2 examples/train_ubfc.py --data-root /data/UBFC-rPPG --test-root /data/PURE

rPPG-Toolbox's cross-dataset protocol: train on the first 80 % of the UBFC-rPPG subjects (sorted), validate on the
rest, test on every PURE video with whole-video FFT HR; 128x72x72 DiffNormalized chunks and PhysNet's
hyperparameters (Adam, lr 9e-3, one-cycle schedule, batch 4, 30 epochs, the last epoch tested). See
``examples/cross_dataset.py`` for the protocol and ``examples/engine.py`` for the training machinery (AMP,
``--compile``, DDP, checkpoints, logs, plots); ``--help`` lists every setting."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cross_dataset


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run UBFC-rPPG -> PURE; return the summary written to ``<out-dir>/results.json``."""
    return cross_dataset.main("ubfc", "pure", argv, description=__doc__ or "")


if __name__ == "__main__":
    main()
