"""A YAML file read with `yaml.safe_load` semantics and the line of every key kept, so that every
mistake can be reported as file, line and a way to fix it, never as a traceback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import process

from bot.content import Problem

Lines = dict[tuple[str, ...], int]


def _walk(node: yaml.Node, path: tuple[str, ...], lines: Lines, dup: list[tuple[str, int]]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                dup.append((name, key.start_mark.line + 1))
            seen.add(name)
            _walk(value, (*path, name), lines, dup)
            lines[(*path, name)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, str(i)), lines, dup)


class YamlDoc:
    """One parsed file: its data, the line of every key, and the problems found in it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: Any = None
        self.lines: Lines = {}
        self.problems: list[Problem] = []
        try:
            text = path.read_text(encoding="utf-8")
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            if node is not None:
                dup: list[tuple[str, int]] = []
                _walk(node, (), self.lines, dup)
                for name, line in dup:
                    self.add(line, f"'{name}' appears twice; keep one")
                self.data = yaml.SafeLoader(text).get_single_data()
        except UnicodeDecodeError:
            self.add(1, "the file is not UTF-8 text; save it as UTF-8")
        except yaml.MarkedYAMLError as e:
            start, found = e.context_mark, e.problem_mark
            first = start or found
            line = first.line + 1 if first else 1
            where = (
                f" (noticed at line {found.line + 1})" if start and found and found.line != start.line else ""
            )
            what = " ".join(str(x) for x in (e.context, e.problem) if x)
            hint = "indent with spaces, not tabs" if "\\t" in what else "check indentation, colons and quotes"
            self.add(line, f"YAML syntax error: {what}{where}; {hint}")
        except yaml.YAMLError as e:
            self.add(1, f"YAML error: {e}")
        except OSError as e:
            self.add(1, f"cannot read the file: {e.strerror}")

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self, *path: str) -> int:
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return 1

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def mapping(self, *path: str) -> dict[str, Any] | None:
        value: Any = self.data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, dict):
            return value
        what = f"'{path[-1]}'" if path else "the file"
        self.add(self.line(*path), f"{what} must be a set of 'key: value' lines")
        return None


def _typename(t: type | tuple[type, ...]) -> str:
    names = {
        str: "text",
        list: "a list",
        bool: "true or false",
        dt.date: "a date like 2026-01-31",
        dict: "keys",
    }
    ts = t if isinstance(t, tuple) else (t,)
    return " or ".join(names.get(x, x.__name__) for x in ts)


def check_fields(
    doc: YamlDoc, data: dict[str, Any], spec: Mapping[str, tuple[type, bool]], where: tuple[str, ...] = ()
) -> bool:
    """Check keys against a spec {key: (type, required)}; report unknown, missing, empty and mistyped."""
    good = True
    for key in data:
        if key not in spec:
            guess = process.extractOne(str(key), list(spec), score_cutoff=60)
            hint = f"did you mean '{guess[0]}'?" if guess else f"allowed keys: {', '.join(spec)}"
            doc.add(doc.line(*where, str(key)), f"unknown key '{key}': {hint}")
            good = False
    for key, (kind, required) in spec.items():
        value = data.get(key)
        if value is None or (isinstance(value, str | list | dict) and not value):
            if required:
                doc.add(doc.line(*where, key), f"'{key}' is missing or empty: add it ({_typename(kind)})")
                good = False
            continue
        if not isinstance(value, kind) or (kind is dt.date and isinstance(value, dt.datetime)):
            doc.add(doc.line(*where, key), f"'{key}' must be {_typename(kind)}, not {type(value).__name__}")
            good = False
        elif isinstance(value, list) and key != "sources":
            for i, item in enumerate(value):
                where_item = doc.line(*where, key, str(i))
                if isinstance(item, bool):  # yes, no, on, off: YAML reads them as true/false
                    doc.add(where_item, f"item {i + 1} of '{key}' reads as yes/no: put it in quotes")
                    good = False
                elif not isinstance(item, str | int | float):
                    doc.add(where_item, f"item {i + 1} of '{key}' must be one line of text")
                    good = False
    return good


def texts(value: Any) -> tuple[str, ...]:
    return tuple(str(v).strip() for v in value or () if str(v).strip())
