"""Weights belong to the graph: an edit through the public API writes a .bin that matches the params."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import modelfile
from conftest import needs_ncnn
from modelfile.formats.ncnn.weights import layer_spans


def _conv_net(d: Path) -> Path:
    """Input 4x8x8 -> Conv 3x3 pad 1 -> ReLU -> Conv 3x3 pad 1 (fp32 weights with bias, flag word 0)."""
    rng = np.random.default_rng(7)
    text = ("7767517\n4 4\n"
            "Input            in0      0 1 in0 0=8 1=8 2=4\n"
            "Convolution      conv_0   1 1 in0 c0 0=4 1=3 4=1 5=1 6=144\n"
            "ReLU             relu_0   1 1 c0 r0\n"
            "Convolution      conv_1   1 1 r0 out0 0=4 1=3 4=1 5=1 6=144\n")
    blobs = b""
    for _ in range(2):
        blobs += np.zeros(1, "<u4").tobytes() + rng.standard_normal(144).astype("<f4").tobytes()
        blobs += rng.standard_normal(4).astype("<f4").tobytes()
    p = d / "net.ncnn.param"
    p.write_text(text)
    (d / "net.ncnn.bin").write_bytes(blobs)
    return p


def test_removing_the_last_convolution_through_graph_remove(tmp_path: Path) -> None:
    src = _conv_net(tmp_path)
    m = modelfile.load(src)
    conv = m.find_node("conv_1")
    spans = layer_spans(m.graph, (tmp_path / "net.ncnn.bin").read_bytes())
    span = spans[list(m.graph.nodes).index(conv)]
    assert span is not None
    # the user's own edit: no transform, no weight store touched by hand
    m.graph.outputs = [conv.inputs[0]]
    m.graph.remove(conv)
    res = m.save(tmp_path / "cut.ncnn.param")
    assert res.weights == "rewritten"
    old = (tmp_path / "net.ncnn.bin").read_bytes()
    new = (tmp_path / "cut.ncnn.bin").read_bytes()
    assert new == old[: span.offset] + old[span.offset + span.nbytes:]  # exactly that layer's bytes less
    assert "conv_1" not in (tmp_path / "cut.ncnn.param").read_text()


@needs_ncnn
def test_the_runtime_runs_it(tmp_path: Path) -> None:
    from ncnn_runner import run_ncnn

    src = _conv_net(tmp_path)
    m = modelfile.load(src)
    conv = m.find_node("conv_1")
    m.graph.remove(conv)
    m.save(tmp_path / "cut.ncnn.param")
    x = np.random.default_rng(0).standard_normal((4, 8, 8)).astype(np.float32)
    want = run_ncnn(src, tmp_path / "net.ncnn.bin", {"in0": x}, ["r0"])["r0"]
    got = run_ncnn(tmp_path / "cut.ncnn.param", tmp_path / "cut.ncnn.bin", {"in0": x}, ["r0"])["r0"]
    np.testing.assert_array_equal(got, want)


def test_reordering_and_reparametrising_through_the_api(tmp_path: Path) -> None:
    src = _conv_net(tmp_path)
    m = modelfile.load(src)
    # changing a param that changes the layout without new bytes must be refused, naming the layer
    from modelfile.errors import ModelfileError
    from modelfile.formats.ncnn.params import Param

    conv = m.find_node("conv_0")
    conv.attrs[5] = Param.of(5, 0)  # no bias any more: 16 bytes too many for its params
    try:
        m.save(tmp_path / "bad.ncnn.param")
    except ModelfileError as e:
        assert "conv_0" in str(e) and "bytes" in str(e)
    else:
        raise AssertionError("a .bin that no longer matches the params was written")
    assert not (tmp_path / "bad.ncnn.param").exists()
