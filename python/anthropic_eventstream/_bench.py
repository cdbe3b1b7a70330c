"""Side-by-side measurements, shared by ``python -m anthropic_eventstream bench`` and the pytest-benchmark
suites in ``benches/``: one workload, one definition of each contender, so both report the same thing.

The workload is docs/DESIGN.md's: a Bedrock-shaped stream of 20,000 text deltas (~245 bytes a frame), cut into
16 KiB network chunks. Every contender consumes the same bytes and returns how many events it produced,
which is checked, so that a broken contender cannot look fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from . import testing
from ._frames.api import EventStreamDecoder

#: The request every SDK contender makes (the mock transports answer whatever is asked).
REQUEST: dict[str, Any] = {
    "model": "claude-test-model",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}

DELTAS = 20_000
#: deltas in the realistic answer: a long one (a thinking block, a page of text and code, a file's edit)
REALISTIC_DELTAS = 2_000
CHUNK = 16 * 1024
WORDS = "the quick brown fox jumps over a lazy dog while streaming tokens from Claude on Bedrock".split()


def bedrock_body(deltas: int = DELTAS) -> bytes:
    """``deltas`` text-delta chunk frames between the usual start and stop events."""
    return testing.bedrock_stream(testing.message_events([WORDS[i % len(WORDS)] + " " for i in range(deltas)]))


#: Pieces of what Claude writes, as a model's tokens cut it: prose with accents, CJK and emoji (sent as UTF-8, not
#: ``\\u`` escapes), and code with quotes, backslashes, tabs and newlines.
PROSE = (
    "Here is ", "the plan", " — a naïve", " café", " résumé", " for ", "日本語の", "テキスト", " and ", "emoji 🚀",
    " ✨", " «quoted»", " text", ". ", "Straße", " über", " señor", ", ", "Ελληνικά", " 😀", "\n\n",
)  # fmt: skip
CODE = (
    "```python\n", "def greet", "(name: str)", " -> str:\n", "    return ", 'f"Hello, ', '{name}!\\n"\n',
    "path = ", "'C:\\\\Users", "\\\\me'\n", 'print("a\\tb")', "  # tab\n", "```\n",
)  # fmt: skip
THINKING = ("Let me ", "think about", " what the user", " asks: ", "a summary", " of the ", "document…", "\n\n")


def realistic_events(deltas: int = DELTAS) -> list[dict[str, Any]]:
    """One answer as Claude streams it, ``deltas`` deltas in all: a thinking block (``thinking_delta``s and its
    ``signature_delta``), a text block of prose and code with ``citations_delta``s among the text, then a
    ``tool_use`` block whose input arrives as ``input_json_delta``s, with a ``ping`` every 100 events."""
    thinking, tool = deltas * 15 // 100, deltas * 20 // 100
    text = deltas - thinking - tool - 1
    start, *_, stop = testing.message_events("x")
    citation = {
        "type": "char_location", "cited_text": "the café «guide» 🚀", "document_index": 0,
        "document_title": "Guide — 2026", "start_char_index": 0, "end_char_index": 18,
    }  # fmt: skip
    document = json.dumps(
        {"path": "src/naïve.py", "edits": [{"line": i, "text": PROSE[i % len(PROSE)]} for i in range(tool)]},
        ensure_ascii=False,
    )
    size = -(-len(document) // tool)
    events: list[dict[str, Any]] = [
        start,
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        *(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": THINKING[i % 8]},
            }
            for i in range(thinking)
        ),
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCkYI" * 40}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": "", "citations": None}},
    ]
    for i in range(text):
        if i % 40 == 39:
            delta: dict[str, Any] = {"type": "citations_delta", "citation": citation}
        else:
            piece = CODE[i % len(CODE)] if (i // 60) % 3 == 2 else PROSE[i % len(PROSE)]
            delta = {"type": "text_delta", "text": piece}
        events.append({"type": "content_block_delta", "index": 1, "delta": delta})
    block = {"type": "tool_use", "id": "toolu_01", "name": "edit_file", "input": {}}
    events += [
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2, "content_block": block},
        *(
            {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": part}}
            for part in (document[i : i + size] for i in range(0, len(document), size))
        ),
        {"type": "content_block_stop", "index": 2},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": deltas},
        },
        stop,
    ]
    with_pings = []
    for i, event in enumerate(events):
        if i % 100 == 99:
            with_pings.append({"type": "ping"})
        with_pings.append(event)
    return with_pings


def _json_text(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def realistic_bedrock_body(deltas: int = DELTAS) -> bytes:
    """``realistic_events`` as Bedrock sends them (JSON in UTF-8 inside each chunk's base64)."""
    return testing.bedrock_stream([_json_text(event) for event in realistic_events(deltas)])


def realistic_sse_body(deltas: int = DELTAS) -> bytes:
    """``realistic_events`` as the first-party API sends them (UTF-8 JSON, ``event:`` line first)."""
    return b"".join(
        f"event: {event['type']}\ndata: {_json_text(event)}\n\n".encode() for event in realistic_events(deltas)
    )


def use_every_model(deltas: int = 100) -> None:
    """What an app does before it opts in: streams, with stock clients of each kind (sync and async, Bedrock and
    first-party, ``create(stream=True)`` and ``messages.stream()``), an answer with every kind of block and
    delta in it, so that the SDK's models are complete (and validated) before this package builds anything."""
    bedrock, sse = realistic_bedrock_body(deltas), realistic_sse_body(deltas)
    for is_async in (False, True):
        clients = (
            testing.mock_bedrock_client(bedrock, is_async=is_async),
            testing.mock_anthropic_client(testing.split(sse, CHUNK), is_async=is_async),
        )
        for client in clients:
            _create_async(client) if is_async else _create(client)
    _helper(testing.mock_anthropic_client(testing.split(sse, CHUNK)))


def frame_count(body: bytes) -> int:
    count = pos = 0
    while pos < len(body):
        pos += struct.unpack_from("!I", body, pos)[0]
        count += 1
    return count


@dataclass
class Case:
    """One contender: ``run()`` consumes the workload and returns the number of events it produced."""

    group: str
    name: str
    run: Callable[[], int]
    events: int
    #: what the others in the group are compared with
    baseline: bool = False
    #: "speedup": reported as how many times faster than the baseline; "cost": as a multiple of its cost
    ratio: str = "speedup"
    #: a reference point that is not a contender (constructing the SDK's events and nothing else)
    floor: bool = False
    #: the ratio to reach: at least this speedup, or at most this cost
    target: float | None = None
    #: the global opt-in (``installed`` / ``botocore_installed``) in force while it runs: entered once per turn,
    #: not per run, as a process opts in once; what opting in builds on first use is then not timed every run
    opt_in: Callable[[], contextlib.AbstractContextManager[Any]] | None = None

    def ratio_to(self, cost: float, baseline: float) -> float:
        return cost / baseline if self.ratio == "cost" else baseline / cost

    def missed(self, cost: float, baseline: float | None) -> bool:
        if self.target is None or baseline is None:
            return False
        ratio = self.ratio_to(cost, baseline)
        return ratio > self.target if self.ratio == "cost" else ratio < self.target

    def describe(self, cost: float, baseline: float | None) -> str:
        """The ratio column for this case, with its target met or missed."""
        if self.baseline or baseline is None:
            return "baseline"
        if self.floor:
            return "the floor: building the SDK's events and nothing else"
        ratio = self.ratio_to(cost, baseline)
        text = f"{ratio:.2f}x the cost" if self.ratio == "cost" else f"{ratio:.1f}x faster"
        if self.target is None:
            return text
        sign = "<=" if self.ratio == "cost" else ">="
        verdict = "MISSED" if self.missed(cost, baseline) else "met"
        return f"{text}  (target {sign} {self.target:g}x: {verdict})"


def _consume(events: Iterator[Any]) -> int:
    n = 0
    for _ in events:
        n += 1
    return n


def sdk_decoder_cases(body: bytes, chunk: int = CHUNK, backends: tuple[str, ...] = ("native", "python")) -> list[Case]:
    """The SDK's decoder interface: stock ``AWSEventStreamDecoder`` vs ours, and the floor: a generator that
    only constructs the same ``ServerSentEvent`` objects from already-decoded ``(event, data)`` pairs."""
    from anthropic._streaming import ServerSentEvent
    from anthropic.lib.bedrock._stream_decoder import AWSEventStreamDecoder as Stock

    from ._anthropic.decoders import AWSEventStreamDecoder

    chunks = testing.split(body, chunk)
    pairs = [(e.event, e.data) for e in Stock().iter_bytes(iter(chunks))]

    def floor() -> Iterator[Any]:
        for event, data in pairs:
            yield ServerSentEvent(event=event, data=data)

    cases = [
        Case(
            "sdk-decoder",
            "stock anthropic AWSEventStreamDecoder",
            lambda: _consume(Stock().iter_bytes(iter(chunks))),
            len(pairs),
            baseline=True,
        ),
        Case(
            "sdk-decoder", "floor: constructing the ServerSentEvents", lambda: _consume(floor()), len(pairs), floor=True
        ),
    ]
    for backend in backends:
        decoder = AWSEventStreamDecoder(backend)
        target = 30.0 if backend == "native" else None
        cases.append(
            Case(
                "sdk-decoder",
                f"anthropic_eventstream ({backend})",
                partial(_iterate, decoder, chunks),
                len(pairs),
                target=target,
            )
        )
    return cases


def _iterate(decoder: Any, chunks: list[bytes]) -> int:
    return _consume(decoder.iter_bytes(iter(chunks)))


def framing_cases(
    body: bytes, chunk: int = CHUNK, backends: tuple[str, ...] = ("native", "python"), group: str = "framing"
) -> list[Case]:
    """Frames only: botocore's ``EventStreamBuffer`` vs ``EventStreamDecoder.feed``."""
    from botocore.eventstream import EventStreamBuffer

    chunks = testing.split(body, chunk)
    frames = frame_count(body)

    def botocore() -> int:
        buffer, n = EventStreamBuffer(), 0
        for piece in chunks:
            buffer.add_data(piece)
            for _ in buffer:
                n += 1
        return n

    def ours(backend: str) -> int:
        decoder, n = EventStreamDecoder(backend=backend), 0
        for piece in chunks:
            n += len(decoder.feed(piece))
        decoder.close()
        return n

    cases = [Case(group, "botocore EventStreamBuffer", botocore, frames, baseline=True)]
    cases += [
        Case(
            group,
            f"EventStreamDecoder.feed ({b})",
            partial(ours, b),
            frames,
            target=30.0 if b == "native" and group == "framing" else None,
        )
        for b in backends
    ]
    return cases


def _create(client: Any) -> int:
    return _consume(iter(client.messages.create(**REQUEST, stream=True)))


_LOOPS = threading.local()


def run_async(coroutine: Coroutine[Any, Any, int]) -> int:
    """``coroutine`` run to its end in this thread's one event loop, kept from run to run as a long-lived
    application keeps its loop: ``asyncio.run`` per stream would also time a new loop and the shutdown of its
    default executor, whose thread the SDK's async Bedrock client starts to sign each request (about 2 ms a
    stream here, which a real process pays once)."""
    loop = getattr(_LOOPS, "loop", None)
    if loop is None or loop.is_closed():
        loop = _LOOPS.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coroutine)


