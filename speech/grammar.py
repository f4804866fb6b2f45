"""What a recogniser listens for, per kind of answer and language.

A question's answer is of one kind (the IVR's step table names it):

| kind | listens for |
| --- | --- |
| `skill` | what callers say about why they call: the operator's examples per skill (config/ivr.toml) |
| `yes_no` | yes/no words, and words that are neither (understanding.words) |
| `digits` | digit words, "oh", "double", "triple", "plus": a phone number |
| `time` | day, part-of-day and clock words |
| `key` | nothing: that question takes keys only |

`grammar_for(kind, lang, examples)` gives a Grammar: its items are the phrases (or, for
`skill`, the words of the examples) a grammar-based engine may produce (Vosk adds its
unknown-word token), and `sentences` are example answers from which PocketSphinx builds a
domain language model (speech/ngram.py) that lets callers use those words in their own order.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

from understanding.decision import ANSWER_KINDS as HEARD_KINDS
from understanding.numbers import said_number_forms
from understanding.times import time_vocabulary
from understanding.words import (AGENT_PHRASES, CARRIER_PHRASES, DIGIT_WORDS, NEITHER_PHRASES, NO_WORDS, PLUS_WORDS,
                                 REPEAT_WORDS, YES_DESPITE_NO, YES_WORDS, base_language)


# How many phrases one answer may string together: a phone number is many digits,
# a time a few words; elsewhere a short answer. (PocketSphinx uses this bound;
# with an open loop breaths and pauses came out as extra short words.)
MAX_PHRASES = {"skill": 3, "yes_no": 3, "digits": 20, "time": 8}
ANSWER_KINDS = (*HEARD_KINDS, "key")  # understanding's kinds, and a question that takes keys only


class Grammar(list):
    """A phrase list, knowing how many of them one answer may contain, and optionally the
    example sentences a language model is built from (then the phrases are their words)."""

    def __init__(self, phrases, max_phrases: int = 3, kind: str | None = None,
                 sentences: Sequence[str] = (), structure: str | None = None):
        super().__init__(phrases)
        self.max_phrases = max_phrases
        self.kind = kind
        self.sentences = tuple(sentences)
        # A grammar of the answer's form (Sphinx FSG or JSGF text: a phone number's counted digits), for an
        # engine that can search one (PocketSphinx); its words are among `phrases`. None: the language model
        # of `sentences`.
        self.structure = structure


def normalise_phrase(phrase: str) -> str:
    """Lower case, single spaces, no punctuation: the form engines emit."""
    return " ".join(re.sub(r"[^\w' ]+", " ", phrase.lower()).split())


def phrases_for(kind: str | None, lang: str,
                skill_phrases: Mapping[str, Sequence[str]] | None = None) -> list[str] | None:
    """A bounded phrase grammar for an answer of `kind` (ivr.steps.listen_kind of a step) in `lang`, or
    None for free-form recognition.

    `skill_phrases` ({skill: phrases}) feeds the menu's `skill`. Digit words are left
    out of menu and yes/no grammars: callers key digits, and short words like
    "one" and "oh" in a grammar come out as breaths and clicks.
    """
    phrases = _phrases(kind, lang, skill_phrases)
    return Grammar(phrases, MAX_PHRASES[kind]) if phrases else None


def _phrases(kind: str | None, lang: str, skill_phrases: Mapping[str, Sequence[str]] | None) -> list[str]:
    base = base_language(lang)
    digits = [w for w in DIGIT_WORDS.get(base, {}) if len(w) > 1]
    # "Agent" reaches a person at every question (ivr/steps.py), so every question listens for it.
    agent = list(AGENT_PHRASES.get(base, []))
    # Among digits only the long single words: "real person" taught the model to hear "three" as "real".
    agent_among_digits = [p for p in agent if " " not in p and len(p) >= 5 and p != "human"]
    if kind == "skill":
        return _unique([p for ps in (skill_phrases or {}).values() for p in ps])
    if kind == "yes_no":
        # With the words that are neither ("what was that", "say that again"): without them every
        # sound at a yes/no question had to come out as yes- and no-words ("right affirmative no").
        return _unique(sorted(YES_WORDS.get(base, set())) + sorted(NO_WORDS.get(base, set())) + agent
                       + YES_DESPITE_NO.get(base, []) + NEITHER_PHRASES.get(base, []))
    if kind == "digits":
        return _unique(digits + sorted(REPEAT_WORDS.get(base, {})) + sorted(PLUS_WORDS.get(base, set())) + agent_among_digits)
    if kind == "time":
        return _unique(time_vocabulary(lang) + agent)
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


def _alternatives(phrases: Sequence[str]) -> str:
    return "( " + " | ".join(_unique(phrases)) + " )"


class _Fsg:
    """A finite-state grammar in Sphinx's FSG text format, built from words (one word per transition)."""

    def __init__(self, name: str):
        self.name = name
        self.states = 2  # 0 starts, 1 is final
        self.transitions: list[tuple[int, int, str | None, float]] = []

    def state(self) -> int:
        self.states += 1
        return self.states - 1

    def phrase(self, start: int, end: int, phrase: str, weight: float = 1.0) -> None:
        """`phrase`'s words in a row from `start` to `end` (no words: a null transition); `weight`: how
        likely this way out of `start` is against the others (they are normalised per state)."""
        ws = phrase.split()
        at = start
        for i, w in enumerate(ws):
            to = end if i == len(ws) - 1 else self.state()
            self.transitions.append((at, to, w, weight if i == 0 else 1.0))
            at = to
        if not ws:
            self.transitions.append((start, end, None, weight))

    def text(self) -> str:
        out = [f"FSG_BEGIN {self.name}", f"NUM_STATES {self.states}", "START_STATE 0", "FINAL_STATE 1"]
        leaving: dict[int, float] = {}
        for a, _, _, weight in self.transitions:
            leaving[a] = leaving.get(a, 0.0) + weight
        for a, b, w, weight in self.transitions:
            out.append(f"TRANSITION {a} {b} {weight / leaving[a]:.6f}" + (f" {w}" if w else ""))
        return "\n".join(out + ["FSG_END", ""])


