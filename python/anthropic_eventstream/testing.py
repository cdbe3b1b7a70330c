"""Build Bedrock-shaped event streams and serve them through the SDK, so that code which streams Claude on
Bedrock (its retry logic, its handling of cut-off answers) can be tested without AWS.

    from anthropic_eventstream import testing

    body = testing.bedrock_stream([*testing.message_events("Hello")[:3],
                                   testing.exception_frame("throttlingException", "Too many requests")])
    client = testing.mock_bedrock_client(body)            # an AnthropicBedrock on a mock transport
    with pytest.raises(anthropic.RateLimitError):          # with anthropic_eventstream.install()
        for event in client.messages.create(model="m", max_tokens=5, messages=[...], stream=True): ...

Frames come out exactly as Bedrock sends them: ``:event-type`` / ``:content-type`` / ``:message-type``
headers, and a chunk payload of ``{"bytes": "<base64 event JSON>", "p": "<padding>"}``.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ._events.bedrock import chunk_frame
from ._frames.api import encode_message

__all__ = [
    "BEDROCK_PING",
    "MAX_WAIT",
    "SSE_PING",
    "LoopbackServer",
    "Pings",
    "Replies",
    "Reply",
    "Wait",
    "anthropic_sse",
    "bedrock_stream",
    "bedrock_transport",
    "chunk_frame",
    "error_frame",
    "exception_frame",
    "http_module",
    "message_events",
    "mock_anthropic_client",
    "mock_bedrock_client",
    "mock_vertex_client",
    "split",
]

_PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 2
DEFAULT_REQUEST_ID = "7c6e2b1a-0000-4000-8000-eventstream01"

EventLike = Mapping[str, Any] | str | bytes


def exception_frame(exception_type: str, message: str, **fields: Any) -> bytes:
    """A Bedrock mid-stream exception, e.g. ``exception_frame("throttlingException", "Too many requests")``
    or ``exception_frame("modelStreamErrorException", "...", originalStatusCode=500, originalMessage="...")``."""
    payload = json.dumps({"message": message, **fields}).encode()
    return encode_message(
        [(":exception-type", exception_type), (":content-type", "application/json"), (":message-type", "exception")],
        payload,
    )


def error_frame(code: str, message: str) -> bytes:
    """An unmodeled error frame (``:message-type`` = ``error``)."""
    return encode_message([(":message-type", "error"), (":error-code", code), (":error-message", message)])


def message_events(
    text: str | Sequence[str],
    *,
    pieces: int | None = None,
    model: str = "claude-sonnet-4-5-20250929",
    message_id: str = "msg_bdrk_01EventStreamTesting",
    input_tokens: int = 12,
) -> list[dict[str, Any]]:
    """The Anthropic Messages events of one streamed text answer, as Bedrock sends them (the last one
    carries ``amazon-bedrock-invocationMetrics``). ``text`` is split into ``pieces`` deltas (default: one
    per word), or is already the list of deltas."""
    if not isinstance(text, str):
        deltas = list(text)
    elif pieces is None:
        words = text.split(" ")
        deltas = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
    else:
        size = max(1, -(-len(text) // pieces))
        deltas = [text[i : i + size] for i in range(0, len(text), size)]
    output_tokens = len(deltas)
    return [
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": d}} for d in deltas),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        },
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": input_tokens,
                "outputTokenCount": output_tokens,
                "invocationLatency": 812,
                "firstByteLatency": 301,
            },
        },
    ]


def bedrock_stream(events: Iterable[EventLike], *, max_padding: int = 45) -> bytes:
    """One response body: each dict or JSON string becomes a ``chunk`` frame; ``bytes`` are taken as
    ready-made frames (from ``exception_frame``, ``error_frame``, ``encode_message``). Padding varies in
    length, from 1 to ``max_padding`` characters, as Bedrock's does."""
    frames = []
    for i, event in enumerate(events):
        if isinstance(event, bytes):
            frames.append(event)
        else:
            frames.append(chunk_frame(event, padding=_PADDING[: 1 + (i * 7) % max_padding]))
    return b"".join(frames)


