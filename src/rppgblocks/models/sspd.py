r"""SSPD: the self-similarity-aware network and its Separable Self-Similarity Model (S³M).

Source: Zhang et al., "Self-similarity prior distillation for unsupervised remote physiological measurement", IEEE
TMM 26 (2024), arXiv 2311.05100, Figs. 3-5; layer tables, shapes and parameter counts in the rppgblocks spec
``architectures.md`` §5.2 (network) and §5.3 (S³M). Rewritten from that description.

The network maps a clip of frame differences ``(B, 3, T, H, W)`` to a backbone feature map :math:`F` ``(B, E, T, h,
w)``. Its spatial mean :math:`g` ``(B, E, T)`` feeds the S³M, a stack of Temporal Similarity blocks whose tokens give
the self-similarity maps and waves that SSPD distils (training only); the predictor reads :math:`F` through a
stop-gradient and outputs the rPPG signal ``(B, T)``. Every convolution pads time only, so frames must be at least
122 x 122 pixels (SSPD uses 128 x 128).
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import torch
import torch.nn.functional as F
from einops import rearrange, reduce
from torch import Tensor, nn

from rppgblocks._checks import check_shape
from rppgblocks.errors import ShapeError
from rppgblocks.functional.self_similarity import Similarity, self_similarity_map, self_similarity_wave
from rppgblocks.layout import FEATURES, TRACE, VIDEO
from rppgblocks.models._registry import register_model

__all__ = [
    "MIN_FRAME_SIZE",
    "SSPD",
    "S3MOutput",
    "SSPDBackbone",
    "SSPDOutput",
    "SSPDPredictor",
    "SeparableSelfSimilarityModel",
    "TemporalSimilarityBlock",
    "sspd",
]

Attention = Literal["linear", "softmax"]

#: Smallest frame side the backbone and predictor accept (no spatial padding; the predictor needs an 8 x 8 map).
MIN_FRAME_SIZE = 122
_MIN_FEATURE_SIZE = 8
_SPATIAL_POOL = (1, 2, 2)


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return value


class _AvgPool3d(nn.Module):
    """``nn.AvgPool3d(kernel)`` (stride = kernel, no padding, remainders dropped) as a reshape and a mean.

    Equal to ``nn.AvgPool3d``, and it also runs in bfloat16 and float16 on CPU, where torch has no ``avg_pool3d``
    kernel for them.
    """

    def __init__(self, kernel: tuple[int, int, int]) -> None:
        super().__init__()
        self.kernel = kernel

    def forward(self, x: Tensor) -> Tensor:
        kt, kh, kw = self.kernel
        t, h, w = x.shape[2] // kt, x.shape[3] // kh, x.shape[4] // kw
        x = x[:, :, : t * kt, : h * kh, : w * kw]
        return reduce(x, "b c (t kt) (h kh) (w kw) -> b c t h w", "mean", kt=kt, kh=kh, kw=kw)


def _conv_bn_tanh(in_channels: int, out_channels: int, kernel: tuple[int, int, int]) -> nn.Sequential:
    """Conv3d without bias that pads time only, then BatchNorm3d and Tanh (every SSPD conv but the last)."""
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, kernel, padding=(kernel[0] // 2, 0, 0), bias=False),
        nn.BatchNorm3d(out_channels),
        nn.Tanh(),
    )


def _init_weights(module: nn.Module) -> None:
    """SSPD's initialisation (spec §5.2): Xavier-normal conv/linear weights, zero biases, unit/zero norms."""
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv3d, nn.Linear)):
            nn.init.xavier_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm3d, nn.LayerNorm)) and m.weight is not None:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def _check_frames(video: Tensor, name: str) -> None:
    height, width = video.shape[-2:]
    if height < MIN_FRAME_SIZE or width < MIN_FRAME_SIZE:
        raise ShapeError(
            name, VIDEO, video.shape, f"H, W must be >= {MIN_FRAME_SIZE} (no spatial padding), got {height}x{width}"
        )


