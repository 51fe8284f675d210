"""IR input/output names as read_model reports them: v10 layer names, positions, nameless outputs, collisions."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import corpus_files, has_module, needs_openvino

import modelfile
from modelfile.errors import ModelfileError
from modelfile.formats.openvino import document
from modelfile.formats.openvino.ionames import (
    io_names,
    ir_version,
    tensor_name_collisions,
)
from modelfile.passes.rename import name_outputs, rename

V10 = [p for p in corpus_files("openvino") + corpus_files("openvino-with-weights")
       if p.suffix == ".xml" and 'version="10"' in p.read_text(errors="replace")[:600]]
# TensorIterator files zero weights make invalid, and a custom opset: OpenVINO cannot load them at all
UNLOADABLE = ("ti_negative_stride", "ti_resnet", "custom_op")


def _short(p: Path) -> str:
    return p.name.split("__")[-1]


def with_zero_bin(src: Path, tmp: Path) -> Path:
    """``src`` copied into ``tmp`` with its .bin, or a zero-filled one as large as its Consts need."""
    dst = tmp / src.name
    shutil.copyfile(src, dst)
    if src.with_suffix(".bin").exists():
        shutil.copyfile(src.with_suffix(".bin"), dst.with_suffix(".bin"))
        return dst
    doc = document(modelfile.load(dst))
    need = max((int(n.attrs.get("offset", 0)) + int(n.attrs.get("size", 0)) for n in doc.consts), default=0)
    if need:
        with open(dst.with_suffix(".bin"), "wb") as f:
            f.truncate(need)
    return dst


def _ov_names(path: Path) -> tuple[list[set[str]], list[set[str]]]:
    import openvino as ov

    m = ov.Core().read_model(str(path))
    return [set(i.get_names()) for i in m.inputs], [set(o.get_names()) for o in m.outputs]


def test_v10_corpus_found() -> None:
    if not V10:
        pytest.skip("shared corpus not found")
    assert len(V10) == 13


@pytest.mark.parametrize("src", V10, ids=_short)
def test_v10_names_match_read_model(src: Path, tmp_path: Path) -> None:
    m = modelfile.load(src)
    assert ir_version(m.graph) == 10
    ours_in = [set(io_names(m.graph, v)) for v in m.graph.inputs]
    ours_out = [set(io_names(m.graph, v)) for v in m.graph.outputs]
    assert all(ours_in) and all(ours_out)  # a v10 input/output always has a name
    info = modelfile.formats.openvino.describe(m)
    assert [i["name"] for i in info["inputs"]] == [m.graph.inputs[k].producer.name for k in range(len(ours_in))]
    if not has_module("openvino") or any(u in src.name for u in UNLOADABLE):
        return
    ov_in, ov_out = _ov_names(with_zero_bin(src, tmp_path))
    assert (ours_in, ours_out) == (ov_in, ov_out)


@pytest.mark.parametrize("src", V10, ids=_short)
def test_v10_rename_every_io(src: Path, tmp_path: Path) -> None:
    """Rename each input and output by the name read_model reports; read_model then reports the new one."""
    path = with_zero_bin(src, tmp_path)
    m = modelfile.load(path)
    g = m.graph
    mapping: dict[str, str] = {}
    want_in, want_out = [], []
    for k, v in enumerate(g.inputs):
        mapping[v.producer.name] = f"in_{k}"
        want_in.append(f"in_{k}")
    for k, v in enumerate(g.outputs):
        p = v.producer
        suffix = f".{v.index}" if len(p.outputs) > 1 else ""
        old = f"{p.name}{suffix}"
        if old in mapping:
            continue
        mapping[old] = f"out_{k}{suffix}"
        want_out.append(f"out_{k}{suffix}")
    rep = rename(m, mapping)
    assert rep.modified
    # nothing v11-like was added: no port names the file did not have
    assert not any(n in v.names for v in g.values() for n in want_in + want_out)
    out = tmp_path / "renamed.xml"
    m.save(out)
    text = out.read_text()
    assert "<meta_data>" in text or "<meta_data>" not in src.read_text()
    m2 = modelfile.load(out)
    assert [io_names(m2.graph, v)[0] for v in m2.graph.inputs] == want_in
    if not has_module("openvino") or any(u in src.name for u in UNLOADABLE):
        return
    ov_in, ov_out = _ov_names(out)
    assert [w in s for w, s in zip(want_in, ov_in)] == [True] * len(want_in)
    assert all(any(w in s for s in ov_out) for w in want_out)


def test_v10_multi_output_rename_needs_port_suffix(tmp_path: Path) -> None:
    src = next((p for p in V10 if "nms5_dynamism" in p.name), None)
    if src is None:
        pytest.skip("corpus not found")
    m = modelfile.load(src)
    with pytest.raises(ModelfileError, match=r"must end in '\.2'"):
        rename(m, {"NonMaxSuppression_73.2": "valid"})
    rename(m, {"output#0": "nms.2"})
    assert m.find_node("nms") is not None


def test_v10_rename_refuses_name_of_another_io() -> None:
    src = next((p for p in V10 if "age-gender" in p.name), None)
    if src is None:
        pytest.skip("corpus not found")
    m = modelfile.load(src)
    with pytest.raises(ModelfileError, match="already named"):
        rename(m, {"age_conv3": "prob"})
    with pytest.raises(ModelfileError, match="already named"):
        rename(m, {"data": "prob"})


# ---------------------------------------------------------------------------------------------
# v11: outputs without names, positions, producing op
# ---------------------------------------------------------------------------------------------


def _nameless_outputs(tmp: Path) -> Path:
    """A v11 IR from OpenVINO's opset API whose two outputs have no tensor names (as convert_model leaves them)."""
    import openvino as ov
    import openvino.opset13 as ops

    x = ops.parameter([2, 3], ov.Type.f32, name="x")
    x.output(0).get_tensor().set_names({"x"})
    y = ops.parameter([2, 3], ov.Type.f32, name="y")
    y.output(0).get_tensor().set_names({"y"})
    mul = ops.multiply(x, y, name="MULTIPLY")
    add = ops.add(x, y, name="ADD")
    model = ov.Model([ops.result(mul), ops.result(add)], [x, y], "nameless")
    path = tmp / "nameless.xml"
    ov.save_model(model, str(path), compress_to_fp16=False)
    # 2026 save_model names Results after themselves; older IRs (and convert_model's) have no output names
    path.write_text(re.sub(r' (output_)?names="Result_\d+"', "", path.read_text()))
    return path


