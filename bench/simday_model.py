"""The simulated day's inputs and yardsticks: scenario files, the pre-drawn contacts (common random
numbers), and the predictors raced against ours. No app code here: bench/simday.py drives the app.
"""
from __future__ import annotations

import math
import random
import tomllib
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from clock import local_to_utc

DEFAULTS = {
    "channels": {"phone": 1.0},
    "wrap_seconds": 0,
    "patience_seconds": 180,
    "accept_callback": 0.5,
    "scheduled_share": 0.0,
    "answer": {"human": 1.0},
    "agent_answer_seconds": 4,       # an agent picks up this long after their phone starts ringing
    "customer_ring_seconds": 8,      # a customer picks up after this long; "none" rings out after 25 s
    "amd_seconds": 3,                # answering-machine detection's verdict after the answer
    "agent_back_seconds": 300,       # an agent the product took offline in their shift is back this long after
    "calls_per_second": 1.0,         # DISPATCH_CALLS_PER_SECOND
    "sweep_seconds": 5,              # DISPATCH_SWEEP_SECONDS: the dispatcher's safety-net pass
    "retry_delay_seconds": 600,
    "retry_in_window_seconds": "",   # CALLBACK_RETRY_IN_WINDOW_SECONDS ("" = the product's default, "off")
    "max_attempts": 3,
    # A customer who missed a callback attempt (no answer, or their voicemail took it) stays unreachable
    # for a while: an attempt before then meets the same again. A number: an exponential time with this
    # mean (0: every attempt draws afresh from `answer`, however soon after a miss: the model before retries
    # in the window); a list of observed seconds: one of them, drawn at random; a table
    # { seconds = [...], share = [...] }: each time with its share (away_draw()).
    "away_seconds": 300,
    "drain_minutes": 60,             # the day runs this long after the last close, for calls in flight
}
SKILL_DEFAULTS = {"wrap_seconds": None, "patience_seconds": None, "offer_threshold_seconds": None}


@dataclass
class Shift:
    count: int
    start: datetime  # UTC
    end: datetime


