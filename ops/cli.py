"""`ivr scheduler`: the scheduler role of a production set-up (docs/deployment.md). The web role is
gunicorn with gunicorn.conf.py and DISPATCHER=off; this process runs no web server, only the
dispatcher's lease loop and APScheduler. SIGTERM (or SIGINT) stops it gracefully: the pass in progress
finishes, the scheduler stops and the lease is released at once, so a standby takes over without
waiting for it to expire."""
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("scheduler", help="Run the dispatcher's scheduler only (the scheduler role); SIGTERM releases the lease.")
@with_appcontext
def scheduler_command():
    from callbacks.scheduler import start_service

    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    service = start_service(current_app.extensions["ivr"])
    click.echo(f"scheduler running as {service.lease.holder}", err=True)
    stop.wait()
    with service._tick_lock:  # the dispatcher pass in progress, if any, finishes first
        service.stop()
    click.echo("scheduler stopped; lease released", err=True)
