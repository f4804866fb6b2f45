"""Whole calls the way callers use a phone, with speech ON (the shipped set-up: PocketSphinx for en-US).

Twilio is the product's emulator: keys arrive through <Gather> as Twilio sends them, speech is streamed
over /media in Twilio's own messages (audio made by espeak-ng and passed through the phone band), and
the app moves the live call with the REST API, as it does on Twilio. Nothing is inserted by hand.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from storage.models import Call, QueueEntry, QueueEvent, SpeechResult
from tests.support import agents_api

NL_CALLER = "+31201234599"
US_CALLER = "+12125550142"


@pytest.fixture
def rt(speech_app):
    return speech_app.extensions["ivr"]


def entries(rt):
    with rt.sessions() as s:
        # not the callback a busy agent is on (agents_api.put_on_a_call)
        return list(s.scalars(select(QueueEntry).where(QueueEntry.phone_number != agents_api.BUSY_CUSTOMER)
                              .order_by(QueueEntry.id)))


@pytest.fixture
def staff(speech_app, busy_agent, monkeypatch):
    """staff(skill): Ann, added through /api/agents and available; state="on_call": on a call the dispatcher
    offered her (busy_agent), so a wait is told and callers can hold."""
    def add(skill: str, state: str = "available") -> int:
        if state == "on_call":
            return busy_agent(skill, name="Ann", address="+12125550100")
        monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
        return agents_api.add(speech_app.test_client(), "Ann", "+12125550100", [skill], state=state)

    return add


def heard(rt):
    """What the IVR heard, answer by answer (for failure messages)."""
    with rt.sessions() as s:
        return [(r.transcript, r.confidence) for r in s.scalars(select(SpeechResult).order_by(SpeechResult.id))]


def played(call):
    """Let prompts outside a Gather play out (keys pressed meanwhile would be lost)."""
    while not call.ended and call.pending is None and call.describe_wait() == "Segment":
        call.wait()
    return call


def to_number_step(call, key="2"):
    """Menu -> support (its one agent busy: the wait offer) -> call me back -> another number."""
    call.press(key)
    assert "The wait is about" in call.last_heard
    call.press("1")
    assert "number ending in" in call.last_heard
    call.press("2")
    assert "key the number" in call.last_heard


# ---- keys with speech on: they behave exactly like <Gather numDigits finishOnKey timeout> --------------

def test_every_question_forks_the_audio_and_gathers_keys_around_the_prompt(phone):
    call = phone.call(US_CALLER)
    doc = call.documents[-1]
    assert "<Start><Stream" in doc and 'name="token"' in doc and "?token" not in doc
    assert doc.index("<Gather") < doc.index("Thank you for calling")  # the greeting can be interrupted
    assert "<Connect" not in doc


@pytest.mark.parametrize("caller,keyed,stored,read_back", [
    (NL_CALLER, "0612345678#", "+31612345678", "0 6, 1 2 3, 4 5 6, 7 8"),  # national, Dutch caller
    (US_CALLER, "4155550123#", "+14155550123", "4 1 5, 5 5 5, 0 1 2 3"),  # national, US caller
    (US_CALLER, "31612345678#", "+31612345678", "plus 3 1, 6, 1 2 3, 4 5 6, 7 8"),  # international
])
def test_keyed_callback_number_with_speech_on(phone, rt, clock, caller, keyed, stored, read_back, staff):
    staff("support", state="on_call")
    call = phone.call(caller)
    to_number_step(call)
    call.press(keyed)
    assert read_back in call.last_heard
    call.press("1")
    assert "as soon as it is your turn" in call.last_heard
    call.press("1")
    assert "We will call you back between" in call.heard_text()
    [entry] = entries(rt)
    assert entry.kind == "callback" and entry.phone_number == stored


def test_a_number_keyed_without_pound_is_submitted_by_the_timeout(phone, rt, clock, staff):
    staff("support", state="on_call")
    call = phone.call(NL_CALLER)
    to_number_step(call)
    call.press("0612345678")
    assert "key the number" in call.last_heard  # still collecting
    call.wait()  # the inter-digit timeout submits what was keyed
    assert "0 6, 1 2 3, 4 5 6, 7 8" in call.last_heard


def test_keyed_time_with_speech_on(phone, rt, clock, staff):
    staff("billing", state="on_call")
    call = phone.call(US_CALLER)
    call.press("1")  # billing
    call.press("1")  # call me back
    call.press("1")  # on this number
    call.press("2")  # a later time
    call.press("2")  # tomorrow
    call.press("1430")
    assert "between 14:30 and 14:45 tomorrow, Wednesday 25 November, New York time" in call.heard_text()
    [entry] = entries(rt)
    assert entry.scheduled_for.astimezone(timezone.utc) == datetime(2026, 11, 25, 19, 30, tzinfo=timezone.utc)


# ---- barge-in -----------------------------------------------------------------------------------

def test_a_key_interrupts_the_greeting(phone, rt, clock, staff):
    staff("sales")
    call = phone.call(US_CALLER)
    call.press("3", barge_in=True)  # while "Thank you for calling" still plays
    assert call.lost_keys == []
    assert "Tell me in a few words" not in call.heard_text()  # the menu never had to play
    assert "Please hold for sales." in call.heard_text()
    [entry] = entries(rt)
    assert entry.skill == "sales" and entry.state == "holding"


def test_speaking_over_the_menu_stops_it_and_routes(phone, rt, clock, staff, second_pass_ready):
    # The caller says "there is a wrong charge on my invoice" over the menu: the prompt stops and the
    # call goes to billing. (Not a phrasing of Whisper's menu prompt, the operator's examples or the
    # understanding sets.) Both recognisers hear it (a skill PocketSphinx alone names is confirmed since
    # issue 19's seventh round: alone it was right 101 of 169 dev times).
    staff("billing")
    call = phone.call(US_CALLER)
    assert call.say(text="there is a wrong charge on my invoice", barge_in=True)
    with rt.sessions() as s:
        [result] = s.scalars(select(SpeechResult)).all()
        [stored] = s.scalars(select(Call)).all()
        path = stored.scratch["path"]
    assert call.updates_applied >= 2  # listen (the prompt stops), then the answer's step
    assert "is that right" not in call.heard_text(), (result.transcript, result.confidence, path)
    assert "Please hold for billing." in played(call).heard_text(), (result.transcript, result.confidence, path)
    assert [e.skill for e in entries(rt)] == ["billing"]
    assert path[0]["step"] == "menu" and path[0]["said"] == result.transcript and path[0]["need"]


# "Wrong on my account" is honestly between two teams: a wrong charge (billing) or a name spelled wrong
# (general; the operator's example "my name is spelled wrong on my account"). The classifier says billing,
# 0.739 (general 0.251). Heard by PocketSphinx alone (Whisper off here: what Whisper hears in this voice decides
# otherwise), its "alone" confidence (0.6, understanding.confidence) makes it 0.44: above the none floor (0.4),
# below the 0.7 at which the IVR routes without asking. PocketSphinx hears this espeak-ng voice word for word (4 of 4 probe calls,
# and each run of this test checks it first), so the question is reached by the caller's words, not by a
# recogniser's slip.
def asked_to_confirm_billing(phone, rt, staff, monkeypatch):
    monkeypatch.setenv("WHISPER_MODEL", "off")
    staff("billing")
    call = phone.call(US_CALLER)
    assert call.say(text="wrong on my account")
    assert [text for text, _ in heard(rt)] == ["wrong on my account"], heard(rt)
    assert call.last_heard.startswith("Billing, is that right?"), (heard(rt), call.heard_text())
    assert entries(rt) == []
    return call


def test_a_doubtful_spoken_request_confirmed_with_yes_goes_to_billing(phone, rt, staff, monkeypatch):
    call = asked_to_confirm_billing(phone, rt, staff, monkeypatch)
    call.press("1")
    assert "Please hold for billing." in played(call).heard_text()
    assert [e.skill for e in entries(rt)] == ["billing"]


def test_a_doubtful_spoken_request_answered_no_asks_the_menu_again(phone, rt, staff, monkeypatch):
    call = asked_to_confirm_billing(phone, rt, staff, monkeypatch)
    call.press("2")
    assert call.last_heard.startswith("Tell me in a few words"), call.heard_text()
    assert entries(rt) == [] and not call.ended


# ---- no dead ends -----------------------------------------------------------------------------------

@pytest.mark.parametrize("keys_before", [
    ["1"],  # at the number confirmation
    ["1", "2"],  # at the number entry
    ["1", "1"],  # at "when"
    ["1", "1", "2"],  # at the day
    ["1", "1", "2", "2"],  # at the time
])
def test_zero_at_each_callback_question_reaches_a_person(phone, rt, clock, keys_before, staff):
    staff("billing", state="on_call")
    call = phone.call(US_CALLER)
    call.press("1")  # billing, nobody free: the wait offer
    for key in keys_before:
        call.press(key)
    call.press("0")
    if call.pending is not None and call.pending.num_digits and call.pending.num_digits > 1:
        call.wait()  # a lone 0 where digits are keyed: the timeout submits it
    assert played(call).queue == "billing", call.heard_text()
    [entry] = entries(rt)
    assert entry.state == "holding"  # the same place in line


def test_failed_tries_at_a_callback_question_go_to_a_person_not_a_hang_up(phone, rt):
    call = phone.call(US_CALLER)
    call.press("1")
    call.press("1")  # call me back
    for _ in range(3):
        call.press("7")  # not an answer to "this number?"
    assert played(call).queue == "billing" and not call.ended
    [entry] = entries(rt)
    assert entry.state == "holding"


def test_a_holder_who_asks_for_a_callback_then_fails_keeps_the_place(phone, rt, clock, staff):
    staff("billing", state="on_call")
    call = phone.call(US_CALLER)
    call.press("1")
    call.press("2")  # hold
    assert played(call).queue == "billing"
    call.press("1")  # while holding: call me back instead
    for _ in range(3):
        call.wait()
    [entry] = entries(rt)
    assert entry.state == "holding" and played(call).queue == "billing"
    with rt.sessions() as s:
        events = [e.event for e in s.scalars(select(QueueEvent).where(QueueEvent.entry_id == entry.id))]
    assert "abandoned" not in events and events[0] == "arrived"


# ---- spoken answers -----------------------------------------------------------------------------------

# Measured with the shipped engines: this number is heard as "eight four two" (refused, asked again).
# The same test passed while its number was the one in Whisper's digits prompt: spoken numbers are not yet
# heard well enough. Strict, so the test fails the day it starts passing.
@pytest.mark.xfail(strict=True, reason="spoken digits are misheard: 'eight four two'")
def test_spoken_number_with_double_is_read_back_in_groups(phone, rt, clock, staff):
    # The caller says "six four six, double two seven, nine oh eight one": the IVR reads back
    # 4 1 5, 5 5 5, 0 1 2 3 (the "double" kept) and books that number on the caller's 1.
    staff("support", state="on_call")
    call = phone.call(US_CALLER)
    to_number_step(call)
    assert call.say(text="six four six, double two seven, nine oh eight one")
    assert "6 4 6, 2 2 7, 9 0 8 1. Press 1 if that is right" in call.last_heard, (heard(rt), call.heard_text())
    call.press("1")
    assert "as soon as it is your turn" in call.last_heard
    call.press("1")
    [entry] = entries(rt)
    assert entry.phone_number == "+16462279081"


def test_no_said_at_the_read_back_asks_for_the_number_again(phone, rt, clock, staff):
    # The caller keys a number, hears it read back and says "no, that is wrong": nothing is booked,
    # the number is asked again, and the number keyed next is the one called back.
    staff("support", state="on_call")
    call = phone.call(US_CALLER)
    to_number_step(call)
    call.press("6462279018#")
    assert "6 4 6, 2 2 7, 9 0 1 8. Press 1 if that is right" in call.last_heard
    assert call.say(text="no, that is wrong")
    assert "key the number" in call.last_heard, (heard(rt), call.heard_text())
    assert all(e.kind != "callback" for e in entries(rt))
    call.press("6462279081#")
    assert "6 4 6, 2 2 7, 9 0 8 1. Press 1 if that is right" in call.last_heard
    call.press("1")
    call.press("1")
    [entry] = entries(rt)
    assert entry.kind == "callback" and entry.phone_number == "+16462279081"


def test_saying_agent_at_a_callback_question_reaches_a_person(phone, rt):
    call = phone.call(US_CALLER)
    call.press("1")  # billing: the wait offer
    call.press("1")  # call me back
    assert call.say(text="operator")
    assert played(call).queue == "billing", call.heard_text()
