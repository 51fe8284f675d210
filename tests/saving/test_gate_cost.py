"""The save gate reads each staged file once: lint starts from the re-read model (and from a parse that
overlapped the re-read), the source is linted from the model already loaded, and only when needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import modelfile
import modelfile.formats.openvino.reader as ir_reader
import modelfile.lint as lint
from conftest import FIXTURES
from modelfile.errors import ModelfileError


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = ir_reader.read_bytes

    def counting(raw: bytes, path: Path | None = None, **kw: object):  # type: ignore[no-untyped-def]
        seen.append(Path(path).name if path is not None else "<bytes>")
        return real(raw, path, **kw)

    monkeypatch.setattr(ir_reader, "read_bytes", counting)
    return seen


def _copy(tmp_path: Path, text: str | None = None) -> Path:
    src = FIXTURES / "openvino" / "convnet" / "model.xml"
    p = tmp_path / "model.xml"
    p.write_text(text if text is not None else src.read_text())
    shutil.copyfile(src.with_suffix(".bin"), p.with_suffix(".bin"))
    return p


def test_gate_reads_the_staged_ir_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = _copy(tmp_path)
    m = modelfile.load(p)
    m.graph.nodes[1].name = "renamed"
    seen = _count_reads(monkeypatch)
    res = m.save(tmp_path / "out.xml", verify=False)
    assert [(c.name, c.status) for c in res.checks][:2] == [("re-read", "passed"), ("lint", "passed")]
    assert seen == ["out.xml"]  # the staged file, by the re-read; lint used that read


def test_gate_lints_the_source_from_the_loaded_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a source with a lint error modelfile can still load (an opset OpenVINO does not ship) in the layer the
    # edit re-renders: the edit keeps it, so it does not block, and finding that out reads neither file again
    src = (FIXTURES / "openvino" / "convnet" / "model.xml").read_text()
    p = _copy(tmp_path, src.replace('version="opset1"', 'version="opset99"', 1))
    assert "IR007" in [d.code for d in lint.lint_file(p)]
    m = modelfile.load(p)
    next(n for n in m.graph.nodes if n.version == "opset99").name = "renamed"
    seen = _count_reads(monkeypatch)
    calls: list[object] = []
    real = lint.lint_file

    def spy(path, *a, **kw):  # type: ignore[no-untyped-def]
        calls.append(kw.get("preread"))
        return real(path, *a, **kw)

    monkeypatch.setattr(lint, "lint_file", spy)
    res = m.save(tmp_path / "out.xml", verify=False)
    lint_check = next(c for c in res.checks if c.name == "lint")
    assert lint_check.status == "passed" and "already had" in lint_check.detail
    assert seen == ["out.xml"]
    assert len(calls) == 2 and calls[1] is m  # staged (with the re-read model), then the source (with m)


def test_gate_still_blocks_a_new_lint_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = _copy(tmp_path)
    m = modelfile.load(p)
    node = m.graph.nodes[1]
    node.version = "opset99"  # an edit that writes what OpenVINO cannot read
    with pytest.raises(ModelfileError, match="the lint check failed: line .*IR007"):
        m.save(tmp_path / "out.xml", verify=False)
    assert not (tmp_path / "out.xml").exists()


def test_gate_leaves_an_untouched_layers_error_to_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the same error in a layer the edit does not re-render: its text is the source's, so it is the source's
    # error; the gate checks the re-rendered layer and the graph from the re-read, and lints nothing else
    src = (FIXTURES / "openvino" / "convnet" / "model.xml").read_text()
    p = _copy(tmp_path, src.replace('version="opset1"', 'version="opset99"', 1))
    m = modelfile.load(p)
    next(n for n in m.graph.nodes if n.version != "opset99").name = "renamed"
    calls: list[object] = []
    real = lint.rules_ir.check_ir
    monkeypatch.setattr(lint.rules_ir, "check_ir", lambda *a, **kw: calls.append(a) or real(*a, **kw))
    seen = _count_reads(monkeypatch)
    res = m.save(tmp_path / "out.xml", verify=False)
    lint_check = next(c for c in res.checks if c.name == "lint")
    assert lint_check.status == "passed" and "1 re-rendered layer" in lint_check.detail
    assert seen == ["out.xml"] and calls == []
    assert "IR007" in [d.code for d in lint.lint_file(tmp_path / "out.xml")]  # still there, as in the source