@dataclass
class SkillPlan:
    name: str
    open: datetime  # UTC
    close: datetime
    open_local: time
    close_local: time
    arrivals_per_hour: list[float]
    handle_mean: float
    handle_sd: float
    handle_dist: str
    wrap_seconds: int
    shifts: list[Shift]
    patience_seconds: float
    offer_threshold_seconds: int | None

    def arrival_rate(self, when: datetime) -> float:
        """Arrivals per second at `when` (the hour's number from the scenario)."""
        if not (self.open <= when < self.close):
            return 0.0
        hour = int((when - self.open).total_seconds() // 3600)
        return self.arrivals_per_hour[min(hour, len(self.arrivals_per_hour) - 1)] / 3600

    def staffed(self, when: datetime) -> int:
        return sum(s.count for s in self.shifts if s.start <= when < s.end)


@dataclass
class Scenario:
    name: str
    day: date
    zone: ZoneInfo
    seed: int
    channels: dict[str, float]
    skills: list[SkillPlan]
    accept_callback: float
    scheduled_share: float
    answer: dict[str, float]
    raw: dict
    away: Callable[[random.Random], float] | None = None  # a time away after a miss (away_draw()); None: none

    def __getattr__(self, key):  # the timing keys (DEFAULTS) read straight from the file
        try:
            return self.__dict__["raw"][key]
        except KeyError:
            raise AttributeError(key) from None

    @property
    def start(self) -> datetime:
        return min(min(s.open, *(sh.start for sh in s.shifts)) if s.shifts else s.open for s in self.skills)

    @property
    def end(self) -> datetime:
        last = max(max(s.close, *(sh.end for sh in s.shifts)) if s.shifts else s.close for s in self.skills)
        return last + timedelta(minutes=self.raw["drain_minutes"])


def _hhmm(text: str) -> time:
    return time.fromisoformat(text)


class ScenarioError(ValueError):
    """A scenario file's key that cannot be used, said with the file and the key."""


def _seconds(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ScenarioError(f"{what} must be a number of seconds, 0 or more (got {value!r})")
    return float(value)


def away_draw(value) -> Callable[[random.Random], float] | None:
    """How long a customer who missed an attempt stays away, from the scenario's `away_seconds`:
        300                                       an exponential time with this mean (0: never away)
        [40, 95, 130, 600, ...]                   observed seconds: one of them at random (empirical)
        { seconds = [60, 180, 900], share = [0.5, 0.3, 0.2] }   each time with its share
    Returns a draw from a random stream, or None (never away). ScenarioError says what is wrong."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        mean = _seconds(value, "away_seconds")
        return (lambda rng: rng.expovariate(1 / mean)) if mean > 0 else None
    if isinstance(value, list):
        if not value:
            raise ScenarioError("away_seconds: the list of observed seconds is empty")
        seen = [_seconds(v, f"away_seconds[{i}]") for i, v in enumerate(value)]
        return lambda rng: rng.choice(seen)
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"seconds", "share"})
        if unknown or "seconds" not in value or "share" not in value:
            raise ScenarioError("away_seconds: a table needs exactly the keys seconds and share "
                                f"(got {', '.join(sorted(value)) or 'none'})")
        times, shares = value["seconds"], value["share"]
        if not isinstance(times, list) or not isinstance(shares, list) or not times or len(times) != len(shares):
            raise ScenarioError("away_seconds: seconds and share must be lists of the same, non-zero length")
        times = [_seconds(v, f"away_seconds.seconds[{i}]") for i, v in enumerate(times)]
        weights = [_seconds(v, f"away_seconds.share[{i}]") for i, v in enumerate(shares)]
        if sum(weights) <= 0:
            raise ScenarioError("away_seconds: the shares add up to 0")
        return lambda rng: rng.choices(times, weights=weights)[0]
    raise ScenarioError(f"away_seconds must be a number, a list of seconds or a table (got {value!r})")


def load_scenario(path: str | Path) -> Scenario:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    raw = {**DEFAULTS, **data}
    zone = ZoneInfo(raw["zone"])
    day = date.fromisoformat(str(raw["date"]))
    skills = []
    for s in raw["skills"]:
        s = {**SKILL_DEFAULTS, **s}
        handle = s.get("handle_seconds", {"mean": 240, "sd": 120})
        shifts = [Shift(int(a["count"]), local_to_utc(day, _hhmm(a["from"]), zone), local_to_utc(day, _hhmm(a["to"]), zone))
                  for a in s.get("agents", [])]
        skills.append(SkillPlan(
            name=s["name"], open=local_to_utc(day, _hhmm(s["open"]), zone), close=local_to_utc(day, _hhmm(s["close"]), zone),
            open_local=_hhmm(s["open"]), close_local=_hhmm(s["close"]),
            arrivals_per_hour=[float(x) for x in s["arrivals_per_hour"]],
            handle_mean=float(handle["mean"]), handle_sd=float(handle.get("sd", handle["mean"])),
            handle_dist=handle.get("dist", "lognormal"),
            wrap_seconds=int(s["wrap_seconds"] if s["wrap_seconds"] is not None else raw["wrap_seconds"]),
            shifts=shifts,
            patience_seconds=float(s["patience_seconds"] if s["patience_seconds"] is not None
                                   else raw["patience_seconds"]),
            offer_threshold_seconds=s["offer_threshold_seconds"]))
    try:
        away = away_draw(raw["away_seconds"])
    except ScenarioError as e:
        raise ScenarioError(f"{path}: {e}") from None
    return Scenario(name=raw["name"], day=day, zone=zone, seed=int(raw["seed"]), channels=dict(raw["channels"]),
                    skills=skills, accept_callback=float(raw["accept_callback"]),
                    scheduled_share=float(raw["scheduled_share"]), answer=dict(raw["answer"]), raw=raw, away=away)


# ---- contacts, drawn once per scenario and seed (common random numbers) ------------------------------

@dataclass
class Contact:
    n: int
    skill: str
    arrival: datetime
    channel: str
    handle: float
    patience: float
    accepts: bool          # takes the callback when offered one (phone)
    later: bool            # wants a later slot rather than "as soon as possible"
    later_minutes: int     # how far ahead that slot is wanted
    answers: list[str]     # what each callback attempt meets: human | machine | none
    more: list[str] = field(default_factory=list)     # what attempts after those meet, in turn
    away: list[float] = field(default_factory=list)   # seconds unreachable after each miss, in turn
    number: str = ""
    # filled in while the day runs
    sid: str | None = None
    public_id: str | None = None
    connected_at: datetime | None = None
    attempts: int = 0
    fate: str = "open"
    back_at: datetime | None = None  # unreachable until then after a miss (away_seconds)
    missed: str = "none"             # what that miss met
    misses: int = 0

    def meets(self, now: datetime) -> str:
        """What callback attempt number `attempts` (counted already), placed now, meets: while the customer
        is still away after a miss, the same as that miss; else its own draw."""
        if self.back_at is not None and now < self.back_at:
            return self.missed
        k = self.attempts - 1
        if k < len(self.answers) or not self.more:
            answer = self.answers[min(k, len(self.answers) - 1)]
        else:
            answer = self.more[(k - len(self.answers)) % len(self.more)]
        if answer != "human" and self.away:
            self.back_at = now + timedelta(seconds=self.away[self.misses % len(self.away)])
            self.missed, self.misses = answer, self.misses + 1
        return answer


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    names = list(shares)
    return rng.choices(names, weights=[shares[n] for n in names])[0]


def _handle(rng: random.Random, plan: SkillPlan) -> float:
    if plan.handle_dist == "exponential":
        return rng.expovariate(1 / plan.handle_mean)
    # lognormal with the given mean and standard deviation (at least 5 s: a word or two)
    sigma2 = math.log(1 + (plan.handle_sd / plan.handle_mean) ** 2)
    return max(5.0, rng.lognormvariate(math.log(plan.handle_mean) - sigma2 / 2, math.sqrt(sigma2)))


def draw_contacts(sc: Scenario) -> list[Contact]:
    """Non-homogeneous Poisson arrivals per skill (thinning), each with everything random about it drawn
    now, from its own stream: the same day whatever the product decides."""
    contacts = []
    for k, plan in enumerate(sc.skills):
        arrivals = random.Random(f"{sc.seed}:{plan.name}:arrivals")
        traits = random.Random(f"{sc.seed}:{plan.name}:traits")
        reach = random.Random(f"{sc.seed}:{plan.name}:reach")  # its own stream: the other draws stay as they were
        # The exponential time away is drawn from `reach` (as the shipped days' figures were); one given from
        # data from a stream of its own, so that day's other draws are those of the day with away_seconds = 0.
        gone = reach if not isinstance(sc.raw["away_seconds"], (list, dict)) else random.Random(
            f"{sc.seed}:{plan.name}:away")
        peak = max(plan.arrivals_per_hour) / 3600
        t = plan.open
        while peak > 0:
            t += timedelta(seconds=arrivals.expovariate(peak))
            if t >= plan.close:
                break
            if arrivals.random() * peak > plan.arrival_rate(t):
                continue
            contacts.append(Contact(
                n=0, skill=plan.name, arrival=t.replace(microsecond=0), channel=_pick(traits, sc.channels),
                handle=_handle(traits, plan), patience=traits.expovariate(1 / plan.patience_seconds),
                accepts=traits.random() < sc.accept_callback, later=traits.random() < sc.scheduled_share,
                later_minutes=traits.choice((30, 60, 90, 120, 180)),
                answers=[_pick(traits, sc.answer) for _ in range(sc.raw["max_attempts"])],
                more=[_pick(reach, sc.answer) for _ in range(2 * sc.raw["max_attempts"])],
                away=[sc.away(gone) for _ in range(3 * sc.raw["max_attempts"])] if sc.away else []))
    contacts.sort(key=lambda c: (c.arrival, c.skill))
    for i, c in enumerate(contacts):
        c.n = i
        c.number = f"+1212{2000000 + i:07d}"
    return contacts


# ---- the predictors raced against ours ---------------------------------------------------------------

def erlang_c_wait(arrival_rate: float, service_seconds: float, servers: int) -> float | None:
    """Steady-state mean wait (seconds) of M/M/s; None when there is no steady state (load >= servers)."""
    if servers <= 0 or service_seconds <= 0:
        return None
    load = arrival_rate * service_seconds
    if load >= servers:
        return None
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term *= load / k
        total += term
    last = term * load / servers * (servers / (servers - load))
    p_wait = last / (total + last)
    return p_wait / (servers / service_seconds - arrival_rate)


@dataclass
class SkillHistory:
    """What a contact centre's own figures know about one skill's recent waits and handling."""

    ewma: float = 0.0                                      # Asterisk app_queue holdtime
    last_wait: float = 0.0                                 # LES: the last to enter service
    recent: deque = field(default_factory=deque)          # (connected_at, wait) for flex_5min
    handles: deque = field(default_factory=lambda: deque(maxlen=50))  # agent time per contact
    talks: deque = field(default_factory=lambda: deque(maxlen=20))    # connected -> hung up

    def connected(self, when: datetime, wait: float) -> None:
        self.ewma = (3 * self.ewma + wait) / 4
        self.last_wait = wait
        self.recent.append((when, wait))

    def flex(self, now: datetime) -> float:
        while self.recent and self.recent[0][0] < now - timedelta(minutes=5):
            self.recent.popleft()
        return sum(w for _, w in self.recent) / len(self.recent) if self.recent else 0.0

    def aht(self, fallback: float) -> float:
        return sum(self.handles) / len(self.handles) if len(self.handles) >= 3 else fallback


def others(hist: SkillHistory, now: datetime, position: int, staffed: int, free: int, oldest_wait: float,
           arrival_rate: float, fallback_aht: float) -> dict[str, float | None]:
    """Every other predictor for a contact at `position` (1 = next) announced at `now`."""
    aht = hist.aht(fallback_aht)
    ahead = max(0, position - free)
    # The product's estimate before stored windows and the line-based predictor (routing/queue.py then): talk time of the last 20, or 240 s.
    talk = sum(hist.talks) / len(hist.talks) if len(hist.talks) >= 3 else 240.0
    return {
        "step_formula": 0.0 if ahead == 0 else math.ceil(ahead / max(staffed, 1)) * talk,
        "asterisk_ewma": hist.ewma,
        "flex_5min": hist.flex(now),
        "queue_aht": (0.0 if ahead == 0 else ahead * aht / staffed) if staffed else None,
        "erlang_c": erlang_c_wait(arrival_rate, aht, staffed),
        "hol": oldest_wait,
        "les": hist.last_wait,
    }


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile; inf entries (never connected) count, and a percentile landing on one is None."""
    if not values:
        return None
    ordered = sorted(values)
    v = ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]
    return None if math.isinf(v) else round(v, 1)
