"""The package's shape: stages import only earlier stages, no import circles, one reader of the environment.

Read from the source with `ast` (every import, also those inside functions), so a new
module that reaches forward or sideways fails here before a reader has to untangle it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "assistant"
# The data flow, earliest first. A module may import its own stage and any earlier one.
STAGES = (
    ("errors", "settings", "vocabulary", "records", "offline", "models"),  # the foundation
    ("ingest",),
    ("chunking",),
    ("embedding",),
    ("index",),
    ("search",),
    ("answering",),
    ("present",),
    ("engine", "uploads", "conversations"),
    ("cli",),
)
LEVEL = {name: level for level, names in enumerate(STAGES) for name in names}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import of an assistant module in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "assistant":
                found += [(f"assistant.{alias.name}", node.lineno) for alias in node.names]
            elif node.module.startswith("assistant."):
                found.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.startswith("assistant.")]
    return found


MODULES = {(_module_name(p)): p for p in sorted(PACKAGE.rglob("*.py"))}


def _stage(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "assistant"))
def test_a_stage_imports_only_itself_and_earlier_stages(module):
    own = LEVEL[_stage(module)]
    for imported, line in _imports(MODULES[module]):
        other = _stage(imported)
        assert other in LEVEL, f"{module}:{line} imports {imported}, which belongs to no stage"
        assert LEVEL[other] <= own, f"{module}:{line} imports {imported}, a later stage"


def test_no_import_circles_between_modules():
    """Module-level imports only: a lazy import inside a function cannot make a circle at import time."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("assistant"):
                targets.add(node.module)
                targets.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES)
        graph[module] = {t for t in targets if t in MODULES and t != module}
    # A package's __init__ re-exports its modules; importing the package means importing them.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in graph[node]:
            if state.get(target) == 1 and not _is_own_package(node, target):
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(target):] + [target]))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for module in graph:
        if module not in state:
            visit(module)


def _is_own_package(module: str, target: str) -> bool:
    """A module importing its own package's __init__ while that __init__ imports it is how re-exports load."""
    return module.startswith(target + ".")


def test_settings_is_the_only_module_that_reads_environment_variables():
    offenders = []
    for module, path in MODULES.items():
        if module == "assistant.settings":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                target = ast.unparse(node.func)
                if target in ("os.environ.get", "os.getenv"):
                    offenders.append(f"{module}:{node.lineno} {target}")
            if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ" and isinstance(node.ctx, ast.Load):
                offenders.append(f"{module}:{node.lineno} os.environ[...]")
    assert offenders == []


def test_every_stage_says_what_it_offers():
    for stage in ("ingest", "chunking", "embedding", "index", "search", "answering", "present"):
        package = __import__(f"assistant.{stage}", fromlist=["__all__"])
        assert package.__doc__ and package.__all__, stage
        assert all(hasattr(package, name) for name in package.__all__), stage
