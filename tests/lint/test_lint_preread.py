"""Lint given what was already read (the save gate's re-read, ``preread``; a parse started ahead,
``prepared``) finds exactly what lint finds reading the file itself; and the IR rules' shortcuts (the
text shows every <dim> and precision sound) never hide a finding."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import modelfile
from conftest import CORPUS, FIXTURES
from modelfile.errors import ModelfileError
from modelfile.lint import lint_file, prepare
from modelfile.lint import rules_ir

ROOT = Path(__file__).resolve().parents[2]

IR_FILES = sorted(p for p in [*CORPUS.glob("openvino/**/*.xml"), *FIXTURES.glob("**/*.xml")]
                  if b"<net" in p.read_bytes()[:4096])


@pytest.fixture(autouse=True)
def _no_project_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lint as if no pyproject.toml configured anything (the cwd's would apply otherwise)."""
    monkeypatch.chdir(tmp_path)


def _key(diags: list) -> list[tuple]:
    return [(d.code, d.severity, d.message, d.file, d.line, d.column, d.end_column, d.hint) for d in diags]


def _three_ways(p: Path) -> tuple[list[tuple], list[tuple] | None, list[tuple] | None]:
    """Findings read from the file; with the loaded model; with the model and a parse started ahead
    (None when modelfile cannot load the file: there is nothing to pass)."""
    plain = _key(lint_file(p))
    try:
        m = modelfile.load(p)
    except (ModelfileError, RecursionError):
        return plain, None, None
    pre = _key(lint_file(p, preread=m))
    both = _key(lint_file(p, preread=m, prepared=prepare(p)))
    return plain, pre, both


@pytest.mark.parametrize("path", IR_FILES, ids=lambda p: p.name)
def test_real_ir_same_findings_with_preread(path: Path) -> None:
    plain, pre, both = _three_ways(path)
    assert pre is not None, "every corpus and fixture IR loads"
    assert pre == plain and both == plain


def test_mutated_ir_same_findings_with_preread(tmp_path: Path) -> None:
    """The fuzz suite's IR mutations (bad dims, precisions, ports, edges, attributes...): the same findings
    every way, including the files whose text defeats the shortcuts."""
    from fuzz.mutations import cases

    seen: set[str] = set()
    loaded = 0
    for k, case in enumerate(cases(ROOT, CORPUS, per_file=12, big=False)):
        if case.kind != "ir":
            continue
        p = case.write_to(tmp_path / str(k))
        plain, pre, both = _three_ways(p)
        shutil.rmtree(p.parent)
        if pre is None:
            continue
        loaded += 1
        assert pre == plain, case.name
        assert both == plain, case.name
        seen.update(f[0] for f in plain)
    assert loaded > 100
    # the mutations reach the rules the shortcuts guard, on files modelfile loads
    assert {"IR014", "IR015", "IR016", "IR009", "IR012"} <= seen, seen


def test_preread_of_another_file_is_not_used(tmp_path: Path) -> None:
    src = FIXTURES / "openvino" / "convnet" / "model.xml"
    bad = tmp_path / "bad.xml"
    bad.write_text(src.read_text().replace('precision="FP32"', 'precision="F32"', 1))
    other = modelfile.load(src)
    found = lint_file(bad, preread=other)
    assert [d.code for d in found if d.code == "IR015"] == ["IR015"]
    assert _key(found) == _key(lint_file(bad))


def test_parse_ahead_of_a_file_changed_since_is_not_used(tmp_path: Path) -> None:
    src = FIXTURES / "openvino" / "convnet" / "model.xml"
    p = tmp_path / "model.xml"
    shutil.copyfile(src, p)
    shutil.copyfile(src.with_suffix(".bin"), p.with_suffix(".bin"))
    ahead = prepare(p)
    assert isinstance(ahead, rules_ir.ParseAhead)
    ahead.tree("")  # let it finish on the old text
    p.write_text(src.read_text().replace("<dim>", "<dim>-7", 1))
    found = lint_file(p, preread=modelfile.load(p), prepared=ahead)
    assert "IR014" in [d.code for d in found]
    assert _key(found) == _key(lint_file(p))


