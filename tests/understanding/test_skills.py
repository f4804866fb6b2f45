"""The skill classifier, trained from the shipped examples, on phrasings that are not among them."""
import copy
import tomllib
from pathlib import Path

import pytest

from config import DEFAULT_IVR_CONFIG, ConfigError, load_ivr_config, parse_ivr_config
from understanding import SkillGuess, Understanding, training_texts
from understanding.evaluation import cross_validate, evaluate, read_labelled
from understanding.skills import CONFIRM_BELOW, NONE_FLOOR, SkillModel, with_slip
from tests.support.near_copy import near_copy, same_words
from understanding.words import canonical_words, words

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "understanding"
CONFIG = load_ivr_config()


@pytest.fixture(scope="module")
def u():
    return Understanding.for_config(CONFIG)


@pytest.mark.parametrize("text, lang, skill", [
    # Phrasings a keyword list got wrong: no keyword of the skill in them.
    ("the router isn't working", "en-US", "support"),
    ("I can't log in to my account", "en-US", "support"),
    ("update my credit card details", "en-US", "billing"),
    ("what deals do you have right now", "en-US", "sales"),
    ("ik kan niet inloggen", "nl-NL", "support"),
    ("wat kost het pakket", "nl-NL", "sales"),
])
def test_natural_requests_reach_the_right_skill(u, text, lang, skill):
    guess = u.skill(text, lang)
    assert guess.skill == skill, guess


@pytest.mark.parametrize("text, lang", [
    ("I really don't know", "en-US"), ("none of them", "en-US"), ("it's something else entirely", "en-US"),
    ("geen idee eigenlijk", "nl-NL"), ("iets heel anders", "nl-NL"),
])
def test_not_knowing_reaches_the_fallback(u, text, lang):
    guess = u.skill(text, lang)
    assert guess.skill == "general" and not guess.needs_confirmation, guess


def test_transcripts_without_capitals_or_punctuation_and_with_slips(u):
    assert u.skill("my wifi router wont conect", "en-US").skill == "support"
    assert u.skill("I WANT A REFUND!!!", "en-US").skill == "billing"
    assert u.skill("ik wil een nieuw abonnemnt", "nl-NL").skill == "sales"


def test_a_menu_digit_said_as_a_word(u):
    assert u.skill("two", "en-US").skill == "support"
    assert u.skill("press three", "en-US").skill == "sales"
    assert u.skill("twee", "nl-NL").skill == "support"
    assert u.skill("druk nul", "nl-NL").skill == "general"
    # A number inside a longer request is not a menu choice.
    assert u.skill("I want three new phones for my family", "en-US").skill == "sales"


def test_nothing_useful_is_none_of_these(u):
    for text in ("", "[unk]", "[unk] uh hello", "mumble grumble", "the weather is nice today"):
        guess = u.skill(text, "en-US")
        assert guess.skill is None and not guess.needs_confirmation, (text, guess)


def test_guess_shape_ranked_best_first(u):
    guess = u.skill("there is a charge on my bill I don't understand", "en-US")
    assert isinstance(guess, SkillGuess)
    assert guess.skill == "billing" and not guess.needs_confirmation
    assert len(guess.ranked) == 3 and guess.ranked[0][0] == "billing"
    scores = [score for _, score in guess.ranked]
    assert scores == sorted(scores, reverse=True) and sum(scores) <= 1.0001
    assert guess.confidence == pytest.approx(scores[0], abs=0.001)


def test_the_engines_confidence_scales_the_guess(u):
    sure = u.skill("technical support", "en-US")
    assert sure.skill == "support" and sure.confidence > CONFIRM_BELOW
    doubtful = u.skill("technical support", "en-US", asr_confidence=0.6)
    assert doubtful.skill == "support" and doubtful.needs_confirmation
    assert u.skill("technical support", "en-US", asr_confidence=NONE_FLOOR / 2).skill is None


