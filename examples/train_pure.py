"""Train rFaceNet on PURE and test it on UBFC-rPPG (the rFaceNet paper's Table 2, PURE -> UBFC-rPPG).

Usage::

    python examples/train_pure.py                          # synthetic PURE and UBFC-rPPG layouts, CPU-sized
    python examples/train_pure.py --data-root /data/PURE --test-root /data/UBFC-rPPG   # real data, paper settings
    torchrun --nproc-per-node 2 examples/train_pure.py --data-root /data/PURE --test-root /data/UBFC-rPPG

rPPG-Toolbox's cross-dataset protocol: train on PURE subjects 01-08, validate on 09-10, test on every UBFC-rPPG
video with whole-video FFT HR; 128x72x72 DiffNormalized chunks and PhysNet's hyperparameters (Adam, lr 9e-3,
one-cycle schedule, batch 4, 30 epochs, the last epoch tested). See ``examples/cross_dataset.py`` for the protocol
and ``examples/engine.py`` for the training machinery (AMP, ``--compile``, DDP, checkpoints, logs, plots);
``--help`` lists every setting.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cross_dataset


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run PURE -> UBFC-rPPG; return the summary written to ``<out-dir>/results.json``."""
    return cross_dataset.main("pure", "ubfc", argv, description=__doc__ or "")


if __name__ == "__main__":
    main()
