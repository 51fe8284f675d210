"""``modelfile preprocess``: mo's syntax, PrePostProcessor's ops and numbers, ncnn's layers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import modelfile
from conftest import FIXTURES, needs_ncnn, needs_openvino
from modelfile.cli import app
from modelfile.errors import ModelfileError
from modelfile.passes.preprocess import channel_index, parse_layouts, parse_values, preprocess

runner = CliRunner()
F32 = {"INFERENCE_PRECISION_HINT": "f32"}
MEAN, SCALE = [123.675, 116.28, 103.53], [58.4, 57.1, 57.4]


def _copy(tmp: Path, src: Path) -> Path:
    shutil.copy(src, tmp / src.name)
    b = src.with_name(src.name[: -len(src.suffix)] + ".bin")
    shutil.copy(b, tmp / b.name)
    return tmp / src.name


def test_parse_values_like_mo() -> None:
    assert parse_values("data[123.675,116.28,103.53]") == {"data": MEAN}
    assert parse_values("data(1,2,3),info[255]") == {"data": [1.0, 2.0, 3.0], "info": [255.0]}
    assert parse_values("[1,2,3],(4, 5, 6)") == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert parse_values("input.1[0.5]") == {"input.1": [0.5]}
    for bad in ("data", "data[a,b]", "(255),input[127]", "data[1,2]x"):
        with pytest.raises(ModelfileError):
            parse_values(bad)


def test_parse_layouts_and_channel_index() -> None:
    assert parse_layouts("nchw") == {"": "nchw"}
    assert parse_layouts("data(nhwc),info[n,c]") == {"data": "nhwc", "info": "[n,c]"}
    with pytest.raises(ModelfileError, match="target layout"):
        parse_layouts("data(nhwc->nchw)")
    assert channel_index("nchw", 4, "x") == 1 and channel_index("NHWC", 4, "x") == 3
    assert channel_index("[n,c,h,w]", 4, "x") == 1 and channel_index("...c", 3, "x") == 2
    with pytest.raises(ModelfileError, match="no channel dimension"):
        channel_index("nhw", 3, "x")


def _ppp_reference(src: Path, steps: list[tuple[str, object]], layout: str | None):  # type: ignore[no-untyped-def]
    import openvino as ov
    from openvino.preprocess import PrePostProcessor

    ppp = PrePostProcessor(ov.Core().read_model(str(src)))
    if layout:
        ppp.input("data").model().set_layout(ov.Layout(layout))
    pre = ppp.input("data").preprocess()
    for kind, arg in steps:
        if kind == "reverse":
            pre.reverse_channels()
        elif kind == "mean":
            pre.mean(arg)
        else:
            pre.scale(arg)
    return ppp.build()


@needs_openvino
@pytest.mark.parametrize("args,steps,layout", [
    (["--mean-values", "data[123.675,116.28,103.53]", "--scale-values", "data[58.4,57.1,57.4]",
      "--reverse-input-channels", "--layout", "data(nchw)"],
     [("reverse", None), ("mean", MEAN), ("scale", SCALE)], "NCHW"),
    # no layout: mo finds the dim equal to the number of values (index 1 of a 4-D input)
    (["--mean_values", "[123.675,116.28,103.53]", "--scale", "255"], [("mean", MEAN), ("scale", 255.0)], "NCHW"),
    (["--scale-values", "data[2]"], [("scale", 2.0)], None),
    (["--reverse-input-channels"], [("reverse", None)], "NCHW"),
])
def test_ir_preprocess_equals_prepostprocessor(tmp_path: Path, args: list[str], steps: list, layout: str | None) -> None:  # type: ignore[type-arg]
    import openvino as ov

    src = _copy(tmp_path, FIXTURES / "openvino" / "convnet" / "model.xml")
    out = tmp_path / "pp.xml"
    r = runner.invoke(app, ["preprocess", str(src), *args, "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert [c["kind"] for c in report["changes"]] == [
        {"reverse": "reverse-channels", "mean": "mean", "scale": "scale"}[k] for k, _ in steps]
    m = modelfile.load(out)
    param = m.find_node("data")
    first = param.outputs[0].uses[0].node
    assert first.op_type == {"reverse": "Gather", "mean": "Subtract", "scale": "Divide"}[steps[0][0]]
    assert [v.names for v in m.inputs] == [["data"]]
    core = ov.Core()
    ref = _ppp_reference(src, steps, layout)
    ours = core.read_model(str(out))
    # PrePostProcessor.build() folds its ops into the first convolution; the file keeps them as written
    ops = [op.get_type_name() for op in ours.get_ordered_ops()]
    want = {"reverse": ["Range", "Gather"], "mean": ["Subtract"], "scale": ["Divide"]}
    assert all(t in ops for k, _ in steps for t in want[k])
    x = np.random.default_rng(11).uniform(0, 255, (1, 3, 16, 16)).astype(np.float32)
    a = core.compile_model(ours, "CPU", F32)({"data": x})[0]
    b = core.compile_model(ref, "CPU", F32)({"data": x})[0]
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_channel_axis_without_layout() -> None:
    from modelfile.passes.preprocess import _guess_channels

    assert _guess_channels((1, 3, 3, 3), 3, "x") == 1        # ambiguous for mo's guess: NCHW, as mo assumed
    assert _guess_channels((-1, -1, 224, 224), 3, "x") == 1  # dynamic channels: NCHW
    assert _guess_channels((1, 224, 224, 3), 3, "x") == 3    # NHWC found by the value count
    assert _guess_channels((3, 20, 30), 3, "x") == 0
    with pytest.raises(ModelfileError, match="give --layout"):
        _guess_channels((1, 5, 224, 224, 7), 3, "x")


def test_ir_preprocess_errors_like_mo(tmp_path: Path) -> None:
    src = FIXTURES / "openvino" / "convnet" / "model.xml"
    m = modelfile.load(src)
    with pytest.raises(ModelfileError, match="no input 'image'"):
        preprocess(m, {"image": MEAN})
    with pytest.raises(ModelfileError, match="has 3 channels .* but 4 mean/scale values"):
        preprocess(modelfile.load(src), {"data": [1, 2, 3, 4]}, layouts={"data": "nchw"})
    with pytest.raises(ModelfileError, match="give --layout"):
        preprocess(modelfile.load(src), {"data": [1, 2, 3, 4]})
    with pytest.raises(ModelfileError, match="different lengths"):
        preprocess(modelfile.load(src), {"data": MEAN}, {"data": [1.0, 2.0]}, layouts={"data": "nchw"})
    r = runner.invoke(app, ["preprocess", str(src), "-n"])
    assert r.exit_code == 2 and "nothing to do" in r.output
    r = runner.invoke(app, ["preprocess", str(src), "--mean-values", "data[1,2", "-n"])
    assert r.exit_code == 2 and "--mean-values:1:1" in r.output


@needs_ncnn
@pytest.mark.parametrize("args,reverse", [
    (["--mean-values", "data[123.675,116.28,103.53]", "--scale-values", "data[58.4,57.1,57.4]",
      "--reverse-input-channels"], True),
    (["--mean-values", "[127.5]", "--scale", "127.5"], False),
])
def test_ncnn_preprocess_equals_numpy_normalisation(tmp_path: Path, args: list[str], reverse: bool) -> None:
    from ncnn_runner import run_ncnn

    src = _copy(tmp_path, FIXTURES / "examples" / "convbn.ncnn.param")
    out = tmp_path / "pp.ncnn.param"
    r = runner.invoke(app, ["preprocess", str(src), *args, "-o", str(out)])
    assert r.exit_code == 0, r.output
    types = [n.op_type for n in modelfile.load(out).graph]
    assert types[:2] == ["Input", "Slice" if reverse else "BinaryOp"]
    x = np.random.default_rng(12).uniform(0, 255, (3, 10, 12)).astype(np.float32)
    if reverse:
        ref_in = (x[::-1] - np.float32(MEAN)[:, None, None]) / np.float32(SCALE)[:, None, None]
    else:
        ref_in = (x - np.float32(127.5)) / np.float32(127.5)
    want = run_ncnn(src, src.with_name("convbn.ncnn.bin"), {"data": np.ascontiguousarray(ref_in, np.float32)},
                    ["output"])["output"]
    got = run_ncnn(out, out.with_name("pp.ncnn.bin"), {"data": x}, ["output"])["output"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_ncnn_preprocess_refuses_channels_last() -> None:
    m = modelfile.load(FIXTURES / "examples" / "convbn.ncnn.param")
    with pytest.raises(ModelfileError, match="ncnn Mats are planar"):
        preprocess(m, {"data": MEAN}, layouts={"data": "nhwc"})
    with pytest.raises(ModelfileError, match="declares c=3 but 4"):
        preprocess(modelfile.load(FIXTURES / "examples" / "convbn.ncnn.param"), {"data": [1, 2, 3, 4]})
