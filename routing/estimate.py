"""The one wait estimate every channel tells (IVR, button, chat, SMS, status page, supervisor cards)
and the simulated day (bench/simday.py) scores:

    estimate(session, skill, now, *, config, entry=None, supply=None, callback=False) -> Estimate

`skill` is a config.Skill (or its name); `entry` a waiting QueueEntry to estimate for (its own place),
or None for a new arrival at the back of the line; `supply` replaces the staffing read from the agents
table (a list of routing.predictor.Supply, e.g. known shifts); `callback` adds the customer's ring.
Estimate.status is "now", "wait", "after_closing", "closed" or "unstaffed"; only the first two may be
told as a wait (Estimate.announceable), otherwise say when we will call back (Estimate.resume_at).
Estimate.window(now, zone) is the callback window to tell. The predictor and its rules: routing/predictor.py.

This module reads the inputs: the line (routing/queue.py's order), the agents and their other lines,
the agent-seconds recent entries really took (from the audit trail), and the skill's opening hours.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from clock import TimeRefused, local_to_utc, span_on
from config import IvrConfig, Skill
from routing import queue
from routing.due import served_while_closed
from routing.hours import is_open, next_opening, open_for_demo
from routing.predictor import HORIZON, Estimate, Handle, Hours, Line, Supply, calibrated, predict
from storage.models import CALLBACK, HOLDING, Agent, QueueEntry, QueueEvent

RECENT_HANDLES = 20
# Holders' patience: measured over those who arrived within ABANDON_MINUTES (see abandon_rate()).
ABANDON_MINUTES = 60
ABANDON_PRIOR_SECONDS = 600
# Calibration from the delay history: the waits the model gave to the last CALIBRATION_SAMPLES callers
# who reached an agent within CALIBRATION_MINUTES, against the waits they had (see calibration()).
CALIBRATION_SAMPLES = 40
CALIBRATION_MINUTES = 90
CALIBRATE = False
# Events that put an agent on an entry (a claim), and states that end the agent's part in it.
CLAIMS = ("agent_offered", "dialing_agent")
RELEASES = ("queued", "retry_wait", "scheduled", "completed", "failed", "cancelled", "abandoned")
# Where a busy agent is in their entry, by state (routing.predictor.Supply.phase).
PHASES = {"reserved": "ringing", "on_call": "talking", "wrap_up": "wrap_up"}
# The customer's phone rings this long, on average, before a callback is answered (until measured).
CUSTOMER_RING_SECONDS = 15.0
# What connecting takes when an agent is free: for the kinds in MEASURED_CONNECT, measured from "now"
# told to connected once MIN_CONNECT_SAMPLES of the recent entries of that kind were told "now"; else
# claim to connected. Holders only: on the simulated day it cut the holders' error (2.8 -> 2.2 s on those
# told "now") but made the callbacks' worse (8.5 -> 11.3 s: so few recent callbacks were told "now" that
# its median is noisy), docs/simday.md.
MEASURED_CONNECT: tuple[str, ...] = (HOLDING,)
MIN_CONNECT_SAMPLES = 3
# Customers who do not answer the first call of their callback (ANSWER_MISSES): the share of the skill's
# callbacks that arrived within MISS_MINUTES, were dialled and not reached at the first attempt, and how
# much longer those of them connected waited; the wait told for a callback is then the median of that
# mixture (routing.predictor.Handle.miss_rate). Fewer than MIN_MISS_SAMPLES dialled: no mixture.
# Off: on the simulated day it bought nothing (normal, seeds 7 and 11: 0.0 s of MAE either way; with 14%
# of customers missing, the median barely moves), docs/simday.md; on for a day with more missed calls.
ANSWER_MISSES = False
# A multi-skill agent's other skill, closed now, that opens this soon counts with its whole line: the
# callbacks told its opening window take the agent's time during the wait told now (one share per agent;
# told waits of a normal day are well under it, a closed night's are not).
OPENING_SOON = timedelta(minutes=30)
MISS_MINUTES = 90
MIN_MISS_SAMPLES = 20


def estimate(session: Session, skill: Skill | str, now: datetime, *, config: IvrConfig,
             entry: QueueEntry | None = None, supply: list[Supply] | None = None,
             callback: bool = False, shared: dict | None = None, released: int | None = None) -> Estimate:
    """`shared`: a dict kept by a caller that estimates many entries at one moment (the slip pass): the
    skill's hours, staffing, handle time, calibration and waiting entries (standing(); each entry's place
    is found in them, line_from()) are read once per skill into it, and the sample paths drawn once per
    skill and moment (routing.predictor.Paths). `released`: an agent whose call is ending now, counted as
    free (the dispatcher deciding a retry as it lets the agent of the missed attempt go)."""
    if isinstance(skill, str):
        skill = config.skills[skill]
    key = skill.name
    # The caller asking is one more entry in this line, unless their entry already stands in it.
    asking = 0 if entry is not None and queue.is_in_line(entry, now) else 1
    if shared is None or key not in shared:
        hours = opening_spans(skill, now)
        # The calibration made the simulated day's wait error worse (218 s against 197 s without it), so
        # it stays off until a run shows it helps; CALIBRATE switches it on for such runs.
        inputs = (hours, line_counts(session, now), handle_time(session, skill.name, config.assumed_handle_seconds),
                  calibration(session, skill.name, now) if CALIBRATE else 1.0)
        if shared is not None:
            shared[key] = inputs
    else:
        inputs = shared[key]
    hours, counts, handle, scale = inputs
    if ANSWER_MISSES and (callback or (entry is not None and entry.kind == CALLBACK)):
        misses = shared.get(("misses", key)) if shared is not None else None
        if misses is None:
            misses = answer_misses(session, skill.name, now)
            if shared is not None:
                shared[("misses", key)] = misses
        handle = replace(handle, miss_rate=misses[0], miss_delays=misses[1])
    if shared is not None:
        found = shared.get(("supply", key, asking))
        if found is None:
            found = shared[("supply", key, asking)] = agent_supply(session, skill, now, hours, counts, asking,
                                                                   config=config)
    else:
        found = agent_supply(session, skill, now, hours, counts, asking, released, config=config)
    rate = abandon_rate(session, skill.name, now, shared)
    if shared is not None:
        line = line_from(standing(session, skill.name, shared), now, entry, abandon_rate=rate)
    else:
        line = line_before(session, skill.name, now, entry, abandon_rate=rate)
    # The sample paths depend on the staffing, handle time, hours and moment only: drawn once per skill,
    # staffing and moment when shared, each entry reading its turn from its place.
    paths = (shared.setdefault(("paths", key, asking, now), {})
             if shared is not None and supply is None else None)
    return predict(line, found if supply is None else supply, handle, hours, now,
                   callback=callback or (entry is not None and entry.kind == "callback"), scale=scale, paths=paths)


def answer_misses(session: Session, skill: str, now: datetime) -> tuple[float, tuple[float, ...]]:
    """(share, extra seconds): of the skill's callbacks that arrived within MISS_MINUTES and whose first call
    to the customer has an outcome, the share not reached (the call was followed by a retry or a failure,
    not a connection), and for those of them connected since, how much longer than the others they took
    from that first call to connected. (0.0, ()) with fewer than MIN_MISS_SAMPLES outcomes."""
    entries = dict(session.execute(select(QueueEntry.id, QueueEntry.connected_at).where(
        QueueEntry.skill == skill, QueueEntry.kind == CALLBACK,
        QueueEntry.arrived_at >= now - timedelta(minutes=MISS_MINUTES))).all())
    if len(entries) < MIN_MISS_SAMPLES:
        return 0.0, ()
    first: dict[int, list] = {}  # entry -> [first call to the customer, reached or not]
    for entry_id, at, state in session.execute(select(QueueEvent.entry_id, QueueEvent.at, QueueEvent.state).where(
            QueueEvent.entry_id.in_(list(entries)),
            QueueEvent.state.in_(("dialing_customer", "connected", "retry_wait", "failed")))
            .order_by(QueueEvent.entry_id, QueueEvent.id)):
        call = first.get(entry_id)
        if call is None:
            if state == "dialing_customer":
                first[entry_id] = [at, None]
        elif call[1] is None and state != "dialing_customer":
            call[1] = state == "connected"
    decided = [(entry_id, at, reached) for entry_id, (at, reached) in first.items() if reached is not None]
    if len(decided) < MIN_MISS_SAMPLES:
        return 0.0, ()
    took = [(entries[i] - at).total_seconds() for i, at, reached in decided if reached and entries[i] is not None]
    usual = statistics.median(took) if took else 0.0
    extra = tuple(max(0.0, (entries[i] - at).total_seconds() - usual) for i, at, reached in decided
                  if not reached and entries[i] is not None)
    missed = sum(1 for *_, reached in decided if not reached)
    return (missed / len(decided), extra) if extra else (0.0, ())


def calibration(session: Session, skill: str, now: datetime) -> float:
    """How far the model's waits ran short or long lately: the sum of the waits had (announcement to
    connected) over the sum of the model's waits (`model_seconds` of each "wait_announced"), for the last
    CALIBRATION_SAMPLES callers of the skill connected within CALIBRATION_MINUTES (1.0 with fewer than 5).
    Read through the audit trail's time index; routing.predictor.calibrated() bounds it."""
    since = now - timedelta(minutes=CALIBRATION_MINUTES)
    ids = session.scalars(select(QueueEvent.entry_id).join(QueueEntry, QueueEntry.id == QueueEvent.entry_id).where(
        QueueEvent.at >= since, QueueEvent.state == "connected", QueueEntry.skill == skill)
        .order_by(QueueEvent.at.desc()).limit(CALIBRATION_SAMPLES)).all()
    if len(ids) < 5:
        return 1.0
    connected = dict(session.execute(select(QueueEntry.id, QueueEntry.connected_at).where(QueueEntry.id.in_(ids))).all())
    pairs = []
    for entry_id, at, detail in session.execute(select(QueueEvent.entry_id, QueueEvent.at, QueueEvent.detail).where(
            QueueEvent.entry_id.in_(ids), QueueEvent.event == "wait_announced")):
        model = (detail or {}).get("model_seconds")
        if model is not None and connected.get(entry_id) is not None:
            pairs.append((float(model), (connected[entry_id] - at).total_seconds()))
    return calibrated(pairs)