def _create_async(client: Any) -> int:
    async def go() -> int:
        n = 0
        async for _ in await client.messages.create(**REQUEST, stream=True):
            n += 1
        return n

    return run_async(go())


def _helper(client: Any) -> int:
    with client.messages.stream(**REQUEST) as stream:
        return _consume(iter(stream))


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """``install()`` in force (the ``messages.stream()`` helper's own work is patched by ``install()`` only, as
    it is shared by every client)."""
    from ._anthropic.install import install, uninstall

    install()
    try:
        yield
    finally:
        uninstall()


def end_to_end_cases(body: bytes, chunk: int = CHUNK, backends: tuple[str, ...] = ("native",)) -> list[Case]:
    """``AnthropicBedrock(...).messages.create(stream=True)`` iterated to the end on a mock transport, stock
    and accelerated, sync and async."""
    from ._anthropic.install import accelerate

    events = frame_count(body)
    stock_sync = testing.mock_bedrock_client(body, chunk_size=chunk)
    stock_async = testing.mock_bedrock_client(body, chunk_size=chunk, is_async=True)
    cases = [
        Case("end-to-end sync", "stock AnthropicBedrock", partial(_create, stock_sync), events, baseline=True),
        Case(
            "end-to-end async",
            "stock AsyncAnthropicBedrock",
            partial(_create_async, stock_async),
            events,
            baseline=True,
        ),
    ]
    for backend in backends:
        fast_sync = accelerate(testing.mock_bedrock_client(body, chunk_size=chunk), backend=backend)
        fast_async = accelerate(testing.mock_bedrock_client(body, chunk_size=chunk, is_async=True), backend=backend)
        cases.append(
            Case("end-to-end sync", f"accelerated ({backend})", partial(_create, fast_sync), events, target=10)
        )
        cases.append(
            Case("end-to-end async", f"accelerated ({backend})", partial(_create_async, fast_async), events, target=10)
        )
    return cases


