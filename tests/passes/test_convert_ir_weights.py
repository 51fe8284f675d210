"""`modelfile convert MODEL.xml --weights fp16|fp32` against OpenVINO's own `compress_to_fp16`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import modelfile
from conftest import CORPUS, FIXTURES, needs_openvino
from modelfile.cli import app
from modelfile.formats.openvino.weights import const_array
from modelfile.lint import lint_file
from modelfile.passes.convert import convert_weights

runner = CliRunner()
RNNT = FIXTURES / "openvino" / "rnnt"
OVW = CORPUS / "openvino-with-weights"
rng = np.random.default_rng(5)
CASES: dict[str, tuple[Path, dict[str, np.ndarray] | None]] = {
    "joint": (RNNT / "joint.xml", {"f": rng.standard_normal((1, 1, 16)).astype(np.float32),
                                   "g": rng.standard_normal((1, 1, 16)).astype(np.float32)}),
    "encoder": (RNNT / "encoder.xml", {"input": rng.standard_normal((7, 1, 240)).astype(np.float32),
                                       "feature_length": np.array(7, np.int64)}),
    "prediction": (RNNT / "prediction.xml", {"symbol": np.array([[3]], np.int64),
                                             "hidden_in_1": rng.standard_normal((2, 1, 16)).astype(np.float32),
                                             "hidden_in_2": rng.standard_normal((2, 1, 16)).astype(np.float32)}),
    "stateful": (FIXTURES / "openvino" / "stateful" / "model.xml", None),
    "face-fp32": (OVW / "face-detection-retail-0005-fp32.xml", None),
    "person-fp32": (OVW / "person-detection-retail-0013-fp32.xml", None),
}


def _consts(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for n in modelfile.load(path).nodes:
        if n.op_type == "Const":
            et = n.attrs["element_type"]
            out[et] = out.get(et, 0) + 1
    return out


_CHILD = r"""
import json, sys
import numpy as np
import openvino as ov
spec = json.load(open(sys.argv[1]))
core = ov.Core()
if spec["op"] == "compress":
    ov.save_model(core.read_model(spec["src"]), spec["dst"], compress_to_fp16=True)
    sys.exit(0)
