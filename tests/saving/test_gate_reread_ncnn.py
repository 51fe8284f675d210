"""The save gate's fast path on ncnn params decides exactly what a full re-read and a full lint decide.

The gate re-reads a staged param with the source's parse of every line the writer copied
(``reader.line_memo``: a layer line parses the same wherever it stands, so it is keyed by its text),
and lint starts from that re-read (``lint_file(..., preread=)``) and skips the lines whose verdict a
line of the same type, counts and params already got (``NcnnFile.heads``). Here, on every fixture and
corpus param and on rename / cut / reshape edits of them (and an unedited save):

* inside the gate, the re-read builds the same graph, document and line records as reading the staged
  file from scratch, and so does a read with a memo of another model (a stale hint costs a miss, never
  a wrong read); the lint findings from the re-read equal ``lint_file(staged)`` with nothing reused;
* the re-read parses only the lines the edit re-rendered;
* lint with the line-key shortcut equals lint without it, on the files and on mutated ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import modelfile
import modelfile.lint as lint
from conftest import CORPUS, FIXTURES, ROOT
from modelfile.errors import ModelfileError
from modelfile.formats.ncnn import handler as ncnn_handler
from modelfile.formats.ncnn.reader import LineSource, NcnnDocument, line_memo, read_path, read_text
from modelfile.graph import Graph
from modelfile.lint.source import NcnnFile
from modelfile.mo_input import parse_input, parse_output
from modelfile.passes.cut import cut
from modelfile.passes.rename import rename
from modelfile.passes.reshape import reshape


def _params() -> list[Path]:
    out = sorted(FIXTURES.rglob("*.param"))
    if (CORPUS / "ncnn").is_dir():
        out += sorted((CORPUS / "ncnn").rglob("*.param"))
    return [p for p in out if not p.name.endswith(".pnnx.param")]


def _cases() -> list[tuple[Path, str, Callable[[modelfile.Model], object]]]:
    """(text param, edit name, edit) for every readable text param (models are not kept: a few dozen alive
    would make every collection pass walk all of them)."""
    out = []
    for p in _params():
        try:
            m = modelfile.load(p)
        except ModelfileError:
            continue
        if isinstance(m.graph.source, NcnnDocument):
            out += [(p, name, edit) for name, edit in _edits(m).items()]
    return out


# -- what a read gives, as plain data ---------------------------------------------------------------

def _shape(graph: Graph) -> tuple[Any, ...]:
    """Everything a read of a text param produces, with values as indexes (identity made comparable)."""
    index: dict[int, int] = {}

    def vid(v: Any) -> Any:
        if v is None:
            return None
        return index.setdefault(id(v), len(index)), v.name, v.dtype, v.shape, tuple(v.names)

    nodes = []
    for n in graph.nodes:
        src = n.source
        assert isinstance(src, LineSource)
        nodes.append((
            n.op_type, n.name, n.version, tuple(vid(v) for v in n.inputs), tuple(vid(v) for v in n.outputs),
            tuple((k, p.id, p.array_style, p.text) for k, p in n.attrs.items()),
            (n.pos.file, n.pos.line, n.pos.column) if n.pos else None,
            (src.lineno, src.raw, src.prefix, src.sig), n.graph is graph,
            tuple(u.index for v in n.outputs for u in v.uses),
        ))
    doc = graph.source
    assert isinstance(doc, NcnnDocument)
    docs = (doc.path, doc.magic_raw, doc.counts_raw, doc.declared_layers, doc.declared_blobs, doc.blobs_at_load,
            doc.trailing, doc.newline, doc.lines, doc.problems, doc.layers_at_load, doc.true_counts)
    return (graph.name, tuple(nodes), tuple(vid(v) for v in graph.inputs), docs)


# -- the edits -------------------------------------------------------------------------------------

def _middle(m: modelfile.Model) -> str | None:
    nodes = list(m.graph.nodes)
    for n in nodes[len(nodes) // 2:]:
        if n.outputs and n.op_type not in ("Input", "SherpaMetaData"):
            return n.outputs[0].name
    return None


def _edits(m: modelfile.Model) -> dict[str, Callable[[modelfile.Model], object]]:
    out: dict[str, Callable[[modelfile.Model], object]] = {"none": lambda m: None}
    if m.graph.inputs:
        first = m.graph.inputs[0].name
        out["rename"] = lambda m: rename(m, {first: "renamed_input"})
        out["reshape"] = lambda m: reshape(m, parse_input(f"{first}[1,3,17,19]"))
    mid = _middle(m)
    if mid is not None:
        out["cut"] = lambda m: cut(m, [], parse_output(mid))
    return out


def _edited(path: Path, edit: Callable[[modelfile.Model], object]) -> modelfile.Model | None:
    m = modelfile.load(path)
    try:
        edit(m)
    except ModelfileError:
        return None
    return m


# -- the tests -------------------------------------------------------------------------------------

def test_memo_lines_land_where_the_file_puts_them() -> None:
    src = "7767517\n3 3\nInput in0 0 1 a\nReLU r1 1 1 a b 0=0.1\nReLU r2 1 1 b c\n"
    g, _ = read_text(src, "a.param")
    memo = line_memo(g)
    # moved lines, a blank prefix, CRLF endings (other text: no hit), a line reading a name it also writes
    other = "7767517\n4 3\n\nReLU r2 1 1 b c\nInput in0 0 1 a\r\nReLU r1 1 1 a b 0=0.1\nReLU r3 1 1 c c\n"
    for text in (src, other):
        assert _shape(read_text(text, "b.param", strict=False, memo=memo)[0]) == \
            _shape(read_text(text, "b.param", strict=False)[0])
    with pytest.raises(ModelfileError) as e1:
        read_text(src.replace("3 3", "4 3"), "c.param", memo=memo)
    with pytest.raises(ModelfileError) as e2:
        read_text(src.replace("3 3", "4 3"), "c.param")
    assert e1.value.diagnostic == e2.value.diagnostic


def test_blob_count_at_load_counts_every_value() -> None:
    """The reader counts the values it makes instead of walking the graph again: the same number."""
    n = 0
    for p in _params():
        try:
            g, doc = read_path(p, strict=False)
        except ModelfileError:
            continue
        assert doc.blobs_at_load == len(g.values()), p
        n += 1
    # a top named like an earlier blob, a bottom nobody produced, a layer reading the name it writes
    g, doc = read_text("7767517\n4 3\nInput in0 0 1 a\nReLU r1 1 1 a a\nReLU r2 1 1 x a\nReLU r3 1 1 a b\n")
    assert doc.blobs_at_load == len(g.values()) == 5
    assert n >= 60


def test_gate_decides_as_a_full_reread_and_lint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside the gate: the re-read (with the source's lines, or another model's) and the lint findings equal
    reading and linting the staged file afresh, for every text param and edit."""
    real_lint = lint.lint_file
    real_read = ncnn_handler.NcnnHandler.read
    # a memo of another model: mostly misses, never a different read
    other = line_memo(modelfile.load(FIXTURES / "ncnn" / "convlstm.ncnn.param").graph)
    seen: dict[str, int] = {"lint": 0, "read": 0, "findings": 0, "memo_lines": 0}

    def checked_lint(path: Any, *a: Any, preread: Any = None, prepared: Any = None, **kw: Any) -> Any:
        fast = real_lint(path, *a, preread=preread, prepared=prepared, **kw)
        if preread is not None:
            assert fast == real_lint(path, *a, **kw), path
            seen["lint"] += 1
            seen["findings"] += len(fast)
        return fast

    def checked_read(self: Any, path: Path, **kw: Any) -> modelfile.Model:
        hinted = kw.get("prior") is not None
        got = real_read(self, path, **kw)
        if hinted:
            plain = _shape(read_path(Path(path), strict=kw.get("strict", True))[0])
            assert _shape(got.graph) == plain, path
            assert _shape(read_path(Path(path), strict=kw.get("strict", True), memo=other)[0]) == plain, path
            seen["read"] += 1
        return got

    real_memo = ncnn_handler.line_memo

    def counted_memo(graph: Graph) -> dict[str, Any]:
        memo = real_memo(graph)
        seen["memo_lines"] += len(memo)
        return memo

    monkeypatch.setattr(lint, "lint_file", checked_lint)
    monkeypatch.setattr(ncnn_handler.NcnnHandler, "read", checked_read)
    monkeypatch.setattr(ncnn_handler, "line_memo", counted_memo)
    decisions: list[tuple[str, str]] = []
    for path, name, edit in _cases():
        m = _edited(path, edit)
        if m is None:
            continue
        out = tmp_path / f"{path.stem}.{name}.param"
        try:
            res = m.save(out, verify=False)
            decisions.append((name, [c.status for c in res.checks if c.name == "lint"][0]))
        except ModelfileError as e:
            decisions.append((name, e.diagnostic.message[:40]))
    # (lint also runs from the loaded source when the staged file has errors: counted, and compared, too)
    assert seen["read"] == len(decisions) >= 150 and seen["lint"] >= seen["read"]
    assert seen["memo_lines"] > 10_000 and seen["findings"] > 0
    assert ("rename", "passed") in decisions and ("cut", "passed") in decisions


