"""The Python API: typed params, weights as numpy, building and rewiring nodes (ncnn and IR).

Graph-level assertions run everywhere; edited files are also run in ncnn / OpenVINO when installed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import modelfile
from conftest import FIXTURES, needs_ncnn, needs_openvino
from modelfile.api import add_output, bypass, insert_after, new_node, params, remove, replace, set_input, weights
from modelfile.errors import ModelfileError
from modelfile.formats.ncnn.schema import layer_schema, schema_types
from modelfile.formats.openvino.attrs import decode, encode

NCNN = FIXTURES / "ncnn"
EXN = FIXTURES / "examples"
OV = FIXTURES / "openvino"
F32 = {"INFERENCE_PRECISION_HINT": "f32"}


def _copy(tmp: Path, src: Path) -> Path:
    for ext in (src.suffix, ".bin"):
        p = src.with_name(src.name.replace(src.suffix, ext)) if ext != src.suffix else src
        if ext == ".bin":
            p = src.with_name(src.name[: -len(src.suffix)] + ".bin")
        if p.exists():
            shutil.copy(p, tmp / p.name)
    return tmp / src.name


def _ncnn_run(param: Path, feeds: dict[str, np.ndarray], outs: list[str]) -> dict[str, np.ndarray]:
    from ncnn_runner import run_ncnn

    return run_ncnn(param, param.with_name(param.name.replace(".param", ".bin")), feeds, outs)


def _ov_run(xml: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    import openvino as ov

    core = ov.Core()
    cm = core.compile_model(core.read_model(str(xml)), "CPU", F32)
    res = cm(feeds)
    return {name: np.array(v) for o, v in res.items() for name in o.names}


# -- the ncnn schema ------------------------------------------------------------------------------

def test_schema_covers_every_builtin_type_and_knows_kinds() -> None:
    from modelfile.formats.ncnn.layers import BUILTIN_TYPES

    assert set(BUILTIN_TYPES) <= set(schema_types())
    conv = layer_schema("Convolution")
    assert conv is not None
    assert (conv.by_name("kernel_h").id, conv.by_name("kernel_h").ref) == (11, "kernel_w")
    assert conv.by_id(18).kind == "float" and conv.by_id(10).kind == "float_array"
    assert layer_schema("Slice").by_name("slices").kind == "int_array"
    assert layer_schema("Clip").by_name("max").default == pytest.approx(3.4028234663852886e38)
    assert layer_schema("MySherpaThing") is None


def test_schema_agrees_with_the_corpus(corpus_ncnn: list[Path]) -> None:
    """Every param id real exports write is in the schema, written with the schema's kind."""
    checked = 0
    for path in corpus_ncnn:
        if path.name.endswith(".param.bin"):
            continue
        m = modelfile.load(path)
        for n in m.graph:
            schema = layer_schema(n.op_type)
            if schema is None:
                continue
            for pid, p in n.attrs.items():
                spec = schema.by_id(pid)
                assert spec is not None, f"{path.name}: {n.op_type} param {pid} not in the schema"
                kind = p.kind
                same = kind == spec.kind or (spec.is_array and kind.endswith("array") and not p.value)
                assert same, f"{path.name}: {n.op_type} {spec.name} written as {kind}, schema says {spec.kind}"
                checked += 1
            params(n).all()  # every default resolves
    assert checked > 5000


