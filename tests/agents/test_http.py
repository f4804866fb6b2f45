import pytest

TOKEN = "agents-api-token-for-tests"


@pytest.fixture
def api(app, monkeypatch):
    monkeypatch.setenv("AGENTS_API_TOKEN", TOKEN)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def call(method, path, json=None, token=True):
        return client.open(path, method=method, json=json, headers=headers if token else {})

    return call


def test_the_api_is_off_without_a_token(app, monkeypatch):
    monkeypatch.delenv("AGENTS_API_TOKEN", raising=False)
    response = app.test_client().get("/api/agents")
    assert response.status_code == 503 and response.mimetype == "application/problem+json"


def test_wrong_or_missing_token_is_refused(api, app):
    assert api("GET", "/api/agents", token=False).status_code == 401
    ann = {"name": "Ann", "address": "+14155550101", "skills": ["billing"]}
    assert api("POST", "/api/agents", ann, token=False).status_code == 401
    wrong = app.test_client().post("/api/agents", json=ann, headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert api("GET", "/api/agents").json["agents"] == []  # nothing was added


def test_add_list_change_state_remove(api):
    created = api("POST", "/api/agents", {"name": "Ann", "address": "+14155550101", "skills": {"billing": 8}})
    assert created.status_code == 201 and created.json["state"] == "offline"
    agent_id = created.json["id"]
    assert api("PUT", f"/api/agents/{agent_id}/state", {"state": "available"}).json["state"] == "available"
    assert [a["name"] for a in api("GET", "/api/agents?skill=billing&state=available").json["agents"]] == ["Ann"]
    changed = api("PATCH", f"/api/agents/{agent_id}", {"skills": ["billing", "sales"], "wrap_up_seconds": 15})
    assert changed.json["skills"] == {"billing": 5, "sales": 5} and changed.json["wrap_up_seconds"] == 15
    assert api("GET", "/api/agents/Ann").json["id"] == agent_id
    assert api("DELETE", f"/api/agents/{agent_id}").status_code == 204
    assert api("GET", f"/api/agents/{agent_id}").status_code == 404


@pytest.mark.parametrize("body, status, words", [
    ({"name": "Bo", "address": "nope", "skills": ["billing"]}, 400, "not a way to reach"),
    ({"name": "Bo", "address": "+14155550101", "skills": ["cooking"]}, 400, "unknown skill"),
    ("not json", 400, "JSON object"),
])
def test_bad_requests_get_a_problem_that_says_why(api, body, status, words):
    response = api("POST", "/api/agents", body)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert words in response.json["detail"]
    assert api("GET", "/api/agents").json["agents"] == []  # nothing was added


def test_the_api_cannot_pose_as_the_call_machinery(api, runtime, clock):
    from agents import services as agents
    from storage.db import transaction

    with transaction(runtime.sessions) as s:
        a = agents.add_agent(s, name="Cy", address="client:cy", skills=["billing"], now=clock.now(), state="available")
        agents.set_state(s, a, "reserved", clock.now(), actor="dispatcher", entry_id=1)
    response = api("PUT", "/api/agents/Cy/state", {"state": "offline", "actor": "dispatcher"})
    assert response.status_code == 409 and "when that call ends" in response.json["detail"]
    assert api("GET", "/api/agents/Cy").json["state"] == "reserved"  # unchanged
