"""Every table of the application. The schema itself is owned by the Alembic migrations in migrations/.

Times are stored as UTC and come back as aware UTC datetimes on every database (see UTCDateTime).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC; refuses naive input so no local time sneaks in."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    # A column's type comes from its annotation unless it names one (strings name their length); NOT NULL
    # too: `Mapped[int]` is NOT NULL, `Mapped[int | None]` may be NULL.
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, float: Float, int: Integer, str: Text}


class Numbered:
    """A table whose rows are numbered by an integer id (first column, as the migrations made it)."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)


# The largest id a row can have (ids are INTEGER: 32 bits on PostgreSQL): a larger number names no row.
MAX_ROW_ID = 2**31 - 1

# Entry kinds
HOLDING = "holding"
CALLBACK = "callback"

# Entry states. A live caller holds; a callback waits its turn (queued) or its time (scheduled),
# is dialled, and ends connected->completed, failed or cancelled. Holders end abandoned or connected.
OPEN_STATES = (
    "holding",
    "queued",
    "scheduled",
    "retry_wait",
    "dialing_agent",
    "dialing_customer",
)
# Entries that still stand in line for position counting (not yet being dialled).
WAITING_STATES = ("holding", "queued", "scheduled", "retry_wait")
CLOSED_STATES = ("connected", "completed", "failed", "cancelled", "abandoned")


class QueueEntry(Numbered, Base):
    """One place in a skill's line: a live caller holding, or a callback. Both are ordered by arrived_at."""

    __tablename__ = "queue_entries"

    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    skill: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16), default="phone")
    state: Mapped[str] = mapped_column(String(24))
    priority: Mapped[int] = mapped_column(default=0)
    arrived_at: Mapped[datetime]
    call_sid: Mapped[str | None] = mapped_column(String(64))
    # E.164 for callbacks; for a caller holding, Twilio's From as sent (sip:alice@..., client:...).
    phone_number: Mapped[str | None] = mapped_column(String(255))
    caller_name: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str | None]
    language: Mapped[str] = mapped_column(String(8), default="en-US")
    context: Mapped[dict] = mapped_column(default=dict)
    transcript: Mapped[str | None]
    confidence: Mapped[float | None]
    customer_timezone: Mapped[str | None] = mapped_column(String(64))
    scheduled_for: Mapped[datetime | None]
    announced_wait_seconds: Mapped[int | None]
    # The window the customer was told for a callback (UTC), the IANA zone it was told in, and when it
    # was told (routing/promise.py). Only a new window the customer hears moves it; a supervisor's
    # reschedule does not. Kept means connected_at falls inside [promised_from, promised_by].
    promised_from: Mapped[datetime | None]
    promised_by: Mapped[datetime | None]
    promised_zone: Mapped[str | None] = mapped_column(String(64))
    promised_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    dial_call_sid: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    agent_call_sid: Mapped[str | None] = mapped_column(String(64))
    connected_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    status_token_hash: Mapped[str | None] = mapped_column(String(64))
    # "<number>|<skill>" while a callback is open, NULL after: the unique index makes a second
    # open callback for the same number and skill impossible, even from two processes at once.
    open_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    events: Mapped[list["QueueEvent"]] = relationship(
        back_populates="entry", order_by="QueueEvent.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_queue_entries_line", "skill", "state", "arrived_at"),
        Index("ix_queue_entries_call_sid", "call_sid"),
        Index("ix_queue_entries_dial_call_sid", "dial_call_sid"),
        # The dispatcher's due queries (migration 0003).
        Index("ix_queue_entries_state_next", "state", "next_attempt_at"),
        Index("ix_queue_entries_order", "skill", "state", "priority", "arrived_at", "id"),
        # Merging a number's requests across channels; re-estimating told windows (migration 0006).
        Index("ix_queue_entries_phone_state", "phone_number", "state"),
        Index("ix_queue_entries_state_promised", "state", "promised_by"),
        # The estimate's recent handle times and recent holders' patience (migration 0009).
        Index("ix_queue_entries_skill_state_closed", "skill", "state", "closed_at"),
        Index("ix_queue_entries_skill_kind_arrived", "skill", "kind", "arrived_at"),
    )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class QueueEvent(Numbered, Base):
    """The audit trail: every state change of an entry, with who and why. Metrics are computed from it."""

    __tablename__ = "queue_events"

    entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entries.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(24))
    previous_state: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str | None]
    actor: Mapped[str] = mapped_column(String(120), default="system")
    detail: Mapped[dict] = mapped_column(default=dict)

    entry: Mapped[QueueEntry] = relationship(back_populates="events")

    __table_args__ = (Index("ix_queue_events_entry", "entry_id", "id"), Index("ix_queue_events_at", "at"))


