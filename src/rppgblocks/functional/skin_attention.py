r"""rPPGNet's parameter-free skin-based attention (the ``MixA_Module`` of the released code).

Source: Yu, Peng, Zhao, "Remote Heart Rate Measurement from Highly Compressed Facial Videos: an End-to-end Deep
Learning Solution with Video Enhancement", ICCV 2019; rppgblocks spec ``architectures.md`` §3 ("Skin-based
attention").

For features :math:`X` ``(B, C, T, h, w)`` and a skin map :math:`S` ``(B, T, h, w)``, per frame

.. math::
    a = \sigma(\mathrm{mean}_c X) + \sigma(\max_c X) + S, \qquad
    A_{b,t,i} = \frac{e^{a_{b,t,i}}}{\sum_{j=1}^{hw} e^{a_{b,t,j}}}, \qquad
    \text{output} = X \odot A \;(\text{broadcast over } C).

Properties (all tested): the weights :math:`A` of each frame are positive and sum to 1 over the :math:`hw`
positions; :math:`A` does not depend on the order of the channels (mean and max are symmetric), so permuting the
channels of :math:`X` permutes the output's; adding a constant to the skin map of a frame leaves :math:`A`
unchanged (the softmax is shift invariant); permuting the :math:`hw` positions (e.g. a flip), the frames or the
batch of both inputs permutes the output the same way (frames are attended independently); with :math:`S \in [0,
1]` the logits lie in :math:`(0, 3)`, so :math:`hw \cdot A \in (e^{-3}, e^{3})`: the attention reweights a
position by less than :math:`e^3 \approx 20` relative to uniform; a position with :math:`S = -\infty` gets weight
exactly 0 (hard masking), provided the frame has at least one finite position (a frame of all :math:`-\infty` gives
NaN). It is *not* invariant to adding a constant to, or rescaling, :math:`X` (the sigmoids are not linear).
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import Tensor

from rppgblocks._checks import check_shape
from rppgblocks.errors import ShapeError
from rppgblocks.layout import FEATURES

__all__ = ["skin_attention", "skin_attention_weights"]

SKIN_MAP = "b t h w"


def _check_inputs(features: Tensor, skin_map: Tensor) -> None:
    check_shape(features, FEATURES, "features")
    check_shape(skin_map, SKIN_MAP, "skin_map")
    b, _, t, h, w = features.shape
    if tuple(skin_map.shape) != (b, t, h, w):
        raise ShapeError(
            "skin_map", (b, t, h, w), skin_map.shape, f"must be (B, T, h, w) of features {tuple(features.shape)}"
        )


def skin_attention_weights(features: Tensor, skin_map: Tensor) -> Tensor:
    r"""The attention weights :math:`A = \mathrm{softmax}_{hw}(\sigma(\mathrm{mean}_c X) + \sigma(\max_c X) + S)`.

    rPPGNet's skin-based attention (ICCV 2019; spec §3), without applying it; see :func:`skin_attention` and the
    module notes for its properties. The softmax runs in float32 (float64 for float64 input); the weights are
    returned in ``features``' dtype.

    Args:
        features: :math:`X`, ``(B, C, T, h, w)``.
        skin_map: :math:`S`, ``(B, T, h, w)``: skin probabilities (any real values, or :math:`-\infty` to mask).

    Returns:
        :math:`A`, ``(B, T, h, w)``, summing to 1 over ``(h, w)`` for each ``(b, t)``.

    Raises:
        ShapeError: If ``features`` is not 5-D or ``skin_map`` is not ``(B, T, h, w)`` of ``features``.

    Shape:
        - features: :math:`(B, C, T, h, w)`
        - skin_map: :math:`(B, T, h, w)`
        - output: :math:`(B, T, h, w)`

    Examples:
        >>> import torch
        >>> weights = skin_attention_weights(torch.randn(2, 8, 3, 4, 4), torch.rand(2, 3, 4, 4))
        >>> weights.shape, torch.allclose(weights.sum(dim=(-2, -1)), torch.ones(2, 3))
        (torch.Size([2, 3, 4, 4]), True)
    """
    _check_inputs(features, skin_map)
    dtype = torch.float64 if torch.float64 in (features.dtype, skin_map.dtype) else torch.float32
    x = features.to(dtype)
    logits = torch.sigmoid(x.mean(dim=1)) + torch.sigmoid(x.amax(dim=1)) + skin_map.to(dtype)
    h, w = logits.shape[-2:]
    weights = rearrange(logits, "b t h w -> b t (h w)").softmax(dim=-1)
    out: Tensor = rearrange(weights, "b t (h w) -> b t h w", h=h, w=w).to(features.dtype)
    return out


def skin_attention(features: Tensor, skin_map: Tensor) -> Tensor:
    r"""Apply rPPGNet's parameter-free skin-based attention: :math:`X \odot A` (ICCV 2019; spec §3).

    :math:`A` (:func:`skin_attention_weights`) is a softmax over the :math:`h w` positions of each frame of the
    sum of the sigmoids of the channel mean and channel max of :math:`X` and the skin map :math:`S`; it is broadcast
    over the channels. Properties in the module notes. rPPGNet applies it at 1/4 and 1/8 of the input resolution,
    with the skin map average-pooled to match.

    Autograd, ``torch.compile`` and ``torch.export`` supported. Parameter-free.

    Args:
        features: :math:`X`, ``(B, C, T, h, w)``.
        skin_map: :math:`S`, ``(B, T, h, w)``.

    Returns:
        The attended features ``(B, C, T, h, w)``, in ``features``' dtype.

    Raises:
        ShapeError: If ``features`` is not 5-D or ``skin_map`` is not ``(B, T, h, w)`` of ``features``.

    Shape:
        - features: :math:`(B, C, T, h, w)`
        - skin_map: :math:`(B, T, h, w)`
        - output: :math:`(B, C, T, h, w)`

    Examples:
        >>> import torch
        >>> x = torch.ones(1, 2, 1, 2, 2)
        >>> skin_attention(x, torch.zeros(1, 1, 2, 2))[0, 0, 0]  # uniform weights 1/4
        tensor([[0.2500, 0.2500],
                [0.2500, 0.2500]])
    """
    weights = skin_attention_weights(features, skin_map)
    return features * rearrange(weights, "b t h w -> b 1 t h w")
