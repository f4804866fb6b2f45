"""What can go wrong with a callback, in words a person can act on. web/errors.py renders these as 4xx."""
from refusals import Refusal


class CallbackError(Refusal):
    status = 400


class EntryNotFound(CallbackError):
    status = 404
    code = "not_found"


class TransitionRefused(CallbackError):
    """The entry is not in a state that allows this (e.g. cancelling a completed callback)."""

    status = 409
    code = "transition_refused"


class StaleEntry(CallbackError):
    """Someone else changed the entry first; reload and try again."""

    status = 409
    code = "stale"
