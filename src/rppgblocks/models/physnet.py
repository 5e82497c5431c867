"""PhysNet: the 3D-CNN encoder-decoder that maps a face clip to its BVP signal.

Source: Yu, Li, Zhao, "Remote photoplethysmograph signal measurement from facial videos using spatio-temporal
networks", BMVC 2019 (the ``PhysNet_padding_Encoder_Decoder_MAX`` variant that rPPG-Toolbox ships); layer table and
stage definition in the rppgblocks spec ``architectures.md`` §1. Rewritten from that description.

Stages (spec §1): stem = conv 1x5x5 + spatial max-pool (H/2); stage 1 = two 3x3x3 convs at (T, H/2); stage 2 =
spatio-temporal max-pool + two convs at (T/2, H/4); stage 3 = the same at (T/4, H/8); stage 4 = spatial max-pool +
two convs at (T/4, H/16); decoder = two temporal transposed convs (T/4 -> T), spatial average, 1x1x1 conv to one
channel. The stage outputs M1, M2, M3 are where rFaceNet's CTFC can be inserted.
"""

from __future__ import annotations

from typing import Any

from einops import rearrange, reduce
from torch import Tensor, nn

from rppgblocks._checks import check_shape
from rppgblocks.errors import ShapeError
from rppgblocks.layout import FEATURES, VIDEO
from rppgblocks.models._registry import register_model
from rppgblocks.models.convert import convert_rppg_toolbox_physnet, is_rppg_toolbox_physnet_state_dict

__all__ = ["PhysNet", "physnet"]

_N_STAGES = 4


def _conv_block(
    in_channels: int, out_channels: int, kernel: tuple[int, int, int], padding: tuple[int, int, int]
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, kernel, stride=1, padding=padding),
        nn.BatchNorm3d(out_channels),
        nn.ReLU(inplace=True),
    )


def _up_block(channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose3d(channels, channels, kernel_size=(4, 1, 1), stride=(2, 1, 1), padding=(1, 0, 0)),
        nn.BatchNorm3d(channels),
        nn.ELU(inplace=True),
    )


def _load_rppg_toolbox_keys(
    module: nn.Module,
    state_dict: dict[str, Any],
    prefix: str,
    local_metadata: dict[str, Any],
    strict: bool,
    missing_keys: list[str],
    unexpected_keys: list[str],
    error_msgs: list[str],
) -> None:
    """Load-state-dict pre-hook: rename this PhysNet's entries in rPPG-Toolbox naming to ours, in place.

    ``state_dict`` is the private copy that ``load_state_dict`` hands to the hooks; only keys under ``prefix`` (this
    module's path inside the model being loaded) are looked at.
    """
    local = {key[len(prefix) :]: key for key in state_dict if key.startswith(prefix)}
    if not is_rppg_toolbox_physnet_state_dict(local):
        return
    name = f"state_dict (keys under {prefix!r})" if prefix else "state_dict"
    try:
        converted = convert_rppg_toolbox_physnet({key: state_dict[full] for key, full in local.items()}, model=module)
    except ValueError as error:
        raise ValueError(str(error).replace("state_dict", name, 1)) from None
    for full in local.values():
        del state_dict[full]
    state_dict.update({prefix + key: value for key, value in converted.items()})


