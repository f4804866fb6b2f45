"""When Twilio cannot be reached or refuses our credentials, dialling stops and backs off.

Such a failure is the account's, not one callback's: retrying every entry on every sweep would flip
agents between reserved and available and log each try. Instead the state lives in one row of
dispatcher_leases (name "dialling"; holder = why, acquired_at = since when, expires_at = the next try),
so every process on the database and the supervisor page see it.

- failed(why, now): the first failure starts the outage (one log line); later ones only move the next
  try. The wait doubles: the next try is `now + clamp(now - since, BASE, CAP)`, so tries come at
  since, +5 s, +10 s, +20 s, +40 s, ... then every CAP (5 minutes).
- While it lasts the serve loop claims nothing; at the next try it asks Twilio something harmless
  (Dialer.probe) and claims again only once that works (restored: one log line).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.models import DispatcherLease

log = logging.getLogger("ivr.dispatcher")

NAME = "dialling"
BASE = timedelta(seconds=5)
CAP = timedelta(seconds=300)
REASONS = ("credentials", "unreachable")


@dataclass(frozen=True)
class Outage:
    reason: str  # credentials | unreachable
    since: datetime
    next_try: datetime


def read(s: Session) -> Outage | None:
    """The current outage, for the dispatcher and the supervisor page."""
    row = s.get(DispatcherLease, NAME)
    return Outage(row.holder, row.acquired_at, row.expires_at) if row is not None else None


class DialHealth:
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def current(self) -> Outage | None:
        with transaction(self.sessions) as s:
            return read(s)

    def failed(self, reason: str, now: datetime) -> None:
        try:
            with transaction(self.sessions) as s:
                outage = read(s)
                if outage is None:
                    s.add(DispatcherLease(name=NAME, holder=reason, acquired_at=now, expires_at=now + BASE))
                    s.flush()
                    log.warning("dialling is failing (%s); backing off", reason)
                    return
                wait = min(max(now - outage.since, BASE), CAP)
                s.execute(update(DispatcherLease).where(DispatcherLease.name == NAME)
                          .values(holder=reason, expires_at=now + wait))
                if reason != outage.reason:
                    log.warning("dialling is still failing, now %s", reason)
        except (IntegrityError, OperationalError):
            pass  # another process recorded the same outage at this very moment

    def restored(self, now: datetime) -> None:
        with transaction(self.sessions) as s:
            outage = read(s)
            if outage is None:
                return
            s.execute(delete(DispatcherLease).where(DispatcherLease.name == NAME))
        log.warning("dialling works again after %.0f s (%s)", (now - outage.since).total_seconds(), outage.reason)
