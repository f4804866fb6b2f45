"""What README promises a caller, each through a call on the emulator (signed webhooks, TwiML followed)."""
from __future__ import annotations

from ivr.steps import MAX_RETRIES
from tests.ivr.test_flow import entries

DUTCH_LINE = "+31201234567"


def test_on_the_dutch_line_8_switches_to_english(twilio, runtime, busy_agent):
    busy_agent("billing")
    call = twilio.call(to_number=DUTCH_LINE)
    assert "For English, press 8." in call.last_heard
    call.press("8")
    assert "Press 1 for billing" in call.last_heard, call.heard_text()
    call.press("1")
    [entry] = entries(runtime)
    assert (entry.skill, entry.language) == ("billing", "en-US")


def test_after_the_last_failed_try_with_nobody_in_the_caller_is_offered_a_callback(twilio, runtime):
    call = twilio.call()
    for _ in range(MAX_RETRIES + 1):  # the question, then MAX_RETRIES more times: each answer means nothing
        call.press("7")
    assert call.heard.count("Sorry, I did not get that.") == MAX_RETRIES
    assert call.heard[-3:-1] == ["Let me put you through to an agent.",
                                 "Nobody on our customer service team can take your call right now."]
    assert call.last_heard.startswith("Press 1 and we will call you back between 08:00 and 08:10 tomorrow")
    call.press("1")  # call me back
    call.press("1")  # on this number
    assert call.ended and "between 08:00 and 08:10" in call.last_heard
    [entry] = entries(runtime)
    assert (entry.kind, entry.skill, entry.state) == ("callback", "general", "queued")
