"""README.md's Python example runs and its claims about the commands stay true."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_python_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks, "README.md has no python example"
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    assert tuple(namespace["bvp"].shape) == (2, 128)  # type: ignore[attr-defined]
    assert tuple(namespace["hr_bpm"].shape) == (2,)  # type: ignore[attr-defined]
    assert "from rppgblocks import CTFC" in blocks[0] or "import CTFC" in blocks[0]


def test_the_two_commands_are_documented() -> None:
    assert "python examples/train_vipl.py\n" in README
    assert "python -m pytest\n" in README
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert "python -m pytest\n" in ci  # CI runs README's test command
