"""A layer whose text differs from its source only in output ``names`` is patched in place, not parsed and
re-rendered (cut-state names 64 Concats of an LLM). The patch must write exactly what the full render
writes: on renames, cuts and cut-state of every corpus and fixture IR, both give the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
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
