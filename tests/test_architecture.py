"""The import graph of modelfile: no cycles, and dependencies point one way
(cli -> lint/passes -> formats -> model/graph). Function-level imports count too."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "modelfile"


def _module(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    mods = {_module(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                       and "TYPE_CHECKING" in ast.unparse(block.test) for n in ast.walk(block)}
        for node in ast.walk(tree):
            if id(node) in typing_only:  # annotations only: not a dependency at run time
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                targets = [stem] + [f"{stem}.{a.name}" for a in node.names]
            for t in targets:
                if t in mods and t != mod:
                    graph[mod].add(t)
    return graph


def _layer(mod: str) -> int:
    parts = mod.split(".")
    top = parts[1] if len(parts) > 1 else ""
    return {"__main__": 5, "cli": 4, "lint": 3, "passes": 3, "info": 3, "saving": 3, "sherpa": 3, "compare": 3,
            "view": 3, "api": 3, "formats": 2, "io": 2, "mo": 1, "mo_input": 1}.get(top, 0)


def test_no_import_cycles() -> None:
    graph = _imports()
    # a package's __init__ re-exporting its own submodules is not a cycle of concerns
    # the top-level package is the facade: it imports everything, and `from .. import __version__` is no cycle
    def edges(m: str) -> set[str]:
        return {t for t in graph[m] if t != "modelfile" and not m.startswith(t + ".")} if m != "modelfile" else set()

    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(edges(m)):
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_dependencies_point_one_way() -> None:
    graph = _imports()
    wrong = [(m, t) for m, ts in graph.items() for t in ts
             if m != "modelfile" and _layer(t) > _layer(m) and t != "modelfile" and not m.startswith(t + ".")]
    assert not wrong, "\n".join(f"{m} imports {t}" for m, t in sorted(wrong))


def test_nothing_outside_formats_names_a_format() -> None:
    offenders = []
    for p in PKG.rglob("*.py"):
        mod = _module(p)
        if mod.startswith("modelfile.formats"):
            continue
        text = p.read_text(encoding="utf-8")
        for needle in ('.format == "', ".format == '", '.format != "', 'format in ("'):
            if needle in text:
                offenders.append(f"{p.relative_to(PKG)}: {needle}")
    assert not offenders, offenders


def _meta_key_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """``x.meta["k"]``, ``x._meta.get("k")``, ``"k" in x.meta``...: string keys of a graph/node/model meta."""
    def is_meta(e: ast.expr) -> bool:
        return isinstance(e, ast.Attribute) and e.attr in ("meta", "_meta")

    found = []
    for n in ast.walk(tree):
        key = None
        if isinstance(n, ast.Subscript) and is_meta(n.value):
            key = n.slice
        elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and is_meta(n.func.value)
              and n.func.attr in ("get", "pop", "setdefault") and n.args):
            key = n.args[0]
        elif isinstance(n, ast.Compare) and any(isinstance(o, (ast.In, ast.NotIn)) for o in n.ops) \
                and is_meta(n.comparators[0]):
            key = n.left
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            found.append((n.lineno, key.value))
    return found


def test_meta_keys_are_declared() -> None:
    """Format state in ``meta`` dicts goes through declared names (``formats/<f>/keys.py``,
    ``graph.MODEL_REF``), never a string literal: every key has one place that says what it holds."""
    offenders = []
    for p in PKG.rglob("*.py"):
        for line, key in _meta_key_literals(ast.parse(p.read_text(encoding="utf-8"))):
            offenders.append(f"{p.relative_to(PKG)}:{line}: meta key {key!r}")
    assert not offenders, offenders


def test_every_package_is_installed() -> None:
    """pyproject.toml lists the packages by hand (grammars/ is mapped in): a new one must be listed."""
    import tomllib

    listed = set(tomllib.loads((PKG.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    present = {_module(p) for p in PKG.rglob("__init__.py")}
    assert present - listed == set(), f"add to pyproject.toml packages: {sorted(present - listed)}"
