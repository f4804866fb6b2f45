"""Nothing a caller can key or say gives a 5xx: random keys at every question through the signed webhooks,
and arbitrary words (what a recogniser or a typist could produce) through the understanding of every step."""
from __future__ import annotations

import random
from datetime import datetime, timezone

from hypothesis import example, given, settings, strategies as st

from config import load_ivr_config
from ivr import answers, steps
from understanding import Understanding

CONFIG = load_ivr_config()
UNDERSTANDING = Understanding.from_config(CONFIG)
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)

# How to reach each question with keys from the greeting (billing's one agent busy: the wait offer).
ROUTES = {
    "menu": [], "confirm_skill": None, "wait_offer": ["1"], "callback_number_confirm": ["1", "1"],
    "callback_number_enter": ["1", "1", "2"], "callback_number_readback": ["1", "1", "2", "4155550123#"],
    "callback_when": ["1", "1", "1"], "callback_pick_day": ["1", "1", "1", "2"],
    "callback_pick_time": ["1", "1", "1", "2", "2"],
}
KEYS = "0123456789*#"


def test_random_keys_at_every_question_never_answer_5xx(twilio, runtime, busy_agent):
    busy_agent("billing", name="Ann", address="+12125550100")  # staffed, on a call: every question is reached
    rng = random.Random(9)
    for name, route in ROUTES.items():
        if route is None:
            continue  # reached by speech only (a doubtful skill)
        for _ in range(6):
            call = twilio.call()
            for keys in route:
                call.press(keys)
            gather = call.pending
            assert gather is not None and f"/voice/step/{name}?" in gather.action, (name, call.heard_text())
            digits = "".join(rng.choice(KEYS) for _ in range(rng.randint(1, 32)))
            reply = twilio.post(gather.action, {**call.params(), "Digits": digits}, expect_ok=False)
            assert reply.status_code < 500, (name, digits, reply.get_data(as_text=True))


@settings(max_examples=300, deadline=None)
@example(step="callback_number_enter", language="en-US", text="double", confidence=0.4)
@example(step="callback_number_enter", language="en-US", text="plus double oh triple", confidence=None)
@example(step="callback_number_enter", language="nl-NL", text="zes twaalf dubbel", confidence=1.0)
@example(step="callback_pick_time", language="en-US", text="at 99 oclock on the 45th", confidence=0.9)
@example(step="menu", language="nl-NL", text="\ud800", confidence=0.0)
@given(step=st.sampled_from(sorted(steps.STEPS)), language=st.sampled_from(CONFIG.languages),
       text=st.text(max_size=200), confidence=st.one_of(st.none(), st.floats(0, 1)))
def test_any_words_at_any_step_have_a_meaning(step, language, text, confidence):
    ctx = answers.AnswerContext(config=CONFIG, understanding=UNDERSTANDING, language=language,
                                skill=CONFIG.skills["billing"], now=NOW, home_region="NL",
                                allowed_countries=("US", "NL"))
    meaning = answers.from_words(steps.STEPS[step], text, confidence, ctx)
    assert meaning.kind in {"nothing", "unclear", "agent"} | set(steps.STEPS[step].leads) | {"none", "unsure",
                                                                                                  "skill"}


def test_hold_urls_take_only_a_place_in_line(twilio):
    call = twilio.call()
    # A control character anywhere in a path is a 400 (storage/text.py, the one rule); other non-ids a 404.
    for bad, status in [("%00abc", 400), ("x" * 300, 404), ("0" * 31 + "g", 404), ("../wait", 404)]:
        for action in ("wait", "press"):
            reply = twilio.post(f"/voice/hold/{bad}/{action}", {**call.params(), "Digits": "1"}, expect_ok=False)
            assert reply.status_code == status, (bad, action, reply.get_data(as_text=True))
