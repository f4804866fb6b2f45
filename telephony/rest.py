"""Twilio's REST API, answered by the emulator, behind twilio-python's own client.

`RestApi` is a `twilio.http.HttpClient`: hand it to `twilio.rest.Client(sid, token, http_client=...)`
(`RestApi.client()` does). Every request the client makes (method, path, query and form parameters,
auth) is validated with openapi-core against Twilio's own OpenAPI spec (telephony/spec/, a vendored
subset); form parameters the operation does not define are refused too (the spec does not say
additionalProperties: false). The request is then answered like Twilio would, from the emulator's
state: a created call rings its party (emulator/rest_side.py), an update moves a live call on, a queue member
update dequeues that caller, and every list (calls, queues, a queue's members) pages as Twilio's do
(`_page`); every response body is itself validated against the spec's response schema.

What the API has seen lives in a record store: in memory, or with `state_path` in a JSON file under a
lock, so several processes share one Twilio account (the dispatcher's crash and two-process tests).
Test hooks: `set_status` (Twilio's record changes and nobody is told), `fail_next` (the next matching
request gets an error answer) and `on_create` (run after a call is created).
"""
from __future__ import annotations

import base64
import copy
import json
import logging
import re
import threading
import uuid
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from twilio.http import HttpClient
from twilio.http.response import Response

from clock import Clock

try:  # the dev phone's record store is shared between processes with flock where it exists
    import fcntl
except ImportError:  # not POSIX: one process (its threads share self._lock)
    fcntl = None

SPEC_PATH = Path(__file__).resolve().parent / "spec" / "twilio_api_v2010_subset.json"
API_HOST = "https://api.twilio.com"
ENDED = ("completed", "busy", "failed", "no-answer", "canceled")
CALL = "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json"
SPEC_LOOKUPS_CACHED = 100_000  # far more than the vendored subset has nodes: nothing is ever evicted


class SpecViolation(AssertionError):
    """Our code sent Twilio something its API does not accept (or the emulator answered off-spec)."""


E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
ADDRESS = re.compile(r"^(\+[1-9][0-9]{1,14}|sip:[^\s@]+@[^\s]+|client:[A-Za-z0-9_.-]+|sim:[A-Za-z0-9]+)$")


def _is_twiml(value) -> bool:
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


def _compiled_once():
    """openapi-core's OpenAPI 3.0 request and response unmarshallers, except that each schema's JSON
    Schema validator (its format checker copied, its $refs resolved) is built the first time it is needed
    and kept, instead of again for every parameter and property of every request. The validators, formats
    and rules are openapi-core's own: the checks are exactly as strict, only not rebuilt."""
    from openapi_core.casting.schemas import oas30_types_caster
    from openapi_core.casting.schemas.factories import SchemaCastersFactory
    from openapi_core.unmarshalling.request.unmarshallers import V30RequestUnmarshaller
    from openapi_core.unmarshalling.response.unmarshallers import V30ResponseUnmarshaller
    from openapi_core.unmarshalling.schemas import oas30_format_unmarshallers, oas30_types_unmarshaller
    from openapi_core.unmarshalling.schemas.factories import SchemaUnmarshallersFactory
    from openapi_core.validation.schemas import (oas30_read_schema_validators_factory,
                                                 oas30_write_schema_validators_factory)
    from openapi_core.validation.schemas.factories import SchemaValidatorsFactory

    class BuiltOnce(SchemaValidatorsFactory):
        def __init__(self, like: SchemaValidatorsFactory):
            super().__init__(like.schema_validator_cls, like.format_checker)
            self._built: dict = {}

        def create(self, spec, schema, format_validators=None, extra_format_validators=None,
                   forbid_unspecified_additional_properties=False, enforce_properties_required=False):
            key = (schema.parts, None if format_validators is None else tuple(format_validators.items()),
                   tuple((extra_format_validators or {}).items()), forbid_unspecified_additional_properties,
                   enforce_properties_required)
            found = self._built.get(key)
            if found is not None and found[0] is schema.accessor and found[1] is spec.accessor:
                return found[2]
            validator = super().create(spec, schema, format_validators, extra_format_validators,
                                       forbid_unspecified_additional_properties, enforce_properties_required)
            self._built[key] = (schema.accessor, spec.accessor, validator)
            return validator

    def factories(like):
        validators = BuiltOnce(like)
        return {"schema_validators_factory": validators,
                "schema_casters_factory": SchemaCastersFactory(validators, oas30_types_caster),
                "schema_unmarshallers_factory": SchemaUnmarshallersFactory(
                    validators, oas30_types_unmarshaller, format_unmarshallers=oas30_format_unmarshallers)}

    # Requests are checked as written by the client (readOnly refused), responses as read (writeOnly refused).
    request = type("RequestUnmarshaller", (V30RequestUnmarshaller,), factories(oas30_write_schema_validators_factory))
    response = type("ResponseUnmarshaller", (V30ResponseUnmarshaller,), factories(oas30_read_schema_validators_factory))
    return request, response