def line_estimates(session: Session, skill: Skill, now: datetime, *, config: IvrConfig,
                   in_line: int) -> tuple[Estimate, list[Estimate]]:
    """For the supervisor page: the estimate for a new arrival, and one per place 1..in_line, reading
    the inputs once (callbacks falling due later are counted for every place)."""
    hours = opening_spans(skill, now)
    supply = agent_supply(session, skill, now, hours, line_counts(session, now), config=config)
    handle = handle_time(session, skill.name, config.assumed_handle_seconds)
    due = line_before(session, skill.name, now, None).due
    places = [predict(Line(ahead=p, due=due), supply, handle, hours, now) for p in range(in_line + 1)]
    return places[-1], places[:-1]


def opening_spans(skill: Skill, now: datetime) -> Hours:
    """The skill's opening spans (UTC) that end after now, within the predictor's horizon."""
    if open_for_demo(skill):  # the dev phone's switch: open from now to the horizon
        return Hours(spans=((now, now + HORIZON),))
    spans = []
    today = now.astimezone(skill.timezone).date()
    for days in range(-1, HORIZON.days + 1):
        day = today + timedelta(days=days)
        span = span_on(skill.hours, day)
        if not span:
            continue
        start, end = (_local(day, at, skill) for at in span)
        if end > now:
            spans.append((start, end))
    return Hours(spans=tuple(spans))


