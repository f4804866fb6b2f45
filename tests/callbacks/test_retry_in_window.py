"""A callback whose customer did not answer keeps the window they were told: the next attempt comes soon,
inside it (CALLBACK_RETRY_IN_WINDOW_SECONDS); only when the window cannot be kept does it wait the retry
delay, with the new time told. Through the production path: callbacks booked on the web button, the
dispatcher dialling through the Twilio fake, signed status and AMD callbacks, a ManualClock."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config import RETRY_IN_WINDOW_DEFAULT
from tests.support.ivr_file import skill

AGENT = "+14155550101"
CUSTOMER = "+12125550143"


def events(entry) -> list[str]:
    return [e.event for e in entry.events]


@pytest.fixture
def dispatcher(make_dispatcher):
    return make_dispatcher(retry_in_window=dict(RETRY_IN_WINDOW_DEFAULT))


def dial(dispatcher, outbound):
    """One pass claims the callback; the agent answers and accepts; returns the agent's leg and the
    customer's (ringing)."""
    assert len(dispatcher.run_once().claimed) == 1
    agent = outbound.to(AGENT).answer()
    agent.press("1")
    return agent, outbound.to(CUSTOMER)


@pytest.mark.parametrize("status", ["no-answer", "busy"])
def test_an_unanswered_callback_is_retried_inside_its_window_without_a_new_time(
        dispatcher, outbound, add_agent, book, entry_of, clock, status):
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    told = entry_of(pid)
    assert told.promised_by - clock.now() >= timedelta(minutes=5)  # time left in the window told
    agent, customer = dial(dispatcher, outbound)
    clock.advance(25)
    customer.ring_out(status)
    customer.resend_status(status)  # Twilio sends it again: still one retry
    agent.follow_steering()
    assert "could not be reached" in agent.heard_text() and agent.ended

    entry = entry_of(pid)
    assert entry.state == "retry_wait" and entry.attempts == 1
    assert entry.next_attempt_at == clock.now() + timedelta(seconds=120)
    # The promise stands: the same window, nothing new told.
    assert (entry.promised_from, entry.promised_by) == (told.promised_from, told.promised_by)
    assert events(entry).count("window_told") == 1 and events(entry)[-1] == "customer_" + status.replace("-", "_")
    assert entry.events[-1].detail["in_window"] is True

    # Not rung again within the delay, however often the dispatcher passes.
    for _ in range(4):
        clock.advance(29)
        assert dispatcher.run_once().claimed == []
    assert outbound.count_to(CUSTOMER) == 1
    clock.advance(4)
    agent, retry = dial(dispatcher, outbound)
    assert retry.call_sid != customer.call_sid
    assert dispatcher.run_once().claimed == []  # one attempt at a time
    retry.answer()
    clock.advance(3)
    retry.amd("human")
    entry = entry_of(pid)
    assert entry.state == "connected" and entry.attempts == 2
    assert told.promised_from <= entry.connected_at <= told.promised_by  # the promise kept
    assert outbound.count_to(CUSTOMER) == 2 and outbound.count_to(AGENT) == 2


def test_a_machine_hears_we_try_again_in_a_few_minutes_and_a_second_miss_waits_the_delay_with_notice(
        dispatcher, outbound, add_agent, book, entry_of, clock):
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    told = entry_of(pid)
    agent, customer = dial(dispatcher, outbound)
    customer.answer().amd("machine_end_beep")
    assert customer.follow_steering()
    assert "We are sorry we missed you and will try again in a few minutes." in customer.heard_text()
    entry = entry_of(pid)
    assert entry.next_attempt_at == clock.now() + timedelta(seconds=180) <= told.promised_by
    assert events(entry)[-1] == "voicemail" and entry.promised_by == told.promised_by

    clock.advance(180)
    agent, again = dial(dispatcher, outbound)
    again.answer().amd("machine_end_beep")
    assert again.follow_steering()
    heard = again.heard_text()
    assert "will try again." in heard and "in a few minutes" not in heard  # true: not soon this time
    entry = entry_of(pid)
    # Once per callback: the second miss waits the retry delay, and the new window is told.
    assert entry.state == "retry_wait" and entry.next_attempt_at == clock.now() + timedelta(seconds=600)
    assert events(entry)[-2:] == ["voicemail", "window_told"]
    assert entry.promised_from == entry.next_attempt_at and entry.promised_by > told.promised_by


