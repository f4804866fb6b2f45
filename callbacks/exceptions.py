"""What can go wrong with a callback, in words a person can act on. The web layer maps these to 4xx."""


class CallbackError(Exception):
    status = 400


class EntryNotFound(CallbackError):
    status = 404


class TransitionRefused(CallbackError):
    """The entry is not in a state that allows this (e.g. cancelling a completed callback)."""

    status = 409


class StaleEntry(CallbackError):
    """Someone else changed the entry first; reload and try again."""

    status = 409
