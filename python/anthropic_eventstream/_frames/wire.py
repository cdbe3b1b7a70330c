"""Names of the event-stream wire format, shared by the public API and the pure-Python backend, and how both
backends show foreign bytes in an error message.

The rules both backends share (constants, and every error message) have one home, ``wire.txt``, which the Rust
core reads when it is built (``rust/core/build.rs``) and this module when it is imported: ``RULES``,
``message(NAME, **fields)``.
"""

from __future__ import annotations

import enum
from pathlib import Path

__all__ = [
    "DEFAULT_MAX_HEADERS_LENGTH",
    "DEFAULT_MAX_PAYLOAD_LENGTH",
    "HEAD_SHOWN",
    "MAX_FRAME_LENGTH",
    "MAX_INTEGER_DIGITS",
    "MESSAGES",
    "PRELUDE_LENGTH",
    "RULES",
    "HeaderType",
    "bytes_repr",
    "message",
]


def _read(path: Path) -> tuple[dict[str, int], dict[str, str]]:
    """``wire.txt``'s constants and message formats (the format ``rust/core/build.rs`` reads too)."""
    constants: dict[str, int] = {}
    messages: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, _, rest = line.partition(" ")
        name, _, value = rest.partition(" = ")
        if kind == "const":
            constants[name.split(" ")[-1]] = int(value)
        elif kind == "message":
            messages[name] = value
        else:
            raise ValueError(f"{path.name}: unknown kind {kind!r}: {line}")
    return constants, messages


#: The shared constants, and the shared message formats (``str.format`` syntax, fields by name).
RULES, MESSAGES = _read(Path(__file__).with_name("wire.txt"))

#: A frame's length is a u32: no limit above this can make a difference.
MAX_FRAME_LENGTH = 2**32 - 1

#: How many bytes of foreign input an error message shows.
HEAD_SHOWN = RULES["HEAD_SHOWN"]
#: Bytes in a frame's prelude.
PRELUDE_LENGTH = RULES["PRELUDE_LENGTH"]
#: botocore's limits, so that both accept and reject the same frames.
DEFAULT_MAX_HEADERS_LENGTH = RULES["DEFAULT_MAX_HEADERS_LENGTH"]
DEFAULT_MAX_PAYLOAD_LENGTH = RULES["DEFAULT_MAX_PAYLOAD_LENGTH"]
#: The longest integer part the native JSON scanner decides (``rust/core/src/json.rs``).
MAX_INTEGER_DIGITS = RULES["MAX_INTEGER_DIGITS"]


def message(rule: str, /, **fields: object) -> str:
    """The shared error message ``rule`` with its ``fields``."""
    return MESSAGES[rule].format(**fields)


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
