"""Local stand-ins for an SMTP server and a webhook (Slack's incoming webhooks, or any JSON or
form endpoint such as Apprise's ``json://`` and ``form://`` post to), for tests and the demo.

Both listen on 127.0.0.1 on a free port, collect what they receive, and can be told to fail:
``SmtpSink`` can be stopped (server down) and restarted on the same port, or answer a chosen
SMTP reply to RCPT or DATA; ``WebhookSink`` answers a scripted sequence of HTTP statuses.
Neither needs pytest.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _Running:
    """Context-manager plumbing shared by both sinks."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass
class Received:
    """One mail as the server saw it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


class _SmtpHandler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802, ANN001
        if self.sink.rcpt_reply:
            return self.sink.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        if self.sink.data_reply:
            return self.sink.data_reply
        raw = envelope.original_content or envelope.content
        # Parsed from LF line ends, so the bodies read back as Python text (no stray "\r").
        parser = BytesParser(policy=policy.default)
        message = cast(EmailMessage, parser.parsebytes(raw.replace(b"\r\n", b"\n")))
        with self.sink.lock:
            self.sink.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message, raw)
            )
        return "250 Message accepted"


class SmtpSink(_Running):
    """An aiosmtpd server on 127.0.0.1 collecting mails in ``messages``.

    ``credentials=(user, password)`` makes it offer AUTH (without TLS: it is local) and check
    logins. Set ``rcpt_reply`` or ``data_reply`` (e.g. "550 5.1.1 no such user",
    "451 4.3.0 try again later") to refuse; ``stop()`` then ``start()`` for an outage.
    """

    def __init__(self, port: int | None = None, credentials: tuple[str, str] | None = None):
        self.host = HOST
        self.port = port or free_port()
        self.credentials = credentials
        self.messages: list[Received] = []
        self.logins: list[str] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self.lock = threading.Lock()
        self._controller: Any = None

    def start(self) -> None:
        """Start listening (again, on the same port)."""
        from aiosmtpd.controller import Controller

        auth: dict[str, Any] = {}
        if self.credentials:
            auth = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(
            _SmtpHandler(self), hostname=self.host, port=self.port, **auth
        )
        self._controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start()``."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and self.credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _WebhookServer

    def do_POST(self) -> None:  # noqa: N802
        sink = self.server.sink
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, reply = sink.next_response()
        with sink.lock:
            sink.requests.append((self.path, dict(self.headers), body))
            if 200 <= status < 300:
                sink.posts.append(_decode(self.headers.get("Content-Type") or "", body))
        data = reply.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # keep test and demo output quiet


class _WebhookServer(ThreadingHTTPServer):
    daemon_threads = True
    sink: WebhookSink


class WebhookSink(_Running):
    """An HTTP endpoint on 127.0.0.1 that acts like a Slack incoming webhook, or any webhook.

    ``posts`` holds the bodies it accepted (2xx answers), decoded: JSON as parsed, a form as a
    dict of its fields, anything else as text; ``requests`` every request.
    ``responses`` scripts the answers in order, each a status or (status, body), e.g.
    ``[500, 500, 200]`` or ``[(404, "no_service")]``; after the script it answers 200 "ok".
    ``url`` includes a secret-looking path, as a real webhook does.
    """

    def __init__(self, responses: Iterable[int | tuple[int, str]] = (), port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}/services/T0000/B0000/s3cr3tW3bh00kT0k3n"
        self.posts: list[Any] = []
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self._script: deque[tuple[int, str]] = deque()
        self.script(responses)
        self._server: _WebhookServer | None = None
        self._thread: threading.Thread | None = None

    def apprise_url(self, scheme: str = "json", query: str = "") -> str:
        """An Apprise URL that posts here (``json``, ``form``, ``xml``), with a secret-looking
        path of its own."""
        return f"{scheme}://{HOST}:{self.port}/hooks/n3wsm0nS3cr3tP4th" + (
            f"?{query}" if query else ""
        )

    def script(self, responses: Iterable[int | tuple[int, str]]) -> None:
        """Answer the next requests with these statuses (then 200 "ok")."""
        with self.lock:
            for r in responses:
                self._script.append(r if isinstance(r, tuple) else (r, _reply_for(r)))

    def next_response(self) -> tuple[int, str]:
        with self.lock:
            return self._script.popleft() if self._script else (200, "ok")

    def start(self) -> None:
        """Start listening (again, on the same port)."""
        self._server = _WebhookServer((HOST, self.port), _WebhookHandler)
        self._server.sink = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start()``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _decode(content_type: str, body: bytes) -> Any:
    """A request body as a test wants to read it."""
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    if "json" in content_type or not content_type:
        return json.loads(body or b"null")
    return body.decode("utf-8", "replace")


def _reply_for(status: int) -> str:
    """What Slack says with each status (its bodies are short plain-text codes)."""
    return {
        200: "ok",
        400: "invalid_payload",
        403: "invalid_token",
        404: "no_service",
        410: "channel_is_archived",
        429: "rate_limited",
    }.get(status, "internal_error" if status >= 500 else "error")
