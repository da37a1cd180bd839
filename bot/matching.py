"""The lexical ranker: from a message to scored cards, in one script-neutral space for all languages.

Two stages, because scoring every example with rapidfuzz costs milliseconds (see matching-notes):
an inverted index of word keys (skeleton, stems, prefix) picks a dozen candidate examples, then
a blend of the message's and the example's IDF-weighted coverage and rapidfuzz's token-sort ratio
ranks them, mixed with how much of the message the card's whole vocabulary covers. What to show
is decided elsewhere (`understanding`), from these scores and the semantic ones.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from bot.content import Card, Knowledge
from bot.language import Word, prefix_key, words

CANDIDATES = 16
FUNCTION_WEIGHT = 0.5  # "what", "how", "qalai": a function word weighs half its IDF
CARD_SHARE = 0.35  # weight of the whole card's vocabulary (body included) against its best example
ONE_WORD = 0.75  # the score left to a card that shares only one of a message's topic words
WORD_CACHE = 100_000  # distinct message words remembered per content version
TYPO = 85  # rapidfuzz ratio at which an unknown word is read as a misspelling of a known one


@dataclass(frozen=True)
class _Doc:
    card: str
    text: str
    word_keys: tuple[frozenset[str], ...]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset().union(*self.word_keys)


@dataclass(frozen=True)
class _WordInfo:
    """What the index knows of one message word, worked out once per distinct word."""

    keys: frozenset[str]  # with the keys of the word it misspells, if any
    weight: float
    meaning: frozenset[int]  # the known words it matches (sharing a word, stem or prefix key)
    topical: bool  # neither a function word nor unknown
    known: bool
    postings: tuple[npt.NDArray[np.int64], ...]
    idf: tuple[float, ...]


@dataclass(frozen=True)
class Ranking:
    """Cards with their lexical score (0-100), best first, and how much of the message is known."""

    scores: tuple[tuple[str, float], ...]
    known: float  # share of the message's weight that the content's vocabulary knows
    topical_words: int

    def score(self, card: str) -> float:
        return dict(self.scores).get(card, 0.0)


def _sum_bits(mask: int, weights: list[float]) -> float:
    total = 0.0
    while mask:
        low = mask & -mask
        total += weights[low.bit_length() - 1]
        mask ^= low
    return total


def _texts(card: Card) -> Iterator[str]:
    yield card.title
    yield from card.questions
    yield from card.keywords


def _passages(card: Card) -> Iterator[str]:
    """Body and details lines: they teach IDF which words are common, and fill the card's vocabulary."""
    yield card.summary
    yield from card.body.split("\n")
    yield from card.details.split("\n")


