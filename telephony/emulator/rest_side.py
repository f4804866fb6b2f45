"""What Twilio's REST API (telephony/rest.py, called from the app's threads) asks of the running
network: a created call rings its party, an update moves a live call on, a queue member update dequeues
that caller (all queued as events for the driver), a message is recorded, the queues are read."""
from __future__ import annotations

from telephony.rest import rfc2822


class RestSide:
    def __init__(self, account):
        self.account = account

    def call_created(self, record: dict) -> None:
        self.account.events.post(("dial_out", record))

    def call_updated(self, sid: str, form: dict) -> None:
        self.account.events.post(("update", sid, dict(form)))

    def dequeue(self, queue_name: str, call_sid: str, url: str, method: str) -> None:
        self.account.events.post(("member_update", queue_name, call_sid, url, method))

    def message(self, message: dict) -> None:
        self.account.messages.append(message)
        self.account.listeners.notify("message", None, **message)

    def queues(self) -> list[dict]:
        em = self.account
        return [{"sid": q.sid, "name": q.name, "members": [
            {"call_sid": c.sid, "wait_time": q.time_of(c), "date_enqueued": rfc2822(em.clock())} for c in q.members],
            "average_wait": q.average_wait} for q in em.rooms.queue_map.values()]
