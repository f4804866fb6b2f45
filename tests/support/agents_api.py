"""Agents as an operator adds them: /api/agents with the bearer token, then set available (the way a
workforce tool or a softphone's presence does; people use the supervisor pages, which call the same
service)."""
from __future__ import annotations

TOKEN = "agents-api-token-for-the-tests"


def add_available(client, name: str, address: str, skills: list[str], wrap_up_seconds: int = 30) -> int:
    """POST /api/agents, then PUT its state to available; the caller set AGENTS_API_TOKEN=TOKEN."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    made = client.post("/api/agents", headers=auth, json={"name": name, "address": address, "skills": skills,
                                                           "wrap_up_seconds": wrap_up_seconds})
    assert made.status_code == 201, made.get_data(as_text=True)
    on = client.put(f"/api/agents/{made.get_json()['id']}/state", headers=auth, json={"state": "available"})
    assert on.status_code == 200 and on.get_json()["state"] == "available", on.get_data(as_text=True)
    return made.get_json()["id"]
