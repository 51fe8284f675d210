"""Port dims after reshape/freeze/cut are the ones OpenVINO infers; what it rejects is refused."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, FIXTURES, needs_openvino

import modelfile
from modelfile.errors import ModelfileError
from modelfile.formats.openvino import describe
from modelfile.mo_input import parse_input
from modelfile.passes.freeze import freeze
from modelfile.passes.reshape import reshape

FD = CORPUS / "openvino-with-weights" / "face-detection-retail-0005-fp32.xml"
PD = CORPUS / "openvino-with-weights" / "person-detection-retail-0013-fp32.xml"


def _copy(src: Path, tmp: Path) -> Path:
    if not src.exists():
        pytest.skip(f"{src.name} not found")
    dst = tmp / src.name
    shutil.copyfile(src, dst)
    shutil.copyfile(src.with_suffix(".bin"), dst.with_suffix(".bin"))
    return dst


def _changed_lines(a: Path, b: Path) -> list[tuple[str, str]]:
    la, lb = a.read_text().splitlines(), b.read_text().splitlines()
    assert len(la) == len(lb)
    return [(x.strip(), y.strip()) for x, y in zip(la, lb) if x != y]


@needs_openvino
def test_reshape_llm_rewrites_only_dims_that_change(tmp_path: Path) -> None:
    import openvino as ov

    src = _copy(FIXTURES / "openvino" / "llm" / "llama_stateful.xml", tmp_path)
    m = modelfile.load(src)
    rep = reshape(m, parse_input("input_ids[1,16]"))
    assert any(c.kind == "infer-port-dims" for c in rep.changes)
    out = tmp_path / "r.xml"
    m.save(out)
    changed = _changed_lines(src, out)
    # only unknown dims became known; no static head / head-dim / vocab dim became -1
    assert changed[0] == ('<data shape="?,?" element_type="i64" />', '<data shape="1,16" element_type="i64" />')
    assert all(a == "<dim>-1</dim>" and b in ("<dim>1</dim>", "<dim>16</dim>") for a, b in changed[1:])
    want = ov.Core().read_model(str(src))
    want.reshape({"input_ids": [1, 16]})
    got = ov.Core().read_model(str(out))
    assert got.outputs[0].get_partial_shape() == want.outputs[0].get_partial_shape()


@needs_openvino
def test_info_shows_the_inferred_output_shape(tmp_path: Path) -> None:
    import openvino as ov

    src = _copy(FD, tmp_path)
    m = modelfile.load(src)
    reshape(m, parse_input("input.1[1,3,320,320]"))
    out = tmp_path / "fd320.xml"
    m.save(out)
    info = describe(modelfile.load(out))
    om = ov.Core().read_model(str(src))
    om.reshape({"input.1": [1, 3, 320, 320]})
    assert info["outputs"][0]["shape"] == [int(d.get_length()) for d in om.outputs[0].get_partial_shape()]
    assert info["outputs"][0]["shape"] == [1, 1, 200, 7]


@needs_openvino
def test_reshape_shape_inference_rejects_is_refused(tmp_path: Path) -> None:
    src = _copy(PD, tmp_path)
    m = modelfile.load(src)
    rep = reshape(m, parse_input("data[1,4,320,544]"))
    why = [c for c in rep.changes if c.kind == "shape-inference-failed"]
    assert why and "Argument shapes are inconsistent" in why[0].detail
    with pytest.raises(ModelfileError, match="not written: the runtime check failed.*Argument shapes are inconsistent"):
        m.save(tmp_path / "api.xml")
    assert not (tmp_path / "api.xml").exists()
    from typer.testing import CliRunner

    from modelfile.cli import app

    out = tmp_path / "bad.xml"
    r = CliRunner().invoke(app, ["reshape", str(src), "data[1,4,320,544]", "-o", str(out)])
    assert r.exit_code == 2 and "Argument shapes are inconsistent" in r.output
    assert not out.exists() and not out.with_suffix(".bin").exists()


def _u8_model(tmp: Path) -> Path:
    import openvino as ov
    import openvino.opset13 as ops

    x = ops.parameter([2], ov.Type.u8, name="x")
    x.output(0).get_tensor().set_names({"x"})
    n = ops.parameter([], ov.Type.i64, name="n")
    n.output(0).get_tensor().set_names({"n"})
    y = ops.multiply(ops.convert(x, "i64"), n, name="y")
    y.output(0).get_tensor().set_names({"y"})
    path = tmp / "u8.xml"
    ov.save_model(ov.Model([ops.result(y)], [x, n], "u8"), str(path))
    return path


@needs_openvino
@pytest.mark.parametrize("item,why", [("n->157.5", "157.5 is not an integer"),
                                      ("x->[300 1]", "300 is outside 0..255"),
                                      ("x->[-1 1]", "-1 is outside 0..255")])
def test_freeze_value_must_fit_the_type(tmp_path: Path, item: str, why: str) -> None:
    m = modelfile.load(_u8_model(tmp_path))
    with pytest.raises(ModelfileError, match=why):
        freeze(m, parse_input(item))


@needs_openvino
def test_freeze_in_range_runs(tmp_path: Path) -> None:
    import openvino as ov

    m = modelfile.load(_u8_model(tmp_path))
    freeze(m, parse_input("x->[255 7]"))
    m.save(tmp_path / "f.xml")
    r = ov.Core().compile_model(str(tmp_path / "f.xml"), "CPU")({"n": np.array(2, np.int64)})
    np.testing.assert_array_equal(r["y"], [510, 14])


def test_without_openvino_dims_stay_unknown_and_the_report_says_why(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    src = _copy(FIXTURES / "openvino" / "rnnt" / "encoder.xml", tmp_path)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "openvino" else real(name, *a))
    m = modelfile.load(src)
    rep = reshape(m, parse_input("input[157,1,240]"))
    why = [c for c in rep.changes if c.kind == "clear-port-dims"]
    assert why and "openvino is not installed" in why[0].detail
    lstm = next(n for n in m.graph.nodes if n.op_type == "LSTMSequence")
    assert all(d == -1 for d in lstm.outputs[0].shape)


@needs_openvino
def test_freeze_makes_downstream_dims_what_openvino_infers(tmp_path: Path) -> None:
    import openvino as ov

    src = _copy(FIXTURES / "openvino" / "rnnt" / "encoder.xml", tmp_path)
    m = modelfile.load(src)
    from modelfile.passes.cut import cut

    rep = cut(m, parse_input("input[157,1,240],feature_length->157"))  # the RNN-T guide's --input
    assert any(c.kind == "infer-port-dims" for c in rep.changes)
    out = tmp_path / "f.xml"
    m.save(out)
    om = ov.Core().read_model(str(out))
    ours = modelfile.load(out)
    assert describe(ours)["outputs"][0]["shape"] == [int(d.get_length()) if d.is_static else -1
                                                     for d in om.outputs[0].get_partial_shape()]
