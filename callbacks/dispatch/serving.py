"""The serve loop: free agents meet the next due entries of their skills' lines, and each pair is
claimed atomically before its first call is placed.

- plan(): one global order (routing/due.serve_key: scheduled callbacks at their slot first, then priority
  and original arrival); never more entries than free agents.
  Scheduled callbacks whose slots come soon keep free agents of their skill for them: an agent who
  frees up shortly before a slot waits for it instead of taking a holder, so the slot is dialled on
  time even when every agent is busy with the line. How soon: at least RESERVE_SECONDS before the
  slot falls due, and earlier for the 2nd, 3rd... slot due together, as the skill's staffing and
  handle time say it takes that many agents to free up (routing/due.reserve).
- claim(): one transaction moves the entry (queued/scheduled/retry_wait -> dialing_*, or a holder gets
  agent_id) and the agent (available -> reserved), both through their version column. Whoever
  commits second finds the version changed and gets nothing: a callback is dialled at most once per
  claim, even by two processes on one database.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from agents import services as agents
from callbacks import services as callbacks
from callbacks.dialing import DialFailed, Dialer
from callbacks.dispatch.legs import iso
from callbacks.dispatch.outage import DialHealth
from callbacks.dispatch.pacing import SharedPacer
from callbacks.dispatch.placing import Claim, Placer
from clock import Clock
from config import DispatchSettings, IvrConfig
from instruments import dispatch_pass_seconds
from routing import due, estimate, hours
from storage.db import transaction
from storage.models import HOLDING, Agent, QueueEntry

log = logging.getLogger("ivr.dispatcher")
RESERVE_SECONDS = 240
RESERVE_HORIZON_SECONDS = 1800  # slots further than this never keep an agent
HANDLE_REFRESH = timedelta(seconds=60)  # the handle time used for the reserve is re-read this often


@dataclass
class Report:
    claimed: list[Claim] = field(default_factory=list)
    lost_races: int = 0
    rate_limited: bool = False
    next_wake: datetime | None = None
    dialling_failing: str | None = None  # callbacks/dispatch/outage.py: why nothing is dialled now


class Server:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, config: IvrConfig, settings: DispatchSettings,
                 dialer: Dialer, limiter: SharedPacer, placer: Placer, name: str, health: DialHealth):
        self.sessions = sessions
        self.clock = clock
        self.config = config
        self.settings = settings
        self.dialer = dialer
        self.limiter = limiter
        self.placer = placer
        self.name = name
        self.health = health
        self._said_idle = False
        self._handles: dict[str, tuple[datetime, float]] = {}  # skill -> (read at, agent-seconds per entry)

    def run_once(self) -> Report:
        with dispatch_pass_seconds.time():
            return self._pass()

    def _pass(self) -> Report:
        report = Report()
        now = self.clock.now()
        with transaction(self.sessions) as s:
            agents.end_wrap_ups(s, now)
        if not self.dialer.ready:
            if not self._said_idle:
                log.warning("dispatcher idle: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_NUMBER to dial")
                self._said_idle = True
            report.next_wake = self.next_wake(now)
            return report
        if not self._dialling_works(now, report):
            return report
        for entry_id, agent_id in self.plan(now):
            # The slot is spent before the claim (shared by every process: callbacks/dispatch/pacing.py);
            # a lost race wastes one slot, never places an extra call.
            if self.limiter.take(self.clock.now()) > 0:
                report.rate_limited = True
                break
            claim = self.claim(entry_id, agent_id)
            if claim is None:
                report.lost_races += 1
                continue
            report.claimed.append(claim)
            if not self.placer.place(claim):
                report.dialling_failing = "outage"  # Twilio is away: claim nothing more (the next try backs off)
                break
        report.next_wake = self.next_wake(self.clock.now(), rate_limited=report.rate_limited)
        return report

    def _dialling_works(self, now: datetime, report: Report) -> bool:
        """False while Twilio is unreachable or refuses our credentials (outage.py): nothing is claimed,
        so no agent is reserved for a call that cannot be placed; at the next try a probe decides."""
        outage = self.health.current()
        if outage is None:
            return True
        if now >= outage.next_try:
            try:
                self.dialer.probe()
            except DialFailed as exc:
                self.health.failed(exc.outage or "unreachable", now)
                outage = self.health.current() or outage
            else:
                self.health.restored(now)
                return True
        report.dialling_failing = outage.reason
        wake = self.next_wake(now)
        report.next_wake = min(wake, outage.next_try) if wake else outage.next_try
        return False

    def plan(self, now: datetime) -> list[tuple[int, int]]:
        """(entry id, agent id) pairs: never more entries than free agents, oldest entries first."""
        with transaction(self.sessions) as s:
            on = s.scalars(select(Agent).where(Agent.state != "offline")).all()
            free = [a for a in on if a.state == "available"]
            if not free:
                return []
            early = self.settings.early_window_seconds
            candidates: list[QueueEntry] = []
            keep: dict[str, int] = {}
            for name, skill in self.config.skills.items():
                ranked = [a for a in free if name in (a.skills or {})]
                if ranked:
                    candidates.extend(due.due_entries(s, skill, now, len(ranked), early))
                    if hours.is_open(skill, now):
                        keep[name] = self._keep(s, skill, now, early, sum(1 for a in on if name in (a.skills or {})))
            candidates.sort(key=lambda e: due.serve_key(e, now, early))
            used: set[int] = set()
            pairs = []
            for entry in candidates:
                slot = entry.state == "scheduled"
                agent = next((a for a in agents.available_for_among(free, entry.skill)
                              if a.id not in used and (slot or self._spare(a, free, used, keep))), None)
                if agent is not None:
                    used.add(agent.id)
                    pairs.append((entry.id, agent.id))
            return pairs

    def _keep(self, s: Session, skill, now: datetime, early: int, staffed: int) -> int:
        """How many free agents of `skill` to keep for its scheduled callbacks coming due."""
        times = due.coming_due(s, skill, now, early, RESERVE_HORIZON_SECONDS)
        if not times:
            return 0
        read = self._handles.get(skill.name)
        if read is None or now - read[0] >= HANDLE_REFRESH or now < read[0]:
            read = (now, estimate.handle_time(s, skill.name, self.config.assumed_handle_seconds).mean)
            self._handles[skill.name] = read
        return due.reserve(times, now, staffed, read[1], RESERVE_SECONDS)

    @staticmethod
    def _spare(agent: Agent, free: list[Agent], used: set[int], keep: dict[str, int]) -> bool:
        """Whether `agent` may take a line entry and still leave, for each of their skills, as many free
        agents as scheduled callbacks of that skill are coming due."""
        for name in agent.skills or {}:
            if keep.get(name):
                left = sum(1 for a in free if a.id not in used and a.id != agent.id and name in (a.skills or {}))
                if left < keep[name]:
                    return False
        return True

    def _mode(self, entry: QueueEntry) -> str:
        if entry.kind == HOLDING:
            return "holder"
        skill = self.config.skills.get(entry.skill)
        return skill.callback_mode if skill else "agent_first"

    def claim(self, entry_id: int, agent_id: int) -> Claim | None:
        """Atomically take the entry and reserve the agent, or nothing if someone else moved first."""
        now = self.clock.now()
        try:
            with transaction(self.sessions) as s:
                entry = s.get(QueueEntry, entry_id)
                agent = s.get(Agent, agent_id)
                if entry is None or agent is None or agent.state != "available":
                    return None
                waiting = entry.state in ("queued", "scheduled", "retry_wait") or (
                    entry.state == "holding" and entry.agent_id is None)
                if not waiting:
                    return None
                leg = int((entry.context or {}).get("leg", 0)) + 1
                mode = self._mode(entry)
                context = {k: v for k, v in (entry.context or {}).items() if k != "customer_on_line"}
                entry.context = {**context, "leg": leg, "claimed_at": iso(now), "mode": mode}
                entry.agent_id = agent.id
                if mode == "holder":
                    callbacks.record(s, entry, "agent_offered", now=now, actor=self.name, agent=agent.name, leg=leg)
                else:
                    entry.agent_call_sid = None
                    entry.dial_call_sid = None
                    if mode == "agent_first":
                        callbacks.change_state(s, entry, "dialing_agent", now=now, actor=self.name,
                                               reason=f"{agent.name} is free", agent=agent.name, leg=leg)
                    else:
                        entry.attempts += 1
                        callbacks.change_state(s, entry, "dialing_customer", now=now, actor=self.name,
                                               reason=f"{agent.name} is free", agent=agent.name, leg=leg,
                                               attempt=entry.attempts)
                agents.set_state(s, agent, "reserved", now, actor="dispatcher", reason=f"offer {entry.public_id}",
                                 entry_id=entry.id)
                return Claim(entry.id, entry.public_id, leg, mode, agent.id, agent.address, entry.phone_number)
        except (StaleDataError, OperationalError) as exc:
            # The other writer won (version changed, or SQLite's write lock went to them).
            log.info("claim of entry %s by agent %s lost a race: %s", entry_id, agent_id, type(exc).__name__)
            return None

    def next_wake(self, now: datetime, rate_limited: bool = False) -> datetime | None:
        """When run_once should next run even if nothing else happens (a due time, a wrap-up end)."""
        times: list[datetime] = []
        if rate_limited:
            times.append(now + timedelta(seconds=max(self.limiter.wait_seconds(now), 0.001)))
        with transaction(self.sessions) as s:
            timed = due.next_due(s, now, self.settings.early_window_seconds)
            if timed:
                times.append(timed)
            wrap = agents.next_wrap_up_end(s)
            if wrap:
                times.append(max(wrap, now))
        for skill in self.config.skills.values():
            if not hours.is_open(skill, now):
                opening = hours.next_opening(skill, now)
                if opening:
                    times.append(opening)
        return min(times) if times else None
