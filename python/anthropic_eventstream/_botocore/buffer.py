"""``EventStreamBuffer``: a drop-in for ``botocore.eventstream.EventStreamBuffer``, framed by this package.

Code that builds botocore's buffer itself (the stock anthropic SDK decoder, litellm's Bedrock decoder) gets the
same messages, as botocore's own ``EventStreamMessage`` objects, and the same errors, as instances of
botocore's own classes, raised where botocore raises them: when iteration reaches the bad frame, after every
message before it. ``install_botocore()`` puts it in place of botocore's.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .._errors import EventStreamError
from .._frames.api import EventStreamDecoder
from .errors import as_botocore_error

__all__ = ["EventStreamBuffer"]


class EventStreamBuffer:
    """Streaming event-stream buffer with botocore's interface: ``add_data(bytes)``, then iterate (or call
    ``next()``) for every message completed so far. ``backend`` picks ``"native"`` or ``"python"`` (default:
    ``anthropic_eventstream.BACKEND``); ``close()``, which botocore's buffer lacks, raises
    ``TruncatedStreamError`` if the data ended inside a frame."""

    def __init__(self, *, backend: str | None = None) -> None:
        self._decoder = EventStreamDecoder(backend=backend)
        self._ready: deque[Any] = deque()
        self._error: EventStreamError | None = None

    def add_data(self, data: bytes) -> None:
        """Add data to the buffer (messages are decoded now; an error waits for iteration to reach it)."""
        if self._error is not None:
            return
        try:
            self._ready.extend(self._decoder.feed(data))
        except EventStreamError as exc:
            self._ready.extend(exc.messages)
            self._error = exc

    def next(self) -> Any:
        """The next available message, as botocore's ``EventStreamMessage``."""
        if self._ready:
            return _botocore_message(self._ready.popleft())
        if self._error is not None:
            raise as_botocore_error(self._error)
        raise StopIteration

    def __next__(self) -> Any:
        return self.next()

    def __iter__(self) -> EventStreamBuffer:
        return self

    def close(self) -> None:
        """Declares the end of the data: ``TruncatedStreamError`` (also botocore's ``ParserError``) if a frame
        was left unfinished."""
        if self._error is not None:
            return
        try:
            self._decoder.close()
        except EventStreamError as exc:
            raise as_botocore_error(exc) from None


def _botocore_message(message: Any) -> Any:
    from botocore.eventstream import EventStreamMessage, MessagePrelude

    prelude = MessagePrelude(message.total_length, message.headers_length, message.prelude_crc)
    return EventStreamMessage(prelude, message.headers, message.payload, message.crc)