def test_ncnn_params_read_names_defaults_and_refs() -> None:
    m = modelfile.load(EXN / "convbn.ncnn.param")
    conv = m.find_node("conv1")
    p = params(conv)
    assert (p.num_output, p.kernel_w, p["pad_left"], p[6]) == (8, 3, 1, 216)
    # absent keys read as ncnn's defaults, references resolved through the given keys
    assert (p.kernel_h, p.pad_bottom, p.stride_h, p.dilation_w, p.pad_value) == (3, 1, 1, 1, 0.0)
    assert "kernel_h" not in p and "kernel_w" in p
    assert list(p) == ["num_output", "kernel_w", "pad_left", "bias_term", "weight_data_size"]
    assert conv.params.num_output == 8  # the Node property is the same view
    mha = layer_schema("MultiHeadAttention")
    assert mha is not None
    blk = modelfile.load(NCNN / "block.ncnn.param")
    attn = blk.find_node("attention_5")
    assert params(attn).scale == pytest.approx(1 / np.sqrt(32 // 4))
    with pytest.raises(AttributeError, match="no param 'kernel_size'"):
        _ = p.kernel_size


def test_ncnn_params_write_in_file_style_and_check_kinds(tmp_path: Path) -> None:
    src = _copy(tmp_path, NCNN / "block.ncnn.param")  # pnnx 2026 style: e-short floats, lexicographic keys
    m = modelfile.load(src)
    ln = m.find_node("ln_3")
    params(ln).eps = 1e-6
    gemm = m.find_node("gemm_0")
    before = [ln_ for ln_ in src.read_text().splitlines()]
    params(gemm).alpha = 1  # int given for a float param: written as a float
    text = m.to_text()
    assert "ln_3 " in text and " 1=1.000000e-6 " in text.split("ln_3", 1)[1].splitlines()[0] + " "
    gemm_line = next(l for l in text.splitlines() if " gemm_0 " in l)
    assert " 0=1.000000e0" in gemm_line or " 0=1.000000e+00" in gemm_line
    # untouched lines keep their bytes
    assert [l for l in text.splitlines() if " add_0 " in l] == [l for l in before if " add_0 " in l]
    with pytest.raises(ModelfileError, match="param constantM is int: got 2.5"):
        params(gemm).constantM = 2.5
    with pytest.raises(ModelfileError, match="is float"):
        params(ln).eps = "small"
    del params(ln).eps
    assert params(ln).eps == pytest.approx(0.001)  # back to ncnn's default


def test_ncnn_params_read_what_ncnn_reads(tmp_path: Path) -> None:
    """ParamDict never converts: a word of the other kind is read as its bits, and binary .param.bin
    files hold only words, so float params come back right only through the schema."""
    from modelfile.formats.ncnn import binparam
    from modelfile.formats.ncnn.reader import read_text

    g, _ = read_text("7767517\n2 2\nInput in0 0 1 in0\nClip clip 1 1 in0 out0 0=0 1=1\n")
    clip = g.find_node("clip")
    assert clip is not None and params(clip).max == pytest.approx(1.4e-45) and params(clip).min == 0.0
    m = modelfile.load(EXN / "convbn.ncnn.param")
    params(m.find_node("conv1")).pad_value = 0.5
    params(m.find_node("conv1")).activation_params = [0.25, 2]
    out = tmp_path / "convbn.param.bin"
    out.write_bytes(binparam.to_bytes(m.graph))
    mb = modelfile.load(out)
    conv = mb.find_node("layer1")
    assert conv is not None and conv.attrs[18].kind == "int"  # a bare word in the file
    assert params(conv).pad_value == 0.5 and params(conv).activation_params == [0.25, 2.0]
    assert params(mb.find_node("layer2")).eps == pytest.approx(1e-5)


def test_ncnn_params_by_id_for_custom_layers() -> None:
    from modelfile.formats.ncnn.reader import read_text

    g, _ = read_text("7767517\n2 2\nInput in0 0 1 in0\nMyLayer my 1 1 in0 out0 0=3 1=2.5 -23302=2,1,2\n")
    node = g.find_node("my")
    assert node is not None
    p = params(node)
    assert (p[0], p[1], p[2]) == (3, 2.5, [1, 2])
    p[4] = 7
    assert node.attrs[4].render() == "4=7"
    with pytest.raises(KeyError, match="not a built-in ncnn layer"):
        _ = p["alpha"]


# -- the IR attributes ---------------------------------------------------------------------------

def test_ir_params_are_typed_per_op_and_written_back_as_strings() -> None:
    m = modelfile.load(OV / "convnet" / "model.xml")
    conv = next(n for n in m.graph if n.op_type == "Convolution")
    p = params(conv)
    assert p.strides == [1, 1] and p.pads_begin == [1, 1] and p.auto_pad == "explicit"
    p.strides = [2, 2]
    assert conv.attrs["strides"] == "2,2"
    param = m.find_node("data")
    assert params(param).shape == (1, 3, 16, 16) and params(param).element_type == "f32"
    mean = next(n for n in m.graph if n.op_type == "ReduceMean")
    assert params(mean).keep_dims is True
    params(mean).keep_dims = False
    assert mean.attrs["keep_dims"] == "false"
    assert decode("floats", "0.5,1") == [0.5, 1.0] and encode("float", 0.1) == "0.10000000000000001"
    assert encode("shape", (1, -1, (1, 10))) == "1,?,1..10"
    with pytest.raises(ModelfileError, match="is a bool"):
        params(mean).keep_dims = 3


# -- weights ---------------------------------------------------------------------------------------

def test_ncnn_weights_named_lazy_and_assignable(tmp_path: Path) -> None:
    src = _copy(tmp_path, EXN / "convbn.ncnn.param")
    m = modelfile.load(src)
    conv, bn = m.find_node("conv1"), m.find_node("bn1")
    w = weights(conv)
    assert w.roles() == ["weight", "bias"] and w.weight.shape == (8, 3, 3, 3) and w.encoding("weight") == "f32"
    assert not w.weight.flags.writeable  # a view of the memory-mapped .bin
    assert list(weights(bn)) == ["slope", "mean", "var", "bias"]
    new_w = np.arange(216, dtype=np.float32).reshape(8, 3, 3, 3)
    w.update(weight=new_w, encodings={"weight": "f16"})
    assert weights(conv).encoding("weight") == "f16"
    np.testing.assert_array_equal(weights(conv).weight, new_w)
    q = np.arange(-24, 24, dtype=np.int8).reshape(6, 8, 1, 1)
    with pytest.raises(ModelfileError, match="does not declare int8 weights"):
        weights(m.find_node("conv2")).update(weight=q, encodings={"weight": "i8"})
    # a layer that declares int8 weights holds them as int8 (with its scales)
    ip = new_node(m, "InnerProduct", [m.find_node("conv2").outputs[0]], name="ip_int8",
                  params={"num_output": 6, "weight_data_size": 48, "int8_scale_term": 1},
                  weights={"weight": q.reshape(6, 8), "weight_int8_scales": np.ones(6, np.float32),
                           "bottom_int8_scale": np.ones(1, np.float32)})
    weights(ip).update(weight=q.reshape(6, 8), encodings={"weight": "i8"})
    assert weights(ip).encoding("weight") == "i8" and weights(ip).weight.dtype == np.int8
    np.testing.assert_array_equal(weights(ip).weight, q.reshape(6, 8))
    with pytest.raises(ModelfileError, match="stored as int8: give an int8 array"):
        weights(ip).weight = q.reshape(6, 8).astype(np.float32)
    remove(ip)
    assert m.find_node("bn2").inputs[0] is m.find_node("conv2").outputs[0]  # the Split it needed went too
    with pytest.raises(ModelfileError, match="weight needs 216 values .* got 10"):
        weights(conv).weight = np.zeros(10, np.float32)
    params(conv).num_output = 4  # sizes change: the blobs must be given together
    with pytest.raises(ModelfileError, match="bias needs 4 values for the layer.s params but its bytes were laid out for other params"):
        weights(conv).weight = np.zeros(216, np.float32)
    params(conv).num_output = 8
    out = tmp_path / "out.ncnn.param"
    m.save(out)
    m2 = modelfile.load(out)
    np.testing.assert_array_equal(weights(m2.find_node("conv1")).weight, new_w)
    assert weights(m2.find_node("conv1")).encoding("weight") == "f16"
    np.testing.assert_array_equal(weights(m2.find_node("bn2")).var, weights(m.find_node("bn2")).var)
    assert (tmp_path / "out.ncnn.bin").stat().st_size == src.with_name("convbn.ncnn.bin").stat().st_size - 216 * 2


def test_ir_const_value_and_error_for_ops(tmp_path: Path) -> None:
    m = modelfile.load(OV / "convnet" / "model.xml")
    c = m.find_node("self.c1.weight")
    assert weights(c).value.shape == (4, 3, 3, 3) and weights(c).value.dtype == np.float32
    weights(c).value = np.zeros((4, 3, 3, 3), np.float32)
    assert c.attrs["size"] == str(4 * 27 * 4)
    conv = next(n for n in m.graph if n.op_type == "Convolution")
    with pytest.raises(ModelfileError, match=r"holds no data.*") as e:
        weights(conv)
    assert "weights(node.inputs[1].producer)" in (e.value.diagnostic.hint or "")


# -- building and rewiring: ncnn -----------------------------------------------------------------

@needs_ncnn
def test_ncnn_new_layer_with_weights_and_split_fanout(tmp_path: Path) -> None:
    src = _copy(tmp_path, EXN / "convbn.ncnn.param")
    m = modelfile.load(src)
    relu = m.find_node("relu1")
    v = relu.outputs[0]
    # a 1x1 conv reading relu1 besides conv2: the blob gets a Split, counts and sizes are derived
    k = np.random.default_rng(1).normal(size=(5, 8, 1, 1)).astype(np.float32)
    b = np.arange(5, dtype=np.float32)
    side = new_node(m, "Convolution", [v], name="side", params={"kernel_w": 1}, weights={"weight": k, "bias": b},
                    outputs=["side_out"])
    assert (params(side).num_output, params(side).weight_data_size, params(side).bias_term) == (5, 40, 1)
    split = v.uses[0].node
    assert split.op_type == "Split" and len(v.uses) == 1 and len(split.outputs) == 2
    assert {u.node.name for t in split.outputs for u in t.uses} == {"conv2", "side"}
    out = tmp_path / "side.ncnn.param"
    m.save(out)
    x = np.random.default_rng(2).normal(size=(3, 10, 12)).astype(np.float32)
    got = _ncnn_run(out, {"data": x}, ["output", "side_out"])
    ref = _ncnn_run(src, {"data": x}, ["relu1", "output"])
    np.testing.assert_allclose(got["output"], ref["output"], atol=1e-5)
    want = np.einsum("oc,chw->ohw", k[:, :, 0, 0], ref["relu1"]) + b[:, None, None]
    np.testing.assert_allclose(got["side_out"], want, atol=1e-4)


@needs_ncnn
def test_ncnn_insert_after_replace_bypass_keep_output_names(tmp_path: Path) -> None:
    src = _copy(tmp_path, EXN / "convbn.ncnn.param")
    m = modelfile.load(src)
    out_v = m.find_node("bn2").outputs[0]
    # append a ReLU at the model output: the output keeps its name "output"
    relu = insert_after(out_v, new_node(m, "ReLU", name="final_relu"))
    assert relu.outputs[0].name == "output" and out_v.name != "output"
    # swap relu1 for a Clip(0, 6) in place
    clip = replace(m.find_node("relu1"), new_node(m, "Clip", name="relu1", params={"min": 0, "max": 6}, outputs=0))
    assert clip.outputs[0].name == "relu1" and clip.inputs[0].name == "bn1"
    assert params(clip).min == 0.0 and clip.attrs[0].kind == "float"
    # drop bn1: conv1 feeds the clip directly, and its weights leave the .bin
    bypass(m.find_node("bn1"))
    assert clip.inputs[0].name == "conv1"
    with pytest.raises(ModelfileError, match="cannot be removed: its output 'conv1' is read by 'relu1'"):
        remove(m.find_node("conv1"))
    out = tmp_path / "edited.ncnn.param"
    m.save(out)
    text = out.read_text()
    assert "bn1" not in text and "Clip                     relu1" in text
    x = np.random.default_rng(3).normal(size=(3, 10, 12)).astype(np.float32)
    got = _ncnn_run(out, {"data": x}, ["output"])["output"]
    # reference: the original up to conv1, then numpy for the rest
    from modelfile.api import weights as w_of

    ref = _ncnn_run(src, {"data": x}, ["conv1"])["conv1"]
    m0 = modelfile.load(src)
    k2 = w_of(m0.find_node("conv2")).weight[:, :, 0, 0]
    bn2 = w_of(m0.find_node("bn2"))
    y = np.einsum("oc,chw->ohw", k2, np.clip(ref, 0, 6))
    s = bn2.slope / np.sqrt(bn2.var + 1e-5)
    y = (y - bn2.mean[:, None, None]) * s[:, None, None] + bn2.bias[:, None, None]
    np.testing.assert_allclose(got, np.maximum(y, 0), atol=1e-4)


def test_ncnn_errors_name_the_node() -> None:
    m = modelfile.load(EXN / "convbn.ncnn.param")
    with pytest.raises(ModelfileError, match=r"layer 'conv1' \(Convolution\): has 1 output\(s\) but its replacement"):
        replace(m.find_node("conv1"), new_node(m, "Slice", name="s", outputs=2))
    with pytest.raises(ModelfileError, match=r"layer 'x' \(Convolution\): weight needs 12 values"):
        new_node(m, "Convolution", [m.inputs[0]], name="x",
                 params={"num_output": 2, "kernel_w": 2, "kernel_h": 1, "weight_data_size": 12},
                 weights={"weight": np.zeros(5, np.float32)})
    with pytest.raises(ModelfileError, match="does not read tensor"):
        insert_after(m.find_node("conv1").outputs[0], new_node(m, "ReLU", [m.find_node("bn1").outputs[0]]))


@needs_ncnn
def test_ncnn_add_output_survives_light_mode(tmp_path: Path) -> None:
    """ncnn releases a consumed blob once its readers ran: extracting it after the net output fails
    unless it is a net output of its own (an unread Split top)."""
    from ncnn_runner import NcnnRunError

    src = _copy(tmp_path, EXN / "convbn.ncnn.param")
    x = np.random.default_rng(6).normal(size=(3, 10, 12)).astype(np.float32)
    with pytest.raises(NcnnRunError):
        _ncnn_run(src, {"data": x}, ["output", "relu1"])
    m = modelfile.load(src)
    top = add_output(m, "relu1")
    assert top.name == "relu1" and not top.uses and top.producer.op_type == "Split"
    assert add_output(m, m.find_node("bn2").outputs[0]).name == "output"  # already a net output
    out = tmp_path / "exposed.ncnn.param"
    m.save(out)
    got = _ncnn_run(out, {"data": x}, ["output", "relu1"])
    ref = _ncnn_run(src, {"data": x}, ["relu1", "output"])
    np.testing.assert_array_equal(got["relu1"], ref["relu1"])
    np.testing.assert_array_equal(got["output"], ref["output"])


def test_set_input_keeps_one_consumer_per_blob() -> None:
    m = modelfile.load(EXN / "convbn.ncnn.param")
    data = m.inputs[0] if m.inputs else m.find_node("data").outputs[0]
    set_input(m.find_node("conv2"), 0, data)  # data is already read by conv1
    split = data.uses[0].node
    assert split.op_type == "Split" and [u.node.name for t in split.outputs for u in t.uses] == ["conv1", "conv2"]


# -- building and rewiring: OpenVINO IR -------------------------------------------------------------

@needs_openvino
def test_ir_new_ops_from_arrays_and_add_output(tmp_path: Path) -> None:
    src = _copy(tmp_path, OV / "convnet" / "model.xml")
    m = modelfile.load(src)
    relu = next(n for n in m.graph if n.op_type == "ReLU")
    v = relu.outputs[0]
    scale = np.array([0.5, 2.0, 1.0, -1.0], np.float32).reshape(1, 4, 1, 1)
    mul = insert_after(v, new_node(m, "Multiply", [v, scale], name="scaled"))
    assert mul.version == "opset1" and mul.inputs[1].producer.op_type == "Const"
    assert mul.outputs[0].shape == v.shape and mul.outputs[0].dtype == "f32"
    add_output(m, v, "features")
    assert "features" in v.names
    const = new_node(m, "Const", weights={"value": np.arange(6, dtype=np.int64).reshape(2, 3)}, name="table")
    assert (const.attrs["element_type"], const.attrs["shape"], const.outputs[0].shape) == ("i64", "2, 3", (2, 3))
    np.testing.assert_array_equal(weights(const).value, np.arange(6).reshape(2, 3))
    remove(const)
    out = tmp_path / "out.xml"
    m.save(out)
    x = np.random.default_rng(4).normal(size=(1, 3, 16, 16)).astype(np.float32)
    got = _ov_run(out, {"data": x})
    import openvino as ov

    core = ov.Core()
    ref_model = core.read_model(str(src))
    ref_model.add_outputs([ref_model.get_ops()[[o.get_friendly_name() for o in ref_model.get_ops()].index(relu.name)]
                           .output(0)])
    ref = core.compile_model(ref_model, "CPU", F32)({"data": x})
    feats = next(np.array(val) for o, val in ref.items() if "logits" not in o.names)
    np.testing.assert_allclose(got["features"], feats, atol=1e-6)
    assert not np.allclose(got["logits"], ref["logits"])  # the Multiply changed the rest


@needs_openvino
def test_ir_bypass_moves_output_names(tmp_path: Path) -> None:
    src = _copy(tmp_path, OV / "convnet" / "model.xml")
    m = modelfile.load(src)
    mean = next(n for n in m.graph if n.op_type == "ReduceMean")
    src_v = bypass(mean)
    assert "logits" in src_v.names
    remove(next(n for n in m.graph if n.op_type == "Const" and not n.outputs[0].uses))
    conv = next(n for n in m.graph if n.op_type == "Convolution")
    add_output(m, conv.outputs[0], "first_conv")
    assert len(m.graph.outputs) == 2
    remove(conv.outputs[0].uses[-1].node)  # the new Result
    assert [v.names[0] for v in m.graph.outputs] == ["logits"] and "first_conv" in conv.outputs[0].names
    out = tmp_path / "nomean.xml"
    m.save(out)
    x = np.random.default_rng(5).normal(size=(1, 3, 16, 16)).astype(np.float32)
    got = _ov_run(out, {"data": x})["logits"]
    ref = _ov_run(src, {"data": x})["logits"]
    assert got.shape == (1, 2, 8, 8)
    np.testing.assert_allclose(got.mean(axis=(2, 3), keepdims=True), ref, atol=1e-5)


def test_ir_attrs_of_real_files_decode() -> None:
    """Every typed <data> attribute of the IR fixtures and corpus decodes, and encodes back to the same text."""
    from conftest import CORPUS
    from modelfile.formats.openvino.attrs import attr_kind

    def walk(g):  # type: ignore[no-untyped-def]
        for n in g:
            yield n
            for body in n.subgraphs.values():
                yield from walk(body)

    files = sorted(OV.rglob("*.xml")) + sorted(CORPUS.glob("openvino*/*.xml"))
    typed = 0
    for f in files:
        m = modelfile.load(f)
        for n in walk(m.graph):
            for k, text in n.attrs.items():
                value = params(n)[k]
                kind = attr_kind(n.op_type, k)
                if kind in ("int", "bool", "ints", "element_type", "str", "strs"):
                    want = text.replace(" ", "")
                    got = encode(kind, value).replace(" ", "")
                    assert got == (want.lower() if kind == "bool" else want), (f.name, n.op_type, k)
                typed += kind != "str"
    assert typed > 500


def test_api_is_exported_lazily_from_the_package() -> None:
    import subprocess
    import sys

    import modelfile.api as api

    assert modelfile.params is api.params and modelfile.new_node is api.new_node and modelfile.Report is api.Report
    code = "import sys, modelfile; print('numpy' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(Path(modelfile.__file__).parent.parent)})
    assert r.stdout.strip() == "False"  # `import modelfile` stays light


@needs_ncnn
def test_ncnn_replace_keeps_producers_before_readers(tmp_path: Path) -> None:
    """A replacement reading a blob made later in the file moves so that ncnn finds every bottom."""
    src = _copy(tmp_path, EXN / "convbn.ncnn.param")
    m = modelfile.load(src)
    bias = np.random.default_rng(13).normal(size=(8, 10, 12)).astype(np.float32)
    md = new_node(m, "MemoryData", [], name="late_bias", weights={"data": bias}, after=m.find_node("conv2"))
    assert (params(md).w, params(md).h, params(md).c) == (12, 10, 8)
    conv1 = m.find_node("conv1").outputs[0]
    add = replace(m.find_node("bn1"), new_node(m, "BinaryOp", [conv1, md.outputs[0]], name="bn1", outputs=0))
    order = [n.name for n in m.graph]
    assert order.index("late_bias") < order.index("bn1") < order.index("relu1")
    assert add.outputs[0].name == "bn1" and weights(md).data.shape == (8, 10, 12)
    out = tmp_path / "add.ncnn.param"
    m.save(out)
    x = np.random.default_rng(14).normal(size=(3, 10, 12)).astype(np.float32)
    ref = _ncnn_run(src, {"data": x}, ["conv1"])["conv1"]
    got = _ncnn_run(out, {"data": x}, ["relu1"])["relu1"]
    np.testing.assert_allclose(got, np.maximum(ref + bias, 0), atol=1e-5)
    with pytest.raises(ModelfileError, match="the graph would loop"):
        insert_after(conv1, new_node(m, "BinaryOp", [conv1, m.find_node("conv2").outputs[0]], name="loop"))
