"""``anthropic_eventstream.EventStreamBuffer`` against botocore's on the same bytes; code that
builds botocore's buffer itself (the stock anthropic SDK decoder) framing through ours under
``install_botocore()``; and aiobotocore's real ``AioEventStream`` (skipped, saying so, where aiobotocore is not
installed: ``make reach`` runs this file in a venv that has it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

botocore = pytest.importorskip("botocore")

from botocore import eventstream as boto_eventstream  # noqa: E402

import anthropic_eventstream as ae  # noqa: E402
from anthropic_eventstream import encode_message, testing  # noqa: E402
from tests.frames.test_backends_agree import botocore_misreads, chunked, mutated_streams, streams  # noqa: E402
from tests.helpers import load_vectors, property_settings, require  # noqa: E402

FRAMES, EXPECTED = load_vectors()


def through(buffer: Any, pieces: list[bytes]) -> tuple[list[Any], str | None]:
    """Messages (as comparable tuples) and the name of the error botocore's classes give, if any."""
    out: list[Any] = []
    try:
        for piece in pieces:
            buffer.add_data(piece)
            for m in buffer:
                out.append(
                    (
                        dict(m.headers),
                        bytes(m.payload),
                        m.prelude.total_length,
                        m.prelude.headers_length,
                        m.prelude.crc,
                        m.crc,
                        m.to_response_dict()["status_code"],
                    )
                )
                if len(out) > 10_000:  # pragma: no cover - botocore looping on a zero-length frame
                    break
    except Exception as exc:
        return out, _botocore_name(exc)
    return out, None


def _botocore_name(exc: Exception) -> str:
    """The botocore class an error is an instance of (for ours, the botocore class it also is)."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "botocore.eventstream":
            return cls.__name__
    return type(exc).__name__


def ours_match_botocore(backend: str, data: bytes, cuts: list[int]) -> None:
    pieces = chunked(data, cuts)
    mine = through(ae.EventStreamBuffer(backend=backend), pieces)
    theirs = through(boto_eventstream.EventStreamBuffer(), pieces)
    if mine[1] is not None:
        try:
            ae.EventStreamDecoder(backend=backend).feed(data)
        except ae.EventStreamError as exc:
            if botocore_misreads((type(exc), str(exc), exc.offset)):
                assert theirs[0][: len(mine[0])] == mine[0]
                return
    assert mine == theirs


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("chunk", [1, 5, 1000])
def test_the_public_vectors_give_botocores_results(backend: str, name: str, chunk: int) -> None:
    data = FRAMES[name]
    ours_match_botocore(backend, data, list(range(chunk, len(data), chunk)))


@property_settings(200)
@given(streams, st.lists(st.integers(0, 10_000), max_size=6))
def test_valid_streams_give_botocores_messages(data: bytes, cuts: list[int]) -> None:
    for backend in ("native", "python"):
        ours_match_botocore(backend, data, cuts)


@property_settings(300)
@given(mutated_streams(), st.lists(st.integers(0, 10_000), max_size=6))
def test_broken_streams_give_botocores_errors(data: bytes, cuts: list[int]) -> None:
    for backend in ("native", "python"):
        ours_match_botocore(backend, data, cuts)


def test_errors_wait_for_iteration_and_are_botocores(backend: str) -> None:
    good = encode_message({":message-type": "event"}, b"one")
    bad = bytearray(encode_message({":message-type": "event"}, b"two"))
    bad[-1] ^= 1
    buffer = ae.EventStreamBuffer(backend=backend)
    buffer.add_data(good + bytes(bad))
    assert bytes(buffer.next().payload) == b"one"
    with pytest.raises(boto_eventstream.ChecksumMismatch):
        buffer.next()
    with pytest.raises(boto_eventstream.ParserError):
        next(iter(buffer))


def test_close_reports_truncation(backend: str) -> None:
    buffer = ae.EventStreamBuffer(backend=backend)
    buffer.add_data(encode_message({}, b"x")[:-3])
    assert list(buffer) == []
    with pytest.raises(boto_eventstream.ParserError) as info:
        buffer.close()
    assert isinstance(info.value, ae.TruncatedStreamError)


def test_the_stock_sdk_decoder_frames_through_ours() -> None:
    anthropic = pytest.importorskip("anthropic")
    from anthropic.lib.bedrock._stream_decoder import AWSEventStreamDecoder as Stock

    body = testing.bedrock_stream(testing.message_events("Framed by anthropic-eventstream"))
    chunks = testing.split(body, 100)
    stock = [(e.event, e.data) for e in Stock().iter_bytes(iter(chunks))]
    made: list[Any] = []
    ae.install_botocore()
    try:
        installed = boto_eventstream.EventStreamBuffer
        assert issubclass(installed, ae.EventStreamBuffer) and installed.__name__ == "EventStreamBuffer"
        assert installed.__module__ == ae.EventStreamBuffer.__module__
        original_init = ae.EventStreamBuffer.__init__

        def spy(self: Any, **kwargs: Any) -> None:
            made.append(self)
            original_init(self, **kwargs)

        ae.EventStreamBuffer.__init__ = spy  # type: ignore[method-assign]
        try:
            ours = [(e.event, e.data) for e in Stock().iter_bytes(iter(chunks))]
        finally:
            ae.EventStreamBuffer.__init__ = original_init  # type: ignore[method-assign]
    finally:
        ae.uninstall_botocore()
    assert ours == stock and len(made) == 1
    # nothing of the installation stays on the public class, nor in botocore
    assert "__wrapped__" not in vars(ae.EventStreamBuffer) and "__anthropic_eventstream__" not in vars(
        ae.EventStreamBuffer
    )
    assert not issubclass(boto_eventstream.EventStreamBuffer, ae.EventStreamBuffer)
    assert anthropic is not None


# -- aiobotocore ------------------------------------------------------------------------------------------------


class AioRaw:
    """aiobotocore's raw stream as ``AioEventStream`` reads it: ``content.iter_chunks()``."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.content = self
        self.chunks = chunks

    async def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        for chunk in self.chunks:
            yield chunk, False

    def close(self) -> None:
        pass


