"""examples/*.py run through ``modelfile apply`` and checked in the runtimes against the original."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import modelfile
from conftest import FIXTURES, ROOT, needs_ncnn, needs_openvino
from modelfile.cli import app

runner = CliRunner()
EX = ROOT / "examples"
F32 = {"INFERENCE_PRECISION_HINT": "f32"}


def _copy(tmp: Path, src: Path) -> Path:
    shutil.copy(src, tmp / src.name)
    stem = src.name[: -len(src.suffix)]
    b = src.with_name(stem + ".bin")
    if b.exists():
        shutil.copy(b, tmp / b.name)
    return tmp / src.name


def _apply(example: str, model: Path, out: Path) -> dict:  # type: ignore[type-arg]
    import json

    r = runner.invoke(app, ["apply", str(EX / example), str(model), "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output[r.output.index("{"):])  # type: ignore[no-any-return]


def _ov(xml: Path | object, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(xml)) if isinstance(xml, Path) else xml
    res = core.compile_model(model, "CPU", F32)(feeds)
    return {n: np.array(v) for o, v in res.items() for n in o.names}


@needs_ncnn
def test_fuse_batchnorm_equals_unfused(tmp_path: Path) -> None:
    from ncnn_runner import run_ncnn

    src = _copy(tmp_path, FIXTURES / "examples" / "convbn.ncnn.param")
    out = tmp_path / "fused.ncnn.param"
    report = _apply("fuse_batchnorm.py", src, out)
    assert [c["target"] for c in report["changes"]] == ["bn1", "bn2"]
    m = modelfile.load(out)
    assert [n.op_type for n in m.graph] == ["Input", "Convolution", "ReLU", "Convolution"]
    assert m.find_node("conv2").params.bias_term == 1 and m.find_node("conv2").outputs[0].name == "output"
    assert out.with_name("fused.ncnn.bin").stat().st_size == 1320 - 4 * (4 * 8 + 4 * 6) + 4 * 6
    for seed in range(3):
        x = np.random.default_rng(seed).normal(0, 2, (3, 10, 12)).astype(np.float32)
        a = run_ncnn(src, src.with_name("convbn.ncnn.bin"), {"data": x}, ["output"])["output"]
        b = run_ncnn(out, out.with_name("fused.ncnn.bin"), {"data": x}, ["output"])["output"]
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


@needs_openvino
def test_swap_activation_matches_runtime_graph_edit(tmp_path: Path) -> None:
    import openvino as ov
    import openvino.opset8 as ops

    src = _copy(tmp_path, FIXTURES / "openvino" / "convnet" / "model.xml")
    out = tmp_path / "hswish.xml"
    report = _apply("swap_activation.py", src, out)
    assert len(report["changes"]) == 2
    # the same edit made on OpenVINO's own in-memory graph
    ref = ov.Core().read_model(str(src))
    for op in ref.get_ordered_ops():
        if op.get_type_name() == "Relu":
            new = ops.hswish(op.input_value(0))
            for target in list(op.output(0).get_target_inputs()):
                target.replace_source_output(new.output(0))
    x = np.random.default_rng(7).normal(0, 3, (1, 3, 16, 16)).astype(np.float32)
    got, want = _ov(out, {"data": x}), _ov(ref, {"data": x})
    np.testing.assert_allclose(got["logits"], want["logits"], atol=1e-6)
    assert not np.allclose(got["logits"], _ov(src, {"data": x})["logits"])
    # everything else is the original text
    a, b = src.read_text(), out.read_text()
    assert a.count("<layer ") == b.count("<layer ") and b.count('type="HSwish"') == 2


@needs_openvino
def test_add_inner_output_matches_add_outputs(tmp_path: Path) -> None:
    import openvino as ov

    src = _copy(tmp_path, FIXTURES / "openvino" / "convnet" / "model.xml")
    out = tmp_path / "inner.xml"
    _apply("add_inner_output.py", src, out)
    ref = ov.Core().read_model(str(src))
    relu = next(op for op in ref.get_ordered_ops() if op.get_type_name() == "Relu")
    ref.add_outputs([relu.output(0)])
    x = np.random.default_rng(8).normal(size=(1, 3, 16, 16)).astype(np.float32)
    got, want = _ov(out, {"data": x}), _ov(ref, {"data": x})
    name = "aten::relu/Relu_out"
    assert name in got and got[name].shape == (1, 4, 16, 16)
    np.testing.assert_array_equal(got[name], want["6"])
    np.testing.assert_array_equal(got["logits"], want["logits"])


@needs_ncnn
def test_add_inner_output_ncnn(tmp_path: Path) -> None:
    from ncnn_runner import run_ncnn

    src = _copy(tmp_path, FIXTURES / "examples" / "convbn.ncnn.param")
    out = tmp_path / "inner.ncnn.param"
    _apply("add_inner_output.py", src, out)
    x = np.random.default_rng(9).normal(size=(3, 10, 12)).astype(np.float32)
    got = run_ncnn(out, out.with_name("inner.ncnn.bin"), {"data": x}, ["output", "relu1_out"])
    want = run_ncnn(src, src.with_name("convbn.ncnn.bin"), {"data": x}, ["relu1", "output"])
    np.testing.assert_array_equal(got["relu1_out"], want["relu1"])
    np.testing.assert_array_equal(got["output"], want["output"])


@needs_openvino
def test_preprocess_example_matches_prepostprocessor(tmp_path: Path) -> None:
    import openvino as ov
    from openvino.preprocess import PrePostProcessor

    src = _copy(tmp_path, FIXTURES / "openvino" / "convnet" / "model.xml")
    out = tmp_path / "bgr.xml"
    _apply("preprocess_imagenet.py", src, out)
    ppp = PrePostProcessor(ov.Core().read_model(str(src)))
    ppp.input("data").model().set_layout(ov.Layout("NCHW"))
    ppp.input("data").preprocess().reverse_channels().mean([123.675, 116.28, 103.53]).scale([58.395, 57.12, 57.375])
    ref = ppp.build()
    x = np.random.default_rng(10).uniform(0, 255, (1, 3, 16, 16)).astype(np.float32)
    np.testing.assert_allclose(_ov(out, {"data": x})["logits"], _ov(ref, {"data": x})["logits"], atol=1e-6)


@pytest.mark.parametrize("example", sorted(p.name for p in EX.glob("*.py")))
def test_every_example_is_a_pass(example: str) -> None:
    from modelfile.passes.user import load_pass_file

    fn = load_pass_file(EX / example)
    assert callable(fn) and fn.__doc__
