"""``modelfile graph``: pictures are checked by parsing them (DOT always, SVG where Graphviz is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import modelfile
from conftest import FIXTURES, ROOT, corpus_files
from modelfile.mo_input import parse_input
from modelfile.passes.cut import cut
from modelfile.view.dot import build_picture, find_centre, neighbourhood

JOINT = FIXTURES / "openvino/rnnt/joint.xml"
ZIP = FIXTURES / "sherpa/zipformer/encoder.ncnn.param"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


def _cli(*args: str, path: str = "/usr/bin:/bin") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "modelfile", *args], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": path, "COLUMNS": "200"}, timeout=300)


def parse_dot(text: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str]]]:
    """Nodes (id -> attributes) and edges of the DOT this project writes (one statement per line)."""
    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str]] = []
    for line in text.splitlines():
        m = re.match(r"\s+(\w+) -> (\w+) \[", line)
        if m:
            edges.append((m.group(1), m.group(2)))
            continue
        m = re.match(r"\s+(\w+) \[(.*)\];$", line)
        if m and m.group(1) not in ("graph", "node", "edge"):
            attrs = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
            nodes[m.group(1)] = attrs
    return nodes, edges


def parse_svg(text: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str]]]:
    """Nodes (DOT id -> label text, tooltip, fill) and edges, read from Graphviz's SVG."""
    root = ET.fromstring(text)
    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str]] = []
    for g in root.iter(f"{SVG}g"):
        cls = g.get("class")
        title = g.findtext(f"{SVG}title") or ""
        if cls == "node":
            a = g.find(f".//{SVG}a")
            shape = next((e for e in g.iter() if e.tag in (f"{SVG}polygon", f"{SVG}path")), None)
            nodes[title] = {"label": "\n".join(t.text or "" for t in g.iter(f"{SVG}text")),
                            "tooltip": a.get(f"{XLINK}title", "") if a is not None else "",
                            "fill": shape.get("fill", "") if shape is not None else ""}
        elif cls == "edge":
            src, _, dst = title.partition("->")
            edges.append((src, dst))
    return nodes, edges


def _expected_edges(model: modelfile.Model, drop_consts: bool) -> int:
    n = 0
    for node in model.nodes:
        if drop_consts and node.op_type == "Const":
            continue
        for v in node.inputs:
            if v is not None and v.producer is not None and not (drop_consts and v.producer.op_type == "Const"):
                n += 1
    return n


def test_dot_of_a_whole_ir(tmp_path: Path) -> None:
    m = modelfile.load(JOINT)
    r = _cli("graph", str(JOINT), "-o", str(tmp_path / "j.dot"))
    assert r.returncode == 0, r.stderr
    nodes, edges = parse_dot((tmp_path / "j.dot").read_text())
    drawn = [n for n in m.nodes if n.op_type != "Const"]
    assert len(nodes) == len(drawn) and len(edges) == _expected_edges(m, True)
    # type, name, key attributes, folded consts and output shapes; file:line in the tooltip
    relu = next(a for a in nodes.values() if a["label"].startswith("ReLU"))
    assert relu["label"] == "ReLU\\naten::relu/Relu\\n[?,?,24]"
    assert relu["tooltip"].endswith("joint.xml:170")
    mm = next(a["label"] for a in nodes.values() if a["tooltip"].startswith("MatMul __module.lin_enc/"))
    assert mm.startswith("MatMul\\n__module.lin_enc/aten::linear/MatMul\\n")
    assert "transpose_b=true" in mm and "const f32[24,16]" in mm and mm.endswith("[?,?,24]")


def test_dot_with_consts_draws_every_node(tmp_path: Path) -> None:
    m = modelfile.load(JOINT)
    pic = build_picture(m, show_consts=True)
    nodes, edges = parse_dot(pic.to_dot())
    assert len(nodes) == len(m.nodes) and len(edges) == _expected_edges(m, False)


