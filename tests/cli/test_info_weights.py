"""`modelfile info` accounts for every byte of the weights file (ncnn .bin and IR .bin)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import modelfile
from conftest import CORPUS, FIXTURES
from modelfile.cli import app
from modelfile.formats.ncnn import bin_path_for
from modelfile.info import describe

runner = CliRunner()
NCNN = sorted(p for p in FIXTURES.rglob("*.ncnn.param") if bin_path_for(p).exists())
IR = sorted(FIXTURES.rglob("*.xml")) + sorted((CORPUS / "openvino-with-weights").glob("*.xml"))


@pytest.mark.parametrize("param", NCNN, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_ncnn_weights_sum_to_the_file_size(param: Path) -> None:
    w = describe(modelfile.load(param), layers=True)["weights"]
    size = bin_path_for(param).stat().st_size
    assert w["bytes"] == size
    assert sum(v["bytes"] for v in w["by_dtype"].values()) + w["trailing_bytes"] + w["unlocated_bytes"] == size
    assert sum(r["bytes"] for r in w["layers"]) == size - w["trailing_bytes"]
    assert sum(v["params"] for v in w["by_dtype"].values()) == w["params"] == sum(r["params"] for r in w["layers"])
    # layers are contiguous, in file order
    offs = [(r["offset"], r["bytes"]) for r in w["layers"]]
    assert all(a + n == b for (a, n), (b, _m) in zip(offs, offs[1:]))


def test_ncnn_dtypes_of_the_pnnx_pair() -> None:
    half = describe(modelfile.load(FIXTURES / "ncnn/fp16/mixed.fp16.ncnn.param"))["weights"]
    full = describe(modelfile.load(FIXTURES / "ncnn/fp16/mixed.fp32.ncnn.param"))["weights"]
    assert half["params"] == full["params"] == 22929
    assert set(half["by_dtype"]) == {"fp16", "fp32"} and set(full["by_dtype"]) == {"fp32"}
    assert half["by_dtype"]["fp32"] == {"params": 92, "bytes": 368}  # biases, PReLU, LayerNorm stay fp32
    assert half["padding_bytes"] == 14 and half["flag_bytes"] == full["flag_bytes"] == 18 * 4


def test_info_json_and_layers_cli(tmp_path: Path) -> None:
    p = FIXTURES / "ncnn" / "block.ncnn.param"
    r = runner.invoke(app, ["info", str(p), "--json"])
    data = json.loads(r.stdout)
    assert data["weights"]["bytes"] == 34208 and data["weights"]["by_dtype"]["fp32"]["bytes"] == 34208
    assert "layers" not in data["weights"]
    r = runner.invoke(app, ["info", str(p), "--json", "--layers"])
    assert [x["layer"] for x in json.loads(r.stdout)["weights"]["layers"]][:2] == ["ln_3", "attention_5"]
    r = runner.invoke(app, ["info", str(p), "--layers"])
    assert r.exit_code == 0 and "weights per layer" in r.stdout and "attention_5" in r.stdout


def test_short_bin_is_reported_not_fatal(tmp_path: Path) -> None:
    src = FIXTURES / "ncnn" / "block.ncnn.param"
    (tmp_path / "b.param").write_bytes(src.read_bytes())
    (tmp_path / "b.bin").write_bytes(bin_path_for(src).read_bytes()[:1000])
    r = runner.invoke(app, ["info", str(tmp_path / "b.param"), "--json"])
    assert r.exit_code == 0
    assert "attention_5" in json.loads(r.stdout)["weights"]["error"]


@pytest.mark.parametrize("xml", IR, ids=lambda p: p.name)
def test_ir_const_bytes_and_unused_regions_sum_to_the_file(xml: Path) -> None:
    w = describe(modelfile.load(xml), layers=True).get("weights")
    if w is None:
        pytest.skip("no .bin")
    size = xml.with_suffix(".bin").stat().st_size
    assert w["bytes"] == size
    assert sum(v["bytes"] for v in w["by_element_type"].values()) - w["overlap_bytes"] + w["unused"]["bytes"] == size
    assert sum(v["consts"] for v in w["by_element_type"].values()) == len(w["consts"])


def test_ir_unused_region_found(tmp_path: Path) -> None:
    src = FIXTURES / "openvino" / "rnnt" / "joint.xml"
    (tmp_path / "j.xml").write_bytes(src.read_bytes())
    (tmp_path / "j.bin").write_bytes(src.with_suffix(".bin").read_bytes() + bytes(100))
    w = describe(modelfile.load(tmp_path / "j.xml"))["weights"]
    assert w["unused"] == {"bytes": 100, "regions": 1, "first": [[6164, 100]]}
