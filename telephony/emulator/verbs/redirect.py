"""<Redirect>: the next document (GET or POST); in a queue's wait document it carries the queue's
parameters."""
from __future__ import annotations

from urllib.parse import urljoin

from telephony.emulator.waits import Target


def follow(run) -> Target:
    verb = run.next_verb()
    return Target(urljoin(run.doc_url or "", (verb.text or "").strip()), verb.attrib.get("method", "POST").upper(),
                  run.queue_params())
