"""Stream bytes to the installed SDK's ``ServerSentEvent`` objects: what this package knows of the SDK (its
event class, how it names Bedrock chunk events, how its SSE decoder reads text, each learned from the SDK itself),
and the drop-ins for its two decoders, ``AWSEventStreamDecoder`` (Bedrock) and ``SSEDecoder`` (first-party and
Vertex).
"""

from __future__ import annotations

import functools
import inspect
import json
import json.scanner
import operator
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from . import _backend
from ._errors import EventStreamError
from ._eventstream_py import EventSpec, Naming
from ._framing import DEFAULT_MAX_HEADERS_LENGTH, DEFAULT_MAX_PAYLOAD_LENGTH, limits
from ._patching import SDKChangedError
from ._sdk_errors import ErrorBody, frame_error_body
from ._sse_py import SSESpec

if TYPE_CHECKING:
    from anthropic._streaming import ServerSentEvent

__all__ = [
    "FEED_WINDOW",
    "SDK",
    "AWSEventStreamDecoder",
    "DropInDecoder",
    "SSEDecoder",
    "abatches",
    "batches",
    "bedrock_events",
    "event_layout",
    "sdk",
]

#: ``(attribute, role, value)`` in the order the constructor sets them; role is ``"event"``, ``"data"``,
#: ``"list"`` (a fresh empty list per event) or ``"constant"`` (``value``, immutable, shared).
EventLayout = list[tuple[str, str, Any]]


#: The constructor arguments of the SDK's ``ServerSentEvent`` (``id``, ``retry`` and ``raw`` where it has them).
_ARGUMENTS = ("event", "data", "id", "retry", "raw")


def event_layout(cls: type) -> EventLayout | None:
    """How to build ``cls`` instances without running ``__init__``, or ``None`` if that cannot be done safely.

    ``ServerSentEvent.__init__`` is Python code that only stores its arguments; running it is most of the
    cost of an event. We call it once with a sentinel for each argument it takes (``event``, ``data``, and
    ``id``, ``retry``, ``raw`` where it has them) and learn which attribute holds each; every other attribute
    must be an empty list (made fresh per event) or an immutable constant. The layout is accepted only if an
    instance built from it equals one built by the constructor, attribute for attribute. (The constructor
    turns an empty event name into ``None``; the extension sends such rare events, and any with an ``id`` or
    a ``retry``, through the constructor.)
    """
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return None
    sentinels: dict[str, Any] = {"event": "\0event", "data": "\0data"}
    sentinels.update(
        {name: value for name, value in (("id", "\0id"), ("retry", object()), ("raw", [])) if name in parameters}
    )
    try:
        attributes = cls(**sentinels).__dict__
    except (TypeError, AttributeError):
        return None
    if type(attributes) is not dict:
        return None
    layout: EventLayout = []
    for name, value in attributes.items():
        role = next((role for role, sentinel in sentinels.items() if value is sentinel), None)
        if role is not None:
            layout.append((name, role, None))
        elif type(value) is list and not value:
            layout.append((name, "list", None))
        elif isinstance(value, (type(None), bool, int, float, str, bytes)):
            layout.append((name, "constant", value))
        else:
            return None
    if sorted(role for _, role, _ in layout if role in sentinels) != sorted(sentinels):
        return None

    fast: Any = object.__new__(cls)
    values = {"event": "message_start", "data": "{}", "id": None, "retry": None}
    for name, role, value in layout:
        setattr(fast, name, [] if role in ("list", "raw") else values.get(role, value))
    slow = cls(event="message_start", data="{}")
    if fast.__dict__ != slow.__dict__ or [fast.event, fast.data, fast.json()] != [slow.event, slow.data, slow.json()]:
        return None
    return layout


