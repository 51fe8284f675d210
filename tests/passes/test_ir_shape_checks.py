"""Re-inference only when an edit can change a dim; what only compile_model refuses is refused by the gate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, needs_openvino

import modelfile
from modelfile.errors import ModelfileError
from modelfile.formats.openvino import shapes
from modelfile.formats.openvino.names import format_dims
from modelfile.mo_input import parse_input
from modelfile.passes.cut import cut
from modelfile.passes.freeze import freeze
from modelfile.passes.rename import rename
from modelfile.passes.reshape import reshape

ENCODER = FIXTURES / "openvino" / "rnnt" / "encoder.xml"


def _port(pid: int, prec: str, dims: list[int], names: str = "") -> str:
    nm = f' names="{names}"' if names else ""
    body = "".join(f"<dim>{d}</dim>" for d in dims)
    return f'<port id="{pid}" precision="{prec}"{nm}>{body}</port>'


def _ir(tmp: Path, layers: list[str], edges: list[tuple[int, int, int, int]], name: str = "m.xml") -> Path:
    text = ('<?xml version="1.0"?>\n<net name="m" version="11">\n<layers>\n' + "\n".join(layers) + "\n</layers>\n"
            "<edges>\n" + "\n".join(f'<edge from-layer="{a}" from-port="{b}" to-layer="{c}" to-port="{d}"/>'
                                   for a, b, c, d in edges) + "\n</edges>\n</net>\n")
    path = tmp / name
    path.write_text(text)
    return path


def _chain(tmp: Path) -> Path:
    """x, y f32[1,4] -> Add -> ReLU -> Result: nothing downstream reads a value for its shape."""
    return _ir(tmp, [
        f'<layer id="0" name="x" type="Parameter" version="opset1"><data shape="1,4" element_type="f32"/>'
        f'<output>{_port(0, "FP32", [1, 4], "x")}</output></layer>',
        f'<layer id="1" name="y" type="Parameter" version="opset1"><data shape="1,4" element_type="f32"/>'
        f'<output>{_port(0, "FP32", [1, 4], "y")}</output></layer>',
        f'<layer id="2" name="add" type="Add" version="opset1"><data auto_broadcast="numpy"/>'
        f'<input>{_port(0, "FP32", [1, 4])}{_port(1, "FP32", [1, 4])}</input>'
        f'<output>{_port(2, "FP32", [1, 4], "s")}</output></layer>',
        f'<layer id="3" name="relu" type="ReLU" version="opset1"><input>{_port(0, "FP32", [1, 4])}</input>'
        f'<output>{_port(1, "FP32", [1, 4], "r")}</output></layer>',
        f'<layer id="4" name="out" type="Result" version="opset1"><input>{_port(0, "FP32", [1, 4])}</input></layer>',
    ], [(0, 0, 2, 0), (1, 0, 2, 1), (2, 2, 3, 0), (3, 1, 4, 0)])


def _reshape_by_input(tmp: Path) -> Path:
    """x f32[8] reshaped to the value of input s i64[2]: the value of s decides the output shape."""
    return _ir(tmp, [
        f'<layer id="0" name="x" type="Parameter" version="opset1"><data shape="8" element_type="f32"/>'
        f'<output>{_port(0, "FP32", [8], "x")}</output></layer>',
        f'<layer id="1" name="s" type="Parameter" version="opset1"><data shape="2" element_type="i64"/>'
        f'<output>{_port(0, "I64", [2], "s")}</output></layer>',
        f'<layer id="2" name="r" type="Reshape" version="opset1"><data special_zero="false"/>'
        f'<input>{_port(0, "FP32", [8])}{_port(1, "I64", [2])}</input>'
        f'<output>{_port(2, "FP32", [-1, -1], "y")}</output></layer>',
        f'<layer id="3" name="out" type="Result" version="opset1"><input>{_port(0, "FP32", [-1, -1])}</input></layer>',
    ], [(0, 0, 2, 0), (1, 0, 2, 1), (2, 2, 3, 0)], "reshape.xml")


def _dims(m: modelfile.Model) -> dict[tuple[str, int], object]:
    return {(n.name, i): v.shape for n in m.graph.nodes for i, v in enumerate(n.outputs)}


def _no_openvino_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(model: object) -> None:
        raise AssertionError("OpenVINO was asked although no dim can change")

    monkeypatch.setattr(shapes, "_read_with_openvino", refuse)


def test_freeze_keeping_shape_and_type_skips_reinference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = modelfile.load(_chain(tmp_path))
    before = _dims(m)
    _no_openvino_read(monkeypatch)
    rep = freeze(m, parse_input("y->[0 1 2 3]"))
    assert [c.kind for c in rep.changes] == ["freeze-input"]
    after = _dims(m)
    assert all(after[k] == before[k] for k in after if k[0] != "y")
    assert not m.state.shapes_changed  # the gate does not compile for it
    out = tmp_path / "f.xml"
    m.handler.write(m, out)
    assert "<dim>-1</dim>" not in out.read_text()


def test_cut_at_an_inner_tensor_of_the_same_shape_skips_reinference(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    m = modelfile.load(_chain(tmp_path))
    _no_openvino_read(monkeypatch)
    cut(m, parse_input("s"), [])
    relu = m.find_node("relu")
    assert relu is not None and relu.outputs[0].shape == (1, 4)
    assert [v.names for v in m.graph.inputs] == [["s"]]


def test_a_value_read_for_a_shape_is_reinferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Freezing the target of a Reshape keeps its shape [2] but decides the output's: no skipping."""
    m = modelfile.load(_reshape_by_input(tmp_path))
    asked: list[bool] = []
    real = shapes.cannot_change_dims
    monkeypatch.setattr(shapes, "cannot_change_dims", lambda t: asked.append(real(t)) or asked[-1])
    freeze(m, parse_input("s->[2 4]"))
    assert asked == [False]
    assert m.state.shapes_changed


