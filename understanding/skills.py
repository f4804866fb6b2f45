"""Which skill a caller wants, learnt from the operator's example utterances.

One model per language: TF-IDF of word 1-2-grams and of character 2-5-grams inside words (so
typos and misrecognised words still share most of their pieces with the examples), then a
multinomial logistic regression. Its probabilities are calibrated by temperature scaling fitted
on out-of-fold predictions of the examples themselves, so "0.8" means about 8 in 10 are right on
phrasings the model has not seen. docs/understanding.md has the measurements behind these choices.

"None of these" is explicit: when no telling word of the text is known to the model (exactly or
nearly; words every skill's examples use, like "my" or "the", tell nothing), or the best
probability is below NONE_FLOOR, the guess is None and the call flow sends the caller to the
fallback skill. Between NONE_FLOOR and CONFIRM_BELOW the IVR asks "billing, is
that right?" (needs_confirmation).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Mapping, Sequence

import numpy as np

from understanding.words import STOP_WORDS, base_language, words

# scikit-learn and scipy are imported when a model is trained, not when the word tables are:
# speech grammars and the SMS parser read understanding.words without paying for them.

# Calibrated probability (times the speech engine's confidence) below which the words are
# taken as none of the skills, and below which the caller is asked to confirm.
NONE_FLOOR = 0.4
CONFIRM_BELOW = 0.7
# Inverse regularisation: examples are few and short, so the model may follow them closely;
# temperature scaling then corrects its confidence.
C = 20.0
# How similar an unknown word must be to a known one to count as a misspelling of it.
NEAR_WORD_RATIO = 0.82
# Words from this long share their first STEM letters with other forms ("cheapest", "cheaper");
# a word one letter shorter is a near miss when one letter differs ("deel", "deal").
STEM = 5
# Slipped copies of each example added to the training data (0 turns it off).
TYPO_COPIES = 1
TOP = 3


@dataclass(frozen=True)
class SkillGuess:
    skill: str | None  # None = "none of these"
    confidence: float  # calibrated 0..1, times the speech engine's confidence
    ranked: tuple[tuple[str, float], ...]  # the top skills with their probabilities, best first
    needs_confirmation: bool  # doubtful: the IVR asks "billing, is that right?"


NOTHING = SkillGuess(None, 0.0, (), False)


def normalise(text: str) -> str:
    """The form the model reads: lower-case words without punctuation, as a speech engine writes them."""
    return " ".join(words(text))


def _features() -> object:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(
        TfidfVectorizer(preprocessor=normalise, ngram_range=(1, 2), sublinear_tf=True,
                        token_pattern=r"(?u)\b\w+\b"),
        TfidfVectorizer(preprocessor=normalise, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    )


def with_slip(text: str, rng: random.Random) -> str:
    """`text` with one slip in its longest word: two letters swapped, one dropped or one doubled."""
    ws = text.split()
    if not ws:
        return text
    i = max(range(len(ws)), key=lambda k: (len(ws[k]), rng.random()))
    w = ws[i]
    if len(w) < 4:
        return text
    at = rng.randrange(1, len(w) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        w = w[:at] + w[at + 1] + w[at] + w[at + 2:]
    elif kind == 1:
        w = w[:at] + w[at + 1:]
    else:
        w = w[:at] + w[at] + w[at:]
    return " ".join(ws[:i] + [w] + ws[i + 1:])


def _temperature(matrix, labels: np.ndarray, n_classes: int, slipped: bool) -> float:
    """The temperature that makes out-of-fold probabilities honest (1.0 when there are too few examples).

    Rows after the first len(labels) are slipped copies of the examples, in the same order: a
    copy trains with its example and is never tested."""
    from scipy.optimize import minimize_scalar
    from scipy.special import softmax
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    folds = min(5, int(np.bincount(labels).min()))
    if folds < 2 or n_classes < 2:
        return 1.0
    logits = np.zeros((len(labels), n_classes))
    n = len(labels)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(n), labels):
        if len(set(labels[train])) < n_classes:
            return 1.0
        rows = np.concatenate([train, train + n]) if slipped else train
        model = LogisticRegression(C=C, solver="newton-cg").fit(matrix[rows], np.concatenate([labels, labels])[rows])
        logits[test] = model.decision_function(matrix[test])

    def nll(log_t: float) -> float:
        p = softmax(logits / np.exp(log_t), axis=1)[np.arange(len(labels)), labels]
        return -np.log(np.clip(p, 1e-12, None)).mean()

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


class SkillModel:
    """The classifier for one language, trained from {skill: [example, ...]}."""

    def __init__(self, examples: Mapping[str, Sequence[str]], lang: str = ""):
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        self.skills = tuple(sorted(s for s, texts in examples.items() if texts))
        texts = [normalise(t) for s in self.skills for t in examples[s]]
        labels = np.array([i for i, s in enumerate(self.skills) for _ in examples[s]])
        # Each example once more with a typing or hearing slip, so slips elsewhere still match.
        rng = random.Random(0)
        slipped = [with_slip(t, rng) for t in texts] if TYPO_COPIES else []
        # One thread: training happens at start-up next to other work, and these matrices are tiny.
        with threadpool_limits(1):
            self.features = _features()
            matrix = self.features.fit_transform(texts + slipped)
            all_labels = np.concatenate([labels, labels[:len(slipped)]])
            if len(self.skills) > 1:
                self.model = LogisticRegression(C=C, solver="newton-cg").fit(matrix, all_labels)
                self.temperature = _temperature(matrix, labels, len(self.skills), len(slipped) > 0)
        # Telling words: the examples' words that are not function words.
        self.stop_words = STOP_WORDS.get(base_language(lang), set())
        self.telling_words = {w for t in texts for w in t.split() if w not in self.stop_words}
        self._stems = {w[:STEM] for w in self.telling_words if len(w) >= STEM}
        self._short = [w for w in self.telling_words if len(w) == STEM - 1]

    def knows_a_word(self, said: Sequence[str]) -> bool:
        """Whether a word said is a telling word of the examples, or a near miss of one: a slip
        ("interent", "deel"), or another form of it ("cheapest" for "cheaper")."""
        for w in said:
            if w in self.telling_words:
                return True
            if w in self.stop_words or len(w) < STEM - 1:
                continue
            if len(w) == STEM - 1:
                if any(sum(a != b for a, b in zip(w, known)) == 1 for known in self._short):
                    return True
            elif w[:STEM] in self._stems or get_close_matches(w, self.telling_words, n=1, cutoff=NEAR_WORD_RATIO):
                return True
        return False

    def probabilities(self, text: str) -> list[tuple[str, float]]:
        """Every skill with its calibrated probability, best first."""
        from scipy.special import softmax
        from threadpoolctl import threadpool_limits

        if len(self.skills) == 1:
            return [(self.skills[0], 1.0)]
        with threadpool_limits(1):
            logits = self.model.decision_function(self.features.transform([text]))
        logits = np.asarray(logits, dtype=float).reshape(1, -1)
        if logits.shape[1] == 1:  # two skills: one logit for the second against the first
            logits = np.hstack([-logits / 2, logits / 2])
        p = softmax(logits[0] / self.temperature)
        order = np.argsort(-p, kind="stable")
        return [(self.skills[i], float(p[i])) for i in order]

    def guess(self, text: str, asr_confidence: float = 1.0) -> SkillGuess:
        said = words(text)
        if not said or not self.knows_a_word(said):
            return NOTHING
        ranked = self.probabilities(text)
        best, p = ranked[0]
        confidence = round(p * max(0.0, min(1.0, asr_confidence)), 3)
        top = tuple((skill, round(score, 3)) for skill, score in ranked[:TOP])
        if confidence < NONE_FLOOR:
            return SkillGuess(None, confidence, top, False)
        return SkillGuess(best, confidence, top, confidence < CONFIRM_BELOW)
