"""What /readyz reports: the database is reachable, its migrations are current, a scheduler leader is
known (an unexpired dispatcher lease). No Flask here; ops/http.py renders it."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text

from callbacks.scheduler import LEASE_NAME
from storage.db import schema_is_current
from storage.models import DispatcherLease


@dataclass(frozen=True)
class Readiness:
    database: bool
    migrations: bool
    leader: bool

    @property
    def ready(self) -> bool:
        return self.database and self.migrations and self.leader

    def as_dict(self) -> dict:
        return {"ready": self.ready, "database": self.database, "migrations_current": self.migrations,
                "scheduler_leader": self.leader}


def leader_known(connection, now) -> bool:
    """A scheduler holds the dispatcher lease (its expiry is still ahead); a Connection or a Session."""
    expires = connection.execute(select(DispatcherLease.expires_at).where(DispatcherLease.name == LEASE_NAME)).scalar()
    return expires is not None and expires > now


def readiness(runtime) -> Readiness:
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            leader = leader_known(connection, runtime.clock.now())
    except Exception:  # any database error means: not reachable from here
        return Readiness(database=False, migrations=False, leader=False)
    current = schema_is_current(runtime.settings.database_url, runtime.engine)
    return Readiness(database=True, migrations=current,
                     leader=leader)
