"""Re-estimates while a callback waits: a callback that slips out of the window its customer was told
gets a new window, once per slip, before the old one ends (SMS and the status link), recorded in the
audit trail. Through the production paths: the caller books by phone (signed webhooks), the
dispatcher keeps an agent busy through the emulator, time from a ManualClock."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.support import agents_api

AGENT = "+14155550101"
CALLER = "+12125550142"
OTHER = "+12125550199"
MESSAGING = "+15005550007"
NEW_YORK = ZoneInfo("America/New_York")


def busy_agent(dispatcher, outbound, add_agent, book, clock):
    """Bob is staffed and talking to another customer (a callback booked on the web a minute ago, which the
    dispatcher connected)."""
    add_agent("Bob", AGENT)
    book(OTHER)
    clock.advance(60)
    dispatcher.run_once()
    outbound.to(AGENT).answer().press("1")
    outbound.to(OTHER).answer().amd("human")


def book_by_phone(twilio, entry_of, runtime):
    from sqlalchemy import select

    from storage.models import QueueEntry

    call = twilio.call(from_number=CALLER)
    call.press("1")  # billing
    call.press("1")  # call me back
    call.press("1")  # on this number
    call.press("1")  # as soon as possible
    assert "We will call you back between" in call.last_heard
    with runtime.sessions() as s:
        pid = s.scalar(select(QueueEntry.public_id).where(QueueEntry.phone_number == CALLER))
    return pid, call.last_heard


def told(entry):
    return [e for e in entry.events if e.event == "window_told"]


def test_a_slipping_callback_is_told_a_new_window_once_before_the_old_one_ends(
        dispatcher, outbound, twilio, twilio_rest, add_agent, book, entry_of, runtime, clock):
    dispatcher.dialer.messaging_number = MESSAGING
    busy_agent(dispatcher, outbound, add_agent, book, clock)
    pid, heard = book_by_phone(twilio, entry_of, runtime)
    entry = entry_of(pid)
    first_from, first_by = entry.promised_from, entry.promised_by
    assert first_by is not None and len(told(entry)) == 1
    assert dispatcher.tell_slips() == 0  # on time: nothing to tell
    texts = len(twilio_rest.messages)

    # Bob's conversation goes on; close to the end of the window the callback cannot make it any more.
    clock.advance((first_by - clock.now()).total_seconds() - 60)
    assert dispatcher.tell_slips() == 1
    entry = entry_of(pid)
    assert clock.now() < first_by  # told before the old window ended
    assert entry.promised_from >= first_from and entry.promised_by > first_by
    notice = told(entry)[-1]
    assert notice.reason == "slipped" and notice.detail["sms"] is True
    assert notice.detail["previous_end"] == first_by.isoformat()
    [sms] = twilio_rest.messages[texts:]
    assert sms["to"] == CALLER
    assert sms["body"].startswith("Example Company: we are running later than we told you. "
                                  "We will now call you back between ")
    assert entry.promised_by.astimezone(ZoneInfo(entry.promised_zone)).strftime(" and %H:%M ") in sms["body"]

    assert dispatcher.tell_slips() == 0  # once per slip
    assert len(twilio_rest.messages) == texts + 1


def test_a_supervisors_reschedule_keeps_the_window_told_and_a_slip_it_causes_is_told(
        dispatcher, outbound, twilio, twilio_rest, add_agent, book, entry_of, runtime, clock, supervisor):
    busy_agent(dispatcher, outbound, add_agent, book, clock)  # no messaging number: the status link only
    pid, _ = book_by_phone(twilio, entry_of, runtime)
    before = entry_of(pid)
    # The supervisor page's Reschedule, to two hours after the window told ends (whole minutes, New York time).
    later = (before.promised_by + timedelta(hours=2)).astimezone(NEW_YORK).replace(second=0, microsecond=0)
    response = supervisor.act(pid, "reschedule", before.version, when=later.strftime("%Y-%m-%dT%H:%M"),
                              zone="America/New_York")
    assert response.status_code == 200, response.get_data(as_text=True)
    entry = entry_of(pid)
    assert (entry.promised_from, entry.promised_by) == (before.promised_from, before.promised_by)
    assert entry.next_attempt_at == later

    assert dispatcher.tell_slips() == 1  # now late by the supervisor's move: the customer hears of it
    entry = entry_of(pid)
    assert entry.promised_from >= later and entry.promised_by > later
    notice = told(entry)[-1]
    assert notice.reason == "slipped" and notice.detail["sms"] is False
    assert not [m for m in twilio_rest.messages if m["to"] == CALLER]


def test_the_status_link_shows_the_window_told_and_when_it_moved(
        app, dispatcher, outbound, twilio_rest, add_agent, entry_of, runtime, clock, monkeypatch):
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    dispatcher.dialer.messaging_number = MESSAGING
    client = app.test_client()
    ann = add_agent("Ann", AGENT)
    booked = client.post("/api/callbacks", json={"phone": CALLER, "skill": "billing", "channel": "api"}).get_json()
    status = booked["status_url"].split("/api/", 1)[1]
    dispatcher.run_once()
    outbound.to(AGENT).answer().press("1")
    outbound.to(CALLER).ring_out("busy")  # not reached: "we will try again today at 10:10" by SMS
    view = client.get("/api/" + status).get_json()
    retry_at = entry_of(booked["id"]).next_attempt_at
    assert view["window"]["from"] == retry_at.isoformat().replace("+00:00", "Z") and view["window"]["moved"] == 0
    assert view["window"]["timezone"] == "America/New_York"

    off = client.put(f"/api/agents/{ann}/state", json={"state": "offline"},  # Ann signs off; nobody else is on
                     headers={"Authorization": f"Bearer {agents_api.TOKEN}"})
    assert off.status_code == 200, off.get_data(as_text=True)
    clock.advance((retry_at - clock.now()).total_seconds() + 60)
    assert dispatcher.tell_slips() == 1
    view = client.get("/api/" + status).get_json()
    assert view["window"]["moved"] == 1 and view["window"]["from"] > retry_at.isoformat()
    assert "We will now call you back between" in twilio_rest.messages[-1]["body"]


def test_a_callback_still_ringing_the_agent_just_before_its_window_ends_is_told_in_time(
        dispatcher, outbound, twilio, add_agent, book, entry_of, runtime, clock):
    """Claimed 130 s before its window ends, the agent's phone still rings 15 s before the end: the agent's
    answer, the whisper, the customer's ring and the answering-machine check are all still to come, so
    it cannot be connected inside the window any more; the customer is told the new window now."""
    busy_agent(dispatcher, outbound, add_agent, book, clock)
    pid, _ = book_by_phone(twilio, entry_of, runtime)
    end = entry_of(pid).promised_by
    clock.advance((end - clock.now()).total_seconds() - 130)
    add_agent("Cy", "+14155550103")  # Cy signs in: the dispatcher rings Cy for this callback
    dispatcher.run_once()
    outbound.to("+14155550103").ring()
    assert entry_of(pid).state == "dialing_agent"
    assert dispatcher.tell_slips() == 0  # still in time: reached about a minute after the claim
    clock.advance(115)
    assert entry_of(pid).state == "dialing_agent"
    assert dispatcher.tell_slips() == 1  # 15 s before the end, still ringing Cy
    entry = entry_of(pid)
    assert clock.now() < end and entry.promised_by > end
    assert told(entry)[-1].reason == "slipped" and told(entry)[-1].detail["previous_end"] == end.isoformat()


def test_a_retrys_window_comes_from_its_place_in_line_and_is_not_moved_seconds_later(
        app, dispatcher, outbound, add_agent, entry_of, clock):
    """Not reached, the callback is tried again after the retry delay and keeps its place in line: the
    eight who booked after it are served after it. Its window is the estimate's, from the retry time,
    so the slip pass has nothing to tell right after (before: the retry time + 15 min was told, and the
    slip pass, counting the whole line ahead, moved it in the same minute: two notices in seconds)."""
    client = app.test_client()
    add_agent("Ann", AGENT)
    booked = client.post("/api/callbacks", json={"phone": CALLER, "skill": "billing", "channel": "api"}).get_json()
    dispatcher.run_once()
    outbound.to(AGENT).answer().press("1")
    for n in range(8):  # a long line behind the callback being dialled
        later = client.post("/api/callbacks", json={"phone": f"+1212555{300 + n:04d}", "skill": "billing",
                                                    "channel": "api"})
        assert later.status_code == 201, later.get_json()
    outbound.to(CALLER).ring_out("busy")
    entry = entry_of(booked["id"])
    assert entry.state == "retry_wait"
    retry = told(entry)[-1]
    assert retry.reason == "retry"
    assert entry.promised_from <= entry.next_attempt_at < entry.promised_by
    assert entry.promised_by - entry.next_attempt_at <= timedelta(minutes=20)
    for _ in range(3):
        assert dispatcher.tell_slips() == 0  # the window told stands
        clock.advance(30)
    assert told(entry_of(booked["id"]))[-1].id == retry.id


def test_the_pass_reads_the_line_once_and_finds_each_callbacks_place_as_the_counting_queries_do(
        dispatcher, outbound, twilio, add_agent, book, entry_of, runtime, clock):
    from sqlalchemy import select

    from routing.estimate import line_before, line_from, standing
    from storage.models import QueueEntry

    busy_agent(dispatcher, outbound, add_agent, book, clock)
    for n in range(3):
        book(f"+1212555017{n}")
        clock.advance(20)
    slot = (clock.now() + timedelta(hours=1)).replace(second=0, microsecond=0)
    book("+12125550180", scheduled_for=slot)
    book_by_phone(twilio, entry_of, runtime)
    now = clock.now()
    with runtime.sessions() as s:
        waiting = s.scalars(select(QueueEntry).where(QueueEntry.state.in_(("queued", "scheduled")))).all()
        shared: dict = {}
        rows = standing(s, "billing", shared)
        lines = [line_from(rows, now, entry) for entry in waiting] + [line_from(rows, now, None)]
        counted = [line_before(s, "billing", now, entry) for entry in waiting] + [line_before(s, "billing", now, None)]
    assert len(waiting) == 5 and {e.state for e in waiting} == {"queued", "scheduled"}
    assert [(li.ahead, li.holders, sorted(li.due)) for li in lines] == \
        [(li.ahead, li.holders, sorted(li.due)) for li in counted]
    assert {li.ahead for li in lines} == {0, 1, 2, 3, 4} and any(li.due for li in lines)