def number_structure(lang: str, lengths: Sequence[int] | None = None) -> str | None:
    """A finite-state grammar (Sphinx FSG text) of a phone number said digit by digit, "double five" and
    "triple five" counting two and three digits: a national number of the language's country (its
    lengths, after its national prefix where it writes one, or "plus" and the country code:
    understanding.numbers.said_number_forms), or, `lengths` given, exactly that many digits ([]: any
    number of digits); or a request for a person. A counted graph, not a JSGF: JSGF rules are copied
    where they are used, and ten nested counts took seconds to build."""
    base = base_language(lang)
    digit_value = {w: n for w, n in DIGIT_WORDS.get(base, {}).items() if len(w) > 1}
    if not digit_value:
        return None
    prefixes: list[str] = []
    country = ""
    if lengths is None:
        lengths, prefixes, country = said_number_forms(lang)
    lengths = sorted(lengths)
    repeats = sorted((n, w) for w, n in REPEAT_WORDS.get(base, {}).items() if n > 1)
    fsg = _Fsg("number")
    begin = fsg.state()
    fsg.phrase(0, begin, "")  # most answers are a national number, some start with a prefix, a few ask for a person

    def said(digits: str) -> str:
        return " ".join(next(w for w, n in digit_value.items() if n == int(d)) for d in digits)

    for prefix in prefixes:
        fsg.phrase(0, begin, said(prefix), 0.2)
    for plus in sorted(PLUS_WORDS.get(base, set())) if country else []:
        fsg.phrase(0, begin, f"{plus} {said(country)}", 0.1)
    agent = _unique(AGENT_PHRASES.get(base, []))
    for phrase in agent:
        fsg.phrase(0, 1, phrase, 0.1 / len(agent))
    count = [begin] + [fsg.state() for _ in range(max(lengths, default=0))]  # count[k]: k digits said
    for k, here in enumerate(count):
        for n, word in [(1, None)] + repeats:
            to = count[k + n] if k + n < len(count) else None if lengths else begin  # any length: a loop
            if to is None:
                continue
            at = here
            if word is not None:
                at = fsg.state()
                fsg.phrase(here, at, word)
            for digit in digit_value:
                fsg.phrase(at, to, digit)
        if k in lengths or not lengths:
            fsg.phrase(here, 1, "")
    return fsg.text()


