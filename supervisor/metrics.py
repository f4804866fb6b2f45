"""The supervisor's figures, computed only from the audit trail (QueueEvent rows), so they agree with it.

No Flask here. Every figure is for one skill and a period [start, end); an entry's skill at a moment
is replayed from its "moved" events, so a callback moved from billing to sales counts for sales from
the moment it moved. The exact definitions are in docs/supervisor.md (keep the two in step).
"""
from __future__ import annotations

import bisect
import csv
import io
import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import QueueEntry, QueueEvent

SERVICE_LEVEL_SECONDS = 60
# States that stand in line on the queue-length chart (a scheduled callback is waiting for its
# time, not in line; a callback being dialled has left the line).
IN_LINE_STATES = ("holding", "queued")
WAIT_BUCKETS = (30, 60, 120, 300, 600, 1200, 1800, 3600)  # upper bounds in seconds; the last bucket is open


@dataclass
class EntryTimeline:
    entry: QueueEntry
    events: list[QueueEvent]

    def skill_at(self, at: datetime) -> str:
        skill = None
        for event in self.events:
            if event.event == "moved":
                if skill is None:
                    skill = event.detail.get("skill_from")
                if event.at <= at:
                    skill = event.detail.get("skill_to")
        return skill or self.entry.skill

    def first(self, name: str) -> QueueEvent | None:
        return next((e for e in self.events if e.event == name), None)

    def first_state(self, state: str) -> QueueEvent | None:
        return next((e for e in self.events if e.state == state and e.previous_state != state), None)

    @property
    def start(self) -> datetime:
        return self.events[0].at

    @property
    def connected(self) -> QueueEvent | None:
        return self.first_state("connected")

    @property
    def requested(self) -> QueueEvent | None:
        return self.first("requested")

    def window_told(self, before: datetime) -> QueueEvent | None:
        """The last window the customer was told before `before` ("window_told"; a supervisor's reschedule
        the customer never heard does not move it)."""
        found = None
        for event in self.events:
            if event.at > before:
                break
            if event.event == "window_told":
                found = event
        return found

    def agreed_time(self, before: datetime) -> datetime | None:
        """The callback time agreed with the customer, if it was a scheduled callback: the start of the
        slot window told; for entries told no window, the slot, moved by reschedules as before."""
        told = self.window_told(before)
        if told is not None:
            return datetime.fromisoformat(told.detail["start"]) if told.detail.get("kind") == "slot" else None
        agreed = None
        requested = self.requested
        if requested is not None and requested.state == "scheduled":
            agreed = self.entry.scheduled_for
        for event in self.events:
            if event.at > before:
                break
            if event.event == "rescheduled" and event.detail.get("scheduled_for"):
                agreed = datetime.fromisoformat(event.detail["scheduled_for"])
            elif event.event == "call_now":
                agreed = None if agreed is None else min(agreed, event.at)
        return agreed

    def callback_wait(self) -> float | None:
        """Request (or arrival in line, for a holder who switched) to connection; scheduled: agreed time to connection."""
        connected = self.connected
        if connected is None or self.requested is None:
            return None
        agreed = self.agreed_time(connected.at)
        start = agreed if agreed is not None else self.start
        return max(0.0, (connected.at - start).total_seconds())

    def last_announcement(self, before: datetime) -> QueueEvent | None:
        found = None
        for event in self.events:
            if event.at > before:
                break
            if event.event == "wait_announced" and event.detail.get("seconds") is not None:
                found = event
        return found


def _ratio_of(part: str, *whole: str) -> property:
    """A share as a read-only figure: the field `part` over the sum of the fields `whole`."""
    return property(lambda self: _ratio(getattr(self, part), sum(getattr(self, name) for name in whole)))


def _figure_of(figure, values: str) -> property:
    """A read-only figure of the list field `values`: None while the list is empty."""
    return property(lambda self: figure(getattr(self, values)) if getattr(self, values) else None)


