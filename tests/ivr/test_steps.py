"""The step table is whole, and every prompt reads right in every language for every skill."""
from __future__ import annotations

import re
import string

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from config import Prompts, load_ivr_config
from callbacks import promises
from ivr import steps
from routing.promise import Window
from ivr.moves import MOVES

CONFIG = load_ivr_config()
NOW = datetime(2026, 11, 24, 15, 20, tzinfo=timezone.utc)
LANGUAGES = CONFIG.languages
# Placeholders the IVR fills, with values of the shapes it fills them with.
SAMPLES = {
    "wait": lambda p: p.wait(300), "cancel": lambda p: p.table["text_keyword_cancel"], "position": lambda p: 3, "last_digits": lambda p: "0142",
    "digits": lambda p: "0 6, 1 2 3, 4 5 6, 7 8", "reason": lambda p: p.reason("past"),
    "opening": lambda p: "tomorrow at 08:00", "when": lambda p: "today at 14:30", "asked": lambda p: "today at 14:00", "n": lambda p: 5,
    "heard": lambda p: p.text("whisper_heard", said="my internet is down"), "who": lambda p: "Pat Jones",
    "said": lambda p: "my router is broken", "company": lambda p: CONFIG.company_name,
    "window": lambda p: promises.window_words(p, Window(NOW, NOW + timedelta(minutes=15), "America/New_York"), NOW),
    "url": lambda p: "https://example.org/wait/0f3c?token=abc", "last4": lambda p: "0142", "start": lambda p: "10:20", "end": lambda p: "10:35", "time": lambda p: "08:00",
    "day": lambda p: promises.day_words(p, NOW, ZoneInfo("America/New_York"), NOW), "zone": lambda p: "New York",
    "weekday": lambda p: "Tuesday", "month": lambda p: "November", "date": lambda p: 24,
    "since": lambda p: "10:02", "next_try": lambda p: "10:07", "free": lambda p: "14:30, 14:35 and 14:40",
    "name": lambda p: "Pat Jones", "state": lambda p: "available", "entries": lambda p: 2, "calls": lambda p: 3,
    "action": lambda p: "'call-now'", "priority": lambda p: 4, "days": lambda p: 8,
    # The callback button's own: a window as the form says it, its zone, day, from and by.
    "w": lambda p: promises.window_words(p, Window(NOW, NOW + timedelta(minutes=15), "America/New_York"), NOW),
    "z": lambda p: "America/New_York", "d": lambda p: "Tue 24 Nov", "f": lambda p: "10:20", "b": lambda p: "10:35",
}


def test_every_lead_is_a_move_and_every_step_can_give_up():
    for step in steps.STEPS.values():
        assert step.give_up in MOVES, step.name
        for meaning, move in step.leads.items():
            assert move in MOVES, (step.name, meaning, move)
        # "0" or "agent" reaches a person from every question.
        assert "agent" in step.leads or step.expects.kind == steps.SKILL, step.name


def test_keyed_answers_are_possible_at_every_step():
    for step in steps.STEPS.values():
        e = step.expects
        if e.kind in (steps.YES_NO, steps.CHOICE):
            assert e.num_digits == 1 and e.keys, step.name
            assert steps.AGENT_KEY not in e.keys, f"{step.name}: 0 is reserved for a person"
        if e.kind == steps.NUMBER:
            assert e.finish_on_key == "#" and e.num_digits >= 15


def test_prompt_tables_have_the_same_keys_in_every_language():
    keys = {lang: set(CONFIG.prompts[lang]) for lang in LANGUAGES}
    for lang in LANGUAGES:
        assert keys[lang] == keys[CONFIG.default_language], (lang, keys[lang] ^ keys[CONFIG.default_language])
    for step in steps.STEPS.values():
        assert step.prompt in keys[CONFIG.default_language]


# Not sentences: the waiting page's title, heading and buttons, the SMS line that ends with the page's link, the
# callback button's title, fields, buttons and launcher lines, and the channels' names.
LABELS = ("waiting_title", "waiting_told_us", "waiting_cancel", "waiting_move", "waiting_move_pick", "waiting_again",
          "text_waiting_link", "button_launch", "button_title", "button_close", "button_country", "button_phone",
          "button_name", "button_other", "button_reason", "button_asap", "button_later", "button_slot",
          "button_no_slots", "button_submit", "button_sending", "button_cancel", "button_again", "button_follow",
          "button_launch_window", "button_launch_calling", "button_launch_connecting",
          "channel_phone", "channel_web", "channel_chat", "channel_sms", "channel_api")


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_prompt_reads_right_for_every_skill(language):
    p = Prompts(CONFIG, language)
    for key, template in CONFIG.prompts[language].items():
        if key == "voice":
            continue
        for skill in CONFIG.skills.values():
            values = {name: SAMPLES[name](p) if name != "skill" else skill.label_in(language)
                      for name in _placeholders(template) - {"company"}}
            text = p.text(key, **values)
            where = f"{language} {key} with {skill.name}: {text!r}"
            assert "{" not in text and "}" not in text, where
            assert "  " not in text and " ," not in text and " ." not in text and "..." not in text, where
            assert text[:1] == text[:1].upper(), where
            assert text.rstrip()[-1:] in ".?!" or key in LABELS or key.startswith(("minutes_", "less_than", "reason_", "whisper_who", "window", "moment", "day_", "weekday_",
                           "month_", "text_keyword_", "asked_")), where  # keywords and page labels are words, not sentences
            # An article before a label that brings its own ("Our an agent team", "Ons een medewerker team").
            assert not re.search(r"\b(our|the|a|an|ons|onze|het|de)\s+(a|an|een)\s", text, re.I), where
            assert not re.search(r"\b(\w+) \1\b", text, re.I), f"repeated word: {where}"


def test_fragments_keep_their_case_inside_a_sentence():
    p = Prompts(CONFIG, "en-US")
    who = p.fragment("whisper_who_number", digits="0 1 4 2")
    assert p.text("whisper_callback", who=who, skill="billing", heard="").startswith(
        "Callback for the number ending in 0 1 4 2, billing.")


def test_every_step_listens_for_an_answer_kind_understanding_declares():
    # ivr/steps.py STEPS is the one list of step names; understanding.decision.ANSWER_KINDS the one list of
    # answer kinds (read by `decide`, the grammars and `ivr understand classify --step`).
    import understanding.decision
    from ivr.steps import STEPS

    assert not hasattr(understanding.decision, "STEP_KINDS")
    listens = {name: s.expects.listen for name, s in STEPS.items()}
    assert {k for k in listens.values() if k is not None} == set(understanding.decision.ANSWER_KINDS)
