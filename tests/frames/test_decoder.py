"""Framing: the public test vectors, every header type, every chunking, every truncation, every bit flip,
frames that lie, limits, input types, and exact error messages; on both backends."""

from __future__ import annotations

import struct
import uuid
import zlib

import pytest

import anthropic_eventstream as ae
from anthropic_eventstream import EventStreamDecoder, HeaderType, HeaderValue, encode_message
from tests.helpers import header_from_json, load_vectors, prelude, requires_native, summary

FRAMES, EXPECTED = load_vectors()
POSITIVE = sorted(n for n in EXPECTED if "error" not in EXPECTED[n])
NEGATIVE = sorted(n for n in EXPECTED if "error" in EXPECTED[n])


def decode_all(backend: str, data: bytes, chunk: int | None = None, **limits: int) -> list[ae.Message]:
    decoder = EventStreamDecoder(backend=backend, **limits)
    chunk = chunk or max(1, len(data))
    messages = []
    for i in range(0, len(data), chunk):
        messages.extend(decoder.feed(data[i : i + chunk]))
    decoder.close()
    return messages


def stream(n: int = 6) -> bytes:
    frames = []
    for i in range(n):
        headers = {":message-type": "event", ":event-type": "chunk", "index": i}
        frames.append(encode_message(headers, (b"payload-%d " % i) * (i * 3)))
    return b"".join(frames)


# -- the public vectors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", POSITIVE)
def test_positive_vectors(backend: str, name: str) -> None:
    (message,) = decode_all(backend, FRAMES[name])
    want = EXPECTED[name]
    assert message.headers == {k: header_from_json(v) for k, v in want["headers"].items()}
    assert bytes(message.payload) == bytes.fromhex(want["payload"])
    assert (message.total_length, message.headers_length) == (want["total_length"], want["headers_length"])
    assert (message.prelude_crc, message.crc) == (want["prelude_crc"], want["crc"])


def test_all_positive_vectors_in_one_buffer(backend: str) -> None:
    data = b"".join(FRAMES[n] for n in POSITIVE)
    assert len(decode_all(backend, data)) == len(POSITIVE)


@pytest.mark.parametrize("name", NEGATIVE)
def test_negative_vectors(backend: str, name: str) -> None:
    cls = getattr(ae, EXPECTED[name]["error"])
    with pytest.raises(cls) as info:
        decode_all(backend, FRAMES[name])
    assert type(info.value) is cls
    assert info.value.offset == 0


# -- header types ----------------------------------------------------------------------------------------

EDGE_HEADERS = [
    ("true", True, True),
    ("false", False, False),
    ("byte-min", HeaderValue(HeaderType.BYTE, -128), -128),
    ("byte-max", HeaderValue(HeaderType.BYTE, 127), 127),
    ("short-min", HeaderValue(HeaderType.SHORT, -(2**15)), -(2**15)),
    ("short-max", HeaderValue(HeaderType.SHORT, 2**15 - 1), 2**15 - 1),
    ("int-min", -(2**31), -(2**31)),
    ("int-max", 2**31 - 1, 2**31 - 1),
    ("long-min", -(2**63), -(2**63)),
    ("long-max", 2**63 - 1, 2**63 - 1),
    ("bytes-empty", b"", b""),
    ("bytes-max", bytes(range(256)) * 255 + bytes(255), bytes(range(256)) * 255 + bytes(255)),
    ("string-empty", "", ""),
    ("string-utf8", "日本語 ✓ \x00", "日本語 ✓ \x00"),
    ("timestamp", HeaderValue(HeaderType.TIMESTAMP, 1_700_000_000_123), 1_700_000_000_123),
    ("timestamp-neg", HeaderValue(HeaderType.TIMESTAMP, -1), -1),
    ("uuid", uuid.UUID(int=0x0123456789ABCDEF0123456789ABCDEF), bytes.fromhex("0123456789abcdef0123456789abcdef")),
    ("", "empty name", "empty name"),
    ("n" * 255, "longest name", "longest name"),
]


def test_every_header_type_and_edge_value(backend: str) -> None:
    frame = encode_message([(name, value) for name, value, _ in EDGE_HEADERS], b"x", backend=backend)
    (message,) = decode_all(backend, frame)
    assert message.headers == {name: want for name, _, want in EDGE_HEADERS}
    for name, _, want in EDGE_HEADERS:
        assert type(message.headers[name]) is type(want)


