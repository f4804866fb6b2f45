"""Figures from the audit trail: a small day of callers, callbacks and an agent made through the requests
production receives (signed voice webhooks, /api/callbacks, the supervisor page, the dispatcher's calls
answered through the emulator), on the injected clock; the expected figures are worked out by hand from
what each caller was told and when they were answered."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from sqlalchemy import select

from callbacks import services as callbacks
from storage.models import QueueEntry
from supervisor import metrics
from tests.supervisor.conftest import dispatcher_for
from tests.support import agents_api
from tests.support.outbound_legs import Outbound

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


ANN = "+14155550101"


class Day:
    """A day made as it happens: callers ring the IVR through the Twilio emulator (signed webhooks), web
    callbacks are booked through /api/callbacks, the dispatcher places calls that Ann answers and accepts
    with 1, customers answer or are busy, and everyone hangs up; the clock is the injected one."""

    def __init__(self, app, twilio, runtime, clock, monkeypatch):
        monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
        self.runtime, self.twilio, self.clock = runtime, twilio, clock
        self.client = app.test_client()
        self.dispatcher = dispatcher_for(runtime)
        self.outbound = Outbound(twilio)

    def minute(self, minutes: float) -> "Day":
        self.clock.set(at(minutes))
        return self

    def staff(self, skills=("billing",)) -> None:
        agents_api.add_available(self.client, "Ann", ANN, list(skills), wrap_up_seconds=0)

    def ring(self, number: str, digit: str = "1"):
        """A caller picks a skill; returns the call, with what they were told in `call.last_heard`."""
        call = self.twilio.call(from_number=number)
        call.press(digit)
        return call

    def book(self, number: str, **body) -> str:
        response = self.client.post("/api/callbacks", json={"phone": number, "skill": "billing", **body})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()["id"]

    def serve(self, customer: str | None = None, answer: str = "human"):
        """The dispatcher offers the next in line to Ann, who answers and presses 1; for a callback the
        customer's phone then rings and is answered (`answer`) or busy. Returns the customer's leg."""
        claimed = self.dispatcher.run_once().claimed
        assert len(claimed) == 1, claimed
        agent = self.outbound.to(ANN).answer()
        agent.press("1")
        if customer is None:
            return None
        leg = self.outbound.to(customer)
        if answer == "busy":
            leg.ring_out("busy")
            return None
        leg.answer().amd(answer)
        return leg


def entry_of(runtime, number: str) -> QueueEntry:
    with runtime.sessions() as db:
        return db.scalars(select(QueueEntry).where(QueueEntry.phone_number == number)).one()


@pytest.fixture
def day(app, twilio, runtime, clock, monkeypatch):
    d = Day(app, twilio, runtime, clock, monkeypatch)
    d.minute(0).staff()
    b = d.ring("+12125550101")                                   # b: Ann is free: no wait to tell
    assert "The wait is less than a minute" in b.heard_text()
    d.serve()                                                    # b connected at 0
    a = d.ring("+12125550102")
    assert "The wait is about 4 minutes" in a.last_heard       # a: told 240 s
    a.press("2")                                                 # hold
    c = d.minute(1).ring("+12125550103")
    assert "The wait is about 8 minutes" in c.last_heard       # c: told 480 s
    c.press("2")
    d.minute(1.5)
    c.hang_up()                                                  # c hung up after 30 s
    dd = d.minute(2).ring("+12125550104")
    assert "The wait is about 8 minutes" in dd.last_heard      # d: told 480 s, then asks for a callback
    for key in "111":                                            # call me back, on this number, as soon as
        dd.press(key)
    assert "between 10:02 and 10:30 today" in dd.last_heard and dd.ended
    d.minute(3)
    b.hang_up()                                                  # b's call ends after 3 min: Ann is free
    d.serve()                                                    # a connected at 3
    d.minute(5)
    a.hang_up()
    d_leg = d.serve(customer="+12125550104")                     # d connected at 5
    d.book("+12125550105", when="scheduled", preferred_time="2026-11-24T11:00",
           timezone="America/New_York")                          # e: a slot at 16:00 UTC (minute 60)
    d.minute(6).book("+12125550106")                             # f: as soon as possible
    d.minute(7)
    d_leg.hang_up()
    d.serve(customer="+12125550106", answer="busy")              # f: busy at 7, at 17 and at 27: failed
    d.minute(17).serve(customer="+12125550106", answer="busy")
    d.minute(27).serve(customer="+12125550106", answer="busy")
    e_leg = d.minute(60).serve(customer="+12125550105")          # e connected at its slot
    d.minute(62)
    e_leg.hang_up()
    return d


def test_the_days_figures_follow_from_the_trail(runtime, day):
    with runtime.sessions() as db:
        figs = metrics.figures(db, ["billing", "sales"], at(0), at(120))
    f = figs["billing"]
    # offered: every caller told a wait (b "less than a minute", a, c, d) and every request (e, f);
    # accepted: the callbacks asked for (d from the wait offer, e and f by the API)
    assert (f.offered, f.accepted) == (6, 3)
    assert (f.callbacks_connected, f.callbacks_failed) == (2, 1)  # d and e; f busy three times
    assert f.success_rate == pytest.approx(2 / 3)
    assert sorted(f.callback_waits) == [0, 180]  # e at its slot; d 3 min after ringing in
    assert f.callback_wait_median == 90 and f.callback_wait_p90 == 180  # the p90 by nearest rank
    assert (f.holders_ended, f.abandoned) == (4, 1)  # a, b, c and d (left the line for a callback); c hung up
    # eligible for the service level: a (answered after 180 s) and b (at once); c left within 60 s and d
    # asked for a callback at once
    assert (f.sl_met, f.sl_eligible) == (1, 2)
    # the last wait told before a connection: b 0 s, waited 0; a 240 s, waited 180; d 495 s, waited 180
    assert sorted(f.announce_errors) == [-315, -60, 0]
    assert f.announce_error_mean == -125 and f.announce_error_abs_mean == 125
    # every wait told: a twice (the offer, then on hold), c twice (hung up before it ran out: unknown),
    # d twice (480 s, then 495 s as a callback), f once (255 s; it failed 1260 s later)
    assert (f.announcements, f.announcements_censored) == (8, 2)
    assert sorted(f.all_announce_errors) == [-315, -300, -60, -60, 0, 1005]
    assert sorted(f.waits_to_connect) == [0, 0, 180, 180]  # b, e, a, d
    assert sorted(f.reach_seconds) == [0, 180, 180]  # the chosen slot (e) is left out
    assert (f.asap_windows, f.asap_kept, f.slots, f.slots_on_time) == (2, 1, 1, 1)
    empty = figs["sales"]
    assert empty.offered == 0 and empty.success_rate is None and empty.callback_wait_median is None


def test_a_period_counts_only_what_happened_inside_it(runtime, day):
    with runtime.sessions() as db:
        f = metrics.figures(db, ["billing"], at(9), at(30))["billing"]
    assert (f.offered, f.accepted) == (0, 0)
    assert (f.callbacks_connected, f.callbacks_failed) == (0, 1)  # f failed at 27; e connects at 60
    assert f.holders_ended == 0 and f.announcements == 0


def test_a_moved_callback_counts_for_its_new_skill_from_the_move(app, twilio, runtime, clock, monkeypatch,
                                                                   supervisor):
    d = Day(app, twilio, runtime, clock, monkeypatch)
    pid = d.minute(0).book("+12125550105")
    d.minute(1)
    moved = supervisor.act(pid, "move", callbacks_entry(runtime, pid).version, skill="sales")  # the page's Move
    assert moved.status_code == 200, moved.get_data(as_text=True)
    d.minute(2).staff(skills=("sales",))
    d.minute(3).serve(customer="+12125550105")
    with runtime.sessions() as db:
        figs = metrics.figures(db, ["billing", "sales"], at(0), at(60))
    assert (figs["billing"].accepted, figs["billing"].callbacks_connected) == (1, 0)
    assert (figs["sales"].accepted, figs["sales"].callbacks_connected) == (0, 1)
    assert figs["sales"].callback_waits == [180]


def test_queue_length_is_replayed_from_state_changes(runtime, day):
    with runtime.sessions() as db:
        lines = metrics.timelines(db, at(0), at(12))
    series = dict(metrics.queue_length_series(lines, "billing", at(0), at(12), points=25))
    # holding or queued counts; scheduled (e) waits for its time and dialling has left the line
    assert series[at(0)] == 1  # a (b was connected at once)
    assert series[at(1)] == 2 and series[at(1.5)] == 1  # c joins, then hangs up at 1.5
    assert series[at(2)] == 2  # a and d, now a queued callback
    assert series[at(3)] == 1  # a connected: d
    assert series[at(5)] == 0  # d being dialled; e is scheduled for later
    assert series[at(6)] == 1  # f
    assert series[at(7)] == 0  # f dialled, then waiting to retry


def test_percentile_and_histogram():
    assert metrics.percentile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 90) == 9
    assert metrics.percentile([], 90) is None
    buckets = dict(metrics.histogram([0, 30, 31, 61, 4000]))
    assert buckets["0s–30s"] == 2 and buckets["30s–1m"] == 1 and buckets["1m–2m"] == 1 and buckets["1h+"] == 1


def test_csv_has_one_row_per_skill_with_the_figures(runtime, day):
    with runtime.sessions() as db:
        figs = metrics.figures(db, ["billing", "sales"], at(0), at(120))
    rows = list(csv.DictReader(io.StringIO(metrics.to_csv(list(figs.values())))))
    assert [r["skill"] for r in rows] == ["billing", "sales"]
    assert rows[0]["offered"] == "6" and rows[0]["callback_success_rate"] == "0.667"
    assert rows[0]["callback_wait_p90_s"] == "180.0" and rows[0]["announce_error_mean_s"] == "-125.0"


def callbacks_entry(runtime, public_id: str) -> QueueEntry:
    with runtime.sessions() as db:
        return callbacks.get_entry(db, public_id)


# ---- promises: windows kept, every wait told, time to reach a person ------------------------------------

def test_windows_kept_slots_on_time_and_time_to_reach_a_person(app, twilio, runtime, clock, monkeypatch,
                                                                supervisor):
    d = Day(app, twilio, runtime, clock, monkeypatch)
    d.minute(0).staff()
    busy = d.ring("+12125550101")
    d.serve()  # Ann is on this call: the windows below are told with a wait
    asap, late = d.book("+12125550102"), d.book("+12125550103")
    slot = d.book("+12125550104", when="scheduled", preferred_time="2026-11-24T11:00", timezone="America/New_York")
    with runtime.sessions() as db:
        windows = {pid: (callbacks.get_entry(db, pid).promised_from, callbacks.get_entry(db, pid).promised_by)
                   for pid in (asap, late, slot)}
    assert windows[asap] == (at(0), at(20)) and windows[slot][0] == at(60)
    # A supervisor moves the slot an hour later; the customer was never told, so the window stays.
    moved = supervisor.act(slot, "reschedule", callbacks_entry(runtime, slot).version, when="2026-11-24T12:00",
                           zone="America/New_York", reason="agent training")
    assert moved.status_code == 200, moved.get_data(as_text=True)
    d.minute(11)
    busy.hang_up()
    leg = d.serve(customer="+12125550102")   # asap connected at 11, inside 15:00-15:20
    d.minute(51)
    leg.hang_up()
    leg = d.serve(customer="+12125550103")   # late connected at 51, after its 15:00-15:20
    d.minute(60)
    leg.hang_up()
    d.minute(120).serve(customer="+12125550104")  # the slot, at the supervisor's 17:00
    with runtime.sessions() as db:
        f = metrics.figures(db, ["billing"], T0, at(180))["billing"]
    assert (f.asap_windows, f.asap_kept) == (2, 1)  # one connected inside its window, one after it
    assert (f.slots, f.slots_on_time) == (1, 0)  # first attempted an hour after the slot told
    assert f.timing == {"early": 0, "on_time": 1, "late": 2}
    # Time to reach a person: request to connection, the callback leg included; the chosen slot is left
    # out, and the caller Ann was talking to reached her at once.
    assert sorted(f.reach_seconds) == [0, 11 * 60, 51 * 60]
    # The slot's callback wait counts from the slot told (16:00), not from the supervisor's 17:00.
    assert sorted(f.callback_waits) == [11 * 60, 51 * 60, 120 * 60 - 60 * 60]


def test_a_wait_told_and_outlived_counts_though_the_caller_hung_up(app, twilio, runtime, clock, monkeypatch):
    d = Day(app, twilio, runtime, clock, monkeypatch)
    d.minute(0).staff()
    d.ring("+12125550101")
    d.serve()  # Ann is busy from now on
    caller = d.ring("+12125550102")
    assert "The wait is about 4 minutes" in caller.last_heard
    caller.press("2")  # holds, and hears the wait again
    d.minute(5)
    caller.hang_up()  # 5 min after being told 4: 1 min over, whether or not anyone answered
    with runtime.sessions() as db:
        f = metrics.figures(db, ["billing"], T0, at(60))["billing"]
    assert (f.announcements, f.announcements_censored) == (3, 0)  # "less than a minute" to the first caller
    assert sorted(f.all_announce_errors) == [0.0, 60.0, 60.0]
    assert f.announce_errors == [0.0]  # the older figure: only the last wait told before a connection