c = core.compile_model(core.read_model(spec["src"]), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
if spec["feeds"]:
    data = np.load(spec["feeds"])
    feeds = {k: data[k] for k in data.files}
else:
    r = np.random.default_rng(0)
    feeds = {}
    for i in c.inputs:
        shape = [d.get_length() if d.is_static else 1 for d in i.get_partial_shape()]
        feeds[i.get_any_name()] = r.standard_normal(shape).astype(i.get_element_type().to_dtype())
res = c.create_infer_request().infer(feeds)
np.savez(spec["dst"], *[np.array(res[o]) for o in c.outputs])
"""


def _child(tmp: Path, **spec: object) -> None:
    """OpenVINO in a child process: its node counters (which name nodes in its messages) stay untouched here."""
    (tmp / "ov_child.py").write_text(_CHILD)
    (tmp / "ov_spec.json").write_text(json.dumps(spec, default=str))
    r = subprocess.run([sys.executable, str(tmp / "ov_child.py"), str(tmp / "ov_spec.json")], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-800:]


def _run(path: Path, feeds: dict[str, np.ndarray] | None) -> list[np.ndarray]:
    tmp = path.parent
    feeds_file = ""
    if feeds is not None:
        feeds_file = str(tmp / "feeds.npz")
        np.savez(feeds_file, **feeds)
    _child(tmp, op="run", src=str(path), dst=str(tmp / "out.npz"), feeds=feeds_file)
    out = np.load(tmp / "out.npz")
    return [out[f"arr_{i}"] for i in range(len(out.files))]


def _convert(src: Path, to: str, out: Path) -> dict:
    # --no-verify: the save gate would read the result with OpenVINO in this process; the tests run it in a
    # child instead (OpenVINO's node counters, which name nodes in its messages, stay as other tests expect)
    r = runner.invoke(app, ["convert", str(src), "--weights", to, "-o", str(out), "--json", "--no-verify"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@needs_openvino
@pytest.mark.parametrize("case", sorted(CASES))
def test_fp16_like_openvino_and_back(case: str, tmp_path: Path) -> None:
    src, feeds = CASES[case]
    if not src.exists():
        pytest.skip("corpus not available")
    _child(tmp_path, op="compress", src=str(src), dst=str(tmp_path / "ov16.xml"))
    _convert(src, "fp16", tmp_path / "mf16.xml")
    # same bytes of weights and the same Consts as OpenVINO's own compression
    assert (tmp_path / "mf16.bin").stat().st_size == (tmp_path / "ov16.bin").stat().st_size
    assert _consts(tmp_path / "mf16.xml") == _consts(tmp_path / "ov16.xml")
    want16 = _run(tmp_path / "ov16.xml", feeds)
    for a, b in zip(_run(tmp_path / "mf16.xml", feeds), want16):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    # and back: OpenVINO's fp16 IR to f32 Consts, computing exactly what it computed
    _convert(tmp_path / "ov16.xml", "fp32", tmp_path / "mf32.xml")
    assert (tmp_path / "mf32.bin").stat().st_size == src.with_suffix(".bin").stat().st_size
    assert "f16" not in _consts(tmp_path / "mf32.xml")
    for a, b in zip(_run(tmp_path / "mf32.xml", feeds), want16):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    for p in ("mf16.xml", "mf32.xml"):
        assert not [d for d in lint_file(tmp_path / p) if d.severity.value == "error"]


def test_graph_round_trip_without_runtime(tmp_path: Path) -> None:
    src = RNNT / "joint.xml"
    before = {n.name: np.array(const_array(n)) for n in modelfile.load(src).nodes if n.op_type == "Const"}
    data = _convert(src, "fp16", tmp_path / "h.xml")
    assert data["changes"][0]["after"].startswith("f16: ") and "Convert" in data["changes"][0]["detail"]
    half = modelfile.load(tmp_path / "h.xml")
    convs = [n for n in half.nodes if n.op_type == "Convert"]
    assert len(convs) == len(before) and all(c.attrs["destination_type"] == "f32" for c in convs)
    assert {c.inputs[0].producer.name for c in convs} == {f"{k}_compressed" for k in before}
    assert (tmp_path / "h.bin").stat().st_size * 2 == src.with_suffix(".bin").stat().st_size
    _convert(tmp_path / "h.xml", "fp32", tmp_path / "f.xml")
    after = {n.name: np.array(const_array(n)) for n in modelfile.load(tmp_path / "f.xml").nodes
             if n.op_type == "Const"}
    assert set(after) == set(before)
    for k, v in before.items():
        np.testing.assert_array_equal(after[k], v.astype(np.float16).astype(np.float32))
    assert not any(n.op_type == "Convert" for n in modelfile.load(tmp_path / "f.xml").nodes)


def test_true_fp16_models_are_left_alone(tmp_path: Path) -> None:
    src = OVW / "face-detection-retail-0005-fp16.xml"
    if not src.exists():
        pytest.skip("corpus not available")
    m = modelfile.load(src)
    rep = convert_weights(m, "fp32")
    assert not rep.modified and any("computes in f16" in n for n in rep.notes)


def test_out_of_range_constant_is_kept() -> None:
    from modelfile.formats.openvino.compress import compress_to_fp16
    from modelfile.formats.openvino.weights import new_const
    from modelfile.graph import Graph, Node

    g = Graph("g")
    big = new_const(g, np.full(4, 1e6, np.float32), "big")
    ok = new_const(g, np.array([1e6, 1.0, 2.0, 3.0], np.float32), "ok")
    add = Node("Add", "add", inputs=[big.outputs[0], ok.outputs[0]], version="opset1")
    add.append_output()
    g.append(add)
    st = compress_to_fp16(g)
    assert st.converted == 1 and st.clamped == 1 and list(st.kept.values()) == [1]
    assert [n.name for n in g.nodes] == ["big", "ok_compressed", "ok", "add"]
