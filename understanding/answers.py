"""Short answers: yes or no, "as soon as possible", "let me talk to a person"."""
from __future__ import annotations

from understanding.words import AGENT_PHRASES, ASAP_PHRASES, NO_WORDS, YES_WORDS, base_language, contains_phrase, words


def yes_no(text: str, lang: str) -> bool | None:
    """True for yes, False for no, None when the words say neither.

    Negation wins over a yes-word ("no that's not right" is no; "not right" is no).
    """
    lang = base_language(lang)
    yes_words, no_words = YES_WORDS.get(lang, set()), NO_WORDS.get(lang, set())
    ws = words(text)
    yes = no = False
    for i, w in enumerate(ws):
        pair = " ".join(ws[i:i + 2])
        if w in no_words or pair in no_words:
            no = True
        elif w in yes_words or pair in yes_words:
            yes = True
    if no:
        return False
    return True if yes else None


def wants_asap(text: str, lang: str) -> bool:
    return contains_phrase(words(text), ASAP_PHRASES.get(base_language(lang), []))


def wants_agent(text: str, lang: str) -> bool:
    """Whether the caller asks for a person ("agent", "a real person", "iemand spreken")."""
    return contains_phrase(words(text), AGENT_PHRASES.get(base_language(lang), []))