def grammar_for(kind: str, lang: str, examples: Mapping[str, Sequence[str]] | None = None) -> Grammar | None:
    """What to listen for when the answer is of `kind` ("skill", "yes_no", "digits", "time", "key")
    in `lang`. `examples` ({skill: utterances}) feeds `skill`. None: nothing to listen for (keys only).

    Every kind carries sentences, from which PocketSphinx builds a language model: for `skill` the
    examples, plus the short ones and the agent phrases in callers' carrier phrases (carried());
    for the others each word or phrase on its own, which makes a loop over them (a bounded JSGF
    loop of 20 digit phrases took over a second to build per decoder)."""
    if kind not in ANSWER_KINDS:
        raise ValueError(f"unknown answer kind {kind!r}; one of {', '.join(ANSWER_KINDS)}")
    if kind == "key":
        return None
    if kind == "skill":
        sentences = _unique([e for texts in (examples or {}).values() for e in texts])
        if not sentences:
            return None
        sentences += carried(sentences + _unique(AGENT_PHRASES.get(base_language(lang), [])), lang)
        vocabulary = sorted({w for sentence in sentences for w in sentence.split()})
        return Grammar(vocabulary, MAX_PHRASES[kind], kind, sentences)
    phrases = _phrases(kind, lang, None)
    if not phrases:
        return None
    sentences = list(phrases)
    if kind == "digits":
        # A number is digits in a row: give the model digit-to-digit steps, or a homophone in
        # another phrase ("to" in "talk to someone") wins over "two" after a digit.
        digits = [w for w in DIGIT_WORDS.get(base_language(lang), {}) if len(w) > 1 and w in phrases]
        repeats = [w for w in REPEAT_WORDS.get(base_language(lang), {}) if w in phrases]
        sentences += [f"{a} {b}" for a in digits + repeats for b in digits]
    # Phone numbers: a counted grammar. Times keep their language model: a grammar of the forms times are
    # said in was tried and not kept (docs/speech.md, "Phone numbers and times, fourth round").
    return Grammar(phrases, MAX_PHRASES[kind], kind, sentences, number_structure(lang) if kind == "digits" else None)


SHORT_ANSWER_WORDS = 3  # examples this short are also put in the carrier phrases


def carried(answers: Sequence[str], lang: str) -> list[str]:
    """The short answers among `answers` in the carrier phrases callers wrap them in ("billing please")."""
    short = [a for a in answers if len(a.split()) <= SHORT_ANSWER_WORDS]
    frames = CARRIER_PHRASES.get(base_language(lang), [])
    return _unique([frame.format(answer) for answer in short for frame in frames])


_built: dict[tuple, Grammar | None] = {}


def grammar_for_config(kind: str, lang: str, config) -> Grammar | None:
    """grammar_for() with the skills' examples from config.IvrConfig (built once per kind,
    language and examples: engines cache what they build from it by content)."""
    examples = None
    if kind == "skill" and lang in config.languages:
        from understanding import Understanding

        examples = Understanding.for_config(config).examples(lang)
    key = (kind, lang, tuple((skill, tuple(texts)) for skill, texts in sorted((examples or {}).items())))
    if key not in _built:
        _built[key] = grammar_for(kind, lang, examples)
    return _built[key]
