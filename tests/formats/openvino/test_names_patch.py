"""A layer whose text differs from its source only in output ``names`` is patched in place, not parsed and
re-rendered (cut-state names 64 Concats of an LLM). The patch must write exactly what the full render
writes: on renames, cuts and cut-state of every corpus and fixture IR, both give the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES
from ir_edits import IR_FILES, copy_ir, real_edits

import modelfile
from modelfile.errors import ModelfileError
from modelfile.formats.openvino import writer


@pytest.mark.parametrize("path", IR_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_names_patch_writes_what_the_full_render_writes(path: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    src = copy_ir(path, tmp_path)
    patched = 0
    for label, edit in real_edits(modelfile.load(src)):
        m = modelfile.load(src)
        try:
            edit(m)
        except ModelfileError:
            continue
        fast = writer.render(m)
        seen: list[int] = []
        real = writer._names_only
        monkeypatch.setattr(writer, "_names_only", lambda *a: seen.append(1) or False)
        full = writer.render(m)
        monkeypatch.setattr(writer, "_names_only", real)
        assert fast.text == full.text, label
        patched += len(seen)
    if path.name == "llama_stateful.xml":
        assert patched > 0


#: one port of convnet's first Convolution written as no serializer writes it; the full render rewrites such
#: a port when it touches the layer, and the patch must then do exactly that (or leave the layer to it)
_ODD_PORTS = {
    "blanks": ('<port id="2" precision="FP32">', '<port id="2"  precision="FP32" >'),
    "names-first": ('<port id="2" precision="FP32">', '<port id="2" names="convout" precision="FP32">'),
    "precision-spelling": ('<port id="2" precision="FP32">', '<port id="2" precision="f32">'),
    "input-precision": ('<port id="0" precision="FP32">\n\t\t\t\t\t<dim>1</dim>\n\t\t\t\t\t<dim>3</dim>',
                        '<port id="0" precision="FP16">\n\t\t\t\t\t<dim>1</dim>\n\t\t\t\t\t<dim>3</dim>'),
    "input-dim": ('<port id="0" precision="FP32">\n\t\t\t\t\t<dim>1</dim>\n\t\t\t\t\t<dim>3</dim>',
                  '<port id="0" precision="FP32">\n\t\t\t\t\t<dim>-1</dim>\n\t\t\t\t\t<dim>3</dim>'),
}


@pytest.mark.parametrize("odd", sorted(_ODD_PORTS))
@pytest.mark.parametrize("names", [("conv,out&1",), ()])
def test_names_patch_on_ports_no_serializer_writes(odd: str, names: tuple[str, ...], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    src = copy_ir(FIXTURES / "openvino" / "convnet" / "model.xml", tmp_path)
    text = src.read_text()
    conv = text.index('type="Convolution"')
    old, new = _ODD_PORTS[odd]
    at = text.index(old, conv)
    src.write_text(text[:at] + new + text[at + len(old):])
    m = modelfile.load(src)
    v = next(n for n in m.graph.nodes if n.op_type == "Convolution").outputs[0]
    v.names = list(names)
    v.name = names[0] if names else ""
    fast = writer.render(m).text
    monkeypatch.setattr(writer, "_names_only", lambda *a: False)
    assert fast == writer.render(m).text
