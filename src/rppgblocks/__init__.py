"""rppgblocks: PyTorch building blocks for remote photoplethysmography (rPPG)."""

from rppgblocks._version import __version__

__all__ = ["__version__"]
