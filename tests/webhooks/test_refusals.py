"""One refusal type, rendered in one place (web/errors.py): problem+json for APIs, HTML for browsers,
plain text for Twilio."""
from agents.exceptions import AgentError
from callbacks.exceptions import CallbackError
from refusals import Refusal

TOKEN = "agents-api-token-for-tests"


def test_agent_refusals_are_refusals_not_callback_errors():
    assert issubclass(AgentError, Refusal) and not issubclass(AgentError, CallbackError)


def test_an_agent_refusal_is_problem_json_with_its_status_and_code(app, monkeypatch):
    monkeypatch.setenv("AGENTS_API_TOKEN", TOKEN)
    response = app.test_client().get("/api/agents/987654", headers={"Authorization": f"Bearer {TOKEN}",
                                                                    "Accept": "text/html"})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert response.json["status"] == 404 and response.json["code"] == "not_found"
    assert "987654" in response.json["detail"]


def test_a_browser_gets_a_page_and_twilio_plain_text(app):
    client = app.test_client()
    page = client.get("/no-such-page", headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert b"<h1>Not Found</h1>" in page.data
    twilio = client.get("/no-such-page", headers={"Accept": "*/*"})
    assert twilio.status_code == 404 and twilio.mimetype == "text/plain"
    machine = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert machine.status_code == 404 and machine.mimetype == "application/problem+json"
