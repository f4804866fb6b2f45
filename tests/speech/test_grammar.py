import tomllib
from pathlib import Path

from ivr.steps import listen_kind
from speech.grammar import jsgf, normalise_phrase, phrases_for

ROOT = Path(__file__).resolve().parents[2]


def skill_phrases(lang):
    with open(ROOT / "config" / "ivr.toml", "rb") as f:
        skills = tomllib.load(f)["skills"]
    return {s["name"]: s["phrases"][lang] for s in skills}


def test_menu_grammar_has_every_skill_phrase_and_no_digit_words():
    grammar = phrases_for("skill", "en-US", skill_phrases("en-US"))
    assert "technical support" in grammar and "direct debit" in grammar and "representative" in grammar
    assert not {"one", "two", "oh"} & set(grammar)
    assert len(grammar) == len(set(grammar))


def test_dutch_steps_use_dutch_words():
    assert "werkt niet" in phrases_for("skill", "nl-NL", skill_phrases("nl-NL"))
    yes_no = phrases_for("yes_no", "nl-NL")
    assert {"ja", "nee", "klopt"} <= set(yes_no) and "yes" not in yes_no
    assert {"nul", "twee", "negen"} <= set(phrases_for("digits", "nl-NL"))
    assert {"oh", "double", "nine"} <= set(phrases_for("digits", "en-US"))
    time_words = phrases_for("time", "nl-NL")
    assert {"morgen", "half", "kwart", "maandag", "ochtend"} <= set(time_words)


def test_time_grammar_covers_spoken_times():
    words = set(phrases_for("time", "en-US"))
    assert {"tomorrow", "at", "three", "monday", "morning", "in", "an", "hour", "half", "past", "twenty"} <= words


def test_unknown_step_is_free_form():
    assert phrases_for(listen_kind("callback_number_enter"), "en-US") == phrases_for("digits", "en-US")
    assert phrases_for(listen_kind("anything_else"), "en-US") is None
    assert phrases_for("skill", "en-US", {}) is None  # no phrases: nothing to restrict to


def test_normalise_and_jsgf():
    assert normalise_phrase("  Technical  Support! ") == "technical support"
    grammar = jsgf(["yes", "No thanks"])
    assert grammar.startswith("#JSGF V1.0;") and "<phrase> = ( yes | no thanks );" in grammar
    assert "public <utterance> = <phrase> [<phrase>] [<phrase>] ;" in grammar


def test_each_step_bounds_how_many_phrases_one_answer_holds():
    assert phrases_for("digits", "en-US").max_phrases >= 15  # a phone number
    assert phrases_for("yes_no", "en-US").max_phrases == 3
    grammar = jsgf(phrases_for("digits", "en-US"), max_phrases=20)
    assert grammar.count("[<phrase>]") == 19
