"""Short answers: yes or no, "as soon as possible", "let me talk to a person"."""
from __future__ import annotations

import re

from understanding.words import (AGENT_PHRASES, ASAP_PHRASES, DECLINE_PHRASES, NEITHER_PHRASES, NO_WORDS,
                                 NOT_ASAP_PHRASES, UNSURE_PHRASES, WEAK_YES_WORDS, YES_DESPITE_NO, YES_WORDS,
                                 base_language, contains_phrase, words)


# Below this confidence (0..1, understanding.confidence) an answer of the kind is not acted on as heard:
# "as soon as possible" is read back (every spoken time is, whatever its confidence), a yes or no is asked
# again. On the dev recordings only a yes/no both recognisers agree on (0.98 since the sixth round) was right
# often enough to act on; PocketSphinx alone was wrong one time in five, Whisper alone two in five. An answer
# the cascade marks doubtful (Whisper wanted but not to be had in time: speech/cascade.py) is below both.
CONFIRM_BELOW = {"time": 0.9, "yes_no": 0.85}


def confirm_below(kind: str) -> float:
    return CONFIRM_BELOW.get(kind, 0.0)


NEGATORS = {"en": {"not", "isnt", "aint", "dont", "doesnt", "didnt"}, "nl": {"niet", "geen"}}
# Words that negate the yes-phrase before them ("dat klopt niet", "certainly not", "of course not").
POST_NEGATORS = {"en": {"not"}, "nl": {"niet"}}


def yes_no(text: str, lang: str) -> bool | None:
    """True for yes, False for no, None when the words say neither, or both.

    A negated yes-word is no ("not right", "that's not correct", "klopt niet"); "no problem" is yes.
    Yes and no at once ("right affirmative no", "yes no") is neither: the caller is asked again
    rather than taken at one of their words. "Please" does not outweigh a no ("no please").
    Words that are neither ("what was that", "can you say that again") are neither, and so is not
    knowing ("I'm not sure", "no idea").
    """
    lang = base_language(lang)
    yes_words, no_words = _as_said(YES_WORDS.get(lang, set())), _as_said(NO_WORDS.get(lang, set()))
    weak, negators = WEAK_YES_WORDS.get(lang, set()), NEGATORS.get(lang, set())
    ws = words(text)
    declined = contains_phrase(ws, DECLINE_PHRASES.get(lang, []))  # "I'll hold": keeping things as they are
    if contains_phrase(ws, UNSURE_PHRASES.get(lang, [])):
        return False if declined else None  # "I'm not sure", "weet ik niet": neither, asked again
    yes = politeness = False
    no = declined
    i = 0
    while i < len(ws):
        pair = " ".join(ws[i:i + 2]) if i + 1 < len(ws) else None
        despite = next((p for p in YES_DESPITE_NO.get(lang, []) if ws[i:i + len(p.split())] == p.split()), None)
        if despite:
            yes, i = True, i + len(despite.split())
            continue
        if pair in no_words:
            no, i = True, i + 2
            continue
        if pair in yes_words and i + 2 < len(ws) and ws[i + 2] in POST_NEGATORS.get(lang, set()):
            no, i = True, i + 3  # "dat klopt niet": Dutch negates after the verb
            continue
        if ws[i] in yes_words and pair is not None and ws[i + 1] in POST_NEGATORS.get(lang, set()):
            no, i = True, i + 2  # "natuurlijk niet", "zeker niet"
            continue
        if ws[i] in negators and pair is not None and ws[i + 1] in yes_words:
            no, i = True, i + 2  # "not right", "niet goed"
            continue
        if ws[i] in negators and " ".join(ws[i + 1:i + 3]) in yes_words:
            no, i = True, i + 3  # "don't go ahead", "not of course"
            continue
        if ws[i] in no_words:
            no = True
        elif pair in yes_words:
            yes, i = True, i + 1
        elif ws[i] in weak:
            politeness = True
        elif ws[i] in yes_words:
            yes = True
        i += 1
    if no:
        return None if yes else False
    return True if yes or politeness else None


def yes_no_vocabulary(lang: str) -> set[str]:
    """Every word `yes_no` reads, as the tables spell it (lower case; "that's" gives "that" and "'s"): the yes
    and no words, the neither, unsure and decline phrases, the negators. What a recogniser held to the words
    of a yes/no answer may write (speech.whisper_engine.words_for, with yes_no in HELD_TO_WORDS: measured in
    the eighth round, not turned on)."""
    lang = base_language(lang)
    tables = (YES_WORDS, NO_WORDS, NEITHER_PHRASES, UNSURE_PHRASES, DECLINE_PHRASES, YES_DESPITE_NO,
              NEGATORS, POST_NEGATORS, WEAK_YES_WORDS)
    return {w for table in tables for phrase in table.get(lang, ()) for w in re.findall(r"'?[^\s']+", phrase.lower())}


def _as_said(phrases) -> set[str]:
    """The phrases in the form words() gives ("that's it" -> "thats it"; the tables keep the spelling the
    speech grammars need)."""
    return {" ".join(words(p)) for p in phrases}


def plain_yes_no(text: str, lang: str) -> bool | None:
    """yes_no(text) when the words are one way of saying yes or no and nothing else ("yes", "yes please",
    "no", "not right", "of course"), else None. "sorry one live yeah" and "why wrong" (PocketSphinx for
    "sorry what was that", "I didn't catch that") hold yes- or no-words, but are no plain yes or no."""
    lang = base_language(lang)
    ws = [w for w in words(text) if w not in WEAK_YES_WORDS.get(lang, set())]
    yes_words, no_words = _as_said(YES_WORDS.get(lang, set())), _as_said(NO_WORDS.get(lang, set()))
    phrase = " ".join(ws)
    negated = len(ws) == 2 and ws[0] in NEGATORS.get(lang, set()) and ws[1] in yes_words
    plain = phrase in yes_words or phrase in no_words or phrase in YES_DESPITE_NO.get(lang, []) or negated
    return yes_no(text, lang) if ws and plain else None


def completeness(kind: str | None, lang: str):
    """A test of whether words heard so far make a whole answer of `kind`, for the end of speech
    (speech.session: a pause after words that do not is waited out longer), or None when any words do.
    A phone number: the digits of a whole number of the language's country ("four one five, double five"
    is a caller between groups of digits)."""
    if kind != "digits":
        return None
    from understanding.numbers import whole_number

    return lambda text: whole_number(text, lang)


def wants_asap(text: str, lang: str) -> bool:
    """"As soon as possible" and its kin, unless the words ask for the opposite ("as late as possible")."""
    said, base = words(text), base_language(lang)
    return contains_phrase(said, ASAP_PHRASES.get(base, [])) and not contains_phrase(said, NOT_ASAP_PHRASES.get(base, []))


def wants_agent(text: str, lang: str) -> bool:
    """Whether the caller asks for a person ("agent", "a real person", "iemand spreken")."""
    return contains_phrase(words(text), AGENT_PHRASES.get(base_language(lang), []))
