"""A simulated day through the real code: `python bench/simday.py [FILE.toml ...]`.

A discrete-event simulation on a virtual clock (clock.ManualClock) that drives the product as it runs:
phone callers ring the IVR through the Twilio emulator (signed webhooks, keypad), web and chat visitors
book through callbacks.requests.request_callback (the service behind /api/callbacks and the chat
webhook), agents are registered and set available/offline through agents.services (what /api/agents
calls), the real Dispatcher picks, claims and dials through the emulator, and every call's outcome
goes back as Twilio's status and AMD callbacks. Waits told are whatever the product told (its audit
trail's `wait_announced`); the other predictors are computed at the same moments for comparison.

Without arguments runs bench/scenarios/{normal,peak,understaffed}.toml. One JSON line per scenario.
Scenario keys: docs/simday.md. Options: --charts DIR writes PNG charts; --no-baseline skips the day
with callbacks off (abandon_rate_without_offers is then null); --explain prints on stderr why promises
were not kept (slips not told in time, slots not dialled on time), entry by entry.
"""
from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import os
import sys
import tempfile
import time as real_time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DISPATCHER", "off")

from sqlalchemy import select  # noqa: E402

from agents import services as agents  # noqa: E402
from agents.exceptions import AgentStateRefused  # noqa: E402
from app import create_app  # noqa: E402
from callbacks import requests as callback_requests  # noqa: E402
from callbacks.dialing import Dialer, OutboundLinks  # noqa: E402
from callbacks.dispatcher import DispatchSettings, Dispatcher  # noqa: E402
from clock import ManualClock  # noqa: E402
from config import Settings, retry_in_window  # noqa: E402
from routing import queue  # noqa: E402
from simday_model import (Contact, Scenario, ScenarioError, SkillHistory, draw_contacts,  # noqa: E402
                          load_scenario, others, percentile)
from storage.db import transaction  # noqa: E402
from storage.models import Agent, QueueEntry, QueueEvent  # noqa: E402
from telephony.emulator import Emulator  # noqa: E402
from telephony.rest import ENDED  # noqa: E402
from telephony.transport import WsgiTransport  # noqa: E402

SCENARIOS = ROOT / "bench" / "scenarios"
SHIPPED = ("normal", "peak", "understaffed")
AUTH_TOKEN = "simday-auth-token-0123456789abcdef"
BASE = "https://ivr.example.com"
NUMBER = "+15005550006"
BUSY = ("reserved", "on_call", "wrap_up")
# Audit events that tell a waiting customer a new window; none exist before windows were stored and re-told.
CUSTOMER_RING_OUT_SECONDS = 25


def window_of(entry: QueueEntry, told_at: datetime, told: int | None):
    """The window a callback's customer was told: the stored one (promised_from/promised_by) where the
    product stores it; before that, the stand-in "about W" means by told_at + W + 5 minutes."""
    start, end = getattr(entry, "promised_from", None), getattr(entry, "promised_by", None)
    if start is not None and end is not None:
        return start, end, "stored"
    if told is None or told_at is None:
        return None
    return told_at, told_at + timedelta(seconds=told + 300), "stand-in"


