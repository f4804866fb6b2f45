"""<Leave>: in a queue's wait document, the caller leaves the queue (QueueResult=leave) and the
document after <Enqueue> goes on; anywhere else it is ignored."""
from __future__ import annotations

from telephony.emulator.waits import LeaveQueue


def follow(run):
    run.next_verb()
    if run.queue is None:
        run.call.log.append(("ignored", "<Leave> outside a queue"))
        return None
    raise LeaveQueue()
