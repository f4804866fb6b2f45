"""How the emulator's requests reach the app, and how Twilio's public URLs map to where it runs.

Twilio requests public URLs (https://ivr.example.com/voice/incoming, wss://ivr.example.com/media?...)
and signs them as public URLs. The app runs somewhere else: in this process (a Flask app: requests go
through its WSGI test client, WebSockets through a loopback server started on first use) or at a local
address (`HttpTransport`, e.g. http://127.0.0.1:5000 for `python app.py`). A transport keeps the
public URL for signing and sends to the local place.
"""
from __future__ import annotations

import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from werkzeug.serving import WSGIRequestHandler, make_server


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    content_type: str = ""
    raw: object = None  # the transport's own response object (a Flask test response in-process)


class QuietRequestHandler(WSGIRequestHandler):
    """No access-log line per request (a `GET /media` amid `ivr devphone call`'s output); errors still log."""

    def log_request(self, code="-", size="-") -> None:
        pass


@contextmanager
def serve(app, host: str = "127.0.0.1", port: int = 0, *, access_log: bool = True):
    """Serve a WSGI app on a loopback port (a free one unless given) in a background thread; yields
    http://HOST:PORT. Without `access_log`, no line per request (the emulator's media streams)."""
    server = make_server(host, port, app, threaded=True,
                         request_handler=WSGIRequestHandler if access_log else QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="loopback-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _local(public_url: str, public_base: str, local_base: str) -> str:
    """The same path and query on the local base (scheme mapped: https->http, wss->ws)."""
    pub, url, loc = urlsplit(public_base), urlsplit(public_url), urlsplit(local_base)
    if url.netloc != pub.netloc:
        return public_url  # not ours: leave it (e.g. a test server of its own)
    scheme = loc.scheme
    if url.scheme in ("ws", "wss"):
        scheme = "wss" if loc.scheme == "https" else "ws"
    return urlunsplit((scheme, loc.netloc, url.path, url.query, ""))


class Transport:
    public_base: str

    def request(self, method: str, url: str, params: dict, headers: dict) -> Reply:
        raise NotImplementedError

    def websocket_url(self, public_url: str) -> str:
        raise NotImplementedError

    def close(self) -> None:
        pass


class WsgiTransport(Transport):
    """The app in this process: HTTP through its test client (as if at the public host), WebSockets
    through a loopback server started the first time a media stream opens."""

    def __init__(self, app, public_base: str):
        self.app = app
        self.public_base = public_base.rstrip("/")
        self._server = None
        self._local_base: str | None = None
        self._lock = threading.Lock()

    def request(self, method: str, url: str, params: dict, headers: dict) -> Reply:
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        client = self.app.test_client()  # one per request: safe from several threads
        if method == "GET":
            response = client.get(path, headers=headers, base_url=base)
        else:
            response = client.post(path, data=params, headers=headers, base_url=base)
        return Reply(response.status_code, response.get_data(as_text=True), response.content_type or "", response)

    def websocket_url(self, public_url: str) -> str:
        with self._lock:
            if self._local_base is None:
                self._server = serve(self.app, access_log=False)  # `ivr devphone call` prints the call
                self._local_base = self._server.__enter__()
        return _local(public_url, self.public_base, self._local_base)

    def close(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.__exit__(None, None, None)
                self._server, self._local_base = None, None


class HttpTransport(Transport):
    """The app at a local address (e.g. http://127.0.0.1:5000), reached over real HTTP."""

    def __init__(self, public_base: str, local_base: str, timeout: float = 15.0):
        self.public_base = public_base.rstrip("/")
        self.local_base = local_base.rstrip("/")
        self.timeout = timeout  # Twilio gives a webhook 15 s in all

    def request(self, method: str, url: str, params: dict, headers: dict) -> Reply:
        target = _local(url, self.public_base, self.local_base)
        data = None
        if method == "GET":
            if params:
                target += ("&" if "?" in target else "?") + urlencode(params)
        else:
            data = urlencode(params).encode()
        req = urllib.request.Request(target, data=data, method=method, headers={
            **headers, "Content-Type": "application/x-www-form-urlencoded"})
        # The public host, as a proxy in front of the app would pass it on.
        pub = urlsplit(self.public_base)
        req.add_header("X-Forwarded-Proto", pub.scheme)
        req.add_header("X-Forwarded-Host", pub.netloc)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                return Reply(response.status, response.read().decode("utf-8", "replace"),
                             response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read().decode("utf-8", "replace"), exc.headers.get("Content-Type", ""))

    def websocket_url(self, public_url: str) -> str:
        return _local(public_url, self.public_base, self.local_base)
