"""One answer for every input: each input once found decided differently by the two backends (or by us and
the stock SDK) now gets one answer, by construction; each case on both backends."""

from __future__ import annotations

import base64
import copy
import json
import pickle
import sys
import traceback
import uuid
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")
pytest.importorskip("botocore")

import anthropic_eventstream as ae  # noqa: E402
from anthropic_eventstream import encode_message, testing  # noqa: E402
from anthropic_eventstream._anthropic.decoders import bedrock_events  # noqa: E402

CHUNK_HEADERS = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
START = testing.message_events("Hi")[0]


def chunk_payload(payload: bytes, headers: dict[str, Any] | None = None) -> bytes:
    return encode_message(CHUNK_HEADERS if headers is None else headers, payload)


def stock(body: bytes) -> tuple[list[tuple[Any, Any]], str | None]:
    from anthropic.lib.bedrock._stream_decoder import AWSEventStreamDecoder as Stock

    events: list[tuple[Any, Any]] = []
    try:
        for event in Stock().iter_bytes(iter([body])):
            events.append((event.event, event.data))
    except Exception as exc:
        return events, type(exc).__name__
    return events, None


def ours(body: bytes, backend: str) -> tuple[list[tuple[Any, Any]], str | None]:
    events: list[tuple[Any, Any]] = []
    try:
        for event in ae.AWSEventStreamDecoder(backend).iter_bytes(iter([body])):
            events.append((event.event, event.data))
    except ae.EventStreamError as exc:
        return events, type(exc).__name__
    return events, None


def kinds(events: list[tuple[Any, Any]]) -> list[str]:
    """Each event's name, or for SDKs that name every chunk ``completion``, the ``type`` in its data."""
    return [json.loads(data)["type"] if name == "completion" else name for name, data in events]


def b64_chunk(raw: bytes, **extra: str) -> bytes:
    return json.dumps({"bytes": base64.b64encode(raw).decode(), **extra}, separators=(",", ":")).encode()


# -- the chunk layer: accepted as the SDK accepts, decoded as it decodes ---------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        b'{"bytes":"fR=="}',  # non-zero trailing bits: b64decode accepts them (}), so do we
        b'{"bytes":"eyJ0eXBlIjoicGluZyJ9","p":"ab"}',
        b64_chunk(b'{"type": "\\ud800x"}'),  # a lone surrogate in the event name
        b64_chunk(('{"type": "ping", "n": ' + "7" * 5000 + "}").encode()),  # over json.loads' integer limit
        b64_chunk(('{"type": "ping", "n": ' + "7" * 700 + "}").encode()),
        b64_chunk(('{"type": "ping", "x": ' + "[" * 600 + "]" * 600 + "}").encode()),  # deeper than we decide
        b64_chunk(('{"type": "ping", "x": ' + "[" * 60 + "]" * 60 + "}").encode()),
    ],
    ids=[
        "non-canonical-base64",
        "bedrock-shape",
        "lone-surrogate",
        "int-5000-digits",
        "int-700-digits",
        "depth-600",
        "depth-60",
    ],
)
def test_chunks_the_sdk_accepts_decode_as_it_decodes_them(backend: str, payload: bytes) -> None:
    body = chunk_payload(payload)
    want = stock(body)
    assert want[1] is None
    assert ours(body, backend) == want


@pytest.mark.parametrize(
    "payload",
    [
        b'{"bytes":"e30=","p":"\xff"}',  # invalid UTF-8 in a field we do not need: botocore fails to decode it
        b'\xef\xbb\xbf{"bytes":"e30="}',  # a BOM: botocore's json.loads(str) refuses it and drops the chunk
        b'{"bytes":"e3 0="}',  # not base64: b64decode would skip the space and garble the chunk
        b'{"p":"x"}',  # no "bytes": dropped by the SDK
    ],
    ids=["bad-utf8-in-p", "bom", "not-base64", "no-bytes"],
)
def test_chunks_the_sdk_drops_or_garbles_are_invalid_on_both(backend: str, payload: bytes) -> None:
    body = chunk_payload(START_FRAME_JSON) + chunk_payload(payload)
    events, error = ours(body, backend)
    assert error == "InvalidChunk"
    assert kinds(events) == ["message_start"]


START_FRAME_JSON = b64_chunk(json.dumps(START).encode())


def test_a_deep_in_band_error_is_an_error_on_both(backend: str) -> None:
    envelope = '{"type":"error","error":{"type":"overloaded_error","message":"busy","x":' + "[" * 600 + "]" * 600 + "}}"
    body = chunk_payload(START_FRAME_JSON) + chunk_payload(b64_chunk(envelope.encode()))
    assert kinds(ours(body, backend)[0]) == ["message_start", "error"]
    client = testing.mock_bedrock_client(body)
    ae.accelerate(client, backend=backend)
    with pytest.raises(anthropic.APIStatusError) as info:
        list(client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}], stream=True))
    assert info.value.status_code == 529


def test_a_chunk_without_a_message_type_is_an_event_as_in_stock(backend: str) -> None:
    body = chunk_payload(START_FRAME_JSON, headers={":event-type": "chunk"})
    want = stock(body)
    assert kinds(want[0]) == ["message_start"]
    assert ours(body, backend) == want


def test_limits_of_any_size(backend: str) -> None:
    frame = encode_message({"k": "v"}, b"x" * 100)
    for limit in (2**32, 2**64, 2**100):
        decoder = ae.EventStreamDecoder(backend=backend, max_headers_length=limit, max_payload_length=limit)
        assert len(decoder.feed(frame)) == 1


# -- error frames: always the typed error, after every earlier event ------------------------------------

