"""Waking the dispatcher from another process: PostgreSQL's LISTEN/NOTIFY, polling kept as the fallback.

A web process that changes something the dispatcher should act on at once (an agent became available,
a callback was booked or moved) calls Dispatcher.wake(). In the process that runs the scheduler that
books a pass directly. Elsewhere, on PostgreSQL, it sends NOTIFY on CHANNEL; the scheduler's Listener
(a thread holding one connection that LISTENs) books a pass when it hears it. On SQLite, or when the
listener's connection is down, the dispatcher's sweep (DISPATCH_SWEEP_SECONDS) picks the change up.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger("ivr.scheduler")

CHANNEL = "ivr_dispatcher_wake"


def can_notify(engine: Engine | None) -> bool:
    return engine is not None and engine.dialect.name == "postgresql"


def notify(engine: Engine | None) -> bool:
    """Send the wake-up to whichever process listens. False on a database without NOTIFY."""
    if not can_notify(engine):
        return False
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
        connection.commit()
    return True


class Listener:
    """LISTEN on CHANNEL in a thread; `on_wake()` for each notification as it arrives (the scheduler's
    tick folds a burst into few passes). Reconnects after an error, logging once per outage; the sweep
    covers the gap."""

    def __init__(self, engine: Engine, on_wake: Callable[[], None], reconnect_seconds: float = 5.0):
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.on_wake = on_wake
        self.reconnect_seconds = reconnect_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while the LISTEN is in place (tests wait on it)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dispatcher-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        failing = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if failing:
                        log.warning("listening for dispatcher wake-ups again")
                        failing = False
                    while not self._stop.is_set():
                        for _ in connection.notifies(timeout=1.0, stop_after=1):
                            self.on_wake()
            except Exception as exc:  # noqa: BLE001 - database away: the sweep still runs; try again
                self.listening.clear()
                if not failing:
                    log.warning("not listening for dispatcher wake-ups (%s); polling only", type(exc).__name__)
                    failing = True
                self._stop.wait(self.reconnect_seconds)
        self.listening.clear()