def split(body: bytes, chunk_size: int) -> list[bytes]:
    """``body`` in pieces of ``chunk_size`` bytes, as a network would deliver it."""
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    return [body[i : i + chunk_size] for i in range(0, len(body), chunk_size)] or [b""]


def http_module() -> ModuleType:
    """The HTTP library the installed SDK is built on: ``httpx2`` (anthropic >= 1.0) or ``httpx``."""
    import anthropic._base_client as base_client

    module = getattr(base_client, "httpx2", None) or getattr(base_client, "httpx", None)
    if module is None:  # pragma: no cover - every released SDK has one of the two
        raise RuntimeError("cannot tell which HTTP library the installed anthropic SDK uses")
    return module  # type: ignore[no-any-return]


def _pieces(body: bytes | Sequence[bytes], chunk_size: int) -> list[bytes]:
    return split(body, chunk_size) if isinstance(body, (bytes, bytearray)) else [bytes(p) for p in body]


class Replies:
    """Successive answers: the n-th request gets the n-th body (and the last one again after that), with
    optional extra headers per answer. ``requests`` counts the requests made, to test retries."""

    def __init__(self, *bodies: bytes | Sequence[bytes], headers: Sequence[Mapping[str, str]] = ()) -> None:
        self.bodies = list(bodies)
        self.headers = list(headers)
        self.requests = 0

    def next(self) -> tuple[bytes | Sequence[bytes], Mapping[str, str]]:
        index = min(self.requests, len(self.bodies) - 1)
        self.requests += 1
        return self.bodies[index], self.headers[index] if index < len(self.headers) else {}


def bedrock_transport(
    body: bytes | Sequence[bytes] | Replies,
    *,
    chunk_size: int = 16 * 1024,
    status: int = 200,
    request_id: str = DEFAULT_REQUEST_ID,
    content_type: str = "application/vnd.amazon.eventstream",
    headers: Mapping[str, str] | None = None,
) -> Any:
    """A mock transport (of the SDK's HTTP library) answering every request with ``body`` (or each with the
    next of ``Replies``), delivered in ``chunk_size`` pieces (or in the given pieces), with Bedrock's response
    headers."""
    http = http_module()
    replies = body if isinstance(body, Replies) else Replies(body)
    response_headers = {
        "content-type": content_type,
        "x-amzn-requestid": request_id,
        "x-amzn-bedrock-content-type": "application/json",
        **(headers or {}),
    }

    class Body(http.SyncByteStream, http.AsyncByteStream):  # type: ignore[misc,name-defined]
        def __init__(self, pieces: list[bytes]) -> None:
            self.pieces = pieces

        def __iter__(self) -> Iterator[bytes]:
            yield from self.pieces

        async def __aiter__(self) -> Any:
            for piece in self.pieces:
                yield piece

    def handler(request: Any) -> Any:
        reply, extra = replies.next()
        pieces = _pieces(reply, chunk_size)
        return http.Response(status, headers={**response_headers, **extra}, stream=Body(pieces), request=request)

    return http.MockTransport(handler)


def mock_bedrock_client(
    body: bytes | Sequence[bytes] | Replies, *, is_async: bool = False, max_retries: int = 0, **transport: Any
) -> Any:
    """An ``AnthropicBedrock`` (or ``AsyncAnthropicBedrock``) whose every request is answered with
    ``body``; keyword arguments go to ``bedrock_transport``. No retries, dummy credentials, no network."""
    from anthropic import AnthropicBedrock, AsyncAnthropicBedrock

    http = http_module()
    client_cls, http_cls = (AsyncAnthropicBedrock, http.AsyncClient) if is_async else (AnthropicBedrock, http.Client)
    return client_cls(
        aws_access_key="testing",
        aws_secret_key="testing",
        aws_region="us-east-1",
        max_retries=max_retries,
        http_client=http_cls(transport=bedrock_transport(body, **transport)),
    )