def first_party_body(deltas: int = DELTAS) -> bytes:
    """The same answer as ``bedrock_body``, as the first-party API streams it (server-sent events)."""
    return testing.anthropic_sse(testing.message_events([WORDS[i % len(WORDS)] + " " for i in range(deltas)]))


def first_party_cases(body: bytes, chunk: int = CHUNK) -> list[Case]:
    """First-party ``Anthropic(...).messages.create(stream=True)`` (SSE) iterated to the end, stock and
    accelerated, sync and async."""
    from ._anthropic.install import accelerate

    chunks = testing.split(body, chunk)
    events = body.count(b"\n\n")
    cases = []
    for mode, run in (("sync", _create), ("async", _create_async)):
        is_async = mode == "async"
        stock = testing.mock_anthropic_client(chunks, is_async=is_async)
        fast = accelerate(testing.mock_anthropic_client(chunks, is_async=is_async))
        group = f"first-party {mode}"
        cases.append(Case(group, "stock Anthropic", partial(run, stock), events, baseline=True))
        cases.append(Case(group, "accelerated", partial(run, fast), events, target=5))
    return cases


def helper_cases(body: bytes, chunk: int = CHUNK) -> list[Case]:
    """The ``messages.stream()`` helper (snapshot accumulation, helper events) on a first-party stream, stock
    and under ``install()``; an event is each one the helper yields."""
    client = testing.mock_anthropic_client(testing.split(body, chunk))
    events = _helper(client)
    return [
        Case("messages.stream()", "stock Anthropic", partial(_helper, client), events, baseline=True),
        Case("messages.stream()", "install()", partial(_helper, client), events, target=3, opt_in=installed),
    ]


