"""Every public function in ``idp/`` says in one line what it does (STYLE.md).

Public: a module-level function, or a method of a module-level class, whose name does not start
with ``_`` (the class's name neither). Functions nested in functions are private to them; a
property's setter is documented by its getter. Migrations are not read.
"""

from __future__ import annotations

import ast

from tests.support.source_tree import modules

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _is_accessor(node) -> bool:
    """A ``@name.setter`` or ``@name.deleter`` of a property."""
    return any(isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter")
               for d in node.decorator_list)


def public_functions(tree: ast.Module):
    """``(qualified name, node)`` of every public function and method of a module."""
    for node in tree.body:
        if isinstance(node, FUNCTIONS) and not node.name.startswith("_"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, FUNCTIONS) and not item.name.startswith("_") and not _is_accessor(item):
                    yield f"{node.name}.{item.name}", item


def undocumented(tree: ast.Module) -> list[str]:
    """The public functions of ``tree`` without a docstring, or with an empty one."""
    return [name for name, node in public_functions(tree)
            if not (ast.get_docstring(node) or "").strip()]


def test_every_public_function_has_a_docstring():
    missing = [f"{module.relpath}: {name}" for module in modules()
               for name in undocumented(module.tree)]
    assert missing == [], "public functions without a docstring:\n" + "\n".join(missing)


def test_the_finder_sees_functions_and_methods_and_skips_private_ones():
    source = '''
def bare(): pass
def told():
    """Says what."""
async def waited(): pass
def _hidden(): pass
class Shown:
    def method(self): pass
    def __init__(self): pass
    @property
    def value(self): pass
    @value.setter
    def value(self, new): pass
class _Hidden:
    def method(self): pass
def outer():
    """Says what."""
    def inner(): pass
'''
    assert undocumented(ast.parse(source)) == ["bare", "waited", "Shown.method", "Shown.value"]
