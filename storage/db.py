"""Engine, sessions and schema upgrades. SQLite is the embedded default; DATABASE_URL selects PostgreSQL."""
from __future__ import annotations

import functools
import logging
import os
import queue
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Table, bindparam, create_engine, event, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

try:  # POSIX only: without it, SQLite's file locks (the write-lock and migration files) are left out
    import fcntl
except ImportError:  # pragma: no cover - exercised in a subprocess (tests/storage/test_write_lock.py)
    fcntl = None

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("ivr")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: an error's log line names the statement, never the phone numbers it carried.
        lock_path = path + ".write-lock" if path and path != ":memory:" and fcntl is not None else None
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False,
                                                  "factory": _one_writer_connection(lock_path)},
                               hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # WAL lets the web process read while the dispatcher writes; foreign keys are off by default.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    engine = create_engine(url, hide_parameters=True)
    _ping_when_idle(engine)
    return engine


# A pooled connection idle for longer than this is pinged before it is used again (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, but only for a connection that sat in the pool for over
    PING_AFTER_IDLE_SECONDS: one that dropped meanwhile (a server restart, an idle time-out, a failover) is
    replaced before the request uses it, while under load, where connections go back and out within
    milliseconds, no request pays the ping's round trip (on PostgreSQL, one of a new call's three). A
    connection that broke less than that long ago fails its request (a 503, as while the database is
    down) and the pool is renewed at once, as it would be anyway for the requests then in flight."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record) -> None:
        record.info["idle_from"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        idle_from = record.info.get("idle_from")
        if idle_from is None or time.monotonic() - idle_from <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection no longer answers") from exc  # the pool connects anew


# How long a writer waits for the others of its process before it leaves the wait to SQLite's own (which
# then gives up as it always did): SQLite's busy timeout, as set above. Also how long it waits for the
# writers of other processes (the write-lock file) before it gives up with WriteLockTimeout.
_WRITER_WAIT_SECONDS = 30
# pysqlite begins a transaction, and SQLite takes its write lock, at a statement starting with these.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriteLockTimeout(sqlite3.OperationalError):
    """Another process kept the database's write lock longer than a writer waits."""


def _one_writer_connection(lock_path: str | None = None) -> type:
    """The sqlite3 connection class of one engine. SQLite lets one connection write at a time; a writer
    that finds the database taken sleeps in SQLite's busy handler, polling at 1 ms, then up to every
    100 ms, so under load the database sits idle between one writer's commit and the next one's poll.
    Instead writers queue: within a process on one lock, and across processes (several gunicorn workers)
    on an advisory flock of `lock_path` (`<database file>.write-lock`), taken after it. Both are taken
    where pysqlite begins the transaction (its first INSERT, UPDATE, DELETE or REPLACE) and given back
    once the commit, rollback or close is done: the next writer, of any process, starts as soon as the
    last one is durable. Nothing else changes: reads never wait for it, and a thread that already writes
    on another connection goes on (its process holds both); one that waited the busy timeout for its own
    process goes on to SQLite as before; one that waited as long for another process raises
    WriteLockTimeout, naming the lock file."""
    lock = threading.Lock()
    owner: list[int | None] = [None]

    class Cursor(sqlite3.Cursor):
        def execute(self, sql, parameters=()):
            self.connection._before(sql)
            return super().execute(sql, parameters)

        def executemany(self, sql, seq_of_parameters):
            self.connection._before(sql)
            return super().executemany(sql, seq_of_parameters)

    class Connection(sqlite3.Connection):
        _writing = False
        _lock_fd = None  # the write-lock file's descriptor, open (and flocked) while this connection writes

        def cursor(self, factory=Cursor):
            return super().cursor(factory)

        def _before(self, sql: str) -> None:
            if self._writing or self.in_transaction or not sql.lstrip()[:7].upper().startswith(_WRITES):
                return
            me = threading.get_ident()
            if owner[0] != me and lock.acquire(timeout=_WRITER_WAIT_SECONDS):
                if lock_path is not None:
                    try:
                        self._lock_fd = _flock(lock_path, _WRITER_WAIT_SECONDS)
                    except BaseException:
                        lock.release()
                        raise
                owner[0], self._writing = me, True

        def _done(self) -> None:
            if self._writing:
                self._writing, owner[0] = False, None
                if self._lock_fd is not None:
                    os.close(self._lock_fd)  # closing the file gives its flock back
                    self._lock_fd = None
                lock.release()

        def _ending(self, end):
            """Run `end` (the commit, rollback or close), then give the write lock back, even if it raised."""
            try:
                return end()
            finally:
                self._done()

        def commit(self):
            return self._ending(super().commit)

        def rollback(self):
            return self._ending(super().rollback)

        def close(self):
            return self._ending(super().close)

    return Connection


def _flock(path: str, timeout: float) -> int | None:
    """`path` opened and exclusively flocked (its descriptor): at once when free, else by the process's
    waiter thread for that file (`_Waiter`), which blocks in flock (the kernel wakes it when the holder
    lets go: no polling), waited for at most `timeout` seconds. Each call opens the file anew: flocks of
    separate opens exclude each other even within a process, so a wait that gave up and gets the lock
    late only drops its own. None when the file cannot be opened or locked (an OSError: no locks on
    that file system, out of descriptors, ...): the writer goes on without the queue across processes,
    and SQLite's own busy handler makes it wait for the others, as before the file existed (said once
    per process and file, `_without_file_lock`)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)  # as open(path, "a")
    except OSError as exc:
        return _without_file_lock(path, exc)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    except OSError as exc:
        os.close(fd)
        return _without_file_lock(path, exc)
    except BaseException:
        os.close(fd)
        raise
    return _Waiter.of(path).take(fd, timeout)


_said_without: set[str] = set()


def _without_file_lock(path: str, exc: OSError) -> None:
    if path not in _said_without:
        _said_without.add(path)
        log.warning("SQLite write-lock file %s cannot be locked (%s: %s): writers of other processes now "
                    "wait in SQLite's busy handler instead (slower under load, nothing else changes)",
                    path, type(exc).__name__, exc)
    return None


class _Ask:
    """One writer's request to the waiter thread: the descriptor to flock, and how it ended."""

    def __init__(self, fd: int):
        self.fd, self.done, self.guard = fd, threading.Event(), threading.Lock()
        self.given_up = False  # the writer stopped waiting (WriteLockTimeout)
        self.failed: OSError | None = None  # flock itself failed


class _Waiter:
    """One thread per process and lock file, made at its first contended write and kept: it blocks in
    flock for the writer that holds its process's writer lock (one at a time), so a contended write
    costs a hand-over to a thread already running, not a new thread (flock itself has no time-out).
    A flock that fails (an OSError) is handed back to its writer, which goes on without the file lock
    (`_flock`); the thread stays for the next one."""

    _all: dict[tuple[int, str], _Waiter] = {}
    _making = threading.Lock()

    @classmethod
    def of(cls, path: str) -> _Waiter:
        key = (os.getpid(), path)  # a forked child makes its own: threads do not cross a fork
        waiter = cls._all.get(key)
        if waiter is None:
            with cls._making:
                waiter = cls._all.get(key) or cls._all.setdefault(key, cls(path))
        return waiter

    def __init__(self, path: str):
        self.path = path
        self._asked: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="sqlite-write-lock", daemon=True).start()

    def _serve(self) -> None:
        while True:
            ask = self._asked.get()
            try:
                fcntl.flock(ask.fd, fcntl.LOCK_EX)
            except OSError as exc:
                ask.failed = exc
            with ask.guard:
                if ask.given_up:
                    os.close(ask.fd)  # its writer left: the lock (if taken) goes on to the next one
                else:
                    ask.done.set()

    def take(self, fd: int, timeout: float) -> int | None:
        ask = _Ask(fd)
        self._asked.put(ask)
        if not ask.done.wait(timeout):
            with ask.guard:
                if not ask.done.is_set():
                    ask.given_up = True
                    raise WriteLockTimeout(f"database is locked: another process held {self.path} for over "
                                           f"{timeout:g} s")
        if ask.failed is not None:
            os.close(fd)
            return _without_file_lock(self.path, ask.failed)
        return fd


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the schema to the newest migration (idempotent), exactly once however many processes
    start together: under a lock (a file lock beside an SQLite file, a PostgreSQL advisory lock), and
    only when the schema is not already current, so the workers that waited find nothing to do."""
    cfg = alembic_config(url)
    with _migration_lock(url):
        if not schema_is_current(url):
            command.upgrade(cfg, "head")


# Any fixed number: the PostgreSQL advisory lock that every process migrating this database takes.
_PG_MIGRATION_LOCK = 0x1C0DE_0022


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if not path or path == ":memory:" or fcntl is None:  # without flock (not POSIX): start one process first
            yield
            return
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path + ".migrate-lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
        return
    from sqlalchemy import text

    engine = create_engine(url, poolclass=_null_pool())
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK})
                connection.commit()
    finally:
        engine.dispose()


def _null_pool():
    from sqlalchemy.pool import NullPool

    return NullPool


def schema_is_current(url: str, engine: Engine | None = None) -> bool:
    """Whether the database's alembic revision is the newest migration's (readiness asks this too)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    own = engine is None
    engine = engine or create_engine(url, poolclass=_null_pool())
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads()) == heads
    finally:
        if own:
            engine.dispose()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed as a whole, or rolled back as a whole on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def one_write(engine: Engine) -> Iterator[Connection | Direct]:
    """A connection for reads followed by one write that is the whole unit of work (`insert_together`),
    committed before the block ends; read on it with `select_rows`. On PostgreSQL a Core connection in
    autocommit: every statement is its own transaction, so the work costs no BEGIN and no COMMIT round
    trip (a new call: 2 round trips). On SQLite the pool's own DBAPI connection (`Direct`) in one
    transaction: statements compiled once run on it without SQLAlchemy's per-execution work, and its
    errors are raised as SQLAlchemy's (IntegrityError, OperationalError), as on a Core connection."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")
        return
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    dbapi_error = engine.dialect.loaded_dbapi.Error
    pooled = engine.raw_connection()
    try:
        try:
            yield Direct(pooled.driver_connection, engine.dialect)
            pooled.commit()
        except BaseException:
            pooled.rollback()
            raise
    except dbapi_error as exc:
        raise DBAPIError.instance(None, None, exc, dbapi_error, hide_parameters=True, dialect=engine.dialect) from exc
    finally:
        pooled.close()  # back to the pool


class Direct:
    """An SQLite connection of the engine's pool inside `one_write`: Core statements run on it compiled
    once (`_prepared`), their parameters put through the columns' types as SQLAlchemy would."""

    def __init__(self, dbapi_connection, dialect):
        self.dialect = dialect
        self._cursor = dbapi_connection.cursor()

    def run(self, statement, values: dict, column_keys: tuple[str, ...] | None = None) -> list[tuple]:
        sql, binds = _prepared(statement, self.dialect, column_keys)
        params = []
        for name, held, process in binds:
            value = values[name] if held is _GIVEN or name in values else held
            params.append(value if process is None else process(value))
        self._cursor.execute(sql, params)
        return self._cursor.fetchall()


