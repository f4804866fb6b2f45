"""The wait predictor, pure (no database, no clock): predict(line, supply, handle, hours, now) -> Estimate.
routing/estimate.py reads its inputs from the database; see there for the entry point every channel uses.

    estimate(session, skill, now, *, config, entry=None, supply=None) -> Estimate

`skill` is a config.Skill or its name; `entry` is a waiting QueueEntry to estimate for (its own place),
or None for a new arrival at the back of the line. `supply` overrides the staffing read from the agents
table (a list of Supply, e.g. known shifts). The Estimate says one of:
    status "now"            an agent is free for this caller: seconds = what connecting takes
    status "wait"           a wait we can meet today: seconds, spread_seconds, expected_at
    status "after_closing"  the wait would pass closing: no wait is told; resume_at = the next opening,
                            expected_at = when a callback would be reached then (or None)
    status "closed"         closed now: resume_at = the next opening
    status "unstaffed"      open, but no agent with the skill is on: resume_at = the next opening
                            on which staffing is expected (None if no agent has the skill at all)
Only "now" and "wait" may be told as a wait (Estimate.announceable); otherwise say when we will call back.

The predictor itself is pure: predict(line, supply, handle, hours, now) -> Estimate, tested on fixed
vectors. It is the queue-length predictor (Ibrahim & Whitt's QL: a new caller waits for the departures
of everyone ahead), made honest about what the step formula ignored:
  * ahead   = everyone standing in line before this caller now (holders, queued callbacks, scheduled
              callbacks and retries already due), plus scheduled callbacks and retries that fall due
              before the caller's turn comes (they cut in by their earlier arrival): solved as a fixed point;
  * free    = agents with the skill free now take the first `free` entries at once;
  * capacity(t) = the sum of the shares of agents on the skill at time t, 0 outside opening hours
              and outside an agent's shift; an agent with several skills counts as the share of their
              lines' work that is this skill's: (n + 1) / (n + 1 + the entries in their other lines),
              n = this line's length without the caller asking, + 1 for them (counted once, whether their
              entry already stands in the line or not); their other lines empty: all of them; of another
              skill closed then, only what is served before it opens (routing/estimate.py, agent_supply);
  * handle  = the agent-seconds one entry really takes (ring, whisper, talk, the customer's ring and
              answering-machine check, failed attempts, wrap-up), measured from the audit trail;
  * mean    = the T at which the integral of capacity(t) / handle from now reaches ahead - free + 1
              (the fluid line: it decides whether the wait fits before closing);
  * wait    = the median of PATHS sample paths of the line (the median, not the mean: it minimises the
              absolute error, and with few ahead the wait is skewed), each drawing what is left of the
              busy agents' entries (a talk `elapsed` seconds old is the talk time's lognormal conditioned
              on lasting that long, then the wrap-up; a wrap-up is what is left of it), their next entries'
              handle times (fixed part + lognormal talk), the holders ahead who hang up first (exponential
              patience at Line.abandon_rate: M/M/s+M's sum of 1 / (s * mu + j * theta) in the mean), callbacks
              falling due, and agents leaving or coming on; beyond MAX_PATH_DEPARTURES, or before any
              talk time is measured, the mean. For a callback, when its misses are measured (routing/
              estimate.py's ANSWER_MISSES, off as shipped), the median of the mixture of those paths as
              they are (the customer answers the first call) and later by the extra wait measured for
              customers who did not (Handle.miss_rate, miss_delays). Plus what
              connecting takes: the agent's answer for a holder, the customer's ring for a callback (both
              measured, from "now" told to connected where known); a retry falling due later is not in
              line until its own time (Line.not_before): those after it take the agents until then; spread = handle * sqrt(departures) / capacity plus 10% of the wait (the window
              is built from it, routing/promise.py).
  * scale   = calibration from the delay history (calibrated()): the waits had over the waits the model
              gave, lately; what the line model misses (callers who join ahead later, agents kept for
              slots, converted callers' windows) shows there. The wait told is the model's times the scale;
              Estimate.model_seconds keeps the model's own, recorded with each announcement.
Staffing: agents logged in now are assumed to stay until the skill closes today; on later days, the
agents who are on now (or, when nobody is, every agent with the skill) are expected at the opening.
A known shift list (Supply with on_from / on_until) replaces that assumption.
"""
from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Sequence

from routing.promise import Window, callback_window

# How far ahead the predictor looks for staffed time.
HORIZON = timedelta(days=8)


