"""Const data: element decoders/encoders, checked against the format notes and against OpenVINO itself."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import modelfile
from conftest import has_module, needs_openvino
from modelfile.errors import ModelfileError
from modelfile.formats.openvino import const_array, const_info, decode, encode, new_const, set_const_value

# ---------------------------------------------------------------------------------------------
# the packing rules, byte for byte
# ---------------------------------------------------------------------------------------------


def test_u1_is_msb_first() -> None:
    # docs/openvino-ir.md §3: writing 0,0,0,1,0,1,1,0 gives 0x16
    assert encode([0, 0, 0, 1, 0, 1, 1, 0], "u1") == b"\x16"
    assert decode(b"\x16", "u1", (8,)).tolist() == [0, 0, 0, 1, 0, 1, 1, 0]
    assert decode(b"\x80\x80", "u1", (9,)).tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 1]


def test_u4_low_nibble_first() -> None:
    assert encode([1, 2], "u4") == b"\x21"
    assert decode(b"\x21\x03", "u4", (3,)).tolist() == [1, 2, 3]


def test_i4_sign_extends() -> None:
    assert decode(bytes([0x78, 0x0F, 0x03]), "i4", (5,)).tolist() == [-8, 7, -1, 0, 3]
    assert encode([-8, 7, -1, 0, 3], "i4") == bytes([0x78, 0x0F, 0x03])


def test_u2_u3_u6_layouts_of_openvino_2026() -> None:
    # measured with openvino 2026.4 Constant bytes (u2 is LSB-first there, not MSB-first as older notes say)
    assert encode([2, 0, 1, 3], "u2") == b"\xd2"
    assert decode(b"\xd2", "u2", (4,)).tolist() == [2, 0, 1, 3]
    assert encode([0, 1, 2, 3, 4, 5, 6, 7], "u3") == bytes.fromhex("1b1b0f")
    assert decode(bytes.fromhex("376863c00080"), "u3", (9,)).tolist() == [0, 7, 5, 3, 1, 2, 6, 4, 7]
    assert encode([0, 1, 2, 63], "u6") == bytes.fromhex("012f03")
    assert decode(bytes.fromhex("0f1836500000"), "u6", (5,)).tolist() == [0, 63, 17, 40, 5]


def test_nf4_table_and_codes() -> None:
    raw = bytes([0xC0, 0xF8, 0x06])  # codes 0,12,8,15,6 (low nibble first)
    assert decode(raw, "nf4", (5,), raw=True).tolist() == [0, 12, 8, 15, 6]
    vals = decode(raw, "nf4", (5,))
    assert vals.dtype == np.float32
    np.testing.assert_allclose(vals, [-1.0, 0.44070983, 0.0795803, 1.0, -0.09105004], rtol=1e-6)
    assert encode(vals, "nf4") == raw


def test_string_offset_table() -> None:
    strs = ["a", "bc", "", "héllo", "日本"]
    blob = encode(np.array(strs, dtype=object), "string")
    n = struct.unpack_from("<i", blob)[0]
    ends = struct.unpack_from(f"<{n + 1}i", blob, 4)
    assert n == 5 and ends[0] == 0 and ends[-1] == len("".join(strs).encode())
    assert decode(blob, "string", (5,)).tolist() == strs
    assert decode(blob, "string", (5,), raw=True).tolist() == [s.encode() for s in strs]
    with pytest.raises(ValueError):
        decode(blob, "string", (4,))


def test_bf16_and_f8() -> None:
    assert decode(bytes.fromhex("cc3d"), "bf16", (1,))[0] == np.float32(0.099609375)
    np.testing.assert_array_equal(decode(bytes.fromhex("1d7ec20144"), "f8e4m3", (5,)),
                                  np.array([0.1015625, 448.0, -2.5, 0.001953125, 3.0], np.float32))
    np.testing.assert_array_equal(decode(bytes.fromhex("2e7bc10142"), "f8e5m2", (5,)),
                                  np.array([0.09375, 57344.0, -2.5, 1.5258789e-05, 3.0], np.float32))
    np.testing.assert_array_equal(decode(bytes.fromhex("7f807d8980"), "f8e8m0", (5,)),
                                  np.array([1.0, 2.0, 0.25, 1024.0, 2.0], np.float32))
    assert np.isnan(decode(b"\x7f", "f8e4m3", (1,))[0]) and np.isnan(decode(b"\xff", "f8e8m0", (1,))[0])


def test_short_buffer_is_an_error() -> None:
    with pytest.raises(ValueError, match="fewer than"):
        decode(b"\x00" * 7, "f32", (2,))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["u1", "u2", "u3", "u4", "u6", "i4", "u8", "i8", "i16", "u16", "i32", "u32", "i64", "u64"]),
       st.lists(st.integers(0, 2**31), min_size=0, max_size=40))
def test_integer_round_trip(et: str, raw: list[int]) -> None:
    bits = {"u1": 1, "u2": 2, "u3": 3, "u4": 4, "u6": 6, "i4": 4}.get(et)
    if bits is not None:
        vals = [(x % (1 << bits)) - (8 if et == "i4" else 0) for x in raw]
        vals = [v if et != "i4" else max(-8, min(7, v)) for v in vals]
    else:
        info = np.iinfo(np.dtype({"u8": "u1", "i8": "i1", "i16": "i2", "u16": "u2", "i32": "i4", "u32": "u4",
                                  "i64": "i8", "u64": "u8"}[et]))
        vals = [min(max(x, int(info.min)), int(info.max)) for x in raw]
    data = encode(np.array(vals, dtype=np.int64), et)
    assert decode(data, et, (len(vals),)).astype(np.int64).tolist() == vals


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False, width=32), min_size=1, max_size=30),
       st.sampled_from(["f32", "f16", "f64", "bf16", "f8e4m3", "f8e5m2", "nf4", "f4e2m1"]))
def test_float_encode_is_idempotent(vals: list[float], et: str) -> None:
    once = decode(encode(np.array(vals, np.float32), et), et, (len(vals),))
    twice = decode(encode(once, et), et, (len(vals),))
    np.testing.assert_array_equal(once, twice)


# ---------------------------------------------------------------------------------------------
# against OpenVINO: Const(type) -> Convert(f32) -> Result, read back through the .bin
# ---------------------------------------------------------------------------------------------

CASES = [
    ("u1", [1, 0, 1, 1, 0, 0, 1, 0, 1]), ("u2", [0, 1, 2, 3, 3]), ("u3", [0, 7, 5, 3, 1, 2, 6, 4, 7]),
    ("u4", [0, 15, 3, 9, 1]), ("u6", [0, 63, 17, 40, 5]), ("i4", [-8, 7, -1, 0, 3]),
    ("nf4", [-1.0, 0.5, 0.07958, 1.0, -0.1]), ("f4e2m1", [0, 0.5, -6, 3, 1.5]),
    ("f8e4m3", [0.1, 448, -2.5, 1e-3, 3]), ("f8e5m2", [0.1, 57344, -2.5, 1e-5, 3]),
    ("f8e8m0", [1, 2, 0.25, 1024, 4]), ("bf16", [0.1, -3.5, 1e10, 2, 7]), ("f16", [0.1, -3.5, 65504, 2, 7]),
    ("boolean", [1, 0, 1]), ("i64", [-(2**40), 3]), ("u8", [0, 255, 7]), ("f64", [1e-300, 2.5]),
]


@needs_openvino
@pytest.mark.parametrize("et,vals", CASES, ids=[c[0] for c in CASES])
def test_decoders_match_openvino(tmp_path: Path, et: str, vals: list[float]) -> None:
    import openvino as ov
    import openvino.opset13 as ops

    c = ov.op.Constant(getattr(ov.Type, et), ov.Shape([len(vals)]), vals)
    c.set_friendly_name("the_const")
    model = ov.Model([ops.result(ops.convert(c, ov.Type.f32))], [], "consts")
    xml = tmp_path / f"{et}.xml"
    ov.save_model(model, str(xml), compress_to_fp16=False)
    core = ov.Core()
    want = list(core.compile_model(str(xml), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
                .create_infer_request().infer({}).values())[0]
    m = modelfile.load(xml)
    node = m.find_node("the_const")
    got = const_array(node)
    assert const_info(node).element_type == et
    np.testing.assert_array_equal(np.asarray(got, np.float32), np.asarray(want, np.float32))
    # packed bytes: our encoder reproduces openvino's layout for the decoded values
    if et not in ("f8e8m0",):  # openvino's own f8e8m0 rounding is not nearest; decoding is what matters
        assert encode(got, et) == bytes(c.data.view(np.uint8))


@needs_openvino
def test_string_const_matches_openvino(tmp_path: Path) -> None:
    from modelfile.formats.openvino import verify

    fx = Path(__file__).resolve().parents[3] / "fixtures" / "openvino" / "strings" / "string_const.xml"
    if not fx.exists():
        pytest.skip("strings fixture not present")
    m = modelfile.load(fx)
    node = next(n for n in m.nodes if n.op_type == "Const" and n.attrs.get("element_type") == "string")
    labels = const_array(node).tolist()
    assert labels == ["<blk>", "a", "bc", "héllo", "日本"]
    import openvino as ov

    req = ov.Core().compile_model(verify.read_model(fx), "CPU").create_infer_request()
    res = req.infer({"scores": np.zeros((1, 5), np.float32), "text": np.array(["x"])})
    assert [str(s) for s in res["labels"].tolist()] == labels


# ---------------------------------------------------------------------------------------------
# lazy data, missing .bin, new data
# ---------------------------------------------------------------------------------------------

XML_ONE_CONST = """<?xml version="1.0"?>
<net name="c" version="11">
	<layers>
		<layer id="0" name="w" type="Const" version="opset1">
			<data element_type="f32" shape="2" offset="{off}" size="8" />
			<output>
				<port id="0" precision="FP32" names="w">
					<dim>2</dim>
				</port>
			</output>
		</layer>
		<layer id="1" name="out" type="Result" version="opset1">
			<input>
				<port id="0" precision="FP32">
					<dim>2</dim>
				</port>
			</input>
		</layer>
	</layers>
	<edges>
		<edge from-layer="0" from-port="0" to-layer="1" to-port="0" />
	</edges>
	<rt_info />
