"""From a question to a card, in one script-neutral space shared by all three languages.

Two stages, because scoring every example with rapidfuzz costs milliseconds (see matching-notes):
an inverted index of word keys (skeleton, stems, prefix) picks a dozen candidate strings,
then a blend of the query's and the candidate's IDF-weighted coverage and rapidfuzz's token-sort
ratio ranks them. Emergencies are checked before any of it and win over every card.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from bot.content import Knowledge
from bot.language import analyse, guess_language

CANDIDATES = 12
ACCEPT = 39.0  # one card above this (and a clear lead); calibrated on tests/data/eval.yaml
SUGGEST = 33.0  # "did you mean" between this and ACCEPT
LEAD = 1.0  # the best card must lead the second by this much to be answered alone
FUNCTION_WEIGHT = 0.5  # "what", "how", "qalai": a function word weighs half its IDF
CARD_SHARE = 0.35  # weight of the whole card's vocabulary (body included) against its best example
ONE_WORD = 0.75  # the score left to a card that shares only one of a question's topic words
MAX_WORDS = 120  # the beginning of a very long message is enough to match on
SHORT_MESSAGE = 5  # one-word emergency phrases count only in messages this short
SMALLTALK_WORDS = 6
WORD_CACHE = 100_000  # distinct query words remembered per content version
TYPO = 85  # rapidfuzz ratio at which an unknown word is read as a misspelling of a known one
GAP = 2  # other words allowed between the words of an emergency phrase


@dataclass(frozen=True)
class Match:
    lang: str
    confident: bool
    card: str | None
    score: float
    alternatives: tuple[str, ...]
    emergency: str | None = None
    smalltalk: str | None = None


Word = tuple[str, frozenset[str]]


def _prefix(skeleton: str) -> str:
    return "p:" + skeleton[:5] if len(skeleton) > 5 else "w:" + skeleton


@lru_cache(maxsize=65536)
def _keys(skeleton: str, stems: tuple[str, ...]) -> frozenset[str]:
    """One shared key set per distinct word, so a large index holds each set once."""
    return frozenset({"w:" + skeleton, _prefix(skeleton), *("s:" + s for s in stems)})


def words(text: str) -> list[Word]:
    return [(skeleton, _keys(skeleton, stems)) for skeleton, stems in analyse(text)[:MAX_WORDS]]


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
    keys: frozenset[str]  # with the keys of the word it misspells, if any
    weight: float
    meaning: frozenset[int]  # the known words it matches (sharing a word, stem or prefix key)
    topical: bool  # not a function word
    postings: tuple[npt.NDArray[np.int64], ...]
    idf: tuple[float, ...]


def _sum_bits(mask: int, weights: list[float]) -> float:
    total = 0.0
    while mask:
        low = mask & -mask
        total += weights[low.bit_length() - 1]
        mask ^= low
    return total


@dataclass(frozen=True)
class _Phrase:
    kind: str
    words: tuple[frozenset[str], ...]


class Matcher:
    """Built once per content version; matching is read-only and safe to share between tasks."""

    def __init__(self, k: Knowledge) -> None:
        docs: list[_Doc] = []
        vocab_langs: dict[str, set[str]] = defaultdict(set)
        card_keys: dict[str, set[str]] = defaultdict(set)
        df: dict[str, int] = defaultdict(int)  # body lines count too: they teach IDF which words are common
        passages = 0
        for lang in k.languages.values():
            for card in lang.cards.values():
                for text in (card.title, *card.questions, *card.keywords):
                    ws = words(text)
                    for skeleton, keys in ws:
                        vocab_langs[skeleton].add(lang.code)
                        card_keys[card.id] |= keys
                    if ws:
                        docs.append(_Doc(card.id, " ".join(s for s, _ in ws), tuple(keys for _, keys in ws)))
                for paragraph in (card.summary, *card.body.split("\n")):
                    passages += 1
                    ws = words(paragraph)
                    for skeleton, keys in ws:
                        vocab_langs[skeleton].add(lang.code)
                        card_keys[card.id] |= keys
                    for key in frozenset().union(*(keys for _, keys in ws)):
                        df[key] += 1
            lists = [p.phrases for p in (*lang.smalltalk.values(), *lang.emergency.values())]
            for text in (*lang.function_words, *(phrase for phrases in lists for phrase in phrases)):
                for skeleton, _ in words(text):
                    vocab_langs[skeleton].add(lang.code)
        self.function_keys = {
            "w:" + skeleton
            for lang in k.languages.values()
            for text in lang.function_words
            for skeleton, _ in words(text)
        }
        self.vocab = {w: next(iter(langs)) for w, langs in vocab_langs.items() if len(langs) == 1}
        for doc in docs:
            for key in doc.keys:
                df[key] += 1
        n = len(docs) + passages
        self.idf = {key: math.log(1 + n / count) for key, count in df.items()}
        self.unknown_weight = max(self.idf.values(), default=1.0)
        self.docs = docs
        postings: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for key in doc.keys:
                postings[key].append(i)
        self.postings = {key: np.array(ids, dtype=np.int64) for key, ids in postings.items()}
        self.card_keys = {card: frozenset(keys) for card, keys in card_keys.items()}
        vocab: dict[frozenset[str], int] = {}
        key_vocab: dict[str, list[int]] = defaultdict(list)
        for doc in docs:
            for word_keys in doc.word_keys:
                if word_keys not in vocab:
                    vocab[word_keys] = len(vocab)
                    for key in word_keys:
                        key_vocab[key].append(vocab[word_keys])
        self.key_vocab = dict(key_vocab)
        self.vocab_weight = [0.0] * len(vocab)
        for word_keys, v in vocab.items():
            self.vocab_weight[v] = self._weight(word_keys)
        self.doc_words = [tuple(vocab[wk] for wk in doc.word_keys) for doc in docs]
        self.doc_totals = [sum(self.vocab_weight[v] for v in ids) or 1.0 for ids in self.doc_words]
        self.inverse_totals = 1 / np.array(self.doc_totals)
        known: dict[tuple[str, int], list[str]] = defaultdict(list)
        for key in self.idf:
            if key.startswith("w:"):
                known[(key[2], len(key) - 2)].append(key[2:])
        self.known = dict(known)
        self.negations = {s for lang in k.languages.values() for n in lang.negations for s, _ in words(n)}
        self.emergency = _PhraseIndex(
            (kind, p)
            for lang in k.languages.values()
            for kind, lst in lang.emergency.items()
            for p in lst.phrases
        )
        self.smalltalk = _PhraseIndex(
            (kind, p)
            for lang in k.languages.values()
            for kind, lst in lang.smalltalk.items()
            for p in lst.phrases
        )
        self._typo = lru_cache(maxsize=4096)(self._typo_keys)
        self._infos: dict[frozenset[str], _WordInfo] = {}

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
        return frozenset({"w:" + best[0], _prefix(best[0])}) if best else frozenset()

    def _info(self, skeleton: str, word_keys: frozenset[str]) -> _WordInfo:
        """What the index knows of a query word, worked out once per distinct word."""
        info = self._infos.get(word_keys)
        if info is None:
            keys = word_keys if any(k in self.idf for k in word_keys) else word_keys | self._typo(skeleton)
            found = [key for key in keys if key in self.postings]
            info = _WordInfo(
                keys=keys,
                weight=self._weight(keys),
                meaning=frozenset().union(*(self.key_vocab.get(key, ()) for key in keys)),
                topical=keys.isdisjoint(self.function_keys),
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

    def _language(self, text: str, ws: list[Word], chosen: str) -> tuple[str, bool]:
        guess = guess_language(text, (skeleton for skeleton, _ in ws), self.vocab, chosen)
        return (guess.lang if guess.confident else chosen), guess.confident

    def match(self, text: str, chosen: str = "ru") -> Match:
        ws = words(text)
        lang, confident = self._language(text, ws, chosen)
        if kind := self._smalltalk(ws):
            return Match(lang, confident, None, 100.0, (), smalltalk=kind)
        emergency = self._emergency(ws)
        ranked = self.rank(ws)
        if not ranked:
            return Match(lang, confident, None, 0.0, (), emergency)
        (best, score), second = ranked[0], ranked[1][1] if len(ranked) > 1 else 0.0
        if score >= ACCEPT and score - second >= LEAD:
            return Match(lang, confident, best, round(score, 1), (), emergency)
        alternatives = tuple(card for card, s in ranked[:3] if s >= SUGGEST and s >= score - 15)
        return Match(lang, confident, None, round(score, 1), () if emergency else alternatives, emergency)

    def search(self, text: str, chosen: str, limit: int = 10) -> tuple[str, list[str]]:
        """A free search (inline mode): the reply language, and every card that scores, best first."""
        ws = words(text)
        return self._language(text, ws, chosen)[0], [card for card, _ in self.rank(ws)][:limit]

    def rank(self, ws: list[Word]) -> list[tuple[str, float]]:
        """Cards with their best score, best first.

        Stage 1, one bincount over the postings of every key of the query: examples sharing rare
        words, the more keys (word, stem, prefix) the closer. Stage 2, for the best few, exactly: the
        IDF-weighted share of the query they cover, the share of their own words the query covers,
        rapidfuzz's token-sort ratio; best example per card, mixed with how much of the query the
        card's whole vocabulary (body included) covers.
        """
        infos = [self._info(skeleton, keys) for skeleton, keys in ws]
        weights = [info.weight for info in infos]
        total = sum(weights)
        arrays = [array for info in infos for array in info.postings]
        if not total or not arrays:
            return []
        idf = np.repeat([x for info in infos for x in info.idf], [len(a) for a in arrays])
        hits = np.bincount(np.concatenate(arrays), weights=idf, minlength=len(self.docs))
        gathered = hits * (1 / total + self.inverse_totals)  # like q + d: among equals, shorter first
        count = min(CANDIDATES, len(self.docs))
        top = np.argpartition(-gathered, count - 1)[:count] if count < len(self.docs) else np.arange(count)
        query = " ".join(s for s, _ in ws)
        bits: dict[int, int] = {}  # known word -> the query words (as bits) that match it
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
        topical = [info.keys for info in infos if info.topical]
        ranked = []
        for card, score in best.items():
            vocabulary = self.card_keys[card]
            c = sum(info.weight for info in infos if not info.keys.isdisjoint(vocabulary)) / total
            final = 100 * ((1 - CARD_SHARE) * score + CARD_SHARE * c)
            if len(topical) > 1 and sum(not keys.isdisjoint(vocabulary) for keys in topical) < 2:
                final *= ONE_WORD  # one shared word does not win on its own
            ranked.append((card, final))
        return sorted(ranked, key=lambda kv: kv[1], reverse=True)

    def _emergency(self, ws: list[Word]) -> str | None:
        """Self-harm before danger; a one-word phrase counts only in a short message."""
        kinds = {
            phrase.kind
            for _, phrase in self.emergency.find(ws, self.negations)
            if len(phrase.words) > 1 or len(ws) <= SHORT_MESSAGE
        }
        return next((kind for kind in ("self-harm", "danger") if kind in kinds), None)

    def _smalltalk(self, ws: list[Word]) -> str | None:
        """Small talk only when the message is little more than greeting or thanks phrases."""
        if not ws or len(ws) > SMALLTALK_WORDS:
            return None
        covered: set[int] = set()
        kinds = set()
        for start, phrase in self.smalltalk.find(ws, set()):
            covered.update(range(start, start + len(phrase.words)))
            kinds.add(phrase.kind)
        if not kinds or len(ws) - len(covered) > 1:
            return None
        return "thanks" if "thanks" in kinds else "greeting"


class _PhraseIndex:
    """Phrases looked up by the keys of their first word, so a message is checked in a few steps."""

    def __init__(self, phrases: Iterable[tuple[str, str]]) -> None:
        self.first: dict[str, list[_Phrase]] = defaultdict(list)
        self._starting: dict[frozenset[str], tuple[_Phrase, ...]] = {}
        for kind, text in phrases:
            ws = tuple(frozenset(k for k in keys if not k.startswith("p:")) for _, keys in words(text))
            if ws:
                phrase = _Phrase(kind, ws)
                for key in ws[0]:
                    self.first[key].append(phrase)

    def starting(self, keys: frozenset[str]) -> tuple[_Phrase, ...]:
        """The phrases whose first word is this word, worked out once per distinct word."""
        found = self._starting.get(keys)
        if found is None:
            found = tuple({id(p): p for key in keys for p in self.first.get(key, ())}.values())
            if len(self._starting) > WORD_CACHE:
                self._starting.clear()
            self._starting[keys] = found
        return found

    def find(self, ws: list[Word], negations: set[str]) -> list[tuple[int, _Phrase]]:
        """Every (start, phrase) whose words appear in order with at most GAP others between them,
        and whose first word does not follow a negation."""
        found = []
        for start, (_, keys) in enumerate(ws):
            if start and ws[start - 1][0] in negations:
                continue
            for phrase in self.starting(keys):
                if _follows(ws, start, phrase.words[1:], negations):
                    found.append((start, phrase))
        return found


def _follows(ws: list[Word], pos: int, rest: tuple[frozenset[str], ...], negations: set[str]) -> bool:
    """The remaining phrase words follow in order, with at most GAP others between and no negation
    among those ("he is not beating me")."""
    for want in rest:
        for j in range(pos + 1, min(pos + 2 + GAP, len(ws))):
            if ws[j][1] & want:
                pos = j
                break
            if ws[j][0] in negations:
                return False
        else:
            return False
    return True
