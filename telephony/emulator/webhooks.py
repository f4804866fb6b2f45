"""Twilio's requests to the app: signed with the account's auth token over the full public URL, with
an idempotency token, a URL fragment (#rc=2&rp=all) neither sent nor signed but obeyed (retries of a
5xx), and repeated deliveries when a test asks for them (Twilio retries when it got no answer in time)."""
from __future__ import annotations

import logging
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from twilio.request_validator import RequestValidator

from telephony.emulator.basics import WebhookError

log = logging.getLogger("telephony")


class Webhooks:
    """Delivers the account's webhooks through its transport; `requests` lists every delivery."""

    def __init__(self, account):
        self.account = account  # its auth_token, public_base, transport and strict are read at each request
        self.requests: list[tuple[str, dict, int]] = []
        self.retries: list[tuple[str, int]] = []

    def sign(self, url: str, params: dict) -> str:
        return RequestValidator(self.account.auth_token).compute_signature(url, params)

    def deliver_twice(self, url_contains: str = "", times: int = 1) -> None:
        self.retries.append((url_contains, times))

    def post(self, url: str, params: dict, *, signature: str | None = None, expect_ok: bool = True):
        """One signed POST as Twilio would send it, outside any call; the app's answer."""
        if not url.startswith("http"):
            url = self.account.public_base + url
        headers = {"X-Twilio-Signature": signature if signature is not None else self.sign(url, params),
                   "I-Twilio-Idempotency-Token": str(uuid.uuid4())}
        reply = self.account.transport.request("POST", url, params, headers)
        self.requests.append((url, params, reply.status))
        if expect_ok and reply.status >= 400:
            raise WebhookError(f"POST {url} -> {reply.status}: {reply.body}")
        return reply.raw if reply.raw is not None else ReplyView(reply)

    def request(self, url: str, params: dict, method: str = "POST", twiml: bool = True) -> str | None:
        """One webhook (with Twilio's retries when asked for); the body of the answer followed, or None
        when the app failed (4xx/5xx)."""
        transport, strict = self.account.transport, self.account.strict
        if transport is None:
            raise RuntimeError("the emulator has no transport to reach the app (Emulator.attach)")
        parts = urlsplit(url)
        fragment = dict(parse_qsl(parts.fragment))
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
        if method == "GET":
            query = parts.query + ("&" if parts.query and params else "") + urlencode(params)
            url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
            signature, body_params = self.sign(url, {}), {}
        else:
            signature, body_params = self.sign(url, params), params
        headers = {"X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": str(uuid.uuid4())}
        deliveries = 1 + self._extra_deliveries(url)
        retries = int(fragment.get("rc", "0") or 0) if fragment.get("rp") == "all" else 0
        attempt = 0
        while True:
            reply = transport.request(method, url, body_params, headers)
            self.requests.append((url, params, reply.status))
            attempt += 1
            if attempt < deliveries or (reply.status >= 500 and attempt <= retries):
                continue
            break
        if reply.status >= 400:
            if strict:
                raise WebhookError(f"{method} {url} -> {reply.status}: {reply.body}")
            log.warning("webhook %s answered %s", url, reply.status)
            return None
        if twiml and not reply.body.strip():
            if strict:
                raise WebhookError(f"{method} {url} answered {reply.status} with no TwiML")
            return None
        return reply.body

    def _extra_deliveries(self, url: str) -> int:
        for index, (needle, times) in enumerate(self.retries):
            if needle in url:
                del self.retries[index]
                return times
        return 0


class ReplyView:
    """What `post` returns: the app's answer, read like a Flask test response."""

    def __init__(self, reply):
        self.status_code = reply.status
        self.data = reply.body.encode()
        self.content_type = reply.content_type

    def get_data(self, as_text: bool = False):
        return self.data.decode() if as_text else self.data