def _local(day, at, skill: Skill) -> datetime:
    try:
        return local_to_utc(day, at, skill.timezone)
    except TimeRefused:
        # Inside a DST gap: the first valid minute after it.
        return datetime.combine(day, at).replace(tzinfo=skill.timezone).astimezone(timezone.utc)


class Waiting(NamedTuple):
    """One skill's line now: every entry standing in it, and how many of them its agents serve while the
    skill is closed (routing.due.served_while_closed: holders, queued callbacks whose window has begun)."""

    line: int
    while_closed: int


def line_counts(session: Session, now: datetime) -> dict[str, Waiting]:
    """How many entries stand in each skill's line now (and how many of them are served while it is closed),
    in one grouped query."""
    closed = func.sum(case((served_while_closed(now), 1), else_=0))
    rows = session.execute(select(QueueEntry.skill, func.count(), closed).where(queue.in_line_now(now))
                           .group_by(QueueEntry.skill)).all()
    return {skill: Waiting(int(n), int(m or 0)) for skill, n, m in rows}


def line_before(session: Session, skill: str, now: datetime, entry: QueueEntry | None,
                abandon_rate: float = 0.0) -> Line:
    """Who is served before `entry` (or before a new arrival): in line now (and how many of them are live
    holders, who may hang up), and callbacks falling due later."""
    where = [QueueEntry.skill == skill, queue.in_line_now(now)]
    if entry is not None:
        # In line or not yet (a retry or a slot falling due later keeps its place: it cuts in ahead of
        # those who came after it), only the entries before it in line order count.
        where += [QueueEntry.id != entry.id, queue.ahead_of(entry)]
    # Grouped by the plain column: PostgreSQL refuses GROUP BY on an expression with a bound parameter.
    counts = dict(session.execute(select(QueueEntry.state, func.count()).where(*where)
                                  .group_by(QueueEntry.state)).all())
    holders = int(counts.get("holding", 0))
    ahead = sum(int(n) for n in counts.values())
    later = select(QueueEntry.next_attempt_at).where(
        QueueEntry.skill == skill, QueueEntry.state.in_(("scheduled", "retry_wait")),
        QueueEntry.next_attempt_at > now)
    if entry is not None:
        later = later.where(QueueEntry.id != entry.id, or_(
            QueueEntry.priority > entry.priority,
            and_(QueueEntry.priority == entry.priority, QueueEntry.arrived_at <= entry.arrived_at)))
    due = tuple(at for at in session.scalars(later) if at is not None and at < now + HORIZON)
    not_before, behind = 0.0, 0
    if _retry_later(entry, now):
        not_before = (entry.next_attempt_at - now).total_seconds()
        behind = int(session.scalar(select(func.count()).select_from(QueueEntry).where(
            QueueEntry.skill == skill, queue.in_line_now(now), QueueEntry.id != entry.id)) or 0) - ahead
    return Line(ahead=ahead, due=due, holders=holders, abandon_rate=abandon_rate, not_before=not_before,
                behind=behind)


