"""Differential properties: for the same bytes, both backends give identical results, and agree with
botocore's ``EventStreamBuffer`` on every message and on the name of every error botocore defines.

Where botocore misreads a frame (a header running past its section, lengths that do not add up) it either
accepts garbage or fails with an unnamed ``struct.error`` / ``KeyError`` / ``UnicodeDecodeError``; we raise
``InvalidHeaderValue`` (and, for lengths that cannot add up, ``InvalidHeadersLength``, as the reference
implementations do) there, after the same messages.

Deterministic in ``make test`` (``derandomize``, no example database); ``make test-long`` runs the same
properties with many more random examples.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from typing import Any

from botocore.eventstream import EventStreamBuffer
from hypothesis import given
from hypothesis import strategies as st

import anthropic_eventstream as ae
from anthropic_eventstream import EventStreamDecoder, HeaderType, HeaderValue, encode_message
from tests.helpers import property_settings, requires_native, summary

pytestmark = requires_native

BOTOCORE_NAMED = {"ChecksumMismatch", "InvalidHeadersLength", "InvalidPayloadLength", "DuplicateHeader"}
SETTINGS = property_settings(300)

header_names = st.text(min_size=0, max_size=12)
header_values = st.one_of(
    st.booleans(),
    st.builds(HeaderValue, st.just(HeaderType.BYTE), st.integers(-(2**7), 2**7 - 1)),
    st.builds(HeaderValue, st.just(HeaderType.SHORT), st.integers(-(2**15), 2**15 - 1)),
    st.integers(-(2**63), 2**63 - 1),
    st.binary(max_size=40),
    st.text(max_size=40),
    st.builds(HeaderValue, st.just(HeaderType.TIMESTAMP), st.integers(-(2**63), 2**63 - 1)),
    st.builds(HeaderValue, st.just(HeaderType.UUID), st.binary(min_size=16, max_size=16)),
)
frames = st.builds(
    lambda headers, payload: encode_message(headers, payload),
    st.dictionaries(header_names, header_values, max_size=5),
    st.binary(max_size=300),
)
streams = st.lists(frames, min_size=0, max_size=5).map(b"".join)


@st.composite
def mutated_streams(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(streams))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "recrc"]))
        if op == "recrc" and len(data) >= 16:
            # make a frame whose CRCs are right but whose content lies
            length = struct.unpack("!I", data[:4])[0]
            if 16 <= length <= len(data):
                data[8:12] = struct.pack("!I", zlib.crc32(data[:8]))
                data[length - 4 : length] = struct.pack("!I", zlib.crc32(data[: length - 4]))
            continue
        if not data and op != "insert":
            continue
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at]
        else:
            del data[at:]
    return bytes(data)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)] or [b""]


def ours(backend: str, pieces: list[bytes], close: bool = False) -> tuple[list[Any], Any]:
    decoder = EventStreamDecoder(backend=backend)
    messages: list[Any] = []
    try:
        for piece in pieces:
            messages.extend(decoder.feed(piece))
        if close:
            decoder.close()
    except ae.EventStreamError as exc:
        messages.extend(exc.messages)
        return [summary(m) for m in messages], (type(exc), str(exc), exc.offset)
    except Exception as exc:  # pragma: no cover - the property under test
        raise AssertionError(f"{backend} raised {type(exc).__name__}, not an EventStreamError: {exc}") from exc
    return [summary(m) for m in messages], None


def botocore(data: bytes) -> tuple[list[Any], str | None]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    messages = []
    try:
        for message in buffer:
            messages.append(
                (
                    dict(message.headers),
                    bytes(message.payload),
                    message.prelude.total_length,
                    message.prelude.headers_length,
                    message.prelude.crc,
                    message.crc,
                )
            )
            if len(messages) > 10_000:  # pragma: no cover - botocore looping on a zero-length frame
                break
    except Exception as exc:
        return messages, type(exc).__name__
    return messages, None


def botocore_misreads(error: tuple[type, str, Any]) -> bool:
    """A header running past its section, or lengths that cannot add up: frames botocore misreads."""
    cls, message, _ = error
    return cls is ae.InvalidHeaderValue or (cls is ae.InvalidHeadersLength and "but needs at least" in message)


def _shows_what_had_arrived(chunked: Any, whole: Any, data: bytes, pieces: list[bytes]) -> bool:
    """Whether ``chunked`` differs from ``whole`` only as documented (``test_text_bodies_are_not_an_event_stream``):
    a ``NotAnEventStream`` shows the text that had arrived when the prelude was refused, which is the body up to
    the end of some chunk, as decoding that much in one piece shows it."""
    if chunked[0] != whole[0] or chunked[1] is None or chunked[1][0] is not ae.NotAnEventStream:
        return False
    return any(ours("native", [data[:end]], close=True) == chunked for end in itertools.accumulate(map(len, pieces)))


def check(data: bytes, cuts: list[int]) -> None:
    pieces = chunked(data, cuts)
    native, python = ours("native", pieces, close=True), ours("python", pieces, close=True)
    assert native == python
    whole_native = ours("native", [data], close=True)
    assert whole_native == native or _shows_what_had_arrived(native, whole_native, data, pieces), (
        "results depend on chunking"
    )

    mine, error = ours("python", [data])
    theirs, their_error = botocore(data)
    if error is None:
        assert their_error is None and mine == theirs
        return
    cls = error[0]
    if botocore_misreads(error):
        # a frame botocore misreads: it accepted it, or failed without a name, or named it at the same frame
        assert theirs[: len(mine)] == mine
        return
    assert cls.__mro__[1].__name__ == "ChecksumMismatch" or cls.__name__ in BOTOCORE_NAMED, cls
    want = "ChecksumMismatch" if cls is ae.NotAnEventStream else cls.__name__
    assert their_error == want, (error, their_error)
    assert mine == theirs


@SETTINGS
@given(streams, st.lists(st.integers(0, 10_000), max_size=6))
def test_valid_streams(data: bytes, cuts: list[int]) -> None:
    check(data, cuts)


@SETTINGS
@given(mutated_streams(), st.lists(st.integers(0, 10_000), max_size=6))
def test_mutated_streams(data: bytes, cuts: list[int]) -> None:
    check(data, cuts)


@SETTINGS
@given(st.binary(max_size=200), st.lists(st.integers(0, 10_000), max_size=4))
def test_random_bytes(data: bytes, cuts: list[int]) -> None:
    check(data, cuts)


@SETTINGS
@given(st.dictionaries(header_names, header_values, max_size=8), st.binary(max_size=2000))
def test_round_trip(headers: dict[str, Any], payload: bytes) -> None:
    frame = encode_message(headers, payload, backend="native")
    assert frame == encode_message(headers, payload, backend="python")
    for backend in ("native", "python"):
        (message,) = EventStreamDecoder(backend=backend).feed(frame)
        assert bytes(message.payload) == payload
        assert set(message.headers) == set(headers)
    theirs, error = botocore(frame)
    assert error is None and theirs == [summary(message)]
