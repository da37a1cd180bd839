"""Rules of the design that a refactoring must not break."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
CORE = (
    "content",
    "yamldoc",
    "reading",
    "validation",
    "language",
    "matching",
    "replies",
    "terminal",
    "figures",
    "store",
    "bench",
)


def imported(module: str) -> set[str]:
    tree = ast.parse((BOT / f"{module}.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_modules_never_import_telegram() -> None:
    for module in CORE:
        if (BOT / f"{module}.py").exists():
            assert "telegram" not in imported(module), module


def test_asking_does_not_load_telegram() -> None:
    code = "import sys; from bot.__main__ import main; main(['ask', 'hello']); assert 'telegram' not in sys.modules"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_no_sentence_for_people_in_python() -> None:
    """Content is data: user-facing text lives in content/, so Python has no Cyrillic outside the
    transliteration tables of language.py."""
    for path in BOT.glob("*.py"):
        if path.name == "language.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not any("\u0400" <= ch <= "\u04ff" for ch in text if ch not in "ёәғқңөұүһіч"), path.name
