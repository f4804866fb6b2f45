"""What can go wrong with an agent, in words a supervisor can act on.

Subclasses of CallbackError so app.py's existing handler turns them into 4xx problem responses.
"""
from callbacks.exceptions import CallbackError


class AgentError(CallbackError):
    status = 400


class AgentNotFound(AgentError):
    status = 404


class AgentExists(AgentError):
    status = 409


class AgentStateRefused(AgentError):
    """The agent is not in a state that allows this change (e.g. taking an agent offline mid-call)."""

    status = 409
