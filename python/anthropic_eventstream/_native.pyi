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
    "SSEDecoder",
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