class Day:
    """One scenario's day on one database, callbacks on (the product as configured) or off."""

    def __init__(self, sc: Scenario, workdir: str, *, offers: bool = True):
        self.sc = sc
        self.offers = offers
        self.contacts = draw_contacts(sc)
        self.clock = ManualClock(sc.start - timedelta(minutes=1))
        self.em = Emulator(AUTH_TOKEN, BASE, clock=self.clock.now, number=NUMBER)
        settings = Settings(database_url=f"sqlite:///{workdir}/simday-{'on' if offers else 'off'}.sqlite3",
                            public_base_url=BASE, twilio_account_sid="AC" + "0" * 32, twilio_auth_token=AUTH_TOKEN,
                            twilio_number=NUMBER, secret_key="simday", speech_enabled=False)
        self.app = create_app(settings, clock=self.clock, twilio_client=self.em.rest.client(AUTH_TOKEN))
        self.rt = self.app.extensions["ivr"]
        self.rt.ivr_config = self.config = self._day_config(self.rt.ivr_config)
        self.em.attach(WsgiTransport(self.app, BASE))
        dialer = Dialer(self.rt.twilio, NUMBER, OutboundLinks(BASE), self.clock)
        self.dispatcher = Dispatcher(self.rt.sessions, self.clock, self.config, dialer, DispatchSettings(
            calls_per_second=sc.calls_per_second, retry_delay_seconds=sc.retry_delay_seconds,
            retry_in_window=retry_in_window(str(sc.retry_in_window_seconds)),
            max_attempts=sc.max_attempts, sms=False))
        self.dispatcher.on_wake = lambda: self.sweep_at(self.clock.now())
        self.rt.extras["dispatcher"] = self.dispatcher
        self.plans = {p.name: p for p in sc.skills}
        self.history = {p.name: SkillHistory() for p in sc.skills}
        self.heap: list = []
        self.seq = itertools.count()
        self.sweeps: set[datetime] = set()
        self.by_sid: dict[str, Contact] = {}
        self.by_number = {c.number: c for c in self.contacts}
        self.claimed_at: dict[int, tuple[datetime, int]] = {}  # agent id -> (claim time, contact n)
        self.announcements: list[dict] = []
        self.samples: list[tuple[datetime, str, int, int, int]] = []  # (t, skill, backlog, busy, on shift)
        self.agent_ids: dict[str, list[int]] = {}
        self.shift_of: dict[int, tuple[datetime, datetime]] = {}
        self.coming_back: set[int] = set()  # agents the product took offline, due back from a break
        self.agents_back = 0

    # ---- set-up ---------------------------------------------------------------------------------------

    def _day_config(self, config):
        skills = {}
        for name, skill in config.skills.items():
            plan = next((p for p in self.sc.skills if p.name == name), None)
            hours = {d: (plan.open_local, plan.close_local) for d in range(7)} if plan else {}
            skill = replace(skill, hours=hours, timezone=self.sc.zone)
            if plan and plan.offer_threshold_seconds is not None:
                skill = replace(skill, callback_offer_threshold_seconds=int(plan.offer_threshold_seconds))
            if not self.offers:
                skill = replace(skill, callback_offer_threshold_seconds=10 ** 9)
            skills[name] = skill
        return replace(config, skills=skills)

    def _register_agents(self) -> None:
        n = 0
        with transaction(self.rt.sessions) as s:
            for plan in self.sc.skills:
                for shift in plan.shifts:
                    for _ in range(shift.count):
                        n += 1
                        agent = agents.add_agent(s, name=f"{plan.name}-{n}", address=f"+1415{3000000 + n:07d}",
                                                 skills=[plan.name], now=self.clock.now(),
                                                 wrap_up_seconds=plan.wrap_seconds, state="offline")
                        s.flush()
                        self.at(shift.start, self.agent_to, agent.id, "available")
                        self.at(shift.end, self.agent_to, agent.id, "offline")
                        self.shift_of[agent.id] = (shift.start, shift.end)
                        self.agent_ids.setdefault(plan.name, []).append(agent.id)

    # ---- the event loop ------------------------------------------------------------------------------

    def at(self, when: datetime, action, *args) -> None:
        heapq.heappush(self.heap, (when, next(self.seq), action, args))

    def sweep_at(self, when: datetime) -> None:
        if when not in self.sweeps:
            self.sweeps.add(when)
            self.at(when, self.sweep)

    def dirty(self) -> None:
        """Something changed in the line: the dispatcher's next sweep (every sweep_seconds) sees it."""
        step = self.sc.sweep_seconds
        now = self.clock.now()
        self.sweep_at(datetime.fromtimestamp(math.ceil(now.timestamp() / step) * step, now.tzinfo))

    def run(self) -> dict:
        began, cpu = real_time.perf_counter(), real_time.process_time()
        self._register_agents()
        for c in self.contacts:
            # With callbacks off, a web or chat visitor rings in instead.
            arrives = self.web_arrives if self.offers and c.channel != "phone" else self.phone_arrives
            self.at(c.arrival, arrives, c)
        t = self.sc.start
        while t < self.sc.end:
            self.at(t, self.sample)
            self.sweep_at(t)  # the scheduler's sweep also runs when nothing changed: slips are found by it
            t += timedelta(minutes=1)
        while self.heap:
            when, _, action, args = heapq.heappop(self.heap)
            if when > self.sc.end:
                break
            self.clock.set(when)
            action(*args)
            self.em.run()
        result = self.results()
        result["agents_back_from_offline"] = self.agents_back
        result["wall_seconds"] = round(real_time.perf_counter() - began, 1)
        result["cpu_seconds"] = round(real_time.process_time() - cpu, 1)
        return result

    # ---- agents --------------------------------------------------------------------------------------

    def agent_to(self, agent_id: int, state: str) -> None:
        """A person sets themselves available or offline (agents.services, as /api/agents does); someone
        on a call at the end of their shift goes offline once the call and wrap-up are over."""
        try:
            with transaction(self.rt.sessions) as s:
                agents.set_state(s, s.get(Agent, agent_id), state, self.clock.now(), actor="simday")
        except AgentStateRefused:
            self.at(self.clock.now() + timedelta(seconds=15), self.agent_to, agent_id, state)
            return
        if state == "available":
            self.dispatcher.wake()

    def agent_back(self, agent_id: int) -> None:
        """Taken offline by the product during their shift (e.g. after a missed offer), the agent sets
        themselves available again after a break, as a person would through /api/agents."""
        self.coming_back.discard(agent_id)
        if self.clock.now() < self.shift_of[agent_id][1]:
            self.agents_back += 1
            self.agent_to(agent_id, "available")

    def sweep(self) -> None:
        self.sweeps.discard(self.clock.now())
        # What the scheduler's pass does (callbacks/scheduler.py): serve, confirm bookings, tell slips.
        report = self.dispatcher.run_once()
        self.dispatcher.confirm_bookings()
        self.dispatcher.tell_slips()
        now = self.clock.now()
        if report.claimed:
            self.em.run()  # Twilio places the calls the dispatcher asked for
            for claim in report.claimed:
                leg = self._new_leg_to(claim.agent_address if claim.mode != "customer_first" else claim.phone_number)
                if leg is None:
                    continue
                self.claimed_at[claim.agent_id] = (now, -1)
                self.at(now + timedelta(seconds=self.sc.agent_answer_seconds), self.agent_picks_up, leg, claim)
        if report.next_wake is not None:
            self.sweep_at(max(report.next_wake, now))

    def _new_leg_to(self, number: str):
        """The call just placed to `number` (calls are kept in the order they were made)."""
        for c in reversed(self.em.calls.values()):
            if c.to_number == number and c.direction != "inbound":
                return c if c.status not in ENDED else None
        return None

    def agent_picks_up(self, leg, claim) -> None:
        if leg.ended:
            return
        leg.answer()
        if not leg.ended:  # the whisper ends the call at once when the holder has just hung up
            leg.press("1")
        now = self.clock.now()
        if claim.mode == "holder":
            caller = leg.peer
            if caller is None:  # the holder left meanwhile: <Dial><Queue> times out, the offer goes back
                if not leg.ended:
                    leg.wait()
                self.dirty()
                return
            contact = self.by_sid[caller.sid]
            self.connected(contact, now, claim.agent_id)
            self.at(now + timedelta(seconds=contact.handle), self.hang_up, leg, claim.agent_id)
            return
        contact = self.by_number[claim.phone_number]
        customer = self._new_leg_to(claim.phone_number)
        if customer is None:
            return
        contact.attempts += 1
        answer = contact.meets(now)
        if answer == "none":
            self.at(now + timedelta(seconds=CUSTOMER_RING_OUT_SECONDS), self.ring_out, customer)
        else:
            self.at(now + timedelta(seconds=self.sc.customer_ring_seconds), self.customer_answers, customer, contact,
                    answer, claim.agent_id)

    def ring_out(self, leg) -> None:
        if not leg.ended:
            leg.ring_out("no-answer")
        self.dirty()

    def customer_answers(self, leg, contact: Contact, answer: str, agent_id: int) -> None:
        if leg.ended:
            return
        leg.answer()
        verdict = "human" if answer == "human" else "machine_end_beep"
        self.at(self.clock.now() + timedelta(seconds=self.sc.amd_seconds), self.amd, leg, contact, verdict, agent_id)

    def amd(self, leg, contact: Contact, verdict: str, agent_id: int) -> None:
        leg.amd(verdict)
        now = self.clock.now()
        if verdict == "human" and not leg.ended:
            self.connected(contact, now, agent_id)
            self.at(now + timedelta(seconds=contact.handle), self.hang_up, leg, agent_id)
        self.dirty()

    def connected(self, contact: Contact, now: datetime, agent_id: int) -> None:
        contact.connected_at = now
        contact.fate = "connected"
        self.history[contact.skill].connected(now, (now - contact.arrival).total_seconds())
        self.claimed_at[agent_id] = (self.claimed_at.get(agent_id, (now, 0))[0], contact.n)

    def hang_up(self, leg, agent_id: int) -> None:
        if not leg.ended:
            leg.hang_up()
        claimed, n = self.claimed_at.pop(agent_id, (None, -1))
        if claimed is not None and n >= 0:
            contact = self.contacts[n]
            plan = self.plans[contact.skill]
            self.history[contact.skill].talks.append(contact.handle)
            self.history[contact.skill].handles.append(
                (self.clock.now() - claimed).total_seconds() + plan.wrap_seconds)
        self.sweep_at(self.clock.now() + timedelta(seconds=self.plans[self.contacts[n].skill].wrap_seconds)
                      if n >= 0 else self.clock.now())

    # ---- customers -----------------------------------------------------------------------------------

    def phone_arrives(self, c: Contact) -> None:
        """A caller rings the IVR, picks the skill on the keypad, and answers what the IVR asks: holds or
        takes the callback offered (on this number, as soon as possible or at a later time today)."""
        call = self.em.call(from_number=c.number)
        c.sid = call.sid
        self.by_sid[call.sid] = c
        call.press(self.config.skills[c.skill].digit)
        slot = self._slot(c) if c.later else None
        for _ in range(8):
            if call.ended or call.queue is not None:
                break
            key = self._answer(call.last_heard, c, slot)
            if key is None:
                raise RuntimeError(f"the simulated caller does not know what to press after {call.last_heard!r}")
            call.press(key)
        if call.queue is not None:
            c.fate = "holding"
            self.at(c.arrival + timedelta(seconds=c.patience), self.abandon, call, c)
        self._record_announcements(c, call_sid=call.sid)
        self.dirty()

    @staticmethod
    def _answer(heard: str, c: Contact, slot: datetime | None) -> str | None:
        """The key a caller presses after the IVR's last prompt (the shipped en-US wording)."""
        if "Press 2 to hold" in heard or "Press 2 to end the call" in heard:  # a wait, or nobody now
            c.fate = "callback" if c.accepts else ("holding" if "hold" in heard else "declined")
            return "1" if c.accepts else "2"
        if "Press 1 for yes" in heard:  # on the number ending in ..., or the first free time after a full one
            return "1"
        if "2 to choose a later time" in heard:
            return "2" if slot is not None else "1"
        if "Press 1 for today" in heard:
            return "1"
        if "four digits" in heard:
            return slot.strftime("%H%M")
        return None

    def web_arrives(self, c: Contact) -> None:
        body = {"phone": c.number, "skill": c.skill, "name": f"Visitor {c.n}", "reason": "simulated day"}
        slot = self._slot(c) if c.later else None
        if slot is not None:
            body.update(when="scheduled", preferred_time=slot.strftime("%Y-%m-%dT%H:%M"), timezone=self.sc.zone.key)
        caller = callback_requests.Caller(channel=c.channel, integration="simday" if c.channel == "chat" else None)
        with transaction(self.rt.sessions) as s:
            outcome = callback_requests.request_callback(
                s, self.config, body, now=self.clock.now(), allowed_countries=self.rt.settings.allowed_countries,
                caller=caller)
            c.public_id = outcome.entry.public_id
        c.fate = "callback"
        self._record_announcements(c, public_id=c.public_id)
        self.dirty()

    def _slot(self, c: Contact) -> datetime | None:
        """The later time the customer picks: the first half-hour slot the product offers (the web button's
        list: full ones are left out) `later_minutes` from now or later, today; none left today: as soon
        as possible."""
        wanted = self.clock.now() + timedelta(minutes=c.later_minutes)
        with self.rt.sessions() as s:
            offered = callback_requests.open_slots(self.config, c.skill, self.sc.zone, self.clock.now(), days=1,
                                                   session=s)
        for slot in offered:
            if slot >= wanted and slot.date() == self.clock.now().astimezone(self.sc.zone).date():
                return slot
        return None

    def abandon(self, call, c: Contact) -> None:
        if not call.ended and call.peer is None and call.queue is not None and c.connected_at is None:
            call.hang_up()
            c.fate = "abandoned"
            self.dirty()

    def _record_announcements(self, c: Contact, *, call_sid: str | None = None, public_id: str | None = None) -> None:
        """Every wait the product has just told this contact, with the other predictors at that moment."""
        now = self.clock.now()
        with self.rt.sessions() as s:
            where = QueueEntry.call_sid == call_sid if call_sid else QueueEntry.public_id == public_id
            entry = s.scalar(select(QueueEntry).where(where).order_by(QueueEntry.id.desc()))
            if entry is None:
                return
            told = [e for e in entry.events if e.event == "wait_announced" and e.at == now]
            if not told:
                return
            seconds = (told[-1].detail or {}).get("seconds", entry.announced_wait_seconds)
            staff = queue.staffing(s, entry.skill)
            pos = queue.position(s, entry, now) if queue.is_in_line(entry, now) else 1
            head = queue.line(s, entry.skill, now, limit=1)
            oldest = (now - head[0].arrived_at).total_seconds() if head else 0.0
        plan = self.plans[c.skill]
        row = {"n": c.n, "skill": c.skill, "at": now, "ours": seconds,
               "staffed": staff.staffed, "free": staff.free, "position": pos}
        row.update(others(self.history[c.skill], now, pos, staff.staffed, staff.free, oldest,
                          plan.arrival_rate(now), plan.handle_mean + plan.wrap_seconds))
        self.announcements.append(row)

    def sample(self) -> None:
        """Once a minute: each skill's backlog (callbacks waiting) and how busy its staff is."""
        now = self.clock.now()
        # The emulator keeps every call it ever saw and looks at each one after every step; a day's
        # thousands of ended calls would make each step slower. Calls that ended are forgotten
        # (their records stay in the REST side, as Twilio keeps them).
        for sid in [sid for sid, call in self.em.calls.items() if call.status in ENDED]:
            del self.em.calls[sid]
        with self.rt.sessions() as s:
            staff = {a.id: a.state for a in s.scalars(select(Agent))}
        for agent_id, state in staff.items():
            start, end = self.shift_of.get(agent_id, (now, now))
            if state == "offline" and start < now < end and agent_id not in self.coming_back:
                self.coming_back.add(agent_id)
                self.at(now + timedelta(seconds=self.sc.agent_back_seconds), self.agent_back, agent_id)
        with self.rt.sessions() as s:
            for plan in self.sc.skills:
                backlog = len([e for e in s.scalars(select(QueueEntry).where(
                    QueueEntry.skill == plan.name, QueueEntry.kind == "callback",
                    QueueEntry.state.in_(("queued", "scheduled", "retry_wait", "dialing_agent", "dialing_customer"))))
                    if e.scheduled_for is None or e.next_attempt_at is None or e.next_attempt_at <= now])
                ids = self.agent_ids.get(plan.name, [])
                busy = sum(1 for i in ids if staff.get(i) in BUSY)
                on = sum(1 for i in ids if staff.get(i) not in (None, "offline"))
                self.samples.append((now, plan.name, backlog, busy, on))

    # ---- the figures ---------------------------------------------------------------------------------

    def results(self) -> dict:
        from simday_figures import figures

        return figures(self)


