"""Inspects built wheels against the release plan, without the interpreters they are for.

`make package-check` builds every wheel of `PLAN` that this machine can (Linux x86_64, manylinux2014) and runs
this over them; `tests/package/test_release.py` checks that the release workflow builds and tests each kind on every
platform. For each wheel:

- its tags: the file name and the ``Tag`` lines of ``WHEEL`` say the same, and name one kind of `PLAN`;
- its metadata: ``Requires-Python`` and the classifiers are those of ``pyproject.toml``;
- its extension: one ``_native`` module whose file name the interpreters of that kind import, and whose entry
  point is the one they call;
- its ABI: the abi3 wheel imports only the stable ABI of its floor (abi3audit); the abi3t wheel likewise, up to
  3.15 (abi3audit does not know the PEP 793 export hook yet, so that one symbol, which the module defines and
  does not import, is told apart by hand); the free-threaded wheels are built against the free-threaded headers
  (they call ``PyCriticalSection_Begin``, which PyO3 uses only there), the abi3 wheel is not;
- manylinux compliance (auditwheel).

Usage: ``python tools/check_wheels.py WHEEL...``; exits non-zero with every problem found.
"""

from __future__ import annotations

import email.parser
import json
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Kind:
    """One kind of wheel in the release: who installs it and what its extension must look like."""

    serves: str
    #: the extension's file name after ``_native``
    suffix: str
    #: the symbol the interpreter calls to make the module
    entry: str
    free_threaded: bool
    #: the stable ABI it must stay within (abi3audit's baseline), or None for a version-specific build
    stable_abi: str | None
    #: the interpreter it is built for (``maturin build -i``; PyO3 picks the ABI from it)
    built_with: str


#: The wheels of one platform, by ``{python tag}-{abi tag}``. The abi3 wheel serves every CPython with the GIL
#: from 3.10; free-threaded CPython cannot load abi3, so 3.14t gets a version-specific wheel, and 3.15 and newer,
#: free-threaded or not, the abi3t one (PEP 803).
PLAN: dict[str, Kind] = {
    "cp310-abi3": Kind("CPython 3.10+ with the GIL", r"\.abi3\.so", "PyInit__native", False, "3.10", "python3.13"),
    "cp314-cp314t": Kind(
        "free-threaded CPython 3.14", r"\.cpython-314t-[\w-]+\.so", "PyInit__native", True, None, "python3.14t"
    ),
    "cp315-abi3.abi3t": Kind(
        "CPython 3.15+, free-threaded or not",
        r"\.abi3t(-[\w-]+)?\.so",
        "PyModExport__native",
        True,
        "3.15",
        "python3.15t",
    ),
}

#: Symbols that tell a free-threaded build: PyO3 locks objects with critical sections only there.
FREE_THREADED_MARK = "PyCriticalSection_Begin"


def expected_metadata() -> tuple[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["requires-python"], project["classifiers"]


def symbols(so: Path, *, defined: bool) -> set[str]:
    flag = "--defined-only" if defined else "--undefined-only"
    out = subprocess.run(["nm", "-D", flag, str(so)], check=True, capture_output=True, text=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


def abi3audit(wheel: Path, baseline: str) -> dict[str, Any]:
    """abi3audit's report on the one extension of ``wheel``."""
    run = subprocess.run(
        [sys.executable, "-m", "abi3audit", "--report", "--assume-minimum-abi3", baseline, str(wheel)],
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"abi3audit gave no report for {wheel.name}: {run.stderr.strip()}") from None
    results = [so for spec in report["specs"].values() for so in spec["wheel"]]
    if len(results) != 1:
        raise SystemExit(f"abi3audit scanned {len(results)} extensions in {wheel.name}")
    return results[0]["result"]  # type: ignore[no-any-return]


def check(wheel: Path, manylinux: str | None) -> list[str]:
    problems: list[str] = []
    _name, _version, python, abi, platform = wheel.name[: -len(".whl")].split("-")
    key = f"{python}-{abi}"
    kind = PLAN.get(key)
    if kind is None:
        return [f"{wheel.name}: {key} is not a kind of the release plan ({', '.join(PLAN)})"]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/WHEEL"))
        tags = {line.split(": ", 1)[1] for line in archive.read(info).decode().splitlines() if line.startswith("Tag:")}
        want_tags = {f"{p}-{a}-{pl}" for p in python.split(".") for a in abi.split(".") for pl in platform.split(".")}
        if tags != want_tags:
            problems.append(f"WHEEL says {sorted(tags)}, the file name {sorted(want_tags)}")
        meta = email.parser.Parser().parsestr(archive.read(info.replace("WHEEL", "METADATA")).decode())
        requires, classifiers = expected_metadata()
        if meta["Requires-Python"] != requires:
            problems.append(f"Requires-Python is {meta['Requires-Python']!r}, pyproject.toml says {requires!r}")
        if meta.get_all("Classifier") != classifiers:
            problems.append("the classifiers differ from pyproject.toml's")
        extensions = [n for n in names if re.fullmatch(r"anthropic_eventstream/_native\..*\.(so|pyd)", n)]
        if len(extensions) != 1 or not re.fullmatch(rf"anthropic_eventstream/_native{kind.suffix}", extensions[0]):
            problems.append(f"extension {extensions}, want one named _native{kind.suffix}")
            return [f"{wheel.name}: {p}" for p in problems]
        with tempfile.TemporaryDirectory() as scratch:
            so = Path(archive.extract(extensions[0], scratch))
            exported, imported = symbols(so, defined=True), symbols(so, defined=False)
    if kind.entry not in exported:
        problems.append(f"does not define {kind.entry}")
    if (FREE_THREADED_MARK in imported) != kind.free_threaded:
        built = "free-threaded" if FREE_THREADED_MARK in imported else "GIL"
        problems.append(f"built against the {built} headers")
    if kind.stable_abi:
        result = abi3audit(wheel, kind.stable_abi)
        stray = set(result["non_abi3_symbols"]) - ({kind.entry} & exported - imported)
        if stray:
            problems.append(f"uses symbols outside the stable ABI: {sorted(stray)}")
        if result["baseline"] != kind.stable_abi or not result["is_abi3_baseline_compatible"]:
            problems.append(f"needs the {result['computed']} stable ABI, tagged {kind.stable_abi}")
    if manylinux:
        shown = subprocess.run(
            [sys.executable, "-m", "auditwheel", "show", str(wheel)], capture_output=True, text=True
        ).stdout
        if f'"{manylinux}"' not in " ".join(shown.split()):
            problems.append(f"auditwheel does not find it {manylinux}: {shown.strip()}")
    return [f"{wheel.name}: {p}" for p in problems]


def main(argv: list[str]) -> int:
    manylinux = None
    if argv and argv[0].startswith("--manylinux="):
        manylinux = argv.pop(0).split("=", 1)[1]
    wheels = [Path(a) for a in argv]
    problems = [p for wheel in wheels for p in check(wheel, manylinux)]
    kinds = {"-".join(w.name.split("-")[2:4]) for w in wheels}
    problems += [f"no {key} wheel was built ({kind.serves})" for key, kind in PLAN.items() if key not in kinds]
    for wheel in wheels:
        key = "-".join(wheel.name.split("-")[2:4])
        print(f"checked {wheel.name}: {PLAN[key].serves}" if key in PLAN else f"unknown {wheel.name}")
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
