"""Text into one script-neutral skeleton, light stemming, and a guess at the writer's language.

Kazakh and Russian are typed in Cyrillic, in the 2021 and older Latin alphabets and in informal
translit; guessing Cyrillic back from Latin is ambiguous, so everything is folded forward into one
lossy ASCII skeleton instead («Қалай» = «Калай» = "Qalai" = "kalai"), cards and questions alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import Stemmer
from babel import negotiate_locale

from bot.content import LANGS

FALLBACK_LANG = "ru"  # the language most people in Kazakhstan read, when nothing else is known
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]")
_KAZAKH_CYRILLIC = re.compile(r"[әғқңөұүһі]")
_KAZAKH_LATIN = re.compile(r"[äğñöūüışáǵńóúýq]")
_LATIN = re.compile(r"[a-z]")
_MIXED_WORD = re.compile(r"\w*[а-яё]\w*")
_LOOKALIKES = str.maketrans("aeopcxykmthib", "аеорсхукмтнів")

_TO_SKELETON = str.maketrans(
    {
        **dict(zip("әғқңөұүһі", "agknouuhi", strict=True)),
        **dict(zip("абвгдезиклмнопрстуфыэ", "abvgdeziklmnoprstufie", strict=True)),
        "ё": "e",
        "й": "i",
        "ъ": None,
        "ь": None,
        "ж": "j",
        "х": "h",
        "ц": "c",
        "ч": "ч",
        "ш": "sh",
        "щ": "sh",
        "ю": "iu",
        "я": "ia",
        "ä": "a",
        "á": "a",
        "ğ": "g",
        "ǵ": "g",
        "ñ": "n",
        "ń": "n",
        "ö": "o",
        "ó": "o",
        "ū": "u",
        "ü": "u",
        "ú": "u",
        "ý": "u",
        "ı": "i",
        "ş": "sh",
        "ç": "ch",
        "q": "k",
        "y": "i",
        "w": "u",
        "x": "h",
        "'": None,
        "’": None,
        "`": None,
        "ʼ": None,
    }
)
_LATIN_FOLDS = [("shch", "sh"), ("sch", "sh"), ("zh", "j"), ("kh", "h"), ("ts", "c"), ("ch", "ч"), ("c", "k")]
_NON_WORD = re.compile(r"[^a-z0-9ч]+")
_REPEATS = re.compile(r"([a-z])\1+")
_COMBINING = re.compile(r"[\u0300-\u036f]")
_WORDS = re.compile(r"[\w'’ʼ`]+")

_STEMMERS = {"ru": Stemmer.Stemmer("russian"), "en": Stemmer.Stemmer("english")}

# Kazakh suffixes on the skeleton, longest first; stripped at most twice, keeping a stem of 3+ letters.
_KK_ENDINGS = (
    "lar ler dar der tar ter nin din tin ga ge ka ke na ne ni di ti da de ta te nda nde dan den tan ten nan nen "
    "men ben pen imiz iniz miz niz im in si gan gen kan ken atin etin ip ap ep u i"
)
_KK_SUFFIXES = sorted(_KK_ENDINGS.split(), key=len, reverse=True)
_KK_BY_SIZE = {
    size: frozenset(s for s in _KK_SUFFIXES if len(s) == size) for size in {len(s) for s in _KK_SUFFIXES}
}
_KK_SIZES = sorted(_KK_BY_SIZE, reverse=True)


def fold(text: str) -> str:
    """The skeleton of a text: ASCII words separated by single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if _CYRILLIC.search(text):
        text = _MIXED_WORD.sub(lambda m: m.group().translate(_LOOKALIKES), text)
    text = text.translate(_TO_SKELETON)
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    for old, new in _LATIN_FOLDS:
        text = text.replace(old, new)
    text = _NON_WORD.sub(" ", text.replace("ч", "ch"))
    return _REPEATS.sub(r"\1", text).strip()


def kazakh_stem(word: str) -> str:
    """Strip up to two Kazakh case, plural or possessive endings from a skeleton word."""
    for _ in range(2):
        for size in _KK_SIZES:
            if word[-size:] in _KK_BY_SIZE[size] and len(word) - size >= 3:
                word = word[:-size]
                break
        else:
            break
    return word


