"""Danger now, wanting to die, and small talk, found in a message before any card is looked for.

People in danger do not use the words of a phrase list, so the triage looks for cues of several
kinds (an attack under way, a weapon, a threat, someone arriving, being locked in, wanting to
die, a farewell, a means of self-harm, "now") and combines them by the rules below. The cues are
content (`<lang>/emergency.yaml`), all languages at once, because people mix them; they are read
with the same skeleton as everything else, so typos, scripts and endings do not hide them. A cue
right after a negation, or in a message about the past without a sign of "now", does not count.
Recall comes first: a false alarm costs one line before the card, a miss can cost a life.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz import fuzz, process

from bot.content import Knowledge
from bot.language import Word, fold, words

Kind = Literal["danger", "self-harm"]
GAP = 2  # other words allowed between the words of a cue
SHORT = 6  # "help!" alone is an emergency only in a message this short
SMALLTALK_WORDS = 6
CACHE = 100_000

# A rule fires when all of its cue groups are in a message. STRONG rules say "danger now" by
# themselves; the others do too, unless the message speaks of the past or asks for information
# ("what is the punishment for…"), in which case the semantic check must agree.


def _rules(*rules: tuple[Kind, tuple[str, ...]]) -> tuple[tuple[Kind, frozenset[str]], ...]:
    return tuple((kind, frozenset(groups)) for kind, groups in rules)


STRONG = _rules(
    ("self-harm", ("suicidal",)),  # a wish to die is never overruled
    ("self-harm", ("selfharm", "now")),
    ("self-harm", ("farewell",)),
    ("danger", ("attack", "now")),
    ("danger", ("trapped", "now")),
    ("danger", ("hurt",)),
    ("danger", ("weapon", "now")),
    ("danger", ("weapon", "arriving")),
    ("danger", ("threat", "now")),
    ("danger", ("threat", "arriving")),
)
RULES = STRONG + _rules(
    ("self-harm", ("selfharm",)),
    ("self-harm", ("means", "intent")),
    ("self-harm", ("means", "now")),
    ("danger", ("attack",)),
    ("danger", ("threat",)),
    ("danger", ("trapped",)),
    ("danger", ("weapon", "fear")),
    ("danger", ("weapon", "help")),
    ("danger", ("weapon", "child")),
    ("danger", ("weapon", "attack")),
    ("danger", ("arriving", "fear")),
    ("danger", ("arriving", "now")),
    ("danger", ("help", "fear")),
    ("danger", ("help", "child", "now")),
    ("danger", ("fear", "now", "child")),
)
# Groups that hint at an emergency without saying it: with one of them, a clear semantic verdict is enough.
HINTS = frozenset(
    {
        "weapon",
        "means",
        "help",
        "fear",
        "arriving",
        "threat",
        "suicidal",
        "attack",
        "trapped",
        "selfharm",
        "topic",
    }
)
VETOES = frozenset({"past", "info", "negated"})
# A negated cue of these ("I don't want to die, I want my rights") marks the clause `negated`.
DENIABLE = frozenset({"attack", "threat", "trapped", "suicidal", "selfharm", "hurt", "weapon"})
ALARMING = DENIABLE | {"arriving", "help", "fear", "farewell", "means"}
TIME = frozenset({"now", "past", "info"})
_CLAUSE = re.compile(r"[.!?;,\n()]+")
EXACT = frozenset({"farewell"})  # "forgive me, everyone" is a farewell, "she should forgive him" is not
KEY_MIN = 4  # a stem shorter than this ("ub") joins unrelated words across languages


DISAGREE = -0.02  # a rule without "now" is overruled when the safe examples are nearer by this
SEMANTIC_MARGIN = 0.0  # with a hint: nearer an emergency example than any safe one
SEMANTIC_ALONE = 0.01  # without any cue: nearer by this, and
SEMANTIC_FLOOR = 0.885  # at least this close (e5 cosines of unrelated texts are 0.80-0.87)
TYPO = 84  # rapidfuzz ratio at which an unknown word is read as a misspelt cue word
GLUED = 18  # a "word" this long is probably several typed without spaces


@dataclass(frozen=True)
class _Cue:
    group: str
    words: tuple[frozenset[str], ...]
    glued: str  # its skeleton without spaces, for messages typed without them


@dataclass(frozen=True)
class Finding:
    """What the triage saw: the kinds of emergency (most urgent first) and the cue groups found."""

    kinds: tuple[Kind, ...]
    groups: frozenset[str]

    @property
    def kind(self) -> Kind | None:
        return self.kinds[0] if self.kinds else None


def cue_keys(keys: frozenset[str]) -> frozenset[str]:
    """The word and its Kazakh stem only: prefixes and Snowball stems would let "violence" find
    "violates" (Russian "nasilie", "nasiluet") and "this heat is killing me" find "kill me"."""
    return frozenset(k for k in keys if k.startswith("w:") or (k.startswith("k:") and len(k) - 2 >= KEY_MIN))


class PhraseIndex:
    """Phrases looked up by the keys of their first word, so a message is checked in a few steps."""

    def __init__(self, phrases: Iterable[tuple[str, str]]) -> None:
        self._first: dict[str, list[_Cue]] = defaultdict(list)
        self._starting: dict[frozenset[str], tuple[_Cue, ...]] = {}
        self.cues: list[_Cue] = []
        for group, text in phrases:
            ws = words(text)
            if ws:
                # a farewell matches its very words (or a typo of them), not every word of their stems
                exact = group in EXACT
                keyed = tuple(frozenset({"w:" + s}) if exact else cue_keys(keys) for s, keys in ws)
                cue = _Cue(group, keyed, fold("".join(s for s, _ in ws)))
                self.cues.append(cue)
                for key in cue.words[0]:
                    self._first[key].append(cue)
        self.vocabulary = {key[2:] for key in self._first if key.startswith("w:")}
        self.vocabulary |= {
            k[2:] for cue in self.cues for word in cue.words for k in word if k.startswith("w:")
        }

    def _starting_with(self, keys: frozenset[str]) -> tuple[_Cue, ...]:
        found = self._starting.get(keys)
        if found is None:
            found = tuple({id(c): c for key in keys for c in self._first.get(key, ())}.values())
            if len(self._starting) > CACHE:
                self._starting.clear()
            self._starting[keys] = found
        return found

    def find(
        self, ws: list[Word], before: frozenset[str], after: frozenset[str] = frozenset()
    ) -> list[tuple[int, int, _Cue]]:
        """Every (start, end, cue) whose words appear in order with at most GAP others between,
        not right after a negation, not with one inside, and not followed by one (Kazakh "urip jatkan jok", "is not beating")."""
        found = []
        for start, (_, keys) in enumerate(ws):
            if start and ws[start - 1][0] in before:
                continue
            for cue in self._starting_with(keys):
                end = _follows(ws, start, cue.words[1:], before)
                if end is not None and not (end + 1 < len(ws) and ws[end + 1][0] in after):
                    found.append((start, end, cue))
        return found

    def glued(self, ws: list[Word]) -> set[str]:
        """Groups of the cues inside words typed without spaces ("idontwanttolive")."""
        long = [s for s, _ in ws if len(s) >= GLUED]
        return {cue.group for text in long for cue in self.cues if len(cue.glued) >= 6 and cue.glued in text}


def _follows(
    ws: list[Word], pos: int, rest: tuple[frozenset[str], ...], negations: frozenset[str]
) -> int | None:
    """Where the remaining words of a cue end, each within GAP words of the last, or None."""
    for want in rest:
        for j in range(pos + 1, min(pos + 2 + GAP, len(ws))):
            if ws[j][1] & want:
                pos = j
                break
            if ws[j][0] in negations:
                return None
        else:
            return None
    return pos


def _single(texts: Iterable[str]) -> frozenset[str]:
    """Skeletons of one-word entries (a negation list is words, not phrases)."""
    found = [words(t) for t in texts]
    return frozenset(ws[0][0] for ws in found if len(ws) == 1)


class Triage:
    """Built once per content version from every language's cues; read-only afterwards."""

    def __init__(self, k: Knowledge) -> None:
        langs = list(k.languages.values())
        self.cues = PhraseIndex((g, p) for lang in langs for g, ps in lang.cues.groups.items() for p in ps)
        self.markers = PhraseIndex(
            [("past", p) for lang in langs for p in lang.cues.past]
            + [("info", p) for lang in langs for p in lang.cues.info]
        )
        self.before = _single(n for lang in langs for n in lang.cues.negations)
        self.after = _single(n for lang in langs for n in lang.cues.negations_after)
        self.smalltalk = PhraseIndex(
            (kind, p) for lang in langs for kind, pl in lang.smalltalk.items() for p in pl.phrases
        )
        self.turns = frozenset(fold(t) for lang in langs for t in lang.cues.turns)
        # "but", not "now": a clause it opens that says only "now" is the calm after the story
        nows = {fold(p) for lang in langs for p in lang.cues.groups.get("now", ())}
        self.contrasts = self.turns - nows
        self._typos = lru_cache(maxsize=8192)(self._typo)

    def _typo(self, skeleton: str) -> frozenset[str]:
        """The keys of the cue word a misspelt word most likely is ("surgm" for "surgim")."""
        if len(skeleton) < 5 or skeleton in self.cues.vocabulary:
            return frozenset()
        # a typo seldom changes the first letter; in a short word, nor the last ("proshat", to forgive, is not "proshai", farewell)
        near = [
            w
            for w in self.cues.vocabulary
            if w[0] == skeleton[0] and abs(len(w) - len(skeleton)) <= 2 and w[-1] == skeleton[-1]
        ]
        best = process.extractOne(skeleton, near, scorer=fuzz.ratio, score_cutoff=TYPO)
        return frozenset({"w:" + best[0]}) if best else frozenset()

    def _read(self, ws: list[Word]) -> list[Word]:
        return [(s, cue_keys(keys) | self._typos(s)) for s, keys in ws]

    def _clause(self, ws: list[Word]) -> set[str]:
        read = self._read(ws)
        found = {cue.group for _, _, cue in self.cues.find(read, self.before, self.after)}
        if self.before & {s for s, _ in ws} or self.after & {s for s, _ in ws}:
            denied = {cue.group for _, _, cue in self.cues.find(read, frozenset())} - found
            found |= {"negated"} if denied & DENIABLE else set()
        found |= self.cues.glued(ws)
        return found | {cue.group for _, _, cue in self.markers.find(read, frozenset())}

    def groups(self, text: str) -> frozenset[str]:
        """The cue groups of a message, clause by clause: the cues of a clause about the past
        ("he used to beat me, now we are divorced") do not count, only `past` is kept."""
        found: set[str] = set()
        for clause in self._clauses(text):
            groups = self._clause(words(clause))
            if "past" in groups and "now" not in groups:
                groups = {g for g in groups if g in TIME}
            if fold(clause.split()[0]) in self.contrasts and not groups & ALARMING:
                groups.discard("now")  # "he threatens to kill me when angry, but now he is calm"
            found |= groups
        if "now" in found:
            found.discard("past")
        return frozenset(found)

    def _clauses(self, text: str) -> list[str]:
        """Sentences and clauses: split at punctuation and at words that turn a story ("but", "however")."""
        out = []
        for part in _CLAUSE.split(text):
            ws = part.split()
            start = 0
            for i, w in enumerate(ws):
                # the turning word opens the next clause; "but" keeps its clause to the next stop
                if i > start and fold(w) in self.turns and fold(ws[start]) not in self.contrasts:
                    out.append(" ".join(ws[start:i]))
                    start = i
            out.append(" ".join(ws[start:]))
        return [c for c in out if c.strip()]

    def assess(
        self, text: str, semantic: Mapping[str, float] | None = None, groups: frozenset[str] | None = None
    ) -> Finding:
        """Emergency or not. A strong rule decides alone; another rule decides unless the semantic
        check clearly disagrees, or, when the message asks for information, unless it does not
        agree; without any rule, a clear semantic verdict (nearer the emergency examples than the
        safe ones) decides, unless the message is negated, past or a question for information.
        Without the semantic layer every rule decides: recall first."""
        groups = self.groups(text) if groups is None else groups
        strong = [kind for kind, needed in STRONG if needed <= groups]
        fired = [kind for kind, needed in RULES if needed <= groups]
        if "help" in groups and self._cry_for_help(text):
            fired.append("danger")
        verdict = nearest(semantic)
        margin = _margin(semantic)
        if strong:
            kinds = strong + fired
        elif fired and (semantic is None or (verdict is not None if groups & VETOES else margin > DISAGREE)):
            kinds = fired
        elif (
            semantic is not None
            and verdict is not None
            and not groups & VETOES  # meaning is read without "not", "a month ago" or "what is the penalty"
            and _clear(semantic, verdict, bool(groups & HINTS))
        ):
            kinds, groups = [verdict], groups | {"semantic"}
        else:
            kinds = []
        order: tuple[Kind, ...] = ("self-harm", "danger")
        return Finding(tuple(kind for kind in order if kind in kinds), groups)

    def _cry_for_help(self, text: str) -> bool:
        """ "Help!" alone: a short message that is mostly a call for help, not "free psychological help"."""
        ws = words(text)
        if not ws or len(ws) > SHORT:
            return False
        covered = {
            i
            for start, end, cue in self.cues.find(self._read(ws), self.before)
            if cue.group in ("help", "now", "fear")
            for i in range(start, end + 1)
        }
        return 2 * len(covered) >= len(ws)

    def small_talk(self, ws: list[Word]) -> str | None:
        """Greeting, thanks or a wish to erase the chat, when the message is little more than that."""
        if not ws or len(ws) > SMALLTALK_WORDS:
            return None
        covered: set[int] = set()
        kinds = set()
        for start, end, cue in self.smalltalk.find(ws, frozenset()):
            covered.update(range(start, end + 1))
            kinds.add(cue.group)
        if not kinds or len(ws) - len(covered) > 1:
            return None
        return next(kind for kind in ("erase", "thanks", "greeting") if kind in kinds)


def nearest(semantic: Mapping[str, float] | None) -> Kind | None:
    """The emergency kind whose examples are nearer the message than any safe example, if any."""
    if not semantic:
        return None
    safe = semantic.get("none", -1.0)
    best: Kind | None = None
    for kind in ("self-harm", "danger"):
        if semantic.get(kind, -1.0) > safe and (best is None or semantic[kind] > semantic[best]):
            best = kind
    return best


def _margin(semantic: Mapping[str, float] | None) -> float:
    """How much nearer the nearest emergency example is than the nearest safe one."""
    if not semantic:
        return 0.0
    return max(semantic.get("danger", -1.0), semantic.get("self-harm", -1.0)) - semantic.get("none", -1.0)


def _clear(semantic: Mapping[str, float], kind: Kind, hinted: bool) -> bool:
    margin = semantic[kind] - semantic.get("none", -1.0)
    if hinted:
        return margin >= SEMANTIC_MARGIN
    return margin >= SEMANTIC_ALONE and semantic[kind] >= SEMANTIC_FLOOR
