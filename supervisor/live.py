"""The live feed behind the queue page: server-sent events saying "something changed".

Every change to an entry writes a QueueEvent, and every change to an agent bumps its version, so
(max event id, agents' count and version sum) is a cheap marker of "anything changed". Polling it in the
shared database every POLL_SECONDS works across any number of app processes (no in-process bus needed).
The page reacts to an event by fetching the fresh fragment of the board.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterator

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from callbacks.dispatch.outage import NAME as DIALLING
from storage.models import Agent, DispatcherLease, QueueEvent

log = logging.getLogger("ivr.supervisor")

POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0
# A stream ends after this long and the browser's EventSource reconnects by itself: no thread is
# held forever by a laptop that went to sleep.
STREAM_SECONDS = 300.0


def marker(session: Session) -> str:
    last_event = session.scalar(select(func.max(QueueEvent.id))) or 0
    agents, versions, changed = session.execute(
        select(func.count(Agent.id), func.coalesce(func.sum(Agent.version), 0), func.max(Agent.state_changed_at))
    ).one()
    # Dialling failing or working again (callbacks/dispatch/outage.py) changes the page too.
    dialling = session.get(DispatcherLease, DIALLING)
    failing = f"{dialling.holder}{dialling.expires_at.timestamp():.0f}" if dialling is not None else ""
    return f"{last_event}.{agents}.{versions}.{changed.timestamp() if changed else 0:.0f}{failing}"


def current_marker(sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        return marker(session)


def stream(sessions: sessionmaker[Session], since: str | None = None, *, poll: float = POLL_SECONDS,
           lifetime: float | None = None, sleep: Callable[[float], None] = time.sleep,
           monotonic: Callable[[], float] = time.monotonic) -> Iterator[str]:
    """SSE text: a `change` event whenever the marker moves, a comment now and then to keep proxies open."""
    lifetime = STREAM_SECONDS if lifetime is None else lifetime
    yield "retry: 1000\n\n"
    last = since
    started = beat = monotonic()
    while monotonic() - started < lifetime:
        try:
            now_marker = current_marker(sessions)
        except SQLAlchemyError as exc:
            # The database is away (restart, failover): end this stream; the browser reconnects
            # by itself and shows "reconnecting" meanwhile.
            log.warning("live feed stopped: %s", exc.__class__.__name__)
            return
        if now_marker != last:
            if last is not None:
                yield f"event: change\nid: {now_marker}\ndata: {now_marker}\n\n"
            else:
                yield f"event: hello\nid: {now_marker}\ndata: {now_marker}\n\n"
            last = now_marker
            beat = monotonic()
        elif monotonic() - beat >= HEARTBEAT_SECONDS:
            yield ": still here\n\n"
            beat = monotonic()
        sleep(poll)
