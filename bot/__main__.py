"""Command line: `python -m bot validate|coverage|ask|chat|run|bench|links|stats|unmatched`.

Editors use validate, coverage and ask; nothing here prints a traceback at them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.content import DEFAULT_CONTENT, LANGS, ContentError, Knowledge, load, read


def _knowledge(root: Path) -> Knowledge:
    try:
        return load(root)
    except ContentError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        print(
            f"{len(e.problems)} problem(s): run `python -m bot validate` after fixing them.", file=sys.stderr
        )
        raise SystemExit(1) from None


def validate_command(args: argparse.Namespace) -> int:
    """List every problem as path:line: message, or one summary line."""
    from bot.validation import validate

    draft = read(args.content)
    problems = validate(draft)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found; nothing was loaded.", file=sys.stderr)
        return 1
    cards = sum(len(lang.cards) for lang in draft.languages.values())
    print(f"OK: {cards} cards in {len(draft.languages)} languages, {len(draft.contacts)} contacts.")
    return 0


def coverage_command(args: argparse.Namespace) -> int:
    """A table of cards × languages: ok, missing, stale."""
    from bot.validation import coverage

    draft = read(args.content)
    rows = coverage(draft)
    width = max((len(cid) for cid, _ in rows), default=10)
    print(f"{'card':<{width}}  " + "  ".join(f"{code:<7}" for code in LANGS))
    for cid, states in rows:
        print(f"{cid:<{width}}  " + "  ".join(f"{states.get(code, 'missing'):<7}" for code in LANGS))
    gaps = sum(1 for _, states in rows for s in states.values() if s != "ok")
    print(f"{len(rows)} cards, {gaps} gap(s).")
    return 1 if gaps else 0


def ask_command(args: argparse.Namespace) -> int:
    """Which card each question finds: one line (or JSON object) per question, in order."""
    from bot.matching import Matcher

    matcher = Matcher(_knowledge(args.content))
    questions = args.question or (line.rstrip("\n") for line in sys.stdin)
    for question in questions:
        m = matcher.match(question, args.lang)
        if args.json:
            print(
                json.dumps(
                    {
                        "question": question,
                        "lang": m.lang,
                        "card": m.card,
                        "score": m.score,
                        "alternatives": list(m.alternatives),
                        "emergency": m.emergency,
                    },
                    ensure_ascii=False,
                ),
                flush=False,
            )
        else:
            found = (
                (m.emergency and f"EMERGENCY {m.emergency}")
                or m.card
                or (
                    f"did you mean {', '.join(m.alternatives)}"
                    if m.alternatives
                    else m.smalltalk or "no card"
                )
            )
            print(f"[{m.lang}] {m.score:5.1f}  {found}  <- {question}")
    sys.stdout.flush()
    return 0


def chat_command(args: argparse.Namespace) -> int:
    """The Telegram conversation in this terminal."""
    from bot.terminal import chat

    return chat(_knowledge(args.content), args.lang)


def run_command(args: argparse.Namespace) -> int:
    """Serve Telegram (polling, or webhook when WEBHOOK_URL is set)."""
    from bot.app import Settings, run

    settings = Settings.from_env()
    if not settings.token:
        print(
            "TELEGRAM_BOT_TOKEN is not set: put it in .env (see .env.example), or try `python -m bot chat`.",
            file=sys.stderr,
        )
        return 2
    return run(settings, _knowledge(args.content), args.content)


def bench_command(args: argparse.Namespace) -> int:
    """Accuracy, latency and memory of this matcher against the baselines."""
    from bot.bench import main

    return main(args.content, args.scale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "--content", type=Path, default=DEFAULT_CONTENT, help="content folder (default: ./content)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help=validate_command.__doc__)
    p.add_argument("content_dir", nargs="?", type=Path)
    p.set_defaults(func=validate_command)
    sub.add_parser("coverage", help=coverage_command.__doc__).set_defaults(func=coverage_command)
    p = sub.add_parser("ask", help=ask_command.__doc__)
    p.add_argument("--lang", choices=LANGS, default="ru", help="the person's chosen language")
    p.add_argument("--json", action="store_true", help="one JSON object per question")
    p.add_argument("question", nargs="*")
    p.set_defaults(func=ask_command)
    p = sub.add_parser("chat", help=chat_command.__doc__)
    p.add_argument("--lang", choices=LANGS, default="ru")
    p.set_defaults(func=chat_command)
    sub.add_parser("run", help=run_command.__doc__).set_defaults(func=run_command)
    p = sub.add_parser("bench", help=bench_command.__doc__)
    p.add_argument("--scale", type=int, nargs="*", default=[10, 100])
    p.set_defaults(func=bench_command)
    args = parser.parse_args(argv)
    if getattr(args, "content_dir", None):
        args.content = args.content_dir
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
