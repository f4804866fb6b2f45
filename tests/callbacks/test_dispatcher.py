"""The dispatcher through its production path: real DB, real webhooks (signed like Twilio), Twilio's
REST API faked and checked against its OpenAPI spec, time from a ManualClock."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.support.ivr_file import skill

from routing import hours

AGENT = "+14155550101"
AGENT2 = "+14155550102"
CUSTOMER = "+12125550143"


CUSTOMER_FIRST = pytest.mark.ivr(skill("billing", callback_mode="customer_first"))


def events(entry) -> list[str]:
    return [e.event for e in entry.events]


def test_agent_first_callback_answered_by_a_human(dispatcher, outbound, add_agent, book, entry_of, agent_of, clock):
    agent_id = add_agent("Ann", AGENT)
    pid = book(CUSTOMER, name="Pat Jones", reason="double charge")
    clock.advance(600)
    report = dispatcher.run_once()
    assert [c.public_id for c in report.claimed] == [pid]
    assert entry_of(pid).state == "dialing_agent" and agent_of(agent_id).state == "reserved"

    agent = outbound.to(AGENT).ring()
    assert agent.record["status_callback"].endswith(f"/outbound/agent/{pid}/1/status")
    agent.answer()
    assert "Callback for Pat Jones, billing. Reason: double charge. Press 1 to start." in agent.heard_text()
    assert outbound.count_to(CUSTOMER) == 0  # agent first: nobody rings the customer before the agent accepts
    agent.press("1")
    assert agent_of(agent_id).state == "on_call"
    assert entry_of(pid).state == "dialing_customer"

    customer = outbound.to(CUSTOMER)
    assert customer.record["machine_detection"] == "DetectMessageEnd" and customer.record["async_amd"] == "true"
    customer.ring().answer()
    assert "This is Example Company calling you back as promised." in customer.heard_text()
    assert customer.conference is not None and customer.conference == agent.conference  # both in one room
    clock.advance(4)
    customer.amd("human")
    entry = entry_of(pid)
    assert entry.state == "connected"
    # The wait counts from the request to the moment the customer was connected, not from the dial.
    assert entry.connected_at - entry.arrived_at == timedelta(seconds=604)

    clock.advance(300)
    customer.hang_up()
    customer.resend_status("completed")  # Twilio sends it again: nothing changes
    customer.amd("human")  # a late verdict: nothing changes
    assert agent.ended  # the customer left a conference that ends on exit: the agent's call ends too
    entry = entry_of(pid)
    assert entry.state == "completed"
    # Booked on the web: the window and the wait it was told, then the call.
    assert events(entry) == ["requested", "window_told", "wait_announced", "dialing_agent", "dialing_customer",
                             "customer_answered", "connected", "completed"]
    assert agent_of(agent_id).state == "available"  # wrap-up of 0 seconds
    assert outbound.count_to(CUSTOMER) == 1 and outbound.count_to(AGENT) == 1


def test_answering_machine_gets_a_voicemail_and_the_callback_is_retried(
        dispatcher, outbound, add_agent, book, entry_of, agent_of, clock):
    agent_id = add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    dispatcher.run_once()
    agent = outbound.to(AGENT).answer().press("1")
    customer = outbound.to(CUSTOMER).answer()
    customer.amd("machine_end_beep")
    assert customer.follow_steering()
    assert "Hello, this is Example Company returning your call as promised." in customer.heard_text()
    assert agent.follow_steering()
    assert "answering machine" in agent.heard_text()
    entry = entry_of(pid)
    assert entry.state == "retry_wait" and events(entry)[-2:] == ["voicemail", "window_told"]
    assert entry.promised_from == entry.next_attempt_at  # the retry's window, shown on the status page
    assert entry.next_attempt_at == clock.now() + timedelta(seconds=600)
    assert customer.ended and agent.ended  # both were told, then hung up
    assert agent_of(agent_id).state == "available"

    assert dispatcher.run_once().claimed == []  # not before the retry time
    clock.advance(600)
    assert len(dispatcher.run_once().claimed) == 1
    agent2 = outbound.to(AGENT).answer().press("1")
    retry = outbound.to(CUSTOMER)
    assert retry.call_sid != customer.call_sid
    retry.answer().amd("human")
    assert entry_of(pid).state == "connected" and entry_of(pid).attempts == 2


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed"])
def test_unreached_customer_is_retried_then_failed(make_dispatcher, outbound, add_agent, book, entry_of, clock,
                                                   status):
    dispatcher = make_dispatcher(max_attempts=2, retry_delay_seconds=120)
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    for attempt in (1, 2):
        assert len(dispatcher.run_once().claimed) == 1
        agent = outbound.to(AGENT).answer().press("1")
        outbound.to(CUSTOMER).ring_out(status)
        agent.follow_steering()
        assert "could not be reached" in agent.heard_text() and agent.ended
        clock.advance(120)
    entry = entry_of(pid)
    assert entry.state == "failed"
    assert "gave up after 2 attempts" in entry.events[-1].reason
    assert events(entry).count("customer_" + status.replace("-", "_")) == 1  # the first miss; the second failed it
    assert events(entry)[-1] == "failed"
    assert outbound.count_to(CUSTOMER) == 2
    assert dispatcher.run_once().claimed == []


@pytest.mark.parametrize("how", ["no-answer", "busy", "decline"])
def test_agent_who_misses_the_offer_goes_offline_and_the_next_agent_gets_it(
        dispatcher, outbound, add_agent, book, entry_of, agent_of, how):
    ann = add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    dispatcher.run_once()
    leg = outbound.to(AGENT)
    if how == "decline":
        leg.answer()
        leg.press("2")
        assert "Declined" in leg.heard_text()
    else:
        leg.ring_out(how)
    assert agent_of(ann).state == "offline"
    entry = entry_of(pid)
    assert entry.state == "queued" and entry.attempts == 0  # the customer was never rung
    assert outbound.count_to(CUSTOMER) == 0
    bob = add_agent("Bob", AGENT2)
    assert [c.agent_id for c in dispatcher.run_once().claimed] == [bob]


def test_customer_hangs_up_during_the_greeting(dispatcher, outbound, add_agent, book, entry_of):
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    dispatcher.run_once()
    agent = outbound.to(AGENT).answer().press("1")
    customer = outbound.to(CUSTOMER)
    customer.stops_at_prompts = True  # hang up while the greeting plays, before the conference
    customer.answer()
    customer.hang_up()
    assert customer.heard == ["This is Example Company calling you back as promised."]  # cut short
    customer.amd("human")  # the verdict arrives after the hang-up: too late to connect anyone
    entry = entry_of(pid)
    assert entry.state == "retry_wait" and events(entry)[-2:] == ["customer_hung_up", "window_told"]
    assert entry.promised_from == entry.next_attempt_at  # the retry's window, shown on the status page
    assert agent.follow_steering() and "could not be reached" in agent.heard_text()


@CUSTOMER_FIRST
def test_customer_first_customer_hangs_up_during_the_agent_whisper(
        make_dispatcher, runtime, outbound, twilio, add_agent, book, entry_of, agent_of):
    dispatcher = make_dispatcher()
    ann = add_agent("Ann", AGENT)
    pid = book(CUSTOMER, reason="router")
    dispatcher.run_once()
    assert outbound.count_to(AGENT) == 0
    customer = outbound.to(CUSTOMER).answer()
    assert "Please hold while we connect you to an agent." in customer.heard_text()
    customer.amd("human")
    agent = outbound.to(AGENT).answer()
    assert "is on the line for billing. Reason: router. Press 1" in agent.heard_text()
    accept_url, accept = agent.pending.action, {**agent.params(), "Digits": "1"}
    customer.hang_up()
    assert "could not be reached" in agent.last_heard and agent.ended  # told, then hung up
    late = twilio.post(accept_url, accept)  # the agent's key had crossed the hang-up on the way
    assert "no longer waiting" in late.get_data(as_text=True)  # the key that crossed the hang-up
    entry = entry_of(pid)
    assert entry.state == "retry_wait" and events(entry)[-2:] == ["customer_hung_up", "window_told"]
    assert entry.promised_from == entry.next_attempt_at  # the retry's window, shown on the status page
    assert agent_of(ann).state == "available"


@CUSTOMER_FIRST
def test_customer_first_connected(make_dispatcher, runtime, outbound, add_agent, book, entry_of):
    dispatcher = make_dispatcher()
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    dispatcher.run_once()
    outbound.to(CUSTOMER).answer().amd("human")
    agent = outbound.to(AGENT).answer().press("1")
    assert entry_of(pid).state == "connected"
    assert events(entry_of(pid))[-2:] == ["customer_on_line", "connected"]


@CUSTOMER_FIRST
def test_customer_first_agents_who_miss_the_offer_use_none_of_the_customers_attempts(
        make_dispatcher, runtime, outbound, add_agent, book, entry_of, clock, twilio_rest):
    dispatcher = make_dispatcher(max_attempts=2, retry_delay_seconds=120)
    dispatcher.dialer.messaging_number = "+15005550007"
    pid = book(CUSTOMER)
    agents = [("Ann", AGENT), ("Bob", AGENT2), ("Cy", "+14155550103")]
    for round_, (name, address) in enumerate(agents, start=1):
        add_agent(name, address)
        assert len(dispatcher.run_once().claimed) == 1
        customer = outbound.to(CUSTOMER, index=round_ - 1).answer()
        customer.amd("human")  # the customer answered every time
        if round_ < 3:
            outbound.to(address).ring_out("no-answer")  # the agent missed the offer
            assert customer.follow_steering() and "no agent could take your call" in customer.heard_text()
            entry = entry_of(pid)
            assert entry.state == "retry_wait" and entry.attempts == 0
            assert events(entry)[-1] == "agent_missed"
            clock.advance(120)
        else:
            outbound.to(address).answer().press("1")
    entry = entry_of(pid)
    assert entry.state == "connected"  # not failed after two agents' misses with max_attempts=2
    assert entry.attempts == 1 and outbound.count_to(CUSTOMER) == 3
    # They heard it on the call each time; no "we could not reach you" text followed.
    assert not [m for m in twilio_rest.messages if "could not reach you" in m["body"]]


def test_two_agents_five_entries_served_in_arrival_order(dispatcher, outbound, add_agent, book, entry_of, clock):
    add_agent("Ann", AGENT)
    add_agent("Bob", AGENT2)
    numbers = [f"+1212555014{i}" for i in range(5)]
    # Booked in this order, ten seconds apart: who came first is served first, whatever the numbers.
    order = (3, 0, 4, 2, 1)
    for i in order:
        book(numbers[i])
        clock.advance(10)
    served = []
    for _ in range(3):
        report = dispatcher.run_once()
        assert len(report.claimed) <= 2  # never more than free agents
        for claim in report.claimed:
            served.append(claim.phone_number)
            leg = outbound.leg(_agent_sid(outbound, claim))
            leg.answer()
            leg.press("1")
            customer = outbound.to(claim.phone_number).answer()
            customer.amd("human")
            customer.hang_up()
            assert leg.ended  # the conference ended with the customer
    assert served == [numbers[i] for i in order]


def _agent_sid(outbound, claim):
    return [c for c in outbound.rest.calls if c["url"] and f"/agent/{claim.public_id}/{claim.leg}/" in c["url"]][0]["sid"]


def test_no_release_beyond_free_agents_and_the_rate_limit(make_dispatcher, outbound, add_agent, book, clock):
    dispatcher = make_dispatcher(calls_per_second=1)
    for i in range(3):
        add_agent(f"A{i}", f"+1415555011{i}")
    for i in range(5):
        book(f"+1212555015{i}")
        clock.advance(1)
    first = dispatcher.run_once()
    assert len(first.claimed) == 1 and first.rate_limited  # 1 call per second
    assert first.next_wake == clock.now() + timedelta(seconds=1)
    assert dispatcher.run_once().claimed == []
    clock.advance(1)
    assert len(dispatcher.run_once().claimed) == 1
    clock.advance(1)
    assert len(dispatcher.run_once().claimed) == 1
    clock.advance(1)
    assert dispatcher.run_once().claimed == []  # three agents, three offers: nothing more is released
    assert len(outbound.rest.calls) == 3


def test_scheduled_callback_in_another_time_zone_across_a_dst_change(
        make_dispatcher, outbound, add_agent, book, entry_of, clock):
    dispatcher = make_dispatcher(early_window_seconds=60)
    amsterdam = ZoneInfo("Europe/Amsterdam")
    # Friday 26 March 2027: New York is already on summer time (since 14 March), Amsterdam changes on Sunday 28.
    clock.set(datetime(2027, 3, 26, 14, 0, tzinfo=timezone.utc))
    # The customer asks for Monday 29 March 15:30 in Amsterdam: 13:30 UTC (CEST), 09:30 in New York.
    when = hours.local_to_utc(date(2027, 3, 29), time(15, 30), amsterdam)
    assert when == datetime(2027, 3, 29, 13, 30, tzinfo=timezone.utc)
    with pytest.raises(hours.TimeRefused) as gap:
        hours.local_to_utc(date(2027, 3, 28), time(2, 30), amsterdam)  # does not exist that night
    assert gap.value.reason == "dst_gap"
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER, scheduled_for=when, customer_timezone="Europe/Amsterdam")
    assert dispatcher.run_once().claimed == []
    assert dispatcher.run_once().next_wake == when - timedelta(seconds=60)
    clock.set(when - timedelta(seconds=61))
    assert dispatcher.run_once().claimed == []
    clock.set(when - timedelta(seconds=60))
    assert [c.public_id for c in dispatcher.run_once().claimed] == [pid]


def test_retry_after_hours_rolls_to_the_next_opening(make_dispatcher, outbound, add_agent, book, entry_of, clock):
    dispatcher = make_dispatcher(retry_delay_seconds=600)
    new_york = ZoneInfo("America/New_York")
    clock.set(datetime(2026, 11, 24, 17, 55, tzinfo=new_york))  # billing closes at 18:00
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    dispatcher.run_once()
    outbound.to(AGENT).answer().press("1")
    outbound.to(CUSTOMER).ring_out("no-answer")
    entry = entry_of(pid)
    assert entry.next_attempt_at == datetime(2026, 11, 25, 8, 0, tzinfo=new_york)  # not 18:05
    assert outbound.to(AGENT).ended  # told the customer could not be reached, then hung up
    clock.set(datetime(2026, 11, 25, 7, 59, tzinfo=new_york))
    assert dispatcher.run_once().claimed == []
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=new_york))
    assert len(dispatcher.run_once().claimed) == 1


def test_a_callback_booked_after_hours_waits_for_the_opening(dispatcher, add_agent, book, entry_of, clock):
    clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc))  # 18:30 in New York: billing closed
    add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    opening = datetime(2026, 11, 25, 13, 0, tzinfo=timezone.utc)  # 08:00 New York
    assert entry_of(pid).scheduled_for == opening
    report = dispatcher.run_once()
    assert report.claimed == []
    assert report.next_wake == opening - timedelta(seconds=60)  # the dispatcher's early window


def test_live_holder_is_connected_to_an_agent(dispatcher, outbound, twilio, add_agent, entry_of, agent_of,
                                             hold_while_busy):
    caller, pid = hold_while_busy()
    assert caller.queue == "billing"
    ann = add_agent("Ann", AGENT)
    assert len(dispatcher.run_once().claimed) == 1
    assert dispatcher.run_once().claimed == []  # the holder is offered once, not to every free agent
    agent = outbound.to(AGENT).answer()
    assert "Caller waiting for billing" in agent.heard_text()
    agent.press("1")
    dial = agent.documents[-1]
    assert "<Queue" in dial and ">billing</Queue>" in dial
    # Twilio bridged the first caller of its "billing" queue, after playing them the <Queue url> document.
    assert caller.peer is agent and agent.peer is caller and twilio.queues["billing"] == []
    assert "Connecting you" in caller.last_heard
    entry = entry_of(pid)
    assert entry.state == "connected" and entry.agent_id == ann
    assert agent_of(ann).state == "on_call"
    agent.hang_up()  # the conversation ends: the caller's Enqueue action says bridged
    entry = entry_of(pid)
    assert entry.state == "completed"
    assert [e.event for e in entry.events if e.event in ("agent_offered", "agent_accepted", "connected",
                                                          "completed")] == \
        ["agent_offered", "agent_accepted", "connected", "completed"]


def test_sms_confirmation_once_and_a_note_before_a_retry(dispatcher, outbound, twilio_rest, add_agent, book, clock):
    dispatcher.dialer.messaging_number = "+15005550007"
    book("+12125550180")
    clock.advance(60)
    pid = book(CUSTOMER)
    assert dispatcher.confirm_bookings() == 2
    assert dispatcher.confirm_bookings() == 0  # once per callback
    texts = {m["to"]: m["body"] for m in twilio_rest.messages}
    # Nobody is on yet: the text tells the window at the next opening (and stores it as told).
    assert texts[CUSTOMER].startswith("Booked: we will call you on the number ending in 0143 between 08:00 and "
                                      "08:10 tomorrow")
    assert texts[CUSTOMER].endswith("You are number 2 in line.")
    add_agent("Ann", AGENT)
    add_agent("Bob", AGENT2)
    dispatcher.run_once()
    legs = {c["to"]: c for c in twilio_rest.calls}
    agent = outbound.leg(legs[AGENT2]["sid"] if f"/agent/{pid}/" in legs[AGENT2]["url"] else legs[AGENT]["sid"])
    agent.answer()
    agent.press("1")
    outbound.to(CUSTOMER).ring_out("busy")
    assert twilio_rest.messages[-1]["to"] == CUSTOMER
    assert "could not reach you. We will try again today at 10:11" in twilio_rest.messages[-1]["body"]


def test_an_agent_held_by_a_call_whose_end_was_never_reported_is_freed(
        dispatcher, outbound, twilio_rest, add_agent, book, entry_of, agent_of, clock, supervisor):
    """A supervisor cancels the callback while the customer's phone rings, through the supervisor page.
    Twilio refuses to end the agent's leg (a 500 to the app's hang-up request), so the agent stays on the
    line; the agent then hangs up, and that leg's last status callback is lost. The entry is closed, so no
    in-flight claim points at the agent: recovery frees the agent once the grace period (60 s) is over,
    from Twilio's record of the call, and not before."""
    ann = add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    dispatcher.run_once()
    agent = outbound.to(AGENT).answer().press("1")
    customer = outbound.to(CUSTOMER).ring()
    assert entry_of(pid).state == "dialing_customer" and agent_of(ann).state == "on_call"
    twilio_rest.fail_next(f"Calls/{agent.call_sid}", status=500)  # the agent leg's hang-up is refused
    response = supervisor.act(pid, "cancel", entry_of(pid).version, reason="customer called in")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert entry_of(pid).state == "cancelled"
    assert customer.ended and not agent.ended
    assert agent_of(ann).state == "on_call"
    twilio_rest.set_status(agent.call_sid, "completed")  # the agent hangs up; the status callback is lost
    clock.advance(30)
    assert dispatcher.recover() == 0 and agent_of(ann).state == "on_call"  # too early to tell
    clock.advance(31)
    assert dispatcher.recover() == 1
    assert agent_of(ann).state == "available"