@lru_cache(maxsize=65536)
def _word_keys(word: str) -> tuple[str, tuple[str, ...]]:
    """A word's skeleton and its stem keys: `s:` Snowball in the word's own script, `k:` Kazakh
    endings stripped from the skeleton. Both are kept because Kazakh typed without its letters
    looks Russian to a script test; they are told apart because only the Kazakh one is safe for
    the emergency cues (Snowball joins "насилие" to "насилует" and "killing" to "kill")."""
    skeleton = fold(word).replace(" ", "")
    keys = {"k:" + kazakh_stem(skeleton)}
    if _CYRILLIC.search(word):
        if not _KAZAKH_CYRILLIC.search(word):
            keys.add("s:" + fold(_STEMMERS["ru"].stemWord(word.replace("ё", "е"))).replace(" ", ""))
    else:
        keys.add("s:" + _STEMMERS["en"].stemWord(skeleton))
    keys -= {"k:", "s:"}
    return skeleton, tuple(sorted(keys))


def analyse(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Every word of a text as (skeleton, stem keys), in order; empty words dropped."""
    out = []
    for raw in _WORDS.findall(unicodedata.normalize("NFKC", text).casefold().replace("_", " ")):
        skeleton, keys = _word_keys(raw)
        if skeleton:
            out.append((skeleton, keys))
    return out


Word = tuple[str, frozenset[str]]  # a word's skeleton and its index keys (w: word, p: prefix, s: stem)
MAX_WORDS = 160  # the beginning of a very long message is enough to read


def prefix_key(skeleton: str) -> str:
    return "p:" + skeleton[:5] if len(skeleton) > 5 else "w:" + skeleton


@lru_cache(maxsize=65536)
def _keys(skeleton: str, stems: tuple[str, ...]) -> frozenset[str]:
    """One shared key set per distinct word, so a large index holds each set once."""
    return frozenset({"w:" + skeleton, prefix_key(skeleton), *stems})


def words(text: str, limit: int = MAX_WORDS) -> list[Word]:
    """A text as words with their keys, for the ranker and the phrase finder alike."""
    return [(skeleton, _keys(skeleton, stems)) for skeleton, stems in analyse(text)[:limit]]


def clear_caches() -> None:
    """Forget every word seen, so a benchmark measures cold starts."""
    _word_keys.cache_clear()
    _keys.cache_clear()


@dataclass(frozen=True)
class Guess:
    lang: str
    confident: bool


def guess_language(text: str, skeletons: Iterable[str], vocab: dict[str, str], fallback: str) -> Guess:
    """The writer's language: Kazakh letters first, then words known to belong to one language only.

    `vocab` maps skeleton words to the only language whose content uses them (built from the cards
    and the marker words); ties fall back to the person's chosen language, unconfidently.
    """
    lowered = text.casefold()
    cyrillic = len(_CYRILLIC.findall(lowered))
    latin = len(_LATIN.findall(lowered))
    if _KAZAKH_CYRILLIC.search(lowered) or (latin > cyrillic and _KAZAKH_LATIN.search(lowered)):
        return Guess("kk", True)
    votes = {"kk": 0.0, "ru": 0.0, "en": 0.0}
    for word in skeletons:
        lang = vocab.get(word)
        if lang:
            votes[lang] += 1
    if cyrillic > latin:
        votes["en"] = 0
    ranked = sorted(votes.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top > second:
        return Guess(best, top - second >= 1)
    if cyrillic > latin:
        return Guess(fallback if fallback in ("kk", "ru") else "ru", False)
    return Guess(fallback, False)


def negotiate(saved: str | None, telegram_code: str | None) -> str:
    """Saved choice, else Telegram's language through babel, else Russian."""
    if saved in LANGS:
        return saved
    if telegram_code:
        found = negotiate_locale([telegram_code.replace("-", "_")], list(LANGS))
        if found:
            return found.split("_")[0]
    return FALLBACK_LANG
