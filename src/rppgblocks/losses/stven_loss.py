r"""STVEN's losses: reconstruction and cycle losses, and the joint STVEN + rPPGNet loss with the perceptual term.

Source: Yu, Peng, Zhao, "Remote Heart Rate Measurement from Highly Compressed Facial Videos: an End-to-end Deep
Learning Solution with Video Enhancement", ICCV 2019 (arXiv 1907.11921), §3.2 (:math:`L_{rec}`, :math:`L_{cyc}`)
and §3.3 (joint training, perceptual loss :math:`L_p`); the released scripts ``train_STVEN`` and
``train_STVEN_rPPGNet``; rppgblocks spec ``architectures.md`` §4 ("Losses" and "Joint training with rPPGNet").

Notation: :math:`c_0` is the original clip, :math:`c_k` the same clip compressed to level :math:`k`, and
:math:`G(v, j)` STVEN's output for clip :math:`v` and target level :math:`j`
(:class:`~rppgblocks.models.stven.STVEN`).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rppgblocks._checks import check_shape, check_weight
from rppgblocks.errors import ShapeError
from rppgblocks.functional.pearson import neg_pearson_loss
from rppgblocks.layout import VIDEO
from rppgblocks.losses.rppgnet_loss import RPPGNetLoss, RPPGNetLossOutput
from rppgblocks.models.rppgnet import RPPGNetOutput
from rppgblocks.models.stven import STVEN

__all__ = [
    "STVENCycle",
    "STVENLoss",
    "STVENLossOutput",
    "STVENRPPGNetLoss",
    "STVENRPPGNetLossOutput",
    "stven_cycle",
    "stven_cycle_loss",
    "stven_reconstruction_loss",
]

Fidelity = Literal["neg_psnr", "mse"]


def _check_videos(**videos: Tensor) -> None:
    """Every tensor is a ``(B, C, T, H, W)`` clip, all of the same shape."""
    reference_name, reference = next(iter(videos.items()))
    for name, video in videos.items():
        check_shape(video, VIDEO, name)
        if video.shape != reference.shape:
            raise ShapeError(name, tuple(reference.shape), video.shape, f"must match {reference_name}'s shape")


def _float(x: Tensor) -> Tensor:
    """``x`` in float32 (float64 stays float64), so the losses are safe with half-precision clips."""
    return x if x.dtype == torch.float64 else x.float()


class STVENCycle(NamedTuple):
    r"""The four STVEN outputs that its training losses compare (from :func:`stven_cycle`).

    Attributes:
        restored: :math:`G(c_k, 0)`, the compressed clip restored; should equal :math:`c_0`.
        degraded: :math:`G(c_0, k)`, the original clip degraded to level :math:`k`; should equal :math:`c_k`.
        restored_cycle: :math:`G(G(c_k, 0), k)`, the restored clip degraded back; should equal :math:`c_k`.
        degraded_cycle: :math:`G(G(c_0, k), 0)`, the degraded clip restored back; should equal :math:`c_0`.
    """

    restored: Tensor
    degraded: Tensor
    restored_cycle: Tensor
    degraded_cycle: Tensor


def stven_cycle(model: STVEN, original: Tensor, compressed: Tensor, level: Tensor | int) -> STVENCycle:
    r"""Run STVEN in both directions and around both cycles (ICCV 2019, §3.2; spec §4).

    Four forward passes: :math:`G(c_k, 0)`, :math:`G(c_0, k)`, :math:`G(G(c_k, 0), k)` and
    :math:`G(G(c_0, k), 0)`, the inputs of :class:`STVENLoss`.

    Args:
        model: The STVEN network.
        original: :math:`c_0`, the original (level 0) clips.
        compressed: :math:`c_k`, the same clips at compression level :math:`k`.
        level: :math:`k`, an ``int`` or a ``(B,)`` integer tensor (see
            :func:`~rppgblocks.models.stven.stven_condition`).

    Returns:
        The four outputs, each shaped like ``original``.

    Raises:
        ShapeError: If the clips are not :math:`(B, C, T, H, W)` of the same shape (or not a size STVEN accepts).

    Shape:
        - original, compressed: :math:`(B, C, T, H, W)`
        - Output: :class:`STVENCycle` of four :math:`(B, C, T, H, W)` tensors

    Examples:
        >>> from rppgblocks.models.stven import STVEN
        >>> model = STVEN(channels=(4, 8, 8))
        >>> original = torch.rand(2, 3, 4, 8, 8)
        >>> cycle = stven_cycle(model, original, original + 0.1 * torch.randn_like(original), torch.tensor([1, 3]))
        >>> [tuple(x.shape) for x in cycle] == [(2, 3, 4, 8, 8)] * 4
        True
    """
    _check_videos(original=original, compressed=compressed)
    restored = model(compressed, 0)
    degraded = model(original, level)
    return STVENCycle(restored, degraded, model(restored, level), model(degraded, 0))


def stven_reconstruction_loss(restored: Tensor, degraded: Tensor, original: Tensor, compressed: Tensor) -> Tensor:
    r"""STVEN's reconstruction loss :math:`L_{rec}` (ICCV 2019, §3.2; spec §4, "Losses, paper form").

    .. math::
        L_{rec} = \mathbb{E}\,\lVert c_0 - G(c_k, 0) \rVert_2^2 + \mathbb{E}\,\lVert c_k - G(c_0, k) \rVert_1

    restoration with a squared L2 error, degradation with an L1 error. Both are means over every element (batch,
    channels, frames and pixels); the paper's per-frame norms averaged over frames and levels differ from this by the
    constant factor :math:`C H W`. Zero exactly when both outputs equal their targets. Computed in float32 (float64
    for float64 input).

    Args:
        restored: :math:`G(c_k, 0)`.
        degraded: :math:`G(c_0, k)`.
        original: :math:`c_0`.
        compressed: :math:`c_k`.

    Returns:
        A scalar.

    Raises:
        ShapeError: If the inputs are not :math:`(B, C, T, H, W)` clips of the same shape.

    Shape:
        - every input: :math:`(B, C, T, H, W)`
        - Output: :math:`()`

    Examples:
        >>> c0, ck = torch.zeros(1, 3, 2, 4, 4), torch.ones(1, 3, 2, 4, 4)
        >>> float(stven_reconstruction_loss(c0, ck, c0, ck))
        0.0
        >>> float(stven_reconstruction_loss(c0 + 0.5, ck + 0.5, c0, ck))  # 0.5 ** 2 + 0.5
        0.75
    """
    _check_videos(original=original, compressed=compressed, restored=restored, degraded=degraded)
    restore = F.mse_loss(_float(restored), _float(original))
    degrade = F.l1_loss(_float(degraded), _float(compressed))
    return restore + degrade


def stven_cycle_loss(restored_cycle: Tensor, degraded_cycle: Tensor, original: Tensor, compressed: Tensor) -> Tensor:
    r"""STVEN's cycle loss :math:`L_{cyc}` (ICCV 2019, §3.2; spec §4, "Losses, paper form").

    .. math::
        L_{cyc} = \mathbb{E}\,\lVert c_k - G(G(c_k, 0), k) \rVert_1 + \mathbb{E}\,\lVert c_0 - G(G(c_0, k), 0)
        \rVert_1

    The paper does not name the norm; the spec's choice, L1, is used (means over every element). Zero exactly when
    both cycles return their input. Computed in float32 (float64 for float64 input).

    Args:
        restored_cycle: :math:`G(G(c_k, 0), k)`.
        degraded_cycle: :math:`G(G(c_0, k), 0)`.
        original: :math:`c_0`.
        compressed: :math:`c_k`.

    Returns:
        A scalar.

    Raises:
        ShapeError: If the inputs are not :math:`(B, C, T, H, W)` clips of the same shape.

    Shape:
        - every input: :math:`(B, C, T, H, W)`
        - Output: :math:`()`

    Examples:
        >>> c0, ck = torch.zeros(1, 3, 2, 4, 4), torch.ones(1, 3, 2, 4, 4)
        >>> float(stven_cycle_loss(ck, c0, c0, ck)), float(stven_cycle_loss(ck - 0.25, c0, c0, ck))
        (0.0, 0.25)
    """
    _check_videos(
        original=original, compressed=compressed, restored_cycle=restored_cycle, degraded_cycle=degraded_cycle
    )
    cycle_restore = F.l1_loss(_float(restored_cycle), _float(compressed))
    cycle_degrade = F.l1_loss(_float(degraded_cycle), _float(original))
    return cycle_restore + cycle_degrade


class STVENLossOutput(NamedTuple):
    """What :class:`STVENLoss` returns.

    Attributes:
        total: The loss to minimise, a scalar; the sum of ``terms``.
        terms: The weighted terms, keyed ``"restore"`` (L2, :math:`G(c_k, 0)` vs :math:`c_0`), ``"degrade"`` (L1,
            :math:`G(c_0, k)` vs :math:`c_k`), ``"cycle_restore"`` and ``"cycle_degrade"`` (L1 of the two cycles).
    """

    total: Tensor
    terms: dict[str, Tensor]


class STVENLoss(nn.Module):
    r"""STVEN's training loss :math:`L_{STVEN} = w_r L_{rec} + w_c L_{cyc}` (ICCV 2019, §3.2; spec §4).

    The paper form, both directions (:func:`stven_reconstruction_loss` + :func:`stven_cycle_loss`), with
    :math:`w_r = w_c = 1` by default. The released ``train_STVEN`` trains only the :math:`k \to 0 \to k`
    direction with :math:`100 \cdot L_1` terms plus a PSNR term of the wrong sign (see :class:`STVENRPPGNetLoss`);
    this class follows the paper.

    Args:
        reconstruction_weight: :math:`w_r`.
        cycle_weight: :math:`w_c`.

    Raises:
        ValueError: If a weight is negative or not finite.
        ShapeError: In ``forward``, if the clips are not :math:`(B, C, T, H, W)` of the same shape.

    Shape:
        - cycle: :class:`STVENCycle` of :math:`(B, C, T, H, W)` tensors
        - original, compressed: :math:`(B, C, T, H, W)`
        - Output: :class:`STVENLossOutput` with a scalar ``total``

    Examples:
        >>> from rppgblocks.models.stven import STVEN
        >>> model, criterion = STVEN(channels=(4, 8, 8)), STVENLoss()
        >>> original = torch.rand(2, 3, 4, 8, 8)
        >>> compressed = original + 0.1 * torch.randn_like(original)
        >>> result = criterion(stven_cycle(model, original, compressed, 2), original, compressed)
        >>> result.total.backward()
        >>> sorted(result.terms)
        ['cycle_degrade', 'cycle_restore', 'degrade', 'restore']
    """

    def __init__(self, *, reconstruction_weight: float = 1.0, cycle_weight: float = 1.0) -> None:
        super().__init__()
        self.reconstruction_weight = check_weight(reconstruction_weight, "reconstruction_weight")
        self.cycle_weight = check_weight(cycle_weight, "cycle_weight")

    def forward(self, cycle: STVENCycle, original: Tensor, compressed: Tensor) -> STVENLossOutput:
        """Loss of the four outputs in ``cycle`` against ``original`` :math:`c_0` and ``compressed`` :math:`c_k`."""
        _check_videos(original=original, compressed=compressed, **cycle._asdict())
        terms = {
            "restore": self.reconstruction_weight * F.mse_loss(_float(cycle.restored), _float(original)),
            "degrade": self.reconstruction_weight * F.l1_loss(_float(cycle.degraded), _float(compressed)),
            "cycle_restore": self.cycle_weight * F.l1_loss(_float(cycle.restored_cycle), _float(compressed)),
            "cycle_degrade": self.cycle_weight * F.l1_loss(_float(cycle.degraded_cycle), _float(original)),
        }
        return STVENLossOutput(torch.stack(list(terms.values())).sum(), terms)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return f"reconstruction_weight={self.reconstruction_weight}, cycle_weight={self.cycle_weight}"


class STVENRPPGNetLossOutput(NamedTuple):
    """What :class:`STVENRPPGNetLoss` returns.

    Attributes:
        total: The loss to minimise, a scalar; the sum of ``terms``.
        terms: The weighted terms: ``"rppgnet"`` (rPPGNet's own loss on the enhanced clip), the perceptual terms
            ``"perceptual_skin"``, ``"perceptual_stage1"``, ``"perceptual_stage2"``, ``"perceptual_bvp"``,
            ``"perceptual_part1"`` .. ``"perceptual_part4"``, and ``"stven"`` (the enhanced clip vs the original).
        perceptual: :math:`L_p`, the sum of the perceptual terms.
        rppgnet: The detailed :class:`~rppgblocks.losses.rppgnet_loss.RPPGNetLossOutput` of the ``"rppgnet"`` term.
    """

    total: Tensor
    terms: dict[str, Tensor]
    perceptual: Tensor
    rppgnet: RPPGNetLossOutput


class STVENRPPGNetLoss(nn.Module):
    r"""The joint STVEN + rPPGNet loss, with the perceptual (rPPG) loss (ICCV 2019, §3.3; spec §4).

    The enhanced clip :math:`\hat v = G(c_k, 0)` goes through the trained rPPGNet (``enhanced_output``); a frozen
    copy of rPPGNet, pretrained on original clips, runs on :math:`c_0` (``reference_output``; its outputs are
    detached here, so they are constant targets). Then

    .. math::
        L = L_{rPPGNet}(\hat v) + L_p + w_v \bigl(w_1 \lVert \hat v - c_0 \rVert_1 - \mathrm{PSNR}(\hat v, c_0)\bigr)

    with :math:`L_{rPPGNet}` rPPGNet's loss against the ground-truth BVP and skin labels
    (:class:`~rppgblocks.losses.rppgnet_loss.RPPGNetLoss`) and the perceptual loss, the enhanced-vs-reference
    distance of rPPGNet's skin map, features and signals,

    .. math::
        L_p = w_s \,\mathrm{MSE}(S) + w_f \,\mathrm{MSE}(F_1) + w_f \,\mathrm{MSE}(F_2) + w_g L_{np}(\text{bvp})
          + w_p \sum_{i=1}^{4} L_{np}(\text{part}_i),

    defaults as released: :math:`w_s = 0.1, w_f = 1, w_g = 1, w_p = 0.5`; :math:`F_1, F_2` are rPPGNet's stage-1
    and stage-2 maps (``x_visual6464``, ``x_visual3232``), :math:`L_{np}` the negative Pearson loss, and the mid-layer
    signal is left out (as released). :math:`w_v = 10^{-4}`, :math:`w_1 = 100`; the spec reads the joint script's
    STVEN term as ``train_STVEN``'s form, restore direction only **[uncertain]**. The MSE of the released
    ``criterion_reg`` (undefined in the script) is assumed, as the spec does. :math:`\mathrm{PSNR} = 10
    \log_{10}(1 / (\mathrm{MSE} + 10^{-7}))` per clip, averaged over the batch (the released script takes one MSE
    over the batch).

    **Sign fix.** The released scripts *add* the PSNR to the minimised loss. PSNR grows as the enhanced clip gets
    closer to the original, so minimising :math:`+\mathrm{PSNR}` pushes the enhanced clip *away* from the original,
    against the intent of a fidelity term. Here it is *subtracted* (``fidelity="neg_psnr"``, the default), which
    rewards fidelity; ``fidelity="mse"`` uses the MSE instead (the other fix named in the spec; like the L2 of the
    paper's :math:`L_{rec}`). :math:`-\mathrm{PSNR}` is bounded below by :math:`-70` dB (at a perfect
    reconstruction, through the :math:`10^{-7}`), so the ``"stven"`` term is minimal, not zero, there.

    What is updated is the optimiser's choice: the released comments update STVEN only (pass only STVEN's parameters
    to the optimiser); the paper trains both networks jointly (also pass rPPGNet's). The reference copy is never
    updated (``copy.deepcopy(rppgnet).eval().requires_grad_(False)``, run under ``torch.no_grad()``).

    Args:
        rppgnet_loss: rPPGNet's loss for the enhanced clip; default ``RPPGNetLoss()`` (released weights).
        skin_weight: :math:`w_s`.
        feature_weight: :math:`w_f`, for each of the two feature maps.
        bvp_weight: :math:`w_g`.
        part_weight: :math:`w_p`, for each part signal.
        stven_weight: :math:`w_v`.
        l1_weight: :math:`w_1`.
        fidelity: ``"neg_psnr"`` (default: :math:`-\mathrm{PSNR}`, the released term with its sign fixed) or
            ``"mse"``.
        eps: Lower bound of the Pearson correlation's denominator.

    Raises:
        ValueError: If a weight is negative or not finite, or ``fidelity`` is unknown.
        ShapeError: In ``forward``, if the clips differ in shape or the two rPPGNet outputs do.

    Shape:
        - enhanced_output, reference_output: :class:`~rppgblocks.models.rppgnet.RPPGNetOutput` of clips
          :math:`(B, C, T, H, W)`
        - enhanced, original: :math:`(B, C, T, H, W)`
        - target: :math:`(B, T)`; skin_labels: :math:`(B, T, H/2, W/2)`
        - Output: :class:`STVENRPPGNetLossOutput` with a scalar ``total``

    Examples:
        >>> import copy
        >>> from rppgblocks.models.rppgnet import RPPGNet
        >>> from rppgblocks.models.stven import STVEN
        >>> stven, rppgnet = STVEN(channels=(4, 8, 8)), RPPGNet(width=8)
        >>> reference = copy.deepcopy(rppgnet).eval().requires_grad_(False)
        >>> original = torch.rand(2, 3, 4, 32, 32)
        >>> compressed = original + 0.05 * torch.randn_like(original)
        >>> enhanced = stven(compressed, 0)
        >>> with torch.no_grad():
        ...     reference_output = reference(original)
        >>> criterion = STVENRPPGNetLoss()
        >>> target, skin = torch.randn(2, 4), torch.randint(0, 2, (2, 4, 16, 16)).float()
        >>> result = criterion(rppgnet(enhanced), reference_output, enhanced, original, target, skin)
        >>> result.total.backward()
        >>> stven.encoder.stem[0].weight.grad is not None
        True
        >>> bool(torch.isclose(result.total, sum(result.terms.values())))
        True
    """

    def __init__(
        self,
        *,
        rppgnet_loss: RPPGNetLoss | None = None,
        skin_weight: float = 0.1,
        feature_weight: float = 1.0,
        bvp_weight: float = 1.0,
        part_weight: float = 0.5,
        stven_weight: float = 1e-4,
        l1_weight: float = 100.0,
        fidelity: Fidelity = "neg_psnr",
        eps: float = 1e-8,
    ) -> None:
        super().__init__()
        self.rppgnet_loss = RPPGNetLoss() if rppgnet_loss is None else rppgnet_loss
        self.skin_weight = check_weight(skin_weight, "skin_weight")
        self.feature_weight = check_weight(feature_weight, "feature_weight")
        self.bvp_weight = check_weight(bvp_weight, "bvp_weight")
        self.part_weight = check_weight(part_weight, "part_weight")
        self.stven_weight = check_weight(stven_weight, "stven_weight")
        self.l1_weight = check_weight(l1_weight, "l1_weight")
        if fidelity not in ("neg_psnr", "mse"):
            raise ValueError(f"fidelity: expected 'neg_psnr' or 'mse', got {fidelity!r}")
        self.fidelity: Fidelity = fidelity
        self.eps = eps

    def perceptual(self, enhanced_output: RPPGNetOutput, reference_output: RPPGNetOutput) -> dict[str, Tensor]:
        r"""The weighted perceptual terms :math:`L_p` (enhanced vs reference rPPGNet outputs; see the class).

        Args:
            enhanced_output: rPPGNet's output on the enhanced clip :math:`\hat v`.
            reference_output: The frozen rPPGNet's output on the original clip :math:`c_0` (detached here).

        Returns:
            The terms keyed ``"perceptual_skin"``, ``"perceptual_stage1"``, ``"perceptual_stage2"``,
            ``"perceptual_bvp"``, ``"perceptual_part1"`` .. ``"perceptual_part4"``; all zero when the two outputs
            are equal.

        Raises:
            ShapeError: If the two outputs' tensors differ in shape.

        Examples:
            >>> from rppgblocks.models.rppgnet import RPPGNet
            >>> with torch.no_grad():
            ...     out = RPPGNet(width=8).eval()(torch.rand(1, 3, 8, 32, 32))
            >>> terms = STVENRPPGNetLoss().perceptual(out, out)
            >>> max(float(v) for v in terms.values()) < 1e-6
            True
        """
        for name, mine, theirs in zip(enhanced_output._fields, enhanced_output, reference_output, strict=True):
            if mine.shape != theirs.shape:
                raise ShapeError(
                    f"reference_output.{name}", tuple(mine.shape), theirs.shape, "must match enhanced_output"
                )
        ref = RPPGNetOutput(*(t.detach() for t in reference_output))
        enh = enhanced_output
        terms = {
            "perceptual_skin": self.skin_weight * F.mse_loss(_float(enh.skin), _float(ref.skin)),
            "perceptual_stage1": self.feature_weight
            * F.mse_loss(_float(enh.stage1_features), _float(ref.stage1_features)),
            "perceptual_stage2": self.feature_weight
            * F.mse_loss(_float(enh.stage2_features), _float(ref.stage2_features)),
            "perceptual_bvp": self.bvp_weight * neg_pearson_loss(enh.bvp, ref.bvp, eps=self.eps),
        }
        for i in range(enh.bvp_parts.shape[1]):
            part = neg_pearson_loss(enh.bvp_parts[:, i], ref.bvp_parts[:, i], eps=self.eps)
            terms[f"perceptual_part{i + 1}"] = self.part_weight * part
        return terms

    def fidelity_loss(self, enhanced: Tensor, original: Tensor) -> Tensor:
        r"""The unweighted STVEN term :math:`w_1 \lVert \hat v - c_0 \rVert_1 - \mathrm{PSNR}(\hat v, c_0)` (or
        :math:`+ \mathrm{MSE}` with ``fidelity="mse"``); it decreases as ``enhanced`` approaches ``original``.

        Args:
            enhanced: :math:`\hat v`, STVEN's output.
            original: :math:`c_0`.

        Returns:
            A scalar.

        Raises:
            ShapeError: If the clips are not :math:`(B, C, T, H, W)` of the same shape.

        Examples:
            >>> original = torch.zeros(1, 3, 2, 4, 4)
            >>> criterion = STVENRPPGNetLoss()
            >>> float(criterion.fidelity_loss(original, original))  # -PSNR at a perfect reconstruction: -70 dB
            -70.0
            >>> float(criterion.fidelity_loss(original + 0.1, original))  # 100 * 0.1 - 20 dB
            -10.0
        """  # noqa: D205
        _check_videos(original=original, enhanced=enhanced)
        diff = _float(enhanced) - _float(original)
        l1 = diff.abs().mean()
        if self.fidelity == "mse":
            return self.l1_weight * l1 + diff.square().mean()
        mse = diff.square().flatten(1).mean(dim=1)  # per clip
        psnr = 10.0 * torch.log10(1.0 / (mse + 1e-7))
        return self.l1_weight * l1 - psnr.mean()  # minus: the released scripts' +PSNR has the wrong sign

    def forward(
        self,
        enhanced_output: RPPGNetOutput,
        reference_output: RPPGNetOutput,
        enhanced: Tensor,
        original: Tensor,
        target: Tensor,
        skin_labels: Tensor,
    ) -> STVENRPPGNetLossOutput:
        r"""The joint loss.

        Args:
            enhanced_output: rPPGNet's output on the enhanced clip :math:`\hat v = G(c_k, 0)`.
            reference_output: The frozen rPPGNet's output on the original clip :math:`c_0`.
            enhanced: :math:`\hat v`.
            original: :math:`c_0`.
            target: The ground-truth BVP ``(B, T)``.
            skin_labels: The skin labels ``(B, T, H/2, W/2)`` in [0, 1].

        Returns:
            The total and its terms.
        """
        rppgnet = self.rppgnet_loss(enhanced_output, target, skin_labels)
        perceptual = self.perceptual(enhanced_output, reference_output)
        terms = {"rppgnet": rppgnet.total, **perceptual}
        terms["stven"] = self.stven_weight * self.fidelity_loss(enhanced, original)
        total = torch.stack([t.to(rppgnet.total.dtype) for t in terms.values()]).sum()
        perceptual_sum = torch.stack(list(perceptual.values())).sum()
        return STVENRPPGNetLossOutput(total, terms, perceptual_sum, rppgnet)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return (
            f"skin_weight={self.skin_weight}, feature_weight={self.feature_weight}, bvp_weight={self.bvp_weight}, "
            f"part_weight={self.part_weight}, stven_weight={self.stven_weight}, l1_weight={self.l1_weight}, "
            f"fidelity={self.fidelity!r}"
        )
