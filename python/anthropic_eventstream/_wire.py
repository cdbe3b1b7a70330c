"""Names of the event-stream wire format, shared by the public API and the pure-Python backend."""

from __future__ import annotations

import enum

__all__ = ["MAX_FRAME_LENGTH", "HeaderType"]

#: A frame's length is a u32: no limit above this can make a difference.
MAX_FRAME_LENGTH = 2**32 - 1


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
