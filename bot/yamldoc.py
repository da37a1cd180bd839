"""A YAML file read with `yaml.safe_load` semantics and the line of every key kept, so that every
mistake can be reported as file, line and a way to fix it, in an editor's words, never as a
traceback. PyYAML often notices a mistake lines after it was made (an unclosed quote swallows
the following lines), so syntax errors are traced back to the line that causes them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import process

from bot.content import Problem

Lines = dict[tuple[str, ...], int]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml when the wheel has it (ten times faster); a date that does not exist (2026-13-01)
    stays text, so the field check can say where it is instead of the parser failing."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> object:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)
Spec = Mapping[str, tuple[type, bool]]  # {key: (type, required)}

_OPENS_QUOTE = re.compile(r"""^\s*(?:-\s+|[\w.-]+:\s+)(["'])(.*)$""")


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


def _unclosed_quote(text: str, until: int) -> int | None:
    """The first line (1-based) before `until` whose value opens a quote it never closes."""
    for n, line in enumerate(text.splitlines()[:until], 1):
        found = _OPENS_QUOTE.match(line)
        if not found:
            continue
        quote, rest = found.groups()
        rest = rest.split(" #")[0].rstrip()
        closed = rest.replace(quote * 2, "") if quote == "'" else rest.replace('\\"', "")
        if not closed.endswith(quote) or closed.count(quote) % 2 == 0:
            return n
    return None


def syntax_problem(text: str, error: yaml.MarkedYAMLError) -> tuple[int, str]:
    """Where a YAML syntax mistake was made, and how to fix it, in plain words."""
    mark, context = error.problem_mark, error.context_mark
    noticed = mark.line + 1 if mark else 1
    started = context.line + 1 if context else noticed
    problem = str(error.problem or "")
    rows = text.splitlines()
    if "\t" in (rows[noticed - 1] if 0 < noticed <= len(rows) else "") or "'\\t'" in problem:
        return noticed, "this line is indented with a tab: indent with spaces, not tabs"
    quoted = _unclosed_quote(text, noticed)
    if "quoted scalar" in str(error.context or "") or (quoted and quoted < noticed):
        line = quoted or started
        return line, "a text on this line opens a quote (\" or ') that is not closed: add the closing quote"
    if "mapping values are not allowed" in problem:
        return noticed, "': ' inside a text: put the whole text in double quotes, like title: \"A: B\""
    if "flow sequence" in str(error.context or ""):
        return started, "a list opened with '[' is not closed with ']': close it on the same line"
    if "could not find expected ':'" in problem:
        return started, "this line is neither 'key: value' nor indented under a key: indent it, or add ':'"
    if "expected <block end>" in problem:
        return noticed, (
            "this line does not line up with the lines above: give it the same indentation as the "
            "other keys (list items and text two spaces more), or put a text with quotes inside in "
            "single quotes"
        )
    return noticed, f"the file cannot be read as YAML here ({problem}): check indentation, colons and quotes"


class YamlDoc:
    """One parsed file: its data, the line of every key, and the problems found in it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: Any = None
        self.lines: Lines = {}
        self.problems: list[Problem] = []
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.add(1, "the file is not UTF-8 text; save it as UTF-8")
            return
        except OSError as e:
            self.add(1, f"cannot read the file: {e.strerror}")
            return
        loader = _Loader(text)
        try:
            node = loader.get_single_node()  # parsed once: the node gives the lines, then the data
            if node is not None:
                dup: list[tuple[str, int]] = []
                _walk(node, (), self.lines, dup)
                for name, line in dup:
                    self.add(line, f"'{name}' appears twice; keep one")
                self.data = loader.construct_document(node)
        except yaml.MarkedYAMLError as e:
            self.add(*syntax_problem(text, e))
        except yaml.YAMLError as e:
            self.add(1, f"the file cannot be read as YAML: {e}")
        finally:
            loader.dispose()

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
        if self.data is None and self.problems:  # unreadable: the syntax problem says it all
            return None
        what = f"'{path[-1]}'" if path else "the file"
        self.add(self.line(*path), f"{what} must be a set of 'key: value' lines")
        return None


def suggest(word: str, choices: Iterable[str]) -> str:
    """ "did you mean 'x'?" for a near miss, else the list of what is allowed."""
    options = list(choices)
    guess = process.extractOne(word, options, score_cutoff=60)
    return f"did you mean '{guess[0]}'?" if guess else f"use one of {', '.join(options)}"


_KINDS = {str: "text", list: "a list", bool: "true or false", dt.date: "a date like 2026-01-31", dict: "keys"}


def _expected(kind: type) -> str:
    return _KINDS.get(kind, kind.__name__)


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a set of keys"
    if isinstance(value, bool):
        return "yes/no"
    return f"'{value}'"


def _items_ok(doc: YamlDoc, key: str, items: list[Any], where: tuple[str, ...]) -> bool:
    good = True
    for i, item in enumerate(items):
        line = doc.line(*where, key, str(i))
        if isinstance(item, bool):  # yes, no, on, off: YAML reads them as true/false
            doc.add(line, f"item {i + 1} of '{key}' reads as yes/no: put it in quotes")
            good = False
        elif not isinstance(item, str | int | float):
            doc.add(line, f"item {i + 1} of '{key}' must be one line of text")
            good = False
    return good


def check_fields(doc: YamlDoc, data: dict[str, Any], spec: Spec, where: tuple[str, ...] = ()) -> bool:
    """Check keys against a spec; report every unknown, missing, empty and mistyped one."""
    good = True
    for key in data:
        if key not in spec:
            doc.add(doc.line(*where, str(key)), f"unknown key '{key}': {suggest(str(key), spec)}")
            good = False
    for key, (kind, required) in spec.items():
        value = data.get(key)
        if value is None or (isinstance(value, str | list | dict) and not value):
            if required:
                doc.add(doc.line(*where, key), f"'{key}' is missing or empty: add it ({_expected(kind)})")
                good = False
            continue
        if not isinstance(value, kind) or (kind is dt.date and isinstance(value, dt.datetime)):
            doc.add(doc.line(*where, key), f"'{key}' must be {_expected(kind)}; {_shown(value)} is not")
            good = False
        elif isinstance(value, list) and key != "sources":
            good = _items_ok(doc, key, value, where) and good
    return good


def texts(value: Any) -> tuple[str, ...]:
    return tuple(str(v).strip() for v in value or () if str(v).strip())