def anthropic_sse(events: Iterable[Mapping[str, Any]]) -> bytes:
    """A first-party SSE body: ``event: <type>`` / ``data: <json>`` for each event."""
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


def _sse_client(
    classes: tuple[type, type], body: Any, is_async: bool, max_retries: int, transport: dict[str, Any], **options: Any
) -> Any:
    """A first-party-style client (first-party SSE, with its ``request-id``) of ``classes`` (sync, async)."""
    http = http_module()
    transport.setdefault("content_type", "text/event-stream")
    transport.setdefault("headers", {"request-id": "req_01EventStreamTesting"})
    client_cls, http_cls = (classes[1], http.AsyncClient) if is_async else (classes[0], http.Client)
    return client_cls(
        max_retries=max_retries, http_client=http_cls(transport=bedrock_transport(body, **transport)), **options
    )


def mock_anthropic_client(
    body: bytes | Sequence[bytes] | Replies, *, is_async: bool = False, max_retries: int = 0, **transport: Any
) -> Any:
    """A first-party ``Anthropic`` (or ``AsyncAnthropic``) client answering with the SSE ``body``."""
    from anthropic import Anthropic, AsyncAnthropic

    return _sse_client((Anthropic, AsyncAnthropic), body, is_async, max_retries, transport, api_key="testing")


def mock_vertex_client(
    body: bytes | Sequence[bytes] | Replies, *, is_async: bool = False, max_retries: int = 0, **transport: Any
) -> Any:
    """An ``AnthropicVertex`` (or ``AsyncAnthropicVertex``) client answering with the SSE ``body`` (Vertex
    streams are first-party SSE)."""
    from anthropic.lib.vertex import AnthropicVertex, AsyncAnthropicVertex

    return _sse_client(
        (AnthropicVertex, AsyncAnthropicVertex),
        body,
        is_async,
        max_retries,
        transport,
        region="us-east5",
        project_id="testing",
        access_token="testing",
    )


# -- a real server on loopback -------------------------------------------------------------------------------

#: The longest any step waits (a stalled stream's server, a read timeout's silence).
MAX_WAIT = 8.0

SSE_PING = b'event: ping\ndata: {"type": "ping"}\n\n'
BEDROCK_PING = chunk_frame({"type": "ping"})


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


Step = bytes | Wait | Pings


@dataclass(frozen=True)
class Reply:
    """One response: ``steps`` written as chunks of a chunked body, then ``end``: ``"finish"`` (the last chunk,
    a complete body), ``"drop"`` (the connection closed without it: an incomplete chunked read). ``headers``
    are sent besides the ones every reply has (``request-id``, ``x-amzn-requestid``)."""

    steps: tuple[Step, ...]
    end: str = "finish"
    content_type: str = "text/event-stream"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class LoopbackServer:
    """A real HTTP/1.1 server on 127.0.0.1 for tests: ``with LoopbackServer([reply, ...]) as server:`` serves
    ``server.url``; each request gets the next ``Reply`` (the last one repeats), its body written chunk by chunk,
    so that a client reads over a real socket, through its own transport, a server that drops, stalls or goes
    quiet. ``server.requests`` counts what it answered. Bounded: a step that waits ends when the server stops,
    and none waits longer than ``MAX_WAIT`` seconds."""

    replies: list[Reply]
    requests: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> LoopbackServer:
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
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def _answer(self, conn: socket.socket) -> None:
        if not _read_request(conn):
            return
        reply = self.replies[min(self.requests, len(self.replies) - 1)]
        self.requests += 1
        head = (
            f"HTTP/1.1 {reply.status} OK\r\nContent-Type: {reply.content_type}\r\nTransfer-Encoding: chunked\r\n"
            "request-id: req_loopback\r\nx-amzn-requestid: req_loopback\r\nConnection: close\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in reply.headers)
            + "\r\n"
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
