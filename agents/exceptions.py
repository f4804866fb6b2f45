"""What can go wrong with an agent, in words a supervisor can act on (web/errors.py renders them as 4xx)."""
from refusals import Refusal


class AgentError(Refusal):
    status = 400


class AgentNotFound(AgentError):
    status = 404
    code = "not_found"


class AgentExists(AgentError):
    status = 409
    code = "exists"


class AgentStateRefused(AgentError):
    """The agent is not in a state that allows this change (e.g. taking an agent offline mid-call)."""

    status = 409
    code = "state_refused"