def test_header_types_on_the_wire(backend: str) -> None:
    for type_, value in [(HeaderType.BYTE, 1), (HeaderType.SHORT, 1), (HeaderType.INTEGER, 1), (HeaderType.LONG, 1)]:
        frame = encode_message({"v": HeaderValue(type_, value)}, backend=backend)
        assert frame[12 + 2] == type_
    assert encode_message({"v": 2**31}, backend=backend)[14] == HeaderType.LONG


@requires_native
def test_encoders_agree_byte_for_byte() -> None:
    headers = [(name, value) for name, value, _ in EDGE_HEADERS]
    assert encode_message(headers, b"payload", backend="python") == encode_message(
        headers, b"payload", backend="native"
    )


def test_encode_rejects_what_does_not_fit(backend: str) -> None:
    with pytest.raises(ValueError, match="BYTE takes an int from -128 to 127, not 128"):
        encode_message({"v": HeaderValue(HeaderType.BYTE, 128)}, backend=backend)
    with pytest.raises(ValueError, match="the maximum is 255"):
        encode_message({"n" * 256: True}, backend=backend)
    with pytest.raises(ValueError, match="the maximum is 65535"):
        encode_message({"v": "x" * 65536}, backend=backend)
    with pytest.raises(TypeError, match="wrap it in HeaderValue"):
        encode_message({"v": 1.5}, backend=backend)  # type: ignore[dict-item]


# -- frames and messages -----------------------------------------------------------------------------------


def test_empty_frame(backend: str) -> None:
    frame = encode_message({}, b"", backend=backend)
    assert len(frame) == 16
    (message,) = decode_all(backend, frame)
    assert message.headers == {} and bytes(message.payload) == b""
    assert message.message_type is None and message.event_type is None and message.exception_type is None


def test_message_accessors_and_response_dict(backend: str) -> None:
    (event,) = decode_all(backend, encode_message({":message-type": "event", ":event-type": "chunk"}, b"{}"))
    assert (event.message_type, event.event_type, event.exception_type) == ("event", "chunk", None)
    assert event.to_response_dict() == {"status_code": 200, "headers": dict(event.headers), "body": b"{}"}
    exc_frame = encode_message({":message-type": "exception", ":exception-type": "throttlingException"}, b"{}")
    (exc,) = decode_all(backend, exc_frame)
    assert exc.exception_type == "throttlingException"
    assert exc.to_response_dict()["status_code"] == 400
    (err,) = decode_all(backend, FRAMES["error_message"])
    assert err.to_response_dict()["status_code"] == 400
    assert isinstance(err, ae.Message)
    assert "error_message" not in repr(err) and "':error-code': 'code'" in repr(err)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_accepts_bytes_like_input(backend: str, kind: type) -> None:
    data = stream(3)
    decoder = EventStreamDecoder(backend=backend)
    assert [summary(m) for m in decoder.feed(kind(data))] == [summary(m) for m in decode_all(backend, data)]


def test_rejects_other_input(backend: str) -> None:
    with pytest.raises(TypeError, match="expected bytes, bytearray or memoryview, got str"):
        EventStreamDecoder(backend=backend).feed("text")  # type: ignore[arg-type]


def test_payload_outlives_a_reused_bytearray(backend: str) -> None:
    data = bytearray(stream(2))
    messages = EventStreamDecoder(backend=backend).feed(data)
    want = [bytes(m.payload) for m in messages]
    data[:] = b"\xff" * len(data)
    assert [bytes(m.payload) for m in messages] == want


# -- chunking and truncation -------------------------------------------------------------------------------


def test_every_chunk_size_gives_the_same_messages(backend: str) -> None:
    data = stream(6)
    want = [summary(m) for m in decode_all(backend, data)]
    assert len(want) == 6
    for size in range(1, len(data) + 1):
        assert [summary(m) for m in decode_all(backend, data, size)] == want, size


def test_one_byte_at_a_time_yields_each_message_on_its_last_byte(backend: str) -> None:
    data = stream(4)
    ends = []
    end = 0
    while end < len(data):
        end += struct.unpack("!I", data[end : end + 4])[0]
        ends.append(end)
    decoder = EventStreamDecoder(backend=backend)
    completed_at = [i + 1 for i in range(len(data)) if decoder.feed(data[i : i + 1])]
    assert completed_at == ends
    assert decoder.buffered == 0