def test_gate_reread_parses_only_the_lines_the_edit_rendered(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    src = FIXTURES / "ncnn" / "convlstm.ncnn.param"
    m = modelfile.load(src)
    source_lines = set(src.read_text().splitlines(keepends=True))
    rename(m, {m.graph.inputs[0].name: "renamed_input"})
    misses: list[str] = []

    class Counting(dict):  # type: ignore[type-arg]
        def get(self, key: Any, default: Any = None) -> Any:
            if key not in self:
                misses.append(key)
            return super().get(key, default)

    real_memo = ncnn_handler.line_memo
    monkeypatch.setattr(ncnn_handler, "line_memo", lambda g: Counting(real_memo(g)))
    out = tmp_path / "out.ncnn.param"
    m.save(out, verify=False)
    rendered = [ln for ln in out.read_text().splitlines(keepends=True)[2:] if ln not in source_lines]
    assert rendered and misses == rendered  # the Input line and the lines reading it, nothing else


def test_gate_refuses_what_it_refused(tmp_path: Path) -> None:
    """A staged file with a new lint error is still refused (the fast path lints the re-read)."""
    m = modelfile.load(FIXTURES / "ncnn" / "convlstm.ncnn.param")
    permute = next(n for n in m.graph.nodes if n.op_type == "Permute")
    from modelfile.formats.ncnn.params import Param

    permute.attrs[0] = Param.of(0, -1)  # order_type out of range: NCNN021, ncnn's load_param fails
    with pytest.raises(ModelfileError, match="lint check failed.*NCNN021"):
        m.save(tmp_path / "out.ncnn.param", verify=False)
    assert not (tmp_path / "out.ncnn.param").exists()


def _mutated() -> list[tuple[str, bytes]]:
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from fuzz.mutations import cases

    return [(c.name, c.data) for c in cases(ROOT, CORPUS, per_file=6) if c.kind == "ncnn"]


def test_line_key_shortcut_changes_no_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``NcnnFile.heads`` only skips work: with every head unknown the findings are the same."""
    files: list[Path] = _params()
    for k, (_name, data) in enumerate(_mutated()):
        f = tmp_path / f"m{k}.param"
        f.write_bytes(data)
        files.append(f)
    assert len(files) >= 400
    fast = [lint.lint_file(p) for p in files]
    monkeypatch.setattr(NcnnFile, "heads", lambda self: [None] * len(self.graph.nodes))
    slow = [lint.lint_file(p) for p in files]
    assert fast == slow
    assert sum(map(len, fast)) > 500