@needs_openvino
def test_a_dynamic_inner_port_is_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file says -1 where OpenVINO knows ``..1`` (the serializer cannot write a bound): no shortcut."""
    real = shapes.cannot_change_dims
    took: list[bool] = []
    monkeypatch.setattr(shapes, "cannot_change_dims", lambda t: took.append(real(t)) or took[-1])
    m = modelfile.load(ENCODER)
    cut(m, parse_input("aten::lt/Less"), [])
    assert took == [False]


def test_a_new_shape_is_never_skipped(tmp_path: Path) -> None:
    m = modelfile.load(_chain(tmp_path))
    reshape(m, parse_input("x[2,4],y[2,4]"))
    assert m.state.shapes_changed


@needs_openvino
def test_a_value_read_for_a_shape_gets_openvinos_dims(tmp_path: Path) -> None:
    m = modelfile.load(_reshape_by_input(tmp_path))
    rep = freeze(m, parse_input("s->[2 4]"))
    assert any(c.kind == "infer-port-dims" for c in rep.changes)
    r = m.find_node("r")
    assert r is not None and r.outputs[0].shape == (2, 4)


@needs_openvino
@pytest.mark.parametrize("edit", ["feature_length->157", "aten::add/Add", "aten::add/Add->160"])
def test_skipping_gives_the_dims_openvino_infers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str) -> None:
    """The same file with and without the shortcut, on the RNN-T encoder (freeze, cut --input, a new Const).

    (In memory OpenVINO's answer can be finer: a dim bounded to ``..1`` where the file says -1; a port
    ``<dim>`` cannot hold a bound, so both write -1.)
    """
    real = shapes.cannot_change_dims
    took: list[bool] = []
    monkeypatch.setattr(shapes, "cannot_change_dims", lambda t: took.append(real(t)) or took[-1])
    fast = modelfile.load(ENCODER)
    cut(fast, parse_input(edit), [])
    assert took == [True]
    monkeypatch.setattr(shapes, "cannot_change_dims", lambda t: False)
    slow = modelfile.load(ENCODER)
    rep = cut(slow, parse_input(edit), [])
    assert not [c for c in rep.changes if c.kind in ("clear-port-dims", "shape-inference-failed")]
    a, b = tmp_path / "fast.xml", tmp_path / "slow.xml"
    fast.handler.write(fast, a)
    slow.handler.write(slow, b)
    assert a.read_text() == b.read_text()
    assert {k: format_dims(v) for k, v in _dims(fast).items()} == {k: format_dims(v) for k, v in _dims(slow).items()}


@needs_openvino
def test_relu_ports_get_openvinos_dims(tmp_path: Path) -> None:
    """The IR's ReLU is OpenVINO's Relu: its ports are inferred, not cleared to -1."""
    m = modelfile.load(_chain(tmp_path))
    reshape(m, parse_input("x[2,4],y[2,4]"))
    relu = m.find_node("relu")
    assert relu is not None and relu.outputs[0].shape == (2, 4)


def _copy(src: Path, tmp: Path) -> Path:
    dst = tmp / src.name
    shutil.copyfile(src, dst)
    shutil.copyfile(src.with_suffix(".bin"), dst.with_suffix(".bin"))
    return dst


def _cli(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from modelfile.cli import app

    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.output


@needs_openvino
def test_lstm_input_size_mismatch_is_refused(tmp_path: Path) -> None:
    """input[157,1,241] into an LSTM of input size 240: read_model takes it, compile_model does not."""
    import openvino as ov

    src = _copy(ENCODER, tmp_path)
    m = modelfile.load(src)
    rep = reshape(m, parse_input("input[157,1,241]"))
    (why,) = [c for c in rep.changes if c.kind == "shape-inference-failed"]
    assert "241 features" in why.detail and "take 240" in why.detail
    with pytest.raises(ModelfileError, match="not written: the runtime check failed: openvino: compile_model: "
                                             ".*could not create reorder primitive"):
        m.save(tmp_path / "api.xml")
    assert not (tmp_path / "api.xml").exists() and not (tmp_path / "api.bin").exists()
    out = tmp_path / "bad.xml"
    code, text = _cli("reshape", str(src), "input[157,1,241]", "-o", str(out))
    assert code == 2 and "could not create reorder primitive" in text
    assert not out.exists() and not out.with_suffix(".bin").exists()
    # the size it was made for compiles and is written; the file reads with the shape asked for
    code, text = _cli("reshape", str(src), "input[157,1,240]", "-o", str(out))
    assert code == 0, text
    assert ov.Core().read_model(str(out)).inputs[0].get_partial_shape() == ov.PartialShape([157, 1, 240])


@needs_openvino
def test_big_models_get_the_recurrent_input_check_instead_of_compiling(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from modelfile.formats.openvino import handler

    monkeypatch.setattr(handler, "COMPILE_MAX_LAYERS", 10)
    m = modelfile.load(_copy(ENCODER, tmp_path))
    reshape(m, parse_input("input[157,1,241]"))
    with pytest.raises(ModelfileError, match="gets inputs of 241 features but its weights take 240"):
        m.save(tmp_path / "o.xml")
    assert not (tmp_path / "o.xml").exists()
    m = modelfile.load(_copy(ENCODER, tmp_path))
    reshape(m, parse_input("input[157,1,240]"))
    res = m.save(tmp_path / "ok.xml")
    assert (tmp_path / "ok.xml").exists() and res is not None


def _conv(tmp: Path) -> Path:
    import numpy as np
    import openvino as ov
    import openvino.opset13 as ops

    x = ops.parameter([1, 3, -1, -1], np.float32, name="image")
    x.output(0).get_tensor().set_names({"image"})
    w = ops.constant(np.ones((8, 3, 3, 3), np.float32))
    y = ops.convolution(x, w, [1, 1], [1, 1], [1, 1], [1, 1])
    y.output(0).get_tensor().set_names({"features"})
    path = tmp / "conv.xml"
    ov.save_model(ov.Model([ops.result(y)], [x], "conv"), str(path), compress_to_fp16=False)
    return path


@needs_openvino
def test_four_channels_into_a_three_channel_convolution_is_refused(tmp_path: Path) -> None:
    src = _conv(tmp_path)
    out = tmp_path / "bad.xml"
    code, text = _cli("reshape", str(src), "image[1,4,256,256]", "-o", str(out))
    assert code == 2 and "not written" in text
    assert "channel" in text.lower()  # OpenVINO's words: the input channels do not match the filters'
    assert not out.exists() and not out.with_suffix(".bin").exists()
    code, text = _cli("reshape", str(src), "image[1,3,256,256]", "-o", str(out))
    assert code == 0, text
    m = modelfile.load(out)
    assert m.graph.outputs[0].shape == (1, 8, 256, 256)


@needs_openvino
def test_rename_does_not_compile(tmp_path: Path) -> None:
    m = modelfile.load(_copy(ENCODER, tmp_path))
    rename(m, {"input": "features"})
    assert not m.state.shapes_changed


_SPARSE = r"""
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import modelfile
from modelfile.mo_input import parse_input
from modelfile.passes.reshape import reshape
xml = Path(sys.argv[2])
n = 1 << 28  # 1 GiB of f32 zeros, a sparse file: nothing on disk
xml.write_text(f'''<?xml version="1.0"?>
<net name="sparse" version="11"><layers>
<layer id="0" name="x" type="Parameter" version="opset1"><data shape="2" element_type="f32"/>
<output><port id="0" precision="FP32" names="x"><dim>2</dim></port></output></layer>
<layer id="1" name="big" type="Const" version="opset1"><data element_type="f32" shape="{n}" offset="0" size="{4 * n}"/>
<output><port id="0" precision="FP32"><dim>{n}</dim></port></output></layer>
<layer id="2" name="axis" type="Const" version="opset1"><data element_type="i64" shape="1" offset="{4 * n}" size="8"/>
<output><port id="0" precision="I64"><dim>1</dim></port></output></layer>
<layer id="3" name="sum" type="ReduceSum" version="opset1"><data keep_dims="true"/>
<input><port id="0" precision="FP32"><dim>{n}</dim></port><port id="1" precision="I64"><dim>1</dim></port></input>
<output><port id="2" precision="FP32"><dim>1</dim></port></output></layer>
<layer id="4" name="mul" type="Multiply" version="opset1"><data auto_broadcast="numpy"/>
<input><port id="0" precision="FP32"><dim>2</dim></port><port id="1" precision="FP32"><dim>1</dim></port></input>
<output><port id="2" precision="FP32" names="z"><dim>2</dim></port></output></layer>
<layer id="5" name="out" type="Result" version="opset1"><input><port id="0" precision="FP32"><dim>2</dim></port></input></layer>
</layers><edges>
<edge from-layer="1" from-port="0" to-layer="3" to-port="0"/><edge from-layer="2" from-port="0" to-layer="3" to-port="1"/>
<edge from-layer="0" from-port="0" to-layer="4" to-port="0"/><edge from-layer="3" from-port="2" to-layer="4" to-port="1"/>
<edge from-layer="4" from-port="2" to-layer="5" to-port="0"/>
</edges></net>
''')
with open(xml.with_suffix(".bin"), "wb") as f:
    f.truncate(4 * n + 8)
m = modelfile.load(xml)
rep = reshape(m, parse_input("x[3]"))
assert any(c.kind == "infer-port-dims" for c in rep.changes), rep.changes
assert m.find_node("mul").outputs[0].shape == (3,)
print([ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM")][0])
"""


@needs_openvino
def test_reinference_maps_the_weights_instead_of_reading_them(tmp_path: Path) -> None:
    """A reshape of a model with a 1 GiB .bin: OpenVINO gets the file mapped, the process stays small."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _SPARSE, str(root), str(tmp_path / "s.xml")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    peak_mb = int(out.stdout.split()[-1]) / 1024
    assert peak_mb < 600, f"peak RSS {peak_mb:.0f} MB"
