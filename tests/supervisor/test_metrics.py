"""Figures from the audit trail: a small day of holders and callbacks, worked out by hand."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from callbacks import services as callbacks
from storage.db import transaction
from storage.models import QueueEntry
from supervisor import metrics, services

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Day:
    def __init__(self, runtime):
        self.runtime = runtime
        self.n = 0

    def holder(self, minute: float, skill: str = "billing") -> int:
        self.n += 1
        with transaction(self.runtime.sessions) as db:
            e = callbacks.enter_line(db, skill=skill, call_sid=f"CA{self.n:032d}", phone_number=f"+1212555{self.n:04d}",
                                     language="en-US", arrived_at=at(minute), now=at(minute))
            return e.id

    def request(self, minute: float, skill: str = "billing", scheduled_for=None) -> int:
        self.n += 1
        req = callbacks.CallbackRequest(skill=skill, phone_number=f"+1212555{self.n:04d}", channel="web",
                                        language="en-US", arrived_at=at(minute), scheduled_for=scheduled_for)
        with transaction(self.runtime.sessions) as db:
            return callbacks.book_callback(db, req, at(minute)).entry.id

    def convert(self, entry_id: int, minute: float) -> None:
        with transaction(self.runtime.sessions) as db:
            e = db.get(QueueEntry, entry_id)
            req = callbacks.CallbackRequest(skill=e.skill, phone_number=e.phone_number, channel="phone",
                                            language="en-US", arrived_at=e.arrived_at)
            callbacks.convert_to_callback(db, e, req, at(minute))

    def announce(self, entry_id: int, minute: float, seconds: int) -> None:
        with transaction(self.runtime.sessions) as db:
            e = db.get(QueueEntry, entry_id)
            e.announced_wait_seconds = seconds
            callbacks.record(db, e, "wait_announced", now=at(minute), seconds=seconds)

    def move(self, entry_id: int, *states_and_minutes) -> None:
        with transaction(self.runtime.sessions) as db:
            e = db.get(QueueEntry, entry_id)
            for state, minute in states_and_minutes:
                callbacks.change_state(db, e, state, now=at(minute))


@pytest.fixture
def day(runtime):
    d = Day(runtime)
    a = d.holder(0)
    d.announce(a, 0, 120)
    d.move(a, ("connected", 3))                                  # held 180 s, told 120 s
    b = d.holder(0)
    d.move(b, ("connected", 0.5))                                # held 30 s, never told a wait
    c = d.holder(1)
    d.announce(c, 1, 60)
    d.move(c, ("abandoned", 1.5))                                # hung up after 30 s
    dd = d.holder(2)
    d.announce(dd, 2, 300)
    d.convert(dd, 4)                                             # pressed 1 after 120 s
    d.announce(dd, 4, 400)                                       # "we'll call you in about 6-7 minutes"
    d.move(dd, ("dialing_customer", 9), ("connected", 10))       # 8 min after joining the line
    e = d.request(5, scheduled_for=at(60))
    d.move(e, ("dialing_customer", 61), ("connected", 62))       # 2 min after the agreed time
    f = d.request(6)
    d.move(f, ("dialing_customer", 7), ("retry_wait", 8), ("dialing_customer", 18), ("failed", 20))
    return d


def test_the_days_figures_follow_from_the_trail(runtime, day):
    with runtime.sessions() as db:
        figs = metrics.figures(db, ["billing", "sales"], at(0), at(120))
    f = figs["billing"]
    assert (f.offered, f.accepted) == (5, 3)  # told-a-wait holders a, c, d + requests e, f; accepted d, e, f
    assert (f.callbacks_connected, f.callbacks_failed) == (2, 1)
    assert f.success_rate == pytest.approx(2 / 3)
    assert sorted(f.callback_waits) == [120, 480]
    assert f.callback_wait_median == 300 and f.callback_wait_p90 == 480
    assert (f.holders_ended, f.abandoned) == (4, 1)
    # eligible: a (answered late), b (answered in time), d (left for a callback after 120 s); c left within 60 s
    assert (f.sl_met, f.sl_eligible) == (1, 3)
    # a: 180 - 120 = +60; d: (10 - 4 min) - 400 s = -40
    assert sorted(f.announce_errors) == [-40, 60]
    assert f.announce_error_mean == 10 and f.announce_error_abs_mean == 50
    assert sorted(f.waits_to_connect) == [30, 120, 180, 480]
    empty = figs["sales"]
    assert empty.offered == 0 and empty.success_rate is None and empty.callback_wait_median is None


def test_a_period_counts_only_what_happened_inside_it(runtime, day):
    with runtime.sessions() as db:
        f = metrics.figures(db, ["billing"], at(9), at(30))["billing"]
    assert (f.offered, f.accepted) == (0, 0)
    assert (f.callbacks_connected, f.callbacks_failed) == (1, 1)  # d connected at 10, f failed at 20
    assert f.holders_ended == 0


def test_a_moved_callback_counts_for_its_new_skill_from_the_move(runtime, clock):
    d = Day(runtime)
    e = d.request(0)
    with services.steering(), transaction(runtime.sessions) as db:
        entry = db.get(QueueEntry, e)
        services.move_skill(db, entry.public_id, entry.version, skill="sales", actor="sam", now=at(1),
                            config=runtime.ivr_config)
    d.move(e, ("dialing_customer", 2), ("connected", 3))
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
    assert series[at(0)] == 2  # a, b
    assert series[at(0.5)] == 1  # b connected at exactly 0.5
    assert series[at(1)] == 2 and series[at(1.5)] == 1  # c joins, then hangs up at 1.5
    assert series[at(2.5)] == 2  # a and d
    assert series[at(3.5)] == 1  # d
    assert series[at(5)] == 1  # d, now a queued callback (e is scheduled for later)
    assert series[at(6.5)] == 2  # d and f
    assert series[at(9.5)] == 0  # d being dialled, f waiting to retry


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
    assert rows[0]["offered"] == "5" and rows[0]["callback_success_rate"] == "0.667"
    assert rows[0]["callback_wait_p90_s"] == "480.0" and rows[0]["announce_error_mean_s"] == "10.0"


# ---- promises: windows kept, every wait told, time to reach a person ------------------------------------

def test_windows_kept_slots_on_time_and_time_to_reach_a_person(app, runtime, clock, busy_agent):
    busy_agent("billing")
    client = app.test_client()
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute")
    asap = client.post("/api/callbacks", json={"phone": "+12125550101", "skill": "billing"}).get_json()
    late = client.post("/api/callbacks", json={"phone": "+12125550102", "skill": "billing"}).get_json()
    slot = client.post("/api/callbacks", json={"phone": "+12125550103", "skill": "billing", "when": "scheduled",
                                               "preferred_time": "2026-11-24T11:00",
                                               "timezone": "America/New_York"}).get_json()
    assert asap["window"]["from"] == "2026-11-24T15:00:00Z" and slot["window"]["from"] == "2026-11-24T16:00:00Z"
    ids = {}
    with runtime.sessions() as db:
        for name, view in (("asap", asap), ("late", late), ("slot", slot)):
            ids[name] = callbacks.get_entry(db, view["id"]).id
    # A supervisor moves the slot an hour later; the customer was never told, so the window stays.
    with transaction(runtime.sessions) as db:
        version = callbacks.get_entry(db, slot["id"]).version
        services.reschedule(db, slot["id"], version, when=at(120), actor="sam", now=at(1), config=runtime.ivr_config)
    day = Day(runtime)
    day.move(ids["asap"], ("dialing_agent", 10), ("dialing_customer", 11), ("connected", 12), ("completed", 20))
    day.move(ids["late"], ("dialing_agent", 50), ("dialing_customer", 51), ("connected", 52), ("completed", 60))
    day.move(ids["slot"], ("queued", 120), ("dialing_agent", 120), ("dialing_customer", 121), ("connected", 122))
    with runtime.sessions() as db:
        f = metrics.figures(db, ["billing"], T0, at(180))["billing"]
    assert (f.asap_windows, f.asap_kept) == (2, 1)  # one connected inside its window, one after it
    assert (f.slots, f.slots_on_time) == (1, 0)  # first attempted an hour after the slot told
    assert f.timing == {"early": 0, "on_time": 1, "late": 2}
    # Time to reach a person: request to connection, the callback leg included; the chosen slot is left out.
    assert sorted(f.reach_seconds) == [12 * 60, 52 * 60]
    # The slot's callback wait counts from the slot told (16:00), not from the supervisor's 17:00.
    assert 122 * 60 - 60 * 60 in f.callback_waits


def test_every_wait_told_is_measured_not_only_the_connected(runtime):
    day = Day(runtime)
    told_then_left_late = day.holder(0)
    day.announce(told_then_left_late, 0, 60)
    day.move(told_then_left_late, ("abandoned", 3))  # waited 3 min after being told 1 min: 2 min over
    told_then_left_early = day.holder(0)
    day.announce(told_then_left_early, 0, 600)
    day.move(told_then_left_early, ("abandoned", 2))  # left before the told wait ran out: unknown
    connected = day.holder(0)
    day.announce(connected, 0, 300)
    day.announce(connected, 0.5, 240)  # a hold update, told too
    day.move(connected, ("connected", 4.5))
    with runtime.sessions() as db:
        f = metrics.figures(db, ["billing"], T0, at(60))["billing"]
    assert (f.announcements, f.announcements_censored) == (4, 1)
    assert sorted(f.all_announce_errors) == [-30.0, 0.0, 120.0]
    assert f.announce_errors == [0.0]  # the old figure: only the last one before a connection
