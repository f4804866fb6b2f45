"""Calls-per-second pacing shared by every process on one database, for every leg we place.

Twilio accepts `per_second` new calls per second per account; beyond that calls wait in its queue. The
next free moment of an account is one row of dispatcher_leases (name "pace:<account sid>", expires_at =
the moment the next call may be created), so every dispatcher process on the database spends the same
budget. The row is moved with a compare-and-set (UPDATE ... WHERE expires_at = what we read), which
works alike on SQLite and PostgreSQL; whoever loses the race reads again.

- take(now): the serve loop's first legs. 0 = a slot was taken now; otherwise the seconds to wait
  (nothing taken: the loop stops releasing and wakes up then).
- reserve(now): second legs (the customer once the agent accepted, the agent once the customer is on
  the line) are placed from a webhook and cannot be put off: they book the next free slot, so the
  first legs after them wait, and are handed to Twilio at once (Twilio queues a call over the account's
  rate for at most that slot; sleeping in the webhook instead would hold Twilio's request).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.models import DispatcherLease

log = logging.getLogger("ivr.dispatcher")

PREFIX = "pace:"


class SharedPacer:
    def __init__(self, sessions: sessionmaker[Session], per_second: float, account: Callable[[], str | None]):
        self.sessions = sessions
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._account = account
        self._name: str | None = None

    @property
    def name(self) -> str:
        # Read on first use: asking the Twilio client for its account at start-up would start the dev
        # phone's emulator before anything needs it.
        if self._name is None:
            self._name = (PREFIX + (self._account() or "default"))[:40]
        return self._name

    def _next(self, s: Session) -> datetime | None:
        return s.scalar(select(DispatcherLease.expires_at).where(DispatcherLease.name == self.name))

    def wait_seconds(self, now: datetime) -> float:
        if self.interval == 0:
            return 0.0
        with transaction(self.sessions) as s:
            nxt = self._next(s)
        return 0.0 if nxt is None or now >= nxt else (nxt - now).total_seconds()

    def _move(self, now: datetime, wait: bool) -> float:
        """Compare-and-set the account's next free moment; returns how long the caller must wait."""
        step = timedelta(seconds=self.interval)
        for _ in range(50):
            try:
                with transaction(self.sessions) as s:
                    nxt = self._next(s)
                    if nxt is None:
                        s.add(DispatcherLease(name=self.name, holder="pacing", expires_at=now + step, acquired_at=now))
                        s.flush()
                        return 0.0
                    if nxt > now and not wait:
                        return (nxt - now).total_seconds()
                    slot = max(nxt, now)
                    moved = s.execute(update(DispatcherLease)
                                      .where(DispatcherLease.name == self.name, DispatcherLease.expires_at == nxt)
                                      .values(expires_at=slot + step, acquired_at=now)).rowcount
                    if moved:
                        return (slot - now).total_seconds()
            except (IntegrityError, OperationalError):
                pass  # another process wrote the row at this very moment: read again
        log.warning("pacing row %s stayed contended; placing the call unpaced", self.name)
        return 0.0

    def take(self, now: datetime) -> float:
        if self.interval == 0:
            return 0.0
        return self._move(now, wait=False)

    def reserve(self, now: datetime) -> float:
        """Book the next free slot for a second leg; returns how far ahead that slot is."""
        if self.interval == 0:
            return 0.0
        return self._move(now, wait=True)
