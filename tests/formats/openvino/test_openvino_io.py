"""OpenVINO IR read/write: round trips on the shared corpus and the fixtures, checked with the real runtime."""

from __future__ import annotations

import importlib.util

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import modelfile
from conftest import FIXTURES, corpus_files, has_module, needs_openvino
from modelfile.errors import ModelfileError
from modelfile.formats.openvino import (
    const_array, describe, document, is_modified, new_parameter, new_result, read_text, set_const_value, to_text,
)
from modelfile.graph import Node, Value

CORPUS = corpus_files("openvino")
OV_FIXTURES = sorted((FIXTURES / "openvino").glob("*/*.xml")) if (FIXTURES / "openvino").is_dir() else []

#: concrete shapes for the dynamic inputs of the fixtures (fixtures/openvino/README.md)
SHAPES = {
    "input": [6, 1, 240], "input.1": [6, 1, 240], "symbol": [1, 1], "hidden_in_1": [2, 1, 16],
    "hidden_in_2": [2, 1, 16], "f": [1, 1, 16], "g": [1, 1, 16], "text": [3],
}
STEPS = {"accumulator.xml": 3, "model.xml": 3}  # stateful fixtures run several steps on one request


def _short(p: Path) -> str:
    return p.name if len(p.name) < 40 else p.name[-40:]


def _with_zero_bin(src: Path, tmp: Path) -> Path:
    """Copy an xml into ``tmp`` with a zero-filled .bin as large as its Consts need (corpus files ship none)."""
    dst = tmp / src.name
    shutil.copyfile(src, dst)
    src_bin = src.with_suffix(".bin")
    if src_bin.exists():
        shutil.copyfile(src_bin, dst.with_suffix(".bin"))
        return dst
    doc = document(modelfile.load(dst))
    need = max((int(n.attrs.get("offset", 0)) + int(n.attrs.get("size", 0)) for n in doc.consts), default=0)
    if need:
        with open(dst.with_suffix(".bin"), "wb") as f:
            f.truncate(need)
    return dst


def _loads(path: Path) -> bool:
    from modelfile.formats.openvino import verify

    try:
        verify.read_model(path)
        return True
    except Exception:  # noqa: BLE001 - any runtime refusal
        return False


# ---------------------------------------------------------------------------------------------
# corpus
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("src", CORPUS, ids=_short)
def test_corpus_loads_and_saves_byte_identical(src: Path, tmp_path: Path) -> None:
    m = modelfile.load(src)
    assert m.format == "openvino" and m.graph.nodes
    assert not is_modified(m)
    res = m.save(tmp_path / src.name)
    assert (tmp_path / src.name).read_bytes() == src.read_bytes()
    assert res.path == tmp_path / src.name
    info = describe(m)
    assert info["counts"]["layers"] == len(m.graph.nodes)


@needs_openvino
@pytest.mark.parametrize("mode", ["unchanged", "touched", "renumber", "new"])
@pytest.mark.parametrize("src", CORPUS, ids=_short)
def test_corpus_saved_file_loads_where_original_does(src: Path, mode: str, tmp_path: Path) -> None:
    from modelfile.formats.openvino import verify

    orig = _with_zero_bin(src, tmp_path)
    m = modelfile.load(orig)
    out = tmp_path / "out" / src.name
    out.parent.mkdir()
    opts = {"unchanged": {}, "touched": {"rerender": "touched"}, "renumber": {"renumber": True},
            "new": {"rerender": "new"}}[mode]
    m.save(out, **opts)
    if not _loads(orig):
        return  # e.g. custom opsets, or shape Consts that zero weights make invalid
    assert _loads(out), out.read_text()[:2000]
    # what the runtime builds is the same (rt_info of legacy <meta_data> changes form when written anew)
    diffs = verify.model_diff(orig, out, rt_info=mode != "new")
    assert diffs == [], diffs


