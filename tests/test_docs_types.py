"""The code examples of the docs type-check under ``mypy --strict``, as a user's code would."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([*ROOT.glob("docs/**/*.md"), ROOT / "README.md"])
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def snippet_module(page: Path) -> str:
    """Return the ```python blocks of *page* as one module (doctest prompts removed).

    The blocks of a page are one doctest session, so they make one module, in order.
    """
    code: list[str] = []
    for block in _BLOCK.findall(page.read_text(encoding="utf-8")):
        lines = block.splitlines()
        if not any(line.lstrip().startswith(">>>") for line in lines):
            code.extend(lines)  # plain code, not a session
            continue
        for line in lines:
            text = line.lstrip()
            if text.startswith((">>> ", "... ")) or text in (">>>", "..."):
                code.append(text[4:])
    return "\n".join(code) + "\n"


def test_snippet_module_keeps_code_and_drops_output() -> None:
    """Prompts are removed, continuation lines kept, expected output dropped."""
    page = "```python\n>>> x = 1\n>>> for i in range(2):\n...     x += i\n>>> x\n2\n```\n"

    actual = _BLOCK.findall(page)

    assert [
        line.lstrip()[4:] for line in actual[0].splitlines() if line.startswith((">>>", "..."))
    ] == ["x = 1", "for i in range(2):", "    x += i", "x"]


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_docs_examples_pass_mypy_strict(tmp_path: Path) -> None:
    """mypy --strict finds no error in the ```python examples of docs/ and README.md."""
    modules = []
    for page in PAGES:
        text = snippet_module(page)
        if text.strip():
            name = "_".join(page.relative_to(ROOT).with_suffix("").parts).replace("-", "_")
            module = tmp_path / f"{name}.py"
            module.write_text(text, encoding="utf-8")
            modules.append(module)

    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy")]
        + [str(m) for m in modules],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )

    assert len(modules) >= 10
    assert done.returncode == 0, done.stdout + done.stderr
