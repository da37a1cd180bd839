"""The matcher as people meet it: their own words, typos, other scripts, emergencies first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.content import LANGS, Knowledge, load
from bot.language import fold, guess_language, kazakh_stem
from bot.matching import Matcher, words

EVAL = yaml.safe_load((Path(__file__).parent / "data" / "eval.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load()


@pytest.fixture(scope="module")
def matcher(knowledge: Knowledge) -> Matcher:
    return Matcher(knowledge)


def best_guess(matcher: Matcher, question: str, lang: str) -> str | None:
    m = matcher.match(question, lang)
    return m.card or (m.alternatives[0] if m.alternatives else None)


@pytest.mark.parametrize(
    "variants",
    [
        (
            "Қалай салықтық шегерім алуға болады",
            "Qalai salyqtyq shegerim aluga bolady",
            "Калай салыктык шегерим алуга болады",
            "Qalaı salyqtyq shegerіm alýǵa bolady",
        ),
        ("Муж бьёт меня", "муж бьет меня", "МУЖ БЬЕТ МЕНЯ!!!", "мyж бьeт мeня"),  # Latin look-alikes inside
        ("помогите", "помогитеее", "ПОМОГИТЕ 😭😭"),
    ],
)
def test_every_script_folds_to_one_skeleton(variants: tuple[str, ...]) -> None:
    assert len({fold(v) for v in variants}) == 1, [fold(v) for v in variants]


def test_numbers_survive_folding() -> None:
    assert fold("что такое 111 и 102?") == "chto takoe 111 i 102"
    assert fold("İstanbul") == "istanbul"


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("uraktarga", "urak"),
        ("balalardin", "bala"),
        ("ortalyktary", "ortalik"),
        ("ui", "ui"),
        ("kerek", "kerek"),
    ],
)
def test_kazakh_suffixes(word: str, stem: str) -> None:
    assert kazakh_stem(fold(word)) == stem


@pytest.mark.parametrize(
    ("text", "lang", "confident"),
    [
        ("Күйеуім мені ұрады", "kk", True),
        ("kuieuim meni urady, ne isteu kerek", "kk", True),
        ("муж бьет меня что делать", "ru", True),
        ("muzh menya b'et chto delat", "ru", True),
        ("my husband hits me what can i do", "en", True),
        ("Qalaı salyqtyq", "kk", True),
    ],
)
def test_language_guess(matcher: Matcher, text: str, lang: str, confident: bool) -> None:
    guess = guess_language(text, [s for s, _ in words(text)], matcher.vocab, "en" if lang != "en" else "ru")
    assert (guess.lang, guess.confident) == (lang, confident)


def test_card_found_from_any_language_is_the_same_card(matcher: Matcher) -> None:
    ids = {
        matcher.match(q, "ru").card
        for q in ("побои это уголовка?", "is beating a crime now", "ұрып-соғу қылмыс па")
    }
    assert ids == {"battery"}


def test_every_example_question_finds_its_own_card(knowledge: Knowledge, matcher: Matcher) -> None:
    wrong = [
        (lang, card.id, q, matcher.match(q, lang))
        for lang in LANGS
        for card in knowledge.languages[lang].cards.values()
        for q in card.questions
        if not matcher.match(q, lang).emergency and best_guess(matcher, q, lang) != card.id
    ]
    assert len(wrong) <= 0.02 * sum(
        len(c.questions) for lang in LANGS for c in knowledge.languages[lang].cards.values()
    ), [(lang, cid, q, m.card, m.alternatives) for lang, cid, q, m in wrong]


def test_eval_set_is_not_copied_from_cards(knowledge: Knowledge) -> None:
    examples = {
        fold(q) for lang in knowledge.languages.values() for c in lang.cards.values() for q in c.questions
    }
    copied = [i["q"] for lang in LANGS for i in EVAL[lang]["questions"] if fold(i["q"]) in examples]
    assert not copied


@pytest.mark.parametrize("lang", LANGS)
def test_development_set(matcher: Matcher, lang: str) -> None:
    """Top-1 ≥ 0.9 (the bot's first answer or first suggestion), out of scope rejected ≥ 0.9,
    every emergency caught, no question about violence taken for one."""
    data = EVAL[lang]
    assert len(data["questions"]) >= 40 and len(data["out_of_scope"]) >= 10
    confusion = [(i["card"], best_guess(matcher, i["q"], lang), i["q"]) for i in data["questions"]]
    misses = [c for c in confusion if c[0] != c[1]]
    accepted_wrong = [
        i["q"] for i in data["questions"] if matcher.match(i["q"], lang).card not in (None, i["card"])
    ]
    taken = [q for q in data["out_of_scope"] if matcher.match(q, lang).card]
    missed = [i["q"] for i in data["emergency"] if matcher.match(i["q"], lang).emergency != i["kind"]]
    false_alarms = [q for q in data["near_miss"] if matcher.match(q, lang).emergency]
    report = "\n".join(f"  expected {e}, got {g}: {q}" for e, g, q in misses)
    assert 1 - len(misses) / len(confusion) >= 0.9, f"top-1 below 0.9 in {lang}:\n{report}"
    assert len(accepted_wrong) <= 0.05 * len(confusion), accepted_wrong
    assert 1 - len(taken) / len(data["out_of_scope"]) >= 0.9, taken
    assert not missed, missed
    assert not false_alarms, false_alarms


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("он меня сейчас убьет", "danger"),
        ("мен өлгім келеді", "self-harm"),
        ("I want to kill myself", "self-harm"),
        ("he is beating me, what is the law on battery", "danger"),
    ],
)
def test_emergency_wins_over_any_card(matcher: Matcher, text: str, kind: str) -> None:
    assert matcher.match(text, "ru").emergency == kind


@pytest.mark.parametrize(
    "text",
    [
        "он меня не бьет",
        "he is not beating me, i am asking for a friend",
        "не хочу умирать, просто спрашиваю",
    ],
)
def test_negation_is_not_an_emergency(matcher: Matcher, text: str) -> None:
    assert matcher.match(text, "ru").emergency is None


@pytest.mark.parametrize(
    ("text", "kind"), [("привет", "greeting"), ("Рахмет!", "thanks"), ("thank you so much", "thanks")]
)
def test_small_talk_gets_no_card(matcher: Matcher, text: str, kind: str) -> None:
    m = matcher.match(text, "kk")
    assert (m.smalltalk, m.card) == (kind, None)


@pytest.mark.parametrize("text", ["", "🙂🙂🙂", "?!", "a" * 4000, "ыва ыва " * 500])
def test_noise_finds_nothing_and_does_not_fail(matcher: Matcher, text: str) -> None:
    m = matcher.match(text, "ru")
    assert m.card is None and m.emergency is None


def test_ask_contract_json_lines(tmp_path: Path) -> None:
    questions = ["муж бьет меня прямо сейчас", "what is the punishment for beating", "рецепт плова", "Сәлем"]
    run = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "--lang", "kk"],
        input="\n".join(questions),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions
    assert set(rows[0]) == {"question", "lang", "card", "score", "alternatives", "emergency"}
    assert rows[0]["emergency"] == "danger" and rows[0]["lang"] == "ru"
    assert rows[1]["card"] == "battery" and rows[1]["lang"] == "en" and 0 <= rows[1]["score"] <= 100
    assert rows[2]["card"] is None and rows[2]["emergency"] is None
    assert rows[3]["lang"] == "kk"


def test_ask_a_thousand_lines_quickly() -> None:
    """Start-up included, a thousand questions is a matter of seconds (generous bound: CI machines vary)."""
    lines = "\n".join(i["q"] for lang in LANGS for i in EVAL[lang]["questions"]) + "\n"
    text = (lines * (1000 // lines.count("\n") + 1)).splitlines()[:1000]
    run = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"],
        input="\n".join(text),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0 and len(run.stdout.splitlines()) == 1000


HELDOUT = yaml.safe_load((Path(__file__).parent / "data" / "heldout.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", LANGS)
def test_held_out_set(matcher: Matcher, knowledge: Knowledge, lang: str) -> None:
    """Questions written without seeing the cards or the development set, never used for tuning.
    Measured when written: top-1 0.97 / 0.97 / 0.93 (en, ru, kk), out of scope rejected 0.75 / 1 / 0.88."""
    examples = {
        fold(q)
        for language in knowledge.languages.values()
        for c in language.cards.values()
        for q in c.questions
    }
    items = [i for i in HELDOUT[lang]["questions"] if fold(i["q"]) not in examples]
    misses = [(i["card"], best_guess(matcher, i["q"], lang), i["q"]) for i in items]
    misses = [m for m in misses if m[0] != m[1]]
    assert 1 - len(misses) / len(items) >= 0.9, misses
    taken = [q for q in HELDOUT[lang]["out_of_scope"] if matcher.match(q, lang).card]
    assert 1 - len(taken) / len(HELDOUT[lang]["out_of_scope"]) >= 0.7, taken
