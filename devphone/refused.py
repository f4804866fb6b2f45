"""What a browser asked of the dev phone cannot be done."""
from __future__ import annotations

from refusals import Refusal


class Refused(Refusal, ValueError):
    """`status` is the HTTP status to answer with (web/errors.py renders it as problem+json)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message, status=status)
