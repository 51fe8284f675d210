"""`modelfile convert --weights fp32|fp16` on ncnn models: bytes as pnnx writes them, values, runtime.

The fp16 fixture pair (`fixtures/ncnn/fp16/`, made by `tools/make_fixtures_fp16.py`) is one model
exported by pnnx twice, `fp16=1` and `fp16=0`: converting the fp32 export to fp16 must give pnnx's own
fp16 `.bin` byte for byte, and fp16 -> fp32 -> fp16 must give the original back.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import modelfile
from conftest import FIXTURES, needs_ncnn
from modelfile.cli import app
from modelfile.formats.ncnn import bin_path_for
from modelfile.formats.ncnn.weights import FLAG_FP16, FLAG_INT8, WeightStore, f32_to_f16
from modelfile.passes.convert import convert_weights
from ncnn_runner import run_ncnn

FP16_DIR = FIXTURES / "ncnn" / "fp16"
FP16 = FP16_DIR / "mixed.fp16.ncnn.param"
FP32 = FP16_DIR / "mixed.fp32.ncnn.param"
ALL_PARAMS = sorted(p for p in FIXTURES.rglob("*.ncnn.param") if bin_path_for(p).exists())
runner = CliRunner()


def _convert(src: Path, to: str, out: Path) -> Path:
    m = modelfile.load(src)
    rep = convert_weights(m, to)
    m.save(out)
    assert rep.to_dict()["transform"] == "convert"
    return bin_path_for(out)


def _blobs(param: Path) -> list[tuple[str, str, str, np.ndarray]]:
    """(layer, role, encoding, values as float32/int8) of every blob."""
    m = modelfile.load(param)
    store = WeightStore.from_model(m)
    out = []
    for n in m.nodes:
        if store.spans_of(n) is None:
            continue
        for info, arr in zip(store.blob_info(n), store.blobs_of(n)):
            out.append((n.name, info.role, info.encoding, np.array(arr)))
    return out


@pytest.mark.parametrize("name", ["mixed", "edges"])
def test_fp32_to_fp16_is_pnnx_fp16_export(name: str, tmp_path: Path) -> None:
    """`edges` holds weights on every rounding boundary (ties, just below 2**-14, beyond 65504)."""
    src = FP16_DIR / f"{name}.fp32.ncnn.param"
    got = _convert(src, "fp16", tmp_path / "m.ncnn.param")
    assert got.read_bytes() == bin_path_for(FP16_DIR / f"{name}.fp16.ncnn.param").read_bytes()
    assert (tmp_path / "m.ncnn.param").read_bytes() == src.read_bytes()  # the param does not change


@pytest.mark.parametrize("param", ALL_PARAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_both_ways_and_back(param: Path, tmp_path: Path) -> None:
    """to fp16, to fp32, to fp16 again: the two fp16 files are identical; values are the fp16 roundings."""
    a = _convert(param, "fp16", tmp_path / "a.ncnn.param")
    b = _convert(tmp_path / "a.ncnn.param", "fp32", tmp_path / "b.ncnn.param")
    c = _convert(tmp_path / "b.ncnn.param", "fp16", tmp_path / "c.ncnn.param")
    assert a.read_bytes() == c.read_bytes()
    src, half, full = _blobs(param), _blobs(tmp_path / "a.ncnn.param"), _blobs(tmp_path / "b.ncnn.param")
    assert [x[:2] for x in src] == [x[:2] for x in half] == [x[:2] for x in full]
    for (layer, role, enc, v0), (_, _, enc16, v16), (_, _, enc32, v32) in zip(src, half, full):
        if enc in ("f32", "f16"):  # tagged: stored as fp16, then back as plain fp32 (flag 0)
            assert (enc16, enc32) == ("f16", "f32"), (layer, role)
            want = f32_to_f16(v0).view("<f2").astype(np.float32).reshape(v0.shape)
            np.testing.assert_array_equal(v16, want)
            np.testing.assert_array_equal(v32, want)
        else:  # raw blobs (biases, norms) are never touched
            assert enc16 == enc32 == enc
            np.testing.assert_array_equal(v16, v0)
            np.testing.assert_array_equal(v32, v0)
    if any(e == "f32" for *_, e, _v in src):
        assert a.stat().st_size < bin_path_for(param).stat().st_size


def test_fp16_pnnx_export_round_trips_byte_for_byte(tmp_path: Path) -> None:
    b = _convert(FP16, "fp32", tmp_path / "b.ncnn.param")
    assert b.stat().st_size == bin_path_for(FP32).stat().st_size
    c = _convert(tmp_path / "b.ncnn.param", "fp16", tmp_path / "c.ncnn.param")
    assert c.read_bytes() == bin_path_for(FP16).read_bytes()


def test_pnnx_fp16_rounding_rules() -> None:
    """Half away from zero, denormal results flushed to signed zero, overflow to inf, NaN 0x7E00."""
    band = np.frombuffer(np.array([0x387FF800, 0x38800000], np.uint32).tobytes(), np.float32)  # 2**-14 - eps, 2**-14
    x = np.array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -15, -2e-7, 65519.0, 7e4, 1e-40, np.nan, -np.inf, 1.5,
                  *band], np.float32)
    assert f32_to_f16(x).tolist() == [15361, 15362, 0, 32768, 31743, 31744, 0, 0x7E00, 0xFC00, 15872, 0, 0x400]


def _rng_inputs(name: str) -> tuple[dict[str, np.ndarray], list[str]]:
    rng = np.random.default_rng(1)
    if name == "mixed":
        return {"in0": rng.standard_normal((4, 8, 8)).astype(np.float32),
                "in1": np.array([1, 5, 9, 2, 0, 10], np.int32)}, ["out0", "out1"]
    if name == "convlstm":
        return {"in0": rng.standard_normal((8, 20)).astype(np.float32)}, ["out0"]
    if name == "block":
        return {"in0": rng.standard_normal((12, 32)).astype(np.float32)}, ["out0"]
    return ({"in0": np.array([3, 7], np.int32), "in1": rng.standard_normal((1, 24)).astype(np.float32),
             "in2": rng.standard_normal((1, 24)).astype(np.float32)}, ["out0", "out1", "out2"])


RUNNABLE = [FIXTURES / "ncnn" / f"{n}.ncnn.param" for n in ("convlstm", "block", "decoder")] + [FP32, FP16]


@needs_ncnn
@pytest.mark.parametrize("param", RUNNABLE, ids=lambda p: p.name)
def test_ncnn_outputs_after_conversion(param: Path, tmp_path: Path) -> None:
    """fp16 -> fp32 computes exactly what the fp16 file computes (fp16 storage off); fp32 -> fp16 stays close."""
    inputs, outputs = _rng_inputs(param.name.split(".")[0])
    want = run_ncnn(param, bin_path_for(param), inputs, outputs)
    a = _convert(param, "fp16", tmp_path / "a.ncnn.param")
    b = _convert(tmp_path / "a.ncnn.param", "fp32", tmp_path / "b.ncnn.param")
    half = run_ncnn(tmp_path / "a.ncnn.param", a, inputs, outputs)
    full = run_ncnn(tmp_path / "b.ncnn.param", b, inputs, outputs)
    for k in outputs:
        np.testing.assert_array_equal(full[k], half[k])  # ncnn widens fp16 weights to the same fp32 values
        scale = float(np.max(np.abs(want[k]))) or 1.0
        np.testing.assert_allclose(half[k], want[k], rtol=0, atol=2e-2 * scale)


def _int8_model(tmp_path: Path) -> Path:
    param = tmp_path / "q.param"
    param.write_text("7767517\n3 3\nInput in0 0 1 in0\nInnerProduct fc8 1 1 in0 a 0=2 1=1 2=4 8=1\n"
                     "InnerProduct fc 1 1 a out 0=2 1=0 2=4\n")
    data = struct.pack("<I", FLAG_INT8) + bytes([1, 2, 3, 4])  # int8 weight
    data += np.zeros(2, "<f4").tobytes() + np.ones(3, "<f4").tobytes()  # bias, 2 weight scales + input scale
    data += struct.pack("<I", 0) + np.arange(4, dtype="<f4").tobytes()
    (tmp_path / "q.bin").write_bytes(data)
    return param


def test_int8_layers_are_kept_and_reported(tmp_path: Path) -> None:
    param = _int8_model(tmp_path)
    m = modelfile.load(param)
    rep = convert_weights(m, "fp16")
    m.save(tmp_path / "o.param")
    assert any("fc8" in n and "int8" in n for n in rep.notes), rep.notes
    out = (tmp_path / "o.bin").read_bytes()
    assert out[:28] == (tmp_path / "q.bin").read_bytes()[:28]  # the int8 layer, byte-identical
    assert struct.unpack_from("<I", out, 28)[0] == FLAG_FP16
    assert np.frombuffer(out, "<f2", 4, 32).tolist() == [0, 1, 2, 3]
    assert len(out) == 40


def test_unknown_layout_is_a_clean_error(tmp_path: Path) -> None:
    param = tmp_path / "c.param"
    param.write_text("7767517\n3 3\nInput in0 0 1 in0\nMyCustom c 1 1 in0 a 0=3\nPReLU p 1 1 a out 0=2\n")
    (tmp_path / "c.bin").write_bytes(bytes(16))
    r = runner.invoke(app, ["convert", str(param), "--weights", "fp16", "-o", str(tmp_path / "o.param")])
    assert r.exit_code == 2
    assert "c.param:4:" in r.stderr and "MyCustom" in r.stderr
    assert not (tmp_path / "o.param").exists()


def test_cli_json_and_usage_errors(tmp_path: Path) -> None:
    out = tmp_path / "o.ncnn.param"
    r = runner.invoke(app, ["convert", str(FP32), "--weights", "fp16", "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["modified"] and data["changes"][0]["kind"] == "weights"
    assert data["changes"][0]["after"] == f"fp16: {bin_path_for(FP16).stat().st_size} bytes"
    assert str(bin_path_for(out)) in data["written"]
    for args in (["--weights", "fp8"], ["--param-format", "yaml"], []):
        r = runner.invoke(app, ["convert", str(FP32), *args, "-o", str(tmp_path / "x.param")])
        assert r.exit_code == 2 and r.stderr.count("\n") >= 1
    r = runner.invoke(app, ["convert", str(FP16), "--weights", "fp16", "-n"])
    assert r.exit_code == 0 and "nothing to convert" in r.stdout

