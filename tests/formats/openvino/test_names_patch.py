"""A layer whose text differs from its source only in output ``names`` is patched in place, not parsed and
re-rendered (cut-state names 64 Concats of an LLM). The patch must write exactly what the full render
writes: on renames, cuts and cut-state of every corpus and fixture IR, both give the same bytes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES

import modelfile
from modelfile.errors import ModelfileError
from modelfile.formats.openvino import writer
from modelfile.mo_input import parse_output
from modelfile.passes.cut import cut
from modelfile.passes.rename import rename
from modelfile.passes.state import cut_state

IR_FILES = sorted(p for p in [*CORPUS.glob("openvino/**/*.xml"), *FIXTURES.glob("**/*.xml")]
                  if b"<net" in p.read_bytes()[:4096])


def _edits(m: modelfile.Model) -> list[tuple[str, Any]]:
    g = m.graph
    out: list[tuple[str, Any]] = []
    named = [v for n in g.nodes for v in n.outputs if v.names and n.op_type not in ("Parameter", "Const")]
    if named:  # an inner tensor and an output, renamed: their producers' port names change
        inner, last = named[len(named) // 2].names[0], named[-1].names[0]
        out.append(("rename", lambda mm: rename(mm, {inner: inner + "_x", last: last + "_y"})))
    inner_out = [v for n in list(g.nodes)[len(g.nodes) // 3: 2 * len(g.nodes) // 3] for v in n.outputs
                 if v.name and v not in g.outputs and n.op_type not in ("Const", "Parameter")]
    if inner_out:
        out.append(("cut", lambda mm, v=inner_out[0].name: cut(mm, [], parse_output(v))))
    if any(n.op_type == "ReadValue" for n in g.nodes):
        out.append(("cut-state", cut_state))
    return out


@pytest.mark.parametrize("path", IR_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_names_patch_writes_what_the_full_render_writes(path: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src.xml"
    shutil.copyfile(path, src)
    if path.with_suffix(".bin").is_file():
        shutil.copyfile(path.with_suffix(".bin"), src.with_suffix(".bin"))
    patched = 0
    for label, edit in _edits(modelfile.load(src)):
        m = modelfile.load(src)
        try:
            edit(m)
        except ModelfileError:
            continue
        fast = writer.render(m)
        seen: list[int] = []
        real = writer._names_only
        monkeypatch.setattr(writer, "_names_only", lambda *a: seen.append(1) or False)
        full = writer.render(m)
        monkeypatch.setattr(writer, "_names_only", real)
        assert fast.text == full.text, label
        patched += len(seen)
    if path.name == "llama_stateful.xml":
        assert patched > 0
