"""Small helpers the benches share (import as `from common import ...`: a bench's own folder is on its path)."""
from __future__ import annotations

import threading


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process (this one by default), in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_threads(threads: list[threading.Thread]) -> None:
    """Start every thread, then wait for all of them."""
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def last_voice_frame(pcm16: bytes, threshold_dbfs: float, frame_bytes: int = 320) -> int:
    """Index of the last frame (20 ms of 8 kHz 16-bit audio by default) louder than the threshold."""
    from speech.audio import rms_dbfs

    last = 0
    for i in range(0, len(pcm16), frame_bytes):
        if rms_dbfs(pcm16[i:i + frame_bytes]) >= threshold_dbfs:
            last = i // frame_bytes
    return last


def time_stored_answers() -> dict:
    """Record when /media stores each answer: {call_sid: (time.monotonic(), outcome)}, filled as the app stores
    them (webhooks.media._store wrapped in this process)."""
    import time

    from webhooks import media

    stored_at: dict = {}
    real_store = media._store

    def timed_store(claims, outcome):
        stored = real_store(claims, outcome)
        stored_at[claims["call_sid"]] = (time.monotonic(), outcome)
        return stored

    media._store = timed_store
    return stored_at