def test_prepare_starts_nothing_for_other_files(tmp_path: Path) -> None:
    p = tmp_path / "m.param"
    p.write_text("7767517\n1 1\nInput in0 0 1 a\n")
    assert prepare(p) is None
    assert prepare(tmp_path / "missing.xml") is None


# -- the shortcuts ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, clean", [
    ("<port><dim>1</dim><dim>64</dim></port>", True),
    ("<dim>123456789012345678</dim>", True),
    ("<dim>1234567890123456789</dim>", False),  # 19 digits: may be >= 2**63
    ("<dim>-1</dim><dim>7</dim>", True),  # -1: a dynamic dim
    ("<dim>-2</dim>", False),
    ("<dim>-10</dim>", False),
    ("<dim>--1</dim>", False),
    ("<dim> 3</dim>", False),
    ("<dim/>", False),
    ("<dim></dim>", False),
    ("<dim>&#51;</dim>", False),
    ("<dim>3<!-- x --></dim>", False),  # sound (lxml gives "3"), but anything unusual is checked one by one
    ("<dim>٣</dim>", False),  # an Arabic-Indic digit: str.isdigit, but not [0-9]
    ('<dim a="1">3</dim>', False),
    ("<dims>3</dims><dim>3</dim>", False),
])
def test_dims_shortcut(text: str, clean: bool) -> None:
    assert rules_ir._all_dims_clean(text) is clean


@pytest.mark.parametrize("text, known", [
    ('<port id="0" precision="FP32"/>', True),
    ('<port id="0" precision="FP32"/><port id="1"\tprecision="I64"/>', True),
    ('<port id="0" precision="F32"/>', False),
    ("<port id=\"0\" precision='FP32'/>", False),
    ('<port id="0" precision = "FP32"/>', False),
    ('<port id="0" precision="FP32"/><!-- precision -->', False),
    ('<port id="0" precision="FP32x"/>', False),
    ('<port id="0" precision="&#70;P32"/>', False),
])
def test_precisions_shortcut(text: str, known: bool) -> None:
    assert rules_ir._all_precisions_known(text) is known


def _net(ports: str) -> str:
    return ('<?xml version="1.0"?>\n<net name="m" version="11">\n<layers>\n'
            '<layer id="0" name="x" type="Parameter" version="opset1">\n<data shape="1,3" element_type="f32"/>\n'
            f'<output>{ports}</output>\n</layer>\n'
            '<layer id="1" name="out" type="Result" version="opset1">\n'
            '<input><port id="0"><dim>1</dim><dim>3</dim></port></input>\n</layer>\n</layers>\n'
            '<edges>\n<edge from-layer="0" from-port="0" to-layer="1" to-port="0"/>\n</edges>\n</net>\n')


@pytest.mark.parametrize("port, code, at", [
    # what only the per-<dim> and per-port checks find, written so that the text shortcuts must step aside
    ('<port id="0" precision="FP32"><dim>1</dim><dim>99999999999999999999</dim></port>', "IR014", "<dim>9"),
    ('<port id="0" precision="FP32"><dim>1</dim><dim>-2</dim></port>', "IR014", "<dim>-"),
    ("<port id=\"0\" precision='F32'><dim>1</dim><dim>3</dim></port>", "IR015", "precision"),
    ('<port id="0" precision = "fp32"><dim>1</dim><dim>3</dim></port>', "IR015", "precision"),
])
def test_shortcuts_never_hide_a_finding(tmp_path: Path, port: str, code: str, at: str) -> None:
    p = tmp_path / "m.xml"
    p.write_text(_net(port))
    line = p.read_text().splitlines()[5]
    found = [(d.code, d.line, d.column) for d in lint_file(p, ignore=["IR020"]) if d.severity.value == "error"]
    assert found == [(code, 6, line.index(at) + 1)]


