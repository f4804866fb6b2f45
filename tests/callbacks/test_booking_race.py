"""Two bookings for the last place at a start time, at the same moment: exactly one is booked (201), the
other is refused as full (409 `full`, `next_free`), on SQLite and on PostgreSQL (DATABASE_URL_TEST).

Both are real POST /api/callbacks requests, each on its own thread. A race only shows when the two
interleave at the wrong moment, so the test makes them: both requests meet at the room check
(`routing.slots.has_room`); the first goes on and counts the booked times, then waits there until the
second has either reached the same count or stopped at the skill's hold (`routing.slots.hold`, which a
booking takes before it counts). Without the hold, both count one place left and both are booked; with
it, the second waits until the first has committed and counts it. Events and a barrier, no sleeps: the
waits' limit only stops a hung test (and fails it)."""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlalchemy import select

from routing import slots
from storage.models import QueueEntry

GUARD = 60  # seconds: only a hung test reaches it
AGENT = "+14155550101"


class Interleave:
    """Wraps has_room, hold and the count of booked times so that the second request counts (or waits at
    the hold) before the first one books."""

    def __init__(self, monkeypatch):
        self.meet = threading.Barrier(2, timeout=GUARD)
        self.first: int | None = None
        self.first_counted = threading.Event()
        self.second_arrived = threading.Event()
        real_has_room, real_hold, real_due = slots.has_room, slots.hold, slots._due_times

        def has_room(*args, **kwargs):
            if self.meet.wait() == 0:  # both are past their earlier writes (rate limits); one goes first
                self.first = threading.get_ident()
            else:
                assert self.first_counted.wait(GUARD), "the first booking never counted"
            return real_has_room(*args, **kwargs)

        def hold(*args, **kwargs):
            if self.first is not None and threading.get_ident() != self.first:
                self.second_arrived.set()  # the second is at the hold: it waits there (or it is free)
            return real_hold(*args, **kwargs)

        def due_times(*args, **kwargs):
            found = real_due(*args, **kwargs)
            if threading.get_ident() == self.first and not self.first_counted.is_set():
                self.first_counted.set()
                assert self.second_arrived.wait(GUARD), "the second booking never reached the check"
            elif self.first is not None and threading.get_ident() != self.first:
                self.second_arrived.set()  # it counted too (no hold before it): the race is on
            return found

        monkeypatch.setattr(slots, "has_room", has_room)
        monkeypatch.setattr(slots, "hold", hold)
        monkeypatch.setattr(slots, "_due_times", due_times)


def book_together(app, bodies: list[dict]) -> list:
    answers: list = [None] * len(bodies)

    def send(n: int) -> None:
        answers[n] = app.test_client().post("/api/callbacks", json=bodies[n],
                                            environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"})

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD)
        assert not thread.is_alive(), "a booking hung"
    return answers


def test_two_bookings_for_the_last_place_book_exactly_one(app, add_agent, runtime, monkeypatch):
    add_agent("Ann", AGENT)  # one agent: one callback can start at 14:30 tomorrow
    Interleave(monkeypatch)
    bodies = [{"phone": f"+1212555016{n}", "skill": "billing", "channel": "api", "when": "scheduled",
               "preferred_time": "2026-11-25T14:30", "timezone": "America/New_York"} for n in range(2)]
    answers = book_together(app, bodies)
    assert sorted(a.status_code for a in answers) == [201, 409], [a.get_json() for a in answers]
    [refused] = [a for a in answers if a.status_code == 409]
    assert refused.get_json()["code"] == "full"
    assert refused.get_json()["next_free"][0] == "2026-11-25T14:35"
    [booked] = [a for a in answers if a.status_code == 201]
    with runtime.sessions() as s:
        due = s.execute(select(QueueEntry.public_id, QueueEntry.next_attempt_at)
                        .where(QueueEntry.kind == "callback", QueueEntry.state == "scheduled")).all()
    assert [public_id for public_id, _ in due] == [booked.get_json()["id"]]


def test_a_move_and_a_booking_for_the_last_place_take_it_once(app, add_agent, runtime, monkeypatch):
    """The waiting page's move counts again holding the skill: a booking at the same moment is counted."""
    add_agent("Ann", AGENT)
    client = app.test_client()
    moving = client.post("/api/callbacks", json={"phone": "+12125550170", "skill": "billing", "channel": "api",
                                                 "when": "scheduled", "preferred_time": "2026-11-25T10:00",
                                                 "timezone": "America/New_York"}).get_json()
    token = urlsplit(moving["waiting_url"]).query
    slot = "2026-11-25T14:30"
    assert slot in [s["value"] for s in client.get(f"/api/callbacks/{moving['id']}/slots?{token}").get_json()["slots"]]
    Interleave(monkeypatch)
    answers: list = [None, None]

    def move() -> None:
        answers[0] = app.test_client().post(f"/api/callbacks/{moving['id']}/move?{token}", json={"slot": slot})

    def book() -> None:
        answers[1] = app.test_client().post("/api/callbacks", environ_base={"REMOTE_ADDR": "198.51.100.9"}, json={
            "phone": "+12125550171", "skill": "billing", "channel": "api", "when": "scheduled",
            "preferred_time": slot, "timezone": "America/New_York"})

    threads = [threading.Thread(target=move), threading.Thread(target=book)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD)
        assert not thread.is_alive(), "a request hung"
    # Whichever came first has the place (200 moved, or 201 booked); the other is refused as full.
    assert len([a for a in answers if a.status_code in (200, 201)]) == 1, [a.get_json() for a in answers]
    assert [a.get_json()["code"] for a in answers if a.status_code == 409] == ["full"]
    with runtime.sessions() as s:
        at_slot = s.scalars(select(QueueEntry.id).where(
            QueueEntry.kind == "callback", QueueEntry.state == "scheduled",
            QueueEntry.next_attempt_at == datetime(2026, 11, 25, 19, 30, tzinfo=timezone.utc))).all()
    assert len(at_slot) == 1
