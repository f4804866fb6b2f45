"""Spoken answers become the keys the call flow understands, with the shipped configuration."""
from datetime import datetime, timezone

import pytest

from config import load_ivr_config
from ivr.speech_answers import interpret

CONFIG = load_ivr_config()
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in New York


@pytest.mark.parametrize("step,said,lang,expected", [
    ("menu", "my invoice is wrong", "en-US", "1"),
    ("menu", "the internet is not working", "en-US", "2"),
    ("menu", "ik wil een nieuw abonnement", "nl-NL", "3"),
    ("menu", "mumble grumble", "en-US", None),
    ("confirm_skill", "yes please", "en-US", "1"),
    ("callback_number_confirm", "nee", "nl-NL", "2"),
    ("callback_number_enter", "one two one two five five five zero one four two", "en-US", "12125550142"),
    ("callback_when", "as soon as possible", "en-US", "1"),
    ("callback_pick_day", "as soon as possible", "en-US", None),
    ("callback_when", "tomorrow at three in the afternoon", "en-US", "@2026-11-25T20:00:00+00:00"),
    ("callback_when", "sunday at ten", "en-US", "!closed"),
    ("callback_when", "banana", "en-US", None),
])
def test_spoken_answers_map_to_keys(step, said, lang, expected):
    assert interpret(step, said, 0.9, lang, "billing", CONFIG, NOW) == expected


def test_a_doubtful_skill_is_asked_about():
    # Two skills match equally ("bill" for billing, "problem" for support): the caller is asked.
    answer = interpret("menu", "a problem with my bill", 0.9, "en-US", None, CONFIG, NOW)
    assert answer is not None and answer.startswith("?")
