"""The grammar is the definition: the fast path must agree with it, and edits stay local."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modelfile
from conftest import corpus_files
from modelfile.formats import ncnn
from modelfile.formats.ncnn.reader import parse_layer_line, read_text


def _fast_view(text: str) -> list[tuple]:
    g, _ = read_text(text, "x")
    return [(n.op_type, n.name, [v.name for v in n.inputs], [v.name for v in n.outputs],
             [(p.key_text, p.text) for p in n.attrs.values()]) for n in g.nodes]


def _grammar_view(text: str) -> list[tuple]:
    lines = text.split("\n")
    count = int(lines[1].split()[0])
    out = []
    for line in [ln for ln in lines[2:] if ln.strip()][:count]:
        t, name, nb, nt, names, params, *_ = parse_layer_line(line.rstrip("\r"))
        dedup: dict[int, tuple[str, str]] = {}
        for k, v, _c in params:
            key = int(k)
            pid = -key - 23300 if key <= -23300 else key
            dedup[pid] = (k, v)
        out.append((t, name, names[:nb], names[nb:], list(dedup.values())))
    return out


@pytest.mark.parametrize("path", [p for p in corpus_files("ncnn") if p.suffix == ".param"],
                         ids=lambda p: p.name.replace("Tencent__ncnn__", ""))
def test_fast_path_agrees_with_grammar_on_corpus(path: Path) -> None:
    text = path.read_text()
    assert _fast_view(text) == _grammar_view(text)


NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_./:-", min_size=1, max_size=12).filter(
    lambda s: "=" not in s)
TYPE = st.sampled_from(["Convolution", "ReLU", "Split", "LSTM", "pnnx.Expression", "aten::exp", "SherpaMetaData"])
INT = st.integers(-100000, 2147483647).map(str)
FLOAT = st.floats(-1e6, 1e6, allow_nan=False, width=32).map(lambda x: f"{x:e}") | st.sampled_from(
    ["1.0", ".5", "0.000000", "1.000000e-5", "-0.000000e+00", "1e-05"])
SCALAR = INT | FLOAT
OLD_ARRAY = st.lists(SCALAR, min_size=0, max_size=5).map(lambda xs: f"{len(xs)}" + "".join("," + x for x in xs))
NEW_ARRAY = st.lists(INT, min_size=2, max_size=4).map(",".join) | INT.map(lambda x: x + ",")
STRING = st.sampled_from(['"1w,1h,128"', "bij,bjk->bik", '"a b"', "abc", '""'])


@st.composite
def layer(draw: st.DrawFn, blobs: list[str]) -> str:
    t = draw(TYPE)
    name = draw(NAME)
    nb = draw(st.integers(0, min(2, len(blobs))))
    bottoms = draw(st.lists(st.sampled_from(blobs), min_size=nb, max_size=nb)) if blobs else []
    tops = draw(st.lists(NAME, min_size=0, max_size=3))
    params = []
    used = set()
    for _ in range(draw(st.integers(0, 5))):
        pid = draw(st.integers(0, 29))
        if pid in used:
            continue
        used.add(pid)
        kind = draw(st.sampled_from(["scalar", "old", "new", "string"]))
        if kind == "old":
            params.append(f"{-23300 - pid}={draw(OLD_ARRAY)}")
        elif kind == "new":
            params.append(f"{pid}={draw(NEW_ARRAY)}")
        elif kind == "string":
            params.append(f"{pid}={draw(STRING)}")
        else:
            params.append(f"{pid}={draw(SCALAR)}")
    blobs.extend(tops)
    sep = draw(st.sampled_from([" ", "  ", "\t"]))
    head = f"{t:<24} {name:<24}" if draw(st.booleans()) else f"{t}{sep}{name}"
    return " ".join([head, str(nb), str(len(tops)), *bottoms, *tops, *params]) + draw(st.sampled_from(["", " "]))


@st.composite
def param_file(draw: st.DrawFn) -> str:
    blobs: list[str] = []
    layers = [draw(layer(blobs)) for _ in range(draw(st.integers(1, 8)))]
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    distinct = len(blobs)  # every top is a new blob slot in ncnn, even a repeated name
    text = f"7767517{nl}{len(layers)} {max(distinct, 1)}{nl}" + nl.join(layers)
    return text + (nl if draw(st.booleans()) else "")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(param_file())
def test_generated_params_roundtrip(text: str) -> None:
    g, _ = read_text(text, "gen")
    out = ncnn.writer.to_text(g)
    assert out == text
    g2, _ = read_text(out, "gen")
    assert _fast_view(out) == _fast_view(text)
    assert len(g2.nodes) == len(g.nodes)
    # the grammar and the fast path read the same thing
    assert _fast_view(text.replace("\r", "")) == _grammar_view(text.replace("\r", ""))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(param_file(), st.data())
def test_random_edit_changes_only_its_line(text: str, data: st.DataObject) -> None:
    g, _ = read_text(text, "gen")
    i = data.draw(st.integers(0, len(g.nodes) - 1))
    node = g.nodes[i]
    edit = data.draw(st.sampled_from(["rename", "param", "type"]))
    if edit == "rename":
        node.name = node.name + "_edited"
    elif edit == "type":
        node.op_type = "Noop"
    else:
        node.attrs[31] = ncnn.Param.of(31, 1)
    out = ncnn.writer.to_text(g)
    before = text.splitlines(True)
    after = out.splitlines(True)
    assert len(before) == len(after)
    changed = [k for k, (a, b) in enumerate(zip(before, after)) if a != b]
    assert changed == [node.source.lineno - 1]
    g2, _ = read_text(out, "gen")
    assert g2.nodes[i].name == node.name and g2.nodes[i].op_type == node.op_type
    if edit == "param":
        assert g2.nodes[i].attrs[31].value == 1


def test_fmt_normalises_columns(tmp_path: Path) -> None:
    p = tmp_path / "m.param"
    p.write_text("7767517\n2 2\nInput   in0 0 1 in0\nReLU                     relu                     1 1 in0 out0 0=1.0e-1\n")
    m = modelfile.load(p)
    out = ncnn.to_text(m, reformat=True, style=ncnn.Style.named("pnnx"))
    assert out.splitlines()[2] == "Input                    in0                      0 1 in0"
    assert out.splitlines()[3].endswith("0=1.0e-1")  # values keep their spelling
    assert re.match(r"^7767517\n2 2\n", out)
