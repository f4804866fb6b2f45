"""What each kind of answer listens for (speech.grammar), and that /media builds the same."""
import pytest

from speech.grammar import ANSWER_KINDS, grammar_for, grammar_for_config


@pytest.fixture(scope="module")
def config():
    from config import load_ivr_config

    return load_ivr_config()


def test_skill_answers_listen_for_the_operators_examples(config):
    grammar = grammar_for_config("skill", "en-US", config)
    assert grammar.kind == "skill" and len(grammar.sentences) >= 4 * 40
    assert "my internet is not working" in grammar.sentences  # an example, as engines emit it
    assert {"router", "refund", "upgrade", "person"} <= set(grammar)  # its words, for Vosk
    dutch = grammar_for_config("skill", "nl-NL", config)
    assert "storing" in dutch and "router" not in dutch.sentences


def test_other_kinds_use_the_word_tables():
    assert {"yes", "no", "nope", "correct"} <= set(grammar_for("yes_no", "en-US"))
    assert {"ja", "nee"} <= set(grammar_for("yes_no", "nl-NL"))
    assert {"oh", "double", "nine"} <= set(grammar_for("digits", "en-US"))
    assert {"tomorrow", "half", "past", "morning"} <= set(grammar_for("time", "en-US"))
    assert grammar_for("key", "en-US") is None  # keys only
    for kind in ("yes_no", "digits", "time"):
        assert grammar_for(kind, "en-US").sentences  # PocketSphinx builds a language model from them


def test_every_kind_is_known_and_nothing_else():
    assert ANSWER_KINDS == ("skill", "yes_no", "digits", "time", "key")
    with pytest.raises(ValueError, match="unknown answer kind 'menu'; one of skill, yes_no, digits, time, key"):
        grammar_for("menu", "en-US")


def test_a_language_without_examples_has_no_skill_grammar(config):
    assert grammar_for_config("skill", "ko-KR", config) is None
    assert grammar_for("skill", "en-US", {}) is None