def test_the_attempt_inside_the_window_is_not_one_of_the_attempts_before_giving_up(
        make_dispatcher, outbound, add_agent, book, entry_of, clock):
    dispatcher = make_dispatcher(retry_in_window={"no-answer": 60}, max_attempts=2, retry_delay_seconds=900)
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    delays = []
    for _ in range(4):
        agent, customer = dial(dispatcher, outbound)
        customer.ring_out("no-answer")
        entry = entry_of(pid)
        if entry.state == "failed":
            break
        delays.append((entry.next_attempt_at - clock.now()).total_seconds())
        clock.set(entry.next_attempt_at)
    # Missed, soon (once per callback); missed, the delay (a new window told); missed, the delay; the
    # third miss is the second of the long-delay attempts: it ends it.
    assert delays == [60, 900]
    entry = entry_of(pid)
    assert entry.state == "failed" and entry.attempts == 3 and "gave up after 3 attempts" in entry.events[-1].reason
    assert outbound.count_to(CUSTOMER) == 3


def test_too_little_of_the_window_left_waits_the_delay_and_tells_the_new_time(
        dispatcher, outbound, add_agent, book, entry_of, clock):
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    end = entry_of(pid).promised_by
    clock.set(end - timedelta(seconds=100))  # 100 s left: a retry a minute on, a minute before the end, cannot be
    _agent, customer = dial(dispatcher, outbound)
    customer.ring_out("no-answer")
    entry = entry_of(pid)
    assert entry.next_attempt_at == clock.now() + timedelta(seconds=600)
    assert events(entry)[-2:] == ["customer_no_answer", "window_told"] and entry.promised_by > end


def test_the_retry_inside_the_window_is_bounded_by_what_is_left_of_it(
        dispatcher, outbound, add_agent, book, entry_of, clock):
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    end = entry_of(pid).promised_by
    clock.set(end - timedelta(seconds=150))
    _agent, customer = dial(dispatcher, outbound)
    customer.ring_out("no-answer")
    entry = entry_of(pid)
    # 120 s on would be 30 s before the end: tried a minute before the end instead, 90 s on.
    assert entry.next_attempt_at == end - timedelta(seconds=60)
    assert entry.promised_by == end and events(entry)[-1] == "customer_no_answer"


def test_a_callback_dialled_well_before_its_window_waits_the_delay_rolled_to_the_opening(
        dispatcher, outbound, add_agent, book, entry_of, clock):
    """Booked minutes before closing, the customer is told a window at tomorrow's opening; an agent is
    free, so they are called at once. Missed, that call was a bonus ahead of the promise: the retry
    delay (rolled to the opening, the skill closes first), told as a new window."""
    new_york = ZoneInfo("America/New_York")
    clock.set(datetime(2026, 11, 24, 17, 57, 30, tzinfo=new_york))  # billing closes at 18:00
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    opening = datetime(2026, 11, 25, 8, 0, tzinfo=new_york)
    assert entry_of(pid).promised_from == opening
    clock.set(datetime(2026, 11, 24, 17, 59, tzinfo=new_york))
    _agent, customer = dial(dispatcher, outbound)
    customer.ring_out("no-answer")
    entry = entry_of(pid)
    assert entry.next_attempt_at == opening
    assert events(entry)[-2:] == ["customer_no_answer", "window_told"] and "in_window" not in entry.events[-2].detail


@pytest.mark.ivr(skill("billing", callback_mode="customer_first"))
def test_customer_first_an_unanswered_customer_is_retried_inside_the_window(
        dispatcher, outbound, add_agent, book, entry_of, agent_of, clock):
    agent_id = add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    told = entry_of(pid)
    assert len(dispatcher.run_once().claimed) == 1
    assert outbound.count_to(AGENT) == 0  # customer first: the agent waits until the customer is on the line
    outbound.to(CUSTOMER).ring_out("no-answer")
    entry = entry_of(pid)
    assert entry.attempts == 1  # the customer was dialled: their attempt
    assert entry.next_attempt_at == clock.now() + timedelta(seconds=120)
    assert entry.promised_by == told.promised_by and agent_of(agent_id).state == "available"
    clock.advance(120)
    assert len(dispatcher.run_once().claimed) == 1
    customer = outbound.to(CUSTOMER).answer()
    customer.amd("human")
    outbound.to(AGENT).answer().press("1")
    entry = entry_of(pid)
    assert entry.state == "connected" and entry.attempts == 2 and entry.connected_at <= told.promised_by


def test_the_retry_note_by_sms_says_when_we_try_again_inside_the_window(
        dispatcher, outbound, twilio_rest, add_agent, book, entry_of, clock):
    dispatcher.dialer.messaging_number = "+15005550007"
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    told = entry_of(pid)
    _agent, customer = dial(dispatcher, outbound)
    customer.ring_out("busy")
    soon = (clock.now() + timedelta(seconds=120)).astimezone(ZoneInfo("America/New_York"))
    assert twilio_rest.messages[-1]["to"] == CUSTOMER
    assert f"could not reach you. We will try again today at {soon:%H:%M}" in twilio_rest.messages[-1]["body"]
    entry = entry_of(pid)
    assert entry.promised_by == told.promised_by and events(entry)[-2:] == ["customer_busy", "sms_retry"]


