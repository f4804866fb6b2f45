"""Smaller hardening points: flask-limiter's Retry-After (the window's end, 60 s) replaced
the database 503's documented 5 s and rode on 422s too; agents' numbers ignored ALLOWED_COUNTRIES (+239
was accepted); NL 097 machine-to-machine numbers passed as mobile. (The Idempotency-Key point is built:
tests/webhooks/test_idempotency.py.)"""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from storage.db import make_sessionmaker
from tests.hardening.conftest import rows


@pytest.fixture
def database_gone(runtime, tmp_path):
    """The database file's folder is not there: every connection fails, as when the disk is gone."""
    working = runtime.sessions
    gone = create_engine(f"sqlite:///{tmp_path / 'missing' / 'ivr.sqlite3'}")
    runtime.sessions = make_sessionmaker(gone)
    yield
    runtime.sessions = working
    gone.dispose()


def test_a_503_says_retry_after_5_seconds_not_the_limit_window(app, database_gone):
    client = app.test_client()
    response = client.post("/api/callbacks", json={"phone": "+12125550142"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "X-RateLimit-Limit" in response.headers  # the limit did count this request


def test_only_a_429_carries_the_limits_retry_after(app, runtime):
    app.config.update(CALLBACK_LIMIT_PER_IP="2/minute")
    client = app.test_client()
    answers = [client.post("/api/callbacks", json=body) for body in
               ({"phone": "+12125550142"}, {"phone": "+12125550143", "colour": "blue"}, {"phone": "+12125550144"})]
    assert [a.status_code for a in answers] == [201, 422, 429]
    assert "Retry-After" not in answers[0].headers and "Retry-After" not in answers[1].headers
    assert 0 < int(answers[2].headers["Retry-After"]) <= 60


@pytest.mark.parametrize("address", ["+2392221234", "+2399812345", "+3197012345678"])
def test_an_agent_number_outside_the_allowed_countries_or_for_machines_is_refused(agents_api, runtime, address):
    response = agents_api.post("/api/agents", json={"name": "Ann", "address": address, "skills": ["billing"]})
    assert response.status_code == 400 and "cannot be an agent's number" in response.get_json()["detail"]
    assert rows(runtime)["agents"] == 0
    # An allowed country's number is fine (US is in the test set-up's ALLOWED_COUNTRIES).
    assert agents_api.post("/api/agents", json={"name": "Ann", "address": "+12125550199",
                                                "skills": ["billing"]}).status_code == 201


def test_a_dutch_machine_to_machine_number_is_not_called_back(app, runtime, generous_limits):
    client = app.test_client()
    response = client.post("/api/callbacks", json={"phone": "+31 970 1234 5678"})
    assert response.status_code == 422 and response.get_json()["code"] == "number_kind"
    assert rows(runtime)["queue_entries"] == 0
    assert client.post("/api/callbacks", json={"phone": "+31 6 1234 5678"}).status_code == 201
