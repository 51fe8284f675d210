"""The save gate's IR lint from the re-read (:mod:`modelfile.lint.ir_delta`) never passes a file the full
lint would refuse: its graph rules on the reader's records find an error exactly when the full lint does
(every layer re-rendered), and on real edits of real files "it found nothing" means the full lint finds no
error the source did not have."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

import modelfile
from conftest import CORPUS
from ir_edits import IR_FILES, copy_ir, real_edits
from modelfile.errors import ModelfileError, Severity
from modelfile.lint import lint_file
from modelfile.lint.config import FileSettings
from modelfile.lint.ir_delta import DeltaSource, delta_errors

ROOT = Path(__file__).resolve().parents[2]


#: a source none of whose layers is a layer of any file here: every layer counts as re-rendered
_OTHER = """<?xml version="1.0"?>
<net name="other" version="11">
\t<layers>
\t\t<layer id="900001" name="zz_delta_in" type="Parameter" version="opset1">
\t\t\t<data shape="3" element_type="f32" />
\t\t\t<output><port id="0" precision="FP32" names="zz_delta_in"><dim>3</dim></port></output>
\t\t</layer>
\t\t<layer id="900002" name="zz_delta_out" type="Result" version="opset1">
\t\t\t<input><port id="0" precision="FP32"><dim>3</dim></port></input>
\t\t</layer>
\t</layers>
\t<edges>
\t\t<edge from-layer="900001" from-port="0" to-layer="900002" to-port="0" />
\t</edges>
</net>
"""


@pytest.fixture(autouse=True)
def _no_project_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _errors(path: Path) -> list[str]:
    return [d.code for d in lint_file(path, ignore=["IR020"]) if d.severity == Severity.ERROR]


def _other(tmp_path: Path) -> modelfile.Model:
    p = tmp_path / "other.xml"
    p.write_text(_OTHER)
    return modelfile.load(p)


def _all_rendered(p: Path, other: modelfile.Model) -> tuple[list | None, list[str]] | None:
    """(delta result with every layer counted as re-rendered, full lint errors); None: modelfile cannot load."""
    try:
        m = modelfile.load(p)
    except (ModelfileError, RecursionError):
        return None
    return delta_errors(p, m, DeltaSource(other), FileSettings()), _errors(p)


def _bodies(t: bytes) -> bool:
    return b"<body" in t or b"_body" in t


@pytest.mark.parametrize("path", IR_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_records_find_what_the_full_lint_finds(path: Path, tmp_path: Path) -> None:
    got = _all_rendered(path, _other(tmp_path))
    assert got is not None
    delta, full = got
    if delta == []:
        assert full == [], "the gate's lint passed what the full lint refuses"
    elif not _bodies(path.read_bytes()):
        assert full, "the records path refused a file the full lint passes"


def test_records_on_mutated_files(tmp_path: Path) -> None:
    """The fuzz suite's IR mutations that modelfile loads: "no error" from the records means no error."""
    from fuzz.mutations import cases

    other = _other(tmp_path)
    checked, refused, codes = 0, 0, Counter[str]()
    for k, case in enumerate(cases(ROOT, CORPUS, per_file=12, big=False)):
        if case.kind != "ir":
            continue
        p = case.write_to(tmp_path / str(k))
        got = _all_rendered(p, other)
        shutil.rmtree(p.parent)
        if got is None:
            continue
        delta, full = got
        checked += 1
        if delta == []:
            assert full == [], (case.name, full)
        else:
            refused += 1
            codes.update(full)
            if not _bodies(case.data):
                assert full, (case.name, "the records path refused what the full lint passes")
    assert checked > 100 and refused > 20
    assert {"IR009", "IR012", "IR014", "IR015", "IR016"} <= set(codes), codes


@pytest.mark.parametrize("path", IR_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_edits_of_real_files(path: Path, tmp_path: Path) -> None:
    src = copy_ir(path, tmp_path)
    probe = modelfile.load(src)
    before = Counter(_errors(src))
    for label, edit in real_edits(probe):
        m = modelfile.load(src)
        try:
            edit(m)  # type: ignore[operator]
        except ModelfileError:
            continue
        out = tmp_path / label / "out.xml"
        out.parent.mkdir()
        m.handler.write(m, out)
        if not (out.with_suffix(".bin")).exists() and src.with_suffix(".bin").exists():
            shutil.copyfile(src.with_suffix(".bin"), out.with_suffix(".bin"))
        reread = modelfile.load(out)
        delta = delta_errors(out, reread, DeltaSource(m), FileSettings())
        if delta == []:
            after = Counter(_errors(out))
            new = [c for c in after if after[c] > before.get(c, 0)]
            assert not new, f"{label}: the gate's lint passed new errors {new}"
