"""The stall watchdog under load: many concurrent async streams on one event loop pinned to one core, against a
loopback server in a process of its own (on the other core), with and without ``stall_timeout``.

    python benches/stall_load.py [--streams 1000] [--stalls 50] [--stall-timeout 2] [--kind first-party|bedrock]

Most streams are healthy: a realistic answer whose events come every ``--interval`` seconds, half of them closing
their connection ``--late-close`` seconds after ``message_stop`` (as proxies do). ``--stalls`` of them stall after
a few events, half with pings only and half with silence, until the server gives up (``STALL_SECONDS``). With so
many streams (and ``--work`` seconds of the consumer's own CPU per event) the loop runs late: its lag is
measured by a ticker task and reported.

Each configuration runs in a fresh process (``--one``), so that one's CPU is not another's:

- ``installed`` and ``watchdog``: the healthy streams alone, under ``install()`` without and with
  ``stall_timeout``: the watchdog's CPU cost, as the ratio of the client process's CPU seconds;
- ``stalls``: healthy and stalling streams together, with ``stall_timeout``: the healthy streams it failed (must
  be 0), the stalls it missed (must be 0), and how long after the limit it caught them.

Exit status 1 if a healthy stream failed or a stall was missed. Bounded: every stream ends by the server's end,
and the whole run by ``--deadline`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

STALL_SECONDS = 30.0
RUNS = ("installed", "watchdog", "stalls")
HEAD = 6  # events a stalling stream sends before it stalls

# The server: asyncio, one task per connection, the case in the request's ``x-load-case`` header.


def _answer(kind: str, deltas: int) -> list[bytes]:
    from anthropic_eventstream import testing

    words = ("Stall-free streaming, über alles 🚀: " * deltas).split(" ")[:deltas]
    events = testing.message_events([w + " " for w in words])
    if kind == "bedrock":
        return [testing.chunk_frame(e) for e in events]
    return [testing.anthropic_sse([e]) for e in events]


def _ping(kind: str) -> bytes:
    from anthropic_eventstream import testing

    return testing.BEDROCK_PING if kind == "bedrock" else testing.SSE_PING


async def _serve(kind: str, deltas: int, interval: float, late_close: float, ready: Any) -> None:
    answer, ping = _answer(kind, deltas), _ping(kind)
    content_type = "application/vnd.amazon.eventstream" if kind == "bedrock" else "text/event-stream"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line)
            lowered = {k.lower(): v for k, v in headers.items()}
            length = int(lowered.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
            case = lowered.get("x-load-case", "healthy")
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type.encode() + b"\r\nTransfer-Encoding: chunked\r\n"
                b"request-id: req_load\r\nx-amzn-requestid: req_load\r\nConnection: close\r\n\r\n"
            )

            def chunk(data: bytes) -> None:
                writer.write(b"%x\r\n%s\r\n" % (len(data), data))

            events = answer[:HEAD] if case.startswith("stall") else answer
            for event in events:
                chunk(event)
                await writer.drain()
                await asyncio.sleep(interval)
            if case == "stall-pings":
                for _ in range(int(STALL_SECONDS / 0.5)):
                    chunk(ping)
                    await writer.drain()
                    await asyncio.sleep(0.5)
            elif case == "stall-silent":
                await asyncio.sleep(STALL_SECONDS)
            elif case == "late-close":
                await asyncio.sleep(late_close)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass  # the client went away (a stream the watchdog ended)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    ready.write(f"{server.sockets[0].getsockname()[1]}\n")
    ready.flush()
    async with server:
        await asyncio.sleep(STALL_SECONDS + 120)  # ends by itself; the client kills it first


def server_main(args: argparse.Namespace) -> None:
    os.sched_setaffinity(0, {os.cpu_count() - 1}) if hasattr(os, "sched_setaffinity") else None
    asyncio.run(_serve(args.kind, args.deltas, args.interval, args.late_close, sys.stdout))


# The client.


def _client(kind: str, url: str, streams: int) -> Any:
    import anthropic

    from anthropic_eventstream import testing

    httpx = testing.http_module()  # the SDK's own HTTP library (httpx, or httpx2 from anthropic 2.17)

    http = anthropic.DefaultAsyncHttpxClient(limits=httpx.Limits(max_connections=streams + 16))
    options: dict[str, Any] = {
        "base_url": url,
        "max_retries": 0,
        "timeout": httpx.Timeout(60.0),
        "http_client": http,
    }
    if kind == "bedrock":
        from anthropic.lib.bedrock import AsyncAnthropicBedrock

        return AsyncAnthropicBedrock(aws_access_key="k", aws_secret_key="s", aws_region="us-east-1", **options)
    return anthropic.AsyncAnthropic(api_key="load", **options)


async def _stream(client: Any, case: str, work: float) -> dict[str, Any]:
    started = time.monotonic()
    last = started
    events = 0
    try:
        async for _ in await client.messages.create(
            model="claude-load",
            max_tokens=64,
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
            extra_headers={"x-load-case": case},
        ):
            events += 1
            last = time.monotonic()
            while time.monotonic() - last < work:  # the application's own work on the event: the loop runs late
                pass
    except Exception as exc:
        cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else None
        return {"case": case, "error": type(exc).__name__, "cause": cause, "after": time.monotonic() - last}
    return {"case": case, "error": None, "events": events, "seconds": time.monotonic() - started}


async def _ticker(lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        before = time.monotonic()
        await asyncio.sleep(0.1)
        lags.append(time.monotonic() - before - 0.1)


async def _run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    import anthropic_eventstream as ae

    limit = None if args.one == "installed" else args.stall_timeout
    ae.install(stall_timeout=limit)
    client = _client(args.kind, url, args.streams)
    cases = []
    for n in range(args.streams):
        if n < args.stalls and args.one == "stalls":
            cases.append("stall-pings" if n % 2 == 0 else "stall-silent")
        else:
            cases.append("late-close" if n % 2 == 0 else "healthy")
    lags: list[float] = []
    stop = asyncio.Event()
    ticker = asyncio.ensure_future(_ticker(lags, stop))
    cpu = time.process_time()
    wall = time.monotonic()
    results = await asyncio.wait_for(asyncio.gather(*(_stream(client, c, args.work) for c in cases)), args.deadline)
    cpu = time.process_time() - cpu
    wall = time.monotonic() - wall
    stop.set()
    await ticker
    return {"config": args.one, "cpu": cpu, "wall": wall, "lags": lags, "results": results}


def client_main(args: argparse.Namespace) -> None:
    """One configuration (``--one``), in this process: prints its results as JSON."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.streams + 256)), hard))
    server = subprocess.Popen([sys.executable, __file__, "--serve", *sys.argv[1:]], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        print(json.dumps(asyncio.run(_run(args, f"http://127.0.0.1:{port}"))))
    finally:
        server.kill()
        server.wait()


def _report(runs: dict[str, dict[str, Any]], args: argparse.Namespace) -> int:
    limit = args.stall_timeout
    print(
        f"{args.streams} concurrent {args.kind} streams on one core, {args.stalls} of them stalling; stall_timeout={limit:g}"
    )
    print(f"{'run':<12} {'CPU s':>7} {'wall s':>7} {'loop lag p50/p99/max s':>24}")
    for name, run in runs.items():
        lags = sorted(run["lags"]) or [0.0]
        p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))]
        print(
            f"{name:<12} {run['cpu']:7.2f} {run['wall']:7.2f} {statistics.median(lags):10.2f} / {p99:.2f} / {lags[-1]:.2f}"
        )
    watched = runs["stalls"]["results"]
    healthy = [r for r in watched if not r["case"].startswith("stall")]
    stalls = [r for r in watched if r["case"].startswith("stall")]
    false = [r for r in healthy if r["error"] is not None]
    caught = [r for r in stalls if r["error"] == "APITimeoutError" and r["cause"] == "StalledStreamError"]
    missed = len(stalls) - len(caught)
    max_lag = max(runs["stalls"]["lags"] or [0.0])
    late = sorted(r["after"] - limit for r in caught) or [0.0]
    print(f"CPU with the option / without, healthy streams: {runs['watchdog']['cpu'] / runs['installed']['cpu']:.3f}")
    print(
        f"healthy streams failed: {len(false)} of {len(healthy)}  {[(r['case'], r['error'], r['cause']) for r in false[:5]]}"
    )
    print(f"stalls missed: {missed} of {len(stalls)}")
    print(
        f"stalls caught after the limit by: median {statistics.median(late):.2f} s, max {late[-1]:.2f} s (loop lag max {max_lag:.2f} s)"
    )
    other = [r for name in ("installed", "watchdog") for r in runs[name]["results"] if r["error"] is not None]
    print(f"the healthy-only runs' streams failed: {len(other)}")
    return 1 if false or missed or other else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--stalls", type=int, default=50)
    parser.add_argument("--stall-timeout", type=float, default=2.0)
    parser.add_argument("--kind", choices=["first-party", "bedrock"], default="first-party")
    parser.add_argument("--deltas", type=int, default=120)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--late-close", type=float, default=3.0)
    parser.add_argument("--work", type=float, default=0.0, help="seconds of CPU the consumer spends per event")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each healthy-only configuration")
    parser.add_argument("--deadline", type=float, default=STALL_SECONDS + 90)
    parser.add_argument("--one", choices=RUNS, help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        server_main(args)
        return 0
    if args.one:
        client_main(args)
        return 0
    runs: dict[str, dict[str, Any]] = {}
    for one in [*RUNS[:2] * args.repeat, RUNS[2]]:  # interleaved; each configuration's least CPU is reported
        out = subprocess.run([sys.executable, __file__, "--one", one, *sys.argv[1:]], capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stdout, out.stderr, file=sys.stderr)
            return 1
        run = json.loads(out.stdout.strip().splitlines()[-1])
        if one in runs:
            run["results"] += runs[one]["results"]
            if runs[one]["cpu"] < run["cpu"]:
                run["cpu"], run["wall"], run["lags"] = runs[one]["cpu"], runs[one]["wall"], runs[one]["lags"]
        runs[one] = run
    return _report(runs, args)


if __name__ == "__main__":
    sys.exit(main())
