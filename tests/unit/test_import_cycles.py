"""No import circles, and dependencies point one way: flows -> funnel -> transforms.

The same rules as the import-linter contracts in pyproject.toml, read with the standard library's
`ast` so they hold in every test run: every import counts, those inside functions too (a
deferred import hides a circle, it does not remove it); only imports under `if TYPE_CHECKING:`
do not, as they never run.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("funnel", "transforms", "flows")


@cache
def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


@cache
def _graph() -> dict[str, set[str]]:
    """module -> the project's modules it imports (the longest importable prefix of each name)."""
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_nodes(tree)
        names: list[str] = []
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}" if base else package
                names += [f"{base}.{a.name}" for a in node.names]
        graph[module] = {r for n in names if (r := resolve(n)) and r != module}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _squashed(graph: dict[str, set[str]], parent: str) -> dict[str, set[str]]:
    """The imports between the children of `parent`, each child standing for its subtree."""
    prefix = parent + "."
    child = {m: prefix + m[len(prefix) :].split(".")[0] for m in graph if m.startswith(prefix)}
    out: dict[str, set[str]] = {c: set() for c in child.values()}
    for module, imported in graph.items():
        if module in child:
            out[child[module]] |= {child[i] for i in imported if i in child} - {child[module]}
    return out


def test_no_module_imports_itself_through_others() -> None:
    assert _cycle(_graph()) is None


@pytest.mark.parametrize(
    "parent",
    sorted({m.rpartition(".")[0] for m in _modules() if "." in m}),
)
def test_no_circle_between_sibling_modules_or_packages(parent: str) -> None:
    """As import-linter's acyclic_siblings: a package counts as everything inside it."""
    assert _cycle(_squashed(_graph(), parent)) is None


def test_dependencies_point_from_flows_to_funnel_to_transforms() -> None:
    graph = _graph()
    upward = sorted(
        f"{m} -> {i}"
        for m, imported in graph.items()
        for i in imported
        if (m.startswith("transforms") and not i.startswith("transforms"))
        # the CLI starts the flows: the one module of funnel above them
        or (m.startswith("funnel") and m != "funnel.cli" and i.startswith("flows"))
    )
    assert upward == []


def test_the_connector_registry_imports_only_connectors() -> None:
    """The config check reads the registry: it must not pull in extract, clean or config."""
    imported = _graph()["funnel.connectors.registry"]
    assert imported and all(i.startswith("funnel.connectors.") for i in imported)
