"""Helpers for the attacks issue 11 describes: signed requests over real HTTP, many at once, and row counts."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from storage.models import Base
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL


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
    """How many rows every table holds (to show a refused request wrote nothing anywhere)."""
    with runtime.sessions() as session:
        return {table.name: session.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables}


@pytest.fixture
def generous_limits(app):
    app.config.update(CALLBACK_LIMIT_PER_IP="100000/minute", CALLBACK_LIMIT_PER_NUMBER="100000/minute",
                      CALLBACK_LIMIT_STATUS_PER_IP="100000/minute")
