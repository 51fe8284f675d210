"""The save gate's re-read takes the parse of every layer still in its source text from the model the file
was written from (``read(..., prior=model)``). That must be an optimisation only: on edits of every corpus
and fixture IR, and with a prior that has nothing to do with the file, the re-read is exactly the plain read.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES

import modelfile
from modelfile.errors import ModelfileError
from modelfile.formats.openvino.reader import LayerSource, read_path
from modelfile.graph import Graph
from modelfile.mo_input import parse_output
from modelfile.passes.cut import cut
from modelfile.passes.rename import rename
from modelfile.passes.state import cut_state

IR_FILES = sorted(p for p in [*CORPUS.glob("openvino/**/*.xml"), *FIXTURES.glob("**/*.xml")]
                  if b"<net" in p.read_bytes()[:4096])


def _signature(g: Graph) -> list[Any]:
    """Everything a read decides: nodes, their records, values, edges, inputs and outputs."""
    index = {id(n): k for k, n in enumerate(g.nodes)}
    out: list[Any] = []
    for n in g.nodes:
        rec = n.source
        rs = None
        if isinstance(rec, LayerSource):
            rs = (rec.id, rec.start, rec.end, rec.gap_start, rec.type0, rec.name0, rec.version0, rec.attrs0,
                  list(rec.in_ids), [tuple(p) for p in rec.ports0])
        ins = [None if v is None else (index.get(id(v.producer)), v.producer.outputs.index(v) if v.producer else -1)
               for v in n.inputs]
        outs = [(v.name, list(v.names), v.dtype, v.shape) for v in n.outputs]
        out.append((n.op_type, n.name, n.version, dict(n.attrs), ins, outs, rs,
                    sorted(n.subgraphs) if n.subgraphs else None))
    out.append([index.get(id(v.producer)) for v in g.inputs])
    out.append([(index.get(id(v.producer)), v.name) for v in g.outputs])
    return out


def _edits(m: modelfile.Model) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = [("none", lambda mm: None)]
    g = m.graph
    if g.inputs and g.inputs[0].name:
        name = g.inputs[0].name
        out.append(("rename", lambda mm: rename(mm, {name: name + "_renamed"})))
    inner = [v for n in list(g.nodes)[len(g.nodes) // 3: 2 * len(g.nodes) // 3] for v in n.outputs
             if v.name and v not in g.outputs and n.op_type not in ("Const", "Parameter")]
    if inner:
        out.append(("cut", lambda mm, v=inner[0].name: cut(mm, [], parse_output(v))))
    if any(n.op_type == "ReadValue" for n in g.nodes):
        out.append(("cut-state", cut_state))
    return out


def _copy(path: Path, tmp: Path) -> Path:
    src = tmp / "src.xml"
    shutil.copyfile(path, src)
    if path.with_suffix(".bin").is_file():
        shutil.copyfile(path.with_suffix(".bin"), src.with_suffix(".bin"))
    return src


@pytest.mark.parametrize("path", IR_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_reread_with_prior_is_the_plain_read(path: Path, tmp_path: Path) -> None:
    src = _copy(path, tmp_path)
    reused = 0
    for label, edit in _edits(modelfile.load(src)):
        m = modelfile.load(src)
        try:
            edit(m)
        except ModelfileError:
            continue
        out = tmp_path / label / "out.xml"
        out.parent.mkdir()
        m.handler.write(m, out, renumber=False)
        plain, _ = read_path(out, check_weights=False)
        fast, _ = read_path(out, check_weights=False, prior=m.graph)
        assert _signature(fast) == _signature(plain), label
        # the prior was used: a layer's parsed ports are the prior record's own object
        prior_ports = {id(n.source.ports0) for n in m.graph.nodes if isinstance(n.source, LayerSource)
                       and n.source.ports0}
        reused += sum(1 for n in fast.nodes if isinstance(n.source, LayerSource) and n.source.ports0
                      and id(n.source.ports0) in prior_ports)
    plain_src, _ = read_path(src, check_weights=False)
    # (records are looked up by the id of a start tag in the serializer's attribute order)
    if '<layer id="' in src.read_text() and any(
            isinstance(n.source, LayerSource) and n.source._el is None and n.source.ports0 for n in plain_src.nodes):
        assert reused > 0


def test_an_unrelated_prior_changes_nothing(tmp_path: Path) -> None:
    """Another file's records share layer ids with this one; none of their texts match, and the read is plain."""
    b = IR_FILES[-1]
    other = modelfile.load(_copy(b, tmp_path))
    for path in IR_FILES:
        plain, _ = read_path(path, check_weights=False)
        # (b itself: every layer is the prior's text)
        fast, _ = read_path(path, check_weights=False, prior=other.graph if path != b else plain)
        assert _signature(fast) == _signature(plain), path.name
