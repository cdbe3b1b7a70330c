"""The package's layout: one folder per floor of the data's path, each importing only the floors below it, and no
import cycle between modules. Read from the sources (every ``import`` statement, deferred ones included), so a
new module that reaches up a floor fails here, not in review."""

from __future__ import annotations

import ast
from pathlib import Path

import anthropic_eventstream

PACKAGE = Path(anthropic_eventstream.__file__).parent
NAME = "anthropic_eventstream"

#: each floor, and what it may import from this package besides itself
FLOORS = {
    "_frames": {"_errors", "_backend"},
    "_events": {"_errors", "_frames"},
    "_anthropic": {"_errors", "_backend", "_patching", "_frames", "_events"},
    "_botocore": {"_errors", "_backend", "_patching", "_frames", "_events"},
}
#: the top-level modules the floors rest on: they import nothing of this package but the extension
LEAVES = ("_errors", "_patching", "_backend")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((NAME, *parts))] = path
    return found


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of this package that ``module`` imports (its ancestors, imported anyway, left out)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target, *(f"{target}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in modules and not f"{module}.".startswith(f"{name}."))
    found.discard(module)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {module: _imports(module, path, modules) for module, path in modules.items()}


def _floor(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_each_floor_imports_only_the_floors_below_it() -> None:
    wrong = []
    for module, imported in _graph().items():
        floor = _floor(module)
        if floor in FLOORS:
            allowed = FLOORS[floor] | {floor}
            wrong += [f"{module} -> {target}" for target in imported if _floor(target) not in allowed]
        elif floor in LEAVES:
            wrong += [f"{module} -> {target}" for target in imported]
    assert not wrong, "imports that reach up a floor or across:\n" + "\n".join(sorted(wrong))


def test_no_module_imports_itself_back() -> None:
    graph = _graph()
    cycles = []
    for start in graph:
        stack, seen = [(start, (start,))], set()
        while stack:
            node, path = stack.pop()
            for target in graph[node]:
                if target == start:
                    cycles.append(" -> ".join((*path, start)))
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, (*path, target)))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles))


def test_every_floor_says_what_it_owns() -> None:
    for floor in FLOORS:
        doc = ast.get_docstring(ast.parse((PACKAGE / floor / "__init__.py").read_text()))
        assert doc and len(doc) > 100, floor


def test_the_layout_check_sees_the_imports() -> None:
    """The check above is only as good as the graph: it must find the imports that are there."""
    graph = _graph()
    assert f"{NAME}._frames.reference" in graph[f"{NAME}._events.bedrock"]
    assert f"{NAME}._anthropic.profile" in graph[f"{NAME}._anthropic.decoders"]
    assert f"{NAME}._botocore.errors" in graph[f"{NAME}._botocore.buffer"]
