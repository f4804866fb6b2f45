"""SQLite across processes (several gunicorn workers): a writer holds `<database file>.write-lock` (an
advisory flock) with its process's writer lock, from its first write to its commit, rollback or close; a
writer of another process waits for it instead of meeting SQLite's busy handler, and gives up after a
bounded wait with an error that names the lock file."""
from __future__ import annotations

import errno
import fcntl
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage import db

ROOT = Path(__file__).resolve().parents[2]

# The other worker: it writes a row, says so, and ends its transaction as told ("commit", "rollback", "close").
WORKER = """
import sys
from sqlalchemy import text
from storage.db import make_engine
engine = make_engine(sys.argv[1])
connection = engine.connect()
connection.execute(text("INSERT INTO t VALUES ('other')"))
print("writing", flush=True)
how = sys.stdin.readline().strip()
if how == "commit":
    connection.commit()
elif how == "rollback":
    connection.rollback()
connection.close()
print("done", flush=True)
"""


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "ivr.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (who TEXT)"))
    yield engine, path
    engine.dispose()


def other_worker(path: Path) -> subprocess.Popen:
    worker = subprocess.Popen([sys.executable, "-c", WORKER, f"sqlite:///{path}"], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert worker.stdout.readline().strip() == "writing"
    return worker


def finish(worker: subprocess.Popen, how: str) -> None:
    worker.stdin.write(how + "\n")
    worker.stdin.flush()
    assert worker.stdout.readline().strip() == "done"
    worker.wait(timeout=60)


def lock_is_free(path: Path) -> bool:
    with open(str(path) + ".write-lock", "a") as probe:
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(probe, fcntl.LOCK_UN)
        return True


def rows(engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.scalars(text("SELECT who FROM t")))


@pytest.mark.parametrize("how", ["commit", "rollback", "close"])
def test_a_writer_of_another_process_waits_for_the_lock_and_then_writes(database, how):
    engine, path = database
    worker = other_worker(path)
    assert not lock_is_free(path)  # held from the other worker's first write
    wrote = threading.Event()

    def write() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES ('mine')"))
        wrote.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert not wrote.wait(0.5)  # still waiting for the other worker's turn to end
    finish(worker, how)
    writer.join(timeout=60)
    assert wrote.is_set()
    assert rows(engine) == (["mine", "other"] if how == "commit" else ["mine"])
    assert lock_is_free(path)  # given back at our own commit too


def test_a_writer_gives_up_after_the_bounded_wait_naming_the_lock(database, monkeypatch):
    engine, path = database
    monkeypatch.setattr(db, "_WRITER_WAIT_SECONDS", 0.3)
    worker = other_worker(path)
    with pytest.raises(OperationalError, match=r"another process held .*ivr\.sqlite3\.write-lock for over 0\.3 s"):
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES ('mine')"))
    finish(worker, "commit")
    # Nothing of ours is left holding either lock: the next write goes through.
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES ('mine')"))
    assert rows(engine) == ["mine", "other"]
    assert lock_is_free(path)


class FailingFlock:
    """fcntl as storage.db sees it, with flock failing as a file system without locks fails it (ENOLCK):
    `which` is "wait" (the waiter thread's blocking flock) or "try" (the writer's first, non-blocking one)."""

    def __init__(self, which: str):
        self.which = which
        self.LOCK_EX, self.LOCK_NB, self.LOCK_UN = fcntl.LOCK_EX, fcntl.LOCK_NB, fcntl.LOCK_UN

    def flock(self, fd, operation):
        if (operation & fcntl.LOCK_NB) == (fcntl.LOCK_NB if self.which == "try" else 0):
            raise OSError(errno.ENOLCK, "No locks available")
        return fcntl.flock(fd, operation)


def contended_write(engine, path: Path, who: str) -> None:
    """Write `who` while the other worker writes: ours goes through once the other one commits."""
    worker = other_worker(path)
    wrote = threading.Event()

    def write() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (:who)"), {"who": who})
        wrote.set()

    writer = threading.Thread(target=write)
    writer.start()
    finish(worker, "commit")
    writer.join(timeout=60)
    assert wrote.is_set()


@pytest.mark.parametrize("which", ["wait", "try"])
def test_a_write_lock_file_that_cannot_be_locked_leaves_the_waiting_to_sqlite(database, monkeypatch, caplog, which):
    engine, path = database
    monkeypatch.setattr(db, "fcntl", FailingFlock(which))
    contended_write(engine, path, "first")
    contended_write(engine, path, "second")
    assert rows(engine) == ["first", "other", "other", "second"]
    # Said once per process and file, with the file and the error.
    said = [r.getMessage() for r in caplog.records if "write-lock" in r.getMessage()]
    assert len(said) == 1 and f"{path}.write-lock cannot be locked (OSError: [Errno {errno.ENOLCK}]" in said[0]
    # Once flock works again, writers queue on the file as before: the waiter thread is still there.
    monkeypatch.setattr(db, "fcntl", fcntl)
    contended_write(engine, path, "third")
    assert rows(engine) == ["first", "other", "other", "other", "second", "third"]
    assert lock_is_free(path)