@dataclass(frozen=True)
class Supply:
    """One agent's part in a skill: `share` of their time, free now or not, on between on_from and on_until
    (None: already on / no known end). Times are aware UTC. A busy agent may say where they are in their
    current entry: `phase` "ringing" (claimed, not yet talking), "talking" or "wrap_up", `elapsed` seconds
    into it, and their own `wrap` (None: the handle time's); unknown (None): anywhere in a cycle."""

    share: float
    free: bool = False
    on_from: datetime | None = None
    on_until: datetime | None = None
    phase: str | None = None
    elapsed: float = 0.0
    wrap: float | None = None

    def on_at(self, when: datetime) -> bool:
        return (self.on_from is None or self.on_from <= when) and (self.on_until is None or when < self.on_until)


@dataclass(frozen=True)
class Line:
    """What stands before the caller: `ahead` entries in line now, and the times at which scheduled
    callbacks and retries that will be served before the caller fall due. `holders` of those ahead are
    live holders, who hang up at `abandon_rate` each a second (callbacks ahead do not)."""

    ahead: int
    due: tuple[datetime, ...] = ()
    holders: int = 0
    abandon_rate: float = 0.0
    # A retry falling due later (its own time `not_before` seconds from now) is not in line until then:
    # the agents free before it take those ahead, the callbacks falling due, then the `behind` entries in
    # line now after it; an agent left with nobody waits for it.
    not_before: float = 0.0
    behind: int = 0


@dataclass(frozen=True)
class Hours:
    """Opening spans (UTC, in order) from now on, within the horizon. The first one contains now when open."""

    spans: tuple[tuple[datetime, datetime], ...]

    def open_at(self, when: datetime) -> bool:
        return any(start <= when < end for start, end in self.spans)


@dataclass(frozen=True)
class Handle:
    """Agent-seconds per entry (mean, and its standard deviation), and the customer's ring before a
    callback is answered. Where measured: the talk time's lognormal (`talk_mu`, `talk_sigma` of its
    logarithm), the mean wrap-up, and `answer`, claim to connected for a holder (the agent's ring and the
    whisper); a callback's claim to connected is `customer_ring`. The rest of the mean (rings, failed
    attempts) is the cycle's fixed part."""

    mean: float
    sd: float = 0.0
    customer_ring: float = 0.0
    talk_mu: float | None = None
    talk_sigma: float = 0.0
    wrap: float = 0.0
    answer: float = 0.0
    # A callback's customer not reached at the first call (share), and the extra seconds those waited.
    miss_rate: float = 0.0
    miss_delays: tuple[float, ...] = ()

    @property
    def talk_mean(self) -> float:
        return math.exp(self.talk_mu + self.talk_sigma ** 2 / 2) if self.talk_mu is not None else 0.0


@dataclass(frozen=True)
class Estimate:
    status: str
    seconds: int | None = None
    spread_seconds: int = 0
    expected_at: datetime | None = None
    resume_at: datetime | None = None
    ahead: int = 0
    staffed: float = 0.0
    free: int = 0
    handle_seconds: float = 0.0
    model_seconds: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def announceable(self) -> bool:
        """Whether a wait may be told at all: only when a staffed agent can meet it today."""
        return self.status in ("now", "wait")

    def window(self, now: datetime, zone: str) -> Window | None:
        """The callback window to tell, in `zone`: around the expected time, or from the opening."""
        if self.announceable:
            return callback_window(now=now, expected_seconds=self.seconds or 0, spread_seconds=self.spread_seconds,
                                   zone=zone)
        if self.expected_at is not None and self.resume_at is not None:
            return callback_window(now=now, expected_seconds=(self.expected_at - self.resume_at).total_seconds(),
                                   spread_seconds=self.spread_seconds, zone=zone, earliest=self.resume_at)
        if self.resume_at is not None:
            return callback_window(now=now, expected_seconds=0, spread_seconds=0, zone=zone, earliest=self.resume_at)
        return None


def _segments(hours: Hours, supply: Sequence[Supply], now: datetime):
    """(start, end, capacity) pieces from now on, where capacity is constant (0 pieces left out)."""
    for span_start, span_end in hours.spans:
        start = max(span_start, now)
        if start >= span_end:
            continue
        cuts = {start, span_end}
        for s in supply:
            for at in (s.on_from, s.on_until):
                if at is not None and start < at < span_end:
                    cuts.add(at)
        points = sorted(cuts)
        for a, b in zip(points, points[1:]):
            capacity = sum(s.share for s in supply if s.on_at(a))
            if capacity > 0:
                yield a, b, capacity


