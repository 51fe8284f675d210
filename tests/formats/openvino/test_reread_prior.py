"""The save gate's re-read takes the parse of every layer still in its source text from the model the file
was written from (``read(..., prior=model)``). That must be an optimisation only: on edits of every corpus
and fixture IR, and with a prior that has nothing to do with the file, the re-read is exactly the plain read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ir_edits import IR_FILES, copy_ir, real_edits

import modelfile
from modelfile.errors import ModelfileError
from modelfile.formats.openvino.reader import LayerSource, read_path
from modelfile.graph import Graph


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


@pytest.mark.parametrize("renumber", [False, True], ids=["ids-kept", "renumbered"])
@pytest.mark.parametrize("path", IR_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_reread_with_prior_is_the_plain_read(path: Path, renumber: bool, tmp_path: Path) -> None:
    src = copy_ir(path, tmp_path)
    reused = 0
    for label, edit in [("none", lambda mm: None), *real_edits(modelfile.load(src))]:
        m = modelfile.load(src)
        try:
            edit(m)
        except ModelfileError:
            continue
        out = tmp_path / label / "out.xml"
        out.parent.mkdir()
        m.handler.write(m, out, renumber=renumber)
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
    if not renumber and '<layer id="' in src.read_text() and any(
            isinstance(n.source, LayerSource) and n.source._el is None and n.source.ports0 for n in plain_src.nodes):
        assert reused > 0


def test_an_unrelated_prior_changes_nothing(tmp_path: Path) -> None:
    """Another file's records share layer ids with this one; none of their texts match, and the read is plain."""
    b = IR_FILES[-1]
    other = modelfile.load(copy_ir(b, tmp_path))
    for path in IR_FILES:
        plain, _ = read_path(path, check_weights=False)
        # (b itself: every layer is the prior's text)
        fast, _ = read_path(path, check_weights=False, prior=other.graph if path != b else plain)
        assert _signature(fast) == _signature(plain), path.name
