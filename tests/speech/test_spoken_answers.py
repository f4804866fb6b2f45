"""Spoken answers on telephone audio, recognised the way /media does it, measured on a held-out set.

Recordings are made here with two synthesisers, espeak-ng and CMU Flite, two voices each
(telephony.audio.speak), passed through the phone band (8 kHz, 300-3400 Hz, mu-law) and fed in 20 ms frames to
speech/session.py with the engine's recognizer for the kind of answer (speech.grammar.grammar_for_config, what
webhooks/media.py builds); the transcript is read by understanding, as the IVR reads it.

What is said is the held-out answer set, bench/speech_test_answers.en-US.tsv (its skill and yes/no lines): never
used to tune the recogniser, its language models, the prompts or understanding (tests/README.md, "Accuracy
floors"). The phrasings PocketSphinx's front end and language models were developed on
(tests/speech/spoken_requests.en-US.tsv, bench/speech_dev_answers.en-US.tsv) measure what was tuned and carry no
floor here. tests/speech/test_answer_sets.py checks the set for near-copies (tests/support/near_copy.py) of every
tuning phrasing; its lines that are near-copies of a shipped example are counted apart below, and the rest has a
floor of its own.

Each floor is what was measured less MARGIN recordings, counted in recordings, not rounded shares. The skill
answers are also held to a balanced score (the mean of each skill's share right), which the old phrase
grammar's "human for almost anything" (0.25 balanced) fails.
"""
from __future__ import annotations

import os
import sys

import pytest

from speech.session import SessionLimits, SpeechSession
from speech.twilio_media import mulaw_to_pcm16
from telephony.audio import speak
from tests.support.near_copy import near_copy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from make_speech_fixtures import answer_rows  # noqa: E402

# Two synthesisers: espeak-ng's formant voices are far harder for the acoustic model than Flite's
# (docs/benchmarks.md), and a result that holds for one synthesiser may say more about it than about us.
SYNTHESISERS = {"espeak-ng": ["espeak-ng:en-us", "espeak-ng:en-gb"], "flite": ["flite:slt", "flite:rms"]}
YES_NO_MEANING = {"yes": True, "no": False, "neither": None}


def phone_recording(text: str, voice: str) -> bytes:
    """`text` said by `voice`, on the phone line, as 16-bit PCM at 8 kHz with quiet around it."""
    return mulaw_to_pcm16(speak(text, voice=voice))


def hear(engine, grammar, pcm: bytes):
    session = SpeechSession(engine.recognizer(8000, grammar), SessionLimits())
    for i in range(0, len(pcm), 320):
        if session.feed_audio(pcm[i:i + 320]):
            break
    return session.outcome or session.hangup()


def held_out(kind: str) -> list[tuple[str, str]]:
    """(what is said, what it means) for the held-out set's lines of one kind."""
    return [(said, meant) for k, said, meant in answer_rows("test") if k == kind]


@pytest.fixture(scope="module")
def config():
    from config import load_ivr_config

    return load_ivr_config()


@pytest.fixture(scope="module")
def understanding(config):
    from understanding import Understanding

    return Understanding.for_config(config)


def unlike_the_examples(items, understanding) -> list[tuple[str, str]]:
    """The lines that are no near-copy of any shipped example (tests/support/near_copy.py)."""
    taught = [t for texts in understanding.examples("en-US").values() for t in texts]
    return [(said, skill) for said, skill in items if not any(near_copy(said, e, "en-US") for e in taught)]


def skill_results(en_engine, config, understanding, items, voices):
    """Per skill, (right, heard) over every phrasing in every voice; and the misses."""
    from speech.grammar import grammar_for_config

    grammar = grammar_for_config("skill", "en-US", config)
    per_skill, misses = {}, []
    for text, skill in items:
        for voice in voices:
            outcome = hear(en_engine, grammar, phone_recording(text, voice))
            guess = understanding.skill(outcome.transcript, "en-US", outcome.confidence)
            right, total = per_skill.get(skill, (0, 0))
            per_skill[skill] = (right + (guess.skill == skill), total + 1)
            if guess.skill != skill:
                misses.append(f"{text!r} ({voice}): heard {outcome.transcript!r} -> {guess.skill}")
    return per_skill, misses


