"""<Start><Stream>: forks the caller's audio to a WebSocket and does not block (streams.py)."""
from __future__ import annotations

from telephony.emulator.streams import fork


def follow(run):
    fork(run.call, run.next_verb(), run.doc_url)
    return None
