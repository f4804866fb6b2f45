"""`ivr scheduler`: the scheduler role of a production set-up (docs/deployment.md). The web role is
gunicorn with gunicorn.conf.py and DISPATCHER=off; this process runs no web server, only the
dispatcher's lease loop and APScheduler. SIGTERM (or SIGINT) stops it gracefully: the pass in progress
finishes, the scheduler stops and the lease is released at once, so a standby takes over without
waiting for it to expire. While it leads, it runs the privacy retention pass every hour.
With METRICS_PORT set it serves /metrics (the same figures as the web role's, with this process's
dispatcher passes and Twilio errors) on 127.0.0.1:METRICS_PORT, or METRICS_ADDR:METRICS_PORT."""
import logging
import os
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

RETENTION_EVERY_SECONDS = 3600


def retain(rt) -> None:
    from privacy.policy import Retention
    from privacy.records import apply_retention
    from storage.db import transaction

    try:
        with transaction(rt.sessions) as s:
            apply_retention(s, rt.clock.now(), Retention.from_env())
    except Exception:  # noqa: BLE001 - the next hour tries again; the scheduler keeps running
        logging.getLogger("ivr.privacy").exception("retention pass failed")


@click.command("scheduler", help="Run the dispatcher's scheduler only (the scheduler role); SIGTERM releases the lease.")
@with_appcontext
def scheduler_command():
    from callbacks.scheduler import start_service

    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    rt = current_app.extensions["ivr"]
    if os.environ.get("METRICS_PORT"):
        from prometheus_client import start_http_server

        start_http_server(int(os.environ["METRICS_PORT"]), os.environ.get("METRICS_ADDR", "127.0.0.1"),
                          registry=rt.extras["metrics"].registry)
    service = start_service(rt)
    click.echo(f"scheduler running as {service.lease.holder}", err=True)
    while not stop.wait(RETENTION_EVERY_SECONDS):
        if service.is_leader:  # the retention pass (privacy/), once an hour, by the leader only
            retain(rt)
    with service._tick_lock:  # the dispatcher pass in progress, if any, finishes first
        service.stop()
    click.echo("scheduler stopped; lease released", err=True)