class _ChunkNamingProbe:
    """How the installed SDK's own Bedrock decoder names chunk events, asked of that decoder itself: three
    chunks (a typed object, a legacy completion, an object with neither) go through it, and the names it
    gives say which rule it follows. An answer that matches no known rule is reported, never guessed."""

    CHUNKS: ClassVar[tuple[str, ...]] = ('{"type":"probe"}', '{"completion":"probe"}', "{}")
    RULES: ClassVar[dict[tuple[str, ...], tuple[Naming, bool]]] = {
        ("probe", "completion"): ("type", True),  # anthropic >= 0.110 with `_chunk_bytes_to_sse`
        ("probe", "completion", "completion"): ("type", False),
        ("completion", "completion", "completion"): ("completion", False),  # anthropic < 0.110
    }

    @classmethod
    def run(cls) -> tuple[Naming, bool]:
        from anthropic.lib.bedrock._stream_decoder import AWSEventStreamDecoder as Stock

        from .testing import chunk_frame

        body = b"".join(chunk_frame(text) for text in cls.CHUNKS)
        names = tuple(str(event.event) for event in Stock().iter_bytes(iter([body])))
        if names not in cls.RULES:
            raise SDKChangedError(
                "the installed anthropic SDK's Bedrock decoder names the chunk events "
                f"{list(cls.CHUNKS)} as {list(names)}, which matches no rule this version knows "
                "(nothing was patched)"
            )
        return cls.RULES[names]


class _SSEProbe:
    """Whether this package's SSE decoding gives what the installed SDK's own ``SSEDecoder`` gives, asked of
    that decoder: a body with every rule in it (comments, unknown fields, ``id``, ``retry`` good and bad,
    multi-line data, LF, CR and CRLF, a ``\\r\\n`` split across chunks, a last event without its blank line)
    goes through both, whole and byte by byte, and the events must match attribute for attribute."""

    BODY: ClassVar[bytes] = (
        b": hello\nevent: a\ndata: 1\ndata:2\nid: 7\nretry: 150\nfoo: bar\n\n"
        b"event: b\r\ndata: {}\r\nretry: x\r\n\r\n"
        b"event:\rdata: c\r\rid: a\x00b\ndata: d\n\n\n\n"
        b"event: e\r\ndata: 3\r\n\r"
        b"\ndata: last\n"
    )

    @classmethod
    def run(cls, spec: SSESpec) -> None:
        from anthropic._streaming import SSEDecoder as Stock

        from ._sse_py import SSEDecoder as Reference

        for chunks in ([cls.BODY], [cls.BODY[i : i + 1] for i in range(len(cls.BODY))]):
            stock = [vars(event) for event in Stock().iter_bytes(iter(chunks))]
            reference = Reference(spec, max_event_length=len(cls.BODY))
            ours = [vars(event) for chunk in chunks for event in reference.feed(chunk)]
            ours += [vars(event) for event in reference.close()]
            if ours != stock:
                raise SDKChangedError(
                    "the installed anthropic SDK's SSEDecoder decodes differently from what this version "
                    f"knows: {stock} where this package gives {ours} (nothing was patched)"
                )


@dataclass(frozen=True)
class SDK:
    """What this package knows of the installed anthropic SDK, learned from it once (``sdk()``)."""

    #: how its ``SSEDecoder`` builds events from server-sent events (first-party, Vertex)
    sse: SSESpec
    #: its ``SSEDecoder`` class, which this package's takes the place of
    sse_decoder: type
    #: its ``APIConnectionError``, raised for a broken or incomplete stream and a transport error mid-stream
    connection_error: type[Exception]
    #: its ``APITimeoutError``, raised for a read timeout mid-stream and a stall
    timeout_error: type[Exception]
    #: what its HTTP library (httpx, or httpx2 from anthropic 2) raises for a failure while a body is read
    #: (``RequestError``), and for a timeout among those (``TimeoutException``)
    transport_errors: tuple[type[Exception], ...]
    timeout_errors: tuple[type[Exception], ...]
    #: the class of an exception or error frame's event
    frame_error_event: type


@functools.cache
def sdk() -> SDK:
    """The installed SDK's profile; ``SDKChangedError`` if it does not match what this version knows."""
    from anthropic import APIConnectionError, APITimeoutError
    from anthropic._streaming import ServerSentEvent, SSEDecoder

    http = _http_library()

    Event = fast_event_class(ServerSentEvent)

    class FrameErrorEvent(ServerSentEvent):
        """An ``event="error"`` built from an exception/error frame; ``json()`` keeps its status."""

        def __init__(self, body: ErrorBody) -> None:
            try:
                data = json.dumps(body)
            except (TypeError, ValueError, RecursionError):
                data = json.dumps(
                    {"type": "error", "error": {"type": repr(body["error"].get("type")), "message": repr(body)}}
                )
            super().__init__(event="error", data=data)
            self._body = body

        def json(self) -> Any:
            return self._body

    keep_raw = "raw" in inspect.signature(ServerSentEvent).parameters
    sse = SSESpec(event_class=Event, keep_raw=keep_raw, layout=event_layout(Event))
    _SSEProbe.run(sse)
    return SDK(
        sse=sse,
        sse_decoder=SSEDecoder,
        connection_error=APIConnectionError,
        timeout_error=APITimeoutError,
        transport_errors=(http.RequestError,),
        timeout_errors=(http.TimeoutException,),
        frame_error_event=FrameErrorEvent,
    )


