"""Idempotency-Key on POST /api/callbacks, through the real API (SQLite, and PostgreSQL with
DATABASE_URL_TEST): a client that lost the answer asks again with the same key and body and gets the first
answer (status, callback, status link); another body under the same key is refused; keys expire."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from callbacks.idempotency import KEY_LIFETIME
from storage.models import IdempotencyKey, QueueEntry

BODY = {"phone": "+12125550142", "reason": "a question about my invoice", "language": "en-US"}


@pytest.fixture(autouse=True)
def generous_limits(app):
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute",
                      CALLBACK_LIMIT_STATUS_PER_IP="1000/minute")


def entries(runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(QueueEntry))


def test_the_same_key_and_body_answer_the_first_answer_again(app, runtime):
    client = app.test_client()
    key = str(uuid.uuid4())
    first = client.post("/api/callbacks", json=BODY, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    again = client.post("/api/callbacks", json=dict(reversed(list(BODY.items()))), headers={"Idempotency-Key": key})
    assert again.status_code == 201, again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.get_json()["id"] == first.get_json()["id"]
    # The status link the lost answer carried, token and all, and it works.
    assert again.get_json()["status_url"] == first.get_json()["status_url"]
    assert again.headers["Location"] == first.headers["Location"]
    token = first.get_json()["status_url"].split("token=", 1)[1]
    assert client.get(f"/api/callbacks/{first.get_json()['id']}?token={token}").status_code == 200
    assert entries(runtime) == 1
    # Without a key, the same body is the number's open callback: 200 and no link (the existing rule).
    plain = client.post("/api/callbacks", json=BODY)
    assert plain.status_code == 200 and "status_url" not in plain.get_json()
    # The token is not stored readable: only sealed with the key.
    with runtime.sessions() as session:
        row = session.scalars(select(IdempotencyKey)).one()
    assert token not in (row.sealed_token or "") and key not in row.key_hash


def test_the_same_key_with_another_body_is_refused_and_books_nothing(app, runtime):
    client = app.test_client()
    key = str(uuid.uuid4())
    assert client.post("/api/callbacks", json=BODY, headers={"Idempotency-Key": key}).status_code == 201
    other = client.post("/api/callbacks", json={**BODY, "phone": "+12125550143"}, headers={"Idempotency-Key": key})
    assert other.status_code == 422
    assert other.get_json()["code"] == "idempotency_key_reused"
    assert other.mimetype == "application/problem+json"
    assert entries(runtime) == 1


@pytest.mark.parametrize("key", ["short", "x" * 129, "has space in it ok", "nul\x00" * 5])
def test_a_malformed_key_is_a_400_and_books_nothing(app, runtime, key):
    response = app.test_client().post("/api/callbacks", json=BODY, headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert response.get_json()["code"] == "idempotency_key_invalid"
    assert entries(runtime) == 0


def test_a_key_is_forgotten_after_its_lifetime(app, runtime, clock):
    client = app.test_client()
    key = str(uuid.uuid4())
    first = client.post("/api/callbacks", json=BODY, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    clock.advance((KEY_LIFETIME - timedelta(seconds=1)).total_seconds())
    assert client.post("/api/callbacks", json=BODY, headers={"Idempotency-Key": key}).headers.get(
        "Idempotent-Replayed") == "true"
    clock.advance(1)
    later = client.post("/api/callbacks", json=BODY, headers={"Idempotency-Key": key})
    # Forgotten: asked afresh, the number's open callback answers 200 without a link, and no replay.
    assert later.status_code == 200 and "Idempotent-Replayed" not in later.headers
    assert "status_url" not in later.get_json()
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1  # the old row replaced


def test_the_same_key_sent_at_once_books_once_and_both_get_the_link(live_app, runtime):
    import requests

    key = str(uuid.uuid4())
    answers, start = [], threading.Barrier(8)

    def send():
        start.wait()
        answers.append(requests.post(f"{live_app}/api/callbacks", json=BODY, headers={"Idempotency-Key": key},
                                     timeout=60))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201] * 8, [(a.status_code, a.headers.get("Idempotent-Replayed"), a.json()) for a in answers]
    assert len({a.json()["status_url"] for a in answers}) == 1
    assert sum("Idempotent-Replayed" in a.headers for a in answers) == 7
    assert entries(runtime) == 1