def _retry_later(entry: QueueEntry | None, now: datetime) -> bool:
    """Whether `entry` is a retry falling due later: it is not in line until then (routing.predictor.Line)."""
    return (entry is not None and entry.state == "retry_wait" and entry.next_attempt_at is not None
            and entry.next_attempt_at > now)


WAITING_STATES = ("holding", "queued", "scheduled", "retry_wait")


def standing(session: Session, skill: str, shared: dict) -> list[tuple]:
    """The skill's waiting entries (in line now or falling due later), read once into `shared`:
    (id, state, priority, arrived_at, next_attempt_at) each."""
    key = ("standing", skill)
    if key not in shared:
        shared[key] = session.execute(select(
            QueueEntry.id, QueueEntry.state, QueueEntry.priority, QueueEntry.arrived_at, QueueEntry.next_attempt_at)
            .where(QueueEntry.skill == skill, QueueEntry.state.in_(WAITING_STATES))).all()
    return shared[key]


def line_from(rows: list[tuple], now: datetime, entry: QueueEntry | None, abandon_rate: float = 0.0) -> Line:
    """line_before() from the rows standing() read (the same rules, in Python)."""
    holders = ahead = behind = 0
    due = []
    for entry_id, state, priority, arrived, next_at in rows:
        if entry is not None and entry_id == entry.id:
            continue
        if state in ("holding", "queued") or (next_at is not None and next_at <= now):
            if entry is None or priority > entry.priority or (priority == entry.priority and (
                    arrived < entry.arrived_at or (arrived == entry.arrived_at and entry_id < entry.id))):
                ahead += 1
                holders += state == "holding"
            else:
                behind += 1
        elif next_at is not None and next_at > now and next_at < now + HORIZON and (
                entry is None or priority > entry.priority
                or (priority == entry.priority and arrived <= entry.arrived_at)):
            due.append(next_at)
    if not _retry_later(entry, now):
        return Line(ahead=ahead, due=tuple(due), holders=holders, abandon_rate=abandon_rate)
    return Line(ahead=ahead, due=tuple(due), holders=holders, abandon_rate=abandon_rate,
                not_before=(entry.next_attempt_at - now).total_seconds(), behind=behind)


