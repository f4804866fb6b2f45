"""When two phrasings are near-copies: the one leak check for every accuracy floor (tests/README.md,
"Accuracy floors"). A held-out phrasing that is a near-copy of one a model was tuned or trained on
measures what was tuned, not callers. Used by tests/understanding/test_skills.py (held-out vs the tuning
sets and the shipped examples) and tests/speech/ (the spoken answers' test set vs the dev answers, the
examples, the speech tests' own phrasings and Whisper's prompts)."""
from __future__ import annotations

import re

from understanding.words import STOP_WORDS, base_language

RUN = 5  # words in a row shared: a near-copy whatever else differs
JACCARD = 0.6  # content words shared (of both phrasings' together): a near-copy


def _key(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower().replace("'", ""))


def near_copy(a: str, b: str, lang: str) -> bool:
    """Whether two phrasings are near-copies: their content words (stop words left out) overlap by
    Jaccard 0.6 or more (all words, when one has no content word: "one", "i'm not sure"), or they share a
    run of five words in order."""
    a, b = _key(a), _key(b)
    stop = STOP_WORDS.get(base_language(lang), set())
    ca, cb = {w for w in a if w not in stop}, {w for w in b if w not in stop}
    if not ca or not cb:
        ca, cb = set(a), set(b)
    if len(ca & cb) >= JACCARD * len(ca | cb):
        return True
    runs = {tuple(a[i:i + RUN]) for i in range(len(a) - RUN + 1)}
    return any(tuple(b[i:i + RUN]) in runs for i in range(len(b) - RUN + 1))


def same_words(text: str) -> str:
    """The phrasing as its words alone (case, punctuation and apostrophes dropped): for word-for-word copies."""
    return " ".join(_key(text))
