import tomllib
from pathlib import Path

import pytest

from routing.intent import CONFIRM_THRESHOLD, classify_intent, phrase_score, phrases_from_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def skills():
    with open(ROOT / "config" / "ivr.toml", "rb") as f:
        return tomllib.load(f)["skills"]


@pytest.fixture(scope="module")
def en(skills):
    return phrases_from_config(skills, "en-US")


@pytest.fixture(scope="module")
def nl(skills):
    return phrases_from_config(skills, "nl-NL")


@pytest.mark.parametrize("text, skill", [
    ("I have a question about my bill", "billing"),
    ("I was charged twice", "billing"),
    ("my internet is not working", "support"),
    ("Technical support, please.", "support"),
    ("I'd like to upgrade my plan", "sales"),
    ("can I talk to a real person", "general"),
])
def test_english_phrases_pick_the_skill_confidently(en, text, skill):
    match = classify_intent(text, en, "en-US")
    assert match.skill == skill and match.confidence == 1.0 and not match.needs_confirmation


@pytest.mark.parametrize("text, skill", [
    ("ik heb een vraag over mijn factuur", "billing"),
    ("mijn internet werkt niet", "support"),
    ("ik wil een nieuw abonnement", "sales"),
    ("mag ik een medewerker", "general"),
])
def test_dutch_phrases(nl, text, skill):
    assert classify_intent(text, nl, "nl-NL").skill == skill


def test_the_menu_label_counts_as_a_phrase(skills):
    phrases = phrases_from_config(skills, "nl-NL")
    assert "technische ondersteuning" in phrases["support"]


def test_misrecognised_words_match_fuzzily_with_less_confidence(en):
    match = classify_intent("billng", en, "en-US")
    assert match.skill == "billing" and 0.6 < match.confidence < 1.0


def test_short_words_do_not_match_fuzzily(en):
    # "play" is one letter from "pay" but must not route to billing
    assert classify_intent("play", en, "en-US").skill is None


def test_two_skills_equally_likely_asks_for_confirmation(en):
    match = classify_intent("I was charged and my internet is broken", en, "en-US")
    assert match.skill in ("billing", "support")
    assert match.confidence < CONFIRM_THRESHOLD and match.needs_confirmation


def test_a_longer_exact_phrase_beats_a_shorter_one_elsewhere():
    phrases = {"support": ["technical support"], "general": ["technical"]}
    match = classify_intent("technical support please", phrases, "en-US")
    assert match.skill == "support" and not match.needs_confirmation


def test_nothing_useful_means_no_skill(en):
    assert classify_intent("", en, "en-US").skill is None
    assert classify_intent("[unk] uh hello", en, "en-US").skill is None


def test_spoken_menu_digit(en):
    digits = {"billing": "1", "support": "2", "sales": "3", "general": "0"}
    assert classify_intent("two", en, "en-US", digits).skill == "support"
    assert classify_intent("druk twee", en, "nl-NL", digits).skill == "support"
    assert classify_intent("I want three tickets for sales", en, "en-US", digits).skill == "sales"


def test_engine_confidence_scales_the_decision(en):
    match = classify_intent("billing", en, "en-US", asr_confidence=0.5)
    assert match.skill == "billing" and match.confidence == 0.5 and match.needs_confirmation
    assert classify_intent("billing", en, "en-US", asr_confidence=0.2).skill is None


def test_phrase_score():
    assert phrase_score(["my", "bill"], ["bill"]) == 1.0
    assert phrase_score(["not", "working"], ["not", "working"]) == 1.0
    assert phrase_score(["working", "not"], ["not", "working"]) == 0.0
    assert 0 < phrase_score(["invoise"], ["invoice"]) < 1
