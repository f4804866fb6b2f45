"""The web role's gunicorn configuration (docs/deployment.md): `gunicorn "app:create_app()"` reads it.

The threaded worker (gthread) because Twilio's media streams are WebSockets (web/websocket.py): each open
stream holds one thread for the call, so THREADS bounds the calls with speech a worker serves at once.
Run the web role with DISPATCHER=off (the default of create_app) and one `ivr scheduler` process
per machine for the scheduler role; migrations run once under a lock however many workers start.
"""
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "16"))
# SIGTERM: stop accepting, let requests in flight finish for up to this long, then stop the worker.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
# gthread's timeout is the worker's heartbeat, not a request's length: long media streams are fine.
timeout = 30
keepalive = 5
# Loaded per worker (not --preload): the scheduler and database engines must not cross a fork.
preload_app = False
accesslog = "-"
errorlog = "-"