class Call(Base):
    """An inbound call's progress through the IVR, keyed by Twilio's CallSid."""

    __tablename__ = "calls"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Twilio's From/To as sent: E.164, or a SIP URI / Client identity (up to 255 characters, checked on the way in).
    from_number: Mapped[str | None] = mapped_column(String(255))
    to_number: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8))
    step: Mapped[str] = mapped_column(String(32))
    # Which request of this call comes next; a Twilio retry of an older one replays its answer.
    turn: Mapped[int] = mapped_column(default=0)
    retries: Mapped[int] = mapped_column(default=0)
    skill: Mapped[str | None] = mapped_column(String(40))
    transcript: Mapped[str | None]
    confidence: Mapped[float | None]
    scratch: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="in-progress")
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("queue_entries.id"))


class CallTurn(Base):
    """The TwiML answered to each turn of a call, so a retried webhook gets the same answer."""

    __tablename__ = "call_turns"

    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.call_sid", ondelete="CASCADE"), primary_key=True)
    turn: Mapped[int] = mapped_column(primary_key=True)
    twiml: Mapped[str]


class SpeechResult(Numbered, Base):
    """What the recogniser heard for one call at one step (written by the media stream, read by the IVR)."""

    __tablename__ = "speech_results"

    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.call_sid", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(32))
    turn: Mapped[int]
    transcript: Mapped[str | None]
    confidence: Mapped[float | None]
    digit: Mapped[str | None] = mapped_column(String(4))
    engine: Mapped[str | None] = mapped_column(String(32))
    ended_by: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("call_sid", "step", "turn", name="uq_speech_results_call_step_turn"),)


class ReceivedText(Base):
    """A text message Twilio delivered, keyed by its MessageSid, with the reply we gave: a repeated
    delivery gets the same reply and books nothing again."""

    __tablename__ = "received_texts"

    message_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    reply: Mapped[str]
    received_at: Mapped[datetime]


AGENT_STATES = ("offline", "available", "reserved", "on_call", "wrap_up")


class Agent(Numbered, Base):
    __tablename__ = "agents"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    # E.164 number, sip:user@host, or client:identity
    address: Mapped[str] = mapped_column(String(200))
    skills: Mapped[dict] = mapped_column(default=dict)  # skill -> level (1..10)
    state: Mapped[str] = mapped_column(String(16), default="offline")
    state_changed_at: Mapped[datetime]
    wrap_up_seconds: Mapped[int] = mapped_column(default=30)
    # The entry the agent is reserved for or talking to (no FK: agents and entries point at each other).
    entry_id: Mapped[int | None]
    call_sid: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class DispatcherLease(Base):
    """Which process may run the scheduler: one row per lease name, taken over only once it expires.
    Two more kinds of row share the table: "pace:<account sid>" (the account's next free call slot,
    callbacks/dispatch/pacing.py) and "dialling" (Twilio away since acquired_at, next try at
    expires_at, why in holder: callbacks/dispatch/outage.py)."""

    __tablename__ = "dispatcher_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime]


class User(Numbered, Base):
    """A supervisor or admin who signs in to the queue pages."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="supervisor")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    # Carried in the sign-in cookie; signing out or a new password moves it on, so every earlier
    # cookie of this user stops working at once.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")


class SlotLock(Base):
    """A skill's start times, held by the transaction that books one (routing/slots.py: `hold`): the row is
    upserted first, so a second booking of the same skill waits until the first has committed and then
    counts it. `taken`: how many such checks it has seen (nothing reads it)."""

    __tablename__ = "slot_locks"

    skill: Mapped[str] = mapped_column(String(64), primary_key=True)
    taken: Mapped[int]


class RateCounter(Base):
    """One counter of the rate limiter's shared storage (storage/counters.py): the sign-in and callback
    limits, chat nonces and media tokens, shared by every process on this database. `expires_at` is
    seconds since the epoch on the limiter's own clock (the `limits` library counts windows with it)."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the limiter's key
    count: Mapped[int]
    expires_at: Mapped[float] = mapped_column(index=True)


class IdempotencyKey(Base):
    """A POST /api/callbacks sent with an Idempotency-Key: the key and body as hashes (the body's keyed with
    the key), the first answer's status and callback, and its status token sealed with the key, so only a
    client holding the key can have the link back (callbacks/idempotency.py)."""

    __tablename__ = "idempotency_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    entry_public_id: Mapped[str] = mapped_column(String(32))
    sealed_token: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PrivacyRequest(Numbered, Base):
    """That what is held about a number was exported or erased: when, by whom, how much. Never the number
    itself (the record must not keep what the erasure removed); privacy/records.py writes it."""

    __tablename__ = "privacy_requests"

    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(16))  # "export" or "erase"
    actor: Mapped[str] = mapped_column(String(120))
    entries: Mapped[int]
    calls: Mapped[int]
