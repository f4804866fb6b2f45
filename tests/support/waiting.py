"""Waiting on an event in a test that involves real threads or sockets: the deadline only stops a hung
test, it is never the thing checked (tests/README.md, "Time")."""
from __future__ import annotations

import time


def wait_for(condition, what: str = "the condition", seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what} after {seconds} s"
        time.sleep(0.01)
