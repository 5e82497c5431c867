"""Draw docs/_static/rfacenet_dataflow.svg, rFaceNet's data flow (python docs/figures/rfacenet_dataflow.py)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

BLOCK = "#dbe9f6"  # rppgblocks blocks
MODEL = "#f3e6d3"  # PhysNet and the identity encoder
DATA = "#ffffff"
LOSS = "#e4f2df"


Box = tuple[float, float, float, float]


def box(ax: plt.Axes, x: float, y: float, w: float, h: float, text: str, color: str) -> Box:
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=color, ec="#333333"))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=8.5, family="DejaVu Sans")
    return x, y, w, h


def arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float], label: str = "") -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, lw=1.0, color="#333333"))
    if label:
        ax.text((start[0] + end[0]) / 2 + 0.05, (start[1] + end[1]) / 2 + 0.08, label, fontsize=7, color="#555555")


def main() -> None:
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "rppgblocks"  # reproducible SVG ids
    fig, ax = plt.subplots(figsize=(12, 4.6))
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 4.6)
    ax.axis("off")
    clip = box(ax, 0.1, 1.8, 1.4, 0.9, "clip x\n(B, 3, T, H, W)", DATA)
    # identity branch (top)
    tcu = box(ax, 1.9, 3.3, 1.9, 0.8, "TemporalCompressor\nmean over T (x2)", BLOCK)
    enc = box(ax, 4.6, 3.3, 1.7, 0.8, "IdentityEncoder\n2D ResNet", MODEL)
    logits = box(ax, 6.8, 3.5, 1.5, 0.6, "identity logits\n(B, N_id)", DATA)
    # BVP branch (bottom)
    norm = box(ax, 1.9, 0.4, 1.9, 0.8, "normalise\n(temporal centring)", BLOCK)
    stages = box(ax, 4.6, 0.4, 1.7, 0.8, "PhysNet stem,\nstages 1-3 -> M3", MODEL)
    ctfc = box(ax, 6.8, 1.9, 1.3, 0.9, "CTFC\nEq. 1-2", BLOCK)
    rest = box(ax, 8.5, 0.4, 1.5, 0.8, "PhysNet stage 4,\ndecoder", MODEL)
    bvp = box(ax, 10.5, 0.45, 1.0, 0.7, "BVP\n(B, T)", DATA)
    head = box(ax, 8.5, 2.05, 1.7, 0.7, "FFTHeartRateHead\nEq. 3", BLOCK)
    hr = box(ax, 10.5, 2.1, 1.0, 0.6, "HR (B,)\nbpm", DATA)
    loss = box(ax, 8.7, 3.45, 2.9, 0.7, "UncertaintyMultiTaskLoss\n(Eq. 4: BVP, HR, identity)", LOSS)

    def right(b: tuple[float, float, float, float]) -> tuple[float, float]:
        return b[0] + b[2], b[1] + b[3] / 2

    def left(b: tuple[float, float, float, float]) -> tuple[float, float]:
        return b[0], b[1] + b[3] / 2

    arrow(ax, (clip[0] + clip[2], 2.5), left(tcu))
    arrow(ax, (clip[0] + clip[2], 2.0), left(norm))
    arrow(ax, right(tcu), left(enc))
    ax.text(3.85, 3.8, "(B, 3, sH, sW)", fontsize=7, color="#555555")
    arrow(ax, (enc[0] + enc[2], enc[1] + 0.6), left(logits))
    arrow(ax, (enc[0] + enc[2], enc[1] + 0.2), (ctfc[0], ctfc[1] + 0.7), "FM_i")
    arrow(ax, right(norm), left(stages))
    arrow(ax, (stages[0] + stages[2], stages[1] + 0.6), (ctfc[0], ctfc[1] + 0.2), "M3")
    arrow(ax, (ctfc[0] + ctfc[2], ctfc[1] + 0.2), (rest[0] + 0.3, rest[1] + rest[3]), "FuM")
    arrow(ax, right(rest), left(bvp))
    arrow(ax, (bvp[0] + 0.2, bvp[1] + bvp[3]), (head[0] + head[2] - 0.3, head[1]))
    arrow(ax, (bvp[0] + bvp[2], bvp[1] + 0.35), (loss[0] + loss[2] - 0.1, loss[1]))
    arrow(ax, right(head), left(hr))
    arrow(ax, (logits[0] + logits[2], logits[1] + 0.3), left(loss))
    arrow(ax, (hr[0] + 0.4, hr[1] + hr[3]), (hr[0] + 0.4, loss[1]))
    ax.text(0.1, 4.35, "identity branch", fontsize=9, style="italic")
    ax.text(0.1, 0.05, "BVP branch", fontsize=9, style="italic")
    out = Path(__file__).parents[1] / "_static" / "rfacenet_dataflow.svg"
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
