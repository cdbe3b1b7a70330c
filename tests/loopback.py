"""A real HTTP/1.1 server on 127.0.0.1 for the suite: each request gets the next ``Reply`` (the last one
repeats), a chunked body written step by step, so that the SDK's clients read over a real socket, through
their own transport, exactly as they read a server that drops, stalls or times out.

Everything is bounded: a step that waits ends when the server is stopped, and no step waits longer than
``MAX_WAIT`` seconds.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from dataclasses import dataclass, field
from typing import Any, Union

from anthropic_eventstream import testing

#: The longest any step waits (a stalled stream's server, a read timeout's silence).
MAX_WAIT = 8.0

SSE_PING = b'event: ping\ndata: {"type": "ping"}\n\n'
BEDROCK_PING = testing.chunk_frame({"type": "ping"})


@dataclass(frozen=True)
class Wait:
    """Send nothing for ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Pings:
    """Send ``ping`` events every ``interval`` seconds for ``seconds``."""

    seconds: float
    interval: float
    ping: bytes = SSE_PING


Step = Union[bytes, Wait, Pings]


@dataclass(frozen=True)
class Reply:
    """One response: ``steps`` written as chunks of a chunked body, then ``end``: ``"finish"`` (the last chunk,
    a complete body), ``"drop"`` (the connection closed without it: an incomplete chunked read)."""

    steps: tuple[Step, ...]
    end: str = "finish"
    content_type: str = "text/event-stream"
    status: int = 200


@dataclass
class Loopback:
    """``with Loopback([reply, ...]) as server:`` a server on ``server.url``; ``server.requests`` counts what it
    answered."""

    replies: list[Reply]
    requests: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Loopback:
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner._answer(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _answer(self, conn: socket.socket) -> None:
        if not _read_request(conn):
            return
        reply = self.replies[min(self.requests, len(self.replies) - 1)]
        self.requests += 1
        head = (
            f"HTTP/1.1 {reply.status} OK\r\nContent-Type: {reply.content_type}\r\nTransfer-Encoding: chunked\r\n"
            "request-id: req_loopback\r\nx-amzn-requestid: req_loopback\r\nConnection: close\r\n\r\n"
        )
        try:
            conn.sendall(head.encode())
            for step in reply.steps:
                if isinstance(step, Wait):
                    self._stop.wait(min(step.seconds, MAX_WAIT))
                elif isinstance(step, Pings):
                    waited = 0.0
                    while waited < min(step.seconds, MAX_WAIT) and not self._stop.is_set():
                        conn.sendall(_chunk(step.ping))
                        self._stop.wait(step.interval)
                        waited += step.interval
                else:
                    conn.sendall(_chunk(step))
            if reply.end == "finish":
                conn.sendall(b"0\r\n\r\n")
        except OSError:  # the client went away (as a stalled or timed-out client does)
            pass
        finally:
            conn.close()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _read_request(conn: socket.socket) -> bool:
    """Reads one request (head and ``Content-Length`` body); ``False`` if the client closed first."""
    conn.settimeout(MAX_WAIT)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            more = conn.recv(65536)
            if not more:
                return False
            data += more
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            more = conn.recv(65536)
            if not more:
                return False
            body += more
    except OSError:
        return False
    return True


KINDS = ("first-party", "bedrock", "vertex", "mantle")


def sse_event(event: dict[str, Any]) -> bytes:
    return testing.anthropic_sse([event])


def frames(kind: str, events: list[Any]) -> list[bytes]:
    """Each event as the bytes ``kind``'s server sends for it (a Bedrock frame, or an SSE event)."""
    if kind == "bedrock":
        return [e if isinstance(e, bytes) else testing.chunk_frame(e) for e in events]
    return [sse_event(e) for e in events]


def ping(kind: str) -> bytes:
    return BEDROCK_PING if kind == "bedrock" else SSE_PING


def content_type(kind: str) -> str:
    return "application/vnd.amazon.eventstream" if kind == "bedrock" else "text/event-stream"


def client(kind: str, url: str, *, is_async: bool, max_retries: int = 0, read_timeout: float = 10.0) -> Any:
    """A client of ``kind`` talking to ``url`` through the SDK's own HTTP transport."""
    import anthropic
    import pytest

    http = testing.http_module()
    options: dict[str, Any] = {
        "base_url": url,
        "max_retries": max_retries,
        "timeout": http.Timeout(10.0, read=read_timeout),
    }
    if kind == "first-party":
        cls = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
        return cls(api_key="testing", **options)
    if kind == "bedrock":
        from anthropic.lib.bedrock import AnthropicBedrock, AsyncAnthropicBedrock

        cls = AsyncAnthropicBedrock if is_async else AnthropicBedrock
        return cls(aws_access_key="testing", aws_secret_key="testing", aws_region="us-east-1", **options)
    if kind == "vertex":
        from anthropic.lib.vertex import AnthropicVertex, AsyncAnthropicVertex

        cls = AsyncAnthropicVertex if is_async else AnthropicVertex
        return cls(region="us-east5", project_id="testing", access_token="testing", **options)
    bedrock = pytest.importorskip("anthropic.lib.bedrock")
    if not hasattr(bedrock, "AnthropicBedrockMantle"):
        pytest.skip("this SDK has no Mantle client (anthropic 2.15 and later)")
    cls = bedrock.AsyncAnthropicBedrockMantle if is_async else bedrock.AnthropicBedrockMantle
    return cls(skip_auth=True, aws_region="us-east-1", **options)
