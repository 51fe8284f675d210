"""Lossless load/save of ncnn params: every corpus file, the fixtures, and the runtime's view."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import modelfile
from conftest import FIXTURES, corpus_files, needs_ncnn
from modelfile.formats import ncnn
from ncnn_runner import run_ncnn

CORPUS_NCNN = corpus_files("ncnn")


def test_corpus_is_there() -> None:
    if not CORPUS_NCNN:
        pytest.skip("corpus not available")
    assert len(CORPUS_NCNN) == 52


@pytest.mark.parametrize("path", CORPUS_NCNN, ids=lambda p: p.name.replace("Tencent__ncnn__", ""))
def test_corpus_roundtrip_byte_identical(path: Path, tmp_path: Path) -> None:
    m = modelfile.load(path)
    out = tmp_path / path.name
    m.save(out, weights=False)
    assert out.read_bytes() == path.read_bytes()


FIXTURE_PARAMS = sorted((FIXTURES / "ncnn").glob("*.param"))


@pytest.mark.parametrize("path", FIXTURE_PARAMS, ids=lambda p: p.name)
def test_fixture_roundtrip_byte_identical(path: Path, tmp_path: Path) -> None:
    m = modelfile.load(path)
    res = m.save(tmp_path / path.name)
    assert (tmp_path / path.name).read_bytes() == path.read_bytes()
    assert res.weights == "copied"
    assert ncnn.bin_path_for(tmp_path / path.name).read_bytes() == ncnn.bin_path_for(path).read_bytes()


def test_counts_are_computed_not_stored(tmp_path: Path) -> None:
    m = modelfile.load(FIXTURES / "ncnn" / "convlstm.ncnn.param")
    relu = modelfile.Node("ReLU", "extra_relu")
    last = m.graph.nodes[-1].outputs[0]
    relu.append_input(last)
    relu.append_output(modelfile.Value("out_relu"))
    m.graph.append(relu)
    text = ncnn.to_text(m)
    assert text.splitlines()[1] == "6 6"
    # the new line uses pnnx's 24/24 columns like the rest of the file
    assert text.splitlines()[-1] == "ReLU                     extra_relu               1 1 out0 out_relu"


def test_declared_blob_surplus_kept_while_unchanged(tmp_path: Path) -> None:
    p = tmp_path / "surplus.param"
    p.write_text("7767517\n2 9\nInput in0 0 1 in0\nReLU r 1 1 in0 out0\n")
    m = modelfile.load(p)
    assert ncnn.to_text(m) == p.read_text()
    m.graph.nodes[1].outputs[0].name = "renamed"  # same blob set: surplus still kept
    assert ncnn.to_text(m).splitlines()[1] == "2 9"
    m.graph.remove(m.graph.nodes[1])  # counts move by what the edit changed: one layer, one blob less
    assert ncnn.to_text(m).splitlines()[1] == "1 8"


def test_quirks_survive(tmp_path: Path) -> None:
    text = (
        "7767517\r\n3 4\r\n"
        "Input            data    0 1 data 0=4\r\n"
        "Reshape\tr\t1 1 data r 6=\"1w,1h,128\" 0=-1\r\n"
        "Einsum e 1 1 r  e 0=bij,bjk->bik -23301=0 1=4, 2=1.000000e-5   \r\n"
        "Noop extra 0 0"
    )
    p = tmp_path / "quirks.param"
    p.write_bytes(text.encode())
    m = modelfile.load(p)
    assert ncnn.to_text(m).encode() == text.encode()
    e = m.find_node("e")
    assert e.attrs[0].value == "bij,bjk->bik" and e.attrs[0].kind == "string"
    assert e.attrs[1].kind == "int_array" and e.attrs[1].value == [4]
    assert e.attrs[2].kind == "float" and e.attrs[2].text == "1.000000e-5"
    assert e.attrs[1].id == 1 and m.find_node("r").attrs[6].value == "1w,1h,128"
    assert len(m.graph.nodes) == 3  # the 4th line is after the declared count: kept as text
    assert ncnn.to_text(m).endswith("Noop extra 0 0")


def test_int_float_spelling_is_a_type() -> None:
    from modelfile.formats.ncnn.params import Param

    assert Param.parse("0", "1").kind == "int"
    assert Param.parse("0", "1.0").kind == "float"
    assert Param.parse("0", "1.000000e+00").kind == "float"
    assert Param.parse("0", "1") != Param.parse("0", "1.0")
    assert Param.parse("-23310", "2,1,2.5").kind == "float_array"  # last element decides
    assert Param.parse("3", "2.5,3").value == [2.5, 3.0]           # first element decides


def _mats(name: str) -> tuple[dict[str, np.ndarray], list[str]]:
    rng = np.random.default_rng(0)
    if name == "convlstm":
        return {"in0": rng.standard_normal((8, 20)).astype(np.float32)}, ["out0"]
    if name == "block":
        return {"in0": rng.standard_normal((12, 32)).astype(np.float32)}, ["out0"]
    return ({"in0": np.array([3, 7], np.int32), "in1": rng.standard_normal((1, 24)).astype(np.float32),
             "in2": rng.standard_normal((1, 24)).astype(np.float32)}, ["out0", "out1", "out2"])


@needs_ncnn
@pytest.mark.parametrize("path", FIXTURE_PARAMS, ids=lambda p: p.name)
def test_fixture_runs_the_same_after_edit_roundtrip(path: Path, tmp_path: Path) -> None:
    """Load, touch every layer (forcing re-render), save; ncnn gives the same numbers."""
    m = modelfile.load(path)
    for n in m.graph.nodes:
        n.name = n.name + "_x"  # re-renders every line from the AST
    out = tmp_path / path.name
    m.save(out)
    text = out.read_text()
    assert text != path.read_text()
    name = path.name.split(".")[0]
    inputs, outputs = _mats(name)
    want = run_ncnn(path, ncnn.bin_path_for(path), inputs, outputs)
    got = run_ncnn(out, ncnn.bin_path_for(out), inputs, outputs)
    for k in outputs:
        np.testing.assert_allclose(got[k], want[k], rtol=0, atol=1e-6)