@lru_cache(maxsize=1)
def spec() -> tuple[dict, object]:
    """The vendored spec (raw dict) and its openapi-core validator."""
    from jsonschema_path import SchemaPath
    from openapi_core import Config, OpenAPI

    raw = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    request, response = _compiled_once()
    config = Config(extra_format_validators=FORMATS,
                    extra_format_unmarshallers={name: (lambda v: v) for name in FORMATS},
                    request_unmarshaller_cls=request, response_unmarshaller_cls=response)
    # Every check walks the spec by path (paths, operations, parameters, schemas, $refs); resolving each
    # step again costs milliseconds a request. The spec never changes: keep every resolved lookup.
    return raw, OpenAPI(SchemaPath.from_dict(raw, resolved_cache_maxsize=SPEC_LOOKUPS_CACHED), config=config)


@lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern, str]]:
    raw, _ = spec()
    out = []
    for template in raw["paths"]:
        pattern = re.sub(r"\\\{[A-Za-z]+\\\}", "[^/]+", re.escape(template))
        out.append((re.compile("^" + pattern + "$"), template))
    return out


def _template_for(path: str) -> str | None:
    return next((t for p, t in _templates() if p.match(path)), None)


def _utc_day(iso: str):
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return (when.astimezone(timezone.utc) if when.tzinfo else when).date()


def rfc2822(when: datetime) -> str:
    return format_datetime(when.astimezone(timezone.utc), usegmt=False).replace("-0000", "+0000")


def _example(template: str, method: str, status: str, name: str | None = None) -> dict:
    raw, _ = spec()
    content = raw["paths"][template][method]["responses"][status]["content"]["application/json"]
    examples = content.get("examples", {})
    chosen = examples.get(name) if name else next(iter(examples.values()), None)
    return copy.deepcopy(chosen["value"]) if chosen else {}


def _not_found() -> tuple[int, dict, None]:
    return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404,
                 "more_info": "https://www.twilio.com/docs/errors/20404"}, None


def _empty_state() -> dict:
    return {"calls": {}, "messages": [], "members": {}, "requests": []}


