"""How well and how fast the skill classifier does with the shipped examples.

    python3 bench/understanding_bench.py [--repeats 3]

Prints, per language: training time (CPU and wall, both languages' models are trained at
start-up), time per classification, k-fold cross-validation on the shipped examples, and
accuracy on the held-out phrasings in tests/fixtures/understanding (never used for training).
The results table lives in docs/benchmarks.md ("Understanding").
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from config import load_ivr_config  # noqa: E402
from understanding import Understanding, training_texts  # noqa: E402
from understanding.evaluation import cross_validate, evaluate, read_labelled  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "fixtures",
                        "understanding")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="cross-validation repeats")
    args = parser.parse_args()
    config = load_ivr_config()
    fallback = config.fallback_skill.name
    Understanding.from_config(config)  # imports scikit-learn once, so the timings below are training only
    cpu, wall = [], []
    for _ in range(3):
        c, w = time.process_time(), time.perf_counter()
        understanding = Understanding.from_config(config)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    print(f"training, both languages: cpu {min(cpu) * 1000:.0f} ms, wall {min(wall) * 1000:.0f} ms (best of 3)")
    print("| language | examples | cross-validation (5-fold) | held-out | doubtful on held-out | per text |")
    print("|---|---|---|---|---|---|")
    for lang in config.languages:
        examples = {s.name: training_texts(s, lang) for s in config.skills.values()}
        scores = cross_validate(examples, lang, fallback, folds=5, repeats=args.repeats)
        with open(os.path.join(FIXTURES, f"heldout.{lang}.tsv"), encoding="utf-8") as fh:
            pairs = read_labelled(fh, list(config.skills))
        started = time.perf_counter()
        result = evaluate(understanding, pairs, lang, fallback)
        per_text = (time.perf_counter() - started) / len(pairs)
        print(f"| {lang} | {sum(map(len, examples.values()))} | {statistics.mean(scores):.1%} "
              f"(runs {', '.join(f'{s:.1%}' for s in scores)}) | {result.accuracy:.1%} ({result.correct}/{result.total}) "
              f"| {result.doubtful} | {per_text * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