class Matcher:
    """Built once per content version in named steps; ranking is read-only and safe to share."""

    def __init__(self, k: Knowledge) -> None:
        # a function word's stems too: "menu" must not match the Kazakh "meni" ("me") through its stem
        self.function_keys = frozenset(
            key
            for lang in k.languages.values()
            for text in lang.function_words
            for _, keys in words(text)
            for key in keys
            if not key.startswith("p:")
        )
        self.docs, self.card_keys, passage_df, passages = self._examples(k)
        self.idf = self._idf(passage_df, passages)
        self.unknown_weight = max(self.idf.values(), default=1.0)
        self.postings = self._postings()
        self._vocabulary()
        self.known = self._known_words()
        self._typo = lru_cache(maxsize=4096)(self._typo_keys)
        self._infos: dict[frozenset[str], _WordInfo] = {}

    def _examples(self, k: Knowledge) -> tuple[list[_Doc], dict[str, frozenset[str]], dict[str, int], int]:
        """Step 1: every title, question and keyword as a document; body lines only counted."""
        docs: list[_Doc] = []
        card_keys: dict[str, set[str]] = defaultdict(set)
        df: dict[str, int] = defaultdict(int)
        passages = 0
        for lang in k.languages.values():
            for card in lang.cards.values():
                for text in _texts(card):
                    ws = words(text)
                    if ws:
                        docs.append(_Doc(card.id, " ".join(s for s, _ in ws), tuple(keys for _, keys in ws)))
                        card_keys[card.id].update(*(keys for _, keys in ws))
                for paragraph in _passages(card):
                    ws = words(paragraph)
                    passages += 1
                    card_keys[card.id].update(*(keys for _, keys in ws))
                    for key in frozenset().union(*(keys for _, keys in ws)):
                        df[key] += 1
        return docs, {c: frozenset(keys) for c, keys in card_keys.items()}, df, passages

    def _idf(self, df: dict[str, int], passages: int) -> dict[str, float]:
        """Step 2: inverse document frequency over examples and body lines together."""
        for doc in self.docs:
            for key in doc.keys:
                df[key] = df.get(key, 0) + 1
        n = len(self.docs) + passages
        return {key: math.log(1 + n / count) for key, count in df.items()}

    def _postings(self) -> dict[str, npt.NDArray[np.int64]]:
        """Step 3: for every key, the examples that hold it."""
        postings: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(self.docs):
            for key in doc.keys:
                postings[key].append(i)
        return {key: np.array(ids, dtype=np.int64) for key, ids in postings.items()}

    def _vocabulary(self) -> None:
        """Step 4: example words as vocabulary ids with one weight table (memory and speed)."""
        vocab: dict[frozenset[str], int] = {}
        key_vocab: dict[str, list[int]] = defaultdict(list)
        for doc in self.docs:
            for word_keys in doc.word_keys:
                if word_keys not in vocab:
                    vocab[word_keys] = len(vocab)
                    for key in word_keys:
                        key_vocab[key].append(vocab[word_keys])
        self.key_vocab = dict(key_vocab)
        self.vocab_weight = [0.0] * len(vocab)
        for word_keys, v in vocab.items():
            self.vocab_weight[v] = self._weight(word_keys)
        self.doc_words = [tuple(vocab[wk] for wk in doc.word_keys) for doc in self.docs]
        self.doc_totals = [sum(self.vocab_weight[v] for v in ids) or 1.0 for ids in self.doc_words]
        self.inverse_totals = 1 / np.array(self.doc_totals or [1.0])

    def _known_words(self) -> dict[tuple[str, int], list[str]]:
        """Step 5: known words by first letter and length, where misspellings are looked up."""
        known: dict[tuple[str, int], list[str]] = defaultdict(list)
        for key in self.idf:
            if key.startswith("w:") and len(key) > 2:
                known[(key[2], len(key) - 2)].append(key[2:])
        return dict(known)

    def _typo_keys(self, skeleton: str) -> frozenset[str]:
        """Keys of the known word a misspelt word most likely meant, or none."""
        if len(skeleton) < 5:
            return frozenset()
        near = [  # a misspelling seldom changes the first letter, or the length by more than two
            word
            for size in range(len(skeleton) - 2, len(skeleton) + 3)
            for word in self.known.get((skeleton[0], size), ())
        ]
        best = process.extractOne(skeleton, near, scorer=fuzz.ratio, score_cutoff=TYPO)
        return frozenset({"w:" + best[0], prefix_key(best[0])}) if best else frozenset()

    def _info(self, skeleton: str, word_keys: frozenset[str]) -> _WordInfo:
        info = self._infos.get(word_keys)
        if info is None:
            known = any(k in self.idf for k in word_keys)
            keys = word_keys if known else word_keys | self._typo(skeleton)
            found = [key for key in keys if key in self.postings]
            info = _WordInfo(
                keys=keys,
                weight=self._weight(keys),
                meaning=frozenset().union(*(self.key_vocab.get(key, ()) for key in keys)),
                topical=keys.isdisjoint(self.function_keys) and bool(found),
                known=known or keys != word_keys,
                postings=tuple(self.postings[key] for key in found),
                idf=tuple(self.idf[key] for key in found),
            )
            if len(self._infos) > WORD_CACHE:
                self._infos.clear()
            self._infos[word_keys] = info
        return info

    def _weight(self, keys: frozenset[str]) -> float:
        """A word's information: its rarest key; a word no card knows counts as fairly rare, because
        a question about something else (a visa, a recipe) must not match on its small words."""
        known = [self.idf[key] for key in keys if key in self.idf]
        weight = max(known) if known else self.unknown_weight
        return weight * FUNCTION_WEIGHT if not keys.isdisjoint(self.function_keys) else weight

    def rank(self, ws: list[Word]) -> Ranking:
        """Cards with their best score, best first.

        Stage 1, one bincount over the postings of every key of the message: examples sharing rare
        words, the more keys (word, stem, prefix) the closer. Stage 2, for the best few, exactly:
        the IDF-weighted share of the message they cover, the share of their own words the message
        covers, rapidfuzz's token-sort ratio; best example per card, mixed with how much of the
        message the card's whole vocabulary (body included) covers.
        """
        infos = [self._info(skeleton, keys) for skeleton, keys in ws]
        weights = [info.weight for info in infos]
        total = sum(weights)
        arrays = [array for info in infos for array in info.postings]
        known = sum(w for w, info in zip(weights, infos, strict=True) if info.known) / total if total else 0.0
        topical = [info.keys for info in infos if info.topical]
        if not total or not arrays:
            return Ranking((), known, len(topical))
        best = self._candidates(ws, infos, weights, total, arrays)
        ranked = []
        for card, score in best.items():
            vocabulary = self.card_keys[card]
            c = sum(info.weight for info in infos if not info.keys.isdisjoint(vocabulary)) / total
            final = 100 * ((1 - CARD_SHARE) * score + CARD_SHARE * c)
            if len(topical) > 1 and sum(not keys.isdisjoint(vocabulary) for keys in topical) < 2:
                final *= ONE_WORD  # one shared word does not win on its own
            ranked.append((card, final))
        return Ranking(tuple(sorted(ranked, key=lambda kv: kv[1], reverse=True)), known, len(topical))

    def _candidates(
        self,
        ws: list[Word],
        infos: list[_WordInfo],
        weights: list[float],
        total: float,
        arrays: list[npt.NDArray[np.int64]],
    ) -> dict[str, float]:
        idf = np.repeat([x for info in infos for x in info.idf], [len(a) for a in arrays])
        hits = np.bincount(np.concatenate(arrays), weights=idf, minlength=len(self.docs))
        gathered = hits * (1 / total + self.inverse_totals)  # like q + d: among equals, shorter first
        count = min(CANDIDATES, len(self.docs))
        top = np.argpartition(-gathered, count - 1)[:count] if count < len(self.docs) else np.arange(count)
        query = " ".join(s for s, _ in ws)
        bits: dict[int, int] = {}  # known word -> the message words (as bits) that match it
        for n, info in enumerate(infos):
            for v in info.meaning:
                bits[v] = bits.get(v, 0) | 1 << n
        best: dict[str, float] = {}
        for i in top.tolist():
            covered, own = 0, 0.0
            for v in self.doc_words[i]:
                if v in bits:
                    covered |= bits[v]
                    own += self.vocab_weight[v]
            if not own:
                continue
            q, d = _sum_bits(covered, weights) / total, own / self.doc_totals[i]
            doc = self.docs[i]
            score = 0.5 * min(q, d) + 0.3 * max(q, d) + 0.2 * fuzz.token_sort_ratio(query, doc.text) / 100
            if score > best.get(doc.card, 0.0):
                best[doc.card] = score
        return best

    def clear_caches(self) -> None:
        self._infos.clear()
        self._typo.cache_clear()
