"""The live driver (people: the browser dev phone): a worker thread with real timers (prompt lengths
from the text or reported by a client, Gather timeouts, Pause, ring timeouts, answering-machine
detection) that takes actions from other threads (`press`, `answer`, ...) as events."""
from __future__ import annotations

import heapq
import itertools
import logging
import math
import threading
import time

from telephony.emulator.ending import ring_out
from telephony.emulator.events import process_events
from telephony.emulator.program import start
from telephony.emulator.status import send_amd
from telephony.emulator.stepping import announce, resume
from telephony.emulator.streams import caller_streams
from telephony.emulator.waits import GatherInput, QueueDial, Segment, Target
from telephony.rest import ENDED

log = logging.getLogger("telephony")


class LiveDriver:
    def __init__(self, account):
        self.account = account
        self._timers: list = []
        self._timer_seq = itertools.count()
        self._worker: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        em = self.account
        if self._worker is not None:
            return
        em.time.start_real_time()
        self._stopping = False
        self._worker = threading.Thread(target=self._loop, name="twilio-emulator", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        if self._worker is None:
            return
        self._stopping = True
        self.account.events.post(("noop",))
        self._worker.join(5)
        self._worker = None

    # ---- what people do (any thread) -------------------------------------------------------------

    def call(self, from_number: str, to_number: str, client_paces_prompts: bool) -> str:
        em = self.account
        with em.driving():
            call = em.exchange.call_in(from_number, to_number)
            call.client_paces_prompts = client_paces_prompts
        em.events.post(("run", lambda: start(call, Target(em.directory.voice_url_for(to_number), "POST"))))
        return call.sid

    def press(self, sid: str, digit: str) -> None:
        if digit not in "0123456789*#" or len(digit) != 1:
            raise ValueError("one key: 0-9, * or #")
        self.account.events.post(("key", self._call(sid), digit))

    def hang_up(self, sid: str) -> None:
        self.account.events.post(("hang_up", self._call(sid)))

    def answer(self, sid: str, answered_by: str | None = None) -> None:
        self.account.events.post(("answer", self._call(sid), answered_by))

    def audio(self, sid: str, mulaw: bytes) -> None:
        for stream in caller_streams(self._call(sid)):
            stream.send_audio(mulaw, paced=True)

    def prompt_done(self, sid: str, index: int | None = None) -> None:
        call = self._call(sid)
        state = call.wait_state
        if isinstance(state, Segment):
            self.account.events.post(("prompt_done", call, state, state.pos if index is None else index))

    def _call(self, sid: str):
        call = self.account.calls.get(sid)
        if call is None:
            raise KeyError(f"no call {sid} in this emulator")
        return call

    # ---- the worker and its timers ----------------------------------------------------------------

    def _loop(self) -> None:
        em = self.account
        cond = em.events.cond
        while not self._stopping:
            with cond:
                delay = (self._timers[0][0] - time.monotonic()) if self._timers else 0.5
                if not em.events and delay > 0:
                    cond.wait(min(delay, 0.5))
            now = time.monotonic()
            due = []
            with cond:
                while self._timers and self._timers[0][0] <= now:
                    due.append(heapq.heappop(self._timers))
            try:
                with em.driving():
                    for entry in due:
                        self.fire(entry)
                    process_events(em)
            except Exception:  # noqa: BLE001 - keep the network up for the other calls
                log.exception("emulator worker")

    def schedule(self, seconds: float, call, expected, what) -> None:
        cond = self.account.events.cond
        with cond:
            heapq.heappush(self._timers, (time.monotonic() + seconds, next(self._timer_seq), call, expected, what))
            cond.notify_all()

    def fire(self, entry) -> None:
        _, _, call, expected, what = entry
        if call.status in ENDED:
            return
        if what[0] == "auto_answer":
            self.account.exchange.auto_answer(call, what[1])
        elif what[0] == "amd_verdict":
            if call.amd_pending:
                send_amd(call, what[1])
        elif what[0] == "ring_timeout":
            if call.status in ("queued", "ringing"):
                ring_out(call, "no-answer")
        elif expected is not None and call.wait_state is not expected:
            return
        elif what[0] == "item":
            segment, index = expected, what[1]
            if segment.pos == index:
                self.next_item(call, segment)
        else:
            resume(call, expected, what)

    def next_item(self, call, segment: Segment) -> None:
        segment.pos += 1
        if segment.pos >= len(segment.items):
            resume(call, segment, None)
            return
        announce(call, segment, segment.items[segment.pos])
        self.arm(call)

    def arm(self, call) -> None:
        """The timer of what the call waits for now."""
        state = call.wait_state
        if call.status in ENDED:
            return
        if call.status in ("queued", "ringing") and call.direction != "inbound" and call.ring_deadline is not None:
            self.schedule(max(0.0, call.ring_deadline - self.account.now()), call, None, ("ring_timeout",))
        if isinstance(state, Segment) and state.pos < len(state.items):
            item = state.items[state.pos]
            if math.isfinite(item.seconds) and not (item.kind == "say" and call.client_paces_prompts):
                self.schedule(item.seconds, call, state, ("item", state.pos))
        elif isinstance(state, GatherInput):
            self.schedule(state.gather.timeout, call, state, ("timeout",))
        elif isinstance(state, QueueDial):
            self.schedule(state.timeout, call, state, ("timeout",))