class PhysNet(nn.Module):
    r"""PhysNet (BMVC 2019) with its stages exposed, so blocks such as the CTFC can be inserted after any stage.

    ``forward(video)`` returns the BVP ``(B, T)``. For composition, :meth:`forward_until` runs the stem and stages
    ``1..k`` and returns :math:`M_k`; :meth:`forward_from` continues from a (possibly modified) :math:`M_k` to the BVP;
    :meth:`forward_intermediates` returns the BVP and every stage output.

    With the defaults it has 768,577 parameters, the original's count (spec §1). As in the original, every
    convolution before a BatchNorm has a bias; BatchNorm cancels it, so in training mode its gradient is zero (the
    biases are kept so that rPPG-Toolbox checkpoints load unchanged). The clip length must be divisible by 4 (two
    temporal poolings, undone by the decoder) and the frames at least 16 x 16 pixels.

    Autograd, ``torch.compile`` and ``torch.export`` supported.

    rPPG-Toolbox checkpoints load directly: :meth:`load_state_dict` also accepts a state dict in the toolbox's naming
    (``ConvBlock1.0.weight``, ..., ``upsample2.*``, ``ConvBlock10.*``, with or without the ``module.`` prefix of
    ``nn.DataParallel``), recognised by its ``ConvBlock1.`` keys and converted by
    :func:`~rppgblocks.models.convert_rppg_toolbox_physnet`. This also works where PhysNet is a submodule
    (``rfacenet.physnet.load_state_dict(toolbox_state)``, or ``physnet.ConvBlock1...`` keys in a full state dict).
    A toolbox state dict is always checked as a whole, whatever ``strict`` says: a missing or left-over key or a
    wrong shape raises ``ValueError`` listing every problem. The two networks then give the same BVP (the toolbox
    network's first output); :func:`~rppgblocks.models.load_rppg_toolbox_physnet` reads a checkpoint file.

    Args:
        in_channels: Input channels (3 for RGB).
        width: Channels of stages 1-4 and the decoder (64 in the paper).
        stem_channels: Channels of the stem (16 in the paper).
        stage1_mid_channels: Channels of stage 1's first conv (32 in the paper).

    Raises:
        ValueError: If a channel count is not a positive integer.

    Shape:
        - Input: :math:`(B, C, T, H, W)`, :math:`T \bmod 4 = 0`, :math:`H, W \ge 16`
        - Output: :math:`(B, T)`
        - :math:`M_1`: :math:`(B, w, T, H/2, W/2)`; :math:`M_2`: :math:`(B, w, T/2, H/4, W/4)`;
          :math:`M_3`: :math:`(B, w, T/4, H/8, W/8)`; :math:`M_4`: :math:`(B, w, T/4, H/16, W/16)` (floored)

    Examples:
        >>> import torch
        >>> model = PhysNet().eval()
        >>> model(torch.rand(1, 3, 32, 32, 32)).shape
        torch.Size([1, 32])
        >>> sum(p.numel() for p in model.parameters())
        768577
        >>> model.forward_until(torch.rand(1, 3, 32, 32, 32), stage=3).shape
        torch.Size([1, 64, 8, 4, 4])
        >>> from rppgblocks.models.convert import to_rppg_toolbox_physnet
        >>> toolbox_state = to_rppg_toolbox_physnet(model.state_dict())  # keys as rPPG-Toolbox saves them
        >>> next(iter(toolbox_state))
        'ConvBlock1.0.weight'
        >>> model.load_state_dict(toolbox_state)
        <All keys matched successfully>
    """

    def __init__(
        self, *, in_channels: int = 3, width: int = 64, stem_channels: int = 16, stage1_mid_channels: int = 32
    ) -> None:
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("width", width),
            ("stem_channels", stem_channels),
            ("stage1_mid_channels", stage1_mid_channels),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        self.in_channels = in_channels
        self.width = width
        spatial_pool = (1, 2, 2)
        self.stem = nn.Sequential(
            _conv_block(in_channels, stem_channels, (1, 5, 5), (0, 2, 2)),
            nn.MaxPool3d(spatial_pool, stride=spatial_pool),
        )
        self.stage1 = nn.Sequential(
            _conv_block(stem_channels, stage1_mid_channels, (3, 3, 3), (1, 1, 1)),
            _conv_block(stage1_mid_channels, width, (3, 3, 3), (1, 1, 1)),
        )
        self.stage2 = nn.Sequential(
            nn.MaxPool3d(2, stride=2),
            _conv_block(width, width, (3, 3, 3), (1, 1, 1)),
            _conv_block(width, width, (3, 3, 3), (1, 1, 1)),
        )
        self.stage3 = nn.Sequential(
            nn.MaxPool3d(2, stride=2),
            _conv_block(width, width, (3, 3, 3), (1, 1, 1)),
            _conv_block(width, width, (3, 3, 3), (1, 1, 1)),
        )
        self.stage4 = nn.Sequential(
            nn.MaxPool3d(spatial_pool, stride=spatial_pool),
            _conv_block(width, width, (3, 3, 3), (1, 1, 1)),
            _conv_block(width, width, (3, 3, 3), (1, 1, 1)),
        )
        self.decoder = nn.Sequential(_up_block(width), _up_block(width))
        self.head = nn.Conv3d(width, 1, kernel_size=1)
        # Accept rPPG-Toolbox state dicts in load_state_dict (the private method also exists in torch < 2.4, where
        # the public register_load_state_dict_pre_hook does not).
        self._register_load_state_dict_pre_hook(_load_rppg_toolbox_keys, with_module=True)  # type: ignore[no-untyped-call]

    @property
    def stages(self) -> tuple[nn.Module, ...]:
        """The four encoder stages, in order."""
        return (self.stage1, self.stage2, self.stage3, self.stage4)

    def stage_channels(self, stage: int) -> int:
        """Channels of :math:`M_k`, the output of stage ``stage`` (1-4)."""
        self._check_stage(stage)
        return self.width

    def _check_stage(self, stage: int) -> None:
        if isinstance(stage, bool) or not isinstance(stage, int) or not 1 <= stage <= _N_STAGES:
            raise ValueError(f"stage: expected an integer in 1..{_N_STAGES}, got {stage!r}")

    def _check_video(self, video: Tensor) -> None:
        check_shape(video, VIDEO, "video", c=self.in_channels)
        _, _, frames, height, width = video.shape
        if frames % 4 != 0 or frames == 0:
            raise ShapeError("video", VIDEO, video.shape, f"T={frames} must be a positive multiple of 4")
        if height < 16 or width < 16:
            raise ShapeError("video", VIDEO, video.shape, f"H, W must be >= 16, got {height}x{width}")

    def forward_until(self, video: Tensor, stage: int) -> Tensor:
        """Run the stem and stages ``1..stage``; return :math:`M_{stage}` ``(B, width, T', H', W')``."""
        self._check_stage(stage)
        self._check_video(video)
        x: Tensor = self.stem(video)
        for module in self.stages[:stage]:
            x = module(x)
        return x

    def forward_from(self, features: Tensor, stage: int) -> Tensor:
        """Continue from :math:`M_{stage}` (after stage ``stage``, 1-4) to the BVP ``(B, T)``."""
        self._check_stage(stage)
        check_shape(features, FEATURES, "features", c=self.width)
        x = features
        for module in self.stages[stage:]:
            x = module(x)
        return self._decode(x)

    def _decode(self, x: Tensor) -> Tensor:
        x = self.decoder(x)
        x = reduce(x, "b c t h w -> b c t 1 1", "mean")
        bvp: Tensor = rearrange(self.head(x), "b 1 t 1 1 -> b t")
        return bvp

    def forward_intermediates(self, video: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Return the BVP ``(B, T)`` and the stage outputs ``[M1, M2, M3, M4]``."""
        self._check_video(video)
        x = self.stem(video)
        intermediates = []
        for module in self.stages:
            x = module(x)
            intermediates.append(x)
        return self._decode(x), intermediates

    def forward(self, video: Tensor) -> Tensor:
        """Predict the BVP ``(B, T)`` of ``video`` ``(B, C, T, H, W)``."""
        self._check_video(video)
        x = self.stem(video)
        for module in self.stages:
            x = module(x)
        return self._decode(x)


@register_model(
    input_size=(3, 128, 72, 72),
    input_normalization="DiffNormalized (rPPG-Toolbox), 30 fps",
    paper="Yu et al., BMVC 2019; rPPG-Toolbox's PhysNet configuration",
)
def physnet(**overrides: Any) -> PhysNet:
    """PhysNet as rPPG-Toolbox trains it: 128-frame 72x72 DiffNormalized clips at 30 fps (768,577 parameters).

    Examples:
        >>> from rppgblocks.models import create_model
        >>> create_model("physnet").width
        64
    """
    return PhysNet(**overrides)
