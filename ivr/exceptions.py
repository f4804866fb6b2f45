"""The call flow's refusals: a request that names a call we never saw, or a turn it has not reached."""
from __future__ import annotations

from refusals import Refusal


class UnknownCall(Refusal, LookupError):
    status = 404
    code = "unknown_call"


class TurnMismatch(Refusal, ValueError):
    """A request for a turn this call has not reached: not something Twilio would send."""

    status = 409
    code = "out_of_turn"
