"""Port blocks that differ only in tensor names are parsed once; every layer keeps its own names."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import needs_openvino

import modelfile
from modelfile.formats.openvino import reader


def _relu(lid: int, names: str | None, n_out: int = 1) -> str:
    attr = ' names="' + names + '"' if names is not None else ""
    outs = "".join(f'<port id="{1 + k}" precision="FP32"{attr if k == n_out - 1 else ""}>'
                   "<dim>1</dim><dim>4</dim></port>" for k in range(n_out))
    return (f'<layer id="{lid}" name="l{lid}" type="ReLU" version="opset1"><input><port id="0" precision="FP32">'
            f"<dim>1</dim><dim>4</dim></port></input><output>{outs}</output></layer>")


def _text(names: list[str | None]) -> str:
    layers = ['<layer id="0" name="x" type="Parameter" version="opset1"><data shape="1,4" element_type="f32"/>'
              '<output><port id="0" precision="FP32" names="x"><dim>1</dim><dim>4</dim></port></output></layer>']
    edges = []
    for i, nm in enumerate(names, start=1):
        layers.append(_relu(i, nm))
        edges.append(f'<edge from-layer="{i - 1}" from-port="{0 if i == 1 else 1}" to-layer="{i}" to-port="0"/>')
    k = len(names) + 1
    layers.append(f'<layer id="{k}" name="out" type="Result" version="opset1"><input><port id="0" precision="FP32">'
                  "<dim>1</dim><dim>4</dim></port></input></layer>")
    edges.append(f'<edge from-layer="{k - 1}" from-port="1" to-layer="{k}" to-port="0"/>')
    return ('<?xml version="1.0"?>\n<net name="m" version="11">\n<layers>\n' + "\n".join(layers) +
            "\n</layers>\n<edges>\n" + "\n".join(edges) + "\n</edges>\n</net>\n")


NAMES = ["t0", "t1", None, "a\\,b,c", "t4", "", " s , u ", "t4b"]


def _ports(path: Path) -> list[tuple]:
    m = modelfile.load(path)
    return [(n.name, [(v.name, tuple(v.names), v.shape, v.dtype) for v in n.outputs], n.source.ports0)
            for n in m.graph.nodes]


def test_names_are_each_layers_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.xml"
    path.write_text(_text(NAMES))
    got = _ports(path)
    by = {name: outs for name, outs, _ in got}
    assert by["l1"] == [("t0", ("t0",), (1, 4), "f32")]
    assert by["l3"] == [("", (), (1, 4), "f32")]
    assert by["l4"] == [("a,b", ("a,b", "c"), (1, 4), "f32")]  # an escaped comma stays inside the name
    assert by["l6"] == [("", (), (1, 4), "f32")]
    assert by["l7"] == [("s", ("s", "u"), (1, 4), "f32")]
    # the same as parsing every block in full
    monkeypatch.setattr(reader, "_named_rest", lambda doc, pos, rest, memo: reader._parse_rest(doc, pos, rest))
    assert _ports(path) == got


def test_an_unchanged_model_is_written_back_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    path.write_text(_text(NAMES))
    m = modelfile.load(path)
    out = tmp_path / "o.xml"
    m.handler.write(m, out)
    assert out.read_bytes() == path.read_bytes()
    l5 = m.find_node("l5")
    assert l5 is not None
    l5.outputs[0].names = ["renamed"]
    l5.outputs[0].name = "renamed"
    m.handler.write(m, out)
    text = out.read_text()
    assert 'names="renamed"' in text and 'names="t4"' not in text and 'names="t4b"' in text
    assert 'names="a\\,b,c"' in text


@needs_openvino
def test_names_match_read_model(tmp_path: Path) -> None:
    import openvino as ov

    path = tmp_path / "m.xml"
    # (not " s , u ": modelfile trims names as the 2025 reader did; read_model 2026 keeps the spaces)
    path.write_text(_text([n for n in NAMES if n != " s , u "]))
    om = ov.Core().read_model(str(path))
    want = {op.get_friendly_name(): [set(op.output(i).get_names()) for i in range(op.get_output_size())]
            for op in om.get_ops() if op.get_type_name() == "Relu"}
    m = modelfile.load(path)
    got = {n.name: [set(v.names) for v in n.outputs] for n in m.graph.nodes if n.op_type == "ReLU"}
    assert got == want
