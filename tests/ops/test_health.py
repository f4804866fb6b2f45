"""/healthz says the process is alive; /readyz says whether it may take traffic: the database answers,
its migrations are current, and a scheduler holds an unexpired lease."""

from alembic import command

from callbacks.scheduler import Lease
from storage.db import alembic_config, migrate


def test_healthz_is_alive_without_asking_anything(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json()["alive"] is True


def test_readyz_needs_a_scheduler_leader(app, runtime, clock):
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"ready": False, "database": True, "migrations_current": True,
                                   "scheduler_leader": False}
    lease = Lease(runtime.sessions, clock, "scheduler-a", ttl_seconds=30)
    assert lease.acquire()
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json()["ready"] is True
    clock.advance(31)  # the leader stopped renewing: nobody is known to schedule
    assert client.get("/readyz").get_json()["scheduler_leader"] is False
    assert lease.acquire()
    lease.release()  # a graceful shutdown gives the lease up at once
    assert client.get("/readyz").status_code == 503


def test_readyz_reports_migrations_behind(app, runtime, settings, clock):
    Lease(runtime.sessions, clock, "scheduler-a").acquire()
    command.downgrade(alembic_config(settings.database_url), "-1")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["migrations_current"] is False
    migrate(settings.database_url)
    assert app.test_client().get("/readyz").status_code == 200
