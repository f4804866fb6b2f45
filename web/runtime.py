"""What a running app is wired to: settings, database, clock, IVR configuration, Twilio client.

Built once in app.create_app() and kept in app.extensions; tests build it with a ManualClock and a
Twilio client whose HTTP layer checks requests against Twilio's OpenAPI spec.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from clock import Clock
from config import IvrConfig, Settings

log = logging.getLogger("ivr.scheduler")


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    ivr_config: IvrConfig
    twilio: Any = None  # twilio.rest.Client, or None without credentials
    speech_languages: frozenset[str] = frozenset()
    understanding: Any = None  # understanding.Understanding, trained from the IVR file's examples
    extras: dict = field(default_factory=dict)  # "dispatcher": the callbacks plugin's Dispatcher

    def wake_dispatcher(self) -> bool:
        """Ask the dispatcher for a pass now. False when no scheduler runs in this process: its sweep
        (DISPATCH_SWEEP_SECONDS) picks the change up instead."""
        dispatcher = self.extras.get("dispatcher")
        try:
            return bool(dispatcher and dispatcher.wake())
        except Exception:  # waking is a courtesy; the dispatcher's own sweep is the guarantee
            log.exception("could not wake the dispatcher")
            return False

    def hang_up_cancelled(self, entry_id: int) -> int:
        """After a cancel is committed (by a supervisor or the customer): end the calls of a callback
        that was being dialled. Returns how many calls were ended."""
        dispatcher = self.extras.get("dispatcher")
        return dispatcher.hang_up_cancelled(entry_id) if dispatcher else 0


def runtime() -> Runtime:
    return current_app.extensions["ivr"]
