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


def stub_parameters(function):
    """A stub's parameters: (name, kind) in order, `self` left out."""
    args = function.args
    params = [(a.arg, "positional") for a in args.posonlyargs + args.args]
    if args.vararg:
        params.append((args.vararg.arg, "*"))
    params += [(a.arg, "keyword") for a in args.kwonlyargs]
    if args.kwarg:
        params.append((args.kwarg.arg, "**"))
    return [p for p in params if p[0] != "self"]


def native_parameters(function):
    """The native function's parameters as its text signature gives them."""
    import inspect

    kinds = {
        inspect.Parameter.POSITIONAL_ONLY: "positional",
        inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
        inspect.Parameter.VAR_POSITIONAL: "*",
        inspect.Parameter.KEYWORD_ONLY: "keyword",
        inspect.Parameter.VAR_KEYWORD: "**",
    }
    params = inspect.signature(function).parameters.values()
    return [(p.name, kinds[p.kind]) for p in params if p.name != "self"]


def test_every_native_function_has_the_parameters_of_its_stub():
    """Freshness of the signatures, not only of the names: a parameter
    renamed, added, dropped or made keyword-only in Rust fails here until
    the stub follows."""
    tree = ast.parse(STUBS.read_text())
    checked = 0
    for node in tree.body:
        functions = [(node, getattr(_pixpress, node.name))] if isinstance(node, ast.FunctionDef) else []
        if isinstance(node, ast.ClassDef):
            cls = getattr(_pixpress, node.name)
            functions = [
                (f, getattr(cls, f.name))
                for f in node.body
                if isinstance(f, ast.FunctionDef)
                and not f.name.startswith("_")
                and not any(isinstance(d, ast.Name) and d.id == "property" for d in f.decorator_list)
            ]
        for stub, native in functions:
            try:
                params = native_parameters(native)
            except (TypeError, ValueError):
                continue  # no text signature (a slot or a property)
            assert params == stub_parameters(stub), f"{stub.name}: _pixpress.pyi against the module"
            checked += 1
    assert checked > 30, f"only {checked} signatures compared"
