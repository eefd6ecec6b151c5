"""The layout is a map of the architecture: services stand on shared infrastructure, never
on the model, and no two modules import each other, directly or round a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
PACKAGE = Path(__file__).resolve().parents[1] / "flowsim"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """flowsim modules imported by a file (at module level only, if asked)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        inner = ast.walk(node) if top_level_only and isinstance(node, ast.If) else [node]
        for n in inner:
            if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("flowsim"):
                # `from flowsim import journal` imports the module flowsim.journal only.
                for a in n.names:
                    sub = f"{n.module}.{a.name}"
                    found.add(
                        sub if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists() else n.module
                    )
            elif isinstance(n, ast.Import):
                found.update(a.name for a in n.names if a.name.startswith("flowsim"))
    return found


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {m for m in _imports(path, top_level_only) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_no_service_imports_the_model():
    for path in (PACKAGE / "services").glob("*.py"):
        assert "flowsim.model" not in _imports(path, top_level_only=False), path.name


def test_no_import_circles_between_modules():
    graph = _graph(top_level_only=True)
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                cycle = trail[trail.index(dep) :] + [dep] if dep in trail else [module, dep]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep, [*trail, dep])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