def tool_input_body(deltas: int) -> bytes:
    """A first-party answer whose one block is a ``tool_use`` whose input (a file's path and a list of edits,
    one per two deltas) arrives cut into ``deltas`` ``input_json_delta`` events of equal length, as a model's
    tokens cut it: through keys, strings and numbers alike."""
    edits = [{"line": i, "text": " ".join(WORDS[i % 7 : i % 7 + 3])} for i in range(deltas // 2)]
    document = json.dumps({"path": "notes.md", "edits": edits})
    size = -(-len(document) // deltas)
    parts = [document[i : i + size] for i in range(0, len(document), size)]
    start, *_, stop = testing.message_events("x")
    block = {"type": "tool_use", "id": "toolu_01", "name": "write_file", "input": {}}
    return testing.anthropic_sse(
        [
            start,
            {"type": "content_block_start", "index": 0, "content_block": block},
            *(
                {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": p}}
                for p in parts
            ),
            {"type": "content_block_stop", "index": 0},
            {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None}, "usage": {}},
            stop,
        ]
    )


def tool_input_cases(sizes: tuple[int, int] = (1000, 8000)) -> list[Case]:
    """Per-event cost of ``messages.stream()`` with a tool input of ``sizes[0]`` and ``sizes[1]`` deltas, each
    against itself at ``sizes[0]``: under ``install()`` it must stay flat; the stock helper re-parses the
    whole input at every delta."""
    cases = []
    for label, opt_in in (("install()", installed), ("stock", None)):
        group = f"tool input: {label}"
        for size in sizes:
            client = testing.mock_anthropic_client(testing.split(tool_input_body(size), CHUNK))
            events = _helper(client)
            target = 1.2 if opt_in is not None and size != sizes[0] else None
            run = partial(_helper, client)
            baseline = size == sizes[0]
            cases.append(Case(group, f"{size:,} deltas", run, events, baseline, "cost", target=target, opt_in=opt_in))
    return cases


def _floor_run(validator: Any, texts: list[str]) -> int:
    validate = validator.validate_json
    for text in texts:
        validate(text)
    return len(texts)


def _native_floor_run(builder: Any, payloads: list[bytes]) -> int:
    build = builder.model
    for payload in payloads:
        build(payload)
    return len(payloads)


#: The groups of ``realistic_cases``, in order.
REALISTIC_GROUPS = (
    "realistic Bedrock sync",
    "realistic Bedrock async",
    "realistic first-party sync",
    "realistic first-party async",
    "realistic messages.stream()",
    "realistic, vs the floor",
    "realistic, vs the native floor",
)


def realistic_cases(deltas: int = REALISTIC_DELTAS, groups: Sequence[str] = REALISTIC_GROUPS) -> list[Case]:
    """``realistic_events`` through every kind of stream, stock and opted in: Bedrock and first-party
    ``create(stream=True)`` sync and async, the ``messages.stream()`` helper; and the floor, building the
    SDK's own objects alone (``validate_json`` of the tagged validator, event by event), against which the
    opted-in streams' whole per-event cost is put. Only ``groups`` are built (each runs its stock stream once
    to count its events)."""
    from anthropic.types import RawMessageStreamEvent

    from ._anthropic.builders import native_builder
    from ._anthropic.install import accelerate
    from ._anthropic.models import event_validator

    bedrock, sse = realistic_bedrock_body(deltas), testing.split(realistic_sse_body(deltas), CHUNK)
    cases = []
    for mode, run in (("sync", _create), ("async", _create_async)):
        is_async, group = mode == "async", f"realistic Bedrock {mode}"
        if group in groups:
            stock = testing.mock_bedrock_client(bedrock, chunk_size=CHUNK, is_async=is_async)
            fast = accelerate(testing.mock_bedrock_client(bedrock, chunk_size=CHUNK, is_async=is_async))
            events = run(stock)
            cases.append(Case(group, "stock AnthropicBedrock", partial(run, stock), events, baseline=True))
            cases.append(Case(group, "accelerated", partial(run, fast), events, target=18 if mode == "sync" else 15))
    for mode, run in (("sync", _create), ("async", _create_async)):
        is_async, group = mode == "async", f"realistic first-party {mode}"
        if group in groups:
            stock = testing.mock_anthropic_client(sse, is_async=is_async)
            fast = accelerate(testing.mock_anthropic_client(sse, is_async=is_async))
            events = run(stock)
            cases.append(Case(group, "stock Anthropic", partial(run, stock), events, baseline=True))
            cases.append(Case(group, "accelerated", partial(run, fast), events, target=12 if mode == "sync" else 10))
    group = "realistic messages.stream()"
    if group in groups:
        client = testing.mock_anthropic_client(sse)
        events = _helper(client)
        cases.append(Case(group, "stock Anthropic", partial(_helper, client), events, baseline=True))
        helper = partial(_helper, client)
        cases.append(Case(group, "install()", helper, events, target=8, opt_in=installed))
    group = "realistic, vs the floor"
    if group in groups:
        validator = event_validator(RawMessageStreamEvent)
        texts = [_json_text(event) for event in realistic_events(deltas) if event["type"] != "ping"]
        cases.append(Case(group, "floor: validate_json alone", partial(_floor_run, validator, texts), len(texts), True))
        for name, run, client in (
            ("first-party sync, accelerated", _create, testing.mock_anthropic_client(sse)),
            ("Bedrock sync, accelerated", _create, testing.mock_bedrock_client(bedrock, chunk_size=CHUNK)),
        ):
            fast = accelerate(client)
            cases.append(Case(group, name, partial(run, fast), len(texts), ratio="cost", target=1.6))
    group = "realistic, vs the native floor"
    builder = native_builder(RawMessageStreamEvent)
    if group in groups and builder is not None:
        payloads = [_json_text(event).encode() for event in realistic_events(deltas) if event["type"] != "ping"]
        floor = partial(_native_floor_run, builder, payloads)
        cases.append(Case(group, "floor: the native builder alone", floor, len(payloads), True))
        for name, run, client in (
            ("first-party sync, accelerated", _create, testing.mock_anthropic_client(sse)),
            ("Bedrock sync, accelerated", _create, testing.mock_bedrock_client(bedrock, chunk_size=CHUNK)),
        ):
            cases.append(Case(group, name, partial(run, accelerate(client)), len(payloads), ratio="cost"))
    return cases


def chunking_cases(body: bytes, sizes: tuple[int, ...] = (5 * 1024 * 1024, 16 * 1024, 1024)) -> list[Case]:
    """Per-event cost against chunk size, each decoder against itself at 16 KiB: ours must stay flat;
    botocore re-slices its whole buffer per message and degrades with the bytes buffered."""
    from ._anthropic.decoders import AWSEventStreamDecoder

    frames = frame_count(body)
    decoder = AWSEventStreamDecoder("native")
    ours, theirs = [], []
    for size in sizes:
        label = f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"
        chunks = testing.split(body, size)
        base = size == 16 * 1024
        ours.append(
            Case(
                "chunking: anthropic_eventstream",
                f"{label} chunks",
                partial(_iterate, decoder, chunks),
                frames,
                base,
                "cost",
                target=1.2 if size > 1024 * 1024 else None,
            )
        )
        (boto,) = [c for c in framing_cases(body, size, backends=()) if c.baseline]
        theirs.append(Case("chunking: botocore EventStreamBuffer", f"{label} chunks", boto.run, frames, base, "cost"))
    return ours + theirs


def measure(cases: Sequence[Case], *, passes: int = 3, slice_time: float = 0.2) -> list[float]:
    """Each case's best seconds per event, measured side by side: ``passes`` passes over the group, in each of
    which every case runs in turn (once, and again until ``slice_time`` is spent). A shared machine's load
    comes in spells of seconds; taking turns lets every contender sample the same spells, so that a ratio is
    not decided by which case happened to run during a quiet one."""
    best = [float("inf")] * len(cases)
    for _ in range(passes):
        for index, case in enumerate(cases):
            spent = 0.0
            with case.opt_in() if case.opt_in is not None else contextlib.nullcontext():
                while spent == 0.0 or spent < slice_time:
                    start = time.perf_counter()
                    produced = case.run()
                    elapsed = time.perf_counter() - start
                    if produced != case.events:
                        raise AssertionError(f"{case.name} produced {produced} events, expected {case.events}")
                    best[index] = min(best[index], elapsed)
                    spent += elapsed
    return [seconds / case.events for seconds, case in zip(best, cases, strict=True)]


def realistic_converse_body(deltas: int = DELTAS) -> bytes:
    """``realistic_events`` as bedrock-runtime's ``converse_stream`` sends them: text, reasoning text and its
    signature, tool use starts and input, stops and the closing metadata (UTF-8 JSON, padded as Bedrock pads)."""
    from ._frames.api import encode_message

    def event(name: str, payload: dict[str, Any]) -> bytes:
        headers = {":event-type": name, ":content-type": "application/json", ":message-type": "event"}
        return encode_message(headers, _json_text({**payload, "p": "abcdefghij"}).encode())

    frames = [event("messageStart", {"role": "assistant"})]
    for item in realistic_events(deltas):
        index = item.get("index", 0)
        if item["type"] == "content_block_start" and item["content_block"]["type"] == "tool_use":
            block = item["content_block"]
            start = {"toolUse": {"toolUseId": block["id"], "name": block["name"]}}
            frames.append(event("contentBlockStart", {"start": start, "contentBlockIndex": index}))
        elif item["type"] == "content_block_delta":
            delta = item["delta"]
            kind = delta["type"]
            found: dict[str, Any] | None = None
            if kind == "text_delta":
                found = {"text": delta["text"]}
            elif kind == "thinking_delta":
                found = {"reasoningContent": {"text": delta["thinking"]}}
            elif kind == "signature_delta":
                found = {"reasoningContent": {"signature": delta["signature"]}}
            elif kind == "input_json_delta":
                found = {"toolUse": {"input": delta["partial_json"]}}
            if found is not None:
                frames.append(event("contentBlockDelta", {"delta": found, "contentBlockIndex": index}))
        elif item["type"] == "content_block_stop":
            frames.append(event("contentBlockStop", {"contentBlockIndex": index}))
    frames.append(event("messageStop", {"stopReason": "tool_use"}))
    usage = {"inputTokens": 1200, "outputTokens": deltas, "totalTokens": deltas + 1200}
    frames.append(event("metadata", {"usage": usage, "metrics": {"latencyMs": 8120}}))
    return b"".join(frames)


def converse_body(deltas: int = DELTAS) -> bytes:
    """A ``converse_stream`` body of ``deltas`` text deltas, as bedrock-runtime sends it."""
    from ._frames.api import encode_message

    def event(name: str, payload: str) -> bytes:
        headers = {":event-type": name, ":content-type": "application/json", ":message-type": "event"}
        return encode_message(headers, payload.encode())

    frames = [event("messageStart", '{"role":"assistant","p":"abcdefgh"}')]
    for i in range(deltas):
        text = WORDS[i % len(WORDS)] + " "
        frames.append(
            event("contentBlockDelta", f'{{"contentBlockIndex":0,"delta":{{"text":"{text}"}},"p":"abcdefghijk"}}')
        )
    frames.append(event("contentBlockStop", '{"contentBlockIndex":0}'))
    frames.append(event("messageStop", '{"stopReason":"end_turn"}'))
    frames.append(
        event(
            "metadata",
            json.dumps(
                {
                    "usage": {"inputTokens": 12, "outputTokens": deltas, "totalTokens": deltas + 12},
                    "metrics": {"latencyMs": 812},
                }
            ),
        )
    )
    return b"".join(frames)


BOTO_TARGETS = {"InvokeModelWithResponseStream": 3.0, "ConverseStream": 2.5}
BOTO_MEMBERS = {"InvokeModelWithResponseStream": "body", "ConverseStream": "stream"}


def _bedrock_runtime_shape(operation: str) -> Any:
    from botocore.loaders import Loader
    from botocore.model import ServiceModel

    model = ServiceModel(Loader().load_service_model("bedrock-runtime", "service-2"), "bedrock-runtime")
    return model.operation_model(operation).output_shape.members[BOTO_MEMBERS[operation]]


def botocore_cases(
    body: bytes,
    operation: str = "InvokeModelWithResponseStream",
    chunk: int = CHUNK,
    *,
    target: float | None = None,
    label: str = "",
) -> list[Case]:
    """boto3's path: iterating a bedrock-runtime ``EventStream`` (``invoke_model_with_response_stream`` or
    ``converse_stream``; botocore's parser included), stock vs ``install_botocore()`` (``target``: the ratio
    to reach, by default ``BOTO_TARGETS``'; ``label`` tells a workload's group from another's)."""
    from botocore.eventstream import EventStream
    from botocore.parsers import create_parser

    shape = _bedrock_runtime_shape(operation)
    parser = create_parser("rest-json")._event_stream_parser
    chunks = testing.split(body, chunk)
    events = frame_count(body)

    class Raw:
        def stream(self) -> Iterator[bytes]:
            return iter(chunks)

    def iterate() -> int:
        return _consume(iter(EventStream(Raw(), shape, parser, operation)))

    group = f"botocore {operation}{label}"
    goal = BOTO_TARGETS[operation] if target is None else target
    return [
        Case(group, "stock botocore", iterate, events, baseline=True),
        Case(group, "install_botocore()", iterate, events, target=goal, opt_in=botocore_installed),
    ]


@contextlib.contextmanager
def botocore_installed() -> Iterator[None]:
    """``install_botocore()`` in force."""
    from ._botocore.install import install_botocore, uninstall_botocore

    install_botocore()
    try:
        yield
    finally:
        uninstall_botocore()


def aiobotocore_cases(body: bytes, chunk: int = CHUNK, *, target: float = 1.5, label: str = "") -> list[Case]:
    """aiobotocore's path: iterating an ``AioEventStream`` (``invoke_model_with_response_stream``), stock vs
    ``install_botocore()``; none where aiobotocore is not installed."""
    try:
        from aiobotocore.eventstream import AioEventStream
        from aiobotocore.parsers import create_parser
    except ImportError:
        return []

    shape = _bedrock_runtime_shape("InvokeModelWithResponseStream")
    parser = create_parser("rest-json")._event_stream_parser
    chunks = testing.split(body, chunk)
    events = frame_count(body)

    class Raw:
        def __init__(self) -> None:
            self.content = self

        async def iter_chunks(self) -> Any:
            for piece in chunks:
                yield piece, False

    def iterate() -> int:
        async def go() -> int:
            n = 0
            async for _ in AioEventStream(Raw(), shape, parser, "InvokeModelWithResponseStream"):
                n += 1
            return n

        return run_async(go())

    group = f"aiobotocore AioEventStream{label}"
    return [
        Case(group, "stock aiobotocore", iterate, events, baseline=True),
        Case(group, "install_botocore()", iterate, events, target=target, opt_in=botocore_installed),
    ]