def run_file(path: Path, workdir: str, baseline: bool = True, charts: Path | None = None,
             explain: bool = False) -> dict:
    sc = load_scenario(path)
    day = Day(sc, workdir, offers=True)
    result = {"scenario": sc.name, **day.run()}
    if explain:
        from simday_figures import explain as tell_why

        tell_why(day, sys.stderr)
    if baseline:
        off = Day(sc, workdir, offers=False)
        result["abandon_rate_without_offers"] = off.run()["abandon_rate"]
    else:
        result["abandon_rate_without_offers"] = None
    if charts is not None:
        from simday_figures import chart

        chart(day, charts / f"simday-{sc.name}.png")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--charts", type=Path, help="write a PNG per scenario into this folder")
    parser.add_argument("--no-baseline", action="store_true", help="skip the day with callbacks off")
    parser.add_argument("--explain", action="store_true",
                        help="on stderr: each slip not told in time and each slot not dialled on time, with its trail")
    args = parser.parse_args(argv)
    files = args.files or [SCENARIOS / f"{name}.toml" for name in SHIPPED]
    for path in files:  # a key that cannot be used is said before any day runs
        try:
            load_scenario(path)
        except ScenarioError as e:
            parser.error(str(e))
    memory = "/dev/shm" if os.path.isdir("/dev/shm") else None  # SQLite's fsyncs are not what is measured
    with tempfile.TemporaryDirectory(prefix="simday-", dir=memory) as workdir:
        for i, path in enumerate(files):
            sub = Path(workdir) / str(i)
            sub.mkdir()
            print(json.dumps(run_file(path, str(sub), not args.no_baseline, args.charts, args.explain)), flush=True)


if __name__ == "__main__":
    main()
