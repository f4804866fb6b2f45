"""LOG_FORMAT=json: one JSON object per log line, with the call SID and callback id of the request the
line was logged in (contextvars, so threads and requests never mix them). Messages are already
redacted as records are made (app.install_log_redaction: numbers, tokens); no other field is added, so
no phone number, transcript or token reaches a line. No Flask here: ops/http.py sets the context."""
from __future__ import annotations

import contextvars
import json
import logging
from datetime import datetime, timezone

call_sid = contextvars.ContextVar("call_sid", default=None)
callback_id = contextvars.ContextVar("callback_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, var in (("call_sid", call_sid), ("callback_id", callback_id)):
            if var.get() is not None:
                line[name] = var.get()
        if record.exc_info:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def use_json_logs() -> None:
    """Every handler of the root logger (and gunicorn's, when it runs us) writes JSON lines."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
        root.setLevel(logging.INFO)
    logging.getLogger("ivr.requests").setLevel(logging.DEBUG)  # the per-request line (ops/http.py)
    for logger in (root, logging.getLogger("gunicorn.error"), logging.getLogger("gunicorn.access")):
        for handler in logger.handlers:
            handler.setFormatter(JsonFormatter())


def set_request(sid: str | None, callback: str | None) -> None:
    call_sid.set(sid)
    callback_id.set(callback)
