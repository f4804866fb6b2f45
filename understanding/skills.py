"""Which skill a caller wants, learnt from the operator's example utterances.

One model per language. Text is first read the same way for examples and callers: contractions
spelled out, one spelling per word ("wi-fi", "e-mail"), and a word the examples do not know read as
the known word one slip away ("biil" -> "bill") or as the known words it is made of ("tvpakket").
Features: TF-IDF of word 1-2-grams and of character 1-5-grams inside words (so typos and
misrecognised words still share most of their pieces with the examples), then a multinomial
logistic regression. Its probabilities are calibrated by temperature scaling fitted
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
from collections import Counter
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Mapping, Sequence

import numpy as np

from understanding.words import STOP_WORDS, base_language, canonical_words

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
# Languages that write compounds as one word, and how long the last part of one must be to count as
# a known word's last part ("bundel" in "gezinsbundel" and "databundel").
COMPOUNDING = {"nl"}
HEAD = 5
# Slipped copies of each example added to the training data (0 turns it off).
TYPO_COPIES = 1
TOP = 3
# Folds of the examples whose out-of-fold predictions fit the temperature: 3 give the same
# temperature as 5 (measured) for less training time at start-up.
CALIBRATION_FOLDS = 3
# Features (docs/understanding.md compares the alternatives): word n-grams, character n-grams
# inside words, and how much the character features weigh against the word features.
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (1, 5)
CHAR_WEIGHT = 1.4


@dataclass(frozen=True)
class SkillGuess:
    skill: str | None  # None = "none of these"
    confidence: float  # calibrated 0..1, times the speech engine's confidence
    ranked: tuple[tuple[str, float], ...]  # the top skills with their probabilities, best first
    needs_confirmation: bool  # doubtful: the IVR asks "billing, is that right?"


NOTHING = SkillGuess(None, 0.0, (), False)


def normalise(text: str, lang: str = "") -> str:
    """The form the model reads: lower-case words without punctuation, as a speech engine writes them,
    contractions spelled out and one spelling per word (understanding.words.canonical_words)."""
    return " ".join(canonical_words(text, lang))


def _features() -> object:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    # Texts arrive prepared (SkillModel.prepare): only split them.
    return FeatureUnion([
        ("words", TfidfVectorizer(lowercase=False, ngram_range=WORD_NGRAMS, sublinear_tf=True,
                                  token_pattern=r"(?u)\b\w+\b")),
        ("chars", TfidfVectorizer(lowercase=False, analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True)),
    ], transformer_weights={"words": 1.0, "chars": CHAR_WEIGHT})


def _edits(word: str) -> set[str]:
    """The word with one letter dropped (and itself): two words that share one of these are one
    slip apart (a letter dropped, added, changed, or two swapped)."""
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


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

    folds = min(CALIBRATION_FOLDS, int(np.bincount(labels).min()))
    if folds < 2 or n_classes < 2:
        return 1.0
    logits = np.zeros((len(labels), n_classes))
    n = len(labels)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(n), labels):
        if len(set(labels[train])) < n_classes:
            return 1.0
        rows = np.concatenate([train, train + n]) if slipped else train
        model = LogisticRegression(C=C, solver="newton-cg").fit(matrix[rows], np.concatenate([labels, labels])[rows])
        logits[test] = _logits(model.decision_function(matrix[test]))

    def nll(log_t: float) -> float:
        p = softmax(logits / np.exp(log_t), axis=1)[np.arange(len(labels)), labels]
        return -np.log(np.clip(p, 1e-12, None)).mean()

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


def _logits(decision) -> np.ndarray:
    """One logit per skill and row. With two skills scikit-learn gives one number per row, the
    second skill against the first."""
    decision = np.asarray(decision, dtype=float)
    if decision.ndim == 1:
        decision = decision.reshape(-1, 1)
    return np.hstack([-decision / 2, decision / 2]) if decision.shape[1] == 1 else decision


def _one_slip(a: str, b: str) -> bool:
    """Whether a and b differ by one letter dropped, added, changed, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


