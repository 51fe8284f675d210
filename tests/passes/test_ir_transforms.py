"""IR transforms checked with the OpenVINO runtime in f32: the RNN-T and DeepSpeech guide scenarios."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import modelfile
from conftest import FIXTURES, needs_openvino
from modelfile.cli import app
from modelfile.errors import ModelfileError
from modelfile.mo_input import parse_input, parse_output
from modelfile.passes.cut import cut
from modelfile.passes.freeze import freeze
from modelfile.passes.rename import rename
from modelfile.passes.reshape import reshape
from modelfile.passes.state import cut_state, make_state

pytestmark = needs_openvino
runner = CliRunner()
OV = FIXTURES / "openvino"
F32 = {"INFERENCE_PRECISION_HINT": "f32"}


def _copy(tmp: Path, rel: str) -> Path:
    src = OV / rel
    dst = tmp / src.name
    shutil.copy(src, dst)
    if src.with_suffix(".bin").exists():
        shutil.copy(src.with_suffix(".bin"), dst.with_suffix(".bin"))
    return dst


def _compile(path: Path):  # type: ignore[no-untyped-def]
    import openvino as ov

    core = ov.Core()
    return core.compile_model(core.read_model(str(path)), "CPU", F32)


def _infer(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    cm = _compile(path)
    res = cm.create_infer_request().infer(feeds)
    return {next(iter(o.names)) if o.names else str(i): np.array(v) for i, (o, v) in enumerate(res.items())}


def _names(path: Path, kind: str) -> list[str]:
    import openvino as ov

    m = ov.Core().read_model(str(path))
    ports = m.inputs if kind == "in" else m.outputs
    return [p.any_name for p in ports]


def test_rnnt_guide_scenario_onnx_names(tmp_path: Path) -> None:
    """mo --input "input.1[157 1 240],1->157", then rename input.1 -> input (old RNN-T guide)."""
    src = _copy(tmp_path, "rnnt/encoder_onnx.xml")
    m = modelfile.load(src)
    rep = cut(m, parse_input("input.1[157 1 240],1->157"), [])
    kinds = [c.kind for c in rep.changes]
    assert "freeze-input" in kinds and "set-input-shape" in kinds
    rename(m, {"input.1": "input"})
    out = tmp_path / "encoder_edited.xml"
    m.save(out)
    assert _names(out, "in") == ["input"]
    import openvino as ov

    shape = ov.Core().read_model(str(out)).inputs[0].get_partial_shape()
    assert str(shape) == "[157,1,240]"
    x = np.random.default_rng(0).standard_normal((157, 1, 240)).astype(np.float32)
    want = _compile(src).create_infer_request().infer({"input.1": x, "1": np.array(157, np.int64)})
    got = _compile(out).create_infer_request().infer({"input": x})
    for a, b in zip(want.values(), got.values()):
        np.testing.assert_allclose(np.array(b), np.array(a), rtol=0, atol=1e-6)


def test_rnnt_guide_scenario_2023(tmp_path: Path) -> None:
    """--input "input[157,1,240],feature_length->157" and prediction-net reshapes, via the CLI."""
    enc = _copy(tmp_path, "rnnt/encoder.xml")
    out = tmp_path / "enc_out.xml"
    r = runner.invoke(app, ["cut", str(enc), "--input", "input[157,1,240],feature_length->157", "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    x = np.random.default_rng(1).standard_normal((157, 1, 240)).astype(np.float32)
    want = _compile(enc).create_infer_request().infer({"input": x, "feature_length": np.array(157, np.int64)})
    got = _compile(out).create_infer_request().infer({"input": x})
    for a, b in zip(want.values(), got.values()):
        np.testing.assert_allclose(np.array(b), np.array(a), rtol=0, atol=1e-6)
    pred = _copy(tmp_path, "rnnt/prediction.xml")
    pout = tmp_path / "pred_out.xml"
    r = runner.invoke(app, ["reshape", str(pred), "symbol[1,1],hidden_in_1[2,1,16],hidden_in_2[2,1,16]",
                            "-o", str(pout)])
    assert r.exit_code == 0, r.stderr
    import openvino as ov

    shapes = [str(p.get_partial_shape()) for p in ov.Core().read_model(str(pout)).inputs]
    assert shapes == ["[1,1]", "[2,1,16]", "[2,1,16]"]
    rng = np.random.default_rng(2)
    feeds = {"symbol": np.array([[3]], np.int64), "hidden_in_1": rng.standard_normal((2, 1, 16)).astype(np.float32),
             "hidden_in_2": rng.standard_normal((2, 1, 16)).astype(np.float32)}
    want = _infer(pred, feeds)
    got = _infer(pout, feeds)
    assert want.keys() == got.keys()
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=0, atol=1e-6)


def _run_steps(path: Path, steps: list[dict[str, np.ndarray]]) -> list[np.ndarray]:
    req = _compile(path).create_infer_request()
    return [np.array(req.infer(f)["logits"]) for f in steps]


def test_deepspeech_cut_state_and_back(tmp_path: Path) -> None:
    src = _copy(tmp_path, "stateful/model.xml")
    rng = np.random.default_rng(3)
    steps = [{"input_node": rng.standard_normal((1, 4, 8)).astype(np.float32),
              "input_lengths": np.array([4], np.int32)} for _ in range(4)]
    want = _run_steps(src, steps)

    m = modelfile.load(src)
    rep = cut_state(m)
    assert [c.kind for c in rep.changes].count("state-to-input") == 2
    cut_path = tmp_path / "stateless.xml"
    m.save(cut_path)
    assert set(_names(cut_path, "in")) == {"input_node", "input_lengths", "previous_state_h", "previous_state_c"}
    outs = _names(cut_path, "out")
    assert {"previous_state_h_out", "previous_state_c_out"} <= set(outs)
    cm = _compile(cut_path)
    req = cm.create_infer_request()
    h = np.zeros((1, 10), np.float32)
    c = np.zeros((1, 10), np.float32)
    for k, f in enumerate(steps):
        res = req.infer({**f, "previous_state_h": h, "previous_state_c": c})
        byname = {next(iter(o.names)): np.array(v) for o, v in res.items()}
        for o, v in res.items():
            for n in o.names:
                byname[n] = np.array(v)
        np.testing.assert_allclose(byname["logits"], want[k], rtol=0, atol=1e-5)
        h, c = byname["previous_state_h_out"], byname["previous_state_c_out"]

    # make-state restores a stateful model that behaves like the original
    m2 = modelfile.load(cut_path)
    rep2 = make_state(m2)
    assert [c.kind for c in rep2.changes].count("input-to-state") == 2
    back = tmp_path / "stateful_again.xml"
    m2.save(back)
    got = _run_steps(back, steps)
    for a, b in zip(want, got):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)
    assert set(_names(back, "in")) == {"input_node", "input_lengths"}


def test_cut_state_is_idempotent_and_freeze_after(tmp_path: Path) -> None:
    src = _copy(tmp_path, "stateful/model.xml")
    m = modelfile.load(src)
    cut_state(m)
    assert not cut_state(m).modified
    freeze(m, parse_input("input_lengths->[4]"))
    out = tmp_path / "frozen.xml"
    m.save(out)
    assert "input_lengths" not in _names(out, "in")


def test_cut_inner_output_matches_add_outputs_and_shrinks_bin(tmp_path: Path) -> None:
    import openvino as ov

    src = _copy(tmp_path, "rnnt/joint.xml")
    m = modelfile.load(src)
    relu = next(n for n in m.nodes if n.op_type == "ReLU")
    rep = cut(m, [], parse_output(relu.name))
    assert any(c.kind == "remove-layer" for c in rep.changes)
    out = tmp_path / "joint_cut.xml"
    m.save(out)
    assert out.with_suffix(".bin").stat().st_size < src.with_suffix(".bin").stat().st_size
    core = ov.Core()
    orig = core.read_model(str(src))
    orig.add_outputs([orig.get_ops()[[o.get_friendly_name() for o in orig.get_ops()].index(relu.name)].output(0)])
    rng = np.random.default_rng(4)
    shapes = {p.any_name: p for p in orig.inputs}
    feeds = {"f": rng.standard_normal((1, 3, 16)).astype(np.float32), "g": rng.standard_normal((1, 1, 16)).astype(np.float32)}
    del shapes
    want = core.compile_model(orig, "CPU", F32).create_infer_request().infer(feeds)
    want_relu = np.array(list(want.values())[-1])
    got = _compile(out).create_infer_request().infer(feeds)
    assert len(got) == 1
    np.testing.assert_allclose(np.array(list(got.values())[0]), want_relu, rtol=0, atol=1e-6)


def test_cut_inner_input_replaces_producer_side(tmp_path: Path) -> None:
    import openvino as ov

    src = _copy(tmp_path, "rnnt/joint.xml")
    m = modelfile.load(src)
    relu = next(n for n in m.nodes if n.op_type == "ReLU")
    cut(m, parse_input(f"0:{relu.name}"), [])
    out = tmp_path / "joint_in.xml"
    m.save(out)
    om = ov.Core().read_model(str(out))
    assert len(om.inputs) == 1 and om.inputs[0].any_name == f"0:{relu.name}"
    orig = ov.Core().read_model(str(src))
    relu_in = [o for o in orig.get_ops() if o.get_friendly_name() == relu.name][0].input_value(0)
    orig.add_outputs([relu_in])
    rng = np.random.default_rng(5)
    feeds = {"f": rng.standard_normal((1, 3, 16)).astype(np.float32), "g": rng.standard_normal((1, 1, 16)).astype(np.float32)}
    full = ov.Core().compile_model(orig, "CPU", F32).create_infer_request().infer(feeds)
    vals = list(full.values())
    got = _compile(out).create_infer_request().infer({om.inputs[0].any_name: np.array(vals[-1])})
    np.testing.assert_allclose(np.array(list(got.values())[0]), np.array(vals[0]), rtol=0, atol=1e-6)


def test_rename_refuses_collision_and_reshape_refuses_inner(tmp_path: Path) -> None:
    m = modelfile.load(_copy(tmp_path, "rnnt/prediction.xml"))
    with pytest.raises(ModelfileError, match="already named"):
        rename(m, {"hidden_in_1": "hidden_in_2"})
    with pytest.raises(ModelfileError):
        reshape(m, parse_input("g[1,2]"))
