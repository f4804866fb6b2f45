"""Real callers never get a 500 from the database (PostgreSQL gave them some). SIP and Twilio Client callers (From longer than
the old varchar(20)/varchar(32)) now get through on both databases, and a database that is down
answers 503 with Retry-After (Twilio then uses the number's fallback URL, see README), recovering by
itself when the database is back. The outage tests stop and start a real PostgreSQL."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select, text

from app import create_app
from storage.models import Call, QueueEntry
from config import Settings
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.hardening.conftest import rows, sign, signed_post
from tests.support.twilio_voice import ACCOUNT_SID

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("caller", [
    "sip:alice.van.der.berg@pbx.customer-example.com:5061;transport=tls",
    "client:support-desk-web-softphone-0042",
])
def test_sip_and_client_callers_get_through_and_are_stored_as_they_are(twilio, runtime, caller):
    call = twilio.call(from_number=caller)
    call.press("1")
    call.hang_up()
    with runtime.sessions() as s:
        assert s.get(Call, call.call_sid).from_number == caller
        held = s.scalars(select(QueueEntry).where(QueueEntry.call_sid == call.call_sid)).all()
        # Held for billing, then hung up: the entry keeps the address as it came, and says they left.
        assert [(entry.phone_number, entry.state) for entry in held] == [(caller, "abandoned")]


def test_an_address_no_network_sends_is_a_400_and_stores_nothing(app, runtime):
    for caller in ("sip:" + "a" * 300 + "@pbx.example.com", "client:bob\x00"):
        params = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + uuid.uuid4().hex, "From": caller,
                  "To": "+15005550006", "CallStatus": "ringing"}
        response = app.test_client().post("/voice/incoming", data=params, base_url=PUBLIC_BASE_URL,
                                          headers={"X-Twilio-Signature": sign(PUBLIC_BASE_URL + "/voice/incoming",
                                                                              params)})
        assert response.status_code == 400 and b"From" in response.data
    assert rows(runtime)["calls"] == 0


# ---- a PostgreSQL that goes away and comes back --------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """scripts/postgres on a data folder and port: this run's cluster (scripts/test exports them), or our own."""

    def __init__(self, data: str, port: str):
        self.env = {**os.environ, "PGDATA_TEST": data, "PGPORT": port}

    def _run(self, what: str) -> str:
        return subprocess.run([str(ROOT / "scripts" / "postgres"), what], env=self.env, check=True,
                              capture_output=True, text=True, timeout=120).stdout.strip()

    def start(self) -> str:
        return self._run("start")

    def stop(self) -> None:
        self._run("stop")


@pytest.fixture
def postgres():
    """An admin URL and the cluster behind it, which the test may stop (it is started again after)."""
    run_url = os.environ.get("DATABASE_URL_TEST")
    if run_url and os.environ.get("PGDATA_TEST") and os.environ.get("PGPORT"):
        cluster, own = Cluster(os.environ["PGDATA_TEST"], os.environ["PGPORT"]), False
        url = run_url
    else:
        # Directly under /tmp (as scripts/test does): the postgres user must reach the folder.
        folder = tempfile.mkdtemp(prefix="ivr-test-pg-outage.")
        cluster, own = Cluster(folder, str(_free_port())), True
        url = cluster.start()
    try:
        yield url, cluster
    finally:
        if own:
            cluster.stop()
            shutil.rmtree(folder, ignore_errors=True)
        else:
            cluster.start()  # whatever the test did, the rest of the run has its database


@pytest.fixture
def app_on_postgres(postgres, clock):
    admin_url, cluster = postgres
    name = "outage_" + uuid.uuid4().hex[:10]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    # Its own settings, not the `settings` fixture: that one's database lives on the cluster we stop.
    settings = Settings(database_url=admin_url.rsplit("/", 1)[0] + "/" + name, public_base_url=PUBLIC_BASE_URL,
                        twilio_auth_token=AUTH_TOKEN, secret_key="test-secret-key", speech_enabled=False)
    app = create_app(settings, clock=clock)
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute")
    yield app, cluster
    app.extensions["ivr"].engine.dispose()
    cluster.start()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def incoming(sid: str) -> dict:
    return {"AccountSid": ACCOUNT_SID, "CallSid": sid, "From": "+12125550142", "To": "+15005550006",
            "CallStatus": "ringing"}


def test_a_database_outage_answers_503_with_retry_after_and_recovers(app_on_postgres):
    from tests.support.live_server import serve

    app, cluster = app_on_postgres
    runtime = app.extensions["ivr"]
    with serve(app) as base:
        assert signed_post(base, "/voice/incoming", incoming("CA" + uuid.uuid4().hex)).status_code == 200
        cluster.stop()
        down_sid = "CA" + uuid.uuid4().hex
        during = signed_post(base, "/voice/incoming", incoming(down_sid))
        assert during.status_code == 503 and int(during.headers["Retry-After"]) > 0
        assert "database" in during.text
        api = requests.post(base + "/api/callbacks", json={"phone": "+12125550142"}, timeout=60)
        assert api.status_code == 503 and api.headers["Retry-After"]
        assert api.headers["Content-Type"] == "application/problem+json"
        cluster.start()
        # Twilio asks again (or its fallback answered meanwhile): the same call now gets its greeting.
        after = signed_post(base, "/voice/incoming", incoming(down_sid))
        assert after.status_code == 200 and "<Gather" in after.text
    with runtime.sessions() as s:
        assert len(s.scalars(select(Call.call_sid)).all()) == 2
