"""Real edits of every corpus and fixture IR, shared by the tests that compare two ways of doing one thing
(the gate's lint from the re-read against the full lint, the re-read with a prior against the plain read,
the names patch against the full render)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from conftest import CORPUS, FIXTURES

import modelfile
from modelfile.mo_input import parse_output
from modelfile.passes.cut import cut
from modelfile.passes.rename import rename
from modelfile.passes.state import cut_state

__all__ = ["IR_FILES", "copy_ir", "real_edits"]

#: every IR the tests have: the corpus (written by others) and the fixtures
IR_FILES = sorted(p for p in [*CORPUS.glob("openvino/**/*.xml"), *FIXTURES.glob("**/*.xml")]
                  if b"<net" in p.read_bytes()[:4096])

Edit = Callable[[modelfile.Model], object]


def copy_ir(path: Path, tmp: Path, name: str = "src.xml") -> Path:
    """``path`` (and its ``.bin``) copied into ``tmp``."""
    src = tmp / name
    shutil.copyfile(path, src)
    if path.with_suffix(".bin").is_file():
        shutil.copyfile(path.with_suffix(".bin"), src.with_suffix(".bin"))
    return src


def real_edits(m: modelfile.Model) -> list[tuple[str, Edit]]:
    """``(label, edit)`` pairs that apply to ``m``: rename its first input; rename an inner tensor and the
    last named one (their producers' port names change); cut at an inner tensor; cut-state if stateful.
    An edit may still refuse a file (ModelfileError): callers skip it then."""
    g = m.graph
    out: list[tuple[str, Edit]] = []
    if g.inputs and g.inputs[0].name:
        first = g.inputs[0].name
        out.append(("rename-input", lambda mm: rename(mm, {first: first + "_renamed"})))
    named = [v for n in g.nodes for v in n.outputs if v.names and n.op_type not in ("Parameter", "Const")]
    if named:
        inner, last = named[len(named) // 2].names[0], named[-1].names[0]
        if inner != last:
            out.append(("rename-inner", lambda mm: rename(mm, {inner: inner + "_x", last: last + "_y"})))
    middle = [v for n in list(g.nodes)[len(g.nodes) // 3: 2 * len(g.nodes) // 3] for v in n.outputs
              if v.name and v not in g.outputs and n.op_type not in ("Const", "Parameter")]
    if middle:
        out.append(("cut", lambda mm, v=middle[0].name: cut(mm, [], parse_output(v))))
    if any(n.op_type == "ReadValue" for n in g.nodes):
        out.append(("cut-state", cut_state))
    return out