def abandon_rate(session: Session, skill: str, now: datetime, shared: dict | None = None) -> float:
    """How fast the skill's holders hang up (per holder and second): the holders who hung up over the
    seconds holders spent waiting, for those who arrived within ABANDON_MINUTES (the maximum-likelihood
    rate of exponential patience; ABANDON_PRIOR_SECONDS of waiting without a hang-up added, so a few
    early hang-ups do not swing it). Read once per skill and moment into `shared` when given."""
    key = ("abandon", skill)
    if shared is not None and key in shared:
        return shared[key]
    rows = session.execute(select(QueueEntry.state, QueueEntry.arrived_at, QueueEntry.connected_at,
                                  QueueEntry.closed_at).where(
        QueueEntry.skill == skill, QueueEntry.kind == HOLDING,
        QueueEntry.arrived_at >= now - timedelta(minutes=ABANDON_MINUTES))).all()
    gone, waited = 0, float(ABANDON_PRIOR_SECONDS)
    for state, arrived, connected, closed in rows:
        gone += state == "abandoned"
        end = connected or closed or now
        waited += max(0.0, (min(end, now) - arrived).total_seconds())
    rate = gone / waited
    if shared is not None:
        shared[key] = rate
    return rate


def agent_supply(session: Session, skill: Skill, now: datetime, hours: Hours, counts: dict[str, Waiting],
                 asking: int = 1, released: int | None = None, *, config: IvrConfig) -> list[Supply]:
    """Agents with the skill, each as the share of their work this skill's line takes: (n + asking) over
    (n + asking + the entries in their other skills' lines), n = this line's length (line_counts()),
    `asking` = 1 for someone not in it yet (a new caller, a time to book), 0 for an entry already in it;
    an agent whose other lines are empty is all this line's. The agent `released` counts as free.
    Another skill closed when this line is served (now, or at its next opening when closed now) counts
    only what the dispatcher serves of it while closed (routing.due.served_while_closed): its retries
    and the callbacks told a window at its opening wait for that, and take none of the agent's time
    until then, unless it opens within OPENING_SOON (then its whole line counts: one share per agent).
    A skill gone from the IVR file counts nothing (the dispatcher serves only configured skills).

    Logged-in agents stay until today's closing and are expected again at later openings; when nobody
    is logged in, every agent with the skill is expected from the next opening that is not today's."""
    # Only the four columns used, not whole agents: this runs for every estimate.
    agents = [row for row in session.execute(select(Agent.id, Agent.skills, Agent.state, Agent.state_changed_at,
                                                    Agent.wrap_up_seconds)) if skill.name in (row.skills or {})]
    on = [a for a in agents if a.state != "offline"]
    today_end = hours.spans[0][1] if hours.spans and hours.spans[0][0] <= now else None
    served_at = hours.spans[0][0] if hours.spans and hours.spans[0][0] > now else now
    work = {}  # each other line's entries an agent serves while this line is served
    for name, waiting in counts.items():
        other = config.skills.get(name)
        if other is None:
            work[name] = 0  # gone from the IVR file: the dispatcher serves only configured skills
        elif _closed_for_a_while(other, served_at):
            work[name] = waiting.while_closed
        else:
            work[name] = waiting.line
    supply = []
    for agent in agents:
        mine = max(1, counts.get(skill.name, Waiting(0, 0)).line + asking)  # this line, with the caller asking
        share = mine / (mine + sum(work.get(name, 0) for name in agent.skills if name != skill.name))
        if agent.id == released and agent.state != "offline":
            supply.append(Supply(share=share, free=True))
        elif agent.state != "offline":
            supply.append(Supply(share=share, free=agent.state == "available", phase=PHASES.get(agent.state),
                                 elapsed=max(0.0, (now - agent.state_changed_at).total_seconds()),
                                 wrap=float(agent.wrap_up_seconds)))
        elif not on and today_end is not None:
            supply.append(Supply(share=share, on_from=today_end))
        elif not on:
            supply.append(Supply(share=share))
    return supply


def _closed_for_a_while(skill: Skill, at: datetime) -> bool:
    """Closed at `at` and not opening within OPENING_SOON: a skill about to open serves its whole line
    (the callbacks told a window at its opening first, by line order) during the wait being told."""
    if is_open(skill, at):
        return False
    opening = next_opening(skill, at)
    return opening is None or opening > at + OPENING_SOON


