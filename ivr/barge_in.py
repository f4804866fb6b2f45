"""Moving a live call on when the caller speaks: the REST half of barge-in.

A question's prompt plays inside a `<Gather>` while the caller's audio is forked to /media. Keys stop
the prompt by themselves; a voice cannot, so when the caller starts speaking the call is moved to the
step's `listen` URL (Twilio stops the prompt and fetches it), and once the answer is recognised to the
step's action URL. Both are `calls(sid).update(url=...)` on Twilio's REST API.

Twilio's limits: the account's REST concurrency is shared with the dispatcher, so at most
MAX_IN_FLIGHT updates run at once per process, a 429 (too many requests) is retried with backoff,
and an update for a call that has ended (Twilio answers 4xx) is dropped: nothing is waiting for it.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Protocol

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 8
RETRY_DELAYS = (0.25, 0.5, 1.0)  # seconds between tries after a 429
LISTEN_WAIT_SECONDS = 5.0  # the answer's update waits this long for the listen update before it

_pool = ThreadPoolExecutor(max_workers=MAX_IN_FLIGHT, thread_name_prefix="barge-in")


class StepLinks(Protocol):
    def step(self, step: str, turn: int) -> str: ...
    def listen(self, step: str, turn: int) -> str: ...


class CallMover:
    """One stream's moves of its call, kept in order (the listen move always lands first)."""

    def __init__(self, client, links: StepLinks):
        self.client = client  # twilio.rest.Client
        self.links = links
        self._listening: Future | None = None

    def caller_speaking(self, call_sid: str, step: str, turn: int, first: Callable[[], bool] | None = None) -> None:
        """Stop the prompt now; does not wait (the stream keeps being read meanwhile). `first` runs
        before the move, on the same thread (ivr/spoken.py's mark); when it says False the question
        was decided already and the call is not moved."""
        if self._listening is None:
            self._listening = _pool.submit(self._listen, call_sid, self.links.listen(step, turn), first)

    @property
    def moved_to_listen(self) -> bool:
        """Whether the call was moved to `listen` (it waits in silence for this stream's answer)."""
        if self._listening is None:
            return False
        try:
            return bool(self._listening.result(timeout=LISTEN_WAIT_SECONDS))
        except Exception:  # noqa: BLE001 - logged in _update
            return False

    def _listen(self, call_sid: str, url: str, first: Callable[[], bool] | None) -> bool:
        if first is not None and not first():
            return False
        return self._update(call_sid, url)

    def answered(self, call_sid: str, step: str, turn: int) -> bool:
        """The answer is stored: take the call to the step's action URL, where the IVR reads it."""
        if self._listening is not None:
            try:
                self._listening.result(timeout=LISTEN_WAIT_SECONDS)
            except Exception:  # noqa: BLE001 - logged in _update; the answer must still move the call
                pass
        return _pool.submit(self._update, call_sid, self.links.step(step, turn)).result()

    def _update(self, call_sid: str, url: str) -> bool:
        from twilio.base.exceptions import TwilioRestException

        for attempt, delay in enumerate((0.0,) + RETRY_DELAYS):
            time.sleep(delay)
            try:
                self.client.calls(call_sid).update(url=url, method="POST")
                return True
            except TwilioRestException as exc:
                if exc.status == 429 and attempt < len(RETRY_DELAYS):
                    continue
                # 4xx: the call has ended or moved on; nothing waits for this move.
                log.info("could not move a call on (Twilio answered %s, code %s)", exc.status, exc.code)
                return False
            except Exception:  # noqa: BLE001 - a network error: the Gather's own timeout still ends the question
                log.exception("could not move a call on")
                return False
        return False
