"""The wire rules both backends share have one home, ``_frames/wire.txt``: the Rust core is built from it
(``rust/core/build.rs``) and the pure-Python backend reads it. This checks that each rule there is used by both,
and that neither keeps a copy of its own."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import anthropic_eventstream
from anthropic_eventstream._frames import wire

from ..helpers import property_settings, requires_native

PACKAGE = Path(anthropic_eventstream.__file__).parent
RUST = Path(__file__).resolve().parent.parent.parent / "rust"
needs_sources = pytest.mark.skipif(not RUST.is_dir(), reason="an installed copy of the tests, away from the repository")


def _sources(root: Path, pattern: str) -> str:
    """The code under ``root`` (files matching ``pattern``), comment lines left out."""
    lines = (line for path in sorted(root.rglob(pattern)) for line in path.read_text(encoding="utf-8").splitlines())
    return "\n".join(line for line in lines if not line.lstrip().startswith(("//", "#")))


def _fixed_words(fmt: str) -> list[str]:
    """The runs of a format's fixed text long enough to be a copy if found elsewhere."""
    return [run.strip() for run in re.split(r"\{[^}]*\}", fmt) if len(run.strip()) >= 12]


def test_every_message_is_used_by_the_python_backend() -> None:
    python = _sources(PACKAGE, "*.py")
    unused = [name for name in wire.MESSAGES if not re.search(rf'\bmessage\(\s*"{name}"', python)]
    assert not unused, unused


@needs_sources
def test_every_message_is_used_by_the_rust_core() -> None:
    rust = _sources(RUST / "core" / "src", "*.rs")
    unused = [name for name in wire.MESSAGES if not re.search(rf"\bwire_message!\(\s*{name}\s*,", rust)]
    assert not unused, unused


@needs_sources
def test_neither_backend_keeps_a_copy_of_a_message() -> None:
    sources = {"python": _sources(PACKAGE, "*.py"), "rust": _sources(RUST, "*.rs")}
    copies = [
        f"{side}: {words!r} ({name})"
        for name, fmt in wire.MESSAGES.items()
        for words in _fixed_words(fmt)
        for side, text in sources.items()
        if words in text
    ]
    assert not copies, copies


def test_the_constants_are_what_each_side_uses() -> None:
    from anthropic_eventstream._frames import api, reference

    assert api.DEFAULT_MAX_HEADERS_LENGTH == wire.RULES["DEFAULT_MAX_HEADERS_LENGTH"] == 128 * 1024
    assert api.DEFAULT_MAX_PAYLOAD_LENGTH == wire.RULES["DEFAULT_MAX_PAYLOAD_LENGTH"] == 24 * 1024 * 1024
    assert reference.PRELUDE_LENGTH == wire.RULES["PRELUDE_LENGTH"] == 12
    assert wire.HEAD_SHOWN == wire.RULES["HEAD_SHOWN"]


@pytest.mark.skipif(not hasattr(sys.int_info, "str_digits_check_threshold"), reason="no integer digit limit")
def test_the_integer_digit_rule_is_cpythons() -> None:
    """The native JSON scanner declines integers longer than ``MAX_INTEGER_DIGITS``, so that ``json.loads`` decides
    them: that must be CPython's lowest ``int_max_str_digits``, which the SDK adapter's ``JSON_FAST_LENGTH`` is."""
    assert sys.int_info.str_digits_check_threshold == wire.MAX_INTEGER_DIGITS


@pytest.mark.parametrize("backend", ["python", "native"])
def test_a_message_reads_the_same_from_both_backends(backend: str) -> None:
    """Rendered by each backend from the one table: a lying prelude's message, field for field."""
    from anthropic_eventstream import EventStreamDecoder, InvalidHeadersLength
    from anthropic_eventstream._backend import _native

    if backend == "native" and _native is None:
        pytest.skip("the extension is not built")
    import struct
    import zlib

    lengths = struct.pack(">II", 16, 200)
    prelude = lengths + struct.pack(">I", zlib.crc32(lengths))
    with pytest.raises(InvalidHeadersLength) as raised:
        EventStreamDecoder(backend=backend).feed(prelude + b"\0" * 4)
    assert str(raised.value) == wire.message(
        "INCONSISTENT_LENGTHS", at=0, total_length=16, needed=216, headers_length=200
    )


@requires_native
@given(
    head=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=12, max_size=12),
    rest=st.binary(max_size=120),
)
@property_settings(300)
def test_foreign_bytes_are_shown_alike_by_both_backends(head: str, rest: bytes) -> None:
    """``bytes_repr`` is the one rule written in both languages (it is code, not a table): a body of text shows
    its first ``HEAD_SHOWN`` bytes the same way from each backend, every byte value included."""
    from anthropic_eventstream import EventStreamDecoder, NotAnEventStream

    body = head.encode() + rest
    shown = []
    for backend in ("python", "native"):
        decoder = EventStreamDecoder(backend=backend)
        with pytest.raises(NotAnEventStream) as raised:
            decoder.feed(body)
            decoder.close()
        shown.append(str(raised.value))
    assert shown[0] == shown[1] == wire.message("NOT_AN_EVENT_STREAM", head=wire.bytes_repr(body))
