"""The registry of personal data: every column of storage/models.py is listed here, either as personal
(with the kind of data it holds, which sets how long it is kept) or as not personal.
tests/privacy/test_policy.py fails when a new column is in neither list.

Retention defaults (days after the callback or call closed), overridable from the environment:
RETAIN_TRANSCRIPT_DAYS, RETAIN_CONTEXT_DAYS, RETAIN_NUMBER_DAYS, RETAIN_AUDIT_DAYS.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

# kind -> (environment variable, default days)
RETENTION = {
    "transcript": ("RETAIN_TRANSCRIPT_DAYS", 30),  # what a caller said, the IVR's turns
    "context": ("RETAIN_CONTEXT_DAYS", 30),  # chat transcripts and page context, the reason given
    "number": ("RETAIN_NUMBER_DAYS", 90),  # numbers and names of closed callbacks and ended calls
    "audit": ("RETAIN_AUDIT_DAYS", 365),  # free text in the audit trail (reasons, details)
    "staff": (None, None),  # agents and supervisors: kept while their account exists
}

PERSONAL = {
    "queue_entries.phone_number": "number",
    "queue_entries.caller_name": "number",
    "queue_entries.customer_timezone": "number",
    "queue_entries.promised_zone": "number",  # the zone the window was told in: the customer's, like the above
    "queue_entries.reason": "context",
    "queue_entries.context": "context",
    "queue_entries.transcript": "transcript",
    "queue_entries.open_key": "number",  # "<number>|<skill>" while open, NULL once closed
    "calls.from_number": "number",
    "calls.to_number": "number",
    "calls.transcript": "transcript",
    "calls.scratch": "transcript",
    "call_turns.twiml": "transcript",
    "speech_results.transcript": "transcript",
    "speech_results.digit": "transcript",
    "queue_events.reason": "audit",
    "queue_events.detail": "audit",
    "received_texts.reply": "context",
    "agents.name": "staff",
    "agents.address": "staff",
    "users.username": "staff",
    "users.password_hash": "staff",
    "users.timezone": "staff",
    "privacy_requests.actor": "staff",
}

NOT_PERSONAL = {
    "agents": {"id", "skills", "state", "state_changed_at", "wrap_up_seconds", "entry_id", "call_sid", "version"},
    "dispatcher_leases": {"name", "holder", "expires_at", "acquired_at"},
    # Keys hashed (an address or number is in the limiter's key), gone within a day.
    "rate_counters": {"key", "count", "expires_at"},
    # The body's hash is keyed with the client's key; rows expire after IDEMPOTENCY_KEY_HOURS.
    "idempotency_keys": {"key_hash", "body_hash", "status", "entry_public_id", "sealed_token", "created_at",
                         "expires_at"},
    "received_texts": {"message_sid", "received_at"},
    # One row per skill, written to hold its start times while a booking is counted (routing.slots.hold).
    "slot_locks": {"skill", "taken"},
    # That an export or erasure happened (how much, when): never the number.
    "privacy_requests": {"id", "at", "action", "entries", "calls"},
    "users": {"id", "role", "active", "created_at", "session_version"},
    "queue_entries": {"id", "public_id", "skill", "kind", "channel", "state", "priority", "arrived_at", "call_sid",
                      "language", "confidence", "scheduled_for", "announced_wait_seconds", "attempts",
                      "next_attempt_at", "dial_call_sid", "agent_id", "agent_call_sid", "connected_at", "closed_at",
                      "status_token_hash", "created_at", "updated_at", "version", "promised_from", "promised_by",
                      "promised_at"},
    "calls": {"call_sid", "language", "step", "turn", "retries", "skill", "confidence", "status", "started_at",
              "ended_at", "entry_id"},
    "queue_events": {"id", "entry_id", "at", "event", "state", "previous_state", "actor"},
    "call_turns": {"call_sid", "turn"},
    "speech_results": {"id", "call_sid", "step", "turn", "confidence", "engine", "ended_by", "created_at"},
}


@dataclass(frozen=True)
class Retention:
    transcript: int
    context: int
    number: int
    audit: int

    @classmethod
    def from_env(cls, env=None) -> "Retention":
        env = os.environ if env is None else env
        return cls(**{kind: int(env.get(name) or days) for kind, (name, days) in RETENTION.items() if name})

    def days(self, kind: str) -> int:
        return getattr(self, kind)
