"""The held-out spoken answers (bench/speech_test_answers.en-US.tsv) are no near copy of what was tuned on.

Prompts, the digit decode and the confidence calibration are tuned on the dev answers
(bench/speech_dev_answers.en-US.tsv); the test answers measure them. A test phrasing that shares most of
its words with a dev phrasing, an operator's example, a phrasing the speech tests use or a prompt given to
Whisper would measure what was tuned, not callers. Near-copies are judged as for the skill classifier's
held-out set (tests/support/near_copy.py: content words overlapping by Jaccard 0.6 or more, or a run of five
words in order); none may be a word-for-word copy of a shipped example, and those near a shipped example are
counted apart by tests/speech/test_spoken_answers.py. Numbers are compared by their digits.
"""
from __future__ import annotations

import os
import sys

import pytest

from tests.support.near_copy import near_copy, same_words
from understanding.numbers import spoken_digits
from understanding.words import ANSWER_HINTS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from make_speech_fixtures import answer_rows  # noqa: E402

SHARED_DIGITS = 6  # a number sharing a run of this many digits with a dev number is a near copy


def longest_shared_run(a: str, b: str) -> int:
    return max((n for n in range(1, min(len(a), len(b)) + 1)
                if any(a[i:i + n] in b for i in range(len(a) - n + 1))), default=0)


@pytest.fixture(scope="module")
def tuned() -> list[str]:
    """Every phrasing recognition was tuned on: the dev answers, the speech tests' phrasings (PocketSphinx's
    front end and language models were developed on them) and the prompts given to Whisper."""
    texts = [said for kind, said, _ in answer_rows("dev") if kind != "digits"]
    with open(os.path.join(ROOT, "tests", "speech", "spoken_requests.en-US.tsv"), encoding="utf-8") as f:
        texts += [line.split("\t")[0] for line in f if line.strip() and not line.startswith("#")]
    texts += [sentence for hint in ANSWER_HINTS["en"].values() for sentence in hint.split(".")]
    return [t for t in texts if t.strip()]


@pytest.fixture(scope="module")
def examples() -> list[str]:
    """The operator's shipped examples, which train the classifier and the skill grammar."""
    from config import load_ivr_config
    from understanding import Understanding

    return [t for texts in Understanding.for_config(load_ivr_config()).examples("en-US").values() for t in texts]


def test_the_sets_hold_every_kind_of_answer():
    for set_name in ("dev", "test"):
        rows = answer_rows(set_name)
        assert {kind for kind, _, _ in rows} == {"yes_no", "time", "digits", "skill"}
        meant = {m for _, _, m in rows}
        assert {"yes", "no", "neither", "asap", "none"} <= meant, set_name  # neither, asap, contradictory
    test = [said for _, said, _ in answer_rows("test")]
    assert len(test) == len(set(test)) >= 40


def test_no_test_phrasing_is_a_near_copy_of_a_tuned_one(tuned):
    # A tuning phrasing found too close to a test one is reworded; the test phrasing is not touched.
    copies = [(said, t) for kind, said, _ in answer_rows("test") if kind != "digits"
              for t in tuned if near_copy(said, t, "en-US")]
    assert copies == []


def test_no_test_phrasing_is_a_shipped_example_word_for_word(examples):
    taught = {same_words(t) for t in examples}
    assert [said for kind, said, _ in answer_rows("test") if same_words(said) in taught] == []


def test_no_test_number_is_a_near_copy_of_a_dev_number():
    dev = [spoken_digits(said, "en-US") for kind, said, _ in answer_rows("dev") if kind == "digits"]
    for kind, said, _ in answer_rows("test"):
        if kind == "digits":
            digits = spoken_digits(said, "en-US")
            assert len(digits) == 10
            assert all(longest_shared_run(digits, d) < SHARED_DIGITS for d in dev), (said, dev)


def test_the_overlap_measure_catches_a_near_copy():
    assert near_copy("my bill is too high", "my bill is too high this month", "en-US")
    assert near_copy("that's correct yes", "correct", "en-US")  # one content word, the same
    assert not near_copy("why is my invoice so expensive", "my bill is too high", "en-US")
    assert longest_shared_run("4155550123", "4155550199") >= SHARED_DIGITS
