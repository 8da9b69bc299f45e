"""The ``idp/`` source as the architecture tests read it: modules, their syntax trees, imports."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "idp"


@dataclass(frozen=True)
class Module:
    name: str  # dotted: idp.oidc.tokens
    path: Path
    relpath: str  # idp/oidc/tokens.py
    tree: ast.Module
    lines: int


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> tuple[Module, ...]:
    """Every Python module under ``idp/`` except Alembic's migrations."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relpath = path.relative_to(ROOT).as_posix()
        if relpath.startswith("idp/migrations/"):
            continue
        text = path.read_text(encoding="utf-8")
        found.append(Module(_dotted(path), path, relpath, ast.parse(text), len(text.splitlines())))
    return tuple(found)


def _is_type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _runtime_nodes(tree: ast.AST):
    """Every node, function bodies included, except what sits under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if _is_type_checking_block(node):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _base(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.name.split(".")
    if not module.path.name == "__init__.py":
        package = package[:-1]
    package = package[: len(package) - node.level + 1]
    return ".".join(package + ([node.module] if node.module else []))


def _targets(module: Module, node: ast.AST, names: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = _base(module, node)
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in names else base for a in node.names]


def imports(module: Module) -> set[str]:
    """The ``idp`` modules ``module`` imports at run time, at any depth (functions too)."""
    names = {m.name for m in modules()}
    found = set()
    for node in _runtime_nodes(module.tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.update(t for t in _targets(module, node, names) if t in names)
    found.discard(module.name)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module name → the ``idp`` modules it imports."""
    return {m.name: imports(m) for m in modules()}
