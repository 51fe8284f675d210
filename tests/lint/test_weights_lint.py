"""Lint catches a truncated or padded weights file on every fixture (ncnn .bin, IR .bin) and corpus IR."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from conftest import CORPUS, FIXTURES
from modelfile.formats.ncnn import bin_path_for
from modelfile.lint import lint_file

NCNN = sorted(p for p in FIXTURES.rglob("*.ncnn.param") if bin_path_for(p).exists())
IR = [p for p in sorted(FIXTURES.rglob("*.xml")) + sorted((CORPUS / "openvino-with-weights").glob("*.xml"))
      if p.with_suffix(".bin").exists() and p.with_suffix(".bin").stat().st_size > 0]


def _copy(param: Path, tmp: Path, data: bytes) -> Path:
    dst = tmp / param.name
    shutil.copyfile(param, dst)
    bin_path_for(dst).write_bytes(data)
    return dst


def _codes(p: Path) -> list[str]:
    return [d.code for d in lint_file(p, select=["NCNN1", "IR006", "IR101"])]


@pytest.mark.parametrize("param", NCNN, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_ncnn_bin_short_long_and_bad_flag(param: Path, tmp_path: Path) -> None:
    data = bin_path_for(param).read_bytes()
    assert _codes(_copy(param, tmp_path, data)) == []
    cut = max(4, len(data) - 1000) & ~3
    short = lint_file(_copy(param, tmp_path, data[:cut]), select=["NCNN1"])
    assert [d.code for d in short] == ["NCNN101"]
    assert short[0].line > 2 and "ends inside the weights of layer" in short[0].message
    padded = lint_file(_copy(param, tmp_path, data + bytes(12)), select=["NCNN1"])
    assert [d.code for d in padded] == ["NCNN102"] and "12 bytes after" in padded[0].message
    # the first tagged blob's flag word spoiled: ncnn would read a lookup table
    from modelfile import load
    from modelfile.formats.ncnn.weights import WeightStore

    m = load(param)
    store = WeightStore.from_model(m)
    first = next(b for n in m.nodes if store.spans_of(n) for b in store.spans_of(n).blobs
                 if b.encoding in ("f32", "f16"))
    bad = bytearray(data)
    bad[first.offset:first.offset + 4] = struct.pack("<I", 0xDEADBEEF)
    found = lint_file(_copy(param, tmp_path, bytes(bad)), select=["NCNN1"])
    assert [d.code for d in found] == ["NCNN103"] and "0xDEADBEEF" in found[0].message


@pytest.mark.parametrize("xml", IR, ids=lambda p: p.name)
def test_ir_bin_short_and_long(xml: Path, tmp_path: Path) -> None:
    data = xml.with_suffix(".bin").read_bytes()
    dst = tmp_path / xml.name
    shutil.copyfile(xml, dst)
    dst.with_suffix(".bin").write_bytes(data)
    assert _codes(dst) == []
    dst.with_suffix(".bin").write_bytes(data + bytes(7))
    assert _codes(dst) == ["IR101"]
    dst.with_suffix(".bin").write_bytes(data[: len(data) - 1])
    assert set(_codes(dst)) == {"IR006"}
