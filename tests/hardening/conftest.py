"""Helpers for attacks on the webhooks and pages (forged hosts, bursts, duplicates, bad bodies): signed requests over real HTTP, many at once, and row counts."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from storage.models import Base
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.support.agents_api import TOKEN as AGENTS_TOKEN


def sign(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def signed_post(base_url: str, path: str, params: dict, **kwargs) -> requests.Response:
    """POST to the live server as Twilio would: signed for the public URL (PUBLIC_BASE_URL + path)."""
    headers = {"X-Twilio-Signature": sign(PUBLIC_BASE_URL + path, params), **kwargs.pop("headers", {})}
    return requests.post(base_url + path, data=params, headers=headers, timeout=60, **kwargs)


def at_once(times: int, send) -> list:
    """`send()` from `times` threads released together; their results in order."""
    gate = threading.Barrier(times)

    def one(_):
        gate.wait()
        return send()

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(one, range(times)))


def rows(runtime) -> dict[str, int]:
    """How many rows every table holds (to show a refused request wrote nothing anywhere), but the rate
    limiter's counters: a refused request still spends its sender's per-address quota, as it should."""
    with runtime.sessions() as session:
        return {table.name: session.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables if table.name != "rate_counters"}


@pytest.fixture
def generous_limits(app):
    app.config.update(CALLBACK_LIMIT_PER_IP="100000/minute", CALLBACK_LIMIT_PER_NUMBER="100000/minute",
                      CALLBACK_LIMIT_STATUS_PER_IP="100000/minute")


@pytest.fixture
def agents_api(app, monkeypatch):
    """A client of /api/agents as a workforce tool is: AGENTS_API_TOKEN set, its bearer token on every request."""
    monkeypatch.setenv("AGENTS_API_TOKEN", AGENTS_TOKEN)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {AGENTS_TOKEN}"
    return client


PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def users(runtime, clock):
    """Two supervisors, made as `flask users create` makes them."""
    from storage.db import transaction
    from supervisor import auth

    with transaction(runtime.sessions) as db:
        auth.create_user(db, "sam", PASSWORD, role="supervisor", now=clock.now())
        auth.create_user(db, "ada", PASSWORD, role="admin", now=clock.now())
    return ("sam", "ada")


def sign_in(client, username: str, password: str = PASSWORD, **kwargs):
    """POST the sign-in form as a browser would (CSRF token from the form)."""
    token = CSRF.search(client.get("/supervisor/login", **kwargs).get_data(as_text=True)).group(1)
    return client.post("/supervisor/login", data={"username": username, "password": password, "csrf_token": token},
                       **kwargs)


def twilio_routes(app) -> list[str]:
    """Every URL rule guarded by twilio_signed, with sample values for its variables."""
    samples = {"step": "menu", "entry_id": "0" * 32, "public_id": "0" * 32, "leg": "1", "side": "agent"}
    paths = []
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions[rule.endpoint], "twilio_signed", False):
            path = rule.rule
            for name in rule.arguments:
                path = re.sub(rf"<(?:[^:<>]+:)?{name}>", samples.get(name, "x"), path)  # <any(a, b):side> too
            paths.append(path + ("?t=1" if "/step/" in path or path.endswith("/done") else ""))
    return sorted(paths)