class SSPDBackbone(nn.Module):
    r"""SSPD's backbone: input BatchNorm, three conv-conv-pool blocks and a last conv (spec §5.2, ConvBlock1-Block4).

    Every convolution has no bias, pads time only (so :math:`T` is preserved and the frames shrink), and is followed
    by BatchNorm3d and Tanh. With the defaults, a 128 x 128 clip gives an :math:`8 \times 8` map of 256 channels;
    frames must be at least :data:`MIN_FRAME_SIZE` (122) pixels.

    ======== ============================================================ =====================
    block    layers (kernel t, h, w)                                      channels
    ======== ============================================================ =====================
    1        conv (3,5,5), conv (3,3,3), avg-pool (1,2,2)                  C -> s -> c1
    2        conv (3,5,5), conv (3,3,3), avg-pool (1,2,2)                  c1 -> c1 -> c2
    3        conv (3,5,5), conv (3,3,3), avg-pool (1,2,2)                  c2 -> c2 -> c3
    4        conv (3,3,3)                                                  c3 -> E
    ======== ============================================================ =====================

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        in_channels: Input channels :math:`C` (3).
        stem_channels: :math:`s`, the first conv's channels (8).
        block_channels: :math:`(c_1, c_2, c_3)`, the outputs of blocks 1-3 ((16, 32, 64)).
        embed_dim: :math:`E`, the output channels (256).

    Raises:
        ValueError: If a channel count is not a positive integer.

    Shape:
        - Input: :math:`(B, C, T, H, W)`, :math:`H, W \ge 122`
        - Output: :math:`(B, E, T, h, w)` with :math:`h = \lfloor(\lfloor(\lfloor(H-6)/2\rfloor-6)/2\rfloor-6)/2
          \rfloor - 2` (8 for 128)

    Examples:
        >>> import torch
        >>> backbone = SSPDBackbone(stem_channels=2, block_channels=(4, 4, 4), embed_dim=8)
        >>> backbone(torch.randn(1, 3, 4, 128, 128)).shape
        torch.Size([1, 8, 4, 8, 8])
        >>> sum(p.numel() for p in SSPDBackbone().parameters())  # input BN + blocks 1-4 (spec §5.2)
        613598
    """

    def __init__(
        self,
        *,
        in_channels: int = 3,
        stem_channels: int = 8,
        block_channels: tuple[int, int, int] = (16, 32, 64),
        embed_dim: int = 256,
    ) -> None:
        super().__init__()
        if not isinstance(block_channels, (tuple, list)) or len(block_channels) != 3:
            raise ValueError(f"block_channels: expected three positive integers, got {block_channels!r}")
        c1, c2, c3 = (_positive_int(c, "block_channels") for c in block_channels)
        self.in_channels = _positive_int(in_channels, "in_channels")
        stem = _positive_int(stem_channels, "stem_channels")
        self.embed_dim = _positive_int(embed_dim, "embed_dim")
        self.input_norm = nn.BatchNorm3d(in_channels)
        self.block1 = nn.Sequential(
            _conv_bn_tanh(in_channels, stem, (3, 5, 5)),
            _conv_bn_tanh(stem, c1, (3, 3, 3)),
            _AvgPool3d(_SPATIAL_POOL),
        )
        self.block2 = nn.Sequential(
            _conv_bn_tanh(c1, c1, (3, 5, 5)), _conv_bn_tanh(c1, c2, (3, 3, 3)), _AvgPool3d(_SPATIAL_POOL)
        )
        self.block3 = nn.Sequential(
            _conv_bn_tanh(c2, c2, (3, 5, 5)), _conv_bn_tanh(c2, c3, (3, 3, 3)), _AvgPool3d(_SPATIAL_POOL)
        )
        self.block4 = _conv_bn_tanh(c3, embed_dim, (3, 3, 3))
        _init_weights(self)

    def forward(self, video: Tensor) -> Tensor:
        """The feature map :math:`F` ``(B, E, T, h, w)`` of ``video`` ``(B, C, T, H, W)``."""
        check_shape(video, VIDEO, "video", c=self.in_channels)
        _check_frames(video, "video")
        x = self.input_norm(video)
        x = self.block3(self.block2(self.block1(x)))
        features: Tensor = self.block4(x)
        return features


