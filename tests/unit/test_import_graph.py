"""Dependencies run one way: no import circle between ``idp`` modules (imports inside
functions count), accounts and verification never import oidc, and nothing imports admin
but the application factory."""

from __future__ import annotations

from tests.support.source_tree import import_graph

# Circles that still exist, each a frozenset of module names. This list only shrinks: a
# circle found here that is gone fails the test too, so the entry is removed with the fix.
KNOWN_CIRCLES: set[frozenset[str]] = set()

# Package arrows that must not exist: (importer prefix, imported prefix).
FORBIDDEN = (
    ("idp.accounts", "idp.oidc"),
    ("idp.verification", "idp.oidc"),
)
# Forbidden arrows that still exist ("importer -> imported"); this list only shrinks.
KNOWN_FORBIDDEN_ARROWS: set[str] = set()
ADMIN_MAY_BE_IMPORTED_BY = {"idp"}  # the factory, idp/__init__.py


def _inside(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative: the graph's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def circles() -> set[frozenset[str]]:
    """Every set of two or more modules that import each other round a loop."""
    return {frozenset(c) for c in _strongly_connected(import_graph()) if len(c) > 1}


def test_no_import_circle_between_idp_modules():
    found = circles()
    assert found - KNOWN_CIRCLES == set(), "new import circle(s)"
    assert KNOWN_CIRCLES - found == set(), "a known circle is gone: remove it from KNOWN_CIRCLES"


def test_accounts_and_verification_never_import_oidc():
    wrong = sorted(
        f"{importer} -> {imported}"
        for importer, targets in import_graph().items() for imported in targets
        for source, target in FORBIDDEN
        if _inside(importer, source) and _inside(imported, target))
    assert set(wrong) - KNOWN_FORBIDDEN_ARROWS == set(), "new forbidden arrow(s)"
    assert KNOWN_FORBIDDEN_ARROWS - set(wrong) == set(), "an arrow is gone: remove it from the list"


def test_nothing_imports_admin_but_the_factory():
    wrong = sorted(
        f"{importer} -> {imported}"
        for importer, targets in import_graph().items() for imported in targets
        if _inside(imported, "idp.admin") and not _inside(importer, "idp.admin")
        and importer not in ADMIN_MAY_BE_IMPORTED_BY)
    assert wrong == []


def test_the_circle_finder_sees_a_circle_through_a_function_level_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [c for c in _strongly_connected(graph) if len(c) > 1] == [{"a", "b", "c"}]


def test_config_imports_none_of_the_rooms_above_it():
    """Packages register the checks of their own tables (``config.table_check``)."""
    rooms = ("idp.accounts", "idp.verification", "idp.oidc", "idp.admin", "idp.cli")
    upward = sorted(imported for imported in import_graph()["idp.config"]
                    if any(_inside(imported, room) for room in rooms))
    assert upward == []
