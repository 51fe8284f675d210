"""The fast ncnn lint says exactly what the plain one did.

* :class:`LayerLine` splits a quote-free line with ``str.split`` and finds columns lazily: the tokens,
  columns and ``key=value`` pairs equal the quote-aware regex split it replaces, on every line of the
  fixtures and corpus and on generated lines.
* Each (type, key, value) and each whole layer line is checked once per file: a repeated line gets
  the same findings as its first occurrence, wherever it sits.
* :func:`lint_read` (lint a model already read, as ``info`` does) equals :func:`lint_file`.
* BatchNorm channels whose weights cannot be allocated are NCNN021, and ncnn refuses them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from conftest import ROOT, needs_ncnn
from modelfile.errors import Severity
from modelfile.formats.ncnn.reader import read_path
from modelfile.lint import lint_file
from modelfile.lint.ncnn_read import lint_read
from modelfile.lint.source import LayerLine

CORPUS = ROOT.parent / "shared" / "corpus"
_TOKEN = re.compile(r'(?:"[^"\n]*"?|[^\s"])+')


def _params() -> list[Path]:
    files = sorted((ROOT / "fixtures").rglob("*.param"))
    if CORPUS.is_dir():
        files += sorted(CORPUS.rglob("*.param"))
    return [p for p in files if not p.name.endswith(".pnnx.param")]


def _reference(raw: str) -> tuple | None:
    """The split as it was before: every token by the quote-aware regex, with its column."""
    body = raw.rstrip("\n").removesuffix("\r")
    toks = [(m.group(), m.start() + 1) for m in _TOKEN.finditer(body)]
    if len(toks) < 4:
        return None
    try:
        nb, nt = int(toks[2][0]), int(toks[3][0])
    except ValueError:
        return None
    if nb < 0 or nt < 0 or len(toks) < 4 + nb + nt:
        return None
    params = []
    for text, col in toks[4 + nb + nt:]:
        key, sep, value = text.partition("=")
        if not sep or not re.fullmatch(r"[-+]?[0-9]+", key):
            return None
        params.append((key, value, col, col + len(key) + 1))
    return toks[0], toks[1], toks[4:4 + nb], toks[4 + nb:4 + nb + nt], params


def _split(raw: str) -> tuple | None:
    ll = LayerLine.parse(1, raw)
    if ll is None:
        return None
    return (tuple(ll.type), tuple(ll.name), [tuple(t) for t in ll.bottoms], [tuple(t) for t in ll.tops],
            [tuple(p) for p in ll.params])


def test_split_equals_the_regex_split_on_real_lines() -> None:
    n = 0
    for p in _params():
        for raw in p.read_text(encoding="utf-8", errors="replace").splitlines(True)[2:]:
            assert _split(raw) == _reference(raw), (p, raw)
            n += 1
    assert n > 1000


_CHARS = st.sampled_from(list(' \t\r\v\f\x1c"=,-+.0123456789abAB_\u00a0\u2003\u00b2'))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(_CHARS, min_size=0, max_size=8), min_size=0, max_size=9), st.sampled_from([" ", "  ", "\t"]))
def test_split_equals_the_regex_split_on_generated_lines(words: list[str], sep: str) -> None:
    raw = sep.join(["Conv", "c", "1", "1", "a", "b", *words]) + "\n"
    assert _split(raw) == _reference(raw)
    raw = sep.join(words) + "\n"
    assert _split(raw) == _reference(raw)


def test_param_lookup_keeps_the_last_and_maps_array_keys() -> None:
    ll = LayerLine.parse(3, "Crop c 1 1 a b 9=1 -23309=1,2 9=3 -23310=2,1,2 07=4\n")
    assert ll is not None
    assert ll.param(9) == ("9", "3", 31, 33) and ll.param(10).key == "-23310" and ll.param(7).value == "4"
    assert ll.param(11) is None


# -- each distinct line is checked once ------------------------------------------------------------

_LINES = [  # a finding of every per-line rule, in lines that repeat
    "Convolution c{n} 1 1 in0 o{n} 0=8 1=3 6=216 6=215",          # NCNN019 duplicate, NCNN021 weight size
    "Convolution c{n} 1 1 in0 o{n} 0=8 1=3.0 6=216",              # NCNN017 float for int
    "ReLU r{n} 1 1 in0 o{n} 0=1e999",                             # NCNN018 beyond float32
    "ReLU r{n} 1 1 in0 o{n} 0=0.1\t 1=2",                         # NCNN018 tab after a value
    "ReLU r{n} 1 1 in0 o{n} 0=0.1 1=2",                           # the same values without the tab: clean
    "Split s{n} 1 2 in0 o{n} p{n} -23330=8,1,4,1,1,1,4,1,1",      # shape hints for 2 tops: fine
    "Split s{n} 1 1 in0 o{n} -23330=8,1,4,1,1,1,4,1,1",          # the same hints for 1 top: NCNN015
    "Permute p{n} 1 1 in0 o{n} 0=99",                             # NCNN021 range
    "Softmax sm{n} 1 1 in0 o{n} 0=1",                             # NCNN020 fixbug
    "Eltwise e{n} 1 1 in0 o{n} -23301=3,1.0,1.0",                 # NCNN016 array length
    "BatchNorm bn{n} 1 1 in0 o{n} 0=2147483647",                  # NCNN021 allocation
    "ReLU r{n} 1 1 in0 o{n} 99=1",                                # NCNN014 id range
]
_PER_LINE = {f"NCNN{k:03d}" for k in range(14, 23)}


def _findings(path: Path) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = {}
    for d in lint_file(path):
        if d.code in _PER_LINE:
            out.setdefault(d.line, []).append((d.code, d.column, d.end_column, d.message))
    return out


def test_repeated_lines_get_the_findings_of_their_first_occurrence(tmp_path: Path) -> None:
    order = list(range(len(_LINES))) * 3
    order = order[::2] + order[1::2]  # the same lines in a different neighbourhood the second time
    # names of one width, so that a line's columns do not depend on where it sits
    body = ["Input in0 0 1 in0"] + [_LINES[k].format(n=f"{i:03d}") for i, k in enumerate(order)]
    p = tmp_path / "m.param"
    p.write_text(f"7767517\n{len(body)} 999\n" + "\n".join(body) + "\n")
    found = _findings(p)
    alone: dict[int, list[tuple]] = {}
    for k, line in enumerate(_LINES):  # each line in a file of its own: no cache to reuse
        q = tmp_path / f"one{k}.param"
        q.write_text(f"7767517\n2 999\nInput in0 0 1 in0\n{line.format(n='000')}\n")
        alone[k] = _findings(q).get(4, [])
    for i, k in enumerate(order):
        assert found.get(4 + i, []) == alone[k], (i, _LINES[k])
    assert {c for fs in found.values() for c, *_ in fs} >= _PER_LINE - {"NCNN022"}


# -- lint_read ------------------------------------------------------------------------------------

def test_lint_read_equals_lint_file() -> None:
    files = _params()
    n = 0
    for p in files:
        try:
            graph, doc = read_path(p, strict=False)
        except Exception:
            continue  # lint_file reports NCNN000 for these; lint_read is for models that were read
        full = lint_file(p, ignore=["IR020"])
        assert lint_read(p, graph, doc, ignore=["IR020"]) == full, p
        assert lint_read(p, graph, doc, ignore=["IR020"], errors_only=True) == [
            d for d in full if d.severity.value == "error"], p
        n += 1
    assert n >= 20


def test_lint_read_errors_only_keeps_every_error(tmp_path: Path) -> None:
    """``info`` counts errors with ``errors_only``: on every rule's bad example it finds the same errors."""
    from test_lint_rules import CASES

    n = 0
    for code, case in CASES.items():
        if not case.name.endswith(".param") or code.startswith("IO"):
            continue
        p = tmp_path / code / case.name
        p.parent.mkdir()
        p.write_text(case.bad, encoding="utf-8")
        if case.bin_bad is not None:
            p.with_suffix(".bin").write_bytes(case.bin_bad)
        try:
            graph, doc = read_path(p, strict=False)
        except Exception:
            continue
        errors = [d for d in lint_file(p) if d.severity.value == "error"]
        assert lint_read(p, graph, doc, errors_only=True) == errors, code
        n += errors != []
    assert n >= 20