def balanced(per_skill) -> float:
    """The mean over skills of the share of each skill's recordings routed right: hearing one word
    ("human") for everything scores 1/4 however many "a person" answers the set holds."""
    return sum(right / total for right, total in per_skill.values()) / len(per_skill)


# Measured on the held-out set with the shipped PocketSphinx set-up (2026-12-07), two voices per synthesiser:
#   skill, all 12 lines (24 recordings):       espeak-ng 10, flite 16 right; balanced 0.42, 0.67
#   skill, the 9 lines unlike any example (18): espeak-ng 7, flite 11 right
#   yes/no, 12 lines with 4 "neither" (24):     espeak-ng 16, flite 20 right
# For reference only (tuning phrasings, no floor: they flatter): the 22 short and 38 natural requests of
# spoken_requests.en-US.tsv gave espeak-ng 10 and 20, flite 19 and 25 right (2026-12-05).
# Each floor allows MARGIN more missed recordings than measured, no more; the balanced floor allows MARGIN more
# in one skill (6 recordings a skill).
MARGIN = 2
SKILL_MEASURED = {"espeak-ng": (10, 24, 0.42), "flite": (16, 24, 0.67)}  # right, recordings, balanced score
UNLIKE_THE_EXAMPLES_MEASURED = {"espeak-ng": (7, 18), "flite": (11, 18)}
YES_NO_MEASURED = {"espeak-ng": (16, 24), "flite": (20, 24)}


@pytest.mark.parametrize("synthesiser", sorted(SYNTHESISERS))
def test_held_out_answers_reach_their_skill(en_engine, config, understanding, synthesiser):
    items = held_out("skill")
    assert len(items) == 12  # the set the margin was measured on
    per_skill, misses = skill_results(en_engine, config, understanding, items, SYNTHESISERS[synthesiser])
    right, total, score = SKILL_MEASURED[synthesiser]
    assert sum(t for _, t in per_skill.values()) == total
    assert sum(r for r, _ in per_skill.values()) >= right - MARGIN, misses
    assert balanced(per_skill) >= score - MARGIN / 6 / len(per_skill), (per_skill, misses)


@pytest.mark.parametrize("synthesiser", sorted(SYNTHESISERS))
def test_held_out_answers_unlike_any_example_reach_their_skill(en_engine, config, understanding, synthesiser):
    items = unlike_the_examples(held_out("skill"), understanding)
    # An example added near a held-out line takes that line out of this set: the size says so.
    assert len(items) == 9
    per_skill, misses = skill_results(en_engine, config, understanding, items, SYNTHESISERS[synthesiser])
    right, total = UNLIKE_THE_EXAMPLES_MEASURED[synthesiser]
    assert sum(t for _, t in per_skill.values()) == total
    assert sum(r for r, _ in per_skill.values()) >= right - MARGIN, misses


@pytest.mark.parametrize("synthesiser", sorted(SYNTHESISERS))
def test_held_out_yes_and_no(en_engine, understanding, synthesiser):
    from speech.grammar import grammar_for

    grammar = grammar_for("yes_no", "en-US")
    items = held_out("yes_no")
    assert len(items) == 12
    heard = [(text, voice, understanding.yes_no(hear(en_engine, grammar, phone_recording(text, voice)).transcript,
                                                "en-US"), YES_NO_MEANING[meant])
             for text, meant in items for voice in SYNTHESISERS[synthesiser]]
    right, total = YES_NO_MEASURED[synthesiser]
    assert len(heard) == total
    assert sum(got == meaning for _, _, got, meaning in heard) >= right - MARGIN, \
        [h for h in heard if h[2] != h[3]]


def test_leading_quiet_does_not_change_what_is_heard(en_engine):
    # The cepstral mean is measured on the answer itself: a long lead-in of line noise
    # before the words must not change what is heard.
    from speech.grammar import grammar_for

    grammar = grammar_for("yes_no", "en-US")
    pcm = phone_recording("no", "espeak-ng:en-us")
    assert hear(en_engine, grammar, pcm).transcript == hear(en_engine, grammar, b"\0\0" * 16000 + pcm).transcript