def handle_time(session: Session, skill: str, assumed: int) -> Handle:
    """Agent-seconds per entry over the skill's last RECENT_HANDLES completed entries: every claim of an
    agent (ring, whisper, customer ring, answering machine, talk), failed attempts included, plus the
    agent's wrap-up. With fewer than 3 completed entries: the configured assumed_handle_seconds. Also
    measured from them: the talk times' lognormal (connected to closed), the mean wrap-up, and claim to
    connected for holders (`answer`) and callbacks (`customer_ring`; CUSTOMER_RING_SECONDS until one)."""
    rows = session.execute(
        select(QueueEntry.id, QueueEntry.closed_at, func.coalesce(Agent.wrap_up_seconds, 30), QueueEntry.connected_at,
               QueueEntry.kind)
        .outerjoin(Agent, Agent.id == QueueEntry.agent_id)
        .where(QueueEntry.skill == skill, QueueEntry.state == "completed", QueueEntry.connected_at.is_not(None),
               QueueEntry.closed_at.is_not(None))
        .order_by(QueueEntry.closed_at.desc(), QueueEntry.id.desc()).limit(RECENT_HANDLES)).all()
    if len(rows) < 3:
        return Handle(mean=float(assumed), sd=float(assumed), customer_ring=CUSTOMER_RING_SECONDS)
    events = session.execute(select(QueueEvent.entry_id, QueueEvent.at, QueueEvent.event, QueueEvent.state,
                                    QueueEvent.detail)
                             .where(QueueEvent.entry_id.in_([row[0] for row in rows]))
                             .order_by(QueueEvent.entry_id, QueueEvent.id))
    trail: dict[int, list[tuple[datetime, str, str]]] = {}
    told_now: dict[int, datetime] = {}  # when each entry was first told an agent was free for it
    for entry_id, at, event, state, detail in events:
        trail.setdefault(entry_id, []).append((at, event, state))
        if event == "wait_announced" and (detail or {}).get("status") == "now" and entry_id not in told_now:
            told_now[entry_id] = at
    samples, logs, answers, lags = [], [], {HOLDING: [], "callback": []}, {HOLDING: [], "callback": []}
    for entry_id, closed, wrap, connected, kind in rows:
        mine = trail.get(entry_id, [])
        samples.append(agent_seconds(mine, closed) + wrap)
        logs.append(math.log(max(1.0, (closed - connected).total_seconds())))
        claimed = [at for at, event, state in mine if at <= connected and _claims(event, state)]
        if claimed:
            answers.setdefault(kind, []).append((connected - claimed[-1]).total_seconds())
        if entry_id in told_now and told_now[entry_id] <= connected:
            lags.setdefault(kind, []).append((connected - told_now[entry_id]).total_seconds())
    # Told "an agent is free" to connected, where measured: the claim to connected plus the dispatcher's
    # pick-up; its median, which the wait's absolute error asks for (the claim's mean otherwise).
    for kind, seen in lags.items():
        if kind in MEASURED_CONNECT and len(seen) >= MIN_CONNECT_SAMPLES:
            answers[kind] = [statistics.median(seen)]
    mean = sum(samples) / len(samples)
    sd = (sum((x - mean) ** 2 for x in samples) / (len(samples) - 1)) ** 0.5
    mu = sum(logs) / len(logs)
    sigma = (sum((x - mu) ** 2 for x in logs) / (len(logs) - 1)) ** 0.5
    holder, callback = answers[HOLDING], answers["callback"]
    return Handle(mean=mean, sd=sd, talk_mu=mu, talk_sigma=sigma, wrap=sum(r[2] for r in rows) / len(rows),
                  answer=sum(holder) / len(holder) if holder else 0.0,
                  customer_ring=sum(callback) / len(callback) if callback else CUSTOMER_RING_SECONDS)


def _claims(event: str, state: str) -> bool:
    """Whether an audit event puts an agent on the entry (or dials the customer first)."""
    return event in CLAIMS or (event == "dialing_customer" and state == "dialing_customer")


def agent_seconds(trail: list[tuple[datetime, str, str]], closed_at: datetime) -> float:
    """Seconds an agent spent on one entry, from its audit trail [(at, event, state), ...]: each claim
    until the entry went back to waiting or ended."""
    total, started = 0.0, None
    for at, event, state in trail:
        if started is None and _claims(event, state):
            started = at
        elif started is not None and state in RELEASES:
            total += (at - started).total_seconds()
            started = None
    if started is not None:
        total += (closed_at - started).total_seconds()
    return total
