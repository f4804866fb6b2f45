"""A speech worker process (`python -m speech.pocketsphinx_worker IN_FD OUT_FD`), started by
speech/pool.py's DecoderPool: PocketSphinx decoders of its own, fed over two pipes.

Kept apart from the pool so that the pool (the parent's side) does not import the engine that
owns it: the engine imports the pool, and this module imports the engine's decoders.
"""
from __future__ import annotations

import signal
import sys
from collections import deque
from multiprocessing.connection import Connection

from speech.audio import rms_dbfs
from speech.pocketsphinx_engine import LocalDecoders, SearchSpec
from speech.pool import EMPTY_RESULT
from speech.session import SessionLimits

DECODE_SLICE = 5  # frames (100 ms) of one stream's backlog decoded before the pipe is looked at again


def _worker_main(conn_in: Connection, conn: Connection) -> None:
    """A worker process: one stream table; frames are queued per stream, requests answered first.

    Frames come in batches per stream (speech/pool.py: BATCH_FRAMES) and are decoded one by one, as they
    came from the caller. Frames are not decoded in the order they arrive: a stream whose result is asked for (`p`,
    `f`) has its own queued frames decoded at once and is answered, ahead of other streams'
    backlog. The backlog is decoded a slice per stream at a time whenever the pipe is empty.
    When every caller speaks at once the worker falls behind; this way a caller who has
    finished waits for their own words only, not for everyone else's (bench/speech_capacity.py).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    decoders = LocalDecoders()
    streams: dict[int, object] = {}
    queued: dict[int, deque] = {}  # stream -> frames received, not decoded yet
    turns: deque = deque()  # streams with queued frames, round robin
    pausing: set[int] = set()  # streams whose last frame was quiet: their result will be asked for first
    voice_dbfs = SessionLimits().speech_dbfs

    def decode(sid: int, frames: int | None = None) -> None:
        """Decode `frames` of the stream's queued frames (all of them when None)."""
        rec, backlog = streams.get(sid), queued.get(sid)
        if rec is None or not backlog:
            return
        for _ in range(len(backlog) if frames is None else min(frames, len(backlog))):
            rec.accept(backlog.popleft())

    def forget(sid: int):
        queued.pop(sid, None)
        pausing.discard(sid)
        return streams.pop(sid, None)

    conn.send(("ready",))
    while True:
        if turns and not conn_in.poll(0):
            sid = next((s for s in turns if s in pausing), None)
            if sid is None:
                sid = turns.popleft()
            else:
                turns.remove(sid)
            decode(sid, DECODE_SLICE)
            if queued.get(sid):
                turns.append(sid)
            continue
        try:
            message = conn_in.recv()
        except (EOFError, OSError):
            return  # the parent went away
        op = message[0]
        try:
            if op == "a":  # a batch of one stream's frames, in order
                backlog, frames = queued.get(message[1]), message[2]
                if backlog is not None and frames:
                    (pausing.add if rms_dbfs(frames[-1]) < voice_dbfs else pausing.discard)(message[1])
                    if not backlog:
                        turns.append(message[1])
                    backlog.extend(frames)
            elif op == "o":
                _, sid, sample_rate, spec = message
                try:
                    streams[sid] = decoders.recognizer(sample_rate, SearchSpec(*spec))
                    queued[sid] = deque()
                except Exception as exc:  # a broken search: the stream gets no words
                    conn.send(("r", -sid, ("", 0.0, f"{type(exc).__name__}: {exc}")))
            elif op in ("p", "f"):
                _, sid, request = message
                decode(sid)
                rec = streams.get(sid)
                if rec is None:
                    hyp = EMPTY_RESULT
                elif op == "p":
                    hyp = rec.partial()
                else:
                    hyp = rec.finish()
                    forget(sid)
                conn.send(("r", request, (hyp.transcript, hyp.confidence, None)))
            elif op == "c":
                rec = forget(message[1])
                if rec is not None:
                    rec.close()
            elif op == "prepare":
                decoders.prepare([SearchSpec(*spec) for spec in message[2]], message[3])
                conn.send(("r", message[1], ("", 0.0, None)))
            elif op == "stop":
                return
        except (BrokenPipeError, EOFError, OSError):
            return


if __name__ == "__main__":
    _worker_main(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