def test_status_callbacks_out_of_order_change_nothing_twice(dispatcher, outbound, add_agent, book, entry_of,
                                                            agent_of, clock):
    ann = add_agent("Ann", AGENT)
    pid = book(CUSTOMER)
    dispatcher.run_once()
    agent = outbound.to(AGENT)
    agent.answer()
    agent.press("1")
    customer = outbound.to(CUSTOMER)
    customer.resend_status("ringing")
    customer.ring_out("no-answer")
    trail = [e.event for e in entry_of(pid).events]
    customer.resend_status("ringing")      # late
    customer.resend_status("in-progress")  # later still, and impossible after no-answer
    customer.amd("human")                  # a verdict for a call that never connected
    customer.resend_status("no-answer")    # repeated
    assert [e.event for e in entry_of(pid).events] == trail
    assert entry_of(pid).state == "retry_wait"
    assert agent.ended  # told the customer could not be reached, then hung up
    agent.resend_status("ringing")
    assert agent_of(ann).state == "available"


def test_priority_first_then_arrival(dispatcher, add_agent, book, entry_of, supervisor, clock):
    first = book("+12125550191")
    clock.advance(100)
    second = book("+12125550192")
    clock.advance(200)
    urgent = book("+12125550193")
    response = supervisor.act(urgent, "priority", entry_of(urgent).version, priority="5")  # the supervisor page
    assert response.status_code == 200 and entry_of(urgent).priority == 5, response.get_data(as_text=True)
    add_agent("Ann", AGENT)
    add_agent("Bob", AGENT2)
    assert [c.public_id for c in dispatcher.run_once().claimed] == [urgent, first]
    assert entry_of(second).state == "queued"  # two agents, three callbacks: the latest without priority waits


