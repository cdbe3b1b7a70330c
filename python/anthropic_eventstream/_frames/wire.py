"""Names of the event-stream wire format, shared by the public API and the pure-Python backend, and how both
backends show foreign bytes in an error message."""

from __future__ import annotations

import enum

__all__ = ["HEAD_SHOWN", "MAX_FRAME_LENGTH", "HeaderType", "bytes_repr"]

#: A frame's length is a u32: no limit above this can make a difference.
MAX_FRAME_LENGTH = 2**32 - 1

#: How many bytes of foreign input an error message shows.
HEAD_SHOWN = 64


class HeaderType(enum.IntEnum):
    """The ten wire types of a header value, by their type byte."""

    BOOL_TRUE = 0
    BOOL_FALSE = 1
    BYTE = 2
    SHORT = 3
    INTEGER = 4
    LONG = 5
    BYTE_ARRAY = 6
    STRING = 7
    TIMESTAMP = 8
    UUID = 9


def bytes_repr(data: bytes, limit: int = HEAD_SHOWN) -> str:
    """``b'...'`` with single quotes always, as the Rust side prints it."""
    out = ["b'"]
    for b in data[:limit]:
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x27:
            out.append("\\'")
        elif b == 0x09:
            out.append("\\t")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x0D:
            out.append("\\r")
        elif 0x20 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    out.append("'")
    if len(data) > limit:
        out.append("...")
    return "".join(out)
