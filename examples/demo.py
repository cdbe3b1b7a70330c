"""The main job (`make demo`): stream a Bedrock capture through the anthropic SDK with the stock decoder and
with anthropic-eventstream, show the events, what each does with a mid-stream error, a cut-off stream, a
dropped connection and a stalled stream (the last two over a real socket), and how fast each decodes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import anthropic

import anthropic_eventstream
from anthropic_eventstream import _bench, testing

CAPTURE = Path(__file__).with_name("bedrock_capture.eventstream").read_bytes()
REQUEST = {
    "model": "anthropic.claude-sonnet-4-5",
    "max_tokens": 512,
    "messages": [{"role": "user", "content": "What is an AWS event stream?"}],
}


def stream(body: bytes, *, show: bool = False) -> str:
    """Streams ``body`` through a real AnthropicBedrock client; returns what happened."""
    client = testing.mock_bedrock_client(body, chunk_size=1000)
    kinds: dict[str, int] = {}
    text = []
    try:
        for event in client.messages.create(**REQUEST, stream=True):
            kinds[event.type] = kinds.get(event.type, 0) + 1
            if event.type == "content_block_delta":
                text.append(event.delta.text)
    except anthropic.APIStatusError as exc:
        return f"{type(exc).__name__}: status_code={exc.status_code}, request_id={exc.request_id}, after {sum(kinds.values())} events"
    except anthropic.APIConnectionError as exc:
        return f"{type(exc).__name__}: {exc} (cause: {type(exc.__cause__).__name__})"
    if show:
        print("   events:", ", ".join(f"{k} x{v}" for k, v in kinds.items()))
        print("   text:  ", "".join(text)[:110] + "...")
    return f"ended normally after {sum(kinds.values())} events"


def scenarios() -> dict[str, bytes]:
    first_frames = CAPTURE[: len(CAPTURE) // 2]
    cut = 0
    decoder = anthropic_eventstream.EventStreamDecoder()
    for message in decoder.feed(first_frames):
        cut += message.total_length
    throttled = CAPTURE[:cut] + testing.exception_frame(
        "throttlingException", "Too many requests, please wait before trying again."
    )
    return {
        "a mid-stream throttlingException": throttled,
        "a stream cut off mid-frame": CAPTURE[: cut + 100],
    }


def network_scenarios() -> dict[str, list[testing.Reply]]:
    events = testing.message_events("An answer that the network cuts off half way through.")
    frames = [testing.chunk_frame(event) for event in events[:4]]
    kind = "application/vnd.amazon.eventstream"
    return {
        "a connection dropped mid-stream": [testing.Reply(tuple(frames), end="drop", content_type=kind)],
        "a stream that stalls (pings only, for 4 s)": [
            testing.Reply((*frames, testing.Pings(4.0, 0.25, testing.BEDROCK_PING)), content_type=kind)
        ],
    }


def over_a_socket(replies: list[testing.Reply]) -> str:
    """Streams from a loopback server through a real AnthropicBedrock client and its own HTTP transport."""
    with testing.LoopbackServer(replies) as server:
        client = anthropic.AnthropicBedrock(
            aws_access_key="demo", aws_secret_key="demo", aws_region="us-east-1", base_url=server.url, max_retries=0
        )
        started, count = time.monotonic(), 0
        try:
            for _ in client.messages.create(**REQUEST, stream=True):
                count += 1
        except Exception as exc:
            cause = f" (cause: {type(exc.__cause__).__name__})" if exc.__cause__ is not None else ""
            return f"{type(exc).__module__}.{type(exc).__name__}{cause} after {count} events, {time.monotonic() - started:.1f} s"
        return f"ended normally after {count} events, {time.monotonic() - started:.1f} s"


def main() -> int:
    print(
        f"anthropic {anthropic.__version__}, anthropic-eventstream {anthropic_eventstream.__version__} ({anthropic_eventstream.BACKEND} backend)"
    )
    print(f"capture: {len(CAPTURE):,} bytes, {_bench.frame_count(CAPTURE)} frames\n")

    print("1. The capture, stock SDK decoder:")
    print("  ", stream(CAPTURE, show=True))
    anthropic_eventstream.install()
    print("   ...and with anthropic_eventstream.install():")
    print("  ", stream(CAPTURE, show=True))
    anthropic_eventstream.uninstall()

    for number, (title, body) in enumerate(scenarios().items(), start=2):
        print(f"\n{number}. {title}:")
        print("   stock:    ", stream(body))
        anthropic_eventstream.install()
        print("   installed:", stream(body))
        anthropic_eventstream.uninstall()

    for number, (title, replies) in enumerate(network_scenarios().items(), start=4):
        print(f"\n{number}. {title} (a real server on 127.0.0.1):")
        stock = over_a_socket(replies)
        print("   stock:    ", stock)
        anthropic_eventstream.install(stall_timeout=1.0)
        installed = over_a_socket(replies)
        print("   installed:", installed, "  [install(stall_timeout=1.0)]")
        anthropic_eventstream.uninstall()
        if installed.split(" after ")[0] == stock.split(" after ")[0]:
            print("   (anthropic 2.17 and later raise this one as their own exception already; installed, it still")
            print("    reaches you as exactly that exception, message and cause)")

    print("\n6. Decoding speed (SDK decoder interface, 20,000 text deltas in 16 KiB chunks):")
    body = _bench.bedrock_body()
    cases = _bench.sdk_decoder_cases(
        body, backends=("native",) if anthropic_eventstream.BACKEND == "native" else ("python",)
    )
    if sys.stderr.isatty():
        print("   measuring...", end="\r", file=sys.stderr, flush=True)
    rows = list(zip(cases, _bench.measure(cases, passes=2), strict=True))
    if sys.stderr.isatty():
        print(" " * 70, end="\r", file=sys.stderr, flush=True)
    base = next(cost for case, cost in rows if case.baseline)
    for case, cost in rows:
        ratio = "" if case.baseline else f"  {base / cost:5.1f}x faster than stock"
        if case.name.startswith("floor"):
            ratio = "  (no decoder can beat this)"
        print(f"   {case.name:45} {cost * 1e6:8.2f} us/event{ratio}")
    print("\nMore: python -m anthropic_eventstream bench   (all comparisons)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
