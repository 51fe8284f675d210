"""The IR passes asserted on the graph and the written text, without the OpenVINO runtime
(test_ir_transforms.py adds the runtime comparisons where OpenVINO is installed)."""

from __future__ import annotations

from pathlib import Path

import modelfile
from conftest import FIXTURES
from modelfile.mo_input import parse_input, parse_output
from modelfile.passes.cut import cut
from modelfile.passes.freeze import freeze
from modelfile.passes.rename import rename
from modelfile.passes.reshape import reshape
from modelfile.passes.state import cut_state, make_state

OV = FIXTURES / "openvino"


def _reload(m: modelfile.Model, tmp: Path, name: str) -> modelfile.Model:
    m.save(tmp / name, verify=False)
    return modelfile.load(tmp / name)


def test_freeze_and_reshape_like_the_rnnt_guide(tmp_path: Path) -> None:
    m = modelfile.load(OV / "rnnt" / "encoder_onnx.xml")
    rep = cut(m, parse_input("input.1[157 1 240],1->157"), [])
    assert {c.kind for c in rep.changes} >= {"freeze-input", "set-input-shape"}
    m2 = _reload(m, tmp_path, "e.xml")
    assert [v.name for v in m2.inputs] == ["input.1"]
    p = m2.inputs[0].producer
    assert p is not None and p.attrs["shape"] == "157,1,240"
    const = next(n for n in m2.nodes if n.op_type == "Const" and "1" in n.outputs[0].names)
    from modelfile.formats.openvino import const_array

    assert const_array(const).tolist() == 157


def test_cut_output_prunes_and_shrinks_the_bin(tmp_path: Path) -> None:
    src = OV / "rnnt" / "joint.xml"
    m = modelfile.load(src)
    before = len(m.nodes)
    inner = next(n for n in m.nodes if n.op_type == "Add").outputs[0]
    rep = cut(m, [], parse_output(inner.producer.name))  # type: ignore[union-attr]
    assert any(c.kind == "remove-layer" for c in rep.changes)
    m2 = _reload(m, tmp_path, "j.xml")
    assert len(m2.nodes) < before and len(m2.outputs) == 1
    assert (tmp_path / "j.bin").stat().st_size < src.with_suffix(".bin").stat().st_size


def test_cut_input_makes_a_parameter_that_takes_the_name(tmp_path: Path) -> None:
    m = modelfile.load(OV / "rnnt" / "joint.xml")
    add = next(n for n in m.nodes if n.op_type == "Add")
    name = add.outputs[0].names[0] if add.outputs[0].names else add.name
    cut(m, parse_input(name), [])
    m2 = _reload(m, tmp_path, "k.xml")
    new = [v for v in m2.inputs if name in v.names or v.name == name]
    assert new and new[0].producer is not None and new[0].producer.op_type == "Parameter"


def test_reshape_and_rename(tmp_path: Path) -> None:
    m = modelfile.load(OV / "rnnt" / "joint.xml")
    reshape(m, parse_input("f[1,1,16]"))
    rename(m, {"f": "encoder_out", "logits": "scores"})
    m2 = _reload(m, tmp_path, "r.xml")
    assert [v.name for v in m2.inputs][0] == "encoder_out"
    assert m2.inputs[0].producer.attrs["shape"] == "1,1,16"  # type: ignore[union-attr]
    assert "scores" in m2.outputs[0].names
    assert 'names="scores"' in (tmp_path / "r.xml").read_text()


def test_freeze_through_the_freeze_pass(tmp_path: Path) -> None:
    m = modelfile.load(OV / "rnnt" / "encoder_onnx.xml")
    rep = freeze(m, parse_input("1->157"))
    assert rep.transform == "freeze" and [v.name for v in m.inputs] == ["input.1"]


def test_cut_state_then_make_state_restores_the_variables(tmp_path: Path) -> None:
    m = modelfile.load(OV / "stateful" / "model.xml")
    cut_state(m)
    assert not [n for n in m.nodes if n.op_type in ("ReadValue", "Assign")]
    m2 = _reload(m, tmp_path, "s.xml")
    names = {v.name for v in m2.inputs}
    assert {"previous_state_h", "previous_state_c"} <= names
    make_state(m2)
    m3 = _reload(m2, tmp_path, "t.xml")
    assert sorted(n.attrs["variable_id"] for n in m3.nodes if n.op_type == "ReadValue") == \
        ["previous_state_c", "previous_state_h"]
    assert {v.name for v in m3.inputs} == {"input_node", "input_lengths"}
