"""What can go wrong with a callback, in words a person can act on. web/errors.py renders these as 4xx."""
from refusals import NotFound, Refusal, StateRefused


class CallbackError(Refusal):
    status = 400


class EntryNotFound(NotFound, CallbackError):
    pass


class TransitionRefused(StateRefused, CallbackError):
    """The entry is not in a state that allows this (e.g. cancelling a completed callback)."""

    code = "transition_refused"


class StaleEntry(StateRefused, CallbackError):
    """Someone else changed the entry first; reload and try again."""

    code = "stale"
