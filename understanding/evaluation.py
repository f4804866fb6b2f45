"""How well the skill classifier does: on an operator's own labelled phrases, and by
cross-validation on the examples it learns from.

A labelled file is `text<TAB>skill` per line; blank lines and lines starting with # are skipped.
A guess of "none of these" counts as right when the label is the fallback skill, because that is
where the call flow sends it.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

NONE = "(none)"


class LabelledFileError(ValueError):
    """A labelled file that cannot be read; the message names the line."""


def read_labelled(lines: Iterable[str], skills: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(text, skill) pairs from `text<TAB>skill` lines, refusing unknown skills when `skills` is given."""
    pairs = []
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        text, tab, skill = line.rpartition("\t")
        if not tab or not text.strip() or not skill.strip():
            raise LabelledFileError(f"line {number}: expected text<TAB>skill, got {line[:60]!r}")
        skill = skill.strip()
        if skills is not None and skill not in skills:
            raise LabelledFileError(f"line {number}: unknown skill {skill!r} (skills: {', '.join(skills)})")
        pairs.append((text.strip(), skill))
    return pairs


@dataclass
class Miss:
    text: str
    wanted: str
    got: str  # a skill or NONE
    confidence: float


@dataclass
class Evaluation:
    total: int = 0
    correct: int = 0
    doubtful: int = 0  # right or wrong, would have been confirmed with the caller
    confusion: Counter = field(default_factory=Counter)  # (wanted, got) -> count
    misses: list[Miss] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def labels(self) -> list[str]:
        found = sorted({w for w, _ in self.confusion} | {g for _, g in self.confusion} - {NONE})
        return found + ([NONE] if any(g == NONE for _, g in self.confusion) else [])


def evaluate(understanding, pairs: Sequence[tuple[str, str]], lang: str, fallback: str) -> Evaluation:
    """Classify each text in `lang`; a guess of none counts as the fallback skill."""
    result = Evaluation()
    for text, wanted in pairs:
        guess = understanding.skill(text, lang)
        got = guess.skill or NONE
        right = got == wanted or (got == NONE and wanted == fallback)
        result.total += 1
        result.correct += right
        result.doubtful += guess.needs_confirmation
        result.confusion[wanted, got] += 1
        if not right:
            result.misses.append(Miss(text, wanted, got, guess.confidence))
    return result


def cross_validate(examples: Mapping[str, Sequence[str]], lang: str, fallback: str, folds: int = 5,
                   repeats: int = 3, seed: int = 0) -> list[float]:
    """Accuracy of models trained on (folds-1)/folds of the examples on the rest, per repeat.

    Each skill's examples are shuffled and dealt round the folds, so every fold holds every skill."""
    from understanding import Understanding

    rng = random.Random(seed)
    scores = []
    for _ in range(repeats):
        fold_of: dict[tuple[str, int], int] = {}
        for skill, texts in examples.items():
            order = list(range(len(texts)))
            rng.shuffle(order)
            for position, index in enumerate(order):
                fold_of[skill, index] = position % folds
        right = total = 0
        for fold in range(folds):
            train = {skill: [t for i, t in enumerate(texts) if fold_of[skill, i] != fold]
                     for skill, texts in examples.items()}
            test = [(t, skill) for skill, texts in examples.items()
                    for i, t in enumerate(texts) if fold_of[skill, i] == fold]
            scored = evaluate(Understanding({lang: train}), test, lang, fallback)
            right += scored.correct
            total += scored.total
        scores.append(right / total)
    return scores


def format_report(result: Evaluation, show_misses: bool = True) -> str:
    """Accuracy, a confusion matrix (rows: the label, columns: the guess) and the misses, as text."""
    labels = result.labels()
    width = max([len(x) for x in labels] + [8])
    lines = [f"accuracy: {result.accuracy:.1%} ({result.correct}/{result.total}); "
             f"doubtful (would be confirmed): {result.doubtful}",
             "", "confusion (rows: labelled, columns: guessed):",
             " " * (width + 1) + " ".join(f"{x:>{width}}" for x in labels)]
    for wanted in labels:
        if wanted == NONE:
            continue
        lines.append(f"{wanted:>{width}} " + " ".join(f"{result.confusion.get((wanted, got), 0):>{width}}"
                                                      for got in labels))
    if show_misses and result.misses:
        lines += ["", f"misses ({len(result.misses)}):"]
        lines += [f"  {m.wanted} -> {m.got} ({m.confidence:.2f}): {m.text}" for m in result.misses]
    return "\n".join(lines)
