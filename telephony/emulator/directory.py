"""The account's numbers (where each one's voice and status URLs point at the app) and the phones
that answer calls to other addresses (agents, customers), each with how it answers."""
from __future__ import annotations

from telephony.emulator.basics import ANSWERS
from telephony.emulator.exchange import Phone


class Directory:
    def __init__(self, public_base: str, voice_path: str, status_path: str | None):
        self.public_base = public_base
        self.voice_path = voice_path
        self.status_path = status_path
        self.numbers: dict[str, dict] = {}
        self.phones: dict[str, Phone] = {}

    def phone(self, address: str, answer: str = "manual", ring_seconds: float = 2.0) -> Phone:
        if answer not in ANSWERS:
            raise ValueError(f"answer must be one of {ANSWERS}")
        self.phones[address] = Phone(address, answer, ring_seconds)
        return self.phones[address]

    def voice_url_for(self, number: str) -> str:
        return self.numbers.get(number, {}).get("voice_url") or self.public_base + self.voice_path

    def status_url_for(self, number: str) -> str | None:
        found = self.numbers.get(number, {})
        return found.get("status_url", self.public_base + self.status_path if self.status_path else None)