def test_corpus_byte_identity_count(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    files = CORPUS + OV_FIXTURES
    if not files:
        pytest.skip("no corpus or fixtures")
    same = 0
    touched_same = 0
    for src in files:
        m = modelfile.load(src)
        out = tmp_path / "o.xml"
        m.save(out)
        same += out.read_bytes() == src.read_bytes()
        touched_same += to_text(m, rerender="touched").encode() == src.read_bytes()
    with capsys.disabled():
        print(f"\n[openvino] byte-identical after load+save: {same}/{len(files)}; "
              f"with every layer re-rendered: {touched_same}/{len(files)}")
    assert same == len(files)


# ---------------------------------------------------------------------------------------------
# fixtures: inference must not change
# ---------------------------------------------------------------------------------------------


@needs_openvino
@pytest.mark.parametrize("mode", ["unchanged", "touched", "new", "rewrite"])
@pytest.mark.parametrize("src", OV_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_round_trip_infers_the_same(src: Path, mode: str, tmp_path: Path) -> None:
    from modelfile.formats.openvino import verify

    m = modelfile.load(src)
    out = tmp_path / src.name
    opts = {"unchanged": {}, "touched": {"rerender": "touched"}, "new": {"rerender": "new"},
            "rewrite": {"weights": "rewrite"}}[mode]
    res = m.save(out, **opts)
    if mode == "unchanged":
        assert out.read_bytes() == src.read_bytes()
        assert res.weights in ("copied", "linked")
        assert out.with_suffix(".bin").read_bytes() == src.with_suffix(".bin").read_bytes()
    assert verify.model_diff(src, out, rt_info=mode != "new") == [] or mode == "new"
    steps = STEPS.get(src.name, 1) if src.parent.name == "stateful" else 1
    assert verify.infer_diff(src, out, shapes=SHAPES, steps=steps) == 0.0


# ---------------------------------------------------------------------------------------------
# AST mapping
# ---------------------------------------------------------------------------------------------


def _fixture(rel: str) -> Path:
    p = FIXTURES / "openvino" / rel
    if not p.exists():
        pytest.skip(f"fixture {rel} not present")
    return p


def test_ast_mapping() -> None:
    m = modelfile.load(_fixture("rnnt/encoder_onnx.xml"))
    g = m.graph
    assert [v.name for v in g.inputs] == ["input.1", "1"]
    p = g.inputs[0].producer
    assert p.op_type == "Parameter" and p.version == "opset1"
    assert p.attrs == {"shape": "?,1,240", "element_type": "f32"}
    assert g.inputs[0].shape == (-1, 1, 240) and g.inputs[0].dtype == "f32"
    assert g.inputs[1].shape == () and g.inputs[1].dtype == "i64"
    results = [n for n in g.nodes if n.op_type == "Result"]
    assert [r.inputs[0] for r in results] == g.outputs
    lstm = next(n for n in g.nodes if n.op_type == "LSTMSequence")
    assert lstm.version == "opset5" and len(lstm.inputs) == 7 and len(lstm.outputs) == 3
    assert all(isinstance(v, str) for v in lstm.attrs.values())
    assert p.pos is not None and p.pos.line > 0


def test_bodies_are_graphs() -> None:
    m = modelfile.load(_fixture("loop/model.xml"))
    ti = next(n for n in m.nodes if n.op_type == "TensorIterator")
    loop = next(n for n in m.nodes if n.op_type == "Loop")
    body = ti.subgraphs["body"]
    assert body.parent is ti and body.inputs and body.outputs
    pm = ti.meta["ir_port_map"]["body"]
    assert {e["kind"] for e in pm} == {"input", "output"}
    assert all(e["node"].graph is body for e in pm)
    assert ti.meta["ir_back_edges"]["body"][0]["to"].op_type == "Parameter"
    assert any(e["attrs"].get("purpose") == "execution_condition" for e in loop.meta["ir_port_map"]["body"])
    m2 = modelfile.load(_fixture("strings/if_op.xml"))
    iff = next(n for n in m2.nodes if n.op_type == "If")
    assert set(iff.subgraphs) == {"then_body", "else_body"}


def test_names_with_commas_round_trip(tmp_path: Path) -> None:
    from modelfile.formats.openvino import format_names, parse_names

    assert parse_names("a\\,b,c") == ["a,b", "c"]
    assert parse_names(" x , y ") == ["x", "y"]
    assert format_names(["a,b", "c"]) == "a\\,b,c"
    src = _fixture("stateful/accumulator.xml")
    m = modelfile.load(src)
    v = m.graph.inputs[0]
    v.names = ["x,with,commas", "x2"]
    v.name = "x,with,commas"
    m.save(tmp_path / "a.xml")
    assert 'names="x\\,with\\,commas,x2"' in (tmp_path / "a.xml").read_text()
    assert modelfile.load(tmp_path / "a.xml").graph.inputs[0].names == ["x,with,commas", "x2"]
    if has_module("openvino"):
        from modelfile.formats.openvino import verify

        assert verify.read_model(tmp_path / "a.xml").inputs[0].get_names() == {"x,with,commas", "x2"}


def test_partial_shapes() -> None:
    from modelfile.formats.openvino import format_shape, parse_shape

    assert parse_shape("1,?,3") == (1, -1, 3)
    assert parse_shape("1..10, 3") == ((1, 10), 3)
    assert parse_shape("..5,2..") == ((0, 5), (2, -1))
    assert parse_shape("") == () and parse_shape("...") is None and parse_shape("[1,2]") == (1, 2)
    assert format_shape(((1, 10), -1, 3)) == "1..10,?,3" and format_shape(None) == "..."


# ---------------------------------------------------------------------------------------------
# edits
# ---------------------------------------------------------------------------------------------


@needs_openvino
def test_edit_rename_parameter_and_result(tmp_path: Path) -> None:
    from modelfile.formats.openvino import verify

    src = _fixture("rnnt/joint.xml")
    m = modelfile.load(src)
    f = m.graph.inputs[0]
    f.name = "features"                      # renaming the primary name replaces it among the names
    out_v = m.graph.outputs[0]
    out_v.names = ["scores"]
    out_v.name = "scores"
    res = m.save(tmp_path / "j.xml")
    assert res.weights == "copied"
    text = (tmp_path / "j.xml").read_text()
    assert 'names="features"' in text and 'output_names="scores"' in text
    # only those lines changed
    diff = [(a, b) for a, b in zip(src.read_text().splitlines(), text.splitlines()) if a != b]
    assert len(diff) == 3 and len(src.read_text().splitlines()) == len(text.splitlines())
    om = verify.read_model(tmp_path / "j.xml")
    assert om.inputs[0].get_names() == {"features"} and om.outputs[0].get_names() == {"scores"}
    assert verify.infer_diff(src, tmp_path / "j.xml", feeds={  # by position: the names differ
        0: np.ones((1, 1, 16), np.float32), 1: np.ones((1, 1, 16), np.float32)}) == 0.0


@needs_openvino
def test_bin_rewrite_new_value_dedup_and_drop(tmp_path: Path) -> None:
    from modelfile.formats.openvino import verify

    src = _fixture("rnnt/joint.xml")
    m = modelfile.load(src)
    g = m.graph
    by = {n.name: n for n in g.nodes}
    enc_w = by["self.lin_enc.weight"]
    new_w = const_array(enc_w) * 2
    set_const_value(enc_w, new_w)
    set_const_value(by["self.lin_pred.weight"], new_w)      # same bytes: must be stored once
    res = m.save(tmp_path / "j.xml")
    assert res.weights == "rewritten"
    om = verify.read_model(tmp_path / "j.xml")
    consts = {op.get_friendly_name(): op for op in om.get_ordered_ops() if op.get_type_name() == "Constant"}
    np.testing.assert_array_equal(consts["self.lin_enc.weight"].data, new_w)
    np.testing.assert_array_equal(consts["self.lin_pred.weight"].data, new_w)
    m2 = modelfile.load(tmp_path / "j.xml")
    a = m2.find_node("self.lin_enc.weight").attrs
    b = m2.find_node("self.lin_pred.weight").attrs
    assert (a["offset"], a["size"]) == (b["offset"], b["size"])
    assert (tmp_path / "j.bin").stat().st_size == src.with_suffix(".bin").stat().st_size - 1536
    # cutting away a branch drops its constant bytes
    g2 = m2.graph
    out_mm = next(n for n in g2.nodes if n.name == "__module.out/aten::linear/MatMul")
    relu = out_mm.inputs[0].producer
    old_res = next(n for n in g2.nodes if n.op_type == "Result")
    g2.remove(old_res)
    g2.outputs = []
    new_result(g2, relu.outputs[0], "hidden/sink_port_0")
    res = m2.save(tmp_path / "cut.xml")
    assert res.weights == "rewritten" and any("unreachable" in n for n in res.notes)
    assert (tmp_path / "cut.bin").stat().st_size == 1536 + 96 + 96
    om = verify.read_model(tmp_path / "cut.xml")
    assert len(om.outputs) == 1 and om.outputs[0].get_names() == {"10", "input"}


@needs_openvino
def test_new_nodes_render_in_the_file_style(tmp_path: Path) -> None:
    from modelfile.formats.openvino import verify

    src = _fixture("stateful/accumulator.xml")
    m = modelfile.load(src)
    g = m.graph
    y = g.outputs[0]
    res_node = next(n for n in g.nodes if n.op_type == "Result")
    neg = Node("Negative", "neg", inputs=[y], version="opset1")
    neg.append_output(Value("y_neg", dtype="f32", shape=(1, 4), names=["y_neg"]))
    g.insert(g.nodes.index(res_node), neg)
    new_result(g, neg.outputs[0], "y_neg/sink_port_0")
    m.save(tmp_path / "a.xml")
    text = (tmp_path / "a.xml").read_text()
    assert '\t\t<layer id="' in text and 'name="neg" type="Negative" version="opset1">' in text
    assert src.read_text().splitlines()[:20] == text.splitlines()[:20]
    om = verify.read_model(tmp_path / "a.xml")
    assert [o.get_any_name() for o in om.outputs] == ["y", "y_neg"]
    import openvino as ov

    req = ov.Core().compile_model(om, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request()
    outs = req.infer({"x": np.full((1, 4), 0.5, np.float32)})
    np.testing.assert_allclose(outs["y_neg"], -outs["y"])


@needs_openvino
def test_state_to_parameters(tmp_path: Path) -> None:
    """The DeepSpeech-style "cut state": ReadValue -> Parameter, Assign -> Result."""
    from modelfile.formats.openvino import verify

    src = _fixture("stateful/model.xml")
    m = modelfile.load(src)
    g = m.graph
    for vid in ("previous_state_h", "previous_state_c"):
        rv = next(n for n in g.nodes if n.op_type == "ReadValue" and n.attrs["variable_id"] == vid)
        asg = next(n for n in g.nodes if n.op_type == "Assign" and n.attrs["variable_id"] == vid)
        p = new_parameter(g, vid, rv.attrs["variable_type"], (1, 10))
        rv.outputs[0].replace_all_uses_with(p.outputs[0])
        g.remove(rv)
        last = asg.inputs[0]
        g.remove(asg)
        last.names = [f"{vid}_out"]
        new_result(g, last, f"{vid}_out/sink_port_0")
    res = m.save(tmp_path / "s.xml")
    assert any("unreachable" in n for n in res.notes)  # the zero init Const of h
    info = describe(modelfile.load(tmp_path / "s.xml"))
    assert info["states"] == [] and [i["name"] for i in info["inputs"]][-2:] == ["previous_state_h",
                                                                                 "previous_state_c"]
    om = verify.read_model(tmp_path / "s.xml")
    assert not om.get_sinks() and len(om.inputs) == 4 and len(om.outputs) == 3
    # stateless model fed with zeros == stateful model's first step
    import openvino as ov

    core = ov.Core()
    cfg = {"INFERENCE_PRECISION_HINT": "f32"}
    x = np.random.default_rng(1).standard_normal((1, 4, 8)).astype(np.float32)
    lens = np.array([4], np.int32)
    a = core.compile_model(verify.read_model(src), "CPU", cfg).create_infer_request().infer(
        {"input_node": x, "input_lengths": lens})
    zeros = np.zeros((1, 10), np.float32)
    b = core.compile_model(om, "CPU", cfg).create_infer_request().infer(
        {"input_node": x, "input_lengths": lens, "previous_state_h": zeros, "previous_state_c": zeros})
    np.testing.assert_allclose(a["logits"], b["logits"], rtol=0, atol=1e-6)


def test_body_const_edit_keeps_the_rest(tmp_path: Path) -> None:
    src = _fixture("loop/model.xml")
    m = modelfile.load(src)
    ti = next(n for n in m.nodes if n.op_type == "TensorIterator")
    wx = next(n for n in ti.subgraphs["body"].nodes if n.name == "ti/Wx")
    set_const_value(wx, const_array(wx)[:, :2])  # smaller: every later offset moves
    if importlib.util.find_spec("openvino") is not None:
        # the body's MatMul no longer fits: the save gate's runtime check refuses it, writing nothing
        with pytest.raises(ModelfileError, match="runtime check failed: openvino"):
            m.save(tmp_path / "l.xml")
        assert not (tmp_path / "l.xml").exists() and not list(tmp_path.iterdir())
    m.save(tmp_path / "l.xml", verify=False)  # the writer's job is tested here: offsets follow
    a, b = src.read_text().splitlines(), (tmp_path / "l.xml").read_text().splitlines()
    assert len(a) == len(b)
    changed = [(x, y) for x, y in zip(a, b) if x != y]
    assert changed and all("offset=" in y or "<dim>" in y or "size=" in y for _, y in changed)
    m2 = modelfile.load(tmp_path / "l.xml")
    ti2 = next(n for n in m2.nodes if n.op_type == "TensorIterator")
    wx2 = next(n for n in ti2.subgraphs["body"].nodes if n.name == "ti/Wx")
    np.testing.assert_array_equal(const_array(wx2), const_array(wx))
    assert wx2.outputs[0].shape == (4, 2)


def test_port_map_follows_body_changes(tmp_path: Path) -> None:
    src = _fixture("loop/model.xml")
    m = modelfile.load(src)
    ti = next(n for n in m.nodes if n.op_type == "TensorIterator")
    body = ti.subgraphs["body"]
    # move the body's first layer to the end and renumber: every body id shifts, the port map
    # and back edges must follow
    first = body.nodes[0]
    body.nodes = [*body.nodes[1:], first]
    m.save(tmp_path / "l.xml", renumber=True)
    m2 = modelfile.load(tmp_path / "l.xml")
    ti2 = next(n for n in m2.nodes if n.op_type == "TensorIterator")
    body2 = ti2.subgraphs["body"]
    assert [n.source.id for n in body2.nodes] == [str(i) for i in range(len(body2.nodes))]
    assert [n.name for n in body2.nodes if n.op_type != "Parameter"] == \
        [n.name for n in body.nodes if n.op_type != "Parameter"]
    for e in ti2.meta["ir_port_map"]["body"]:
        orig = next(x for x in ti.meta["ir_port_map"]["body"] if x["attrs"] == {
            **e["attrs"], "internal_layer_id": x["attrs"]["internal_layer_id"]})
        assert e["node"].name == orig["node"].name
    if has_module("openvino"):
        from modelfile.formats.openvino import verify

        assert verify.infer_diff(src, tmp_path / "l.xml") == 0.0


def test_model_rt_info_edit(tmp_path: Path) -> None:
    src = _fixture("rnnt/encoder.xml")
    m = modelfile.load(src)
    rt = m.graph.meta["rt_info"]
    assert rt["conversion_parameters"]["framework"] == "pytorch"
    rt["modelfile"] = {"edited": "yes", "key with space": "1"}
    m.save(tmp_path / "e.xml")
    text = (tmp_path / "e.xml").read_text()
    assert "<modelfile>" in text and '<info name="key with space" value="1" />' in text
    m2 = modelfile.load(tmp_path / "e.xml")
    assert m2.graph.meta["rt_info"]["modelfile"] == {"edited": "yes", "key with space": "1"}
    if has_module("openvino"):
        from modelfile.formats.openvino import verify

        om = verify.read_model(tmp_path / "e.xml")
        assert om.get_rt_info(["modelfile", "edited"]).astype(str) == "yes"


def test_v10_stays_v10_unless_asked(tmp_path: Path) -> None:
    v10 = next((p for p in CORPUS if "conv_with_rt_info" in p.name), None)
    if v10 is None:
        pytest.skip("corpus not present")
    m = modelfile.load(v10)
    m.graph.nodes[0].name = "renamed_param"
    m.save(tmp_path / "a.xml")
    assert 'version="10"' in (tmp_path / "a.xml").read_text()[:200]
    m.save(tmp_path / "b.xml", version=11)
    head = (tmp_path / "b.xml").read_text()[:200]
    assert head.index('version="11"') < 100


def test_in_place_save_keeps_bin_and_survives_rewrites(tmp_path: Path) -> None:
    src = _fixture("rnnt/joint.xml")
    xml = tmp_path / "j.xml"
    shutil.copyfile(src, xml)
    shutil.copyfile(src.with_suffix(".bin"), tmp_path / "j.bin")
    m = modelfile.load(xml)
    assert m.save().weights == "unchanged"
    w = m.find_node("self.out.weight")
    orig = const_array(w).copy()
    set_const_value(m.find_node("self.lin_enc.weight"), np.zeros((24, 16), np.float32))
    m.save()  # rewrites j.bin in place (atomically: a new file)
    m.find_node("self.lin_enc.weight").meta.pop("ir_data")  # undo the change in memory
    m.find_node("self.lin_enc.weight").attrs.update(element_type="f32", shape="24, 16", size="1536")
    assert not is_modified(m)
    m.save()  # the original xml again: its .bin must come back too
    assert xml.read_bytes() == src.read_bytes()
    assert (tmp_path / "j.bin").read_bytes() == src.with_suffix(".bin").read_bytes()
    np.testing.assert_array_equal(const_array(w), orig)


def test_describe_fields() -> None:
    info = describe(modelfile.load(_fixture("stateful/model.xml")))
    assert info["format"] == "openvino" and info["version"] == 11
    assert {"variable_id": "previous_state_c", "shape": [1, 10], "type": "f32", "has_assign": True,
            "read_value": "previous_state_c/read", "has_init": False} in info["states"]
    assert info["ops"]["opset6::ReadValue"] == 2 and info["constants"]["count"] > 0
    assert info["constants"]["bin"]["exists"]
    info = describe(modelfile.load(_fixture("rnnt/encoder_onnx.xml")))
    assert info["conversion_parameters"]["input_model"] == "DIR/encoder.onnx"
    assert info["rt_info"]["conversion_parameters.input_model"] == "DIR/encoder.onnx"
    custom = next((p for p in CORPUS if "custom_op" in p.name), None)
    if custom is not None:
        assert describe(modelfile.load(custom))["custom_opsets"] == ["custom_opset"]
    legacy = next((p for p in CORPUS if "if_diff_case" in p.name), None)
    if legacy is not None:
        d = describe(modelfile.load(legacy))
        assert d["conversion_parameters"]["framework"] == "tf" and "MO_version" in d["rt_info"]


# ---------------------------------------------------------------------------------------------
# malformed and hostile input
# ---------------------------------------------------------------------------------------------

GOOD = """<?xml version="1.0"?>
<net name="t" version="11">
	<layers>
		<layer id="0" name="x" type="Parameter" version="opset1">
			<data shape="1,4" element_type="f32" />
			<output>
				<port id="0" precision="FP32" names="x">
					<dim>1</dim>
					<dim>4</dim>
				</port>
			</output>
		</layer>
		<layer id="1" name="r" type="ReLU" version="opset1">
			<input>
				<port id="0" precision="FP32">
					<dim>1</dim>
					<dim>4</dim>
				</port>
			</input>
			<output>
				<port id="1" precision="FP32" names="y">
					<dim>1</dim>
					<dim>4</dim>
				</port>
			</output>
		</layer>
		<layer id="2" name="out" type="Result" version="opset1">
			<input>
				<port id="0" precision="FP32">
					<dim>1</dim>
					<dim>4</dim>
				</port>
			</input>
		</layer>
	</layers>
	<edges>
		<edge from-layer="0" from-port="0" to-layer="1" to-port="0" />
		<edge from-layer="1" from-port="1" to-layer="2" to-port="0" />
	</edges>
	<rt_info />
</net>
"""


def _err(text: str) -> ModelfileError:
    with pytest.raises(ModelfileError) as e:
        read_text(text)
    return e.value


def test_good_document_reads() -> None:
    m = read_text(GOOD)
    assert [v.name for v in m.graph.inputs] == ["x"] and [v.name for v in m.graph.outputs] == ["y"]
    assert to_text(m) == GOOD


@pytest.mark.parametrize("cut", [200, 700, len(GOOD) - 8])
def test_truncated_xml(cut: int) -> None:
    e = _err(GOOD[:cut])
    assert "malformed XML" in str(e) and e.diagnostic.line > 0


def test_doctype_and_entities_are_refused() -> None:
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE net [\n <!ENTITY a "aaaaaaaaaa">\n <!ENTITY b "&a;&a;&a;&a;&a;">\n]>\n'
            + GOOD.split("\n", 1)[1])
    e = _err(bomb)
    assert "DTDs/entities are not allowed" in str(e) and e.diagnostic.line == 2
    e = _err(GOOD.replace('name="r"', 'name="&b;"'))
    assert "entit" in str(e) and e.diagnostic.line == _line_of('name="r"')
    ext = '<?xml version="1.0"?>\n<!DOCTYPE net SYSTEM "http://example.com/x.dtd">\n<net version="11"/>'
    assert "DTD" in str(_err(ext))


def _line_of(needle: str) -> int:
    return next(i for i, line in enumerate(GOOD.splitlines(), 1) if needle in line)


def test_structural_errors_have_lines() -> None:
    e = _err(GOOD.replace('from-layer="0" from-port="0" to-layer="1"', 'from-layer="7" from-port="0" to-layer="1"'))
    assert "missing layer 7" in str(e) and e.diagnostic.line == _line_of('from-layer="0" from-port="0"')
    e = _err(GOOD.replace('to-layer="2" to-port="0"', 'to-layer="2" to-port="5"'))
    assert "no input port 5" in str(e) and e.diagnostic.line == _line_of('to-layer="2" to-port="0"')
    e = _err(GOOD.replace('<layer id="2"', '<layer id="1"'))
    assert "duplicate layer id 1" in str(e)
    e = _err(GOOD.replace('version="11"', 'version="7"', 1))
    assert "unsupported IR version" in str(e) and e.diagnostic.line == 2
    e = _err(GOOD.replace("<net ", "<model ").replace("</net>", "</model>"))
    assert "expected <net>" in str(e)
    e = _err(GOOD.replace("</output>", "</outputs>", 1))
    assert "malformed XML" in str(e) and e.diagnostic.line == _line_of("</output>")
    e = _err(GOOD.replace("<dim>4</dim>", "<dim>four</dim>", 1))
    assert "<dim>four</dim> is not a dimension" in str(e) and e.diagnostic.line == _line_of("<dim>4</dim>")
    # "?" and ranges are refused by the runtime in ports, but loading such a file must work (to fix it)
    m = read_text(GOOD.replace("<dim>4</dim>", "<dim>?</dim>", 3))
    assert m.graph.outputs[0].shape == (1, -1) and m.graph.inputs[0].shape == (1, 4)
    assert "not an XML file" in str(_err("hello"))
    assert "not an XML" in str(_err("\x00\x01binary"))


def test_not_xml_via_load(tmp_path: Path) -> None:
    p = tmp_path / "x.xml"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(ModelfileError) as e:
        modelfile.load(p)
    assert e.value.diagnostic.file == str(p)


def test_odd_but_valid_xml_reads() -> None:
    odd = (GOOD.replace('<layer id="1" name="r" type="ReLU" version="opset1">',
                        "<layer type='ReLU' id='1' name='r&amp;q' version=\"opset1\"><!-- c -->")
           .replace("<edges>", "<edges><!-- e -->"))
    m = read_text(odd)
    r = m.find_node("r&q")
    assert r is not None and r.op_type == "ReLU" and r.inputs[0] is m.graph.inputs[0]
    assert to_text(m) == odd
    r.name = "r2"
    out = to_text(m)
    assert "name='r2'" in out and "<!-- c -->" in out


# ---------------------------------------------------------------------------------------------
# big, sparse weights
# ---------------------------------------------------------------------------------------------


def test_sparse_multi_gb_bin_keeps_memory_flat(tmp_path: Path) -> None:
    """Edit a model whose .bin is 3 GB (sparse) and save it twice: peak RSS must stay < 300 MB."""
    script = textwrap.dedent(f"""
        import resource, sys, numpy as np
        sys.path.insert(0, {str(Path(__file__).resolve().parents[3])!r})
        import modelfile
        from modelfile.formats.openvino import set_const_value, const_array
        size = 3 * 1024**3
        xml = {str(tmp_path / "big.xml")!r}
        m = modelfile.load(xml)
        m.graph.inputs[0].name = "renamed"
        r1 = m.save({str(tmp_path / "a.xml")!r})             # .bin copied (sparse-aware)
        set_const_value(m.find_node("small"), np.array([7.0, 8.0], np.float32))
        r2 = m.save({str(tmp_path / "b.xml")!r})             # .bin rewritten, streamed
        assert const_array(m.find_node("big")).shape == (size // 4,)
        hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")]
        peak = hwm[0] // 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(r1.weights, r2.weights, peak)
    """)
    big = 3 * 1024 ** 3
    xml = GOOD.replace('<layer id="2" name="out"', '''<layer id="3" name="big" type="Const" version="opset1">
			<data element_type="f32" shape="{n}" offset="0" size="{big}" />
			<output>
				<port id="0" precision="FP32"><dim>{n}</dim></port>
			</output>
		</layer>
		<layer id="4" name="small" type="Const" version="opset1">
			<data element_type="f32" shape="2" offset="{big}" size="8" />
			<output>
				<port id="0" precision="FP32"><dim>2</dim></port>
			</output>
		</layer>
		<layer id="5" name="s" type="ReduceSum" version="opset1">
			<input><port id="0"><dim>{n}</dim></port><port id="1"><dim>2</dim></port></input>
			<output><port id="2" precision="FP32" /></output>
		</layer>
		<layer id="6" name="out2" type="Result" version="opset1">
			<input><port id="0" /></input>
		</layer>
		<layer id="2" name="out"'''.format(n=big // 4, big=big)).replace(
        "</edges>", '\t<edge from-layer="3" from-port="0" to-layer="5" to-port="0" />\n'
                    '\t\t<edge from-layer="4" from-port="0" to-layer="5" to-port="1" />\n'
                    '\t\t<edge from-layer="5" from-port="2" to-layer="6" to-port="0" />\n\t</edges>')
    (tmp_path / "big.xml").write_text(xml)
    with open(tmp_path / "big.bin", "wb") as f:
        f.truncate(big + 8)
    free = shutil.disk_usage(tmp_path).free
    if free < 64 * 1024 ** 2:
        pytest.skip("no disk space")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    w1, w2, rss = out.stdout.split()
    assert (w1, w2) == ("copied", "rewritten")
    assert int(rss) < 300, f"peak RSS {rss} MB"
    assert (tmp_path / "b.bin").stat().st_size == big + 8
    assert os.stat(tmp_path / "b.bin").st_blocks * 512 < 64 * 1024 ** 2  # still sparse


@pytest.mark.parametrize("src", CORPUS + OV_FIXTURES, ids=_short)
def test_fast_and_general_scanners_agree(src: Path) -> None:
    """A comment in every layer forces the general scanner; the graph must be the same."""
    import re

    from test_openvino_edits import signature

    text = src.read_text(encoding="utf-8")
    slow = re.sub(r"(<layer\b[^>]*>)", r"\1<!-- slow path -->", text)
    fast_m, slow_m = read_text(text), read_text(slow)
    assert signature(slow_m.graph, prune=False) == signature(fast_m.graph, prune=False)
    assert [n.source.id for n in slow_m.nodes] == [n.source.id for n in fast_m.nodes]
    assert to_text(slow_m) == slow
    # edited the same way, both write the same layers
    for m in (fast_m, slow_m):
        for n in m.nodes:
            n.name = n.name + "_x"
    assert to_text(slow_m).replace("<!-- slow path -->", "") == to_text(fast_m)


def _uses_sig(m: modelfile.Model) -> list[list[tuple[str, int]]]:
    """Every value's uses as (consumer name, port), in connection order."""
    return [[(u.node.name, u.index) for u in v.uses] for n in m.nodes for v in n.outputs]


@pytest.mark.parametrize("src", CORPUS + OV_FIXTURES, ids=_short)
def test_edges_read_ahead_and_after_agree(src: Path) -> None:
    """The loader connects layers while scanning, from an ``<edges>`` block found ahead; when that guess
    is defeated (a comment in ``<edges>``, or a decoy ``<edges>`` after the real one) the graph is the same."""
    from test_openvino_edits import signature

    text = src.read_text(encoding="utf-8")
    ahead = read_text(text)
    no_fast = text.replace("<edges>", "<edges><!-- e -->", 1)
    decoy = text.replace("</net>", "<!-- <edges> --></net>")
    for variant in (no_fast, decoy):
        m = read_text(variant)
        assert signature(m.graph, prune=False) == signature(ahead.graph, prune=False)
        assert _uses_sig(m) == _uses_sig(ahead)
        assert [v.name for v in m.graph.inputs] == [v.name for v in ahead.graph.inputs]
        assert [v.name for v in m.graph.outputs] == [v.name for v in ahead.graph.outputs]
        assert not is_modified(m) and to_text(m) == variant


def test_layers_before_their_producers() -> None:
    """Layers listed consumers-first are connected all the same (producers resolved after the scan)."""
    import re

    blocks = re.findall(r"\t\t<layer .*?</layer>\n", GOOD, re.S)
    assert len(blocks) == 3
    reordered = GOOD.replace("".join(blocks), "".join(reversed(blocks)))
    m = read_text(reordered)
    assert [n.name for n in m.nodes] == ["out", "r", "x"]
    r, x = m.find_node("r"), m.find_node("x")
    assert r.inputs[0] is x.outputs[0] and m.find_node("out").inputs[0] is r.outputs[0]
    assert [v.name for v in m.graph.inputs] == ["x"] and [v.name for v in m.graph.outputs] == ["y"]
    assert to_text(m) == reordered and not is_modified(m)


def test_edge_into_missing_layer() -> None:
    e = _err(GOOD.replace('to-layer="2" to-port="0"', 'to-layer="9" to-port="0"'))
    assert "missing layer 9" in str(e) and e.diagnostic.line == _line_of('to-layer="2" to-port="0"')


@pytest.mark.parametrize("edit", ["drop_first", "drop_last", "swap"])
def test_edges_out_of_layer_order(edit: str) -> None:
    """Edges not in the layers' order, or a layer with an input no edge feeds, read as after the scan."""
    from test_openvino_edits import signature

    e0 = '\t\t<edge from-layer="0" from-port="0" to-layer="1" to-port="0" />\n'
    e1 = '\t\t<edge from-layer="1" from-port="1" to-layer="2" to-port="0" />\n'
    text = {"drop_first": GOOD.replace(e0, ""), "drop_last": GOOD.replace(e1, ""),
            "swap": GOOD.replace(e0 + e1, e1 + e0)}[edit]
    m = read_text(text)
    ref = read_text(text.replace("<edges>", "<edges><!-- e -->"))
    assert signature(m.graph, prune=False) == signature(ref.graph, prune=False)
    assert _uses_sig(m) == _uses_sig(ref)
    assert [v.name for v in m.graph.outputs] == [v.name for v in ref.graph.outputs]
    assert to_text(m) == text


@pytest.mark.parametrize("src", (CORPUS + OV_FIXTURES)[:6], ids=_short)
def test_positions_are_computed_on_demand(src: Path) -> None:
    """Node.pos comes from the layer's offset when asked (both scanners), as line_col says."""
    import re

    from modelfile.formats.openvino.xmlscan import line_col

    text = src.read_text(encoding="utf-8")
    slow = re.sub(r"(<layer\b[^>]*>)", r"\1<!-- slow path -->", text)
    padded = text.replace("<net ", "<!--" + "pad\n" * 50_000 + "--><net ", 1)  # offsets past 64 KiB blocks
    for t in (text, slow, padded):
        m = read_text(t)
        doc = document(m)
        for n in m.nodes:
            assert (n.pos.line, n.pos.column) == line_col(t, n.source.start)
            assert t.startswith("<layer", n.source.start)
        for off in (0, 1, len(t) // 3, len(t) // 2, len(t) - 1, len(t)):
            p = doc.pos(off)
            assert (p.line, p.column) == line_col(t, off)


def test_node_listed_twice_is_refused() -> None:
    m = read_text(GOOD)
    with pytest.raises(ValueError, match="already in this graph"):  # the graph keeps its nodes unique
        m.graph.nodes.insert(1, m.graph.nodes[1])


def test_blank_names_is_the_regex_split() -> None:
    """The loader blanks ``names="..."`` values with str.find; it must cut exactly where the regex does."""
    import random
    import re

    from modelfile.formats.openvino.reader import _blank_names

    names_attr = re.compile(r'(?<=[ \t\r\n])names="([^"]*)"')  # what the loader matched before

    def by_regex(r: str) -> tuple[str, list[str]]:
        parts = names_attr.split(r)
        return 'names=""'.join(parts[::2]), parts[1::2]

    rnd = random.Random(0)
    pieces = ['names="', '"', " ", "\n", "\t", "a", ",", 'tensor_names="', '<port id="0" ', ">", "</port>"]
    for _ in range(20000):
        r = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 14)))
        assert _blank_names(r) == by_regex(r), repr(r)