def aio_iterate(operation: str, member: str, chunks: list[bytes]) -> tuple[list[Any], BaseException | None]:
    aio = require("aiobotocore", "aiobotocore is not installed here (make reach installs it)")
    from aiobotocore.eventstream import AioEventStream
    from aiobotocore.parsers import create_parser
    from botocore.loaders import Loader
    from botocore.model import ServiceModel

    assert aio is not None
    model = ServiceModel(Loader().load_service_model("bedrock-runtime", "service-2"), "bedrock-runtime")
    shape = model.operation_model(operation).output_shape.members[member]
    parser = create_parser("rest-json")._event_stream_parser

    async def run() -> tuple[list[Any], BaseException | None]:
        events: list[Any] = []
        try:
            async for event in AioEventStream(AioRaw(chunks), shape, parser, operation):
                events.append(event)
        except Exception as exc:
            return events, exc
        return events, None

    return asyncio.run(run())


INVOKE = ("InvokeModelWithResponseStream", "body")
BODY = testing.bedrock_stream(testing.message_events("Async boto users are reached too."))


@pytest.mark.parametrize("chunk", [1, 64, 16384])
def test_aiobotocore_gives_the_same_events(chunk: int) -> None:
    chunks = testing.split(BODY, chunk)
    stock = aio_iterate(*INVOKE, chunks)
    ae.install_botocore()
    try:
        ours = aio_iterate(*INVOKE, chunks)
    finally:
        ae.uninstall_botocore()
    assert (
        stock[1] is None
        and ours == stock
        and len(ours[0]) == len(testing.message_events("Async boto users are reached too."))
    )


CONVERSE = ("ConverseStream", "stream")


@pytest.mark.parametrize("operation", [INVOKE, CONVERSE], ids=["invoke", "converse"])
def test_aiobotocore_events_are_parsed_natively_and_exactly(operation: tuple[str, str]) -> None:
    """aiobotocore's parser (a coroutine's ``parse``) gets its own proof; its streams' events then come out of the
    extension, equal to stock, the realistic answer's included."""
    require("aiobotocore", "aiobotocore is not installed here (make reach installs it)")
    from aiobotocore.parsers import create_parser
    from botocore.loaders import Loader
    from botocore.model import ServiceModel

    from anthropic_eventstream import _backend, _bench
    from anthropic_eventstream._botocore import shapes

    body = _bench.realistic_bedrock_body(300) if operation is INVOKE else _bench.realistic_converse_body(300)
    chunks = testing.split(body, 16384)
    stock = aio_iterate(*operation, chunks)
    ae.install_botocore()
    try:
        ours = aio_iterate(*operation, chunks)
        model = ServiceModel(Loader().load_service_model("bedrock-runtime", "service-2"), "bedrock-runtime")
        shape = model.operation_model(operation[0]).output_shape.members[operation[1]]
        report = shapes.parser_report(shape, create_parser("rest-json")._event_stream_parser)
    finally:
        ae.uninstall_botocore()
    assert stock[1] is None and ours == stock and len(ours[0]) > 300
    if _backend.BACKEND == "native":
        assert report == {"on": True}


