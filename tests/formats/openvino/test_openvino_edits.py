"""Random edits through the AST: what the writer emits reads back as the same graph (and the runtime agrees)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modelfile
from conftest import FIXTURES, has_module
from modelfile.errors import ModelfileError
from modelfile.formats import openvino as ovf
from modelfile.graph import Graph, Node, Value
from modelfile.model import Model

OV_FIXTURES = sorted((FIXTURES / "openvino").glob("*/*.xml")) if (FIXTURES / "openvino").is_dir() else []


def _live(g: Graph) -> list[Node]:
    keep: set[Node] = set()
    stack = [n for n in g.nodes if n.op_type in ("Result", "Assign")]
    while stack:
        n = stack.pop()
        if n in keep:
            continue
        keep.add(n)
        stack.extend(v.producer for v in n.inputs if v is not None and v.producer is not None)
    return [n for n in g.nodes if n in keep or n.op_type == "Parameter"]


def signature(g: Graph, prune: bool = True) -> list[Any]:
    """Everything the AST says about a graph, with producers named instead of referenced."""
    out = []
    for n in (_live(g) if prune else g.nodes):
        ins = [None if v is None else (v.producer.name, v.index) for v in n.inputs]
        outs = [(tuple(ovf.writer._port_names(v, ovf.writer._value_name0(v))), v.dtype,
                 tuple(-1 if isinstance(d, tuple) else d for d in v.shape) if v.shape is not None else None)
                for v in n.outputs]
        attrs = dict(n.attrs)
        if n.op_type == "Const":  # the writer lays out a new .bin: offsets move
            attrs.pop("offset", None)
        subs = {r: signature(s, prune=False) for r, s in n.subgraphs.items()}
        out.append((n.op_type, n.version, n.name, attrs, ins, outs, subs))
    return out


EDITS = st.lists(st.tuples(st.sampled_from(["rename_node", "rename_value", "attr", "negate", "new_output",
                                            "drop_output", "const", "names"]),
                           st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=6)


def _apply_edit(m: Model, kind: str, a: int, b: int) -> None:
    g = m.graph
    nodes = [n for n in g.nodes]
    n = nodes[a % len(nodes)]
    values = [v for x in g.nodes for v in x.outputs if x.op_type not in ("Assign",)]
    if kind == "rename_node":
        n.name = f"{n.name}_r{b % 7}"
    elif kind == "rename_value" and n.outputs:
        v = n.outputs[b % len(n.outputs)]
        v.name = f"t{a % 97}_{b % 13}"
    elif kind == "names" and n.outputs:
        v = n.outputs[0]
        v.names = [f"n{b % 5}", f"odd,name {a % 3}"]
        v.name = v.names[0]
    elif kind == "attr" and n.op_type not in ("Parameter", "Const", "Result"):
        n.attrs[f"x_extra{b % 3}"] = f"v{a % 5}&<\"'"
    elif kind == "negate" and values:
        v = values[b % len(values)]
        if v.dtype not in ("f32", "f16"):
            return
        neg = Node("Negative", f"neg{a}_{b}", inputs=[v], version="opset1")
        neg.append_output(Value("", dtype=v.dtype, shape=v.shape))
        for u in list(v.uses):
            u.node.set_input(u.index, neg.outputs[0])
        neg.set_input(0, v)
        g.insert(min(a % (len(g.nodes) + 1), len(g.nodes)), neg)
    elif kind == "new_output" and values:
        v = values[b % len(values)]
        ovf.new_result(g, v, f"extra_out{a}_{b}")
    elif kind == "drop_output":
        results = [x for x in g.nodes if x.op_type == "Result"]
        if len(results) > 1:
            r = results[b % len(results)]
            g.outputs = [o for o in g.outputs if o is not r.inputs[0]] + [
                x.inputs[0] for x in results if x is not r and x.inputs[0] is r.inputs[0]]
            g.remove(r)
    elif kind == "const":
        consts = [x for x in g.nodes if x.op_type == "Const" and x.attrs.get("element_type") not in ("string",)]
        if consts:
            c = consts[b % len(consts)]
            arr = ovf.const_array(c)
            # zero weights are fine for the runtime; zero shape/axis Consts would not be
            zero = a % 2 and arr.dtype.kind == "f"
            ovf.set_const_value(c, np.zeros_like(arr) if zero else arr.copy())


@pytest.mark.skipif(not OV_FIXTURES, reason="fixtures not present")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(src_i=st.integers(0, 100), edits=EDITS)
def test_random_edits_read_back(tmp_path_factory: pytest.TempPathFactory, src_i: int,
                                edits: list[tuple[str, int, int]]) -> None:
    src = OV_FIXTURES[src_i % len(OV_FIXTURES)]
    m = modelfile.load(src)
    for kind, a, b in edits:
        _apply_edit(m, kind, a, b)
    d = tmp_path_factory.mktemp("e")
    out = d / src.name
    m.save(out)
    m2 = modelfile.load(out)
    assert signature(m2.graph, prune=False) == signature(m.graph)
    # and a second save of the reloaded model is byte-identical (the output is a fixed point)
    m2.save(d / "again.xml")
    assert (d / "again.xml").read_bytes() == out.read_bytes()
    if has_module("openvino"):
        from modelfile.formats.openvino import verify

        verify.read_model(out)


def test_new_model_from_scratch(tmp_path: Path) -> None:
    g = Graph("scratch")
    p = ovf.new_parameter(g, "x", "f32", (1, 3))
    w = ovf.new_const(g, np.array([[1, 2, 3]], np.float32), "w")
    add = Node("Add", "add", inputs=[p.outputs[0], w.outputs[0]], version="opset1")
    add.attrs = {"auto_broadcast": "numpy"}
    add.append_output(Value("y", dtype="f32", shape=(1, 3), names=["y"]))
    g.append(add)
    ovf.new_result(g, add.outputs[0], "y/sink_port_0")
    m = Model(g, "openvino", None, ovf.HANDLER, ovf.IRState())
    res = m.save(tmp_path / "s.xml")
    assert res.weights == "rewritten" and (tmp_path / "s.bin").stat().st_size == 12
    text = (tmp_path / "s.xml").read_text()
    assert text.startswith('<?xml version="1.0"?>\n<net name="scratch" version="11">\n\t<layers>\n')
    assert '<data element_type="f32" shape="1, 3" offset="0" size="12" />' in text
    m2 = modelfile.load(tmp_path / "s.xml")
    assert signature(m2.graph) == signature(g)
    if has_module("openvino"):
        import openvino as ov

        y = ov.Core().compile_model(str(tmp_path / "s.xml"), "CPU").create_infer_request().infer(
            {"x": np.ones((1, 3), np.float32)})["y"]
        np.testing.assert_array_equal(y, [[2, 3, 4]])


def test_file_style_is_kept_for_new_layers() -> None:
    src = FIXTURES / "openvino" / "stateful" / "accumulator.xml"
    if not src.exists():
        pytest.skip("fixture not present")
    # 4-space indentation, "/>" without space, no precision on input ports, CRLF: like old MO files
    text = src.read_text().replace("\t", "    ").replace(" />", "/>")
    text = text.replace('<port id="0" precision="FP32">\n                    <dim>1</dim>\n                    <dim>4</dim>\n'
                        '                </port>\n            </input>',
                        '<port id="0">\n                    <dim>1</dim>\n                    <dim>4</dim>\n'
                        '                </port>\n            </input>')
    text = text.replace("\n", "\r\n")
    m = ovf.read_text(text)
    assert ovf.to_text(m) == text
    y = m.graph.outputs[0]
    neg = Node("Negative", "neg", inputs=[y], version="opset1")
    neg.append_output(Value("y2", dtype="f32", shape=(1, 4), names=["y2"]))
    m.graph.append(neg)
    ovf.new_result(m.graph, neg.outputs[0], "y2/sink_port_0")
    out = ovf.to_text(m)
    assert "\n" not in out.replace("\r\n", "")
    new = out[out.index('name="neg"') - 30:]
    assert '\r\n        <layer id="' in new and '\r\n            <input>\r\n                <port id="0">' in new
    assert "\t" not in out and " />" not in out


def test_weights_modes(tmp_path: Path) -> None:
    src = FIXTURES / "openvino" / "rnnt" / "joint.xml"
    if not src.exists():
        pytest.skip("fixture not present")
    m = modelfile.load(src)
    # an unchanged .bin is copied, never hard-linked: a later in-place write of one must not change the other
    assert m.save(tmp_path / "l.xml").weights == "copied"
    assert os.stat(tmp_path / "l.bin").st_ino != os.stat(src.with_suffix(".bin")).st_ino
    assert (tmp_path / "l.bin").read_bytes() == src.with_suffix(".bin").read_bytes()
    assert m.save(tmp_path / "r.xml", weights="rewrite").weights == "rewritten"
    assert (tmp_path / "r.bin").read_bytes() == src.with_suffix(".bin").read_bytes()  # same layout, deduped
    w = m.find_node("self.out.weight")
    ovf.set_const_value(w, ovf.const_array(w) + 1)
    with pytest.raises(ModelfileError, match="rewritten"):
        m.save(tmp_path / "c.xml", weights="copy")
    assert not (tmp_path / "c.xml").exists()


def test_is_modified_and_save_in_place(tmp_path: Path) -> None:
    src = FIXTURES / "openvino" / "rnnt" / "prediction.xml"
    if not src.exists():
        pytest.skip("fixture not present")
    shutil.copyfile(src, tmp_path / "p.xml")
    shutil.copyfile(src.with_suffix(".bin"), tmp_path / "p.bin")
    m = modelfile.load(tmp_path / "p.xml")
    assert not ovf.is_modified(m)
    m.graph.nodes[3].attrs = dict(m.graph.nodes[3].attrs)  # an equal copy is no change
    assert not ovf.is_modified(m)
    m.graph.inputs[0].name = "sym"
    assert ovf.is_modified(m)
    res = m.save()
    assert res.weights == "unchanged" and modelfile.load(tmp_path / "p.xml").graph.inputs[0].names == ["sym"]