@needs_openvino
@pytest.mark.parametrize("how", ["MULTIPLY", "MULTIPLY:0", "output#0"])
def test_rename_nameless_output(tmp_path: Path, how: str) -> None:
    path = _nameless_outputs(tmp_path)
    m = modelfile.load(path)
    assert [io_names(m.graph, v) for v in m.graph.outputs] == [[], []]
    rename(m, {how: "product", "input#1": "second"})
    m.save(tmp_path / "r.xml")
    ov_in, ov_out = _ov_names(tmp_path / "r.xml")
    assert ov_in == [{"x"}, {"second"}]
    assert ov_out[0] == {"product"}
    _run_same(path, tmp_path / "r.xml")


@needs_openvino
def test_name_outputs(tmp_path: Path) -> None:
    path = _nameless_outputs(tmp_path)
    m = modelfile.load(path)
    rep = name_outputs(m)
    assert [c.after for c in rep.changes if c.kind == "rename-tensor"] == ["MULTIPLY", "ADD"]
    assert name_outputs(m).notes == ["every output already has a name"]
    m.save(tmp_path / "n.xml")
    assert _ov_names(tmp_path / "n.xml")[1] == [{"MULTIPLY"}, {"ADD"}]
    _run_same(path, tmp_path / "n.xml")


@needs_openvino
def test_cli_rename_name_outputs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from modelfile.cli import app

    path = _nameless_outputs(tmp_path)
    r = CliRunner().invoke(app, ["rename", str(path), "output#1=sum", "--name-outputs", "-o", str(tmp_path / "c.xml")])
    assert r.exit_code == 0, r.output
    assert _ov_names(tmp_path / "c.xml")[1] == [{"MULTIPLY"}, {"sum"}]
    r = CliRunner().invoke(app, ["rename", str(path), "output#7=sum", "-o", str(tmp_path / "d.xml")])
    assert r.exit_code == 2 and "has 2 output(s)" in r.output


def _run_same(a: Path, b: Path) -> None:
    import openvino as ov

    core = ov.Core()
    cfg = {"INFERENCE_PRECISION_HINT": "f32"}
    rng = np.random.default_rng(0)
    feeds = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2)]
    ra = core.compile_model(str(a), "CPU", cfg)(feeds)
    rb = core.compile_model(str(b), "CPU", cfg)(feeds)
    for x, y in zip(ra.values(), rb.values()):
        np.testing.assert_array_equal(x, y)


# ---------------------------------------------------------------------------------------------
# collisions
# ---------------------------------------------------------------------------------------------


def test_collisions_clean_on_corpus() -> None:
    for src in V10:
        assert tensor_name_collisions(modelfile.load(src)) == [], src.name


@needs_openvino
def test_v10_collision_is_what_read_model_refuses(tmp_path: Path) -> None:
    """A port name equal to another output's layer-derived name: we report it, read_model refuses it."""
    src = next((p for p in V10 if "age-gender" in p.name), None)
    if src is None:
        pytest.skip("corpus not found")
    path = with_zero_bin(src, tmp_path)
    m = modelfile.load(path)
    v = m.graph.outputs[0]
    v.names = ["prob"]  # the other output's v10 name
    probs = tensor_name_collisions(m)
    assert probs and probs[0].name == "prob"
    with pytest.raises(ModelfileError, match="IR013"):  # the save gate refuses it (lint IR013)
        m.save(tmp_path / "bad.xml")
    assert not (tmp_path / "bad.xml").exists()
    m.save(tmp_path / "bad.xml", force=True, verify=False)
    import openvino as ov

    with pytest.raises(RuntimeError, match="collisions"):
        ov.Core().read_model(str(tmp_path / "bad.xml"))
