"""Numbers spelled out in words (kk, ru, en), so a phone number dictated as words is not kept.

`store.scrub` removes digits; someone may write "eight seven oh one …" instead, in any script.
The words are matched by their skeleton (see `language.fold`), so Cyrillic, Latin and informal
translit spellings are one word. A run of two or more is dropped: one number word alone ("one
day", "two children") says nothing about who wrote it.
"""

from __future__ import annotations

import re
from itertools import groupby

from bot.language import fold

# Written in Latin; their skeletons are the skeletons of the Cyrillic words too.
_RU = """nol nul odin odna odno odnu dva dve tri chetyre pyat shest sem vosem devyat desyat
    odinnadtsat dvenadtsat trinadtsat chetyrnadtsat pyatnadtsat shestnadtsat semnadtsat
    vosemnadtsat devyatnadtsat dvadtsat tridtsat sorok pyatdesyat shestdesyat semdesyat
    vosemdesyat devyanosto sto dvesti trista chetyresta pyatsot shestsot semsot vosemsot
    devyatsot tysyacha tysyachi tysyach"""
_KK = """nol bir eki ush tort bes alty zheti segiz togyz on zhiyrma otyz qyryq elu alpys zhetpis
    seksen toqsan zhuz myn"""
_EN = """zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred thousand"""
NUMBER_WORDS = frozenset(fold(word) for word in f"{_RU} {_KK} {_EN}".split())
RUN = 2  # this many number words in a row are dropped
_TOKEN = re.compile(r"\S+")


def _is_number(token: str) -> bool:
    """A number word, a group of digits, or a hyphenated mix of them ("twenty-five", "sorok-5")."""
    parts = fold(token).split()
    return bool(parts) and all(p in NUMBER_WORDS or p.isdigit() for p in parts)


def without_number_words(text: str) -> str:
    """The text with every run of RUN or more number words (digits among them) taken out."""
    kept: list[str] = []
    for numeric, group in groupby(_TOKEN.findall(text), key=_is_number):
        run = list(group)
        if not (numeric and len(run) >= RUN):
            kept += run
    return " ".join(kept)
