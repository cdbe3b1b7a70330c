"""The botocore shim: botocore's real ``EventStream`` and parsers, for several services' shapes, stock vs
``install_botocore()``: same events, real status codes, truncation raised, botocore's classes kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

botocore = pytest.importorskip("botocore")

from botocore import eventstream as boto_eventstream  # noqa: E402
from botocore.eventstream import EventStream  # noqa: E402
from botocore.exceptions import EventStreamError  # noqa: E402
from botocore.loaders import Loader  # noqa: E402
from botocore.model import ServiceModel  # noqa: E402
from botocore.parsers import create_parser  # noqa: E402

import anthropic_eventstream as ae  # noqa: E402
from anthropic_eventstream import encode_message, testing  # noqa: E402

LOADER = Loader()


def event_stream_shape(service: str, operation: str, member: str) -> tuple[Any, Any]:
    model = ServiceModel(LOADER.load_service_model(service, "service-2"), service)
    shape = model.operation_model(operation).output_shape.members[member]
    return shape, create_parser(model.metadata["protocol"])._event_stream_parser


class RawStream:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    def stream(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed = True


def event(event_type: str, payload: bytes, **headers: Any) -> bytes:
    return encode_message({":message-type": "event", ":event-type": event_type, **headers}, payload)


def exception(exception_type: str, payload: dict[str, Any]) -> bytes:
    return encode_message(
        {":message-type": "exception", ":exception-type": exception_type, ":content-type": "application/json"},
        json.dumps(payload).encode(),
    )


BEDROCK_BODY = testing.bedrock_stream(testing.message_events("Streaming through boto3 works too."))
CONVERSE_BODY = b"".join(
    [
        event("messageStart", b'{"role":"assistant"}'),
        event("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"Hello"}}'),
        event("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":" world"}}'),
        event("contentBlockStop", b'{"contentBlockIndex":0}'),
        event("messageStop", b'{"stopReason":"end_turn"}'),
        event("metadata", b'{"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5},"metrics":{"latencyMs":120}}'),
    ]
)
S3_SELECT_BODY = b"".join(
    [
        event("Records", b"a,b\n1,2\n", **{":content-type": "application/octet-stream"}),
        event(
            "Stats",
            b"<Stats><BytesScanned>10</BytesScanned><BytesProcessed>10</BytesProcessed><BytesReturned>8</BytesReturned></Stats>",
            **{":content-type": "text/xml"},
        ),
        event("End", b""),
    ]
)
LAMBDA_BODY = b"".join(
    [
        event("PayloadChunk", b'{"partial": 1'),
        event("PayloadChunk", b', "done": true}'),
        event("InvokeComplete", b'{"LogResult": "bG9n"}'),
    ]
)

SERVICES = {
    "bedrock-invoke": (("bedrock-runtime", "InvokeModelWithResponseStream", "body"), BEDROCK_BODY),
    "bedrock-converse": (("bedrock-runtime", "ConverseStream", "stream"), CONVERSE_BODY),
    "s3-select": (("s3", "SelectObjectContent", "Payload"), S3_SELECT_BODY),
    "lambda": (("lambda", "InvokeWithResponseStream", "EventStream"), LAMBDA_BODY),
}


def iterate(spec: tuple[str, str, str], chunks: list[bytes]) -> tuple[list[Any], BaseException | None]:
    shape, parser = event_stream_shape(*spec)
    events: list[Any] = []
    try:
        for parsed in EventStream(RawStream(chunks), shape, parser, spec[1]):
            events.append(parsed)
    except Exception as exc:
        return events, exc
    return events, None


@pytest.fixture
def installed() -> Iterator[None]:
    ae.install_botocore()
    yield
    ae.uninstall_botocore()


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize("chunk_size", [1, 13, 100, 4096])
def test_same_events_as_stock(service: str, chunk_size: int) -> None:
    spec, body = SERVICES[service]
    chunks = testing.split(body, chunk_size)
    stock, error = iterate(spec, chunks)
    assert error is None and stock
    ae.install_botocore()
    try:
        ours, error = iterate(spec, chunks)
    finally:
        ae.uninstall_botocore()
    assert error is None
    assert ours == stock


@pytest.mark.parametrize(
    ("exception_type", "status"),
    [
        ("throttlingException", 429),
        ("internalServerException", 500),
        ("serviceUnavailableException", 503),
        ("validationException", 400),
        ("modelTimeoutException", 408),
        ("modelStreamErrorException", 424),
    ],
)
def test_exceptions_carry_the_models_status(installed: None, exception_type: str, status: int) -> None:
    spec = SERVICES["bedrock-invoke"][0]
    body = testing.bedrock_stream(testing.message_events("Hi there")[:2]) + exception(
        exception_type, {"message": "nope"}
    )
    ae.uninstall_botocore()
    stock_events, stock_error = iterate(spec, [body])
    ae.install_botocore()
    events, error = iterate(spec, [body])
    assert events == stock_events and len(events) == 2
    assert isinstance(error, EventStreamError) and isinstance(stock_error, EventStreamError)
    assert error.response["Error"] == stock_error.response["Error"] == {"Code": exception_type, "Message": "nope"}
    assert str(error) == str(stock_error)
    assert stock_error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (None, 400)
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_unmodeled_exceptions_and_error_frames_are_500(installed: None) -> None:
    spec = SERVICES["bedrock-invoke"][0]
    for frame in [exception("brandNewException", {"message": "?"}), testing.error_frame("InternalFailure", "boom")]:
        _, error = iterate(spec, [frame])
        assert isinstance(error, EventStreamError)
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_s3_error_frame_keeps_code_and_message(installed: None) -> None:
    spec = SERVICES["s3-select"][0]
    frame = encode_message(
        {
            ":message-type": "error",
            ":error-code": "InternalError",
            ":error-message": "We encountered an internal error.",
        }
    )
    events, error = iterate(spec, [event("Records", b"x"), frame])
    assert len(events) == 1
    assert isinstance(error, EventStreamError)
    assert error.response["Error"] == {"Code": "InternalError", "Message": "We encountered an internal error."}


def test_truncation_is_raised_not_swallowed() -> None:
    spec, body = SERVICES["bedrock-converse"]
    cut = [body[:-7]]
    events, error = iterate(spec, cut)
    assert error is None and len(events) == 5  # stock botocore: the lost frame goes unnoticed
    ae.install_botocore()
    try:
        events, error = iterate(spec, cut)
    finally:
        ae.uninstall_botocore()
    assert len(events) == 5
    assert isinstance(error, ae.TruncatedStreamError)


def test_corruption_is_botocores_checksum_mismatch_too(installed: None) -> None:
    spec, body = SERVICES["lambda"]
    corrupted = bytearray(body)
    corrupted[-3] ^= 1
    events, error = iterate(spec, [bytes(corrupted)])
    assert len(events) == 2
    assert isinstance(error, boto_eventstream.ChecksumMismatch)
    assert isinstance(error, ae.ChecksumMismatch)
    assert error.offset == sum(m.total_length for m in ae.EventStreamDecoder().feed(body)[:2])


def test_uninstall_restores_botocore_exactly() -> None:
    before = dict(EventStream.__dict__)
    ae.install_botocore()
    ae.install_botocore()
    assert EventStream.__dict__["_parse_event"] is not before["_parse_event"]
    ae.uninstall_botocore()
    assert dict(EventStream.__dict__) == before


# -- the shortcuts for the commonest bedrock-runtime events: exactly botocore's parse -------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.helpers import property_settings  # noqa: E402

CHUNK_HEADERS = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
#: an ordinary first chunk, so that the frame under test is not a stream's first
LEAD = encode_message(CHUNK_HEADERS, b'{"bytes":"e30=","p":"ab"}')


def parsed_both(spec: tuple[str, str, str], frames: list[bytes]) -> tuple[Any, Any]:
    """``repr`` of what stock botocore and ``install_botocore()`` yield (order of members included)."""
    stock = iterate(spec, frames)
    ae.install_botocore()
    try:
        ours = iterate(spec, frames)
    finally:
        ae.uninstall_botocore()
    return repr(stock[0]) + type(stock[1]).__name__, repr(ours[0]) + type(ours[1]).__name__


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


INVOKE_PAYLOADS = [
    '{"bytes":"' + b64(b'{"type":"ping"}') + '","p":"abc"}',
    '{"bytes":"' + b64(b"x") + '"}',
    '{"bytes":"' + b64(b"xy") + '"}',
    '{"bytes":""}',
    '{"bytes":"fR=="}',  # non-canonical trailing bits
    '{"bytes":"e30","p":"a"}',  # missing padding
    '{"bytes":"e3 0=","p":"a"}',  # not base64: botocore skips the space
    '{"bytes":"e30=","p":"a-b"}',
    '{"bytes": "e30="}',
    '{"p":"a","bytes":"e30="}',
    '{"bytes":"e30=","x":1}',
    '{"bytes":null}',
    '{"p":"only"}',
    "[]",
    "not json",
]


@pytest.mark.parametrize("payload", INVOKE_PAYLOADS)
@pytest.mark.parametrize("headers", ["event", "no-message-type"])
def test_the_invoke_shortcut_is_botocores_parse(payload: str, headers: str) -> None:
    names = dict(CHUNK_HEADERS)
    if headers == "no-message-type":
        del names[":message-type"]
    frame = encode_message(names, payload.encode())
    # alone (a stream's first frame is always botocore's to parse), after another, and in one chunk with it
    for frames in ([frame], [LEAD, frame], [LEAD + frame + frame]):
        stock, ours = parsed_both(SERVICES["bedrock-invoke"][0], frames)
        assert ours == stock


def converse_delta(payload: str) -> bytes:
    return event("contentBlockDelta", payload.encode(), **{":content-type": "application/json"})


CONVERSE_PAYLOADS = [
    '{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abc"}',
    '{"delta":{"text":"Hi"},"contentBlockIndex":3}',
    '{"contentBlockIndex":0,"delta":{"text":"caf\\u00e9 \\ud83d\\ude00"}}',
    '{"contentBlockIndex":0,"delta":{"text":"\\ud800"}}',
    '{"contentBlockIndex":true,"delta":{"text":"Hi"}}',
    '{"contentBlockIndex":1.0,"delta":{"text":"Hi"}}',
    '{"contentBlockIndex":"1","delta":{"text":"Hi"}}',
    '{"contentBlockIndex":0,"delta":{"text":null}}',
    '{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\\"a\\""}}}',
    '{"contentBlockIndex":0,"delta":{"text":"a","toolUse":{"input":"x"}}}',
    '{"contentBlockIndex":0,"delta":{"somethingNew":{"x":1}}}',
    '{"contentBlockIndex":0,"delta":{"text":"Hi"},"extra":{"y":2}}',
    '{"contentBlockIndex":0}',
    '{"contentBlockIndex":0,"delta":{"text":"a"},"delta":{"text":"b"}}',
    '{"contentBlockIndex":0,"delta":{"text":"Hi"}} ',
    "\ufeff{}",
    "[]",
]


CONVERSE_EVENTS = [
    ("messageStart", '{"role":"assistant"}'),
    ("messageStart", '{"role":"user","p":"x"}'),
    ("messageStart", '{"role":7}'),
    ("messageStart", ""),
    ("contentBlockStart", '{"start":{"toolUse":{"toolUseId":"t1","name":"get_weather"}},"contentBlockIndex":1}'),
    ("contentBlockStart", '{"start":{"toolUse":{"toolUseId":"t1","name":"n","type":"x"}},"contentBlockIndex":1}'),
    ("contentBlockStart", '{"start":{},"contentBlockIndex":1}'),
    ("contentBlockStart", '{"start":{"toolUse":null,"image":null},"contentBlockIndex":1}'),
    ("contentBlockDelta", '{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"hm"}}}'),
    ("contentBlockDelta", '{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"c2ln"}}}'),
    ("contentBlockDelta", '{"contentBlockIndex":0,"delta":{"reasoningContent":{"redactedContent":"AAEC"}}}'),
    ("contentBlockDelta", '{"contentBlockIndex":0,"delta":{"reasoningContent":{"redactedContent":"AAE"}}}'),
    ("contentBlockDelta", '{"contentBlockIndex":0,"delta":{"citation":{"title":"t"}}}'),
    ("contentBlockStop", '{"contentBlockIndex":0}'),
    ("contentBlockStop", '{"contentBlockIndex":-1,"unknown":[1,{"a":NaN}]}'),
    ("messageStop", '{"stopReason":"end_turn"}'),
    ("messageStop", '{"stopReason":"tool_use","additionalModelResponseFields":{"a":1}}'),
    ("metadata", '{"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5},"metrics":{"latencyMs":120}}'),
    ("metadata", '{"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5,"cacheReadInputTokens":1}}'),
    ("metadata", '{"usage":{"inputTokens":3.5}}'),
    ("metadata", '{"usage":{"inputTokens":99999999999999999999}}'),
    ("metadata", '{"trace":{"guardrail":{"modelOutput":["a"]}},"metrics":{"latencyMs":1}}'),
    ("somethingNew", '{"a":1}'),
]
LEAD_CONVERSE = event("messageStart", b'{"role":"assistant"}')


@pytest.mark.parametrize("payload", CONVERSE_PAYLOADS)
def test_the_converse_shortcut_is_botocores_parse(payload: str) -> None:
    for frames in ([converse_delta(payload)], [LEAD_CONVERSE, converse_delta(payload)]):
        stock, ours = parsed_both(SERVICES["bedrock-converse"][0], frames)
        assert ours == stock


@pytest.mark.parametrize(("event_type", "payload"), CONVERSE_EVENTS)
def test_every_converse_event_is_botocores_parse(event_type: str, payload: str) -> None:
    frame = event(event_type, payload.encode(), **{":content-type": "application/json"})
    stock, ours = parsed_both(SERVICES["bedrock-converse"][0], [LEAD_CONVERSE + frame + frame])
    assert ours == stock


@property_settings(300)
@given(
    st.one_of(st.text(max_size=20), st.none(), st.integers()),
    st.one_of(st.integers(-5, 2**40), st.booleans(), st.floats(allow_nan=False), st.none()),
    st.dictionaries(st.sampled_from(["p", "x", "delta2"]), st.text(max_size=5), max_size=2),
)
def test_generated_converse_deltas(text: Any, index: Any, extra: dict[str, str]) -> None:
    payload = json.dumps({"contentBlockIndex": index, "delta": {"text": text}, **extra})
    stock, ours = parsed_both(SERVICES["bedrock-converse"][0], [LEAD_CONVERSE, converse_delta(payload)])
    assert ours == stock


@property_settings(300)
@given(st.binary(max_size=64), st.text(alphabet="abcXYZ019-_ ", max_size=8))
def test_generated_invoke_chunks(data: bytes, padding: str) -> None:
    payload = json.dumps({"bytes": b64(data), "p": padding}, separators=(",", ":"))
    frame = encode_message(CHUNK_HEADERS, payload.encode())
    stock, ours = parsed_both(SERVICES["bedrock-invoke"][0], [LEAD + frame, frame])
    assert ours == stock


@pytest.mark.skipif(ae.BACKEND != "native", reason="the native backend parses events in the extension")
@pytest.mark.parametrize("service", ["bedrock-invoke", "bedrock-converse"])
def test_events_are_parsed_natively_after_the_first_frame(installed: None, service: str) -> None:
    """On the native backend every event but a stream's first comes out of the extension parsed (no Python per
    event); the first stays a ``Message``, so that ``get_initial_response`` answers as stock."""
    from anthropic_eventstream._botocore import install as shim
    from anthropic_eventstream._botocore import shapes

    spec, body = SERVICES[service]
    shape, parser = event_stream_shape(*spec)
    assert shapes.parser_report(shape, parser) == {"on": True}
    stream = EventStream(RawStream([body]), shape, parser, spec[1])
    framing = shim._framing(stream)
    assert isinstance(framing, shim._ParsedFraming)
    items = framing.feed(body)
    assert not isinstance(items[0], dict) and items[1:] and all(type(item) is dict for item in items[1:])
    assert items[1:] == iterate(spec, [body])[0][1:]


def test_diagnostics_say_whether_bedrock_runtime_events_are_parsed_natively() -> None:
    report = ae.diagnostics()["botocore_parsers"]
    if ae.BACKEND == "native":
        assert report == {
            "on": True,
            "streams": {"InvokeModelWithResponseStream": {"on": True}, "ConverseStream": {"on": True}},
        }
    else:
        assert not report["on"] and "python backend" in report["why"]


@pytest.mark.skipif(ae.BACKEND != "native", reason="the native backend parses events in the extension")
def test_a_shape_that_fails_its_proof_leaves_botocore_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from anthropic_eventstream._botocore import shapes

    real = shapes.spec

    def reversed_members(stream_shape: Any) -> Any:
        return [(event, members[::-1], union) for event, members, union in real(stream_shape)]

    monkeypatch.setattr(shapes, "spec", reversed_members)
    shapes.forget()
    try:
        shape, parser = event_stream_shape(*SERVICES["bedrock-converse"][0])
        report = shapes.parser_report(shape, parser)
        assert not report["on"] and "proof failed" in report["why"], report
        diagnosed = ae.diagnostics()["botocore_parsers"]
        assert not diagnosed["on"] and diagnosed["streams"]["ConverseStream"]["why"].startswith("its proof failed")
        stock, ours = parsed_both(SERVICES["bedrock-converse"][0], [CONVERSE_BODY])
        assert ours == stock
    finally:
        monkeypatch.undo()
        shapes.forget()


def test_get_initial_response_is_stock() -> None:
    def first(frames: list[bytes]) -> str:
        shape, parser = event_stream_shape(*SERVICES["bedrock-invoke"][0])
        stream = EventStream(RawStream(frames), shape, parser, "InvokeModelWithResponseStream")
        try:
            response = stream.get_initial_response()
            return repr((response.headers, response.payload)) + repr(list(stream))
        except Exception as exc:
            return type(exc).__name__ + repr(list(stream))

    initial = encode_message({":message-type": "event", ":event-type": "initial-response"}, b"{}")
    for frames in ([BEDROCK_BODY], [initial + BEDROCK_BODY]):
        stock = first(frames)
        ae.install_botocore()
        try:
            ours = first(frames)
        finally:
            ae.uninstall_botocore()
        assert ours == stock


def test_shortcuts_leave_anything_unexpected_to_botocore() -> None:
    from unittest import mock

    from anthropic_eventstream._botocore import install as _botocore

    for shape in (mock.Mock(), None, object(), mock.Mock(name="ResponseStream", members=mock.Mock())):
        assert _botocore._shortcut_for(shape) is None


# -- transport failures over a real socket ----------------------------------------------------------------------


def _loopback_invoke(replies: list[Any], *, read_timeout: float = 10.0) -> tuple[int, BaseException | None]:
    """``invoke_model_with_response_stream`` of a real botocore client against a loopback server: how many events
    arrived, and what ended the stream."""
    import botocore.session
    from botocore.config import Config

    from tests.loopback import Loopback

    with Loopback(replies) as server:
        client = botocore.session.get_session().create_client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=server.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}, read_timeout=read_timeout),
        )
        count = 0
        try:
            for _ in client.invoke_model_with_response_stream(modelId="m", body=b"{}")["body"]:
                count += 1
        except Exception as exc:
            return count, exc
        return count, None


def _eventstream_reply(*steps: Any, end: str = "finish") -> Any:
    from tests.loopback import Reply

    return Reply(tuple(steps), end=end, content_type="application/vnd.amazon.eventstream")


@pytest.fixture
def botocore_installed() -> Any:
    ae.install_botocore()
    yield
    ae.uninstall_botocore()


def test_a_dropped_connection_raises_botocores_response_streaming_error(botocore_installed: None) -> None:
    from botocore.exceptions import ResponseStreamingError

    frames = [testing.chunk_frame(e) for e in testing.message_events("Dropped half way.")[:3]]
    count, exc = _loopback_invoke([_eventstream_reply(*frames, end="drop")])
    assert isinstance(exc, ResponseStreamingError), repr(exc)
    assert count == 3


def test_a_read_timeout_raises_botocores_read_timeout_error(botocore_installed: None) -> None:
    from botocore.exceptions import ReadTimeoutError

    from tests.loopback import Wait

    frames = [testing.chunk_frame(e) for e in testing.message_events("Silent half way.")[:3]]
    count, exc = _loopback_invoke([_eventstream_reply(*frames, Wait(5.0))], read_timeout=0.4)
    assert isinstance(exc, ReadTimeoutError), repr(exc)
    assert count == 3


def test_stock_botocore_lets_urllib3_escape() -> None:
    """What the shim fixes (pinned, so that a botocore that starts mapping it itself is noticed)."""
    import urllib3

    frames = [testing.chunk_frame(e) for e in testing.message_events("Dropped half way.")[:3]]
    _, exc = _loopback_invoke([_eventstream_reply(*frames, end="drop")])
    assert isinstance(exc, urllib3.exceptions.ProtocolError), repr(exc)