def _time_for(departures: float, hours: Hours, supply: Sequence[Supply], handle: float, now: datetime):
    """When `departures` entries will have been served from now on, and the capacity then (None: never)."""
    need = departures * handle  # agent-seconds
    for start, end, capacity in _segments(hours, supply, now):
        room = (end - start).total_seconds() * capacity
        if room >= need:
            return start + timedelta(seconds=need / capacity), capacity
        need -= room
    return None, 0.0


def _first_staffed(hours: Hours, supply: Sequence[Supply], now: datetime) -> datetime | None:
    return next((start for start, _end, _cap in _segments(hours, supply, now)), None)


# The median wait: PATHS sample paths of the line (fixed seeds: the same inputs give the same wait), each
# drawing when the agents on now free up (what is left of their current entry), their next entries'
# handle times and when the holders ahead hang up; the caller's turn is the departure that finds nobody
# left ahead. Lines needing more than MAX_PATH_DEPARTURES departures keep the mean (their wait is nearly
# symmetric, and the paths would cost more), and so does a skill whose talk times are not measured yet
# (only the configured mean is known, not how spread the times are). The agents' departures and the
# holders' hang-ups are drawn from separate streams (Paths, _turns()), so callers of one line share the former.
PATHS = 41
QUANTILE = 0.5
MAX_PATH_DEPARTURES = 60
_SEED = 20270302
_NORMAL = NormalDist()


def _talk(handle: Handle) -> tuple[float, float, float]:
    """(mu, sigma, fixed): the measured talk time's lognormal and the rest of an entry's agent-seconds."""
    return handle.talk_mu, handle.talk_sigma, max(0.0, handle.mean - handle.talk_mean)


def _cycle(rng: random.Random, talk: tuple[float, float, float]) -> float:
    """One entry's agent-seconds: the fixed part (rings, wrap-up) and a lognormal talk."""
    mu, sigma, fixed = talk
    return fixed + rng.lognormvariate(mu, sigma)


def _talk_left(rng: random.Random, talk: tuple[float, float, float], elapsed: float) -> float:
    """What is left of a talk `elapsed` seconds old: the lognormal conditioned on lasting that long."""
    mu, sigma, _fixed = talk
    done = _NORMAL.cdf((math.log(max(elapsed, 1e-3)) - mu) / sigma) if sigma > 0 else 0.0
    u = min(1 - 1e-9, done + (1 - done) * rng.random())
    return max(0.0, math.exp(mu + sigma * _NORMAL.inv_cdf(u)) - elapsed)


def _free_in(rng: random.Random, agent: Supply, handle: Handle, talk: tuple[float, float, float]) -> float:
    """Seconds until a busy agent is free for the line (their share of time stretches it)."""
    wrap = handle.wrap if agent.wrap is None else agent.wrap
    rings = max(0.0, talk[2] - handle.wrap)  # the fixed part before the talk
    if agent.phase == "wrap_up":
        left = max(0.0, wrap - agent.elapsed)
    elif agent.phase == "talking":
        left = _talk_left(rng, talk, agent.elapsed) + wrap
    elif agent.phase == "ringing":
        left = max(0.0, rings - agent.elapsed) + _talk_left(rng, talk, 0.0) + wrap
    else:  # unknown: somewhere in an entry
        left = _cycle(rng, talk) * rng.random()
    return left / agent.share


class Paths:
    """The PATHS sample paths of when the agents on a skill take their next entries from `now` until
    `limit`, whoever stands in line: the departures do not depend on the line, so the callers of one line
    at one moment (the slip pass) share them, each reading its turn from its place (_turns()). They are
    drawn in rounds (ROUND more departures on every path, path by path in order) as far as a caller
    needs, so the k-th departure of a path is the same whoever asked first and for how many."""

    def __init__(self, supply: Sequence[Supply], handle: Handle, hours: Hours, now: datetime, limit: datetime):
        self.now, self.limit = now, limit
        end = (limit - now).total_seconds()
        self.agents = []
        for agent in supply:
            if agent.share <= 0:
                continue
            until = min(end, (agent.on_until - now).total_seconds()) if agent.on_until is not None else end
            if agent.on_at(now):
                self.agents.append((agent, None, until))
            elif agent.on_from is not None and now < agent.on_from < limit and hours.open_at(agent.on_from):
                self.agents.append((agent, (agent.on_from - now).total_seconds(), until))
        self.talk = _talk(handle)
        self.handle = handle
        self.rng = random.Random(_SEED)
        self.times: list[list[float]] = []  # each path's departures so far, in order
        self.heaps = []  # each path's agents, by when they are next free
        for _ in range(PATHS):
            heap = []
            for i, (agent, starts, _until) in enumerate(self.agents):
                first = (0.0 if agent.free else _free_in(self.rng, agent, handle, self.talk)) if starts is None else starts
                heap.append((first, i))
            heapq.heapify(heap)
            self.times.append([])
            self.heaps.append(heap)
        self.drawn = 0  # departures drawn on every path so far (in rounds of ROUND, whoever asks)

    def departure(self, path: int, k: int) -> float:
        """Seconds from now to the k-th (0-based) departure on `path` (inf: none before the limit)."""
        while self.drawn <= k:
            self.drawn += ROUND
            for times, heap in zip(self.times, self.heaps):  # every path, in order: the draws never
                while len(times) < self.drawn and heap:      # depend on who asked for how many
                    t, i = heapq.heappop(heap)
                    agent, _starts, until = self.agents[i]
                    if t >= until:
                        continue
                    times.append(t)
                    heapq.heappush(heap, (t + _cycle(self.rng, self.talk) / agent.share, i))
        times = self.times[path]
        return times[k] if k < len(times) else math.inf


