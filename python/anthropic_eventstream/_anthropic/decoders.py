"""The decoder-factory seam: the drop-ins for the SDK's two decoders, ``AWSEventStreamDecoder`` (Bedrock) and
``SSEDecoder`` (first-party and Vertex), network chunks in, the SDK's own ``ServerSentEvent`` objects out, decoded
by the selected backend; what each is found to match in the installed SDK (``sse_events``, ``bedrock_events``:
asked of the SDK's own decoders); and the ``_make_sse_decoder`` replacement that gives every stream of an
opted-in client its ``StreamDecoder`` (``drop_in_decoders``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, ClassVar

from .. import _backend
from .._events import bedrock, sse
from .._events.bedrock import EventSpec, Naming, chunk_frame
from .._events.errors import ErrorBody, frame_error_body
from .._events.feed import DropInDecoder
from .._events.sse import SSESpec
from .._frames.api import DEFAULT_MAX_HEADERS_LENGTH, DEFAULT_MAX_PAYLOAD_LENGTH, limits
from .._patching import SDKChangedError, ours
from .._policy.stream import StreamDecoder
from .body import sdk, stream_sdk
from .events import event_spec

__all__ = [
    "AWSEventStreamDecoder",
    "SSEDecoder",
    "bedrock_events",
    "drop_in_decoders",
    "sse_events",
    "stock_bedrock_decoder",
]


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

        body = b"".join(chunk_frame(text) for text in cls.CHUNKS)
        names = tuple(str(event.event) for event in Stock().iter_bytes(iter([body])))
        if names not in cls.RULES:
            raise SDKChangedError(
                "the installed anthropic SDK's Bedrock decoder names the chunk events "
                f"{list(cls.CHUNKS)} as {list(names)}, which matches no rule this version knows"
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

        from .._events.sse import SSEDecoder as Reference

        for chunks in ([cls.BODY], [cls.BODY[i : i + 1] for i in range(len(cls.BODY))]):
            stock = [vars(event) for event in Stock().iter_bytes(iter(chunks))]
            reference = Reference(spec, max_event_length=len(cls.BODY))
            ours = [vars(event) for chunk in chunks for event in reference.feed(chunk)]
            ours += [vars(event) for event in reference.close()]
            if ours != stock:
                raise SDKChangedError(
                    "the installed anthropic SDK's SSEDecoder decodes differently from what this version "
                    f"knows: {stock} where this package gives {ours}"
                )


@functools.cache
def sse_events() -> SSESpec:
    """``event_spec()``, once this package's SSE decoding is found to give what the installed SDK's own
    ``SSEDecoder`` gives (``_SSEProbe``): what the drop-in ``SSEDecoder`` decodes with."""
    spec = event_spec()
    _SSEProbe.run(spec)
    return spec


@functools.cache
def bedrock_events() -> EventSpec:
    """How the installed SDK's Bedrock decoder turns frames into events (it needs botocore, as the SDK's own
    Bedrock client does); ``SDKChangedError`` if that is not what this version knows."""
    from anthropic._streaming import ServerSentEvent

    spec = event_spec()
    naming, skip_untyped = _ChunkNamingProbe.run()

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

    return EventSpec(
        event_class=spec.event_class,
        naming=naming,
        skip_untyped=skip_untyped,
        error_event=lambda message: FrameErrorEvent(frame_error_body(message)),
        layout=spec.layout,
    )


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
        self._module = _backend.implementation(backend, bedrock)
        self._limits = limits(max_headers_length, max_payload_length)
        self._events = bedrock_events()

    def decoder(self, *, pairs: bool = False) -> Any:
        return self._module.BedrockDecoder(self._events, **self._limits, pairs=pairs)


class SSEDecoder(DropInDecoder):
    """Drop-in for the SDK's ``SSEDecoder`` (first-party and Vertex streams), backed by this package's
    decoder: the same events, attribute for attribute, and ``InvalidSSE`` where the SDK's raises a bare
    ``UnicodeDecodeError``. ``max_event_length`` bounds one event's bytes (the SDK's decoder has no bound)."""

    def __init__(self, backend: str | None = None, *, max_event_length: int = DEFAULT_MAX_PAYLOAD_LENGTH) -> None:
        self._module = _backend.implementation(backend, sse)
        self._max_event_length = limits(DEFAULT_MAX_HEADERS_LENGTH, max_event_length)["max_payload_length"]
        self._spec = sse_events()

    def decoder(self, *, pairs: bool = False) -> Any:
        return self._module.SSEDecoder(self._spec, max_event_length=self._max_event_length, pairs=pairs)


def drop_in_decoders(
    backend: str | None, stall_timeout: float | None, *, sse: bool, bedrock: bool
) -> Callable[[Any], Callable[..., Any]]:
    """Every stream of the client gets a ``StreamDecoder`` (the integrity check, the stall watchdog) over this
    package's drop-in for the decoder the SDK picks for it (from anthropic 2.16 the SDK picks per request: a
    Bedrock client reads its managed-agents routes as SSE): ``AWSEventStreamDecoder`` in place of the SDK's where
    ``bedrock``, ``SSEDecoder`` in place of the SDK's own ``SSEDecoder`` where ``sse`` (the seams that say this
    package decodes as the installed SDK does). Any other decoder (a subclass's own, or one of those seams is off)
    is kept, with the integrity check around it."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def _make_sse_decoder(self: Any, *args: Any, **kwargs: Any) -> StreamDecoder:
            decoder = original(self, *args, **kwargs)
            if sse and type(decoder) is sdk().sse_decoder:
                decoder = SSEDecoder(backend)
            elif bedrock and type(decoder) is stock_bedrock_decoder():
                decoder = AWSEventStreamDecoder(backend)
            return StreamDecoder(decoder, sdk=stream_sdk(), stall_timeout=stall_timeout)

        return ours(_make_sse_decoder)

    return make


@functools.cache
def stock_bedrock_decoder() -> type | None:
    """The SDK's own ``AWSEventStreamDecoder`` class (its module needs nothing at import but the SDK)."""
    try:
        from anthropic.lib.bedrock._stream_decoder import AWSEventStreamDecoder as Stock
    except ImportError:
        return None
    return Stock