class SSPDPredictor(nn.Module):
    r"""SSPD's rPPG predictor: from the backbone map :math:`F` to the signal (spec §5.2).

    conv (3,1,1) -> avg-pool (2,2,2) -> conv (3,3,3) -> nearest upsampling back to :math:`T` frames -> conv (3,1,1) ->
    avg-pool (1,2,2) -> conv (1,1,1) with bias and no activation -> spatial mean. The convs before the last are
    bias-free, pad time only, and are followed by BatchNorm3d and Tanh. Two generalisations of the released network,
    identical to it on 8 x 8 maps of an even number of frames: the upsampling goes to exactly :math:`T` frames (the
    original doubles, so an odd :math:`T` lost a frame), and the final map is averaged spatially (it is 1 x 1 on an
    8 x 8 input). The map must be at least 8 x 8. The stop-gradient of SSPD sits in :class:`SSPD`, not here.

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        embed_dim: Channels :math:`E` of the input map (256).
        channels: Hidden channels (64).

    Raises:
        ValueError: If a channel count is not a positive integer.

    Shape:
        - Input: :math:`(B, E, T, h, w)`, :math:`T \ge 2`, :math:`h, w \ge 8`
        - Output: :math:`(B, T)`

    Examples:
        >>> import torch
        >>> predictor = SSPDPredictor(embed_dim=8, channels=4)
        >>> predictor(torch.randn(2, 8, 6, 8, 8)).shape
        torch.Size([2, 6])
        >>> sum(p.numel() for p in SSPDPredictor().parameters())  # spec §5.2
        172481
    """

    def __init__(self, *, embed_dim: int = 256, channels: int = 64) -> None:
        super().__init__()
        self.embed_dim = _positive_int(embed_dim, "embed_dim")
        self.channels = _positive_int(channels, "channels")
        self.reduce = _conv_bn_tanh(embed_dim, channels, (3, 1, 1))
        self.pool = _AvgPool3d((2, 2, 2))
        self.mix = _conv_bn_tanh(channels, channels, (3, 3, 3))
        self.refine = _conv_bn_tanh(channels, channels, (3, 1, 1))
        self.spatial_pool = _AvgPool3d(_SPATIAL_POOL)
        self.head = nn.Conv3d(channels, 1, kernel_size=1)
        _init_weights(self)

    def forward(self, features: Tensor) -> Tensor:
        """The rPPG signal ``(B, T)`` of the backbone map ``features`` ``(B, E, T, h, w)``."""
        check_shape(features, FEATURES, "features", c=self.embed_dim)
        frames, height, width = features.shape[2:]
        if frames < 2:
            raise ShapeError("features", FEATURES, features.shape, f"the predictor needs T >= 2, got T={frames}")
        if height < _MIN_FEATURE_SIZE or width < _MIN_FEATURE_SIZE:
            raise ShapeError(
                "features", FEATURES, features.shape, f"h, w must be >= {_MIN_FEATURE_SIZE}, got {height}x{width}"
            )
        x = self.mix(self.pool(self.reduce(features)))
        x = F.interpolate(x, size=(frames, x.shape[3], x.shape[4]), mode="nearest")
        x = self.head(self.spatial_pool(self.refine(x)))
        signal: Tensor = reduce(x, "b 1 t h w -> b t", "mean")
        return signal


