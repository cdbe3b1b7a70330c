"""Type stub of the compiled extension (``rust/py``); kept honest by ``mypy.stubtest`` in ``make typecheck``."""

from collections.abc import Callable, Sequence
from typing import Any, final

from ._errors import (
    ChecksumMismatch,
    DuplicateHeader,
    EventStreamError,
    InvalidChunk,
    InvalidHeadersLength,
    InvalidHeaderValue,
    InvalidPayloadLength,
    InvalidSSE,
    NotAnEventStream,
    TruncatedStreamError,
)
from ._events.bedrock import EventSpec
from ._events.sse import SSESpec

__all__ = [
    "DETACH_THRESHOLD",
    "BedrockDecoder",
    "Decoder",
    "Message",
    "ModelBuilder",
    "SSEDecoder",
    "ShapeParser",
    "__version__",
    "bind",
    "encode_message",
]

__version__: str
#: inputs of at least this many bytes are decoded with the interpreter detached (``rust/py/src/input.rs``)
DETACH_THRESHOLD: int

@final
class Message:
    """One frame, a slice of the bytes it was decoded from."""

    def __new__(cls, frame: bytes) -> Message: ...
    def __reduce__(self) -> tuple[type[Message], tuple[bytes]]: ...
    @property
    def headers(self) -> dict[str, bool | int | bytes | str]: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def message_type(self) -> bool | int | bytes | str | None: ...
    @property
    def event_type(self) -> bool | int | bytes | str | None: ...
    @property
    def exception_type(self) -> bool | int | bytes | str | None: ...
    @property
    def total_length(self) -> int: ...
    @property
    def headers_length(self) -> int: ...
    @property
    def prelude_crc(self) -> int: ...
    @property
    def crc(self) -> int: ...
    def to_response_dict(self) -> dict[str, Any]: ...

@final
class Decoder:
    def __new__(cls, *, max_headers_length: int, max_payload_length: int) -> Decoder: ...
    def feed(self, data: bytes | bytearray | memoryview) -> list[Message]: ...
    def feed_parsed(
        self, data: bytes | bytearray | memoryview, parser: ShapeParser, first_as_message: bool
    ) -> list[Message | dict[str, Any]]:
        """``feed``, with each event frame ``parser`` builds given as botocore parses it: ``{event_type: {...}}``."""
    def close(self) -> None: ...
    @property
    def buffered(self) -> int: ...

@final
class BedrockDecoder:
    def __new__(
        cls, spec: EventSpec, /, *, max_headers_length: int, max_payload_length: int, pairs: bool = False
    ) -> BedrockDecoder: ...
    def feed(self, data: bytes | bytearray | memoryview) -> list[Any]: ...
    def close(self) -> list[Any]: ...

@final
class SSEDecoder:
    def __new__(cls, spec: SSESpec, /, *, max_event_length: int, pairs: bool = False) -> SSEDecoder: ...
    def feed(self, data: bytes | bytearray | memoryview) -> list[Any]: ...
    def close(self) -> list[Any]: ...
    def pending(self) -> tuple[str | None, str] | None: ...

@final
class ModelBuilder:
    """An event union's pydantic models, built from their JSON bytes by the shape ``_anthropic.builders`` learned
    (``spec``: nested tuples, ``("str",)``, ``("int",)``, ``("bool",)``, ``("declined",)``, ``("literal",
    [(text, value), ...])``, ``("nullable", kind)``, ``("model", model)``, ``("union", [(tag, model), ...])``,
    a model being ``(class, [(name, kind, required, default), ...], extra, setters)``)."""

    def __new__(cls, spec: tuple[Any, ...], fallback: Callable[[bytes], Any]) -> ModelBuilder: ...
    def __call__(self, data: bytes) -> Any:
        """The model: built here, or by ``fallback`` where this builder declines ``data``."""
    def model(self, data: bytes) -> Any:
        """``__call__``, as a method (the stream loop's fast call)."""
    def build(self, data: bytes) -> Any | None:
        """The model built here, or ``None`` where this builder declines ``data``."""

@final
class ShapeParser:
    """botocore's parsed events for one event stream shape (``spec``: ``[(event_type, members, union), ...]``,
    a member being ``(json_name, name, kind)``, a kind ``("string",)``, ``("integer",)``, ``("boolean",)``,
    ``("blob",)``, ``("declined",)`` or ``("structure", members, union)``; ``_botocore.shapes``)."""

    def __new__(cls, spec: list[tuple[str, list[Any], bool]]) -> ShapeParser: ...
    def parse(self, event_type: str, payload: bytes) -> dict[str, Any] | None:
        """``{event_type: {...}}`` as botocore parses the event, or ``None`` where botocore is to parse it."""

def encode_message(headers: Sequence[tuple[str, int, Any]], payload: bytes) -> bytes: ...
def bind(
    event_stream_error: type[EventStreamError],
    checksum_mismatch: type[ChecksumMismatch],
    not_an_event_stream: type[NotAnEventStream],
    invalid_headers_length: type[InvalidHeadersLength],
    invalid_payload_length: type[InvalidPayloadLength],
    invalid_header_value: type[InvalidHeaderValue],
    duplicate_header: type[DuplicateHeader],
    truncated_stream_error: type[TruncatedStreamError],
    invalid_chunk: type[InvalidChunk],
    invalid_sse: type[InvalidSSE],
    response_dict: Callable[[Message], dict[str, Any]],
) -> None:
    """Hands the extension the package's exception classes and its rule for botocore's response dict (the
    package does, once, at import)."""
