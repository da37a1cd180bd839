"""Rules of the design that a refactoring must not break: imports point one way, from the Telegram
edge down to plain data, counting imports inside functions; the core never imports Telegram."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
# From plain data (bottom) to the Telegram edge and the command line (top). A module may import
# only modules of lower layers.
LAYERS = [
    {"content"},
    {"yamldoc", "language", "messages", "links", "store", "config"},
    {"reading", "triage", "semantic", "matching", "figures", "posters", "numberwords", "logs"},
    {"validation", "understanding"},
    {"replies"},
    {"state", "terminal", "bench"},
    {"delivery"},
    {"handlers", "webhook"},
    {"admin"},
    {"app"},
    {"__main__"},
]
EDGE = {"delivery", "webhook", "handlers", "admin", "app", "__main__"}
LAYER = {name: n for n, layer in enumerate(LAYERS) for name in layer}


def imports(module: str) -> set[str]:
    """Every module this one imports, at the top or inside a function."""
    tree = ast.parse((BOT / f"{module}.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "bot":
                names |= {f"bot.{a.name}" for a in node.names}
    return names


def test_every_module_has_a_layer() -> None:
    modules = {p.stem for p in BOT.glob("*.py")} - {"__init__"}
    assert modules == set(LAYER), modules ^ set(LAYER)


def test_imports_point_down() -> None:
    upward = [
        f"{module} (layer {LAYER[module]}) imports {name} (layer {LAYER[name[4:]]})"
        for module in LAYER
        for name in imports(module)
        if name.startswith("bot.") and name[4:] in LAYER and LAYER[name[4:]] >= LAYER[module]
    ]
    assert not upward, upward


def test_core_modules_never_import_telegram() -> None:
    for module in set(LAYER) - EDGE:
        assert not any(n.split(".")[0] == "telegram" for n in imports(module)), module


def test_asking_and_validating_do_not_load_telegram() -> None:
    code = (
        "import sys; from bot.__main__ import main; main(['validate']); main(['ask', 'hello']); "
        "assert 'telegram' not in sys.modules, 'telegram'"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_validating_does_not_load_the_reader() -> None:
    code = "import sys; import bot.validation; assert not {'bot.matching', 'numpy'} & set(sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_no_sentence_for_people_in_python() -> None:
    """Content is data: user-facing text lives in content/, so Python has no Cyrillic outside the
    transliteration tables of language.py and semantic.py."""
    for path in BOT.glob("*.py"):
        if path.name in ("language.py", "semantic.py"):
            continue
        text = path.read_text(encoding="utf-8")
        assert not any("\u0400" <= ch <= "\u04ff" for ch in text if ch not in "ёәғқңөұүһіч"), path.name