class TemporalSimilarityBlock(nn.Module):
    r"""A Temporal Similarity (TS) block of the S³M at one time scale (spec §5.3; SP Fig. 5).

    On :math:`r` ``(B, D, T)``:

    1. tokens :math:`x = \mathrm{LayerNorm}(\mathrm{Conv1d}_k(r)^\top)` ``(B, T', D)``, :math:`T' = T - k + 1`
       (kernel :math:`k`, no padding, with bias; LayerNorm eps 1e-6);
    2. multi-head dot-product attention with :math:`q, k, v` linear maps and ``heads`` heads. ``"linear"`` (the
       released code, the default): :math:`\mathrm{out} = (q k^\top / T')\, v`, divided by the number of tokens and
       with no softmax; ``"softmax"``: the standard :math:`\mathrm{softmax}(q k^\top / \sqrt{d_h})\, v`;
    3. :math:`z = \tanh(\mathrm{Linear}(\mathrm{out}))` ``(B, T', D)``, the tokens of the self-similarity map;
    4. :math:`r' = \mathrm{nearest}(r, T') + z^\top` ``(B, D, T')`` ("downsampling for alignment" plus residual).

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        dim: Feature dimension :math:`D` (256).
        kernel_size: Time scale :math:`k` of the token projection (9, 7, 5 in SSPD's three blocks).
        heads: Attention heads (2); must divide ``dim``.
        attention: ``"linear"`` (default) or ``"softmax"``.

    Raises:
        ValueError: If an argument is invalid or ``heads`` does not divide ``dim``.

    Shape:
        - Input: :math:`(B, D, T)`, :math:`T \ge k`
        - Output: ``(r', z)``: :math:`(B, D, T - k + 1)` and :math:`(B, T - k + 1, D)`

    Examples:
        >>> import torch
        >>> block = TemporalSimilarityBlock(16, kernel_size=5)
        >>> residual, tokens = block(torch.randn(2, 16, 30))
        >>> residual.shape, tokens.shape
        (torch.Size([2, 16, 26]), torch.Size([2, 26, 16]))
        >>> sum(p.numel() for p in TemporalSimilarityBlock(256, kernel_size=9).parameters())  # spec §5.3
        853760
    """

    def __init__(self, dim: int, *, kernel_size: int, heads: int = 2, attention: Attention = "linear") -> None:
        super().__init__()
        self.dim = _positive_int(dim, "dim")
        self.kernel_size = _positive_int(kernel_size, "kernel_size")
        self.heads = _positive_int(heads, "heads")
        if dim % heads:
            raise ValueError(f"heads: expected a divisor of dim={dim}, got {heads!r}")
        if attention not in ("linear", "softmax"):
            raise ValueError(f"attention: expected 'linear' or 'softmax', got {attention!r}")
        self.attention: Attention = attention
        self.proj = nn.Conv1d(dim, dim, kernel_size)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        _init_weights(self)

    def forward(self, residual: Tensor) -> tuple[Tensor, Tensor]:
        """Return the next residual stream ``(B, D, T')`` and the block's tokens ``(B, T', D)``."""
        check_shape(residual, TRACE, "residual", c=self.dim)
        frames = residual.shape[-1]
        if frames < self.kernel_size:
            raise ShapeError(
                "residual", TRACE, residual.shape, f"T={frames} is shorter than kernel_size={self.kernel_size}"
            )
        tokens = self.norm(rearrange(self.proj(residual), "b d t -> b t d"))
        q, k, v = rearrange(self.qkv(tokens), "b n (three h e) -> three b h n e", three=3, h=self.heads)
        if self.attention == "linear":
            mixed = (q @ k.mT) @ v / tokens.shape[1]
        else:
            mixed = F.scaled_dot_product_attention(q, k, v)
        z = torch.tanh(self.out(rearrange(mixed, "b h n e -> b n (h e)")))
        aligned = F.interpolate(residual, size=z.shape[1], mode="nearest")
        return aligned + rearrange(z, "b t d -> b d t"), z

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return f"dim={self.dim}, kernel_size={self.kernel_size}, heads={self.heads}, attention={self.attention!r}"


