"""pytest-benchmark suites: each contender of ``anthropic_eventstream._bench`` is timed on the same bytes in
the same run, and the session ends with a table of per-event costs and ratios against each group's
baseline (the stock SDK decoder, botocore's buffer, the stock client).

Run with ``make bench`` (or ``pytest benches``). Timings on shared machines are noisy; the ratios, taken in
one run, are what to read."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from anthropic_eventstream import _bench

RESULTS: dict[str, dict[str, tuple[float, _bench.Case]]] = defaultdict(dict)


@pytest.fixture(scope="session")
def body() -> bytes:
    return _bench.bedrock_body()


@pytest.fixture
def timed(benchmark: Any) -> Any:
    """Times a ``_bench.Case`` with pytest-benchmark and records its best per-event cost."""

    def run(case: _bench.Case) -> None:
        benchmark.group = case.group
        benchmark.name = case.name
        produced = benchmark.pedantic(case.run, rounds=5, iterations=1, warmup_rounds=1)
        assert produced == case.events
        RESULTS[case.group][case.name] = (benchmark.stats.stats.min / case.events, case)

    return run


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("anthropic-eventstream: per-event cost, side by side")
    for group, rows in RESULTS.items():
        baseline = next((cost for cost, case in rows.values() if case.baseline), None)
        write(f"{group}:")
        for name, (cost, case) in sorted(rows.items(), key=lambda item: -item[1][0]):
            write(f"  {name:55} {cost * 1e6:10.3f} us/event   {case.describe(cost, baseline)}")
