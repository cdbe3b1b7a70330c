"""``python -m anthropic_eventstream`` (also installed as ``anthropic-eventstream``).

decode FILE|-   one JSON object per message: offset, headers, payload (text, or base64 when it is not
                UTF-8) and, for a Bedrock chunk, the Anthropic event it carries. A broken stream prints
                what decoded, then the typed error with its byte offset, and exits 1.
bench           the side-by-side comparison against botocore and the stock SDK decoder, as a table.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO, TextIO

from . import BACKEND, EventStreamDecoder, EventStreamError, __version__

READ_SIZE = 64 * 1024


def _header_value(value: Any) -> Any:
    return {"base64": base64.b64encode(value).decode()} if isinstance(value, bytes) else value


def _message_json(message: Any, offset: int) -> dict[str, Any]:
    payload = bytes(message.payload)
    out: dict[str, Any] = {
        "offset": offset,
        "headers": {k: _header_value(v) for k, v in message.headers.items()},
    }
    try:
        out["payload"] = payload.decode("utf-8")
    except UnicodeDecodeError:
        out["payload_base64"] = base64.b64encode(payload).decode()
    if message.message_type == "event" and message.event_type == "chunk":
        try:
            out["event"] = json.loads(base64.b64decode(json.loads(payload)["bytes"], validate=True))
        except (ValueError, KeyError, TypeError):
            pass  # not a well-formed Bedrock chunk: the payload above shows what it is
    return out


def _read(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(READ_SIZE):
        yield chunk


def decode(stream: BinaryIO, out: TextIO, *, backend: str | None = None) -> int:
    decoder = EventStreamDecoder(backend=backend)
    offset = 0

    def emit(messages: Sequence[Any]) -> None:
        nonlocal offset
        for message in messages:
            out.write(json.dumps(_message_json(message, offset), ensure_ascii=False) + "\n")
            offset += message.total_length

    try:
        for chunk in _read(stream):
            emit(decoder.feed(chunk))
        decoder.close()
    except EventStreamError as exc:
        emit(exc.messages)
        out.flush()
        print(f"error at byte {exc.offset}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def bench(*, deltas: int, out: TextIO, passes: int = 3, slice_time: float = 0.2, history: bool = False) -> int:
    missing = [name for name in ("anthropic", "botocore") if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"bench compares against the stock SDK and botocore: install them first (no {', '.join(missing)})",
            file=sys.stderr,
        )
        return 2
    from . import _bench

    if history:  # before anything of this package builds its fast paths
        _bench.use_every_model()
    body = _bench.bedrock_body(deltas)
    realistic: dict[str, list[_bench.Case]] = {}
    realistic_deltas = min(deltas, _bench.REALISTIC_DELTAS)
    realistic_bedrock = _bench.realistic_bedrock_body(realistic_deltas)
    for case in _bench.realistic_cases(realistic_deltas):
        realistic.setdefault(case.group.split(" sync")[0].split(" async")[0], []).append(case)
    groups = [
        ("SDK decoder interface (target: >= 30x stock, <= 1.5x the floor)", _bench.sdk_decoder_cases(body)),
        ("Framing only (target: >= 30x botocore)", _bench.framing_cases(body)),
        ("Bedrock messages.create(stream=True), whole stream (target: >= 10x)", _bench.end_to_end_cases(body)),
        (
            "First-party messages.create(stream=True), whole stream (target: >= 5x)",
            _bench.first_party_cases(_bench.first_party_body(deltas)),
        ),
        ("messages.stream() helper (target: >= 3x)", _bench.helper_cases(_bench.first_party_body(deltas))),
        ("messages.stream() tool input (target: 8,000 deltas within 1.2x of 1,000)", _bench.tool_input_cases()),
        ("Chunk size (target: 5 MB within 1.2x of 16 KB)", _bench.chunking_cases(body)),
        ("boto3: invoke_model_with_response_stream (target: >= 3x)", _bench.botocore_cases(body)),
        (
            "boto3: converse_stream (target: >= 2.5x)",
            _bench.botocore_cases(_bench.converse_body(deltas), "ConverseStream"),
        ),
        ("aiobotocore: invoke_model_with_response_stream (target: >= 1.5x)", _bench.aiobotocore_cases(body)),
        (
            "Realistic answer: Bedrock create(stream=True) (target: >= 18x sync, 15x async)",
            realistic["realistic Bedrock"],
        ),
        (
            "Realistic answer: first-party create(stream=True) (target: >= 12x sync, 10x async)",
            realistic["realistic first-party"],
        ),
        ("Realistic answer: messages.stream() (target: >= 8x)", realistic["realistic messages.stream()"]),
        (
            "Realistic answer: boto3 invoke_model_with_response_stream (target: >= 20x)",
            _bench.botocore_cases(realistic_bedrock, target=20, label=", realistic"),
        ),
        (
            "Realistic answer: boto3 converse_stream (target: >= 15x)",
            _bench.botocore_cases(
                _bench.realistic_converse_body(realistic_deltas), "ConverseStream", target=15, label=", realistic"
            ),
        ),
        (
            "Realistic answer: aiobotocore invoke_model_with_response_stream (target: >= 12x)",
            _bench.aiobotocore_cases(realistic_bedrock, target=12, label=", realistic"),
        ),
        ("Realistic answer: opted in vs the floor (target: <= 1.6x)", realistic["realistic, vs the floor"]),
        (
            "Realistic answer: opted in vs the native floor (each event's objects built from its JSON, alone)",
            realistic.get("realistic, vs the native floor", []),
        ),
    ]
    groups = [(title, cases) for title, cases in groups if cases]  # the native floor needs the native backend
    total = sum(len(cases) for _, cases in groups)
    out.write(
        f"anthropic-eventstream {__version__} ({BACKEND} backend): {_bench.frame_count(body):,} events, "
        f"{len(body) / _bench.frame_count(body):.0f} bytes a frame, 16 KiB chunks unless said; the realistic answer: "
        "thinking, prose with non-ASCII and emoji, code, citations, tool input, pings; "
        + ("after stock clients streamed every kind of content (--history)" if history else "a fresh process")
        + "\n"
    )
    done, started, show = 0, time.perf_counter(), sys.stderr.isatty()
    results = []
    groups = [(title, cases) for title, cases in groups if cases]  # aiobotocore's only where it is installed
    for title, cases in groups:
        done += len(cases)
        name = title.split(" (")[0]
        if show:
            print(f"\r  measuring {done}/{total}: {name[:50]:<50}", end="", file=sys.stderr, flush=True)
        else:
            print(f"  measuring {done}/{total}: {name}", file=sys.stderr, flush=True)
        results.append(
            (title, list(zip(cases, _bench.measure(cases, passes=passes, slice_time=slice_time), strict=True)))
        )
    if show:
        print(f"\r{' ' * 80}\r", end="", file=sys.stderr)
    missed = []
    for title, rows in results:
        out.write(f"\n{title}\n")
        baselines = {case.group: cost for case, cost in rows if case.baseline}
        for case, cost in rows:
            name = case.name if len({c.group for c, _ in rows}) == 1 else f"{case.group.split(': ')[-1]}: {case.name}"
            baseline = baselines.get(case.group)
            out.write(f"  {name:60} {cost * 1e6:10.2f} us/event   {case.describe(cost, baseline)}\n")
            if case.missed(cost, baseline):
                missed.append(f"{title.split(' (')[0]}: {case.name}")
    elapsed = time.perf_counter() - started
    out.write(f"\n(measured in {elapsed:.0f} s; best of several runs each, a group's cases taking turns)\n")
    if missed:
        out.write(f"{len(missed)} target(s) MISSED on this run: " + "; ".join(missed) + "\n")
    else:
        out.write("every target met on this run\n")
    return 0


DESCRIPTION = """\
Decode AWS event streams (the binary body of Claude's answers on Amazon Bedrock, and of other AWS streaming
APIs), and measure this package against botocore and the stock anthropic SDK decoder."""

EPILOG = """\
examples:
  anthropic-eventstream decode capture.bin      one JSON object per message; exit 1 on a broken stream
  anthropic-eventstream decode - < capture.bin  the same, from standard input
  anthropic-eventstream bench                   per-event cost side by side, with each target met or missed"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="anthropic-eventstream",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__} ({BACKEND} backend)")
    commands = parser.add_subparsers(dest="command", required=True)
    p_decode = commands.add_parser("decode", help="print each message of an event stream as JSON")
    p_decode.add_argument("file", help="a captured event stream, or - for standard input")
    p_decode.add_argument("--backend", choices=["native", "python"], help="force a backend")
    p_bench = commands.add_parser("bench", help="compare against botocore and the stock SDK decoder")
    p_bench.add_argument("--deltas", type=int, default=20_000, help="text deltas in the workload (default 20000)")
    p_bench.add_argument("--passes", type=int, default=3, help="passes over each group, best counts (default 3)")
    p_bench.add_argument(
        "--slice", type=float, default=0.2, dest="slice_time", help="seconds each case runs per pass (default 0.2)"
    )
    p_bench.add_argument(
        "--history",
        action="store_true",
        help="first stream every kind of content with stock clients, as an app does before it opts in",
    )
    args = parser.parse_args(argv)
    if args.command == "decode":
        if args.file == "-":
            return decode(sys.stdin.buffer, sys.stdout, backend=args.backend)
        try:
            with open(args.file, "rb") as stream:
                return decode(stream, sys.stdout, backend=args.backend)
        except OSError as exc:
            print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return 2
    return bench(
        deltas=args.deltas, out=sys.stdout, passes=args.passes, slice_time=args.slice_time, history=args.history
    )


if __name__ == "__main__":
    sys.exit(main())