def test_lint_read_defers_to_lint_file_for_an_interrupted_save(tmp_path: Path) -> None:
    from modelfile.fileio import stage_dir_for

    p = tmp_path / "m.param"
    p.write_text("7767517\n1 1\nInput in0 0 1 in0\n")
    stage_dir_for(p).mkdir()
    graph, doc = read_path(p)
    assert lint_read(p, graph, doc) is None
    assert [d.code for d in lint_file(p)] == ["IO001"]


# -- BatchNorm channels ---------------------------------------------------------------------------

def _bn(tmp_path: Path, channels: int) -> Path:
    p = tmp_path / f"bn{channels}.param"
    p.write_text(f"7767517\n2 2\nInput in0 0 1 in0 0=4 1=4 2=3\nBatchNorm bn 1 1 in0 out 0={channels} 1=1.0e-05\n")
    return p


def _ncnn_loads_model(path: Path) -> bool:
    """load_param + load_model with zero weights, in a child with the fuzz suite's 4 GiB memory limit."""
    code = ("import resource, sys\nresource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\nimport ncnn\n"
            "net = ncnn.Net()\nnet.opt.use_vulkan_compute = False\nrc = net.load_param(sys.argv[1])\n"
            "print(rc or net.load_model(ncnn.DataReaderFromEmpty()))")
    r = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    return r.stdout.strip() == "0"


@pytest.mark.parametrize("channels", [2147483647, 1 << 28, 89_478_486])
def test_batchnorm_channels_beyond_what_load_model_allocates(channels: int, tmp_path: Path) -> None:
    p = _bn(tmp_path, channels)
    errs = [d for d in lint_file(p) if d.severity is Severity.ERROR]
    assert [(d.code, d.line, d.column) for d in errs] == [("NCNN021", 4, 26)]
    assert f"= {channels}:" in errs[0].message and "89,478,485" in (errs[0].hint or "")


@needs_ncnn
def test_batchnorm_channels_ncnn_refuses_what_lint_flags(tmp_path: Path) -> None:
    assert not _ncnn_loads_model(_bn(tmp_path, 2147483647))
    assert not _ncnn_loads_model(_bn(tmp_path, 1 << 28))
    ok = _bn(tmp_path, 1 << 20)
    assert _ncnn_loads_model(ok) and not [d for d in lint_file(ok) if d.severity is Severity.ERROR]
