"""The dispatcher: free agents meet the next entries of their skills' lines, and every callback is made once.

Flask-free, clock injected. The database is the truth; APScheduler (callbacks/scheduler.py) only
decides *when* run_once() is called. Design and the exactly-once argument: docs/dispatcher.md.

- run_once(): pair each free agent with the oldest due entry of a skill it has (one global order:
  priority, then original arrival), claim the pair atomically, then place the first call.
- Claim = one transaction that moves the entry (queued/scheduled/retry_wait -> dialing_*, or a
  holder gets agent_id) and the agent (available -> reserved), both through their version column.
  Whoever commits second finds the version changed and gets nothing: a callback is dialled at most
  once per claim, even by two processes on one database.
- Every URL given to Twilio names the entry and the claim number ("leg"). Events of an old leg, late
  or repeated events, and AMD results after the call ended change nothing.
- recover() reconciles claims with Twilio's call records after a crash: a claim whose call was
  placed is adopted (found by SID, or by listing calls to that number since the claim), a claim
  whose call never went out is released, and calls that ended while we were down are applied.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from agents import services as agents
from callbacks import requests as callback_requests  # the one confirmation wording
from callbacks import services as callbacks
from callbacks.dialing import ENDED, DialFailed, Dialer, RateLimiter
from clock import Clock
from config import IvrConfig, Prompts
from routing import hours
from storage.db import transaction
from storage.models import CALLBACK, HOLDING, Agent, QueueEntry, QueueEvent

log = logging.getLogger("ivr.dispatcher")

HUMAN = ("human", "unknown")
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")

@dataclass(frozen=True)
class DispatchSettings:
    """Global dispatcher settings (environment). Per-skill callback_mode lives in config/ivr.toml."""

    calls_per_second: float = 1.0
    retry_delay_seconds: int = 600
    max_attempts: int = 3
    early_window_seconds: int = 60
    agent_ring_seconds: int = 20
    # A claim with no call SID after this long is reconciled with Twilio's call list.
    reconcile_after_seconds: int = 60
    voicemail_text: str | None = None  # CALLBACK_VOICEMAIL_TEXT; unset: callback_voicemail from the IVR file
    sms: bool = True

    @classmethod
    def from_env(cls, env: dict | None = None) -> "DispatchSettings":
        env = os.environ if env is None else env
        d = cls()
        return cls(
            calls_per_second=float(env.get("DISPATCH_CALLS_PER_SECOND", d.calls_per_second)),
            retry_delay_seconds=int(env.get("CALLBACK_RETRY_DELAY_SECONDS", d.retry_delay_seconds)),
            max_attempts=int(env.get("CALLBACK_MAX_ATTEMPTS", d.max_attempts)),
            early_window_seconds=int(env.get("CALLBACK_EARLY_WINDOW_SECONDS", d.early_window_seconds)),
            agent_ring_seconds=int(env.get("AGENT_RING_SECONDS", d.agent_ring_seconds)),
            reconcile_after_seconds=int(env.get("DISPATCH_RECONCILE_AFTER_SECONDS", d.reconcile_after_seconds)),
            voicemail_text=env.get("CALLBACK_VOICEMAIL_TEXT") or d.voicemail_text,
            sms=env.get("CALLBACK_SMS", "on").lower() not in ("0", "off", "false", "no"),
        )


@dataclass
class Claim:
    entry_id: int
    public_id: str
    leg: int
    mode: str  # holder | agent_first | customer_first
    agent_id: int
    agent_address: str
    phone_number: str | None


@dataclass
class Report:
    claimed: list[Claim] = field(default_factory=list)
    lost_races: int = 0
    rate_limited: bool = False
    next_wake: datetime | None = None


def _iso(when: datetime) -> str:
    return when.isoformat()


class Dispatcher:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, config: IvrConfig, dialer: Dialer,
                 settings: DispatchSettings | None = None, name: str = "dispatcher"):
        self.sessions = sessions
        self.clock = clock
        self.config = config
        self.dialer = dialer
        self.settings = settings or DispatchSettings()
        self.limiter = RateLimiter(self.settings.calls_per_second)
        self.name = name
        # Twilio REST calls to make once the transaction that decided them has committed (per thread:
        # webhooks and the scheduler share one dispatcher).
        self._local = threading.local()

    @property
    def _after(self) -> list:
        if not hasattr(self._local, "after"):
            self._local.after = []
        return self._local.after

    @_after.setter
    def _after(self, value: list) -> None:
        self._local.after = value

    def wake(self) -> bool:
        """Ask for a pass soon (an agent became available, a callback was booked). False: no scheduler
        runs in this process; its next sweep will see the change."""
        hook = getattr(self, "on_wake", None)
        if callable(hook):
            hook()
            return True
        return False

    def hang_up_cancelled(self, entry_id: int) -> int:
        """A callback cancelled while it was being dialled: end its calls, so neither the agent nor the
        customer is rung for nothing. Returns how many calls Twilio agreed to end. The agent is freed
        by that call's own `completed` status callback, as after any call."""
        with self.sessions() as s:
            entry = s.get(QueueEntry, entry_id)
            if entry is None or entry.state != "cancelled" or not entry.events:
                return 0
            if entry.events[-1].previous_state not in ("dialing_agent", "dialing_customer"):
                return 0
            legs = [sid for sid in (entry.agent_call_sid, entry.dial_call_sid) if sid]
        return sum(1 for sid in legs if self.dialer.end(sid))

    # ---- the serve loop ------------------------------------------------------------------------

    def run_once(self) -> Report:
        report = Report()
        now = self.clock.now()
        with transaction(self.sessions) as s:
            agents.end_wrap_ups(s, now)
        if not self.dialer.ready:
            if not getattr(self, "_said_idle", False):
                log.warning("dispatcher idle: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_NUMBER to dial")
                self._said_idle = True
            report.next_wake = self.next_wake(now)
            return report
        for entry_id, agent_id in self.plan(now):
            if self.limiter.wait_seconds(self.clock.now()) > 0:
                report.rate_limited = True
                break
            claim = self.claim(entry_id, agent_id)
            if claim is None:
                report.lost_races += 1
                continue
            self.limiter.take(self.clock.now())
            report.claimed.append(claim)
            self.place(claim)
        report.next_wake = self.next_wake(self.clock.now(), rate_limited=report.rate_limited)
        return report

    def due_entries(self, s: Session, skill, now: datetime, limit: int) -> list[QueueEntry]:
        """Up to `limit` entries of `skill` that may be served now, in line order.

        One small indexed query per kind of due entry (each LIMITed), merged: cheap however many
        callbacks wait for later (see bench/dispatcher_bench.py)."""
        early = now + timedelta(seconds=self.settings.early_window_seconds)
        open_now = hours.is_open(skill, now)
        scheduled = (QueueEntry.state == "scheduled") & (QueueEntry.next_attempt_at <= early)
        if open_now:
            clauses = [
                (QueueEntry.state == "holding") & QueueEntry.agent_id.is_(None),
                QueueEntry.state == "queued",  # only callbacks are ever queued
                scheduled,
                (QueueEntry.state == "retry_wait") & (QueueEntry.next_attempt_at <= now),
            ]
        else:
            # Closed: live holders, and scheduled callbacks whose own (in-hours) time is within the early window.
            clauses = [(QueueEntry.state == "holding") & QueueEntry.agent_id.is_(None),
                       scheduled & (QueueEntry.next_attempt_at > now)]
        found: list[QueueEntry] = []
        for index, clause in enumerate(clauses):
            where = (QueueEntry.skill == skill.name) & clause
            if clause is scheduled or index == 3 or not open_now:
                # Timed entries: let the (state, next_attempt_at) range pick the few that are due, then
                # sort those (an expression in ORDER BY keeps the planner off the line-order index,
                # which would walk every callback booked for later).
                query = select(QueueEntry).where(where).order_by(
                    QueueEntry.priority * -1, QueueEntry.arrived_at, QueueEntry.id)
                rows = s.scalars(query.limit(limit if open_now else limit * 4))
            else:
                rows = self._in_line_order(s, where, limit)
            for entry in rows:
                if not open_now and entry.kind == CALLBACK and not hours.is_open(skill, entry.next_attempt_at):
                    continue
                found.append(entry)
        found.sort(key=lambda e: (-e.priority, e.arrived_at, e.id))
        return found[:limit]

    @staticmethod
    def _in_line_order(s: Session, where, limit: int) -> list[QueueEntry]:
        """The first `limit` rows matching `where` by priority (desc), arrival, id, one priority level
        at a time: each step walks the (skill, state, priority, arrived_at, id) index in order, so
        the cost does not grow with the length of the line (one index cannot serve DESC then ASC)."""
        rows: list[QueueEntry] = []
        ceiling = None
        while len(rows) < limit:
            level = where if ceiling is None else where & (QueueEntry.priority < ceiling)
            top = s.scalar(select(func.max(QueueEntry.priority)).where(level))
            if top is None:
                break
            rows.extend(s.scalars(select(QueueEntry).where(level, QueueEntry.priority == top)
                                  .order_by(QueueEntry.arrived_at, QueueEntry.id).limit(limit - len(rows))))
            ceiling = top
        return rows

    def plan(self, now: datetime) -> list[tuple[int, int]]:
        """(entry id, agent id) pairs: never more entries than free agents, oldest entries first."""
        with transaction(self.sessions) as s:
            free = s.scalars(select(Agent).where(Agent.state == "available")).all()
            if not free:
                return []
            candidates: list[QueueEntry] = []
            for name, skill in self.config.skills.items():
                ranked = [a for a in free if name in (a.skills or {})]
                if not ranked:
                    continue
                candidates.extend(self.due_entries(s, skill, now, len(ranked)))
            candidates.sort(key=lambda e: (-e.priority, e.arrived_at, e.id))
            used: set[int] = set()
            pairs = []
            for entry in candidates:
                ranked = agents.available_for_among(free, entry.skill)
                agent = next((a for a in ranked if a.id not in used), None)
                if agent is not None:
                    used.add(agent.id)
                    pairs.append((entry.id, agent.id))
            return pairs

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
                if entry.kind == HOLDING:
                    mode = "holder"
                else:
                    mode = self.config.skills[entry.skill].callback_mode if entry.skill in self.config.skills \
                        else "agent_first"
                context = {k: v for k, v in (entry.context or {}).items() if k != "customer_on_line"}
                entry.context = {**context, "leg": leg, "claimed_at": _iso(now), "mode": mode}
                entry.agent_id = agent.id
                if entry.kind == HOLDING:
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

    def place(self, claim: Claim) -> None:
        """The first call of a claim. A failure puts the entry back (or gives up) and frees the agent."""
        try:
            if claim.mode == "customer_first":
                placed = self.dialer.call_customer(claim.phone_number, claim.public_id, claim.leg)
                self._store_sid(claim.entry_id, claim.leg, dial_call_sid=placed.sid)
            else:
                placed = self.dialer.call_agent(claim.agent_address, claim.public_id, claim.leg)
                self._store_sid(claim.entry_id, claim.leg, agent_call_sid=placed.sid, agent_id=claim.agent_id)
        except DialFailed as exc:
            log.warning("placing %s for %s failed: %s", claim.mode, claim.public_id, exc)
            error = exc  # `exc` is unbound when the except block ends; the closure keeps `error`
            self._with_entry(claim.entry_id, lambda s, e, now: self._placing_failed(s, e, claim, error, now))

    def _placing_failed(self, s: Session, entry: QueueEntry, claim: Claim, exc: DialFailed, now: datetime) -> None:
        agent = s.get(Agent, claim.agent_id)
        if agent is not None and agent.state == "reserved" and agent.entry_id == entry.id:
            # A permanent refusal of the agent's address means nobody can reach them: take them offline.
            target = "offline" if exc.permanent and claim.mode != "customer_first" else "available"
            agents.set_state(s, agent, target, now, actor="dispatcher", reason=str(exc))
        if self._leg(entry) != claim.leg:
            return
        if claim.mode == "holder":
            entry.agent_id = None
            callbacks.record(s, entry, "agent_offer_failed", now=now, actor=self.name, reason=str(exc))
        elif claim.mode == "agent_first" and entry.state == "dialing_agent":
            callbacks.change_state(s, entry, "queued", now=now, event="agent_dial_failed", actor=self.name,
                                   reason=str(exc))
        elif claim.mode == "customer_first" and entry.state == "dialing_customer":
            if exc.permanent:
                callbacks.change_state(s, entry, "failed", now=now, actor=self.name, reason=str(exc))
            else:
                entry.attempts -= 1  # the customer was never rung
                callbacks.change_state(s, entry, "queued", now=now, event="dial_failed", actor=self.name,
                                       reason=str(exc))

    def next_wake(self, now: datetime, rate_limited: bool = False) -> datetime | None:
        """When run_once should next run even if nothing else happens (a due time, a wrap-up end)."""
        early = timedelta(seconds=self.settings.early_window_seconds)
        times: list[datetime] = []
        if rate_limited:
            times.append(now + timedelta(seconds=max(self.limiter.wait_seconds(now), 0.001)))
        with transaction(self.sessions) as s:
            scheduled = s.scalar(select(QueueEntry.next_attempt_at).where(
                QueueEntry.state == "scheduled", QueueEntry.next_attempt_at > now + early
            ).order_by(QueueEntry.next_attempt_at).limit(1))
            if scheduled:
                times.append(scheduled - early)
            retry = s.scalar(select(QueueEntry.next_attempt_at).where(
                QueueEntry.state == "retry_wait", QueueEntry.next_attempt_at > now
            ).order_by(QueueEntry.next_attempt_at).limit(1))
            if retry:
                times.append(retry)
            wrap = agents.next_wrap_up_end(s)
            if wrap:
                times.append(max(wrap, now))
            for skill in self.config.skills.values():
                if not hours.is_open(skill, now):
                    opening = hours.next_opening(skill, now)
                    if opening:
                        times.append(opening)
        return min(times) if times else None

    # ---- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _leg(entry: QueueEntry) -> int:
        return int((entry.context or {}).get("leg", 0))

    def _with_entry(self, entry_id: int, action, attempts: int = 5):
        """Run `action(session, entry, now)` in its own transaction, again on a concurrent change."""
        for attempt in range(attempts):
            self._after = []
            try:
                with transaction(self.sessions) as s:
                    entry = s.get(QueueEntry, entry_id)
                    if entry is None:
                        return None
                    result = action(s, entry, self.clock.now())
                after, self._after = self._after, []
                for step in after:
                    step()
                return result
            except (StaleDataError, OperationalError):
                if attempt == attempts - 1:
                    raise
        return None

    def _by_public_id(self, public_id: str, action):
        with transaction(self.sessions) as s:
            entry_id = s.scalar(select(QueueEntry.id).where(QueueEntry.public_id == public_id))
        if entry_id is None:
            return None
        return self._with_entry(entry_id, action)

    def _store_sid(self, entry_id: int, leg: int, *, agent_call_sid: str | None = None,
                   dial_call_sid: str | None = None, agent_id: int | None = None) -> None:
        def store(s: Session, entry: QueueEntry, now: datetime):
            if self._leg(entry) != leg:
                return
            if agent_call_sid and not entry.agent_call_sid:
                entry.agent_call_sid = agent_call_sid
            if dial_call_sid and not entry.dial_call_sid:
                entry.dial_call_sid = dial_call_sid
            if agent_call_sid and agent_id:
                agent = s.get(Agent, agent_id)
                if agent is not None and agent.entry_id == entry.id and agent.call_sid is None \
                        and agent.state in ("reserved", "on_call"):
                    agent.call_sid = agent_call_sid
            s.flush()

        self._with_entry(entry_id, store)

    def _agent_of(self, s: Session, entry: QueueEntry, call_sid: str | None = None) -> Agent | None:
        agent = agents.find_by_call(s, call_sid) if call_sid else None
        if agent is None and entry.agent_id:
            candidate = s.get(Agent, entry.agent_id)
            if candidate is not None and candidate.entry_id == entry.id:
                if call_sid and candidate.call_sid is None and candidate.state in ("reserved", "on_call"):
                    candidate.call_sid = call_sid  # the status callback beat _store_sid
                agent = candidate
        return agent

    def _voice(self, entry: QueueEntry) -> tuple[str, str | None]:
        lang = entry.language if entry.language in self.config.prompts else self.config.default_language
        return lang, self.config.prompts.get(lang, {}).get("voice")

    def _text(self, entry: QueueEntry | None, key: str, **values) -> str:
        """Wording from the operator's IVR file, in the customer's language (agents serve that language)."""
        lang = entry.language if entry is not None and entry.language in self.config.prompts \
            else self.config.default_language
        return Prompts(self.config, lang).text(key, **values)

    def _tell_and_end(self, call_sid: str | None, text: str, entry: QueueEntry | None = None) -> None:
        """After this transaction commits: say `text` on a live call, then hang it up (in the customer's
        voice when `entry` is given, else the agents' default voice)."""
        if not call_sid:
            return
        twiml = VoiceResponse()
        if entry is not None:
            self._say(twiml, entry, text)
        else:
            twiml.say(text)
        twiml.hangup()
        self._after.append(lambda: self.dialer.steer(call_sid, str(twiml)))

    def _say(self, response: VoiceResponse, entry: QueueEntry, text: str) -> None:
        lang, voice = self._voice(entry)
        response.say(text, voice=voice, language=lang)

    @staticmethod
    def _conference(entry: QueueEntry, leg: int) -> str:
        return f"callback-{entry.public_id}-{leg}"

    def _who(self, entry: QueueEntry) -> str:
        if entry.caller_name:
            return entry.caller_name
        digits = (entry.phone_number or "")[-4:]
        lang = entry.language if entry.language in self.config.prompts else self.config.default_language
        words = Prompts(self.config, lang)
        return words.fragment("whisper_who_number", digits=" ".join(digits)) if digits \
            else words.fragment("whisper_who_unknown")

    def _whisper(self, entry: QueueEntry) -> str:
        """Who, for what, and what they already told us (the IVR path, or the reason they typed)."""
        skill = self.config.skills.get(entry.skill)
        lang = entry.language if entry.language in self.config.prompts else self.config.default_language
        label = skill.label_in(lang) if skill else entry.skill
        said = [step["said"] for step in (entry.context or {}).get("ivr_path", [])
                if step.get("said") and step.get("need")]
        if said:
            heard = self._text(entry, "whisper_heard", said="; ".join(said))
        elif entry.reason or entry.transcript:
            heard = self._text(entry, "whisper_reason", reason=entry.reason or entry.transcript)
        else:
            heard = ""
        if entry.kind == HOLDING:
            text = self._text(entry, "whisper_holding", skill=label, heard=heard)
        elif entry.state == "dialing_customer":
            text = self._text(entry, "whisper_on_line", who=self._who(entry), skill=label, heard=heard)
        else:
            text = self._text(entry, "whisper_callback", who=self._who(entry), skill=label, heard=heard)
        return " ".join(text.split())  # no double space where nothing was heard

    def _retry(self, s: Session, entry: QueueEntry, now: datetime, reason: str, event: str = "retry_wait") -> None:
        """Another attempt after the retry delay (rolled into opening hours), or failed after the last one."""
        entry.agent_id = None
        if entry.attempts >= self.settings.max_attempts:
            callbacks.change_state(s, entry, "failed", now=now, event="failed", actor=self.name,
                                   reason=f"{reason}; gave up after {entry.attempts} attempts", last_event=event)
            return
        when = now + timedelta(seconds=self.settings.retry_delay_seconds)
        skill = self.config.skills.get(entry.skill)
        if skill is not None:
            when = hours.next_opening(skill, when) or when
        entry.next_attempt_at = when
        callbacks.change_state(s, entry, "retry_wait", now=now, event=event, actor=self.name, reason=reason,
                               retry_at=_iso(when), attempt=entry.attempts)
        if self.settings.sms and entry.phone_number and self.dialer.messaging_number:
            zone = skill.timezone if skill else None
            if entry.customer_timezone:
                try:
                    from zoneinfo import ZoneInfo
                    zone = ZoneInfo(entry.customer_timezone)
                except Exception:  # noqa: BLE001 - a bad stored zone must not stop the retry
                    pass
            lang, _ = self._voice(entry)
            body = self._text(entry, "sms_retry",
                              when=hours.describe_local(when, zone, now, lang) if zone else when.isoformat())
            number = entry.phone_number
            self._after.append(lambda: self.dialer.text(number, body))
            callbacks.record(s, entry, "sms_retry", now=now, actor=self.name)

    def _release_agent(self, s: Session, entry: QueueEntry, now: datetime, target: str, reason: str) -> None:
        agent = s.get(Agent, entry.agent_id) if entry.agent_id else None
        if agent is not None and agent.entry_id == entry.id and agent.state == "reserved":
            agents.set_state(s, agent, target, now, actor="dispatcher", reason=reason)

    # ---- the agent's leg -----------------------------------------------------------------------

    def agent_answer(self, public_id: str, leg: int, call_sid: str, accept_url: str) -> str:
        """The agent picked up: the whisper, and press 1."""
        def answer(s: Session, entry: QueueEntry, now: datetime) -> str:
            response = VoiceResponse()
            waiting = self._leg(entry) == leg and (
                (entry.kind == HOLDING and entry.state == "holding" and entry.agent_id is not None)
                or entry.state == "dialing_agent"
                or (entry.state == "dialing_customer" and (entry.context or {}).get("customer_on_line")))
            if not waiting:
                self._say(response, entry, self._text(entry, "agent_no_longer_waiting"))
                response.hangup()
                return str(response)
            if not entry.agent_call_sid:
                entry.agent_call_sid = call_sid
            self._agent_of(s, entry, call_sid)
            gather = Gather(input="dtmf", num_digits=1, timeout=8, action=accept_url, method="POST")
            self._say(gather, entry, self._whisper(entry))
            response.append(gather)
            self._say(response, entry, self._text(entry, "agent_no_key"))
            response.hangup()
            return str(response)

        return self._by_public_id(public_id, answer) or self._gone()

    @staticmethod
    def _hang_up() -> str:
        response = VoiceResponse()
        response.hangup()
        return str(response)

    def _gone(self) -> str:
        response = VoiceResponse()
        response.say(self._text(None, "agent_no_longer_waiting"))
        response.hangup()
        return str(response)

    def agent_accept(self, public_id: str, leg: int, call_sid: str, digits: str | None, links) -> str:
        """The agent's key at the whisper. 1 takes the call; anything else declines it."""
        def accept(s: Session, entry: QueueEntry, now: datetime) -> str:
            response = VoiceResponse()
            agent = self._agent_of(s, entry, call_sid)
            current = self._leg(entry) == leg and agent is not None and agent.entry_id == entry.id
            if not current:
                return self._gone()
            if digits != "1":
                agents.set_state(s, agent, "offline", now, actor="twilio", reason="declined the offer") \
                    if agent.state == "reserved" else None
                self._offer_lost(s, entry, now, "agent_declined", f"{agent.name} declined")
                self._say(response, entry, self._text(entry, "agent_declined"))
                response.hangup()
                return str(response)
            if not agents.accept_offer(s, agent, call_sid, now):
                return self._gone()
            if entry.kind == HOLDING:
                if entry.state != "holding":
                    self._say(response, entry, self._text(entry, "agent_caller_gone"))
                    response.hangup()
                    return str(response)
                callbacks.record(s, entry, "agent_accepted", now=now, actor=agent.name, leg=leg)
                dial = Dial(timeout=15, action=links.agent(public_id, leg, "done"), method="POST")
                dial.queue(entry.skill, url=links.customer(public_id, leg, "bridge"), method="POST")
                response.append(dial)
                return str(response)
            if entry.state == "dialing_agent":
                entry.attempts += 1
                callbacks.change_state(s, entry, "dialing_customer", now=now, actor=agent.name,
                                       reason="agent accepted", leg=leg, attempt=entry.attempts)
                number, pid, entry_id = entry.phone_number, entry.public_id, entry.id
                self._after.append(lambda: self._dial_customer(entry_id, pid, number, leg))
                self._say(response, entry, self._text(entry, "agent_calling_customer"))
                self._join(response, entry, leg, agent_side=True)
                return str(response)
            if entry.state == "dialing_customer" and (entry.context or {}).get("customer_on_line"):
                callbacks.change_state(s, entry, "connected", now=now, actor=agent.name,
                                       reason="agent accepted; customer waiting", leg=leg)
                self._join(response, entry, leg, agent_side=True)
                return str(response)
            self._say(response, entry, self._text(entry, "agent_customer_gone"))
            response.hangup()
            return str(response)

        return self._by_public_id(public_id, accept) or self._gone()

    def _join(self, response: VoiceResponse, entry: QueueEntry, leg: int, agent_side: bool) -> None:
        dial = Dial()
        if agent_side:
            dial.conference(self._conference(entry, leg), start_conference_on_enter=True,
                            end_conference_on_exit=True, beep=False)
        else:
            dial.conference(self._conference(entry, leg), start_conference_on_enter=False,
                            end_conference_on_exit=True, beep=False)
        response.append(dial)

    def _dial_customer(self, entry_id: int, public_id: str, number: str, leg: int) -> None:
        try:
            placed = self.dialer.call_customer(number, public_id, leg)
        except DialFailed as error:
            exc = error  # kept for the closure below: `error` is unbound when the except block ends

            def failed(s: Session, entry: QueueEntry, now: datetime):
                if self._leg(entry) != leg or entry.state != "dialing_customer":
                    return
                self._tell_and_end(entry.agent_call_sid, self._text(entry, "agent_customer_not_called"), entry)
                if exc.permanent:
                    callbacks.change_state(s, entry, "failed", now=now, actor=self.name, reason=str(exc))
                else:
                    self._retry(s, entry, now, str(exc), event="dial_failed")
            self._with_entry(entry_id, failed)
            return
        self._store_sid(entry_id, leg, dial_call_sid=placed.sid)

    def _offer_lost(self, s: Session, entry: QueueEntry, now: datetime, event: str, reason: str) -> None:
        """The agent did not take the offer: the entry goes back to its place in line."""
        if entry.kind == HOLDING:
            if entry.state == "holding":
                entry.agent_id = None
                callbacks.record(s, entry, event, now=now, actor=self.name, reason=reason)
        elif entry.state == "dialing_agent":
            entry.agent_id = None
            callbacks.change_state(s, entry, "queued", now=now, event=event, actor=self.name, reason=reason)
        elif entry.state == "dialing_customer" and (entry.context or {}).get("customer_on_line"):
            # Customer-first: the customer is waiting; apologise and call again later.
            self._tell_and_end(entry.dial_call_sid, self._text(entry, "callback_no_agent"), entry)
            self._retry(s, entry, now, reason, event=event)

    def agent_status(self, public_id: str, leg: int, call_sid: str, status: str) -> None:
        """A status callback of the agent's leg (may be late, repeated, or for an old leg)."""
        def apply(s: Session, entry: QueueEntry, now: datetime):
            agent = self._agent_of(s, entry, call_sid)
            accepted = agent is not None and agent.state == "on_call" and agent.call_sid == call_sid
            offered = agent is not None and agent.state == "reserved" and agent.call_sid == call_sid
            if offered and entry.state == "cancelled" and status in ENDED:
                # We ended the offer ourselves (the callback was cancelled): the agent missed nothing.
                agents.set_state(s, agent, "available", now, actor="twilio",
                                 reason="the callback was cancelled during the offer")
            elif agent is not None:
                agents.on_call_status(s, agent, call_sid, status, now)
            if status not in ENDED or self._leg(entry) != leg:
                return
            if not accepted or (entry.kind == HOLDING and entry.state == "holding"):
                # Missed, or accepted but the <Dial><Queue> found nobody to bridge: the holder (still
                # in Twilio's queue) goes back to being offered.
                self._offer_lost(s, entry, now, "agent_missed", f"agent leg {status}")
                return
            if entry.state == "connected":
                callbacks.change_state(s, entry, "completed", now=now, actor=self.name, reason="agent hung up")
            elif entry.state == "dialing_customer" and entry.kind == CALLBACK and \
                    not (entry.context or {}).get("customer_on_line"):
                # The agent left before the customer was connected: stop ringing them, try again later.
                if entry.dial_call_sid:
                    sid = entry.dial_call_sid
                    self._after.append(lambda: self.dialer.end(sid, ringing=True))
                self._retry(s, entry, now, "agent hung up before the customer was connected", event="agent_left")

        self._by_public_id(public_id, apply)

    # ---- the customer's leg --------------------------------------------------------------------

    def customer_answer(self, public_id: str, leg: int, call_sid: str) -> str:
        """The customer picked up (AMD still listening): the greeting, then the conference."""
        def answer(s: Session, entry: QueueEntry, now: datetime) -> str:
            response = VoiceResponse()
            if self._leg(entry) != leg or entry.state != "dialing_customer":
                response.hangup()
                return str(response)
            if not entry.dial_call_sid:
                entry.dial_call_sid = call_sid
            callbacks.record(s, entry, "customer_answered", now=now, actor="twilio", leg=leg)
            self._say(response, entry, self._text(entry, "callback_greeting"))
            if entry.context.get("mode") == "customer_first":
                self._say(response, entry, self._text(entry, "callback_hold_for_agent"))
                self._join(response, entry, leg, agent_side=False)
            else:
                self._say(response, entry, self._text(entry, "callback_connecting"))
                self._join(response, entry, leg, agent_side=True)
            return str(response)

        return self._by_public_id(public_id, answer) or self._hang_up()

    def customer_amd(self, public_id: str, leg: int, call_sid: str, answered_by: str) -> None:
        """Twilio's asynchronous answering-machine verdict."""
        def apply(s: Session, entry: QueueEntry, now: datetime):
            if self._leg(entry) != leg or entry.state != "dialing_customer":
                return  # late, repeated, or the call is already settled
            if not entry.dial_call_sid:
                entry.dial_call_sid = call_sid
            if answered_by in HUMAN:
                if entry.context.get("mode") != "customer_first":
                    callbacks.change_state(s, entry, "connected", now=now, actor="twilio",
                                           reason=f"customer answered ({answered_by})", leg=leg)
                else:
                    # Customer-first: now ring the reserved agent.
                    entry.context = {**entry.context, "customer_on_line": True}
                    callbacks.record(s, entry, "customer_on_line", now=now, actor="twilio", answered_by=answered_by)
                    agent = s.get(Agent, entry.agent_id) if entry.agent_id else None
                    if agent is not None:
                        address, pid, entry_id, agent_id = agent.address, entry.public_id, entry.id, agent.id
                        self._after.append(lambda: self._ring_agent(entry_id, pid, address, leg, agent_id))
                return
            # A machine: leave the short message, end both legs, and try again later.
            voicemail = VoiceResponse()
            if answered_by != "fax":
                self._say(voicemail, entry, self.settings.voicemail_text.format(company=self.config.company_name)
                          if self.settings.voicemail_text else self._text(entry, "callback_voicemail"))
            voicemail.hangup()
            self._after.append(lambda: self.dialer.steer(call_sid, str(voicemail)))
            self._tell_and_end(entry.agent_call_sid, self._text(entry, "agent_voicemail_left"), entry)
            self._release_agent(s, entry, now, "available", "customer leg reached voicemail")
            self._retry(s, entry, now, f"answered by {answered_by}", event="voicemail")

        self._by_public_id(public_id, apply)

    def _ring_agent(self, entry_id: int, public_id: str, address: str, leg: int, agent_id: int) -> None:
        try:
            placed = self.dialer.call_agent(address, public_id, leg)
        except DialFailed as error:
            exc = error  # kept for the closure below: `error` is unbound when the except block ends

            def failed(s: Session, entry: QueueEntry, now: datetime):
                agent = s.get(Agent, agent_id)
                if agent is not None and agent.state == "reserved" and agent.entry_id == entry.id:
                    agents.set_state(s, agent, "offline" if exc.permanent else "available", now,
                                     actor="dispatcher", reason=str(exc))
                if self._leg(entry) == leg:
                    self._offer_lost(s, entry, now, "agent_dial_failed", str(exc))
            self._with_entry(entry_id, failed)
            return
        self._store_sid(entry_id, leg, agent_call_sid=placed.sid, agent_id=agent_id)

    def customer_status(self, public_id: str, leg: int, call_sid: str, status: str) -> None:
        """A status callback of the customer's leg (may be late, repeated, or out of order)."""
        def apply(s: Session, entry: QueueEntry, now: datetime):
            if self._leg(entry) != leg:
                return
            if status not in ENDED:
                if not entry.dial_call_sid and entry.state == "dialing_customer":
                    entry.dial_call_sid = call_sid
                return
            if entry.state == "connected":
                callbacks.change_state(s, entry, "completed", now=now, actor="twilio", reason="call ended")
                return
            if entry.state != "dialing_customer":
                return
            if status == "completed":
                reason, event = "customer hung up before being connected", "customer_hung_up"
            else:
                reason, event = f"customer {status}", "customer_" + status.replace("-", "_")
            self._tell_and_end(entry.agent_call_sid, self._text(entry, "agent_customer_unreachable"), entry)
            self._release_agent(s, entry, now, "available", reason)
            self._retry(s, entry, now, reason, event=event)

        self._by_public_id(public_id, apply)

    def holder_bridged(self, public_id: str, leg: int, holder_call_sid: str, agent_call_sid: str | None) -> str:
        """Twilio's <Queue url>: this holder (maybe not the one we offered, if Twilio's FIFO differs) is
        being bridged to the agent. The holder hears a short line, then the agent."""
        def apply(s: Session, offered: QueueEntry, now: datetime) -> str:
            actual = s.scalar(select(QueueEntry).where(QueueEntry.call_sid == holder_call_sid,
                                                       QueueEntry.state == "holding"))
            agent = agents.find_by_call(s, agent_call_sid) if agent_call_sid else None
            agent = agent or (s.get(Agent, offered.agent_id) if offered.agent_id else None)
            response = VoiceResponse()
            if actual is None:
                return str(response)
            if actual.id != offered.id and offered.state == "holding" and offered.agent_id is not None:
                offered.agent_id = None
                callbacks.record(s, offered, "agent_went_to_earlier_caller", now=now, actor="twilio")
            actual.agent_id = agent.id if agent else actual.agent_id
            actual.agent_call_sid = agent_call_sid
            callbacks.change_state(s, actual, "connected", now=now, actor="twilio", reason="agent bridged",
                                   agent=agent.name if agent else None)
            if agent is not None:
                agent.entry_id = actual.id
            self._say(response, actual, self._text(actual, "callback_connecting"))
            return str(response)

        return self._by_public_id(public_id, apply) or str(VoiceResponse())

    def holder_dial_done(self, public_id: str, leg: int, call_sid: str, dial_status: str | None) -> str:
        """The agent's <Dial><Queue> ended: nobody was in the queue, or the conversation is over."""
        response = VoiceResponse()
        if dial_status != "completed":
            response.say(self._text(None, "agent_caller_no_longer_waiting"))
        response.hangup()
        return str(response)

    # ---- booking notices -----------------------------------------------------------------------

    def confirm_bookings(self, window_minutes: int = 15) -> int:
        """SMS to callbacks booked in the last minutes that have not had one (once each)."""
        if not (self.settings.sms and self.dialer.messaging_number):
            return 0
        now = self.clock.now()
        sent = 0
        # Callbacks requested lately (booked, or converted from holding): found through the audit
        # trail's time index, so the cost does not grow with the number of callbacks waiting.
        with transaction(self.sessions) as s:
            ids = s.scalars(select(QueueEvent.entry_id).where(
                QueueEvent.at >= now - timedelta(minutes=window_minutes), QueueEvent.event == "requested",
                QueueEvent.state.in_(("queued", "scheduled"))).distinct()).all()
        for entry_id in sorted(ids):
            def confirm(s: Session, entry: QueueEntry, now: datetime):
                # A texter was already answered by the SMS webhook with the same confirmation.
                if (entry.context or {}).get("sms_confirmed") or not entry.phone_number or \
                        entry.channel == "sms" or entry.state not in ("queued", "scheduled"):
                    return False
                entry.context = {**entry.context, "sms_confirmed": True}  # at most once, even on a crash
                position, wait = callback_requests.place_in_line(s, self.config, entry, now)
                outcome = callback_requests.Outcome(entry, True, None, position, wait,
                                                    callback_requests.ensure_window(s, self.config, entry, now))
                body = callback_requests.confirmation(self.config, outcome, now)
                callbacks.record(s, entry, "sms_confirmation", now=now, actor=self.name)
                number = entry.phone_number
                self._after.append(lambda: self.dialer.text(number, body))
                return True
            if self._with_entry(entry_id, confirm):
                sent += 1
        return sent

    # ---- after a crash -------------------------------------------------------------------------

    def recover(self) -> int:
        """Reconcile in-flight claims with Twilio's records. Returns how many entries were touched."""
        now = self.clock.now()
        grace = timedelta(seconds=self.settings.reconcile_after_seconds)
        with transaction(self.sessions) as s:
            ids = s.scalars(select(QueueEntry.id).where(or_(
                QueueEntry.state.in_(("dialing_agent", "dialing_customer", "connected")),
                (QueueEntry.state == "holding") & QueueEntry.agent_id.is_not(None),
            ))).all()
        touched = 0
        for entry_id in ids:
            with transaction(self.sessions) as s:
                entry = s.get(QueueEntry, entry_id)
                if entry is None:
                    continue
                claimed_at = datetime.fromisoformat(entry.context.get("claimed_at")) \
                    if (entry.context or {}).get("claimed_at") else entry.updated_at
                agent = s.get(Agent, entry.agent_id) if entry.agent_id else None
                snapshot = (entry.public_id, self._leg(entry), entry.state, entry.kind, entry.agent_call_sid,
                            entry.dial_call_sid, entry.phone_number, agent.address if agent else None,
                            agent.call_sid if agent else None, entry.updated_at)
            pid, leg, state, kind, agent_sid, dial_sid, number, address, agent_leg_sid, updated = snapshot
            old = now - claimed_at >= grace
            try:
                touched += self._reconcile(entry_id, pid, leg, state, kind, agent_sid, dial_sid, number, address,
                                           claimed_at, updated, old, now)
            except Exception:  # noqa: BLE001 - one bad record must not stop the others
                log.exception("could not reconcile entry %s", pid)
        return touched + self.recover_agents()

    def recover_agents(self) -> int:
        """Agents held by a call whose end we never heard of: ask Twilio, apply the last status."""
        now = self.clock.now()
        grace = timedelta(seconds=self.settings.reconcile_after_seconds)
        with transaction(self.sessions) as s:
            held = [(a.id, a.call_sid, a.state_changed_at, a.entry_id) for a in
                    s.scalars(select(Agent).where(Agent.state.in_(("reserved", "on_call"))))]
        touched = 0
        for agent_id, call_sid, since, entry_id in held:
            if now - since < grace:
                continue
            status = self.dialer.fetch_status(call_sid) if call_sid else None
            if call_sid and status is not None and status not in ENDED:
                continue
            with transaction(self.sessions) as s:
                agent = s.get(Agent, agent_id)
                entry = s.get(QueueEntry, entry_id) if entry_id else None
                in_flight = entry is not None and entry.agent_id == agent_id and (
                    entry.state in ("dialing_agent", "dialing_customer", "connected")
                    or (entry.state == "holding"))
                if agent is None or agent.state not in ("reserved", "on_call") or (in_flight and not call_sid):
                    continue  # an in-flight claim without a call is recover()'s to settle
                if call_sid:
                    agents.on_call_status(s, agent, call_sid, status or "failed", now)
                else:
                    agents.set_state(s, agent, "available", now, actor="dispatcher",
                                     reason="held by a call that no longer exists")
                touched += 1
        return touched

    def _reconcile(self, entry_id, pid, leg, state, kind, agent_sid, dial_sid, number, address, claimed_at,
                   updated, old, now) -> int:
        # 1. A leg we expect but whose SID was never stored: find it in Twilio's records, or release.
        if (state == "dialing_agent" or kind == HOLDING) and not agent_sid and address:
            found = self.dialer.find_call(address, claimed_at)
            if found is not None:
                self._store_sid(entry_id, leg, agent_call_sid=found.sid)
                agent_sid = found.sid
            elif old:
                self._release_unplaced(entry_id, leg, "the agent was never called (recovered after a restart)")
                return 1
        if state == "dialing_customer" and not dial_sid and number:
            found = self.dialer.find_call(number, claimed_at)
            if found is not None:
                self._store_sid(entry_id, leg, dial_call_sid=found.sid)
                dial_sid = found.sid
            elif now - updated >= timedelta(seconds=self.settings.reconcile_after_seconds):
                self._release_unplaced(entry_id, leg, "the customer was never called (recovered after a restart)")
                return 1
        # 2. Legs that ended while nobody listened: apply their last status (handlers are idempotent).
        touched = 0
        for sid, handler in ((agent_sid, self.agent_status), (dial_sid if kind == CALLBACK else None,
                                                               self.customer_status)):
            if not sid:
                continue
            status = self.dialer.fetch_status(sid)
            if status is None or status in ENDED:
                handler(pid, leg, sid, status or "failed")
                touched = 1
        return touched

    def _release_unplaced(self, entry_id: int, leg: int, reason: str) -> None:
        def release(s: Session, entry: QueueEntry, now: datetime):
            if self._leg(entry) != leg:
                return
            agent = s.get(Agent, entry.agent_id) if entry.agent_id else None
            if agent is not None and agent.entry_id == entry.id and agent.state in ("reserved", "on_call"):
                agents.set_state(s, agent, "available", now, actor="dispatcher", reason=reason)
            entry.agent_id = None
            if entry.state == "dialing_customer":
                self._tell_and_end(entry.agent_call_sid, self._text(entry, "agent_customer_back_in_line"), entry)
            if entry.kind == HOLDING:
                callbacks.record(s, entry, "recovered", now=now, actor=self.name, reason=reason)
            elif entry.state in ("dialing_agent", "dialing_customer"):
                if entry.state == "dialing_customer":
                    entry.attempts = max(0, entry.attempts - 1)  # the customer was never rung
                callbacks.change_state(s, entry, "queued", now=now, event="recovered", actor=self.name,
                                       reason=reason)

        self._with_entry(entry_id, release)
