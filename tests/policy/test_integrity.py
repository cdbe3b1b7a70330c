"""The integrity check: incomplete answers, Vertex, accelerate() on its own, botocore's own classes, and
a strict opt-in that refuses, all or nothing, when the SDK changed. Sync and async, both backends, real SDK classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")
botocore = pytest.importorskip("botocore")

import anthropic_eventstream as ae  # noqa: E402
from anthropic_eventstream import testing  # noqa: E402
from anthropic_eventstream._anthropic.install import forget_learned  # noqa: E402
from tests.helpers import REQUEST, drive, sdk_state  # noqa: E402

SDK_MAJOR = int(anthropic.__version__.split(".")[0])
EVENTS = testing.message_events("An answer that gets cut off between two frames.")


@pytest.fixture
def installed(backend: str) -> Any:
    ae.install(backend=backend)
    yield backend
    ae.uninstall()


def bedrock(events: list[Any], is_async: bool) -> Any:
    return testing.mock_bedrock_client(testing.bedrock_stream(events), chunk_size=100, is_async=is_async)


def first_party(events: list[Any], is_async: bool) -> Any:
    return testing.mock_anthropic_client(testing.anthropic_sse(events), chunk_size=100, is_async=is_async)


def vertex(events: list[Any], is_async: bool) -> Any:
    return testing.mock_vertex_client(testing.anthropic_sse(events), chunk_size=100, is_async=is_async)


CLIENTS: dict[str, Callable[[list[Any], bool], Any]] = {
    "bedrock": bedrock,
    "first-party": first_party,
    "vertex": vertex,
}


def consume(client: Any, is_async: bool, *, helper: bool = False) -> tuple[list[str], BaseException | None]:
    return drive(client, is_async, helper=helper)


def assert_incomplete(exc: BaseException | None) -> None:
    assert isinstance(exc, anthropic.APIConnectionError), repr(exc)
    assert isinstance(exc.__cause__, ae.IncompleteStreamError)


def test_the_error_carries_the_streams_request(installed: str, is_async: bool) -> None:
    _, exc = consume(bedrock(EVENTS[:-3], is_async), is_async)
    assert_incomplete(exc)
    assert exc.request.method == "POST" and "invoke-with-response-stream" in str(exc.request.url)  # type: ignore[union-attr]


# -- incomplete answers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(CLIENTS))
@pytest.mark.parametrize("helper", [False, True], ids=["create", "stream-helper"])
def test_a_stream_cut_between_frames_raises(installed: str, is_async: bool, kind: str, helper: bool) -> None:
    cut = EVENTS[:-3]  # ends cleanly after a delta: no content_block_stop, message_delta, message_stop
    seen, exc = consume(CLIENTS[kind](cut, is_async), is_async, helper=helper)
    assert_incomplete(exc)
    assert "without 'message_stop'" in str(exc)
    if not helper:
        assert seen == [e["type"] for e in cut]


@pytest.mark.parametrize("kind", sorted(CLIENTS))
def test_an_empty_body_raises(installed: str, is_async: bool, kind: str) -> None:
    client = {
        "bedrock": testing.mock_bedrock_client,
        "first-party": testing.mock_anthropic_client,
        "vertex": testing.mock_vertex_client,
    }[kind]
    seen, exc = consume(client(b"", is_async=is_async), is_async)
    assert seen == []
    assert_incomplete(exc)
    assert "without any event" in str(exc)


@pytest.mark.parametrize("kind", sorted(CLIENTS))
def test_a_complete_stream_is_untouched(installed: str, is_async: bool, kind: str) -> None:
    with_pings = [EVENTS[0], {"type": "ping"}, *EVENTS[1:], {"type": "ping"}]
    seen, exc = consume(CLIENTS[kind](with_pings, is_async), is_async)
    ae.uninstall()
    stock = consume(CLIENTS[kind](with_pings, is_async), is_async)
    ae.install(backend=installed)
    assert (seen, exc) == stock and exc is None and "message_stop" in seen


def test_without_install_a_cut_stream_ends_quietly(is_async: bool) -> None:
    seen, exc = consume(bedrock(EVENTS[:-3], is_async), is_async)
    assert exc is None and len(seen) == len(EVENTS) - 3


# -- Vertex --------------------------------------------------------------------------------------------------


def test_vertex_mid_stream_errors_are_typed(installed: str, is_async: bool) -> None:
    envelope = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    seen, exc = consume(vertex([*EVENTS[:2], envelope], is_async), is_async)
    assert seen == ["message_start", "content_block_start"]
    assert isinstance(exc, anthropic.APIStatusError) and exc.status_code == 529
    if SDK_MAJOR >= 2:
        assert isinstance(exc, anthropic.OverloadedError)
        assert exc.type == "overloaded_error"  # the SDK's attribute keeps the body's error.type


# -- accelerate() on its own ----------------------------------------------------------------------------------


def test_accelerate_survives_install_and_uninstall(backend: str, is_async: bool) -> None:
    client = ae.accelerate(bedrock(EVENTS[:-3], is_async), backend=backend)
    ae.install(backend=backend)
    ae.uninstall()
    _, exc = consume(client, is_async)
    assert_incomplete(exc)
    truncated = testing.mock_bedrock_client(testing.bedrock_stream(EVENTS)[:-30], is_async=is_async)
    _, exc = consume(ae.accelerate(truncated, backend=backend), is_async)
    assert isinstance(exc, anthropic.APIConnectionError) and isinstance(exc.__cause__, ae.TruncatedStreamError)


def test_a_stream_keeps_the_behaviour_it_was_created_with(backend: str) -> None:
    client = testing.mock_bedrock_client(testing.bedrock_stream(EVENTS)[:-30])
    ae.install(backend=backend)
    try:
        stream = client.messages.create(**REQUEST, stream=True)
    finally:
        ae.uninstall()
    with pytest.raises(anthropic.APIConnectionError) as info:
        list(stream)
    assert isinstance(info.value.__cause__, ae.TruncatedStreamError)


def test_accelerate_under_install_wraps_the_sdks_originals(backend: str) -> None:
    ae.install(backend=backend)
    try:
        client = ae.accelerate(testing.mock_bedrock_client(b""), backend=backend)
        method = type(client).__dict__["_make_status_error"]
        assert not getattr(method.__wrapped__, "__anthropic_eventstream__", False)
    finally:
        ae.uninstall()


def test_accelerate_checks_again_what_changed_since_its_last_call(monkeypatch: pytest.MonkeyPatch) -> None:
    first = type(ae.accelerate(testing.mock_anthropic_client(b"")))
    assert type(ae.accelerate(testing.mock_anthropic_client(b""))) is first  # nothing changed: the same subclass
    original = anthropic.Anthropic._make_status_error
    seen = []

    def _make_status_error(self: Any, err_msg: str, *, body: object, response: Any) -> Any:  # another library's
        seen.append(err_msg)
        return original(self, err_msg, body=body, response=response)

    monkeypatch.setattr(anthropic.Anthropic, "_make_status_error", _make_status_error)
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    client = ae.accelerate(testing.mock_anthropic_client(testing.anthropic_sse([*EVENTS[:2], overloaded])))
    with pytest.raises(anthropic.APIStatusError):
        list(client.messages.create(**REQUEST, stream=True))
    assert type(client) is not first and len(seen) == 1  # wrapped afresh, not bypassed

    def changed(self: Any, err_msg: str, body: object, response: Any) -> Any: ...

    monkeypatch.setattr(anthropic.Anthropic, "_make_status_error", changed)
    with pytest.raises(ae.SDKChangedError, match="_make_status_error takes"):
        ae.accelerate(testing.mock_anthropic_client(b""), strict=True)


# -- botocore: its own classes ---------------------------------------------------------------------------------


def test_botocore_errors_stay_botocores_classes() -> None:
    from botocore import eventstream

    from tests.boto.test_event_stream import SERVICES, iterate

    spec = SERVICES["bedrock-invoke"][0]
    ae.install_botocore()
    try:
        _, text_error = iterate(spec, [b'{"message": "Forbidden"}'])
        _, cut_error = iterate(spec, [SERVICES["bedrock-invoke"][1][:-5]])
    finally:
        ae.uninstall_botocore()
    assert isinstance(text_error, eventstream.ChecksumMismatch) and isinstance(text_error, ae.NotAnEventStream)
    assert isinstance(cut_error, eventstream.ParserError) and isinstance(cut_error, ae.TruncatedStreamError)


# -- a loud, all-or-nothing opt-in -------------------------------------------------------------------------------


def test_install_covers_vertex_and_restores_exactly(backend: str) -> None:
    from anthropic.lib.vertex import AnthropicVertex

    before = sdk_state()
    ae.install(backend=backend)
    assert "_make_sse_decoder" in AnthropicVertex.__dict__
    ae.install(backend="python")  # again, replacing the first
    ae.install_botocore()
    ae.uninstall()
    ae.uninstall_botocore()
    assert sdk_state() == before


def test_a_missing_internal_fails_loudly_and_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from anthropic._base_client import BaseClient

    before = sdk_state()
    monkeypatch.delattr(BaseClient, "_make_sse_decoder")
    after_delete = sdk_state()
    with pytest.raises(ae.SDKChangedError, match=r"anthropic\..*Anthropic\._make_sse_decoder is missing"):
        ae.install(strict=True)
    assert sdk_state() == after_delete and not ae.is_installed()
    monkeypatch.undo()
    assert sdk_state() == before


def test_a_changed_signature_fails_loudly_and_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def _make_status_error(self: Any, err_msg: str, body: object, response: Any, extra: int = 0) -> Any: ...

    monkeypatch.setattr(anthropic.Anthropic, "_make_status_error", _make_status_error)
    state = sdk_state()
    with pytest.raises(
        ae.SDKChangedError, match=r"_make_status_error takes \(self, err_msg, body, response, extra\), not"
    ):
        ae.install(strict=True)
    with pytest.raises(ae.SDKChangedError):
        ae.accelerate(testing.mock_anthropic_client(b""), strict=True)
    assert sdk_state() == state and not ae.is_installed()


def test_a_changed_bedrock_decoder_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    from anthropic.lib.bedrock import _stream_decoder

    monkeypatch.setattr(
        _stream_decoder.AWSEventStreamDecoder, "_parse_message_from_event", lambda self, event: None, raising=False
    )
    monkeypatch.setattr(_stream_decoder, "_chunk_bytes_to_sse", lambda raw: None, raising=False)
    forget_learned()
    try:
        state = sdk_state()
        with pytest.raises(ae.SDKChangedError, match="matches no rule this version knows"):
            ae.install(strict=True)
        assert sdk_state() == state
    finally:
        monkeypatch.undo()
        forget_learned()


def _reader(response: Any, client: Any) -> Any:
    yield b""


def _changed_reader(response: Any, client: Any, chunk_size: int) -> Any:
    yield b""


@pytest.mark.parametrize(
    ("readers", "match"),
    [
        ({"iter_response_bytes": _changed_reader}, r"iter_response_bytes takes \(response, client, chunk_size\)"),
        ({"iter_response_bytes": _reader, "async_iter_response_bytes": None}, r"async_iter_response_bytes is missing"),
        (
            {"iter_response_bytes": _reader, "async_iter_response_bytes": _reader},
            r"async_iter_response_bytes is no longer an async generator function",
        ),
    ],
    ids=["changed", "one-without-the-other", "not-async"],
)
def test_a_changed_body_reader_fails_loudly_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, readers: dict[str, Any], match: str
) -> None:
    """anthropic 2.17's typed body readers, which an opted-in stream reads through: another shape, or one
    without the other, refuses the opt-in (an SDK without either reads the body raw, as before 2.17)."""
    from anthropic import _streaming

    for name, reader in readers.items():
        if reader is None:
            monkeypatch.delattr(_streaming, name, raising=False)
        else:
            monkeypatch.setattr(_streaming, name, reader, raising=False)
    forget_learned()
    try:
        state = sdk_state()
        with pytest.raises(ae.SDKChangedError, match=match):
            ae.install(strict=True)
        assert sdk_state() == state and not ae.is_installed()
    finally:
        monkeypatch.undo()
        forget_learned()


def test_a_changed_botocore_fails_loudly_and_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.eventstream import EventStream

    monkeypatch.setattr(EventStream, "_parse_event", lambda self, event, extra: None)
    state = sdk_state()
    with pytest.raises(ae.SDKChangedError, match=r"EventStream\._parse_event takes \(self, event, extra\)"):
        ae.install_botocore()
    assert sdk_state() == state and not ae.is_botocore_installed()


def _shipped(name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
    """A client class as if the SDK shipped it (defined in one of its modules)."""
    return type(name, bases, {"__module__": "anthropic.lib.not_yet_known", **namespace})


def test_a_client_class_the_sdk_ships_that_would_stay_stock_is_refused() -> None:
    import gc

    from anthropic._base_client import SyncAPIClient

    state = sdk_state()
    makers: list[Callable[[], type]] = [
        lambda: _shipped("AnthropicNewCloud", (SyncAPIClient,), {}),  # a new client: no known base
        lambda: _shipped(  # a known client's subclass overriding what is patched
            "AnthropicOverriding", (anthropic.Anthropic,), {"_make_sse_decoder": lambda self, options=None: None}
        ),
    ]
    for make in makers:
        cls = make()
        try:
            with pytest.raises(ae.SDKChangedError, match=rf"anthropic\.lib\.not_yet_known\.{cls.__name__} \(its "):
                ae.install(strict=True)
            assert sdk_state() == state and not ae.is_installed()
        finally:
            del cls
            gc.collect()  # a class lives on in its bases' __subclasses__() until collected
    ae.install()  # gone again: nothing left to refuse
    ae.uninstall()


def test_the_sdks_other_clients_inherit_what_is_patched() -> None:
    """Every client class the installed SDK ships (Foundry, AWS, Google Cloud, ...) streams opted in."""
    from anthropic_eventstream._anthropic.clients import _shipped_clients, client_classes

    covered = {cls for cls, _, _ in client_classes()}
    ae.install()
    try:
        for cls in _shipped_clients():
            if cls.__name__.endswith("Bedrock") and cls not in covered:
                continue  # Bedrock needs botocore, as the SDK does
            assert getattr(cls._make_sse_decoder, "__anthropic_eventstream__", False), cls
    finally:
        ae.uninstall()
