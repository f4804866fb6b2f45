"""Who hears what happens on the network (the dev phone's event stream, tests): each event is a dict
with its type and the call's SID and numbers. A listener that fails never breaks the network."""
from __future__ import annotations

import logging
from typing import Callable

log = logging.getLogger("telephony")


class Listeners:
    def __init__(self, account):
        self.account = account
        self._listeners: list[Callable[[dict], None]] = []

    def subscribe(self, listener: Callable[[dict], None]) -> None:
        self._listeners.append(listener)

    def notify(self, kind: str, call, **details) -> None:
        if not self._listeners:
            return
        event = {"type": kind, "call_sid": call.sid if call else None, "to": call.to_number if call else None,
                 "from": call.from_number if call else None, **details}
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a listener must not break the telephone network
                log.exception("emulator listener failed")

    def changed(self, call) -> None:
        """What `call` waits for changed: the live driver arms its timer; listeners hear its state."""
        if self.account.live:
            self.account.live_driver.arm(call)
        self.notify("state", call, wait=call.describe_wait(), queue=call.queue, conference=call.conference)