def test_a_request_between_two_skills_is_doubtful(u):
    guess = u.skill("account", "en-US")
    # "account" sits between billing and general: whichever leads, the caller is asked to confirm it.
    assert guess.needs_confirmation and "billing" in dict(guess.ranked[:2]), guess


def test_other_channels_share_the_model(u):
    # A language given by its base ("nl") reads with the nl-NL model.
    assert u.skill("mijn factuur klopt niet", "nl").skill == "billing"
    assert u.skill("my bill", "fr-FR").skill is None  # no French examples: nothing to learn from
    assert Understanding.for_config(CONFIG) is u


def test_wants_agent_at_any_question(u):
    for text in ("agent", "can I talk to a real person", "operator please", "I want customer service"):
        assert u.wants_agent(text, "en-US"), text
    for text in ("mag ik een medewerker", "ik wil iemand spreken", "klantenservice"):
        assert u.wants_agent(text, "nl-NL"), text
    for text in ("someone charged my card twice", "yes", "tomorrow at three"):
        assert not u.wants_agent(text, "en-US"), text
    assert not u.wants_agent("morgen om drie uur", "nl-NL")


def test_the_classifier_reads_one_form_of_each_word():
    # Contractions spelled out, letters said one by one joined, one spelling per word.
    assert canonical_words("My wi-fi isn't working, I can't log in!", "en-US") == \
        ["my", "wifi", "is", "not", "working", "i", "can", "not", "login"]
    assert canonical_words("the t v box and my p u k code", "en-US") == ["the", "tv", "box", "and", "my", "puk", "code"]
    assert canonical_words("a b", "en-US") == ["a", "b"]  # English words of one letter stay apart
    assert canonical_words("m'n sim kaart doet 't nie", "nl-NL") == ["mijn", "simkaart", "doet", "het", "niet"]
    assert canonical_words("mijn e-mail", "nl-NL") == ["mijn", "email"]
    # The word tables yes/no, digits and times read keep the plain form.
    assert words("isn't that right") == ["isnt", "that", "right"]


def small_model(lang):
    examples = {
        "en-US": {"billing": ["my bill is wrong", "I want a refund", "pay my invoice"],
                  "support": ["the internet is down", "my router is broken", "no signal on my mobile"]},
        "nl-NL": {"billing": ["mijn factuur klopt niet", "geld terug", "extra databundel kosten"],
                  "support": ["internet werkt niet", "een storing melden", "de simkaart werkt niet", "tv pakket"]},
    }[lang]
    return SkillModel(examples, lang)


def test_words_the_examples_do_not_know_are_read_as_ones_they_do():
    en, nl = small_model("en-US"), small_model("nl-NL")
    assert en.prepare("the biil is wrnog") == "the bill is wrong"  # one slip each: dropped, swapped
    assert en.prepare("my rooter") == "my router"  # one letter changed
    assert en.prepare("mumble grumble") == "mumble grumble"  # nothing near: left as it is
    assert en.prepare("I cant pay") == "i can not pay"
    assert nl.prepare("internetstoring") == "internet storing"  # a compound of two known words
    assert nl.prepare("tvpakket") == "tv pakket"
    assert nl.prepare("mijn sim kaart") == "mijn simkaart"  # one word written as two
    assert nl.prepare("factuur klopt nie") == "factuur klopt niet"
    assert en.guess("the biil is wrnog").skill == "billing"
    assert nl.guess("ik heb een internetstoring").skill == "support"


def test_a_dutch_compound_ending_in_a_known_words_last_part_is_not_none_of_these():
    nl = small_model("nl-NL")
    assert nl.knows_a_word(["gezinsbundel"])  # ends like "databundel"
    assert not nl.knows_a_word(["wandelschoenen"])
    assert not small_model("en-US").knows_a_word(["grumble"])


def test_slips_change_one_letter_of_the_longest_word():
    import random

    slipped = with_slip("my internet is down", random.Random(3))
    assert slipped != "my internet is down" and slipped.split()[::2] == ["my", "is"]