@needs_dot
def test_svg_nodes_edges_and_tooltips(tmp_path: Path) -> None:
    r = _cli("graph", str(ZIP), "-o", str(tmp_path / "z.svg"))
    assert r.returncode == 0, r.stderr
    m = modelfile.load(ZIP)
    nodes, edges = parse_svg((tmp_path / "z.svg").read_text())
    assert len(nodes) == len(m.nodes) and len(edges) == _expected_edges(m, False)
    by_line = {a["tooltip"].rsplit(":", 1)[-1]: a for a in nodes.values()}
    for n in list(m.nodes)[:40]:
        a = by_line[str(n.pos.line)]
        assert a["label"].split("\n")[:2] == [n.op_type, n.name]
    # edges go producer -> consumer: the Input layers only start edges
    inputs = {k for k, a in nodes.items() if a["label"].startswith("Input\n")}
    assert inputs and all(dst not in inputs for _src, dst in edges)


@needs_dot
def test_html_page_embeds_the_svg(tmp_path: Path) -> None:
    r = _cli("graph", str(JOINT), "-o", str(tmp_path / "j.html"))
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "j.html").read_text()
    assert text.startswith("<!DOCTYPE html>") and "getElementById('q')" in text
    svg = text[text.index("<svg"): text.index("</svg>") + len("</svg>")]
    nodes, edges = parse_svg(svg)
    assert len(nodes) == 11 and len(edges) == 10


def test_around_depth_is_a_neighbourhood_with_stubs(tmp_path: Path) -> None:
    m = modelfile.load(JOINT)
    centre = find_centre(m.graph, "aten::relu/Relu")
    assert [n.name for n in neighbourhood(m.graph, centre, 0)] == ["aten::relu/Relu"]
    near = neighbourhood(m.graph, centre, 1)
    # the Add feeding it, the MatMul it feeds, and that MatMul's weight Const (Consts come with their consumer)
    assert [n.op_type for n in near] == ["Add", "ReLU", "Const", "MatMul"]
    nodes, edges = parse_dot(build_picture(m, near).to_dot())
    real = {k for k, a in nodes.items() if "not drawn" not in a["tooltip"]}
    stubs = set(nodes) - real
    assert len(real) == 3 and len(stubs) == 3  # two Adds above, the bias Add below
    assert len(edges) == 5 and all((s in real) or (d in real) for s, d in edges)
    # a tensor name finds its producer
    assert find_centre(m.graph, "10") is centre


def test_unknown_centre_is_a_one_line_error(tmp_path: Path) -> None:
    r = _cli("graph", str(JOINT), "--around", "aten::relu/Rel", "-o", str(tmp_path / "x.svg"))
    assert r.returncode == 2 and "no node or tensor named 'aten::relu/Rel'" in r.stderr
    assert "did you mean 'aten::relu/Relu'" in r.stderr and "Traceback" not in r.stderr
    r = _cli("graph", str(JOINT), "-o", str(tmp_path / "x.png"))
    assert r.returncode == 2 and "use .svg, .dot or .html" in r.stderr


def test_without_graphviz_a_dot_file_is_written(tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()  # a PATH without dot
    r = _cli("graph", str(JOINT), "-o", str(tmp_path / "j.svg"), path=str(bare))
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "j.svg").exists() and "Graphviz 'dot' not found" in r.stderr
    nodes, edges = parse_dot((tmp_path / "j.dot").read_text())
    assert len(nodes) == 11 and len(edges) == 10


def _diff_pair(tmp_path: Path) -> Path:
    m = modelfile.load(JOINT)
    cut(m, parse_input("14"), [])
    m.save(tmp_path / "cut.xml")
    return tmp_path / "cut.xml"


