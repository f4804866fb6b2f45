"""Per-step phrase lists: what a caller can usefully say at each IVR step.

Grammars make small models fast and accurate on phone audio: the recogniser
only chooses among these phrases (plus an unknown-word token the engine adds).
A step with no grammar (None) is recognised free-form.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

from understanding.decision import STEP_KINDS, step_kind  # noqa: F401 - the step kinds live in understanding
from understanding.times import time_vocabulary
from understanding.words import DIGIT_WORDS, NO_WORDS, PLUS_WORDS, REPEAT_WORDS, YES_WORDS, base_language


# How many phrases one answer may string together: a phone number is many digits,
# a time a few words; elsewhere a short answer. (PocketSphinx uses this bound;
# with an open loop breaths and pauses came out as extra short words.)
MAX_PHRASES = {"menu": 3, "yes_no": 3, "digits": 20, "time": 8}


class Grammar(list):
    """A step's phrase list, knowing how many of them one answer may contain."""

    def __init__(self, phrases, max_phrases: int = 3):
        super().__init__(phrases)
        self.max_phrases = max_phrases


def normalise_phrase(phrase: str) -> str:
    """Lower case, single spaces, no punctuation: the form engines emit."""
    return " ".join(re.sub(r"[^\w' ]+", " ", phrase.lower()).split())


def phrases_for_step(step: str, lang: str,
                     skill_phrases: Mapping[str, Sequence[str]] | None = None) -> list[str] | None:
    """The grammar for `step` in `lang`, or None for free-form recognition.

    `skill_phrases` ({skill: phrases}) feeds the menu step. Digit words are left
    out of menu and yes/no grammars: callers key digits, and short words like
    "one" and "oh" in a grammar come out as breaths and clicks.
    """
    kind = step_kind(step)
    phrases = _phrases(kind, lang, skill_phrases)
    return Grammar(phrases, MAX_PHRASES[kind]) if phrases else None


def _phrases(kind: str | None, lang: str, skill_phrases: Mapping[str, Sequence[str]] | None) -> list[str]:
    base = base_language(lang)
    digits = [w for w in DIGIT_WORDS.get(base, {}) if len(w) > 1]
    if kind == "menu":
        return _unique([p for ps in (skill_phrases or {}).values() for p in ps])
    if kind == "yes_no":
        return _unique(sorted(YES_WORDS.get(base, set())) + sorted(NO_WORDS.get(base, set())))
    if kind == "digits":
        return _unique(digits + sorted(REPEAT_WORDS.get(base, {})) + sorted(PLUS_WORDS.get(base, set())))
    if kind == "time":
        return _unique(time_vocabulary(lang))
    return []


def _unique(phrases: Sequence[str]) -> list[str]:
    out: list[str] = []
    for p in phrases:
        n = normalise_phrase(p)
        if n and n not in out:
            out.append(n)
    return out


def jsgf(phrases: Sequence[str], name: str = "step", max_phrases: int = 3) -> str:
    """A JSGF grammar accepting one to `max_phrases` of `phrases` in a row (for PocketSphinx).

    Bounded rather than an open loop: with a loop, breaths and pauses come out as
    extra short words (measured on the cards recordings)."""
    alternatives = " | ".join(normalise_phrase(p) for p in phrases if normalise_phrase(p))
    body = " ".join(["<phrase>"] + ["[<phrase>]"] * (max_phrases - 1))
    return (f"#JSGF V1.0;\ngrammar {name};\n<phrase> = ( {alternatives} );\n"
            f"public <utterance> = {body} ;\n")
