"""Classical (training-free) rPPG methods: from spatial mean RGB traces to a pulse signal."""

from rppgblocks.classical.pos import DEFAULT_POS_WINDOW_S, POS, pos

__all__ = ["DEFAULT_POS_WINDOW_S", "POS", "pos"]
