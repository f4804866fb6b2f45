"""Decoding in worker processes, behind the Recognizer interface.

PocketSphinx holds Python's GIL while it decodes, so in one process every live
stream shares one core. A DecoderPool starts `size` worker processes (one per
core by default); each keeps its own decoders and builds each search (language
model or grammar) once, the first time a stream needs it. A stream stays on the
worker it was opened on (its decoder state lives there) and the worker with the
fewest open streams gets the next one.

The worker's side is speech/pocketsphinx_worker.py, run as its own interpreter.

The caller's thread sends a stream's frames down a pipe BATCH_FRAMES at a time (one message per
100 ms of audio instead of one per 20 ms frame: Twilio sends 50 frames a second per call, and each
message wakes the worker); `partial` and `finish` send what is held first and wait for the
worker's answer, and the worker answers them ahead of other streams' queued frames. A worker that dies is replaced; streams it
held end with no words (the session treats that like silence) and are logged.

`ask_any` (one whole request to any worker: Whisper's held answers) can refuse a request at once when
the workers' queue would not be through in time (`admit_within`), from the pace the workers report.
"""
from __future__ import annotations

import atexit
import itertools
import logging
import os
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

from speech.abc import Hypothesis

log = logging.getLogger(__name__)

ENGINE_NAME = "pocketsphinx"
REPLY_TIMEOUT = 30.0  # seconds; a worker that cannot answer in this time is stuck
EMPTY_RESULT = Hypothesis("", 0.0, ENGINE_NAME, final=True)
SERVICE_SMOOTHING = 0.3  # weight of the newest decode time in DecoderPool.service_seconds
BATCH_FRAMES = 5  # frames of one stream per message to its worker (100 ms of Twilio's 20 ms frames)


