"""The one exception hierarchy, shared by both backends.

The native extension raises these very classes (it imports this module), so ``except ChecksumMismatch``
works the same whichever backend decoded the bytes. The four names botocore also defines
(``ChecksumMismatch``, ``InvalidHeadersLength``, ``InvalidPayloadLength``, ``DuplicateHeader``) are raised
for exactly the inputs botocore raises them for.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ChecksumMismatch",
    "DuplicateHeader",
    "EventStreamError",
    "IncompleteStreamError",
    "InvalidChunk",
    "InvalidHeaderValue",
    "InvalidHeadersLength",
    "InvalidPayloadLength",
    "InvalidSSE",
    "NotAnEventStream",
    "StalledStreamError",
    "TruncatedStreamError",
]


class EventStreamError(ValueError):
    """A stream that cannot be decoded.

    ``offset`` is the byte offset, from the start of the stream, of the frame the problem was found in.
    ``messages`` holds what the failing ``feed()`` call decoded before the problem, so nothing that arrived
    intact is lost; it is empty when raised again by later calls.
    """

    offset: int | None
    messages: list[Any]

    def __init__(self, message: str, *, offset: int | None = None, messages: list[Any] | None = None) -> None:
        super().__init__(message)
        self.offset = offset
        self.messages = messages if messages is not None else []


class ChecksumMismatch(EventStreamError):
    """The prelude CRC or the message CRC does not match the bytes."""


class NotAnEventStream(ChecksumMismatch):
    """The body is text (a proxy's JSON error, an SSE stream, an HTML page), not an AWS event stream.

    A subclass of ``ChecksumMismatch`` because that is what botocore reports for such a body; the message
    shows the first bytes received.
    """


class InvalidHeadersLength(EventStreamError):
    """The prelude's headers length exceeds ``max_headers_length``, or the prelude's lengths cannot add up
    (a frame shorter than its prelude, headers and CRC). botocore misreads the latter; the reference
    implementations (aws-c-event-stream, smithy-rs, aws-sdk-go) call it a headers-length error, as we do."""


class InvalidPayloadLength(EventStreamError):
    """The payload length implied by the prelude exceeds ``max_payload_length``."""


class InvalidHeaderValue(EventStreamError):
    """A header is malformed: an unknown type, bad UTF-8, or a name or value running past its section."""


class DuplicateHeader(EventStreamError):
    """A header name appears twice in one frame."""


class TruncatedStreamError(EventStreamError):
    """The stream ended inside a frame: the answer is incomplete."""


class InvalidChunk(EventStreamError):
    """A Bedrock ``chunk`` event whose payload is not ``{"bytes": "<base64 of UTF-8 JSON>"}``."""


class InvalidSSE(EventStreamError):
    """Server-sent events text that cannot be decoded: a line that is not UTF-8 (where the SDK's own decoder
    raises a bare ``UnicodeDecodeError``), or an event longer than ``max_event_length`` without its blank
    line."""


class IncompleteStreamError(EventStreamError):
    """The stream ended cleanly between two frames (or events), but the answer is not complete: a Messages
    stream without ``message_stop`` after ``message_start``, or a streaming body with no event at all. This
    is how a server or proxy cutting a stream off usually looks."""


class StalledStreamError(EventStreamError):
    """No event other than ``ping`` arrived for ``stall_timeout`` seconds (pings only, or no bytes at all): the
    server or a proxy holds the connection open but the answer makes no progress. Raised as the cause of the
    SDK's ``APITimeoutError``."""


# Shown, and pickled, under the package's public name.
for _cls in (
    EventStreamError,
    ChecksumMismatch,
    NotAnEventStream,
    InvalidHeadersLength,
    InvalidPayloadLength,
    InvalidHeaderValue,
    DuplicateHeader,
    TruncatedStreamError,
    InvalidChunk,
    InvalidSSE,
    IncompleteStreamError,
    StalledStreamError,
):
    _cls.__module__ = "anthropic_eventstream"
del _cls