</net>
"""


def test_missing_bin_loads_and_fails_only_on_data(tmp_path: Path) -> None:
    xml = tmp_path / "m.xml"
    xml.write_text(XML_ONE_CONST.format(off=0))
    m = modelfile.load(xml)  # loading needs no .bin
    from modelfile.formats.openvino import describe

    assert any("missing" in w for w in describe(m)["warnings"])
    with pytest.raises(ModelfileError, match="needs weights") as e:
        const_array(m.find_node("w"))
    assert e.value.diagnostic.line == 4


def test_offset_past_end_names_the_layer(tmp_path: Path) -> None:
    xml = tmp_path / "m.xml"
    xml.write_text(XML_ONE_CONST.format(off=4))
    (tmp_path / "m.bin").write_bytes(b"\0" * 8)
    with pytest.raises(ModelfileError, match="'w'") as e:
        modelfile.load(xml)
    assert e.value.diagnostic.line == 4
    m = modelfile.load(xml, check_weights=False)  # inspection is still possible
    with pytest.raises(ModelfileError, match="beyond"):
        const_array(m.find_node("w"))


def test_data_is_a_memory_map(tmp_path: Path) -> None:
    xml = tmp_path / "m.xml"
    xml.write_text(XML_ONE_CONST.format(off=0))
    (tmp_path / "m.bin").write_bytes(np.array([1.5, -2], np.float32).tobytes())
    m = modelfile.load(xml)
    a = const_array(m.find_node("w"))
    assert a.tolist() == [1.5, -2.0]
    assert not a.flags.owndata and not a.flags.writeable  # a view of the mapped file


def test_new_const_and_set_value(tmp_path: Path) -> None:
    xml = tmp_path / "m.xml"
    xml.write_text(XML_ONE_CONST.format(off=0))
    (tmp_path / "m.bin").write_bytes(np.array([1.5, -2], np.float32).tobytes())
    m = modelfile.load(xml)
    w = m.find_node("w")
    set_const_value(w, [3, 4, 5])
    assert w.attrs["shape"] == "3" and w.attrs["size"] == "12" and w.outputs[0].shape == (3,)
    assert const_array(w).tolist() == [3.0, 4.0, 5.0]  # the node's type (f32) is kept
    c = new_const(m.graph, np.array([[1, 2]], np.int64), "k")
    assert c.attrs == {"element_type": "i64", "shape": "1, 2", "offset": "0", "size": "16"}
    assert const_array(c).tolist() == [[1, 2]]


@pytest.mark.skipif(not has_module("openvino"), reason="openvino not installed")
def test_set_const_value_types(tmp_path: Path) -> None:
    m = modelfile.load(_tiny(tmp_path))
    g = m.graph
    for et, val in [("u4", [1, 2, 3]), ("boolean", [True, False]), ("string", ["x", "yz"]), ("bf16", [1.0, 2.5])]:
        c = new_const(g, np.array(val, dtype=object if et == "string" else None), f"c_{et}", element_type=et)
        assert const_info(c).element_type == et
        back = const_array(c)
        assert [x if et == "string" else float(x) for x in back.tolist()] == \
            [x if et == "string" else float(x) for x in val]


def _tiny(tmp_path: Path) -> Path:
    xml = tmp_path / "t.xml"
    xml.write_text(XML_ONE_CONST.format(off=0))
    (tmp_path / "t.bin").write_bytes(np.array([1.5, -2], np.float32).tobytes())
    return xml