def test_diff_colours_added_changed_removed_in_dot(tmp_path: Path) -> None:
    from modelfile.compare.diff import diff_models

    new = _diff_pair(tmp_path)
    m = modelfile.load(new)
    d = diff_models(modelfile.load(JOINT), m)
    nodes, edges = parse_dot(build_picture(m, diff=d).to_dot())
    fills = {a["label"].split("\\n")[1]: a["fillcolor"] for a in nodes.values()}
    assert fills["14"] == "#bbf7d0"  # the new input
    assert fills["aten::add/Add"] == "#fed7aa"  # rewired to it
    removed = {k: a for k, a in nodes.items() if a["fillcolor"] == "#fecaca"}
    # Consts are folded: the removed Parameter f, MatMul and Add are drawn as ghosts
    assert sorted(a["label"].split("\\n")[0] for a in removed.values()) == ["Add", "MatMul", "Parameter"]
    add = next(k for k, a in nodes.items() if a["label"].split("\\n")[1] == "aten::add/Add")
    assert any(s in removed and dst == add for s, dst in edges)  # the old input still points at its consumer
    assert "input 0: 14 (from Add" in nodes[add]["tooltip"]


@needs_dot
def test_diff_svg_from_the_cli(tmp_path: Path) -> None:
    new = _diff_pair(tmp_path)
    r = _cli("graph", str(new), "--diff", str(JOINT), "-o", str(tmp_path / "d.svg"))
    assert r.returncode == 0, r.stderr
    from modelfile.compare.diff import diff_models

    nodes, _edges = parse_svg((tmp_path / "d.svg").read_text())
    fills = sorted(a["fill"] for a in nodes.values())
    # new (the input), changed (its consumer, and ports whose dims the cut re-inferred), removed nodes
    d = diff_models(modelfile.load(JOINT), modelfile.load(new))
    assert (fills.count("#bbf7d0"), fills.count("#fed7aa")) == (len(d.added), len(d.changed))
    assert len(d.added) == 1 and len(d.changed) >= 1 and fills.count("#fecaca") == 3


def _chain_param(n: int) -> str:
    lines = ["7767517", f"{n + 1} {n + 1}", "Input in0 0 1 b0 0=16"]
    for i in range(1, n + 1):
        lines.append(f"ReLU relu{i} 1 1 b{i - 1} b{i}")
    return "\n".join(lines) + "\n"


@needs_dot
def test_a_50000_layer_model_is_viewable_around_a_node(tmp_path: Path) -> None:
    p = tmp_path / "big.param"
    p.write_text(_chain_param(50000))
    t = time.perf_counter()
    r = _cli("graph", str(p), "--around", "relu25000", "--depth", "3", "-o", str(tmp_path / "b.svg"))
    elapsed = time.perf_counter() - t
    assert r.returncode == 0, r.stderr
    nodes, edges = parse_svg((tmp_path / "b.svg").read_text())
    names = sorted(a["label"].split("\n")[1] for a in nodes.values())
    assert [x for x in names if x.startswith("relu2499") or x.startswith("relu2500")] == names
    assert len(nodes) == 7 + 2 and len(edges) == 8  # 7 drawn, a stub at each end
    assert elapsed < 60
    # the whole graph is refused as a picture but still written as DOT
    r = _cli("graph", str(p), "-o", str(tmp_path / "all.svg"))
    assert r.returncode == 2 and "--around" in r.stderr
    r = _cli("graph", str(p), "-o", str(tmp_path / "all.dot"))
    assert r.returncode == 0 and len(parse_dot((tmp_path / "all.dot").read_text())[0]) == 50001


def test_corpus_pictures_as_dot(tmp_path: Path) -> None:
    files = corpus_files("ncnn")[:12] + corpus_files("openvino")
    if not files:
        pytest.skip("no corpus")
    for f in files:
        m = modelfile.load(f)
        nodes, edges = parse_dot(build_picture(m).to_dot())
        drop = m.format == "openvino"
        assert len(nodes) == sum(1 for n in m.nodes if not (drop and n.op_type == "Const")), f
        assert len(edges) == _expected_edges(m, drop), f
