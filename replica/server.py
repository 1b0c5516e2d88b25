"""Serve one replica site over real HTTP on 127.0.0.1, with request records and fault injection.

    with ReplicaServer(caliber()) as srv:
        urlopen(srv.base_url)               # http://127.0.0.1:PORT/en/
        srv.set_fault("/rss.xml", "status", code=503, retry_after=120)
        srv.requests[-1].status             # 200

Run one site by hand: `python -m replica.server caliber|eqmint [--port N] [--theme T]`;
a test switches a running site's theme with `srv.site.set_theme("redesign")`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import struct
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from replica import wire
from replica.base import HTML, ReplicaSite, Response
from replica.faults import Fault, FaultTable

logger = logging.getLogger(__name__)
DEFAULT_PORTS = {"caliber": 8081, "eqmint": 8082}


def _verbose() -> bool:
    return os.environ.get("REPLICA_VERBOSE") == "1"


@dataclass(frozen=True)
class RequestRecord:
    """One request the server answered; `status` is 0 when the connection was reset.

    Header names are normalised to Title-Case ("If-None-Match"), whatever the client sent.
    """

    method: str
    path: str
    headers: dict[str, str]
    status: int


class ReplicaServer:
    """Serves one `ReplicaSite` on 127.0.0.1 from a daemon thread; also a context manager."""

    def __init__(self, site: ReplicaSite, port: int = 0, host: str = "127.0.0.1") -> None:
        self.site = site
        self.host = host
        self.port = port
        self.faults = FaultTable()
        self._records: list[RequestRecord] = []
        self._records_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> ReplicaServer:
        """Bind (port 0 picks a free one) and start serving; returns self."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), _Handler, owner=self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"replica-{self.site.name}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wakes hanging and trickling faults and drops kept-alive connections."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        for conn in list(self._connections):
            _quietly_shutdown(conn)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        """ "http://127.0.0.1:PORT" (the port is known once started)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The site's base URL, e.g. "http://127.0.0.1:PORT/en/" for Caliber."""
        return self.origin + self.site.base_path

    def url(self, path: str) -> str:
        """An absolute URL on this server for a path ("/rss.xml")."""
        return self.origin + path

    # -- records and faults -----------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of every request served so far, in order."""
        with self._records_lock:
            return list(self._records)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._records_lock:
            self._records.clear()

    def set_fault(
        self,
        path_prefix: str,
        kind: str,
        *,
        exact: bool = False,
        times: int | None = None,
        **kw: Any,
    ) -> Fault:
        """Make matching requests misbehave; see `replica.faults.KINDS` for each kind's options.

        Kinds: status (code=503, retry_after, body, content_type, headers), hang (seconds=30,
        then answers normally), reset (connection closed with RST, no response), redirect_loop
        (mode="self"|"pair", code=302), slow (chunk=64 bytes, delay=0.1 s per chunk), body
        (body, content_type, status=200). `times` limits how many requests it hits.
        """
        return self.faults.add(path_prefix, kind, exact=exact, times=times, params=kw)

    def clear_faults(self, path_prefix: str | None = None) -> None:
        """Remove the faults on one prefix, or all of them."""
        self.faults.clear(path_prefix)

    # -- used by the handler -------------------------------------------------------------------

    def _record(self, record: RequestRecord) -> None:
        with self._records_lock:
            self._records.append(record)

    def _wait(self, seconds: float) -> bool:
        """Sleep unless the server stops first; True when it is stopping."""
        return self._stopping.wait(seconds)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # hanging handlers must not hold up stop()

    def __init__(self, address: tuple[str, int], handler: type, owner: ReplicaServer) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-response are routine under fault injection.
        if _verbose():
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, like the real sites' nginx
    server_version = "nginx"
    timeout = 30  # idle keep-alive connections give up eventually

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.server.owner._connections.add(self.connection)

    def finish(self) -> None:
        self.server.owner._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:  # noqa: N802 - name fixed by http.server
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if _verbose():
            super().log_message(format, *args)

    # -- one request ---------------------------------------------------------------------------

    def _serve(self, head: bool) -> None:
        owner = self.server.owner
        target = self._target()
        headers = {_title(k): v for k, v in self.headers.items()}
        fault = owner.faults.take(target)
        if fault and self._drop(fault, RequestRecord(self.command, target, headers, 0)):
            return
        resp = wire.fault_response(fault, target, owner.origin) if fault else None
        status, extra, body = self._prepare(resp or self._route(target), headers)
        # Recorded before the answer goes out, so a client that has its response sees the record.
        owner._record(RequestRecord(self.command, target, headers, status))
        trickle = fault.params if fault and fault.kind == "slow" else None
        try:
            self._send(status, extra, None if head or status == 304 else body, trickle)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _drop(self, fault: Fault, record: RequestRecord) -> bool:
        """Apply a reset, or a hang cut short by stop(); True when no answer will be sent."""
        owner = self.server.owner
        if fault.kind == "reset":
            owner._record(record)
            self._reset()
            return True
        if fault.kind == "hang" and owner._wait(float(fault.params.get("seconds", 30))):
            owner._record(record)
            self.close_connection = True
            return True
        return False

    def _target(self) -> str:
        # Absolute-form targets ("GET http://host/path") are reduced to path and query.
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return self.path

    def _route(self, target: str) -> Response:
        owner = self.server.owner
        try:
            return owner.site.handle(target, owner.origin)
        except Exception:  # a rendering bug must show up as a 500, not a dropped connection
            logger.exception("replica %s failed on %s", owner.site.name, target)
            return Response(b"<h1>500 Internal Server Error</h1>", 500, HTML)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client sees "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _prepare(
        self, resp: Response, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """Final status, headers and body: validators and 304, gzip, Content-Length."""
        body, extra = resp.body, {"Content-Type": resp.content_type, **resp.headers}
        if resp.status != 200:
            extra["Content-Length"] = str(len(body))
            return resp.status, extra, body
        modified = resp.last_modified or self.server.owner.site.updated
        etag = wire.etag_of(body)
        extra["Last-Modified"] = wire.http_date(modified)
        if wire.compressible(resp):
            extra["Vary"] = "Accept-Encoding"
        if wire.not_modified(headers, etag, modified):
            del extra["Content-Type"]
            extra["ETag"] = etag
            return 304, extra, b""
        if wire.compressible(resp) and wire.wants_gzip(headers):
            body, etag = wire.compress(body), wire.gzip_etag(etag)
            extra["Content-Encoding"] = "gzip"
        extra["ETag"] = etag
        extra["Content-Length"] = str(len(body))
        return 200, extra, body

    def _send(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes | None,
        trickle: dict[str, Any] | None,
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not body:
            return
        if trickle is None:
            self.wfile.write(body)
            return
        for chunk in _chunks(body, int(trickle.get("chunk", 64))):
            self.wfile.write(chunk)
            self.wfile.flush()
            if self.server.owner._wait(float(trickle.get("delay", 0.1))):
                self.close_connection = True
                return


def _chunks(body: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(body), max(size, 1)):
        yield body[start : start + size]


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def _quietly_shutdown(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)


def main(argv: list[str] | None = None) -> int:
    """`python -m replica.server caliber|eqmint [--port N] [--theme T]`: serve one site until
    Ctrl-C."""
    from replica.sites import site_by_name

    parser = argparse.ArgumentParser(prog="python -m replica.server", description=main.__doc__)
    parser.add_argument("site", choices=sorted(DEFAULT_PORTS))
    parser.add_argument("--port", type=int, help="default: 8081 caliber, 8082 eqmint; 0 = any")
    parser.add_argument(
        "--theme", help="HTML theme: caliber classic|redesign, eqmint classic|newspaper"
    )
    args = parser.parse_args(argv)
    port = DEFAULT_PORTS[args.site] if args.port is None else args.port
    site = site_by_name(args.site)
    if args.theme:
        try:
            site.set_theme(args.theme)
        except ValueError as exc:
            parser.error(str(exc))
    server = ReplicaServer(site, port=port).start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