class _Worker:
    def __init__(self, pool: "DecoderPool", index: int):
        # A fresh interpreter (`python -m speech.pocketsphinx_worker`), not multiprocessing's spawn: that re-runs
        # the parent's main script in the child, which breaks servers and scripts without a
        # __main__ guard; and never fork a threaded server. Two pipes carry pickled messages.
        to_child_r, to_child_w = os.pipe()
        to_parent_r, to_parent_w = os.pipe()
        env = {**os.environ, **pool.worker_env}
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.process = subprocess.Popen(
            [sys.executable, "-m", pool.worker_module, str(to_child_r), str(to_parent_w)],
            pass_fds=(to_child_r, to_parent_w), env=env, cwd=root, stdin=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(to_parent_w)
        if pool.nice:
            try:  # lower only: any process may lower its children's priority
                os.setpriority(os.PRIO_PROCESS, self.process.pid, os.getpriority(os.PRIO_PROCESS, 0) + pool.nice)
            except OSError:
                pass
        self.conn_out = Connection(to_child_w, readable=False)
        self.conn_in = Connection(to_parent_r, writable=False)
        self.pool = pool
        self.index = index
        self.send_lock = threading.Lock()
        self.open_streams = 0
        self.alive = True
        self.ready = threading.Event()
        self.reported = None  # what the worker sent with "ready" (a Whisper worker: its warm-up)
        self.started = False  # it reported ready (a death before that is counted: RESTART_BACKOFF_SECONDS)
        self.reader = threading.Thread(target=self._read, daemon=True, name=f"speech-worker-{index}-reader")
        self.reader.start()

    def send(self, message) -> bool:
        if not self.alive:
            return False
        try:
            with self.send_lock:
                self.conn_out.send(message)
            return True
        except (BrokenPipeError, EOFError, OSError):
            self._died()
            return False

    def _read(self) -> None:
        while True:
            try:
                message = self.conn_in.recv()
            except (EOFError, OSError):
                self._died()
                return
            if message[0] == "ready":
                self.reported = message[1] if len(message) > 1 else None
                self.started = True
                self.ready.set()
            elif message[0] == "t":  # how long the worker took to decode one request
                self.pool._timed(message[1])
            elif message[0] == "r":
                self.pool._reply(message[1], message[2])

    def _died(self) -> None:
        if self.alive:
            self.alive = False
            self.ready.set()
            if not self.pool.closed:
                log.error("speech worker %d stopped (exit code %s); its streams end without words",
                          self.index, self.process.poll())
            self.pool._worker_died(self)


class PooledRecognizer:
    """A stream decoded in a worker process; same contract as speech.abc.Recognizer."""

    def __init__(self, pool: "DecoderPool", worker: _Worker, sid: int, sample_rate: int):
        self._pool = pool
        self._worker = worker
        self._sid = sid
        self.sample_rate = sample_rate
        self._finished: Hypothesis | None = None
        self._batch: list[bytes] = []  # frames not sent yet

    def accept(self, pcm16: bytes) -> Hypothesis:
        if self._finished is None:
            self._batch.append(pcm16)
            if len(self._batch) >= BATCH_FRAMES:
                self._send_batch()
        return self._finished or Hypothesis("", 0.0, ENGINE_NAME, final=False)

    def _send_batch(self) -> None:
        if self._batch:
            batch, self._batch = self._batch, []
            self._worker.send(("a", self._sid, batch))  # the frames as they came: the worker decodes each

    def partial(self) -> Hypothesis:
        if self._finished is not None:
            return self._finished
        self._send_batch()
        text, confidence = self._pool._ask(self._worker, "p", self._sid)
        return Hypothesis(text, confidence, ENGINE_NAME, final=False)

    def finish(self) -> Hypothesis:
        if self._finished is None:
            self._send_batch()
            text, confidence = self._pool._ask(self._worker, "f", self._sid)
            self._finished = Hypothesis(text, confidence, ENGINE_NAME, final=True)
            self._pool._closed_stream(self._worker)
        return self._finished

    def close(self) -> None:
        if self._finished is None:
            self._batch = []
            self._worker.send(("c", self._sid))
            self._finished = EMPTY_RESULT
            self._pool._closed_stream(self._worker)


# Waits before starting again a worker that keeps dying before it is ready (the first death: at once).
RESTART_BACKOFF_SECONDS = (1, 2, 4, 8, 16, 30, 60)


class DecoderPool:
    """`size` worker processes running `python -m <worker_module>` (PocketSphinx decoders by default;
    speech.whisper_engine runs its model in one the same way), with `worker_env` added to their
    environment and `nice` added to this process's niceness (0: the same priority)."""

    def __init__(self, size: int, worker_module: str = "speech.pocketsphinx_worker", worker_env: dict | None = None,
                 nice: int = 0):
        self.worker_module = worker_module
        self.worker_env = dict(worker_env or {})
        self.nice = nice
        self.closed = False
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._waiting: dict[int, tuple[threading.Event, list, _Worker]] = {}
        self.service_seconds: float | None = None  # a worker's recent time per request (ask_any), smoothed
        # Not waiting for the workers to be ready: what is sent meanwhile waits in their pipes.
        self._workers = [_Worker(self, i) for i in range(size)]
        self._early_deaths = [0] * size  # deaths in a row before ready, per worker index
        atexit.register(self.close)  # stop the workers before the interpreter tears down

    def ready(self) -> bool:
        """Whether a worker is up (until then the engine decodes in its own process)."""
        return any(w.alive and w.ready.is_set() for w in self._workers)

    @property
    def size(self) -> int:
        return len(self._workers)

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers]

    def recognizer(self, sample_rate: int, spec) -> PooledRecognizer:
        with self._lock:
            live = [w for w in self._workers if w.alive]
            worker = min(live, key=lambda w: w.open_streams) if live else None
            if worker is not None:
                worker.open_streams += 1
            sid = next(self._ids)
        if worker is None or not worker.send(("o", sid, sample_rate, tuple(spec))):
            raise RuntimeError("no speech worker is running")
        return PooledRecognizer(self, worker, sid, sample_rate)

    def _send_request(self, worker: _Worker, message) -> tuple[int, threading.Event, list] | None:
        """Send `message(request_id)` to the worker; what to wait on for its reply, or None if unsent."""
        request = next(self._ids)
        event, slot = threading.Event(), []
        with self._lock:
            self._waiting[request] = (event, slot, worker)
        if worker.send(message(request)):
            return request, event, slot
        with self._lock:
            self._waiting.pop(request, None)
        return None

    def _await_reply(self, pending: tuple[int, threading.Event, list] | None, timeout: float):
        """The worker's reply to a request _send_request sent, or None (unsent, timed out, or the worker died)."""
        if pending is None:
            return None
        request, event, slot = pending
        if event.wait(timeout) and slot:
            return slot[0]
        with self._lock:
            self._waiting.pop(request, None)
        return None

    def _ask(self, worker: _Worker, op: str, sid: int) -> tuple[str, float]:
        reply = self._await_reply(self._send_request(worker, lambda request: (op, sid, request)), REPLY_TIMEOUT)
        return (reply[0], reply[1]) if reply else ("", 0.0)

    def ask_any(self, message, timeout: float, admit_within: float | None = None):
        """Send `message(request_id)` to the least busy ready worker and wait for its reply: None when no
        worker is ready, it died meanwhile, or it did not answer within `timeout` seconds.

        Admission (`admit_within` seconds): when that worker is busy and the requests it holds, plus this
        one, would take longer than that at its recent pace, nothing is sent and the answer is None at
        once. An idle worker always takes the request (that is also how its pace is measured again)."""
        with self._lock:
            live = [w for w in self._workers if w.alive and w.ready.is_set()]
            worker = min(live, key=lambda w: w.open_streams) if live else None
            if worker is None:
                return None
            if admit_within is not None and worker.open_streams and self.service_seconds is not None \
                    and (worker.open_streams + 1) * self.service_seconds > admit_within:
                return None
            worker.open_streams += 1
        try:
            return self._await_reply(self._send_request(worker, message), timeout)
        finally:
            self._closed_stream(worker)

    def _timed(self, seconds: float) -> None:
        with self._lock:
            last = self.service_seconds
            self.service_seconds = seconds if last is None else last + SERVICE_SMOOTHING * (seconds - last)

    def in_flight(self) -> int:
        """Requests and streams the workers hold now."""
        with self._lock:
            return sum(w.open_streams for w in self._workers if w.alive)

    def _reply(self, request: int, value) -> None:
        if request < 0:  # the worker could not open stream -request
            log.error("speech worker could not open a stream: %s", value[2])
            return
        with self._lock:
            waiting = self._waiting.pop(request, None)
        if waiting is not None:
            waiting[1].append(value)
            waiting[0].set()

    def _closed_stream(self, worker: _Worker) -> None:
        with self._lock:
            worker.open_streams = max(0, worker.open_streams - 1)

    def _worker_died(self, worker: _Worker) -> None:
        with self._lock:
            theirs = [r for r, (_, _, w) in self._waiting.items() if w is worker]
            waiting = [self._waiting.pop(r) for r in theirs]
        for event, _, _ in waiting:
            event.set()  # nobody waits for a dead worker
        if self.closed:
            return
        delay = 0
        with self._lock:
            if worker.started:  # died at work: replaced at once
                self._early_deaths[worker.index] = 0
            else:  # died before it was ready (a model it cannot load, a crash in its warm-up): not in a tight loop
                deaths = self._early_deaths[worker.index] = self._early_deaths[worker.index] + 1
                if deaths > 1:
                    delay = RESTART_BACKOFF_SECONDS[min(deaths - 2, len(RESTART_BACKOFF_SECONDS) - 1)]
        if not delay:
            self._replace(worker)
            return
        log.error("speech worker %d died before it was ready %d times in a row; starting it again in %d s",
                  worker.index, self._early_deaths[worker.index], delay)
        timer = threading.Timer(delay, self._replace, args=(worker,))
        timer.daemon = True
        timer.start()

    def _replace(self, worker: _Worker) -> None:
        with self._lock:
            if self.closed or worker not in self._workers:
                return
            self._workers[self._workers.index(worker)] = _Worker(self, worker.index)

    def prepare(self, specs, decoders_per_worker: int) -> None:
        """Every worker builds its decoders and searches now (in parallel), not on first use."""
        for worker in self._workers:
            worker.ready.wait(120)
        specs = [tuple(s) for s in specs]
        pending = [self._send_request(w, lambda request: ("prepare", request, specs, decoders_per_worker))
                   for w in self._workers]
        for sent in pending:
            self._await_reply(sent, 300)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for worker in self._workers:
            worker.send(("stop",))
        for worker in self._workers:
            try:
                worker.process.wait(5)
            except subprocess.TimeoutExpired:
                worker.process.kill()
