"""Fixtures for the supervisor pages: users, a signed-in test client, and callbacks to steer."""
from __future__ import annotations

import re

import pytest

from callbacks import services as callbacks
from storage.db import transaction
from supervisor import auth

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def users(runtime, clock):
    with transaction(runtime.sessions) as db:
        auth.create_user(db, "ada", PASSWORD, role="admin", now=clock.now(), timezone="Europe/Amsterdam")
        auth.create_user(db, "sam", PASSWORD, role="supervisor", now=clock.now(), timezone="America/New_York")
        auth.create_user(db, "kim", PASSWORD, role="supervisor", now=clock.now(), timezone="America/New_York")
    return ("ada", "sam", "kim")


class Signed:
    """A test client signed in as one user, with that session's CSRF token."""

    def __init__(self, client, username: str):
        self.client = client
        self.username = username
        page = client.get("/supervisor/login")
        token = CSRF.search(page.get_data(as_text=True)).group(1)
        response = client.post("/supervisor/login", data={"username": username, "password": PASSWORD,
                                                          "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        page = client.get("/supervisor/", headers={"Accept": "text/html"})
        assert page.status_code == 200
        self.token = CSRF.search(page.get_data(as_text=True)).group(1)

    def act(self, public_id: str, action: str, version: int, **form):
        return self.client.post(f"/supervisor/entries/{public_id}/{action}",
                                data={"csrf_token": self.token, "version": str(version), **form},
                                headers={"X-Requested-With": "fetch"})

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers={"Accept": "text/html"}, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})},
                                headers={"X-Requested-With": "fetch"}, **kwargs)


@pytest.fixture
def sign_in(app, users):
    def sign(username: str = "sam") -> Signed:
        return Signed(app.test_client(), username)

    return sign


def book(runtime, clock, number: str = "+12125550100", skill: str = "billing", **extra):
    """A callback booked through the domain service (what the API and the IVR do)."""
    request = callbacks.CallbackRequest(skill=skill, phone_number=number, channel=extra.pop("channel", "web"),
                                        language="en-US", arrived_at=clock.now(), **extra)
    with transaction(runtime.sessions) as db:
        booking = callbacks.book_callback(db, request, clock.now())
        return booking.entry.public_id


def entry(runtime, public_id: str):
    with runtime.sessions() as db:
        found = callbacks.get_entry(db, public_id)
        found.events  # load the trail before the session closes
        db.expunge_all()
        return found
