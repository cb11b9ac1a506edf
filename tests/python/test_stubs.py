"""The typed stubs and the native module agree, as the C header must agree with
cbindgen's output: every public name of ``pixpress._pixpress`` (functions,
classes, constants, and each class's methods and properties) is in
``_pixpress.pyi``, and the stubs name nothing the module lacks."""

import ast
from pathlib import Path

import pixpress
from pixpress import _pixpress

STUBS = Path(pixpress.__file__).with_name("_pixpress.pyi")


def stub_names():
    tree = ast.parse(STUBS.read_text())
    top, members = set(), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            top.add(node.target.id)
        if isinstance(node, ast.ClassDef):
            names = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
            names |= {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
            members[node.name] = {n for n in names if not n.startswith("_")}
    return top, members


def public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


def test_every_native_name_is_in_the_stubs_and_back():
    top, members = stub_names()
    native = public(_pixpress) | {"__version__"}
    stubbed = {n for n in top if not n.startswith("_") or n == "__version__"}
    assert native - stubbed == set(), "native names without a stub"
    assert stubbed - native == set(), "stubs for names the module lacks"


def test_every_native_class_member_is_in_the_stubs_and_back():
    _, members = stub_names()
    for name, stubbed in members.items():
        cls = getattr(_pixpress, name)
        native = public(cls)
        assert native - stubbed == set(), f"{name}: members without a stub"
        assert stubbed - native == set(), f"{name}: stubs for members {name} lacks"