# A parameter whose value the caller gives (in `Direct.run`'s values), not the statement.
_GIVEN = object()


@functools.lru_cache(maxsize=32)
def _prepared(statement, dialect, column_keys: tuple[str, ...] | None):
    """`statement` compiled for `dialect` (an INSERT for `column_keys`): its SQL, and each positional
    parameter's name, its value when the statement holds it (a literal compared with, such as a state) or
    _GIVEN, and its bind processor. Statements that need SQLAlchemy at execution (column defaults filled
    in, expanding IN lists, values computed at each execution) are refused."""
    compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
    if (compiled.insert_prefetch or compiled.update_prefetch or compiled.post_compile_params or not compiled.positional
            or any(bind.callable is not None for bind in compiled.binds.values())):
        raise ValueError("statement needs SQLAlchemy at execution: run it on a Core connection")
    held = compiled.construct_params(_check=False)  # the statement's own values; the others are required
    return str(compiled), tuple(
        (name, _GIVEN if compiled.binds[name].required else held[name],
         compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in compiled.positiontup)


def select_rows(db, statement, values: dict) -> list:
    """The rows of a SELECT on an ORM session, a Core connection or `one_write`'s connection (tuples)."""
    if isinstance(db, Direct):
        return db.run(statement, values)
    return db.execute(statement, values).all()


def insert_together(connection: Connection | Direct, *rows: tuple[Table, dict]) -> None:
    """One row into each table, all or none. On PostgreSQL one statement (the first INSERTs as WITH clauses,
    whose rows the last one's foreign keys see at the statement's end), so on a `one_write` connection it
    is one round trip and atomic on its own. Elsewhere one INSERT each, in the connection's transaction."""
    if isinstance(connection, Direct):
        for table, values in rows:
            connection.run(_insert(table), values, tuple(values))
        return
    if connection.dialect.name != "postgresql":
        for table, values in rows:
            connection.execute(_insert(table), values)
        return
    shape = tuple((table, tuple(values)) for table, values in rows)
    connection.execute(_together(shape), {f"w{i}_{column}": value
                                          for i, (_, values) in enumerate(rows) for column, value in values.items()})


@functools.lru_cache(maxsize=16)
def _insert(table: Table):
    return insert(table)


@functools.lru_cache(maxsize=16)
def _together(shape: tuple[tuple[Table, tuple[str, ...]], ...]):
    """The statement of `insert_together` for these tables and columns, built once (typed parameters, so
    JSON and UTC times bind as the columns would)."""
    inserts = [insert(table).values({column: bindparam(f"w{i}_{column}", type_=table.c[column].type)
                                     for column in columns}) for i, (table, columns) in enumerate(shape)]
    statement = inserts[-1]
    for i, first in enumerate(inserts[:-1]):
        statement = statement.add_cte(first.cte(f"w{i}"))
    return statement


T = TypeVar("T")


def retry_on_conflict(work: Callable[..., T]) -> Callable[..., T]:
    """Run `work` (which opens its own transaction) once more when it lost a race: a unique key
    another transaction took first, or a row it changed meanwhile. The second run sees what the
    winner committed, so a repeated delivery finds its own earlier answer instead of failing."""

    @functools.wraps(work)
    def retried(*args, **kwargs) -> T:
        try:
            return work(*args, **kwargs)
        except (IntegrityError, StaleDataError):
            return work(*args, **kwargs)

    return retried
