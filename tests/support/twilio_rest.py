"""A fake Twilio REST API behind twilio-python's own client, checked against Twilio's OpenAPI spec.

`FakeTwilioHttp` is a `twilio.http.HttpClient`: hand it to `twilio.rest.Client(..., http_client=...)`.
Every request the client makes (method, path, query and form parameters, auth) is validated with
openapi-core against ../shared/twilio-oai/twilio_api_v2010.json; form parameters the operation does
not define are refused too (the spec does not say additionalProperties: false). The request is then
answered like Twilio would, from a small consistent state: created calls keep their SID, status and
URLs, so a later fetch, update or list agrees; every response body is itself validated against the
spec's response schema before the client sees it.

Tests can set a call's status (`set_status`), make the next request fail (`fail_next`), and run a
hook after a call is created (`on_create`, used to SIGKILL a process mid-dial). With `state_path`
the state lives in a JSON file (under a lock), so several processes share one fake Twilio.
"""
from __future__ import annotations

import base64
import copy
import fcntl
import json
import re
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode, urlsplit

from twilio.http import HttpClient
from twilio.http.response import Response

SPEC_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "twilio-oai" / "twilio_api_v2010.json"
API_HOST = "https://api.twilio.com"
ENDED = ("completed", "busy", "failed", "no-answer", "canceled")


class SpecViolation(AssertionError):
    """Our code sent Twilio something its API does not accept (or the fake answered off-spec)."""


E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
ADDRESS = re.compile(r"^(\+[1-9][0-9]{1,14}|sip:[^\s@]+@[^\s]+|client:[A-Za-z0-9_.-]+|sim:[A-Za-z0-9]+)$")


def _is_twiml(value) -> bool:
    import xml.etree.ElementTree as ET

    try:
        return ET.fromstring(str(value)).tag == "Response"
    except ET.ParseError:
        return False


def _is_rfc2822(value) -> bool:
    try:
        return parsedate_to_datetime(str(value)) is not None
    except (TypeError, ValueError):
        return False


def _is_uri(value) -> bool:
    parts = urlsplit(str(value))
    return (parts.scheme in ("http", "https") and bool(parts.netloc)) or str(value).startswith("/")


# Twilio's own formats, which openapi-core does not know: checked as Twilio documents them.
FORMATS = {
    "phone-number": lambda v: bool(ADDRESS.match(str(v))),
    "endpoint": lambda v: bool(ADDRESS.match(str(v))),
    "date-time-rfc-2822": _is_rfc2822,
    "twiml": _is_twiml,
    "uri": _is_uri,
    "http-method": lambda v: str(v).upper() in ("GET", "POST"),
    "uri-map": lambda v: True,
    "currency": lambda v: True,
    "iso-country-code": lambda v: True,
    "phone-number-capabilities": lambda v: True,
    "ice-server": lambda v: True,
}


@lru_cache(maxsize=1)
def _spec() -> tuple[dict, object]:
    from openapi_core import Config, OpenAPI

    # JSON, not YAML: the YAML loader chokes on some escapes in the file.
    raw = json.loads(SPEC_PATH.resolve().read_text())
    config = Config(extra_format_validators=FORMATS,
                    extra_format_unmarshallers={name: (lambda v: v) for name in FORMATS})
    return raw, OpenAPI.from_dict(raw, config=config)


@lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern, str]]:
    raw, _ = _spec()
    out = []
    for template in raw["paths"]:
        pattern = re.sub(r"\{[A-Za-z]+\}", "[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
        out.append((re.compile("^" + pattern + "$"), template))
    return out


def _template_for(path: str) -> str | None:
    return next((t for p, t in _templates() if p.match(path)), None)


def _rfc2822(when: datetime) -> str:
    return format_datetime(when.astimezone(timezone.utc), usegmt=False).replace("-0000", "+0000")


def _example(template: str, method: str, status: str, name: str | None = None) -> dict:
    raw, _ = _spec()
    content = raw["paths"][template][method]["responses"][status]["content"]["application/json"]
    examples = content.get("examples", {})
    chosen = examples.get(name) if name else next(iter(examples.values()), None)
    return copy.deepcopy(chosen["value"]) if chosen else {}


class FakeTwilioHttp(HttpClient):
    def __init__(self, account_sid: str, clock: Callable[[], datetime] | None = None,
                 state_path: str | Path | None = None):
        import logging

        super().__init__(logging.getLogger("fake-twilio"), is_async=False)
        self.account_sid = account_sid
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.state_path = Path(state_path) if state_path else None
        self._state = {"calls": {}, "messages": [], "members": {}, "requests": []}
        self._failures: list[tuple[str, str, int]] = []
        self.on_create: list[Callable[[dict], None]] = []
        _spec()  # load (and fail on a missing spec) now, not in the middle of a test

    # ---- state -------------------------------------------------------------------------------------

    @contextmanager
    def _locked(self):
        if self.state_path is None:
            yield self._state
            return
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        with open(str(self.state_path) + ".lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.loads(self.state_path.read_text()) if self.state_path.exists() else \
                    {"calls": {}, "messages": [], "members": {}, "requests": []}
                yield state
                tmp = self.state_path.with_suffix(".tmp")
                tmp.write_text(json.dumps(state))
                tmp.replace(self.state_path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def snapshot(self) -> dict:
        with self._locked() as state:
            return copy.deepcopy(state)

    @property
    def calls(self) -> list[dict]:
        """Calls created, oldest first."""
        return sorted(self.snapshot()["calls"].values(), key=lambda c: c["seq"])

    def calls_to(self, to: str) -> list[dict]:
        return [c for c in self.calls if c["to"] == to]

    @property
    def messages(self) -> list[dict]:
        return self.snapshot()["messages"]

    @property
    def requests(self) -> list[dict]:
        return self.snapshot()["requests"]

    def call(self, sid: str) -> dict:
        return self.snapshot()["calls"][sid]

    def set_status(self, sid: str, status: str, answered_by: str | None = None) -> None:
        with self._locked() as state:
            call = state["calls"][sid]
            call["status"] = status
            if answered_by:
                call["answered_by"] = answered_by
            if status in ENDED:
                call["end_time"] = _rfc2822(self.clock())

    def fail_next(self, path_contains: str = "Calls.json", method: str = "POST", status: int = 500) -> None:
        """The next matching request gets an error answer (e.g. 500, 429 or 400)."""
        self._failures.append((method.upper(), path_contains, status))

    # ---- the HttpClient interface -------------------------------------------------------------------

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False) -> Response:
        from openapi_core.testing import MockRequest

        method = method.upper()
        parts = urlsplit(uri)
        path = parts.path
        template = _template_for(path)
        if template is None:
            raise SpecViolation(f"{method} {path} is not a path of Twilio's API")
        form = {k: v for k, v in (data or {}).items() if v is not None}
        query = {k: v for k, v in (params or {}).items() if v is not None}
        body = urlencode(form, doseq=True).encode() if method == "POST" else None
        auth_header = {}
        if auth:
            auth_header["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        _, openapi = _spec()
        req = MockRequest(API_HOST, method.lower(), path, args=query, headers=auth_header, data=body,
                          content_type="application/x-www-form-urlencoded")
        result = openapi.unmarshal_request(req)
        if result.errors:
            details = "; ".join(f"{type(e).__name__}: {getattr(e, '__cause__', None) or e}" for e in result.errors)
            raise SpecViolation(f"{method} {path} {form or query} violates Twilio's spec: {details}")
        self._check_known_params(template, method, form)
        record = {"method": method, "path": path, "template": template, "form": form, "query": query}
        for index, (f_method, f_path, f_status) in enumerate(self._failures):
            if f_method == method and f_path in path:
                del self._failures[index]
                with self._locked() as state:
                    state["requests"].append({**record, "failed": f_status})
                return self._error(f_status)
        with self._locked() as state:
            state["requests"].append(record)
            status, payload, created = self._answer(state, template, method, path, form, query)
        if status < 300:
            self._check_response(req, payload, status)
        if created is not None:
            for hook in list(self.on_create):
                hook(created)
        return Response(status, json.dumps(payload))

    def _check_known_params(self, template: str, method: str, form: dict) -> None:
        if method != "POST" or not form:
            return
        raw, _ = _spec()
        schema = raw["paths"][template]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        unknown = set(form) - set(schema.get("properties", {}))
        if unknown:
            raise SpecViolation(f"POST {template}: parameters Twilio does not define: {sorted(unknown)}")

    def _check_response(self, req, payload: dict, status: int) -> None:
        from openapi_core.testing import MockResponse

        _, openapi = _spec()
        result = openapi.unmarshal_response(req, MockResponse(json.dumps(payload).encode(), status_code=status))
        if result.errors:
            raise SpecViolation(f"the fake answered off-spec: {result.errors}")

    @staticmethod
    def _error(status: int) -> Response:
        return Response(status, json.dumps({"code": 20500 if status >= 500 else 21211, "message": f"fake error {status}",
                                            "more_info": "https://www.twilio.com/docs/errors", "status": status}))

    # ---- what Twilio does ----------------------------------------------------------------------------

    def _call_body(self, call: dict, template: str, method: str, code: str) -> dict:
        body = _example(template, method, code)
        if "calls" in body:
            body = _example("/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json", "get", "200")
        body.update({
            "sid": call["sid"], "account_sid": self.account_sid, "to": call["to"], "to_formatted": call["to"],
            "from": call["from"], "from_formatted": call["from"], "status": call["status"],
            "direction": "outbound-api", "answered_by": call.get("answered_by"), "parent_call_sid": None,
            "date_created": call["date_created"], "date_updated": call["date_created"],
            "start_time": call["date_created"], "end_time": call.get("end_time"), "duration": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call['sid']}.json",
        })
        if "subresource_uris" in body and isinstance(body["subresource_uris"], dict):
            body["subresource_uris"] = {k: v.replace("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", self.account_sid)
                                        .replace("CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", call["sid"])
                                        for k, v in body["subresource_uris"].items()}
        return body

    def _answer(self, state: dict, template: str, method: str, path: str, form: dict, query: dict):
        key = (method, template.rsplit("/Accounts/{AccountSid}", 1)[-1])
        if key == ("POST", "/Calls.json"):
            now = self.clock()
            sid = "CA" + uuid.uuid4().hex
            call = {
                "sid": sid, "seq": len(state["calls"]) + 1, "to": form["To"], "from": form.get("From"),
                "status": "queued", "date_created": _rfc2822(now), "created_at": now.isoformat(),
                "url": form.get("Url"), "twiml": form.get("Twiml"), "status_callback": form.get("StatusCallback"),
                "status_callback_event": form.get("StatusCallbackEvent"),
                "machine_detection": form.get("MachineDetection"), "async_amd": form.get("AsyncAmd"),
                "amd_callback": form.get("AsyncAmdStatusCallback"), "timeout": form.get("Timeout"),
                "updates": [],
            }
            state["calls"][sid] = call
            return 201, self._call_body(call, template, "post", "201"), copy.deepcopy(call)
        if key == ("GET", "/Calls/{Sid}.json"):
            sid = path.rsplit("/", 1)[-1][:-5]
            call = state["calls"].get(sid)
            if call is None:
                return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404,
                             "more_info": "https://www.twilio.com/docs/errors/20404"}, None
            return 200, self._call_body(call, template, "get", "200"), None
        if key == ("POST", "/Calls/{Sid}.json"):
            sid = path.rsplit("/", 1)[-1][:-5]
            call = state["calls"].get(sid)
            if call is None:
                return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404,
                             "more_info": "https://www.twilio.com/docs/errors/20404"}, None
            if call["status"] in ENDED:
                return 400, {"code": 21220, "message": "Call is not in-progress. Cannot redirect.", "status": 400,
                             "more_info": "https://www.twilio.com/docs/errors/21220"}, None
            call["updates"].append(form)
            if form.get("Status") in ("completed", "canceled"):
                call["status"] = form["Status"]
                call["end_time"] = _rfc2822(self.clock())
            return 200, self._call_body(call, template, "post", "200"), None
        if key == ("GET", "/Calls.json"):
            found = sorted(state["calls"].values(), key=lambda c: c["seq"])
            if "To" in query:
                found = [c for c in found if c["to"] == query["To"]]
            if "Status" in query:
                found = [c for c in found if c["status"] == query["Status"]]
            if "StartTime>" in query:
                since = datetime.fromisoformat(str(query["StartTime>"]).replace("Z", "+00:00"))
                found = [c for c in found if datetime.fromisoformat(c["created_at"]) >= since]
            body = _example(template, "get", "200", "readFullPage1")
            base = f"/2010-04-01/Accounts/{self.account_sid}/Calls.json"
            body.update({"calls": [self._call_body(c, "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json", "get",
                                                   "200") for c in found],
                         "start": 0, "end": max(len(found) - 1, 0), "page": 0, "page_size": 50,
                         "next_page_uri": None, "previous_page_uri": None,
                         "first_page_uri": base + "?PageSize=50&Page=0", "uri": base + "?PageSize=50&Page=0"})
            return 200, body, None
        if key == ("POST", "/Messages.json"):
            body = _example(template, "post", "201", "create")
            sid = "SM" + uuid.uuid4().hex
            message = {"sid": sid, "to": form["To"], "from": form.get("From"), "body": form.get("Body")}
            state["messages"].append(message)
            body.update({"sid": sid, "to": form["To"], "from": form.get("From"), "body": form.get("Body"),
                         "account_sid": self.account_sid, "status": "queued",
                         "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"})
            return 201, body, None
        if key == ("POST", "/Queues/{QueueSid}/Members/{CallSid}.json"):
            queue_sid, call_sid = path.split("/Queues/", 1)[1].split("/Members/")
            call_sid = call_sid[:-5]
            state["members"].setdefault(queue_sid, []).append({"call_sid": call_sid, "url": form.get("Url")})
            body = _example(template, "post", "200", "update")
            body.update({"call_sid": call_sid if call_sid != "Front" else body.get("call_sid"),
                         "queue_sid": queue_sid})
            return 200, body, None
        raise SpecViolation(f"the fake Twilio does not implement {method} {template}")


def client_for(fake: FakeTwilioHttp, auth_token: str):
    from twilio.rest import Client

    return Client(fake.account_sid, auth_token, http_client=fake)


__all__ = ["FakeTwilioHttp", "SpecViolation", "client_for", "parsedate_to_datetime"]
