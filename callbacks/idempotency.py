"""Idempotency-Key for POST /api/callbacks: a client that lost the answer sends the same request with the
same key and gets the first answer again (its status, the same callback and the same status link).

What is kept, for KEY_LIFETIME: the key as a SHA-256 hash; the body's hash keyed with the key (so the row
says nothing about the number without the key); the first answer's status and callback id; and its status
token XOR-sealed with a pad derived from the key, so only a client holding the key gets the link back (the
token itself is otherwise stored only as a hash). The same key with another body is refused (422); after
KEY_LIFETIME a key is forgotten and books afresh.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from refusals import RequestRefused
from storage.models import IdempotencyKey

KEY_LIFETIME = timedelta(hours=24)
# A random value chosen by the client (a UUID is fine): long enough that nobody guesses another's.
KEY = re.compile(r"[A-Za-z0-9_.:-]{16,128}")


@dataclass(frozen=True)
class FirstAnswer:
    status: int
    public_id: str
    status_token: str | None


def checked_key(raw: str | None) -> str | None:
    """The header's key, None without one; 400 for a key that is not 16-128 letters, digits or _.:-"""
    if raw is None:
        return None
    if not KEY.fullmatch(raw):
        raise RequestRefused("Idempotency-Key must be 16 to 128 letters, digits or _.:- (a random UUID is fine)",
                             field="Idempotency-Key", code="idempotency_key_invalid", status=400)
    return raw


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _body_hash(key: str, body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key.encode(), canonical.encode("utf-8", errors="replace"), hashlib.sha256).hexdigest()


def _pad(key: str) -> bytes:
    return hmac.new(key.encode(), b"status-token", hashlib.sha512).digest()


def seal(key: str, token: str | None) -> str | None:
    """`token` XOR-sealed (hex) with a pad derived from `key`: only a holder of `key` gets it back (unseal).
    Also seals the status links of a stored SMS reply (callbacks.waiting.seal_links)."""
    if token is None:
        return None
    raw = token.encode()
    return bytes(a ^ b for a, b in zip(raw, _pad(key))).hex() if len(raw) <= 64 else None


def unseal(key: str, sealed: str | None) -> str | None:
    if sealed is None:
        return None
    return bytes(a ^ b for a, b in zip(bytes.fromhex(sealed), _pad(key))).decode()


def claim(session: Session, key: str, body: dict, now: datetime) -> FirstAnswer | IdempotencyKey:
    """The answer given to this key before; else the key claimed in this transaction (its row, for
    record()), before anything is booked, so requests sent at once with one key wait on its primary key and
    the losers, run again (storage.db.retry_on_conflict), find the winner's answer. 422 when the key came
    with another body. Keys past their lifetime are forgotten."""
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    row = session.get(IdempotencyKey, _key_hash(key))
    if row is not None:
        if not hmac.compare_digest(row.body_hash, _body_hash(key, body)):
            raise RequestRefused("this Idempotency-Key was sent before with another body; use a new key for a "
                                 "new request", field="Idempotency-Key", code="idempotency_key_reused", status=422)
        return FirstAnswer(row.status, row.entry_public_id, unseal(key, row.sealed_token))
    row = IdempotencyKey(key_hash=_key_hash(key), body_hash=_body_hash(key, body), status=0, entry_public_id="",
                         created_at=now, expires_at=now + KEY_LIFETIME)
    session.add(row)
    session.flush()
    return row


def record(key: str, row: IdempotencyKey, answer: FirstAnswer) -> None:
    """Keep the answer on the claimed key (committed with the booking, or not at all)."""
    row.status, row.entry_public_id = answer.status, answer.public_id
    row.sealed_token = seal(key, answer.status_token)