ROUND = 1  # departures per path and round: the fewest drawn beyond a caller's turn


def _turns(line: Line, paths: Paths) -> list[float]:
    """Seconds from now until an agent takes this caller, on each sample path (inf: not before the paths'
    limit): the departure that finds nobody left ahead. The holders ahead who hang up first are drawn
    from the caller's own stream (fixed seed), not the departures'."""
    due = sorted((at - paths.now).total_seconds() for at in line.due)
    turns = []
    rng = random.Random(_SEED + 1) if line.abandon_rate > 0 and line.holders else None
    for p in range(PATHS):
        holders = set(rng.sample(range(line.ahead), min(line.holders, line.ahead))) if rng is not None else ()
        gone = {i: rng.expovariate(line.abandon_rate) for i in holders}
        place, next_due, waiting_due, turn, k = 0, 0, 0, math.inf, 0
        behind = line.behind
        while True:
            t = paths.departure(p, k)
            if not math.isfinite(t):
                break
            k += 1
            while next_due < len(due) and due[next_due] <= t:
                waiting_due, next_due = waiting_due + 1, next_due + 1
            while place < line.ahead and gone.get(place, math.inf) < t:
                place += 1  # hung up before their turn
            if place < line.ahead:
                place += 1
            elif waiting_due:
                waiting_due -= 1
            elif t < line.not_before and behind:
                behind -= 1  # before the caller's own time, someone after them in line takes it
            else:
                turn = max(t, line.not_before)
                break
        turns.append(turn)
    return turns


def _median(values: list[float]) -> float:
    """The QUANTILE of the values (nearest rank): the median unless a run says otherwise."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(QUANTILE * len(ordered)))]


def _mixture_median(turns: list[float], handle: Handle) -> float:
    """The median wait of a callback whose customer may miss the first call: each path's turn as it is
    (weight 1 - miss_rate), or later by one of the measured extra waits (miss_rate, shared among them).
    It moves above the paths' median only as far as the chance of a miss asks."""
    finite = [t for t in turns if math.isfinite(t)]
    if len(finite) < len(turns) or not handle.miss_delays:
        return _median(turns)
    p, delays = min(handle.miss_rate, 1.0), handle.miss_delays
    points = [(t, (1 - p) / len(finite)) for t in finite]
    points += [(t + d, p / (len(finite) * len(delays))) for t in finite for d in delays]
    points.sort()
    total = 0.0
    for value, weight in points:
        total += weight
        if total >= QUANTILE:
            return value
    return points[-1][0]


SCALE_BOUNDS = (0.5, 3.0)
MIN_CALIBRATION = 5


def calibrated(pairs: Sequence[tuple[float, float]]) -> float:
    """The scale from (model's wait, wait had) pairs: sum(had) / sum(model), within SCALE_BOUNDS; 1.0 with
    fewer than MIN_CALIBRATION pairs or no model wait above 0."""
    model = sum(m for m, _ in pairs)
    if len(pairs) < MIN_CALIBRATION or model <= 0:
        return 1.0
    low, high = SCALE_BOUNDS
    return min(high, max(low, sum(max(0.0, had) for _, had in pairs) / model))


