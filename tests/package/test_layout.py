"""The package's layout: one folder per floor of the data's path, each importing only the floors below it, no
import cycle between modules, the SDK adapter the only code that imports the SDK, and a binding that reaches no
Python module by its path. Read from the sources (every ``import`` statement, deferred ones included, and every
``importlib.import_module`` of a literal name), so a new module that reaches up a floor fails here, not in review."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import anthropic_eventstream

PACKAGE = Path(anthropic_eventstream.__file__).parent
NAME = "anthropic_eventstream"

#: each floor, and what it may import from this package besides itself
FLOORS = {
    "_frames": {"_errors", "_backend"},
    "_events": {"_errors", "_backend", "_frames"},
    "_policy": {"_errors", "_events"},
    "_anthropic": {"_errors", "_backend", "_patching", "_frames", "_events", "_policy"},
    "_botocore": {"_errors", "_backend", "_patching", "_frames", "_events"},
}
#: the libraries each adapter is the only floor to import (the SDK adapter: the anthropic SDK, the pydantic it
#: builds models with, and the HTTP library it reads with)
ADAPTERS = {
    "_anthropic": ("anthropic", "pydantic", "pydantic_core", "httpx", "httpx2", "httpcore"),
    "_botocore": ("botocore", "aiobotocore"),
}
#: modules outside the adapters that drive the SDK and botocore as a user does, to compare stock with opted in:
#: the test helpers (``testing``: mock clients) and the benchmark (``_bench``)
USER_SIDE = {"testing", "_bench"}
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


def _outside_imports(path: Path) -> set[str]:
    """The top-level names of what ``path`` imports from outside this package: ``import`` statements (deferred
    ones included) and ``importlib.import_module("...")`` of a literal name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value.split(".")[0])
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


def test_only_the_adapters_import_the_sdk() -> None:
    """The SDK adapter (``_anthropic``) is the only code that imports anthropic, pydantic or the HTTP library;
    the botocore adapter the only code that imports botocore. Stream policy, events and frames import none."""
    wrong = []
    for module, path in _modules().items():
        floor = _floor(module)
        if floor in USER_SIDE:
            continue
        for adapter, libraries in ADAPTERS.items():
            if floor != adapter:
                wrong += [f"{module} imports {name}" for name in sorted(_outside_imports(path) & set(libraries))]
    assert not wrong, "imports of an SDK outside its adapter:\n" + "\n".join(wrong)


def test_the_binding_reaches_no_python_module_by_its_path() -> None:
    """``rust/py`` imports no Python module by a dotted path (``py.import("...")``), which no checker sees: what it
    needs of Python is handed to it through its typed API, which the stub and ``stubtest`` check."""
    sources = Path(__file__).resolve().parent.parent.parent / "rust" / "py" / "src"
    if not sources.is_dir():  # an installed copy of the tests, away from the repository
        return
    found = [
        f"{path.name}: {match.group(0)}"
        for path in sorted(sources.glob("*.rs"))
        for match in re.finditer(r"\.import\(\s*\"[^\"]*\"", path.read_text())
    ]
    assert not found, "imports by module path in the binding:\n" + "\n".join(found)


def test_the_layout_check_sees_the_imports() -> None:
    """The checks above are only as good as the graph: they must find the imports that are there."""
    graph = _graph()
    assert f"{NAME}._frames.reference" in graph[f"{NAME}._events.bedrock"]
    assert f"{NAME}._anthropic.body" in graph[f"{NAME}._anthropic.decoders"]
    assert f"{NAME}._policy.stream" in graph[f"{NAME}._anthropic.decoders"]
    assert f"{NAME}._botocore.errors" in graph[f"{NAME}._botocore.buffer"]
    modules = _modules()
    assert "anthropic" in _outside_imports(modules[f"{NAME}._anthropic.helper"])  # by importlib.import_module
    assert "pydantic_core" in _outside_imports(modules[f"{NAME}._anthropic.models"])
