"""Instructions per event for the realistic workload's cases (``_bench.realistic_cases``), counted by valgrind's
callgrind: what decides when timings on a shared machine are too noisy to.

Each case runs in a process of its own under callgrind, once with 1 run of the stream and once with
``1 + RUNS``. The difference, divided by ``RUNS`` times the events of one run, is the cost of an event, with
start-up, imports and first-use building left out. The garbage collector is off in both processes, so that
where a collection happens to fall does not move the count. Stock and opted in are counted in the same way.

    python benches/instructions.py                    # every case of the realistic workload
    python benches/instructions.py --history          # after stock clients streamed every kind of content
    python benches/instructions.py -k "first-party"   # the cases whose group or name contains it

It needs ``valgrind`` on PATH (``apt-get install valgrind``) and takes about a minute a case.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

RUNS = 2

#: What each callgrind process runs: the case named by its group and name, ``runs`` times, opted in once.
CHILD = """
import contextlib, gc, sys
from anthropic_eventstream import _bench
group, name, runs, deltas, history = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
if history:
    _bench.use_every_model()
case = next(c for c in _bench.realistic_cases(deltas, groups=[group]) if (c.group, c.name) == (group, name))
gc.collect()
gc.disable()
with case.opt_in() if case.opt_in is not None else contextlib.nullcontext():
    for _ in range(runs):
        assert case.run() == case.events
"""


def count(group: str, name: str, runs: int, deltas: int, history: bool) -> int:
    """The instructions callgrind counted for one process running the case ``runs`` times."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-c",
                CHILD,
                group,
                name,
                str(runs),
                str(deltas),
                "1" if history else "0",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            check=False,
        )
        found = re.search(r"Collected : (\d+)", done.stderr)
        if done.returncode != 0 or found is None:
            raise RuntimeError(f"callgrind run of {group} / {name} failed:\n{done.stderr[-2000:]}")
        return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", default="", help="only the cases whose group or name contains this")
    parser.add_argument("--deltas", type=int, default=2_000, help="deltas in the realistic answer (default 2,000)")
    parser.add_argument("--history", action="store_true", help="after stock clients streamed every kind of content")
    args = parser.parse_args()

    from anthropic_eventstream import _bench

    every = _bench.realistic_cases(args.deltas)
    groups = {c.group for c in every if args.k in c.group or args.k in c.name}
    cases = [c for c in every if c.group in groups and (c.baseline or args.k in c.group or args.k in c.name)]
    state = "after stock clients streamed every kind of content" if args.history else "a fresh process"
    print(f"instructions per event (callgrind, GC off, {args.deltas:,} deltas, {state})")
    baselines: dict[str, int] = {}
    for case in cases:
        one = count(case.group, case.name, 1, args.deltas, args.history)
        more = count(case.group, case.name, 1 + RUNS, args.deltas, args.history)
        per_event = round((more - one) / (RUNS * case.events))
        if case.baseline:
            baselines[case.group] = per_event
            ratio = "baseline"
        elif case.group in baselines:
            base = baselines[case.group]
            ratio = f"{per_event / base:.2f}x the cost" if case.ratio == "cost" else f"{base / per_event:.1f}x"
        else:
            ratio = ""
        print(f"{case.group:<32} {case.name:<34} {per_event:>9,}  {ratio}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
