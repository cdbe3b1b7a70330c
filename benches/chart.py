"""Measures the headline comparisons (the same ``_bench`` cases as the suites) and draws them as
``docs/benchmark.svg`` for the README: per-event cost, log scale, one row per contender.

Run: python benches/chart.py   (about a minute)"""

from __future__ import annotations

import math
import sys
from html import escape
from pathlib import Path

from anthropic_eventstream import _bench

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmark.svg"
COLOURS = {"baseline": "#b0b7c3", "ours": "#d97757", "floor": "#6b8fb3"}


def rows() -> list[tuple[str, str, float, str]]:
    body = _bench.bedrock_body()
    groups = [
        ("SDK decoder", _bench.sdk_decoder_cases(body, backends=("native",))),
        ("framing", _bench.framing_cases(body, backends=("native",))),
        ("messages.create(stream=True)", [c for c in _bench.end_to_end_cases(body) if c.group == "end-to-end sync"]),
    ]
    out = []
    for title, cases in groups:
        print(f"measuring {title}", file=sys.stderr)
        for case, cost in zip(cases, _bench.measure(cases, passes=5), strict=True):
            kind = "baseline" if case.baseline else "floor" if case.name.startswith("floor") else "ours"
            out.append((title, case.name, cost * 1e6, kind))
    return out


def svg(data: list[tuple[str, str, float, str]]) -> str:
    width, left, bar_h, gap = 900, 330, 22, 8
    lo, hi = math.log10(0.05), math.log10(max(v for _, _, v, _ in data) * 2)
    x = lambda v: left + (math.log10(v) - lo) / (hi - lo) * (width - left - 90)  # noqa: E731
    parts, y, last = [], 40, None
    for group, name, value, kind in data:
        if group != last:
            y += 14
            parts.append(f'<text x="10" y="{y}" font-weight="bold">{escape(group)}</text>')
            y += 8
            last = group
        parts.append(f'<text x="20" y="{y + 16}">{escape(name)}</text>')
        parts.append(
            f'<rect x="{left}" y="{y}" width="{x(value) - left:.1f}" height="{bar_h}" fill="{COLOURS[kind]}"/>'
        )
        parts.append(f'<text x="{x(value) + 6:.1f}" y="{y + 16}">{value:.2f} µs</text>')
        y += bar_h + gap
    header = '<text x="10" y="22" font-size="15" font-weight="bold">CPU per event (log scale; shorter is better)</text>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y + 10}" font-family="sans-serif" font-size="13">'
        f'<rect width="100%" height="100%" fill="white"/>{header}{"".join(parts)}</svg>\n'
    )


if __name__ == "__main__":
    OUT.write_text(svg(rows()))
    print(f"wrote {OUT}", file=sys.stderr)
