"""What a running app is wired to: settings, database, clock, IVR configuration, Twilio client.

Built once in app.create_app() and kept in app.extensions; tests build it with a ManualClock and a
Twilio client whose HTTP layer checks requests against Twilio's OpenAPI spec.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from clock import Clock
from config import IvrConfig, Settings


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
    extras: dict = field(default_factory=dict)


def runtime() -> Runtime:
    return current_app.extensions["ivr"]