# --- how well it generalises ------------------------------------------------------------------
# dev, dev2 and dev3 are the tuning sets (looked at while choosing features and thresholds; dev3 was written
# fresh after the held-out set was frozen). The floors are measured on heldout only, which is never edited to
# raise a score and holds no near-copy of a tuning line (checked below). Held-out lines that are near-copies of
# a shipped example are counted apart: the floor on the rest says how the classifier does on phrasings unlike
# anything it learnt. Measured (`python -m commands understand evaluate <file> --lang <lang>` gives the whole-file
# figures; the subset is `unlike_the_examples` below):
#   held-out, all lines:            en-US 100 of 105 (95.2%), nl-NL 97 of 97 (100%)
#   held-out, no near-copy of an example: en-US 77 of 82 (93.9%), nl-NL 86 of 86 (100%)
#   dev3 (tuning, for reference):   en-US 59 of 64 (92.2%), nl-NL 56 of 64 (87.5%)
#   with one or two slips per line, seed 7: en-US 193 of 210 (91.9%), nl-NL 186 of 194 (95.9%)
# Each floor allows the stated number of misses more than measured, no more.

TUNING_SETS = ("dev", "dev2", "dev3")


def heldout(lang):
    return labelled("heldout", lang)


def labelled(name, lang):
    with open(FIXTURES / f"{name}.{lang}.tsv", encoding="utf-8") as fh:
        return read_labelled(fh, list(CONFIG.skills))


def allowing(measured_misses, spare, total):
    return (total - measured_misses - spare) / total


def examples(lang):
    return [t for s in CONFIG.skills.values() for t in training_texts(s, lang)]


def unlike_the_examples(lang):
    taught = examples(lang)
    return [(t, s) for t, s in heldout(lang) if not any(near_copy(t, e, lang) for e in taught)]


@pytest.mark.parametrize("lang, size, misses, spare", [("en-US", 105, 5, 2), ("nl-NL", 97, 0, 2)])
def test_held_out_phrasings(u, lang, size, misses, spare):
    pairs = heldout(lang)
    assert len(pairs) == size  # the set is the one the margin was measured on
    result = evaluate(u, pairs, lang, CONFIG.fallback_skill.name)
    assert result.accuracy >= allowing(misses, spare, size), [(m.text, m.wanted, m.got) for m in result.misses]


# en-US: 77 of 82 measured, floor 75 of 82 (two misses spare); nl-NL: 86 of 86 measured, floor 84 of 86.
@pytest.mark.parametrize("lang, size, misses, spare", [("en-US", 82, 5, 2), ("nl-NL", 86, 0, 2)])
def test_held_out_phrasings_unlike_any_example(u, lang, size, misses, spare):
    pairs = unlike_the_examples(lang)
    # An example added near a held-out line takes that line out of this set: the size says so.
    assert len(pairs) == size
    result = evaluate(u, pairs, lang, CONFIG.fallback_skill.name)
    assert result.accuracy >= allowing(misses, spare, size), [(m.text, m.wanted, m.got) for m in result.misses]


def with_slips(text, rng):
    """`text` with one or two slips in random words of four letters or more: two letters swapped,
    one dropped, doubled or changed (as typed, or as a recogniser mishears)."""
    said = text.split()
    for _ in range(rng.choice((1, 2))):
        long_words = [i for i, w in enumerate(said) if len(w) >= 4]
        if not long_words:
            break
        i = rng.choice(long_words)
        w, at, kind = said[i], rng.randrange(1, len(said[i]) - 1), rng.randrange(4)
        said[i] = (w[:at] + w[at + 1] + w[at] + w[at + 2:] if kind == 0 else w[:at] + w[at + 1:] if kind == 1
                   else w[:at] + w[at] + w[at:] if kind == 2 else w[:at] + rng.choice("aeiounrst") + w[at + 1:])
    return " ".join(said)


