#!/usr/bin/env python3
"""Writes tests/botapi/methods.json, the Bot API method table the test stand-in checks calls against.

Source: ../shared/telegram-bot-api/api.json (relative to the project root). Output format:
{"version": "Bot API x.y", "methods": {"sendMessage": {"chat_id": [["Integer", "String"], true], ...}}}
Usage: python scripts/api_table.py [path/to/api.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "telegram-bot-api" / "api.json"
TARGET = ROOT / "tests" / "botapi" / "methods.json"


def build_table(api: dict[str, Any]) -> dict[str, Any]:
    """Reduces the full API description to {method: {parameter: [types, required]}}."""
    methods = {
        name: {field["name"]: [field["types"], bool(field["required"])] for field in spec.get("fields", [])}
        for name, spec in api["methods"].items()
    }
    return {"version": api["version"], "methods": methods}


def render(table: dict[str, Any]) -> str:
    """One method per line, keys sorted, so that diffs between API versions stay readable."""
    lines = [
        f"    {json.dumps(name)}: {json.dumps(params, sort_keys=True, ensure_ascii=False)}"
        for name, params in sorted(table["methods"].items())
    ]
    header = f'{{\n  "version": {json.dumps(table["version"])},\n  "methods": {{\n'
    return header + ",\n".join(lines) + "\n  }\n}\n"


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else SOURCE
    table = build_table(json.loads(source.read_text(encoding="utf-8")))
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(render(table), encoding="utf-8")
    print(f"{TARGET.relative_to(ROOT)}: {table['version']}, {len(table['methods'])} methods")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
