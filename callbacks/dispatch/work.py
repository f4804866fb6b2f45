"""A unit of work on one queue entry: one transaction, and the Twilio requests it decided.

Requests to Twilio (steer a call, end it, send a text, place the next leg) must follow the commit of
the decision that asked for them, and must not happen when that transaction lost a race and is run
again. An action gets a Work, queues such requests with work.after_commit(...), and they run once
its transaction has committed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from clock import Clock
from storage.db import transaction
from storage.models import QueueEntry


@dataclass
class Work:
    session: Session
    now: datetime
    later: list[Callable[[], Any]] = field(default_factory=list)

    def after_commit(self, step: Callable[[], Any]) -> None:
        self.later.append(step)


class Units:
    """Runs `action(work, entry)` on one entry in its own transaction, again on a concurrent change."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, attempts: int = 5):
        self.sessions = sessions
        self.clock = clock
        self.attempts = attempts

    def on_entry(self, entry_id: int, action: Callable[[Work, QueueEntry], Any]):
        for attempt in range(self.attempts):
            try:
                with transaction(self.sessions) as s:
                    entry = s.get(QueueEntry, entry_id)
                    if entry is None:
                        return None
                    work = Work(s, self.clock.now())
                    result = action(work, entry)
                break
            except (StaleDataError, OperationalError):
                if attempt == self.attempts - 1:
                    raise
        for step in work.later:  # only the committed run's requests
            step()
        return result

    def on_public_id(self, public_id: str, action: Callable[[Work, QueueEntry], Any]):
        with transaction(self.sessions) as s:
            entry_id = s.scalar(select(QueueEntry.id).where(QueueEntry.public_id == public_id))
        return None if entry_id is None else self.on_entry(entry_id, action)
