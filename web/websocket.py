"""A server-side WebSocket read in the request's own thread: one thread per socket, not two.

flask-sock's sockets (simple_websocket) start a reader thread per connection that hands each message
to the handler's thread through an Event: two threads and a wake-up per message. Twilio sends 50
messages a second on every media stream, so that hand-over was most of what a stream cost the server.
Here the handler's thread reads the socket itself (`receive_all`: every message that has arrived,
waiting only when none has), through wsproto, the same protocol engine simple_websocket uses.

Per-message compression (permessage-deflate) is not taken up: a client that offers it gets plain frames
(RFC 6455 lets a server decline any extension; Twilio's media frames are base64, which deflate barely
shrinks, and inflating each one cost about as much as reading it).

`route(blueprint, path)` registers a handler `f(ws)` as flask-sock's `Sock.route` does, for the servers
the app runs on (werkzeug's in development and tests, gunicorn's gthread worker in production).
"""
from __future__ import annotations

import socket
import time
from functools import wraps

from flask import Response, abort, current_app, request
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Ping, Request, TextMessage
from wsproto.frame_protocol import CloseReason
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

RECEIVE_BYTES = 65536  # one read takes whatever has arrived: several media messages when the thread was busy
CLOSE_WAIT_SECONDS = 0.5  # how long a closing socket waits for the peer's close frame before dropping TCP


class WebSocket:
    """One accepted WebSocket. Messages are read only when the owner asks (`receive`, `receive_all`)."""

    def __init__(self, sock: socket.socket, mode: str, max_message_size: int | None = None):
        self.sock, self.mode = sock, mode
        self.max_message_size = max_message_size
        self.connected = True
        self._protocol = WSConnection(ConnectionType.SERVER)
        self._messages: list[str | bytes] = []
        self._parts: list[str | bytes] = []
        self._part_size = 0
        self._closing = False  # we sent a close frame

    @classmethod
    def accept(cls, environ: dict, max_message_size: int | None = None) -> "WebSocket":
        """Complete the upgrade of this request (400 when it is not a valid WebSocket handshake)."""
        if "werkzeug.socket" in environ:
            sock, mode = environ["werkzeug.socket"], "werkzeug"
        elif "gunicorn.socket" in environ:
            sock, mode = environ["gunicorn.socket"], "gunicorn"
        else:
            raise RuntimeError("this server does not hand its sockets to the application")
        ws = cls(sock, mode, max_message_size)
        head = b"GET / HTTP/1.1\r\n" + b"".join(
            f"{'-'.join(p.capitalize() for p in key[5:].split('_'))}: {value}\r\n".encode("latin-1")
            for key, value in environ.items() if key.startswith("HTTP_")) + b"\r\n"
        try:
            ws._protocol.receive_data(head)
            upgrade = next((e for e in ws._protocol.events() if isinstance(e, Request)), None)
        except (RemoteProtocolError, LocalProtocolError, UnicodeEncodeError):
            upgrade = None
        if upgrade is None:
            abort(400, description="Not a WebSocket handshake.")
        sock.sendall(ws._protocol.send(AcceptConnection()))  # no extensions: plain frames
        return ws

    # --- reading ---------------------------------------------------------------------------------

    def receive_all(self, timeout: float) -> list[str | bytes]:
        """Every complete message received so far; when there is none, waits up to `timeout` seconds
        for one. [] on time-out, and once the socket is closed (then `connected` is False)."""
        if not self._messages and self.connected:
            deadline = time.monotonic() + timeout
            while self.connected and not self._messages:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._read(left)
        messages, self._messages = self._messages, []
        return messages

    def receive(self, timeout: float) -> str | bytes | None:
        """The next message, waiting up to `timeout` seconds; None on time-out or when closed."""
        if not self._messages:
            self._messages = self.receive_all(timeout)
        return self._messages.pop(0) if self._messages else None

    def _read(self, timeout: float) -> None:
        try:
            self.sock.settimeout(timeout)
            data = self.sock.recv(RECEIVE_BYTES)
        except socket.timeout:
            return
        except OSError:
            data = b""
        if not data:
            self.connected = False
            return
        try:
            self._protocol.receive_data(data)
            self._handle_events()
        except (LocalProtocolError, RemoteProtocolError):
            self.connected = False

    def _handle_events(self) -> None:
        out = b""
        for event in self._protocol.events():
            if isinstance(event, (TextMessage, BytesMessage)):
                self._part_size += len(event.data)
                if self.max_message_size and self._part_size > self.max_message_size:
                    # Closed before the message is buffered whole.
                    out += self._protocol.send(CloseConnection(CloseReason.MESSAGE_TOO_BIG, "Message is too big"))
                    self._closing, self.connected = True, False
                    break
                self._parts.append(event.data)
                if event.message_finished:
                    joined = "" if isinstance(event, TextMessage) else b""
                    self._messages.append(joined.join(self._parts))
                    self._parts, self._part_size = [], 0
            elif isinstance(event, CloseConnection):
                if not self._closing:
                    out += self._protocol.send(event.response())
                self._closing, self.connected = True, False
                break
            elif isinstance(event, Ping):
                out += self._protocol.send(event.response())
        if out:
            try:
                self.sock.sendall(out)
            except OSError:
                self.connected = False

    # --- closing ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Send a close frame (once), wait up to CLOSE_WAIT_SECONDS for the peer's, then close TCP ourselves
        (RFC 6455: the server closes the connection first), also when the peer keeps sending."""
        if not self._closing:
            self._closing = True
            try:
                self.sock.sendall(self._protocol.send(CloseConnection(CloseReason.NORMAL_CLOSURE)))
                deadline = time.monotonic() + CLOSE_WAIT_SECONDS
                while self.connected and time.monotonic() < deadline:
                    self._read(deadline - time.monotonic())
                    self._messages.clear()  # too late for anyone to read
            except (OSError, LocalProtocolError):
                pass
        self.connected = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def route(blueprint, path: str):
    """Register `f(ws)` as the WebSocket handler of `path` on `blueprint`. The app's config
    WEBSOCKET_MAX_MESSAGE (characters) bounds a message; a larger one closes the socket."""

    def decorator(f):
        @wraps(f)
        def websocket_route(*args, **kwargs):
            ws = WebSocket.accept(request.environ, current_app.config.get("WEBSOCKET_MAX_MESSAGE"))
            try:
                f(ws, *args, **kwargs)
            finally:
                ws.close()
            return _Handled(ws.mode)

        blueprint.route(path, websocket=True)(websocket_route)
        return websocket_route

    return decorator


class _Handled(Response):
    """What the server gets back once the socket is done: nothing more is written to the connection."""

    def __init__(self, mode: str):
        super().__init__()
        self._mode = mode

    def __call__(self, environ, start_response):
        if self._mode == "gunicorn":
            raise StopIteration()  # gunicorn's way of "the application answered on the socket itself"
        return super().__call__(environ, start_response)
