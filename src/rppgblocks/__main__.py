"""``python -m rppgblocks``: the command line, see :func:`rppgblocks.cli.main`."""

from __future__ import annotations

from rppgblocks.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main())