@dataclass
class SkillFigures:
    skill: str
    start: datetime
    end: datetime
    offered: int = 0
    accepted: int = 0
    callbacks_connected: int = 0
    callbacks_failed: int = 0
    callback_waits: list[float] = field(default_factory=list)
    holders_ended: int = 0
    abandoned: int = 0
    sl_eligible: int = 0
    sl_met: int = 0
    announce_errors: list[float] = field(default_factory=list)
    # Every wait told (hold updates too): connected -> actual - told; ended without a person after the
    # told wait ran out -> at least that much over (counted); ended before it -> unknown (censored).
    announcements: int = 0
    announcements_censored: int = 0
    all_announce_errors: list[float] = field(default_factory=list)
    # Windows: ASAP windows resolved (connected, or failed) and kept; when connections came against their
    # windows; slots first attempted on time.
    asap_windows: int = 0
    asap_kept: int = 0
    timing: dict[str, int] = field(default_factory=lambda: {"early": 0, "on_time": 0, "late": 0})
    slots: int = 0
    slots_on_time: int = 0
    # First contact to a connected person, callback leg included (chosen later slots left out).
    reach_seconds: list[float] = field(default_factory=list)
    waits_to_connect: list[float] = field(default_factory=list)
    service_level_seconds: int = SERVICE_LEVEL_SECONDS

    # The figures read from the counts and lists above (each None when there is nothing to read it from).
    acceptance_rate = _ratio_of("accepted", "offered")
    success_rate = _ratio_of("callbacks_connected", "callbacks_connected", "callbacks_failed")
    callback_wait_median = _figure_of(statistics.median, "callback_waits")
    callback_wait_p90 = _figure_of(lambda values: percentile(values, 90), "callback_waits")
    abandon_rate = _ratio_of("abandoned", "holders_ended")
    service_level = _ratio_of("sl_met", "sl_eligible")
    announce_error_mean = _figure_of(statistics.fmean, "announce_errors")
    announce_error_abs_mean = _figure_of(lambda values: statistics.fmean(map(abs, values)), "announce_errors")
    all_announce_error_abs_mean = _figure_of(lambda values: statistics.fmean(map(abs, values)),
                                             "all_announce_errors")
    asap_kept_rate = _ratio_of("asap_kept", "asap_windows")
    scheduled_on_time_rate = _ratio_of("slots_on_time", "slots")
    reach_median = _figure_of(statistics.median, "reach_seconds")
    reach_p90 = _figure_of(lambda values: percentile(values, 90), "reach_seconds")

    @property
    def histogram(self) -> list[tuple[str, int]]:
        return histogram(self.waits_to_connect)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def histogram(values: list[float]) -> list[tuple[str, int]]:
    counts = [0] * (len(WAIT_BUCKETS) + 1)
    for value in values:
        counts[bisect.bisect_left(WAIT_BUCKETS, value)] += 1
    labels, low = [], 0
    for high in WAIT_BUCKETS:
        labels.append(f"{_short(low)}–{_short(high)}")
        low = high
    labels.append(f"{_short(low)}+")
    return list(zip(labels, counts))


def _short(seconds: int) -> str:
    return f"{seconds}s" if seconds < 60 else (f"{seconds // 60}m" if seconds < 3600 else f"{seconds // 3600}h")


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def timelines(session: Session, start: datetime, end: datetime) -> list[EntryTimeline]:
    """Every entry that was open at some moment of [start, end), with its whole trail up to `end`."""
    entries = session.scalars(select(QueueEntry).where(
        QueueEntry.created_at < end,
        or_(QueueEntry.closed_at.is_(None), QueueEntry.closed_at >= start,
            # closed before start but touched during the period (e.g. a failed callback retried)
            QueueEntry.updated_at >= start),
    )).all()
    if not entries:
        return []
    by_id = {e.id: EntryTimeline(e, []) for e in entries}
    ids = list(by_id)
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        for event in session.scalars(select(QueueEvent).where(QueueEvent.entry_id.in_(part), QueueEvent.at < end)
                                     .order_by(QueueEvent.entry_id, QueueEvent.id)):
            by_id[event.entry_id].events.append(event)
    return [t for t in by_id.values() if t.events]


def figures(session: Session, skills: list[str], start: datetime, end: datetime,
            service_level_seconds: int = SERVICE_LEVEL_SECONDS,
            lines: list[EntryTimeline] | None = None) -> dict[str, SkillFigures]:
    lines = timelines(session, start, end) if lines is None else lines
    out = {s: SkillFigures(s, start, end, service_level_seconds=service_level_seconds) for s in skills}

    def fig(timeline: EntryTimeline, at: datetime) -> SkillFigures:
        skill = timeline.skill_at(at)
        if skill not in out:
            out[skill] = SkillFigures(skill, start, end, service_level_seconds=service_level_seconds)
        return out[skill]

    def inside(at: datetime | None) -> bool:
        return at is not None and start <= at < end

    for t in lines:
        requested = t.requested
        announced = t.first("wait_announced")
        offers = [e for e in (requested, announced) if e is not None]
        if offers:
            offer = min(offers, key=lambda e: e.id)
            if inside(offer.at):
                fig(t, offer.at).offered += 1
        if requested is not None and inside(requested.at):
            fig(t, requested.at).accepted += 1

        connected = t.connected
        if requested is not None:
            if connected is not None and connected.at >= requested.at:
                if inside(connected.at):
                    f = fig(t, connected.at)
                    f.callbacks_connected += 1
                    wait = t.callback_wait()
                    f.callback_waits.append(wait)
                    f.waits_to_connect.append(wait)
            elif t.entry.state == "failed":
                failed = next((e for e in reversed(t.events) if e.state == "failed"), None)
                if failed is not None and inside(failed.at):
                    fig(t, failed.at).callbacks_failed += 1

        left_hold = next((e for e in t.events if e.previous_state == "holding" and e.state != "holding"), None)
        if left_hold is not None and inside(left_hold.at):
            f = fig(t, left_hold.at)
            f.holders_ended += 1
            held = (left_hold.at - t.start).total_seconds()
            if left_hold.state == "abandoned":
                f.abandoned += 1
            if left_hold.state == "connected":
                f.sl_eligible += 1
                f.sl_met += held <= service_level_seconds
                f.waits_to_connect.append(held)
            elif held > service_level_seconds:
                f.sl_eligible += 1  # left (hung up, switched to a callback) after the target: a miss

        if connected is not None and inside(connected.at):
            said = t.last_announcement(connected.at)
            if said is not None:
                actual = (connected.at - said.at).total_seconds()
                fig(t, connected.at).announce_errors.append(actual - float(said.detail["seconds"]))
        _promise_figures(t, connected, fig, inside)
    return out


