"""Command line: `python -m bot validate|preview|coverage|ask|chat|run|bench|links|stats|unmatched`.

Editors use validate, preview, coverage and ask; nothing here prints a traceback at them. The
commands that do not serve Telegram never import it (a test guards that).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from bot.config import SettingError, Settings
from bot.content import DEFAULT_CONTENT, LANGS, ContentError, Knowledge
from bot.reading import read
from bot.validation import coverage, lengths, load, validate

if TYPE_CHECKING:
    from bot.store import Store
    from bot.understanding import Understander


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


def _reader(k: Knowledge) -> Understander:
    from bot.semantic import load_embedder
    from bot.understanding import Understander

    return Understander(k, load_embedder())


def validate_command(args: argparse.Namespace) -> int:
    """List every problem as path:line: message, or one summary line."""
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


def preview_command(args: argparse.Namespace) -> int:
    """A card as Telegram receives it (HTML) and as a person sees it, with its first-screen length;
    it works while other files still have mistakes, and lists this card's own problems."""
    from bot.messages import VISIBLE, plain_view, render_card, visible

    draft = read(args.content)
    k = Knowledge(
        draft.root, MappingProxyType(draft.contacts), MappingProxyType(draft.languages), draft.paths
    )
    langs = [args.lang] if args.lang else list(LANGS)
    found = [lang for lang in langs if args.card in draft.languages[lang].cards]
    if not found:
        print(
            f"no readable card '{args.card}' in {', '.join(langs)}; run `validate` to see why",
            file=sys.stderr,
        )
        return 2
    for lang in found:
        card = k.card(args.card, lang)
        try:
            html = render_card(k, card)
        except KeyError as e:  # a contact or interface string not written yet
            print(f"{card.path}: cannot show it yet: {e} is missing", file=sys.stderr)
            continue
        print(f"===== {args.card} [{lang}] as Telegram receives it (HTML, {len(html)} characters)")
        print(html)
        print(
            f"===== {args.card} [{lang}] as a person sees it (first screen {len(visible(html))} of {VISIBLE})"
        )
        print(plain_view(html))
        print()
    every = dict.fromkeys([*validate(draft), *lengths(draft, dt.date.today())])  # lengths even if others fail
    own = [p for p in every if p.path.stem == args.card and p.path.parent.parent.name in found]
    for problem in own:
        print(problem)
    return 1 if own else 0


def coverage_command(args: argparse.Namespace) -> int:
    """A table of cards × languages: ok, missing, stale."""
    rows = coverage(read(args.content))
    width = max((len(cid) for cid, _ in rows), default=10)
    print(f"{'card':<{width}}  " + "  ".join(f"{code:<7}" for code in LANGS))
    for cid, states in rows:
        print(f"{cid:<{width}}  " + "  ".join(f"{states.get(code, 'missing'):<7}" for code in LANGS))
    gaps = sum(1 for _, states in rows for s in states.values() if s != "ok")
    print(f"{len(rows)} cards, {gaps} gap(s).")
    return 1 if gaps else 0


def ask_command(args: argparse.Namespace) -> int:
    """What the bot would show for each question: one line (or JSON object) per question, in order."""
    from bot.replies import answer

    k = _knowledge(args.content)
    reader = _reader(k)
    questions = args.question or (line.rstrip("\n") for line in sys.stdin)
    for question in questions:
        reply = answer(k, reader, question, args.lang)
        u = reply.understanding
        assert u is not None
        main = reply.card if reply.kind in ("card", "emergency") else None
        others = [] if main else list(reply.cards)
        if args.json:
            row = {
                "question": question,
                "lang": reply.lang,
                "card": main,
                "score": u.score,
                "alternatives": others,
                "emergency": u.emergency[0] if u.emergency else None,
                "cards": list(reply.cards),
            }
            print(json.dumps(row, ensure_ascii=False))
            continue
        shown = ", ".join(reply.cards) or "-"
        alarm = f"EMERGENCY {'+'.join(u.emergency)} then " if u.emergency else ""
        print(f"[{reply.lang}] {u.score:5.1f}  {alarm}{reply.kind}: {shown}  <- {question}")
    sys.stdout.flush()
    return 0


