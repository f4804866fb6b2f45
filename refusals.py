"""The one shape of a refusal: what a person or a program asked that we will not do, and why.

Every domain refusal (a callback, an agent, a number, a time, a call's turn, a supervisor's input)
derives from `Refusal`, which carries what a caller needs to act on it: the HTTP `status`, a stable
`code`, the `field` at fault (a JSON pointer, or None) and the message. Domain code raises them
without knowing about the web; web/errors.py renders any of them, once, as application/problem+json
for APIs, a small HTML page for browsers, or plain text (Twilio).
"""
from __future__ import annotations


class Refusal(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra: dict = {}  # more members of the problem, for a program to act on (e.g. next_free)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class NotFound(Refusal):
    """The thing asked about does not exist (or is not yours to see)."""

    status = 404
    code = "not_found"


class StateRefused(Refusal):
    """The thing is not in a state that allows this change; `code` names the domain's reason."""

    status = 409


class RequestRefused(Refusal):
    """A request we will not take as it is (a body that is not JSON, a field that is wrong)."""

    status = 422


# Why a number or a time is refused: declared once here. Each is told to a person as `reason_<code>` in
# config/ivr.toml (both languages; config.Prompts.reason), and the API's problem `code` carries it.
REASONS = ("emergency", "premium", "invalid", "country", "kind", "extension",  # numbers
           "past", "closed", "horizon", "format", "dst_gap", "full")  # times


class ReasonedRefusal(Refusal, ValueError):
    """A value refused for a stable `reason` (also its `code`), one of REASONS, e.g. a number or a time."""

    status = 422

    def __init__(self, reason: str, message: str):
        if reason not in REASONS:
            raise ValueError(f"{reason!r} is not one of refusals.REASONS; declare it there with its wording")
        super().__init__(message, code=reason)
        self.reason = reason
