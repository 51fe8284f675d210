"""The save gate lints a staged ncnn param from its re-read (no second read); lint uses a model only while it
renders to exactly the bytes in the file, so an edited model is never linted in the file's place."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import modelfile
import modelfile.lint as lint
from conftest import CORPUS, FIXTURES
from modelfile.passes.rename import rename


def _params() -> list[Path]:
    out = sorted(FIXTURES.rglob("*.param"))
    if CORPUS.exists():
        out += sorted((CORPUS / "ncnn").rglob("*.param"))
    return [p for p in out if not p.name.endswith(".pnnx.param")]


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the text params lint reads from disk from now on."""
    reads: list[str] = []
    real = lint.read_path

    def counting(path, *a, **kw):  # type: ignore[no-untyped-def]
        reads.append(Path(path).name)
        return real(path, *a, **kw)

    monkeypatch.setattr(lint, "read_path", counting)
    return reads


def test_preread_gives_the_same_findings_as_reading() -> None:
    n = 0
    for p in _params():
        try:
            m = modelfile.load(p)
        except modelfile.ModelfileError:
            continue
        assert lint.lint_file(p, preread=m) == lint.lint_file(p), p
        n += 1
    assert n >= 20


def test_an_edited_or_stale_model_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "m.ncnn.param"
    shutil.copyfile(FIXTURES / "ncnn" / "convlstm.ncnn.param", p)
    m = modelfile.load(p)
    reads = _count_reads(monkeypatch)
    lint.lint_file(p, preread=m)
    assert reads == []  # unedited and the file unchanged: the model is used
    first = m.graph.inputs[0].name
    rename(m, {first: "renamed_input"})
    lint.lint_file(p, preread=m)
    assert reads == ["m.ncnn.param"]  # edited: the file is read
    m2 = modelfile.load(p)
    p.write_text(p.read_text().replace(first, "other", 1))
    lint.lint_file(p, preread=m2)
    assert reads == ["m.ncnn.param"] * 2  # the file changed since the model was read


def test_gate_reads_the_staged_param_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "m.ncnn.param"
    shutil.copyfile(FIXTURES / "ncnn" / "convlstm.ncnn.param", p)
    m = modelfile.load(p)
    rename(m, {m.graph.inputs[0].name: "renamed_input"})
    reads = _count_reads(monkeypatch)
    res = m.save(tmp_path / "out.ncnn.param", verify=False)
    assert [(c.name, c.status) for c in res.checks][:2] == [("re-read", "passed"), ("lint", "passed")]
    assert reads == []  # lint used the gate's re-read of the staged file
