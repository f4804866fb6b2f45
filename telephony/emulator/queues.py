"""Twilio's queues (<Enqueue>, <Dial><Queue>, the Queues REST resource) and conference rooms."""
from __future__ import annotations

from typing import Callable

from telephony.emulator.basics import new_sid


class Queue:
    def __init__(self, name: str, now: Callable[[], float]):
        self.name = name
        self.sid = new_sid("QU")
        self.now = now
        self.members: list = []
        self.joined: dict[str, float] = {}
        self.waited: list[float] = []

    def join(self, call) -> None:
        self.members.append(call)
        self.joined[call.sid] = self.now()

    def remove(self, call) -> bool:
        if call in self.members:
            self.members.remove(call)
            self.waited.append(self.now() - self.joined.get(call.sid, self.now()))
            return True
        return False

    def time_of(self, call) -> int:
        return int(self.now() - self.joined.get(call.sid, self.now()))

    @property
    def average_wait(self) -> int:
        return int(sum(self.waited) / len(self.waited)) if self.waited else 0

    def params_for(self, call) -> dict:
        return {"QueueSid": self.sid, "QueuePosition": str(self.members.index(call) + 1 if call in self.members else 0),
                "QueueTime": str(self.time_of(call)), "AvgQueueTime": str(self.average_wait),
                "CurrentQueueSize": str(len(self.members))}


class Conference:
    def __init__(self, name: str):
        self.name = name
        self.sid = new_sid("CF")
        self.participants: list = []
        self.started = False
        self.ended = False
        self.enders: set[str] = set()

    def connected(self, call) -> list:
        return [c for c in self.participants if c is not call] if self.started else []


class Rooms:
    """The account's queues and conference rooms, by name (each made when first named)."""

    def __init__(self, now: Callable[[], float]):
        self.now = now
        self.queue_map: dict[str, Queue] = {}
        self.conferences: dict[str, Conference] = {}

    def queue(self, name: str) -> Queue:
        if name not in self.queue_map:
            self.queue_map[name] = Queue(name, self.now)
        return self.queue_map[name]

    def conference(self, name: str) -> Conference:
        if name not in self.conferences:
            self.conferences[name] = Conference(name)
        return self.conferences[name]

    def members(self) -> dict[str, list[str]]:
        """Who waits in each queue (call SIDs, front first)."""
        return {name: [c.sid for c in q.members] for name, q in self.queue_map.items()}

    def sids(self) -> dict[str, str]:
        return {name: q.sid for name, q in self.queue_map.items()}

    def drop_member(self, name: str, call_sid: str) -> None:
        queue = self.queue_map[name]
        queue.members = [c for c in queue.members if c.sid != call_sid]