class S3MOutput(NamedTuple):
    """What :class:`SeparableSelfSimilarityModel` returns: one entry per TS block, coarse time scale first.

    Attributes:
        tokens: The tokens :math:`z_l` ``(B, T_l, D)``.
        maps: The self-similarity maps of the tokens ``(B, T_l, T_l)``.
        waves: The self-similarity waves of the maps ``(B, T_l)``.
    """

    tokens: list[Tensor]
    maps: list[Tensor]
    waves: list[Tensor]


class SeparableSelfSimilarityModel(nn.Module):
    r"""S³M: Temporal Similarity blocks in series, with each block's self-similarity map and wave (spec §5.3).

    Block :math:`l` (time scale :math:`k_l`) maps :math:`r_{l-1}` to :math:`(r_l, z_l)`
    (:class:`TemporalSimilarityBlock`, :math:`r_0` = the backbone embedding :math:`g`); its map is
    :func:`~rppgblocks.functional.self_similarity.self_similarity_map` of :math:`z_l` and its wave
    :func:`~rppgblocks.functional.self_similarity.self_similarity_wave` of the map. The sequence shortens by
    :math:`k_l - 1` per block (300 -> 292 -> 286 -> 282 with the defaults). A training auxiliary: inference uses
    the predictor only.

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        dim: Feature dimension :math:`D` (256).
        kernel_sizes: Time scales :math:`k_l`, one block each ((9, 7, 5)).
        heads: Attention heads per block (2).
        attention: ``"linear"`` (released code, default) or ``"softmax"``; see :class:`TemporalSimilarityBlock`.
        similarity: Similarity of the maps, ``"cosine"`` (default) or ``"dot"``.

    Raises:
        ValueError: If an argument is invalid.

    Shape:
        - Input: :math:`(B, D, T)`, :math:`T \ge 1 + \sum_l (k_l - 1)`
        - Output: :class:`S3MOutput`; level :math:`l` has :math:`T_l = T - \sum_{j \le l} (k_j - 1)`

    Examples:
        >>> import torch
        >>> s3m = SeparableSelfSimilarityModel(16, kernel_sizes=(5, 3))
        >>> out = s3m(torch.randn(2, 16, 20))
        >>> [tuple(m.shape) for m in out.maps], [tuple(w.shape) for w in out.waves]
        ([(2, 16, 16), (2, 14, 14)], [(2, 16), (2, 14)])
        >>> sum(p.numel() for p in SeparableSelfSimilarityModel().parameters())  # spec §5.3
        2168064
    """

    def __init__(
        self,
        dim: int = 256,
        *,
        kernel_sizes: tuple[int, ...] = (9, 7, 5),
        heads: int = 2,
        attention: Attention = "linear",
        similarity: Similarity = "cosine",
    ) -> None:
        super().__init__()
        if not isinstance(kernel_sizes, (tuple, list)) or not kernel_sizes:
            raise ValueError(f"kernel_sizes: expected a non-empty tuple of positive integers, got {kernel_sizes!r}")
        if similarity not in ("cosine", "dot"):
            raise ValueError(f"similarity: expected 'cosine' or 'dot', got {similarity!r}")
        self.dim = _positive_int(dim, "dim")
        self.kernel_sizes = tuple(_positive_int(k, "kernel_sizes") for k in kernel_sizes)
        self.similarity: Similarity = similarity
        self.blocks = nn.ModuleList(
            TemporalSimilarityBlock(dim, kernel_size=k, heads=heads, attention=attention) for k in self.kernel_sizes
        )

    @property
    def min_frames(self) -> int:
        r"""The fewest frames the model accepts: :math:`1 + \sum_l (k_l - 1)`."""
        return 1 + sum(k - 1 for k in self.kernel_sizes)

    def forward(self, embedding: Tensor) -> S3MOutput:
        """Tokens, maps and waves of every block for ``embedding`` ``(B, D, T)``."""
        check_shape(embedding, TRACE, "embedding", c=self.dim)
        if embedding.shape[-1] < self.min_frames:
            raise ShapeError(
                "embedding",
                TRACE,
                embedding.shape,
                f"T={embedding.shape[-1]} is shorter than {self.min_frames} (kernel_sizes={self.kernel_sizes})",
            )
        tokens, maps, waves = [], [], []
        residual = embedding
        for block in self.blocks:
            residual, z = block(residual)
            ssm = self_similarity_map(z, similarity=self.similarity)
            tokens.append(z)
            maps.append(ssm)
            waves.append(self_similarity_wave(ssm))
        return S3MOutput(tokens, maps, waves)


