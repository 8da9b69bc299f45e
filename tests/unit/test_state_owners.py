"""One owner per piece of account state: only the owner module assigns its columns.

An assignment is ``x.column = ...`` (plain, augmented, in a tuple, chained), ``setattr(x,
"column", ...)``, or ``column=...`` passed to ``User(...)`` or to an SQL ``.values(...)``.
Migrations are exempt (they are not read).
"""

from __future__ import annotations

import ast

from tests.support.source_tree import modules

# The table the lead adjusts: state → (its columns, the modules that may assign them).
OWNERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "membership": (
        frozenset({"account_type", "expires_at", "membership_chosen_at"}),
        frozenset({"idp/accounts/membership.py"}),
    ),
    "identity": (
        frozenset({"citizen_id_encrypted", "citizen_id_hash", "citizen_id_masked",
                   "verified_given_name_th", "verified_family_name_th",
                   "identity_verified", "identity_verified_at"}),
        frozenset({"idp/verification/identity.py"}),
    ),
    "staff": (
        frozenset({"staff_status", "staff_verified_by", "staff_verified_at"}),
        frozenset({"idp/verification/staff.py"}),
    ),
}

# Writers outside their owner that are still there, as "path: column"; this list only shrinks.
KNOWN_STRAY_WRITERS: set[str] = set()

WATCHED = frozenset().union(*(columns for columns, _ in OWNERS.values()))
COLUMN_KEYWORD_CALLS = {"User", "values"}


def _names_in_target(target: ast.AST):
    if isinstance(target, ast.Attribute):
        yield target.attr
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _names_in_target(element)
    elif isinstance(target, ast.Starred):
        yield from _names_in_target(target.value)


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _assigned_in_call(call: ast.Call):
    name = _call_name(call)
    if name == "setattr" and len(call.args) > 1 and isinstance(call.args[1], ast.Constant):
        yield str(call.args[1].value)
    if name in COLUMN_KEYWORD_CALLS:
        yield from (keyword.arg for keyword in call.keywords if keyword.arg)


def assigned_columns(tree: ast.AST) -> set[str]:
    """The watched columns a module assigns, by the forms the module docstring lists."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                found.update(_names_in_target(target))
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            found.update(_names_in_target(node.target))
        elif isinstance(node, ast.Call):
            found.update(_assigned_in_call(node))
    return found & WATCHED


def stray_writers() -> set[str]:
    """Every "path: column" where a module assigns a column it does not own."""
    owner_of = {column: owners for columns, owners in OWNERS.values() for column in columns}
    return {f"{module.relpath}: {column}" for module in modules()
            for column in assigned_columns(module.tree) if module.relpath not in owner_of[column]}


def test_only_the_owner_modules_assign_account_state():
    found = stray_writers()
    assert found - KNOWN_STRAY_WRITERS == set(), "a column is assigned outside its owner"
    assert KNOWN_STRAY_WRITERS - found == set(), "a stray writer is gone: remove it from the list"


def test_every_owner_module_exists():
    paths = {module.relpath for module in modules()}
    assert {path for _, owners in OWNERS.values() for path in owners} <= paths


def test_the_finder_sees_every_form_of_assignment():
    source = """
user.account_type, user.expires_at = "permanent", None
a.membership_chosen_at = b.x = 1
setattr(user, "staff_status", "none")
User(identity_verified=True)
db.update(User).values(citizen_id_hash=None)
row.refresh_expires_at = 0
"""
    assert assigned_columns(ast.parse(source)) == {
        "account_type", "expires_at", "membership_chosen_at", "staff_status",
        "identity_verified", "citizen_id_hash"}