def test_aiobotocore_exceptions_carry_the_models_status() -> None:
    from botocore.exceptions import EventStreamError

    frame = testing.exception_frame("throttlingException", "slow down")
    body = testing.bedrock_stream(testing.message_events("Hi")[:2]) + frame
    stock_events, stock_error = aio_iterate(*INVOKE, [body])
    ae.install_botocore()
    try:
        events, error = aio_iterate(*INVOKE, [body])
    finally:
        ae.uninstall_botocore()
    assert events == stock_events and len(events) == 2
    assert isinstance(error, EventStreamError) and isinstance(stock_error, EventStreamError)
    assert error.response["Error"] == stock_error.response["Error"]
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_aiobotocore_truncation_is_raised() -> None:
    cut = [BODY[:-7]]
    events, error = aio_iterate(*INVOKE, cut)
    assert error is None  # stock: the lost frame goes unnoticed
    ae.install_botocore()
    try:
        events, error = aio_iterate(*INVOKE, cut)
    finally:
        ae.uninstall_botocore()
    assert isinstance(error, ae.TruncatedStreamError) and isinstance(error, boto_eventstream.ParserError)
    assert len(events) == len(testing.message_events("Async boto users are reached too.")) - 1


def test_uninstall_restores_aiobotocore_exactly() -> None:
    require("aiobotocore", "aiobotocore is not installed here (make reach installs it)")
    from aiobotocore.eventstream import AioEventStream

    before = dict(AioEventStream.__dict__)
    ae.install_botocore()
    assert AioEventStream.__dict__["_create_raw_event_generator"] is not before["_create_raw_event_generator"]
    ae.uninstall_botocore()
    assert dict(AioEventStream.__dict__) == before


def _aio_loopback_invoke(replies: list[Any], *, read_timeout: float = 10.0) -> tuple[int, BaseException | None]:
    """``invoke_model_with_response_stream`` of a real aiobotocore client against a loopback server."""
    require("aiobotocore", "aiobotocore is not installed here (make reach installs it)")
    from aiobotocore.session import get_session
    from botocore.config import Config

    from tests.loopback import Loopback

    async def run(url: str) -> tuple[int, BaseException | None]:
        config = Config(retries={"max_attempts": 1}, read_timeout=read_timeout)
        async with get_session().create_client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        ) as client:
            count = 0
            try:
                response = await client.invoke_model_with_response_stream(modelId="m", body=b"{}")
                async for _ in response["body"]:
                    count += 1
            except Exception as exc:
                return count, exc
            return count, None

    with Loopback(replies) as server:
        return asyncio.run(run(server.url))


def _frames_reply(*steps: Any, end: str = "finish") -> Any:
    from tests.loopback import Reply

    return Reply(tuple(steps), end=end, content_type="application/vnd.amazon.eventstream")


LOOP_FRAMES = [testing.chunk_frame(e) for e in testing.message_events("Cut off half way.")[:3]]


def test_aiobotocore_dropped_connection_raises_botocores_class() -> None:
    from botocore.exceptions import ResponseStreamingError

    ae.install_botocore()
    try:
        count, exc = _aio_loopback_invoke([_frames_reply(*LOOP_FRAMES, end="drop")])
    finally:
        ae.uninstall_botocore()
    assert isinstance(exc, ResponseStreamingError), repr(exc)
    assert count == 3


def test_aiobotocore_read_timeout_raises_botocores_class() -> None:
    from botocore.exceptions import ReadTimeoutError

    from tests.loopback import Wait

    ae.install_botocore()
    try:
        count, exc = _aio_loopback_invoke([_frames_reply(*LOOP_FRAMES, Wait(5.0))], read_timeout=0.4)
    finally:
        ae.uninstall_botocore()
    assert isinstance(exc, ReadTimeoutError), repr(exc)
    assert count == 3