ATTEMPTS = ("agent_offered", "dialing_agent", "dialing_customer")
UNRESOLVED = ("cancelled",)  # the customer withdrew: the window was neither kept nor broken


def _promise_figures(t: EntryTimeline, connected: QueueEvent | None, fig, inside) -> None:
    """Every announcement's error, the windows kept, slots on time, and the time to reach a person."""
    ended = connected or next((e for e in t.events if e.state in ("abandoned", "cancelled", "failed")), None)
    for said in (e for e in t.events if e.event == "wait_announced" and e.detail.get("seconds") is not None):
        if not inside(said.at) or (connected is not None and said.at > connected.at):
            continue
        f = fig(t, said.at)
        f.announcements += 1
        told = float(said.detail["seconds"])
        if ended is not None and (ended is connected or (ended.at - said.at).total_seconds() > told):
            f.all_announce_errors.append((ended.at - said.at).total_seconds() - told)
        else:
            f.announcements_censored += 1
    window = t.window_told(connected.at if connected is not None else t.events[-1].at)
    if window is not None and ended is not None and inside(ended.at) and ended.state not in UNRESOLVED:
        f = fig(t, ended.at)
        start, end = datetime.fromisoformat(window.detail["start"]), datetime.fromisoformat(window.detail["end"])
        if connected is not None:
            f.timing["early" if connected.at < start else ("on_time" if connected.at <= end else "late")] += 1
        if window.detail.get("kind") == "slot":
            attempt = next((e for e in t.events if e.event in ATTEMPTS and e.at >= window.at), None)
            f.slots += 1
            f.slots_on_time += attempt is not None and abs((attempt.at - start).total_seconds()) <= 60
        else:
            f.asap_windows += 1
            f.asap_kept += connected is not None and start <= connected.at <= end
    if connected is not None and inside(connected.at) and (window is None or window.detail.get("kind") != "slot"):
        fig(t, connected.at).reach_seconds.append((connected.at - t.start).total_seconds())


def queue_length_series(lines: list[EntryTimeline], skill: str, start: datetime, end: datetime,
                        points: int = 120) -> list[tuple[datetime, int]]:
    """How many stood in `skill`'s line (holding or queued) at evenly spaced moments of [start, end]."""
    step = max((end - start) / max(points - 1, 1), timedelta(seconds=1))
    moments = []
    at = start
    while at <= end:
        moments.append(at)
        at += step
    counts = [0] * len(moments)
    for t in lines:
        times = [e.at for e in t.events]
        for i, moment in enumerate(moments):
            k = bisect.bisect_right(times, moment)
            if k and t.events[k - 1].state in IN_LINE_STATES and t.skill_at(moment) == skill:
                counts[i] += 1
    return list(zip(moments, counts))


CSV_COLUMNS = (
    "skill", "period_start_utc", "period_end_utc", "offered", "accepted", "acceptance_rate",
    "callbacks_connected", "callbacks_failed", "callback_success_rate", "callback_wait_median_s",
    "callback_wait_p90_s", "holders_ended", "abandoned_while_holding", "abandon_rate",
    "service_level", "service_level_target_s", "announced_waits_measured", "announce_error_mean_s",
    "announce_error_abs_mean_s", "announcements_told", "announcements_censored", "all_announce_error_abs_mean_s",
    "asap_windows", "asap_kept", "slots", "scheduled_on_time", "connected_early", "connected_on_time",
    "connected_late", "reach_person_median_s", "reach_person_p90_s",
)


def to_csv(rows: list[SkillFigures]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)

    def num(value, digits=3):
        return "" if value is None else (round(value, digits) if isinstance(value, float) else value)

    for f in rows:
        writer.writerow([
            f.skill, f.start.isoformat(), f.end.isoformat(), f.offered, f.accepted, num(f.acceptance_rate),
            f.callbacks_connected, f.callbacks_failed, num(f.success_rate), num(f.callback_wait_median, 1),
            num(f.callback_wait_p90, 1), f.holders_ended, f.abandoned, num(f.abandon_rate), num(f.service_level),
            f.service_level_seconds, len(f.announce_errors), num(f.announce_error_mean, 1),
            num(f.announce_error_abs_mean, 1), f.announcements, f.announcements_censored,
            num(f.all_announce_error_abs_mean, 1), f.asap_windows, num(f.asap_kept_rate), f.slots,
            num(f.scheduled_on_time_rate), f.timing["early"], f.timing["on_time"], f.timing["late"],
            num(f.reach_median, 1), num(f.reach_p90, 1),
        ])
    return out.getvalue()
