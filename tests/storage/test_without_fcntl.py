"""The app where Python has no fcntl (not a POSIX system): storage/db.py imports it only if it is there, so
the app still starts and serves; on SQLite without SQLite's file locks (the write-lock queue across processes
and the migration lock: one process at a time there), on PostgreSQL as everywhere."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL

ROOT = Path(__file__).resolve().parents[2]

# A process as the operator starts it, with `import fcntl` failing, answering one signed call from Twilio.
WITHOUT_FCNTL = """
import json, sys
sys.modules["fcntl"] = None  # import fcntl raises ImportError, as where the module does not exist
from twilio.request_validator import RequestValidator
from app import create_app
params = {"CallSid": sys.argv[1], "From": "+12125550142", "To": "+15005550006", "CallStatus": "ringing"}
signature = RequestValidator(sys.argv[2]).compute_signature(sys.argv[3] + "/voice/incoming", params)
response = create_app().test_client().post("/voice/incoming", data=params, headers={"X-Twilio-Signature": signature})
print(json.dumps({"status": response.status_code, "twiml": response.get_data(as_text=True),
                  "fcntl": "fcntl" in sys.modules and sys.modules["fcntl"] is not None}))
"""


@pytest.mark.parametrize("dev_phone", ["off", "on"])  # on: the dev phone's record store too (telephony/rest.py)
def test_without_fcntl_the_app_starts_and_stores_a_call(database_url, tmp_path, dev_phone):
    sid = "CA" + "f" * 32
    env = dict(os.environ, DATABASE_URL=database_url, PUBLIC_BASE_URL=PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
               TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_NUMBER="+15005550006", SECRET_KEY="k",
               SPEECH_ENABLED="0", DEV_PHONE=dev_phone, DISPATCHER="off")
    done = subprocess.run([sys.executable, "-c", WITHOUT_FCNTL, sid, AUTH_TOKEN, PUBLIC_BASE_URL], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200 and "<Gather" in answer["twiml"] and not answer["fcntl"]
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT step, turn FROM calls WHERE call_sid = :sid"), {"sid": sid}).all()
    finally:
        engine.dispose()
    assert stored == [("menu", 1)]
    if database_url.startswith("sqlite"):  # no file lock was made beside the database
        path = database_url.split("///", 1)[1]
        assert not os.path.exists(path + ".write-lock") and not os.path.exists(path + ".migrate-lock")
