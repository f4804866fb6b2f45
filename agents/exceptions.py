"""What can go wrong with an agent, in words a supervisor can act on (web/errors.py renders them as 4xx)."""
from refusals import NotFound, Refusal, StateRefused


class AgentError(Refusal):
    status = 400


class AgentNotFound(NotFound, AgentError):
    pass


class AgentExists(AgentError):
    status = 409
    code = "exists"


class AgentStateRefused(StateRefused, AgentError):
    """The agent is not in a state that allows this change (e.g. taking an agent offline mid-call)."""

    code = "state_refused"
