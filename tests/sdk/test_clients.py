"""The SDK shim, through the real ``anthropic`` clients on a mock transport (no network), sync and async,
on both backends: typed mid-stream errors, parity with the stock decoder, truncation, uninstall."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")
pytest.importorskip("botocore")

import anthropic_eventstream as ae  # noqa: E402
from anthropic_eventstream import testing  # noqa: E402
from tests.helpers import sdk_state  # noqa: E402

pytestmark = pytest.mark.sdk
SDK_MAJOR = int(anthropic.__version__.split(".")[0])
REQUEST = dict(model="anthropic.claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "Hi"}])
EVENTS = testing.message_events("The quick brown fox jumps over the lazy dog.")


@pytest.fixture
def installed(backend: str) -> Any:
    ae.install(backend=backend)
    yield backend
    ae.uninstall()


def consume(client: Any, is_async: bool) -> tuple[list[dict[str, Any]], BaseException | None]:
    """Every event the client yields (as dicts) and the exception that ended the stream, if any."""
    events: list[dict[str, Any]] = []
    if not is_async:
        try:
            for event in client.messages.create(**REQUEST, stream=True):
                events.append(event.model_dump())
        except Exception as exc:
            return events, exc
        return events, None

    async def run() -> BaseException | None:
        try:
            stream = await client.messages.create(**REQUEST, stream=True)
            async for event in stream:
                events.append(event.model_dump())
        except Exception as exc:
            return exc
        return None

    return events, asyncio.run(run())


def sdk_error_class(client: Any, status: int, body: object) -> type:
    """The class the installed SDK's ``client`` picks for ``status`` (the spec: we give the status, the SDK
    picks the class)."""
    http = testing.http_module()
    response = http.Response(status, request=http.Request("POST", "https://bedrock-runtime.us-east-1.amazonaws.com/"))
    return type(client._make_status_error("x", body=body, response=response))


BEDROCK_TABLE = [
    ("internalServerException", 500, "InternalServerError"),
    ("serviceUnavailableException", 503, "ServiceUnavailableError"),
    ("throttlingException", 429, "RateLimitError"),
    ("modelNotReadyException", 429, "RateLimitError"),
    ("validationException", 400, "BadRequestError"),
    ("serviceQuotaExceededException", 400, "BadRequestError"),
    ("conflictException", 400, "BadRequestError"),
    ("modelTimeoutException", 408, "RequestTimeoutError"),
    ("modelStreamErrorException", 424, "APIStatusError"),
    ("modelErrorException", 424, "APIStatusError"),
    ("accessDeniedException", 403, "PermissionDeniedError"),
    ("resourceNotFoundException", 404, "NotFoundError"),
    ("someFutureException", 500, "InternalServerError"),
]

ANTHROPIC_TABLE = [
    ("invalid_request_error", 400, "BadRequestError"),
    ("authentication_error", 401, "AuthenticationError"),
    ("billing_error", 402, "APIStatusError"),
    ("permission_error", 403, "PermissionDeniedError"),
    ("not_found_error", 404, "NotFoundError"),
    ("request_too_large", 413, "APIStatusError"),
    ("rate_limit_error", 429, "RateLimitError"),
    ("api_error", 500, "InternalServerError"),
    ("timeout_error", 504, "InternalServerError"),
    ("overloaded_error", 529, "InternalServerError"),
    ("a_future_error", 500, "InternalServerError"),
]


def assert_typed(
    exc: BaseException | None, status: int, table_class: str, body: dict[str, Any], client: Any = None
) -> None:
    assert isinstance(exc, anthropic.APIStatusError), repr(exc)
    assert exc.status_code == status
    assert type(exc) is sdk_error_class(client or testing.mock_bedrock_client(b""), status, body)
    if SDK_MAJOR >= 2:
        assert isinstance(exc, getattr(anthropic, table_class))
    assert exc.body == body


@pytest.mark.parametrize(("exception_type", "status", "table_class"), BEDROCK_TABLE)
def test_bedrock_exception_frames_raise_typed_errors(
    installed: str, is_async: bool, exception_type: str, status: int, table_class: str
) -> None:
    before = EVENTS[:4]
    body = testing.bedrock_stream([*before, testing.exception_frame(exception_type, "Something went wrong")])
    events, exc = consume(testing.mock_bedrock_client(body, chunk_size=97, is_async=is_async), is_async)
    assert [e["type"] for e in events] == [e["type"] for e in before]
    assert_typed(
        exc,
        status,
        table_class,
        {"type": "error", "error": {"type": exception_type, "message": "Something went wrong"}},
    )
    assert exc.request_id == testing.DEFAULT_REQUEST_ID  # type: ignore[union-attr]


def test_every_payload_field_is_kept(installed: str, is_async: bool) -> None:
    frame = testing.exception_frame(
        "modelStreamErrorException", "Model failed", originalStatusCode=500, originalMessage="upstream 500"
    )
    events, exc = consume(
        testing.mock_bedrock_client(testing.bedrock_stream([EVENTS[0], frame]), is_async=is_async), is_async
    )
    assert len(events) == 1
    assert_typed(
        exc,
        424,
        "APIStatusError",
        {
            "type": "error",
            "error": {
                "type": "modelStreamErrorException",
                "message": "Model failed",
                "originalStatusCode": 500,
                "originalMessage": "upstream 500",
            },
        },
    )


@pytest.mark.parametrize("code", ["InternalFailure", "throttlingException"])
def test_error_frames_are_500_whatever_their_code(installed: str, is_async: bool, code: str) -> None:
    body = testing.bedrock_stream([EVENTS[0], testing.error_frame(code, "boom")])
    events, exc = consume(testing.mock_bedrock_client(body, is_async=is_async), is_async)
    assert len(events) == 1
    assert_typed(exc, 500, "InternalServerError", {"type": "error", "error": {"type": code, "message": "boom"}})


@pytest.mark.parametrize(("error_type", "status", "table_class"), ANTHROPIC_TABLE)
def test_in_band_error_envelopes(
    installed: str, is_async: bool, error_type: str, status: int, table_class: str
) -> None:
    envelope = {"type": "error", "error": {"type": error_type, "message": "Overloaded", "details": {"retry_after": 3}}}
    body = testing.bedrock_stream([*EVENTS[:3], envelope])
    events, exc = consume(testing.mock_bedrock_client(body, is_async=is_async), is_async)
    assert len(events) == 3
    if SDK_MAJOR >= 2 and table_class == "InternalServerError" and status in (504, 529):
        table_class = {504: "GatewayTimeoutError", 529: "OverloadedError"}[status]
    assert_typed(exc, status, table_class, envelope)


@pytest.mark.parametrize(("error_type", "status", "table_class"), ANTHROPIC_TABLE)
def test_first_party_sse_errors(installed: str, is_async: bool, error_type: str, status: int, table_class: str) -> None:
    envelope = {"type": "error", "error": {"type": error_type, "message": "nope"}}
    body = testing.anthropic_sse([*EVENTS[:2], envelope])
    events, exc = consume(testing.mock_anthropic_client(body, is_async=is_async), is_async)
    assert len(events) == 2
    if SDK_MAJOR >= 2 and table_class == "InternalServerError" and status in (504, 529):
        table_class = {504: "GatewayTimeoutError", 529: "OverloadedError"}[status]
    if SDK_MAJOR >= 2 and status == 413:
        table_class = "RequestTooLargeError"
    assert_typed(exc, status, table_class, envelope, client=testing.mock_anthropic_client(b""))
    assert exc.request_id == "req_01EventStreamTesting"  # type: ignore[union-attr]


def test_without_install_the_stock_sdk_is_untouched() -> None:
    body = testing.bedrock_stream([EVENTS[0], testing.exception_frame("throttlingException", "slow down")])
    _, exc = consume(testing.mock_bedrock_client(body), False)
    assert not isinstance(exc, anthropic.RateLimitError)


def test_truncated_stream_raises_connection_error(installed: str, is_async: bool) -> None:
    full = testing.bedrock_stream(EVENTS)
    complete, exc = consume(testing.mock_bedrock_client(full, is_async=is_async), is_async)
    assert exc is None and len(complete) == len(EVENTS)
    cut = len(full) - 30
    events, exc = consume(testing.mock_bedrock_client(full[:cut], chunk_size=64, is_async=is_async), is_async)
    assert events == complete[:-1]
    assert isinstance(exc, anthropic.APIConnectionError)
    assert isinstance(exc.__cause__, ae.TruncatedStreamError)
    assert "stream ended inside the frame" in str(exc)


def test_corrupted_stream_raises_connection_error(installed: str, is_async: bool) -> None:
    full = bytearray(testing.bedrock_stream(EVENTS))
    full[len(full) // 2] ^= 0x10
    events, exc = consume(testing.mock_bedrock_client(bytes(full), is_async=is_async), is_async)
    assert 0 < len(events) < len(EVENTS)
    assert isinstance(exc, anthropic.APIConnectionError)
    assert isinstance(exc.__cause__, ae.ChecksumMismatch)


@pytest.mark.parametrize("body", [b'{"message":"Bad gateway from proxy"}', b"event: ping\ndata: {}\n\n"])
def test_a_body_that_is_not_an_event_stream_shows_what_came(installed: str, body: bytes) -> None:
    events, exc = consume(testing.mock_bedrock_client(body, content_type="application/json"), False)
    assert events == []
    assert isinstance(exc, anthropic.APIConnectionError)
    assert isinstance(exc.__cause__, ae.NotAnEventStream)
    assert body[:10].decode() in str(exc)


def test_invalid_chunk_payload(installed: str) -> None:
    bad = ae.encode_message({":message-type": "event", ":event-type": "chunk"}, b'{"bytes": "not base64!"}')
    events, exc = consume(testing.mock_bedrock_client(testing.bedrock_stream([EVENTS[0], bad])), False)
    assert len(events) == 1
    assert isinstance(exc, anthropic.APIConnectionError)
    assert isinstance(exc.__cause__, ae.InvalidChunk)
    assert '"bytes" is not valid base64' in str(exc)


# -- parity with the stock decoder ---------------------------------------------------------------------------

ODD_CHUNKS = [
    {"type": "message_start", "message": EVENTS[0]["message"]},
    {"completion": "legacy text completion", "stop_reason": None},
    {"neither": "type nor completion"},
    '["not", "an", "object"]',
    "not json at all",
    '{"type": "ping"}',
    '{"type": "a", "type": "content_block_stop", "index": 0}',
    "",
    {"type": "custom_event", "unicode": "日本語 ✓ \u2028"},
]


def event_view(event: Any) -> tuple[Any, ...]:
    """What a caller can see of an SDK event: that it is the SDK's class (ours is a subclass whose ``json()``
    is faster), every attribute, and what ``json()`` gives."""
    from anthropic._streaming import ServerSentEvent

    try:
        data: Any = event.json()
    except ValueError as exc:
        data = type(exc)
    return isinstance(event, ServerSentEvent), vars(event), data


def stock_events(chunks: list[bytes]) -> list[tuple[Any, ...]]:
    from anthropic.lib.bedrock._stream_decoder import AWSEventStreamDecoder as Stock

    return [event_view(e) for e in Stock().iter_bytes(iter(chunks))]


def our_events(chunks: list[bytes], backend: str) -> list[tuple[Any, ...]]:
    return [event_view(e) for e in ae.AWSEventStreamDecoder(backend).iter_bytes(iter(chunks))]


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 245, 1000, 16384])
def test_decoder_parity_with_stock(backend: str, chunk_size: int) -> None:
    body = testing.bedrock_stream([*EVENTS, *ODD_CHUNKS])
    chunks = testing.split(body, chunk_size)
    assert our_events(chunks, backend) == stock_events(chunks)


def test_decoder_parity_over_random_chunkings(backend: str) -> None:
    import random

    body = testing.bedrock_stream([*EVENTS, *ODD_CHUNKS])
    rng = random.Random(1234)
    want = stock_events([body])
    for _ in range(50):
        cuts = sorted(rng.sample(range(1, len(body)), rng.randint(1, 40)))
        chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        assert our_events(chunks, backend) == want


def test_client_parity_with_stock(backend: str, is_async: bool) -> None:
    body = testing.bedrock_stream(EVENTS)
    stock, exc = consume(testing.mock_bedrock_client(body, chunk_size=33, is_async=is_async), is_async)
    assert exc is None
    ae.install(backend=backend)
    try:
        ours, exc = consume(testing.mock_bedrock_client(body, chunk_size=33, is_async=is_async), is_async)
    finally:
        ae.uninstall()
    assert exc is None and ours == stock


def test_message_stream_helper(installed: str) -> None:
    client = testing.mock_bedrock_client(testing.bedrock_stream(EVENTS))
    with client.messages.stream(**REQUEST) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "The quick brown fox jumps over the lazy dog."
    assert final.usage.output_tokens == 9


# -- opting in and out ----------------------------------------------------------------------------------------


def test_uninstall_restores_the_sdk_exactly(backend: str) -> None:
    before = sdk_state()
    ae.install(backend=backend)
    assert ae.is_installed()
    assert sdk_state() != before
    ae.install(backend=backend)  # idempotent
    ae.uninstall()
    assert not ae.is_installed()
    assert sdk_state() == before
    ae.uninstall()  # harmless when not installed
    assert sdk_state() == before


def test_accelerate_one_client(backend: str) -> None:
    body = testing.bedrock_stream([EVENTS[0], testing.exception_frame("throttlingException", "slow down")])
    plain = testing.mock_bedrock_client(body)
    fast = ae.accelerate(testing.mock_bedrock_client(body), backend=backend)
    try:
        assert isinstance(fast, anthropic.AnthropicBedrock)
        assert isinstance(fast._make_sse_decoder()._inner, ae.AWSEventStreamDecoder)
        _, exc = consume(fast, False)
        assert isinstance(exc, anthropic.RateLimitError) and exc.status_code == 429
        assert isinstance(fast.with_options(max_retries=1)._make_sse_decoder()._inner, ae.AWSEventStreamDecoder)
        _, exc = consume(plain, False)
        assert not isinstance(exc, anthropic.RateLimitError)
        assert ae.accelerate(fast) is fast
    finally:
        ae.uninstall()


def test_decoder_event_objects_are_the_sdks(backend: str) -> None:
    from anthropic._streaming import ServerSentEvent

    first = testing.chunk_frame(EVENTS[0])
    body = first + testing.exception_frame("throttlingException", "slow")
    events = list(ae.AWSEventStreamDecoder(backend).iter_bytes(iter([body])))
    assert all(isinstance(e, ServerSentEvent) for e in events)
    assert event_view(events[0]) == stock_events([first])[0]
    assert events[1].event == "error"
    assert json.loads(events[1].data) == {"type": "error", "error": {"type": "throttlingException", "message": "slow"}}
    assert ae.status_for_error(events[1].json()) == 429


def test_async_iteration_cancelled_mid_stream(backend: str) -> None:
    body = testing.bedrock_stream(EVENTS)

    async def first_two() -> list[str]:
        client = ae.accelerate(testing.mock_bedrock_client(body, chunk_size=40, is_async=True), backend=backend)
        seen = []
        async with await client.messages.create(**REQUEST, stream=True) as stream:
            async for event in stream:
                seen.append(event.type)
                if len(seen) == 2:
                    break
        return seen

    try:
        assert asyncio.run(first_two()) == ["message_start", "content_block_start"]
    finally:
        ae.uninstall()


def _realistic_stream(client: Any, is_async: bool, helper: bool) -> list[Any]:
    """Every event (type, ``model_dump()``, fields set) and, for the helper, each snapshot and the final message."""

    def seen(event: Any) -> Any:
        return (type(event).__name__, event.model_dump(), sorted(event.model_fields_set))

    if not is_async:
        if helper:
            with client.messages.stream(**REQUEST) as stream:
                out = [(seen(event), stream.current_message_snapshot.model_dump()) for event in stream]
                return [*out, stream.get_final_message().model_dump()]
        return [seen(event) for event in client.messages.create(**REQUEST, stream=True)]

    async def run() -> list[Any]:
        return [seen(event) async for event in await client.messages.create(**REQUEST, stream=True)]

    return asyncio.run(run())


@pytest.mark.parametrize(
    "kind, is_async, helper",
    [
        ("bedrock", False, False),
        ("bedrock", True, False),
        ("sse", False, False),
        ("sse", True, False),
        ("sse", False, True),
    ],
)
def test_the_benchmarks_realistic_answer_is_what_the_stock_sdk_gives(
    backend: str, kind: str, is_async: bool, helper: bool
) -> None:
    """The bench's realistic workload (thinking and its signature, prose with non-ASCII and emoji, code,
    citations, tool input, pings) gives, opted in, every event, snapshot and final message the stock SDK gives."""
    from anthropic_eventstream import _bench

    def client() -> Any:
        if kind == "bedrock":
            return testing.mock_bedrock_client(_bench.realistic_bedrock_body(300), chunk_size=4096, is_async=is_async)
        return testing.mock_anthropic_client(testing.split(_bench.realistic_sse_body(300), 4096), is_async=is_async)

    stock = _realistic_stream(client(), is_async, helper)
    ae.install(backend=backend)
    try:
        ours = _realistic_stream(client(), is_async, helper)
    finally:
        ae.uninstall()
    assert len(stock) > 300 and ours == stock
    deltas = {event["delta"].get("type") for event in _bench.realistic_events(300) if "delta" in event}
    assert {"thinking_delta", "signature_delta", "text_delta", "citations_delta", "input_json_delta"} <= deltas
