"""A small domain language model (ARPA trigram) built from example sentences.

PocketSphinx decodes with an n-gram language model as well as with grammars.
Built from what callers say (the operator's examples per skill), it lets a caller
use any words of that vocabulary in any order, with the likely sequences
preferred, instead of forcing speech onto a fixed phrase list. Built at start-up
in milliseconds; nothing is downloaded.

Witten-Bell discounting with Katz back-off: an n-gram seen after a history gets
c(h, w) / (c(h) + T(h)) (T = distinct words seen after h); the rest of the mass
goes to the shorter history. Unigrams are add-k smoothed (k = 5), so every word of the
vocabulary can follow every other, and a word the examples use once is not far less
likely than a common one: a caller's own words are often the rare ones (measured:
k = 5 heard 71% right where add-one heard 68%; docs/benchmarks.md).
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Iterable, Sequence

BOS, EOS = "<s>", "</s>"
UNIGRAM_ADD = 5.0


def _log10(p: float) -> float:
    return math.log10(p) if p > 0 else -99.0


class TrigramModel:
    def __init__(self, sentences: Iterable[Sequence[str]], order: int = 3):
        self.order = order
        self.counts: list[Counter] = [Counter() for _ in range(order + 1)]  # counts[n][tuple of n words]
        for words in sentences:
            if not words:
                continue
            seq = [BOS] + list(words) + [EOS]
            for n in range(1, order + 1):
                for i in range(len(seq) - n + 1):
                    gram = tuple(seq[i:i + n])
                    if n == 1 and gram == (BOS,):
                        continue
                    self.counts[n][gram] += 1
        self.vocabulary = sorted({w for (w,) in self.counts[1]} - {EOS})
        # History statistics per order: total count after h and distinct followers.
        self._after: list[dict] = [dict() for _ in range(order + 1)]
        for n in range(2, order + 1):
            total: Counter = Counter()
            kinds: dict[tuple, int] = defaultdict(int)
            for gram, c in self.counts[n].items():
                total[gram[:-1]] += c
                kinds[gram[:-1]] += 1
            self._after[n] = {h: (total[h], kinds[h]) for h in total}
        unigrams = self.counts[1]
        self._unigram_total = sum(unigrams.values()) + UNIGRAM_ADD * len(unigrams)
        self._prob_cache: dict[tuple, float] = {}
        self._backoff_cache: dict[tuple, float] = {}

    # --- probabilities ----------------------------------------------------------

    def _unigram(self, word: str) -> float:
        return (self.counts[1].get((word,), 0) + UNIGRAM_ADD) / self._unigram_total

    def _seen(self, gram: tuple) -> float:
        """P(w | h) for an n-gram seen in training (n >= 2)."""
        total, kinds = self._after[len(gram)][gram[:-1]]
        return self.counts[len(gram)][gram] / (total + kinds)

    def backoff(self, history: tuple) -> float:
        """The weight that spreads the mass left after `history` over the shorter history."""
        cached = self._backoff_cache.get(history)
        if cached is not None:
            return cached
        n = len(history) + 1
        stats = self._after[n].get(history) if n <= self.order else None
        if stats is None:
            weight = 1.0
        else:
            followers = self._followers(n, history)
            left = 1.0 - sum(self._seen(g) for g in followers)
            lower_left = 1.0 - sum(self.prob(g[1:]) for g in followers)
            weight = left / lower_left if lower_left > 1e-12 else 1.0
        self._backoff_cache[history] = weight
        return weight

    def _followers(self, n: int, history: tuple):
        index = self.__dict__.setdefault("_follower_index", {})
        if n not in index:
            by_history: dict[tuple, list[tuple]] = defaultdict(list)
            for gram in self.counts[n]:
                by_history[gram[:-1]].append(gram)
            index[n] = by_history
        return index[n].get(history, [])

    def prob(self, gram: tuple) -> float:
        """P(w | h) in the back-off model, for any gram up to the model's order."""
        cached = self._prob_cache.get(gram)
        if cached is not None:
            return cached
        if len(gram) == 1:
            p = self._unigram(gram[0])
        elif gram in self.counts[len(gram)]:
            p = self._seen(gram)
        else:
            p = self.backoff(gram[:-1]) * self.prob(gram[1:])
        self._prob_cache[gram] = p
        return p

    # --- output -----------------------------------------------------------------

    def arpa(self) -> str:
        lines = ["\\data\\"]
        grams_by_order = []
        for n in range(1, self.order + 1):
            grams = sorted(self.counts[n])
            if n == 1:
                grams = [(BOS,)] + grams
            grams_by_order.append(grams)
            lines.append(f"ngram {n}={len(grams)}")
        lines.append("")
        for n, grams in enumerate(grams_by_order, start=1):
            lines.append(f"\\{n}-grams:")
            for gram in grams:
                p = -99.0 if gram == (BOS,) else _log10(self.prob(gram))
                text = " ".join(gram)
                if n < self.order and gram[-1] != EOS:
                    lines.append(f"{p:.4f} {text} {_log10(self.backoff(gram)):.4f}")
                else:
                    lines.append(f"{p:.4f} {text}")
            lines.append("")
        lines.append("\\end\\")
        return "\n".join(lines) + "\n"


def arpa_from_sentences(sentences: Iterable[Sequence[str]], order: int = 3) -> str:
    """An ARPA text language model for the given tokenised sentences."""
    return TrigramModel(sentences, order).arpa()