ODD_ERROR_FRAMES = {
    "int-exception-type": encode_message({":message-type": "exception", ":exception-type": 7}, b'{"message":"m"}'),
    "bytes-exception-type": encode_message(
        {":message-type": "exception", ":exception-type": b"\xffx"}, b'{"message":"m"}'
    ),
    "int-error-code": encode_message({":message-type": "error", ":error-code": 5, ":error-message": b"\x00"}),
    "deep-payload": encode_message(
        {":message-type": "exception", ":exception-type": "throttlingException"},
        ('{"message":"m","x":' + "[" * 990 + "]" * 990 + "}").encode(),
    ),
    "not-json-payload": encode_message(
        {":message-type": "exception", ":exception-type": "throttlingException"}, b"\xff{"
    ),
}


@pytest.mark.parametrize("name", sorted(ODD_ERROR_FRAMES))
def test_odd_error_frames_become_the_typed_error_after_earlier_events(backend: str, name: str) -> None:
    body = testing.bedrock_stream([*testing.message_events("Hi there")[:3], ODD_ERROR_FRAMES[name]])
    client = ae.accelerate(testing.mock_bedrock_client([body]), backend=backend)  # one network chunk
    events = []
    with pytest.raises(anthropic.APIStatusError) as info:
        for event in client.messages.create(
            model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}], stream=True
        ):
            events.append(event.type)
    assert events == ["message_start", "content_block_start", "content_block_delta"]
    assert info.value.status_code in (429, 500)
    assert info.value.body["type"] == "error"


# -- failed decoders, pickling, names -------------------------------------------------------------------


def test_a_failed_decoder_raises_a_fresh_error_each_time(backend: str) -> None:
    decoder = ae.EventStreamDecoder(backend=backend)
    bad = bytearray(encode_message({"k": "v"}, b"p"))
    bad[-1] ^= 1
    with pytest.raises(ae.ChecksumMismatch) as first:
        decoder.feed(bytes(bad))
    raised = [first.value]
    depths = []
    for _ in range(50):
        with pytest.raises(ae.ChecksumMismatch) as again:
            decoder.feed(b"\0" * 1024)
        raised.append(again.value)
        depths.append(len(traceback.extract_tb(again.value.__traceback__)))
        assert str(again.value) == str(first.value) and again.value.offset == first.value.offset
    assert len({id(e) for e in raised}) == 51
    assert len(set(depths)) == 1, "the traceback grows with every call"


def test_a_failed_bedrock_decoder_raises_a_fresh_error_each_time(backend: str) -> None:
    decoder = ae.AWSEventStreamDecoder(backend).decoder()
    with pytest.raises(ae.InvalidChunk) as first:
        decoder.feed(chunk_payload(START_FRAME_JSON) + chunk_payload(b'{"p":"x"}'))
    assert len(first.value.messages) == 1
    for _ in range(3):
        with pytest.raises(ae.InvalidChunk) as again:
            decoder.feed(chunk_payload(START_FRAME_JSON))
        assert again.value is not first.value and again.value.messages == []
    with pytest.raises(ae.InvalidChunk):
        decoder.close()


def test_messages_and_errors_carrying_them_pickle_and_copy(backend: str) -> None:
    frames = encode_message({"k": "v", "u": uuid.UUID(int=5), "n": 2**40}, b"payload") * 2
    bad = bytearray(frames)
    bad[-1] ^= 1
    with pytest.raises(ae.ChecksumMismatch) as info:
        ae.EventStreamDecoder(backend=backend).feed(bytes(bad))
    (message,) = info.value.messages
    for clone in (pickle.loads(pickle.dumps(message)), copy.copy(message), copy.deepcopy(message)):
        assert type(clone) is type(message)
        assert (clone.headers, clone.payload, clone.total_length, clone.crc) == (
            message.headers,
            message.payload,
            message.total_length,
            message.crc,
        )
    error = pickle.loads(pickle.dumps(info.value))
    assert type(error) is ae.ChecksumMismatch and error.offset == info.value.offset
    assert [bytes(m.payload) for m in error.messages] == [b"payload"]


def test_event_names_are_not_interned(backend: str) -> None:
    if bedrock_events().naming != "type":
        pytest.skip("this SDK names every chunk 'completion'")
    name = "event_" + uuid.uuid4().hex
    body = testing.bedrock_stream([{"type": name}])
    (event,) = ae.AWSEventStreamDecoder(backend).iter_bytes(iter([body]))
    assert event.event == name
    assert sys.intern("".join(list(name))) is not event.event


# -- pairs: what the package's stream loop reads -------------------------------------------------------


def test_bedrock_pairs_are_the_events_name_and_bytes_and_error_frames_stay_objects(backend: str) -> None:
    frames = [
        *testing.message_events("Hi there, ünïcode 🙂")[:4],
        ODD_ERROR_FRAMES["not-json-payload"],
        testing.exception_frame("throttlingException", "slow down"),
    ]
    body = testing.bedrock_stream(frames)
    objects: list[Any] = []
    for size in (len(body), 7, 1):
        plain, decoder = (ae.AWSEventStreamDecoder(backend).decoder(pairs=pairs) for pairs in (False, True))
        objects = [event for chunk in testing.split(body, size) for event in plain.feed(chunk)]
        pairs = [pair for chunk in testing.split(body, size) for pair in decoder.feed(chunk)]
        assert decoder.close() == []
        assert len(pairs) == len(frames) == 6, size
        for pair, event in zip(pairs[:4], objects[:4], strict=True):
            assert pair == (event.event, event.data.encode()) and type(pair[1]) is bytes
        for (name, error), event in zip(pairs[4:], objects[4:], strict=True):
            assert name == event.event == "error"
            assert type(error) is type(event) and error.json() == event.json()  # the status rides in the object
    assert objects[5].json()["error"]["type"] == "throttlingException"