def chat_command(args: argparse.Namespace) -> int:
    """The Telegram conversation in this terminal."""
    from bot.terminal import chat

    k = _knowledge(args.content)
    return chat(k, _reader(k), args.lang)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingError as e:
        print(f"cannot start: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def run_command(args: argparse.Namespace) -> int:
    """Serve Telegram (polling, or webhook when WEBHOOK_URL is set)."""
    from bot.app import configure_logging, run
    from bot.semantic import load_embedder

    settings = _settings()
    if not settings.token:
        print(
            "TELEGRAM_BOT_TOKEN is not set: put it in .env (see .env.example), or try `python -m bot chat`.",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings.log_level)
    knowledge = _knowledge(args.content)
    return run(settings, knowledge, args.content, load_embedder() if settings.semantic else None)


def bench_command(args: argparse.Namespace) -> int:
    """Accuracy, latency and memory of this matcher against the baselines, in one run."""
    from bot.bench import main

    return main(args.content)


def links_command(args: argparse.Namespace) -> int:
    """Deep links of the bot and of every card, per language; with --qr, print-ready posters."""
    from bot.links import links

    k = _knowledge(args.content)
    try:
        found = links(k, args.bot.lstrip("@"), [args.lang] if args.lang else LANGS, args.campaign or "")
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    for link in found:
        print(f"{link.lang}  {link.card or '-':<28} {link.url}")
    if args.qr:
        from bot.posters import write_posters

        files = [path for link in found for path in write_posters(k, link, args.qr, args.org or "")]
        print(f"{len(files)} poster files (A4 and A5, PDF and SVG) in {args.qr}")
    return 0


def _store(args: argparse.Namespace) -> Store | None:
    from bot.store import Store

    path = args.data / "bot.sqlite3"
    if not path.exists():
        print(f"no bot data yet in {args.data} (the bot has not run there; set BOT_DATA_DIR or --data)")
        return None
    return Store(path)


def stats_command(args: argparse.Namespace) -> int:
    """Anonymous counts by card, language, outcome and campaign; counts under 5 shown as <5."""
    from bot.figures import csv_text, table
    from bot.store import shown

    store = _store(args)
    if store is None:
        return 0
    rows = table(store.counts(args.since))
    if args.csv:
        args.csv.write_text(csv_text(rows), encoding="utf-8")
    if not rows:
        print("no questions counted yet")
    else:
        print(f"{'card':<28} {'lang':<4} {'outcome':<12} {'campaign':<16} count")
    for card, lang, outcome, campaign, count in rows:
        print(f"{card:<28} {lang:<4} {outcome:<12} {campaign:<16} {count:>5}")
    dead = store.dead_numbers(args.since)
    if dead:
        print("\nnumbers reported as not answering:")
        for contact, n in dead.items():
            print(f"  {contact:<26} {shown(n):>5}")
    return 0


def unmatched_command(args: argparse.Namespace) -> int:
    """Kept questions that found no card (only with BOT_KEEP_UNMATCHED=1), grouped by similarity."""
    from bot.figures import group_similar

    store = _store(args)
    if store is None:
        return 0
    texts = store.unmatched()
    if not texts:
        keeping = os.environ.get("BOT_KEEP_UNMATCHED") == "1"
        print(
            "no unanswered questions kept"
            + ("" if keeping else " (BOT_KEEP_UNMATCHED=1 switches keeping on)")
        )
    for group in group_similar(texts):
        print(f"{len(group):>3} × {group[0]}")
        for other in group[1:4]:
            print(f"        {other}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "--content", type=Path, default=DEFAULT_CONTENT, help="content folder (default: ./content)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help=validate_command.__doc__)
    p.add_argument("content_dir", nargs="?", type=Path)
    p.set_defaults(func=validate_command)
    p = sub.add_parser("preview", help=preview_command.__doc__)
    p.add_argument("card", help="a card id, e.g. battery")
    p.add_argument("--lang", choices=LANGS)
    p.set_defaults(func=preview_command)
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
    sub.add_parser("bench", help=bench_command.__doc__).set_defaults(func=bench_command)
    p = sub.add_parser("links", help=links_command.__doc__)
    p.add_argument("--bot", required=True, help="the bot's username, without @")
    p.add_argument("--lang", choices=LANGS)
    p.add_argument("--campaign", help="a tag of 1-20 letters, digits or '-' (counted in stats)")
    p.add_argument("--qr", type=Path, help="write posters (A4 and A5, PDF and SVG) into this folder")
    p.add_argument("--org", help="the organisation's name, printed on the posters")
    p.set_defaults(func=links_command)
    data = Path(os.environ.get("BOT_DATA_DIR", "data"))
    for name, func in (("stats", stats_command), ("unmatched", unmatched_command)):
        p = sub.add_parser(name, help=func.__doc__)
        p.add_argument(
            "--data", type=Path, default=data, help="the bot's data folder, BOT_DATA_DIR (default ./data)"
        )
        if name == "stats":
            p.add_argument("--since", type=dt.date.fromisoformat, help="first day, YYYY-MM-DD")
            p.add_argument("--csv", type=Path, help="also write the table as CSV")
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
