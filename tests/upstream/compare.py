"""Runs the anthropic SDK's own tests (from its sdist) twice, stock and under ``install()``, and checks that
every test that fails only under ``install()`` fails for a documented, intended reason:

- ``integrity``: the stream really ended without ``message_stop`` (or without any event), and we raise
  ``IncompleteStreamError`` where stock ends quietly: a test that pins that quiet end. (The SDK's streaming
  fixtures end without the final blank line; a ``message_stop`` complete but for it counts as complete, so
  those pass.)
- ``typed status``: a test pins the stock untyped ``APIStatusError`` of a mid-stream error frame.
- ``transport``: a test pins the raw httpx error of a connection dropped (or timed out) mid-stream, which we
  raise as the SDK's ``APIConnectionError`` (``APITimeoutError``), its cause the httpx error. (From anthropic
  2.17 the SDK raises those itself, and the installed stream passes its error through: none there.)
- ``span error.type``: an in-band error without ``error.type`` becomes a 500, which the SDK's OpenTelemetry
  span records as its ``error.type``.

Usage: python compare.py SDK_SOURCE_DIR TEST_PATH...
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent

INTENDED = {
    "integrity": re.compile(r"IncompleteStreamError"),
    "typed status": re.compile(r"assert <class 'anthropic\.\w+'> is APIStatusError"),
    "span error.type": re.compile(r"assert '500' == '\w+_error'"),
    "transport": re.compile(
        r"anthropic\.(APIConnectionError: Connection error while reading the stream|APITimeoutError)"
    ),
}


def failures(source: Path, paths: list[str], *, installed: bool) -> dict[str, str]:
    """Test id -> failure text, for one run of the SDK's tests."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        plugin = ["-p", "ae_installed"] if installed else []
        env_path = str(HERE)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-n",
                "2",
                "-p",
                "no:cacheprovider",
                *plugin,
                f"--junitxml={report}",
                *paths,
            ],
            cwd=source,
            env={**__import__("os").environ, "PYTHONPATH": env_path},
            stdout=subprocess.DEVNULL,
            check=False,
        )
        out: dict[str, str] = {}
        for case in ET.parse(report).iter("testcase"):
            for problem in [*case.iter("failure"), *case.iter("error")]:
                out[f"{case.get('classname')}::{case.get('name')}"] = (
                    f"{problem.get('message', '')}\n{problem.text or ''}"
                )
        return out


def main(argv: list[str]) -> int:
    source, paths = Path(argv[0]).resolve(), argv[1:]
    stock = failures(source, paths, installed=False)
    ours = failures(source, paths, installed=True)
    intended: dict[str, list[str]] = {reason: [] for reason in INTENDED}
    unexplained = []
    for test, text in sorted(ours.items()):
        if test in stock:
            continue
        reason = next((name for name, pattern in INTENDED.items() if pattern.search(text)), None)
        if reason is None:
            unexplained.append(f"{test}\n    {text.strip().splitlines()[0] if text.strip() else '?'}")
        else:
            intended[reason].append(test)
    fixed = sorted(set(stock) - set(ours))
    print(f"anthropic SDK suite: {len(stock)} failures stock, {len(ours)} installed")
    print("  failing only when installed, as intended: " + ", ".join(f"{len(t)} {r}" for r, t in intended.items()))
    for reason, tests in intended.items():
        for test in tests:
            print(f"    {reason}: {test}")
    if fixed:
        print(f"  failing only stock: {len(fixed)}")
    if unexplained:
        print(f"  UNEXPLAINED ({len(unexplained)}):\n  " + "\n  ".join(unexplained))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