class SSPDOutput(NamedTuple):
    """What :class:`SSPD` returns.

    Attributes:
        bvp: The predicted rPPG signal ``(B, T)`` (the predictor sees the backbone through a stop-gradient).
        embedding: The backbone embedding :math:`g` ``(B, E, T)``, the spatial mean of the backbone map.
        maps: The S³M self-similarity maps ``(B, T_l, T_l)``, one per TS block (empty without S³M).
        waves: The S³M self-similarity waves ``(B, T_l)``, one per TS block (empty without S³M).
    """

    bvp: Tensor
    embedding: Tensor
    maps: list[Tensor]
    waves: list[Tensor]


class SSPD(nn.Module):
    r"""SSPD's self-similarity-aware network: backbone, predictor and (for training) the S³M (spec §5.2-§5.3).

    ``forward(video)`` returns an :class:`SSPDOutput`: the backbone map :math:`F` (:class:`SSPDBackbone`) is
    averaged spatially into the embedding :math:`g` ``(B, E, T)``, which the S³M
    (:class:`SeparableSelfSimilarityModel`) turns into self-similarity maps and waves; the predictor
    (:class:`SSPDPredictor`) reads :math:`\mathrm{stopgrad}(F)` (SP Fig. 3), so the backbone learns only through the
    S³M's losses and the predictor only through the prediction loss
    (:class:`~rppgblocks.losses.sspd_loss.SSPDLoss`). :meth:`predict` runs the inference path (backbone and
    predictor) only.

    The input is a clip of raw frame differences (see :func:`~rppgblocks.functional.sspd_views.sspd_views`), frames
    at least :data:`MIN_FRAME_SIZE` (122) pixels (SSPD: 128 x 128) and, with the S³M, at least
    :math:`1 + \sum_l (k_l - 1)` frames (19 with the defaults; SSPD trains on 300). With the defaults the network has
    2,954,143 parameters, 786,079 without the S³M (the released inference model; spec §5.2-§5.3).

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    Args:
        in_channels: Input channels (3).
        stem_channels: First conv's channels (8).
        block_channels: Outputs of backbone blocks 1-3 ((16, 32, 64)).
        embed_dim: Backbone output and S³M dimension :math:`E` (256).
        predictor_channels: Predictor's hidden channels (64).
        s3m: Whether to build the S³M (default); ``False`` gives the inference-only network.
        kernel_sizes: S³M time scales ((9, 7, 5)).
        heads: S³M attention heads (2).
        attention: S³M attention, ``"linear"`` (released code, default) or ``"softmax"``.

    Raises:
        ValueError: If an argument is invalid.

    Shape:
        - Input: :math:`(B, C, T, H, W)`, :math:`H, W \ge 122`, :math:`T \ge 2` (:math:`T \ge 19` with the S³M)
        - Output: :class:`SSPDOutput` with ``bvp`` :math:`(B, T)` and ``embedding`` :math:`(B, E, T)`

    Examples:
        >>> import torch
        >>> model = SSPD(stem_channels=2, block_channels=(4, 4, 4), embed_dim=8, predictor_channels=4,
        ...              kernel_sizes=(3, 3))
        >>> out = model(torch.randn(2, 3, 8, 128, 128))
        >>> out.bvp.shape, out.embedding.shape, [tuple(m.shape) for m in out.maps]
        (torch.Size([2, 8]), torch.Size([2, 8, 8]), [(2, 6, 6), (2, 4, 4)])
        >>> model.predict(torch.randn(2, 3, 8, 128, 128)).shape
        torch.Size([2, 8])
        >>> sum(p.numel() for p in SSPD().parameters()), sum(p.numel() for p in SSPD(s3m=False).parameters())
        (2954143, 786079)
    """

    def __init__(
        self,
        *,
        in_channels: int = 3,
        stem_channels: int = 8,
        block_channels: tuple[int, int, int] = (16, 32, 64),
        embed_dim: int = 256,
        predictor_channels: int = 64,
        s3m: bool = True,
        kernel_sizes: tuple[int, ...] = (9, 7, 5),
        heads: int = 2,
        attention: Attention = "linear",
    ) -> None:
        super().__init__()
        self.backbone = SSPDBackbone(
            in_channels=in_channels, stem_channels=stem_channels, block_channels=block_channels, embed_dim=embed_dim
        )
        self.predictor = SSPDPredictor(embed_dim=embed_dim, channels=predictor_channels)
        self.s3m = (
            SeparableSelfSimilarityModel(embed_dim, kernel_sizes=kernel_sizes, heads=heads, attention=attention)
            if s3m
            else None
        )
        self.in_channels = in_channels
        self.embed_dim = embed_dim

    @property
    def min_frames(self) -> int:
        """The fewest frames :meth:`forward` accepts (2, or the S³M's minimum)."""
        return 2 if self.s3m is None else max(2, self.s3m.min_frames)

    def _check_video(self, video: Tensor, min_frames: int) -> None:
        check_shape(video, VIDEO, "video", c=self.in_channels)
        if video.shape[2] < min_frames:
            raise ShapeError("video", VIDEO, video.shape, f"T={video.shape[2]} is shorter than {min_frames} frames")
        _check_frames(video, "video")

    def forward_features(self, video: Tensor) -> Tensor:
        """The backbone map :math:`F` ``(B, E, T, h, w)`` of ``video`` ``(B, C, T, H, W)``."""
        self._check_video(video, 1)
        features: Tensor = self.backbone(video)
        return features

    def predict(self, video: Tensor) -> Tensor:
        """The rPPG signal ``(B, T)`` of ``video`` through the inference path (backbone and predictor only)."""
        self._check_video(video, 2)
        bvp: Tensor = self.predictor(self.backbone(video))
        return bvp

    def forward(self, video: Tensor) -> SSPDOutput:
        """Signal, embedding, and the S³M maps and waves of ``video`` ``(B, C, T, H, W)``."""
        self._check_video(video, self.min_frames)
        features = self.backbone(video)
        bvp = self.predictor(features.detach())
        embedding = reduce(features, "b e t h w -> b e t", "mean")
        if self.s3m is None:
            return SSPDOutput(bvp, embedding, [], [])
        s3m = self.s3m(embedding)
        return SSPDOutput(bvp, embedding, s3m.maps, s3m.waves)


@register_model(
    input_size=(3, 300, 128, 128),
    input_normalization="raw frame differences I[t+1] - I[t] of 0-255 frames (not normalised), 30 fps",
    paper="Zhang et al., IEEE TMM 2024 (SSPD), arXiv 2311.05100; rppgblocks spec §5",
)
def sspd(**overrides: Any) -> SSPD:
    """SSPD's training network on 300-frame 128x128 frame-difference clips, with the S³M (2,954,143 parameters).

    Pass ``s3m=False`` for the 786,079-parameter inference network.

    Examples:
        >>> from rppgblocks.models.sspd import SSPD, sspd
        >>> isinstance(sspd(), SSPD), sspd(s3m=False).s3m is None
        (True, True)
    """
    return SSPD(**overrides)