class SkillModel:
    """The classifier for one language, trained from {skill: [example, ...]}."""

    def __init__(self, examples: Mapping[str, Sequence[str]], lang: str = ""):
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        self.skills = tuple(sorted(s for s, texts in examples.items() if texts))
        self.lang = lang
        self.stop_words = STOP_WORDS.get(base_language(lang), set())
        texts = [normalise(t, lang) for s in self.skills for t in examples[s]]
        # The examples' own words, for reading slips and compounds in what callers say.
        self.vocabulary = Counter(w for t in texts for w in t.split())
        self._by_edit: dict[str, set[str]] = {}
        for w in self.vocabulary:
            if len(w) >= 3 and not w.isdigit():
                for e in _edits(w):
                    self._by_edit.setdefault(e, set()).add(w)
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
        self.telling_words = {w for t in texts for w in t.split() if w not in self.stop_words}
        self._stems = {w[:STEM] for w in self.telling_words if len(w) >= STEM}
        self._short = [w for w in self.telling_words if len(w) == STEM - 1]
        # Dutch compounds put the word that tells last: "gezinsbundel" is a kind of "databundel".
        self._heads = {w[-k:] for w in self.telling_words if len(w) > HEAD
                       for k in range(HEAD, len(w))} if base_language(lang) in COMPOUNDING else set()

    def prepare(self, text: str) -> str:
        """What the model reads of `text`: normalise(), then each word the examples do not know read
        as the known word one slip away ("biil" -> "bill"), or as the known words it is made of
        ("internetstoring" -> "internet storing"); two known words' halves written apart are joined
        ("sim kaart" -> "simkaart")."""
        said = normalise(text, self.lang).split()
        out: list[str] = []
        i = 0
        while i < len(said):
            w = said[i]
            if i + 1 < len(said) and w + said[i + 1] in self.vocabulary \
                    and (w not in self.vocabulary or said[i + 1] not in self.vocabulary):
                out.append(w + said[i + 1])
                i += 2
                continue
            i += 1
            if w in self.vocabulary or w in self.stop_words or w.isdigit():
                out.append(w)
                continue
            fixed = self._slip_of(w) or self._parts_of(w)
            out.extend(fixed.split() if fixed else [w])
        return " ".join(out)

    def _slip_of(self, w: str) -> str | None:
        """The known word one slip from `w` (the most used one when there are several), or None."""
        if len(w) < 3:
            return None
        found = {k for e in _edits(w) for k in self._by_edit.get(e, ())}
        found = {k for k in found if _one_slip(w, k) and (len(k) >= 4 or len(w) >= 4)}
        if not found:
            return None
        return max(sorted(found), key=lambda k: self.vocabulary[k])

    def _parts_of(self, w: str) -> str | None:
        """`w` as two known telling words written together, in Dutch maybe with a linking s, e or en
        between them ("internetstoring", "tvpakket", "abonnementskosten"), or None."""
        if len(w) < 6:
            return None
        links = ("", "s", "e", "en") if base_language(self.lang) == "nl" else ("",)
        best = None
        for cut in range(2, len(w) - 2):
            head = w[:cut]
            if head not in self.vocabulary or head in self.stop_words:
                continue
            for link in links:
                tail = w[cut + len(link):] if w[cut:].startswith(link) else None
                if tail and len(tail) >= 3 and tail in self.vocabulary and tail not in self.stop_words:
                    if best is None or len(tail) > len(best[1]):
                        best = (head, tail)
        return f"{best[0]} {best[1]}" if best else None

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
            elif len(w) >= HEAD + 3 and any(w[-k:] in self._heads for k in range(HEAD, len(w) - 2)):
                return True
        return False

    def probabilities(self, text: str) -> list[tuple[str, float]]:
        """Every skill with its calibrated probability, best first."""
        return self._probabilities(self.prepare(text))

    def _probabilities(self, prepared: str) -> list[tuple[str, float]]:
        from scipy.special import softmax
        from threadpoolctl import threadpool_limits

        if len(self.skills) == 1:
            return [(self.skills[0], 1.0)]
        with threadpool_limits(1):
            logits = self.model.decision_function(self.features.transform([prepared]))
        p = softmax(_logits(logits)[0] / self.temperature)
        order = np.argsort(-p, kind="stable")
        return [(self.skills[i], float(p[i])) for i in order]

    def guess(self, text: str, asr_confidence: float = 1.0) -> SkillGuess:
        prepared = self.prepare(text)
        said = prepared.split()
        if not said or not self.knows_a_word(said):
            return NOTHING
        ranked = self._probabilities(prepared)
        best, p = ranked[0]
        confidence = round(p * max(0.0, min(1.0, asr_confidence)), 3)
        top = tuple((skill, round(score, 3)) for skill, score in ranked[:TOP])
        if confidence < NONE_FLOOR:
            return SkillGuess(None, confidence, top, False)
        return SkillGuess(best, confidence, top, confidence < CONFIRM_BELOW)
