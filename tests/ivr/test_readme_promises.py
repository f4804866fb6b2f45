"""What README promises a caller, each through a call on the emulator (signed webhooks, TwiML followed)."""
from __future__ import annotations

import pytest

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


def test_a_holder_hears_the_place_and_wait_again_30_s_after_each_update(twilio, runtime, busy_agent):
    """README: "the caller hears their place and the wait, refreshed every 30 s". On the emulator's clock
    (virtual time: each prompt lasts as long as it takes to say), the waitUrl is fetched again 30 s after
    the update has been said, and the caller hears it again."""
    from telephony.emulator.basics import prompt_seconds

    assert runtime.ivr_config.hold_announce_every_seconds == 30  # the shipped IVR file
    busy_agent("billing")
    call = twilio.call()
    call.press("1")
    call.press("2")  # hold
    update = call.heard[-2:]
    assert update == ["You are number 1 in line. The wait is about 4 minutes.",
                           "Press 1 at any time and we will call you back instead, without losing your place."]
    for _ in range(2):
        fetched = len([r for r in twilio.requests if r[0].endswith("/wait")])
        began, said = twilio.now(), len(call.heard)
        call.wait()
        heard = call.heard[said:]
        assert heard == update  # said again, the same (nothing moved meanwhile)
        assert len([r for r in twilio.requests if r[0].endswith("/wait")]) == fetched + 1
        assert twilio.now() - began == pytest.approx(sum(prompt_seconds(t) for t in heard) + 30)