def test_preread_of_other_text_or_a_changed_file_is_not_used(tmp_path: Path) -> None:
    from modelfile.formats.openvino import read_text

    src = FIXTURES / "openvino" / "convnet" / "model.xml"
    p = tmp_path / "model.xml"
    shutil.copyfile(src, p)
    shutil.copyfile(src.with_suffix(".bin"), p.with_suffix(".bin"))
    bad = src.read_text().replace('precision="FP32"', 'precision="F32"', 1)
    # a model read from a text that names the file, and the file itself: lint says what the file holds
    assert "IR015" not in [d.code for d in lint_file(p, preread=read_text(bad, p))]
    m = modelfile.load(p)
    p.write_text(bad)  # changed after the load
    assert "IR015" in [d.code for d in lint_file(p, preread=m)]


def _chain(n: int) -> str:
    """An IR of ``n`` ReLUs in a chain (about 270 bytes a layer), one of them with a bad dim and one dangling."""
    layers = ['<layer id="0" name="x" type="Parameter" version="opset1">\n<data shape="1,3" element_type="f32"/>\n'
              '<output><port id="0" precision="FP32" names="x"><dim>1</dim><dim>3</dim></port></output>\n</layer>\n']
    edges = []
    for i in range(1, n + 1):
        dim = "-5" if i == n // 2 else "3"
        layers.append(f'<layer id="{i}" name="r{i}" type="ReLU" version="opset1">\n'
                      f'<input><port id="0"><dim>1</dim><dim>{dim}</dim></port></input>\n'
                      f'<output><port id="1" precision="FP32"><dim>1</dim><dim>3</dim></port></output>\n</layer>\n')
        edges.append(f'<edge from-layer="{i - 1}" from-port="{0 if i == 1 else 1}" to-layer="{i}" to-port="0"/>\n')
    layers.append(f'<layer id="{n + 1}" name="out" type="Result" version="opset1">\n'
                  '<input><port id="0"><dim>1</dim><dim>3</dim></port></input>\n</layer>\n')
    layers.append(f'<layer id="{n + 2}" name="dead" type="ReLU" version="opset1">\n'
                  '<input><port id="0"/></input>\n<output><port id="1" precision="FP32"/></output>\n</layer>\n')
    edges.append(f'<edge from-layer="{n}" from-port="1" to-layer="{n + 1}" to-port="0"/>\n')
    return ('<?xml version="1.0"?>\n<net name="m" version="11">\n<layers>\n' + "".join(layers) + "</layers>\n<edges>\n"
            + "".join(edges) + "</edges>\n</net>\n")


def test_big_file_parsed_ahead_same_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files from 1 MiB on are parsed by lxml in a thread while modelfile's reader reads them: same findings."""
    p = tmp_path / "big.xml"
    p.write_text(_chain(4000))
    assert p.stat().st_size >= rules_ir._AHEAD_BYTES
    started: list[int] = []
    real = rules_ir.ParseAhead.__init__

    def spy(self, path, data=None):  # type: ignore[no-untyped-def]
        started.append(1)
        real(self, path, data)

    monkeypatch.setattr(rules_ir.ParseAhead, "__init__", spy)
    ahead = _key(lint_file(p))
    assert started == [1]
    monkeypatch.setattr(rules_ir, "_AHEAD_BYTES", 1 << 40)
    plain = _key(lint_file(p))
    assert started == [1]
    assert ahead == plain
    assert sorted({k[0] for k in plain}) == ["IR003", "IR009", "IR014"]
    # an unreadable big file: the same IR000 either way
    bad = tmp_path / "bad.xml"
    bad.write_bytes(p.read_bytes().replace(b'name="r7"', b'name="r\xff"'))
    monkeypatch.setattr(rules_ir, "_AHEAD_BYTES", 1 << 20)
    found = _key(lint_file(bad))
    assert [k[0] for k in found] == ["IR000"]
    monkeypatch.setattr(rules_ir, "_AHEAD_BYTES", 1 << 40)
    assert _key(lint_file(bad)) == found
