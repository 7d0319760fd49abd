"""A local SMTP sink for `make run` and the tests (aiosmtpd): accepts every mail on
127.0.0.1, stores each as an .eml file, and lists them over HTTP.

    python -m devstack.smtp_sink --port 1025 --http-port 8025 --dir .local/mail

In tests, as a context manager that can also answer with scripted failures:

    with run_smtp_sink(maildir) as sink:           # sink.host, sink.port, sink.url
        sink.fail_next("rcpt", "451 4.3.0 Try again later")
        sink.delay_next(10)                         # store the next mail, then wait to answer
        ...
        sink.messages()                             # parsed email.message.EmailMessage list

Only for local use: it keeps every address and body it receives (that is its purpose).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import itertools
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    path: Path
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    at: float = field(default_factory=time.time)
    tls: bool = False          # the session had switched to TLS (STARTTLS or implicit)
    auth: Any = None           # what the authenticator returned, when AUTH succeeded

    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


class SinkHandler:
    """aiosmtpd handler: store every mail; answer scripted failures first."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        maildir.mkdir(parents=True, exist_ok=True)
        self.received: list[Received] = []
        self.failures: list[tuple[str, str]] = []   # (stage, reply), used in order
        self.delays: list[float] = []
        self.attempts: dict[str, int] = {"rcpt": 0, "data": 0}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)

    def _scripted(self, stage: str) -> str | None:
        with self._lock:
            self.attempts[stage] += 1
            for i, (when, reply) in enumerate(self.failures):
                if when == stage:
                    del self.failures[i]
                    return reply
        return None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self._scripted("rcpt")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self._scripted("data")
        if reply:
            return reply
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{next(self._counter):04d}.eml"
        path = self.maildir / name
        path.write_bytes(data)
        with self._lock:
            self.received.append(Received(
                path, envelope.mail_from, list(envelope.rcpt_tos), data,
                tls=session.ssl is not None,
                auth=session.auth_data if session.authenticated else None))
            delay = self.delays.pop(0) if self.delays else 0.0
        if delay:  # stored: the sender's crash now leaves a delivered, unrecorded mail
            await asyncio.sleep(delay)
        return "250 2.0.0 Message accepted for delivery"


class SmtpSink:
    def __init__(self, maildir: Path, host: str = "127.0.0.1", port: int | None = None,
                 **smtp_options: Any) -> None:
        """smtp_options go to aiosmtpd's SMTP: tls_context and require_starttls for STARTTLS,
        authenticator and auth_required for AUTH (tests of those settings)."""
        self.host = host
        self.port = port or free_port()
        self.handler = SinkHandler(Path(maildir))
        self.controller = Controller(self.handler, hostname=host, port=self.port,
                                     **smtp_options)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.controller.stop()

    def fail_next(self, stage: str, reply: str, times: int = 1) -> None:
        """Answer the next `times` RCPT or DATA commands ("rcpt" / "data") with `reply`."""
        if stage not in ("rcpt", "data"):
            raise ValueError("stage is rcpt or data")
        with self.handler._lock:
            self.handler.failures.extend([(stage, reply)] * times)

    def delay_next(self, seconds: float) -> None:
        """Store the next mail, then wait `seconds` before answering 250."""
        with self.handler._lock:
            self.handler.delays.append(seconds)

    def received(self) -> list[Received]:
        with self.handler._lock:
            return list(self.handler.received)

    def messages(self) -> list[EmailMessage]:
        return [r.message() for r in self.received()]

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


@contextlib.contextmanager
def run_smtp_sink(maildir: Path, port: int | None = None) -> Iterator[SmtpSink]:
    with SmtpSink(maildir, port=port) as sink:
        yield sink


# ---------------------------------------------------------------------- the HTTP listing
def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    return body.get_content() if body is not None else ""


def listing_server(maildir: Path, port: int) -> ThreadingHTTPServer:
    """GET / lists the stored mails, newest first; /<name> shows one (HTML part), /<name>.txt
    its text part, /<name>.eml the raw message."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: str, kind: str = "text/html") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].strip("/")
            files = sorted(maildir.glob("*.eml"), reverse=True)
            if not path:
                rows = []
                for f in files:
                    msg = BytesParser(policy=policy.default).parsebytes(f.read_bytes())
                    rows.append(
                        f"<tr><td>{html.escape(f.stem)}</td><td>{html.escape(str(msg['To']))}"
                        f"</td><td><a href='/{f.stem}'>{html.escape(str(msg['Subject']))}</a>"
                        f"</td><td><a href='/{f.stem}.txt'>text</a> "
                        f"<a href='/{f.stem}.eml'>raw</a></td></tr>")
                self._send(200, "<!doctype html><meta charset=utf-8><title>Local mail</title>"
                           "<body style='font:14px system-ui;margin:24px'><h1>Local mail "
                           f"({len(files)})</h1><table cellpadding=4>{''.join(rows)}</table>")
                return
            stem, _, ext = path.partition(".")
            match = next((f for f in files if f.stem == stem), None)
            if match is None:
                self._send(404, "not found", "text/plain")
                return
            raw = match.read_bytes()
            if ext == "eml":
                self._send(200, raw.decode("utf-8", "replace"), "text/plain")
                return
            msg = BytesParser(policy=policy.default).parsebytes(raw)
            assert isinstance(msg, EmailMessage)
            if ext == "txt":
                self._send(200, _part(msg, "plain"), "text/plain")
            else:
                self._send(200, _part(msg, "html") or f"<pre>{html.escape(_part(msg, 'plain'))}"
                           "</pre>")

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=1025, help="SMTP port (127.0.0.1)")
    parser.add_argument("--http-port", type=int, default=8025, help="listing port; 0: none")
    parser.add_argument("--dir", default=".local/mail", help="where .eml files go")
    args = parser.parse_args(argv)
    maildir = Path(args.dir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with run_smtp_sink(maildir, port=args.port):
        server = None
        if args.http_port:
            server = listing_server(maildir, args.http_port)
            threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"smtp sink on 127.0.0.1:{args.port}, mails in {maildir}/"
              + (f", listed at http://127.0.0.1:{args.http_port}/" if server else ""),
              flush=True)
        stop.wait()
        if server is not None:
            server.shutdown()


if __name__ == "__main__":
    main()