@pytest.mark.parametrize("lang, misses, spare", [("en-US", 17, 4), ("nl-NL", 8, 4)])
def test_held_out_phrasings_with_slips(u, lang, misses, spare):
    import random

    rng = random.Random(7)
    pairs = [(with_slips(text, rng), skill) for text, skill in heldout(lang) for _ in range(2)]
    result = evaluate(u, pairs, lang, CONFIG.fallback_skill.name)
    assert result.accuracy >= allowing(misses, spare, len(pairs)), [(m.text, m.wanted, m.got) for m in result.misses]


# Five folds, seed 0, on the shipped examples: measured en-US 0.820, nl-NL 0.818; each floor allows 4 points less.
@pytest.mark.parametrize("lang, measured", [("en-US", 0.820), ("nl-NL", 0.818)])
def test_cross_validation_on_the_shipped_examples(lang, measured):
    examples = {s.name: training_texts(s, lang) for s in CONFIG.skills.values()}
    scores = cross_validate(examples, lang, CONFIG.fallback_skill.name, folds=5, repeats=1, seed=0)
    assert scores[0] >= measured - 0.04, scores


@pytest.mark.parametrize("name", ["heldout", *TUNING_SETS])
def test_held_out_and_development_phrasings_are_not_training_examples(name):
    for lang in CONFIG.languages:
        taught = {same_words(t) for t in examples(lang)}
        leaked = [t for t, _ in labelled(name, lang) if same_words(t) in taught]
        assert leaked == []


@pytest.mark.parametrize("lang", ["en-US", "nl-NL"])
def test_held_out_phrasings_are_no_near_copies_of_tuning_lines(lang):
    tuning = [t for name in TUNING_SETS for t, _ in labelled(name, lang)]
    near = [(t, e) for t, _ in heldout(lang) for e in tuning if near_copy(t, e, lang)]
    assert near == []


def test_what_counts_as_a_near_copy():
    # "ik wil een nieuwe telefoon" next to the example "ik wil een nieuwe telefoon kopen": 2 of 3 content words.
    assert near_copy("ik wil een nieuwe telefoon", "ik wil een nieuwe telefoon kopen", "nl-NL")
    assert near_copy("my tv box says no signal", "the tv says no signal", "en-US")  # tv, signal, says of 4
    assert near_copy("hi yeah um its about a payment", "hi yeah um its about the bill", "en-US")  # five in a row
    assert near_copy("one", "other", "en-US") is False and near_copy("i'm not sure", "not sure", "en-US")
    assert not near_copy("my internet is down", "the internet bill is wrong", "en-US")


# --- examples in the operator's file ------------------------------------------------------------

def shipped():
    with open(DEFAULT_IVR_CONFIG, "rb") as fh:
        return tomllib.load(fh)


def test_shipped_examples_are_many_and_varied():
    for skill in CONFIG.skills.values():
        for lang in CONFIG.languages:
            assert len(set(skill.examples[lang])) >= 40, (skill.name, lang)


@pytest.mark.parametrize("change, message", [
    (lambda raw: raw["skills"][0]["examples"].pop("nl-NL"), "billing: 0 examples for nl-NL"),
    (lambda raw: raw["skills"][1]["examples"].update({"en-US": ["it is broken"] * 3}), "at least 20"),
    (lambda raw: raw["skills"][2]["examples"].update({"fr-FR": ["je veux acheter"] * 30}),
     "examples for fr-FR, which is not one of the languages"),
    (lambda raw: raw["skills"][3]["examples"]["en-US"].append("My bill is wrong!"),
     "is an example of both billing and general"),
    (lambda raw: raw["skills"][0].update(examples={"en-US": "pay"}), "examples must be a table"),
])
def test_bad_examples_are_refused_on_load(change, message):
    raw = copy.deepcopy(shipped())
    change(raw)
    with pytest.raises(ConfigError, match=message):
        parse_ivr_config(raw)


def test_from_config_checks_a_config_built_elsewhere():
    from dataclasses import replace

    billing = replace(CONFIG.skills["billing"], examples={"en-US": ["my bill"]})
    broken = replace(CONFIG, skills={**CONFIG.skills, "billing": billing})
    with pytest.raises(ConfigError, match="billing: 1 examples for en-US"):
        Understanding.from_config(broken)