def predict(line: Line, supply: Sequence[Supply], handle: Handle, hours: Hours, now: datetime,
            callback: bool = False, scale: float = 1.0, paths: dict | None = None) -> Estimate:
    """The pure predictor (see the module's docstring). `callback`: add the customer's ring; `scale`: the
    calibration (calibrated()) applied to the wait for an agent; `paths`: a dict kept by a caller that
    predicts for many places of one line from the same supply, handle, hours and now (the slip pass):
    the sample paths are drawn once into it and each place reads its turn from them."""
    staffed_now = sum(s.share for s in supply if s.on_at(now)) if hours.open_at(now) else 0.0
    free = sum(1 for s in supply if s.free and s.on_at(now)) if hours.open_at(now) else 0
    base = dict(ahead=line.ahead, staffed=round(staffed_now, 3), free=free, handle_seconds=round(handle.mean, 1))
    first = _first_staffed(hours, supply, now)
    if not hours.open_at(now) or staffed_now <= 0:
        status = "closed" if not hours.open_at(now) else "unstaffed"
        # When will a callback booked now be reached: after everything ahead, from the next staffed time.
        if first is None:
            return Estimate(status, resume_at=next((s for s, _ in hours.spans if s > now), None), **base)
        at, capacity = _time_for(line.ahead + len(line.due) + 1, hours, supply, handle.mean, first)
        spread = _spread(line.ahead + len(line.due) + 1, handle, capacity, at, first)
        return Estimate(status, spread_seconds=spread, expected_at=at, resume_at=first, **base)
    ring = handle.customer_ring if callback else handle.answer
    if line.ahead < free and not line.not_before:
        return Estimate("now", seconds=int(round(ring)), expected_at=now + timedelta(seconds=ring),
                        spread_seconds=int(round(ring / 2)), **base)
    own = now + timedelta(seconds=line.not_before)  # a retry's own time (now for everyone else)
    # Departures needed before this caller's turn; due callbacks falling before it are added until stable.
    due = sorted(line.due)
    # Before a retry's own time, those in line after it take the agents free by then that those ahead of it
    # (and the callbacks falling due before it) have not taken.
    by_own = free + int(line.not_before * staffed_now / max(handle.mean, 1.0)) if line.not_before else 0

    def taken(extra: int) -> int:
        return min(line.behind, max(0, by_own - line.ahead - extra)) if line.not_before else 0

    extra = 0
    at, capacity = None, 0.0
    for _ in range(len(due) + 1):
        departures = max(0, line.ahead + extra + taken(extra) - free + 1)
        at, capacity = _time_for(departures, hours, supply, handle.mean, now)
        if at is not None and at < own:
            at = own
        later = sum(1 for d in due if at is None or d < at)
        if later == extra:
            break
        extra = later
    departures = max(0, line.ahead + extra + taken(extra) - free + 1)
    # The spread counts the departures from the caller's own time on: those before it are spent anyway.
    uncertain = max(1, line.ahead + extra - free + 1) if line.not_before else departures
    today_close = hours.spans[0][1]
    scaled = None if at is None else now + (at - now) * scale
    if at is None or at > today_close or scaled > today_close:
        resume = next((s for s, _ in hours.spans if s >= today_close), None) or first
        # The spread grows with staffed time only: the night adds no uncertainty.
        # Only the model's own time past closing says when it would come then (a scaled one does not).
        after = at if at is None or at > today_close else None
        return Estimate("after_closing", expected_at=after, resume_at=resume,
                        spread_seconds=_spread(uncertain, handle, capacity, at, resume or now), **base)
    model = (at - now).total_seconds()
    if departures <= MAX_PATH_DEPARTURES and handle.talk_mu is not None:
        # The median of the sample paths, not the mean: what minimises the error a caller hears.
        drawn = paths.get("paths") if paths is not None else None
        if drawn is None:
            drawn = Paths(supply, handle, hours, now, today_close)
            if paths is not None:
                paths["paths"] = drawn
        turns = _turns(line, drawn)
        turn = _mixture_median(turns, handle) if callback and handle.miss_rate > 0 else _median(turns)
        if math.isfinite(turn):
            model = turn
            scaled = now + timedelta(seconds=turn * scale)
    seconds = (scaled - now).total_seconds() + ring
    return Estimate("wait", seconds=int(round(seconds)), expected_at=scaled + timedelta(seconds=ring),
                    spread_seconds=_spread(uncertain, handle, capacity, scaled, now),
                    model_seconds=int(round(model + ring)), **base)


def _spread(departures: float, handle: Handle, capacity: float, at: datetime | None, since: datetime) -> int:
    """Standard deviation of the wait: `departures` services at `capacity` agents (each with the handle
    time's own spread, never below the exponential's), plus 10% of the wait for staffing and load drift."""
    if at is None or capacity <= 0:
        return 0
    cv = max(1.0, handle.sd / handle.mean) if handle.mean > 0 else 1.0
    service = handle.mean * cv * math.sqrt(max(departures, 0.0)) / capacity
    return int(round(service + 0.1 * (at - since).total_seconds()))

