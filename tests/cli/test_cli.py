"""``python -m anthropic_eventstream decode`` on files and standard input, good and broken."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from anthropic_eventstream import encode_message, testing


def cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "anthropic_eventstream", *args], input=stdin, capture_output=True, timeout=600
    )


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    body = testing.bedrock_stream(testing.message_events("Hi there")) + encode_message(
        {"bin": b"\x00\xff"}, b"\xff\xfe"
    )
    path = tmp_path / "capture.bin"
    path.write_bytes(body)
    return path


def test_decode_file(capture: Path) -> None:
    result = cli("decode", str(capture))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["event"]["type"] for line in lines[:-1]] == [e["type"] for e in testing.message_events("Hi there")]
    assert lines[0]["offset"] == 0 and lines[1]["offset"] > 0
    assert lines[0]["headers"][":event-type"] == "chunk"
    assert lines[-1]["headers"] == {"bin": {"base64": "AP8="}} and lines[-1]["payload_base64"] == "//4="


def test_decode_stdin_reports_truncation_with_offset(capture: Path) -> None:
    body = capture.read_bytes()
    result = cli("decode", "-", stdin=body[:-10])
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == len(testing.message_events("Hi there"))
    assert result.stderr.decode().startswith("error at byte ")
    assert "TruncatedStreamError: stream ended inside the frame" in result.stderr.decode()


def test_decode_names_a_body_that_is_not_an_event_stream() -> None:
    result = cli("decode", "-", stdin=b'{"message":"Unauthorized"}')
    assert result.returncode == 1
    assert "NotAnEventStream" in result.stderr.decode() and "Unauthorized" in result.stderr.decode()


def test_decode_missing_file() -> None:
    result = cli("decode", "/nonexistent/capture.bin")
    assert result.returncode == 2 and b"cannot read" in result.stderr


def test_help() -> None:
    result = cli("--help")
    assert result.returncode == 0 and b"decode" in result.stdout and b"bench" in result.stdout
    assert b"Decode AWS event streams" in result.stdout and b"``" not in result.stdout
    assert cli("decode", "--help").returncode == 0


def test_bench_runs_quickly() -> None:
    pytest.importorskip("anthropic")
    # every case once, after stock clients streamed every kind of content: the table's shape
    result = cli("bench", "--deltas", "200", "--passes", "1", "--slice", "0", "--history")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    for needle in [
        "stock anthropic AWSEventStreamDecoder",
        "botocore EventStreamBuffer",
        "baseline",
        "(target >= 30x: ",
        "Realistic answer: messages.stream()",
        "opted in vs the floor (target: <= 1.6x)",
        "(--history)",
    ]:
        assert needle in out
    floor = next(line for line in out.splitlines() if line.strip().startswith("floor:"))
    assert "the floor" in floor and "faster" not in floor
    last = out.rstrip().splitlines()[-1]
    assert last == "every target met on this run" or re.fullmatch(r"\d+ target\(s\) MISSED on this run: .+", last), last


def test_realistic_groups_are_the_ones_built() -> None:
    """``_bench.REALISTIC_GROUPS`` names exactly the groups ``realistic_cases`` builds, in order, so that asking
    for one by name (``benches/instructions.py``) never silently builds nothing; and asking builds only it."""
    pytest.importorskip("anthropic")
    pytest.importorskip("botocore")
    from anthropic_eventstream import _bench

    built = list(dict.fromkeys(case.group for case in _bench.realistic_cases(10)))
    assert built == list(_bench.REALISTIC_GROUPS)
    one = _bench.REALISTIC_GROUPS[2]
    assert {case.group for case in _bench.realistic_cases(10, groups=[one])} == {one}