@pytest.mark.parametrize("someone_after", [False, True])
def test_a_retry_inside_the_window_only_when_the_estimate_connects_it_before_the_window_ends(
        dispatcher, outbound, add_agent, book, entry_of, clock, someone_after):
    """At peak, the agent the missed attempt frees is taken by whoever is in line after the callback
    (it is not in line until its retry time): a retry inside the window would then wait for that call
    to end, past the window. The decision reads the estimate the slip pass reads: only when it expects
    the retry connected before the window ends is it tried inside the window; else the delay, told."""
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    end = entry_of(pid).promised_by
    if someone_after:
        book("+12125550144")  # after it in line: Ann takes them while the first customer is away
    clock.set(end - timedelta(seconds=240))  # 4 minutes of the window left: a retry 2 minutes on fits
    _agent, customer = dial(dispatcher, outbound)
    customer.ring_out("no-answer")
    entry = entry_of(pid)
    if someone_after:
        # The next free agent, after the call Ann takes now (240 s assumed), is past the window's end.
        assert entry.next_attempt_at == clock.now() + timedelta(seconds=600)
        assert events(entry)[-2:] == ["customer_no_answer", "window_told"] and entry.promised_by > end
        assert "in_window" not in entry.events[-2].detail
    else:
        assert entry.next_attempt_at == clock.now() + timedelta(seconds=120)
        assert entry.promised_by == end and entry.events[-1].detail["in_window"] is True


def test_the_estimate_measures_who_missed_the_first_call_and_how_much_longer_they_waited(
        dispatcher, outbound, add_agent, book, entry_of, clock, runtime, monkeypatch):
    from routing import estimate

    monkeypatch.setattr(estimate, "MIN_MISS_SAMPLES", 4)
    add_agent("Ann", AGENT)
    numbers = [f"+1212555{150 + i:04d}" for i in range(4)]
    for number in numbers:
        book(number)
        clock.advance(1)
    first_dial = connected = None

    def serve(number: str) -> None:
        """The next callback: Ann takes it, the customer answers after 10 s, a person (3 s), talks 60 s."""
        nonlocal connected
        assert len(dispatcher.run_once().claimed) == 1
        agent = outbound.to(AGENT).answer()
        agent.press("1")
        clock.advance(10)
        customer = outbound.to(number).answer()
        clock.advance(3)
        customer.amd("human")
        if number == numbers[0]:
            connected = clock.now()
        clock.advance(60)
        customer.hang_up()
        agent.follow_steering()

    # The first customer misses the first call (it rings out after 25 s): retried inside the window.
    assert len(dispatcher.run_once().claimed) == 1
    outbound.to(AGENT).answer().press("1")
    first_dial = clock.now()
    clock.advance(25)
    outbound.to(numbers[0]).ring_out("no-answer")
    outbound.to(AGENT).follow_steering()
    serve(numbers[1])
    serve(numbers[2])  # by its end the first one's retry is due: it comes before the fourth
    serve(numbers[0])
    serve(numbers[3])
    with runtime.sessions() as s:
        share, extra = estimate.answer_misses(s, "billing", clock.now())
    # 1 of 4 not reached at the first call; it took (connected - first call) where the others took 13 s.
    assert share == 0.25
    assert extra == ((connected - first_dial).total_seconds() - 13,)
    assert extra[0] > 150


def test_a_skill_gone_from_the_ivr_file_takes_the_retry_delay_not_an_error(
        make_dispatcher, runtime, outbound, add_agent, book, entry_of, clock):
    """The app restarted with an IVR file without the callback's skill while its customer was being rung:
    the no-answer status is answered (no 500 to Twilio, nothing left half-done) and the retry delay is taken,
    as there are no hours or estimate to keep the window by."""
    from dataclasses import replace

    first = make_dispatcher(retry_in_window=dict(RETRY_IN_WINDOW_DEFAULT))
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    agent, customer = dial(first, outbound)
    without = replace(runtime.ivr_config,
                      skills={name: s for name, s in runtime.ivr_config.skills.items() if name != "billing"})
    make_dispatcher(config=without, retry_in_window=dict(RETRY_IN_WINDOW_DEFAULT))  # the webhooks' one now
    clock.advance(25)
    customer.ring_out("no-answer")
    entry = entry_of(pid)
    assert entry.state == "retry_wait" and entry.attempts == 1
    assert entry.next_attempt_at == clock.now() + timedelta(seconds=600)
    assert entry.events[-1].detail.get("in_window") is not True
