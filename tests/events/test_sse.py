"""Server-sent events: ``SSEDecoder`` (both backends) against the installed SDK's own ``SSEDecoder``.

The SDK's decoder is the reference, rule for rule: line ends (LF, CR, CRLF, and a CRLF split across two
chunks), comments, unknown fields, ``id`` (kept across events, ignored with a NUL), ``retry`` (Python's
``int()``), multi-line data, raw lines, and a last event without its blank line. Generated bodies, cut at
every chunking hypothesis picks, must give the same events, attribute for attribute. Where the SDK raises a
bare ``UnicodeDecodeError``, ours raise ``InvalidSSE`` after the same events.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import anthropic_eventstream as ae
from anthropic_eventstream import _backend, testing
from anthropic_eventstream._anthropic.events import event_spec

from ..helpers import property_settings, requires_native


def stock_events(chunks: list[bytes]) -> tuple[list[dict[str, Any]], type[Exception] | None]:
    from anthropic._streaming import SSEDecoder

    events: list[dict[str, Any]] = []
    try:
        events.extend(vars(event) for event in SSEDecoder().iter_bytes(iter(chunks)))
    except UnicodeDecodeError as exc:
        return events, type(exc)
    return events, None


def our_events(chunks: list[bytes], backend: str) -> tuple[list[dict[str, Any]], type[Exception] | None]:
    events: list[dict[str, Any]] = []
    try:
        events.extend(vars(event) for event in ae.SSEDecoder(backend).iter_bytes(iter(chunks)))
    except ae.InvalidSSE as exc:
        return events, type(exc)
    return events, None


def cut(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(body)) for c in cuts})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]


FIELD_NAMES = ["event", "data", "id", "retry", "", "foo", "DATA", "event "]
VALUES = ["", " ", "x", " message_start", "{}", "a:b", ":", "12", " 12 ", "1_0", "-5", "\u0663", "x\0y", "é", "  two"]
ENDINGS = [b"\n", b"\r", b"\r\n"]

lines = st.one_of(
    st.builds(lambda n, v: f"{n}:{v}", st.sampled_from(FIELD_NAMES), st.sampled_from(VALUES)),
    st.builds(lambda v: f":{v}", st.sampled_from(VALUES)),  # comments
    st.sampled_from(["", "data", "event", "id", "retry"]),  # blank lines and fields without a colon
)
bodies = st.lists(st.tuples(lines, st.sampled_from(ENDINGS)), max_size=30).map(
    lambda parts: b"".join(line.encode() + end for line, end in parts)
)


@property_settings(400)
@given(body=bodies, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6), tail=st.booleans())
def test_generated_bodies_decode_as_the_sdk_decodes_them(body: bytes, cuts: list[int], tail: bool) -> None:
    if tail:  # a last line without any line end
        body += b"data: unterminated"
    chunks = cut(body, cuts)
    expected = stock_events(chunks)
    for backend in ("python", *(["native"] if _backend._native is not None else [])):
        assert our_events(chunks, backend) == expected, backend
    assert our_events([bytes([b]) for b in body], "python") == stock_events([bytes([b]) for b in body])


def test_every_rule_at_every_chunking(backend: str) -> None:
    body = (
        b": hello\nevent: a\ndata: 1\ndata:2\nid: 7\nretry: 150\nfoo: bar\n\n"
        b"event: b\r\ndata: {}\r\nretry: x\r\n\r\n"
        b"event:\rdata: c\r\rid: a\x00b\ndata: d\n\n\n\n"
        + "retry:  \u0663 \n\n".encode()
        + b"event: e\r\ndata: 3\r\n\r\ndata: last\n"
    )
    expected = stock_events([body])
    assert len(expected[0]) == 8  # blank lines after an id dispatch events too
    for size in range(1, 12):
        assert our_events(testing.split(body, size), backend) == expected, size
    for point in range(len(body) + 1):
        assert our_events([body[:point], body[point:]], backend) == expected, point


def test_invalid_utf8_raises_invalid_sse_after_the_same_events(backend: str) -> None:
    body = b"event: a\ndata: 1\n\nevent: b\ndata: \xff\xfe\n\nevent: c\ndata: 3\n\n"
    events, error = stock_events([body])
    assert error is UnicodeDecodeError
    ours, our_error = our_events([body], backend)
    assert (ours, our_error) == (events, ae.InvalidSSE)
    decoder = ae.SSEDecoder(backend).decoder()
    with pytest.raises(ae.InvalidSSE, match=r"line at byte 27 is not valid UTF-8: b'data: \\xff\\xfe'") as info:
        decoder.feed(body)
    assert [vars(e) for e in info.value.messages] == events
    assert info.value.offset == 27
    with pytest.raises(ae.InvalidSSE) as again:  # spent: raised again, afresh
        decoder.feed(b"data: more\n\n")
    assert again.value is not info.value


def test_an_endless_event_is_refused_at_max_event_length(backend: str) -> None:
    decoder = ae.SSEDecoder(backend, max_event_length=64).decoder()
    assert [e.data for e in decoder.feed(b"data: ok\n\n")] == ["ok"]
    decoder.feed(b"data: " + b"x" * 50)
    with pytest.raises(ae.InvalidSSE, match="server-sent event at byte 10 is 68 bytes without a blank line") as info:
        decoder.feed(b"x" * 12)
    assert info.value.messages == []


@requires_native
def test_both_backends_give_the_same_errors() -> None:
    for body in (b"data: \xc3\n\n", b"data: ok\n\nevent: \xed\xa0\x80\n\n", b"\xff"):
        messages = []
        for backend in ("native", "python"):
            decoder = ae.SSEDecoder(backend).decoder()
            with pytest.raises(ae.InvalidSSE) as info:
                decoder.feed(body)
                decoder.close()
            messages.append((str(info.value), info.value.offset, [vars(e) for e in info.value.messages]))
        assert messages[0] == messages[1]


def test_events_are_the_sdks_class_with_a_faster_json() -> None:
    from anthropic._streaming import ServerSentEvent

    event_class = event_spec().event_class
    assert issubclass(event_class, ServerSentEvent)
    for data in ['{"a": [1, 2.5, null, "\\ud800"]}', " {} ", "{} x", "", "NaN", '{"a": 1e400}', "[" * 5000]:
        event = event_class(event="x", data=data)
        try:
            expected: Any = ServerSentEvent(event="x", data=data).json()
        except (ValueError, RecursionError) as exc:
            with pytest.raises(type(exc)):
                event.json()
        else:
            assert repr(event.json()) == repr(expected)


def test_async_iteration_matches_sync(backend: str) -> None:
    body = testing.anthropic_sse(testing.message_events("one two three"))

    async def collect() -> list[dict[str, Any]]:
        async def chunks() -> Any:
            for chunk in testing.split(body, 5):
                yield chunk

        return [vars(e) async for e in ae.SSEDecoder(backend).aiter_bytes(chunks())]

    assert asyncio.run(collect()) == stock_events([body])[0]


def test_installed_first_party_streams_decode_with_the_native_decoder() -> None:
    ae.install()
    try:
        client = testing.mock_anthropic_client(testing.anthropic_sse(testing.message_events("hi")))
        decoder = client._make_sse_decoder()
        assert isinstance(decoder._inner, ae.SSEDecoder)
    finally:
        ae.uninstall()


@property_settings(300)
@given(
    body=bodies,
    shift=st.integers(min_value=0, max_value=12),
    cuts=st.lists(st.integers(min_value=0, max_value=80_000), max_size=3),
)
def test_feed_windows_of_a_large_chunk_change_nothing(body: bytes, shift: int, cuts: list[int]) -> None:
    """A network chunk larger than ``FEED_WINDOW`` is fed in windows; a window boundary is not a chunk boundary
    to the SDK, so it must change nothing: generated CR / LF / CRLF mixes placed across the first boundary."""
    from anthropic_eventstream._events.feed import FEED_WINDOW

    head = b"id: 1\ndata: " + b"x" * (FEED_WINDOW - 14 - shift) + b"\n"
    whole = head + body + b"\r\r\ndata: after\n\n"
    for chunks in ([whole], cut(whole, cuts)):
        expected = stock_events(chunks)
        for backend in ("python", *(["native"] if _backend._native is not None else [])):
            assert our_events(chunks, backend) == expected, backend


def test_a_crlf_at_a_window_boundary_is_one_line_end(backend: str, is_async: bool) -> None:
    """The issue's case: ``\\r\\r\\n`` straddling a 64 KiB window of one network chunk gives the SDK's two events,
    not three (an extra one with empty data and ``id`` 1)."""
    from anthropic_eventstream._events.feed import FEED_WINDOW

    body = b"id: 1\ndata: " + b"x" * (FEED_WINDOW - 14) + b"\r\r\ndata: after\n\n"
    assert body[FEED_WINDOW - 2 : FEED_WINDOW + 1] == b"\r\r\n"
    expected = stock_events([body])[0]
    assert len(expected) == 2
    if not is_async:
        assert our_events([body], backend) == (expected, None)
        return

    async def collect() -> list[dict[str, Any]]:
        async def chunks() -> Any:
            yield body

        return [vars(e) async for e in ae.SSEDecoder(backend).aiter_bytes(chunks())]

    assert asyncio.run(collect()) == expected


def test_pending_is_the_undispatched_last_event(backend: str) -> None:
    decoder = ae.SSEDecoder(backend).decoder()
    decoder.feed(b'event: a\ndata: 1\n\nevent: message_stop\ndata: {"type":\ndata: "message_stop"}\n')
    assert decoder.close() == []
    assert decoder.pending() == ("message_stop", '{"type":\n"message_stop"}')
    done = ae.SSEDecoder(backend).decoder()
    done.feed(b"data: 1\n\nid: 2\nretry: 5\n")
    done.close()
    assert done.pending() is None


def our_pairs(chunks: list[bytes], backend: str) -> tuple[list[Any], type[Exception] | None, list[Any]]:
    """The pairs a ``pairs=True`` decoder gives (what the package's stream loop reads), the error that ended them,
    and the pairs that error carries."""
    decoder = ae.SSEDecoder(backend).decoder(pairs=True)
    pairs: list[Any] = []
    try:
        for chunk in chunks:
            pairs += decoder.feed(chunk)
        pairs += decoder.close()
    except ae.InvalidSSE as exc:
        return pairs, type(exc), exc.messages
    return pairs, None, []


@property_settings(300)
@given(body=bodies, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6), bad=st.booleans())
def test_pairs_are_the_events_name_and_data_bytes(body: bytes, cuts: list[int], bad: bool) -> None:
    """With ``pairs``, each event the SDK's decoder gives is ``(event.event, event.data.encode())``: an empty name
    is ``None`` as the SDK's constructor makes it, and an invalid line raises after the same events."""
    if bad:
        body += b"data: \xff\n\n"
    chunks = cut(body, cuts)
    events, error = stock_events(chunks)
    expected = [(event["_event"], event["_data"].encode()) for event in events]
    for backend in ("python", *(["native"] if _backend._native is not None else [])):
        pairs, our_error, carried = our_pairs(chunks, backend)
        assert (pairs + carried, our_error) == (expected, ae.InvalidSSE if error else None), backend
        assert all(type(name) in (str, type(None)) and type(data) is bytes for name, data in pairs), backend


def test_pairs_keep_what_the_end_of_stream_checks_read(backend: str) -> None:
    decoder = ae.SSEDecoder(backend).decoder(pairs=True)
    assert decoder.feed(b"event:\ndata: 1\n\nevent: message_stop\ndata: {}\n") == [(None, b"1")]
    assert decoder.close() == []
    assert decoder.pending() == ("message_stop", "{}")
