"""What /metrics exports (Prometheus text format, prometheus-client), per process. No Flask here:
ops/http.py times the requests and renders the registry.

- ivr_http_request_seconds{route,method}: every request's latency by URL rule (webhooks included).
- ivr_queue_waiting{skill}, ivr_queue_oldest_wait_seconds{skill}: entries still standing in line.
- ivr_callbacks{state}: callbacks by state.
- ivr_dispatch_lag_seconds: how long the most overdue callback has been due (a scheduled callback's
  time or a retry's time passed, not yet dialled); 0 when nothing is overdue.
- ivr_media_streams_active: this process's open media streams (speech).
- ivr_agents_staffed{skill}: agents signed in (any state but offline) with the skill, every configured
  skill (0 included); ivr_skill_open{skill}: 1 while the skill's hours are open. With ivr_queue_waiting
  they make the "waiting entries and no staffed agent" alert (ops/alerts.yml).
- ivr_scheduler_leader: 1 while a scheduler holds an unexpired dispatcher lease, else 0.
- ivr_callbacks_promised, ivr_callbacks_kept, ivr_callbacks_late: callbacks told a window (promised);
  connected inside it (kept); connected after it, or still open with the window over (late).
- The process-wide instruments of instruments.py: recognition latency per engine, Twilio REST
  errors by code, dispatcher pass duration.
Database figures are read at scrape time, from the database every process shares.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import and_, func, or_, select

import instruments
from ops.health import leader_known
from routing import hours
from storage.models import CALLBACK, OPEN_STATES, WAITING_STATES, Agent, QueueEntry

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)


class _DatabaseCollector:
    def __init__(self, runtime, open_streams):
        self.runtime = runtime
        self.open_streams = open_streams

    def collect(self):
        now = self.runtime.clock.now()
        waiting = GaugeMetricFamily("ivr_queue_waiting", "Entries standing in line, per skill", labels=["skill"])
        oldest = GaugeMetricFamily("ivr_queue_oldest_wait_seconds", "Longest wait in line, per skill",
                                   labels=["skill"])
        callbacks = GaugeMetricFamily("ivr_callbacks", "Callbacks by state", labels=["state"])
        with self.runtime.sessions() as s:
            for skill, count, first in s.execute(
                    select(QueueEntry.skill, func.count(), func.min(QueueEntry.arrived_at))
                    .where(QueueEntry.state.in_(WAITING_STATES)).group_by(QueueEntry.skill)):
                waiting.add_metric([skill], count)
                oldest.add_metric([skill], max((now - _aware(first)).total_seconds(), 0.0))
            for state, count in s.execute(select(QueueEntry.state, func.count())
                                          .where(QueueEntry.kind == CALLBACK).group_by(QueueEntry.state)):
                callbacks.add_metric([state], count)
            due = s.execute(select(func.min(func.coalesce(QueueEntry.next_attempt_at, QueueEntry.scheduled_for)))
                            .where(QueueEntry.kind == CALLBACK, or_(
                                and_(QueueEntry.state == "retry_wait", QueueEntry.next_attempt_at <= now),
                                and_(QueueEntry.state == "scheduled", QueueEntry.scheduled_for <= now)))).scalar()
            promises = self._promises(s, now)
            staffing = self._staffing(s, now)
            leader = GaugeMetricFamily("ivr_scheduler_leader", "1 while a scheduler holds the dispatcher lease")
            leader.add_metric([], 1 if leader_known(s, now) else 0)
        lag = GaugeMetricFamily("ivr_dispatch_lag_seconds", "How long the most overdue callback has been due")
        lag.add_metric([], (now - _aware(due)).total_seconds() if due is not None else 0.0)
        streams = GaugeMetricFamily("ivr_media_streams_active", "Open media streams in this process")
        streams.add_metric([], self.open_streams())
        return [waiting, oldest, callbacks, lag, streams, leader, *staffing, *promises]

    def _staffing(self, s, now):
        staffed = GaugeMetricFamily("ivr_agents_staffed", "Agents signed in (not offline), per skill",
                                    labels=["skill"])
        open_ = GaugeMetricFamily("ivr_skill_open", "1 while the skill's hours are open", labels=["skill"])
        skills = self.runtime.ivr_config.skills
        counts = dict.fromkeys(skills, 0)
        for agent_skills in s.scalars(select(Agent.skills).where(Agent.state != "offline")):
            for name in agent_skills or {}:
                if name in counts:
                    counts[name] += 1
        for name, skill in skills.items():
            staffed.add_metric([name], counts[name])
            open_.add_metric([name], 1 if hours.is_open(skill, now) else 0)
        return [staffed, open_]

    @staticmethod
    def _promises(s, now):
        told = QueueEntry.promised_by.is_not(None)
        kept = and_(QueueEntry.connected_at >= QueueEntry.promised_from,
                    QueueEntry.connected_at <= QueueEntry.promised_by)
        late = or_(QueueEntry.connected_at > QueueEntry.promised_by,
                   and_(QueueEntry.connected_at.is_(None), QueueEntry.state.in_(OPEN_STATES),
                        QueueEntry.promised_by < now))
        promised, kept_, late_ = s.execute(
            select(func.count(), func.count().filter(kept), func.count().filter(late))
            .where(QueueEntry.kind == CALLBACK, told)).one()
        out = []
        for name, value, doc in (("promised", promised, "Callbacks told a window"),
                                 ("kept", kept_, "Callbacks connected inside the window told"),
                                 ("late", late_, "Callbacks connected after the window told, or open past it")):
            family = GaugeMetricFamily(f"ivr_callbacks_{name}", doc)
            family.add_metric([], value)
            out.append(family)
        return out


def _aware(value):
    """func.min over a UTCDateTime column comes back as the driver gives it (naive UTC on SQLite)."""
    from datetime import datetime, timezone

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Metrics:
    def __init__(self, runtime, open_streams):
        self.registry = CollectorRegistry()
        self.latency = Histogram("ivr_http_request_seconds", "Request latency by route", ["route", "method"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(_DatabaseCollector(runtime, open_streams))
        for instrument in instruments.ALL:
            self.registry.register(instrument)
