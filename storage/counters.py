"""The rate limiter's storage on the app's own database (RATELIMIT_STORAGE_URI=database://, the default).

Every process on one database shares these counters: the sign-in limits (reserved before the password is
looked at), the callback quotas, chat nonces and media tokens. One counter is one row, and one increment is
one atomic statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING, on SQLite and PostgreSQL alike), so a
burst on several processes cannot pass a check together. Keys are stored as SHA-256 hashes: a per-number
limit's key holds the number, an address limit's the address. Times are the `limits` library's (time.time()):
it computes the windows, this only keeps them.
"""
from __future__ import annotations

import hashlib
import itertools
import time
import weakref

from limits.storage import Storage
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

SCHEME = "database"
_engines: "weakref.WeakValueDictionary[str, Engine]" = weakref.WeakValueDictionary()
_SWEEP_EVERY = 500  # increments between deletions of expired counters

_INCR = text(
    "INSERT INTO rate_counters (key, count, expires_at) VALUES (:key, :amount, :expires) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN rate_counters.expires_at <= :now THEN :amount ELSE rate_counters.count + :amount END, "
    "expires_at = CASE WHEN rate_counters.expires_at <= :now THEN :expires ELSE rate_counters.expires_at END "
    "RETURNING count")


def storage_uri(engine: Engine) -> str:
    """The RATELIMIT_STORAGE_URI that names this engine's database (flask-limiter makes the storage)."""
    name = str(id(engine))
    _engines[name] = engine
    return f"{SCHEME}://{name}"


def _hashed(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", errors="replace")).hexdigest()


class DatabaseStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        name = (uri or "").split("://", 1)[-1]
        if name not in _engines:
            raise ValueError("database:// is set by the app itself (web/limits.py), for its own database")
        self.engine = _engines[name]
        self._increments = itertools.count(1)
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self.engine.begin() as connection:
            count = connection.execute(_INCR, {"key": _hashed(key), "amount": amount, "expires": now + expiry,
                                               "now": now}).scalar_one()
            if next(self._increments) % _SWEEP_EVERY == 0:
                connection.execute(text("DELETE FROM rate_counters WHERE expires_at <= :now"), {"now": now})
        return count

    def get(self, key: str) -> int:
        with self.engine.connect() as connection:
            count = connection.execute(
                text("SELECT count FROM rate_counters WHERE key = :key AND expires_at > :now"),
                {"key": _hashed(key), "now": time.time()}).scalar()
        return count or 0

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as connection:
            expires = connection.execute(
                text("SELECT expires_at FROM rate_counters WHERE key = :key AND expires_at > :now"),
                {"key": _hashed(key), "now": time.time()}).scalar()
        return expires or time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1 FROM rate_counters WHERE 1 = 0"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return connection.execute(text("DELETE FROM rate_counters")).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(text("DELETE FROM rate_counters WHERE key = :key"), {"key": _hashed(key)})