def _http_library() -> Any:
    """The HTTP library the installed SDK's clients read responses with: the module its ``_base_client`` imports
    as ``httpx2`` (anthropic 2) or ``httpx`` (earlier), with the two exception classes this package maps."""
    from anthropic import _base_client

    for name in ("httpx2", "httpx"):
        module = vars(_base_client).get(name)
        if inspect.ismodule(module) and all(
            isinstance(getattr(module, cls, None), type) for cls in ("RequestError", "TimeoutException")
        ):
            return module
    raise SDKChangedError(
        "the installed anthropic SDK reads responses with neither httpx nor httpx2 (no RequestError and "
        "TimeoutException in anthropic._base_client's HTTP library): this version is not supported "
        "(nothing was patched)"
    )


@functools.cache
def bedrock_events() -> EventSpec:
    """How the installed SDK's Bedrock decoder turns frames into events (it needs botocore, as the SDK's own
    Bedrock client does); ``SDKChangedError`` if that is not what this version knows."""
    profile = sdk()
    naming, skip_untyped = _ChunkNamingProbe.run()
    return EventSpec(
        event_class=profile.sse.event_class,
        naming=naming,
        skip_untyped=skip_untyped,
        error_event=lambda message: profile.frame_error_event(frame_error_body(message)),
        layout=profile.sse.layout,
    )


_scan_once = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]

_jiter: Callable[[bytes], Any] | None
try:  # the SDK's own JSON parser (a dependency of every release this package supports)
    from jiter import from_json as _jiter
except ImportError:  # only without the SDK's dependencies
    _jiter = None

#: Below this many characters, no integer in a document can reach CPython's lowest ``int_max_str_digits``
#: (where ``json.loads`` raises and jiter would not): such documents may be parsed by jiter.
_JITER_MAX_LENGTH = 640


def _json(self: Any) -> Any:
    """``json.loads(self.data)``, exactly, for the one JSON document an event's data is, at about half its
    cost. A short document is parsed by jiter, which accepts and builds exactly what ``json.loads`` does
    for text that is UTF-8 (a lone surrogate is not, and goes on) and has no integer past CPython's digit
    limit; failing that, by the scanner ``json.loads`` itself runs, without its Python layers. ``json.loads``
    has the last word on anything else (surrounding whitespace, errors), so that its answers and its errors
    are the caller's."""
    text = self.data
    if len(text) < _JITER_MAX_LENGTH and _jiter is not None:
        try:
            return _jiter(text.encode("utf-8"))
        except (ValueError, UnicodeEncodeError):
            pass
    try:
        value, end = _scan_once(text, 0)
    except Exception:  # StopIteration, JSONDecodeError, RecursionError: json.loads decides
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def fast_event_class(base: type) -> type:
    """The subclass of the SDK's ``ServerSentEvent`` that this package's decoders build: the same attributes
    and methods, with ``json()`` through the scanner directly (``_json``), and each property that returns an
    attribute unchanged (``event``, ``data``, ... , checked on an instance) read by a C-level getter: the
    SDK's stream loop reads them several times per event."""
    namespace: dict[str, Any] = {"__doc__": base.__doc__, "__module__": __name__, "json": _json}
    layout = event_layout(base)
    if layout is not None:
        arguments: dict[str, Any] = {role: object() for _, role, _ in layout if role in _ARGUMENTS}
        arguments["raw"] = [] if "raw" in arguments else None
        instance = base(**{role: value for role, value in arguments.items() if value is not None})
        for attribute, role, _ in layout:
            accessor = base.__dict__.get(role)
            if isinstance(accessor, property) and accessor.fget is not None and role in arguments:
                if accessor.fget(instance) is arguments[role]:
                    namespace[role] = property(operator.attrgetter(attribute), doc=accessor.__doc__)
    return type(base.__name__, (base,), namespace)