class RestApi(HttpClient):
    def __init__(self, account_sid: str, clock: Callable[[], datetime] | None = None,
                 state_path: str | Path | None = None, network=None):
        super().__init__(logging.getLogger("telephony.rest"), is_async=False)
        self.account_sid = account_sid
        self.clock = clock or Clock().now
        self.state_path = Path(state_path) if state_path else None
        self.network = network  # the emulator's RestSide: what the requests do to calls and queues
        self._state = _empty_state()
        self._lock = threading.RLock()
        self._failures: list[tuple[str, str, int]] = []
        self.outage: str | None = None  # "credentials" | "unreachable": every request fails (fail_all)
        self.on_create: list[Callable[[dict], None]] = []
        spec()  # load (and fail on a missing spec) now, not in the middle of a call

    def client(self, auth_token: str):
        from twilio.rest import Client

        return Client(self.account_sid, auth_token, http_client=self)

    # ---- the record store ---------------------------------------------------------------------------

    @contextmanager
    def locked(self):
        with self._lock:
            if self.state_path is None:
                yield self._state
                return
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            with open(str(self.state_path) + ".lock", "a+") as lock:
                if fcntl is not None:
                    fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    before = self.state_path.read_text() if self.state_path.exists() else None
                    state = json.loads(before) if before is not None else _empty_state()
                    yield state
                    after = json.dumps(state)
                    if after != before:  # a read (a status fetch, a listing) leaves the file alone
                        tmp = self.state_path.with_suffix(".tmp")
                        tmp.write_text(after)
                        tmp.replace(self.state_path)
                finally:
                    if fcntl is not None:
                        fcntl.flock(lock, fcntl.LOCK_UN)

    def snapshot(self) -> dict:
        with self.locked() as state:
            return copy.deepcopy(state)

    @property
    def calls(self) -> list[dict]:
        """Calls created through the API (calls.create), oldest first."""
        return [c for c in self.all_calls if c.get("api", True)]

    @property
    def all_calls(self) -> list[dict]:
        """Every call of the account (inbound, created, dialled by <Dial>), oldest first."""
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

    def add_call(self, record: dict) -> dict:
        """A call Twilio knows of without calls.create (inbound, or a <Dial> leg)."""
        with self.locked() as state:
            record = {"updates": [], "api": False, **record, "seq": len(state["calls"]) + 1}
            state["calls"][record["sid"]] = record
            return copy.deepcopy(record)

    def update_record(self, sid: str, **changes) -> None:
        with self.locked() as state:
            call = state["calls"].get(sid)
            if call is not None:
                call.update(changes)
                if changes.get("status") in ENDED and not call.get("end_time"):
                    call["end_time"] = rfc2822(self.clock())

    def set_status(self, sid: str, status: str, answered_by: str | None = None) -> None:
        """Twilio's record of the call changes, and no callback tells anyone (a lost status callback)."""
        self.update_record(sid, status=status, **({"answered_by": answered_by} if answered_by else {}))

    def fail_next(self, path_contains: str = "Calls.json", method: str = "POST", status: int = 500) -> None:
        """The next matching request gets an error answer (e.g. 500, 429 or 400)."""
        self._failures.append((method.upper(), path_contains, status))

    def fail_all(self, how: str | None) -> None:
        """Every request fails until fail_all(None): "credentials" answers 401 (Twilio's 20003,
        "Authenticate"), "unreachable" raises a refused connection as the HTTP client would."""
        if how not in (None, "credentials", "unreachable"):
            raise ValueError(f"unknown outage {how!r}")
        self.outage = how

    # ---- the HttpClient interface -------------------------------------------------------------------

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False) -> Response:
        from openapi_core.testing import MockRequest

        method = method.upper()
        path = urlsplit(uri).path
        template = _template_for(path)
        if template is None:
            raise SpecViolation(f"{method} {path} is not a path of Twilio's API (or not in the vendored subset)")
        form = {k: v for k, v in (data or {}).items() if v is not None}
        # A list's next_page_uri carries its query in the URL itself.
        query = {**dict(parse_qsl(urlsplit(uri).query)), **{k: v for k, v in (params or {}).items() if v is not None}}
        body = urlencode(form, doseq=True).encode() if method == "POST" else None
        auth_header = {}
        if auth:
            auth_header["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        _, openapi = spec()
        req = MockRequest(API_HOST, method.lower(), path, args=query, headers=auth_header, data=body,
                          content_type="application/x-www-form-urlencoded")
        result = openapi.unmarshal_request(req)
        if result.errors:
            details = "; ".join(f"{type(e).__name__}: {getattr(e, '__cause__', None) or e}" for e in result.errors)
            raise SpecViolation(f"{method} {path} {form or query} violates Twilio's spec: {details}")
        self._check_known_params(template, method, form)
        record = {"method": method, "path": path, "template": template, "form": form, "query": query}
        if self.outage is not None:
            with self.locked() as state:
                state["requests"].append({**record, "failed": self.outage})
            if self.outage == "unreachable":
                raise ConnectionRefusedError(111, "Connection refused (api.twilio.com)")
            return Response(401, json.dumps({"code": 20003, "message": "Authenticate", "status": 401,
                                             "more_info": "https://www.twilio.com/docs/errors/20003"}))
        for index, (f_method, f_path, f_status) in enumerate(self._failures):
            if f_method == method and f_path in path:
                del self._failures[index]
                with self.locked() as state:
                    state["requests"].append({**record, "failed": f_status})
                return self._error(f_status)
        with self.locked() as state:
            state["requests"].append(record)
            status, payload, created = self._answer(state, template, method, path, form, query)
        if status < 300:
            self._check_response(req, payload, status)
        if created is not None:
            if self.network is not None:
                self.network.call_created(created)
            for hook in list(self.on_create):
                hook(created)
        return Response(status, json.dumps(payload))

    def _check_known_params(self, template: str, method: str, form: dict) -> None:
        if method != "POST" or not form:
            return
        raw, _ = spec()
        schema = raw["paths"][template]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        unknown = set(form) - set(schema.get("properties", {}))
        if unknown:
            raise SpecViolation(f"POST {template}: parameters Twilio does not define: {sorted(unknown)}")

    def _check_response(self, req, payload: dict, status: int) -> None:
        from openapi_core.testing import MockResponse

        _, openapi = spec()
        result = openapi.unmarshal_response(req, MockResponse(json.dumps(payload).encode(), status_code=status))
        if result.errors:
            raise SpecViolation(f"the emulator answered off-spec: {result.errors}")

    @staticmethod
    def _error(status: int) -> Response:
        return Response(status, json.dumps({"code": 20500 if status >= 500 else 21211, "message": f"injected error {status}",
                                            "more_info": "https://www.twilio.com/docs/errors", "status": status}))

    # ---- what Twilio answers ------------------------------------------------------------------------

    def _call_body(self, call: dict, template: str, method: str, code: str) -> dict:
        body = _example(template, method, code)
        if "calls" in body:
            body = _example(CALL, "get", "200")
        body.update({
            "sid": call["sid"], "account_sid": self.account_sid, "to": call["to"], "to_formatted": call["to"],
            "from": call["from"], "from_formatted": call["from"], "status": call["status"],
            "direction": call.get("direction", "outbound-api"), "answered_by": call.get("answered_by"),
            "parent_call_sid": call.get("parent_call_sid"),
            "date_created": call["date_created"], "date_updated": call["date_created"],
            "start_time": call.get("start_time") or call["date_created"], "end_time": call.get("end_time"),
            "duration": call.get("duration"),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call['sid']}.json",
        })
        if isinstance(body.get("subresource_uris"), dict):
            body["subresource_uris"] = {k: v.replace("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", self.account_sid)
                                        .replace("CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", call["sid"])
                                        for k, v in body["subresource_uris"].items()}
        return body

    def _answer(self, state: dict, template: str, method: str, path: str, form: dict, query: dict):
        key = (method, template.rsplit("/Accounts/{AccountSid}", 1)[-1])
        if key == ("POST", "/Calls.json"):
            now = self.clock()
            sid = "CA" + uuid.uuid4().hex
            events = form.get("StatusCallbackEvent")
            call = {
                "sid": sid, "seq": len(state["calls"]) + 1, "to": form["To"], "from": form.get("From"),
                "status": "queued", "direction": "outbound-api", "api": True,
                "date_created": rfc2822(now), "created_at": now.isoformat(),
                "url": form.get("Url"), "method": form.get("Method", "POST"), "twiml": form.get("Twiml"),
                "status_callback": form.get("StatusCallback"),
                "status_callback_method": form.get("StatusCallbackMethod", "POST"),
                "status_callback_event": [events] if isinstance(events, str) else events,
                "machine_detection": form.get("MachineDetection"), "async_amd": form.get("AsyncAmd"),
                "amd_callback": form.get("AsyncAmdStatusCallback"),
                "amd_callback_method": form.get("AsyncAmdStatusCallbackMethod", "POST"),
                "timeout": form.get("Timeout"), "send_digits": form.get("SendDigits"),
                "updates": [],
            }
            state["calls"][sid] = call
            return 201, self._call_body(call, template, "post", "201"), copy.deepcopy(call)
        if key == ("GET", "/Calls/{Sid}.json"):
            call = state["calls"].get(path.rsplit("/", 1)[-1][:-5])
            if call is None:
                return _not_found()
            return 200, self._call_body(call, template, "get", "200"), None
        if key == ("POST", "/Calls/{Sid}.json"):
            sid = path.rsplit("/", 1)[-1][:-5]
            call = state["calls"].get(sid)
            if call is None:
                return _not_found()
            if call["status"] in ENDED:
                return 400, {"code": 21220, "message": "Call is not in-progress. Cannot redirect.", "status": 400,
                             "more_info": "https://www.twilio.com/docs/errors/21220"}, None
            call["updates"].append(form)
            wanted = form.get("Status")
            if wanted == "canceled" and call["status"] in ("queued", "ringing"):
                call["status"], call["end_time"] = "canceled", rfc2822(self.clock())
            elif wanted == "completed":
                call["status"] = "canceled" if call["status"] in ("queued", "ringing") else "completed"
                call["end_time"] = rfc2822(self.clock())
            if self.network is not None:
                self.network.call_updated(sid, form)
            return 200, self._call_body(call, template, "post", "200"), None
        if key == ("GET", "/Calls.json"):
            return 200, self._call_page(state, template, path, query), None
        if key == ("POST", "/Messages.json"):
            body = _example(template, "post", "201", "create")
            sid = "SM" + uuid.uuid4().hex
            message = {"sid": sid, "to": form["To"], "from": form.get("From"), "body": form.get("Body")}
            state["messages"].append(message)
            if self.network is not None:
                self.network.message(dict(message))
            body.update({"sid": sid, "to": form["To"], "from": form.get("From"), "body": form.get("Body"),
                         "account_sid": self.account_sid, "status": "queued",
                         "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"})
            return 201, body, None
        if key[1].startswith("/Queues"):
            return self._queues(state, template, method, path, form, query)
        raise SpecViolation(f"the emulator does not implement {method} {template}")

    def _call_page(self, state: dict, template: str, path: str, query: dict) -> dict:
        """The account's calls, newest first, filtered as Twilio filters them, one page of them (_page)."""
        found = sorted(state["calls"].values(), key=lambda c: c["seq"], reverse=True)
        if "To" in query:
            found = [c for c in found if c["to"] == query["To"]]
        if "From" in query:
            found = [c for c in found if c["from"] == query["From"]]
        if "Status" in query:
            found = [c for c in found if c["status"] == query["Status"]]
        if "StartTime>" in query:  # as Twilio documents it: calls that started on or after this UTC day
            since = _utc_day(str(query["StartTime>"]))
            found = [c for c in found if _utc_day(c["created_at"]) >= since]
        return self._page(template, path, query, "calls", found, lambda c: c["sid"],
                          lambda c: self._call_body(c, CALL, "get", "200"), example="readFullPage1")

    @staticmethod
    def _page(template: str, path: str, query: dict, key: str, found: list, sid_of: Callable, render: Callable,
              example: str | None = None) -> dict:
        """One page of a list resource (calls, queues, a queue's members) as Twilio pages its lists:
        PageSize of the `found` rows (50 unless asked; the spec caps it at 1000), rendered under `key`. The
        page after a next_page_uri's PageToken ("PA" and the SID of the last row of the page before: rows that
        came in meanwhile, on top, move nothing), before a previous_page_uri's ("PB" and the first row's SID),
        else page number Page. next_page_uri and previous_page_uri repeat the list's filters and carry the page
        index and a token; next_page_uri is null on the last page."""
        size, page, token = int(query.get("PageSize", 50)), int(query.get("Page", 0)), str(query.get("PageToken", ""))
        sids = [sid_of(row) for row in found]
        if token[:2] == "PA" and token[2:] in sids:
            offset = sids.index(token[2:]) + 1
        elif token[:2] == "PB" and token[2:] in sids:
            offset = max(sids.index(token[2:]) - size, 0)
        else:
            offset = page * size
        rows = found[offset:offset + size]
        filters = {k: v for k, v in query.items() if k not in ("PageSize", "Page", "PageToken")}

        def uri(index: int, page_token: str = "") -> str:
            paging = {"PageSize": size, "Page": index, **({"PageToken": page_token} if page_token else {})}
            return path + "?" + urlencode({**filters, **paging})

        body = _example(template, "get", "200", example)
        body.update({key: [render(row) for row in rows],
                     "start": page * size, "end": page * size + max(len(rows) - 1, 0), "page": page, "page_size": size,
                     "next_page_uri": uri(page + 1, "PA" + sid_of(rows[-1])) if rows and offset + size < len(found)
                     else None,
                     "previous_page_uri": uri(page - 1, "PB" + sid_of(rows[0])) if rows and page > 0 else None,
                     "first_page_uri": uri(0), "uri": uri(page, token)})
        return body

    def _queue_body(self, queue: dict) -> dict:
        body = _example("/2010-04-01/Accounts/{AccountSid}/Queues/{Sid}.json", "get", "200")
        body.update({"sid": queue["sid"], "account_sid": self.account_sid, "friendly_name": queue["name"],
                     "current_size": len(queue["members"]), "average_wait_time": queue.get("average_wait", 0),
                     "uri": f"/2010-04-01/Accounts/{self.account_sid}/Queues/{queue['sid']}.json"})
        return body

    def _member_body(self, queue: dict, member: dict, position: int) -> dict:
        body = _example("/2010-04-01/Accounts/{AccountSid}/Queues/{QueueSid}/Members/{CallSid}.json", "get", "200")
        body.update({"call_sid": member["call_sid"], "queue_sid": queue["sid"], "position": position,
                     "wait_time": member.get("wait_time", 0), "date_enqueued": member.get("date_enqueued"),
                     "uri": f"/2010-04-01/Accounts/{self.account_sid}/Queues/{queue['sid']}/Members/"
                            f"{member['call_sid']}.json"})
        return body

    def _queues(self, state: dict, template: str, method: str, path: str, form: dict, query: dict):
        queues = self.network.queues() if self.network is not None else []
        by_sid = {q["sid"]: q for q in queues}
        tail = template.rsplit("/Accounts/{AccountSid}", 1)[-1]
        parts = path.split("/Queues/", 1)[1].split("/") if "/Queues/" in path else []
        if (method, tail) == ("GET", "/Queues.json"):
            return 200, self._page(template, path, query, "queues", queues, lambda q: q["sid"], self._queue_body,
                                   example="readFull"), None
        queue = by_sid.get(parts[0].removesuffix(".json")) if parts else None
        if queue is None:
            return _not_found()
        if (method, tail) == ("GET", "/Queues/{Sid}.json"):
            return 200, self._queue_body(queue), None
        if (method, tail) == ("GET", "/Queues/{QueueSid}/Members.json"):
            # Front first: a member's position is its place in the whole queue, whichever page it is on.
            return 200, self._page(template, path, query, "queue_members", list(enumerate(queue["members"], 1)),
                                   lambda pm: pm[1]["call_sid"], lambda pm: self._member_body(queue, pm[1], pm[0]),
                                   example="readFull"), None
        call_sid = parts[2].removesuffix(".json")
        index = 0 if call_sid == "Front" else next(
            (i for i, m in enumerate(queue["members"]) if m["call_sid"] == call_sid), None)
        if index is None or index >= len(queue["members"]):
            return _not_found()
        member = queue["members"][index]
        body = self._member_body(queue, member, index + 1)
        if method == "POST":
            state["members"].setdefault(queue["sid"], []).append({"call_sid": member["call_sid"], "url": form.get("Url")})
            self.network.dequeue(queue["name"], member["call_sid"], form["Url"], form.get("Method", "POST"))
        return 200, body, None


__all__ = ["RestApi", "SpecViolation", "spec", "rfc2822", "ENDED"]
