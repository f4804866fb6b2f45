"""`ivr scheduler`, the scheduler role: it takes the lease, serves its metrics with METRICS_PORT, and on
SIGTERM stops and releases it at once."""
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select

from ops.workers import free_port

from storage.models import DispatcherLease
from callbacks.scheduler import LEASE_NAME


def test_sigterm_releases_the_lease(settings, tmp_path):
    env = dict(os.environ, DATABASE_URL=settings.database_url, SECRET_KEY="s", SPEECH_ENABLED="off",
               TWILIO_ACCOUNT_SID=settings.twilio_account_sid, TWILIO_AUTH_TOKEN=settings.twilio_auth_token,
               TWILIO_NUMBER=settings.twilio_number, PUBLIC_BASE_URL=settings.public_base_url, DISPATCHER="off",
               METRICS_PORT=str(free_port()))
    env.pop("DEV_PHONE", None)
    err = open(tmp_path / "scheduler.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "scheduler"], env=env,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            stdout=subprocess.DEVNULL, stderr=err)
    engine = create_engine(settings.database_url)
    try:
        lease = None
        deadline = time.monotonic() + 60
        while lease is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            try:
                with engine.connect() as connection:
                    lease = connection.execute(select(DispatcherLease.expires_at).where(DispatcherLease.name == LEASE_NAME)).scalar()
            except Exception:  # the table is not there until the process has migrated
                pass
        assert lease is not None and lease > datetime.now(timezone.utc)  # the wall clock: another process
        passes, leader = 0.0, None
        while not passes and time.monotonic() < deadline:
            time.sleep(0.2)
            with urllib.request.urlopen(f"http://127.0.0.1:{env['METRICS_PORT']}/metrics", timeout=5) as answer:
                got = {s.name: s.value for f in text_string_to_metric_families(answer.read().decode())
                       for s in f.samples}
                passes, leader = got.get("ivr_dispatch_pass_seconds_count", 0.0), got["ivr_scheduler_leader"]
        assert passes >= 1  # the leader's dispatcher passes are timed where it runs
        assert leader == 1  # the NoSchedulerLeader alert's figure (ops/alerts.yml)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        with engine.connect() as connection:
            assert connection.execute(select(DispatcherLease.expires_at).where(DispatcherLease.name == LEASE_NAME)).scalar() <= datetime.now(timezone.utc)
        err.seek(0)
        assert "lease released" in err.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.dispose()
