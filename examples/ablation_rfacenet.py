"""The structure of the rFaceNet paper's Table 3 (ablation, PURE -> UBFC-rPPG), on synthetic data by default.

Usage::

    python examples/ablation_rfacenet.py                                  # synthetic PURE -> UBFC-rPPG, CPU-sized
    python examples/ablation_rfacenet.py --data-root /data/PURE --test-root /data/UBFC-rPPG   # real data
    python examples/ablation_rfacenet.py --variants physnet ctfc_stage3 --seeds 0 1 2 -- --epochs 10

Trains one model per row of Table 3 with the same data, protocol, schedule and seed(s), through ``train_pure.py``'s
cross-dataset protocol (``examples/cross_dataset.py``), and tests each on the held-out dataset:

======================  =====  ===================================================================================
variant                 TCU    CTFC
======================  =====  ===================================================================================
``physnet``             no     no: plain PhysNet (the ``physnet`` preset), BVP and HR losses
``ctfc_noise``          no     yes, fed N(0, 1) noise of the identity map's shape instead of it; no identity loss
``tcu_no_ctfc``         yes    no: identity branch and PhysNet side by side, without interaction
``ctfc_stage1``         yes    after PhysNet stage 1 (M1)
``ctfc_stage2``         yes    after stage 2 (M2)
``ctfc_stage3``         yes    after stage 3 (M3), the paper's rFaceNet
======================  =====  ===================================================================================

It prints a table of MAE, RMSE, Pearson r and SNR (mean ± standard error over the test videos; with several seeds,
the mean over seeds and their SD) and writes ``<out-dir>/ablation.json``. Arguments after ``--`` go to every training
run (e.g. ``-- --epochs 10 --device cuda``).

``--seeds`` vary the initialisation and shuffling; every run trains and tests on the same data (the synthetic data
come from ``--data-seed``, 0 unless passed after ``--``). Each run lives in ``<out-dir>/<variant>_seed<seed>``:
``-- --resume auto`` continues interrupted runs and only re-tests finished ones, so disjoint ``--variants`` can run
in parallel processes and a last call with all of them collects the table.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cross_dataset
from engine import json_safe

#: Each variant's flags for the training run.
VARIANTS: dict[str, tuple[str, ...]] = {
    "physnet": ("--model", "physnet"),
    "ctfc_noise": ("--identity-source", "noise"),
    "tcu_no_ctfc": ("--ctfc-stage", "none"),
    "ctfc_stage1": ("--ctfc-stage", "1"),
    "ctfc_stage2": ("--ctfc-stage", "2"),
    "ctfc_stage3": ("--ctfc-stage", "3"),
}


def _row(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    tests = [{**r["test"]["metrics"], "snr_db": r["test"]["snr_db"], "snr_db_se": r["test"]["snr_db_se"]} for r in runs]
    row: dict[str, Any] = {"variant": name, "seeds": [r["config"]["seed"] for r in runs]}
    for key in ("mae", "rmse", "pearson", "snr_db"):
        values = np.array([t[key] if t[key] is not None else math.nan for t in tests], dtype=float)
        row[key] = float(values.mean())
        row[f"{key}_se"] = float(np.mean([t[f"{key}_se"] for t in tests]))
        row[f"{key}_sd_over_seeds"] = float(values.std()) if len(values) > 1 else None
    row["n_videos"] = runs[0]["test"]["n_videos"]
    return row


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the ablation; return what it writes to ``<out-dir>/ablation.json``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--out-dir", default="runs/ablation_rfacenet")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--data-root", default=None, help="PURE (training); with --test-root")
    parser.add_argument("--test-root", default=None, help="UBFC-rPPG (test); with --data-root")
    args = parser.parse_args(own)
    data = ["--data-root", args.data_root, "--test-root", args.test_root] if args.data_root else []
    out = Path(args.out_dir)
    rows, runs_by_variant = [], {}
    for name in args.variants:
        runs = []
        for seed in args.seeds:
            run_dir = out / f"{name}_seed{seed}"
            flags = [*data, "--out-dir", str(run_dir), "--seed", str(seed), "--no-plots", *VARIANTS[name], *passthrough]
            print(f"\n=== {name}, seed {seed}: {' '.join(flags)}")
            runs.append(cross_dataset.main("pure", "ubfc", flags, description=""))
        runs_by_variant[name] = runs
        rows.append(_row(name, runs))
    synthetic = runs_by_variant[args.variants[0]][0]["data"]["synthetic"]
    summary = {
        "data": "synthetic PURE -> synthetic UBFC-rPPG" if synthetic else "PURE -> UBFC-rPPG",
        "rows": rows,
        "passthrough": passthrough,
        "config": runs_by_variant[args.variants[0]][0]["config"],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablation.json").write_text(json.dumps(json_safe(summary), indent=2, allow_nan=False))
    print(f"\nTable 3 structure on {summary['data']} (mean ± SE over {rows[0]['n_videos']} test videos):")
    print(f"{'variant':<14} {'MAE (bpm)':>16} {'RMSE (bpm)':>16} {'r':>16} {'SNR (dB)':>16}")
    for row in rows:
        cells = [f"{row[k]:.2f} ± {row[k + '_se']:.2f}" for k in ("mae", "rmse")]
        cells.append(f"{row['pearson']:.3f} ± {row['pearson_se']:.3f}")
        cells.append(f"{row['snr_db']:.2f} ± {row['snr_db_se']:.2f}")
        print(f"{row['variant']:<14} " + " ".join(f"{c:>16}" for c in cells))
        if len(args.seeds) > 1:
            spread = [f"{row[k + '_sd_over_seeds']:.2f}" for k in ("mae", "rmse", "pearson", "snr_db")]
            print(f"{'  SD over seeds':<14} " + " ".join(f"{c:>16}" for c in spread))
    print(f"wrote {out / 'ablation.json'}")
    return summary


if __name__ == "__main__":
    main()
