"""Prompts from the operator's configuration, filled in and spoken in the caller's language."""
from __future__ import annotations

import math

from config import IvrConfig


class Prompts:
    def __init__(self, config: IvrConfig, language: str):
        self.config = config
        self.language = language if language in config.prompts else config.default_language
        self.table = config.prompts[self.language]

    @property
    def voice(self) -> str | None:
        return self.table.get("voice")

    def text(self, key: str, **values) -> str:
        template = self.table[key]
        return template.format(company=self.config.company_name, **values)

    def wait(self, seconds: int) -> str:
        """A wait rounded up to whole minutes, as a person would say it."""
        if seconds < 60:
            return self.table["less_than_a_minute"]
        minutes = math.ceil(seconds / 60)
        if minutes == 1:
            return self.table["minutes_one"]
        return self.table["minutes_many"].format(n=minutes)

    def reason(self, code: str) -> str:
        return self.table.get(f"reason_{code}", self.table["reason_invalid"])
