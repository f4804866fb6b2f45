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


def _accepts(structure: str):
    """Whether PocketSphinx's own grammar code accepts a word string under `structure` (FSG or JSGF text)."""
    from pocketsphinx import Decoder

    from speech.pocketsphinx_engine import fsg_transitions

    decoder = Decoder(lm=None, loglevel="FATAL")
    if structure.startswith("FSG_BEGIN"):
        start, final, transitions = fsg_transitions(structure)
        fsg = decoder.create_fsg("t", start, final, transitions)
    else:
        fsg = decoder.parse_jsgf(structure)
    return lambda said: bool(fsg.accept(said))


def test_a_phone_number_question_hears_a_whole_number_of_the_callers_country():
    from speech.grammar import number_structure

    us = _accepts(number_structure("en-US"))
    assert us("two one two five five five zero one four two")
    assert us("two one two double five five oh one four two") and us("two one two triple five oh one four two")
    assert not us("one two one two five five five zero one four two")  # the US writes no national prefix
    assert us("plus one two one two five five five zero one four two")  # the country code
    assert us("operator") and us("talk to someone")
    assert not us("two one two five five five zero one four")  # a digit short
    assert not us("two one two five five five zero one four two two")  # a digit long
    assert not us("two one two triple five five zero one four two")  # "triple" counts three
    assert not us("plus two one two five five five zero one four two")  # "plus" needs the country code
    nl = _accepts(number_structure("nl-NL"))
    assert nl("nul zes een twee drie vier vijf zes zeven acht")  # the Dutch say their national prefix
    assert nl("plus drie een zes een twee drie vier vijf zes zeven acht")
    assert not nl("zes een twee drie")
    anywhere = _accepts(number_structure("en", []))  # no country: any number of digits
    assert anywhere("two nine three four zero") and anywhere("double five")

