"""Every registered format fulfils the same contract (a new format is checked by adding its sample here)."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelfile
from conftest import FIXTURES
from modelfile.formats import registry
from modelfile.formats.base import EditOps, FormatHandler

# one real file per registered format: a new format must add one
SAMPLES = {
    "ncnn": FIXTURES / "ncnn" / "decoder.ncnn.param",
    "openvino": FIXTURES / "openvino" / "rnnt" / "prediction.xml",
}

_OPS = [name for name in dir(EditOps) if not name.startswith("_")]


def test_every_registered_format_has_a_sample() -> None:
    assert sorted(registry.names()) == sorted(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_contract(name: str, tmp_path: Path) -> None:
    h = registry.get(name)
    assert isinstance(h, FormatHandler) and h.name == name
    path = SAMPLES[name]
    assert registry.sniff(path) is h
    m = modelfile.load(path)
    assert m.handler is h and m.format == name
    ops = m.ops
    missing = [op for op in _OPS if not callable(getattr(ops, op, None))]
    assert not missing, f"{name} ops lack {missing}"
    d = h.describe(m)
    assert isinstance(d, dict) and d
    comps = h.companions(path)
    assert all(isinstance(c, Path) for c in comps)
    res = m.save(tmp_path / path.name)  # unedited: identical bytes, companions copied
    assert (tmp_path / path.name).read_bytes() == path.read_bytes()
    assert [c.status for c in res.checks][:2] == ["passed", "passed"]
    for c in comps:
        if c.exists():
            assert (tmp_path / c.name).read_bytes() == c.read_bytes()


def test_sniffing_needs_no_format_package(tmp_path: Path) -> None:
    p = tmp_path / "x.txt"
    p.write_bytes(b"<?xml version='1.0'?><net/>")
    assert registry.sniff_name(p) == "openvino"
    p.write_bytes(b"7767517\n1 1\nInput in0 0 1 in0\n")
    assert registry.sniff_name(p) == "ncnn"
    p.write_bytes(b"\xdd\x85\x76\x00" + b"\0" * 8)
    assert registry.sniff_name(p) == "ncnn"