#: The most bytes handed to the backend at once. A whole buffered body (a test's mock, a proxy that
#: buffers) would otherwise become one list of every event, all alive at once: slower (the cyclic GC walks
#: them all, repeatedly) and later to deliver the first event. (The native binding releases the GIL for inputs
#: of at least 64 KiB, its own threshold in rust/py/src/input.rs: a full window is decoded without the GIL.)
FEED_WINDOW = 64 * 1024


def _windows(chunk: bytes) -> Sequence[bytes | memoryview]:
    """``chunk`` in windows of about ``FEED_WINDOW`` bytes, cut where the cut changes nothing: never between a
    ``\r`` and the ``\n`` after it, which the SDK's SSE decoder (``bytes.splitlines`` per network chunk) reads as
    one line end, and a window boundary must not make two."""
    if len(chunk) <= FEED_WINDOW:
        return (chunk,)
    view = memoryview(chunk)
    windows: list[bytes | memoryview] = []
    start, length = 0, len(chunk)
    while start < length:
        end = start + FEED_WINDOW
        if end < length and chunk[end - 1] == 0x0D and chunk[end] == 0x0A:
            end += 1
        windows.append(view[start:end])
        start = end
    return windows


def batches(decoder: Any, iterator: Iterator[bytes]) -> Iterator[list[Any]]:
    """The events of each chunk (at most ``FEED_WINDOW`` bytes at a time) as ``decoder`` gives them, then those
    of the end of the stream; after a decoding error, the events decoded before it, then the error."""
    try:
        for chunk in iterator:
            for window in _windows(chunk):
                yield decoder.feed(window)
        yield decoder.close()
    except EventStreamError as exc:
        failure = exc
    else:
        return
    yield failure.messages
    raise failure


async def abatches(decoder: Any, iterator: AsyncIterator[bytes]) -> AsyncIterator[list[Any]]:
    """The async twin of ``batches``."""
    try:
        async for chunk in iterator:
            for window in _windows(chunk):
                yield decoder.feed(window)
        yield decoder.close()
    except EventStreamError as exc:
        failure = exc
    else:
        return
    yield failure.messages
    raise failure


class DropInDecoder:
    """What the two drop-in decoders share: ``iter_bytes`` / ``aiter_bytes`` over a backend decoder, which
    takes each network chunk in one call and returns the SDK's ``ServerSentEvent`` objects it completes. A
    corrupt stream raises an ``EventStreamError`` after the events before it."""

    def decoder(self) -> Any:
        """A fresh backend decoder for one stream: ``feed(bytes) -> list``, ``close() -> list``."""
        raise NotImplementedError

    def iter_bytes(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        """Yields the events as the chunks arrive."""
        for events in batches(self.decoder(), iterator):
            yield from events

    async def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        """The async twin of ``iter_bytes``."""
        async for events in abatches(self.decoder(), iterator):
            for event in events:
                yield event


class AWSEventStreamDecoder(DropInDecoder):
    """Drop-in for the SDK's ``AWSEventStreamDecoder``, backed by this package's decoder: an event per Bedrock
    chunk, and exception and error frames in place as ``event="error"`` events whose body keeps every field
    of the frame."""

    def __init__(
        self,
        backend: str | None = None,
        *,
        max_headers_length: int = DEFAULT_MAX_HEADERS_LENGTH,
        max_payload_length: int = DEFAULT_MAX_PAYLOAD_LENGTH,
    ) -> None:
        self._module = _backend.implementation(backend)
        self._limits = limits(max_headers_length, max_payload_length)
        self._events = bedrock_events()

    def decoder(self) -> Any:
        return self._module.BedrockDecoder(self._events, **self._limits)


class SSEDecoder(DropInDecoder):
    """Drop-in for the SDK's ``SSEDecoder`` (first-party and Vertex streams), backed by this package's
    decoder: the same events, attribute for attribute, and ``InvalidSSE`` where the SDK's raises a bare
    ``UnicodeDecodeError``. ``max_event_length`` bounds one event's bytes (the SDK's decoder has no bound)."""

    def __init__(self, backend: str | None = None, *, max_event_length: int = DEFAULT_MAX_PAYLOAD_LENGTH) -> None:
        self._module = _backend.implementation(backend)
        self._max_event_length = limits(DEFAULT_MAX_HEADERS_LENGTH, max_event_length)["max_payload_length"]
        self._spec = sdk().sse

    def decoder(self) -> Any:
        return self._module.SSEDecoder(self._spec, max_event_length=self._max_event_length)