def test_holder_is_offered_again_when_the_agents_queue_dial_bridges_nobody(
        dispatcher, outbound, twilio, add_agent, entry_of, agent_of, hold_while_busy):
    caller, pid = hold_while_busy()
    ann = add_agent("Ann", AGENT)
    dispatcher.run_once()
    agent = outbound.to(AGENT).answer()
    twilio.drop_queue_member("billing", caller.sid)  # Twilio's queue lost the caller (a fault on its side)
    agent.press("1")
    agent.wait()  # <Dial><Queue> on an empty queue times out: nobody bridged
    assert agent.ended
    entry = entry_of(pid)
    assert entry.state == "holding" and entry.agent_id is None and entry.events[-1].event == "agent_missed"
    assert agent_of(ann).state == "available"
    assert len(dispatcher.run_once().claimed) == 1  # offered again


@pytest.mark.parametrize("who", ["customer", "supervisor"])
@pytest.mark.parametrize("while_", ["agent_ringing", "customer_ringing"])
def test_a_callback_cancelled_mid_dial_hangs_up_its_calls(
        app, dispatcher, outbound, twilio_rest, add_agent, entry_of, agent_of, runtime, clock, while_, who, request):
    """Booked through the public API; cancelled through the production routes: the customer's status link,
    or the supervisor page."""
    from urllib.parse import parse_qs, urlsplit

    ann = add_agent("Ann", AGENT)
    booked = app.test_client().post("/api/callbacks", json={"phone": CUSTOMER, "skill": "billing", "channel": "api"})
    assert booked.status_code == 201, booked.get_data(as_text=True)
    pid = booked.get_json()["id"]
    [token] = parse_qs(urlsplit(booked.get_json()["status_url"]).query)["token"]
    dispatcher.run_once()
    agent = outbound.to(AGENT).answer()
    if while_ == "customer_ringing":
        agent.press("1")
        outbound.to(CUSTOMER).ring()
    if who == "customer":
        response = app.test_client().delete(f"/api/callbacks/{pid}?token={token}")
    else:
        response = request.getfixturevalue("supervisor").act(pid, "cancel", entry_of(pid).version,
                                                             reason="customer called in")
    assert response.status_code == 200, response.get_data(as_text=True)
    for call in twilio_rest.calls:
        assert "completed" in [u.get("Status") for u in call["updates"]], call["to"]
    assert agent.ended  # Twilio reported the ended agent leg: the agent is free again, not offline
    assert agent_of(ann).state == "available"
    assert entry_of(pid).state == "cancelled"


def test_a_callback_cancelled_while_waiting_has_no_calls_to_end(dispatcher, book, runtime, entry_of, supervisor,
                                                                  twilio_rest):
    pid = book(CUSTOMER)
    response = supervisor.act(pid, "cancel", entry_of(pid).version, reason="customer called in")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert entry_of(pid).state == "cancelled"
    assert runtime.hang_up_cancelled(entry_of(pid).id) == 0
    assert twilio_rest.requests == []


def test_a_texter_is_not_confirmed_twice(dispatcher, twilio, twilio_rest, runtime, entry_of):
    """The SMS webhook already answered the texter with the confirmation; no second text follows."""
    from tests.webhooks.test_sms import reply_of, text

    dispatcher.dialer.messaging_number = "+15005550007"
    answer = reply_of(text(twilio, "call me about my bill", from_number=CUSTOMER))  # signed, as Twilio sends it
    assert answer.startswith("Booked: we will call you on the number ending in 0143"), answer
    assert dispatcher.confirm_bookings() == 0
    assert twilio_rest.messages == []