def test_every_truncation_point_raises_at_close(backend: str) -> None:
    data = stream(3)
    boundaries = {0}
    end = 0
    while end < len(data):
        end += struct.unpack("!I", data[end : end + 4])[0]
        boundaries.add(end)
    for cut in range(len(data) + 1):
        decoder = EventStreamDecoder(backend=backend)
        got = decoder.feed(data[:cut])
        assert len(got) == len([b for b in boundaries if 0 < b <= cut])
        if cut in boundaries:
            decoder.close()
            continue
        with pytest.raises(ae.TruncatedStreamError) as info:
            decoder.close()
        start = max(b for b in boundaries if b < cut)
        assert info.value.offset == start
        received = cut - start
        if received < 12:
            assert str(info.value) == (
                f"stream ended inside the frame at byte {start}: received {received} of its 12-byte prelude"
            )
        else:
            total = struct.unpack("!I", data[start : start + 4])[0]
            assert (
                str(info.value)
                == f"stream ended inside the frame at byte {start}: received {received} of its {total} bytes"
            )


# -- corruption --------------------------------------------------------------------------------------------


def test_every_single_bit_flip_is_an_error(backend: str) -> None:
    frame = encode_message({":message-type": "event", "k": "v", "n": 7}, b'{"x": 1}')
    for bit in range(len(frame) * 8):
        corrupted = bytearray(frame)
        corrupted[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(ae.EventStreamError):
            decode_all(backend, bytes(corrupted))


def with_crcs(frame: bytes | bytearray) -> bytes:
    """Recomputes both CRCs, so that only the lie in the lengths or headers is left to catch."""
    frame = bytearray(frame)
    frame[8:12] = struct.pack("!I", zlib.crc32(frame[:8]))
    frame[-4:] = struct.pack("!I", zlib.crc32(frame[:-4]))
    return bytes(frame)


@pytest.mark.parametrize(
    ("mutate", "error", "message"),
    [
        (
            lambda f: f[:12] + b"\x01a\x0a" + f[15:],
            ae.InvalidHeaderValue,
            "header 'a' in frame at byte 0 has unknown type 10 (expected 0 to 9)",
        ),
        (
            lambda f: f[:12] + b"\x09" + f[13:],
            ae.InvalidHeaderValue,
            "header at byte 0 of the headers of frame at byte 0 needs 9 bytes but the section has 7 left",
        ),
        (
            lambda f: f[:12] + b"\x01\xff" + f[14:],
            ae.InvalidHeaderValue,
            "header at byte 0 of the headers of frame at byte 0 is not valid UTF-8",
        ),
        (
            lambda f: f[:12] + b"\x01a\x07\x00\x09" + f[17:],
            ae.InvalidHeaderValue,
            "needs 9 bytes but the section has 3 left",
        ),
        (
            lambda f: f[:12] + b"\x01a\x00\x01a\x01" + f[18:],
            ae.DuplicateHeader,
            "duplicate header 'a' in frame at byte 0",
        ),
    ],
)
def test_valid_crcs_around_lying_headers(backend: str, mutate: object, error: type, message: str) -> None:
    frame = encode_message({"a": "abc"}, b"")  # 12 + 7 header bytes + 4
    lying = with_crcs(mutate(frame))  # type: ignore[operator]
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        decode_all(backend, lying)
    assert type(info.value) is error


@pytest.mark.parametrize(
    ("total", "headers_length", "error", "message"),
    [
        (
            16,
            1,
            ae.InvalidHeadersLength,
            "frame at byte 0 has total length 16 but needs at least 17 (12-byte prelude + 1 bytes of headers + 4-byte CRC)",
        ),
        (0, 0, ae.InvalidHeadersLength, "frame at byte 0 has total length 0 but needs at least 16"),
        (
            2**32 - 1,
            0,
            ae.InvalidPayloadLength,
            "payload length of 4294967279 in frame at byte 0 exceeds the maximum of 25165824",
        ),
        (
            2**32 - 1,
            200_000,
            ae.InvalidHeadersLength,
            "headers length of 200000 in frame at byte 0 exceeds the maximum of 131072",
        ),
    ],
)
def test_lengths_are_checked_as_soon_as_the_prelude_arrives(
    backend: str, total: int, headers_length: int, error: type, message: str
) -> None:
    decoder = EventStreamDecoder(backend=backend)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        decoder.feed(prelude(total, headers_length))
    assert decoder.buffered == 0


def test_prelude_crc_is_checked_before_any_length(backend: str) -> None:
    bad = bytearray(prelude(2**32 - 1, 2**32 - 1))
    bad[11] ^= 1
    with pytest.raises(
        ae.ChecksumMismatch,
        match=r"prelude checksum mismatch in frame at byte 0: expected 0x[0-9a-f]{8}, calculated 0x[0-9a-f]{8}",
    ):
        EventStreamDecoder(backend=backend).feed(bytes(bad))


def test_limits_are_configurable(backend: str) -> None:
    frame = encode_message({"h": "x" * 100}, b"y" * 1000)
    assert decode_all(backend, frame, max_headers_length=105, max_payload_length=1000)
    with pytest.raises(
        ae.InvalidHeadersLength, match="headers length of 105 in frame at byte 0 exceeds the maximum of 104"
    ):
        decode_all(backend, frame, max_headers_length=104)
    with pytest.raises(
        ae.InvalidPayloadLength, match="payload length of 1000 in frame at byte 0 exceeds the maximum of 999"
    ):
        decode_all(backend, frame, max_payload_length=999)
    with pytest.raises(ValueError, match="max_payload_length must be a non-negative int"):
        EventStreamDecoder(backend=backend, max_payload_length=-1)


def test_a_claimed_length_is_never_allocated_ahead(backend: str) -> None:
    decoder = EventStreamDecoder(backend=backend)
    decoder.feed(prelude(24 * 1024 * 1024, 0))
    decoder.feed(b"\0" * 1000)
    assert decoder.buffered == 1012


def test_errors_keep_what_was_decoded_and_are_sticky(backend: str) -> None:
    good = stream(3)
    bad = bytearray(encode_message({"k": "v"}, b"payload"))
    bad[-1] ^= 0xFF
    decoder = EventStreamDecoder(backend=backend)
    with pytest.raises(ae.ChecksumMismatch, match=f"message checksum mismatch in frame at byte {len(good)}") as info:
        decoder.feed(good + bytes(bad) + good)
    assert [summary(m) for m in info.value.messages] == [summary(m) for m in decode_all(backend, good)]
    assert info.value.offset == len(good)
    with pytest.raises(ae.ChecksumMismatch) as again:
        decoder.feed(good)
    assert again.value.messages == [] and str(again.value) == str(info.value)
    with pytest.raises(ae.ChecksumMismatch):
        decoder.close()


def test_offsets_count_from_the_start_of_the_stream(backend: str) -> None:
    good = stream(2)
    decoder = EventStreamDecoder(backend=backend)
    decoder.feed(good[:7])
    decoder.feed(good[7:])
    with pytest.raises(ae.ChecksumMismatch) as info:
        decoder.feed(b"\x00" * 8 + b"\xff" * 8)
    assert info.value.offset == len(good)


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (
            b'{"message":"The security token included in the request is invalid."}',
            'b\'{"message":"The security token included in the request is invali\'...',
        ),
        (b"event: message_start\ndata: {}\n\n", "b'event: message_start\\ndata: {}\\n\\n'"),
        (b"{}", "b'{}'"),
        (b"<html>it's down</html>", "b'<html>it\\'s down</html>'"),
    ],
)
def test_text_bodies_are_not_an_event_stream(backend: str, body: bytes, shown: str) -> None:
    with pytest.raises(ae.NotAnEventStream) as info:
        decode_all(backend, body)
    assert isinstance(info.value, ae.ChecksumMismatch)
    assert str(info.value) == f"the body is not an AWS event stream (expected a binary prelude, found text): {shown}"
    with pytest.raises(ae.NotAnEventStream, match=r"found text\): b'"):  # shows what had arrived by then
        decode_all(backend, body, chunk=5)


@requires_native
def test_the_two_backends_raise_the_same_classes() -> None:
    for name in NEGATIVE:
        errors = []
        for backend in ("native", "python"):
            with pytest.raises(ae.EventStreamError) as info:
                decode_all(backend, FRAMES[name])
            errors.append((type(info.value), str(info.value), info.value.offset))
        assert errors[0] == errors[1], name
